#!/bin/sh
# local.sh -- stgateway serving its own community, end to end, with real
# clients against a real slapd:
#   - slapd on 127.0.11.2 holding conf/examples/acme.test.ldif;
#   - stgateway on 127.0.11.1 (udp and tcp 5060), directory over LDAP;
#   - baresip as asmith (127.0.11.11) and as bob (127.0.11.12), each
#     watching the other's presence; a third baresip (127.0.11.13) with
#     a wrong password and an unknown user;
#   - sipp as a presence watcher (dave), as bob's second device
#     publishing away and busy, and as a MESSAGE sender.
# Checks: digest registration (wrong password and unknown user refused),
# presence through online, away, busy (DND) and offline, MESSAGE both
# ways, 480 to an offline user, 404 to an unknown one, status (human and
# JSON) and reload (a bad file keeps the running configuration).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-local
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
SC=$top_srcdir/test/gateway/sipp
GWIP=127.0.11.1
LDAPIP=127.0.11.2

for tool in slapd slapadd baresip sipp; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

# ---- slapd with the community's users ----
mkdir -p "$D/run"
te_slapd "$D" "$LDAPIP" 13890 "dc=acme,dc=test" \
	"$top_srcdir/conf/examples/acme.test.ldif" ||
	{ te_fail "slapd did not start"; te_done; exit 1; }
printf 'secret\n' >"$D/bindpw"
chmod 600 "$D/bindpw"

# ---- the community file ----
write_conf()
{
	cat >"$D/community.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="$1"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ClientListen transport="tcp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tls" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <Directory backend="ldap">
    <Ldap bindDN="cn=admin,dc=acme,dc=test" passwordFile="$D/bindpw"
          base="dc=acme,dc=test" scope="sub" timeout="2000">
      <Url>ldap://$LDAPIP:13890</Url>
    </Ldap>
    <Attributes id="uid" email="mail" password="userPassword"/>
    <Cache size="100" ttl="300" negativeTtl="30"/>
  </Directory>
  <Trace enable="true" file="$D/run/gw.trace" level="1"/>
</CommunityConfig>
EOT
}
write_conf false

te_spawn "$D/gw.log" "$GW" -f -c "$D/community.xml"
GWPID=$TE_LASTPID
te_wait_udp $GWIP 5060 5 || { te_fail "stgateway did not listen"; cat "$D/gw.log"; te_done; exit 1; }

# ---- baresip instances ----
# bs_start NAME IP ACCOUNTS-LINES CONTACTS-LINES CURRENT-CONTACT
bs_start()
{
	_n=$1 _ip=$2
	_d=$D/bs.$_n
	mkdir -p "$_d"
	cat >"$_d/config" <<EOT
poll_method		epoll
sip_listen		$_ip:5060
dns_server		127.0.11.3:53
audio_player		aufile,$_d/play.wav
audio_source		ausine,440
audio_alert		aufile,$_d/alert.wav
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aufile.so
module			stdio.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
module_app		presence.so
EOT
	printf '%s\n' "$3" >"$_d/accounts"
	printf '%s\n' "$4" >"$_d/contacts"
	printf '%s\n' "$5" >"$_d/current_contact"
	mkfifo "$_d/in"
	te_spawn "$_d/out.log" sh -c "exec baresip -f '$_d' <'$_d/in'"
	eval "BS_$_n=\$TE_LASTPID"
	sleep 86400 >"$_d/in" &
	TE_PIDS="$TE_PIDS $!"
	eval "HOLD_$_n=\$!"
}
bs_cmd() { te_fifo_write "$D/bs.$1/in" "$2"; }
bs_log() { tr -d '\r' <"$D/bs.$1/out.log" | sed 's/\x1b\[[0-9;]*m//g'; }

ACC_OPTS="regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound=\"sip:$GWIP:5060;transport=udp\""

bs_start alice 127.0.11.11 \
	"<sip:asmith@acme.test;transport=udp>;auth_pass=alicepw;$ACC_OPTS" \
	'"bob" <sip:bob@acme.test>;presence=p2p' '<sip:bob@acme.test>'
te_check "asmith registers with digest (baresip)" \
	te_wait_for "$D/bs.alice/out.log" "All 1 useragent registered successfully" 5

bs_start bob 127.0.11.12 \
	"<sip:bob@acme.test;transport=udp>;auth_pass=bobpw;$ACC_OPTS" \
	'"alice" <sip:asmith@acme.test>;presence=p2p' '<sip:asmith@acme.test>'
