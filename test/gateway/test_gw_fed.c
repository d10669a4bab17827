/*
 * test_gw_fed.c -- the gateway's federation subscriptions driven without
 * sockets: a real gateway context (gw_alloc, which binds nothing) with
 * one connector link (gw_fed_start), local watchers' SUBSCRIBEs decoded
 * by the sipstack and handed to the presence service as the receive
 * path does, the requests the gateway sends over the link (OPTIONS
 * probes, SUBSCRIBEs) taken at the federation side's seam
 * (gw_fed_seam.h) and answered as the connector would, through the
 * transaction layer, and the connector's NOTIFYs handed to gw_fed_recv()
 * as they arrive on the ConnectorListen address.  The NOTIFYs to local
 * watchers are taken at the presence service's seam (gw_pres_seam.h).
 *
 * Sharing: one federation SUBSCRIBE per external contact, whatever the
 * number of local watchers; a second watcher is told the current state
 * at once.  Fan-out: each NOTIFY of the federation dialog reaches every
 * local watcher of that contact once, none when nothing they see
 * changed.  Teardown: the last watcher leaving un-SUBSCRIBEs, and the
 * dialog stays until the connector's terminating NOTIFY; a terminating
 * NOTIFY and a link loss show every watcher the contact offline; a
 * refresh stays in the one dialog; a link back subscribes afresh.  A
 * dialog the far side forgot is replaced while the watchers keep the
 * last state, and a watcher back while the old dialog ends gets a new
 * one that does not mix with it.
 *
 * XMPP communities: one SUBSCRIBE per local watcher, From its own
 * federation address; each watcher sees its own subscription's state
 * (Offline while pending); a rejection is Offline and not asked again
 * on refreshes, timers or `reset`, only on a new dialog; a watcher
 * leaving ends its own subscription only; status counts them; SIP
 * communities beside stay shared.  Inbound watchers from an XMPP
 * community meet the users' federation privacy as SIP ones do.
 */
#include <stdarg.h>
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
#include "gateway/gw_fed.h"
#include "gateway/gw_link.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_out.h"
#include "sipstack/sst_pidf.h"
#include "gateway/gw_req.h"
#include "gateway/gw_fed_seam.h"
#include "gateway/gw_pres_seam.h"
#include "daemon/dmn.h"
#include "lib/cutest.h"

#define GW_IP    "127.0.127.20"   /* client and connector listeners */
#define CLI_IP   "127.0.127.21"   /* the local watchers' clients */
#define CONN_IP  "127.0.127.10"   /* the connector */
#define GW_AOR   "sip:gw@acme.test"
#define CONN_RURI "sip:" CONN_IP ":5060;transport=tcp"

#define CAROL "sip:carol@globex.test"   /* external contacts */
#define DAVE  "sip:dave@globex.test"
#define CAROL_TGT "sip:carol@" CONN_IP ":5060;transport=tcp"
#define DAVE_TGT  "sip:dave@" CONN_IP ":5060;transport=tcp"
#define RR "<sip:" CONN_IP ":5060;transport=tcp;lr>"

#define BOB     "sip:bob@acme.test"      /* local watchers */
#define ALICE   "sip:asmith@acme.test"
#define BOB_C   "sip:bob@" CLI_IP ":5060;transport=tcp"
#define ALICE_C "sip:asmith@" CLI_IP ":5062;transport=tcp"

#define XBOB     "sip:bob@xmpp.test"       /* in an XMPP community */
#define XBOB_TGT "sip:bob@" CONN_IP ":5060;transport=tcp"
#define CHIBOB   "sip:bob@chicago.test"    /* in a SIP community */
#define ALICE_FED "Alice.Smith@acme.test"  /* federation addresses, as
					    * the outbound path finds them */
#define BOB_FED   "bob@acme.test"

static struct gw *gw;
static struct sst_tstack *ts;
static char dir[] = "/tmp/test_gw_fed.XXXXXX";
static char path[sizeof(dir) + 32];

static struct sip_msg *decode(const struct mbuf *mb)
{
	struct mbuf *copy = mbuf_alloc(mbuf_get_left(mb) + 1);
	struct sip_msg *msg = NULL;
	struct sst_verdict v;

	if (!copy)
		return NULL;
	(void)mbuf_write_mem(copy, mbuf_buf(mb), mbuf_get_left(mb));
	copy->pos = 0;
	CU_ASSERT_EQUAL(sst_msg_decode(&msg, copy, true, NULL, &v), 0);
	sst_verdict_reset(&v);
	mem_deref(copy);
	return msg;
}

/* ---- what the gateway answered in a server transaction ---- */

static struct {
	struct sip_msg *msg;
	unsigned n;
} answer;

static int answer_capture(struct mbuf *mb, void *arg)
{
	(void)arg;
	answer.msg = mem_deref(answer.msg);
	answer.msg = decode(mb);
	answer.n++;
	return answer.msg ? 0 : EBADMSG;
}

/* ---- the requests the gateway sent over the connector link ---- */

static struct out {
	struct sip_msg *msg;
	struct sst_ctrans *ct;   /* borrowed, until answered */
	bool answered;
} ov[128];
static unsigned no;

static int out_capture(struct mbuf *mb, void *arg)
{
	(void)arg;
	if (no >= ARRAY_SIZE(ov))
		return ENOMEM;
	memset(&ov[no], 0, sizeof(ov[no]));
	ov[no].msg = decode(mb);
	if (!ov[no].msg)
		return EBADMSG;
	no++;
	return 0;
}

static int fed_send(struct gw *g, const struct gw_out_path *op,
		    const struct gw_out_req *req, gw_resp_h *resph,
		    void *arg, struct sst_ctrans **ctp)
{
	struct gw_out_path p = *op;
	const unsigned before = no;
	int err;

	/* the path as the link made it, but the bytes go here */
	CU_ASSERT_EQUAL(p.tp, SST_TP_TCP);
	p.sendh = out_capture;
	p.sendarg = NULL;
	err = gw_send_request(g, &p, req, resph, arg, ctp);
	CU_ASSERT_EQUAL(no, before + 1);
	if (!err && ctp && no == before + 1)
		ov[before].ct = *ctp;
	return err;
}

/* The requests sent from index i on with this method (and R-URI, when
 * given); the last one's index in *last. */
static unsigned sent_out(unsigned i, const char *method, const char *ruri,
			 unsigned *last)
{
	unsigned n = 0;

	for (; i < no; i++) {
		if (pl_strcmp(&ov[i].msg->met, method))
			continue;
		if (ruri && pl_strcmp(&ov[i].msg->ruri, ruri))
			continue;
		n++;
		if (last)
			*last = i;
	}
	return n;
}

