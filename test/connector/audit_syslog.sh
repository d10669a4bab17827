#!/bin/sh
# audit_syslog.sh -- the Audit record to syslog, for real: the connector
# runs in a mount namespace of its own (unshare -m) whose /dev is a
# tmpfs with /dev/log bind-mounted onto the Unix datagram socket of a
# small syslog daemon the test starts (/usr/bin/python3), so that what
# the connector sends to /dev/log is what an administrator's syslog
# would get.
#
#   127.0.121.30  stconnector (udp 5060), Audit to a file and local4
#   127.0.121.31  sipp as acme's gateway
#   127.0.121.32  dnsmasq on 5353: sip.chicago.test
#   127.0.121.40  sipp as chicago, answering MESSAGEs
#
# Shown: each audit line reaches syslog once, as syslog(3) writes it,
# with facility local4 and priority info, the same JSON as the file;
# status counts the lines written, sent, dropped and failed; a syslog
# daemon that stops reading never holds the relay (the lines it misses
# are counted dropped, the file keeps them all); one that is gone is
# counted as errors.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-audit-syslog

SC=$top_builddir/connector/stconnector
AX=$top_srcdir/test/connector/auditlog
RX=$top_srcdir/test/connector/rate
D=$TE_DIR
F=$D/community.xml
CN=127.0.121.30 GW=127.0.121.31 DNS=127.0.121.32 CHI=127.0.121.40
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$CHI
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS 5353 "$D/dns.conf"

cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="5060"/>
    <ConnectorListen transport="udp" address="$GW" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="5060">
    <Domain>chicago.test</Domain><Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="5060" tlsPort="5061"
                      control="run/cn.sock" pidFile="run/cn.pid">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000"><Server>$DNS:5353</Server></Dns>
  <Audit enable="true" file="run/audit.log" syslogFacility="local4"/>
</CommunityConfig>
EOF

# the syslog daemon, outside the connector's namespace
te_spawn "$D/syslogd.out" /usr/bin/python3 "$AX/syslogd.py" "$D/log.sock" \
	"$D/syslog.txt"
SLPID=$TE_LASTPID
te_check "the test's syslog daemon listens" \
	sh -c "n=50; while [ ! -S '$D/log.sock' ] && [ \$n -gt 0 ]; do
		sleep 0.1; n=\$((n - 1)); done; [ -S '$D/log.sock' ]"

# /dev of the connector: a tmpfs with the usual nodes and our /dev/log
te_spawn "$D/cn.log" unshare -m sh -c '
	mount --make-rprivate / &&
	mount -t tmpfs -o mode=755 cn-dev /dev &&
	mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
	mknod -m 666 /dev/random c 1 8 && mknod -m 666 /dev/urandom c 1 9 &&
	ln -s /proc/self/fd /dev/fd && touch /dev/log &&
	mount --bind "$1" /dev/log || { echo "cannot make /dev"; exit 1; }
	shift
	exec "$@"' sh "$D/log.sock" "$SC" -f -c "$F"
CNPID=$TE_LASTPID
te_check "stconnector starts in its own mount namespace" \
	te_wait_for "$D/cn.log" "cn: started connector=acme-edge" 10
te_check "its /dev/log is a socket in its own namespace, not the host's /dev" \
	sh -c "[ \"\$(readlink /proc/$CNPID/ns/mnt)\" != \"\$(readlink /proc/self/ns/mnt)\" ] &&
	       [ -S /proc/$CNPID/root/dev/log ] &&
	       { [ ! -e /dev/log ] || [ -S /dev/log ]; }"
te_wait_udp $CN 5060 5

te_spawn "$D/chi.out" sipp -sf "$top_srcdir/test/connector/topos/msg_uas.xml" \
	-i $CHI -p 5060 -aa -nostdin -trace_logs -log_file "$D/chi.log"
te_wait_udp $CHI 5060 5

msgs() # LOG PORT N RATE
{
	sipp -sf "$RX/message_uac.xml" -i $GW -p "$2" -s carol \
		-key domain chicago.test -key from bob -key fromdom acme.test \
		-m "$3" -r "$4" -nostdin -timeout 30 -trace_logs \
		-log_file "$D/$1.log" $CN:5060 >"$D/$1.out" 2>&1
}

# audit KEY: its value in status
audit()
{
	"$SC" status -c "$F" audit >"$D/status.out" 2>&1
	awk -v k="$1" '$1 == k":" { print $2; exit }' "$D/status.out"
}

msgs m1 5201 5 10
te_check "5 MESSAGEs to chicago: 200" \
	[ "$(grep -c '^MESSAGE 200' "$D/m1.log")" = 5 ]
sleep 1.5	# the file is written every second
te_check "syslog got every line, local4.info, the same JSON as the file" \
	/usr/bin/python3 "$AX/check.py" "$D/syslog.txt" "$D/run/audit.log" \
	local4 6
n=$(audit lines)
echo "  audit: $n lines; status:"
sed 's/^/  | /' "$D/status.out" | grep -v "^  | *$" | tail -n 13
te_check "status: syslog_facility local4, lines written and sent" \
	sh -c "grep -Eq 'syslog_facility: +local4' '$D/status.out' &&
	       [ '$n' -ge 6 ] && [ '$(audit syslog_sent)' = '$n' ] &&
	       [ '$(audit file_lines_written)' = '$n' ] &&
	       [ '$(audit syslog_dropped)' = 0 ] &&
	       [ '$(audit syslog_errors)' = 0 ]"
"$SC" status -c "$F" --json audit >"$D/status.json"
te_check "status --json: the audit counters" \
	/usr/bin/python3 -c "
import json, sys
a = json.load(open('$D/status.json'))['audit']
sys.exit(not (a['enabled'] and a['syslog_sent'] == a['lines'] == $n))"

# a syslog daemon that stops reading: the relay goes on
kill -STOP $SLPID
msgs m2 5202 30 100
te_check "syslog daemon stopped: all 30 MESSAGEs still relayed, 200" \
	[ "$(grep -c '^MESSAGE 200' "$D/m2.log")" = 30 ]
sleep 1.5
n2=$(audit lines)
d2=$(audit syslog_dropped)
echo "  audit: $n2 lines, syslog: $(audit syslog_sent) sent, $d2 dropped"
te_check "status: the lines syslog could not take are counted dropped" \
	sh -c "[ '$d2' -gt 0 ] &&
	       [ \$(( $(audit syslog_sent) + $d2 )) = '$n2' ]"
te_check "the file has every line all the same" \
	[ "$(wc -l <"$D/run/audit.log")" = "$n2" ]
te_check "the log says so" \
	grep -q "audit syslog socket full, line dropped" "$D/cn.log"
kill -CONT $SLPID

# no syslog daemon at all
te_stop $SLPID
msgs m3 5203 2 10
te_check "syslog daemon gone: the MESSAGEs still relayed" \
	[ "$(grep -c '^MESSAGE 200' "$D/m3.log")" = 2 ]
te_check "status: counted as syslog errors" [ "$(audit syslog_errors)" -ge 1 ]
sleep 1.5
te_check "status: the file got them" \
	[ "$(audit file_lines_written)" = "$(audit lines)" ]

te_check "the connector is still running" te_alive $CNPID
te_stop $CNPID
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_done
