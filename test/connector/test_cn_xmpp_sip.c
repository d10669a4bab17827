/*
 * test_cn_xmpp_sip.c -- the translation between our gateways' SIP and
 * an XMPP community, with the streams faked (fake_cn_xmpp.c) and the
 * gateway played by the test: its requests go in as server
 * transactions of a real transaction stack, the answers are taken from
 * the transaction's send callback, and the connector's own requests to
 * the gateway are taken at the translation's send seam and answered
 * through the stack.  No sockets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_timer.h"
#include "sipstack/sst_pidf.h"
#include "conf/cfg.h"
#include "xmpp/xmpp.h"
#include "connector/cn_px.h"
#include "connector/cn_xmpp_sip.h"
#include "connector/fake_cn_xmpp.h"
#include "lib/cutest.h"

#define COMM "xmpp.test"
#define ALICE "sip:alice@acme.test"
#define BOB "sip:bob@xmpp.test"

static struct sst_tstack *ts;
static struct cn_px *px;
static struct cn_xsip *xs;
static struct cfg_extern ex = {.name = COMM, .protocol = CFG_PROTO_XMPP};

/* what the connector answered, and what it asked the gateway */
static struct sip_msg *answer;
enum { OUT_MAX = 32 };
static struct sip_msg *outv[OUT_MAX];
static size_t outn;

static struct sip_msg *decode(struct mbuf *mb)
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

static int answer_h(struct mbuf *mb, void *arg)
{
	(void)arg;
	answer = mem_deref(answer);
	answer = decode(mb);
	return 0;
}

static int out_h(struct mbuf *mb, void *arg)
{
	(void)arg;
	if (outn >= OUT_MAX)
		return ENOMEM;
	outv[outn++] = decode(mb);
	return 0;
}

static void outs_clear(void)
{
	while (outn) {
		--outn;
		outv[outn] = mem_deref(outv[outn]);
	}
}

static void req_destructor(void *arg)
{
	struct px_req *r = arg;

	if (r->st)
		sst_strans_abandon(r->st);
	mem_deref(r->msg);
}

