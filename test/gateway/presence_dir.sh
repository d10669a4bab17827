#!/bin/sh
# presence_dir.sh -- what the other community gets when acme's directory
# holds bad data or stops answering; a real slapd, stconnector and
# stgateway:
#
#   127.0.114.11  stgateway for acme.test (clients udp 5060,
#                 ConnectorListen tcp 5070), directory: slapd below,
#                 LDAP timeout 10 s, answerTimeout 1.5 s
#   127.0.114.12  acme's stconnector (udp/tcp 5060)
#   127.0.114.13  slapd on 13890: conf/examples/acme.test.ldif plus two
#                 entries with the same mail, Twin@acme.test
#   127.0.114.14  dnsmasq on 5353: sip.chicago.test -> 127.0.114.15
#   127.0.114.15  sipp as chicago's connector, sending MESSAGEs in
#   127.0.114.21  sipp as asmith's client (registered), taking MESSAGEs
#
# Shown: a duplicate mail is answered 485 Ambiguous without Retry-After,
# counted, logged once; with slapd hung (SIGSTOP) a cached user is still
# reached, an uncached one gets 503 with Retry-After within about the
# answerTimeout, not a timeout; the same with slapd gone; the connector
# never marks the gateway down and relays the gateway's own answer.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-presence-dir
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SP=$top_srcdir/test/gateway/pres
GWIP=127.0.114.11
CNIP=127.0.114.12
LDAPIP=127.0.114.13
DNSIP=127.0.114.14
CHIP=127.0.114.15
UAIP=127.0.114.21

for tool in slapd slapadd sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}
count() { grep -Ec -- "$2" "$1" 2>/dev/null; }

# ---- slapd with the users, and two entries sharing one mail ----
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/users.ldif"
cat >>"$D/users.ldif" <<EOT

dn: uid=twin1,ou=people,dc=acme,dc=test
objectClass: inetOrgPerson
uid: twin1
cn: Twin One
sn: One
mail: Twin@acme.test
userPassword: twinpw

dn: uid=twin2,ou=people,dc=acme,dc=test
objectClass: inetOrgPerson
uid: twin2
cn: Twin Two
sn: Two
mail: Twin@acme.test
userPassword: twinpw
EOT
te_slapd "$D/ldap" "$LDAPIP" 13890 "dc=acme,dc=test" "$D/users.ldif" ||
	{ te_fail "slapd did not start"; te_done; exit 1; }
SLAPD=$TE_SLAPD_PID
echo secret >"$D/bindpw"
chmod 600 "$D/bindpw"

cat >"$D/records" <<EOT
host-record=sip.chicago.test,$CHIP
EOT
te_check "dnsmasq: sip.chicago.test is $CHIP" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates for the connector" te_certs "$D/certs" sip.acme.test:$CNIP
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
  <Directory backend="ldap" answerTimeout="1500">
    <Ldap bindDN="cn=admin,dc=acme,dc=test" passwordFile="$D/bindpw"
          base="dc=acme,dc=test" scope="sub" timeout="10000">
      <Url>ldap://$LDAPIP:13890</Url>
    </Ldap>
    <Attributes id="uid" email="mail" password="userPassword"/>
    <Cache size="100" ttl="300" negativeTtl="30"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
  <Dns timeout="2000"><Server>$DNSIP:5353</Server></Dns>
</CommunityConfig>
EOT

te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "acme's stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10
te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10
te_check "stconnector: the gateway up" \
	te_wait_for "$D/cn.log" "cn: gateway-up name=acme-gw|gateway name=acme-gw state=up" 10

# ---- asmith's client: registered from the address it then answers on ----
sipp -sf "$SP/register.xml" -key user asmith -key contact "$UAIP:5060" \
	-au asmith -ap alicepw -auth_uri acme.test -i $UAIP -p 5060 -m 1 \
	-timeout 10 -timeout_error -nostdin $GWIP:5060 >"$D/reg.out" 2>&1
te_check "asmith registers" test $? -eq 0
te_spawn "$D/ua.out" sipp -sf "$SP/msg_uas.xml" -i $UAIP -p 5060 -nostdin \
	-trace_logs -log_file "$D/ua.log"
te_check "asmith's client listens" te_wait_udp $UAIP 5060 5

