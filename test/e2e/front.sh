#!/bin/sh
# front.sh -- one front door: stconnector and stgateway give the same
# answers to what neither serves, because both receive through the
# sipstack's one path.
#
#   127.0.124.10  stconnector for acme.test (udp and tcp 15060)
#   127.0.124.11  stgateway (clients udp/tcp 15060, connectors tcp 15070),
#                 directory from the LDIF file
#   127.0.124.12  dnsmasq on 15353 (sip.chicago.test)
#   127.0.124.20  the peer sending raw requests (sipsend.py)
#
# Shown, on both daemons alike: INVITE 501 with Allow; CANCEL 481 (RFC
# 3261 9.2); ACK no answer; methods case-sensitive ("invite" is an
# unknown method: the gateway answers 405, the connector takes it to its
# policy, 403 here); a malformed request 400 with the reason, over UDP
# and TCP, logged with the peer's address; garbage dropped.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init e2e-front
D=$TE_DIR
CNB=$top_builddir/connector/stconnector
GWB=$top_builddir/gateway/stgateway
SEND=$top_srcdir/test/connector/sipsend.py
CN=127.0.124.10 GW=127.0.124.11 DNS=127.0.124.12 PEER=127.0.124.20
PORT=15060 DNSPORT=15353

command -v dnsmasq >/dev/null 2>&1 || PATH=$PATH:/usr/sbin

mkdir -p "$D/run"
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,127.0.124.13
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

cat >"$D/community.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true" control="run/gw.sock"
                    pidFile="run/gw.pid">
    <ClientListen transport="udp" address="$GW" port="$PORT"/>
    <ClientListen transport="tcp" address="$GW" port="$PORT"/>
    <ConnectorListen transport="tcp" address="$GW" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="15062">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="15061" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <CommunityConnectivity>
    <TrustedIP>$CN</TrustedIP>
  </CommunityConnectivity>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"/>
  </Directory>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF

te_spawn "$D/cn.log" "$CNB" -f -c "$D/community.xml"
te_spawn "$D/gw.log" "$GWB" -f -c "$D/community.xml"
if te_wait_udp $CN $PORT 5 && te_wait_udp $GW $PORT 5 &&
   te_wait_tcp $GW $PORT 5; then
	te_ok "both daemons listen"
else
	te_fail "both daemons listen"
	sed 's/^/  cn | /' "$D/cn.log"
	sed 's/^/  gw | /' "$D/gw.log"
	te_done
	exit 1
fi

# ask DST TP METHOD: a request from the peer; prints the final answer
# (status, then the header lines), or "timeout"
ask()
{
	SIPSEND_HEADERS=1 python3 "$SEND" $PEER "$1" $PORT "$2" "${4:-5}" <<EOF
$3 sip:bob@acme.test SIP/2.0
Via: SIP/2.0/$(echo "$2" | tr a-z A-Z) @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=f1
To: <sip:bob@acme.test>
Call-ID: front-$3-$2-$1
CSeq: 1 $3
Max-Forwards: 70

EOF
}

# expect WHAT REGEX OUTPUT
expect()
{
	echo "$3" | grep -Eq -- "$2" && return 0
	echo "  $1: expected '$2', got:"
	echo "$3" | sed 's/^/  | /'
	return 1
}

for who in connector gateway; do
	[ $who = connector ] && DST=$CN || DST=$GW

	out=$(ask $DST udp INVITE)
	te_check "$who: INVITE answered 501" \
		expect "$who INVITE" '^501 Not Implemented' "$out"
	te_check "$who: the 501 says what is allowed" \
		expect "$who INVITE" '^Allow: .*MESSAGE.*' "$out"

	out=$(ask $DST udp CANCEL)
	te_check "$who: CANCEL with no transaction answered 481" \
		expect "$who CANCEL" '^481 Call/Transaction Does Not Exist' \
		"$out"

	out=$(ask $DST udp ACK 1)
	te_check "$who: ACK gets no answer" expect "$who ACK" '^timeout$' \
		"$out"

	for tp in udp tcp; do
		out=$(SIPSEND_HEADERS=1 python3 "$SEND" $PEER $DST $PORT $tp 5 <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/$(echo $tp | tr a-z A-Z) @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=f2
To: <sip:bob@acme.test>
Call-ID: front-bad-$tp-$DST
CSeq: 1 MESSAGE
Max-Forwards: many

EOF
)
		te_check "$who: malformed over $tp answered 400 with the reason" \
			expect "$who malformed" \
			'^400 Malformed Max-Forwards header' "$out"
	done

	out=$(printf 'not SIP at all\r\n\r\n' |
		python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(1)
s.sendto(sys.stdin.buffer.read(), (sys.argv[2], int(sys.argv[3])))
try:
    print(s.recv(65535).decode("latin-1").split("\r\n")[0])
except socket.timeout:
    print("timeout")' $PEER $DST $PORT)
	te_check "$who: garbage gets no answer" expect "$who garbage" \
		'^timeout$' "$out"
done

# methods are case-sensitive: "invite" is not INVITE
out=$(ask $GW udp invite)
te_check "gateway: lower-case invite is an unknown method: 405" \
	expect "gateway invite" '^405 ' "$out"
out=$(ask $CN udp invite)
te_check "connector: lower-case invite goes to the policy, not 501" \
	expect "connector invite" '^403 ' "$out"

# both log malformed input with the peer's address
te_check "connector: malformed logged with the peer's address" \
	grep -Eq "cn: reject reason=malformed .*src=$PEER:[0-9]+ .*bad-maxfwd" \
	"$D/cn.log"
te_check "gateway: malformed logged with the peer's address" \
	grep -Eq "gw: malformed reason=bad-maxfwd peer=$PEER:[0-9]+ transport=udp" \
	"$D/gw.log"
te_check "gateway: garbage logged with the peer's address" \
	grep -Eq "gw: malformed reason=bad-start-line peer=$PEER:[0-9]+" \
	"$D/gw.log"

te_done
