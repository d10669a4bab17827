#!/bin/sh
# daemon.sh -- stconnector as a running daemon: start, status (text and
# JSON), reload by command and by SIGHUP (good and broken files), reset,
# a second instance, a clean stop, and status when nothing runs.
. "$top_srcdir/test/lib/testenv.sh"
te_init cn-daemon

SC=$top_builddir/connector/stconnector
D=$TE_DIR
F=$D/community.xml
mkdir -p "$D/run"

# conf ENABLED_BOSTON GATEWAY: write the community file
conf()
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme">
    <Domain>acme.test</Domain>
  </Community>
  <CommunityGateway name="acme-gw" SupportExternalCommunities="true"
                    ConvertID="true">
    <ClientListen transport="udp" address="127.0.9.11" port="15060"/>
    <ConnectorListen transport="tcp" address="127.0.9.11" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp" port="15061">
    <Domain>chicago.test</Domain>
    <Domain>*.chicago.test</Domain>
    <Proxy>sip.chicago.test</Proxy>
  </ExternCommunity>
  <ExternCommunity name="boston" transport="tcp">
    <Domain>boston.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="127.0.9.10" port="15060"
                      control="run/cn.sock" pidFile="run/cn.pid">
    <Gateway>$2</Gateway>
    <SupportedCommunity name="chicago" enabled="true"/>
    <SupportedCommunity name="boston" enabled="$1"/>
  </CommunityConnector>
</CommunityConfig>
EOF
}

# run ARGS...: $rc, $D/out, $D/err.  Bounded: a daemon that starts in
# the foreground when it should have refused is stopped (rc 124), not
# waited for.
run()
{
	timeout -k 2 "$RUN_S" "$SC" "$@" >"$D/out" 2>"$D/err"
	rc=$?
	[ "$rc" = 124 ] && echo "  stconnector $*: still running after $RUN_S s: stopped"
	return 0
}
RUN_S=20

# wait_pid PID SECS: wait at most SECS for PID to end (killing it after
# that); $? is its exit status.  The PID stays registered for cleanup.
wait_pid()
{
	_n=$(($2 * 10))
	while te_alive "$1" && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	if te_alive "$1"; then
		echo "  pid $1 still running after $2 s: killed"
		kill -KILL "$1"
	fi
	wait "$1"
}

# started PID LOG ERE: the daemon logs ERE within 10 s.  If it exits
# first or never gets there, print its log and end the test now: every
# later check needs it.
started()
{
	_n=100
	while [ $_n -gt 0 ]; do
		grep -Eq -- "$3" "$2" 2>/dev/null && { te_ok "daemon started"; return 0; }
		te_alive "$1" || break
		sleep 0.1
		_n=$((_n - 1))
	done
	if te_alive "$1"; then
		te_fail "daemon started: no \"$3\" within 10 s"
	else
		wait "$1"
		te_fail "daemon started: it exited with status $? during start-up"
	fi
	sed 's/^/  | /' "$2"
	te_done
	exit 1
}

has() # FILE ERE: a line of FILE matches
{
	grep -Eq -- "$2" "$1" || { echo "  no match in $1: $2"; \
		sed 's/^/  | /' "$1"; return 1; }
}

# jq-like checks with python3: json PYTHON-EXPR (on $D/out, as "s")
json()
{
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$D/out" "$1" ||
		{ echo "  false: $1"; return 1; }
}

REASONS="untrusted-ip not-enabled unknown-community not-local malformed
tls-failure overload"

conf false acme-gw

# The proxy core probes the gateway with OPTIONS; a sipp answers them
# (-aa) so that the gateway is up and the daemon healthy.
te_spawn "$D/gw.log" sipp -sf "$top_srcdir/test/connector/sipp/message_uas.xml" \
	-t t1 -i 127.0.9.11 -p 15070 -aa -nostdin -m 1000
te_wait_tcp 127.0.9.11 15070 5

# ---- start in the foreground, wait for the control socket
te_spawn "$D/daemon.log" "$SC" -f -c "$F"
PID=$TE_LASTPID
started "$PID" "$D/daemon.log" "cn: started connector=acme-edge"
te_check "control socket exists" [ -S "$D/run/cn.sock" ]
te_check "control socket is mode 0600" \
	[ "$(stat -c %a "$D/run/cn.sock")" = 600 ]
te_check "pid file names the daemon" [ "$(cat "$D/run/cn.pid")" = "$PID" ]

