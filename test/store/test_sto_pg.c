/*
 * test_sto_pg.c -- the state store against a real PostgreSQL server
 * that test/store/pgsql.sh starts on 127.0.119.1: the same checks as
 * the SQLite file (what is written comes back after the store is
 * closed and opened again, batches, expired entries cleaned, a server
 * that cannot be reached makes the store degraded without losing the
 * changes), and what sharing adds: two gateways' rows of one AOR stay
 * apart, and a commit is announced to listeners (NOTIFY).
 *
 * The environment gives the server: STO_PG (a libpq conninfo string),
 * STO_PG_STOP and STO_PG_START (shell commands stopping and starting
 * it).  Without STO_PG the program fails: it is run by pgsql.sh only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>

#include <libpq-fe.h>
#include <re.h>

#include "store/sto.h"
#include "test/lib/cutest.h"
#include "test/store/sto_cases.h"

static const char *conninfo;

static PGconn *admin(void)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "admin connection: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int exec_sql(const char *sql)
{
	PGconn *c = admin();
	PGresult *r;
	int ok;

	if (!c)
		return -1;
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A new, empty database for each test. */
static void fresh(const char *name)
{
	CU_ASSERT_EQUAL(exec_sql("SET client_min_messages = warning;"
				 "DROP TABLE IF EXISTS stc_meta, stc_binding, "
				 "stc_publication, stc_subscription"), 0);
	(void)name;
	sto_case_now = (int64_t)time(NULL);
}

static int rows(const char *where)
{
	PGconn *c = admin();
	PGresult *r;
	char q[256];
	int n = -1;

	if (!c)
		return -1;
	snprintf(q, sizeof(q), "SELECT count(*) FROM %s", where);
	r = PQexec(c, q);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		n = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

static struct sto *open_node(const char *node)
{
	struct sto_conf c = {STO_PGSQL, conninfo, node};
	struct sto *st = NULL;
	char why[256];
	int err = sto_alloc(&st, &c, why, sizeof(why));

	CU_ASSERT_EQUAL(err, 0);
	if (err)
		fprintf(stderr, "sto_alloc: %s\n", why);
	return st;
}

static struct sto *open_pg(void)
{
	return open_node("gw1");
}

static void pg_opened(struct sto *st)
{
	CU_ASSERT_STRING_EQUAL(sto_path(st),
			       "postgresql://stc@127.0.119.1:5432/postgres");
}

/* each gateway's rows carry its node name */
static void pg_written(void)
{
	CU_ASSERT_EQUAL(rows("stc_binding WHERE node='gw1'"), 2);
}

static int table_rows(const char *table)
{
	char q[64];

	snprintf(q, sizeof(q), "stc_%s", table);
	return rows(q);
}

static const struct sto_fix fix = {
	.open = open_pg,
	.fresh = fresh,
	.rows = table_rows,
	.opened = pg_opened,
	.written = pg_written,
	.kind = "postgresql",
};

static void test_write_reload(void)
{
	sto_case_write_reload(&fix);
}

static void test_batch(void)
{
	sto_case_batch(&fix);
}

static void test_expiry(void)
{
	sto_case_expiry(&fix);
}

static void test_degraded(void)
{
	const char *stop = getenv("STO_PG_STOP");
	const char *start = getenv("STO_PG_START");
	struct sto_binding b;
	struct sto_stats ss;
	struct sto *st;
	unsigned n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
	CU_ASSERT_PTR_NOT_NULL_FATAL(start);
	fresh(__func__);
	st = open_pg();
	if (!st)
		return;
	sto_set_log(st, sto_case_log_h, NULL);
	sto_case_logged = 0;
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_counth, &n, sto_case_now), 0);
	b = sto_case_binding("sip:dan@acme.test", "sip:dan@127.0.119.16",
				     sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);

	/* the server goes away */
	CU_ASSERT_EQUAL_FATAL(system(stop), 0);
	b = sto_case_binding("sip:carol@acme.test", "sip:carol@127.0.119.15",
		    sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), EIO);
	sto_stats_get(st, &ss);
	CU_ASSERT_FALSE(ss.healthy);
	CU_ASSERT_TRUE(sto_degraded(st));
	CU_ASSERT_EQUAL(ss.backlog, 1);          /* kept, not lost */
	CU_ASSERT_TRUE(ss.failures >= 1);
	CU_ASSERT_EQUAL(ss.written, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ss.last_error, "connect"));

	/* the loop hears of it */
	re_main(NULL);
	CU_ASSERT_EQUAL(sto_case_logged, 1);
	CU_ASSERT_FALSE(sto_case_logged_healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(sto_case_logged_msg, "connect"));

	/* the server is back: the kept change is written on the next try,
	 * over a new connection */
	CU_ASSERT_EQUAL_FATAL(system(start), 0);
	while (sto_sync(st) == EIO)
		;
	sto_stats_get(st, &ss);
	CU_ASSERT_TRUE(ss.healthy);
	CU_ASSERT_FALSE(sto_degraded(st));
	CU_ASSERT_EQUAL(ss.backlog, 0);
	CU_ASSERT_EQUAL(ss.written, 2);
	re_main(NULL);
	CU_ASSERT_EQUAL(sto_case_logged, 2);
	CU_ASSERT_TRUE(sto_case_logged_healthy);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("stc_binding"), 2);
}

