#!/bin/sh
# fuzz_msg.sh -- run the sst_msg_decode() fuzzer for a bounded time on a
# copy of the seed corpus; any crash, leak or sanitizer report fails.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"

fuzzer="$top_builddir/test/fuzz_sst_msg"
seeds="$top_srcdir/test/fuzz/corpus/msg"
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_msg.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT INT TERM

mkdir "$work/corpus" "$work/art" || exit 99
cp "$seeds"/* "$work/corpus/" || exit 99

# -max_len above SST_MSG_MAX (48 KiB, sst_limits.h) and -len_control=0: without them
# libFuzzer stays below 4 KiB and never reaches the size limits.
"$fuzzer" -max_total_time=20 -rss_limit_mb=1024 -timeout=10 \
	-max_len=70000 -len_control=0 \
	-artifact_prefix="$work/art/" "$work/corpus" >"$work/log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -n "$(ls "$work/art")" ]; then
	tail -40 "$work/log"
	echo "fuzz_msg: fuzzer found a problem (exit $rc)"
	exit 1
fi
grep -E '^Done|#[0-9]+.*DONE' "$work/log" | tail -1
exit 0
