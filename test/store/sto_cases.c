/*
 * sto_cases.c -- the checks every state-store driver must pass (see
 * sto_cases.h).  The addresses in the rows are data only: nothing here
 * sends to them.
 */
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "test/store/sto_cases.h"
#include "test/lib/cutest.h"

int64_t sto_case_now;

void sto_case_cp(char *d, size_t sz, const char *s)
{
	snprintf(d, sz, "%s", s ? s : "(null)");
}
static void on_binding(const struct sto_binding *b, void *arg)
{
	struct found *f = arg;
	unsigned i = f->nb++;

	if (i >= 8)
		return;
	sto_case_cp(f->b_aor[i], 64, b->aor);
	sto_case_cp(f->b_uri[i], 128, b->uri);
	sto_case_cp(f->b_inst[i], 64, b->instance);
	sto_case_cp(f->b_src[i], 64, b->src);
	sto_case_cp(f->b_tp[i], 8, b->tp);
	sto_case_cp(f->b_callid[i], 64, b->callid);
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
	sto_case_cp(f->p_etag[i], 32, p->etag);
	sto_case_cp(f->p_note[i], 64, p->note);
	f->p_status[i] = p->status;
	f->p_seq[i] = p->seq;
}

static void on_sub(const struct sto_sub *s, void *arg)
{
	struct found *f = arg;
	unsigned i = f->ns++;

	if (i >= 8)
		return;
	sto_case_cp(f->s_callid[i], 64, s->callid);
	sto_case_cp(f->s_route[i], 128, s->route);
	sto_case_cp(f->s_dst[i], 64, s->dst);
	f->s_lcseq[i] = s->lcseq;
	f->s_last[i] = s->last;
	f->s_ext[i] = s->ext;
	f->s_notified[i] = s->notified;
	f->s_entity_null[i] = s->entity == NULL;
}

const struct sto_load_h sto_case_loadh = {on_binding, on_pub, on_sub};

static void count_binding(const struct sto_binding *b, void *arg)
{
	(void)b;
	(*(unsigned *)arg)++;
}

const struct sto_load_h sto_case_counth = {count_binding, NULL, NULL};

struct sto_binding sto_case_binding(const char *aor, const char *uri,
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

struct sto_sub sto_case_sub(const char *callid, int64_t expires)
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

bool sto_case_logged_healthy;
unsigned sto_case_logged;
char sto_case_logged_msg[STO_ERR_MAX];

void sto_case_log_h(bool healthy, const char *msg, void *arg)
{
	(void)arg;
	sto_case_logged++;
	sto_case_logged_healthy = healthy;
	snprintf(sto_case_logged_msg, sizeof(sto_case_logged_msg), "%s", msg);
	re_cancel();
}

void sto_case_write_reload(const struct sto_fix *fx)
{
	struct sto_binding bv[2];
	struct sto_pub pv[1];
	struct sto_sub s;
	struct sto_stats ss;
	struct found f;
	struct sto *st;

	fx->fresh(__func__);
	st = fx->open();
	if (!st)
		return;
	CU_ASSERT_STRING_EQUAL(sto_kind_name(sto_kind(st)), fx->kind);
	if (fx->opened)
		fx->opened(st);
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb + f.np + f.ns, 0);   /* an empty backing */

	bv[0] = sto_case_binding("sip:alice@acme.test", "sip:alice@127.0.117.11",
			sto_case_now + 600);
	bv[1] = sto_case_binding("sip:alice@acme.test", "sip:alice@127.0.117.13",
			sto_case_now + 300);
	bv[1].instance = "\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"";
	bv[1].regid = 1;
	bv[1].tp = "tcp";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 2), 0);
	memset(pv, 0, sizeof(pv));
	pv[0].aor = "sip:alice@acme.test";
	pv[0].etag = "etag-1";
	pv[0].status = 3;
	pv[0].note = "In a meeting, 'quoted' \\ and \"double\"";
	pv[0].expires = sto_case_now + 600;
	pv[0].seq = 12;
	CU_ASSERT_EQUAL(sto_pub_set(st, pv[0].aor, pv, 1), 0);
	s = sto_case_sub("dlg-1@bob", sto_case_now + 600);
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
	if (fx->written)
		fx->written();
	mem_deref(st);

	st = fx->open();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb, 2);
	CU_ASSERT_STRING_EQUAL(f.b_aor[0], "sip:alice@acme.test");
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.117.11");
	CU_ASSERT_STRING_EQUAL(f.b_inst[0], "(null)");
	CU_ASSERT_STRING_EQUAL(f.b_src[0], "127.0.117.11:5060");
	CU_ASSERT_STRING_EQUAL(f.b_callid[0], "reg-1@client");
	CU_ASSERT_EQUAL(f.b_cseq[0], 7);
	CU_ASSERT_EQUAL(f.b_exp[0], sto_case_now + 600);
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
	CU_ASSERT_STRING_EQUAL(f.s_route[0], "Route: <sip:127.0.117.20;lr>\r\n");
	CU_ASSERT_STRING_EQUAL(f.s_dst[0], "127.0.117.10:5060");

	/* the AOR's set replaces the old one; an empty set removes it */
	bv[0].uri = "sip:alice@127.0.117.14";
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", bv, 1), 0);
	CU_ASSERT_EQUAL(sto_pub_set(st, "sip:alice@acme.test", NULL, 0), 0);
	CU_ASSERT_EQUAL(sto_sub_del(st, "dlg-1@bob", "ours"), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	mem_deref(st);

	st = fx->open();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:alice@127.0.117.14");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	CU_ASSERT_EQUAL(sto_reg_set(st, "sip:alice@acme.test", NULL, 0), 0);
	mem_deref(st);   /* closing writes what is queued */

	st = fx->open();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb, 0);
	mem_deref(st);
}