PORT=5300
# inmsg NAME TO: chicago sends a MESSAGE to TO; its final answer in NAME.log
# and the time it took (ms) in NAME.ms
inmsg()
{
	PORT=$((PORT + 1))
	_t0=$(date +%s%N)
	sipp -sf "$SP/ext_message.xml" -key from Bob.Jones@chicago.test \
		-key to "$2" -key text "$1-$$" -i $CHIP -p $PORT -m 1 \
		-timeout 40 -timeout_error -nostdin -trace_logs \
		-log_file "$D/$1.log" $CNIP:5060 >"$D/$1.out" 2>&1
	echo $((($(date +%s%N) - _t0) / 1000000)) >"$D/$1.ms"
}
# took NAME MS: NAME's answer came within MS milliseconds
took()
{
	[ "$(cat "$D/$1.ms")" -le "$2" ] || { echo "  $1 took $(cat "$D/$1.ms") ms, want <= $2"; return 1; }
}

inmsg in1 Alice.Smith@acme.test
te_check "chicago -> Alice.Smith@acme.test: 200 (and her address is now cached)" \
	has "$D/in1.log" "^FINAL code=200"
te_check "asmith's client has it" has "$D/ua.log" "MESSAGE from=sip:Bob.Jones@chicago.test body=in1-$$"

# ---- duplicate mail: a data error ----
inmsg dup1 Twin@acme.test
te_check "chicago -> Twin@acme.test (two entries): 485 Ambiguous" \
	has "$D/dup1.log" "^FINAL code=485 phrase=Ambiguous retry-after=$"
inmsg dup2 Twin@acme.test
te_check "again: 485, no Retry-After" \
	has "$D/dup2.log" "^FINAL code=485 phrase=Ambiguous retry-after=$"
te_check "logged once for the address, not per request" \
	test "$(count "$D/gw.log" "gw: ambiguous directory key=sip:Twin@acme.test")" -eq 1
"$GW" status --json -c "$D/acme.xml" >"$D/st1.json" 2>&1
te_check "status: 2 ambiguous refusals, counted apart from directory_unavailable" \
	python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
d = s['directory']; a = s['authentication']
ok = d['ambiguous_refused'] == 2 and a['directory_unavailable'] == 0
print(d, a) if not ok else None
sys.exit(0 if ok else 1)" "$D/st1.json"

# ---- slapd hung: cached users reached, others answered 503 at once ----
GWDOWN0=$(count "$D/cn.log" "gateway-down")
kill -STOP "$SLAPD"
inmsg hung1 Alice.Smith@acme.test
te_check "slapd hung: cached Alice.Smith@acme.test still reached (200)" \
	has "$D/hung1.log" "^FINAL code=200"
te_check "her client has it" has "$D/ua.log" "MESSAGE from=sip:Bob.Jones@chicago.test body=hung1-$$"
inmsg hung2 bob@acme.test
te_check "slapd hung: uncached bob@acme.test answered 503 Directory Unavailable with Retry-After" \
	has "$D/hung2.log" "^FINAL code=503 phrase=Directory Unavailable retry-after=5"
te_check "within 4 s (answerTimeout 1.5 s; LDAP timeout 10 s, Timer F 32 s)" took hung2 4000
te_check "the gateway says why" has "$D/gw.log" "gw: directory too slow method=MESSAGE waited_ms=1500"
kill -CONT "$SLAPD"
te_stop "$SLAPD"
inmsg gone1 carol@acme.test
te_check "slapd gone: uncached carol@acme.test answered 503 with Retry-After" \
	has "$D/gone1.log" "^FINAL code=503 phrase=Directory Unavailable retry-after=5"
te_check "within 4 s" took gone1 4000
inmsg gone2 Alice.Smith@acme.test
te_check "slapd gone: cached Alice.Smith@acme.test still reached (200)" \
	has "$D/gone2.log" "^FINAL code=200"
te_check "the connector never marked the gateway down meanwhile" \
	test "$(count "$D/cn.log" "gateway-down")" -eq "$GWDOWN0"
"$CN" status --json -c "$D/acme.xml" >"$D/cnst.json" 2>&1
te_check "stconnector status: the gateway up" \
	python3 -c "
import json, sys
t = open(sys.argv[1]).read()
s = json.loads(t)
def find(o):
    if isinstance(o, dict):
        if o.get('name') == 'acme-gw' and 'state' in o:
            return o['state']
        for v in o.values():
            r = find(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r: return r
st = find(s)
print(t) if st != 'up' else None
sys.exit(0 if st == 'up' else 1)" "$D/cnst.json"

te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_stop "$CNPID"
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_done
