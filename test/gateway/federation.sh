#!/bin/sh
# federation.sh -- stgateway's federation side end to end, with a real
# stconnector built in this tree:
#
#   127.0.15.1   stgateway for acme.test (clients udp/tcp 5060,
#                ConnectorListen tcp 5070), directory: the LDIF file
#                (asmith has mail Alice.Smith@acme.test, dave none,
#                carol privacy none)
#   127.0.15.2   acme's stconnector (udp/tcp 5060, tls 5061), retry 2 s
#   127.0.15.3   dnsmasq on 5353: sip.chicago.test -> 127.0.15.4
#   127.0.15.4   sipp standing in for chicago's connector (udp 5060);
#                its requests come from other ports of the same IP, so
#                acme's connector trusts them
#   127.0.15.11  baresip registered as asmith
#   127.0.15.2x  sipp as local users (watchers, MESSAGE senders)
#
# Shown: a local MESSAGE leaves with From Alice.Smith@acme.test and the
# 200 comes back; an inbound MESSAGE reaches asmith's client; a user
# without mail gets 403 and status says why; two local watchers of one
# external presentity make ONE federation SUBSCRIBE and both see open,
# then away, entity the external address; an external watcher sees
# asmith by email; privacy none refuses one; the connector killed ->
# watchers see closed; restarted -> subscription re-created and the true
# state comes back.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-federation
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
CN=$top_builddir/connector/stconnector
SC=$top_srcdir/test/gateway/fed
CFED=$top_srcdir/test/connector/fed
GWIP=127.0.15.1
CNIP=127.0.15.2
DNSIP=127.0.15.3
CHIP=127.0.15.4

for tool in baresip sipp dnsmasq certtool; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -20; return 1; }
}

# count FILE ERE N: exactly N lines of FILE match
count()
{
	_n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	[ "${_n:-0}" = "$3" ] || { echo "  $1: ${_n:-0} lines match $2, want $3"; return 1; }
}

