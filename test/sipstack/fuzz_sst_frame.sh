#!/bin/sh
# fuzz_sst_frame.sh -- a fixed, seeded libFuzzer run of the stream framer
# (about 200 000 inputs); any crash, leak or abort() in the target fails.
set -eu
exec "$top_builddir/test/fuzz_sst_frame" -seed=1 -runs=200000 \
	-max_len=8192 2>&1
