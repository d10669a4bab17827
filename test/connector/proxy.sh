#!/bin/sh
# proxy.sh -- stconnector relaying SIP between a local gateway (sipp on
# 127.0.10.11) and an external community chicago.test (sipp on
# 127.0.10.20, found through dnsmasq): inbound and outbound MESSAGE,
# the trust and policy refusals, SUBSCRIBE with Record-Route and the
# NOTIFY back, malformed input, Max-Forwards 0, and a dead next hop.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-proxy

SC=$top_builddir/connector/stconnector
SIPP=$top_srcdir/test/connector/sipp
SEND=$top_srcdir/test/connector/sipsend.py
D=$TE_DIR
F=$D/community.xml
CN=127.0.10.10 GW=127.0.10.11 EXT=127.0.10.20 BAD=127.0.10.99
DNS=127.0.10.2 DNSPORT=15353
PORT=15060 GWPORT=15070 EXTPORT=15062
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$EXT
EOF
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="15080"/>
    <ConnectorListen transport="udp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="$EXTPORT">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="boston" transport="tcp">
    <Domain>boston.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="15061" control="run/cn.sock"
                      pidFile="run/cn.pid" retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="boston" enabled="false"/>
  </CommunityConnector>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF

# status KEY-REGEX: `stconnector status` has a matching line
status_has()
{
	"$SC" status --all -c "$F" >"$D/status.out" 2>&1
	grep -Eq -- "$1" "$D/status.out" || { echo "  no '$1' in status:"; \
		sed 's/^/  | /' "$D/status.out"; return 1; }
}

# send SRC TP EXPECT-REGEX: send stdin, compare the final answer
send()
{
	_got=$(python3 "$SEND" "$1" $CN $PORT "$2" 10)
	echo "$_got" | grep -Eq -- "$3" ||
		{ echo "  expected '$3', got '$_got'"; return 1; }
}

gw_uas()  # LOG: the gateway answers one MESSAGE
{
	te_spawn "$1" sipp -sf "$SIPP/message_uas.xml" -i $GW -p $GWPORT \
		-aa -nostdin -timeout 30 -timeout_error -m 1 \
		-trace_logs -log_file "$1.log"
	GWPID=$TE_LASTPID
	te_wait_udp $GW $GWPORT 5
}

ext_uas() # LOG SCENARIO: chicago's proxy answers one request (tcp)
{
	te_spawn "$1" sipp -sf "$SIPP/$2" -t t1 -i $EXT -p $EXTPORT \
		-aa -nostdin -timeout 30 -timeout_error -m 1 \
		-trace_logs -log_file "$1.log"
	EXTPID=$TE_LASTPID
	te_wait_tcp $EXT $EXTPORT 5
}

waitpid_rc() # PID: wait for it (40 s at most), $? is its exit code
{
	_n=400
	while te_alive "$1" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	te_alive "$1" && { echo "  pid $1 still running after 40 s: killed"; \
		kill -KILL "$1"; }
	wait "$1"
	_rc=$?
	te_stop "$1"
	return $_rc
}

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
te_check "listens on udp" te_wait_udp $CN $PORT 5
te_check "listens on tcp" te_wait_tcp $CN $PORT 5
te_check "status lists the listeners" status_has "$CN"

# ---- inbound MESSAGE from chicago's proxy to a local user
# The connector probes its gateway with OPTIONS from the start and
# retransmits until answered; a one-call UAS started meanwhile could
# take that probe as its one call and never see the MESSAGE.  Let a
# gateway that answers OPTIONS bring the link up first.
te_spawn "$D/gw0.out" sipp -sf "$top_srcdir/test/connector/fed/gw_uas.xml" \
	-i $GW -p $GWPORT -aa -nostdin -timeout 40
GW0PID=$TE_LASTPID
te_check "the gateway's probe is answered: gateway up" \
	te_wait_for "$D/daemon.log" "cn: gateway name=acme-gw state=up" 35
te_stop "$GW0PID"
gw_uas "$D/gw1"
te_spawn "$D/uac1" sipp -sf "$SIPP/message_uac.xml" -t t1 -i $EXT \
	-s bob -key domain acme.test -key from alice -key fromdom chicago.test \
	-nostdin -timeout 15 -timeout_error -m 1 $CN:$PORT
te_check "inbound MESSAGE: sender gets 200" waitpid_rc $TE_LASTPID
te_check "inbound MESSAGE: the gateway got it" waitpid_rc $GWPID
te_check "inbound MESSAGE: from and target kept" \
	grep -q "MESSAGE from=sip:alice@chicago.test ruri=sip:bob@acme.test" \
	"$D/gw1.log"

# ---- the same from an address that is not chicago's proxy
send $BAD tcp '^403 ' <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/TCP @SRC@:@PORT@;branch=@BRANCH@
From: <sip:alice@chicago.test>;tag=a1
To: <sip:bob@acme.test>
Call-ID: untrusted-1@$BAD
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

spoofed
EOF
te_check "untrusted source: 403" [ $? = 0 ]
te_check "untrusted source: counted" status_has "^  untrusted-ip: *1$"

# ---- inbound to a domain that is not ours
send $EXT udp '^403 ' <<EOF
MESSAGE sip:carol@elsewhere.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=a2
To: <sip:carol@elsewhere.test>
Call-ID: notlocal-1@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

relay me
EOF
te_check "inbound to a non-local domain: 403" [ $? = 0 ]
te_check "non-local: counted" status_has "^  not-local: *1$"

