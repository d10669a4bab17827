#!/bin/sh
# topos.sh -- topology hiding and an advertised host (static NAT) at
# stconnector: a gateway (sipp on 127.0.109.11) and chicago's proxy
# (sipp on 127.0.109.20, tcp, found through dnsmasq) exchange MESSAGEs
# and whole presence subscriptions (SUBSCRIBE, NOTIFY in the dialog,
# un-SUBSCRIBE, the terminating NOTIFY) both ways through a connector
# bound to 127.0.109.10 and advertised as sip.edge.acme.test.  Every
# message chicago's side receives is captured (sipp -trace_msg) and
# must hold neither the gateway's address nor the bound one, while its
# Via, Record-Route and Contact name the advertised host.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-topos

SC=$top_builddir/connector/stconnector
SX=$top_srcdir/test/connector/topos
D=$TE_DIR
F=$D/community.xml
CN=127.0.109.10 GW=127.0.109.11 EXT=127.0.109.20
DNS=127.0.109.2 DNSPORT=16353
PORT=16060 GWPORT=16070 GWSUB=16072 EXTPORT=16062
ADV=sip.edge.acme.test
# what must never reach chicago: the gateway and the bound address
INSIDE="$GW $CN"
# the gateway's Call-IDs hold no address (stgateway writes
# RANDOM@stgateway); the connector relays Call-IDs as they are
CID=%u-%p@stgateway
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF2
host-record=sip.chicago.test,$EXT
EOF2
te_check "dnsmasq serves chicago.test" te_dnsmasq $DNS $DNSPORT "$D/dns.conf"

cat >"$F" <<EOF2
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="16080"/>
    <ConnectorListen transport="udp" address="$GW" port="$GWPORT"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="$EXTPORT">
    <Domain>chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="$PORT"
                      tlsPort="16061" advertise="$ADV"
                      control="run/cn.sock" pidFile="run/cn.pid"
                      retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000">
    <Server>$DNS:$DNSPORT</Server>
  </Dns>
</CommunityConfig>
EOF2

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

# received FILE: only what sipp received, from its -trace_msg file
received()
{
	awk '/message received/ { on = 1; next }
	     /message sent/ { on = 0; next }
	     on' "$1"
}

# no_inside FILE: not one received message names an inside address
no_inside()
{
	received "$1" >"$1.rx"
	[ -s "$1.rx" ] || { echo "  nothing received in $1"; return 1; }
	for a in $INSIDE; do
		if grep -F -- "$a" "$1.rx" >/dev/null; then
			echo "  $a reached chicago:"
			grep -F -- "$a" "$1.rx" | sed 's/^/  | /'
			return 1
		fi
	done
}

# rx_has FILE REGEX: a received header line matches
rx_has()
{
	received "$1" | grep -Eiq -- "$2" ||
		{ echo "  no '$2' among the received messages of $1"; return 1; }
}

gw_has() # FILE REGEX
{
	grep -Eq -- "$2" "$1" || { echo "  no '$2' in $1:"; \
		sed 's/^/  | /' "$1"; return 1; }
}

# ext_uas SCENARIO NAME: chicago's proxy as a server (tcp); not -m 1
# for the same reason (the link keep-alive)
ext_uas()
{
	te_spawn "$D/$2.out" sipp -sf "$SX/$1" -t t1 -i $EXT -p $EXTPORT \
		-aa -nostdin -timeout 30 \
		-trace_msg -message_file "$D/$2.msg" \
		-trace_logs -log_file "$D/$2.log"
	EXTPID=$TE_LASTPID
	te_wait_tcp $EXT $EXTPORT 5
}

