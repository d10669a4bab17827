#!/bin/sh
# presence.sh -- what local watchers see when the other community, the
# link to the connector or the directory misbehave; a real stgateway and
# stconnector built in this tree:
#
#   127.0.114.1   stgateway for acme.test (clients udp 5060,
#                 ConnectorListen tcp 5070), the LDIF directory
#   127.0.114.2   acme's stconnector (udp/tcp 5060), retry 2 s
#   127.0.114.3   dnsmasq on 5353: sip.chicago.test, sip.refuse.test,
#                 sip.slow.test
#   127.0.114.4   sipp as chicago's presence server (body-less NOTIFY
#                 after open, terminating NOTIFY after un-SUBSCRIBE)
#   127.0.114.5   sipp as refuse.test: every SUBSCRIBE answered 403
#   127.0.114.6   sipp as slow.test: takes requests and never answers
#   127.0.114.7   sipp as restart.test: forgets its dialogs (481 to
#                 every refresh), as a restarted server does
#   127.0.114.2x  sipp as local watchers and senders
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-presence
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SP=$top_srcdir/test/gateway/pres
SC=$top_srcdir/test/gateway/fed
GWIP=127.0.114.1
CNIP=127.0.114.2
DNSIP=127.0.114.3
CHIP=127.0.114.4
RFIP=127.0.114.5
SLIP=127.0.114.6
RSIP=127.0.114.7

for tool in sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

# count FILE ERE: lines of FILE that match
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }

# wait_count FILE ERE N SECONDS: wait until N lines of FILE match
wait_count()
{
	_t=0
	while [ $_t -lt $(($4 * 10)) ]; do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
		_t=$((_t + 1))
	done
	echo "  $1: fewer than $3 lines match $2"
	return 1
}

# st EXPR: the gateway's status (JSON) as s, and EXPR true in Python
st()
{
	"$GW" status --json -c "$D/acme.xml" >"$D/st.json" 2>&1
	python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
f = s['federation']
def ps(aor):
    return [x for x in f['presentities'] if x['presentity'] == aor][0]
ok = $1
if not ok: print(json.dumps(f, indent=1))
sys.exit(0 if ok else 1)" "$D/st.json"
}

# ---- DNS, certificates, the community file ----
cat >"$D/records" <<EOT
local-ttl=5
host-record=sip.chicago.test,$CHIP
host-record=sip.refuse.test,$RFIP
host-record=sip.slow.test,$SLIP
host-record=sip.restart.test,$RSIP
EOT
te_check "dnsmasq for the other communities" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates for the connector" te_certs "$D/certs" sip.acme.test:$CNIP
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
extern()  # NAME
{
	cat <<EOT
  <ExternCommunity name="$1" transport="udp" port="5060">
    <Domain>$1.test</Domain>
    <Proxy>sip.$1.test</Proxy>
  </ExternCommunity>
EOT
}
cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" retryInterval="30">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
$(extern chicago)
$(extern refuse)
$(extern slow)
$(extern restart)
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      tlsPort="5061" control="$D/run/cn.sock"
                      pidFile="$D/run/cn.pid" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="refuse" enabled="true"/>
    <SupportedCommunity name="slow" enabled="true"/>
    <SupportedCommunity name="restart" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"
                privacy="description"/>
    <Privacy default="all"/>
    <Cache size="100" ttl="300" negativeTtl="30"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
  <Dns timeout="2000"><Server>$DNSIP:5353</Server></Dns>
</CommunityConfig>
EOT

# ---- the other communities (sipp), acme's connector, the gateway ----
te_spawn "$D/chicago.out" sipp -sf "$SP/chicago.xml" -i $CHIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/chicago.log"
te_check "chicago (sipp) listens on $CHIP:5060" te_wait_udp $CHIP 5060 5
te_spawn "$D/refuse.out" sipp -sf "$SP/refuse.xml" -i $RFIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/refuse.log"
te_spawn "$D/slow.out" sipp -sf "$SP/slow.xml" -i $SLIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/slow.log"
te_spawn "$D/restart.out" sipp -sf "$SP/restart.xml" -i $RSIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/restart.log"
both_up() { te_wait_udp $RFIP 5060 5 && te_wait_udp $SLIP 5060 5 && te_wait_udp $RSIP 5060 5; }
te_check "refuse.test, slow.test and restart.test (sipp) listen" both_up

te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "acme's stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10

te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

