#!/bin/sh
# shared.sh -- two stgateways of one community sharing a PostgreSQL
# store (stateStore), with real clients (baresip, sipp) and a real
# PostgreSQL server, on 127.0.119.x:
#   - PostgreSQL on 127.0.119.5:5432, a private cluster (initdb/pg_ctl,
#     as "nobody" when run as root: test/lib/pgsql.sh);
#   - stgateway acme-gw1 on 127.0.119.2, acme-gw2 on 127.0.119.3 (udp
#     5060), both with the same stateStore;
#   - baresip as bob over UDP (127.0.119.12), registered at gateway 1;
#   - sipp as bob's second device publishing at gateway 1 (127.0.119.21);
#   - sipp as dave watching bob at gateway 2 (127.0.119.20:5090);
#   - sipp as dave sending MESSAGEs to bob (127.0.119.22).
# Checks: gateway 2 shows bob online although bob is registered at
# gateway 1 only; a MESSAGE to bob at gateway 2 is forwarded to gateway
# 1 (the store's row says which gateway holds bob's flow) and shown by
# baresip; bob's publication at gateway 1 reaches dave's watcher
# at gateway 2 within PUB_S second(s); PostgreSQL stopped: both
# gateways say degraded (exit 1), gateway 1 keeps serving bob from
# memory (PUBLISH 200, MESSAGE delivered); PostgreSQL started again:
# both healthy, gateway 2 caught up (the publication made during the
# outage reaches dave's watcher), status says so; gateway 1 killed:
# dave at gateway 2 sees bob offline at once (gateway 1's lock in
# PostgreSQL is released with its sessions), bob's client registers at
# gateway 2 and dave sees him online; gateway 1 restarted: gateway 2
# says it is back, and gateway 1 has its binding back from the store.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/pgsql.sh"

te_init gw-shared
D=$TE_DIR
PGD=$D/pg
trap 'te_pgsql_stop "$PGD"; te_cleanup' EXIT
GW=$top_builddir/gateway/stgateway
SC=$top_srcdir/test/gateway/sipp
GW1=127.0.119.2
GW2=127.0.119.3
PUB_S=1

for tool in baresip sipp; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

if ! te_pgsql "$PGD" 127.0.119.5 5432; then
	te_fail "a PostgreSQL cluster starts on 127.0.119.5:5432"
	te_done
	exit 1
fi
STORE="host=127.0.119.5 port=5432 user=stc dbname=postgres"
SHOWN="postgresql://stc@127.0.119.5:5432/postgres"

mkdir -p "$D/run"
cp "$top_srcdir/conf/examples/acme.test.ldif" "$D/acme.test.ldif"
gwrec()  # NAME IP
{
	cat <<EOT
  <CommunityGateway name="$1" SupportExternalCommunities="false"
                    ConvertID="true" control="$D/run/$1.sock"
                    pidFile="$D/run/$1.pid" stateStore="$STORE">
    <ClientListen transport="udp" address="$2" port="5060"/>
    <ConnectorListen transport="tcp" address="$2" port="5070"/>
  </CommunityGateway>
EOT
}
{
	cat <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
EOT
	gwrec acme-gw1 $GW1
	gwrec acme-gw2 $GW2
	cat <<EOT
  <Directory backend="file">
    <File>acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"/>
  </Directory>
</CommunityConfig>
EOT
} >"$D/community.xml"

