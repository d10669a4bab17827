/* cfg_load.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_load.c"