/* The connector answers ov[i] (its To tag, its Contact, Record-Route). */
static void out_answer(unsigned i, uint16_t scode, const char *hdrs)
{
	struct sip_msg *resp = NULL;
	struct mbuf *mb = NULL;
	struct sst_extra x = {hdrs, NULL, NULL, 0};
	struct sst_verdict v;

	CU_ASSERT_FATAL(i < no && !ov[i].answered);
	ov[i].answered = true;
	CU_ASSERT_EQUAL_FATAL(sst_build_response(&mb, ov[i].msg, scode,
						 scode < 300 ? "OK" :
						 "Not Found", "conn-tag",
						 NULL, &x), 0);
	CU_ASSERT_EQUAL_FATAL(sst_msg_decode(&resp, mb, true, NULL, &v), 0);
	sst_verdict_reset(&v);
	CU_ASSERT_EQUAL(sst_tstack_recv_resp(ts, resp), 0);
	mem_deref(resp);
	mem_deref(mb);
}

static void answer_probes(void)
{
	unsigned i;

	for (i = 0; i < no; i++)
		if (!ov[i].answered && !pl_strcmp(&ov[i].msg->met, "OPTIONS"))
			out_answer(i, 200, NULL);
}

static void sub_answer(unsigned i, const char *contact)
{
	char hdrs[256];

	re_snprintf(hdrs, sizeof(hdrs), "Contact: <%s>\r\nExpires: 600\r\n"
		    "Record-Route: %s\r\n", contact, RR);
	out_answer(i, 200, hdrs);
}

/* ---- the NOTIFYs the presence service sent to local watchers ---- */

static struct notify {
	struct sip_msg *msg;
	char ruri[128];
	char entity[128];         /* From: who the NOTIFY is about */
	char state[64];           /* Subscription-State */
	enum sst_status st;
	char note[SST_PIDF_NOTE_MAX + 1];
	bool answered;
} nv[128];
static unsigned nn;

static int notify_capture(struct mbuf *mb, void *arg)
{
	const struct sip_hdr *ss;
	struct sst_pidf pidf;
	struct notify *n;

	(void)arg;
	if (nn >= ARRAY_SIZE(nv))
		return ENOMEM;
	n = &nv[nn];
	memset(n, 0, sizeof(*n));
	n->msg = decode(mb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n->msg);
	nn++;
	CU_ASSERT_EQUAL(pl_strcmp(&n->msg->met, "NOTIFY"), 0);
	(void)pl_strcpy(&n->msg->ruri, n->ruri, sizeof(n->ruri));
	(void)pl_strcpy(&n->msg->from.auri, n->entity, sizeof(n->entity));
	ss = sip_msg_hdr(n->msg, SIP_HDR_SUBSCRIPTION_STATE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss);
	(void)pl_strcpy(&ss->val, n->state, sizeof(n->state));
	CU_ASSERT_EQUAL_FATAL(sst_pidf_decode(&pidf, (const char *)
					     mbuf_buf(n->msg->mb),
					     mbuf_get_left(n->msg->mb)), 0);
	n->st = pidf.st;
	str_ncpy(n->note, pidf.note, sizeof(n->note));
	return 0;
}

static int notify_send(struct gw *g, const struct gw_out_path *op,
		       const struct gw_out_req *req, gw_resp_h *resph,
		       void *arg, struct sst_ctrans **ctp)
{
	struct gw_out_path p = *op;

	p.sendh = notify_capture;
	p.sendarg = NULL;
	return gw_send_request(g, &p, req, resph, arg, ctp);
}

/* Each local watcher answers what it was sent: 200. */
static void notify_answer_all(void)
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
		sst_verdict_reset(&v);
		(void)sst_tstack_recv_resp(ts, resp);
		mem_deref(resp);
		mem_deref(mb);
	}
}

/* The NOTIFYs from index i on to contact about entity; the last one in
 * *last. */
static unsigned notified(unsigned i, const char *contact,
			 const char *entity, const struct notify **last)
{
	unsigned n = 0;

	for (; i < nn; i++) {
		if (strcmp(nv[i].ruri, contact) ||
		    strcmp(nv[i].entity, entity))
			continue;
		n++;
		if (last)
			*last = &nv[i];
	}
	return n;
}

/* ---- requests arriving at the gateway ---- */

static struct sip_msg *request(const char *fmt, ...)
{
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	struct mbuf *mb;
	va_list ap;
	int err;

	memset(&v, 0, sizeof(v));
	mb = mbuf_alloc(2048);
	if (!mb)
		return NULL;
	va_start(ap, fmt);
	err = mbuf_vprintf(mb, fmt, ap);
	va_end(ap);
	mb->pos = 0;
	if (!err)
		CU_ASSERT_EQUAL(sst_msg_decode(&msg, mb, true, NULL, &v), 0);
	sst_verdict_reset(&v);
	mem_deref(mb);
	return msg;
}

/* A server transaction and a TCP flow from src to dst for msg. */
static void arrive(struct sip_msg *msg, const char *src, uint16_t sport,
		   uint16_t dport, struct sst_strans **stxp,
		   struct sst_flow **flp)
{
	struct sa s, d;
	struct sst_rx rx;

	CU_ASSERT_EQUAL_FATAL(sst_tstack_recv_req(ts, stxp, msg, true,
						  answer_capture, NULL), 0);
	CU_ASSERT_EQUAL(sa_set_str(&s, src, sport), 0);
	CU_ASSERT_EQUAL(sa_set_str(&d, GW_IP, dport), 0);
	memset(&rx, 0, sizeof(rx));
	rx.tp = SST_TP_TCP;
	rx.src = &s;
	rx.dst = &d;
	CU_ASSERT_EQUAL_FATAL(sst_flow_alloc(flp, gw->tp, &rx, msg), 0);
}

/* A local watcher (AOR watcher, local ID user, Contact contact)
 * subscribes to an external contact, as the receive path hands it to
 * the presence service once authenticated and routed outward (the To
 * tag answered in totag); or, with totag set, un-SUBSCRIBEs in that
 * dialog.  Returns the status answered, 0 for none. */
static const char *watch_email;   /* set: rq->email, as gw_fed_outbound
				   * would have found it */
static bool watch_refresh;        /* with unsub: Expires 600, a refresh */

