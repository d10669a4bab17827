#!/bin/sh
# peer.sh -- `stconnector check --dns` looks at our own records as
# partners see them, and `check --peer COMMUNITY` probes a partner now.
# A real dnsmasq on 127.0.115.53 serves both communities; a real
# stconnector is the partner (chicago); nothing listens for boston;
# another stconnector with a certificate for another name plays
# "wrongname".
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-peer

SC=$top_builddir/connector/stconnector
D=$TE_DIR
DNS=127.0.115.53
DNSPORT=15353
A_CN=127.0.115.40	# acme's connector (ours)
C_CN=127.0.115.41	# chicago's connector
B_CN=127.0.115.42	# boston: nobody listens
W_CN=127.0.115.43	# wrongname: a connector with another name
A_GW=127.0.115.44
C_GW=127.0.115.45
W_GW=127.0.115.46

has() # FILE LINE: the exact line is in FILE
{
	grep -qxF -- "$2" "$1" || { echo "  missing in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

hasre() # FILE ERE
{
	grep -qE -- "$2" "$1" || { echo "  no match in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

# records ACME-ADDRESS: the zone, with our name at ACME-ADDRESS
records()
{
	cat >"$D/records" <<EOT
local-ttl=60
srv-host=_sips._tcp.acme.test,sip.acme.test,15061,0,0
host-record=sip.acme.test,$1
host-record=sip.chicago.test,$C_CN
host-record=sip.boston.test,$B_CN
host-record=sip.wrongname.test,$W_CN
EOT
	te_dnsmasq $DNS $DNSPORT "$D/records"
}

# conf SIDE IP GWIP DOMAIN PEERS...: a community file; each PEER is
# NAME:PROXY
conf()
{
	_s=$1 _ip=$2 _gw=$3 _dom=$4
	shift 4
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<CommunityConfig>'
		echo "  <Community name=\"$_s\"><Domain>$_dom</Domain></Community>"
		echo "  <CommunityGateway name=\"$_s-gw\">"
		echo "    <ClientListen transport=\"udp\" address=\"$_gw\" port=\"15060\"/>"
		echo "    <ConnectorListen transport=\"tcp\" address=\"$_gw\" port=\"15070\"/>"
		echo '  </CommunityGateway>'
		for _p in "$@"; do
			echo "  <ExternCommunity name=\"${_p%%:*}\" transport=\"tls\" port=\"15061\">"
			echo "    <Domain>${_p%%:*}.test</Domain><Proxy>${_p#*:}</Proxy>"
			echo '  </ExternCommunity>'
		done
		echo "  <CommunityConnector name=\"$_s-edge\" ip=\"$_ip\" port=\"15060\""
		echo "                      tlsPort=\"15061\" control=\"run/cn.sock\" pidFile=\"run/cn.pid\">"
		echo "    <Gateway>$_s-gw</Gateway>"
		for _p in "$@"; do
			echo "    <SupportedCommunity name=\"${_p%%:*}\" enabled=\"true\"/>"
		done
		echo '  </CommunityConnector>'
		echo "  <Tls certificate=\"certs/sip.$_dom.pem\" key=\"certs/sip.$_dom.key\""
		echo '       ca="certs/ca.pem" verify="required"/>'
		echo "  <Dns timeout=\"1000\"><Server>$DNS:$DNSPORT</Server></Dns>"
		echo '</CommunityConfig>'
	} >"$D/$_s/$_s.xml"
}

te_certs "$D/certs" sip.acme.test:$A_CN sip.chicago.test:$C_CN \
	sip.other.test:$W_CN || te_fail "certtool made the certificates"
for s in acme chicago wrongname; do
	mkdir -p "$D/$s/run"
	ln -s ../certs "$D/$s/certs"
done
conf acme $A_CN $A_GW acme.test chicago:sip.chicago.test \
	boston:sip.boston.test wrongname:sip.wrongname.test
conf chicago $C_CN $C_GW chicago.test acme:sip.acme.test
conf wrongname $W_CN $W_GW other.test acme:sip.acme.test
A=$D/acme/acme.xml

te_check "dnsmasq serves the zone" records $A_CN
DNSPID=$TE_DNS_PID

# ---- our own records, as partners see them ----
"$SC" check --dns -c "$A" -n acme-edge >"$D/out" 2>"$D/err"
rc=$?
# boston and wrongname resolve; our side is in order
te_check "ours good: exit 0" [ "$rc" = 0 ] || sed 's/^/  | /' "$D/err"
te_check "ours good: the domain by SRV" has "$D/out" \
	"dns: our community acme, domain acme.test (as partners resolve it)"
te_check "ours good: resolved by our SRV record" has "$D/out" \
	"    resolved by srv _sips._tcp.acme.test"
te_check "ours good: what partners' trust check accepts" has "$D/out" \
	"    partners' trust check accepts: $A_CN"
te_check "ours good: where partners send" has "$D/out" \
	"    partners send to: tls $A_CN:15061"
te_check "ours good: the connector accepted" has "$D/out" \
	"    connector acme-edge $A_CN: accepted"
te_check "ours good: the certificate's name checked as a Proxy" has "$D/out" \
	"dns: our community acme, name sip.acme.test (as partners resolve it with this Proxy: a name of our certificate)"
te_check "ours good: dns OK" has "$D/out" "dns OK"

# our connector's address missing from our own DNS
te_stop "$DNSPID"
te_check "dnsmasq serves a zone without our address" records 127.0.115.99
DNSPID=$TE_DNS_PID
"$SC" check --dns -c "$A" >"$D/out" 2>"$D/err"
rc=$?
te_check "ours missing: exit 1" [ "$rc" = 1 ]
te_check "ours missing: shown NOT accepted" has "$D/out" \
	"    connector acme-edge $A_CN: NOT accepted"
te_check "ours missing: the error names the domain, the 403 and the fix" has "$D/err" \
	"stconnector check: error: our domain acme.test resolves without CommunityConnector \"acme-edge\" ($A_CN): partners that resolve it refuse its requests (403 Source is not the community's proxy); publish $A_CN in the A/AAAA records of the SRV targets"
te_check "ours missing: and the certificate's name" has "$D/err" \
	"stconnector check: error: our name sip.acme.test resolves without CommunityConnector \"acme-edge\" ($A_CN): partners that resolve it refuse its requests (403 Source is not the community's proxy); publish $A_CN in its A/AAAA records"
te_check "ours missing: counted" has "$D/err" \
	"stconnector check: 2 problems with our own records"
te_check "ours missing: no dns OK" sh -c "! grep -q 'dns OK' '$D/out'"
te_stop "$DNSPID"
records $A_CN
DNSPID=$TE_DNS_PID

# ---- --peer: a real partner ----
# chicago's gateway: a sipp that answers what the connector relays (-aa
# answers its OPTIONS probes too)
te_spawn "$D/cgw.log" sipp -sf "$top_srcdir/test/connector/sipp/message_uas.xml" \
	-t t1 -i $C_GW -p 15070 -aa -nostdin -m 1000
te_wait_tcp $C_GW 15070 10 || te_fail "chicago's gateway (sipp) listens"
te_spawn "$D/chicago.log" "$SC" -f -c "$D/chicago/chicago.xml"
te_wait_tcp $C_CN 15061 10 || te_fail "chicago's connector listens"
"$SC" check -c "$A" --peer chicago >"$D/out" 2>"$D/err"
rc=$?
te_check "peer chicago: exit 0" [ "$rc" = 0 ] || sed 's/^/  | /' "$D/out" "$D/err"
te_check "peer chicago: what is probed from where" has "$D/out" \
	"peer chicago: proxy sip.chicago.test, from connector acme-edge $A_CN"
te_check "peer chicago: resolution, with time, hop and trust" hasre "$D/out" \
	"^resolve sip.chicago.test: ok \([0-9.]+ ms\): proxy sip.chicago.test, 1 hop, first tls $C_CN:15061 tls-name sip.chicago.test; trust accepts $C_CN\$"
te_check "peer chicago: tcp connect from our address" hasre "$D/out" \
	"^tcp connect $C_CN:15061 from $A_CN: ok \([0-9.]+ ms\)\$"
te_check "peer chicago: tls verified, the verdict word" hasre "$D/out" \
	"^tls handshake \(name sip.chicago.test\): ok \([0-9.]+ ms, with its TCP connect\): verdict valid, peer CN=sip.chicago.test,O=stconnector tests, [0-9]+ days left, \(TLS1\.[23]\)"
te_check "peer chicago: OPTIONS answered" hasre "$D/out" \
	"^options sip:$C_CN:15061: 200 OK \([0-9.]+ ms\)\$"
te_check "peer chicago: reachable" has "$D/out" \
	"peer chicago: reachable, link would be up"

# A healthy link is quiet: its keep-alives (every 30 s) log nothing.
te_spawn "$D/acme.log" "$SC" -f -c "$A"
te_wait_udp $A_CN 15060 10 || te_fail "acme's connector listens"
# a link opens with its first request: one MESSAGE from acme's gateway
# address to chicago (whose gateway is absent: any answer will do)
timeout 5 python3 -c '
import socket, sys
m = ("MESSAGE sip:bob@chicago.test SIP/2.0\r\n"
     "Via: SIP/2.0/UDP %s:15071;branch=z9hG4bKpeer1\r\n"
     "From: <sip:alice@acme.test>;tag=1\r\nTo: <sip:bob@chicago.test>\r\n"
     "Call-ID: peer1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
     "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi" % sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 15071))
s.sendto(m.encode(), (sys.argv[2], 15060))
s.settimeout(4)
while True:
    code = int(s.recv(4096).split()[1])
    if code >= 200:
        break' $A_GW $A_CN || te_fail "a MESSAGE through acme to chicago gets a final answer"
_n=100
until grep -q "cn: link community=chicago state=up" "$D/acme.log"; do
	_n=$((_n - 1))
	[ $_n -le 0 ] && break
	sleep 0.1
done
te_check "link to chicago: up" [ $_n -gt 0 ]
sleep 32
te_check "link to chicago: a keep-alive (30 s) later, no connecting line" \
	[ "$(grep -c 'cn: link community=chicago state=connecting' "$D/acme.log")" = 0 ]
te_check "link to chicago: and one up line" \
	[ "$(grep -c 'cn: link community=chicago state=up' "$D/acme.log")" = 1 ]
APID=$TE_LASTPID
"$SC" status --json communities -c "$A" >"$D/st.json" 2>&1
te_check "link to chicago: still up after the keep-alive" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
c = [c for c in s["communities"] if c["name"] == "chicago"][0]
sys.exit(0 if c["link"] == "up" and "next_retry_in" not in c else 1)' "$D/st.json"
te_stop "$APID"

# ---- --peer: nobody listens ----
"$SC" check -c "$A" --peer boston >"$D/out" 2>"$D/err"
rc=$?
te_check "peer boston: exit 1" [ "$rc" = 1 ]
te_check "peer boston: resolves" hasre "$D/out" "^resolve sip.boston.test: ok "
te_check "peer boston: tcp refused" hasre "$D/out" \
	"^tcp connect $B_CN:15061 from $A_CN: failed \([0-9.]+ ms\): Connection refused\$"
te_check "peer boston: no tls step after it" sh -c "! grep -q '^tls handshake' '$D/out'"
te_check "peer boston: not reachable" has "$D/out" \
	"peer boston: NOT reachable: the first failed step is above"

# ---- --peer: a certificate for another name ----
te_spawn "$D/wrongname.log" "$SC" -f -c "$D/wrongname/wrongname.xml"
WPID=$TE_LASTPID
te_wait_tcp $W_CN 15061 10 || te_fail "the wrongname connector listens"
"$SC" check -c "$A" --peer wrongname >"$D/out" 2>"$D/err"
rc=$?
te_check "peer wrongname: exit 1" [ "$rc" = 1 ]
te_check "peer wrongname: tcp works" hasre "$D/out" \
	"^tcp connect $W_CN:15061 from $A_CN: ok "
te_check "peer wrongname: tls refused, verdict name-mismatch" hasre "$D/out" \
	"^tls handshake \(name sip.wrongname.test\): failed \([0-9.]+ ms\): the peer's certificate was refused; verdict name-mismatch, peer CN=sip.other.test,O=stconnector tests\$"
te_stop "$WPID"

"$SC" check -c "$A" --peer nosuch >"$D/out" 2>"$D/err"
te_check "peer nosuch: exit 1" [ $? = 1 ]
te_check "peer nosuch: named" has "$D/err" \
	"stconnector check: --peer: no ExternCommunity \"nosuch\" in $A"

te_done
