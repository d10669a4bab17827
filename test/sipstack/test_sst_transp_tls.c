/*
 * test_sst_transp_tls.c -- the transport's TLS listeners and pooled
 * TLS connections, with certificates made by certtool for the test:
 * mutual verification, the expected name as part of the pool key, a
 * name mismatch reported to the sender, plain bytes on a TLS port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_tls.h"
#include "sipstack/sst_transp.h"
#include "lib/cutest.h"

enum { GUARD_MS = 8000, MAXRX = 8 };

static const char req[] =
	"MESSAGE sip:bob@b.test SIP/2.0\r\n"
	"Via: SIP/2.0/TLS 127.0.1.20;branch=z9hG4bK1\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static const char resp[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TLS 127.0.1.20;branch=z9hG4bK1\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static char certdir[4096];

struct side {
	struct sst_tls_ctx *ctx;
	struct sst_transp *tp;
	struct sst_conn *conn[MAXRX];
	struct sst_tls_peer peer[MAXRX];
	char body[MAXRX][256];
	unsigned nrx;
	bool reply;
};

static void side_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct side *s = arg;
	size_t n = mbuf_get_left(mb);

	if (s->nrx >= MAXRX)
		return;

	CU_ASSERT_EQUAL(rx->tp, SST_TP_TLS);
	s->conn[s->nrx] = mem_ref(rx->conn);
	CU_ASSERT_EQUAL(sst_tls_peer(sst_conn_tls(rx->conn),
				     &s->peer[s->nrx]), 0);
	if (n >= sizeof(s->body[0]))
		n = sizeof(s->body[0]) - 1;
	memcpy(s->body[s->nrx], mbuf_buf(mb), n);
	s->body[s->nrx][n] = '\0';
	s->nrx++;

	if (s->reply) {
		struct mbuf *r = mbuf_alloc(sizeof(resp));

		mbuf_write_str(r, resp);
		r->pos = 0;
		CU_ASSERT_EQUAL(sst_conn_send(rx->conn, r), 0);
		mem_deref(r);
	}
}

static void side_init(struct side *s, const char *name)
{
	struct sst_tls_conf tc;
	struct sst_transp_conf conf;
	char cert[4200], key[4200], ca[4200];

	memset(s, 0, sizeof(*s));
	snprintf(cert, sizeof(cert), "%s/%s.chain.pem", certdir, name);
	snprintf(key, sizeof(key), "%s/%s.key", certdir, name);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certdir);

	memset(&tc, 0, sizeof(tc));
	tc.cert = cert;
	tc.key = key;
	tc.ca = ca;
	tc.verify = true;
	CU_ASSERT_EQUAL_FATAL(sst_tls_ctx_alloc(&s->ctx, &tc), 0);

	memset(&conf, 0, sizeof(conf));
	conf.tls = s->ctx;
	CU_ASSERT_EQUAL_FATAL(sst_transp_alloc(&s->tp, &conf, side_recv, s),
			      0);
}

static void side_close(struct side *s)
{
	unsigned i;

	for (i = 0; i < s->nrx; i++)
		mem_deref(s->conn[i]);
	s->tp = mem_deref(s->tp);
	s->ctx = mem_deref(s->ctx);
}

static struct sa addr(const char *ip, uint16_t port)
{
	struct sa sa;

	CU_ASSERT_EQUAL(sa_set_str(&sa, ip, port), 0);
	return sa;
}

typedef bool (cond_h)(void *arg);

struct wait {
	struct tmr poll;
	struct tmr guard;
	cond_h *cond;
	void *arg;
	bool ok;
};

static void poll_handler(void *arg)
{
	struct wait *w = arg;

	if (w->cond(w->arg)) {
		w->ok = true;
		re_cancel();
		return;
	}
	tmr_start(&w->poll, 5, poll_handler, w);
}

static void guard_handler(void *arg)
{
	(void)arg;
	re_cancel();
}

static bool wait_for(cond_h *cond, void *arg)
{
	struct wait w;

	memset(&w, 0, sizeof(w));
	w.cond = cond;
	w.arg = arg;
	if (cond(arg))
		return true;

	tmr_start(&w.poll, 5, poll_handler, &w);
	tmr_start(&w.guard, GUARD_MS, guard_handler, &w);
	(void)re_main(NULL);
	tmr_cancel(&w.poll);
	tmr_cancel(&w.guard);
	return w.ok;
}

static unsigned want_n;

static bool got_n(void *arg)
{
	return ((struct side *)arg)->nrx >= want_n;
}

struct failed {
	int err;
	unsigned calls;
};

static void fail_handler(int err, void *arg)
{
	struct failed *f = arg;

	f->err = err;
	f->calls++;
}

static bool failed_once(void *arg)
{
	return ((struct failed *)arg)->calls > 0;
}

static int send_str(struct side *s, const struct sa *dst,
		    const struct sa *laddr, const char *name,
		    struct failed *f)
{
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	mbuf_write_str(mb, req);
	mb->pos = 0;
	err = sst_transp_send(s->tp, NULL, SST_TP_TLS, dst, laddr, name, mb,
			      f ? fail_handler : NULL, f);
	mem_deref(mb);
	return err;
}

static void test_tls_both_ways(void)
{
	struct side a, b;
	struct sa bb = addr("127.0.1.21", 0), la = addr("127.0.1.20", 0);

	side_init(&a, "sip.a.test");
	side_init(&b, "sip.b.test");
	b.reply = true;
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(b.tp, SST_TP_TLS, &bb, &bb), 0);

	/* two sends while the handshake runs: one connection */
	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "sip.b.test", NULL), 0);
	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "sip.b.test", NULL), 0);
	want_n = 2;
	CU_ASSERT_FATAL(wait_for(got_n, &b));
	CU_ASSERT_FATAL(wait_for(got_n, &a));
	CU_ASSERT_STRING_EQUAL(b.body[0], req);
	CU_ASSERT_STRING_EQUAL(a.body[0], resp);
	CU_ASSERT(sa_cmp(sst_conn_peer(b.conn[0]), &la, SA_ADDR));
	CU_ASSERT_EQUAL(sst_transp_counters(a.tp, SST_TP_TLS)->conns_out, 1);
	CU_ASSERT_EQUAL(sst_transp_counters(b.tp, SST_TP_TLS)->conns_in, 1);

	/* both sides verified each other */
	CU_ASSERT_EQUAL(b.peer[0].verdict, SST_TLS_VALID);
	CU_ASSERT_EQUAL(a.peer[0].verdict, SST_TLS_VALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(a.peer[0].subject, "sip.b.test"));

	side_close(&a);
	side_close(&b);
}

