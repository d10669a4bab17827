/* sst_dns.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "sipstack/sst_dns.c"
