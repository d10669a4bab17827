#!/bin/sh
# subcap.sh -- subscriptionsMax at stconnector: the subscriptions a
# community holds through the connector, capped each way.
#
#   127.0.121.10  stconnector (udp 5060), metrics on 9464
#   127.0.121.11  sipp as acme's gateway (ConnectorListen udp 5070,
#                 its users' SUBSCRIBEs from other ports)
#   127.0.121.12  dnsmasq on 5353: sip.chicago.test, sip.boston.test
#   127.0.121.20  sipp as chicago (subscriptionsMax 2), notifier on 5060
#   127.0.121.21  sipp as boston (no cap), notifier on 5060
#   jabber.test   an XMPP community (subscriptionsMax 2): the connector
#                 answers its SUBSCRIBEs itself (no server needed)
#
# Shown: two subscriptions to chicago held, the third refused 503 with
# Retry-After and its reason phrase, counted rate-limit, while boston's
# go through and the held ones refresh; status, --json and /metrics
# show held / cap and the rates; the places come back after an
# un-SUBSCRIBE, a NOTIFY terminated, a final error and an expiry with no
# refresh; the cap holds the other way too, on its own count; and it
# holds for an XMPP community, whose SUBSCRIBEs the connector answers
# itself, as for a SIP one.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-subcap

SC=$top_builddir/connector/stconnector
SX=$top_srcdir/test/connector/subcap
D=$TE_DIR
F=$D/community.xml
CN=127.0.121.10 GW=127.0.121.11 DNS=127.0.121.12
CHI=127.0.121.20 BOS=127.0.121.21
mkdir -p "$D/run"

cat >"$D/dns.conf" <<EOF
host-record=sip.chicago.test,$CHI
host-record=sip.boston.test,$BOS
EOF
te_check "dnsmasq serves chicago.test and boston.test" \
	te_dnsmasq $DNS 5353 "$D/dns.conf"

cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true">
    <ClientListen transport="udp" address="$GW" port="5060"/>
    <ConnectorListen transport="udp" address="$GW" port="5070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="udp" port="5060"
                   subscriptionsMax="2">
    <Domain>chicago.test</Domain><Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="boston" transport="udp" port="5060">
    <Domain>boston.test</Domain><Proxy>sip.boston.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="jabber" protocol="xmpp" subscriptionsMax="2">
    <Domain>jabber.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$CN" port="5060" tlsPort="5061"
                      control="run/cn.sock" pidFile="run/cn.pid"
                      metrics="$CN:9464" retryInterval="60">
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="boston" enabled="true"/>
    <SupportedCommunity name="jabber" enabled="true"/>
  </CommunityConnector>
  <Dns timeout="1000"><Server>$DNS:5353</Server></Dns>
</CommunityConfig>
EOF
"$SC" check -c "$F" >"$D/check.out" 2>&1
te_check "check accepts subscriptionsMax and names it" \
	grep -q "limits each way: subscriptionsMax 2 held" "$D/check.out"

count()
{
	if [ -f "$1" ]; then tr -d '\r' <"$1" | grep -c -- "$2"; else echo 0; fi
}

# wait_count FILE RE N S: until FILE has N lines matching RE
wait_count()
{
	_n=$(($4 * 10))
	while [ "$(count "$1" "$2")" -lt "$3" ]; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && { echo "  $1: fewer than $3 x '$2'"; \
			return 1; }
		sleep 0.1
	done
}

st() { "$SC" status -c "$F" rates >"$D/status.out" 2>&1; }

# chicago's value of KEY in status rates (chicago is the first item)
stval()
{
	st
	awk -v k="$1" '/community: +boston/ { exit }
		$1 == k":" { print $2; exit }' "$D/status.out"
}
# jabber's value of KEY in status rates
jabval()
{
	st
	awk -v k="$1" 'b && $1 == k":" { print $2; exit }
		/community: +jabber/ { b = 1 }' "$D/status.out"
}
bosval()
{
	st
	awk -v k="$1" 'b && $1 == k":" { print $2; exit }
		/community: +boston/ { b = 1 }' "$D/status.out"
}

# wait_val KEY VALUE S: until chicago's KEY is VALUE
wait_val()
{
	_n=$(($3 * 10))
	while [ "$(stval "$1")" != "$2" ]; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && { echo "  $1 is $(stval "$1"), not $2:"; \
			sed 's/^/  | /' "$D/status.out"; return 1; }
		sleep 0.1
	done
}