/* One request from the gateway; 0 or the status answered at once. */
static uint16_t gw_req(const char *method, const char *ruri,
		       const char *from, const char *to, const char *callid,
		       uint32_t cseq, const char *hdrs, const char *ctype,
		       const char *body)
{
	static unsigned n;
	struct sst_strans *stx = NULL;
	struct sip_msg *msg;
	struct px_req *r;
	struct mbuf *mb = mbuf_alloc(1024);
	size_t blen = body ? strlen(body) : 0;

	answer = mem_deref(answer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL_FATAL(mbuf_printf(mb,
		"%s %s SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 127.0.0.2:5070;branch=z9hG4bKgw%u\r\n"
		"Max-Forwards: 69\r\n"
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n"
		"%s%s%s%s"
		"Content-Length: %zu\r\n\r\n%s",
		method, ruri, ++n, from, to, callid, cseq, method,
		hdrs ? hdrs : "", ctype ? "Content-Type: " : "",
		ctype ? ctype : "", ctype ? "\r\n" : "", blen,
		body ? body : ""), 0);
	mb->pos = 0;
	msg = decode(mb);
	mem_deref(mb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL_FATAL(sst_tstack_recv_req(ts, &stx, msg, true,
						  answer_h, NULL), 0);
	r = mem_zalloc(sizeof(*r), req_destructor);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	r->px = px;
	r->msg = msg;
	r->st = stx;
	r->gwi = 0;
	(void)sa_set_str(&r->src, "127.0.0.2", 5070);
	str_ncpy(r->method, method, sizeof(r->method));
	str_ncpy(r->comm, COMM, sizeof(r->comm));
	cn_xsip_request(xs, r, &ex);
	return answer ? answer->scode : 0;
}

/* The gateway answers our request m. */
static void gw_answer(const struct sip_msg *m, uint16_t scode,
		      const char *totag, const char *hdrs)
{
	struct sst_extra x = {hdrs, NULL, NULL, 0};
	struct mbuf *mb = NULL;
	struct sip_msg *resp;

	CU_ASSERT_EQUAL_FATAL(sst_build_response(&mb, m, scode, "Whatever",
						 totag, NULL,
						 hdrs ? &x : NULL), 0);
	mb->pos = 0;
	resp = decode(mb);
	mem_deref(mb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_EQUAL(sst_tstack_recv_resp(ts, resp), 0);
	mem_deref(resp);
}

static const char *hdr(const struct sip_msg *m, const char *name)
{
	static char buf[256];
	const struct sip_hdr *h = m ? sip_msg_xhdr(m, name) : NULL;

	if (!h || pl_strcpy(&h->val, buf, sizeof(buf)))
		return "";
	return buf;
}

static enum sst_status notify_status(const struct sip_msg *m)
{
	struct sst_pidf pd;

	CU_ASSERT_STRING_EQUAL(hdr(m, "Content-Type"), SST_PIDF_CTYPE);
	if (sst_pidf_decode(&pd, (const char *)mbuf_buf(m->mb),
			    mbuf_get_left(m->mb)))
		return (enum sst_status)-1;
	CU_ASSERT_STRING_EQUAL(pd.entity, BOB);
	return pd.st;
}

/* the stanza stanza number i, or "" */
static const char *stanza(size_t i)
{
	return i < fake_xmpp.n ? fake_xmpp.xml[i] : "";
}

static void xmpp_in(const char *xml);

static void t_setup(void)
{
	CU_ASSERT_EQUAL_FATAL(sst_tstack_alloc(&ts, NULL, NULL), 0);
	px = mem_zalloc(sizeof(*px), NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(px);
	px->ts = ts;
	str_ncpy(px->ip, "127.0.0.1", sizeof(px->ip));
	px->port = 5060;
	px->tls_port = 5061;
	px->ngwt = 1;
	px->gwt[0].kind = SST_TP_TCP;
	(void)sa_set_str(&px->gwt[0].addr, "127.0.0.2", 5070);
	fake_xmpp_reset();
	CU_ASSERT_EQUAL_FATAL(cn_xsip_alloc(&xs, px), 0);
	cn_xsip_send_seam(xs, out_h);
}

static void t_teardown(void)
{
	fake_xmpp_reset();
	xs = mem_deref(xs);
	outs_clear();
	answer = mem_deref(answer);
	px = mem_deref(px);
	ts = mem_deref(ts);
}

/* ---- MESSAGE ---- */

static void test_message_out(void)
{
	static const struct {
		int err;
		uint16_t sc;
		const char *retry;
	} fate[] = {
		{0, 200, ""}, {ETIMEDOUT, 503, "60"}, {ECONNREFUSED, 480, "60"},
		{ENOENT, 404, ""}, {EPERM, 403, ""},
	};
	size_t i;

	t_setup();
	for (i = 0; i < ARRAY_SIZE(fate); i++) {
		char callid[16];

		fake_xmpp.n = 0;
		re_snprintf(callid, sizeof(callid), "m%zu", i);
		/* no answer before the stanza's fate is known */
		CU_ASSERT_EQUAL(gw_req("MESSAGE", BOB, "<" ALICE ">;tag=a1",
				       "<" BOB ">", callid, 1, NULL,
				       "text/plain;charset=UTF-8", "hello"),
				0);
		CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0), "<message from=\""
			"alice@acme.test\" to=\"bob@xmpp.test\" type=\"chat\""));
		CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0),
					      "<body>hello</body></message>"));
		CU_ASSERT_STRING_EQUAL(fake_xmpp.comm[0], COMM);
		fake_xmpp.senth[0](fate[i].err, fake_xmpp.arg[0]);
		fake_xmpp.senth[0] = NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(answer);
		CU_ASSERT_EQUAL(answer->scode, fate[i].sc);
		CU_ASSERT_STRING_EQUAL(hdr(answer, "Retry-After"),
				       fate[i].retry);
	}
	/* what XMPP cannot carry is refused at once, nothing sent */
	fake_xmpp.n = 0;
	CU_ASSERT_EQUAL(gw_req("MESSAGE", BOB, "<" ALICE ">;tag=a1",
			       "<" BOB ">", "mh", 1, NULL, "text/html",
			       "<b>hi</b>"), 415);
	CU_ASSERT_STRING_EQUAL(hdr(answer, "Accept"), "text/plain");
	CU_ASSERT_EQUAL(gw_req("MESSAGE", "sip:+1555@xmpp.test;user=phone",
			       "<tel:+1555>;tag=a1", "<" BOB ">", "mt", 1,
			       NULL, "text/plain", "x"), 404);
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);
	/* the streams refuse at once: answered at once */
	fake_xmpp.fail = ENOTCONN;
	CU_ASSERT_EQUAL(gw_req("MESSAGE", BOB, "<" ALICE ">;tag=a1",
			       "<" BOB ">", "mf", 1, NULL, "text/plain",
			       "x"), 503);
	{
		struct cn_xsip_stats st;

		/* one sent; four fates refused, two at once, one unsent */
		cn_xsip_stats(xs, &st);
		CU_ASSERT_EQUAL(st.msg_out, 1);
		CU_ASSERT_EQUAL(st.msg_out_failed, 7);
	}
	t_teardown();
}

