#!/bin/sh
# kamailio.sh -- interoperation with a community that runs Kamailio's
# presence server instead of stconnector:
#
#   127.0.114.31  stgateway for acme.test (clients udp 5060,
#                 ConnectorListen tcp 5070), the LDIF directory
#   127.0.114.32  acme's stconnector (udp/tcp 5060)
#   127.0.114.33  dnsmasq on 5353: sip.chicago.test -> 127.0.114.34
#   127.0.114.34  Kamailio (presence, presence_xml, registrar, db_text)
#                 serving chicago.test on udp 5060; requests for
#                 acme.test go to acme's connector
#   127.0.114.35  sipp as chicago's users (PUBLISH, MESSAGE, SUBSCRIBE)
#   127.0.114.36  sipp as Bob's client at chicago, taking MESSAGEs
#   127.0.114.37  sipp as asmith's client at acme, taking MESSAGEs
#   127.0.114.38  sipp as local watchers at acme
#
# Shown: MESSAGE both ways; a local watcher of Bob@chicago.test sees open,
# away, busy and closed as Bob publishes them at Kamailio, and offline
# when Bob's publication expires (Kamailio's NOTIFY without a body);
# Bob watching Alice.Smith@acme.test through Kamailio sees her state;
# a watcher leaving ends the federation subscription and Kamailio's
# terminating NOTIFY is answered 200, never 481.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-kamailio
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SK=$top_srcdir/test/gateway/kam
SP=$top_srcdir/test/gateway/pres
SC=$top_srcdir/test/gateway/fed
CFED=$top_srcdir/test/connector/fed
GWIP=127.0.114.31
CNIP=127.0.114.32
DNSIP=127.0.114.33
KAIP=127.0.114.34
CHIP=127.0.114.35
BOBIP=127.0.114.36
ALIP=127.0.114.37
WIP=127.0.114.38

for tool in kamailio sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

# ---- Kamailio for chicago.test ----
mkdir -p "$D/kam/run" "$D/kam/db"
cp /usr/share/kamailio/dbtext/kamailio/version \
	/usr/share/kamailio/dbtext/kamailio/presentity \
	/usr/share/kamailio/dbtext/kamailio/active_watchers \
	/usr/share/kamailio/dbtext/kamailio/watchers \
	/usr/share/kamailio/dbtext/kamailio/xcap "$D/kam/db/" 2>/dev/null
sed -e "s|@DIR@|$D/kam|g" -e "s|@IP@|$KAIP|g" -e "s|@CN@|$CNIP|g" \
	"$SK/kamailio.cfg.in" >"$D/kam/kamailio.cfg"
te_spawn "$D/kam.log" kamailio -DD -E -f "$D/kam/kamailio.cfg" -m 64 -M 8 \
	-P "$D/kam/run/kamailio.pid"
KAPID=$TE_LASTPID
te_check "Kamailio serves chicago.test on $KAIP:5060" te_wait_udp $KAIP 5060 10

# ---- acme: DNS, the community file, connector, gateway ----
cat >"$D/records" <<EOT
host-record=sip.chicago.test,$KAIP
EOT
te_check "dnsmasq: sip.chicago.test is Kamailio" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates for the connector" te_certs "$D/certs" sip.acme.test:$CNIP
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
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
    <Cache size="100" ttl="300" negativeTtl="30"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
  <Dns timeout="2000"><Server>$DNSIP:5353</Server></Dns>
  <Trace enable="true" file="$D/run/sip.trace" level="1"/>
</CommunityConfig>
EOT
te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "acme's stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10
te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

# ---- clients: Bob at Kamailio, asmith at the gateway ----
te_spawn "$D/bob.out" sipp -sf "$SP/msg_uas.xml" -i $BOBIP -p 5060 -nostdin \
	-trace_logs -log_file "$D/bob.log"
sipp -sf "$SK/register.xml" -key user Bob.Jones -key contact "$BOBIP:5060" \
	-i $BOBIP -p 5061 -m 1 -timeout 10 -timeout_error -nostdin \
	$KAIP:5060 >"$D/bobreg.out" 2>&1
