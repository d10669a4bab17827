/* cfg_table.c with the fuzzer's coverage instrumentation (fuzz.am). */
#include "conf/cfg_table.c"