# ---- outbound MESSAGE from the gateway to chicago
ext_uas "$D/ext1" message_uas.xml
te_spawn "$D/uac2" sipp -sf "$SIPP/message_uac.xml" -i $GW -p 15071 \
	-s x -key domain chicago.test -key from alice -key fromdom acme.test \
	-nostdin -timeout 15 -timeout_error -m 1 $CN:$PORT
te_check "outbound MESSAGE: gateway gets 200" waitpid_rc $TE_LASTPID
te_check "outbound MESSAGE: chicago got it" waitpid_rc $EXTPID
te_check "outbound MESSAGE: target kept" \
	grep -q "MESSAGE from=sip:alice@acme.test ruri=sip:x@chicago.test" \
	"$D/ext1.log"
te_check "status: chicago's next hop" status_has "$EXT"

# ---- outbound to a community that is not enabled
send $GW udp '^403 Community not enabled' <<EOF
MESSAGE sip:y@boston.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@acme.test>;tag=a3
To: <sip:y@boston.test>
Call-ID: disabled-1@$GW
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

hi
EOF
te_check "outbound to a disabled community: 403 Community not enabled" \
	[ $? = 0 ]

# ---- SUBSCRIBE from the gateway, Record-Route, NOTIFY back
ext_uas "$D/ext2" subscribe_uas.xml
te_spawn "$D/sub" sipp -sf "$SIPP/subscribe_uac.xml" -i $GW -p 15072 \
	-s x -key domain chicago.test -key from alice -key fromdom acme.test \
	-nostdin -timeout 15 -timeout_error -m 1 \
	-trace_logs -log_file "$D/sub.log" $CN:$PORT
SUBPID=$TE_LASTPID
te_check "SUBSCRIBE: chicago's side completed (NOTIFY answered)" \
	waitpid_rc $EXTPID
te_check "SUBSCRIBE: gateway side completed" waitpid_rc $SUBPID
te_check "SUBSCRIBE: Record-Route names the connector" \
	grep -q "SUBSCRIBE record-route=<sip:$CN:$PORT;transport=tcp;lr>" \
	"$D/ext2.log"
te_check "SUBSCRIBE: the gateway sees the Record-Route" \
	grep -q "SUBSCRIBE 200 record-route=<sip:$CN:$PORT;transport=tcp;lr>" \
	"$D/sub.log"
# double record-routing: the gateway (udp) and chicago (tcp) legs
# differ, so the set ends with the gateway-facing entry, which the
# gateway's in-dialog requests take first (its route set is reversed)
te_check "SUBSCRIBE: the gateway's first Route is the connector's udp side" \
	grep -Eq "SUBSCRIBE 200 record-route-all=.*<sip:$CN:$PORT;transport=tcp;lr>, *<sip:$CN:$PORT;transport=udp;lr> *\$" \
	"$D/sub.log"
te_check "NOTIFY reached the gateway through the connector" \
	grep -q "NOTIFY state=active from=sip:service@chicago.test\|NOTIFY state=active from=sip:x@chicago.test" \
	"$D/sub.log"

# ---- malformed SIP: 400 with the reason, counted
send $EXT udp '^400 .*Max-Forwards' <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=a4
To: <sip:bob@acme.test>
Call-ID: bad-1@$EXT
CSeq: 1 MESSAGE
Max-Forwards: many

EOF
te_check "malformed (Max-Forwards not a number): 400" [ $? = 0 ]
te_check "malformed: counted" status_has "^  malformed: *1$"

# ---- Max-Forwards 0
send $EXT udp '^483 ' <<EOF
MESSAGE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=a5
To: <sip:bob@acme.test>
Call-ID: mf0-1@$EXT
CSeq: 1 MESSAGE
Max-Forwards: 0

EOF
te_check "Max-Forwards 0: 483" [ $? = 0 ]

# ---- keep-alive OPTIONS to the connector itself
send $EXT udp '^200 ' <<EOF
OPTIONS sip:$CN:$PORT SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:ping@chicago.test>;tag=a6
To: <sip:$CN:$PORT>
Call-ID: ka-1@$EXT
CSeq: 1 OPTIONS
Max-Forwards: 70

EOF
te_check "OPTIONS to the connector: 200" [ $? = 0 ]

# ---- INVITE: not for this connector
send $EXT udp '^501 ' <<EOF
INVITE sip:bob@acme.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@chicago.test>;tag=a7
To: <sip:bob@acme.test>
Call-ID: inv-1@$EXT
CSeq: 1 INVITE
Max-Forwards: 70

EOF
te_check "INVITE: 501" [ $? = 0 ]

# ---- chicago's proxy down: a final answer all the same
send $GW udp '^(503|408) ' <<EOF
MESSAGE sip:x@chicago.test SIP/2.0
Via: SIP/2.0/UDP @SRC@:@PORT@;branch=@BRANCH@;rport
From: <sip:alice@acme.test>;tag=a8
To: <sip:x@chicago.test>
Call-ID: down-1@$GW
CSeq: 1 MESSAGE
Max-Forwards: 70
Content-Type: text/plain

anyone?
EOF
te_check "next hop down: the sender gets 503/408" [ $? = 0 ]
te_check "next hop down: link down in status" status_has "^  link: *down$"

# ---- stop: a clean exit (the sanitizers report leaks at exit)
te_stop $CNPID
te_check "connector stopped cleanly" \
	te_wait_for "$D/daemon.log" "cn: stopped connector=acme-edge" 5
te_check "no sanitizer report" sh -c "! grep -q 'Sanitizer\|runtime error' '$D/daemon.log'"

te_done