static uint16_t watch(const char *watcher, const char *user,
		      const char *contact, const char *target,
		      const char *callid, char *totag, size_t tsz,
		      bool unsub)
{
	static unsigned cseq = 2;
	struct sst_strans *stx = NULL;
	struct sst_flow *fl = NULL;
	struct gw_req *rq = NULL;
	struct sip_msg *msg;
	const unsigned before = answer.n;
	const unsigned n = unsub ? ++cseq : 1;
	char to[192];

	if (unsub)
		re_snprintf(to, sizeof(to), "<%s>;tag=%s", target, totag);
	else
		re_snprintf(to, sizeof(to), "<%s>", target);
	msg = request("SUBSCRIBE %s SIP/2.0\r\n"
		      "Via: SIP/2.0/TCP " CLI_IP ":40000;branch=z9hG4bK%s%u"
		      "\r\n"
		      "Max-Forwards: 70\r\n"
		      "From: <%s>;tag=f-%s\r\n"
		      "To: %s\r\n"
		      "Call-ID: %s\r\n"
		      "CSeq: %u SUBSCRIBE\r\n"
		      "Event: presence\r\n"
		      "Expires: %u\r\n"
		      "Contact: <%s>\r\n"
		      "Content-Length: 0\r\n\r\n",
		      target, callid, n, watcher, callid, to, callid, n,
		      unsub && !watch_refresh ? 0 : 600, contact);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	arrive(msg, CLI_IP, 40000, 5060, &stx, &fl);
	if (unsub) {
		CU_ASSERT(gw_subscribe_indialog(gw, msg, stx, fl));
	}
	else {
		CU_ASSERT_EQUAL_FATAL(gw_req_alloc(&rq, gw, msg, stx, fl), 0);
		str_ncpy(rq->user, user, sizeof(rq->user));
		if (watch_email)
			str_ncpy(rq->email, watch_email, sizeof(rq->email));
		gw_subscribe_external(rq);   /* consumes rq */
	}
	mem_deref(fl);
	mem_deref(msg);
	if (answer.n == before || !answer.msg)
		return 0;
	if (!unsub && answer.msg->scode == 200 && totag)
		CU_ASSERT_EQUAL(pl_strcpy(&answer.msg->to.tag, totag, tsz), 0);
	return answer.msg->scode;
}

/* The connector relays a NOTIFY of the federation dialog ov[sub] set
 * up: from the external contact (its tag "conn-tag", as answered) to
 * the gateway's identity.  ltag NULL: the dialog's own.  st < 0: no
 * body.  Returns the gateway's answer. */
static uint16_t conn_notify(unsigned sub, const char *ltag,
			    const char *state, int st, const char *note)
{
	static uint32_t cseq = 1;
	const struct sip_msg *s = ov[sub].msg;
	struct sst_strans *stx = NULL;
	struct sst_flow *fl = NULL;
	struct sip_msg *msg;
	struct mbuf *body;
	const unsigned before = answer.n;
	char ctag[64];

	CU_ASSERT_FATAL(sub < no);
	body = mbuf_alloc(512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	if (st >= 0)
		CU_ASSERT_EQUAL_FATAL(sst_pidf_encode(body, "sip:x@globex.test",
						     (enum sst_status)st,
						     note), 0);
	if (ltag)
		str_ncpy(ctag, ltag, sizeof(ctag));
	else
		CU_ASSERT_EQUAL(pl_strcpy(&s->from.tag, ctag, sizeof(ctag)),
				0);
	++cseq;
	msg = request("NOTIFY sip:gw@" GW_IP ":5070;transport=tcp SIP/2.0\r\n"
		      "Via: SIP/2.0/TCP " CONN_IP ":5060;branch=z9hG4bKcn%u"
		      "\r\n"
		      "Max-Forwards: 69\r\n"
		      "From: <%r>;tag=conn-tag\r\n"
		      "To: <%r>;tag=%s\r\n"
		      "Call-ID: %r\r\n"
		      "CSeq: %u NOTIFY\r\n"
		      "Event: presence\r\n"
		      "Subscription-State: %s\r\n"
		      "Contact: <sip:%r@" CONN_IP ":5060;transport=tcp>\r\n"
		      "%s"
		      "Content-Length: %zu\r\n\r\n%b",
		      cseq, &s->to.auri, &s->from.auri, ctag, &s->callid,
		      cseq, state,
		      &s->to.uri.user, body->end ? "Content-Type: "
		      "application/pidf+xml\r\n" : "", body->end,
		      body->buf, body->end);
	mem_deref(body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	arrive(msg, CONN_IP, 5060, 5070, &stx, &fl);
	CU_ASSERT(gw_fed_is_fed(gw, fl));
	gw_fed_recv(gw, msg, stx, fl);
	mem_deref(fl);
	mem_deref(msg);
	if (answer.n == before || !answer.msg)
		return 0;
	return answer.msg->scode;
}

static const char *hdr_of(const struct sip_msg *m, enum sip_hdrid id,
			  char *buf, size_t sz)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	buf[0] = '\0';
	if (h)
		(void)pl_strcpy(&h->val, buf, sz);
	return buf;
}

/* ---- the tests, in order: each starts where the last one left ---- */

static char bob_carol[64], alice_carol[64];
static char bob_dave[64], alice_dave[64];
static unsigned carol_sub, dave_sub;   /* their SUBSCRIBEs in ov */

static void test_share(void)
{
	const struct notify *last = NULL;
	const uint64_t subs0 = gw->c.fed_sub_out;
	unsigned i, mark, omark;
	char b[128];

	/* bob watches carol before the link is up: offline at once,
	 * nothing sent to the connector yet */
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, CAROL, "w-bc", bob_carol,
			      sizeof(bob_carol), false), 200);
	CU_ASSERT_EQUAL(no, 0);
	CU_ASSERT_EQUAL(notified(0, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_STRING_EQUAL(last->state, "active;expires=600");
	notify_answer_all();

	/* the link is probed; its answer brings it up, and the waiting
	 * subscription starts: one SUBSCRIBE from the gateway's identity */
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(0, "OPTIONS", CONN_RURI, NULL), 1);
	CU_ASSERT_EQUAL(sent_out(0, "SUBSCRIBE", NULL, NULL), 0);
	answer_probes();
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(0, "SUBSCRIBE", NULL, &carol_sub), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[carol_sub].msg->ruri, CAROL), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[carol_sub].msg->to.auri, CAROL), 0);
	CU_ASSERT_FALSE(pl_isset(&ov[carol_sub].msg->to.tag));
	CU_ASSERT_EQUAL(pl_strcmp(&ov[carol_sub].msg->from.auri, GW_AOR), 0);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[carol_sub].msg, SIP_HDR_EVENT, b,
				      sizeof(b)), "presence");
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[carol_sub].msg, SIP_HDR_EXPIRES, b,
				      sizeof(b)), "600");
	CU_ASSERT_EQUAL(gw->c.fed_sub_out - subs0, 1);

	/* accepted: still nothing known, nobody told anything new */
	mark = nn;
	sub_answer(carol_sub, CAROL_TGT);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);

	/* the first NOTIFY: carol is online; bob hears it */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, "at her desk"), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_STRING_EQUAL(last->note, "at her desk");
	notify_answer_all();

	/* alice watches carol too: no second SUBSCRIBE, and she is told
	 * the current state at once */
	mark = nn;
	omark = no;
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, CAROL, "w-ac",
			      alice_carol, sizeof(alice_carol), false), 200);
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
	CU_ASSERT_EQUAL(gw->c.fed_sub_out - subs0, 1);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_STRING_EQUAL(last->note, "at her desk");
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, CAROL), 2);
	notify_answer_all();

	/* another contact is its own federation subscription */
	omark = no;
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, DAVE, "w-ad",
			      alice_dave, sizeof(alice_dave), false), 200);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", NULL, &dave_sub),
			      1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[dave_sub].msg->ruri, DAVE), 0);
	CU_ASSERT(pl_cmp(&ov[dave_sub].msg->callid,
			 &ov[carol_sub].msg->callid) != 0);
	sub_answer(dave_sub, DAVE_TGT);
	CU_ASSERT_EQUAL(conn_notify(dave_sub, NULL, "active;expires=600",
				    SST_ST_AWAY, NULL), 200);
	CU_ASSERT_EQUAL(gw->c.fed_sub_out - subs0, 2);
	notify_answer_all();

	/* nothing else went to the connector */
	for (i = 0; i < no; i++)
		CU_ASSERT(ov[i].answered);
}

