#!/bin/sh
# trust.sh -- the connector's edge policy as a partner and an
# administrator see it: TLS facts kept only for a sender that passed
# the trust check, the transport policy per community, request
# validation (416/400), Max-Forwards 0 counted as a loop, a request
# from an inside address that is no gateway, one log bucket per
# refusal reason, and serve-stale DNS when dnsmasq goes away.
#
# Hosts (127.0.112.x):
#   .2   dnsmasq             .10  the connector (udp/tcp 15560, tls 15561)
#   .11  acme's gateway (sipp, udp 15570)
#   .20  sip.chicago.test: chicago's proxy, a tls community
#   .30  sip.ohio.test: ohio's proxy, a udp community (sipp, udp 15562)
#   .40  sip.utah.test: never resolved before the DNS goes away
#   .50  an inside host that is not a gateway (From acme.test)
#   .98, .99  strangers; .99 holds a certificate for evil.test
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-trust

SC=$top_builddir/connector/stconnector
SIPP=$top_srcdir/test/connector/sipp
SEND=$top_srcdir/test/connector/sipsend.py
D=$TE_DIR
F=$D/community.xml
N=127.0.112
CN=$N.10 GW=$N.11 CHI=$N.20 OHIO=$N.30 UTAH=$N.40 INSIDE=$N.50
BAD=$N.99 BAD2=$N.98
DNS=$N.2 DNSPORT=15553
PORT=15560 TLSPORT=15561 GWPORT=15570 OHIOPORT=15562 TTL=2
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
local-ttl=$TTL
host-record=sip.chicago.test,$CHI
host-record=sip.ohio.test,$OHIO
host-record=sip.utah.test,$UTAH
EOF
te_check "dnsmasq serves the partners' names" \
	te_dnsmasq $DNS $DNSPORT "$D/dns.conf"
te_check "certificates (certtool)" te_certs "$D/certs" \
	sip.acme.test:$CN sip.chicago.test:$CHI evil.test:$BAD

cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="15580"/>
    <ConnectorListen transport="udp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tls" port="5061">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="ohio" transport="udp" port="$OHIOPORT">
    <Domain>ohio.test</Domain>
    <Proxy>sip.ohio.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="utah" transport="tcp" port="5060">
    <Domain>utah.test</Domain>
    <Proxy>sip.utah.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="nowhere" transport="tls" port="5061"
                   acceptTransports="udp">
    <Domain>nowhere.test</Domain>
    <Proxy>sip.nowhere.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="$TLSPORT" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="30">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="ohio" enabled="true"/>
    <SupportedCommunity name="utah" enabled="true"/>
    <SupportedCommunity name="nowhere" enabled="true"/>
  </CommunityConnector>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="required"/>
  <Dns timeout="500" serveStale="3600">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF

# ---- helpers