static void test_tls_name_mismatch(void)
{
	struct side a, b;
	struct sa bb = addr("127.0.1.21", 0), la = addr("127.0.1.20", 0);
	struct failed f;

	memset(&f, 0, sizeof(f));
	side_init(&a, "sip.a.test");
	side_init(&b, "sip.b.test");
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(b.tp, SST_TP_TLS, &bb, &bb), 0);

	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "sip.other.test", &f), 0);
	CU_ASSERT_FATAL(wait_for(failed_once, &f));
	CU_ASSERT_EQUAL(f.err, EAUTH);
	CU_ASSERT_EQUAL(sst_transp_counters(a.tp, SST_TP_TLS)
			->err[SST_ERR_TLS], 1);
	CU_ASSERT_EQUAL(b.nrx, 0);

	side_close(&a);
	side_close(&b);
}

/* The expected name is part of the pool key. */
static void test_tls_pool_by_name(void)
{
	struct side a, b;
	struct sa bb = addr("127.0.1.21", 0), la = addr("127.0.1.20", 0);

	side_init(&a, "sip.a.test");
	side_init(&b, "sip.b.test");
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(b.tp, SST_TP_TLS, &bb, &bb), 0);

	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "sip.b.test", NULL), 0);
	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "SIP.B.TEST", NULL), 0);
	CU_ASSERT_EQUAL(send_str(&a, &bb, &la, "127.0.1.21", NULL), 0);
	want_n = 3;
	CU_ASSERT_FATAL(wait_for(got_n, &b));
	CU_ASSERT_EQUAL(sst_transp_counters(a.tp, SST_TP_TLS)->conns_out, 2);

	side_close(&a);
	side_close(&b);
}

struct raw {
	struct tcp_conn *tc;
	bool up;
	bool closed;
};

static void raw_estab(void *arg)
{
	((struct raw *)arg)->up = true;
}

static void raw_close(int err, void *arg)
{
	(void)err;
	((struct raw *)arg)->closed = true;
}

static bool raw_up(void *arg)
{
	return ((struct raw *)arg)->up;
}

static bool raw_closed(void *arg)
{
	return ((struct raw *)arg)->closed;
}

static bool tls_failed(void *arg)
{
	struct side *s = arg;

	return sst_transp_counters(s->tp, SST_TP_TLS)->err[SST_ERR_TLS] > 0;
}

/* Plain SIP on the TLS port: refused as a TLS failure. */
static void test_plain_on_tls_port(void)
{
	struct side b;
	struct sa bb = addr("127.0.1.21", 0);
	struct raw r;
	struct mbuf mb;

	memset(&r, 0, sizeof(r));
	side_init(&b, "sip.b.test");
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(b.tp, SST_TP_TLS, &bb, &bb), 0);

	CU_ASSERT_EQUAL_FATAL(tcp_connect(&r.tc, &bb, raw_estab, NULL,
					  raw_close, &r), 0);
	CU_ASSERT_FATAL(wait_for(raw_up, &r));
	mbuf_init(&mb);
	mb.buf = (uint8_t *)req;
	mb.size = mb.end = strlen(req);
	CU_ASSERT_EQUAL(tcp_send(r.tc, &mb), 0);

	CU_ASSERT(wait_for(raw_closed, &r));
	CU_ASSERT(wait_for(tls_failed, &b));
	CU_ASSERT_EQUAL(b.nrx, 0);

	mem_deref(r.tc);
	side_close(&b);
}

static int suite_init(void)
{
	const char *d = cutest_tmpdir("transp_tls");
	char cmd[8192];

	if (!d || libre_init() || sst_transp_init(4096))
		return 1;
	snprintf(certdir, sizeof(certdir), "%s", d);
	snprintf(cmd, sizeof(cmd),
		 ". '%s' && te_certs '%s' sip.a.test:127.0.1.20"
		 " sip.b.test:127.0.1.21",
		 cutest_src("test/lib/testenv.sh"), certdir);
	return system(cmd) == 0 ? 0 : 1;
}

static int suite_clean(void)
{
	libre_close();
	return 0;
}

static CU_TestInfo tls_tests[] = {
	{"TLS both ways, mutual verification", test_tls_both_ways},
	{"TLS name mismatch reported", test_tls_name_mismatch},
	{"TLS pool keyed by name", test_tls_pool_by_name},
	{"plain bytes on a TLS port", test_plain_on_tls_port},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_transp_tls", suite_init, suite_clean, NULL, NULL, tls_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
