/*
 * test_dir_ldif_work.c -- the duplicate-DN check of the LDIF reader at
 * the documented maximum of entries.  The reader is compiled into this
 * test so that its DN comparisons can be counted (DIR_LDIF_COMPARED):
 * 20,000 entries must cost a number of comparisons linear in the
 * entries, not one per pair, and duplicates must still be found,
 * whatever the case of their letters.
 */
#include <stddef.h>

static size_t compared;
#define DIR_LDIF_COMPARED() (compared++)

#include "directory/dir_ldif.c"

#include "lib/cutest.h"

static const struct dir_names names = {
	{"uid", "mail", "userPassword", "member"}, NULL, 0, NULL,
};

/* n entries "uid=uN,ou=people,dc=acme,dc=test"; then extra, if any. */
static const char *write_ldif(const char *name, size_t n, const char *extra)
{
	static char path[1200];
	const char *dir = cutest_tmpdir("dir_ldif_work");
	FILE *f;
	size_t i;

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs("version: 1\n\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "dn: uid=u%zu,ou=people,dc=acme,dc=test\n"
			"objectClass: inetOrgPerson\nuid: u%zu\n"
			"mail: u%zu@acme.test\n\n", i, i, i);
	if (extra)
		fputs(extra, f);
	fclose(f);
	return path;
}

static void test_max_entries(void)
{
	struct dir_be *be = NULL;
	struct dir_ents ents = {0};
	char why[512] = "";
	const char *path;

	path = write_ldif("max.ldif", DIR_LDIF_ENTRIES_MAX, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);

	compared = 0;
	CU_ASSERT_EQUAL_FATAL(dir_ldif_open(&be, path, &names, why,
					    sizeof(why)), 0);
	CU_ASSERT_TRUE(compared <= 2 * DIR_LDIF_ENTRIES_MAX);

	/* every entry is there: the first, the last */
	CU_ASSERT_EQUAL(be->ops->find(be, DIR_Q_BY_ID, "u0", 2, &ents, why,
				      sizeof(why)), 0);
	CU_ASSERT_EQUAL(ents.n, 1);
	dir_ents_free(&ents);
	CU_ASSERT_EQUAL(be->ops->find(be, DIR_Q_BY_ID, "u19999", 2, &ents,
				      why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(ents.n, 1);
	dir_ents_free(&ents);
	be->ops->destroy(be);
}

static void test_duplicate_found(void)
{
	struct dir_be *be = NULL;
	char why[512] = "", want[1400];
	const char *path;

	/* the same DN in other letter case, non-ASCII included, last */
	path = write_ldif("dup.ldif", 5000,
			  "dn: uid=\xc3\x84rger,ou=people,dc=acme,dc=test\n"
			  "uid: x\n\n"
			  "dn: UID=U17,OU=People,DC=Acme,DC=Test\nuid: y\n\n"
			  "dn: uid=\xc3\xa4rger,ou=people,dc=acme,dc=test\n"
			  "uid: z\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL(dir_ldif_open(&be, path, &names, why, sizeof(why)),
			EEXIST);
	CU_ASSERT_PTR_NULL(be);
	/* entry i starts at line 3 + 5 * i: u17 at 88; the copy at 25006 */
	snprintf(want, sizeof(want), "%s:25006: duplicate dn \"UID=U17,"
		 "OU=People,DC=Acme,DC=Test\" (first at line 88)", path);
	CU_ASSERT_STRING_EQUAL(why, want);

	path = write_ldif("dup2.ldif", 10,
			  "dn: uid=\xc3\x84rger,ou=people,dc=acme,dc=test\n"
			  "uid: x\n\n"
			  "dn: uid=\xc3\xa4rger,ou=people,dc=acme,dc=test\n"
			  "uid: z\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL(dir_ldif_open(&be, path, &names, why, sizeof(why)),
			EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, ":56: duplicate dn \"uid=\xc3\xa4"
				      "rger,ou=people,dc=acme,dc=test\" "
				      "(first at line 53)"));
}

static CU_TestInfo work_tests[] = {
	{"20,000 entries: linear duplicate check", test_max_entries},
	{"duplicates found in any letter case", test_duplicate_found},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"dir_ldif_work", NULL, NULL, NULL, NULL, work_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
