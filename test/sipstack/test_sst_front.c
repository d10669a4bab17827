/*
 * test_sst_front.c -- the front door (sst_front) and the way back
 * (sst_flow) over real sockets on 127.0.124.x, driven by the libre loop.
 *
 * A "front" transport runs sst_front_recv() as both daemons do; a
 * "peer" transport plays the client and records what came back, on
 * which of its listeners or connections.  Checked: what the peer
 * receives (status line, headers, where), what the daemon's handler is
 * given, and what the front door reports.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_front.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_transp.h"
#include "lib/cutest.h"

enum { GUARD_MS = 5000, QUIET_MS = 150, MAXRX = 16, MAXREP = 16 };

static const char front_ip[] = "127.0.124.1";
static const char peer_ip[] = "127.0.124.2";

/* The peer: a transport with two UDP listeners and a TCP one. */
struct peer {
	struct sst_transp *tp;
	struct sa udp1, udp2, tcp;	/* bound */
	char rx[MAXRX][1024];
	struct sa rx_dst[MAXRX];	/* which of our addresses */
	enum sst_tp rx_tp[MAXRX];
	unsigned nrx;
};

/* The daemon side: the front door and what it handed over. */
struct front {
	struct sst_transp *tp;
	struct sst_tstack *ts;
	struct sst_front f;
	struct sa udp, tcp;		/* bound */
	unsigned nreq, nmsg;
	char req_met[MAXRX][32];
	struct sst_flow *req_fl[MAXRX];	/* references */
	bool answer;			/* 200 each request at once */
	struct sst_front_report rep[MAXREP];
	struct sa rep_src[MAXREP];
	unsigned nrep;
};

static struct peer P;
static struct front F;

static void peer_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct peer *p = arg;
	size_t n = mbuf_get_left(mb);

	if (p->nrx >= MAXRX)
		return;
	if (n >= sizeof(p->rx[0]))
		n = sizeof(p->rx[0]) - 1;
	memcpy(p->rx[p->nrx], mbuf_buf(mb), n);
	p->rx[p->nrx][n] = '\0';
	p->rx_dst[p->nrx] = *rx->dst;
	p->rx_tp[p->nrx] = rx->tp;
	p->nrx++;
}

static void front_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct front *fr = arg;

	sst_front_recv(&fr->f, rx, mb);
}

static void req_h(struct sip_msg *msg, struct sst_strans *stx,
		  struct sst_flow *fl, void *arg)
{
	struct front *fr = arg;
	struct mbuf *mb = NULL;
	const unsigned i = fr->nreq;

	if (i < MAXRX) {
		pl_strcpy(&msg->met, fr->req_met[i], sizeof(fr->req_met[i]));
		fr->req_fl[i] = mem_ref(fl);
		fr->nreq++;
	}
	/* as a daemon answers: received=/rport= from the flow's source */
	if (!fr->answer || sst_build_response(&mb, msg, 200, "OK", "t",
					      &fl->src, NULL)) {
		sst_strans_abandon(stx);
		return;
	}
	CU_ASSERT_EQUAL(sst_strans_reply(stx, 200, mb), 0);
	mem_deref(mb);
}

static void msg_h(const struct sip_msg *msg, const struct sst_rx *rx,
		  void *arg)
{
	struct front *fr = arg;

	(void)msg;
	(void)rx;
	fr->nmsg++;
}

static void rep_h(const struct sst_front_report *rep, void *arg)
{
	struct front *fr = arg;

	if (fr->nrep >= MAXREP)
		return;
	fr->rep[fr->nrep] = *rep;
	fr->rep[fr->nrep].rx = NULL;	/* borrowed: gone after the call */
	fr->rep[fr->nrep].msg = NULL;
	fr->rep_src[fr->nrep] = *rep->rx->src;
	fr->nrep++;
}

/* ---- the loop ---- */

typedef bool (cond_h)(void);