# ---- status for people
run status --all -c "$F"
te_check "status: exit 0 (healthy: no reload failed, no link down)" \
	[ "$rc" = 0 ]
te_check "status: health ok" has "$D/out" '^health: +ok$'
te_check "status: config file" has "$D/out" "^file: +$F\$"
te_check "status: last reload none" has "$D/out" '^last_reload: +none$'
te_check "status: the proxy core's listeners" \
	has "$D/out" '127\.0\.9\.10'
te_check "status: gateway named" has "$D/out" '^- name: +acme-gw$'
te_check "status: gateway address" has "$D/out" \
	'^  addresses: +tcp 127\.0\.9\.11:15070$'
te_check "status: chicago listed" has "$D/out" '^- name: +chicago$'
te_check "status: boston listed" has "$D/out" '^- name: +boston$'
te_check "status: chicago enabled" sh -c \
	"grep -A6 -E '^- name: +chicago\$' '$D/out' | grep -Eq '^  enabled: +yes\$'"
te_check "status: boston not enabled" sh -c \
	"grep -A6 -E '^- name: +boston\$' '$D/out' | grep -Eq '^  enabled: +no\$'"
for r in $REASONS; do
	n=$(grep -cE "^    $r: +0\$" "$D/out")
	te_check "status: $r is 0 for both communities" [ "$n" = 2 ]
done

# ---- the summary (no argument): one screen, one line per thing
run status -c "$F"
te_check "summary: exit 0" [ "$rc" = 0 ]
te_check "summary: fits a screen (at most 25 lines)" \
	[ "$(wc -l <"$D/out")" -le 25 ]
te_check "summary: who and health" sh -c \
	"grep -Eq '^connector: +acme-edge\$' '$D/out' && grep -Eq '^health: +ok\$' '$D/out'"
te_check "summary: no problems listed when healthy" \
	sh -c "! grep -Eq '^(problems|degraded_because):' '$D/out'"
te_check "summary: one line per community with its state" sh -c \
	"grep -Eq '^  chicago: +idle, ' '$D/out' && grep -Eq '^  boston: +disabled' '$D/out'"
te_check "summary: a community not resolved yet says so, with its proxy" \
	has "$D/out" '^  chicago: +idle, no next hop yet \(tcp sip\.chicago\.test:15061\), 0 in, 0 out, 0 refused$'
te_check "summary: the gateway with its address" has "$D/out" \
	'^  acme-gw: +[a-z]+, tcp 127\.0\.9\.11:15070, 0 in, 0 out'
te_check "summary: nothing refused" has "$D/out" '^refused: +none$'
te_check "summary: where the log, trace and metrics are" sh -c \
	"grep -Eq '^log: +stderr \\($D/daemon.log\\), level info\$' '$D/out' &&
	 grep -Eq '^trace: +off\$' '$D/out' && grep -Eq '^metrics: +off\$' '$D/out'"
te_check "summary: how to see the rest" has "$D/out" \
	'^more: +status --all; status SECTION: config, .*communities'
te_check "summary: not the whole tree" sh -c "! grep -q '^# ' '$D/out'"

# ---- status as JSON, field by field
run status --json -c "$F"
te_check "status --json: exit 0" [ "$rc" = 0 ]
te_check "json: version" json 's["version"] != ""'
te_check "json: connector" json 's["connector"] == "acme-edge"'
te_check "json: pid" json "s['pid'] == $PID"
te_check "json: uptime is a number" json \
	'isinstance(s["uptime"], (int, float)) and s["uptime"] >= 0'
te_check "json: health" json 's["health"] == "ok" and s["degraded_because"] == []'
te_check "json: config file" json "s['config']['file'] == '$F'"
te_check "json: last reload none" json \
	's["config"]["last_reload"] == "none" and s["config"]["messages"] == []'
te_check "json: listeners udp and tcp" json \
	'sorted(l["transport"] for l in s["listeners"]) == ["tcp", "udp"]'
te_check "json: gateway" json \
	's["gateways"][0]["name"] == "acme-gw" and s["gateways"][0]["state"] in ("unknown", "up") and s["gateways"][0]["messages_in"] == 0'
te_check "json: communities in file order" json \
	'[c["name"] for c in s["communities"]] == ["chicago", "boston"]'
