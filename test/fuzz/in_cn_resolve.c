/* cn_resolve.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "connector/cn_resolve.c"
