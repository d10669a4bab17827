#!/bin/sh
# allow.sh -- ExternCommunity AllowGroup: only members of a directory
# group federate with that community, with a real slapd, a real
# stconnector, baresip and sipp:
#
#   127.0.110.1   stgateway for acme.test (clients udp/tcp 5060,
#                 ConnectorListen tcp 5070); directory: slapd, cache
#                 TTL 2 s
#   127.0.110.2   acme's stconnector (udp/tcp 5060)
#   127.0.110.3   dnsmasq on 5353: sip.chicago.test -> 127.0.110.4
#   127.0.110.4   sipp standing in for chicago's connector
#   127.0.110.5   slapd with acme.test.ldif and a group
#                 cn=chicago-partners (asmith alone)
#   127.0.110.11  baresip registered as asmith
#   127.0.110.2x  sipp as local users
#
# Shown: chicago allows only cn=chicago-partners.  asmith (member) sends out
# and is reached; carol (not a member) is refused 403 "Federation not
# permitted for this user" sending, subscribing and being reached
# (MESSAGE and SUBSCRIBE from chicago), and nothing of hers leaves;
# status counts the refusals per community and lists carol under
# cannot_federate with the community and reason.  Then ldapmodify puts
# carol in the group and takes asmith out: after the cache TTL carol
# federates and asmith is refused, both ways.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-allow
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SC=$top_srcdir/test/gateway/fed
CFED=$top_srcdir/test/connector/fed
GWIP=127.0.110.1
CNIP=127.0.110.2
DNSIP=127.0.110.3
CHIP=127.0.110.4
LDAPIP=127.0.110.5
GROUP="cn=chicago-partners,ou=groups,dc=acme,dc=test"

for tool in slapd slapadd baresip sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

# ---- slapd, DNS, certificates, the community file ----
mkdir -p "$D/run" "$D/ldap"
te_slapd "$D/ldap" "$LDAPIP" 13890 "dc=acme,dc=test" \
	"$top_srcdir/conf/examples/acme.test.ldif" ||
	{ te_fail "slapd did not start"; te_done; exit 1; }
printf 'secret\n' >"$D/bindpw"
chmod 600 "$D/bindpw"
cat >"$D/group.ldif" <<EOT
dn: $GROUP
objectClass: groupOfNames
cn: chicago-partners
member: uid=asmith,ou=people,dc=acme,dc=test
EOT
te_check "ldapadd: the group $GROUP (asmith)" \
	ldapadd -x -H "ldap://$LDAPIP:13890" -D "cn=admin,dc=acme,dc=test" \
	-w secret -f "$D/group.ldif"
cat >"$D/records" <<EOT
local-ttl=5
host-record=sip.chicago.test,$CHIP
EOT
te_check "dnsmasq: sip.chicago.test is $CHIP" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates for the connector" te_certs "$D/certs" sip.acme.test:$CNIP
cat >"$D/acme.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" retryInterval="2">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ClientListen transport="tcp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="5060">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
    <AllowGroup>$GROUP</AllowGroup>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      tlsPort="5061" control="$D/run/cn.sock"
                      pidFile="$D/run/cn.pid" retryInterval="2">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="ldap">
    <Ldap bindDN="cn=admin,dc=acme,dc=test" passwordFile="$D/bindpw"
          base="dc=acme,dc=test" scope="sub" timeout="2000">
      <Url>ldap://$LDAPIP:13890</Url>
    </Ldap>
    <Attributes id="uid" email="mail" password="userPassword"/>
    <Cache size="100" ttl="2" negativeTtl="2"/>
  </Directory>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="none"/>
  <Dns timeout="2000"><Server>$DNSIP:5353</Server></Dns>
</CommunityConfig>
EOT
te_check "the file with AllowGroup passes stconnector check" \
	"$CN" check -c "$D/acme.xml"

# ---- chicago (sipp), acme's connector, the gateway ----
te_spawn "$D/chicago.out" sipp -sf "$SC/chicago.xml" -i $CHIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/chicago.log" -trace_msg \
	-message_file "$D/chicago.msg"
