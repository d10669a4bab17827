#!/bin/sh
# audit.sh -- the Audit record: the connector writes one JSON line per
# federated event, with a real stgateway, the LDIF directory and sipp:
#
#   127.0.110.41  stgateway for acme.test (clients udp 5060,
#                 ConnectorListen tcp 5070)
#   127.0.110.42  acme's stconnector (udp/tcp 5060), Audit on
#   127.0.110.43  dnsmasq on 5353: sip.chicago.test -> 127.0.110.44
#   127.0.110.44  sipp standing in for chicago's connector
#   127.0.110.45  sipp as local users
#
# Shown: a MESSAGE out and one in, a subscription accepted, one refused
# and one ended, and the link to chicago coming up, each one JSON line
# with the documented members; no body by default; bodies="true" and a
# reload after moving the file away: the new file gets the lines, with
# the body, and the moved one nothing more.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init cn-audit
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SC=$top_srcdir/test/gateway/fed
CFED=$top_srcdir/test/connector/fed
GWIP=127.0.110.41
CNIP=127.0.110.42
DNSIP=127.0.110.43
CHIP=127.0.110.44
UAIP=127.0.110.45
A=$D/run/audit.log

for tool in sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

cat >"$D/records" <<EOT
local-ttl=5
host-record=sip.chicago.test,$CHIP
EOT
te_check "dnsmasq: sip.chicago.test is $CHIP" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates" te_certs "$D/certs" sip.acme.test:$CNIP
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
conf()  # BODIES
{
	cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" retryInterval="2">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="5060">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      tlsPort="5061" control="$D/run/cn.sock"
                      pidFile="$D/run/cn.pid" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"
                privacy="description"/>
    <Privacy default="all"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
  <Dns timeout="2000"><Server>$DNSIP:5353</Server></Dns>
  <Audit enable="true" file="run/audit.log" bodies="$1"/>
</CommunityConfig>
EOT
}
conf false
te_check "the file with Audit passes stconnector check" "$CN" check -c "$D/acme.xml"

te_spawn "$D/chicago.out" sipp -sf "$SC/chicago.xml" -i $CHIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/chicago.log"
te_check "chicago (sipp) listens" te_wait_udp $CHIP 5060 5
te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10
te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

PORT=5200
lmsg()  # NAME USER PASS TO
{
	PORT=$((PORT + 1))
	sipp -sf "$SC/local_message.xml" -key from "$2" -key to "$4" \
		-key text "$1-$$${5:-}" -au "$2" -ap "$3" -auth_uri "$4" \
		-i $UAIP -p $PORT -m 1 -timeout 10 -timeout_error \
		-nostdin -trace_logs -log_file "$D/$1.log" $GWIP:5060 \
		>"$D/$1.out" 2>&1
}
lmsg out1 asmith alicepw Bob.Jones@chicago.test
te_check "asmith -> Bob.Jones@chicago.test: 200" grep -q "^FINAL code=200" "$D/out1.log"
PORT=$((PORT + 1))
sipp -sf "$CFED/uac_message.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -key text "in1-$$" -i $CHIP -p $PORT \
	-m 1 -timeout 10s -timeout_error -nostdin -trace_logs \
	-log_file "$D/in1.log" $CNIP:5060 >"$D/in1.out" 2>&1
te_check "chicago -> Alice.Smith@acme.test: 480 (no client)" \
	grep -q "^FINAL code=480" "$D/in1.log"
PORT=$((PORT + 1))
sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -i $CHIP -p $PORT -m 1 -timeout 6s \
	-timeout_error -nostdin -trace_logs -log_file "$D/sub1.log" \
	$CNIP:5060 >"$D/sub1.out" 2>&1
te_check "chicago watches Alice.Smith: NOTIFY" grep -q "^NOTIFY state=active" "$D/sub1.log"
PORT=$((PORT + 1))
sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
	-key to carol@acme.test -i $CHIP -p $PORT -m 1 -timeout 6s \
	-timeout_error -nostdin -trace_logs -log_file "$D/sub2.log" \
	-trace_msg -message_file "$D/sub2.msg" $CNIP:5060 >"$D/sub2.out" 2>&1
te_check "chicago watching carol (privacy none): 403" \
	grep -q "SIP/2.0 403 Presence not shared" "$D/sub2.msg"
sipp -sf "$SC/local_watch_once.xml" -key from asmith -key to Carol.White@chicago.test \
	-au asmith -ap alicepw -auth_uri Carol.White@chicago.test -i $UAIP \
	-p 5091 -m 1 -timeout 15 -timeout_error -nostdin -trace_logs \
	-log_file "$D/w1.log" $GWIP:5060 >"$D/w1.out" 2>&1
