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

static const char *conninfo;
static int64_t now;

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
static void fresh(void)
{
	CU_ASSERT_EQUAL(exec_sql("SET client_min_messages = warning;"
				 "DROP TABLE IF EXISTS stc_meta, stc_binding, "
				 "stc_publication, stc_subscription"), 0);
	now = (int64_t)time(NULL);
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
	b.src = "127.0.119.11:5060";
	b.dst = "127.0.119.10:5060";
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
	s.ruri = "sip:bob@127.0.119.12:5060";
	s.route = "Route: <sip:127.0.119.20;lr>\r\n";
	s.lcseq = 41;
	s.expires = expires;
	s.last = 2;
	s.notified = true;
	s.ext = true;
	s.tp = "udp";
	s.src = "127.0.119.12:5060";
	s.dst = "127.0.119.10:5060";
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

	fresh();
	st = open_pg();
	if (!st)
		return;
	CU_ASSERT_STRING_EQUAL(sto_kind_name(sto_kind(st)), "postgresql");
	CU_ASSERT_STRING_EQUAL(sto_path(st),
			       "postgresql://stc@127.0.119.1:5432/postgres");
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb + f.np + f.ns, 0);   /* a new database */

	bv[0] = binding("sip:alice@acme.test", "sip:alice@127.0.119.11",
			now + 600);
	bv[1] = binding("sip:alice@acme.test", "sip:alice@127.0.119.13",
			now + 300);
	bv[1].instance = "\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"";
	bv[1].regid = 1;
	bv[1].tp = "tcp";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 2), 0);
	memset(pv, 0, sizeof(pv));
	pv[0].aor = "sip:alice@acme.test";
	pv[0].etag = "etag-1";
	pv[0].status = 3;
	pv[0].note = "In a meeting, 'quoted' \\ and \"double\"";
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
	CU_ASSERT_EQUAL(rows("stc_binding WHERE node='gw1'"), 2);

	st = open_pg();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 2);
	CU_ASSERT_STRING_EQUAL(f.b_aor[0], "sip:alice@acme.test");
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.119.11");
	CU_ASSERT_STRING_EQUAL(f.b_inst[0], "(null)");
	CU_ASSERT_STRING_EQUAL(f.b_src[0], "127.0.119.11:5060");
	CU_ASSERT_STRING_EQUAL(f.b_callid[0], "reg-1@client");
	CU_ASSERT_EQUAL(f.b_cseq[0], 7);
	CU_ASSERT_EQUAL(f.b_exp[0], now + 600);
	CU_ASSERT_STRING_EQUAL(f.b_inst[1],
		"\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"");
	CU_ASSERT_EQUAL(f.b_regid[1], 1);
	CU_ASSERT_STRING_EQUAL(f.b_tp[1], "tcp");
	CU_ASSERT_EQUAL(f.np, 1);
	CU_ASSERT_STRING_EQUAL(f.p_etag[0], "etag-1");
	CU_ASSERT_STRING_EQUAL(f.p_note[0],
			       "In a meeting, 'quoted' \\ and \"double\"");
	CU_ASSERT_EQUAL(f.p_status[0], 3);
	CU_ASSERT_EQUAL(f.p_seq[0], 12);
	CU_ASSERT_EQUAL(f.ns, 1);   /* one dialog, its latest CSeq */
	CU_ASSERT_STRING_EQUAL(f.s_callid[0], "dlg-1@bob");
	CU_ASSERT_EQUAL(f.s_lcseq[0], 42);
	CU_ASSERT_EQUAL(f.s_last[0], 2);
	CU_ASSERT_TRUE(f.s_ext[0]);
	CU_ASSERT_TRUE(f.s_notified[0]);
	CU_ASSERT_TRUE(f.s_entity_null[0]);
	CU_ASSERT_STRING_EQUAL(f.s_route[0], "Route: <sip:127.0.119.20;lr>\r\n");
	CU_ASSERT_STRING_EQUAL(f.s_dst[0], "127.0.119.10:5060");

	/* the AOR's set replaces the old one; an empty set removes it */
	bv[0].uri = "sip:alice@127.0.119.14";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 1), 0);
	CU_ASSERT_EQUAL(sto_pub_set(st, "sip:alice@acme.test", NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_sub_del(st, "dlg-1@bob", "ours"), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	mem_deref(st);

	st = open_pg();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.119.14");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", NULL, 0), 0);
	mem_deref(st);   /* closing writes what is queued */

	st = open_pg();
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

	fresh();
	st = open_pg();
	if (!st)
		return;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	for (i = 0; i < MANY; i++) {
		char aor[64];
		struct sto_binding b;

		snprintf(aor, sizeof(aor), "sip:user%u@acme.test", i);
		b = binding(aor, "sip:u@127.0.119.11", now + 600);
		CU_ASSERT_EQUAL_FATAL(sto_reg_set(st, aor, &b, 1), 0);
	}
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_EQUAL(ss.written, MANY);
	CU_ASSERT_TRUE(ss.batches >= (MANY + STO_BATCH_MAX - 1) /
		       STO_BATCH_MAX);
	CU_ASSERT_TRUE(ss.batches < MANY / 10);
	CU_ASSERT_EQUAL(ss.failures, 0);
	CU_ASSERT_TRUE(ss.max_us >= ss.avg_us);
	mem_deref(st);

	st = open_pg();
	if (!st)
		return;
	n = 0;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(n, MANY);
	mem_deref(st);
}