static void test_fanout(void)
{
	const struct notify *last = NULL;
	unsigned mark;

	/* carol goes away: each of her two watchers hears it once, alice's
	 * watch of dave hears nothing */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=500",
				    SST_ST_AWAY, "lunch"), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	CU_ASSERT_STRING_EQUAL(last->note, "lunch");
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	CU_ASSERT_STRING_EQUAL(last->note, "lunch");
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, DAVE, NULL), 0);
	notify_answer_all();

	/* the same state again: nothing they see changed, no NOTIFY */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=480",
				    SST_ST_AWAY, "lunch"), 200);
	CU_ASSERT_EQUAL(nn, mark);

	/* a NOTIFY for no dialog of ours: 481, nobody told anything */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, "not-our-tag",
				    "active;expires=480", SST_ST_ACTIVE,
				    NULL), 481);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_AWAY);

	/* a NOTIFY without a body: no state known, offline for both */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=470",
				    -1, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	notify_answer_all();

	/* and back online: both hear it */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=460",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(nn - mark, 2);
	notify_answer_all();
}

static void test_refresh(void)
{
	const struct sip_msg *first = ov[carol_sub].msg;
	const struct notify *last = NULL;
	const uint64_t subs0 = gw->c.fed_sub_out;
	unsigned omark = no, mark, r = 0;
	char b[256];

	/* before expiry, the subscription is refreshed in its dialog: the
	 * same Call-ID and tags, the next CSeq, to the contact's target,
	 * along the connector's Record-Route */
	gw_fed_tick(gw, gw_now() + 541);
	answer_probes();
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL_TGT, &r), 1);
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", CAROL, NULL), 0);
	CU_ASSERT_EQUAL(pl_cmp(&ov[r].msg->callid, &first->callid), 0);
	CU_ASSERT_EQUAL(pl_cmp(&ov[r].msg->from.tag, &first->from.tag), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[r].msg->to.tag, "conn-tag"), 0);
	CU_ASSERT_EQUAL(ov[r].msg->cseq.num, first->cseq.num + 1);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[r].msg, SIP_HDR_ROUTE, b,
				      sizeof(b)), RR);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[r].msg, SIP_HDR_EXPIRES, b,
				      sizeof(b)), "600");
	/* dave's is refreshed too, each in its own dialog */
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", DAVE_TGT, NULL), 1);
	CU_ASSERT_EQUAL(gw->c.fed_sub_out - subs0, 2);
	sub_answer(r, CAROL_TGT);
	{
		unsigned d = 0;

		(void)sent_out(omark, "SUBSCRIBE", DAVE_TGT, &d);
		sub_answer(d, DAVE_TGT);
	}

	/* still the one dialog: its NOTIFYs reach both watchers, and
	 * nothing new is subscribed */
	mark = nn;
	omark = no;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_DND, "call"), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_DND);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_DND);
	notify_answer_all();
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
}

static void test_unsubscribe(void)
{
	const struct notify *last = NULL;
	unsigned omark, mark, u = 0;
	char b[64];

	/* bob leaves: his final NOTIFY; alice still watches, so the
	 * federation subscription stays */
	mark = nn;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, CAROL, "w-bc", bob_carol,
			      0, true), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_STRING_EQUAL(last->state, "terminated");
	notify_answer_all();
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, CAROL), 1);

	/* a change now reaches alice only */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=590",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, NULL), 1);
	notify_answer_all();

	/* alice, the last, leaves: one un-SUBSCRIBE in the dialog */
	mark = nn;
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, CAROL, "w-ac",
			      alice_carol, 0, true), 200);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_STRING_EQUAL(last->state, "terminated");
	notify_answer_all();
	CU_ASSERT_EQUAL(gw_pres_watchers(gw, CAROL), 0);
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", NULL, &u), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[u].msg->ruri, CAROL_TGT), 0);
	CU_ASSERT_EQUAL(pl_cmp(&ov[u].msg->callid,
			       &ov[carol_sub].msg->callid), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[u].msg->to.tag, "conn-tag"), 0);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[u].msg, SIP_HDR_EXPIRES, b,
				      sizeof(b)), "0");
	out_answer(u, 200, "Expires: 0\r\n");
	/* once only */
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 1);

	/* the connector's terminating NOTIFY is answered 200 (the dialog
	 * was kept for it) and tells nobody anything; after it the
	 * dialog is gone */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "terminated;reason="
				    "timeout", -1, NULL), 200);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 481);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);
}

/* Bob and alice watch carol again: a new federation subscription. */
static void rewatch_carol(void)
{
	const unsigned omark = no;
	unsigned s = 0;

	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, CAROL, "w-bc2", bob_carol,
			      sizeof(bob_carol), false), 200);
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, CAROL, "w-ac2",
			      alice_carol, sizeof(alice_carol), false), 200);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL, &s), 1);
	CU_ASSERT(pl_cmp(&ov[s].msg->callid, &ov[carol_sub].msg->callid) !=
		  0);
	carol_sub = s;
	sub_answer(carol_sub, CAROL_TGT);
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_ACTIVE);
	notify_answer_all();
}

static void test_terminated(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark;

	rewatch_carol();

	/* the far side ends the subscription: both watchers see carol
	 * offline, nobody stays online */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "terminated;reason="
				    "noresource", -1, NULL), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(nn - mark, 2);
	notify_answer_all();

	/* a refusal is not asked again at once */
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
	/* and the dialog is over */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 481);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);

	/* after the backoff (5 min for a refusal), subscribed afresh */
	gw_fed_tick(gw, gw_now() + 301);
	answer_probes();
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", CAROL, &carol_sub), 1);
	sub_answer(carol_sub, CAROL_TGT);
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, NULL), 1);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, NULL), 1);
	notify_answer_all();
}