enum { MANY = 5000 };

void sto_case_batch(const struct sto_fix *fx)
{
	struct sto_stats ss;
	struct sto *st;
	unsigned i, n = 0;

	fx->fresh(__func__);
	st = fx->open();
	if (!st)
		return;
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_counth, &n, sto_case_now), 0);
	for (i = 0; i < MANY; i++) {
		char aor[64];
		struct sto_binding b;

		snprintf(aor, sizeof(aor), "sip:user%u@acme.test", i);
		b = sto_case_binding(aor, "sip:u@127.0.117.11", sto_case_now + 600);
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

	st = fx->open();
	if (!st)
		return;
	n = 0;
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_counth, &n, sto_case_now), 0);
	CU_ASSERT_EQUAL(n, MANY);
	mem_deref(st);
}

void sto_case_expiry(const struct sto_fix *fx)
{
	struct sto_binding bv[2];
	struct sto_pub p;
	struct sto_sub s;
	struct sto_stats ss;
	struct found f;
	struct sto *st;

	fx->fresh(__func__);
	st = fx->open();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	bv[0] = sto_case_binding("sip:old@acme.test", "sip:old@127.0.117.11",
				     sto_case_now - 5);
	bv[1] = sto_case_binding("sip:old@acme.test", "sip:new@127.0.117.11",
			sto_case_now + 600);
	CU_ASSERT_EQUAL(sto_reg_set(st, bv[0].aor, bv, 2), 0);
	memset(&p, 0, sizeof(p));
	p.aor = "sip:old@acme.test";
	p.etag = "gone";
	p.expires = sto_case_now - 1;
	CU_ASSERT_EQUAL(sto_pub_set(st, p.aor, &p, 1), 0);
	/* expires now: gone now */
	s = sto_case_sub("dlg-old@bob", sto_case_now);
	CU_ASSERT_EQUAL(sto_sub_put(st, &s), 0);
	CU_ASSERT_EQUAL(sto_sync(st), 0);
	mem_deref(st);
	CU_ASSERT_EQUAL(fx->rows("binding"), 2);

	/* a restart: what expired while the gateway was down is deleted,
	 * not loaded */
	st = fx->open();
	if (!st)
		return;
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(sto_load(st, &sto_case_loadh, &f, sto_case_now), 0);
	CU_ASSERT_EQUAL(f.nb, 1);
	CU_ASSERT_STRING_EQUAL(f.b_uri[0], "sip:new@127.0.117.11");
	CU_ASSERT_EQUAL(f.np, 0);
	CU_ASSERT_EQUAL(f.ns, 0);
	sto_stats_get(st, &ss);
	CU_ASSERT_EQUAL(ss.cleaned, 3);
	mem_deref(st);
	CU_ASSERT_EQUAL(fx->rows("binding"), 1);
	CU_ASSERT_EQUAL(fx->rows("publication"), 0);
	CU_ASSERT_EQUAL(fx->rows("subscription"), 0);
}
