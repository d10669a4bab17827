/*
 * test_sst_trans.c -- the timer queue and the non-INVITE transactions.
 *
 * The timer queue runs on a hand-stepped clock, so its tests are exact.
 * The transaction tests run on the libre loop against real UDP and TCP
 * sockets on 127.0.4.x with T1 = 50 ms, and check what the peer actually
 * received: how many datagrams, and when, within tolerance bands.  Those
 * are protocol checks (RFC 3261 17.1.2.2 schedule), not speed tests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "sipstack/sst_trans.h"
#include "lib/cutest.h"

enum {
	T1 = 50,
	T2 = 400,
	T4 = 500,
	GUARD_MS = 15000,	/* a stuck loop ends the test, failing it */
	MAXRX = 64,
	EARLY_MS = 10,		/* a timer never fires before its deadline */
	LATE_MS = 120,		/* loaded machine, sanitizers */
};

/* ---- timer queue on a hand-stepped clock ---- */

static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

struct ftmr {
	struct sst_tmr t;
	struct sst_tmrq *q;
	unsigned id;
	uint64_t due;
	int restarts;		/* re-arm itself this many times */
	struct ftmr *victim;	/* cancel this one when firing */
};

static unsigned fired[256];
static uint64_t fired_at[256];
static unsigned nfired;

static void ftmr_h(void *arg)
{
	struct ftmr *f = arg;

	if (nfired < ARRAY_SIZE(fired)) {
		fired[nfired] = f->id;
		fired_at[nfired] = fake_now;
	}
	++nfired;

	if (f->victim)
		sst_tmr_cancel(&f->victim->t);

	if (f->restarts > 0) {
		--f->restarts;
		CU_ASSERT_EQUAL(sst_tmr_start(f->q, &f->t, 10, ftmr_h, f), 0);
	}
}

static struct sst_tmrq *fake_q(void)
{
	struct sst_tmrq *q = NULL;

	fake_now = 1000;
	nfired = 0;
	CU_ASSERT_EQUAL(sst_tmrq_alloc(&q, fake_clock, NULL), 0);

	return q;
}

static void test_tmr_order(void)
{
	static const uint64_t delays[] = {30, 10, 20, 10, 50, 0, 40, 10};
	static const unsigned want[] = {5, 1, 3, 7, 2, 0, 6, 4};
	struct ftmr f[ARRAY_SIZE(delays)];
	struct sst_tmrq *q = fake_q();
	struct sst_tmrq_stats qs;
	size_t i;

	memset(f, 0, sizeof(f));
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i].id = (unsigned)i;
		CU_ASSERT_EQUAL(sst_tmr_start(q, &f[i].t, delays[i], ftmr_h,
					      &f[i]), 0);
		CU_ASSERT(sst_tmr_isrunning(&f[i].t));
	}

	/* Nothing is due before its deadline. */
	fake_now = 999;
	CU_ASSERT_EQUAL(sst_tmrq_expire(q), 0);
	fake_now = 1000;
	CU_ASSERT_EQUAL(sst_tmrq_expire(q), 1);
	fake_now = 1015;
	CU_ASSERT_EQUAL(sst_tmrq_expire(q), 3);	/* three ties, start order */
	fake_now = 2000;
	CU_ASSERT_EQUAL(sst_tmrq_expire(q), 4);

	CU_ASSERT_EQUAL(nfired, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		CU_ASSERT_EQUAL(fired[i], want[i]);
		CU_ASSERT(!sst_tmr_isrunning(&f[i].t));
	}

	sst_tmrq_stats(q, &qs);
	CU_ASSERT_EQUAL(qs.pending, 0);
	CU_ASSERT_EQUAL(qs.fired, ARRAY_SIZE(f));
	mem_deref(q);
}

static void test_tmr_cancel(void)
{
	struct ftmr f[6];
	struct sst_tmrq *q = fake_q();
	struct sst_tmrq_stats qs;
	unsigned i;

	memset(f, 0, sizeof(f));
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i].id = i;
		CU_ASSERT_EQUAL(sst_tmr_start(q, &f[i].t, 10 * (i + 1), ftmr_h,
					      &f[i]), 0);
	}

	sst_tmr_cancel(&f[0].t);	/* the head */
	sst_tmr_cancel(&f[3].t);	/* the middle */
	sst_tmr_cancel(&f[5].t);	/* the tail */
	sst_tmr_cancel(&f[5].t);	/* twice: no-op */
	CU_ASSERT(!sst_tmr_isrunning(&f[0].t));

	/* A restart moves a running timer instead of adding a second one. */
	CU_ASSERT_EQUAL(sst_tmr_start(q, &f[1].t, 100, ftmr_h, &f[1]), 0);

	sst_tmrq_stats(q, &qs);
	CU_ASSERT_EQUAL(qs.pending, 3);
	CU_ASSERT_EQUAL(qs.cancelled, 3);

	fake_now += 1000;
	CU_ASSERT_EQUAL(sst_tmrq_expire(q), 3);
	CU_ASSERT_EQUAL(nfired, 3);
	CU_ASSERT_EQUAL(fired[0], 2);
	CU_ASSERT_EQUAL(fired[1], 4);
	CU_ASSERT_EQUAL(fired[2], 1);

	/* A running timer outliving its queue is left stopped. */
	CU_ASSERT_EQUAL(sst_tmr_start(q, &f[0].t, 5, ftmr_h, &f[0]), 0);
	mem_deref(q);
	CU_ASSERT(!sst_tmr_isrunning(&f[0].t));
	sst_tmr_cancel(&f[0].t);
}