static void test_link_loss(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark, p = 0, i, c = 0, d = 0;

	/* bob joins alice on dave: shared, told "away" at once */
	mark = nn;
	omark = no;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, DAVE, "w-bd", bob_dave,
			      sizeof(bob_dave), false), 200);
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	notify_answer_all();
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(gw_pres_status(gw, DAVE), SST_ST_AWAY);

	/* the keep-alive probe's connection fails: the link is down, the
	 * dialogs through it are gone, and every watcher of both contacts
	 * sees them offline */
	mark = nn;
	omark = no;
	gw_fed_tick(gw, gw_now() + 31);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "OPTIONS", NULL, &p), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ov[p].ct);
	ov[p].answered = true;
	sst_ctrans_tperror(ov[p].ct, ECONNRESET);
	CU_ASSERT(gw_fed_degraded(gw));
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(gw_pres_status(gw, DAVE), SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(nn - mark, 4);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	notify_answer_all();
	/* the old dialogs are gone */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 481);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);

	/* while down, nothing is subscribed */
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);

	/* the link back (re-probed after 1 s): each contact subscribed
	 * afresh, once, in a new dialog */
	gw_fed_tick(gw, gw_now() + 2);
	CU_ASSERT_EQUAL(sent_out(omark, "OPTIONS", NULL, NULL), 1);
	answer_probes();
	CU_ASSERT_FALSE(gw_fed_degraded(gw));
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL, &c), 1);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", DAVE, &d), 1);
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 2);
	CU_ASSERT(pl_cmp(&ov[c].msg->callid, &ov[carol_sub].msg->callid) !=
		  0);
	CU_ASSERT(pl_cmp(&ov[d].msg->callid, &ov[dave_sub].msg->callid) !=
		  0);
	sub_answer(c, CAROL_TGT);
	sub_answer(d, DAVE_TGT);
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(d, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	notify_answer_all();
	for (i = 0; i < no; i++)
		CU_ASSERT(ov[i].answered);
	carol_sub = c;
	dave_sub = d;
}

/* The far side forgets a working dialog: subscribed anew at once,
 * showing the last state meanwhile; if the new one fails, everybody
 * sees offline. */
static void test_lost_dialog(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark, r = 0, d = 0, s = 0;

	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	notify_answer_all();

	/* carol's refresh is answered 481 (her side restarted): nobody
	 * is told anything yet, and a new SUBSCRIBE goes out */
	omark = no;
	mark = nn;
	gw_fed_tick(gw, gw_now() + 541);
	answer_probes();
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL_TGT, &r), 1);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", DAVE_TGT, &d), 1);
	out_answer(r, 481, NULL);
	sub_answer(d, DAVE_TGT);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_ACTIVE);
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL, &s), 1);
	CU_ASSERT_FALSE(pl_isset(&ov[s].msg->to.tag));
	CU_ASSERT(pl_cmp(&ov[s].msg->callid, &ov[carol_sub].msg->callid) !=
		  0);
	carol_sub = s;
	sub_answer(carol_sub, CAROL_TGT);
	CU_ASSERT_EQUAL(nn, mark);

	/* the new dialog's first NOTIFY says what is true, to both */
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "active;expires=600",
				    SST_ST_AWAY, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	notify_answer_all();

	/* ended "deactivated": again subscribed anew, the state held;
	 * this time the new SUBSCRIBE is refused: both see offline */
	mark = nn;
	omark = no;
	CU_ASSERT_EQUAL(conn_notify(carol_sub, NULL, "terminated;reason="
				    "deactivated", -1, NULL), 200);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_AWAY);
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CAROL, &s), 1);
	out_answer(s, 403, NULL);
	CU_ASSERT_EQUAL(gw_pres_status(gw, CAROL), SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(nn - mark, 2);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, CAROL, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	notify_answer_all();
	CU_ASSERT_EQUAL(gw_pres_status(gw, DAVE), SST_ST_ACTIVE);
}

/* A watcher comes back while the old dialog waits for its terminating
 * NOTIFY: a new dialog of its own; the two do not mix. */
static void test_rewatch_while_ending(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark, u = 0, s = 0;

	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, DAVE, "w-bd", bob_dave, 0,
			      true), 200);
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, DAVE, "w-ad",
			      alice_dave, 0, true), 200);
	notify_answer_all();
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", DAVE_TGT, &u), 1);
	out_answer(u, 200, "Expires: 0\r\n");

	/* bob again, before the terminating NOTIFY: a new SUBSCRIBE */
	mark = nn;
	omark = no;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, DAVE, "w-bd3", NULL, 0,
			      false), 200);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", DAVE, &s), 1);
	CU_ASSERT(pl_cmp(&ov[s].msg->callid, &ov[dave_sub].msg->callid) !=
		  0);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, DAVE, NULL), 1);
	sub_answer(s, DAVE_TGT);
	notify_answer_all();

	/* the old dialog's last NOTIFY ends it and tells bob nothing */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(dave_sub, NULL, "terminated", -1, NULL),
			200);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(conn_notify(dave_sub, NULL, "active;expires=600",
				    SST_ST_DND, NULL), 481);
	CU_ASSERT_EQUAL(nn, mark);

	/* the new dialog's NOTIFY does */
	CU_ASSERT_EQUAL(conn_notify(s, NULL, "active;expires=600",
				    SST_ST_DND, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, DAVE, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_DND);
	notify_answer_all();
	dave_sub = s;
}

/* ---- XMPP communities: a subscription per local watcher ---- */

static char alice_xbob[64], bob_xbob[64], bob_xbob2[64];
static char alice_chi[64], bob_chi[64];
static unsigned xa_sub, xb_sub;   /* alice's and bob's, to bob@xmpp */

/* The per-watcher subscriptions of community name as status counts
 * them: "active/pending/rejected". */
static const char *wsubs_of(const char *name, char *buf, size_t sz)
{
	struct dmn_st *st = NULL;
	const struct dmn_st *l, *it;

	buf[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&st), 0);
	gw_fed_status_build(st, gw);
	l = dmn_st_get(st, "federation.external_communities");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		if (strcmp(dmn_st_gets(it, "name"), name))
			continue;
		if (!dmn_st_get(it, "watcher_subscriptions"))
			re_snprintf(buf, sz, "%s %s",
				    dmn_st_gets(it, "protocol"),
				    dmn_st_gets(it, "subscriptions"));
		else
			re_snprintf(buf, sz, "%s %lld/%lld/%lld",
				    dmn_st_gets(it, "protocol"),
				    (long long)dmn_st_geti(it,
				    "watcher_subscriptions.active"),
				    (long long)dmn_st_geti(it,
				    "watcher_subscriptions.pending"),
				    (long long)dmn_st_geti(it,
				    "watcher_subscriptions.rejected"));
	}
	mem_deref(st);
	return buf;
}

/* The SUBSCRIBEs sent from index i on From from; the last in *last. */
static unsigned sent_from(unsigned i, const char *from, unsigned *last)
{
	unsigned n = 0;

	for (; i < no; i++) {
		if (pl_strcmp(&ov[i].msg->met, "SUBSCRIBE") ||
		    pl_strcmp(&ov[i].msg->from.auri, from))
			continue;
		n++;
		if (last)
			*last = i;
	}
	return n;
}

