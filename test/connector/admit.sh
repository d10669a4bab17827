#!/bin/sh
# admit.sh -- the connector under connection exhaustion, oversize
# stream messages and UDP response addressing, with real peers:
#   127.0.111.10   stconnector (udp/tcp 15060, tls 15061)
#   127.0.111.11   the local gateway (sipp, udp 15070)
#   127.0.111.20   chicago's proxy sip.chicago.test (TLS certificate)
#   127.0.111.30   stgateway (client udp 15080), for its UDP responses
#   127.0.111.2    dnsmasq
#   127.0.118.1-250  attackers holding idle TCP and TLS connections
#   127.0.118.251-252  UDP senders whose Via names another port
# Checks: a 70 KB body over TCP and over TLS is answered 513 before the
# connection closes, counted malformed; a body one byte over 32 KiB gets
# 513 and the close on TCP, 413 on UDP; UDP responses go to the Via port (the
# connector and the gateway); with maxConnections=60 and 250 idle
# connections held (re-opened two seconds after they are closed), chicago's
# proxy is still served over TCP and TLS, status answers, and every
# refused or evicted connection is counted as conn-limit; then the same
# with no maxConnections under a descriptor limit of 256, where the cap
# comes from the budget.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-admit

SC=$top_builddir/connector/stconnector
GWD=$top_builddir/gateway/stgateway
SIPP=$top_srcdir/test/connector/sipp
PEER=$top_srcdir/test/connector/admit.py
D=$TE_DIR
F=$D/community.xml
CN=127.0.111.10 GW=127.0.111.11 EXT=127.0.111.20 SGW=127.0.111.30
DNS=127.0.111.2 DNSPORT=15353
PORT=15060 TLSPORT=15061 GWPORT=15070 SGWPORT=15080
U1=127.0.118.251 U2=127.0.118.252
mkdir -p "$D/run"

te_check "certificates for the connector and chicago's proxy" \
	te_certs "$D/certs" sip.acme.test:$CN sip.chicago.test:$EXT

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$EXT
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

# conf [MAXCONNECTIONS-ATTRIBUTE]: the connector's file
conf()
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="15090"/>
    <ConnectorListen transport="udp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="$PORT">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="$TLSPORT" control="run/cn.sock"
                      pidFile="run/cn.pid" $1>
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Tls certificate="certs/sip.acme.test.pem" key="certs/sip.acme.test.key"
       ca="certs/ca.pem" verify="required"/>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF
}

# status: `stconnector status` answered (exit 0 healthy, 1 degraded)
status()
{
	"$SC" status --all -c "$F" >"$D/status.out" 2>&1
	_rc=$?
	[ $_rc -le 1 ] || { echo "  status exit $_rc:"; \
		sed 's/^/  | /' "$D/status.out"; return 1; }
}

# status_has REGEX
status_has()
{
	status || return 1
	grep -Eq -- "$1" "$D/status.out" || { echo "  no '$1' in status:"; \
		sed 's/^/  | /' "$D/status.out"; return 1; }
}

# status_num KEY: the first "  KEY: N" of the last status output
status_num()
{
	sed -n "s/^ *$1: *\([0-9][0-9]*\)$/\1/p" "$D/status.out" | head -1
}

# at_least KEY N: status shows KEY >= N
at_least()
{
	status || return 1
	_v=$(status_num "$1")
	[ "${_v:-0}" -ge "$2" ] || { echo "  $1 is ${_v:-missing}, want >= $2"; \
		return 1; }
}

# send SRC TP EXPECT-REGEX [OPTIONS]: send stdin to the connector
send()
{
	_src=$1 _tp=$2 _want=$3
	shift 3
	_p=$PORT
	[ "$_tp" = tls ] && _p=$TLSPORT
	_got=$(python3 "$PEER" send "$_src" $CN $_p "$_tp" "$@")
	echo "$_got" | grep -Eq -- "$_want" ||
		{ echo "  expected '$_want', got '$_got'"; return 1; }
}

# partner TP: chicago's proxy sends a MESSAGE to bob; the gateway has it
NMSG=0
partner()
{
	NMSG=$((NMSG + 1))
	send $EXT "$1" '^200 ' --ca "$D/certs/ca.pem" \
		--cert "$D/certs/sip.chicago.test.pem" \
		--key "$D/certs/sip.chicago.test.key" <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/$(echo "$1" | tr a-z A-Z) @SRC@:@PORT@;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=p$NMSG
To: <sip:bob@acme.test>
Call-ID: partner-$NMSG-$1@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

partner $NMSG over $1
EOF
}

