#!/bin/sh
# restart.sh -- stgateway with a stateFile, killed with SIGKILL and
# started again, with real clients (baresip, sipp) and the LDIF file
# directory, on 127.0.117.x:
#   - stgateway on 127.0.117.1 (udp and tcp 5060), stateFile in run/;
#   - baresip as bob over UDP (127.0.117.12), registered once
#     (regint=600: it does not register again during the test);
#   - sipp as bob's second device publishing away (127.0.117.21);
#   - sipp as dave watching bob (127.0.117.20:5090);
#   - sipp as asmith over UDP (127.0.117.11), registered and then
#     unregistered before the kill;
#   - sipp as dave over TCP (127.0.117.23), registered, its connection
#     dying with the gateway;
#   - sipp as dave sending MESSAGEs (127.0.117.22).
# Checks after kill -9 and restart: the MESSAGE to bob is delivered
# without a new REGISTER; dave's watcher receives a NOTIFY with bob's
# true state (open, away) and the next CSeq within RESTORE_S seconds of
# the restarted gateway listening, and its in-dialog un-SUBSCRIBE is
# recognised; asmith (unregistered) is not restored: 480; the TCP
# binding is not restored: 480, counted in status; status shows the
# store; a store file locked by another process makes status degraded
# (exit 1) until the lock goes; a second kill -9 and restart keeps what
# the first restart changed (the ended dialog and the dead TCP binding
# stay gone).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"

te_init gw-restart
D=$TE_DIR
GW=$top_builddir/gateway/stgateway
SC=$top_srcdir/test/gateway/sipp
GWIP=127.0.117.1
STATE=$D/run/gw.state
# How soon after the restarted gateway listens every restored watcher
# has its NOTIFY (the gateway sends them before its first loop turn).
RESTORE_S=2

for tool in baresip sipp; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

mkdir -p "$D/run"
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
cat >"$D/community.xml" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="false"
                    ConvertID="true" control="$D/run/gw.sock"
                    pidFile="$D/run/gw.pid" stateFile="run/gw.state">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ClientListen transport="tcp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"/>
  </Directory>
</CommunityConfig>
EOT

