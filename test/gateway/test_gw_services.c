/*
 * test_gw_services.c -- the gateway's REGISTER and PUBLISH services
 * driven without sockets: a real gateway context (gw_alloc, which binds
 * nothing), requests decoded by the sipstack and handed to the services
 * as the receive path does after authentication, and every answer taken
 * from the server transaction's send callback (the sipstack's seam)
 * instead of a socket.
 *
 * Registration: add, refresh, query, out-of-order, too brief, removal
 * by "*", expiry by the daemon's sweep.  Presence: a registered user
 * with nothing published is online, a publication changes the state,
 * its removal, its expiry and the registration's expiry change it back.
 * Watchers: SUBSCRIBE answered and notified at once, every change
 * fanned out to the target's watchers only (NOTIFYs taken at the
 * presence service's seam, gw_pres_seam.h), none when nothing they see
 * changed, a final NOTIFY on unsubscribe and on expiry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "conf/cfg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_ctx.h"
#include "gateway/gw_msg.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_regsrv.h"
#include "gateway/gw_out.h"
#include "sipstack/sst_pidf.h"
#include "gateway/gw_req.h"
#include "gateway/gw_pres_seam.h"
#include "gateway/gw_reg.h"
#include "lib/cutest.h"

#define AOR "sip:asmith@acme.test"

static struct gw *gw;
static struct sst_tstack *ts;
static char dir[] = "/tmp/test_gw_services.XXXXXX";
static char path[sizeof(dir) + 32];

/* What the service answered: the last response handed to "the wire". */
static struct {
	struct sip_msg *msg;
	unsigned n;
} sent;

static int capture(struct mbuf *mb, void *arg)
{
	struct mbuf *copy = mbuf_alloc(mbuf_get_left(mb));
	struct sst_verdict v;

	(void)arg;
	if (!copy)
		return ENOMEM;
	(void)mbuf_write_mem(copy, mbuf_buf(mb), mbuf_get_left(mb));
	copy->pos = 0;
	sent.msg = mem_deref(sent.msg);
	CU_ASSERT_EQUAL(sst_msg_decode(&sent.msg, copy, true, NULL, &v), 0);
	sst_verdict_reset(&v);
	mem_deref(copy);
	sent.n++;
	return 0;
}

static uint32_t cseq_next = 1;

/* One request as a client sends it. */
struct req {
	const char *method;
	const char *ruri;
	const char *from;       /* AOR; NULL: AOR */
	const char *to;         /* To value; NULL: <from> */
	const char *user;       /* the authenticated local ID */
	const char *callid;
	uint32_t cseq;
	const char *hdrs;
	const char *ctype;
	const struct mbuf *body;
};

/*
 * r through h as an authenticated local user's request (h NULL: as an
 * in-dialog SUBSCRIBE): decoded, given a server transaction whose
 * answers go to capture(), and a flow as if it arrived over TCP from
 * the client (no connection behind it).  Returns the status answered,
 * 0 for none.
 */
static uint16_t send_req(const struct req *r, gw_req_h *h)
{
	const char *from = r->from ? r->from : AOR;
	struct sst_strans *stx = NULL;
	struct sip_msg *msg = NULL;
	struct sst_flow *fl = NULL;
	struct gw_req *rq = NULL;
	struct sst_verdict v;
	struct sa src, dst;
	struct sst_rx rx;
	struct mbuf *mb;
	const unsigned before = sent.n;
	int err;

	mb = mbuf_alloc(1024);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	err = mbuf_printf(mb,
			  "%s %s SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 127.0.125.21:40000;branch=z9hG4bK"
			  "%s%u\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <%s>;tag=f-%s\r\n"
			  "To: ",
			  r->method, r->ruri, r->callid, r->cseq, from,
			  r->callid);
	if (r->to)
		err |= mbuf_printf(mb, "%s\r\n", r->to);
	else
		err |= mbuf_printf(mb, "<%s>\r\n", from);
	err |= mbuf_printf(mb,
			   "Call-ID: %s\r\n"
			   "CSeq: %u %s\r\n"
			   "%s"
			   "%s%s%s"
			   "Content-Length: %zu\r\n\r\n",
			   r->callid, r->cseq, r->method,
			   r->hdrs ? r->hdrs : "",
			   r->ctype ? "Content-Type: " : "",
			   r->ctype ? r->ctype : "", r->ctype ? "\r\n" : "",
			   r->body ? r->body->end : (size_t)0);
	if (r->body)
		err |= mbuf_write_mem(mb, r->body->buf, r->body->end);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	mb->pos = 0;
	CU_ASSERT_EQUAL_FATAL(sst_msg_decode(&msg, mb, true, NULL, &v), 0);
	mem_deref(mb);

	CU_ASSERT_EQUAL_FATAL(sst_tstack_recv_req(ts, &stx, msg, true,
						  capture, NULL), 0);
	CU_ASSERT_EQUAL(sa_set_str(&src, "127.0.125.21", 40000), 0);
	CU_ASSERT_EQUAL(sa_set_str(&dst, "127.0.125.20", 5060), 0);
	memset(&rx, 0, sizeof(rx));
	rx.tp = SST_TP_TCP;
	rx.src = &src;
	rx.dst = &dst;
	CU_ASSERT_EQUAL_FATAL(sst_flow_alloc(&fl, gw->tp, &rx, msg), 0);
	if (h) {
		CU_ASSERT_EQUAL_FATAL(gw_req_alloc(&rq, gw, msg, stx, fl), 0);
		str_ncpy(rq->user, r->user ? r->user : "asmith",
			 sizeof(rq->user));
		h(rq);   /* consumes rq */
	}
	else {
		CU_ASSERT(gw_subscribe_indialog(gw, msg, stx, fl));
	}

	mem_deref(fl);
	mem_deref(msg);
	if (sent.n == before || !sent.msg)
		return 0;
	return sent.msg->scode;
}