static void test_tmr_in_handler(void)
{
	struct ftmr a, b, c;
	struct sst_tmrq *q = fake_q();

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.id = 1;
	b.id = 2;
	c.id = 3;
	c.q = q;

	/* a and b are due together; a runs first and cancels b. */
	a.victim = &b;
	CU_ASSERT_EQUAL(sst_tmr_start(q, &a.t, 20, ftmr_h, &a), 0);
	CU_ASSERT_EQUAL(sst_tmr_start(q, &b.t, 20, ftmr_h, &b), 0);
	/* c re-arms itself twice, 10 ms each time. */
	c.restarts = 2;
	CU_ASSERT_EQUAL(sst_tmr_start(q, &c.t, 5, ftmr_h, &c), 0);

	/* c re-arms relative to the time it ran, so step by 5 ms. */
	while (fake_now < 1030) {
		fake_now += 5;
		(void)sst_tmrq_expire(q);
	}
	CU_ASSERT_EQUAL(nfired, 4);
	CU_ASSERT_EQUAL(fired[0], 3);
	CU_ASSERT_EQUAL(fired_at[0], 1005);
	CU_ASSERT_EQUAL(fired[1], 3);
	CU_ASSERT_EQUAL(fired_at[1], 1015);
	CU_ASSERT_EQUAL(fired[2], 1);
	CU_ASSERT_EQUAL(fired_at[2], 1020);
	CU_ASSERT_EQUAL(fired[3], 3);
	CU_ASSERT_EQUAL(fired_at[3], 1025);
	CU_ASSERT(!sst_tmr_isrunning(&b.t));
	CU_ASSERT(!sst_tmr_isrunning(&c.t));

	mem_deref(q);
}

/* Pseudo-random, reproducible. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

struct mtmr {
	struct sst_tmr t;
	uint64_t due;
	bool fired;
};

static uint64_t last_due;
static bool order_ok;
static unsigned mfired;

static void mtmr_h(void *arg)
{
	struct mtmr *m = arg;

	if (m->due < last_due || m->due > fake_now || m->fired)
		order_ok = false;
	last_due = m->due;
	m->fired = true;
	++mfired;
}

static void test_tmr_many(void)
{
	enum { N = 100000 };
	struct sst_tmrq *q = fake_q();
	struct sst_tmrq_stats qs;
	struct mtmr *m;
	uint32_t seed = 42;
	unsigned i, cancelled = 0, early = 0;

	m = calloc(N, sizeof(*m));
	CU_ASSERT_FATAL(m != NULL);

	for (i = 0; i < N; i++) {
		m[i].due = fake_now + lcg(&seed) % 64000;
		CU_ASSERT_EQUAL_FATAL(sst_tmr_start_at(q, &m[i].t, m[i].due,
						       mtmr_h, &m[i]), 0);
	}
	for (i = 0; i < N; i += 3) {
		sst_tmr_cancel(&m[i].t);
		++cancelled;
	}

	sst_tmrq_stats(q, &qs);
	CU_ASSERT_EQUAL(qs.pending, N - cancelled);

	order_ok = true;
	last_due = 0;
	mfired = 0;
	while (fake_now < 1000 + 64000) {
		fake_now += 97;
		(void)sst_tmrq_expire(q);
	}

	CU_ASSERT(order_ok);
	CU_ASSERT_EQUAL(mfired, N - cancelled);
	for (i = 0; i < N; i++) {
		if (m[i].fired == (i % 3 == 0))
			++early;
	}
	CU_ASSERT_EQUAL(early, 0);

	sst_tmrq_stats(q, &qs);
	CU_ASSERT_EQUAL(qs.pending, 0);
	mem_deref(q);
	free(m);
}

/* The real clock and the libre timer: order only, no durations. */
struct rtmr {
	struct sst_tmr t;
	unsigned id;
};

static unsigned rorder[3];
static unsigned nrorder;

static void rtmr_h(void *arg)
{
	struct rtmr *r = arg;

	rorder[nrorder++] = r->id;
	if (nrorder == 3)
		re_cancel();
}

static void guard_h(void *arg)
{
	bool *expired = arg;

	*expired = true;
	re_cancel();
}

