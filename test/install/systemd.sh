#!/bin/sh
# systemd.sh -- the installed units under a real systemd.  `make install
# DESTDIR=stage`, then systemd boots as PID 1 of private namespaces in a
# throw-away root holding the stage (sdroot.sh).  Its users and
# directories come from the installed sysusers.d and tmpfiles.d files,
# the units from make install; a test target starts stconnector.service
# and stgateway.service on a minimal community file (127.0.128.x) and a
# probe unit records what an administrator would look at: systemctl
# is-active, `status` through the control socket as a member of each
# daemon's group (and refused to anyone else), the journal, `systemctl
# stop` (clean exit, PID files and sockets gone), then powers off.
#
# Needs root and the namespaces: when they cannot be made the test
# fails (it does not skip).  A boot that does not power off within
# $SD_TIMEOUT seconds is killed by the PID of its PID 1 and fails with
# its journal.  The cgroups systemd made are all below one it ran in,
# made for the run and removed afterwards.
. "$top_srcdir/test/lib/testenv.sh"
. "$top_srcdir/test/lib/install.sh"
te_init systemd

S=$TE_DIR/stage
R=$TE_DIR/root
OUT=$TE_DIR/out
SD_TIMEOUT=${SD_TIMEOUT:-120}
CNIP=127.0.128.10
GWIP=127.0.128.11
NS="--pid --fork --kill-child --mount --cgroup --uts --ipc --net"

show() # FILE: indented, for a failure
{
	[ -f "$1" ] && sed 's/^/  | /' "$1"
}

chk() # FILE MSG CMD...: te_check, showing FILE when CMD fails
{
	_f=$1 _m=$2
	shift 2
	if "$@"; then
		te_ok "$_m"
	else
		te_fail "$_m"
		show "$_f"
	fi
}

need() # MSG CMD...: a precondition; without it the test fails here
{
	_m=$1
	shift
	"$@" >"$TE_DIR/need.out" 2>&1 && return 0
	te_fail "$_m"
	show "$TE_DIR/need.out"
	te_done
	exit 1
}

need "run as root (the test boots systemd in namespaces; got uid $(id -u))" \
	[ "$(id -u)" = 0 ]
# shellcheck disable=SC2086
need "unshare $NS: the namespaces can be made" unshare $NS true
need "/lib/systemd/systemd is there" [ -x /lib/systemd/systemd ]

prefix=$(te_mkvar prefix)
sbindir=$(te_mkvar sbindir)
sysconfdir=$(te_mkvar sysconfdir)
runstatedir=$(te_mkvar runstatedir)
docdir=$(te_mkvar docdir)
unitdir=$(te_mkvar systemdsystemunitdir)
sysusersdir=$(te_mkvar sysusersdir)
tmpfilesdir=$(te_mkvar tmpfilesdir)
need "make install DESTDIR=stage" te_install "$S" "$TE_DIR/install.log"

# ---- the stage as an administrator completes it ----
E=$S/etc
mkdir -p "$E/systemd/system" "$E/sysusers.d" "$E/tmpfiles.d" \
	"$E/systemd/journald.conf.d" "$S$sysconfdir/stconnector"
cp "$S$unitdir/stconnector.service" "$S$unitdir/stgateway.service" \
	"$E/systemd/system/"
cp "$S$sysusersdir/stconnector.conf" "$E/sysusers.d/"
cp "$S$tmpfilesdir/stconnector.conf" "$E/tmpfiles.d/"
# users: only root and nobody; systemd-sysusers adds the daemons'
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$E/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$E/group"
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$E/shadow"
printf 'root:*::\nnogroup:*::\n' >"$E/gshadow"
chmod 600 "$E/shadow" "$E/gshadow"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' \
	>"$E/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$E/hosts"
cp -aL /etc/ld.so.cache "$E/" 2>/dev/null
: >"$E/machine-id"
printf '[Journal]\nStorage=persistent\n' \
	>"$E/systemd/journald.conf.d/stc-test.conf"

