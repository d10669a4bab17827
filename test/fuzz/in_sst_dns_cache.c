/* sst_dns_cache.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "sipstack/sst_dns_cache.c"