te_check "Bob.Jones registers at Kamailio" test $? -eq 0
sipp -sf "$SP/register.xml" -key user asmith -key contact "$ALIP:5060" \
	-au asmith -ap alicepw -auth_uri acme.test -i $ALIP -p 5060 -m 1 \
	-timeout 10 -timeout_error -nostdin $GWIP:5060 >"$D/alreg.out" 2>&1
te_check "asmith registers at the gateway" test $? -eq 0
te_spawn "$D/al.out" sipp -sf "$SP/msg_uas.xml" -i $ALIP -p 5060 -nostdin \
	-trace_logs -log_file "$D/al.log"
te_wait_udp $ALIP 5060 5

# ---- MESSAGE both ways ----
sipp -sf "$SP/message.xml" -key from asmith -key to Bob.Jones@chicago.test \
	-key text "out-$$" -au asmith -ap alicepw -auth_uri Bob.Jones@chicago.test \
	-i $WIP -p 5201 -m 1 -timeout 10 -timeout_error -nostdin -trace_logs \
	-log_file "$D/out.log" $GWIP:5060 >"$D/out.out" 2>&1
te_check "asmith -> Bob.Jones@chicago.test through Kamailio: 200" \
	has "$D/out.log" "^FINAL code=200"
te_check "Bob's client has it, from Alice.Smith@acme.test" \
	has "$D/bob.log" "MESSAGE from=sip:Alice.Smith@acme.test body=out-$$"
sipp -sf "$SP/ext_message.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -key text "in-$$" -i $CHIP -p 5301 -m 1 \
	-timeout 10 -timeout_error -nostdin -trace_logs -log_file "$D/in.log" \
	$KAIP:5060 >"$D/in.out" 2>&1
te_check "Bob.Jones -> Alice.Smith@acme.test through Kamailio: 200" \
	has "$D/in.log" "^FINAL code=200"
te_check "asmith's client has it, from Bob.Jones@chicago.test" \
	has "$D/al.log" "MESSAGE from=sip:Bob.Jones@chicago.test body=in-$$"

# ---- acme watches Bob, who publishes at Kamailio ----
te_spawn "$D/w1.out" sipp -sf "$SC/local_watch.xml" -key from asmith \
	-key to Bob.Jones@chicago.test -au asmith -ap alicepw \
	-auth_uri Bob.Jones@chicago.test -i $WIP -p 5090 -nostdin \
	-trace_logs -log_file "$D/w1.log" -m 1 $GWIP:5060
W1=$TE_LASTPID
te_check "asmith watches Bob.Jones@chicago.test" \
	te_wait_for "$D/w1.log" "SUBSCRIBE code=200" 5
te_check "Kamailio accepts the federation SUBSCRIBE; no publication yet: no body, offline" \
	te_wait_for "$D/gw.log" "gw: federation notify presentity=sip:Bob.Jones@chicago.test document=none status=offline" 5
# one publication, changed every 2 s, the last one for 3 s only
sipp -sf "$SK/publish_seq.xml" -key from Bob.Jones \
	-key b1 open -key a1 unknown -key e1 600 \
	-key b2 open -key a2 away -key e2 600 \
	-key b3 open -key a3 busy -key e3 600 \
	-key b4 closed -key a4 unknown -key e4 600 \
	-key b5 open -key a5 unknown -key e5 3 \
	-i $CHIP -p 5401 -m 1 -timeout 20 -timeout_error -nostdin -trace_logs \
	-log_file "$D/pub.log" $KAIP:5060 >"$D/pub.out" 2>&1
te_check "Bob's five PUBLISHes accepted by Kamailio" \
	test "$(grep -c 'answered 200' "$D/pub.log")" -eq 5
N='NOTIFY state=active basic='
E='entity=sip:Bob.Jones@chicago.test'
# seq FILE RE...: the lines matching the REs appear in FILE in this order
seq_in()
{
	_f=$1
	shift
	python3 - "$_f" "$@" <<'EOT'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
i = 0
for pat in sys.argv[2:]:
    while i < len(lines) and not re.search(pat, lines[i]):
        i += 1
    if i == len(lines):
        print("  not found in order:", pat)
        print("\n".join("  | " + l for l in lines))
        sys.exit(1)
    i += 1
EOT
}
te_check "asmith saw Bob open, away, busy, closed, open, in this order" \
	seq_in "$D/w1.log" "${N}open activity= $E" "${N}open activity=away $E" \
	"${N}open activity=busy $E" "${N}closed " "${N}open "