te_check "json: chicago fields" json \
	'(lambda c: c["enabled"] is True and c["link"] == "idle" and c["domains"] == "chicago.test,*.chicago.test" and c["proxy"] == "sip.chicago.test" and c["port"] == 15061 and c["transport"] == "tcp" and c["next_hops"] == [] and c["tls"]["known"] is False and c["messages_in"] == 0 and c["messages_out"] == 0 and c["last_error"] == "")(s["communities"][0])'
te_check "json: boston disabled" json \
	's["communities"][1]["enabled"] is False and s["communities"][1]["link"] == "disabled"'
for r in $REASONS; do
	te_check "json: rejections.$r is 0 everywhere" json \
		"all(c['rejections']['$r'] == 0 for c in s['communities']) and s['totals']['rejections']['$r'] == 0"
done

# ---- help and unknown commands
run status -c "$F" extra
te_check "status with a stray word: usage, exit 2" [ "$rc" = 2 ]
run reset nowhere -c "$F"
te_check "reset unknown: exit 2" [ "$rc" = 2 ]
te_check "reset unknown: says so" has "$D/out" \
	'^error: reset: no external community named nowhere$'
run reset chicago -c "$F"
te_check "reset chicago: exit 0" [ "$rc" = 0 ]
te_check "reset chicago: answered" has "$D/out" '^reset chicago: error cleared'

# ---- a second instance is refused, naming the PID
run -f -c "$F"
te_check "second instance: exit 1" [ "$rc" = 1 ]
te_check "second instance: names the running PID" has "$D/err" \
	"already running \\(pid $PID, "
te_check "second instance: first one still answers" \
	"$SC" status -c "$F" >/dev/null

# ---- reload by command: enable boston
conf true acme-gw
run reload -c "$F"
te_check "reload: exit 0" [ "$rc" = 0 ]
te_check "reload: says ok" has "$D/out" "^reload ok: $F\$"
run status --json -c "$F"
te_check "after reload: boston enabled" json \
	's["communities"][1]["enabled"] is True and s["communities"][1]["link"] == "idle"'
te_check "after reload: last reload ok" json 's["config"]["last_reload"] == "ok"'

# ---- a broken file: the daemon keeps the running configuration
conf false nosuch-gw
line=$(grep -n '<Gateway>' "$F" | cut -d: -f1)
run reload -c "$F"
te_check "reload, file broken, no -s: exit 1" [ "$rc" = 1 ]
te_check "reload, file broken, no -s: the daemon answers with FILE:LINE" \
	has "$D/out" "^$F:$line: .*nosuch-gw"
te_check "reload, file broken, no -s: says the file has errors" \
	has "$D/err" "^stconnector: $F has errors; asking the running daemon"
te_check "reload, file broken, no -s: daemon logged it" \
	te_wait_for "$D/daemon.log" "cn: reload-error file=.*nosuch-gw" 5
run status --json -c "$F"
te_check "status, file broken, no -s: reaches the daemon (exit 1)" \
	[ "$rc" = 1 ]
te_check "status, file broken, no -s: FILE:LINE on stderr" has "$D/err" \
	"^$F:$line: "
te_check "status, file broken, no -s: old configuration kept" json \
	's["communities"][1]["enabled"] is True and s["config"]["last_reload"] == "failed"'
run reload -s "$D/run/cn.sock"
te_check "reload broken via -s: non-zero" [ "$rc" = 1 ]
te_check "reload broken via -s: answer names FILE:LINE" has "$D/out" \
	"^$F:$line: .*nosuch-gw"
te_check "reload broken: daemon still running" te_alive "$PID"
run status --json -s "$D/run/cn.sock"
te_check "broken reload: status exit 1 (degraded)" [ "$rc" = 1 ]
te_check "broken reload: health degraded because reload" json \
	's["health"] == "degraded" and s["degraded_because"] == ["reload"]'
te_check "broken reload: last reload failed with the message" json \
	"s['config']['last_reload'] == 'failed' and any(m['text'].startswith('$F:$line: ') for m in s['config']['messages'])"
te_check "broken reload: old configuration kept (boston enabled)" json \
	's["communities"][1]["enabled"] is True and s["gateways"][0]["name"] == "acme-gw"'
run status config -s "$D/run/cn.sock"
te_check "broken reload: text status says failed" has "$D/out" \
	'^last_reload: +failed$'
te_check "broken reload: daemon logged the error" \
	te_wait_for "$D/daemon.log" "cn: reload-error file=.*nosuch-gw" 5

# ---- SIGHUP with a good file, then with a broken one
conf false acme-gw
kill -HUP "$PID"
te_check "SIGHUP: reload logged" \
	te_wait_for "$D/daemon.log" "cn: reloaded file=.*communities=2" 5
