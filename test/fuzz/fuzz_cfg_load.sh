#!/bin/sh
# fuzz_cfg_load.sh -- a bounded libFuzzer run of fuzz_cfg_load (see run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run cfg_load 15 -max_len=16384
