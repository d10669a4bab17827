/* cfg_ctl.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_ctl.c"