static void test_xmpp_per_watcher(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark, i, n = 0;
	char b[128];

	answer_probes();
	gw_fed_tick(gw, gw_now());
	answer_probes();

	/* alice and bob watch bob@xmpp.test: two SUBSCRIBEs, each From
	 * its watcher's federation address, in dialogs of their own */
	omark = no;
	mark = nn;
	watch_email = ALICE_FED;
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, XBOB, "w-ax",
			      alice_xbob, sizeof(alice_xbob), false), 200);
	watch_email = BOB_FED;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, XBOB, "w-bx", bob_xbob,
			      sizeof(bob_xbob), false), 200);
	watch_email = NULL;
	gw_fed_tick(gw, gw_now());
	for (i = omark; i < no; i++) {
		const struct sip_msg *m = ov[i].msg;

		if (pl_strcmp(&m->met, "SUBSCRIBE"))
			continue;
		n++;
		CU_ASSERT_EQUAL(pl_strcmp(&m->ruri, XBOB), 0);
		CU_ASSERT_EQUAL(pl_strcmp(&m->to.auri, XBOB), 0);
		if (!pl_strcmp(&m->from.auri, "sip:" ALICE_FED))
			xa_sub = i;
		else if (!pl_strcmp(&m->from.auri, "sip:" BOB_FED))
			xb_sub = i;
		else
			CU_FAIL("a SUBSCRIBE From neither watcher");
	}
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL_FATAL(pl_strcmp(&ov[xa_sub].msg->from.auri,
					"sip:" ALICE_FED), 0);
	CU_ASSERT_EQUAL_FATAL(pl_strcmp(&ov[xb_sub].msg->from.auri,
					"sip:" BOB_FED), 0);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[xa_sub].msg, SIP_HDR_P_ASSERTED_IDENTITY,
				      b, sizeof(b)), "<sip:" ALICE_FED ">");
	CU_ASSERT(pl_cmp(&ov[xa_sub].msg->callid,
			 &ov[xb_sub].msg->callid) != 0);
	/* each hears offline at once: nothing is known yet */
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, XBOB, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	notify_answer_all();
	sub_answer(xa_sub, XBOB_TGT);
	sub_answer(xb_sub, XBOB_TGT);
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 0/2/0");

	/* pending (bob has not answered alice yet), even with a document
	 * that says online: alice still sees offline */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(xa_sub, NULL, "pending;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(nn, mark);
	CU_ASSERT_EQUAL(gw_fed_status(gw, XBOB, ALICE, NULL), SST_ST_OFFLINE);

	/* bob approves alice: she, and only she, sees him online */
	CU_ASSERT_EQUAL(conn_notify(xa_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, "chatty"), 200);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, XBOB, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_STRING_EQUAL(last->note, "chatty");
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, NULL), 0);
	CU_ASSERT_EQUAL(gw_fed_status(gw, XBOB, ALICE, NULL), SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(gw_fed_status(gw, XBOB, BOB, NULL), SST_ST_OFFLINE);
	/* nobody without a subscription of their own sees him */
	CU_ASSERT_EQUAL(gw_pres_status(gw, XBOB), SST_ST_OFFLINE);
	notify_answer_all();
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 1/1/0");

	/* bob approves bob: his own state, from his own dialog */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "active;expires=600",
				    SST_ST_AWAY, NULL), 200);
	CU_ASSERT_EQUAL(nn - mark, 1);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_AWAY);
	notify_answer_all();
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 2/0/0");
}

static void test_sip_beside_xmpp(void)
{
	unsigned omark = no, s = 0;
	char b[64];

	/* the same two watchers of bob@chicago.test (SIP): one shared
	 * SUBSCRIBE from the gateway's identity */
	watch_email = ALICE_FED;
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, CHIBOB, "w-ach",
			      alice_chi, sizeof(alice_chi), false), 200);
	watch_email = BOB_FED;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, CHIBOB, "w-bch", bob_chi,
			      sizeof(bob_chi), false), 200);
	watch_email = NULL;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", CHIBOB, &s), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[s].msg->from.auri, GW_AOR), 0);
	CU_ASSERT_PTR_NULL(sip_msg_hdr(ov[s].msg,
				       SIP_HDR_P_ASSERTED_IDENTITY));
	CU_ASSERT_STRING_EQUAL(wsubs_of("chicago", b, sizeof(b)),
			       "sip shared");
	sub_answer(s, "sip:chibob@" CONN_IP ":5060;transport=tcp");
	CU_ASSERT_EQUAL(conn_notify(s, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(gw_fed_status(gw, CHIBOB, ALICE, NULL), SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(gw_fed_status(gw, CHIBOB, BOB, NULL), SST_ST_ACTIVE);
	notify_answer_all();
}

static int pf_drop(const char *p, size_t size, void *arg)
{
	(void)p;
	(void)size;
	(void)arg;
	return 0;
}

static void test_xmpp_rejected(void)
{
	struct re_printf pf = {pf_drop, NULL};
	const struct notify *last = NULL;
	unsigned mark, omark, s = 0;
	char b[64];

	/* bob@xmpp refuses local bob: bob sees offline */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "terminated;reason="
				    "rejected", -1, NULL), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, &last), 1);
	CU_ASSERT_EQUAL(last->st, SST_ST_OFFLINE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, XBOB, NULL), 0);
	CU_ASSERT_EQUAL(gw_fed_status(gw, XBOB, ALICE, NULL), SST_ST_ACTIVE);
	notify_answer_all();
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 1/0/1");

	/* not asked again: not on bob's refreshes, not after the longest
	 * backoff, not on `reset` */
	omark = no;
	watch_refresh = true;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, XBOB, "w-bx", bob_xbob, 0,
			      true), 200);
	watch_refresh = false;
	notify_answer_all();
	gw_fed_tick(gw, gw_now());
	gw_fed_tick(gw, gw_now() + 301);
	answer_probes();
	gw_fed_tick(gw, gw_now() + 4 * 3600 + 1);
	answer_probes();
	CU_ASSERT_EQUAL(gw_fed_reset(gw, NULL, &pf), 0);
	answer_probes();
	CU_ASSERT_EQUAL(sent_from(omark, "sip:" BOB_FED, NULL), 0);
	/* alice's is refreshed meanwhile, in her dialog */
	CU_ASSERT_EQUAL_FATAL(sent_from(omark, "sip:" ALICE_FED, &s), 1);
	CU_ASSERT_EQUAL(pl_cmp(&ov[s].msg->callid, &ov[xa_sub].msg->callid),
			0);
	out_answer(s, 200, "Expires: 600\r\n");
	CU_ASSERT_EQUAL(gw_fed_status(gw, XBOB, BOB, NULL), SST_ST_OFFLINE);
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 1/0/1");

	/* a new dialog of bob's (he adds the contact again): asked again,
	 * From him */
	omark = no;
	watch_email = BOB_FED;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, XBOB, "w-bx2", bob_xbob2,
			      sizeof(bob_xbob2), false), 200);
	watch_email = NULL;
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", XBOB, &s), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[s].msg->from.auri, "sip:" BOB_FED), 0);
	xb_sub = s;
	sub_answer(xb_sub, XBOB_TGT);
	notify_answer_all();
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "active;expires=600",
				    SST_ST_DND, NULL), 200);
	/* both of bob's dialogs hear it */
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, &last), 2);
	CU_ASSERT_EQUAL(last->st, SST_ST_DND);
	notify_answer_all();

	/* other endings are retried as for SIP: deactivated at once */
	omark = no;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "terminated;reason="
				    "deactivated", -1, NULL), 200);
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", XBOB, &s), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[s].msg->from.auri, "sip:" BOB_FED), 0);
	xb_sub = s;
	sub_answer(xb_sub, XBOB_TGT);
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "active;expires=600",
				    SST_ST_DND, NULL), 200);
	notify_answer_all();
	/* probation: after the transient backoff, not before */
	omark = no;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "terminated;reason="
				    "probation", -1, NULL), 200);
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", XBOB, NULL), 0);
	gw_fed_tick(gw, gw_now() + 4);
	answer_probes();
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", XBOB, &s), 1);
	xb_sub = s;
	sub_answer(xb_sub, XBOB_TGT);
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "active;expires=600",
				    SST_ST_DND, NULL), 200);
	notify_answer_all();
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 2/0/0");
}