static void test_tmr_libre(void)
{
	struct rtmr r[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
	struct sst_tmrq *q = NULL;
	struct sst_tmrq_stats qs;
	struct tmr guard;
	bool expired = false;

	CU_ASSERT_EQUAL_FATAL(sst_tmrq_alloc(&q, NULL, NULL), 0);
	tmr_init(&guard);
	tmr_start(&guard, GUARD_MS, guard_h, &expired);

	nrorder = 0;
	CU_ASSERT_EQUAL(sst_tmr_start(q, &r[0].t, 30, rtmr_h, &r[0]), 0);
	CU_ASSERT_EQUAL(sst_tmr_start(q, &r[1].t, 10, rtmr_h, &r[1]), 0);
	CU_ASSERT_EQUAL(sst_tmr_start(q, &r[2].t, 20, rtmr_h, &r[2]), 0);
	(void)re_main(NULL);
	tmr_cancel(&guard);

	CU_ASSERT(!expired);
	CU_ASSERT_EQUAL(nrorder, 3);
	CU_ASSERT_EQUAL(rorder[0], 1);
	CU_ASSERT_EQUAL(rorder[1], 2);
	CU_ASSERT_EQUAL(rorder[2], 0);

	sst_tmrq_stats(q, &qs);
	CU_ASSERT(qs.wakeups >= 1);
	CU_ASSERT_EQUAL(qs.pending, 0);
	mem_deref(q);
}

/* ---- transactions over real sockets ---- */

/* What the transaction layer sends through (a libre mem object). */
struct dest {
	struct udp_sock *us;
	struct tcp_conn *tc;
	struct sa dst;
	int fail;		/* pretend the transport is down */
};

static int dest_send(struct mbuf *mb, void *arg)
{
	struct dest *d = arg;

	if (d->fail)
		return d->fail;
	if (d->tc)
		return tcp_send(d->tc, mb);

	return udp_send(d->us, &d->dst, mb);
}

static struct dest *dest_new(struct udp_sock *us, const struct sa *dst)
{
	struct dest *d = mem_zalloc(sizeof(*d), NULL);

	if (d) {
		d->us = us;
		if (dst)
			d->dst = *dst;
	}

	return d;
}

/* A UDP peer that records arrival times and may answer. */
struct peer {
	struct udp_sock *us;
	struct sa addr;
	uint64_t t0;
	uint64_t rx[MAXRX];
	unsigned nrx;
	unsigned answer_at;	/* answer 200 to datagram #n (1-based) */
	unsigned copies;	/* how many times the 200 is sent */
	unsigned trying_at;	/* answer 100 to datagram #n */
};

static int send_response(struct udp_sock *us, const struct sa *dst,
			 const struct sip_msg *req, uint16_t scode,
			 const char *reason)
{
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	const struct sip_hdr *cseq = sip_msg_hdr(req, SIP_HDR_CSEQ);
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb || !via || !from || !to || !cseq) {
		mem_deref(mb);
		return EINVAL;
	}

	err = mbuf_printf(mb,
			  "SIP/2.0 %u %s\r\n"
			  "Via: %r\r\n"
			  "From: %r\r\n"
			  "To: %r;tag=peer\r\n"
			  "Call-ID: %r\r\n"
			  "CSeq: %r\r\n"
			  "Content-Length: 0\r\n\r\n",
			  scode, reason, &via->val, &from->val, &to->val,
			  &req->callid, &cseq->val);
	mb->pos = 0;
	if (!err)
		err = udp_send(us, dst, mb);
	mem_deref(mb);

	return err;
}

static void peer_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct peer *p = arg;
	struct sip_msg *msg = NULL;
	uint64_t now = sst_tmr_now();
	unsigned i;

	if (!p->nrx)
		p->t0 = now;
	if (p->nrx < MAXRX)
		p->rx[p->nrx] = now - p->t0;
	++p->nrx;

	if (p->nrx != p->answer_at && p->nrx != p->trying_at)
		return;
	if (sip_msg_decode(&msg, mb))
		return;

	if (p->nrx == p->trying_at) {
		CU_ASSERT_EQUAL(send_response(p->us, src, msg, 100, "Trying"),
				0);
	}
	else {
		for (i = 0; i < p->copies; i++)
			CU_ASSERT_EQUAL(send_response(p->us, src, msg, 200,
						      "OK"), 0);
	}

	mem_deref(msg);
}

/* The side that owns the transaction stack. */
struct side {
	struct sst_tstack *stk;
	struct udp_sock *us;
	struct sa addr;
	unsigned nresp;		/* responses delivered to the owner */
	unsigned nfinal;
	uint16_t scodes[8];
	int lasterr;
	uint64_t t0;
	uint64_t final_ms;
	bool stop_on_final;
};

static void side_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct side *s = arg;
	struct sip_msg *msg = NULL;

	(void)src;
	if (sip_msg_decode(&msg, mb))
		return;
	if (!msg->req)
		(void)sst_tstack_recv_resp(s->stk, msg);
	mem_deref(msg);
}

static void owner_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg)
{
	struct side *s = arg;

	if (s->nresp < ARRAY_SIZE(s->scodes))
		s->scodes[s->nresp] = scode;
	++s->nresp;
	s->lasterr = err;

	/* Peer responses carry the message, local answers do not. */
	CU_ASSERT((msg == NULL) == (err != 0));
	if (msg)
		CU_ASSERT_EQUAL(msg->scode, scode);

	if (scode >= 200) {
		++s->nfinal;
		s->final_ms = sst_tmr_now() - s->t0;
		if (s->stop_on_final)
			re_cancel();
	}
}

static const struct sst_trans_conf test_conf = {T1, T2, T4, 64};

static void side_open(struct side *s, const char *ip)
{
	memset(s, 0, sizeof(*s));
	CU_ASSERT_EQUAL_FATAL(sst_tstack_alloc(&s->stk, &test_conf, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&s->addr, ip, 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&s->us, &s->addr, side_recv, s), 0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(s->us, &s->addr), 0);
}

static void side_close(struct side *s)
{
	s->stk = mem_deref(s->stk);
	s->us = mem_deref(s->us);
}

static void peer_open(struct peer *p, const char *ip)
{
	memset(p, 0, sizeof(*p));
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&p->addr, ip, 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&p->us, &p->addr, peer_recv, p), 0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(p->us, &p->addr), 0);
}

