/*
 * test_sto.c -- the state store against a real SQLite file in a private
 * directory: what is written comes back after the store is closed and
 * opened again, changes are committed in batches, expired entries are
 * cleaned, a file that cannot be written makes the store degraded
 * without losing the changes, and the memory kind keeps nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <re.h>

#include "store/sto.h"
#include "test/lib/cutest.h"
#include "test/store/sto_cases.h"

static char path[4096];

static void fresh(const char *name)
{
	const char *dir = cutest_tmpdir("sto");

	snprintf(path, sizeof(path), "%s/%s.db", dir ? dir : "/nonexistent",
		 name);
	sto_case_now = (int64_t)time(NULL);
}

static struct sto *open_sqlite(void)
{
	struct sto_conf c = {STO_SQLITE, path, NULL};
	struct sto *st = NULL;
	char why[256];
	int err = sto_alloc(&st, &c, why, sizeof(why));

	CU_ASSERT_EQUAL(err, 0);
	if (err)
		fprintf(stderr, "sto_alloc: %s\n", why);
	return st;
}

/* users' addresses and watchers: for the owner only, in WAL mode */
static void sqlite_opened(struct sto *st)
{
	struct stat sb;
	char wal[sizeof(path) + 8];

	CU_ASSERT_STRING_EQUAL(sto_path(st), path);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	CU_ASSERT_EQUAL(stat(wal, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
}

static int rows(const char *table);

static const struct sto_fix fix = {
	.open = open_sqlite,
	.fresh = fresh,
	.rows = rows,
	.opened = sqlite_opened,
	.kind = "sqlite",
};

static void test_write_reload(void)
{
	sto_case_write_reload(&fix);
}

static void test_batch(void)
{
	sto_case_batch(&fix);
}

static int rows(const char *table)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char q[128];
	int n = -1;

	snprintf(q, sizeof(q), "SELECT count(*) FROM %s", table);
	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_expiry(void)
{
	sto_case_expiry(&fix);
}

static void test_degraded(void)
{
	struct sto_binding b;
	struct sto_stats ss;
	struct sto *st;
	sqlite3 *other = NULL;
	unsigned n = 0;

	fresh("degraded");
	st = open_sqlite();
	if (!st)
		return;
	sto_set_log(st, sto_case_log_h, NULL);
	sto_case_logged = 0;
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_counth, &n, sto_case_now), 0);

	/* another process holds the file's write lock */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &other), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL,
					   NULL, NULL), SQLITE_OK);

	b = sto_case_binding("sip:carol@acme.test", "sip:carol@127.0.117.15",
		    sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), EIO);
	sto_stats_get(st, &ss);
	CU_ASSERT_FALSE(ss.healthy);
	CU_ASSERT_TRUE(sto_degraded(st));
	CU_ASSERT_EQUAL(ss.backlog, 1);          /* kept, not lost */
	CU_ASSERT_TRUE(ss.failures >= 1);
	CU_ASSERT_EQUAL(ss.written, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ss.last_error, "locked"));

	/* the loop hears of it */
	re_main(NULL);
	CU_ASSERT_EQUAL(sto_case_logged, 1);
	CU_ASSERT_FALSE(sto_case_logged_healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(sto_case_logged_msg, "locked"));

	/* the lock goes: the kept change is written on the next try */
	CU_ASSERT_EQUAL(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
			SQLITE_OK);
	sqlite3_close(other);
	while (sto_sync(st) == EIO)
		;
	sto_stats_get(st, &ss);
	CU_ASSERT_TRUE(ss.healthy);
	CU_ASSERT_FALSE(sto_degraded(st));
	CU_ASSERT_EQUAL(ss.backlog, 0);
	CU_ASSERT_EQUAL(ss.written, 1);
	re_main(NULL);
	CU_ASSERT_EQUAL(sto_case_logged, 2);
	CU_ASSERT_TRUE(sto_case_logged_healthy);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("binding"), 1);
}

static void test_memory(void)
{
	struct sto_conf c = {STO_MEMORY, NULL, NULL};
	struct sto_binding b = sto_case_binding("sip:a@acme.test", "sip:a@h",
				     9);
	struct sto_stats ss;
	struct found f;
	struct sto *st = NULL;
	char why[128];

	CU_ASSERT_EQUAL_FATAL(sto_alloc(&st, &c, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(sto_kind_name(sto_kind(st)), "memory");
	CU_ASSERT_PTR_NULL(sto_path(st));
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_TRUE(ss.healthy);
	CU_ASSERT_EQUAL(ss.written, 0);
	CU_ASSERT_EQUAL(ss.kind, STO_MEMORY);
	mem_deref(st);
}

static void test_refused(void)
{
	struct sto_conf c = {STO_SQLITE, "/nonexistent-dir/state.db", NULL};
	struct sto *st = NULL;
	sqlite3 *db = NULL;
	char why[256] = "";

	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EIO);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "/nonexistent-dir/state.db"));

	c.path = "";
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EINVAL);

	/* a file written by another version of the program */
	fresh("version");
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "CREATE TABLE meta (key TEXT "
				     "PRIMARY KEY, value TEXT NOT NULL);"
				     "INSERT INTO meta VALUES ('version', "
				     "'9')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	c.path = path;
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "version 9"));

	/* not a database at all */
	fresh("garbage");
	{
		FILE *fp = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
		fputs("this is not an SQLite file, it is a text file that "
		      "is long enough to have a header\n", fp);
		fclose(fp);
	}
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, path));
}

static CU_TestInfo sto_tests[] = {
	{"write, replace, delete, reload", test_write_reload},
	{"changes are committed in batches", test_batch},
	{"expired entries are cleaned, not loaded", test_expiry},
	{"a locked file: degraded, kept, written later", test_degraded},
	{"memory kind keeps nothing", test_memory},
	{"unusable files are refused with a reason", test_refused},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sto", NULL, NULL, NULL, NULL, sto_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	if (libre_init())
		return 99;
	rc = cutest_main(suites);
	libre_close();
	return rc;
}
