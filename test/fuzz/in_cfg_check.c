/* cfg_check.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_check.c"