struct wait {
	struct tmr poll, guard;
	cond_h *cond;
	bool ok;
};

static void poll_handler(void *arg)
{
	struct wait *w = arg;

	if (w->cond && w->cond()) {
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

/* Run the loop until cond() holds (false when the guard fired), or
 * with cond NULL for ms to let nothing happen. */
static bool run(cond_h *cond, uint64_t ms)
{
	struct wait w;

	memset(&w, 0, sizeof(w));
	w.cond = cond;
	tmr_start(&w.poll, 5, poll_handler, &w);
	tmr_start(&w.guard, ms, guard_handler, &w);
	(void)re_main(NULL);
	tmr_cancel(&w.poll);
	tmr_cancel(&w.guard);
	return w.ok;
}

static unsigned want_rx;
static bool got_rx(void) { return P.nrx >= want_rx; }
static unsigned want_req;
static bool got_req(void) { return F.nreq >= want_req; }
static unsigned want_rep;
static bool got_rep(void) { return F.nrep >= want_rep; }

static void setup(void)
{
	struct sst_transp_conf conf;
	struct sa sa;

	memset(&P, 0, sizeof(P));
	memset(&F, 0, sizeof(F));
	memset(&conf, 0, sizeof(conf));
	CU_ASSERT_EQUAL_FATAL(sst_transp_alloc(&P.tp, &conf, peer_recv, &P),
			      0);
	CU_ASSERT_EQUAL_FATAL(sst_transp_alloc(&F.tp, &conf, front_recv, &F),
			      0);
	CU_ASSERT_EQUAL_FATAL(sst_tstack_alloc(&F.ts, NULL, NULL), 0);
	(void)sa_set_str(&sa, peer_ip, 0);
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(P.tp, SST_TP_UDP, &sa,
						&P.udp1), 0);
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(P.tp, SST_TP_UDP, &sa,
						&P.udp2), 0);
	(void)sa_set_str(&sa, front_ip, 0);
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(F.tp, SST_TP_UDP, &sa,
						&F.udp), 0);
	CU_ASSERT_EQUAL_FATAL(sst_transp_listen(F.tp, SST_TP_TCP, &sa,
						&F.tcp), 0);
	F.f.tp = F.tp;
	F.f.ts = F.ts;
	F.f.allow = "Allow: MESSAGE, OPTIONS\r\n";
	F.f.reqh = req_h;
	F.f.msgh = msg_h;
	F.f.reporth = rep_h;
	F.f.arg = &F;
	F.answer = true;
}

static void teardown(void)
{
	unsigned i;

	for (i = 0; i < F.nreq; i++)
		mem_deref(F.req_fl[i]);
	F.ts = mem_deref(F.ts);
	F.tp = mem_deref(F.tp);
	P.tp = mem_deref(P.tp);
}

/* Send a request from the peer's first UDP listener (or over TCP). */
static void psend(enum sst_tp kind, const char *fmt, ...)
{
	struct mbuf *mb = mbuf_alloc(1024);
	va_list ap;

	va_start(ap, fmt);
	(void)mbuf_vprintf(mb, fmt, ap);
	va_end(ap);
	mb->pos = 0;
	CU_ASSERT_EQUAL(sst_transp_send(P.tp, NULL, kind,
					kind == SST_TP_UDP ? &F.udp : &F.tcp,
					kind == SST_TP_UDP ? &P.udp1 : NULL,
					NULL, mb, NULL, NULL), 0);
	mem_deref(mb);
}