te_check "asmith watches Carol.White, then leaves" \
	grep -q "NOTIFY final state=terminated" "$D/w1.log"
# chicago's sipp never answers the un-SUBSCRIBE: its line comes when the
# transaction times out (32 s)
te_check "the un-SUBSCRIBE's line is written (after its timeout)" \
	te_wait_for "$A" '"state":"ended"' 40
# that timeout took the gateway's link down for a retry interval
links_up()
{
	_t=0
	while [ $_t -lt 100 ]; do
		[ "$(grep -c 'gw: connector up' "$D/gw.log")" -gt \
		  "$(grep -c 'gw: connector down' "$D/gw.log")" ] && return 0
		sleep 0.1; _t=$((_t + 1))
	done
	return 1
}

cat >"$D/check.py" <<'EOT'
import json, sys
path, want_body = sys.argv[1], sys.argv[2] == "body"
lines = [json.loads(l) for l in open(path, encoding="utf-8")]
def find(**kw):
    return [l for l in lines if all(l.get(k) == v for k, v in kw.items())]
bad = []
def need(what, got):
    if not got:
        bad.append(what)
    return got
keys = {"time", "event", "direction", "community", "from", "to", "call_id", "size", "result", "reason"}
m = need("message out", find(event="message", direction="out", community="chicago",
         **{"from": "sip:Alice.Smith@acme.test", "to": "sip:Bob.Jones@chicago.test"}, result=200))
if m and not keys <= set(m[0]): bad.append("message out members: %s" % sorted(m[0]))
if m and (m[0]["size"] <= 0 or not m[0]["call_id"]): bad.append("size/call_id")
if m and (("body" in m[0]) != want_body): bad.append("body presence")
if m and want_body and not m[0]["body"].startswith("out"): bad.append("body text")
if m and want_body and " \b\f\ufffd." not in m[0]["body"]: bad.append("body escapes")
if not want_body:
    need("message in", find(event="message", direction="in", community="chicago",
         **{"from": "sip:Bob.Jones@chicago.test", "to": "sip:Alice.Smith@acme.test"}, result=480))
    need("subscription accepted", find(event="subscription", state="accepted", direction="in",
         **{"to": "sip:Alice.Smith@acme.test"}))
    r = need("subscription refused", find(event="subscription", state="refused", direction="in",
         **{"to": "sip:carol@acme.test"}, result=403))
    if r and "Presence not shared" not in r[0]["reason"]: bad.append("refused reason")
    need("subscription out accepted", find(event="subscription", state="accepted", direction="out",
         **{"to": "sip:Carol.White@chicago.test"}))
    need("subscription ended", find(event="subscription", state="ended", direction="out",
         **{"to": "sip:Carol.White@chicago.test"}, reason="unsubscribed"))
    need("link up", find(event="link", community="chicago", state="up"))
    if find(event="message", direction="in", result=200, **{"from": "sip:acme-gw@acme.test"}): bad.append("keepalive")
if any("body" in l for l in lines if not want_body): bad.append("a body without bodies=true")
if bad:
    print("missing/wrong:", bad)
    for l in lines: print(" ", json.dumps(l))
sys.exit(1 if bad else 0)
EOT
te_check "audit file exists, mode 0600" [ "$(stat -c %a "$A" 2>/dev/null)" = 600 ]
te_check "audit: every line JSON; message out/in, subscription accepted/refused/ended, link up; no body" \
	python3 "$D/check.py" "$A" nobody

# rotation: move away, bodies on, reload
mv "$A" "$A.1"
n1=$(wc -l <"$A.1")
conf true
"$CN" reload -c "$D/acme.xml" >"$D/reload.out" 2>&1
te_check "connector reload ok" grep -q "^reload ok" "$D/reload.out"
te_check "the gateway's link is up again" links_up
# a body with a backspace, a form feed and a byte that is not UTF-8
lmsg out2 asmith alicepw Bob.Jones@chicago.test "$(printf ' \b\f\377.')"
te_check "asmith -> Bob.Jones again: 200" grep -q "^FINAL code=200" "$D/out2.log"
sleep 2
te_check "after reload: a new audit file with the message and its body" \
	python3 "$D/check.py" "$A" body
te_check "the rotated file got nothing more" [ "$(wc -l <"$A.1")" = "$n1" ]

te_stop "$GWPID"
te_stop "$CNPID"
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_done