run status --json -c "$F"
te_check "SIGHUP good: exit 0 again" [ "$rc" = 0 ]
te_check "SIGHUP good: boston disabled, reload ok" json \
	's["communities"][1]["enabled"] is False and s["config"]["last_reload"] == "ok" and s["health"] == "ok"'
conf false nosuch-gw
kill -HUP "$PID"
te_check "SIGHUP broken: failure logged" \
	te_wait_for "$D/daemon.log" "cn: reload failed" 5
run status --json -s "$D/run/cn.sock"
te_check "SIGHUP broken: status says failed" json \
	's["config"]["last_reload"] == "failed" and s["health"] == "degraded"'
te_check "SIGHUP broken: daemon alive" te_alive "$PID"
conf false acme-gw

# ---- SIGTERM: clean exit 0, files gone (ASan would make it non-zero
# on a leak)
kill -TERM "$PID"
wait_pid "$PID" 10
rc=$?
te_stop "$PID"
te_check "SIGTERM: exit 0" [ "$rc" = 0 ]
te_check "SIGTERM: pid file removed" [ ! -e "$D/run/cn.pid" ]
te_check "SIGTERM: control socket removed" [ ! -e "$D/run/cn.sock" ]
te_check "SIGTERM: stop logged" has "$D/daemon.log" \
	'cn: stopped connector=acme-edge'

# ---- not running
run status -c "$F"
te_check "status, not running: exit 3" [ "$rc" = 3 ]
te_check "status, not running: says so" has "$D/err" 'not running'

# ---- start-up errors reach the terminal
conf false nosuch-gw
run -f -c "$F"
te_check "broken file at start: exit 1" [ "$rc" = 1 ]
te_check "broken file at start: FILE:LINE on stderr" has "$D/err" \
	"^$F:$line: "
te_check "broken file at start: no pid file left" [ ! -e "$D/run/cn.pid" ]

# ---- several connectors need -n
conf false acme-gw
sed -i 's|</CommunityConfig>|  <CommunityConnector name="acme-edge2" ip="127.0.9.12" control="run/cn2.sock" pidFile="run/cn2.pid">\n    <Gateway>acme-gw</Gateway>\n  </CommunityConnector>\n</CommunityConfig>|' "$F"
run -f -c "$F"
te_check "two connectors, no -n: exit 1" [ "$rc" = 1 ]
te_check "two connectors, no -n: says choose with -n" has "$D/err" \
	'several CommunityConnector records: choose one with -n NAME'
run -f -c "$F" -n nobody
te_check "-n unknown: exit 1" [ "$rc" = 1 ]
te_check "-n unknown: names it" has "$D/err" \
	'CommunityConnector "nobody": no CommunityConnector of that name'

# ---- without -f: daemonizes; the parent returns once it is up
run -c "$F" -n acme-edge2
te_check "background start: exit 0" [ "$rc" = 0 ]
te_check "background start: pid file" [ -s "$D/run/cn2.pid" ]
PID2=$(cat "$D/run/cn2.pid" 2>/dev/null)
# not our child, but ours to stop if a check below fails
[ -n "$PID2" ] && TE_PIDS="$TE_PIDS $PID2"
run status -c "$F" -n acme-edge2
te_check "background daemon answers status" [ "$rc" = 0 ]
te_check "background daemon is acme-edge2" has "$D/out" \
	'^connector: +acme-edge2$'
if [ -n "$PID2" ]; then
	kill -TERM "$PID2"
	n=0
	while te_alive "$PID2" && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	te_stop "$PID2"
fi
te_check "background daemon stopped, socket gone" [ ! -e "$D/run/cn2.sock" ]

# ---- without -f, a failure after the fork reaches the terminal: the
# control socket's directory does not exist
sed -i 's|control="run/cn2.sock"|control="run/nodir/cn2.sock"|' "$F"
run -c "$F" -n acme-edge2
te_check "background start, control socket impossible: exit 1" [ "$rc" = 1 ]
te_check "background start failure: the parent says so" has "$D/err" \
	'^stconnector: start-up failed'
te_check "background start failure: the reason reaches the terminal" \
	has "$D/err" \
	"^stconnector: cn: start failed step=control path=$D/run/nodir/cn2.sock error=\"No such file or directory\"\$"
te_check "background start failure: no pid file left" [ ! -e "$D/run/cn2.pid" ]

te_done