static struct mbuf *request(const struct sa *from, const char *transport,
			    const char *branch, const char *ftag)
{
	struct mbuf *mb = mbuf_alloc(512);

	if (!mb)
		return NULL;

	if (mbuf_printf(mb,
			"MESSAGE sip:bob@b.example SIP/2.0\r\n"
			"Via: SIP/2.0/%s %J;branch=%s\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@a.example>;tag=%s\r\n"
			"To: <sip:bob@b.example>\r\n"
			"Call-ID: %s@a.example\r\n"
			"CSeq: 1 MESSAGE\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: 2\r\n\r\nhi",
			transport, from, branch, ftag, branch)) {
		return mem_deref(mb);
	}

	mb->pos = 0;
	return mb;
}

/* Run the loop until something calls re_cancel() or ms pass. */
static void run_for(uint64_t ms)
{
	struct tmr t;
	bool expired = false;

	tmr_init(&t);
	tmr_start(&t, ms, guard_h, &expired);
	(void)re_main(NULL);
	tmr_cancel(&t);
}

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Wait for ms more; returns early only by re_cancel(). */
static void linger(uint64_t ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, stop_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&t);
}

/* Arrival offsets within [want - EARLY_MS, want + LATE_MS]. */
static void check_schedule(const struct peer *p, const uint64_t *want,
			   unsigned n)
{
	unsigned i;

	CU_ASSERT_EQUAL(p->nrx, n);
	for (i = 0; i < n && i < p->nrx && i < MAXRX; i++) {
		CU_ASSERT(p->rx[i] + EARLY_MS >= want[i]);
		CU_ASSERT(p->rx[i] <= want[i] + LATE_MS);
		if (p->rx[i] + EARLY_MS < want[i] ||
		    p->rx[i] > want[i] + LATE_MS)
			fprintf(stderr, "datagram %u at %llu ms, want %llu\n",
				i, (unsigned long long)p->rx[i],
				(unsigned long long)want[i]);
	}
}

static void test_ct_timeout_udp(void)
{
	/* T1, 2T1, 4T1, then T2 (= 8T1) until F at 64*T1 = 3200 ms. */
	static const uint64_t want[] = {0, 50, 150, 350, 750, 1150, 1550,
					1950, 2350, 2750, 3150};
	struct sst_trans_stats ts;
	struct side s;
	struct peer p;
	struct dest *d;
	struct mbuf *mb;
	struct sst_ctrans *ct = NULL;

	side_open(&s, "127.0.4.1");
	peer_open(&p, "127.0.4.2");
	d = dest_new(s.us, &p.addr);
	mb = request(&s.addr, "UDP", "z9hG4bKtimeout1", "t1");
	CU_ASSERT_FATAL(d && mb);

	s.stop_on_final = true;
	s.t0 = sst_tmr_now();
	CU_ASSERT_EQUAL(sst_ctrans_start(&ct, s.stk, "MESSAGE",
					 "z9hG4bKtimeout1", mb, false,
					 dest_send, d, owner_resp, &s), 0);
	mem_deref(mb);
	run_for(GUARD_MS);

	CU_ASSERT_EQUAL(s.nresp, 1);
	CU_ASSERT_EQUAL(s.scodes[0], 408);
	CU_ASSERT_EQUAL(s.lasterr, ETIMEDOUT);
	CU_ASSERT(s.final_ms >= 3100 && s.final_ms <= 4000);
	fprintf(stderr, "\n  408 after %llu ms\n",
		(unsigned long long)s.final_ms);

	/* Nothing more is sent once the transaction is over. */
	linger(3 * T1);
	check_schedule(&p, want, ARRAY_SIZE(want));

	sst_tstack_stats(s.stk, &ts);
	CU_ASSERT_EQUAL(ts.ct_created, 1);
	CU_ASSERT_EQUAL(ts.ct_active, 0);
	CU_ASSERT_EQUAL(ts.timeouts, 1);
	CU_ASSERT_EQUAL(ts.retrans, ARRAY_SIZE(want) - 1);

	mem_deref(d);
	side_close(&s);
	mem_deref(p.us);
}

static void test_ct_answered_udp(void)
{
	static const uint64_t want[] = {0, 50, 150};
	struct sst_trans_stats ts;
	struct side s;
	struct peer p;
	struct dest *d;
	struct mbuf *mb;

	side_open(&s, "127.0.4.3");
	peer_open(&p, "127.0.4.4");
	p.answer_at = 3;	/* after the 2nd retransmission */
	p.copies = 3;		/* and twice more, as a UDP peer would */
	d = dest_new(s.us, &p.addr);
	mb = request(&s.addr, "UDP", "z9hG4bKanswer1", "t2");
	CU_ASSERT_FATAL(d && mb);

	s.t0 = sst_tmr_now();
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, s.stk, "MESSAGE",
					 "z9hG4bKanswer1", mb, false,
					 dest_send, d, owner_resp, &s), 0);
	mem_deref(mb);

	/* Past where the next retransmissions (350, 750 ms) would be and
	 * past Timer K (T4 = 500 ms after the 200). */
	linger(1000);

	check_schedule(&p, want, ARRAY_SIZE(want));
	CU_ASSERT_EQUAL(s.nresp, 1);
	CU_ASSERT_EQUAL(s.nfinal, 1);
	CU_ASSERT_EQUAL(s.scodes[0], 200);
	CU_ASSERT_EQUAL(s.lasterr, 0);

	sst_tstack_stats(s.stk, &ts);
	CU_ASSERT_EQUAL(ts.retrans, 2);
	CU_ASSERT_EQUAL(ts.resp_absorbed, 2);
	CU_ASSERT_EQUAL(ts.ct_active, 0);	/* Timer K has run */
	CU_ASSERT_EQUAL(ts.timeouts, 0);

	mem_deref(d);
	side_close(&s);
	mem_deref(p.us);
}