static void test_xmpp_leave(void)
{
	const struct notify *last = NULL;
	unsigned mark, omark, u = 0;
	char b[64];

	/* alice leaves: her subscription, and only hers, is ended */
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, XBOB, "w-ax",
			      alice_xbob, 0, true), 200);
	notify_answer_all();
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", NULL, &u), 1);
	CU_ASSERT_EQUAL(pl_cmp(&ov[u].msg->callid, &ov[xa_sub].msg->callid),
			0);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[u].msg->from.auri, "sip:" ALICE_FED),
			0);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[u].msg, SIP_HDR_EXPIRES, b,
				      sizeof(b)), "0");
	out_answer(u, 200, "Expires: 0\r\n");
	CU_ASSERT_EQUAL(conn_notify(xa_sub, NULL, "terminated;reason="
				    "timeout", -1, NULL), 200);
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 1/0/0");

	/* bob's is kept: he still hears bob@xmpp */
	mark = nn;
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "active;expires=600",
				    SST_ST_ACTIVE, NULL), 200);
	CU_ASSERT_EQUAL(notified(mark, BOB_C, XBOB, &last), 2);
	CU_ASSERT_EQUAL(last->st, SST_ST_ACTIVE);
	CU_ASSERT_EQUAL(notified(mark, ALICE_C, XBOB, NULL), 0);
	notify_answer_all();

	/* bob's first dialog ends, his second keeps the subscription;
	 * the second ends too: un-SUBSCRIBEd */
	omark = no;
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, XBOB, "w-bx", bob_xbob, 0,
			      true), 200);
	notify_answer_all();
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL(sent_out(omark, "SUBSCRIBE", NULL, NULL), 0);
	CU_ASSERT_EQUAL(watch(BOB, "bob", BOB_C, XBOB, "w-bx2", bob_xbob2, 0,
			      true), 200);
	notify_answer_all();
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", NULL, &u), 1);
	CU_ASSERT_EQUAL(pl_cmp(&ov[u].msg->callid, &ov[xb_sub].msg->callid),
			0);
	CU_ASSERT_STRING_EQUAL(hdr_of(ov[u].msg, SIP_HDR_EXPIRES, b,
				      sizeof(b)), "0");
	out_answer(u, 200, "Expires: 0\r\n");
	CU_ASSERT_EQUAL(conn_notify(xb_sub, NULL, "terminated", -1, NULL),
			200);
	CU_ASSERT_STRING_EQUAL(wsubs_of("jabber", b, sizeof(b)),
			       "xmpp 0/0/0");
}

/* A dialog that comes without the address the outbound path found (a
 * subscription restored from the store): the federation side finds it
 * as that path would -- ConvertID=false here: the local ID as it is. */
static void test_xmpp_no_address(void)
{
	char tag[64];
	unsigned omark = no, s = 0, u = 0;

	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, XBOB, "w-ax3", tag,
			      sizeof(tag), false), 200);
	CU_ASSERT_EQUAL_FATAL(sent_out(omark, "SUBSCRIBE", XBOB, &s), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&ov[s].msg->from.auri, ALICE), 0);
	sub_answer(s, XBOB_TGT);
	notify_answer_all();
	CU_ASSERT_EQUAL(watch(ALICE, "asmith", ALICE_C, XBOB, "w-ax3", tag, 0,
			      true), 200);
	notify_answer_all();
	omark = no;
	gw_fed_tick(gw, gw_now());
	CU_ASSERT_EQUAL_FATAL(sent_from(omark, ALICE, &u), 1);
	out_answer(u, 200, "Expires: 0\r\n");
}

/* ---- inbound watchers from an XMPP community meet privacy ---- */

static unsigned poll_before, poll_rounds;

/* Run the loop until the gateway answered (the directory's answer
 * arrives through it), 2 s at most. */
static void dir_poll(void *arg)
{
	struct tmr *t = arg;

	if (answer.n != poll_before || ++poll_rounds > 400) {
		re_cancel();
		return;
	}
	tmr_start(t, 5, dir_poll, t);
}

/* A connector relays a SUBSCRIBE From watcher to local user; the
 * directory answers on the loop.  Returns the status answered. */