/* Two gateways of one community: each replaces only its own rows of an
 * AOR, and each gets only its own back at start. */
static void test_two_nodes(void)
{
	struct sto_binding b1, b2;
	struct sto_pub p;
	struct sto_sub s;
	struct sto *g1, *g2;
	struct found f;

	fresh(__func__);
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(g1, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &sto_case_loadh, &f, sto_case_now), 0);

	b1 = sto_case_binding("sip:alice@acme.test", "sip:alice@127.0.119.11",
		     sto_case_now + 600);
	b2 = sto_case_binding("sip:alice@acme.test", "sip:alice@127.0.119.12",
		     sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(g1, b1.aor, &b1, 1), 0);
	CU_ASSERT_EQUAL(sto_reg_set(g2, b2.aor, &b2, 1), 0);
	memset(&p, 0, sizeof(p));
	p.aor = "sip:alice@acme.test";
	p.etag = "e1";
	p.status = 1;
	p.expires = sto_case_now + 600;
	CU_ASSERT_EQUAL(sto_pub_set(g1, p.aor, &p, 1), 0);
	p.etag = "e2";
	CU_ASSERT_EQUAL(sto_pub_set(g2, p.aor, &p, 1), 0);
	/* same ids, two gateways */
	s = sto_case_sub("dlg-same@bob", sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_sub_put(g1, &s), 0);
	CU_ASSERT_EQUAL(sto_sub_put(g2, &s), 0);
	CU_ASSERT_EQUAL(sto_sync(g1), 0);
	CU_ASSERT_EQUAL(sto_sync(g2), 0);
	CU_ASSERT_EQUAL(rows("stc_binding WHERE aor='sip:alice@acme.test'"),
			2);
	CU_ASSERT_EQUAL(rows("stc_publication"), 2);
	CU_ASSERT_EQUAL(rows("stc_subscription"), 2);

	/* gateway 2's client unregisters, its dialog ends: gateway 1's
	 * rows stay */
	CU_ASSERT_EQUAL(sto_reg_set(g2, b2.aor, NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_pub_set(g2, p.aor, NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_sub_del(g2, s.callid, s.ltag), 0);
	CU_ASSERT_EQUAL(sto_sync(g2), 0);
	CU_ASSERT_EQUAL(rows("stc_binding WHERE node='gw1' AND "
			     "uri='sip:alice@127.0.119.11'"), 1);
	CU_ASSERT_EQUAL(rows("stc_binding WHERE node='gw2'"), 0);
	CU_ASSERT_EQUAL(rows("stc_publication WHERE node='gw1' AND "
			     "etag='e1'"), 1);
	CU_ASSERT_EQUAL(rows("stc_subscription WHERE node='gw1'"), 1);
	CU_ASSERT_EQUAL(rows("stc_publication"), 1);
	CU_ASSERT_EQUAL(rows("stc_subscription"), 1);
 out:
	mem_deref(g2);
	mem_deref(g1);

	/* a restarted gateway 2 gets nothing of gateway 1's */
	g2 = open_node("gw2");
	if (!g2)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(g2, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb + f.np + f.ns, 0);
	mem_deref(g2);
	g1 = open_node("gw1");
	if (!g1)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(g1, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_EQUAL(f.np, 1);
	CU_ASSERT_EQUAL(f.ns, 1);
	mem_deref(g1);
}

/* A listener on the channel hears each committed batch, with the name
 * of the gateway that wrote it. */
static void test_notify(void)
{
	struct sto_binding b;
	struct sto *st;
	PGconn *l;
	PGresult *r;
	PGnotify *nf = NULL;
	struct pollfd pfd;
	unsigned n = 0;
	int i;

	fresh(__func__);
	st = open_node("gw1");
	l = admin();
	if (!st || !l)
		goto out;
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_counth, &n, sto_case_now), 0);
	r = PQexec(l, "LISTEN stconnector_state");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);

	b = sto_case_binding("sip:erin@acme.test", "sip:erin@127.0.119.17",
				     sto_case_now + 60);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	/* committed before sto_sync returned: the notification is on its
	 * way; wait for the socket, never by the clock alone */
	pfd.fd = PQsocket(l);
	pfd.events = POLLIN;
	for (i = 0; i < 100 && !nf; i++) {
		(void)poll(&pfd, 1, 100);
		(void)PQconsumeInput(l);
		nf = PQnotifies(l);
	}
	CU_ASSERT_PTR_NOT_NULL(nf);
	if (nf) {
		CU_ASSERT_STRING_EQUAL(nf->relname, "stconnector_state");
		CU_ASSERT_STRING_EQUAL(nf->extra, "gw1\tsip:erin@acme.test");
		PQfreemem(nf);
	}
 out:
	if (l)
		PQfinish(l);
	mem_deref(st);
}

