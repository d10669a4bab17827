#!/bin/sh
# install-deps.sh -- install every Debian package that building, running and
# testing stconnector needs.  Both README commands call this one script, so
# the list lives in one place.  Runs as root; does nothing (but say so) when
# every package is already present.
#
# Usage: tools/install-deps.sh [build|demo|test|bench]
#   build  the libraries and the autotools chain (the default)
#   demo   build + what tools/demo.sh runs (dnsmasq, certtool, baresip,
#          sipp, ss)
#   test   build + the real components the tests start (slapd, dnsmasq,
#          certtool, SIP clients, Kamailio as another community's
#          presence server, systemd booted in namespaces by
#          test/install/systemd.sh: systemd, util-linux, Prosody and
#          ejabberd as XMPP communities with slixmpp as their users'
#          client) + the fuzzing compiler
#   bench  test + the peer relay measured against (kamailio)
set -eu

what=${1:-build}

build_pkgs="build-essential autoconf automake libtool pkg-config
	libre-dev libgnutls28-dev libxml2-dev libldap-dev libcunit1-dev
	libxml2-utils libsqlite3-dev libpq-dev"
test_pkgs="slapd ldap-utils dnsmasq-base bind9-dnsutils gnutls-bin
	sip-tester baresip-core linphone-cli clang libclang-rt-14-dev
	valgrind procps iproute2 psmisc groff-base python3 util-linux
	kamailio kamailio-presence-modules prometheus curl postgresql systemd
	prosody lua-unbound ejabberd python3-slixmpp"
demo_pkgs="dnsmasq-base gnutls-bin baresip-core sip-tester iproute2 procps
	util-linux"
bench_pkgs="kamailio kamailio-extra-modules linux-perf"

case $what in
build) pkgs=$build_pkgs ;;
demo)  pkgs="$build_pkgs $demo_pkgs" ;;
test)  pkgs="$build_pkgs $test_pkgs" ;;
bench) pkgs="$build_pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|demo|test|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all $what packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi

# Never let a package's own service start (slapd, dnsmasq, kamailio would
# take ports the tests use): the tests start every server themselves.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing:$missing"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