# json EXPR: EXPR (python, s = the status) holds for `status --json`
json()
{
	"$SC" status --json -c "$F" >"$D/status.json" 2>&1
	python3 - "$D/status.json" "$1" <<'PY' || { echo "  status:"; \
		sed 's/^/  | /' "$D/status.json"; return 1; }
import json, sys
s = json.load(open(sys.argv[1]))
def c(name):
    return [x for x in s["communities"] if x["name"] == name][0]
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# text_has REGEX: the text status has a matching line
text_has()
{
	"$SC" status --all -c "$F" >"$D/status.txt" 2>&1
	grep -Eq -- "$1" "$D/status.txt" || { echo "  no '$1' in status:"; \
		sed 's/^/  | /' "$D/status.txt"; return 1; }
}

# send SRC TP EXPECT-REGEX [CERTNAME]: send stdin from SRC over TP (tls
# with the certificate of CERTNAME), the final answer and its headers
# must match (grep -E, on any line)
send()
{
	_port=$PORT
	[ "$2" = tls ] && _port=$TLSPORT
	_got=$(SIPSEND_CERT="$D/certs/${4:-x}.pem" \
	       SIPSEND_KEY="$D/certs/${4:-x}.key" SIPSEND_CA="$D/certs/ca.pem" \
	       SIPSEND_HEADERS=1 python3 "$SEND" "$1" $CN $_port "$2" 10)
	echo "$_got" >"$D/last.out"
	echo "$_got" | grep -Eq -- "$3" ||
		{ echo "  expected '$3', got:"; echo "$_got" | sed 's/^/  | /';
		  return 1; }
}

# msg FROM-USER@DOM TO-USER@DOM CALL-ID TP: a MESSAGE on stdout
msg()
{
	_tp=$(echo "$4" | tr a-z A-Z)
	cat <<EOF
MESSAGE sip:$2 SIP/2.0
Via: SIP/2.0/$_tp @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:$1>;tag=t-$3
To: <sip:$2>
Call-ID: $3
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

hello $3
EOF
}

# inbound TP SRC FROM EXPECT [CERT]: a MESSAGE to bob@acme.test
NCALL=0
inbound()
{
	NCALL=$((NCALL + 1))
	msg "$3" bob@acme.test "in-$NCALL@$2" "$1" | send "$2" "$1" "$4" "$5"
}

# ---- start

# the gateway answers every MESSAGE it gets (sipp, until stopped)
te_spawn "$D/gw" sipp -sf "$SIPP/message_uas.xml" -i $GW -p $GWPORT \
	-aa -nostdin -timeout 120 -trace_logs -log_file "$D/gw.log"
GWPID=$TE_LASTPID
te_wait_udp $GW $GWPORT 5
# ohio's proxy answers every MESSAGE it gets
te_spawn "$D/ohio" sipp -sf "$SIPP/message_uas.xml" -i $OHIO -p $OHIOPORT \
	-aa -nostdin -timeout 120 -trace_logs -log_file "$D/ohio.log"
OHIOPID=$TE_LASTPID
te_wait_udp $OHIO $OHIOPORT 5

te_check "the file is valid" "$SC" check -c "$F"
"$SC" check --dns -c "$F" >"$D/check.out" 2>&1
te_check "check --dns: chicago accepted on tls only" \
	sh -c "sed -n '/extern community chicago/,/^dns:/p' '$D/check.out' | grep -qx '    accepted on: tls'"
te_check "check --dns: ohio accepted on udp tcp tls" \
	sh -c "sed -n '/extern community ohio/,/^dns:/p' '$D/check.out' | grep -qx '    accepted on: udp tcp tls'"
te_check "check --dns: utah accepted on tcp tls" \
	sh -c "sed -n '/extern community utah/,/^dns:/p' '$D/check.out' | grep -qx '    accepted on: tcp tls'"

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
te_wait_udp $CN $PORT 5
te_wait_tcp $CN $TLSPORT 5

te_check "status: chicago accepted on tls, ohio on udp tcp tls, nowhere (acceptTransports) on udp tls" \
	json 'c("chicago")["accepted_transports"] == "tls" and c("ohio")["accepted_transports"] == "udp tcp tls" and c("nowhere")["accepted_transports"] == "udp tls" and c("utah")["accepted_transports"] == "tcp tls"'

# ==== 2. trust before facts

te_check "tls from a stranger with a foreign certificate: 403 untrusted" \
	inbound tls $BAD mallory@chicago.test "^403 Source is not the community's proxy" evil.test
te_check "  counted untrusted-ip, chicago's tls status untouched" \
	json 'c("chicago")["rejections"]["untrusted-ip"] == 1 and c("chicago")["tls"]["known"] is False and c("chicago")["tls"]["verdict"] == ""'
te_check "tls from chicago's proxy with its certificate: relayed, 200" \
	inbound tls $CHI alice@chicago.test "^200 " sip.chicago.test
te_check "  chicago's tls status: valid, CN=sip.chicago.test" \
	json 'c("chicago")["tls"]["verdict"] == "valid" and "sip.chicago.test" in c("chicago")["tls"]["peer"]'
te_check "the stranger again: 403, and the tls status still chicago's" \
	inbound tls $BAD mallory@chicago.test "^403 " evil.test
te_check "  tls status not rewritten (no name-mismatch, no evil.test)" \
	json 'c("chicago")["tls"]["verdict"] == "valid" and "evil" not in c("chicago")["tls"]["peer"]'

# ==== 3. transport per community

te_check "tcp from chicago's proxy: 403 wrong transport, says use tls" \
	inbound tcp $CHI alice@chicago.test "^403 Transport not accepted for this community: tcp, use tls$"
te_check "udp from chicago's proxy: 403 wrong transport" \
	inbound udp $CHI alice@chicago.test "^403 Transport not accepted for this community: udp, use tls$"
te_check "  counted: wrong-transport 2 for chicago" \
	json 'c("chicago")["rejections"]["wrong-transport"] == 2 and s["totals"]["rejections"]["wrong-transport"] == 2'
te_check "  logged with the community and source" \
	grep -q "cn: reject reason=wrong-transport community=chicago src=$CHI" "$D/daemon.log"
te_check "tls from chicago's proxy still accepted" \
	inbound tls $CHI alice@chicago.test "^200 " sip.chicago.test
te_check "tcp from ohio's proxy (a udp community): stronger, accepted" \
	inbound tcp $OHIO carol@ohio.test "^200 "

# ==== 4a. a name that does not exist is an authoritative no
te_check "nowhere (NXDOMAIN from a working DNS): 403, not a 503" \
	inbound udp $N.60 dave@nowhere.test "^403 Source is not the community's proxy"

# ==== 5. request validation (before any policy)

msg carol@ohio.test bob@acme.test v1@$OHIO udp |
	sed 's/^MESSAGE sip:/MESSAGE xyz:/' | send $OHIO udp "^416 "
te_check "unsupported Request-URI scheme xyz: 416" [ $? = 0 ]
msg carol@ohio.test bo%00b@acme.test v2@$OHIO udp |
	send $OHIO udp "^400 Bad Request: escaped control character in the Request-URI user part"
te_check "  400 escaped control character" [ $? = 0 ]
msg carol@ohio.test bob@acme.test v3@$OHIO udp |
	sed 's/^From: <sip:carol@ohio.test>/From: <sip:x@*.ohio.test>/' |
	send $OHIO udp "^400 Bad Request: invalid host in From"
te_check "wildcard host in From: 400" [ $? = 0 ]
msg carol@ohio.test bob@acme.test v4@$OHIO udp |
	sed 's/^To: <sip:bob@acme.test>/To: <sip:bob@acme..test>/' |
	send $OHIO udp "^400 Bad Request: invalid host in To"
te_check "empty label in To: 400" [ $? = 0 ]
msg carol@ohio.test bo%7fb@acme.test v5@$OHIO udp |
	send $OHIO udp "^400 Bad Request: escaped control character"
te_check "escaped DEL in the user part: 400" [ $? = 0 ]
te_check "  none reached the gateway" \
	sh -c "! grep -q 'bo%00b\|bo%7fb\|\*\.ohio\|acme\.\.test\|xyz:' '$D/gw.log'"
te_check "  counted as malformed (5), the precise reason logged" \
	json 's["totals"]["rejections"]["malformed"] == 5'
te_check "  log: the scheme, the escape, the host" sh -c \
	"grep -q 'reason=malformed .*unsupported Request-URI scheme xyz' '$D/daemon.log' &&
	 grep -q 'reason=malformed .*escaped control character in the Request-URI user part' '$D/daemon.log' &&
	 grep -q 'reason=malformed .*invalid host in From' '$D/daemon.log'"

# ==== 6. loop and not-gateway
msg carol@ohio.test bob@acme.test mf0@$OHIO udp |
	sed 's/^Max-Forwards: 70/Max-Forwards: 0/' | send $OHIO udp "^483 "
te_check "Max-Forwards 0: 483" [ $? = 0 ]
te_check "  counted as loop" json 's["totals"]["rejections"]["loop"] == 1'
te_check "inside host, not a gateway: 403 Not a configured gateway" \
	inbound udp $INSIDE alice@acme.test "^403 Not a configured gateway"
te_check "  counted as not-gateway" \
	json 's["totals"]["rejections"]["not-gateway"] == 1 and s["totals"]["rejections"]["unknown-community"] == 0'

# ==== 6. a flood of one reason hides no other line
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	inbound udp $BAD mallory@chicago.test "^403 " >/dev/null
done
te_check "flood: 30 more untrusted-ip counted" \
	json 'c("chicago")["rejections"]["untrusted-ip"] == 32'
# 5 lines a minute: 5, or up to 10 when a minute ends during the flood
# on a busy machine; never the 32 refusals
n=$(grep -c "reason=untrusted-ip community=chicago src=$BAD" "$D/daemon.log")
te_check "flood: one source gets 5 log lines a minute, not the whole bucket ($n)" \
	sh -c "[ '$n' -ge 5 ] && [ '$n' -le 10 ]"
te_check "flood: another stranger is still logged" \
	inbound udp $BAD2 mallory@chicago.test "^403 "
te_check "  its line is there" \
	grep -q "reason=untrusted-ip community=chicago src=$BAD2" "$D/daemon.log"
te_check "flood: chicago's proxy with a foreign certificate: 403 tls-failure" \
	inbound tls $CHI alice@chicago.test "^403 TLS peer does not match" evil.test
te_check "  the tls-failure line is logged despite the flood" \
	grep -q "reason=tls-failure community=chicago src=$CHI" "$D/daemon.log"

# ==== 4. serve-stale: the DNS goes away, the answers expire
msg alice@acme.test carol@ohio.test out-1@$GW udp | send $GW udp "^200 "
te_check "outbound to ohio: 200" [ $? = 0 ]
te_check "status before the outage: ohio's answers ok, not degraded for dns" \
	json 'c("ohio")["dns"] == "ok" and "dns" not in s["degraded_because"]'
te_stop $TE_DNS_PID
sleep $((TTL + 2))
te_check "dns down, answers expired: inbound from ohio's proxy accepted (stale)" \
	inbound udp $OHIO carol@ohio.test "^200 "
msg alice@acme.test carol@ohio.test out-2@$GW udp | send $GW udp "^200 "
te_check "dns down: outbound to ohio still routed (stale)" [ $? = 0 ]
te_check "  ohio's proxy got it" grep -q "ruri=sip:carol@ohio.test" "$D/ohio.log"
te_check "status: ohio's answers stale since a time" \
	json 'c("ohio")["dns"].startswith("stale since 20")'
te_check "text status: stale since" text_has "^  dns: +stale since 20[0-9-]+T"
te_check "status: degraded because dns, exit 1" sh -c \
	"'$SC' status -c '$F' >/dev/null 2>&1; [ \$? = 1 ] && '$SC' status -c '$F' | grep -Eq '^degraded_because: +.*dns'"
te_check "  logged once: answers=stale" \
	[ "$(grep -c 'cn: dns community=ohio answers=stale' "$D/daemon.log")" = 1 ]
"$SC" check --dns -c "$F" >"$D/check2.out" 2>&1
te_check "check --dns: ohio's running connector serves stale" \
	sh -c "sed -n '/extern community ohio/,/^dns:/p' '$D/check2.out' | grep -Eq '^    running connector: answers stale since 20[0-9-]+T'"
te_check "check --dns: the failure is temporary, serveStale said" \
	sh -c "sed -n '/extern community ohio/,/^dns:/p' '$D/check2.out' | grep -q '^    temporary: a running connector keeps serving its last answers for up to 3600 s'"
te_check "check --dns: chicago is not stale (its answers were refreshed before)" \
	sh -c "! sed -n '/extern community chicago/,/^dns:/p' '$D/check2.out' | grep -q 'running connector: answers stale'"
te_check "  a stranger is still refused from the stale answer: 403" \
	inbound udp $BAD carol@ohio.test "^403 Source is not the community's proxy"
te_check "no answer ever cached (utah), inbound: 503 with Retry-After" \
	inbound tcp $UTAH erin@utah.test "^503 Cannot check the sender: DNS unavailable"
te_check "  with Retry-After" grep -q "^Retry-After: [0-9]" "$D/last.out"
te_check "  counted dns-failure, never 403 for utah" json 'c("utah")["rejections"]["untrusted-ip"] == 0 and c("utah")["rejections"]["dns-failure"] == 1'
msg alice@acme.test erin@utah.test out-3@$GW udp |
	send $GW udp "^503 Next hop not resolvable: DNS unavailable"
te_check "no answer ever cached (utah), outbound: 503" [ $? = 0 ]
te_check "  with Retry-After" grep -q "^Retry-After: [0-9]" "$D/last.out"

# ---- stop: a clean exit (the sanitizers report leaks at exit)
te_stop $CNPID
te_check "connector stopped cleanly" \
	te_wait_for "$D/daemon.log" "cn: stopped connector=acme-edge" 5
te_check "no sanitizer report" \
	sh -c "! grep -q 'Sanitizer\|runtime error' '$D/daemon.log'"
te_stop $GWPID
te_stop $OHIOPID

te_done
