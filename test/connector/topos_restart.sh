#!/bin/sh
# topos_restart.sh -- a dialog through the connector outlives a crash of
# the connector: the Contact token chicago holds is the gateway's
# contact sealed under the toposKey file, so the connector that comes
# back after kill -9 still routes chicago's in-dialog requests.
#
#   127.0.121.50  stconnector (udp 5060), toposKey run/topos.key
#   127.0.121.51  sipp as acme's gateway: the subscriber, on 5201
#   127.0.121.52  dnsmasq on 5353: sip.chicago.test
#   127.0.121.60  sipp as chicago: the notifier, on 5060
#
# Shown: the key file made at the first start (mode 0600, 64 bytes) and
# kept; a subscription up, the connector killed with -9 and started
# again, and then chicago's NOTIFY reaching the gateway's contact, the
# gateway's un-SUBSCRIBE reaching chicago and the final NOTIFY back;
# the token chicago holds names no inside address.  Then the same
# without toposKey: after a restart chicago's NOTIFY no longer reaches
# the subscriber.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-topos-restart

SC=$top_builddir/connector/stconnector
SX=$top_srcdir/test/connector/toposkey
D=$TE_DIR
F=$D/community.xml
CN=127.0.121.50 GW=127.0.121.51 DNS=127.0.121.52 CHI=127.0.121.60
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$CHI
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS 5353 "$D/dns.conf"

conf() # TOPOSKEY-ATTRIBUTE
{
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
                      control="run/cn.sock" pidFile="run/cn.pid" $1>
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000"><Server>$DNS:5353</Server></Dns>
</CommunityConfig>
EOF
}

RUN=0
start() # start the connector; CNPID
{
	RUN=$((RUN + 1))
	te_spawn "$D/cn$RUN.log" "$SC" -f -c "$F"
	CNPID=$TE_LASTPID
	te_wait_for "$D/cn$RUN.log" "cn: started connector=acme-edge" 10 &&
		te_wait_udp $CN 5060 5
}

crash() # kill -9 the connector, start it again
{
	kill -KILL $CNPID
	wait $CNPID 2>/dev/null
	te_stop $CNPID
	start
}

# dialog NAME PAUSE-MS: chicago's notifier and the gateway's subscriber
# (its Call-IDs name no address: the connector relays them as they are)
dialog()
{
	te_spawn "$D/$1-chi.out" sipp -sf "$SX/sub_uas.xml" -i $CHI -p 5060 \
		-d "$2" -m 1 -nostdin -timeout 40 -trace_logs \
		-log_file "$D/$1-chi.log" -trace_msg -message_file "$D/$1-chi.msg"
	CHIPID=$TE_LASTPID
	te_wait_udp $CHI 5060 5
	te_spawn "$D/$1-gw.out" sipp -sf "$SX/sub_uac.xml" -i $GW -p 5201 \
		-s carol -key domain chicago.test -key from bob \
		-key fromdom acme.test -cid_str '%u-%p@stgateway' \
		-m 1 -nostdin -timeout 40 -trace_logs \
		-log_file "$D/$1-gw.log" $CN:5060
	GWPID=$TE_LASTPID
}

# no_line FILE RE: FILE has no line matching RE
no_line() { ! tr -d '\r' <"$1" | grep -q -- "$2"; }

# ---- with toposKey
conf 'toposKey="run/topos.key"'
"$SC" check -c "$F" >"$D/check1.out" 2>&1
te_check "check: the key will be made at start" \
	grep -q "toposKey $D/run/topos.key will be made at start" "$D/check1.out"
te_check "the connector starts" start
K=$D/run/topos.key
te_check "it made the key file: mode 0600, 64 bytes" \
	sh -c "[ \"\$(stat -c '%a %s' '$K')\" = '600 64' ]"
te_check "the log says so" grep -q "cn: toposKey created file=$K" "$D/cn1.log"
sum1=$(md5sum <"$K")

dialog a 6000
te_check "the subscription is up: NOTIFY 1 at the gateway's contact" \
	te_wait_for "$D/a-gw.log" "^NOTIFY 1 ruri=NOTIFY sip:bob@$GW:5201" 10
te_check "chicago holds a token of ours, no inside address in it" \
	sh -c "tr -d '\r' <'$D/a-chi.msg' | grep -Eq '^Contact: <sip:th[A-Za-z0-9_-]+@$CN:5060;transport=udp>' &&
	       ! grep -q '$GW' '$D/a-chi.msg'"
te_check "killed with -9 and started again" crash
te_check "the key is the same one" [ "$(md5sum <"$K")" = "$sum1" ]
te_check "the second start kept it" \
	sh -c "! grep -q 'toposKey created' '$D/cn2.log'"
te_check "after the crash chicago's NOTIFY 2 reaches the gateway's contact" \
	te_wait_for "$D/a-gw.log" "^NOTIFY 2 ruri=NOTIFY sip:bob@$GW:5201" 15
te_check "chicago got its 200" te_wait_for "$D/a-chi.log" "^NOTIFY 2 200" 5
te_check "the un-SUBSCRIBE reaches chicago, 200 back" \
	te_wait_for "$D/a-gw.log" "^unSUBSCRIBE 200" 10
te_check "the final NOTIFY reaches the gateway" \
	te_wait_for "$D/a-gw.log" "^NOTIFY terminated" 10
te_check "chicago's scenario ends cleanly" \
	te_wait_for "$D/a-chi.log" "^NOTIFY terminated 200" 10
te_stop $GWPID
te_stop $CHIPID

# ---- a new toposKey waits for a restart
conf 'toposKey="run/other.key"'
"$SC" reload -c "$F" >"$D/reload.out" 2>&1
te_check "reload: a new toposKey needs a restart, and says so" \
	sh -c "grep -q '^reload ok' '$D/reload.out' &&
	       grep -q 'pending restart: .*toposKey' '$D/reload.out' &&
	       [ ! -e '$D/run/other.key' ]"

# ---- a key file that is not one: refused at start
printf 'short' >"$D/run/bad.key"
conf 'toposKey="run/bad.key"'
"$SC" check -c "$F" >"$D/check2.out" 2>&1
rc=$?
te_check "check refuses a key file of the wrong size" \
	sh -c "[ $rc = 1 ] && grep -q 'toposKey $D/run/bad.key is not a key (5 bytes, want 64)' '$D/check2.out'"
kill -TERM $CNPID
te_stop $CNPID
RUN=$((RUN + 1))
"$SC" -f -c "$F" >"$D/cn$RUN.log" 2>&1
rc=$?
te_check "a key file of the wrong size stops the start, and says why" \
	sh -c "[ $rc != 0 ] && grep -q 'toposKey file=$D/run/bad.key is not a key (5 bytes, want 64)' '$D/cn$RUN.log'"

# ---- without toposKey: the key dies with the process
conf ''
te_check "the connector starts without toposKey" start
dialog b 6000
te_check "a subscription up" \
	te_wait_for "$D/b-gw.log" "^NOTIFY 1 ruri=NOTIFY sip:bob@$GW:5201" 10
te_check "killed with -9 and started again" crash
sleep 8
te_check "without toposKey, NOTIFY 2 no longer reaches the subscriber" \
	no_line "$D/b-gw.log" "^NOTIFY 2"
te_stop $GWPID
te_stop $CHIPID

te_stop $CNPID
te_check "no sanitizer report from stconnector" \
	sh -c "! cat '$D'/cn*.log | grep -Eq 'Sanitizer|runtime error'"
te_done
