#!/bin/sh
# fuzz_gw_pidf.sh -- a bounded libFuzzer run of fuzz_gw_pidf (see run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run gw_pidf 15 -max_len=17000