te_check "bob registers with digest (baresip)" \
	te_wait_for "$D/bs.bob/out.log" "All 1 useragent registered successfully" 5

bs_start bad 127.0.11.13 \
	"<sip:bob@acme.test;transport=udp>;auth_pass=wrongpw;regint=600;pubint=0;outbound=\"sip:$GWIP:5060;transport=udp\"
<sip:ghost@acme.test;transport=udp>;auth_pass=ghostpw;regint=600;pubint=0;outbound=\"sip:$GWIP:5060;transport=udp\"" \
	'' ''
te_check "wrong password refused with 403 (baresip)" \
	te_wait_for "$D/bs.bad/out.log" "sip:bob@acme.test: 403 Forbidden" 5
te_check "unknown user refused with 403 (baresip)" \
	te_wait_for "$D/bs.bad/out.log" "sip:ghost@acme.test: 403 Forbidden" 5
bs_cmd bad /quit

# ---- the Trace file: real clients' digest answers never reach it ----
T=$D/run/gw.trace
te_check "trace: baresip's REGISTER is in the trace" \
	grep -Eq '^REGISTER sip:acme.test(;transport=udp)? SIP/2.0$' "$T"
te_check "trace: the challenge went out" \
	grep -q '^SIP/2.0 401 ' "$T"
te_check "trace: Authorization written masked" \
	grep -Eq '^Authorization: Digest \*\*\*$' "$T"
te_check "trace: no digest response value in the file" \
	sh -c "! grep -Eiq 'response=\"?[0-9a-f]{32}' '$T'"
te_check "trace: no password in the file" \
	sh -c "! grep -Eq 'alicepw|bobpw|wrongpw' '$T'"

# ---- presence: online ----
contacts_has()  # NAME REGEX: ask /contacts until REGEX shows
{
	_i=0
	while [ $_i -lt 30 ]; do
		bs_cmd "$1" /contacts
		sleep 0.2
		bs_log "$1" | grep -Eq -- "$2" && return 0
		_i=$((_i + 1))
	done
	return 1
}
te_check "asmith sees bob Online" contacts_has alice "Online +bob"
te_check "bob sees asmith Online" contacts_has bob "Online +alice"

# (sipp puts its own address into the digest uri unless -auth_uri says
# otherwise; the gateway checks it against the Request-URI.)
# ---- a watcher (sipp as dave) through away, busy, offline ----
te_spawn "$D/watch.out" sipp -sf "$SC/watch.xml" -s bob -key from dave \
	-key domain acme.test -au dave -ap davepw -auth_uri bob@acme.test -i 127.0.11.20 -p 5090 \
	-nostdin -timeout 30 -timeout_error -m 1 -trace_logs \
	-log_file "$D/watch.log" $GWIP:5060
WATCH=$TE_LASTPID
te_check "dave's first NOTIFY: bob open" \
	te_wait_for "$D/watch.log" "NOTIFY 1 state=active basic=open activity=$" 5

publish()  # ACTIVITY PORT
{
	sipp -sf "$SC/publish.xml" -key from bob -key domain acme.test \
		-key basic open -key activity "$1" -au bob -ap bobpw \
		-auth_uri bob@acme.test -i 127.0.11.21 -p "$2" -nostdin -timeout 10 -timeout_error \
		-m 1 -trace_logs -log_file "$D/pub.$1.log" $GWIP:5060 \
		>"$D/pub.$1.out" 2>&1
}
te_check "bob's second device publishes away (sipp, 200 + SIP-ETag)" publish away 5091
te_check "dave's NOTIFY: bob away" \
	te_wait_for "$D/watch.log" "NOTIFY 2 state=active basic=open activity=away" 5
sleep 0.2
te_check "bob publishes busy" publish busy 5092
te_check "dave's NOTIFY: bob busy (do not disturb)" \
	te_wait_for "$D/watch.log" "NOTIFY 3 state=active basic=open activity=busy" 5
te_check "asmith's baresip shows bob Busy" \
	te_wait_for "$D/bs.alice/out.log" "<sip:bob@acme.test> changed status from .* to Busy" 5

# ---- messages both ways ----
bs_cmd alice "/message hello bob from alice"
te_check "bob receives asmith's MESSAGE" \
	te_wait_for "$D/bs.bob/out.log" 'sip:asmith@acme.test: "hello bob from alice"' 5
