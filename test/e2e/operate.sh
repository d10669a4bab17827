#!/bin/sh
# operate.sh -- the sample federation as its administrator reads it:
# tools/demo.sh --stay starts the two sample communities (conf/examples)
# on 127.0.120.x, and then
#   - `stconnector status` and `stgateway status` with no argument are
#     a one-screen summary: each community, gateway and link on a line
#     of its own with its state, and the reason when one is degraded;
#     --all, SECTION and --json still give the whole tree or its parts;
#   - the gateways' log lines of a normal run are clean key=value: no
#     stray quotes, no "notify failed" for a watcher that forgot its
#     dialog when it un-subscribed (logged at debug only), no periodic
#     state=connecting/state=up pair from a healthy link.
#
#   127.0.120.53:5353  dnsmasq (the demo's)
#   127.0.120.10/.11   acme's stconnector / stgateway
#   127.0.120.20/.21   chicago's stconnector / stgateway
#   127.0.120.31-43    the demo's baresip and sipp clients
#   127.0.120.51       sipp: bob@acme.test's watcher that forgets its
#                      dialog at the un-SUBSCRIBE (481 to the final NOTIFY)
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/test/lib/testenv.sh"

te_init operate
D=$TE_DIR
SC=$top_builddir/connector/stconnector
GW=$top_builddir/gateway/stgateway
NET=127.0.120
# The demo's control sockets go under R: a short path whatever the
# build tree's depth.
te_short_dir demo || { echo "operate: no short directory"; exit 1; }
R=$TE_SHORT

for tool in sipp dnsmasq certtool baresip; do
	command -v $tool >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
done

has()	# FILE ERE
{
	grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  no match in $1: $2"; \
		[ -f "$1" ] && sed 's/^/  | /' "$1" | tail -30; return 1; }
}
hasnot()	# FILE ERE
{
	! grep -Eq -- "$2" "$1" 2>/dev/null || { echo "  in $1: $2"; \
		grep -E -- "$2" "$1" | sed 's/^/  | /' | head -5; return 1; }
}
lines() { wc -l <"$1"; }

# ---- the demo, left running
STC_BUILD=$top_builddir STC_RUN=$R STC_DEMO_NET=$NET \
	sh "$top_srcdir/tools/demo.sh" --stay >"$D/demo.out" 2>&1
rc=$?
[ -f "$R/pids" ] && TE_PIDS="$TE_PIDS $(cat "$R/pids")"
te_check "demo --stay: exit 0" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { sed 's/^/  | /' "$D/demo.out" | tail -30; te_done; exit 1; }
START=$(date +%s)
O=$D/demo.out
te_check "demo: its next steps say how to ask for status, summary and --all" sh -c \
	"grep -Fq 'Status:  $SC status -c $R/acme/acme.test.xml' '$O' &&
	 grep -Fq '(one screen each; add --all for every field, --json for programs)' '$O'"
te_check "demo: ... where the logs and the trace are, a client config per user" sh -c \
	"grep -Fq 'Logs:    $R/acme/stconnector.log, $R/acme/stgateway.log' '$O' &&
	 grep -Fq 'goes to $R/acme/run/trace.log' '$O' &&
	 grep -Fq 'baresip -f $R/bs.alice ' '$O'"

cfg() { echo "$R/$1/$1.test.xml"; }

