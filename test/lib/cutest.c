/*
 * cutest.c -- the common main() of the CUnit test programs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "cutest.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#ifndef BUILDDIR
#define BUILDDIR "."
#endif

const char *cutest_src(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", SRCDIR, rel);
	return buf;
}

const char *cutest_tmpdir(const char *name)
{
	static char buf[4096];
	char cmd[4200];

	snprintf(buf, sizeof(buf), "%s/test/tmp.%s.%ld", BUILDDIR, name,
		 (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", buf);
	if (system(cmd) != 0)
		return NULL;
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return NULL;
	return buf;
}

int cutest_main(CU_SuiteInfo *suites)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "cutest: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 99;
	}

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() +
		 CU_get_number_of_suites_failed();
	CU_cleanup_registry();

	return failed ? 1 : 0;
}