C=$sysconfdir/stconnector/community.xml
CSOCK=$runstatedir/stconnector/stconnector.sock
GSOCK=$runstatedir/stgateway/stgateway.sock
CPID=$runstatedir/stconnector/stconnector.pid
GPID=$runstatedir/stgateway/stgateway.pid
cat >"$S$C" <<EOT
<?xml version="1.0" encoding="UTF-8"?>
<CommunityConfig>
  <Community name="acme"><Domain>acme.test</Domain></Community>
  <CommunityGateway name="acme-gw" user="stgateway"
                    control="$GSOCK" pidFile="$GPID">
    <ClientListen transport="udp" address="$GWIP" port="5060"/>
    <ConnectorListen transport="tcp" address="$GWIP" port="5070"/>
  </CommunityGateway>
  <CommunityConnector name="acme-edge" ip="$CNIP" port="5060"
                      user="stconnector" control="$CSOCK" pidFile="$CPID">
    <Gateway>acme-gw</Gateway>
  </CommunityConnector>
  <CommunityConnectivity><TrustedIP>$CNIP</TrustedIP></CommunityConnectivity>
  <Directory backend="file">
    <File>$docdir/examples/acme.test.ldif</File>
    <Attributes id="uid" email="mail" password="userPassword"/>
  </Directory>
</CommunityConfig>
EOT

# The probe: what the administrator looks at, written to /out.
cat >"$E/stc-probe.sh" <<EOT
#!/bin/sh
O=/out
for u in stconnector stgateway; do
	systemctl is-active \$u.service >\$O/\$u.active 2>&1
	getent passwd \$u >\$O/\$u.passwd
	case \$u in
	stconnector) sock=$CSOCK pid=$CPID ;;
	*) sock=$GSOCK pid=$GPID ;;
	esac
	cat \$pid >\$O/\$u.pid 2>&1
	ps -o user= -p "\$(cat \$pid)" >\$O/\$u.user 2>&1
	stat -c '%U %G %a' \$sock >\$O/\$u.sock 2>&1
	# a member of the daemon's group (not its user) asks
	setpriv --reuid=nobody --regid=\$u --clear-groups \\
		$sbindir/\$u status -s \$sock >\$O/\$u.status 2>&1
	echo \$? >\$O/\$u.status.rc
	# and someone outside it
	setpriv --reuid=nobody --regid=nogroup --clear-groups \\
		$sbindir/\$u status -s \$sock >\$O/\$u.denied 2>&1
	echo \$? >\$O/\$u.denied.rc
	journalctl --no-pager -o cat -u \$u.service >\$O/\$u.journal 2>&1
done
systemctl stop stconnector.service stgateway.service
echo \$? >\$O/stop.rc
for u in stconnector stgateway; do
	systemctl show -p ActiveState -p Result -p ExecMainCode \\
		-p ExecMainStatus \$u.service >\$O/\$u.show 2>&1
	case \$u in
	stconnector) sock=$CSOCK pid=$CPID ;;
	*) sock=$GSOCK pid=$GPID ;;
	esac
	ls \$pid \$sock >\$O/\$u.left 2>&1
	journalctl --no-pager -o cat -u \$u.service >\$O/\$u.journal.stop 2>&1
done
systemctl list-units --all --no-pager --plain --no-legend >\$O/units 2>&1
echo done >\$O/probe.done
systemctl --no-block poweroff
EOT
chmod 755 "$E/stc-probe.sh"
cat >"$E/systemd/system/stc-probe.service" <<EOT
[Unit]
Description=stconnector test probe
Wants=stconnector.service stgateway.service
After=stconnector.service stgateway.service

[Service]
Type=oneshot
ExecStart=/etc/stc-probe.sh
EOT
cat >"$E/systemd/system/stc-test.target" <<EOT
[Unit]
Description=stconnector test
Requires=stc-probe.service
After=stc-probe.service
EOT

