#!/bin/sh
# gwup.sh -- a connector started before its gateway: the OPTIONS probe
# fails and the gateway is down for retryInterval (60 s here), but the
# first request the gateway sends marks it up again at once, so requests
# from the external community reach it instead of getting 503.
#
#   127.0.23.2:15353  dnsmasq (sip.chicago.test)
#   127.0.23.10       stconnector (tcp 15060), retryInterval 60
#   127.0.23.11       the gateway: sipp on tcp 15070 (answers OPTIONS and
#                     one MESSAGE), sipp sending one MESSAGE outward
#   127.0.23.20       chicago's proxy: sipp on tcp 15062
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-gwup

SC=$top_builddir/connector/stconnector
SIPP=$top_srcdir/test/connector/sipp
D=$TE_DIR
F=$D/community.xml
CN=127.0.23.10 GW=127.0.23.11 EXT=127.0.23.20
DNS=127.0.23.2 DNSPORT=15353
PORT=15060 GWPORT=15070 EXTPORT=15062
mkdir -p "$D/run"

echo "host-record=sip.chicago.test,$EXT" >"$D/dns.conf"
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="15080"/>
    <ConnectorListen transport="tcp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="$EXTPORT">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="15061" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF

now_ms() { date +%s%3N; }

# gw_state STATE: status --json says acme-gw's address is STATE
gw_state()
{
	"$SC" status --json -c "$F" >"$D/status.json" 2>&1
	python3 -c 'import json, sys
st = json.load(open(sys.argv[1]))
a = [g for g in st["proxy"]["gateway_addresses"] if g["gateway"] == "acme-gw"]
sys.exit(0 if a and all(g["state"] == sys.argv[2] for g in a) else 1)' \
		"$D/status.json" "$1"
}

# gw_state_within STATE MS: gw_state STATE holds within MS milliseconds
gw_state_within()
{
	_end=$(($(now_ms) + $2))
	while [ "$(now_ms)" -le $_end ]; do
		gw_state "$1" && return 0
		sleep 0.05
	done
	echo "  acme-gw not $1 within $2 ms:"
	sed 's/^/  | /' "$D/status.json"
	return 1
}

waitpid_rc() # PID: wait for it (20 s at most), $? is its exit code
{
	_n=200
	while te_alive "$1" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	te_alive "$1" && { echo "  pid $1 still running after 20 s: killed"; \
		kill -KILL "$1"; }
	wait "$1"
	_rc=$?
	te_stop "$1"
	return $_rc
}

# ---- the connector first: its OPTIONS to the gateway is refused
te_spawn "$D/daemon.log" "$SC" -f -c "$F"
if ! te_wait_for "$D/daemon.log" "cn: started connector=acme-edge" 10; then
	te_fail "connector started"
	sed 's/^/  | /' "$D/daemon.log"
	te_done
	exit 1
fi
te_check "no gateway yet: the probe marks it down" \
	te_wait_for "$D/daemon.log" "gateway-down name=acme-gw" 5
te_check "no gateway yet: status says down" gw_state down

# ---- then the gateway (answers OPTIONS with -aa, and one MESSAGE) and
# chicago's proxy
te_spawn "$D/gw" sipp -sf "$SIPP/message_uas.xml" -t t1 -i $GW -p $GWPORT \
	-aa -nostdin -timeout 20 -timeout_error -m 1 \
	-trace_logs -log_file "$D/gw.log"
GWPID=$TE_LASTPID
te_wait_tcp $GW $GWPORT 5
te_spawn "$D/ext" sipp -sf "$SIPP/message_uas.xml" -t t1 -i $EXT \
	-p $EXTPORT -aa -nostdin -timeout 20 -timeout_error -m 1 \
	-trace_logs -log_file "$D/ext.log"
EXTPID=$TE_LASTPID
te_wait_tcp $EXT $EXTPORT 5
te_check "gateway started: still down (next probe in 60 s)" gw_state down

# ---- the gateway's first request: forwarded, and the gateway is up
t0=$(now_ms)
te_spawn "$D/uac1" sipp -sf "$SIPP/message_uac.xml" -t t1 -i $GW -p 15071 \
	-s x -key domain chicago.test -key from alice -key fromdom acme.test \
	-nostdin -timeout 15 -timeout_error -m 1 $CN:$PORT
UACPID=$TE_LASTPID
te_check "gateway's first request: status shows it up within 1 s" \
	gw_state_within up $((t0 + 1000 - $(now_ms)))
te_check "outbound MESSAGE: forwarded, the gateway gets 200 (not 503)" \
	waitpid_rc $UACPID
te_check "outbound MESSAGE: chicago got it" waitpid_rc $EXTPID
te_check "connector logs the gateway up" \
	grep -q "gateway-up name=acme-gw" "$D/daemon.log"

# ---- chicago's request to a local user now reaches the gateway
te_spawn "$D/uac2" sipp -sf "$SIPP/message_uac.xml" -t t1 -i $EXT \
	-p 15063 -s bob -key domain acme.test -key from carl \
	-key fromdom chicago.test -nostdin -timeout 15 -timeout_error -m 1 \
	$CN:$PORT
te_check "inbound MESSAGE: delivered to the gateway, 200 (not 503)" \
	waitpid_rc $TE_LASTPID
te_check "inbound MESSAGE: the gateway got it" waitpid_rc $GWPID
te_check "inbound MESSAGE: sender and target kept" \
	grep -q "MESSAGE from=sip:carl@chicago.test ruri=sip:bob@acme.test" \
	"$D/gw.log"

te_done