# gw_uas SCENARIO NAME: the gateway as a server (udp).  Not -m 1: the
# connector's OPTIONS keep-alive (every 30 s) may come first and would
# count as that one call; the test waits for the scenario's last log
# line instead and then stops it.
gw_uas()
{
	te_spawn "$D/$2.out" sipp -sf "$SX/$1" -i $GW -p $GWPORT \
		-aa -nostdin -timeout 30 \
		-trace_msg -message_file "$D/$2.msg" \
		-trace_logs -log_file "$D/$2.log"
	GWPID=$TE_LASTPID
	te_wait_udp $GW $GWPORT 5
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
te_check "listens on tcp" te_wait_tcp $CN $PORT 5

# ---- MESSAGE out: gateway -> chicago
ext_uas msg_uas.xml ext-msg
te_spawn "$D/gw-msg.out" sipp -sf "$SX/msg_uac.xml" -i $GW -p $GWSUB \
	-s carol -key domain chicago.test -key from bob -key fromdom acme.test \
	-cid_str "$CID" \
	-nostdin -timeout 15 -timeout_error -m 1 \
	-trace_msg -message_file "$D/gw-msg.msg" $CN:$PORT
te_check "MESSAGE out: the gateway gets 200" waitpid_rc $TE_LASTPID
te_check "MESSAGE out: chicago got it" \
	te_wait_for "$D/ext-msg.log" "MESSAGE received" 5
te_stop $EXTPID
te_check "MESSAGE out: no inside address reached chicago" \
	no_inside "$D/ext-msg.msg"
te_check "MESSAGE out: chicago sees only the advertised Via" \
	rx_has "$D/ext-msg.msg" "^Via: SIP/2.0/TCP $ADV:$PORT;"
te_check "MESSAGE out: chicago sees the advertised Contact" \
	rx_has "$D/ext-msg.msg" "^Contact: <sip:th[A-Za-z0-9_-]+@$ADV:$PORT;transport=tcp>"
te_check "MESSAGE out: the gateway's 200 came back on its own Via" \
	gw_has "$D/gw-msg.msg" "^Via: SIP/2.0/UDP $GW:$GWSUB;"

# ---- MESSAGE in: chicago -> gateway
gw_uas msg_uas.xml gw-msg-in
te_spawn "$D/ext-msg-in.out" sipp -sf "$SX/msg_uac.xml" -t t1 -i $EXT -p 16064 \
	-s bob -key domain acme.test -key from alice -key fromdom chicago.test \
	-nostdin -timeout 15 -timeout_error -m 1 \
	-trace_msg -message_file "$D/ext-msg-in.msg" $CN:$PORT
te_check "MESSAGE in: chicago gets 200" waitpid_rc $TE_LASTPID
te_check "MESSAGE in: the gateway got it" \
	te_wait_for "$D/gw-msg-in.log" "MESSAGE received" 5
te_stop $GWPID
te_check "MESSAGE in: no inside address in the 200 chicago got" \
	no_inside "$D/ext-msg-in.msg"
te_check "MESSAGE in: the 200's Contact is the connector's" \
	rx_has "$D/ext-msg-in.msg" "^Contact: <sip:th[A-Za-z0-9_-]+@$ADV:$PORT;transport=tcp>"

# ---- presence out: the gateway subscribes to chicago, is notified,
# unsubscribes and gets the terminating NOTIFY
ext_uas sub_uas.xml ext-sub
te_spawn "$D/gw-sub.out" sipp -sf "$SX/sub_uac.xml" -i $GW -p $GWSUB \
	-s carol -key domain chicago.test -key from bob -key fromdom acme.test \
	-cid_str "$CID" \
	-nostdin -timeout 20 -timeout_error -m 1 \
	-trace_msg -message_file "$D/gw-sub.msg" \
	-trace_logs -log_file "$D/gw-sub.log" $CN:$PORT
te_check "presence out: the gateway's subscription ran to its end" \
	waitpid_rc $TE_LASTPID
te_check "presence out: chicago's side ran to its end" \
	te_wait_for "$D/ext-sub.log" "NOTIFY terminated 200" 5
te_stop $EXTPID
te_check "presence out: the gateway got NOTIFY active then terminated" \
	sh -c "grep -q 'NOTIFY state=active' '$D/gw-sub.log' &&
	       grep -q 'NOTIFY state=terminated' '$D/gw-sub.log'"
te_check "presence out: chicago got the un-SUBSCRIBE" \
	gw_has "$D/ext-sub.log" "unSUBSCRIBE received expires=0"
te_check "presence out: no inside address reached chicago" \
	no_inside "$D/ext-sub.msg"
te_check "presence out: Record-Route names the advertised host only" \
	rx_has "$D/ext-sub.msg" "^Record-Route: <sip:$ADV:$PORT;transport=tcp;lr>[[:space:]]*\$"
te_check "presence out: the in-dialog NOTIFY went to the connector's Contact" \
	sh -c "grep -Eq '^NOTIFY sip:th[A-Za-z0-9_-]+@$ADV:$PORT;transport=tcp SIP/2.0' '$D/ext-sub.msg'"
te_check "presence out: the gateway got NOTIFY at its own Contact" \
	gw_has "$D/gw-sub.msg" "^NOTIFY sip:bob@$GW:$GWSUB;transport=UDP SIP/2.0"
te_check "presence out: the gateway routes by both connector sides" \
	gw_has "$D/gw-sub.msg" "^Record-Route: <sip:$ADV:$PORT;transport=tcp;lr>, *<sip:$CN:$PORT;transport=udp;lr>"

# ---- presence in: chicago subscribes to a local user
gw_uas sub_uas.xml gw-sub-in
te_spawn "$D/ext-sub-in.out" sipp -sf "$SX/sub_uac.xml" -t t1 -i $EXT -p 16064 \
	-s bob -key domain acme.test -key from alice -key fromdom chicago.test \
	-nostdin -timeout 20 -timeout_error -m 1 \
	-trace_msg -message_file "$D/ext-sub-in.msg" \
	-trace_logs -log_file "$D/ext-sub-in.log" $CN:$PORT
te_check "presence in: chicago's subscription ran to its end" \
	waitpid_rc $TE_LASTPID
te_check "presence in: the gateway's side ran to its end" \
	te_wait_for "$D/gw-sub-in.log" "NOTIFY terminated 200" 5
te_stop $GWPID
te_check "presence in: chicago got NOTIFY active then terminated" \
	sh -c "grep -q 'NOTIFY state=active' '$D/ext-sub-in.log' &&
	       grep -q 'NOTIFY state=terminated' '$D/ext-sub-in.log'"
te_check "presence in: the gateway got the un-SUBSCRIBE" \
	gw_has "$D/gw-sub-in.log" "unSUBSCRIBE received expires=0"
te_check "presence in: no inside address reached chicago" \
	no_inside "$D/ext-sub-in.msg"
te_check "presence in: the 200's Record-Route is the advertised side only" \
	rx_has "$D/ext-sub-in.msg" "^Record-Route: <sip:$ADV:$PORT;transport=tcp;lr>[[:space:]]*\$"
te_check "presence in: the un-SUBSCRIBE reached the gateway at its Contact" \
	gw_has "$D/gw-sub-in.msg" "^SUBSCRIBE sip:[^@]+@$GW:$GWPORT;transport=UDP SIP/2.0"

te_check "the connector is still running" te_alive $CNPID
te_stop $CNPID
te_done