# (sipp keeps a variable its regexp no longer matches: a closed or plain
# open NOTIFY after busy still logs activity=busy)
expired() { tail -1 "$D/w1.log" | grep -q "${N}closed "; }
wait_expired() { _i=0; until expired; do _i=$((_i + 1)); [ $_i -gt 100 ] && return 1; sleep 0.1; done; }
te_check "and asmith sees Bob.Jones closed within 10 s, not open forever" wait_expired
te_check "Kamailio's NOTIFY after the expiry has no body: the gateway took it as offline" \
	seq_in "$D/gw.log" "presentity=sip:Bob.Jones@chicago.test document=pidf status=offline" \
	"presentity=sip:Bob.Jones@chicago.test document=pidf status=active" \
	"presentity=sip:Bob.Jones@chicago.test document=none status=offline"

# ---- Bob watches Alice.Smith@acme.test through Kamailio ----
sipp -sf "$top_srcdir/test/gateway/sipp/publish.xml" -key from asmith \
	-key domain acme.test -key basic open -key activity away \
	-au asmith -ap alicepw -auth_uri asmith@acme.test -i $ALIP -p 5070 \
	-m 1 -timeout 10 -timeout_error -nostdin $GWIP:5060 >"$D/alpub.out" 2>&1
te_check "asmith publishes away at the gateway" test $? -eq 0
sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -i $CHIP -p 5303 -m 1 -timeout 8s \
	-timeout_error -nostdin -trace_logs -log_file "$D/ext.log" \
	-trace_msg -message_file "$D/ext.msg" $KAIP:5060 >"$D/ext.out" 2>&1
te_check "Bob's SUBSCRIBE through Kamailio: NOTIFY open" \
	has "$D/ext.log" "^NOTIFY state=active basic=open"
te_check "the NOTIFY names her by email and says away" \
	sh -c "grep -q 'entity=\"sip:Alice.Smith@acme.test\"' '$D/ext.msg' && grep -q 'rpid:away' '$D/ext.msg'"

# ---- a watcher leaves: the terminating NOTIFY is answered 200 ----
te_stop "$W1"
sipp -sf "$SC/local_watch_once.xml" -key from bob -key to Carol.White@chicago.test \
	-au bob -ap bobpw -auth_uri Carol.White@chicago.test -i $WIP -p 5091 \
	-m 1 -timeout 15 -timeout_error -nostdin -trace_logs \
	-log_file "$D/w2.log" $GWIP:5060 >"$D/w2.out" 2>&1 &
W2=$!
te_check "bob watches Carol.White@chicago.test" te_wait_for "$D/w2.log" "SUBSCRIBE code=200" 5
sleep 0.5
sipp -sf "$SK/publish_two.xml" -key from Carol.White \
	-key b1 open -key a1 unknown -key e1 600 -key b2 open -key a2 away \
	-key e2 600 -i $CHIP -p 5402 -m 1 -timeout 10 -timeout_error -nostdin \
	$KAIP:5060 >"$D/pub2.out" 2>&1
wait $W2
te_check "bob saw Carol offline, open, away, and left (un-SUBSCRIBE)" \
	seq_in "$D/w2.log" "NOTIFY basic=closed" "NOTIFY basic=open activity=$" \
	"NOTIFY basic=open activity=away" "NOTIFY final state=terminated"
te_check "the gateway un-SUBSCRIBEs Kamailio" \
	te_wait_for "$D/gw.log" "gw: federation unsubscribe presentity=sip:Carol.White@chicago.test" 5
te_check "Kamailio's terminating NOTIFY reaches the gateway" \
	te_wait_for "$D/run/sip.trace" "^Subscription-State: terminated" 5
sleep 1
te_check "no 481 anywhere on the gateway's and connector's wire" \
	sh -c "! grep -q '^SIP/2.0 481' '$D/run/sip.trace'"
# no_error LOG: LOG has no ERROR line; the ones it has are shown
no_error() { ! grep -B3 'ERROR' "$1" | sed 's/^/  | /' | grep .; }
te_check "Kamailio logged no error" no_error "$D/kam.log"

te_stop "$GWPID"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_stop "$CNPID"
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_stop "$KAPID"
te_done
