#!/bin/sh
# fuzz_dir_ldif.sh -- a bounded libFuzzer run of fuzz_dir_ldif (see run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run dir_ldif 15 -max_len=8192
