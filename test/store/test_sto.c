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

static char path[4096];
static int64_t now;

static void fresh(const char *name)
{
	const char *dir = cutest_tmpdir("sto");

	snprintf(path, sizeof(path), "%s/%s.db", dir ? dir : "/nonexistent",
		 name);
	now = (int64_t)time(NULL);
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

/* What a load found, copied. */
struct found {
	unsigned nb, np, ns;
	char b_aor[8][64], b_uri[8][128], b_inst[8][64], b_src[8][64];
	char b_tp[8][8], b_callid[8][64];
	uint32_t b_regid[8], b_cseq[8];
	int64_t b_exp[8];
	char p_etag[8][32], p_note[8][64];
	int p_status[8];
	uint64_t p_seq[8];
	char s_callid[8][64], s_route[8][128], s_dst[8][64];
	uint32_t s_lcseq[8];
	int s_last[8];
	bool s_ext[8], s_notified[8], s_entity_null[8];
};

static void cp(char *d, size_t sz, const char *s)
{
	snprintf(d, sz, "%s", s ? s : "(null)");
}

static void on_binding(const struct sto_binding *b, void *arg)
{
	struct found *f = arg;
	unsigned i = f->nb++;

	if (i >= 8)
		return;
	cp(f->b_aor[i], 64, b->aor);
	cp(f->b_uri[i], 128, b->uri);
	cp(f->b_inst[i], 64, b->instance);
	cp(f->b_src[i], 64, b->src);
	cp(f->b_tp[i], 8, b->tp);
	cp(f->b_callid[i], 64, b->callid);
	f->b_regid[i] = b->regid;
	f->b_cseq[i] = b->cseq;
	f->b_exp[i] = b->expires;
}

static void on_pub(const struct sto_pub *p, void *arg)
{
	struct found *f = arg;
	unsigned i = f->np++;

	if (i >= 8)
		return;
	cp(f->p_etag[i], 32, p->etag);
	cp(f->p_note[i], 64, p->note);
	f->p_status[i] = p->status;
	f->p_seq[i] = p->seq;
}

static void on_sub(const struct sto_sub *s, void *arg)
{
	struct found *f = arg;
	unsigned i = f->ns++;

	if (i >= 8)
		return;
	cp(f->s_callid[i], 64, s->callid);
	cp(f->s_route[i], 128, s->route);
	cp(f->s_dst[i], 64, s->dst);
	f->s_lcseq[i] = s->lcseq;
	f->s_last[i] = s->last;
	f->s_ext[i] = s->ext;
	f->s_notified[i] = s->notified;
	f->s_entity_null[i] = s->entity == NULL;
}

static const struct sto_load_h loadh = {on_binding, on_pub, on_sub};

/* Count-only handlers, for big loads. */
static void count_binding(const struct sto_binding *b, void *arg)
{
	(void)b;
	(*(unsigned *)arg)++;
}

static const struct sto_load_h counth = {count_binding, NULL, NULL};

static struct sto_binding binding(const char *aor, const char *uri,
				  int64_t expires)
{
	struct sto_binding b;

	memset(&b, 0, sizeof(b));
	b.aor = aor;
	b.uri = uri;
	b.callid = "reg-1@client";
	b.cseq = 7;
	b.expires = expires;
	b.tp = "udp";
	b.src = "127.0.117.11:5060";
	b.dst = "127.0.117.10:5060";
	return b;
}

static struct sto_sub sub(const char *callid, int64_t expires)
{
	struct sto_sub s;

	memset(&s, 0, sizeof(s));
	s.callid = callid;
	s.ltag = "ours";
	s.rtag = "theirs";
	s.watcher = "sip:bob@acme.test";
	s.target = "sip:alice@acme.test";
	s.rfrom = "sip:bob@acme.test";
	s.ruri = "sip:bob@127.0.117.12:5060";
	s.route = "Route: <sip:127.0.117.20;lr>\r\n";
	s.lcseq = 41;
	s.expires = expires;
	s.last = 2;
	s.notified = true;
	s.ext = true;
	s.tp = "udp";
	s.src = "127.0.117.12:5060";
	s.dst = "127.0.117.10:5060";
	return s;
}

static void test_write_reload(void)
{
	struct sto_binding bv[2];
	struct sto_pub pv[1];
	struct sto_sub s;
	struct sto_stats ss;
	struct found f;
	struct sto *st;

	fresh("reload");
	st = open_sqlite();
	if (!st)
		return;
	CU_ASSERT_STRING_EQUAL(sto_kind_name(sto_kind(st)), "sqlite");
	CU_ASSERT_STRING_EQUAL(sto_path(st), path);
	{
		/* users' addresses and watchers: for the owner only */
		struct stat sb;
		char wal[sizeof(path) + 8];

		CU_ASSERT_EQUAL(stat(path, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
		snprintf(wal, sizeof(wal), "%s-wal", path);
		CU_ASSERT_EQUAL(stat(wal, &sb), 0);    /* WAL mode */
		CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	}
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb + f.np + f.ns, 0);   /* a new file */

	bv[0] = binding("sip:alice@acme.test", "sip:alice@127.0.117.11",
			now + 600);
	bv[1] = binding("sip:alice@acme.test", "sip:alice@127.0.117.13",
			now + 300);
	bv[1].instance = "\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"";
	bv[1].regid = 1;
	bv[1].tp = "tcp";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 2), 0);
	memset(pv, 0, sizeof(pv));
	pv[0].aor = "sip:alice@acme.test";
	pv[0].etag = "etag-1";
	pv[0].status = 3;
	pv[0].note = "In a meeting";
	pv[0].expires = now + 600;
	pv[0].seq = 12;
	CU_ASSERT_EQUAL(sto_pub_set(st, pv[0].aor, pv, 1), 0);
	s = sub("dlg-1@bob", now + 600);
	CU_ASSERT_EQUAL(sto_sub_put(st, &s), 0);
	s.lcseq = 42;             /* a NOTIFY later: the same dialog */
	CU_ASSERT_EQUAL(sto_sub_put(st, &s), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);

	sto_stats_get(st, &ss);
	CU_ASSERT_TRUE(ss.healthy);
	CU_ASSERT_FALSE(sto_degraded(st));
	CU_ASSERT_EQUAL(ss.backlog, 0);
	CU_ASSERT_EQUAL(ss.written, 4);
	CU_ASSERT_TRUE(ss.last_ok > 0);
	mem_deref(st);

	st = open_sqlite();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 2);
	CU_ASSERT_STRING_EQUAL(f.b_aor[0], "sip:alice@acme.test");
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.117.11");
	CU_ASSERT_STRING_EQUAL(f.b_inst[0], "(null)");
	CU_ASSERT_STRING_EQUAL(f.b_src[0], "127.0.117.11:5060");
	CU_ASSERT_STRING_EQUAL(f.b_callid[0], "reg-1@client");
	CU_ASSERT_EQUAL(f.b_cseq[0], 7);
	CU_ASSERT_EQUAL(f.b_exp[0], now + 600);
	CU_ASSERT_STRING_EQUAL(f.b_inst[1],
		"\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"");
	CU_ASSERT_EQUAL(f.b_regid[1], 1);
	CU_ASSERT_STRING_EQUAL(f.b_tp[1], "tcp");
	CU_ASSERT_EQUAL(f.np, 1);
	CU_ASSERT_STRING_EQUAL(f.p_etag[0], "etag-1");
	CU_ASSERT_STRING_EQUAL(f.p_note[0], "In a meeting");
	CU_ASSERT_EQUAL(f.p_status[0], 3);
	CU_ASSERT_EQUAL(f.p_seq[0], 12);
	CU_ASSERT_EQUAL(f.ns, 1);   /* one dialog, its latest CSeq */
	CU_ASSERT_STRING_EQUAL(f.s_callid[0], "dlg-1@bob");
	CU_ASSERT_EQUAL(f.s_lcseq[0], 42);
	CU_ASSERT_EQUAL(f.s_last[0], 2);
	CU_ASSERT_TRUE(f.s_ext[0]);
	CU_ASSERT_TRUE(f.s_notified[0]);
	CU_ASSERT_TRUE(f.s_entity_null[0]);
	CU_ASSERT_STRING_EQUAL(f.s_route[0], "Route: <sip:127.0.117.20;lr>\r\n");
	CU_ASSERT_STRING_EQUAL(f.s_dst[0], "127.0.117.10:5060");

	/* the AOR's set replaces the old one; an empty set removes it */
	bv[0].uri = "sip:alice@127.0.117.14";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 1), 0);
	CU_ASSERT_EQUAL(sto_pub_set(st, "sip:alice@acme.test", NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_sub_del(st, "dlg-1@bob", "ours"), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	mem_deref(st);

	st = open_sqlite();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.117.14");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", NULL, 0), 0);
	mem_deref(st);   /* closing writes what is queued */

	st = open_sqlite();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 0);
	mem_deref(st);
}

