#!/bin/sh
# rate.sh -- per community rates at stconnector: the gateway (sipp on
# 127.0.109.31) floods chicago (notifyRate 5/s) with NOTIFYs at 50/s
# while it sends MESSAGEs to boston; chicago's excess is answered 503
# with Retry-After and counted rate-limit, boston's MESSAGEs all get
# 200, and status shows the limits and the rates.  Then chicago floods
# the gateway the other way, limited by its own bucket.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-rate

SC=$top_builddir/connector/stconnector
SX=$top_srcdir/test/connector/rate
D=$TE_DIR
F=$D/community.xml
CN=127.0.109.30 GW=127.0.109.31 DNS=127.0.109.32 DNSPORT=16353
CHI=127.0.109.40 BOS=127.0.109.41
PORT=16160 GWPORT=16170 CHIPORT=16162 BOSPORT=16164
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF2
host-record=sip.chicago.test,$CHI
host-record=sip.boston.test,$BOS
EOF2
te_check "dnsmasq serves chicago.test and boston.test" \
	te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

cat >"$F" <<EOF2
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="16180"/>
    <ConnectorListen transport="udp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="$CHIPORT"
                   notifyRate="5">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="boston" transport="udp" port="$BOSPORT"
                   messageRate="50">
    <Domain>boston.test</Domain>
    <Proxy>sip.boston.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="16161" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="boston" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF2

waitpid_rc() # PID: wait for it (40 s at most), $? is its exit code
{
	_n=400
	while te_alive "$1" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	te_alive "$1" && { echo "  pid $1 still running after 40 s: killed"; \
		kill -KILL "$1"; }
	wait "$1"
	_rc=$?
	te_stop "$1"
	return $_rc
}

count() { tr -d '\r' <"$1" | grep -c -- "$2"; }

status_has()
{
	"$SC" status --all -c "$F" >"$D/status.out" 2>&1
	grep -Eq -- "$1" "$D/status.out" || { echo "  no '$1' in status:"; \
		sed 's/^/  | /' "$D/status.out"; return 1; }
}

te_spawn "$D/daemon.log" "$SC" -f -c "$F"
CNPID=$TE_LASTPID
if te_wait_for "$D/daemon.log" "cn: started connector=acme-edge" 10; then
	te_ok "connector started"
else
	te_fail "connector started"
	sed 's/^/  | /' "$D/daemon.log"
	te_done
	exit 1
fi
te_check "listens on udp" te_wait_udp $CN $PORT 5

# the two partners answer whatever they get (no -m: keep-alives)
te_spawn "$D/chi.out" sipp -sf "$SX/notify_uas.xml" -i $CHI -p $CHIPORT \
	-aa -nostdin -trace_logs -log_file "$D/chi.log"
CHIPID=$TE_LASTPID
te_spawn "$D/bos.out" sipp -sf "$top_srcdir/test/connector/topos/msg_uas.xml" \
	-i $BOS -p $BOSPORT -aa -nostdin -trace_logs -log_file "$D/bos.log"
BOSPID=$TE_LASTPID
te_wait_udp $CHI $CHIPORT 5
te_wait_udp $BOS $BOSPORT 5

# the flood and the other community's traffic at the same time
te_spawn "$D/flood.out" sipp -sf "$SX/notify_uac.xml" -i $GW -p 16172 \
	-s carol -key domain chicago.test -key from bob -key fromdom acme.test \
	-r 50 -m 60 -nostdin -timeout 20 \
	-trace_logs -log_file "$D/flood.log" $CN:$PORT
FLOODPID=$TE_LASTPID
te_spawn "$D/msgs.out" sipp -sf "$SX/message_uac.xml" -i $GW -p 16174 \
	-s dave -key domain boston.test -key from bob -key fromdom acme.test \
	-r 5 -m 10 -nostdin -timeout 20 \
	-trace_logs -log_file "$D/msgs.log" $CN:$PORT
MSGPID=$TE_LASTPID
waitpid_rc $FLOODPID
waitpid_rc $MSGPID

n200=$(count "$D/flood.log" "^NOTIFY 200")
n503=$(count "$D/flood.log" "^NOTIFY 503 retry-after=1\$")
echo "  chicago NOTIFY: $n200 x 200, $n503 x 503"
te_check "flood: every NOTIFY got a final answer" [ $((n200 + n503)) = 60 ]
te_check "flood: some NOTIFYs passed (the burst and the rate)" \
	[ "$n200" -ge 5 ]
# 60 NOTIFYs over about 1.2 s: 5 of burst and 5/s, a little margin
te_check "flood: the rest was refused 503 with Retry-After: 1" \
	[ "$n200" -le 16 ]
te_check "flood: chicago got only what passed" \
	[ "$(count "$D/chi.log" "NOTIFY received")" = "$n200" ]
te_check "boston: all 10 MESSAGEs got 200 during the flood" \
	[ "$(count "$D/msgs.log" "^MESSAGE 200")" = 10 ]
te_check "status: chicago's refusals counted rate-limit" \
	status_has "rate-limit: +$n503"
te_check "status: the limits are shown" \
	sh -c "grep -Eq 'notify_limit: +5\$' '$D/status.out' &&
	       grep -Eq 'message_limit: +50\$' '$D/status.out'"
te_check "status: the refusals by kind and direction" \
	status_has "notify_out_limited: +$n503"
te_check "status: the rate over the last seconds is shown" \
	status_has "notify_out_per_second: +[0-9.]+"
te_check "the log names the community and the reason" \
	grep -q "reject reason=rate-limit community=chicago" "$D/daemon.log"

# ---- the other way: chicago floods the gateway
te_stop $CHIPID
te_spawn "$D/gw.out" sipp -sf "$SX/notify_uas.xml" -i $GW -p $GWPORT \
	-aa -nostdin -trace_logs -log_file "$D/gw.log"
GWPID=$TE_LASTPID
te_wait_udp $GW $GWPORT 5
te_spawn "$D/flood-in.out" sipp -sf "$SX/notify_uac.xml" -i $CHI -p 16166 \
	-s bob -key domain acme.test -key from carol -key fromdom chicago.test \
	-r 50 -m 60 -nostdin -timeout 20 \
	-trace_logs -log_file "$D/flood-in.log" $CN:$PORT
waitpid_rc $TE_LASTPID
i200=$(count "$D/flood-in.log" "^NOTIFY 200")
i503=$(count "$D/flood-in.log" "^NOTIFY 503 retry-after=1\$")
echo "  NOTIFY from chicago: $i200 x 200, $i503 x 503"
te_check "inbound flood: every NOTIFY got a final answer" \
	[ $((i200 + i503)) = 60 ]
te_check "inbound flood: limited to the burst and the rate" \
	sh -c "[ $i200 -ge 5 ] && [ $i200 -le 16 ]"
te_check "inbound flood: the gateway got only what passed" \
	[ "$(count "$D/gw.log" "NOTIFY received")" = "$i200" ]
te_check "status: inbound refusals counted apart" \
	status_has "notify_in_limited: +$i503"
te_stop $GWPID
te_stop $BOSPID
te_check "the connector is still running" te_alive $CNPID
te_stop $CNPID
te_done