/* What the feed handed to the loop. */
static struct {
	unsigned resets, synced, downs, ups, aors;
	unsigned gone, back;      /* other gateways' node events */
	bool want_node;           /* re_cancel at a node event */
	char aor[64], bnode[16], buri[64], pnode[16], pnote[64];
	size_t nb, np;
	int pstatus;
	const char *want;         /* re_cancel when this AOR arrives */
	bool want_down;
	bool want_synced;         /* re_cancel at the end of a resend */
} fd_;

static void on_remote(const struct sto_remote *r, void *arg)
{
	(void)arg;
	if (!r->aor && r->node) {
		if (r->node_up)
			fd_.back++;
		else
			fd_.gone++;
		if (fd_.want_node)
			re_cancel();
		return;
	}
	if (!r->aor) {
		if (r->synced)
			fd_.synced++;
		else
			fd_.resets++;
		if (r->synced && fd_.want_synced)
			re_cancel();
		return;
	}
	fd_.aors++;
	sto_case_cp(fd_.aor, sizeof(fd_.aor), r->aor);
	fd_.nb = r->nb;
	fd_.np = r->np;
	sto_case_cp(fd_.bnode, sizeof(fd_.bnode), r->nb ? r->bnode[0] : NULL);
	sto_case_cp(fd_.buri, sizeof(fd_.buri), r->nb ? r->bv[0].uri : NULL);
	sto_case_cp(fd_.pnode, sizeof(fd_.pnode), r->np ? r->pnode[0] : NULL);
	sto_case_cp(fd_.pnote, sizeof(fd_.pnote), r->np ? r->pv[0].note : NULL);
	fd_.pstatus = r->np ? r->pv[0].status : -1;
	if (fd_.want && !strcmp(fd_.want, r->aor))
		re_cancel();
}

static void on_feed(bool up, const char *msg, void *arg)
{
	(void)arg;
	(void)msg;
	if (up)
		fd_.ups++;
	else
		fd_.downs++;
	if (!up && fd_.want_down)
		re_cancel();
}

/* Gateway 1 follows too, as every gateway does: it holds its lock, so
 * gateway 2 does not take it for gone. */
static void ignore_remote(const struct sto_remote *r, void *arg)
{
	(void)r;
	(void)arg;
}

static void bound_h(void *arg)
{
	*(bool *)arg = true;
	re_cancel();
}

/* Run the loop until a handler cancels it; false if that took longer
 * than 20 s (a hang bound, not a measurement). */
