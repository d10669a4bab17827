#!/bin/sh
# tls_mem.sh [BUILDDIR] [N] -- build bench/tls_mem.c against BUILDDIR
# (default _build) and print the memory of N idle TCP and TLS
# connections (default 1000).  Uses 127.0.2.10 and 127.0.2.11.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/_build}
n=${2:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sh -c ". '$src/test/lib/testenv.sh'; te_certs '$tmp' sip.a.test:127.0.2.10"
${CC:-cc} -O2 -Wall -Wextra -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H \
	-DHAVE_INET6 -DRELEASE -I"$src" $(pkg-config --cflags libre gnutls) \
	-o "$tmp/tls_mem" "$src/bench/tls_mem.c" "$build/sipstack/libsst.a" \
	$(pkg-config --libs libre gnutls)

for mode in tcp tls; do
	"$tmp/tls_mem" "$mode" "$n" "$tmp"
done