try() # LOG IP PORT TO@DOMAIN FROM@DOMAIN EXPIRES
{
	sipp -sf "$SX/try_uac.xml" -i "$2" -p "$3" \
		-s "${4%@*}" -key domain "${4#*@}" -key from "${5%@*}" \
		-key fromdom "${5#*@}" -key expires "$6" -m 1 -nostdin \
		-timeout 20 -trace_logs -log_file "$D/$1.log" $CN:5060 \
		>"$D/$1.out" 2>&1
}

waitpid_rc() # PID: wait for it (40 s at most), $? is its exit code
{
	_n=400
	while te_alive "$1" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	te_alive "$1" && { echo "  pid $1 still running after 40 s"; \
		kill -KILL "$1"; }
	wait "$1"
	_rc=$?
	te_stop "$1"
	return $_rc
}

notifier() # NAME IP SCENARIO ARGS...: sipp answering SUBSCRIBEs on IP:5060
{
	_nm=$1 _ip=$2 _sf=$3
	shift 3
	te_spawn "$D/$_nm.out" sipp -sf "$SX/$_sf" -i "$_ip" -p 5060 -aa \
		-nostdin -trace_logs -log_file "$D/$_nm.log" "$@"
	NPID=$TE_LASTPID
	te_wait_udp "$_ip" 5060 5
}

# the gateway's side of inbound subscriptions, on its ConnectorListen
# from the start, so that it answers the connector's keep-alives (-aa)
te_spawn "$D/gw.out" sipp -sf "$SX/hold_uas.xml" -i $GW -p 5070 -aa \
	-nostdin -trace_logs -log_file "$D/gw.log"
te_wait_udp $GW 5070 5
te_spawn "$D/cn.log" "$SC" -f -c "$F"
CNPID=$TE_LASTPID
te_check "connector started" \
	te_wait_for "$D/cn.log" "cn: started connector=acme-edge" 10
te_wait_udp $CN 5060 5

# ---- out: acme's users watch chicago's
notifier chi $CHI hold_uas.xml
CHIPID=$NPID
notifier bos $BOS end_uas.xml -key ends no -key expires 600
BOSPID=$NPID

te_spawn "$D/holders.out" sipp -sf "$SX/hold_uac.xml" -i $GW -p 5201 \
	-s carol -key domain chicago.test -key from bob -key fromdom acme.test \
	-m 2 -l 2 -d 12000 -nostdin -timeout 30 -trace_logs \
	-log_file "$D/holders.log" $CN:5060
HOLDPID=$TE_LASTPID
te_check "two subscriptions to chicago accepted" \
	wait_count "$D/holders.log" "^SUBSCRIBE 200" 2 10
te_check "status: chicago holds 2 of 2 outbound" \
	sh -c "[ '$(stval subscriptions_out_held)' = 2 ] &&
	       [ '$(stval subscriptions_max)' = 2 ]"
try third $GW 5202 dave@chicago.test bob@acme.test 600
te_check "the third is refused: 503, Retry-After 60, the reason said" \
	grep -q "^SUBSCRIBE 503 retry-after=60 SIP/2.0 503 Too many subscriptions held with this community" \
	"$D/third.log"
te_check "chicago never saw the third" \
	[ "$(count "$D/chi.log" "SUBSCRIBE received")" = 2 ]
try bos1 $GW 5203 erin@boston.test bob@acme.test 600
te_check "boston's subscription goes through meanwhile: 200 and NOTIFY" \
	sh -c "grep -q '^SUBSCRIBE 200' '$D/bos1.log' &&
	       grep -q '^NOTIFY state=active' '$D/bos1.log'"
te_check "status: chicago's refusal counted rate-limit" \
	sh -c "'$SC' status -c '$F' communities | grep -Eq 'rate-limit: +1\$'"
te_check "status: counted as an outbound subscription refusal" \
	[ "$(stval subscriptions_out_limited)" = 1 ]
te_check "status: boston, with no cap, holds none against it" \
	[ "$(bosval subscriptions_max)" = 0 ]
te_check "the log names community, reason and the count" \
	grep -q "reject reason=rate-limit community=chicago .*method=SUBSCRIBE held=2 max=2" \
	"$D/cn.log"