static uint16_t run(gw_req_h *h, const char *method, const char *ruri,
		    const char *callid, uint32_t cseq, const char *hdrs,
		    const char *ctype, const struct mbuf *body)
{
	const struct req r = {method, ruri, NULL, NULL, NULL, callid, cseq,
			      hdrs, ctype, body};

	return send_req(&r, h);
}

static uint16_t reg(const char *callid, uint32_t cseq, const char *hdrs)
{
	return run(gw_register, "REGISTER", "sip:acme.test", callid, cseq,
		   hdrs, NULL, NULL);
}

/* The expires= of the answer's Contact for uri, -1 if not listed. */
struct find {
	const char *uri;
	long expires;
};

static bool contact_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct find *f = arg;
	struct sip_addr a;
	struct pl e;

	(void)msg;
	if (sip_addr_decode(&a, &hdr->val) || pl_strcmp(&a.auri, f->uri))
		return false;
	f->expires = msg_param_decode(&a.params, "expires", &e) ? -2 :
		(long)pl_u32(&e);
	return true;
}

static long answered_expires(const char *uri)
{
	struct find f = {uri, -1};

	(void)sip_msg_hdr_apply(sent.msg, true, SIP_HDR_CONTACT, contact_h,
				&f);
	return f.expires;
}

static unsigned nregd;

static void regd_count(const char *aor, void *arg)
{
	(void)arg;
	if (!strcmp(aor, AOR))
		nregd++;
}

static unsigned regd_listed(void)
{
	nregd = 0;
	gw_reg_aors(gw->reg, regd_count, NULL);	/* what status lists */
	return nregd;
}

#define C1 "sip:asmith@127.0.125.21:40000;transport=tcp"
#define C2 "sip:asmith@127.0.125.22:5060"