# ---- a cgroup of our own in every hierarchy, the namespace's root ----
# /proc/self/cgroup gives our place in each hierarchy, mountinfo where
# it is mounted; the boot runs in NAME/stc-systemd.PID below ours.
CG="" CGBAD=""
cgname=stc-systemd.$$
while IFS=: read -r _id _ctl _path; do
	mnt=$(awk -v want="$_ctl" '
		$0 ~ / - cgroup2? / {
			split($0, a, " - "); split(a[2], b, " ")
			n = split(b[3], o, ","); c = ""
			for (i = 1; i <= n; i++)
				if (o[i] != "rw" && o[i] != "ro" && o[i] !~ /^(relatime|nsdelegate|memory_recursiveprot|clone_children|xattr|noprefix|release_agent=)/)
					c = c (c == "" ? "" : ",") o[i]
			if (b[1] == "cgroup2") c = ""
			if (c == want && $4 == "/") { print $5; exit }
		}' /proc/self/mountinfo)
	if [ -z "$mnt" ]; then
		CGBAD="$CGBAD ${_ctl:-cgroup2}:$_path(not mounted here)"
		continue
	fi
	d=$mnt$_path/$cgname
	d=$(echo "$d" | sed 's#//*#/#g')
	if ! mkdir "$d"; then
		CGBAD="$CGBAD $d"
		continue
	fi
	case $_ctl in
	*cpuset*)
		cat "${d%/*}/cpuset.cpus" >"$d/cpuset.cpus"
		cat "${d%/*}/cpuset.mems" >"$d/cpuset.mems" ;;
	esac
	CG="$CG $d"
done </proc/self/cgroup

cg_clean() # remove what the boot left: only below our own cgroups
{
	for _d in $CG; do
		_n=0
		while [ -d "$_d" ] && [ $_n -lt 30 ]; do
			find "$_d" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$_d" ] && sleep 0.1
			_n=$((_n + 1))
		done
		[ -d "$_d" ] && echo "  cgroup left: $_d"
	done
	CG=""
}
trap 'te_cleanup; cg_clean' EXIT
# systemd would write into the test's own cgroup where we have none
need "a cgroup for the boot in each hierarchy (none for:$CGBAD)" \
	[ -n "$CG" -a -z "$CGBAD" ]
te_ok "a cgroup for the boot in each hierarchy:$CG"

# ---- boot ----
mkdir -p "$R" "$OUT/journal"
start=$(date +%s)
# shellcheck disable=SC2016,SC2086
te_spawn "$TE_DIR/boot.log" sh -c 'for d in $1; do
		echo $$ >"$d/cgroup.procs" || exit 1
	done
	shift
	exec unshare '"$NS"' "$@"' sh "$CG" \
	sh "$top_srcdir/test/install/sdroot.sh" "$R" "$S" "$OUT" "$prefix" \
	"$CNIP" "$GWIP"
boot=$TE_LASTPID
while te_alive "$boot" && [ $(($(date +%s) - start)) -lt "$SD_TIMEOUT" ]; do
	sleep 0.2
done
if te_alive "$boot"; then
	init=$(cat "/proc/$boot/task/$boot/children" 2>/dev/null | tr -d " ")
	te_fail "systemd powered off within $SD_TIMEOUT s (killing its PID 1, pid $init)"
	for p in $init; do kill -KILL "$p"; done
fi
te_stop "$boot"
took=$(($(date +%s) - start))
cg_clean
if [ -f "$OUT/probe.done" ]; then
	te_ok "the probe ran to its end, in a boot of ${took} s"
else
	te_fail "the probe ran to its end (boot of ${took} s)"
	echo "  the boot's output:"
	tail -20 "$TE_DIR/boot.log" | sed 's/^/  | /'
	echo "  the journal:"
	journalctl --no-pager -D "$OUT/journal" 2>&1 | tail -100 |
		sed 's/^/  | /'