start_cn() # LIMIT-COMMAND...: start the connector, wait until it is up
{
	: >"$D/daemon.log"
	te_spawn "$D/daemon.log" "$@"
	CNPID=$TE_LASTPID
	te_wait_for "$D/daemon.log" "cn: started connector=acme-edge" 10 &&
		te_wait_tcp $CN $TLSPORT 5
}

# ---- the gateway that answers relayed MESSAGEs (sipp)
te_spawn "$D/gw.out" sipp -sf "$SIPP/message_uas.xml" -i $GW -p $GWPORT \
	-aa -nostdin -m 100 -trace_logs -log_file "$D/gw.log"
te_wait_udp $GW $GWPORT 5

conf 'maxConnections="60"'
if start_cn "$SC" -f -c "$F"; then
	te_ok "connector started (maxConnections=60)"
else
	te_fail "connector started"
	sed 's/^/  | /' "$D/daemon.log"
	te_done
	exit 1
fi
te_check "start-up logs the admission budget" \
	grep -Eq "cn: admission fds=[0-9]+ reserve=64 outbound_reserve=[0-9]+ max_connections=60" \
	"$D/daemon.log"
te_check "status: the configured cap" status_has "^max_connections: +60$"

# ---- a 70 KB body over TCP: 513 on the stream, then the close
send $EXT tcp '^513 Message Too Large closed$' --wait-close 5 <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/TCP @SRC@:@PORT@;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=big1
To: <sip:bob@acme.test>
Call-ID: big-1@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

@BODY=70000@
EOF
te_check "70 KB body over TCP: 513 before the connection closes" [ $? = 0 ]
send $EXT tls '^513 Message Too Large closed$' --wait-close 5 \
	--ca "$D/certs/ca.pem" --cert "$D/certs/sip.chicago.test.pem" \
	--key "$D/certs/sip.chicago.test.key" <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/TLS @SRC@:@PORT@;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=big2
To: <sip:bob@acme.test>
Call-ID: big-2@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

@BODY=70000@
EOF
te_check "70 KB body over TLS: 513 before the connection closes" [ $? = 0 ]
te_check "70 KB bodies: counted as malformed" status_has "^  malformed: *2$"
te_check "70 KB body: the precise reason kept" \
	status_has "^last_rejection: +malformed: too-big"
te_check "70 KB body: logged" \
	grep -Eq "cn: reject reason=malformed .*detail=\"?too-big" "$D/daemon.log"

# ---- one body limit, 32 KiB, on every transport (sipstack/sst_limits.h)
send $EXT tcp '^513 Message Too Large closed$' --wait-close 5 <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/TCP @SRC@:@PORT@;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=big3
To: <sip:bob@acme.test>
Call-ID: big-3@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

@BODY=32769@
EOF
te_check "32 KiB + 1 body over TCP: 513 before the connection closes" [ $? = 0 ]
# a datagram over libre's 8 KiB read is read whole: 413 for its body,
# not a 400 for a Content-Length the cut datagram no longer matches
send $U1 udp '^413 Request Entity Too Large port=source' <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;rport;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=big4
To: <sip:bob@acme.test>
Call-ID: big-4@$U1
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

@BODY=32769@
EOF
te_check "32 KiB + 1 body over UDP: read whole, answered 413" [ $? = 0 ]

# ---- UDP: the response goes to the Via port (no rport)
send $U1 udp '^200 OK port=via received=-$' --via-port 15999 <<EOF
OPTIONS sip:$CN:$PORT SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@
From: <sip:ping@chicago.test>;tag=u1
To: <sip:$CN:$PORT>
Call-ID: via-1@$U1
CSeq: 1 OPTIONS
Max-Forwards: 70

EOF
te_check "connector, UDP: the response reaches the Via's port" [ $? = 0 ]
send $U2 udp "^200 OK port=via received=$U2\$" --via-port 15998 <<EOF
OPTIONS sip:$CN:$PORT SIP/2.0
Via: SIP/2.0/UDP client.chicago.test:@PORT@;branch=@BRANCH@
From: <sip:ping@chicago.test>;tag=u2
To: <sip:$CN:$PORT>
Call-ID: via-2@$U2
CSeq: 1 OPTIONS
Max-Forwards: 70

EOF
te_check "connector, UDP, host name in Via: Via port, received= source" \
	[ $? = 0 ]
send $U1 udp '^200 OK port=source' --via-port 15997 <<EOF
OPTIONS sip:$CN:$PORT SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;rport;branch=@BRANCH@
From: <sip:ping@chicago.test>;tag=u3
To: <sip:$CN:$PORT>
Call-ID: via-3@$U1
CSeq: 1 OPTIONS
Max-Forwards: 70

EOF
te_check "connector, UDP with rport: the source port" [ $? = 0 ]