# ---- the connectors' summaries
for s in acme:chicago:10:20 chicago:acme:20:10; do
	me=${s%%:*}; rest=${s#*:}; peer=${rest%%:*}; rest=${rest#*:}
	my=$NET.${rest%%:*}; their=$NET.${rest#*:}
	O=$D/$me.sum
	"$SC" status -c "$(cfg "$me")" >"$O" 2>&1
	rc=$?
	te_check "$me summary: exit 0 (healthy)" [ "$rc" = 0 ]
	te_check "$me summary: fits a screen ($(lines "$O") lines, at most 25)" \
		[ "$(lines "$O")" -le 25 ]
	te_check "$me summary: who, health ok" sh -c \
		"grep -Eq '^connector: +$me-edge\$' '$O' && grep -Eq '^health: +ok\$' '$O'"
	te_check "$me summary: version, pid and uptime on one line" has "$O" \
		'^version: +[0-9][^ ]* \(pid [0-9]+, up [0-9]'
	te_check "$me summary: no pending restart" has "$O" '^pending_restart: +none$'
	te_check "$me summary: community $peer up, its next hop, counters, TLS verdict" \
		has "$O" "^  $peer: +up, tls $their:5061, [0-9]+ in, [0-9]+ out, 0 refused; tls valid CN=sip\\.$peer\\.test, [0-9]+ days left\$"
	te_check "$me summary: gateway up with its address" has "$O" \
		"^  $me-gw: +up, tls $NET\\.[0-9]+:5070, [0-9]+ in, [0-9]+ out\$"
	te_check "$me summary: nothing refused" has "$O" '^refused: +none$'
	te_check "$me summary: where the log is" has "$O" \
		"^log: +stderr \\($R/$me/stconnector\\.log\\), level info\$"
	te_check "$me summary: trace and metrics" sh -c \
		"grep -Eq '^trace: +off\$' '$O' && grep -Eq '^metrics: +off\$' '$O'"
	te_check "$me summary: the way to the rest" has "$O" \
		'^more: +status --all; status SECTION: config, trace, (audit, )?listeners, totals, gateways, communities, dns, proxy, admission(, rates)?$'
	te_check "$me summary: no healthy-state noise (problems, headings)" \
		hasnot "$O" '^(problems|degraded_because):|^# '
done

# the whole tree is still there, by --all, by section and as JSON
A=$(cfg acme)
"$SC" status --all -c "$A" >"$D/acme.all" 2>&1
te_check "status --all: the whole tree ($(lines "$D/acme.all") lines)" sh -c \
	"[ $(lines "$D/acme.all") -gt 100 ] && grep -q '^# communities\$' '$D/acme.all' &&
	 grep -q '^# admission\$' '$D/acme.all'"
"$SC" status communities -c "$A" >"$D/acme.comm" 2>&1
te_check "status communities: that section only" sh -c \
	"grep -q '^# communities\$' '$D/acme.comm' && [ \$(grep -c '^# ' '$D/acme.comm') = 1 ]"
"$SC" status --json -c "$A" >"$D/acme.json" 2>&1
te_check "status --json: the whole tree, lists as arrays" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
ok = (s["health"] == "ok" and s["degraded_because"] == []
      and isinstance(s["communities"], list)
      and s["communities"][0]["name"] == "chicago"
      and isinstance(s["gateways"], list) and "admission" in s
      and isinstance(s["totals"]["rejections"], dict))
sys.exit(0 if ok else 1)' "$D/acme.json"

# ---- the gateways' summaries
for s in acme:chicago:10 chicago:acme:20; do
	me=${s%%:*}; rest=${s#*:}; peer=${rest%%:*}; cn=$NET.${rest#*:}
	O=$D/$me.gwsum
	"$GW" status -c "$(cfg "$me")" >"$O" 2>&1
	rc=$?
	te_check "$me gateway summary: exit 0" [ "$rc" = 0 ]
	te_check "$me gateway summary: fits a screen ($(lines "$O") lines)" \
		[ "$(lines "$O")" -le 25 ]
	te_check "$me gateway summary: who, health ok" sh -c \
		"grep -Eq '^gateway: +$me-gw\$' '$O' && grep -Eq '^health: +ok\$' '$O'"
	te_check "$me gateway summary: its connector link up" has "$O" \
		"^  $me-edge: +up, tls $cn:5061, [0-9]+ requests out, 0 failures\$"
	te_check "$me gateway summary: the other community's presentities" \
		has "$O" "^  $peer: +[0-9]+ presentities watched, [0-9]+ local watchers\$"
	te_check "$me gateway summary: users, presence, messages, directory, store" sh -c \
		"grep -Eq '^users: +[0-9]+ registered' '$O' && grep -Eq '^presence: +[0-9]+ local watchers' '$O' &&
		 grep -Eq '^messages: +[0-9]+ in' '$O' && grep -Eq '^directory: +file .*: up' '$O' &&
		 grep -Eq '^store: +memory: ok' '$O'"
	te_check "$me gateway summary: where the log is" has "$O" \
		"^log: +stderr \\($R/$me/stgateway\\.log\\), level info\$"
done
"$GW" status --json -c "$A" >"$D/acmegw.json" 2>&1
te_check "stgateway status --json: degraded_because is an array" \
	/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["degraded_because"] == [] and isinstance(s["federation"]["connector_links"], list) else 1)' "$D/acmegw.json"

# ---- a watcher that forgets its dialog when it un-subscribes
watch()	# LOG
{
	sipp -sf "$top_srcdir/test/e2e/sipp/watch_forget.xml" -s asmith \
		-key from bob -key domain acme.test -au bob -ap bobpw \
		-auth_uri asmith@acme.test -i $NET.51 -p 5090 -nostdin \
		-timeout 15 -timeout_error -m 1 -trace_logs -log_file "$1" \
		$NET.11:5060 >/dev/null 2>&1
}
GL=$R/acme/stgateway.log
watch "$D/w1.log"
te_check "watcher: its final NOTIFY answered 481 (sipp exit 0)" [ $? = 0 ]
te_check "watcher: the final NOTIFY said terminated" has "$D/w1.log" \
	'final NOTIFY state=terminated answered 481'
te_check "gateway: the unsubscribe logged" te_wait_for "$GL" \
	'gw: unsubscribe watcher=sip:bob@acme.test target=sip:asmith@acme.test' 3
sleep 0.5
te_check "gateway log: no notify failed for that 481 (info level)" \
	hasnot "$GL" 'notify failed'
"$GW" status --json -c "$A" >"$D/acmegw.json" 2>&1
te_check "gateway status: no NOTIFY counted failed" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["presence"]["notify_failed"] == 0 else 1)' "$D/acmegw.json"
"$GW" log debug -c "$A" >"$D/log.out" 2>&1
te_check "stgateway log debug: exit 0" [ $? = 0 ]
watch "$D/w2.log"
te_check "watcher again, at debug: sipp exit 0" [ $? = 0 ]
te_check "at debug: the 481 to the final NOTIFY is a debug line, key=value" \
	te_wait_for "$GL" ' debug gw: notify final watcher=sip:bob@acme.test target=sip:asmith@acme.test status=481 dialog=gone-at-watcher$' 3
"$GW" log info -c "$A" >/dev/null 2>&1
te_check "still no notify failed line" hasnot "$GL" 'notify failed'

# ---- clean key=value log lines
for me in acme chicago; do
	L=$R/$me/stgateway.log
	te_check "$me gateway log: a local watcher's subscribe, external-watcher=no" \
		has "$L" ' info gw: subscribe watcher=sip:[^ ]+ target=sip:[^ ]+ expires=600 external-watcher=no$'
	te_check "$me gateway log: the other community's, external-watcher=yes" \
		has "$L" " info gw: subscribe watcher=sip:[a-z]+-gw@[a-z]+\\.test target=sip:[^ ]+ expires=600 external-watcher=yes\$"
	te_check "$me gateway log: no stray quotes" \
		hasnot "$L" '""|[0-9]" |=[0-9]+"'
done

# ---- a healthy run logs no periodic link noise: past a keep-alive (30 s)
_left=$((START + 34 - $(date +%s)))
[ $_left -gt 0 ] && sleep $_left
for me in acme chicago; do
	L=$R/$me/stconnector.log
	te_check "$me connector log: the link came up once, never connecting again" sh -c \
		"[ \$(grep -c 'cn: link community=[a-z]* state=up' '$L') = 1 ] &&
		 ! grep -q 'state=connecting' '$L'"
	te_check "$me connector log: the gateway up once" \
		[ "$(grep -c 'cn: gateway name=[a-z-]* state=' "$L")" = 1 ]
	te_check "$me gateway log: its connector up once, never down" sh -c \
		"[ \$(grep -c 'gw: connector up' '$R/$me/stgateway.log') = 1 ] &&
		 ! grep -q 'gw: connector down' '$R/$me/stgateway.log'"
done

# ---- degraded: chicago's connector stops; acme's summary says why
CPID=$(cat "$R/chicago/run/stconnector.pid" 2>/dev/null)
te_check "chicago's connector pid" [ -n "$CPID" ]
te_stop "$CPID"
"$SC" reset chicago -c "$A" >/dev/null 2>&1
_n=0
while [ $_n -lt 100 ]; do
	"$SC" status -c "$A" >"$D/acme.deg" 2>&1
	rc=$?
	[ "$rc" = 1 ] && break
	sleep 0.2
	_n=$((_n + 1))
done
O=$D/acme.deg
te_check "acme summary: exit 1 (degraded)" [ "$rc" = 1 ]
te_check "acme summary, degraded: still one screen ($(lines "$O") lines)" \
	[ "$(lines "$O")" -le 25 ]
te_check "acme summary: health degraded because link" sh -c \
	"grep -Eq '^health: +degraded\$' '$O' && grep -Eq '^degraded_because: +link\$' '$O'"
te_check "acme summary: the problem named with its reason and the retry" \
	has "$O" '^  link chicago: +down since 20[0-9-]+T[0-9:]+Z: .+; retry in [0-9]'
te_check "acme summary: chicago's line says down" has "$O" '^  chicago: +down, '

te_done