gw_start()  # LOG
{
	te_spawn "$1" "$GW" -f -c "$D/community.xml"
	GWPID=$TE_LASTPID
	te_wait_udp $GWIP 5060 5
}
status() { "$GW" status --all -c "$D/community.xml" >"$D/$1" 2>&1; }
store_of()  # FILE: the "# store" section of a status output
{
	sed -n '/^# store$/,/^# [a-z]/p' "$D/$1"
}
stored()  # wait until the store has written everything queued
{
	_i=0
	while [ $_i -lt 50 ]; do
		status status.sync
		store_of status.sync | grep -q "^backlog: *0$" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

gw_start "$D/gw.1.log" ||
	{ te_fail "stgateway did not listen"; cat "$D/gw.1.log"; te_done; exit 1; }
te_check "the store file is created where stateFile says" test -s "$STATE"
te_check "the log names the store" \
	grep -q "gw: store opened kind=sqlite path=$STATE bindings=0" "$D/gw.1.log"

# ---- bob: baresip over UDP ----
BSD=$D/bs.bob
mkdir -p "$BSD"
cat >"$BSD/config" <<EOT
poll_method		epoll
sip_listen		127.0.117.12:5060
audio_player		aufile,$BSD/play.wav
audio_source		ausine,440
audio_alert		aufile,$BSD/alert.wav
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aufile.so
module			stdio.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
EOT
printf '%s\n' "<sip:bob@acme.test;transport=udp>;auth_pass=bobpw;regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound=\"sip:$GWIP:5060;transport=udp\"" >"$BSD/accounts"
: >"$BSD/contacts"
mkfifo "$BSD/in"
te_spawn "$BSD/out.log" sh -c "exec baresip -f '$BSD' <'$BSD/in'"
BSPID=$TE_LASTPID
sleep 86400 >"$BSD/in" &
TE_PIDS="$TE_PIDS $!"
te_check "bob registers over UDP (baresip)" \
	te_wait_for "$BSD/out.log" "All 1 useragent registered successfully" 5

# ---- dave watches bob; bob's second device publishes away ----
te_spawn "$D/watch.out" sipp -sf "$SC/watch-restart.xml" -s bob \
	-key from dave -key domain acme.test -au dave -ap davepw \
	-auth_uri bob@acme.test -i 127.0.117.20 -p 5090 -nostdin \
	-timeout 120 -timeout_error -m 1 -trace_logs \
	-log_file "$D/watch.log" $GWIP:5060
WATCH=$TE_LASTPID
te_check "dave's first NOTIFY: bob open" \
	te_wait_for "$D/watch.log" "NOTIFY 1 state=active basic=open activity= cseq=" 5
sipp -sf "$SC/publish.xml" -key from bob -key domain acme.test \
	-key basic open -key activity away -au bob -ap bobpw \
	-auth_uri bob@acme.test -i 127.0.117.21 -p 5091 -nostdin \
	-timeout 10 -timeout_error -m 1 $GWIP:5060 >"$D/pub.out" 2>&1
te_check "bob's second device publishes away (sipp)" test $? -eq 0
te_check "dave's NOTIFY: bob away" \
	te_wait_for "$D/watch.log" "NOTIFY 2 state=active basic=open activity=away cseq=" 5

# ---- asmith registers and unregisters; dave registers over TCP ----
register()  # USER PASS IP EXPIRES TRANSPORT HOLD-MS LOG
{
	sipp -sf "$SC/register.xml" -key from "$1" -key domain acme.test \
		-key expires "$4" -au "$1" -ap "$2" -auth_uri acme.test \
		-i "$3" -p 5060 -t "$5" -d "$6" -nostdin -timeout 30 \
		-timeout_error -m 1 -trace_logs -log_file "$D/$7.log" \
		$GWIP:5060 >"$D/$7.out" 2>&1
}
register asmith alicepw 127.0.117.11 600 u1 0 reg.asmith
te_check "asmith registers over UDP (sipp)" \
	grep -q "REGISTER status=200" "$D/reg.asmith.log"
register asmith alicepw 127.0.117.11 0 u1 0 unreg.asmith
te_check "asmith unregisters (Expires: 0)" \
	grep -q "REGISTER status=200" "$D/unreg.asmith.log"
te_spawn "$D/reg.dave.out" sipp -sf "$SC/register.xml" -key from dave \
	-key domain acme.test -key expires 600 -au dave -ap davepw \
	-auth_uri acme.test -i 127.0.117.23 -p 5060 -t t1 -d 120000 \
	-nostdin -timeout 120 -m 1 -trace_logs \
	-log_file "$D/reg.dave.log" $GWIP:5060
REGTCP=$TE_LASTPID
te_check "dave registers over TCP (sipp)" \
	te_wait_for "$D/reg.dave.log" "REGISTER status=200" 5

te_check "everything is written before the kill (backlog 0)" stored
status status.1
te_check "status before: bob and dave registered, asmith not" \
	sh -c "grep -q 'aor: *sip:bob@acme.test' '$D/status.1' &&
	       grep -q 'aor: *sip:dave@acme.test' '$D/status.1' &&
	       ! grep -q 'aor: *sip:asmith@acme.test' '$D/status.1'"

rows()  # AOR: bindings of AOR in the state file, read by SQLite itself
{
	python3 -c '
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(c.execute("SELECT count(*) FROM binding WHERE aor=?",
                (sys.argv[2],)).fetchone()[0])' "$STATE" "$1"
}
te_check "the file holds bob's binding" test "$(rows sip:bob@acme.test)" = 1
te_check "the file holds no binding of asmith (unregistered)" \
	test "$(rows sip:asmith@acme.test)" = 0

# ---- kill -9, restart ----
kill -KILL "$GWPID"
te_stop "$GWPID"
te_check "the gateway is gone (SIGKILL)" sh -c "! kill -0 $GWPID 2>/dev/null"
t0=$(date +%s%N)
gw_start "$D/gw.2.log" ||
	{ te_fail "stgateway did not listen again"; cat "$D/gw.2.log"; te_done; exit 1; }
te_check "dave's watcher gets bob's true state at once (open, away, next CSeq)" \
	te_wait_for "$D/watch.log" "NOTIFY 3 state=active basic=open activity=away cseq=" $RESTORE_S
t1=$(date +%s%N)
echo "  restored NOTIFY $(( (t1 - t0) / 1000000 )) ms after the restart began"
c2=$(sed -n 's/.*NOTIFY 2 .*cseq=\([0-9]*\).*/\1/p' "$D/watch.log" | tr -d '\r')
c3=$(sed -n 's/.*NOTIFY 3 .*cseq=\([0-9]*\).*/\1/p' "$D/watch.log" | tr -d '\r')
te_check "the restored dialog's CSeq continues ($c2 then $c3)" \
	test "${c3:-0}" -eq $(( ${c2:-0} + 1 ))
te_check "the log says what came back" \
	grep -q "gw: store opened kind=sqlite path=$STATE bindings=1 publications=1 subscriptions=1 dropped-tcp-tls=1" "$D/gw.2.log"

msg()  # TO PORT -> log
{
	sipp -sf "$SC/message.xml" -s "$1" -key from dave -key domain acme.test \
		-key text "hello $1 after the restart" -au dave -ap davepw \
		-auth_uri "$1@acme.test" -i 127.0.117.22 -p "$2" \
		-nostdin -timeout 10 -timeout_error -m 1 -trace_logs \
		-log_file "$D/msg.$1.log" $GWIP:5060 >"$D/msg.$1.out" 2>&1
}
msg bob 5093
te_check "MESSAGE to bob after the restart: 200" \
	grep -q "MESSAGE status=200" "$D/msg.bob.log"
te_check "bob's baresip shows it" \
	te_wait_for "$BSD/out.log" 'sip:dave@acme.test: "hello bob after the restart' 5
te_check "bob did not register again" \
	sh -c "! grep -q 'gw: register aor=sip:bob@acme.test' '$D/gw.2.log'"
msg asmith 5094
te_check "asmith unregistered before the kill: not restored, 480" \
	grep -q "MESSAGE status=480" "$D/msg.asmith.log"
msg dave 5095
te_check "dave's TCP connection died: binding not restored, 480" \
	grep -q "MESSAGE status=480" "$D/msg.dave.log"

status status.2
te_check "status after: exit 0" test $? -eq 0
store_of status.2 >"$D/store.2"
te_check "status shows the store (kind, path, health)" \
	sh -c "grep -q '^kind: *sqlite$' '$D/store.2' &&
	       grep -q '^path: *$STATE$' '$D/store.2' &&
	       grep -q '^health: *ok$' '$D/store.2' &&
	       grep -q '^write_latency_avg_us: *[0-9]' '$D/store.2'"
"$GW" status --json -c "$D/community.xml" >"$D/status.json" 2>&1
cat >"$D/check.py" <<'EOT'
import json, sys
s = json.load(open(sys.argv[1]))
st, r = s["store"], s["store"]["restored_at_start"]
users = [u["aor"] for u in s["registrations"]["per_user"]]
ok = (st["kind"] == "sqlite" and st["health"] == "ok"
      and st["backlog"] == 0 and st["written"] >= 1
      and "write_latency_avg_us" in st
      and r["bindings"] == 1 and r["publications"] == 1
      and r["subscriptions"] == 1 and r["dropped_tcp_tls_bindings"] == 1
      and users == ["sip:bob@acme.test"])
if not ok:
    print(json.dumps(s["store"]), users)
sys.exit(0 if ok else 1)
EOT
te_check "status --json: store, restored counts, only bob registered" \
	python3 "$D/check.py" "$D/status.json"

# ---- the restored dialog is the watcher's: un-SUBSCRIBE in it ----
te_check "dave's un-SUBSCRIBE in the restored dialog ends it" \
	te_wait_for "$D/watch.log" "NOTIFY final state=terminated" 5

# ---- a store file that cannot be written: degraded ----
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)
' "$STATE" >"$D/lock.out" 2>&1 &
LOCK=$!
TE_PIDS="$TE_PIDS $LOCK"
te_wait_for "$D/lock.out" locked 5
register asmith alicepw 127.0.117.11 600 u1 0 reg2.asmith
te_check "asmith registers while the file is locked: still 200" \
	grep -q "REGISTER status=200" "$D/reg2.asmith.log"
