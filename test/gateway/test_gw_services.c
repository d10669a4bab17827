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
 * (NOTIFY fan-out to watchers is not here: its requests leave through
 * the flow's own send, which has no seam without a socket yet.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "conf/cfg.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_pidf.h"
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

/*
 * One request through h as an authenticated local user's: decoded,
 * given a server transaction whose answers go to capture(), and a flow
 * as if it arrived over TCP from the client (no connection behind it).
 * Returns the status answered, 0 for none.
 */
static uint16_t run(gw_req_h *h, const char *method, const char *ruri,
		    const char *callid, uint32_t cseq, const char *hdrs,
		    const char *ctype, const struct mbuf *body)
{
	struct sst_strans *stx = NULL;
	struct sip_msg *msg = NULL;
	struct gw_flow *fl = NULL;
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
			  "From: <" AOR ">;tag=t%u\r\n"
			  "To: <" AOR ">\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u %s\r\n"
			  "%s"
			  "%s%s%s"
			  "Content-Length: %zu\r\n\r\n",
			  method, ruri, callid, cseq, cseq, callid, cseq,
			  method, hdrs ? hdrs : "",
			  ctype ? "Content-Type: " : "", ctype ? ctype : "",
			  ctype ? "\r\n" : "", body ? body->end : (size_t)0);
	if (body)
		err |= mbuf_write_mem(mb, body->buf, body->end);
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
	CU_ASSERT_EQUAL_FATAL(gw_flow_alloc(&fl, gw, &rx, msg), 0);
	CU_ASSERT_EQUAL_FATAL(gw_req_alloc(&rq, gw, msg, stx, fl), 0);
	str_ncpy(rq->user, "asmith", sizeof(rq->user));
	h(rq);   /* consumes rq */

	mem_deref(fl);
	mem_deref(msg);
	if (sent.n == before || !sent.msg)
		return 0;
	return sent.msg->scode;
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
	gw_regd_apply(gw, regd_count, NULL);
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
			enum gw_status st, bool with_body)
{
	struct mbuf *body = NULL;
	char hdrs[128];
	uint16_t sc;

	if (with_body) {
		body = mbuf_alloc(512);
		CU_ASSERT_EQUAL_FATAL(gw_pidf_encode(body, AOR, st, "lunch"),
				      0);
	}
	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nExpires: %u\r\n"
		    "%s%s%s", expires, ifmatch ? "SIP-If-Match: " : "",
		    ifmatch ? ifmatch : "", ifmatch ? "\r\n" : "");
	sc = run(gw_publish, "PUBLISH", AOR, "pub-1", cseq_next++, hdrs,
		 with_body ? GW_PIDF_CTYPE : NULL, body);
	mem_deref(body);
	return sc;
}

static void test_presence_state(void)
{
	const struct sip_hdr *etag;
	char tag[64];

	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_OFFLINE);

	/* registered, nothing published: online */
	CU_ASSERT_EQUAL(reg("pres-1", 1, "Contact: <" C1 ">\r\n"
			    "Expires: 300\r\n"), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_ACTIVE);

	/* a publication: away, with an entity tag to refresh it by */
	CU_ASSERT_EQUAL(publish(600, NULL, GW_ST_AWAY, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_AWAY);
	etag = sip_msg_xhdr(sent.msg, "SIP-ETag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(etag);
	CU_ASSERT_EQUAL(pl_strcpy(&etag->val, tag, sizeof(tag)), 0);

	/* modified under its tag: do not disturb */
	CU_ASSERT_EQUAL(publish(600, tag, GW_ST_DND, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_DND);
	etag = sip_msg_xhdr(sent.msg, "SIP-ETag");
	CU_ASSERT_PTR_NOT_NULL_FATAL(etag);
	CU_ASSERT_EQUAL(pl_strcpy(&etag->val, tag, sizeof(tag)), 0);

	/* an unknown tag changes nothing */
	CU_ASSERT_EQUAL(publish(600, "no-such-tag", GW_ST_ACTIVE, false), 412);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_DND);

	/* someone else's presence is refused */
	CU_ASSERT_EQUAL(run(gw_publish, "PUBLISH", "sip:bob@acme.test",
			    "pub-2", 1, "Event: presence\r\n", NULL, NULL),
			403);

	/* removed: back to what the registration says */
	CU_ASSERT_EQUAL(publish(0, tag, GW_ST_ACTIVE, false), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_ACTIVE);
	CU_ASSERT_EQUAL(gw_pub_count(gw), 0);

	/* a publication that expires in the sweep: the same */
	CU_ASSERT_EQUAL(publish(120, NULL, GW_ST_AWAY, true), 200);
	CU_ASSERT_EQUAL(gw_pres_status(gw, AOR), GW_ST_AWAY);
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
	char why[256] = "";
	FILE *f;

	if (libre_init() || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/community.xml", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, xml, top ? top : "..");
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
	return sst_tstack_alloc(&ts, NULL, NULL) ? 1 : 0;
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