static void test_ct_proceeding_udp(void)
{
	/* 100 after the first datagram: the pending E (T1) still fires,
	 * then every T2; the 200 answers datagram #4. */
	static const uint64_t want[] = {0, 50, 450, 850};
	struct sst_trans_stats ts;
	struct side s;
	struct peer p;
	struct dest *d;
	struct mbuf *mb;

	side_open(&s, "127.0.4.5");
	peer_open(&p, "127.0.4.6");
	p.trying_at = 1;
	p.answer_at = 4;
	p.copies = 1;
	d = dest_new(s.us, &p.addr);
	mb = request(&s.addr, "UDP", "z9hG4bKproc1", "t3");
	CU_ASSERT_FATAL(d && mb);

	s.stop_on_final = true;
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, s.stk, "MESSAGE",
					 "z9hG4bKproc1", mb, false,
					 dest_send, d, owner_resp, &s), 0);
	mem_deref(mb);
	run_for(GUARD_MS);
	linger(T2 + T1);

	check_schedule(&p, want, ARRAY_SIZE(want));
	CU_ASSERT_EQUAL(s.nresp, 2);
	CU_ASSERT_EQUAL(s.scodes[0], 100);
	CU_ASSERT_EQUAL(s.scodes[1], 200);
	CU_ASSERT_EQUAL(s.nfinal, 1);

	sst_tstack_stats(s.stk, &ts);
	CU_ASSERT_EQUAL(ts.retrans, 3);

	mem_deref(d);
	side_close(&s);
	mem_deref(p.us);
}

/* Reliable transport: a real TCP connection to a peer that reads and
 * never answers.  One copy of the request, then 408 at 64*T1. */
struct tpeer {
	struct tcp_sock *ts;
	struct tcp_conn *tc;
	struct sa addr;
	size_t nbytes;
	unsigned nreq;
};

static void tpeer_recv(struct mbuf *mb, void *arg)
{
	struct tpeer *tp = arg;
	const uint8_t *b = mbuf_buf(mb);
	size_t i, n = mbuf_get_left(mb);

	/* Requests start with the method; count them. */
	for (i = 0; i + 8 <= n; i++) {
		if (0 == memcmp(b + i, "MESSAGE ", 8))
			++tp->nreq;
	}
	tp->nbytes += n;
}

static void tpeer_close(int err, void *arg)
{
	struct tpeer *tp = arg;

	(void)err;
	tp->tc = mem_deref(tp->tc);
}

static void tpeer_conn(const struct sa *peer, void *arg)
{
	struct tpeer *tp = arg;

	(void)peer;
	if (tp->tc) {
		tcp_reject(tp->ts);
		return;
	}
	CU_ASSERT_EQUAL(tcp_accept(&tp->tc, tp->ts, NULL, tpeer_recv,
				   tpeer_close, tp), 0);
}

struct tclient {
	struct side *s;
	struct dest *d;
	struct mbuf *mb;
	int starterr;
	bool closed;
};

static void tclient_estab(void *arg)
{
	struct tclient *c = arg;

	c->s->t0 = sst_tmr_now();
	c->starterr = sst_ctrans_start(NULL, c->s->stk, "MESSAGE",
				       "z9hG4bKtcp1", c->mb, true, dest_send,
				       c->d, owner_resp, c->s);
}

static void tclient_close(int err, void *arg)
{
	struct tclient *c = arg;

	(void)err;
	c->closed = true;
}

static void test_ct_timeout_tcp(void)
{
	struct sst_trans_stats ts;
	struct side s;
	struct tpeer tp;
	struct tclient c;
	struct sa local;

	side_open(&s, "127.0.4.7");
	memset(&tp, 0, sizeof(tp));
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&tp.addr, "127.0.4.8", 0), 0);
	CU_ASSERT_EQUAL_FATAL(tcp_listen(&tp.ts, &tp.addr, tpeer_conn, &tp),
			      0);
	CU_ASSERT_EQUAL_FATAL(tcp_sock_local_get(tp.ts, &tp.addr), 0);

	c.s = &s;
	c.d = dest_new(NULL, NULL);
	CU_ASSERT_FATAL(c.d != NULL);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&local, "127.0.4.7", 0), 0);
	CU_ASSERT_EQUAL_FATAL(tcp_conn_alloc(&c.d->tc, &tp.addr,
					     tclient_estab, NULL,
					     tclient_close, &c), 0);
	CU_ASSERT_EQUAL_FATAL(tcp_conn_bind(c.d->tc, &local), 0);
	c.mb = request(&local, "TCP", "z9hG4bKtcp1", "t4");
	CU_ASSERT_FATAL(c.mb != NULL);
	CU_ASSERT_EQUAL_FATAL(tcp_conn_connect(c.d->tc, &tp.addr), 0);

	s.stop_on_final = true;
	run_for(GUARD_MS);

	CU_ASSERT_EQUAL(c.starterr, 0);
	CU_ASSERT_EQUAL(s.nresp, 1);
	CU_ASSERT_EQUAL(s.scodes[0], 408);
	CU_ASSERT(s.final_ms >= 3100 && s.final_ms <= 4000);
	CU_ASSERT_EQUAL(tp.nreq, 1);
	CU_ASSERT_EQUAL(tp.nbytes, c.mb->end);
	CU_ASSERT(!c.closed);

	sst_tstack_stats(s.stk, &ts);
	CU_ASSERT_EQUAL(ts.retrans, 0);
	CU_ASSERT_EQUAL(ts.timeouts, 1);
	CU_ASSERT_EQUAL(ts.ct_active, 0);

	mem_deref(c.mb);
	c.d->tc = mem_deref(c.d->tc);
	mem_deref(c.d);
	tp.tc = mem_deref(tp.tc);
	mem_deref(tp.ts);
	side_close(&s);
}