static void test_register(void)
{
	const uint64_t ok0 = gw->c.reg_ok, refused0 = gw->c.reg_refused;
	char pl[64];

	/* add */
	CU_ASSERT_EQUAL(reg("reg-1", 1, "Contact: <" C1 ">\r\n"
			    "Expires: 600\r\n"), 200);
	CU_ASSERT_EQUAL(answered_expires(C1), 600);
	CU_ASSERT(gw_reg_registered(gw->reg, AOR, gw_now()));
	CU_ASSERT_EQUAL(regd_listed(), 1);

	/* refresh, longer asks are cut to the ceiling */
	CU_ASSERT_EQUAL(reg("reg-1", 2, "Contact: <" C1 ">\r\n"
			    "Expires: 7200\r\n"), 200);
	CU_ASSERT_EQUAL(answered_expires(C1), GW_EXPIRES_MAX);

	/* a second binding by its contact's own expires */
	CU_ASSERT_EQUAL(reg("reg-2", 1, "Contact: <" C2 ">;expires=120\r\n"),
			200);
	CU_ASSERT_EQUAL(answered_expires(C2), 120);
	CU_ASSERT_EQUAL(answered_expires(C1), GW_EXPIRES_MAX);

	/* a query lists both, changes nothing */
	CU_ASSERT_EQUAL(reg("reg-3", 1, NULL), 200);
	CU_ASSERT_EQUAL(answered_expires(C1), GW_EXPIRES_MAX);
	CU_ASSERT_EQUAL(answered_expires(C2), 120);

	/* refused: out of order, too brief, "*" with a lifetime */
	CU_ASSERT_EQUAL(reg("reg-1", 2, "Contact: <" C1 ">\r\n"), 400);
	CU_ASSERT_EQUAL(pl_strcmp(&sent.msg->reason, "Out of order"), 0);
	CU_ASSERT_EQUAL(reg("reg-1", 3, "Contact: <" C1 ">;expires=30\r\n"),
			423);
	re_snprintf(pl, sizeof(pl), "%u", (unsigned)GW_EXPIRES_MIN);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_xhdr(sent.msg, "Min-Expires"));
	if (sip_msg_xhdr(sent.msg, "Min-Expires"))
		CU_ASSERT_EQUAL(pl_strcmp(&sip_msg_xhdr(sent.msg,
			"Min-Expires")->val, pl), 0);
	CU_ASSERT_EQUAL(reg("reg-1", 4, "Contact: *\r\nExpires: 60\r\n"),
			400);
	CU_ASSERT_EQUAL(gw->c.reg_refused - refused0, 3);
	CU_ASSERT_EQUAL(gw->c.reg_ok - ok0, 4);

	/* expiry: the daemon's sweep past C2's lifetime drops it alone */
	gw_pres_sweep(gw, gw_now() + 121);
	CU_ASSERT(gw_reg_registered(gw->reg, AOR, gw_now() + 121));
	CU_ASSERT_EQUAL(reg("reg-3", 2, NULL), 200);
	CU_ASSERT_EQUAL(answered_expires(C1), GW_EXPIRES_MAX);

	/* removal of every binding */
	CU_ASSERT_EQUAL(reg("reg-1", 5, "Contact: *\r\nExpires: 0\r\n"), 200);
	CU_ASSERT_EQUAL(answered_expires(C1), -1);
	CU_ASSERT_FALSE(gw_reg_registered(gw->reg, AOR, gw_now()));
	gw_pres_sweep(gw, gw_now());
	CU_ASSERT_EQUAL(regd_listed(), 0);
}

static uint16_t publish(uint32_t expires, const char *ifmatch,
			enum sst_status st, bool with_body)
{
	struct mbuf *body = NULL;
	char hdrs[128];
	uint16_t sc;

	if (with_body) {
		body = mbuf_alloc(512);
		CU_ASSERT_EQUAL_FATAL(sst_pidf_encode(body, AOR, st, "lunch"),
				      0);
	}
	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nExpires: %u\r\n"
		    "%s%s%s", expires, ifmatch ? "SIP-If-Match: " : "",
		    ifmatch ? ifmatch : "", ifmatch ? "\r\n" : "");
	sc = run(gw_publish, "PUBLISH", AOR, "pub-1", cseq_next++, hdrs,
		 with_body ? SST_PIDF_CTYPE : NULL, body);
	mem_deref(body);
	return sc;
}