sleep 1	# the window holds whole seconds
r=$(stval subscribe_out_offered_per_second)
a=$(stval subscribe_out_per_second)
echo "  chicago subscribe out: offered $r/s, admitted $a/s (10 s window)"
te_check "status: the subscribe rate over the window (3 offered, 2 passed)" \
	sh -c "[ '$r' = 0.3 ] && [ '$a' = 0.2 ]"
"$SC" status -c "$F" --json rates >"$D/status.json"
te_check "status --json: held / cap and the rates as numbers" \
	/usr/bin/python3 -c "
import json, sys
t = json.load(open('$D/status.json'))
c = [i for i in t['rates'] if i['community'] == 'chicago'][0]
sys.exit(not (c['subscriptions_out_held'] == 2 and c['subscriptions_max'] == 2
          and isinstance(c['subscribe_out_offered_per_second'], float)))"
curl -s "http://$CN:9464/metrics" >"$D/metrics.txt"
te_check "metrics: held, cap and rate per community" \
	sh -c "grep -q '^stconnector_rates_subscriptions_out_held{community=\"chicago\"} 2\$' '$D/metrics.txt' &&
	       grep -q '^stconnector_rates_subscriptions_max{community=\"chicago\"} 2\$' '$D/metrics.txt' &&
	       grep -Eq '^stconnector_rates_subscribe_out_offered_per_second\{community=\"chicago\"\} 0\.[0-9]+\$' '$D/metrics.txt'"

te_check "the held ones refresh at the cap: 200" \
	wait_count "$D/holders.log" "^refresh 200" 2 15
waitpid_rc $HOLDPID
te_check "both un-SUBSCRIBEs answered, both final NOTIFYs" \
	sh -c "[ $(count "$D/holders.log" "^unSUBSCRIBE 200") = 2 ] &&
	       [ $(count "$D/holders.log" "^NOTIFY state=terminated") = 2 ]"
te_check "status: the un-SUBSCRIBEs gave the places back" \
	wait_val subscriptions_out_held 0 3
sipp -sf "$SX/hold_uac.xml" -i $GW -p 5204 -s carol -key domain chicago.test \
	-key from bob -key fromdom acme.test -m 1 -d 200 -nostdin -timeout 20 \
	-trace_logs -log_file "$D/again.log" $CN:5060 >"$D/again.out" 2>&1
te_check "a new subscription to chicago is accepted again" \
	grep -q "^SUBSCRIBE 200" "$D/again.log"
te_stop $CHIPID

# ---- the other ways a subscription ends
notifier chi2 $CHI end_uas.xml -key ends yes -key expires 600
try ended $GW 5205 carol@chicago.test bob@acme.test 600 &
TRYPID=$!
te_check "held while it runs" wait_val subscriptions_out_held 1 5
wait $TRYPID
te_check "chicago ends it: NOTIFY terminated reached the watcher" \
	grep -q "^NOTIFY state=terminated" "$D/ended.log"
te_check "status: a NOTIFY terminated gave the place back" \
	wait_val subscriptions_out_held 0 3
te_stop $NPID

notifier chi3 $CHI refuse_uas.xml
try refused $GW 5206 nobody@chicago.test bob@acme.test 600
te_check "chicago refuses one: 404 to the watcher" \
	grep -q "^SUBSCRIBE 404" "$D/refused.log"
te_check "status: a final error takes no place" \
	sh -c "[ '$(stval subscriptions_out_held)' = 0 ] &&
	       [ '$(stval subscriptions_out_pending)' = 0 ]"
te_stop $NPID

notifier chi4 $CHI end_uas.xml -key ends no -key expires 3
try short $GW 5207 carol@chicago.test bob@acme.test 3
te_check "a short subscription (Expires: 3) is accepted" \
	grep -q "^SUBSCRIBE 200" "$D/short.log"
te_check "status: held, with nobody refreshing it" \
	[ "$(stval subscriptions_out_held)" = 1 ]
te_check "status: its place comes back once it expired (3 s + 5 s grace)" \
	wait_val subscriptions_out_held 0 15
te_check "status: counted as expired" [ "$(stval subscriptions_expired)" = 1 ]
te_stop $NPID