/* Transport errors reach the owner as 503, never from inside start. */
static void test_ct_tperror(void)
{
	struct sst_trans_stats ts;
	struct side s;
	struct peer p;
	struct dest *d, *d2;
	struct mbuf *mb, *mb2;
	struct sst_ctrans *ct = NULL;

	side_open(&s, "127.0.4.9");
	peer_open(&p, "127.0.4.10");
	d = dest_new(s.us, &p.addr);
	d2 = dest_new(s.us, &p.addr);
	mb = request(&s.addr, "UDP", "z9hG4bKerr1", "t5");
	mb2 = request(&s.addr, "UDP", "z9hG4bKerr2", "t6");
	CU_ASSERT_FATAL(d && d2 && mb && mb2);

	d->fail = ENETUNREACH;
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, s.stk, "MESSAGE",
					 "z9hG4bKerr1", mb, false, dest_send,
					 d, owner_resp, &s), 0);
	CU_ASSERT_EQUAL(s.nresp, 0);	/* not re-entered */

	/* Second one is sent, then its "connection" fails. */
	CU_ASSERT_EQUAL(sst_ctrans_start(&ct, s.stk, "MESSAGE",
					 "z9hG4bKerr2", mb2, false, dest_send,
					 d2, owner_resp, &s), 0);
	sst_ctrans_tperror(ct, ECONNRESET);
	CU_ASSERT_EQUAL(s.nresp, 1);
	CU_ASSERT_EQUAL(s.scodes[0], 503);
	CU_ASSERT_EQUAL(s.lasterr, ECONNRESET);

	linger(2 * T1);
	CU_ASSERT_EQUAL(s.nresp, 2);
	CU_ASSERT_EQUAL(s.scodes[1], 503);
	CU_ASSERT_EQUAL(s.lasterr, ENETUNREACH);
	CU_ASSERT_EQUAL(p.nrx, 1);	/* only the second's first copy */

	sst_tstack_stats(s.stk, &ts);
	CU_ASSERT_EQUAL(ts.tperrors, 2);
	CU_ASSERT_EQUAL(ts.ct_active, 0);

	mem_deref(mb);
	mem_deref(mb2);
	mem_deref(d);
	mem_deref(d2);
	side_close(&s);
	mem_deref(p.us);
}

/* ---- server transactions ---- */

struct server {
	struct sst_tstack *stk;
	struct udp_sock *us;
	struct sa addr;
	struct sst_strans *last;
	struct sip_msg *lastreq;
	unsigned delivered;
	unsigned absorbed;
};

static void server_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct server *sv = arg;
	struct sip_msg *msg = NULL;
	struct sst_strans *stx = NULL;
	struct dest *d;
	int err;

	if (sip_msg_decode(&msg, mb))
		return;

	d = dest_new(sv->us, src);
	err = sst_tstack_recv_req(sv->stk, &stx, msg, false, dest_send, d);
	mem_deref(d);

	if (err == EALREADY) {
		++sv->absorbed;
	}
	else if (!err) {
		++sv->delivered;
		sv->last = stx;
		mem_deref(sv->lastreq);
		sv->lastreq = mem_ref(msg);
	}
	mem_deref(msg);
}

/* A plain UDP client counting the responses it gets. */
struct uac {
	struct udp_sock *us;
	struct sa addr;
	unsigned n200;
	unsigned nother;
};

static void uac_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct uac *u = arg;
	struct sip_msg *msg = NULL;

	(void)src;
	if (sip_msg_decode(&msg, mb))
		return;
	if (!msg->req && msg->scode == 200)
		++u->n200;
	else
		++u->nother;
	mem_deref(msg);
}

static struct mbuf *response_for(const struct sip_msg *req, uint16_t scode)
{
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_hdr *cseq = sip_msg_hdr(req, SIP_HDR_CSEQ);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(req, SIP_HDR_TO);
	struct mbuf *mb = mbuf_alloc(512);

	if (!mb || !via || !cseq || !from || !to)
		return mem_deref(mb);
	if (mbuf_printf(mb, "SIP/2.0 %u X\r\nVia: %r\r\nFrom: %r\r\n"
			"To: %r;tag=s\r\nCall-ID: %r\r\nCSeq: %r\r\n"
			"Content-Length: 0\r\n\r\n", scode, &via->val,
			&from->val, &to->val, &req->callid, &cseq->val))
		return mem_deref(mb);

	mb->pos = 0;
	return mb;
}

static void uac_send(struct uac *u, const struct sa *dst, struct mbuf *mb)
{
	mb->pos = 0;
	CU_ASSERT_EQUAL(udp_send(u->us, dst, mb), 0);
}

