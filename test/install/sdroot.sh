#!/bin/sh
# sdroot.sh ROOT STAGE OUT PREFIX ADDR... -- the inside of systemd.sh:
# run as the first process of new pid, mount, cgroup, uts, ipc and net
# namespaces, it builds a throw-away root and boots systemd in it.
#
# Nothing here may reach the host: ROOT becomes a tmpfs, the host's /usr
# is bound into it read-only, /dev, /proc and /sys are private (/proc/sys
# and /sys read-only), and the staged install (STAGE, made by make
# install DESTDIR) is copied in.  For a prefix under /usr (the default
# /usr/local), a tmpfs over ROOT/PREFIX takes the copy; for the prefix
# /usr itself, an overlay of STAGE/usr over the host's /usr, read-only
# too.  OUT is bound on ROOT/out, where the probe unit writes what it saw,
# and its journal/ is the persistent journal.  ADDR... are put on lo.
# systemd runs with container=stconnector-test (it then leaves swap,
# loop devices and udev alone) and without the capabilities that act on
# the whole machine (modules, clock, raw I/O, kernel log).
set -eu

R=$1 S=$2 OUT=$3 PREFIX=$4
shift 4

die()
{
	echo "sdroot: $*" >&2
	exit 1
}

mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs "$R"
for d in usr etc var var/log/journal run tmp proc sys dev root out; do
	mkdir -p "$R/$d"
done
chmod 1777 "$R/tmp"
case $PREFIX in
/usr)
	mount -t overlay -o "ro,lowerdir=$S/usr:/usr" overlay "$R/usr"
	;;
*)
	mount --bind /usr "$R/usr"
	mount -o remount,bind,ro "$R/usr"
	;;
esac
for d in bin sbin lib lib64; do
	[ -e "/usr/$d" ] && ln -s "usr/$d" "$R/$d"
done

# The staged install, at its own paths.
for top in "$S"/*; do
	n=${top##*/}
	if [ "$n" != usr ]; then
		cp -a "$top" "$R/"
		continue
	fi
	case $PREFIX in
	/usr) ;;
	/usr/*)
		sub=${PREFIX#/usr/}
		sub=/usr/${sub%%/*}
		[ -d "$sub" ] || die "$sub is not a directory of the host's /usr"
		[ "$(ls "$S/usr")" = "${sub#/usr/}" ] ||
			die "the install writes under /usr outside $sub"
		mount -t tmpfs -o mode=755 tmpfs "$R$sub"
		cp -a "$S$sub/." "$R$sub/"
		;;
	*)	die "the install writes under /usr outside the prefix $PREFIX" ;;
	esac
done

mount --bind "$OUT" "$R/out"
mount --bind "$OUT/journal" "$R/var/log/journal"

# A private /dev: the harmless character devices, a new devpts, a shm.
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for n in null zero full random urandom tty; do
	: >"$R/dev/$n"
	mount --bind "/dev/$n" "$R/dev/$n"
done
: >"$R/dev/console"
mount --bind /dev/null "$R/dev/console"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"

# This pid namespace's /proc, kernel settings read-only; /sys read-only.
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
for p in sys sysrq-trigger; do
	[ -e "$R/proc/$p" ] || continue
	mount --bind "$R/proc/$p" "$R/proc/$p"
	mount -o remount,bind,ro "$R/proc/$p"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"

ip link set lo up
for a in "$@"; do
	ip addr add "$a/32" dev lo
done

exec env -i container=stconnector-test \
	PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	setpriv --bounding-set -sys_module,-sys_time,-sys_rawio,-syslog,-sys_pacct,-wake_alarm,-block_suspend,-mac_admin,-mac_override \
	chroot "$R" /lib/systemd/systemd --system --unit=stc-test.target \
	--log-target=journal --log-level=info --show-status=no