gw_start()  # NAME IP LOG: sets GWPID
{
	te_spawn "$3" "$GW" -f -c "$D/community.xml" -n "$1"
	GWPID=$TE_LASTPID
	te_wait_udp "$2" 5060 5
}
status()  # NAME FILE
{
	"$GW" status --all -c "$D/community.xml" -n "$1" >"$D/$2" 2>&1
}
store_of()  # FILE: the "# store" section of a status output
{
	sed -n '/^# store$/,/^# [a-z]/p' "$D/$1"
}
health()  # NAME RC WORD: wait until status exits RC with health WORD
{
	_i=0
	while [ $_i -lt 100 ]; do
		status "$1" "status.$1"
		_rc=$?
		[ $_rc = "$2" ] &&
			store_of "status.$1" | grep -q "^health: *$3$" &&
			return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

gw_start acme-gw1 $GW1 "$D/gw1.log" ||
	{ te_fail "gateway 1 did not listen"; cat "$D/gw1.log"; te_done; exit 1; }
GW1PID=$GWPID
gw_start acme-gw2 $GW2 "$D/gw2.log" ||
	{ te_fail "gateway 2 did not listen"; cat "$D/gw2.log"; te_done; exit 1; }
GW2PID=$GWPID
te_check "gateway 1's log names the shared store" \
	grep -q "gw: store opened kind=postgresql path=$SHOWN " "$D/gw1.log"
te_check "gateway 2 follows the others' changes (feed up)" \
	te_wait_for "$D/gw2.log" "gw: store feed-up resync=1" 5

# ---- bob: baresip over UDP, at gateway 1 ----
BSD=$D/bs.bob
mkdir -p "$BSD"
cat >"$BSD/config" <<EOT
poll_method		epoll
sip_listen		127.0.119.12:5060
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
printf '%s\n' "<sip:bob@acme.test;transport=udp>;auth_pass=bobpw;regint=600;pubint=0;answermode=manual;audio_codecs=pcmu;outbound=\"sip:$GW1:5060;transport=udp\"" >"$BSD/accounts"
: >"$BSD/contacts"
mkfifo "$BSD/in"
te_spawn "$BSD/out.log" sh -c "exec baresip -f '$BSD' <'$BSD/in'"
sleep 86400 >"$BSD/in" &
TE_PIDS="$TE_PIDS $!"
te_check "bob registers at gateway 1 (baresip)" \
	te_wait_for "$BSD/out.log" "All 1 useragent registered successfully" 5

# ---- dave watches bob at gateway 2 ----
te_spawn "$D/watch.out" sipp -sf "$SC/watch-shared.xml" -s bob \
	-key from dave -key domain acme.test -au dave -ap davepw \
	-auth_uri bob@acme.test -i 127.0.119.20 -p 5090 -nostdin \
	-timeout 300 -timeout_error -m 1 -trace_logs \
	-log_file "$D/watch.log" $GW2:5060
te_check "dave's first NOTIFY at gateway 2: bob (at gateway 1) open" \
	te_wait_for "$D/watch.log" "NOTIFY 1 state=active basic=open activity= cseq=" 5
status acme-gw2 status.g2
te_check "bob is not registered at gateway 2 itself" \
	sh -c "! grep -q 'aor: *sip:bob@acme.test' '$D/status.g2'"

publish()  # ACTIVITY PORT LOG
{
	sipp -sf "$SC/publish.xml" -key from bob -key domain acme.test \
		-key basic open -key activity "$1" -au bob -ap bobpw \
		-auth_uri bob@acme.test -i 127.0.119.21 -p "$2" -nostdin \
		-timeout 10 -timeout_error -m 1 $GW1:5060 >"$D/$3" 2>&1
}
publish away 5091 pub.1.out
te_check "bob's second device publishes away at gateway 1 (sipp)" \
	test $? -eq 0
t0=$(date +%s%N)
te_check "dave at gateway 2 sees bob away within $PUB_S s" \
	te_wait_for "$D/watch.log" "NOTIFY 2 state=active basic=open activity=away cseq=" $PUB_S
t1=$(date +%s%N)
echo "  publication at gateway 1 seen at gateway 2 after $(( (t1 - t0) / 1000000 )) ms"

# ---- a MESSAGE to bob at gateway 2 is forwarded to gateway 1 ----
message()  # GW PORT TEXT LOG
{
	sipp -sf "$SC/message.xml" -s bob -key from dave -key domain acme.test \
		-key text "$3" -au dave -ap davepw -auth_uri bob@acme.test \
		-i 127.0.119.22 -p "$2" -nostdin -timeout 10 -timeout_error \
		-m 1 -trace_logs -log_file "$D/$4" "$1:5060" >"$D/$4.out" 2>&1
}
message $GW2 5094 "hello bob through gateway 2" msg.0.log
te_check "MESSAGE to bob at gateway 2 (bob is at gateway 1): 200" \
	grep -q "MESSAGE status=200" "$D/msg.0.log"
te_check "bob's baresip (registered at gateway 1) shows it" \
	te_wait_for "$BSD/out.log" 'hello bob through gateway 2' 5
te_check "gateway 2 forwarded it to gateway 1, which held bob's flow" \
	grep -q "gw: message forwarded target=sip:bob@acme.test node=acme-gw1 status=200" "$D/gw2.log"
te_check "gateway 1 delivered it from gateway 2 without a challenge" \
	grep -q "gw: message from=sip:dave@acme.test target=sip:bob@acme.test contacts=1" "$D/gw1.log"

# ---- PostgreSQL stopped ----
te_pgsql_stop "$PGD"
te_check "PostgreSQL stopped: gateway 2 says degraded (exit 1)" \
	health acme-gw2 1 degraded
te_check "... and gateway 1 too" health acme-gw1 1 degraded
te_check "gateway 2's log says the feed is down and the others' state kept" \
	te_wait_for "$D/gw2.log" "gw: store feed-down error=.* others=kept" 5
in_store()  # FILE ERE: a line of the "# store" section of FILE
{
	store_of "$1" | grep -Eq "$2"
}
cp "$D/status.acme-gw1" "$D/status.down.gw1"
te_check "gateway 1's status says it serves its own clients from memory" \
	in_store status.down.gw1 "^  serving: *own clients from memory, catching up"
publish busy 5092 pub.2.out
te_check "bob publishes busy at gateway 1 while the store is down: 200" \
	test $? -eq 0
sipp -sf "$SC/message.xml" -s bob -key from dave -key domain acme.test \
	-key text "hello bob while the store is down" -au dave -ap davepw \
	-auth_uri bob@acme.test -i 127.0.119.22 -p 5093 -nostdin \
	-timeout 10 -timeout_error -m 1 -trace_logs \
	-log_file "$D/msg.1.log" $GW1:5060 >"$D/msg.1.out" 2>&1
te_check "MESSAGE to bob at gateway 1 while the store is down: 200" \
	grep -q "MESSAGE status=200" "$D/msg.1.log"
te_check "bob's baresip shows it" \
	te_wait_for "$BSD/out.log" 'hello bob while the store is down' 5
status acme-gw1 status.down1
te_check "gateway 1 keeps the change in its backlog" \
	in_store status.down1 "^backlog: *[1-9]"

# ---- PostgreSQL started again ----
te_check "PostgreSQL starts again" te_pgsql_start "$PGD"
te_check "gateway 1 writes what it kept and is healthy (exit 0)" \
	health acme-gw1 0 ok
te_check "gateway 2 is healthy again (exit 0)" health acme-gw2 0 ok
te_check "gateway 2 caught up: dave sees bob busy" \
	te_wait_for "$D/watch.log" "NOTIFY 3 state=active basic=open activity=busy cseq=" 5
te_check "gateway 2's log says it was sent everything again" \
	te_wait_for "$D/gw2.log" "gw: store feed-up resync=2" 5
status acme-gw2 status.up2
te_check "gateway 2's status shows the store: kind, path without secrets, health, backlog, write latency" \
	sh -c "grep -Eq '^kind: *postgresql$' '$D/status.up2' &&
	       grep -Eq '^path: *$SHOWN$' '$D/status.up2' &&
	       grep -Eq '^health: *ok$' '$D/status.up2' &&
	       grep -Eq '^backlog: *0$' '$D/status.up2' &&
	       grep -Eq '^write_latency_avg_us: *[0-9]+$' '$D/status.up2'"
te_check "gateway 2's status: feed up, two resyncs, serving shared" \
	sh -c "grep -Eq '^  feed: *up$' '$D/status.up2' &&
	       grep -Eq '^  resyncs: *2$' '$D/status.up2' &&
	       grep -Eq '^  serving: *shared$' '$D/status.up2'"

# ---- gateway 1 killed: its users are offline at gateway 2 ----
kill -KILL "$GW1PID"
te_stop "$GW1PID"
t0=$(date +%s%N)
te_check "gateway 1 killed: dave at gateway 2 sees bob offline (closed)" \
	te_wait_for "$D/watch.log" "NOTIFY 4 state=active basic=closed activity= cseq=" 5
t1=$(date +%s%N)
echo "  gateway 1's death seen at gateway 2 after $(( (t1 - t0) / 1000000 )) ms"
te_check "gateway 2's log says which gateway went" \
	grep -q "gw: store gateway-gone node=acme-gw1 its-users=offline-here" "$D/gw2.log"
status acme-gw2 status.gone2
te_check "gateway 2's status counts one gateway gone" \
	grep -Eq '^  gateways_gone: *1$' "$D/status.gone2"

message $GW2 5095 "hello bob after gateway 1 died" msg.2.log
te_check "MESSAGE to bob at gateway 2 while bob's gateway is gone: 480" \
	grep -q "MESSAGE status=480" "$D/msg.2.log"

# ---- bob's client registers again, at gateway 2 ----
sipp -sf "$SC/register.xml" -key from bob -key domain acme.test \
	-key expires 600 -au bob -ap bobpw -auth_uri acme.test \
	-i 127.0.119.13 -p 5060 -t u1 -d 0 -nostdin -timeout 30 \
	-timeout_error -m 1 -trace_logs -log_file "$D/reg.bob2.log" \
	$GW2:5060 >"$D/reg.bob2.out" 2>&1
te_check "bob registers at gateway 2 (sipp)" \
	grep -q "REGISTER status=200" "$D/reg.bob2.log"
te_check "dave sees bob online again" \
	te_wait_for "$D/watch.log" "NOTIFY 5 state=active basic=open activity= cseq=" 5

# ---- gateway 1 back: gateway 2 says so ----
gw_start acme-gw1 $GW1 "$D/gw1.2.log" ||
	{ te_fail "gateway 1 did not listen again"; cat "$D/gw1.2.log"; te_done; exit 1; }
GW1PID=$GWPID
te_check "gateway 1 restarted: gateway 2's log says it is back" \
	te_wait_for "$D/gw2.log" "gw: store gateway-back node=acme-gw1" 5
te_check "gateway 1 got bob's binding back from the shared store" \
	grep -q "gw: store opened kind=postgresql path=$SHOWN bindings=1 " "$D/gw1.2.log"

te_fifo_write "$BSD/in" /quit
te_stop "$GW1PID"
te_stop "$GW2PID"
te_check "no sanitizer report from the gateways" \
	sh -c "! grep -Eq 'Sanitizer|runtime error' '$D/gw1.log' '$D/gw1.2.log' '$D/gw2.log'"
te_done