static void test_presence_state(void)
{
	const struct sip_hdr *etag;
	char tag[64];

	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_OFFLINE);

	/* registered, nothing published: online */
	CU_ASSERT_EQUAL(reg("pres-1", 1, "Contact: <" C1 ">\r\n"
			    "Expires: 300\r\n"), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_ACTIVE);

	/* a publication: away, with an entity tag to refresh it by */
	CU_ASSERT_EQUAL(publish(600, NULL, SST_ST_AWAY, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_AWAY);
	etag = sip_msg_xhdr(sent.msg, "SIP-ETag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(etag);
	CU_ASSERT_EQUAL(pl_strcpy(&etag->val, tag, sizeof(tag)), 0);

	/* modified under its tag: do not disturb */
	CU_ASSERT_EQUAL(publish(600, tag, SST_ST_DND, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_DND);
	etag = sip_msg_xhdr(sent.msg, "SIP-ETag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(etag);
	CU_ASSERT_EQUAL(pl_strcpy(&etag->val, tag, sizeof(tag)), 0);

	/* an unknown tag changes nothing */
	CU_ASSERT_EQUAL(publish(600, "no-such-tag", SST_ST_ACTIVE, false), 412);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_DND);

	/* someone else's presence is refused */
	CU_ASSERT_EQUAL(run(gw_publish, "PUBLISH", "sip:bob@acme.test",
			    "pub-2", 1, "Event: presence\r\n", NULL, NULL),
			403);

	/* removed: back to what the registration says */
	CU_ASSERT_EQUAL(publish(0, tag, SST_ST_ACTIVE, false), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(gw_pub_count(gw), 0);

	/* a publication that expires in the sweep: the same */
	CU_ASSERT_EQUAL(publish(120, NULL, SST_ST_AWAY, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), SST_ST_AWAY);
	CU_ASSERT_EQUAL(gw_pub_count(gw), 1);
	gw_pres_sweep(gw, gw_now() + 121);
	CU_ASSERT_EQUAL(gw_pub_count(gw), 0);
	CU_ASSERT(gw_reg_registered(gw->reg, AOR, gw_now() + 121));
	CU_ASSERT_EQUAL(regd_listed(), 1);

	/* the registration expires in the sweep */
	gw_pres_sweep(gw, gw_now() + 301);
	CU_ASSERT_FALSE(gw_reg_registered(gw->reg, AOR, gw_now() + 301));
	CU_ASSERT_EQUAL(regd_listed(), 0);
}

/* ---- SUBSCRIBE and the NOTIFY fan-out ------------------------------ */

/*
 * The NOTIFYs the presence service sent.  Its seam sends them through
 * the gateway's own request builder and client transactions
 * (gw_send_request), with a send callback instead of the flow's
 * socket; the watchers' 200s go back through the transaction layer, so
 * that a NOTIFY the service abandoned is answered to nobody.
 */
static struct notify {
	struct sip_msg *msg;      /* as it would be on the wire */
	char ruri[128];
	char state[64];           /* Subscription-State */
	enum sst_status st;
	bool answered;
} nv[32];
static unsigned nn;

static int notify_capture(struct mbuf *mb, void *arg)
{
	struct mbuf *copy = mbuf_alloc(mbuf_get_left(mb));
	const struct sip_hdr *ss;
	struct sst_verdict v;
	struct sst_pidf pidf;
	struct notify *n;

	(void)arg;
	if (!copy || nn >= ARRAY_SIZE(nv)) {
		mem_deref(copy);
		return ENOMEM;
	}
	(void)mbuf_write_mem(copy, mbuf_buf(mb), mbuf_get_left(mb));
	copy->pos = 0;
	n = &nv[nn];
	memset(n, 0, sizeof(*n));
	CU_ASSERT_EQUAL_FATAL(sst_msg_decode(&n->msg, copy, true, NULL, &v),
			      0);
	sst_verdict_reset(&v);
	mem_deref(copy);
	nn++;

	CU_ASSERT_EQUAL(pl_strcmp(&n->msg->met, "NOTIFY"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&n->msg->ctyp.subtype, "pidf+xml"), 0);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(n->msg, SIP_HDR_EVENT));
	(void)pl_strcpy(&n->msg->ruri, n->ruri, sizeof(n->ruri));
	ss = sip_msg_hdr(n->msg, SIP_HDR_SUBSCRIPTION_STATE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss);
	(void)pl_strcpy(&ss->val, n->state, sizeof(n->state));
	CU_ASSERT_EQUAL(sst_pidf_decode(&pidf, (const char *)
				       mbuf_buf(n->msg->mb),
				       mbuf_get_left(n->msg->mb)), 0);
	n->st = pidf.st;
	return 0;
}

static int fake_send(struct gw *g, const struct gw_out_path *op,
		     const struct gw_out_req *req, gw_resp_h *resph,
		     void *arg, struct sst_ctrans **ctp)
{
	struct gw_out_path p = *op;

	p.sendh = notify_capture;
	p.sendarg = NULL;
	return gw_send_request(g, &p, req, resph, arg, ctp);
}

/* Each watcher answers what it was sent: 200. */
static void answer_all(void)
{
	unsigned i;

	for (i = 0; i < nn; i++) {
		struct sip_msg *resp = NULL;
		struct mbuf *mb = NULL;
		struct sst_verdict v;

		if (nv[i].answered)
			continue;
		nv[i].answered = true;
		CU_ASSERT_EQUAL_FATAL(sst_build_response(&mb, nv[i].msg, 200,
							 "OK", "w", NULL,
							 NULL), 0);
		CU_ASSERT_EQUAL_FATAL(sst_msg_decode(&resp, mb, true, NULL,
						     &v), 0);
		(void)sst_tstack_recv_resp(ts, resp);
		mem_deref(resp);
		mem_deref(mb);
	}
}

static void notify_reset(void)
{
	unsigned i;

	for (i = 0; i < nn; i++)
		nv[i].msg = mem_deref(nv[i].msg);
	nn = 0;
}

#define BOB   "sip:bob@acme.test"
#define CAROL "sip:carol@acme.test"
#define BOB_C   "sip:bob@127.0.125.23:5060;transport=tcp"
#define CAROL_C "sip:carol@127.0.125.24:5060;transport=tcp"

/* watcher (local ID user, Contact contact) subscribes to target. */
static uint16_t subscribe(const char *watcher, const char *user,
			  const char *contact, const char *target,
			  const char *callid, char *totag, size_t tsz)
{
	char hdrs[256];
	struct req r;
	uint16_t sc;

	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nExpires: 600\r\n"
		    "Contact: <%s>\r\n", contact);
	memset(&r, 0, sizeof(r));
	r.method = "SUBSCRIBE";
	r.ruri = target;
	r.from = watcher;
	r.user = user;
	r.callid = callid;
	r.cseq = 1;
	r.hdrs = hdrs;
	{
		char to[128];

		re_snprintf(to, sizeof(to), "<%s>", target);
		r.to = to;
		sc = send_req(&r, gw_subscribe_external);
	}
	if (sc == 200 && totag)
		CU_ASSERT_EQUAL(pl_strcpy(&sent.msg->to.tag, totag, tsz), 0);
	return sc;
}

/* The NOTIFYs from index i on to contact; the last one in *last. */
static unsigned notified(unsigned i, const char *contact,
			 const struct notify **last)
{
	unsigned n = 0;

	for (; i < nn; i++) {
		if (strcmp(nv[i].ruri, contact))
			continue;
		n++;
		if (last)
			*last = &nv[i];
	}
	return n;
}

static void test_notify_fanout(void)
{
	const struct notify *last = NULL;
	char bobtag[64], to[128];
	struct req r;
	unsigned mark;

	gw_pres_send_seam(fake_send);
	notify_reset();

	/* bob and carol watch asmith, carol watches bob too: each gets
	 * the state at once */
	CU_ASSERT_EQUAL(subscribe(BOB, "bob", BOB_C, AOR, "sub-b", bobtag,
				  sizeof(bobtag)), 200);
	CU_ASSERT_EQUAL(subscribe(CAROL, "carol", CAROL_C, AOR, "sub-c1",
				  NULL, 0), 200);
	CU_ASSERT_EQUAL(subscribe(CAROL, "carol", CAROL_C, BOB, "sub-c2",
				  NULL, 0), 200);
	CU_ASSERT_EQUAL_FATAL(nn, 3);
	CU_ASSERT_EQUAL(notified(0, BOB_C, &last), 1);
	CU_ASSERT_STRING_EQUAL(last->state, "active;expires=600");
	CU_ASSERT_EQUAL(last->st, gw_pres_status(gw, AOR));
	CU_ASSERT_EQUAL(notified(0, CAROL_C, NULL), 2);
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, AOR), 2);
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, BOB), 1);
	answer_all();

	/* asmith registers: her two watchers hear she is online, bob's
	 * watcher hears nothing */
	mark = nn;
	CU_ASSERT_EQUAL(reg("fan-1", 1, "Contact: <" C1 ">\r\n"
			    "Expires: 300\r\n"), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(pl_strcmp(&last->msg->from.auri, AOR), 0);
	CU_ASSERT_EQUAL(notified(mark, CAROL_C, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(pl_strcmp(&last->msg->from.auri, AOR), 0);
	answer_all();

	/* she publishes away: both hear it */
	mark = nn;
	CU_ASSERT_EQUAL(publish(600, NULL, SST_ST_AWAY, true), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	CU_ASSERT_EQUAL(notified(mark, CAROL_C, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	answer_all();

	/* a second registration changes nothing they see: no NOTIFY */
	mark = nn;
	CU_ASSERT_EQUAL(reg("fan-2", 1, "Contact: <" C2 ">\r\n"
			    "Expires: 300\r\n"), 200);
	CU_ASSERT_EQUAL(nn, mark);

	/* bob unsubscribes: a final NOTIFY to him, carol stays */
	re_snprintf(to, sizeof(to), "<" AOR ">;tag=%s", bobtag);
	memset(&r, 0, sizeof(r));
	r.method = "SUBSCRIBE";
	r.ruri = AOR;
	r.from = BOB;
	r.to = to;
	r.callid = "sub-b";
	r.cseq = 2;
	r.hdrs = "Event: presence\r\nExpires: 0\r\nContact: <" BOB_C ">\r\n";
	mark = nn;
	CU_ASSERT_EQUAL(send_req(&r, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, &last), 1);
	CU_ASSERT_STRING_EQUAL(last->state, "terminated");
	answer_all();
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, AOR), 1);

	/* the sweep past every lifetime: asmith's registrations and
	 * publication go (carol hears offline), then carol's two
	 * subscriptions end with a final NOTIFY each */
	mark = nn;
	gw_pres_sweep(gw, gw_now() + 601);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, NULL), 0);
	CU_ASSERT_EQUAL(notified(mark, CAROL_C, NULL), nn - mark);
	CU_ASSERT(nn - mark >= 2);
	{
		unsigned i, finals = 0, offline = 0;

		for (i = mark; i < nn; i++) {
			if (!strcmp(nv[i].state, "terminated;reason=timeout"))
				finals++;
			else if (nv[i].st == SST_ST_OFFLINE &&
				 !pl_strcmp(&nv[i].msg->from.auri, AOR))
				offline++;
		}
		CU_ASSERT_EQUAL(finals, 2);
		CU_ASSERT_EQUAL(offline, 1);
	}
	answer_all();
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, AOR), 0);
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, BOB), 0);

	gw_pres_send_seam(NULL);
	notify_reset();
}