static bool loop_until(void)
{
	struct tmr t;
	bool late = false;

	tmr_init(&t);
	tmr_start(&t, 20000, bound_h, &late);
	(void)re_main(NULL);
	tmr_cancel(&t);
	return !late;
}

/* Gateway 2 follows gateway 1's changes through LISTEN/NOTIFY, and
 * after the server was away it is sent everything again. */
static void test_follow(void)
{
	const char *stop = getenv("STO_PG_STOP");
	const char *start = getenv("STO_PG_START");
	struct sto_binding b;
	struct sto_pub p;
	struct sto_stats ss;
	struct sto *g1, *g2;
	unsigned n = 0;

	fresh(__func__);
	memset(&fd_, 0, sizeof(fd_));
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	CU_ASSERT_EQUAL(sto_load(g1, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_follow(g1, ignore_remote, NULL, NULL), 0);
	/* what gateway 1 holds before gateway 2 follows is sent too */
	b = sto_case_binding("sip:bob@acme.test", "sip:bob@127.0.119.12",
				     sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(g1, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(g1), 0);

	fd_.want_synced = true;
	CU_ASSERT_EQUAL(sto_follow(g2, on_remote, on_feed, NULL), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.resets, 1);
	CU_ASSERT_EQUAL(fd_.synced, 1);
	CU_ASSERT_EQUAL(fd_.ups, 1);
	CU_ASSERT_STRING_EQUAL(fd_.aor, "sip:bob@acme.test");
	CU_ASSERT_EQUAL(fd_.nb, 1);
	CU_ASSERT_STRING_EQUAL(fd_.bnode, "gw1");
	CU_ASSERT_STRING_EQUAL(fd_.buri, "sip:bob@127.0.119.12");
	CU_ASSERT_EQUAL(fd_.np, 0);
	CU_ASSERT_EQUAL(fd_.aors, 1);
	fd_.want_synced = false;
	fd_.want = "sip:bob@acme.test";

	/* a publication at gateway 1: gateway 2 hears of it */
	memset(&p, 0, sizeof(p));
	p.aor = "sip:bob@acme.test";
	p.etag = "e1";
	p.status = 4;
	p.note = "Lunch";
	p.expires = sto_case_now + 600;
	CU_ASSERT_EQUAL(sto_pub_set(g1, p.aor, &p, 1), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.np, 1);
	CU_ASSERT_STRING_EQUAL(fd_.pnode, "gw1");
	CU_ASSERT_STRING_EQUAL(fd_.pnote, "Lunch");
	CU_ASSERT_EQUAL(fd_.pstatus, 4);
	CU_ASSERT_EQUAL(fd_.nb, 1);

	/* gateway 2's own changes are not sent back to it */
	n = fd_.aors;
	b = sto_case_binding("sip:bob@acme.test", "sip:bob@127.0.119.13",
				     sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(g2, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_reg_set(g1, "sip:carol@acme.test", NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_sync(g2), 0);
	CU_ASSERT_EQUAL(sto_sync(g1), 0);
	fd_.want = "sip:carol@acme.test";
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.aors, n + 1);     /* carol only, not bob */
	CU_ASSERT_EQUAL(fd_.nb, 0);

	/* the server goes away: the feed says so; it comes back: all is
	 * sent again */
	fd_.want = NULL;
	fd_.want_down = true;
	CU_ASSERT_EQUAL_FATAL(system(stop), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.downs, 1);
	sto_stats_get(g2, &ss);
	CU_ASSERT_TRUE(ss.following);
	CU_ASSERT_FALSE(ss.feed_up);
	fd_.want_down = false;
	fd_.want = "sip:bob@acme.test";
	CU_ASSERT_EQUAL_FATAL(system(start), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.resets, 2);
	CU_ASSERT_EQUAL(fd_.ups, 2);
	CU_ASSERT_EQUAL(fd_.np, 1);
	sto_stats_get(g2, &ss);
	CU_ASSERT_TRUE(ss.feed_up);
	CU_ASSERT_EQUAL(ss.feed_resyncs, 2);
	CU_ASSERT_TRUE(ss.feed_updates >= 4);
	while (sto_sync(g1) == EIO)
		;
 out:
	mem_deref(g2);
	mem_deref(g1);
}

/* Gateway 1 goes (its sessions end, as when the process dies): gateway
 * 2 is told at once and its rows are left out; it comes back: its rows
 * are sent again. */
static void test_gone(void)
{
	struct sto_binding b;
	struct sto_stats ss;
	struct sto *g1, *g2;
	unsigned n = 0, synced;

	fresh(__func__);
	memset(&fd_, 0, sizeof(fd_));
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	CU_ASSERT_EQUAL(sto_load(g1, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_follow(g1, ignore_remote, NULL, NULL), 0);
	b = sto_case_binding("sip:bob@acme.test", "sip:bob@127.0.119.12",
				     sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(g1, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(g1), 0);
	fd_.want = "sip:bob@acme.test";
	CU_ASSERT_EQUAL(sto_follow(g2, on_remote, on_feed, NULL), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.nb, 1);

	/* gateway 1 goes */
	synced = fd_.synced;
	g1 = mem_deref(g1);
	fd_.want = NULL;
	fd_.want_node = true;
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.gone, 1);
	fd_.want_node = false;
	fd_.want_synced = true;
	if (fd_.synced == synced)   /* the resend's end may be read already */
		CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.synced, synced + 1);
	sto_stats_get(g2, &ss);
	CU_ASSERT_EQUAL(ss.gateways_down, 1);
	CU_ASSERT_TRUE(ss.feed_up);
	/* its rows stay in the database (its restart reads them) */
	CU_ASSERT_EQUAL(rows("stc_binding WHERE node='gw1'"), 1);

	/* it comes back: announced, its rows sent again */
	fd_.want_synced = false;
	fd_.want = "sip:bob@acme.test";
	fd_.nb = 0;
	g1 = open_node("gw1");
	if (!g1)
		goto out;
	CU_ASSERT_EQUAL(sto_load(g1, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(sto_follow(g1, ignore_remote, NULL, NULL), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.back, 1);
	CU_ASSERT_EQUAL(fd_.nb, 1);
	CU_ASSERT_STRING_EQUAL(fd_.bnode, "gw1");
	sto_stats_get(g2, &ss);
	CU_ASSERT_EQUAL(ss.gateways_down, 0);
 out:
	mem_deref(g2);
	mem_deref(g1);
}

static void test_refused(void)
{
	struct sto_conf c = {STO_PGSQL, "host=127.0.119.1 port=1 user=stc "
			     "dbname=postgres", "gw1"};
	struct sto *st = NULL;
	char why[256] = "";

	/* nothing listens there */
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EIO);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "cannot open the store"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "127.0.119.1"));

	/* a password in the string is not shown */
	c.path = "postgresql://stc:s3cret@127.0.119.1:1/postgres";
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EIO);
	CU_ASSERT_PTR_NULL(strstr(why, "s3cret"));

	c.path = "";
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "connection string"));

	/* a database written by another version of the program */
	fresh(__func__);
	CU_ASSERT_EQUAL(exec_sql("CREATE TABLE stc_meta (key TEXT PRIMARY "
				 "KEY, value TEXT NOT NULL);"
				 "INSERT INTO stc_meta VALUES ('version', "
				 "'9')"), 0);
	c.path = conninfo;
	CU_ASSERT_EQUAL(sto_alloc(&st, &c, why, sizeof(why)), EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "version 9"));
	CU_ASSERT_PTR_NULL(st);
}

static CU_TestInfo pg_tests[] = {
	{"write, replace, delete, reload", test_write_reload},
	{"changes are committed in batches", test_batch},
	{"expired entries are cleaned, not loaded", test_expiry},
	{"server down: degraded, kept, written later", test_degraded},
	{"two gateways keep their own rows", test_two_nodes},
	{"a commit is announced to listeners", test_notify},
	{"gateway 2 follows gateway 1, also after an outage", test_follow},
	{"a gateway gone is told at once, and its return", test_gone},
	{"unreachable or foreign databases are refused", test_refused},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sto_pg", NULL, NULL, NULL, NULL, pg_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	conninfo = getenv("STO_PG");
	if (!conninfo || !conninfo[0]) {
		fprintf(stderr, "test_sto_pg: STO_PG is not set; run it "
			"through test/store/pgsql.sh\n");
		return 99;
	}
	if (libre_init())
		return 99;
	rc = cutest_main(suites);
	libre_close();
	return rc;
}