static void test_message_in(void)
{
	t_setup();
	xmpp_in("<message from='bob@xmpp.test/pc' to='alice@acme.test' "
		"id='m1' type='chat'><body>hi there</body></message>");
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->met, "MESSAGE"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->ruri, ALICE), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->from.auri, BOB), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->to.auri, ALICE), 0);
	CU_ASSERT_STRING_EQUAL(hdr(outv[0], "Content-Type"),
			       "text/plain;charset=UTF-8");
	CU_ASSERT_EQUAL(mbuf_get_left(outv[0]->mb), 8);
	CU_ASSERT(!memcmp(mbuf_buf(outv[0]->mb), "hi there", 8));
	/* delivered: nothing goes back */
	gw_answer(outv[0], 200, NULL, NULL);
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);

	/* the gateway refuses: the sender hears why */
	xmpp_in("<message from='bob@xmpp.test/pc' to='nobody@acme.test' "
		"id='m2' type='chat'><body>hi</body></message>");
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	gw_answer(outv[1], 404, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_STRING_EQUAL(stanza(0),
		"<message from=\"nobody@acme.test\" to=\"bob@xmpp.test/pc\" "
		"id=\"m2\" type=\"error\"><error type=\"cancel\">"
		"<item-not-found xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\""
		"/></error></message>");
	xmpp_in("<message from='bob@xmpp.test/pc' to='alice@acme.test' "
		"id='m3' type='chat'><body>hi</body></message>");
	CU_ASSERT_EQUAL_FATAL(outn, 3);
	gw_answer(outv[2], 480, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(1), "<error type=\"wait\">"
				      "<recipient-unavailable"));

	/* dropped: chat states, errors, group chat */
	xmpp_in("<message from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='chat'><composing xmlns='http://jabber.org/protocol/"
		"chatstates'/></message>");
	xmpp_in("<message from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='error'><body>x</body></message>");
	xmpp_in("<message from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='groupchat'><body>x</body></message>");
	CU_ASSERT_EQUAL(outn, 3);
	CU_ASSERT_EQUAL(fake_xmpp.n, 2);

	/* what status counts: one delivered, two refused, one error
	 * stanza of each condition, three dropped */
	{
		struct cn_xsip_stats st;

		cn_xsip_stats(xs, &st);
		CU_ASSERT_EQUAL(st.msg_in, 1);
		CU_ASSERT_EQUAL(st.msg_in_failed, 2);
		CU_ASSERT_EQUAL(st.untranslated, 3);
		CU_ASSERT_STRING_EQUAL(st.errs[0].cond, "item-not-found");
		CU_ASSERT_EQUAL(st.errs[0].n, 1);
		CU_ASSERT_STRING_EQUAL(st.errs[1].cond,
				       "recipient-unavailable");
		CU_ASSERT_EQUAL(st.errs[1].n, 1);
		CU_ASSERT_PTR_NULL(st.errs[2].cond);
	}
	t_teardown();
}

/* ---- SUBSCRIBE from a gateway ---- */

static char ltag[64];

/* A new subscription; granted: the Expires the answer must give. */
static void subscribe_first(const char *callid, uint32_t expires,
			    uint32_t granted)
{
	char hdrs[128];
	struct sip_addr a;

	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nExpires: %u\r\n"
		    "Contact: <sip:127.0.0.2:5070;transport=tcp>\r\n",
		    expires);
	fake_xmpp.n = 0;
	outs_clear();
	CU_ASSERT_EQUAL_FATAL(gw_req("SUBSCRIBE", BOB, "<" ALICE ">;tag=w1",
				     "<" BOB ">", callid, 1, hdrs, NULL,
				     NULL), 202);
	CU_ASSERT(pl_isset(&answer->to.tag));
	pl_strcpy(&answer->to.tag, ltag, sizeof(ltag));
	CU_ASSERT_EQUAL(pl_u32(&answer->expires), granted);
	CU_ASSERT_EQUAL(sip_addr_decode(&a, &sip_msg_hdr(answer,
				SIP_HDR_CONTACT)->val), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&a.auri, "sip:127.0.0.1:5060;"
				  "transport=tcp"), 0);
}

