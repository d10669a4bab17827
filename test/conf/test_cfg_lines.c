/*
 * test_cfg_lines.c -- how much the loader reads to put elements on the
 * line where their start tag begins.  The loader is compiled into this
 * test so that the pass over the text can be counted
 * (CFG_LOAD_LOOKED): 10,000 namespace-prefixed elements on one line
 * must cost a number of looked-at bytes linear in the file, not one
 * walk back over the line per element.
 */
#include <stddef.h>

static size_t looked;
#define CFG_LOAD_LOOKED(n) (looked += (n))

#include "conf/cfg_load.c"

#include <stdio.h>

#include "lib/cutest.h"

enum { ELEMS = 10000 };

static void test_prefixed_one_line(void)
{
	static const char head[] =
		"<?xml version=\"1.0\"?>\n"
		"<CommunityConfig>\n"
		"<Community name=\"acme\"><Domain>acme.test</Domain>"
		"</Community>\n"
		"<x:Big xmlns:x=\"urn:x\">";
	static const char tail[] = "</x:Big>\n</CommunityConfig>\n";
	const char *dir = cutest_tmpdir("cfg_lines");
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	char path[1200];
	size_t size, i, j;
	bool found = false;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/big.xml", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(head, f);
	for (i = 0; i < ELEMS; i++)
		fputs("<x:e a=\"1\"/>", f);
	fputs(tail, f);
	size = (size_t)ftell(f);
	fclose(f);

	looked = 0;
	CU_ASSERT_EQUAL(cfg_load(&cfg, path, &diag), EBADMSG);
	CU_ASSERT_PTR_NULL(cfg);
	for (j = 0; j < diag.n; j++) {
		if (strstr(diag.msg[j], "big.xml:4: unknown record <Big>"))
			found = true;
	}
	if (!found)
		cfg_diag_print(&diag, stderr);
	CU_ASSERT_TRUE(found);
	/* each byte a few times at most */
	CU_ASSERT_TRUE(looked > 0 && looked <= 4 * size);
	cfg_diag_reset(&diag);
}

static CU_TestInfo lines_tests[] = {
	{"10,000 prefixed elements on one line: linear",
	 test_prefixed_one_line},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cfg_lines", NULL, NULL, NULL, NULL, lines_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