te_check "chicago (sipp) listens on $CHIP:5060" te_wait_udp $CHIP 5060 5
te_spawn "$D/cn.log" "$CN" -f -c "$D/acme.xml"
CNPID=$TE_LASTPID
te_check "acme's stconnector starts" te_wait_for "$D/cn.log" "cn: started" 10
te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge" 10

# ---- asmith's client (baresip) ----
bd=$D/bs.alice
mkdir -p "$bd"
cat >"$bd/config" <<EOT
poll_method		epoll
sip_listen		127.0.110.11:5060
dns_server		$DNSIP:5353
audio_player		aufile,$bd/play.wav
audio_source		ausine,440
audio_alert		aufile,$bd/alert.wav
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aufile.so
module			stdio.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
EOT
echo "<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw;regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound=\"sip:$GWIP:5060;transport=udp\"" >"$bd/accounts"
: >"$bd/contacts"
mkfifo "$bd/in"
te_spawn "$bd/out.log" sh -c "exec baresip -f '$bd' <'$bd/in'"
sleep 86400 >"$bd/in" &
TE_PIDS="$TE_PIDS $!"
te_check "asmith registers (baresip)" \
	te_wait_for "$bd/out.log" "All 1 useragent registered successfully" 5

PORT=5200
lmsg()  # NAME USER PASS TO
{
	PORT=$((PORT + 1))
	sipp -sf "$SC/local_message.xml" -key from "$2" -key to "$4" \
		-key text "$1-$$" -au "$2" -ap "$3" -auth_uri "$4" \
		-i 127.0.110.23 -p $PORT -m 1 -timeout 10 -timeout_error \
		-nostdin -trace_logs -log_file "$D/$1.log" $GWIP:5060 \
		>"$D/$1.out" 2>&1
}
imsg()  # NAME TO: chicago's Bob.Jones sends a MESSAGE to TO
{
	PORT=$((PORT + 1))
	sipp -sf "$CFED/uac_message.xml" -key from Bob.Jones@chicago.test \
		-key to "$2" -key text "$1-$$" -i $CHIP -p $PORT -m 1 \
		-timeout 10s -timeout_error -nostdin -trace_logs \
		-log_file "$D/$1.log" -trace_msg -message_file "$D/$1.msg" \
		$CNIP:5060 >"$D/$1.out" 2>&1
}
isub()  # NAME TO: chicago's Bob.Jones subscribes to TO
{
	PORT=$((PORT + 1))
	sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
		-key to "$2" -i $CHIP -p $PORT -m 1 -timeout 6s \
		-timeout_error -nostdin -trace_logs -log_file "$D/$1.log" \
		-trace_msg -message_file "$D/$1.msg" $CNIP:5060 \
		>"$D/$1.out" 2>&1
}
NOPE="Federation not permitted for this user"

# ---- members and non-members ----
lmsg out1 asmith alicepw Bob.Jones@chicago.test
te_check "asmith (in the group) -> Bob.Jones@chicago.test: 200" \
	has "$D/out1.log" "^FINAL code=200"
te_check "and it reached chicago" \
	has "$D/chicago.log" "^MESSAGE from=sip:Alice.Smith@acme.test .*body=out1-$$"
lmsg out2 carol carolpw Bob.Jones@chicago.test
te_check "carol (not in the group) -> chicago: 403 $NOPE" \
	has "$D/out2.log" "^FINAL code=403 phrase=$NOPE"
te_check "carol's MESSAGE never left" sh -c "! grep -q 'body=out2-' '$D/chicago.log'"
sipp -sf "$SC/local_watch.xml" -key from carol -key to Bob.Jones@chicago.test \
	-au carol -ap carolpw -auth_uri Bob.Jones@chicago.test -i 127.0.110.24 \
	-p 5090 -m 1 -timeout 5 -nostdin -trace_logs -log_file "$D/w1.log" \
	$GWIP:5060 >"$D/w1.out" 2>&1
te_check "carol cannot watch Bob.Jones: 403 $NOPE" \
	has "$D/w1.log" "SUBSCRIBE code=403 phrase=$NOPE"