enum { MANY = 5000 };

static void test_batch(void)
{
	struct sto_stats ss;
	struct sto *st;
	unsigned i, n = 0;

	fresh("batch");
	st = open_sqlite();
	if (!st)
		return;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	for (i = 0; i < MANY; i++) {
		char aor[64];
		struct sto_binding b;

		snprintf(aor, sizeof(aor), "sip:user%u@acme.test", i);
		b = binding(aor, "sip:u@127.0.117.11", now + 600);
		CU_ASSERT_EQUAL_FATAL(sto_reg_set(st, aor, &b, 1), 0);
	}
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_EQUAL(ss.written, MANY);
	/* batched: far fewer transactions than changes, none larger than
	 * the cap */
	CU_ASSERT_TRUE(ss.batches >= (MANY + STO_BATCH_MAX - 1) /
		       STO_BATCH_MAX);
	CU_ASSERT_TRUE(ss.batches < MANY / 10);
	CU_ASSERT_EQUAL(ss.failures, 0);
	CU_ASSERT_TRUE(ss.max_us >= ss.avg_us);
	mem_deref(st);

	st = open_sqlite();
	if (!st)
		return;
	n = 0;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(n, MANY);
	mem_deref(st);
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
	struct sto_binding bv[2];
	struct sto_pub p;
	struct sto_sub s;
	struct sto_stats ss;
	struct found f;
	struct sto *st;

	fresh("expiry");
	st = open_sqlite();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	bv[0] = binding("sip:old@acme.test", "sip:old@127.0.117.11", now - 5);
	bv[1] = binding("sip:old@acme.test", "sip:new@127.0.117.11",
			now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, bv[0].aor, bv, 2), 0);
	memset(&p, 0, sizeof(p));
	p.aor = "sip:old@acme.test";
	p.etag = "gone";
	p.expires = now - 1;
	CU_ASSERT_EQUAL(sto_pub_set(st, p.aor, &p, 1), 0);
	s = sub("dlg-old@bob", now);   /* expires now: gone at now */
	CU_ASSERT_EQUAL(sto_sub_put(st, &s), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("binding"), 2);

	/* a restart: what expired while the gateway was down is deleted,
	 * not loaded */
	st = open_sqlite();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:new@127.0.117.11");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_EQUAL(ss.cleaned, 3);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("binding"), 1);
	CU_ASSERT_EQUAL(rows("publication"), 0);
	CU_ASSERT_EQUAL(rows("subscription"), 0);
}