static void test_subscribe_out(void)
{
	struct cn_xsip_stats st;
	char callid[] = "s1";

	t_setup();
	subscribe_first(callid, 600, 600);
	/* asked once, not probed (a probe before Bob's answer is answered
	 * unsubscribed), and the watcher sees Offline for now */
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_STRING_EQUAL(stanza(0), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"subscribe\"/>");
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->met, "NOTIFY"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->ruri,
				  "sip:127.0.0.2:5070;transport=tcp"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->callid, callid), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->from.tag, ltag), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[0]->to.tag, "w1"), 0);
	CU_ASSERT_STRING_EQUAL(hdr(outv[0], "Event"), "presence");
	CU_ASSERT_PTR_NOT_NULL(strstr(hdr(outv[0], "Subscription-State"),
				      "pending;expires="));
	CU_ASSERT_EQUAL(notify_status(outv[0]), SST_ST_OFFLINE);
	gw_answer(outv[0], 200, NULL, NULL);

	/* Bob says yes, then what he is */
	xmpp_in("<presence from='bob@xmpp.test' to='alice@acme.test' "
		"type='subscribed'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(hdr(outv[1], "Subscription-State"),
				      "active;expires="));
	CU_ASSERT_EQUAL(notify_status(outv[1]), SST_ST_OFFLINE);
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test'>"
		"<show>away</show><status>lunch</status></presence>");
	CU_ASSERT_EQUAL_FATAL(outn, 3);
	CU_ASSERT_EQUAL(notify_status(outv[2]), SST_ST_AWAY);
	/* servers casefold JIDs: Alice is alice */
	xmpp_in("<presence from='Bob@xmpp.test/pc' to='Alice@acme.test'>"
		"<show>dnd</show></presence>");
	CU_ASSERT_EQUAL_FATAL(outn, 4);
	CU_ASSERT_EQUAL(notify_status(outv[3]), SST_ST_DND);
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 5);
	CU_ASSERT_EQUAL(notify_status(outv[4]), SST_ST_ACTIVE);
	/* someone else's presence is not Bob's */
	xmpp_in("<presence from='carol@xmpp.test' to='alice@acme.test'/>");
	CU_ASSERT_EQUAL(outn, 5);

	/* a refresh asks Bob nothing again */
	fake_xmpp_written();
	fake_xmpp.n = 0;
	CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", "sip:127.0.0.1:5060", "<" ALICE
			       ">;tag=w1", "<" BOB ">;tag=other", callid, 2,
			       "Event: presence\r\nExpires: 600\r\n", NULL,
			       NULL), 481);	/* a tag not ours */
	{
		char to[80];

		re_snprintf(to, sizeof(to), "<" BOB ">;tag=%s", ltag);
		CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", "sip:127.0.0.1:5060",
				       "<" ALICE ">;tag=w1", to, callid, 3,
				       "Event: presence\r\nExpires: 600\r\n",
				       NULL, NULL), 202);
	}
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);
	CU_ASSERT_EQUAL_FATAL(outn, 6);
	CU_ASSERT_EQUAL(notify_status(outv[5]), SST_ST_ACTIVE);

	/* the streams go away: nobody stays online; back: probed */
	fake_xmpp.h.link(COMM, false, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL_FATAL(outn, 7);
	CU_ASSERT_EQUAL(notify_status(outv[6]), SST_ST_OFFLINE);
	fake_xmpp.h.link(COMM, true, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_STRING_EQUAL(stanza(0), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"probe\"/>");
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_out, 1);

	/* Bob withdraws: terminated, rejected, remembered */
	xmpp_in("<presence from='bob@xmpp.test' to='alice@acme.test' "
		"type='unsubscribed'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 8);
	CU_ASSERT_STRING_EQUAL(hdr(outv[7], "Subscription-State"),
			       "terminated;reason=rejected");
	CU_ASSERT_EQUAL(notify_status(outv[7]), SST_ST_OFFLINE);
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_out, 0);
	CU_ASSERT_EQUAL(st.refusals, 1);

	/* asked again within the hour: the same answer, Bob not pestered */
	subscribe_first("s2", 600, 0);
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	CU_ASSERT_STRING_EQUAL(hdr(outv[0], "Subscription-State"),
			       "terminated;reason=rejected");
	/* after the hour, Bob is asked again */
	cn_xsip_tick(xs, sst_tmr_now() + 3601 * 1000ULL);
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.refusals, 0);
	subscribe_first("s3", 600, 600);
	CU_ASSERT_EQUAL(fake_xmpp.n, 1);
	t_teardown();
}

/* The first stream to the community comes up with the subscribe
 * waiting in its queue: Bob is asked once, not again by the link. */