static void test_st_retrans_udp(void)
{
	struct sst_trans_stats ts;
	struct server sv;
	struct uac u;
	struct mbuf *req, *req2, *resp;

	memset(&sv, 0, sizeof(sv));
	memset(&u, 0, sizeof(u));
	CU_ASSERT_EQUAL_FATAL(sst_tstack_alloc(&sv.stk, &test_conf, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&sv.addr, "127.0.4.11", 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&sv.us, &sv.addr, server_recv, &sv),
			      0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(sv.us, &sv.addr), 0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&u.addr, "127.0.4.12", 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&u.us, &u.addr, uac_recv, &u), 0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(u.us, &u.addr), 0);

	req = request(&u.addr, "UDP", "z9hG4bKsrv1", "s1");
	req2 = request(&u.addr, "UDP", "z9hG4bKsrv2", "s2");
	CU_ASSERT_FATAL(req && req2);

	/* Request, then a retransmission before the owner answered: it
	 * is absorbed and nothing is sent back yet. */
	uac_send(&u, &sv.addr, req);
	linger(T1);
	uac_send(&u, &sv.addr, req);
	linger(T1);
	CU_ASSERT_EQUAL(sv.delivered, 1);
	CU_ASSERT_EQUAL(sv.absorbed, 1);
	CU_ASSERT_EQUAL(u.n200 + u.nother, 0);
	CU_ASSERT_FATAL(sv.last != NULL && sv.lastreq != NULL);

	/* The owner answers 200 once. */
	resp = response_for(sv.lastreq, 200);
	CU_ASSERT_FATAL(resp != NULL);
	CU_ASSERT_EQUAL(sst_strans_reply(sv.last, 200, resp), 0);
	mem_deref(resp);
	linger(T1);
	CU_ASSERT_EQUAL(u.n200, 1);

	/* Two more retransmissions: each gets the same 200 again, none
	 * reaches the owner. */
	uac_send(&u, &sv.addr, req);
	uac_send(&u, &sv.addr, req);
	linger(T1);
	CU_ASSERT_EQUAL(sv.delivered, 1);
	CU_ASSERT_EQUAL(sv.absorbed, 3);
	CU_ASSERT_EQUAL(u.n200, 3);
	CU_ASSERT_EQUAL(u.nother, 0);

	/* Another branch is another transaction. */
	uac_send(&u, &sv.addr, req2);
	linger(T1);
	CU_ASSERT_EQUAL(sv.delivered, 2);

	/* A provisional answer is what a retransmission gets back then. */
	resp = response_for(sv.lastreq, 100);
	CU_ASSERT_FATAL(resp != NULL);
	CU_ASSERT_EQUAL(sst_strans_reply(sv.last, 100, resp), 0);
	mem_deref(resp);
	uac_send(&u, &sv.addr, req2);
	linger(T1);
	CU_ASSERT_EQUAL(sv.delivered, 2);
	CU_ASSERT_EQUAL(u.nother, 2);
	sst_strans_abandon(sv.last);

	sst_tstack_stats(sv.stk, &ts);
	CU_ASSERT_EQUAL(ts.st_created, 2);
	CU_ASSERT_EQUAL(ts.req_absorbed, 4);
	CU_ASSERT_EQUAL(ts.resp_resent, 3);
	CU_ASSERT_EQUAL(ts.st_active, 1);	/* the first waits in J */

	mem_deref(req);
	mem_deref(req2);
	mem_deref(sv.lastreq);
	mem_deref(sv.stk);
	mem_deref(sv.us);
	mem_deref(u.us);
}

/* ---- refusals and matching rules, no network needed ---- */

static struct sip_msg *decode_str(const char *s)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(strlen(s));

	if (!mb)
		return NULL;
	(void)mbuf_write_str(mb, s);
	mb->pos = 0;
	if (sip_msg_decode(&msg, mb))
		msg = NULL;
	mem_deref(mb);

	return msg;
}

static int null_send(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
	return 0;
}

static void null_resp(int err, uint16_t scode, const struct sip_msg *msg,
		      void *arg)
{
	(void)err;
	(void)scode;
	(void)msg;
	(void)arg;
}

static const char req_fmt[] =
	"%s sip:bob@b.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.4.20:5060;branch=%s\r\n"
	"From: <sip:alice@a.example>;tag=%s\r\n"
	"To: <sip:bob@b.example>\r\n"
	"Call-ID: c1@a.example\r\n"
	"CSeq: 1 %s\r\n"
	"Content-Length: 0\r\n\r\n";

static struct sip_msg *req_msg(const char *met, const char *branch,
			       const char *ftag)
{
	char buf[1024];

	(void)re_snprintf(buf, sizeof(buf), req_fmt, met, branch, ftag, met);

	return decode_str(buf);
}

