#!/bin/sh
# fuzz_xmpp_s2s.sh -- a bounded libFuzzer run of fuzz_xmpp_s2s (see
# run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run xmpp_s2s 15 -max_len=8000