static void test_expiry(void)
{
	struct sto_binding bv[2];
	struct sto_pub p;
	struct sto_sub s;
	struct sto_stats ss;
	struct found f;
	struct sto *st;

	fresh();
	st = open_pg();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	bv[0] = binding("sip:old@acme.test", "sip:old@127.0.119.11", now - 5);
	bv[1] = binding("sip:old@acme.test", "sip:new@127.0.119.11",
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
	CU_ASSERT_EQUAL(rows("stc_binding"), 2);

	st = open_pg();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:new@127.0.119.11");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_EQUAL(ss.cleaned, 3);
	mem_deref(st);
	CU_ASSERT_EQUAL(rows("stc_binding"), 1);
	CU_ASSERT_EQUAL(rows("stc_publication"), 0);
	CU_ASSERT_EQUAL(rows("stc_subscription"), 0);
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
	const char *stop = getenv("STO_PG_STOP");
	const char *start = getenv("STO_PG_START");
	struct sto_binding b;
	struct sto_stats ss;
	struct sto *st;
	unsigned n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
	CU_ASSERT_PTR_NOT_NULL_FATAL(start);
	fresh();
	st = open_pg();
	if (!st)
		return;
	sto_set_log(st, log_h, NULL);
	logged = 0;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	b = binding("sip:dan@acme.test", "sip:dan@127.0.119.16", now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, b.aor, &b, 1), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);

	/* the server goes away */
	CU_ASSERT_EQUAL_FATAL(system(stop), 0);
	b = binding("sip:carol@acme.test", "sip:carol@127.0.119.15",
		    now + 600);
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
	CU_ASSERT_EQUAL(logged, 1);
	CU_ASSERT_FALSE(logged_healthy);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged_msg, "connect"));

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
	CU_ASSERT_EQUAL(logged, 2);
	CU_ASSERT_TRUE(logged_healthy);
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

	fresh();
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(g1, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &loadh, &f, now), 0);

	b1 = binding("sip:alice@acme.test", "sip:alice@127.0.119.11",
		     now + 600);
	b2 = binding("sip:alice@acme.test", "sip:alice@127.0.119.12",
		     now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(g1, b1.aor, &b1, 1), 0);
	CU_ASSERT_EQUAL(sto_reg_set(g2, b2.aor, &b2, 1), 0);
	memset(&p, 0, sizeof(p));
	p.aor = "sip:alice@acme.test";
	p.etag = "e1";
	p.status = 1;
	p.expires = now + 600;
	CU_ASSERT_EQUAL(sto_pub_set(g1, p.aor, &p, 1), 0);
	p.etag = "e2";
	CU_ASSERT_EQUAL(sto_pub_set(g2, p.aor, &p, 1), 0);
	s = sub("dlg-same@bob", now + 600);  /* same ids, two gateways */
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
			     "src='127.0.119.11:5060'"), 1);
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
	CU_ASSERT_EQUAL(sto_load(g2, &loadh, &f, now), 0);
	CU_ASSERT_EQUAL(f.nb + f.np + f.ns, 0);
	mem_deref(g2);
	g1 = open_node("gw1");
	if (!g1)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(g1, &loadh, &f, now), 0);
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

	fresh();
	st = open_node("gw1");
	l = admin();
	if (!st || !l)
		goto out;
	CU_ASSERT_EQUAL(sto_load(st, &counth, &n, now), 0);
	r = PQexec(l, "LISTEN stconnector_state");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);

	b = binding("sip:erin@acme.test", "sip:erin@127.0.119.17", now + 60);
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
	cp(fd_.aor, sizeof(fd_.aor), r->aor);
	fd_.nb = r->nb;
	fd_.np = r->np;
	cp(fd_.bnode, sizeof(fd_.bnode), r->nb ? r->bnode[0] : NULL);
	cp(fd_.buri, sizeof(fd_.buri), r->nb ? r->bv[0].uri : NULL);
	cp(fd_.pnode, sizeof(fd_.pnode), r->np ? r->pnode[0] : NULL);
	cp(fd_.pnote, sizeof(fd_.pnote), r->np ? r->pv[0].note : NULL);
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

	fresh();
	memset(&fd_, 0, sizeof(fd_));
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	CU_ASSERT_EQUAL(sto_load(g1, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(sto_follow(g1, ignore_remote, NULL, NULL), 0);
	/* what gateway 1 holds before gateway 2 follows is sent too */
	b = binding("sip:bob@acme.test", "sip:bob@127.0.119.12", now + 600);
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
	p.expires = now + 600;
	CU_ASSERT_EQUAL(sto_pub_set(g1, p.aor, &p, 1), 0);
	CU_ASSERT_TRUE(loop_until());
	CU_ASSERT_EQUAL(fd_.np, 1);
	CU_ASSERT_STRING_EQUAL(fd_.pnode, "gw1");
	CU_ASSERT_STRING_EQUAL(fd_.pnote, "Lunch");
	CU_ASSERT_EQUAL(fd_.pstatus, 4);
	CU_ASSERT_EQUAL(fd_.nb, 1);

	/* gateway 2's own changes are not sent back to it */
	n = fd_.aors;
	b = binding("sip:bob@acme.test", "sip:bob@127.0.119.13", now + 600);
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

	fresh();
	memset(&fd_, 0, sizeof(fd_));
	g1 = open_node("gw1");
	g2 = open_node("gw2");
	if (!g1 || !g2)
		goto out;
	CU_ASSERT_EQUAL(sto_load(g1, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(sto_load(g2, &counth, &n, now), 0);
	CU_ASSERT_EQUAL(sto_follow(g1, ignore_remote, NULL, NULL), 0);
	b = binding("sip:bob@acme.test", "sip:bob@127.0.119.12", now + 600);
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
	CU_ASSERT_EQUAL(sto_load(g1, &counth, &n, now), 0);
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
	fresh();
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
