#!/bin/sh
# fuzz_sst_dns.sh -- a bounded libFuzzer run of fuzz_sst_dns (see
# run.sh); its DNS server listens on 127.0.116.60:16360.
set -u
. "$top_srcdir/test/fuzz/run.sh"
fuzz_run sst_dns 20 -max_len=1500