bs_cmd bob "/message hi alice from bob"
te_check "asmith receives bob's MESSAGE" \
	te_wait_for "$D/bs.alice/out.log" 'sip:bob@acme.test: "hi alice from bob"' 5

msg()  # TO PORT -> log
{
	sipp -sf "$SC/message.xml" -s "$1" -key from dave -key domain acme.test \
		-key text "hello $1" -au dave -ap davepw -auth_uri "$1@acme.test" -i 127.0.11.22 -p "$2" \
		-nostdin -timeout 10 -timeout_error -m 1 -trace_logs \
		-log_file "$D/msg.$1.log" $GWIP:5060 >"$D/msg.$1.out" 2>&1
}
msg nobody 5093
te_check "MESSAGE to an unknown user: 404" grep -q "MESSAGE status=404" "$D/msg.nobody.log"
msg bob 5094
te_check "MESSAGE from sipp to bob delivered: 200" grep -q "MESSAGE status=200" "$D/msg.bob.log"
te_check "bob's baresip shows it" \
	te_wait_for "$D/bs.bob/out.log" 'sip:dave@acme.test: "hello bob' 5
msg someone@chicago.test 5095
te_check "MESSAGE to another community refused: 403 (external off)" \
	grep -q "MESSAGE status=403" "$D/msg.someone@chicago.test.log"

# ---- bob goes offline ----
bs_cmd bob /quit
te_check "dave's NOTIFY: bob offline (closed)" \
	te_wait_for "$D/watch.log" "NOTIFY 4 state=active basic=closed" 5
te_check "dave's un-SUBSCRIBE ends with terminated" \
	te_wait_for "$D/watch.log" "NOTIFY final state=terminated" 5
te_check "asmith sees bob Offline" contacts_has alice "Offline +bob"
bs_cmd alice "/message are you there"
te_check "MESSAGE to offline bob: 480 (baresip)" \
	te_wait_for "$D/bs.alice/out.log" "480 Temporarily Unavailable" 5

# ---- status ----
ST=$D/status.txt
"$GW" status registrations -c "$D/community.xml" >"$ST" 2>&1
te_check "status exits 0 (healthy)" test $? -eq 0
te_check "status lists asmith's registration" grep -q "aor: *sip:asmith@acme.test" "$ST"
"$GW" status --json -c "$D/community.xml" >"$D/status.json" 2>&1
cat >"$D/check.py" <<'EOT'
import json, sys
s = json.load(open(sys.argv[1]))
r, a, m, d = s["registrations"], s["authentication"], s["messages"], s["directory"]
ok = (r["users"] == 1 and r["per_user"][0]["aor"] == "sip:asmith@acme.test"
      and a["wrong_password"] >= 1 and a["unknown_user"] >= 1
      and m["in"] >= 6 and m["delivered"] >= 3 and m["offline"] >= 1
      and m["unknown_user"] >= 1 and m["external_refused"] >= 1
      and d["up"] is True and d["lookups"] > 0 and d["cache_hits"] > 0
      and s["subscriptions"]["local_watchers"] >= 1
      and len(s["listeners"]) == 2)
sys.exit(0 if ok else 1)
EOT
te_check "status --json: registrations, auth refusals, messages, directory" \
	python3 "$D/check.py" "$D/status.json"

# ---- reload ----
cp "$D/community.xml" "$D/community.good"
echo "<broken" >>"$D/community.xml"
"$GW" reload -s "$D/run/gw.sock" >"$D/reload.bad" 2>&1
te_check "reload of a bad file exits 1" test $? -eq 1
te_check "the bad reload says the running configuration is kept" \
	grep -q "running configuration is unchanged" "$D/reload.bad"
write_conf true
"$GW" reload -c "$D/community.xml" >"$D/reload.ok" 2>&1
te_check "reload of a good file exits 0" test $? -eq 0
msg someone@chicago.test 5096
te_check "after reload (external on): dave has no email, so 403" \
	grep -q "MESSAGE status=403" "$D/msg.someone@chicago.test.log"
te_check "the gateway logs why dave cannot federate" \
	grep -q "gw: no-email user=dave" "$D/gw.log"
te_check "no password in the gateway's log" \
	sh -c "! grep -Eq 'alicepw|bobpw|davepw|wrongpw' '$D/gw.log'"

bs_cmd alice /quit
te_stop "$WATCH"
te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.log'"
te_done