static void test_subscribe_queued(void)
{
	t_setup();
	subscribe_first("q1", 600, 600);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	fake_xmpp.h.link(COMM, true, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL(fake_xmpp.n, 1);
	fake_xmpp_written();

	/* written, then the streams went and came back: asked again */
	fake_xmpp.h.link(COMM, false, fake_xmpp.h.arg);
	fake_xmpp.h.link(COMM, true, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 2);
	CU_ASSERT_STRING_EQUAL(stanza(1), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"subscribe\"/>");

	/* lost (no stream in time): the next link up asks again */
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_xmpp.senth[1]);
	fake_xmpp.senth[1](ETIMEDOUT, fake_xmpp.arg[1]);
	fake_xmpp.senth[1] = NULL;
	fake_xmpp.h.link(COMM, true, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 3);
	CU_ASSERT_STRING_EQUAL(stanza(2), stanza(1));

	/* the watch ends with its stanza untold: nothing dangles */
	{
		char to[80];

		re_snprintf(to, sizeof(to), "<" BOB ">;tag=%s", ltag);
		CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", "sip:127.0.0.1:5060",
				       "<" ALICE ">;tag=w1", to, "q1", 2,
				       "Event: presence\r\nExpires: 0\r\n",
				       NULL, NULL), 202);
	}
	fake_xmpp_written();
	fake_xmpp.h.link(COMM, false, fake_xmpp.h.arg);
	fake_xmpp.h.link(COMM, true, fake_xmpp.h.arg);
	CU_ASSERT_EQUAL(fake_xmpp.n, 4);	/* the unsubscribe only */
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(3), "type=\"unsubscribe\""));
	t_teardown();
}

static void test_subscribe_end(void)
{
	char to[80];

	t_setup();
	/* the watcher leaves: terminated, Bob hears unsubscribe */
	subscribe_first("e1", 600, 600);
	re_snprintf(to, sizeof(to), "<" BOB ">;tag=%s", ltag);
	fake_xmpp.n = 0;
	CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", "sip:127.0.0.1:5060",
			       "<" ALICE ">;tag=w1", to, "e1", 2,
			       "Event: presence\r\nExpires: 0\r\n", NULL,
			       NULL), 202);
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_STRING_EQUAL(hdr(outv[1], "Subscription-State"),
			       "terminated;reason=timeout");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_STRING_EQUAL(stanza(0), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"unsubscribe\"/>");
	/* the dialog is gone */
	CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", "sip:127.0.0.1:5060",
			       "<" ALICE ">;tag=w1", to, "e1", 3,
			       "Event: presence\r\nExpires: 600\r\n", NULL,
			       NULL), 481);

	/* not refreshed in time: the same */
	subscribe_first("e2", 60, 60);
	fake_xmpp.n = 0;
	cn_xsip_tick(xs, sst_tmr_now() + 30 * 1000);
	CU_ASSERT_EQUAL(outn, 1);
	cn_xsip_tick(xs, sst_tmr_now() + 61 * 1000);
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_STRING_EQUAL(hdr(outv[1], "Subscription-State"),
			       "terminated;reason=timeout");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0), "type=\"unsubscribe\""));

	/* not presence: refused */
	CU_ASSERT_EQUAL(gw_req("SUBSCRIBE", BOB, "<" ALICE ">;tag=w1",
			       "<" BOB ">", "e3", 1, "Event: dialog\r\n",
			       NULL, NULL), 489);
	t_teardown();
}

/* ---- XMPP watchers of our users ---- */

