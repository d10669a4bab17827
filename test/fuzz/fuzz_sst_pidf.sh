#!/bin/sh
# fuzz_sst_pidf.sh -- a bounded libFuzzer run of fuzz_sst_pidf (see run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run sst_pidf 15 -max_len=17000