/* The transport a flow names; it has no listener, nothing arrives. */
static void no_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	(void)rx;
	(void)mb;
	(void)arg;
}

static int suite_init(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?>\n"
		"<CommunityConfig>\n"
		"  <Community name=\"acme\"><Domain>acme.test</Domain>"
		"</Community>\n"
		"  <CommunityGateway name=\"gw\">\n"
		"    <ClientListen transport=\"tcp\" address=\"127.0.125.20\""
		" port=\"5060\"/>\n"
		"    <ConnectorListen transport=\"tcp\" "
		"address=\"127.0.125.20\" port=\"5070\"/>\n"
		"  </CommunityGateway>\n"
		"  <Directory backend=\"file\"><File>%s/conf/examples/"
		"acme.test.ldif</File></Directory>\n"
		"</CommunityConfig>\n";
	const char *top = getenv("top_srcdir");
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	struct sst_transp_conf tconf;
	struct gw_lsnr *lsnr;
	char why[256] = "";
	FILE *f;

	if (!top) {
		fprintf(stderr, "top_srcdir not set (make check sets it)\n");
		return 1;
	}
	if (libre_init() || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/community.xml", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, xml, top);
	fclose(f);
	if (cfg_load(&cfg, path, &diag)) {
		cfg_diag_print(&diag, stderr);
		cfg_diag_reset(&diag);
		return 1;
	}
	cfg_diag_reset(&diag);
	if (gw_alloc(&gw, cfg, "gw", path, why, sizeof(why))) {
		fprintf(stderr, "gw_alloc: %s\n", why);
		return 1;
	}
	if (sst_tstack_alloc(&ts, NULL, NULL))
		return 1;
	/* what gw_start would bind, without the socket: the client
	 * listener the gateway names in its Via and Contact */
	gw->tstk = mem_ref(ts);
	memset(&tconf, 0, sizeof(tconf));
	if (!gw->tp && sst_transp_alloc(&gw->tp, &tconf, no_recv, NULL))
		return 1;
	lsnr = mem_zalloc(sizeof(*lsnr), NULL);
	if (!lsnr || sa_set_str(&lsnr->addr, "127.0.125.20", 5060))
		return 1;
	lsnr->tp = SST_TP_TCP;
	list_append(&gw->lsnrs, &lsnr->le, lsnr);
	return 0;
}

static int suite_clean(void)
{
	sent.msg = mem_deref(sent.msg);
	ts = mem_deref(ts);
	gw = mem_deref(gw);
	(void)unlink(path);
	(void)rmdir(dir);
	libre_close();
	return 0;
}

static CU_TestInfo service_tests[] = {
	{"REGISTER: add, refresh, query, refusals, expiry, removal",
	 test_register},
	{"presence state: registration, publications, expiry",
	 test_presence_state},
	{"SUBSCRIBE and the NOTIFY fan-out", test_notify_fanout},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_services", suite_init, suite_clean, NULL, NULL, service_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