static void test_subscribe_in(void)
{
	char to[80], from[80], ct[64];
	struct mbuf *body = mbuf_alloc(512);
	struct sip_msg *sub;

	t_setup();
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='subscribe'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	sub = outv[0];
	CU_ASSERT_EQUAL(pl_strcmp(&sub->met, "SUBSCRIBE"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&sub->ruri, ALICE), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&sub->from.auri, BOB), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&sub->to.auri, ALICE), 0);
	CU_ASSERT_STRING_EQUAL(hdr(sub, "Event"), "presence");
	CU_ASSERT_STRING_EQUAL(hdr(sub, "Expires"), "3600");
	CU_ASSERT_PTR_NOT_NULL(strstr(hdr(sub, "Contact"),
				      "sip:127.0.0.1:5060"));
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);	/* nothing until answered */
	gw_answer(sub, 202, "gt1", "Expires: 3600\r\n");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_STRING_EQUAL(stanza(0), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"subscribed\"/>");

	/* the gateway's NOTIFY becomes Alice's presence for Bob */
	re_snprintf(to, sizeof(to), "<" BOB ">;tag=%r", &sub->from.tag);
	pl_strcpy(&sub->callid, ct, sizeof(ct));
	re_snprintf(from, sizeof(from), "<" ALICE ">;tag=gt1");
	CU_ASSERT_EQUAL_FATAL(sst_pidf_encode(body, ALICE, SST_ST_DND,
					      "call"), 0);
	body->buf[body->end] = 0;
	CU_ASSERT_EQUAL(gw_req("NOTIFY", "sip:127.0.0.1:5060", from, to, ct,
			       1, "Event: presence\r\nSubscription-State: "
			       "active;expires=3600\r\n", SST_PIDF_CTYPE,
			       (char *)body->buf), 200);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 2);
	CU_ASSERT_STRING_EQUAL(stanza(1), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\"><show>dnd</show><status>"
			       "call</status></presence>");
	/* a probe: the last state again */
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='probe'/>");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 3);
	CU_ASSERT_STRING_EQUAL(stanza(2), stanza(1));
	/* a NOTIFY in no dialog of ours */
	CU_ASSERT_EQUAL(gw_req("NOTIFY", "sip:127.0.0.1:5060", from,
			       "<" BOB ">;tag=nope", ct, 2,
			       "Event: presence\r\n", NULL, NULL), 481);

	/* Bob leaves: the subscription is ended at the gateway */
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='unsubscribe'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->met, "SUBSCRIBE"), 0);
	CU_ASSERT_STRING_EQUAL(hdr(outv[1], "Expires"), "0");
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->to.tag, "gt1"), 0);
	gw_answer(outv[1], 200, "gt1", NULL);
	/* a probe now: unavailable */
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='probe'/>");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 4);
	CU_ASSERT_STRING_EQUAL(stanza(3), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"unavailable\"/>");

	/* the gateway refuses: Bob hears unsubscribed */
	xmpp_in("<presence from='carol@xmpp.test' to='nobody@acme.test' "
		"type='subscribe'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 3);
	gw_answer(outv[2], 404, NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 5);
	CU_ASSERT_STRING_EQUAL(stanza(4), "<presence from=\"nobody@acme.test\""
			       " to=\"carol@xmpp.test\" type=\"unsubscribed\"/>");
	mem_deref(body);
	t_teardown();
}

/* The gateway's NOTIFY for the XS_IN dialog of sub, answered tag gt. */
static uint16_t gw_notify(const struct sip_msg *sub, const char *gt,
			  const char *state, enum sst_status pst)
{
	char to[80], from[80], ct[64], hdrs[128];
	struct mbuf *body = mbuf_alloc(512);
	uint16_t sc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	re_snprintf(to, sizeof(to), "<" BOB ">;tag=%r", &sub->from.tag);
	pl_strcpy(&sub->callid, ct, sizeof(ct));
	re_snprintf(from, sizeof(from), "<" ALICE ">;tag=%s", gt);
	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\n"
		    "Subscription-State: %s\r\n", state);
	CU_ASSERT_EQUAL_FATAL(sst_pidf_encode(body, ALICE, pst, NULL), 0);
	body->buf[body->end] = 0;
	sc = gw_req("NOTIFY", "sip:127.0.0.1:5060", from, to, ct, 1, hdrs,
		    SST_PIDF_CTYPE, (char *)body->buf);
	mem_deref(body);
	return sc;
}

static bool sent_unsubscribed(void)
{
	size_t i;

	for (i = 0; i < fake_xmpp.n; i++) {
		if (strstr(stanza(i), "type=\"unsubscribed\""))
			return true;
	}
	return false;
}

#define BOB_SUBSCRIBES "<presence from='bob@xmpp.test/pc' " \
	"to='alice@acme.test' type='subscribe'/>"

/*
 * A gateway that fails for now (restarting: 503, 408, no answer) or a
 * NOTIFY terminated with a reason that means "subscribe again" keep
 * Bob's subscription: he never hears unsubscribed, never a presence
 * that may be untrue, and the gateway is asked again.  Only a refusal
 * (403, reason=rejected) ends it.
 */
