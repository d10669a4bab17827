/* cfg_diag.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_diag.c"
