#!/bin/sh
# fuzz_gw_digest.sh -- a bounded libFuzzer run of fuzz_gw_digest (see run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run gw_digest 15 -max_len=2100
