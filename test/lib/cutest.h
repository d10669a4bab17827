/*
 * cutest.h -- run a CUnit registry of suites and turn the result into an
 * exit status automake understands (0 pass, 1 fail, 99 hard error).
 *
 * Each test program defines its suites and calls cutest_main() from
 * main().  Paths to the source and build trees come from SRCDIR and
 * BUILDDIR, set by test/Makefile.am.
 */
#ifndef STC_CUTEST_H
#define STC_CUTEST_H

#include <CUnit/CUnit.h>

int cutest_main(CU_SuiteInfo *suites);

/* "SRCDIR/rel" in a static buffer; for fixture paths. */
const char *cutest_src(const char *rel);
/* A fresh private directory under the build tree, removed by nobody:
 * make clean takes it away. */
const char *cutest_tmpdir(const char *name);

#endif