static void test_subscribe_in_temporary(void)
{
	struct cn_xsip_stats st;
	const uint64_t t0 = sst_tmr_now();
	static const uint16_t temp[] = {503, 408, 480, 500};
	size_t i;

	t_setup();
	/* a new subscription: the gateway restarting */
	xmpp_in(BOB_SUBSCRIBES);
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	gw_answer(outv[0], 503, NULL, "Retry-After: 10\r\n");
	CU_ASSERT_EQUAL(fake_xmpp.n, 0);	/* no unsubscribed */
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_in, 1);
	cn_xsip_tick(xs, t0 + 2000);
	CU_ASSERT_EQUAL(outn, 1);		/* not at once */
	cn_xsip_tick(xs, t0 + 6000);
	CU_ASSERT_EQUAL_FATAL(outn, 2);		/* asked again */
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->met, "SUBSCRIBE"), 0);
	gw_answer(outv[1], 202, "gt1", "Expires: 3600\r\n");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0), "type=\"subscribed\""));
	CU_ASSERT_EQUAL(gw_notify(outv[1], "gt1", "active;expires=3600",
				  SST_ST_ACTIVE), 200);
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 2);
	CU_ASSERT_PTR_NULL(strstr(stanza(1), "type="));	/* available */

	/* its refresh fails each way that passes: Bob keeps his
	 * subscription, and reads unavailable, not a stale available */
	for (i = 0; i < ARRAY_SIZE(temp); i++) {
		const size_t before = outn;

		cn_xsip_tick(xs, sst_tmr_now() + 3600 * 1000ULL);
		CU_ASSERT_EQUAL_FATAL(outn, before + 1);
		CU_ASSERT_EQUAL(pl_strcmp(&outv[outn - 1]->met,
					  "SUBSCRIBE"), 0);
		gw_answer(outv[outn - 1], temp[i], NULL, NULL);
		CU_ASSERT(!sent_unsubscribed());
		cn_xsip_stats(xs, &st);
		CU_ASSERT_EQUAL(st.dlg_in, 1);
	}
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 3);
	CU_ASSERT_STRING_EQUAL(stanza(2), "<presence from=\"alice@acme.test\""
			       " to=\"bob@xmpp.test\" type=\"unavailable\"/>");
	/* a probe meanwhile: unavailable too */
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='probe'/>");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 4);
	CU_ASSERT_STRING_EQUAL(stanza(3), stanza(2));
	t_teardown();

	/* NOTIFY terminated: deactivated / timeout ask again at once,
	 * probation later, in a new dialog; Bob stays subscribed */
	t_setup();
	xmpp_in(BOB_SUBSCRIBES);
	gw_answer(outv[0], 202, "gt2", "Expires: 3600\r\n");
	CU_ASSERT_EQUAL(gw_notify(outv[0], "gt2",
				  "terminated;reason=deactivated",
				  SST_ST_OFFLINE), 200);
	CU_ASSERT(!sent_unsubscribed());
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->met, "SUBSCRIBE"), 0);
	CU_ASSERT(!pl_isset(&outv[1]->to.tag));		/* a new dialog */
	CU_ASSERT(pl_cmp(&outv[1]->callid, &outv[0]->callid) != 0);
	gw_answer(outv[1], 202, "gt3", "Expires: 3600\r\n");
	CU_ASSERT_EQUAL(gw_notify(outv[1], "gt3",
				  "terminated;reason=probation;retry-after=9",
				  SST_ST_OFFLINE), 200);
	CU_ASSERT(!sent_unsubscribed());
	CU_ASSERT_EQUAL(outn, 2);			/* not at once */
	cn_xsip_tick(xs, sst_tmr_now() + 6000);
	CU_ASSERT_EQUAL_FATAL(outn, 3);
	gw_answer(outv[2], 202, "gt4", "Expires: 3600\r\n");
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_in, 1);
	/* rejected is final: Bob hears unsubscribed */
	CU_ASSERT_EQUAL(gw_notify(outv[2], "gt4",
				  "terminated;reason=rejected",
				  SST_ST_OFFLINE), 200);
	CU_ASSERT(sent_unsubscribed());
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_in, 0);
	t_teardown();

	/* a refusal of the refresh is final too */
	t_setup();
	xmpp_in(BOB_SUBSCRIBES);
	gw_answer(outv[0], 202, "gt5", "Expires: 3600\r\n");
	cn_xsip_tick(xs, sst_tmr_now() + 3600 * 1000ULL);
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	gw_answer(outv[1], 403, NULL, NULL);
	CU_ASSERT(sent_unsubscribed());
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_in, 0);
	t_teardown();
}

