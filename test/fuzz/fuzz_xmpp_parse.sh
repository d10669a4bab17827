#!/bin/sh
# fuzz_xmpp_parse.sh -- a bounded libFuzzer run of fuzz_xmpp_parse (see
# run.sh).
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run xmpp_parse 20 -max_len=70000