# ---- a NOTIFY without a body; the terminating NOTIFY after leaving ----
sipp -sf "$SC/local_watch_once.xml" -key from asmith \
	-key to Bob.Jones@chicago.test -au asmith -ap alicepw \
	-auth_uri Bob.Jones@chicago.test -i 127.0.114.21 -p 5090 -m 1 \
	-timeout 15 -timeout_error -nostdin -trace_logs \
	-log_file "$D/w1.log" $GWIP:5060 >"$D/w1.out" 2>&1
te_check "asmith watches Bob.Jones@chicago.test: offline, then open" \
	sh -c "grep 'NOTIFY basic=' '$D/w1.log' | head -2 | tr '\n' ' ' | grep -q 'basic=closed.*basic=open'"
te_check "chicago's NOTIFY without a body is answered" \
	has "$D/chicago.log" "NOTIFY without body answered to=sip:Bob.Jones@chicago.test"
te_check "and shows Bob.Jones closed (no state is not 'still open')" \
	sh -c "grep 'NOTIFY basic=' '$D/w1.log' | sed -n 3p | grep -q 'basic=closed'"
te_check "the watcher leaves: the federation subscription is ended (Expires 0)" \
	te_wait_for "$D/chicago.log" "in-dialog SUBSCRIBE expires=0 to=sip:Bob.Jones@chicago.test" 5
te_check "chicago's terminating NOTIFY after the un-SUBSCRIBE gets 200, not 481" \
	te_wait_for "$D/chicago.log" "terminating NOTIFY answered code=200 to=sip:Bob.Jones@chicago.test" 5
te_check "the gateway logs the document-less NOTIFY" \
	has "$D/gw.log" "gw: federation notify presentity=sip:Bob.Jones@chicago.test document=none status=offline"

# ---- a far side that never answers: the request fails, not the link ----
PORT=5200
lmsg()  # NAME USER PASS TO [TIMEOUT]
{
	PORT=$((PORT + 1))
	sipp -sf "$SP/message.xml" -key from "$2" -key to "$4" \
		-key text "$1-$$" -au "$2" -ap "$3" -auth_uri "$4" \
		-i 127.0.114.23 -p $PORT -m 1 -timeout "${5:-10}" -timeout_error \
		-nostdin -trace_logs -log_file "$D/$1.log" -trace_msg \
		-message_file "$D/$1.msg" $GWIP:5060 >"$D/$1.out" 2>&1
}
lmsg msg1 asmith alicepw Bob.Jones@chicago.test
te_check "asmith -> Bob.Jones@chicago.test: 200" has "$D/msg1.log" "^FINAL code=200"
GWDOWN0=$(count "$D/cn.log" "gateway-down")
lmsg slow1 asmith alicepw Someone@slow.test 50 &
SLOWPID=$!
te_check "slow.test receives asmith's MESSAGE and stays silent" \
	te_wait_for "$D/slow.log" "MESSAGE unanswered to=sip:Someone@slow.test" 5

# meanwhile: a partner that restarts and forgets the dialog
te_spawn "$D/w5.out" sipp -sf "$SC/local_watch.xml" -key from bob \
	-key to Ann@restart.test -au bob -ap bobpw \
	-auth_uri Ann@restart.test -i 127.0.114.25 -p 5090 -nostdin \
	-trace_logs -log_file "$D/w5.log" -m 1 $GWIP:5060
te_check "bob watches Ann@restart.test: open" \
	te_wait_for "$D/w5.log" "NOTIFY state=active basic=open" 5

# ---- a permanent refusal backs off; reset retries at once ----
te_spawn "$D/w2.out" sipp -sf "$SC/local_watch.xml" -key from asmith \
	-key to Nobody@refuse.test -au asmith -ap alicepw \
	-auth_uri Nobody@refuse.test -i 127.0.114.22 -p 5090 -nostdin \
	-trace_logs -log_file "$D/w2.log" -m 1 $GWIP:5060
te_check "asmith watches Nobody@refuse.test: accepted, shown closed" \
	te_wait_for "$D/w2.log" "NOTIFY state=active basic=closed" 5
te_check "refuse.test refuses the federation SUBSCRIBE" \
	te_wait_for "$D/refuse.log" "SUBSCRIBE refused to=sip:Nobody@refuse.test" 5
sleep 7
te_check "one SUBSCRIBE in 7 s, not one every 3 s" \
	test "$(count "$D/refuse.log" "SUBSCRIBE refused to=sip:Nobody@refuse.test")" -eq 1