/* A community holds at most CN_XSIP_DLG_MAX watchers' dialogs. */
static void test_bounds(void)
{
	struct cn_xsip_stats st;
	unsigned i;

	t_setup();
	for (i = 0; i <= CN_XSIP_DLG_MAX; i++) {
		char from[64], callid[32];
		uint16_t sc;

		re_snprintf(from, sizeof(from), "<sip:u%u@acme.test>;tag=w",
			    i);
		re_snprintf(callid, sizeof(callid), "b%u", i);
		fake_xmpp.n = 0;
		outs_clear();
		sc = gw_req("SUBSCRIBE", BOB, from, "<" BOB ">", callid, 1,
			    "Event: presence\r\nExpires: 600\r\n", NULL,
			    NULL);
		if (i < CN_XSIP_DLG_MAX) {
			CU_ASSERT_EQUAL(sc, 202);
			continue;
		}
		/* one too many: refused for now, Bob not asked */
		CU_ASSERT_EQUAL(sc, 503);
		CU_ASSERT_STRING_EQUAL(hdr(answer, "Retry-After"), "60");
		CU_ASSERT_EQUAL(fake_xmpp.n, 0);
	}
	cn_xsip_stats(xs, &st);
	CU_ASSERT_EQUAL(st.dlg_out, CN_XSIP_DLG_MAX);
	CU_ASSERT_EQUAL(st.dlg_refused, 1);
	t_teardown();
}

/* While Bob stays subscribed, the gateway subscription is refreshed
 * before it expires, in the same dialog. */
static void test_refresh_in(void)
{
	t_setup();
	xmpp_in("<presence from='bob@xmpp.test/pc' to='alice@acme.test' "
		"type='subscribe'/>");
	CU_ASSERT_EQUAL_FATAL(outn, 1);
	gw_answer(outv[0], 200, "gt9", "Expires: 120\r\n");
	cn_xsip_tick(xs, sst_tmr_now() + 30 * 1000);
	CU_ASSERT_EQUAL(outn, 1);	/* not yet */
	cn_xsip_tick(xs, sst_tmr_now() + 61 * 1000);
	CU_ASSERT_EQUAL_FATAL(outn, 2);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->met, "SUBSCRIBE"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->callid, "") != 0, 1);
	CU_ASSERT_EQUAL(pl_cmp(&outv[1]->callid, &outv[0]->callid), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&outv[1]->to.tag, "gt9"), 0);
	CU_ASSERT_EQUAL(outv[1]->cseq.num, outv[0]->cseq.num + 1);
	CU_ASSERT_STRING_EQUAL(hdr(outv[1], "Expires"), "3600");
	t_teardown();
}

static void test_iq(void)
{
	t_setup();
	xmpp_in("<iq from='bob@xmpp.test/pc' to='acme.test' id='q1' "
		"type='get'><query xmlns='jabber:iq:version'/></iq>");
	CU_ASSERT_EQUAL_FATAL(fake_xmpp.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0), "type=\"error\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(stanza(0), "feature-not-implemented"));
	xmpp_in("<iq from='bob@xmpp.test/pc' to='acme.test' id='q2' "
		"type='result'/>");
	CU_ASSERT_EQUAL(fake_xmpp.n, 1);
	CU_ASSERT_EQUAL(outn, 0);
	t_teardown();
}

/* ---- a stanza from text, through the real stream parser ---- */

static struct xmpp_el *parsed;

static void parse_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	(void)arg;
	if (ev == XMPP_EV_ELEMENT && !parsed)
		parsed = mem_ref(el);
}

static void xmpp_in(const char *xml)
{
	static const char head[] = "<stream:stream xmlns='jabber:server' "
		"xmlns:stream='http://etherx.jabber.org/streams' "
		"version='1.0'>";
	struct xmpp_parse *p = NULL;

	parsed = NULL;
	CU_ASSERT_EQUAL_FATAL(xmpp_parse_alloc(&p, NULL, parse_h, NULL), 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, head, strlen(head)), 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, xml, strlen(xml)), 0);
	mem_deref(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
	fake_xmpp.h.recv(COMM, parsed, fake_xmpp.h.arg);
	parsed = mem_deref(parsed);
}

static CU_TestInfo xsip_tests[] = {
	{"MESSAGE to XMPP and its fate", test_message_out},
	{"messages from XMPP", test_message_in},
	{"a gateway watches an XMPP user", test_subscribe_out},
	{"a watch asked once when the first stream comes up",
	 test_subscribe_queued},
	{"the watch ends", test_subscribe_end},
	{"an XMPP user watches ours", test_subscribe_in},
	{"a gateway's passing fault keeps the XMPP watcher",
	 test_subscribe_in_temporary},
	{"queries", test_iq},
	{"XMPP watcher's subscription refreshed", test_refresh_in},
	{"dialogs per community bounded", test_bounds},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cn_xmpp_sip", NULL, NULL, NULL, NULL, xsip_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	(void)libre_init();
	rc = cutest_main(suites);
	libre_close();
	return rc;
}
