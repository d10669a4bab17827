#!/bin/sh
# share.sh -- after the privilege drop, the control socket belongs to
# the daemon's user and group (or controlGroup) with mode 0660: they
# can run `status`, others get "permission denied", and reload stays
# for root and the daemon's user.  Needs root (it drops to nobody).
. "$top_srcdir/test/lib/testenv.sh"
te_init ctl-share

SC=$top_builddir/connector/stconnector
D=$TE_DIR
F=$D/community.xml
IP=127.0.115.20

# conf EXTRA-ATTRIBUTES
conf()
{
	cat >"$F" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw">
    <ClientListen transport="udp" address="127.0.115.21" port="15060"/>
    <ConnectorListen transport="tcp" address="127.0.115.21" port="15070"/>
  </CommunityGateway>
  <ExternCommunity name="chicago" transport="tcp">
    <Domain>chicago.test</Domain>
  </ExternCommunity>
  <CommunityConnector name="acme-edge" ip="$IP" port="15060"
                      control="run/cn.sock" pidFile="run/cn.pid" $1>
    <Gateway>acme-gw</Gateway>
    <SupportedCommunity name="chicago" enabled="false"/>
  </CommunityConnector>
</CommunityConfig>
EOF
}

as() # USER ARGS...: stconnector ARGS as USER; $rc, $D/out
{
	_u=$1
	shift
	runuser -u "$_u" -- "$SC" "$@" >"$D/out" 2>&1
	rc=$?
}

[ "$(id -u)" = 0 ] || { te_fail "runs as root (it drops to nobody)"; te_done; exit 1; }
# nobody must reach the socket: the test directory is searchable, the
# run directory nobody's (as the tmpfiles.d snippet makes it)
chmod 711 "$D"
mkdir -p "$D/run"
chown nobody:nogroup "$D/run"

# start USER-ATTRS: background start (as systemd does), wait for it
start()
{
	conf "$1"
	"$SC" -c "$F" >"$D/start.out" 2>&1
	rc=$?
	te_check "background start ($1): exit 0" [ "$rc" = 0 ] ||
		sed 's/^/  | /' "$D/start.out"
	PID=$(cat "$D/run/cn.pid" 2>/dev/null)
	[ -n "$PID" ] && TE_PIDS="$TE_PIDS $PID"
}

stop()
{
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	_n=50
	while [ -e "/proc/$PID" ] && [ $_n -gt 0 ]; do
		sleep 0.1
		_n=$((_n - 1))
	done
	te_check "daemon stopped" [ ! -e "/proc/$PID" ]
}

# ---- user only: the user's own group ----
start 'user="nobody"'
te_check "socket: owner nobody, group nogroup, mode 0660" \
	[ "$(stat -c %U:%G:%a "$D/run/cn.sock")" = "nobody:nogroup:660" ]
te_check "daemon runs as nobody" \
	[ "$(stat -c %U "/proc/$PID")" = nobody ]
as nobody status -s "$D/run/cn.sock"
te_check "the daemon's user runs status (exit 0 or 1, not 4)" \
	[ "$rc" -le 1 ]
te_check "status answers" grep -Eq "^connector: +acme-edge$" "$D/out"
as daemon status -s "$D/run/cn.sock"
te_check "another user: permission denied (exit 4)" [ "$rc" = 4 ]
"$SC" status -s "$D/run/cn.sock" >"$D/out" 2>&1
te_check "root still runs status" grep -Eq "^connector: +acme-edge$" "$D/out"
stop

# ---- controlGroup: a monitoring group ----
start 'user="nobody" controlGroup="daemon"'
te_check "socket: owner nobody, group daemon (controlGroup), mode 0660" \
	[ "$(stat -c %U:%G:%a "$D/run/cn.sock")" = "nobody:daemon:660" ]
as daemon status -s "$D/run/cn.sock"
te_check "a member of controlGroup runs status" \
	[ "$rc" -le 1 ]
te_check "its status answers" grep -Eq "^connector: +acme-edge$" "$D/out"
as daemon reload -s "$D/run/cn.sock"
te_check "a member of controlGroup may not reload (exit 4)" [ "$rc" = 4 ]
as nobody reload -s "$D/run/cn.sock"
te_check "the daemon's user reloads (exit 0)" [ "$rc" = 0 ] ||
	sed 's/^/  | /' "$D/out"
stop

# ---- an unknown controlGroup fails the start, with the reason ----
conf 'user="nobody" controlGroup="stc-no-such-group"'
"$SC" -c "$F" >"$D/start.out" 2>&1
rc=$?
te_check "unknown controlGroup: start fails (exit 1)" [ "$rc" = 1 ]
te_check "unknown controlGroup: the reason on the terminal" grep -qxF \
	"stconnector: ctl: no such group controlGroup=stc-no-such-group" \
	"$D/start.out"

te_done