static void test_refusals(void)
{
	static const char *const refused[] = {"INVITE", "ACK", "CANCEL"};
	struct sst_tstack *st = NULL;
	struct sst_strans *stx = NULL, *stx2 = NULL;
	struct mbuf *mb = mbuf_alloc(16);
	char longbranch[SST_TRANS_KEY_MAX + 16];
	size_t i;

	CU_ASSERT_FATAL(mb != NULL);
	(void)mbuf_write_str(mb, "x");
	mb->pos = 0;
	CU_ASSERT_EQUAL_FATAL(sst_tstack_alloc(&st, &test_conf, NULL), 0);

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		struct sip_msg *msg = req_msg(refused[i], "z9hG4bKr", "a");

		CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, refused[i],
						 "z9hG4bKr", mb, false,
						 null_send, NULL, null_resp,
						 NULL), ENOTSUP);
		CU_ASSERT_FATAL(msg != NULL);
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &stx, msg, false,
						    null_send, NULL), ENOTSUP);
		mem_deref(msg);
	}

	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "MESSAGE", "abc", mb,
					 false, null_send, NULL, null_resp,
					 NULL), EPROTO);
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "", "z9hG4bKx", mb,
					 false, null_send, NULL, null_resp,
					 NULL), EINVAL);
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "MESSAGE", "z9hG4bKx",
					 mb, false, NULL, NULL, null_resp,
					 NULL), EINVAL);

	memset(longbranch, 'a', sizeof(longbranch) - 1);
	memcpy(longbranch, "z9hG4bK", 7);
	longbranch[sizeof(longbranch) - 1] = '\0';
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "MESSAGE", longbranch,
					 mb, false, null_send, NULL,
					 null_resp, NULL), EMSGSIZE);

	/* Same branch and method twice: refused; other method: fine. */
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "MESSAGE", "z9hG4bKd",
					 mb, true, null_send, NULL, null_resp,
					 NULL), 0);
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "MESSAGE", "z9hG4bKd",
					 mb, true, null_send, NULL, null_resp,
					 NULL), EEXIST);
	CU_ASSERT_EQUAL(sst_ctrans_start(NULL, st, "OPTIONS", "z9hG4bKd",
					 mb, true, null_send, NULL, null_resp,
					 NULL), 0);

	/* RFC 2543 branch: the same request again is a retransmission,
	 * a different From tag is a new transaction. */
	{
		struct sip_msg *a = req_msg("MESSAGE", "old1", "f1");
		struct sip_msg *b = req_msg("MESSAGE", "old1", "f1");
		struct sip_msg *c = req_msg("MESSAGE", "old1", "f2");
		struct sip_msg *d = req_msg("NOTIFY", "z9hG4bKn", "f1");
		struct sip_msg *e = req_msg("NOTIFY", "z9hG4bKn", "f9");
		struct sst_strans *x = NULL;

		CU_ASSERT_FATAL(a && b && c && d && e);
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &stx, a, false,
						    null_send, NULL), 0);
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &x, b, false,
						    null_send, NULL), EALREADY);
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &stx2, c, false,
						    null_send, NULL), 0);
		CU_ASSERT(stx != stx2);
		/* Cookie branch: matched on branch, not on From tag. */
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &x, d, true,
						    null_send, NULL), 0);
		CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &x, e, true,
						    null_send, NULL), EALREADY);
		/* Reliable: a final reply ends the transaction at once
		 * (Timer J is 0), so the same branch is new again. */
		{
			struct sst_trans_stats ts0, ts1;

			sst_tstack_stats(st, &ts0);
			CU_ASSERT_EQUAL(sst_strans_reply(x, 200, mb), 0);
			sst_tstack_stats(st, &ts1);
			CU_ASSERT_EQUAL(ts1.st_active + 1, ts0.st_active);
			CU_ASSERT_EQUAL(sst_tstack_recv_req(st, &x, e, true,
							    null_send, NULL),
					0);
			sst_strans_abandon(x);
		}
		/* A response is not a request and vice versa. */
		CU_ASSERT_EQUAL(sst_tstack_recv_resp(st, a), EINVAL);

		mem_deref(a);
		mem_deref(b);
		mem_deref(c);
		mem_deref(d);
		mem_deref(e);
	}

	CU_ASSERT_EQUAL(sst_strans_reply(stx, 99, mb), EINVAL);
	CU_ASSERT_EQUAL(sst_strans_reply(stx, 200, mb), 0);
	/* stx now belongs to the stack (Timer J). */
	CU_ASSERT_EQUAL(sst_strans_reply(stx2, 180, mb), 0);
	CU_ASSERT_EQUAL(sst_strans_reply(stx2, 180, mb), 0);

	/* Destroying the stack ends whatever is left. */
	mem_deref(st);
	mem_deref(mb);
}

static CU_TestInfo tmr_tests[] = {
	{"order and ties", test_tmr_order},
	{"cancel and restart", test_tmr_cancel},
	{"cancel and re-arm in a handler", test_tmr_in_handler},
	{"100000 timers, a third cancelled", test_tmr_many},
	{"driven by the libre loop", test_tmr_libre},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo trans_tests[] = {
	{"refusals and matching keys", test_refusals},
	{"UDP: silent peer, E schedule, 408 at 64*T1", test_ct_timeout_udp},
	{"UDP: 200 after 2nd retransmission", test_ct_answered_udp},
	{"UDP: 100 stops growth, then T2", test_ct_proceeding_udp},
	{"TCP: no retransmission, 408 at 64*T1", test_ct_timeout_tcp},
	{"transport errors give 503", test_ct_tperror},
	{"server: retransmissions absorbed", test_st_retrans_udp},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_timer", NULL, NULL, NULL, NULL, tmr_tests},
	{"sst_trans", NULL, NULL, NULL, NULL, trans_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int ret;

	if (libre_init())
		return 99;
	ret = cutest_main(suites);
	libre_close();

	return ret;
}