fi
journalctl --no-pager -o cat -D "$OUT/journal" >"$TE_DIR/journal" 2>&1
chk "$TE_DIR/journal" "systemd powered off: poweroff.target reached, shut down" \
	sh -c "grep -q '^Reached target poweroff.target' '$TE_DIR/journal' &&
		grep -qx 'Shutting down.' '$TE_DIR/journal'"

# ---- what the probe saw ----
for u in stconnector stgateway; do
	case $u in
	stconnector) rec=acme-edge sock=$CSOCK kind=connector ;;
	*) rec=acme-gw sock=$GSOCK kind=gateway ;;
	esac
	chk "$OUT/$u.active" "$u.service: systemctl is-active says active" \
		grep -qx active "$OUT/$u.active"
	chk "$OUT/$u.passwd" "user $u made by systemd-sysusers, no login" \
		grep -q "^$u:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin\$" "$OUT/$u.passwd"
	pid=$(cat "$OUT/$u.pid" 2>/dev/null)
	chk "$OUT/$u.pid" "$u wrote its PID file ($pid)" \
		sh -c "echo '$pid' | grep -Eqx '[0-9]+'"
	chk "$OUT/$u.user" "$u (pid $pid) runs as $u: dropped root" \
		grep -qx "$u" "$OUT/$u.user"
	chk "$OUT/$u.sock" "$sock: owner $u, group $u, mode 660" \
		grep -qx "$u $u 660" "$OUT/$u.sock"
	rc=$(cat "$OUT/$u.status.rc" 2>/dev/null)
	chk "$OUT/$u.status" "$u status as nobody in group $u: answered (exit $rc)" \
		[ "$rc" = 0 -o "$rc" = 1 ]
	chk "$OUT/$u.status" "$u status: $kind $rec and its health" \
		sh -c "grep -Eq '^$kind: +$rec\$' '$OUT/$u.status' &&
			grep -Eq '^health: +(ok|degraded)\$' '$OUT/$u.status'"
	[ $u = stconnector ] &&
		chk "$OUT/$u.status" "$u status: the pid of its PID file, $pid" \
			grep -Eq "[( ]pid $pid[,)]" "$OUT/$u.status"
	rc=$(cat "$OUT/$u.denied.rc" 2>/dev/null)
	chk "$OUT/$u.denied" "$u status as nobody outside group $u: permission denied (exit 4, got $rc)" \
		sh -c "[ '$rc' = 4 ] && grep -q 'Permission denied' '$OUT/$u.denied'"
	chk "$OUT/$u.journal" "$u journal: the socket given to $u and its group, 0660" \
		grep -qF "ctl: socket shared path=$sock user=$u group=\"(the user's)\" mode=0660" \
		"$OUT/$u.journal"
	chk "$OUT/$u.journal" "$u journal: root dropped to $u" \
		grep -q "priv: dropped user=$u uid=" "$OUT/$u.journal"
	chk "$OUT/$u.journal.stop" "$u journal: stopping on SIGTERM, $kind $rec stopped" \
		sh -c "grep -q 'stopping signal=15' '$OUT/$u.journal.stop' &&
			grep -q 'stopped $kind=$rec' '$OUT/$u.journal.stop'"
	chk "$OUT/$u.show" "$u.service after stop: inactive, Result=success, exit 0" \
		sh -c "grep -qx ActiveState=inactive '$OUT/$u.show' &&
			grep -qx Result=success '$OUT/$u.show' &&
			grep -qx ExecMainStatus=0 '$OUT/$u.show'"
	chk "$OUT/$u.left" "$u after stop: PID file and socket gone" \
		[ "$(grep -c 'No such file' "$OUT/$u.left")" = 2 ]
done
chk "" "systemctl stop of both: exit 0" grep -qx 0 "$OUT/stop.rc"
chk "" "no cgroup left below the test's own" [ -z "$CG" ]
chk "" "the boot took less than $SD_TIMEOUT s (${took} s)" \
	[ "$took" -lt "$SD_TIMEOUT" ]

te_done