degraded()
{
	_i=0
	while [ $_i -lt 30 ]; do
		status status.3
		_rc=$?
		[ $_rc = 1 ] && grep -q "^health: *degraded$" "$D/status.3" &&
			store_of status.3 | grep -q "^health: *degraded$" &&
			return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
te_check "status: store degraded, exit 1" degraded
te_check "status: the backlog holds the change" \
	sh -c "sed -n '/^# store$/,/^# [a-z]/p' '$D/status.3' |
	       grep -Eq '^backlog: *[1-9]'"
te_check "the log says the write failed" \
	te_wait_for "$D/gw.2.log" "gw: store write-failed path=$STATE" 3
te_stop "$LOCK"
te_check "the lock gone: written, healthy again" stored
status status.4
te_check "status exits 0 again" test $? -eq 0
te_check "the log says writes resumed" \
	te_wait_for "$D/gw.2.log" "gw: store writes-resumed" 3

# ---- a second kill -9: what the first restart changed is kept ----
te_stop "$REGTCP"
te_stop "$WATCH"
te_check "everything is written before the second kill" stored
kill -KILL "$GWPID"
te_stop "$GWPID"
gw_start "$D/gw.3.log" ||
	{ te_fail "stgateway did not listen a third time"; cat "$D/gw.3.log"; te_done; exit 1; }
te_check "second restart: bob and asmith back, the ended dialog and the dead TCP binding not" \
	grep -q "gw: store opened kind=sqlite path=$STATE bindings=2 publications=1 subscriptions=0 dropped-tcp-tls=0" "$D/gw.3.log"
rm -f "$D/msg.bob.log"
msg bob 5096
te_check "MESSAGE to bob after the second restart: 200" \
	grep -q "MESSAGE status=200" "$D/msg.bob.log"

# bob quits: baresip unregisters and exits once it is answered, a last
# change the store must have written when the gateway stops
te_fifo_write "$BSD/in" /quit
_n=50
while te_alive "$BSPID" && [ $_n -gt 0 ]; do
	sleep 0.1
	_n=$((_n - 1))
done
te_stop "$GWPID"
te_check "stgateway stopped cleanly" grep -q "gw: stopped" "$D/gw.3.log"
te_check "at stop the store has written everything" \
	grep -q "gw: store closed path=$STATE written=[1-9][0-9]* .* unwritten=0 " "$D/gw.3.log"

# ---- a stateFile that cannot be opened stops the start ----
sed "s|stateFile=\"run/gw.state\"|stateFile=\"no-such-dir/gw.state\"|" \
	"$D/community.xml" >"$D/bad.xml"
"$GW" -f -c "$D/bad.xml" >"$D/bad.log" 2>&1
te_check "an unusable stateFile: the gateway does not start (exit 1)" \
	test $? -eq 1
te_check "... and says which file and why" \
	grep -q "gw: store failed kind=sqlite message=\"$D/no-such-dir/gw.state: cannot open the store: No such file or directory\"$" "$D/bad.log"
te_check "no sanitizer report from stgateway" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw.1.log' '$D/gw.2.log' '$D/gw.3.log'"
te_done