# wait_count FILE ERE N SECONDS: wait until N lines of FILE match
wait_count()
{
	_t=0
	while [ $_t -lt $(($4 * 10)) ]; do
		[ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
		_t=$((_t + 1))
	done
	echo "  $1: fewer than $3 lines match $2"
	return 1
}

# ---- DNS, certificates, the community file ----
cat >"$D/records" <<EOT
local-ttl=5
host-record=sip.chicago.test,$CHIP
EOT
te_check "dnsmasq: sip.chicago.test is $CHIP" te_dnsmasq $DNSIP 5353 "$D/records"
te_check "certificates for the connector" te_certs "$D/certs" sip.acme.test:$CNIP
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
mkdir -p "$D/run"
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
</CommunityConfig>
EOT

# ---- chicago's connector (sipp), acme's connector, the gateway ----
te_spawn "$D/chicago.out" sipp -sf "$SC/chicago.xml" -i $CHIP -p 5060 \
	-nostdin -trace_logs -log_file "$D/chicago.log" -trace_msg \
	-message_file "$D/chicago.msg"
te_check "chicago (sipp) listens on $CHIP:5060" te_wait_udp $CHIP 5060 5

cn_start()
{
	te_spawn "$D/cn.$1.log" "$CN" -f -c "$D/acme.xml"
	CNPID=$TE_LASTPID
	te_wait_for "$D/cn.$1.log" "cn: started" 10 && te_wait_tcp $CNIP 5060 5
}
te_check "acme's stconnector starts" cn_start 1

te_spawn "$D/gw.log" "$GW" -f -c "$D/acme.xml"
GWPID=$TE_LASTPID
gw_up() { te_wait_udp $GWIP 5060 5 && te_wait_tcp $GWIP 5070 5; }
te_check "stgateway listens for clients (udp 5060) and connectors (tcp 5070)" gw_up
te_check "stgateway: connector link up" \
	te_wait_for "$D/gw.log" "gw: connector up name=acme-edge transport=tcp address=$CNIP:5060" 10
te_check "stconnector: the gateway's link up (it answers OPTIONS)" \
	te_wait_for "$D/cn.1.log" "cn: gateway-up name=acme-gw" 10

# ---- asmith's client (baresip) ----
bd=$D/bs.alice
mkdir -p "$bd"
cat >"$bd/config" <<EOT
poll_method		epoll
sip_listen		127.0.15.11:5060
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

# ---- outbound MESSAGE ----
PORT=5200
lmsg()  # NAME USER PASS TO
{
	PORT=$((PORT + 1))
	sipp -sf "$SC/local_message.xml" -key from "$2" -key to "$4" \
		-key text "$1-$$" -au "$2" -ap "$3" -auth_uri "$4" \
		-i 127.0.15.23 -p $PORT -m 1 -timeout 10 -timeout_error \
		-nostdin -trace_logs -log_file "$D/$1.log" $GWIP:5060 \
		>"$D/$1.out" 2>&1
}
lmsg out1 asmith alicepw Bob.Jones@chicago.test
te_check "asmith -> Bob.Jones@chicago.test: 200 came back" \
	has "$D/out1.log" "^FINAL code=200"
te_check "it left the connector with From and P-Asserted-Identity Alice.Smith@acme.test, To as given" \
	has "$D/chicago.log" "^MESSAGE from=sip:Alice.Smith@acme.test to=sip:Bob.Jones@chicago.test pai=sip:Alice.Smith@acme.test body=out1-$$"
lmsg out2 dave davepw Bob.Jones@chicago.test
te_check "dave (no mail) -> chicago: 403 No federation address for user" \
	has "$D/out2.log" "^FINAL code=403 phrase=No federation address for user"
te_check "the gateway logs why" has "$D/gw.log" "gw: no-email user=dave reason="
te_check "dave's MESSAGE never left" sh -c "! grep -q 'body=out2-' '$D/chicago.log'"

# ---- inbound MESSAGE ----
sipp -sf "$CFED/uac_message.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -key text "in1-$$" -i $CHIP -p 5301 \
	-m 1 -timeout 10s -timeout_error -nostdin -trace_logs \
	-log_file "$D/in1.log" $CNIP:5060 >"$D/in1.out" 2>&1
te_check "chicago -> Alice.Smith@acme.test: 200" has "$D/in1.log" "^FINAL code=200"
te_check "asmith's baresip shows it, From the external address" \
	te_wait_for "$bd/out.log" "sip:Bob.Jones@chicago.test: \"in1-$$" 5
sipp -sf "$CFED/uac_message.xml" -key from Bob.Jones@chicago.test \
	-key to Nobody.Here@acme.test -key text "in2-$$" -i $CHIP -p 5302 \
	-m 1 -timeout 10s -timeout_error -nostdin -trace_logs \
	-log_file "$D/in2.log" $CNIP:5060 >"$D/in2.out" 2>&1
te_check "chicago -> an unknown email: 404" has "$D/in2.log" "^FINAL code=404"

# ---- external watchers of local users ----
sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
	-key to Alice.Smith@acme.test -i $CHIP -p 5303 -m 1 -timeout 6s \
	-timeout_error -nostdin -trace_logs -log_file "$D/ext1.log" \
	-trace_msg -message_file "$D/ext1.msg" $CNIP:5060 >"$D/ext1.out" 2>&1
te_check "chicago watches Alice.Smith@acme.test: NOTIFY open" \
	has "$D/ext1.log" "^NOTIFY state=active basic=open"
te_check "the NOTIFY names her by email (entity)" \
	has "$D/ext1.msg" 'entity="sip:Alice.Smith@acme.test"'
te_check "and never by local ID" sh -c "! grep -q 'asmith' '$D/ext1.msg'"
sipp -sf "$CFED/uac_subscribe.xml" -key from Bob.Jones@chicago.test \
	-key to carol@acme.test -i $CHIP -p 5304 -m 1 -timeout 6s \
	-timeout_error -nostdin -trace_logs -log_file "$D/ext2.log" \
	-trace_msg -message_file "$D/ext2.msg" $CNIP:5060 >"$D/ext2.out" 2>&1
te_check "carol (privacy none): chicago's SUBSCRIBE refused 403" \
	has "$D/ext2.msg" "SIP/2.0 403 Presence not shared with your community"

# ---- local watchers of an external presentity ----
watch()  # NAME USER PASS IP
{
	te_spawn "$D/$1.out" sipp -sf "$SC/local_watch.xml" -key from "$2" \
		-key to Bob.Jones@chicago.test -au "$2" -ap "$3" \
		-auth_uri Bob.Jones@chicago.test -i "$4" -p 5090 -nostdin \
		-trace_logs -log_file "$D/$1.log" -m 1 $GWIP:5060
	eval "W_$1=\$TE_LASTPID"
}
watch w1 asmith alicepw 127.0.15.21
te_check "asmith's watch accepted" te_wait_for "$D/w1.log" "SUBSCRIBE code=200" 5
watch w2 bob bobpw 127.0.15.22
te_check "bob's watch accepted" te_wait_for "$D/w2.log" "SUBSCRIBE code=200" 5
for w in w1 w2; do
	te_check "$w: Bob.Jones open, entity sip:Bob.Jones@chicago.test" \
		te_wait_for "$D/$w.log" "NOTIFY state=active basic=open activity= entity=sip:Bob.Jones@chicago.test" 8
	te_check "$w: then away" \
		te_wait_for "$D/$w.log" "NOTIFY state=active basic=open activity=away entity=sip:Bob.Jones@chicago.test" 8
done
te_check "ONE federation SUBSCRIBE for two watchers, from the gateway's identity" \
	count "$D/chicago.log" "^SUBSCRIBE from=sip:acme-gw@acme.test to=sip:Bob.Jones@chicago.test expires=600" 1
watch w3 dave davepw 127.0.15.24
te_check "dave (no mail) cannot watch outside: 403" \
	te_wait_for "$D/w3.log" "SUBSCRIBE code=403 phrase=No federation address for user" 5

# ---- status ----
"$GW" status --json -c "$D/acme.xml" >"$D/st1.json" 2>&1
te_check "status exits 0 with the link up" test $? -eq 0
cat >"$D/check.py" <<'EOT'
import json, sys
s = json.load(open(sys.argv[1]))
f = s["federation"]
want = sys.argv[2]
l = f["connector_links"][0]
ok = l["name"] == "acme-edge" and l["transport"] == "tcp"
if want == "up":
    p = [x for x in f["presentities"] if x["presentity"] == "sip:Bob.Jones@chicago.test"][0]
    c = [x for x in f["external_communities"] if x["name"] == "chicago"][0]
    n = [x for x in f["cannot_federate"] if x["user"] == "dave"][0]
    ok = ok and l["state"] == "up" and p["local_watchers"] == 2 \
        and p["status"] == "away" and c["presentities"] == 1 \
        and c["local_watchers"] == 2 and "mail" in n["reason"] \
        and n["refusals"] >= 2 and f["external_watchers"] >= 1 \
        and f["privacy_refused"] == 1
else:
    ok = ok and l["state"] == "down" and l["last_error"] != ""
print(json.dumps(f, indent=1)) if not ok else None
sys.exit(0 if ok else 1)
EOT
te_check "status: link up, 1 presentity of chicago with 2 local watchers, Away; dave cannot federate and why" \
	python3 "$D/check.py" "$D/st1.json" up
"$GW" status federation -c "$D/acme.xml" >"$D/st1.txt" 2>&1
te_check "status (text) lists dave under cannot_federate" has "$D/st1.txt" "user: +dave"

# ---- the connector goes away, and comes back ----
te_stop "$CNPID"
for w in w1 w2; do
	te_check "$w: connector gone -> Bob.Jones closed" \
		te_wait_for "$D/$w.log" "NOTIFY state=active basic=closed" 10
done
"$GW" status --json -c "$D/acme.xml" >"$D/st2.json" 2>&1
te_check "status exits 1 (degraded) with no link" test $? -eq 1
te_check "status: link down with its error" python3 "$D/check.py" "$D/st2.json" down
"$GW" status -c "$D/acme.xml" >"$D/st2.txt" 2>&1
te_check "summary: one screen, degraded because links" sh -c \
	"[ \$(wc -l <'$D/st2.txt') -le 25 ] && grep -Eq '^health: +degraded\$' '$D/st2.txt' &&
	 grep -Eq '^degraded_because: +links\$' '$D/st2.txt'"
te_check "summary: the link's problem with its error" \
	has "$D/st2.txt" "^  link acme-edge: +down: .+"
te_check "summary: the link's own line says down" \
	has "$D/st2.txt" "^  acme-edge: +down, tcp $CNIP:5060, [0-9]+ requests out, [1-9][0-9]* failures"
te_check "acme's stconnector restarts" cn_start 2
te_check "stconnector: the gateway's link up again" \
	te_wait_for "$D/cn.2.log" "cn: gateway-up name=acme-gw|gateway name=acme-gw state=up" 10
te_check "the gateway sees the link up again" \
	wait_count "$D/gw.log" "gw: connector up name=acme-edge" 2 10
te_check "the federation subscription is created afresh, chicago's NOTIFYs answered" \
	wait_count "$D/chicago.log" "NOTIFY away answered" 2 10
sleep 1
te_check "two federation SUBSCRIBEs in all (first, and after the restart)" \
	count "$D/chicago.log" "^SUBSCRIBE from=sip:acme-gw@acme.test to=sip:Bob.Jones@chicago.test expires=600" 2
for w in w1 w2; do
	te_check "$w: the true state (away) is back" sh -c \
		"tail -1 '$D/$w.log' | grep -q 'basic=open activity=away'"
done

# ---- a sole watcher leaves: the federation subscription ends ----
sipp -sf "$SC/local_watch_once.xml" -key from asmith -key to Carol.White@chicago.test \
	-au asmith -ap alicepw -auth_uri Carol.White@chicago.test -i 127.0.15.25 \
	-p 5091 -m 1 -timeout 15 -timeout_error -nostdin -trace_logs \
	-log_file "$D/w4.log" $GWIP:5060 >"$D/w4.out" 2>&1
te_check "a sole watcher of Carol.White: offline, open, away, then it leaves" \
	has "$D/w4.log" "NOTIFY final state=terminated"
# unsub TO: the in-dialog un-SUBSCRIBEs (Expires: 0) for TO that chicago
# received (its sipp traces them; the ended call discards them)
unsub()
{
	tr -d '\r' <"$D/chicago.msg" | awk -v to="To: <sip:$1>;tag=" '
		/^SUBSCRIBE / { on = 1; t = 0; e = 0; next }
		on && index($0, to) == 1 { t = 1 }
		on && /^Expires: 0$/ { e = 1 }
		on && /^$/ { if (t && e) n++; on = 0 }
		END { print n + 0 }'
}
sleep 2
te_check "its leaving ends the federation subscription (in-dialog un-SUBSCRIBE, Expires 0)" \
	test "$(unsub Carol.White@chicago.test)" -ge 1
te_check "Bob.Jones's shared subscription stays (no un-SUBSCRIBE for him)" \
	test "$(unsub Bob.Jones@chicago.test)" -eq 0

te_stop "$W_w1"
te_stop "$W_w2"
te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_stop "$CNPID"
te_done
