/*
 * bench_trans.c -- cost of timers and non-INVITE transactions at 100,000
 * pending.  Not part of make check; see bench/README-trans.md for how to
 * build and run it and for the numbers.
 *
 * 1. libre's own tmr_start() with 100k 32 s timers pending (baseline).
 * 2. sst_tmr_start() into 100k pending timers of mixed durations.
 * 3. sst_ctrans_start() x 100k, half over UDP (Timers E and F running,
 *    request kept), half over TCP (Timer F only); then a 200 for each
 *    (UDP ones wait in Timer K, TCP ones end).
 * 4. sst_tstack_recv_req() + sst_strans_reply(200) x 100k over UDP
 *    (completed, waiting in Timer J with the response kept).
 * Memory is the malloc heap growth (mallinfo2) divided by the count.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "sipstack/sst_trans.h"

enum { N = 100000, PROBES = 1000 };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void nop_tmr(void *arg)
{
	(void)arg;
}

static int nop_send(struct mbuf *mb, void *arg)
{
	(void)mb;
	(void)arg;
	return 0;
}

static unsigned finals;

static void count_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
	if (scode >= 200)
		++finals;
}

static struct mbuf *message(const char *fmt, unsigned i, const char *extra)
{
	struct mbuf *mb = mbuf_alloc(600);

	if (!mb)
		abort();
	if (mbuf_printf(mb, fmt, i, i, i, extra))
		abort();
	mbuf_trim(mb);
	mb->pos = 0;

	return mb;
}

/* A typical IM request on the federation link: ~480 bytes. */
static const char req_fmt[] =
	"MESSAGE sip:Bob.Jones@chicago.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%08x\r\n"
	"Max-Forwards: 70\r\n"
	"From: <sip:Alice.Smith@acme.com>;tag=%08x\r\n"
	"To: <sip:Bob.Jones@chicago.example>\r\n"
	"Call-ID: %08x@acme.com\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Contact: <sip:Alice.Smith@192.0.2.10:5060>\r\n"
	"User-Agent: stconnector\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 17\r\n\r\n%s";