te_check "status: Nobody@refuse.test refused, last answer 403 Forbidden, next attempt in minutes" \
	st "ps('sip:Nobody@refuse.test')['retry'] == 'refused' and ps('sip:Nobody@refuse.test')['last_answer'] == '403 Forbidden' and ps('sip:Nobody@refuse.test')['next_attempt_in'] > 240 and ps('sip:Nobody@refuse.test')['status'] == 'offline'"
"$GW" reset -c "$D/acme.xml" >"$D/reset.out" 2>&1
te_check "stgateway reset exits 0" test $? -eq 0
te_check "it says what it retries" \
	has "$D/reset.out" "presentity sip:Nobody@refuse.test: retrying now \\(was refused after 403 Forbidden\\)"
te_check "reset: the SUBSCRIBE is sent again at once (within 1 s)" \
	wait_count "$D/refuse.log" "SUBSCRIBE refused to=sip:Nobody@refuse.test" 2 1
"$GW" reset nosuch -c "$D/acme.xml" >"$D/reset2.out" 2>&1
te_check "reset of an unknown connector: exit 2" test $? -eq 2
te_check "and says why" has "$D/reset2.out" "no connector link named nosuch"

# ---- back to the silent far side ----
wait $SLOWPID

# ---- the partner that forgot the dialog ----
te_check "restart.test answered the refresh 481" \
	has "$D/restart.log" "refresh answered 481 to=sip:Ann@restart.test"
te_check "the gateway subscribed anew at once, keeping Ann's state" \
	has "$D/gw.log" "gw: federation dialog lost presentity=sip:Ann@restart.test reason=\"refresh 481\" action=resubscribe status=active"
te_check "two SUBSCRIBEs for Ann in all" \
	test "$(count "$D/restart.log" "SUBSCRIBE new to=sip:Ann@restart.test")" -ge 2
te_check "bob never saw Ann offline on the way (one closed, at the start; open last)" \
	sh -c "test \$(grep -c 'basic=closed' '$D/w5.log') -eq 1 && tail -1 '$D/w5.log' | grep -q 'basic=open'"

te_check "the MESSAGE to slow.test fails with a timeout (408)" \
	has "$D/slow1.log" "^FINAL code=408"
te_check "the gateway never took its connector link down" \
	sh -c "! grep -q 'gw: connector down' '$D/gw.log'"
te_check "status: link up, the failure counted as beyond it" \
	st "f['connector_links'][0]['state'] == 'up' and f['connector_links'][0]['failures'] == 0 and f['connector_links'][0]['failures_beyond'] >= 1"
lmsg msg2 asmith alicepw Bob.Jones@chicago.test
te_check "other contacts still reachable: asmith -> Bob.Jones@chicago.test 200" \
	has "$D/msg2.log" "^FINAL code=200"
te_check "the connector never marked the gateway down meanwhile" \
	test "$(count "$D/cn.log" "gateway-down")" -eq "$GWDOWN0"

# ---- the gateway killed and restarted: a stale client fails fast ----
sipp -sf "$SP/stale.xml" -key from asmith -key to bob@acme.test \
	-au asmith -ap alicepw -auth_uri bob@acme.test \
	-i 127.0.114.24 -p 5090 -m 1 -timeout 20 -timeout_error -nostdin \
	-trace_logs -log_file "$D/stale.log" $GWIP:5060 >"$D/stale.out" 2>&1 &
STALEPID=$!
te_check "asmith watches bob (asks 3600 s): granted 600 s at most" \
	te_wait_for "$D/stale.log" "SUBSCRIBE 200 expires=600" 5
te_check "and sees bob's state" te_wait_for "$D/stale.log" "NOTIFY basic=closed" 5
T0=$(date +%s%N)
kill -9 "$GWPID"
wait "$GWPID" 2>/dev/null
te_spawn "$D/gw2.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway started again after kill -9" \
	te_wait_for "$D/gw2.log" "gw: connector up name=acme-edge" 10
wait $STALEPID
STALE_MS=$((($(date +%s%N) - T0) / 1000000))
te_check "the stale client's refresh is answered 481 (it subscribes anew)" \
	has "$D/stale.log" "refresh code=481"
te_check "its in-dialog MESSAGE too, without a challenge" \
	has "$D/stale.log" "in-dialog MESSAGE code=481"
te_check "both answered within 2 s of the refresh (6 s pause; took ${STALE_MS} ms)" \
	test "$STALE_MS" -le 8000

#@MORE@

te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw2.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log' '$D/gw2.log'"
te_stop "$CNPID"
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_done
