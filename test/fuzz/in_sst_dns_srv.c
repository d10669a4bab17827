/* sst_dns_srv.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "sipstack/sst_dns_srv.c"
