/* cfg_domain.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_domain.c"