static bool logged_healthy;
static unsigned logged;
static char logged_msg[STO_ERR_MAX];

static void log_h(bool healthy, const char *msg, void *arg)
{
	(void)arg;
	logged++;
	logged_healthy = healthy;
	snprintf(logged_msg, sizeof(logged_msg), "%s", msg);
	re_cancel();
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
	sto_set_log(st, log_h, NULL);
	logged = 0;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);

	/* another process holds the file's write lock */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &other), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL,
					   NULL, NULL), SQLITE_OK);

	b = binding("sip:carol@acme.test", "sip:carol@127.0.117.15",
		    now + 600);
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
	CU_ASSERT_EQUAL(logged, 1);
	CU_ASSERT_FALSE(logged_healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged_msg, "locked"));

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
	CU_ASSERT_EQUAL(logged, 2);
	CU_ASSERT_TRUE(logged_healthy);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("binding"), 1);
}

static void test_memory(void)
{
	struct sto_conf c = {STO_MEMORY, NULL, NULL};
	struct sto_binding b = binding("sip:a@acme.test", "sip:a@h", 9);
	struct sto_stats ss;
	struct found f;
	struct sto *st = NULL;
	char why[128];

	CU_ASSERT_EQUAL_FATAL(sto_alloc(&st, &c, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(sto_kind_name(sto_kind(st)), "memory");
	CU_ASSERT_PTR_NULL(sto_path(st));
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
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