static uint16_t fed_watch(const char *watcher, const char *user,
			  const char *callid)
{
	struct sst_strans *stx = NULL;
	struct sst_flow *fl = NULL;
	struct sip_msg *msg;
	const unsigned before = answer.n;
	struct tmr t;

	msg = request("SUBSCRIBE sip:%s@acme.test SIP/2.0\r\n"
		      "Via: SIP/2.0/TCP " CONN_IP ":5060;branch=z9hG4bKi%s"
		      "\r\n"
		      "Max-Forwards: 69\r\n"
		      "From: <%s>;tag=x-%s\r\n"
		      "To: <sip:%s@acme.test>\r\n"
		      "Call-ID: %s\r\n"
		      "CSeq: 1 SUBSCRIBE\r\n"
		      "Event: presence\r\n"
		      "Expires: 600\r\n"
		      "Contact: <sip:w@" CONN_IP ":5060;transport=tcp>\r\n"
		      "Content-Length: 0\r\n\r\n",
		      user, callid, watcher, callid, user, callid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	arrive(msg, CONN_IP, 5060, 5070, &stx, &fl);
	gw_fed_recv(gw, msg, stx, fl);
	tmr_init(&t);
	poll_before = before;
	poll_rounds = 0;
	if (answer.n == before) {
		tmr_start(&t, 5, dir_poll, &t);
		(void)re_main(NULL);
	}
	tmr_cancel(&t);
	mem_deref(fl);
	mem_deref(msg);
	notify_answer_all();
	if (answer.n == before || !answer.msg)
		return 0;
	return answer.msg->scode;
}

static void test_xmpp_privacy(void)
{
	/* asmith shares with all: an XMPP watcher may subscribe */
	CU_ASSERT_EQUAL(fed_watch("sip:eve@xmpp.test", "asmith", "in-1"),
			200);
	/* bob shares with chicago.test only: the XMPP watcher is refused
	 * as a watcher from any other SIP community would be, and one
	 * from chicago is not */
	CU_ASSERT_EQUAL(fed_watch("sip:eve@xmpp.test", "bob", "in-2"), 403);
	CU_ASSERT_EQUAL(pl_strcmp(&answer.msg->reason,
				  "Presence not shared with your community"),
			0);
	CU_ASSERT_EQUAL(fed_watch("sip:eve@globex.test", "bob", "in-3"),
			403);
	CU_ASSERT_EQUAL(fed_watch("sip:ann@chicago.test", "bob", "in-4"),
			200);
	/* carol shares with nobody */
	CU_ASSERT_EQUAL(fed_watch("sip:eve@xmpp.test", "carol", "in-5"),
			403);
}

/* The transport a flow names; it has no listener, nothing arrives. */
static void no_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	(void)rx;
	(void)mb;
	(void)arg;
}

static int lsnr_add(const char *ip, uint16_t port, bool fed)
{
	struct gw_lsnr *l = mem_zalloc(sizeof(*l), NULL);

	if (!l || sa_set_str(&l->addr, ip, port)) {
		mem_deref(l);
		return ENOMEM;
	}
	l->tp = SST_TP_TCP;
	l->fed = fed;
	list_append(&gw->lsnrs, &l->le, l);
	return 0;
}

static int suite_init(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?>\n"
		"<CommunityConfig>\n"
		"  <Community name=\"acme\"><Domain>acme.test</Domain>"
		"</Community>\n"
		"  <CommunityGateway name=\"gw\" "
		"SupportExternalCommunities=\"true\" ConvertID=\"false\">\n"
		"    <ClientListen transport=\"tcp\" address=\"" GW_IP "\""
		" port=\"5060\"/>\n"
		"    <ConnectorListen transport=\"tcp\" address=\"" GW_IP "\""
		" port=\"5070\"/>\n"
		"  </CommunityGateway>\n"
		"  <ExternCommunity name=\"globex\" transport=\"tcp\" "
		"port=\"5060\">\n"
		"    <Domain>globex.test</Domain>\n"
		"    <Proxy>sip.globex.test</Proxy>\n"
		"  </ExternCommunity>\n"
		"  <ExternCommunity name=\"jabber\" protocol=\"xmpp\">\n"
		"    <Domain>xmpp.test</Domain>\n"
		"  </ExternCommunity>\n"
		"  <ExternCommunity name=\"chicago\" transport=\"tcp\" "
		"port=\"5060\">\n"
		"    <Domain>chicago.test</Domain>\n"
		"    <Proxy>sip.chicago.test</Proxy>\n"
		"  </ExternCommunity>\n"
		"  <CommunityConnector name=\"edge\" ip=\"" CONN_IP "\" "
		"port=\"5060\" retryInterval=\"60\">\n"
		"    <Gateway>gw</Gateway>\n"
		"    <SupportedCommunity name=\"globex\" enabled=\"true\"/>\n"
		"    <SupportedCommunity name=\"jabber\" enabled=\"true\"/>\n"
		"    <SupportedCommunity name=\"chicago\" enabled=\"true\"/>\n"
		"  </CommunityConnector>\n"
		"  <CommunityConnectivity><TrustedIP>" CONN_IP "</TrustedIP>"
		"</CommunityConnectivity>\n"
		"  <Directory backend=\"file\"><File>%s/conf/examples/"
		"acme.test.ldif</File>\n"
		"    <Attributes id=\"uid\" email=\"mail\" "
		"privacy=\"description\"/>\n"
		"  </Directory>\n"
		"</CommunityConfig>\n";
	const char *top = getenv("top_srcdir");
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	struct sst_transp_conf tconf;
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
	/* what gw_start would bind, without the sockets: the client and
	 * connector listeners, then the links (gw_fed_start) */
	gw->tstk = mem_ref(ts);
	memset(&tconf, 0, sizeof(tconf));
	if (!gw->tp && sst_transp_alloc(&gw->tp, &tconf, no_recv, NULL))
		return 1;
	if (lsnr_add(GW_IP, 5060, false) || lsnr_add(GW_IP, 5070, true))
		return 1;
	gw_fed_send_seam(fed_send);
	gw_pres_send_seam(notify_send);
	if (gw_fed_start(gw) || list_count(&gw->links) != 1)
		return 1;
	return 0;
}

static int suite_clean(void)
{
	unsigned i;

	gw = mem_deref(gw);
	ts = mem_deref(ts);
	gw_fed_send_seam(NULL);
	gw_pres_send_seam(NULL);
	for (i = 0; i < no; i++)
		ov[i].msg = mem_deref(ov[i].msg);
	for (i = 0; i < nn; i++)
		nv[i].msg = mem_deref(nv[i].msg);
	answer.msg = mem_deref(answer.msg);
	(void)unlink(path);
	(void)rmdir(dir);
	libre_close();
	return 0;
}

static CU_TestInfo fed_tests[] = {
	{"sharing: one federation SUBSCRIBE, state at once", test_share},
	{"fan-out of the federation NOTIFYs", test_fanout},
	{"refresh in the one dialog", test_refresh},
	{"teardown: the last watcher un-SUBSCRIBEs", test_unsubscribe},
	{"teardown: a terminating NOTIFY shows offline", test_terminated},
	{"teardown: a link loss shows offline, back afresh", test_link_loss},
	{"a lost dialog: anew, the state held, offline on failure",
	 test_lost_dialog},
	{"a watcher back while the old dialog ends",
	 test_rewatch_while_ending},
	{"XMPP: a SUBSCRIBE per watcher, From it; pending is offline",
	 test_xmpp_per_watcher},
	{"SIP beside XMPP: still one shared SUBSCRIBE", test_sip_beside_xmpp},
	{"XMPP: rejected is offline, asked again on a new dialog only",
	 test_xmpp_rejected},
	{"XMPP: a watcher leaving ends its own subscription only",
	 test_xmpp_leave},
	{"XMPP: a dialog without an address gets the watcher's own",
	 test_xmpp_no_address},
	{"XMPP watchers inbound meet the users' privacy", test_xmpp_privacy},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_fed", suite_init, suite_clean, NULL, NULL, fed_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