/* A request with a given method and top Via parameters. */
static void preq(enum sst_tp kind, const char *met, uint16_t viaport,
		 const char *viaparams, const char *id)
{
	const char *tpn = kind == SST_TP_UDP ? "UDP" : "TCP";

	psend(kind, "%s sip:bob@acme.test SIP/2.0\r\n"
	      "Via: SIP/2.0/%s %s:%u;branch=z9hG4bK%s%s\r\n"
	      "Max-Forwards: 70\r\nFrom: <sip:ann@chicago.test>;tag=a\r\n"
	      "To: <sip:bob@acme.test>\r\nCall-ID: %s\r\n"
	      "CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
	      met, tpn, peer_ip, viaport, id, viaparams, id, met);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- tests ---- */

/* A request is handed over once, with its transaction; its
 * retransmission is absorbed and answered again from the transaction,
 * reported, and the daemon never sees it twice. */
static void test_request_and_retransmission(void)
{
	setup();
	preq(SST_TP_UDP, "OPTIONS", sa_port(&P.udp1), "", "r1");
	want_rx = 1;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT_EQUAL(F.nreq, 1);
	CU_ASSERT_STRING_EQUAL(F.req_met[0], "OPTIONS");
	CU_ASSERT(starts(P.rx[0], "SIP/2.0 200 OK"));

	preq(SST_TP_UDP, "OPTIONS", sa_port(&P.udp1), "", "r1");
	want_rx = 2;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT(starts(P.rx[1], "SIP/2.0 200 OK"));
	CU_ASSERT_EQUAL(F.nreq, 1);
	CU_ASSERT_EQUAL_FATAL(F.nrep, 1);
	CU_ASSERT_EQUAL(F.rep[0].ev, SST_FRONT_RETRANS);
	CU_ASSERT_EQUAL(F.nmsg, 2);
	teardown();
}

/* INVITE 501 with the daemon's Allow, CANCEL 481, ACK nothing: no
 * transaction, nothing for the daemon, each reported with its answer.
 * Method names are case-sensitive: "invite" is an extension method and
 * goes to the daemon. */
static void test_not_served(void)
{
	setup();
	preq(SST_TP_UDP, "INVITE", sa_port(&P.udp1), "", "i1");
	preq(SST_TP_UDP, "CANCEL", sa_port(&P.udp1), "", "c1");
	preq(SST_TP_UDP, "ACK", sa_port(&P.udp1), "", "a1");
	want_rep = 3;
	CU_ASSERT(run(got_rep, GUARD_MS));
	want_rx = 2;
	CU_ASSERT(run(got_rx, GUARD_MS));
	(void)run(NULL, QUIET_MS);

	CU_ASSERT_EQUAL_FATAL(P.nrx, 2);
	CU_ASSERT(starts(P.rx[0], "SIP/2.0 501 Not Implemented\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(P.rx[0],
				      "\r\nAllow: MESSAGE, OPTIONS\r\n"));
	CU_ASSERT(starts(P.rx[1], "SIP/2.0 481 Call/Transaction Does Not "
			 "Exist\r\n"));
	CU_ASSERT_EQUAL(F.nreq, 0);
	CU_ASSERT_EQUAL(F.rep[0].ev, SST_FRONT_NOT_SERVED);
	CU_ASSERT_EQUAL(F.rep[0].status, 501);
	CU_ASSERT_EQUAL(F.rep[1].status, 481);
	CU_ASSERT_EQUAL(F.rep[2].ev, SST_FRONT_NOT_SERVED);
	CU_ASSERT_EQUAL(F.rep[2].status, 0);
	CU_ASSERT(sa_cmp(&F.rep_src[0], &P.udp1, SA_ALL));

	/* a retransmitted INVITE gets the same answer again */
	preq(SST_TP_UDP, "INVITE", sa_port(&P.udp1), "", "i1");
	want_rx = 3;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT(starts(P.rx[2], "SIP/2.0 501 "));

	preq(SST_TP_UDP, "invite", sa_port(&P.udp1), "", "i2");
	want_req = 1;
	CU_ASSERT(run(got_req, GUARD_MS));
	CU_ASSERT_STRING_EQUAL(F.req_met[0], "invite");
	teardown();
}

/* Malformed: a request that can be answered gets 400 with the reason,
 * back where its Via says; garbage is dropped; both are reported with
 * the peer's address, and nothing reaches the daemon. */
static void test_malformed(void)
{
	setup();
	psend(SST_TP_UDP, "MESSAGE sip:bob@acme.test SIP/2.0\r\n"
	      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bKm1\r\n"
	      "Max-Forwards: many\r\nFrom: <sip:ann@chicago.test>;tag=a\r\n"
	      "To: <sip:bob@acme.test>\r\nCall-ID: m1\r\n"
	      "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
	      peer_ip, sa_port(&P.udp2));
	psend(SST_TP_UDP, "not SIP at all\r\n\r\n");
	want_rep = 2;
	CU_ASSERT(run(got_rep, GUARD_MS));
	want_rx = 1;
	CU_ASSERT(run(got_rx, GUARD_MS));
	(void)run(NULL, QUIET_MS);

	CU_ASSERT_EQUAL_FATAL(P.nrx, 1);
	CU_ASSERT(starts(P.rx[0], "SIP/2.0 400 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(P.rx[0], "Max-Forwards"));
	CU_ASSERT(sa_cmp(&P.rx_dst[0], &P.udp2, SA_ALL));
	CU_ASSERT_EQUAL(F.rep[0].ev, SST_FRONT_MALFORMED);
	CU_ASSERT_EQUAL(F.rep[0].reason, SST_R_BAD_MAXFWD);
	CU_ASSERT_EQUAL(F.rep[0].status, 400);
	CU_ASSERT_EQUAL(F.rep[1].ev, SST_FRONT_MALFORMED);
	CU_ASSERT_EQUAL(F.rep[1].status, 0);
	CU_ASSERT(sa_cmp(&F.rep_src[1], &P.udp1, SA_ALL));
	CU_ASSERT_EQUAL(F.nreq, 0);
	CU_ASSERT_EQUAL(F.nmsg, 0);
	teardown();
}

/* UDP: without rport, to the source address at the Via sent-by port;
 * with rport, to the source port (RFC 3261 18.2.2, RFC 3581).  The
 * daemon's flow says the same: responses there, new requests to the
 * source. */
static void test_udp_way_back(void)
{
	setup();
	preq(SST_TP_UDP, "MESSAGE", sa_port(&P.udp2), "", "u1");
	want_rx = 1;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT(sa_cmp(&P.rx_dst[0], &P.udp2, SA_ALL));

	preq(SST_TP_UDP, "MESSAGE", sa_port(&P.udp2), ";rport", "u2");
	want_rx = 2;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT(sa_cmp(&P.rx_dst[1], &P.udp1, SA_ALL));
	CU_ASSERT_PTR_NOT_NULL(strstr(P.rx[1], ";rport="));
	CU_ASSERT_PTR_NULL(strstr(P.rx[0], ";rport="));

	CU_ASSERT_EQUAL_FATAL(F.nreq, 2);
	CU_ASSERT_EQUAL(F.req_fl[0]->tp, SST_TP_UDP);
	CU_ASSERT(sa_cmp(&F.req_fl[0]->src, &P.udp1, SA_ALL));
	CU_ASSERT(sa_cmp(&F.req_fl[0]->dst, &F.udp, SA_ALL));
	CU_ASSERT(sa_cmp(&F.req_fl[0]->reply, &P.udp2, SA_ALL));
	CU_ASSERT(sa_cmp(&F.req_fl[1]->reply, &P.udp1, SA_ALL));
	CU_ASSERT_PTR_NULL(F.req_fl[0]->conn);

	/* a new request toward the peer goes to its source address */
	{
		struct mbuf *mb = mbuf_alloc(64);

		(void)mbuf_write_str(mb, "NOTIFY x\r\n\r\n");
		mb->pos = 0;
		P.nrx = 0;
		CU_ASSERT_EQUAL(sst_flow_send(mb, F.req_fl[0]), 0);
		mem_deref(mb);
	}
	want_rx = 1;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT(starts(P.rx[0], "NOTIFY x"));
	CU_ASSERT(sa_cmp(&P.rx_dst[0], &P.udp1, SA_ALL));
	teardown();
}

/* A stream: answers on the request's connection, whatever the Via
 * says; the flow holds the connection. */
static void test_stream_way_back(void)
{
	setup();
	preq(SST_TP_TCP, "MESSAGE", 9, "", "t1");
	want_rx = 1;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT_EQUAL(P.rx_tp[0], SST_TP_TCP);
	CU_ASSERT(starts(P.rx[0], "SIP/2.0 200 OK"));
	CU_ASSERT_EQUAL_FATAL(F.nreq, 1);
	CU_ASSERT_EQUAL(F.req_fl[0]->tp, SST_TP_TCP);
	CU_ASSERT_PTR_NOT_NULL(F.req_fl[0]->conn);

	/* INVITE over the stream: 501 on the same connection */
	preq(SST_TP_TCP, "INVITE", 9, "", "t2");
	want_rx = 2;
	CU_ASSERT(run(got_rx, GUARD_MS));
	CU_ASSERT_EQUAL(P.rx_tp[1], SST_TP_TCP);
	CU_ASSERT(starts(P.rx[1], "SIP/2.0 501 "));
	teardown();
}

/* A response that matches no client transaction is reported. */
static void test_unmatched_response(void)
{
	setup();
	psend(SST_TP_UDP, "SIP/2.0 200 OK\r\n"
	      "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bKnone\r\n"
	      "From: <sip:ann@chicago.test>;tag=a\r\n"
	      "To: <sip:bob@acme.test>;tag=b\r\nCall-ID: x1\r\n"
	      "CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
	      front_ip, sa_port(&F.udp));
	want_rep = 1;
	CU_ASSERT(run(got_rep, GUARD_MS));
	CU_ASSERT_EQUAL(F.rep[0].ev, SST_FRONT_RESP_UNMATCHED);
	CU_ASSERT_EQUAL(F.nmsg, 1);
	CU_ASSERT_EQUAL(F.nreq, 0);
	teardown();
}

/* The flow's own rules without sockets to the peer. */
static void test_flow_alloc(void)
{
	struct sst_flow *fl = NULL;
	struct sa peer, laddr;
	struct mbuf *mb = mbuf_alloc(8);

	setup();
	(void)sa_set_str(&peer, peer_ip, 5070);
	(void)sa_set_str(&laddr, front_ip, 0);
	CU_ASSERT_EQUAL(sst_flow_alloc_udp(&fl, NULL, &peer, &laddr), EINVAL);
	CU_ASSERT_EQUAL(sst_flow_alloc_udp(&fl, F.tp, &peer, &laddr), 0);
	CU_ASSERT_FATAL(fl != NULL);
	CU_ASSERT(sa_cmp(&fl->reply, &peer, SA_ALL));
	CU_ASSERT_EQUAL(fl->tp, SST_TP_UDP);
	mem_deref(fl);
	CU_ASSERT_EQUAL(sst_flow_alloc(&fl, F.tp, NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL(sst_flow_send(mb, NULL), EINVAL);
	mem_deref(mb);
	teardown();
}

static int suite_init(void)
{
	if (libre_init())
		return 1;
	return sst_transp_init(4096) ? 1 : 0;
}

static int suite_clean(void)
{
	libre_close();
	return 0;
}

static CU_TestInfo front_tests[] = {
	{"request once, retransmission absorbed",
	 test_request_and_retransmission},
	{"ACK, INVITE, CANCEL and case", test_not_served},
	{"malformed answered or dropped, reported", test_malformed},
	{"UDP way back: Via port, rport", test_udp_way_back},
	{"stream way back: the connection", test_stream_way_back},
	{"unmatched response reported", test_unmatched_response},
	{"flow allocation", test_flow_alloc},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_front", suite_init, suite_clean, NULL, NULL, front_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