# ---- the same rule in stgateway
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
cat >"$D/gw.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" control="run/gw.sock"
                    pidFile="run/gw.pid">
    <ClientListen transport="udp" address="$SGW" port="$SGWPORT"/>
    <ConnectorListen transport="udp" address="$SGW" port="15081"/>
  </CommunityGateway>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"/>
  </Directory>
</CommunityConfig>
EOF
te_spawn "$D/stgw.log" "$GWD" -f -c "$D/gw.xml"
SGWPID=$TE_LASTPID
te_check "stgateway listens" te_wait_udp $SGW $SGWPORT 5
_got=$(python3 "$PEER" send $U1 $SGW $SGWPORT udp --via-port 15996 <<EOF
OPTIONS sip:acme.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@
From: <sip:ping@elsewhere.test>;tag=g1
To: <sip:acme.test>
Call-ID: gwvia-1@$U1
CSeq: 1 OPTIONS
Max-Forwards: 70

EOF
)
te_check "gateway, UDP: the response reaches the Via's port ($_got)" \
	sh -c "echo '$_got' | grep -Eq '^[2-6][0-9][0-9] .* port=via '"
te_stop $SGWPID
te_check "stgateway: no sanitizer report" \
	sh -c "! grep -q 'Sanitizer\|runtime error' '$D/stgw.log'"

# ---- 250 idle connections, re-opened after they are closed
# hold_until N: the holder has opened at least N connections
hold_until()
{
	_n=300
	while [ $_n -gt 0 ]; do
		_o=$(sed -n 's/^opened=\([0-9]*\) .*/\1/p' "$D/hold.state" \
			2>/dev/null)
		[ "${_o:-0}" -ge "$1" ] && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "  holder: $(cat "$D/hold.state" 2>/dev/null)"
	return 1
}

# flood CAP: hold 250 connections against the cap, check what a user
# and an administrator see
flood()
{
	_cap=$1
	rm -f "$D/hold.state"
	te_spawn "$D/hold.log" python3 "$PEER" hold "$D/hold.state" $CN \
		$PORT $TLSPORT 1 250
	HOLDPID=$TE_LASTPID
	te_check "cap $_cap: 250 idle connections opened" hold_until 250
	sleep 1
	te_check "cap $_cap: status answers under the flood" status
	_in=$(status_num inbound)
	te_check "cap $_cap: inbound connections within the cap (${_in:-?})" \
		[ "${_in:-999}" -le "$_cap" ]
	te_check "cap $_cap: refused/evicted connections counted conn-limit" \
		at_least conn-limit $((250 - _cap))
	te_check "cap $_cap: evictions counted" at_least evicted \
		$((250 - _cap))
	te_check "cap $_cap: the noisiest sources are shown" \
		status_has "^  - source: +127\.0\.118\.[0-9]+$"
	te_check "cap $_cap: chicago's proxy served over TCP" partner tcp
	te_check "cap $_cap: chicago's proxy served over TLS" partner tls
	te_check "cap $_cap: both reached the gateway" \
		grep -q "MESSAGE from=sip:alice@chicago.test ruri=sip:bob@acme.test" \
		"$D/gw.log"
	te_check "cap $_cap: status still answers" status_has "^# admission$"
	te_check "cap $_cap: conn-limit logged" \
		grep -q "cn: reject reason=conn-limit .*src=127\.0\.118\." \
		"$D/daemon.log"
	te_check "cap $_cap: no descriptor exhaustion" \
		sh -c "! grep -qi 'too many open files' '$D/daemon.log'"
	te_stop $HOLDPID
}

flood 60

stop_cn()
{
	te_stop $CNPID
	te_check "connector stopped cleanly" \
		te_wait_for "$D/daemon.log" "cn: stopped connector=acme-edge" 5
	te_check "no sanitizer report" \
		sh -c "! grep -q 'Sanitizer\|runtime error' '$D/daemon.log'"
}
stop_cn

# ---- no maxConnections, a descriptor limit of 256: the budget decides
# (256 - 64 reserved - 32 for outbound = 160 inbound)
cp "$D/daemon.log" "$D/daemon-1.log"
conf ""
if start_cn sh -c 'ulimit -n 256 && exec "$@"' sh "$SC" -f -c "$F"; then
	te_ok "connector started under ulimit -n 256"
else
	te_fail "connector started under ulimit -n 256"
	sed 's/^/  | /' "$D/daemon.log"
fi
te_check "budget: cap from the descriptor limit" \
	grep -q "cn: admission fds=256 reserve=64 outbound_reserve=32 max_connections=160" \
	"$D/daemon.log"
te_check "budget: status shows it" status_has "^max_connections: +160$"
te_check "budget: no configured cap" \
	status_has "^max_connections_configured: +0$"
flood 160
stop_cn

te_done
