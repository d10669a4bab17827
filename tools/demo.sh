#!/bin/sh
# demo.sh -- the README's main job, on a fresh Debian machine as root:
# install dependencies, build, and run what exists of the federation on
# the embedded defaults (conf/examples).
#
# What runs today: `stconnector check` on both communities' files.  The
# daemons themselves are not built yet; this script says so rather than
# pretend.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${STC_BUILD:-$top/_build-demo}
cd "$top"

sh tools/install-deps.sh build
if [ ! -x "$build/connector/stconnector" ]; then
	autoreconf -fi
	mkdir -p "$build"
	(cd "$build" && "$top/configure" >configure.log 2>&1 && make -j2)
fi

for f in conf/examples/acme.test.xml conf/examples/chicago.test.xml; do
	echo "== stconnector check -c $f"
	"$build/connector/stconnector" check -c "$f"
done

cat <<'EOT'

Not built yet: the stconnector and stgateway daemons.  Until they are, the
main job validates both communities' configuration and stops here.
EOT
