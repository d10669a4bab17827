# run.sh -- sourced by the fuzz_*.sh tests: fuzz_run NAME SECONDS [ARGS]
# runs test/fuzz_NAME for a bounded time on a copy of the seed corpus
# test/fuzz/corpus/NAME; any crash, leak, timeout or sanitizer report
# fails, and its input is printed (hex) for the ChangeLog and a seed.
: "${top_srcdir:?}" "${top_builddir:?}"

fuzz_run() {
	name=$1 secs=$2
	shift 2
	fuzzer="$top_builddir/test/fuzz_$name"
	seeds="$top_srcdir/test/fuzz/corpus/$name"
	work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_$name.XXXXXX") || exit 99
	trap 'rm -rf "$work"' EXIT INT TERM

	mkdir "$work/corpus" "$work/art" || exit 99
	cp "$seeds"/* "$work/corpus/" || exit 99

	"$fuzzer" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
		-seed=1 "$@" -artifact_prefix="$work/art/" "$work/corpus" \
		>"$work/log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$(ls "$work/art")" ]; then
		tail -40 "$work/log"
		for a in "$work/art"/*; do
			[ -f "$a" ] && { echo "$a:"; od -An -tx1 "$a" | head -20; }
		done
		echo "fuzz_$name: fuzzer found a problem (exit $rc)"
		exit 1
	fi
	grep -E '^Done|#[0-9]+.*DONE' "$work/log" | tail -1
	exit 0
}