static const char resp_fmt[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK%08x\r\n"
	"From: <sip:Alice.Smith@acme.com>;tag=%08x\r\n"
	"To: <sip:Bob.Jones@chicago.example>;tag=b1\r\n"
	"Call-ID: %08x@acme.com\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Content-Length: 0\r\n\r\n%s";

static void bench_libre_tmr(void)
{
	struct tmr *t = calloc(N, sizeof(*t));
	struct tmr probe;
	double t0, t1;
	unsigned i;

	for (i = 0; i < N; i++)
		tmr_start(&t[i], 32000, nop_tmr, NULL);

	tmr_init(&probe);
	t0 = now_us();
	for (i = 0; i < PROBES; i++)
		tmr_start(&probe, 500, nop_tmr, NULL);
	t1 = now_us();
	tmr_cancel(&probe);

	printf("libre tmr_start(500 ms), %u x 32 s pending: %.2f us\n",
	       N, (t1 - t0) / PROBES);

	for (i = 0; i < N; i++)
		tmr_cancel(&t[i]);
	free(t);
}

static void bench_sst_tmr(void)
{
	static const uint64_t dur[] = {500, 1000, 2000, 4000, 5000, 32000};
	struct sst_tmr *t = calloc(N, sizeof(*t));
	struct sst_tmr probe;
	struct sst_tmrq *q = NULL;
	double t0, t1, t2;
	unsigned i;

	if (!t || sst_tmrq_alloc(&q, NULL, NULL))
		abort();

	t0 = now_us();
	for (i = 0; i < N; i++)
		sst_tmr_start(q, &t[i], dur[i % ARRAY_SIZE(dur)], nop_tmr,
			      NULL);
	t1 = now_us();

	sst_tmr_init(&probe);
	for (i = 0; i < PROBES; i++) {
		sst_tmr_start(q, &probe, 500, nop_tmr, NULL);
		sst_tmr_cancel(&probe);
	}
	t2 = now_us();

	printf("sst_tmr_start, %u mixed (0.5-32 s): %.3f us each\n", N,
	       (t1 - t0) / N);
	printf("sst_tmr_start(500 ms)+cancel, %u pending: %.3f us\n", N,
	       (t2 - t1) / PROBES);

	for (i = 0; i < N; i++)
		sst_tmr_cancel(&t[i]);
	mem_deref(q);
	free(t);
}

/* mode 0: all UDP, 1: all TCP, 2: alternating. */
static void bench_ctrans(const char *label, int mode)
{
	struct sst_trans_conf conf = {0, 0, 0, 65536};
	struct sst_trans_stats ts;
	struct sst_tstack *st = NULL;
	size_t hs, h0, h1, h2, h3;
	double t0, t1, tr = 0;
	char branch[32];
	unsigned i;

	hs = heap_used();
	if (sst_tstack_alloc(&st, &conf, NULL))
		abort();

	finals = 0;
	h0 = heap_used();
	t0 = now_us();
	for (i = 0; i < N; i++) {
		struct mbuf *mb = message(req_fmt, i, "Hello from Alice!");
		bool reliable = mode == 2 ? (i & 1) : mode == 1;

		snprintf(branch, sizeof(branch), "z9hG4bK%08x", i);
		if (sst_ctrans_start(NULL, st, "MESSAGE", branch, mb, reliable,
				     nop_send, NULL, count_resp, NULL))
			abort();
		mem_deref(mb);	/* kept only by UDP transactions */
	}
	t1 = now_us();
	h1 = heap_used();

	for (i = 0; i < N; i++) {
		struct mbuf *rs = message(resp_fmt, i, "");
		struct sip_msg *msg = NULL;
		double a = now_us();

		if (sip_msg_decode(&msg, rs))
			abort();
		(void)sst_tstack_recv_resp(st, msg);
		tr += now_us() - a;
		mem_deref(msg);
		mem_deref(rs);
	}
	h2 = heap_used();
	sst_tstack_stats(st, &ts);

	printf("client %s: start x %u (incl. building the request): "
	       "%.3f us each\n", label, N, (t1 - t0) / N);
	printf("  in flight: %.0f bytes per transaction\n",
	       (double)(h1 - h0) / N);
	printf("  200 for each (decode + match): %.2f us; finals=%u, "
	       "left in Timer K: %u\n", tr / N, finals, ts.ct_active);
	if (ts.ct_active)
		printf("  completed (Timer K): %.0f bytes per transaction\n",
		       (double)(h2 - h0) / ts.ct_active);

	mem_deref(st);
	h3 = heap_used();
	printf("  heap after the stack is gone: %+ld bytes (leak check)\n",
	       (long)h3 - (long)hs);
}

static void bench_ctrans_shared(void)
{
	struct sst_trans_conf conf = {0, 0, 0, 65536};
	struct mbuf *mb = message(req_fmt, 0, "Hello from Alice!");
	struct sst_tstack *st = NULL;
	char branch[32];
	double t0, t1;
	unsigned i;

	if (sst_tstack_alloc(&st, &conf, NULL))
		abort();

	t0 = now_us();
	for (i = 0; i < N; i++) {
		snprintf(branch, sizeof(branch), "z9hG4bK%08x", i);
		if (sst_ctrans_start(NULL, st, "MESSAGE", branch, mb, i & 1,
				     nop_send, NULL, count_resp, NULL))
			abort();
	}
	t1 = now_us();
	printf("client mixed: start x %u, request already built (%zu "
	       "bytes): %.3f us each\n", N, mb->end, (t1 - t0) / N);

	mem_deref(st);
	mem_deref(mb);
}

static void bench_strans(void)
{
	struct sst_trans_stats ts;
	struct sst_tstack *st = NULL;
	struct sst_trans_conf conf = {0, 0, 0, 65536};
	size_t h0, h1;
	double tdec = 0, ttr = 0, a, b, c, d;
	unsigned i;

	if (sst_tstack_alloc(&st, &conf, NULL))
		abort();

	h0 = heap_used();
	for (i = 0; i < N; i++) {
		struct mbuf *rq = message(req_fmt, i, "Hello from Alice!");
		struct sip_msg *msg = NULL;
		struct sst_strans *stx = NULL;
		struct mbuf *rs;

		a = now_us();
		if (sip_msg_decode(&msg, rq))
			abort();
		b = now_us();
		if (sst_tstack_recv_req(st, &stx, msg, false, nop_send, NULL))
			abort();
		c = now_us();
		rs = message(resp_fmt, i, "");
		d = now_us();
		if (sst_strans_reply(stx, 200, rs))
			abort();
		ttr += now_us() - d + (c - b);
		tdec += b - a;
		mem_deref(rs);
		mem_deref(msg);
		mem_deref(rq);
	}
	h1 = heap_used();

	sst_tstack_stats(st, &ts);
	printf("server: recv_req + reply(200) x %u over UDP: %.3f us "
	       "(+ %.2f us decode, not ours)\n", N, ttr / N, tdec / N);
	printf("  completed (Timer J, response kept): %.0f bytes per "
	       "transaction, %u active\n", (double)(h1 - h0) / N,
	       ts.st_active);
	mem_deref(st);
}

int main(void)
{
	if (libre_init())
		return 1;

	bench_libre_tmr();
	bench_sst_tmr();
	bench_ctrans_shared();
	bench_ctrans("UDP", 0);
	bench_ctrans("TCP", 1);
	bench_ctrans("mixed", 2);
	bench_strans();

	libre_close();
	return 0;
}