te_check "no federation SUBSCRIBE left for her" \
	sh -c "! grep -q '^SUBSCRIBE' '$D/chicago.log'"

imsg in1 Alice.Smith@acme.test
te_check "chicago -> Alice.Smith@acme.test (member): 200" has "$D/in1.log" "^FINAL code=200"
te_check "asmith's baresip shows it" \
	te_wait_for "$bd/out.log" "sip:Bob.Jones@chicago.test: \"in1-$$" 5
imsg in2 carol@acme.test
te_check "chicago -> carol@acme.test: 403 $NOPE" \
	has "$D/in2.msg" "SIP/2.0 403 $NOPE"
isub in3 carol@acme.test
te_check "chicago subscribing to carol: 403 $NOPE" \
	has "$D/in3.msg" "SIP/2.0 403 $NOPE"

"$GW" status --json -c "$D/acme.xml" >"$D/st1.json" 2>&1
cat >"$D/check.py" <<'EOT'
import json, sys
f = json.load(open(sys.argv[1]))["federation"]
user, n_out, n_in, n_ok = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
p = [x for x in f["federation_policy"] if x["community"] == "chicago"][0]
u = [x for x in f["cannot_federate"] if x["user"] == user and x.get("community") == "chicago"]
ok = p["allow_groups"] == "cn=chicago-partners,ou=groups,dc=acme,dc=test" \
    and p["not_in_group_out"] == n_out and p["not_in_group_in"] == n_in \
    and p["allowed"] >= n_ok and len(u) >= 1 and "not-in-group" in u[0]["reason"]
if not ok:
    print(json.dumps(f, indent=1))
sys.exit(0 if ok else 1)
EOT
te_check "status: chicago's rule, 2 refusals out and 2 in, carol under cannot_federate (not-in-group)" \
	python3 "$D/check.py" "$D/st1.json" carol 2 2 2
"$GW" status federation -c "$D/acme.xml" >"$D/st1.txt" 2>&1
te_check "status (text) shows the policy per community" \
	has "$D/st1.txt" "not_in_group_out: +2"

# ---- the group changes in slapd ----
cat >"$D/mod.ldif" <<EOT
dn: $GROUP
changetype: modify
add: member
member: uid=carol,ou=people,dc=acme,dc=test
-
delete: member
member: uid=asmith,ou=people,dc=acme,dc=test
EOT
te_check "ldapmodify: carol in, asmith out" \
	ldapmodify -x -H "ldap://$LDAPIP:13890" -D "cn=admin,dc=acme,dc=test" \
	-w secret -f "$D/mod.ldif"
sleep 3   # the Directory cache TTL (2 s) runs out
lmsg out3 carol carolpw Bob.Jones@chicago.test
te_check "after the TTL carol -> chicago: 200" has "$D/out3.log" "^FINAL code=200"
te_check "and it reached chicago" \
	has "$D/chicago.log" "^MESSAGE from=sip:carol@acme.test .*body=out3-$$"
imsg in4 carol@acme.test
te_check "chicago -> carol@acme.test now: 480 (let through; she has no client)" has "$D/in4.log" "^FINAL code=480"
te_check "(not refused by the rule)" sh -c "! grep -q '$NOPE' '$D/in4.msg'"
lmsg out4 asmith alicepw Bob.Jones@chicago.test
te_check "asmith (taken out) -> chicago: 403 $NOPE" \
	has "$D/out4.log" "^FINAL code=403 phrase=$NOPE"
imsg in5 Alice.Smith@acme.test
te_check "chicago -> Alice.Smith@acme.test now: 403 $NOPE" \
	has "$D/in5.msg" "SIP/2.0 403 $NOPE"
te_check "her baresip never showed it" \
	sh -c "! grep -q 'in5-$$' '$bd/out.log'"
"$GW" status --json -c "$D/acme.xml" >"$D/st2.json" 2>&1
te_check "status: asmith now listed, 3 refusals out, 3 in" \
	python3 "$D/check.py" "$D/st2.json" asmith 3 3 3

te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_stop "$CNPID"
te_done