# a notifier granting far more than was asked holds no place longer
notifier chi5 $CHI end_uas.xml -key ends no -key expires 4294967295
try greedy $GW 5208 carol@chicago.test bob@acme.test 3
te_check "a subscription asked for 3 s, granted 4294967295 s: accepted" \
	grep -q "^SUBSCRIBE 200" "$D/greedy.log"
te_check "status: its place comes back after the 3 s asked (+ 5 s grace)" \
	wait_val subscriptions_out_held 0 15
te_check "status: counted as expired" [ "$(stval subscriptions_expired)" = 2 ]
te_stop $NPID

# ---- in: chicago's users watch acme's, on their own count
te_spawn "$D/inhold.out" sipp -sf "$SX/hold_uac.xml" -i $CHI -p 5211 \
	-s alice -key domain acme.test -key from carol -key fromdom chicago.test \
	-m 2 -l 2 -d 5000 -nostdin -timeout 30 -trace_logs \
	-log_file "$D/inhold.log" $CN:5060
INPID=$TE_LASTPID
te_check "two subscriptions from chicago accepted" \
	wait_count "$D/inhold.log" "^SUBSCRIBE 200" 2 10
te_check "status: chicago holds 2 of 2 inbound, none outbound" \
	sh -c "[ '$(stval subscriptions_in_held)' = 2 ] &&
	       [ '$(stval subscriptions_out_held)' = 0 ]"
try inthird $CHI 5212 bob@acme.test dave@chicago.test 600
te_check "chicago's third is refused 503 the same way" \
	grep -q "^SUBSCRIBE 503 retry-after=60 SIP/2.0 503 Too many subscriptions" \
	"$D/inthird.log"
te_check "the gateway never saw it" \
	[ "$(count "$D/gw.log" "SUBSCRIBE received")" = 2 ]
te_check "status: counted as an inbound refusal" \
	[ "$(stval subscriptions_in_limited)" = 1 ]
waitpid_rc $INPID
te_check "chicago's held ones refreshed and ended" \
	sh -c "[ $(count "$D/inhold.log" "^refresh 200") = 2 ] &&
	       [ $(count "$D/inhold.log" "^unSUBSCRIBE 200") = 2 ]"
te_check "status: their places came back" wait_val subscriptions_in_held 0 3

# ---- an XMPP community: the connector is its users' user agent
# (Expires 10: the connector's dialogs end then, before the table's
# own grace of 5 s and its sweep would)
try jab1 $GW 5221 bob@jabber.test bob@acme.test 10 &
J1=$!
try jab2 $GW 5222 carol@jabber.test bob@acme.test 10 &
J2=$!
wait $J1 $J2
te_check "two subscriptions to jabber (XMPP) accepted: 202" \
	sh -c "grep -q '^SUBSCRIBE 202' '$D/jab1.log' &&
	       grep -q '^SUBSCRIBE 202' '$D/jab2.log'"
te_check "status: jabber holds 2 of 2 outbound" \
	sh -c "[ '$(jabval subscriptions_out_held)' = 2 ] &&
	       [ '$(jabval subscriptions_max)' = 2 ]"
try jab3 $GW 5223 dave@jabber.test bob@acme.test 10
te_check "jabber's third is refused: 503, Retry-After 60, the reason said" \
	grep -q "^SUBSCRIBE 503 retry-after=60 SIP/2.0 503 Too many subscriptions held with this community" \
	"$D/jab3.log"
te_check "status: counted as jabber's outbound refusal" \
	[ "$(jabval subscriptions_out_limited)" = 1 ]
te_check "the log names jabber, the reason and the count" \
	grep -q "reject reason=rate-limit community=jabber .*method=SUBSCRIBE held=2 max=2" \
	"$D/cn.log"
te_check "status: the places come back as the connector's dialogs end" \
	sh -c "for i in \$(seq 90); do
		[ \"\$('$SC' status -c '$F' rates | awk '/community: +jabber/ { b = 1 }
			b && \$1 == \"subscriptions_out_held:\" { print \$2; exit }')\" = 0 ] &&
			exit 0; sleep 0.1; done; exit 1"
try jab4 $GW 5224 dave@jabber.test bob@acme.test 10
te_check "a new subscription to jabber is accepted again" \
	grep -q "^SUBSCRIBE 202" "$D/jab4.log"

te_check "the connector is still running" te_alive $CNPID
te_stop $CNPID
te_check "no sanitizer report from stconnector" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/cn.log'"
te_done
