/*
 * gw_sip.c -- every SIP message a client sends the gateway: decode and
 * validate, match transactions, dispatch by method; and the helpers
 * that answer and send.
 *
 * Requests that arrive from connectors (gw_fed_is_fed) go to
 * gw_fed_recv() instead of the dispatch below.
 *
 * Methods: REGISTER (gw_regsrv.c), PUBLISH and SUBSCRIBE (gw_pres.c),
 * MESSAGE (gw_msg.c), OPTIONS (200 here).  NOTIFY to us gets 481 (the
 * gateway subscribes to nobody on this side), so does a MESSAGE with a
 * To tag (no such dialog is ever held: after a restart such a client
 * learns at once), INVITE 501 (chat and
 * presence only), anything else 405 with Allow.  Malformed requests get
 * the status sst_msg_decode() chose and are counted; malformed
 * responses are dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"

static const char allow_hdr[] =
	"Allow: REGISTER, PUBLISH, SUBSCRIBE, MESSAGE, OPTIONS\r\n";

static int via_tp(enum sst_tp tp)
{
	switch (tp) {
	case SST_TP_TCP: return SIP_TRANSP_TCP;
	case SST_TP_TLS: return SIP_TRANSP_TLS;
	default:         return SIP_TRANSP_UDP;
	}
}

/*
 * The transport parameter of a sip: URI that names one of our
 * listeners: ";transport=tcp" or ";transport=tls", nothing for udp.  A
 * URI without it means UDP to the next hop (RFC 3261 18.1.1), so a
 * Contact or Request-URI naming a stream listener must carry it, or the
 * connector sends the dialog's later requests to a port nobody reads.
 */
const char *gw_uri_tp_param(enum sst_tp tp)
{
	switch (tp) {
	case SST_TP_TCP: return ";transport=tcp";
	case SST_TP_TLS: return ";transport=tls";
	default:         return "";
	}
}

/* "sip:user@host" with the host in lower case: the AOR form that the
 * registration table and presence compare byte for byte. */
int gw_aor_of(char *buf, size_t sz, const struct uri *uri)
{
	size_t i, n;

	if (!buf || !uri || !uri->user.l || !uri->host.l)
		return EINVAL;
	if (uri->user.l > DIR_KEY_MAX || uri->host.l > CFG_DOMAIN_MAX)
		return EMSGSIZE;
	if (re_snprintf(buf, sz, "sip:%r@%r", &uri->user, &uri->host) < 0)
		return EMSGSIZE;
	n = strlen(buf);
	for (i = n - uri->host.l; i < n; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return 0;
}

uint32_t gw_expires_of(const struct sip_msg *msg, uint32_t dflt)
{
	uint32_t v;

	if (!msg || !pl_isset(&msg->expires))
		return dflt;
	if (sst_msg_uint(&v, &msg->expires, UINT32_MAX))
		return dflt;
	return v;
}

/* Our Contact for a flow: the listener address the flow arrived on. */
int gw_contact_uri(char *buf, size_t sz, const struct gw_flow *fl)
{
	const struct gw_lsnr *l;

	l = gw_lsnr_for(fl->gw, fl->tp, &fl->dst);
	if (!l)
		return ENOENT;
	if (re_snprintf(buf, sz, "sip:%J%s", &l->addr,
			gw_uri_tp_param(fl->tp)) < 0)
		return EMSGSIZE;
	return 0;
}

int gw_reply(struct gw *gw, struct sst_strans *stx,
	     const struct sip_msg *req, const struct gw_flow *fl,
	     uint16_t scode, const char *reason, const char *totag,
	     const char *hdrs, const char *ctype, const struct mbuf *body)
{
	struct sst_extra x = {0};
	struct mbuf *mb = NULL;
	int err;

	(void)gw;
	x.hdrs = hdrs;
	if (ctype && body) {
		x.ctype = ctype;
		x.body = body->buf;
		x.blen = body->end;
	}
	err = sst_build_response(&mb, req, scode, reason, totag,
				 fl ? &fl->src : NULL, &x);
	if (err)
		return err;
	if (stx) {
		err = sst_strans_reply(stx, scode, mb);
	}
	else if (fl && fl->tp == SST_TP_UDP) {
		/* this request's Via decides, whichever flow it came on */
		struct sa to;

		err = sst_flow_udp_dest(&to, req, &fl->src);
		if (!err)
			err = sst_transp_send(fl->gw->tp, NULL, SST_TP_UDP,
					      &to, sa_isset(&fl->dst, SA_ADDR) ?
					      &fl->dst : NULL, NULL, mb, NULL,
					      NULL);
	}
	else {
		err = gw_flow_send(mb, (void *)fl);
	}
	mem_deref(mb);
	return err;
}

int gw_send_request_via(struct gw *gw, enum sst_tp tp,
			const struct sa *laddr,
			int (*sendh)(struct mbuf *mb, void *arg),
			void *sendarg, const char *method, const char *ruri,
			const char *from, const char *to, const char *callid,
			uint32_t cseq, const char *hdrs, const char *ctype,
			const void *body, size_t blen,
			gw_resp_h *resph,
			void *arg, struct sst_ctrans **ctp)
{
	struct sst_req_spec r = {0};
	char branch[SST_BRANCH_SIZE], sentby[GW_ADDR_MAX];
	char contact[GW_URI_MAX];
	const struct gw_lsnr *l;
	struct sst_ctrans *ct;
	struct mbuf *mb = NULL;
	int err;

	l = gw_lsnr_for(gw, tp, laddr);
	if (!l)
		return ENOENT;
	if (re_snprintf(sentby, sizeof(sentby), "%J", &l->addr) < 0)
		return EMSGSIZE;
	if (re_snprintf(contact, sizeof(contact), "<sip:%J%s>", &l->addr,
			gw_uri_tp_param(tp)) < 0)
		return EMSGSIZE;
	sst_branch_gen(branch, sizeof(branch));

	r.method = method;
	r.ruri = ruri;
	r.from = from;
	r.to = to;
	r.callid = callid;
	r.cseq = cseq;
	r.via.tp = via_tp(tp);
	r.via.sentby = sentby;
	r.via.branch = branch;
	r.contact = contact;
	r.x.hdrs = hdrs;
	r.x.ctype = ctype;
	r.x.body = body;
	r.x.blen = blen;

	err = sst_build_request(&mb, &r);
	if (err)
		return err;
	err = sst_ctrans_start(&ct, gw->tstk, method, branch, mb,
			       tp != SST_TP_UDP, sendh, sendarg, resph, arg);
	mem_deref(mb);
	if (!err && ctp)
		*ctp = ct;
	return err;
}

int gw_send_request(struct gw *gw, struct gw_flow *fl,
		    const char *method, const char *ruri,
		    const char *from, const char *to, const char *callid,
		    uint32_t cseq, const char *hdrs, const char *ctype,
		    const void *body, size_t blen,
		    gw_resp_h *resph,
		    void *arg, struct sst_ctrans **ctp)
{
	return gw_send_request_via(gw, fl->tp, &fl->dst, gw_flow_send, fl,
				   method, ruri, from, to, callid, cseq, hdrs,
				   ctype, body, blen, resph, arg, ctp);
}

/* A request whose Event is not presence: 489 (RFC 6665 8.2.1). */
static bool event_presence(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct pl ev;

	if (!h)
		return false;
	ev = h->val;
	/* the package name ends at ';' (parameters such as id=) */
	if (!re_regex(h->val.p, h->val.l, "[^; \t]+", &ev))
		return !pl_strcasecmp(&ev, "presence");
	return false;
}

static void dispatch(struct gw *gw, struct sip_msg *msg,
		     struct sst_strans *stx, struct gw_flow *fl)
{
	const struct pl *met = &msg->met;
	struct gw_req *rq = NULL;
	gw_req_h *next = NULL;
	bool proxy = true;
	int err;

	gw->c.req_in++;

	if (!pl_strcmp(met, "OPTIONS")) {
		(void)gw_reply(gw, stx, msg, fl, 200, "OK", NULL, allow_hdr,
			       NULL, NULL);
		return;
	}
	if (!pl_strcmp(met, "NOTIFY")) {
		(void)gw_reply(gw, stx, msg, fl, 481, "Subscription does not "
			       "exist", NULL, NULL, NULL, NULL);
		return;
	}
	/* RFC 3261 12.2.2: the only dialogs this gateway holds are
	 * subscriptions; any other in-dialog request (a MESSAGE in a
	 * dialog of a gateway that has restarted, say) is answered 481 at
	 * once, without a challenge, so that stale clients fail fast */
	if (pl_isset(&msg->to.tag) && !pl_strcmp(met, "MESSAGE")) {
		(void)gw_reply(gw, stx, msg, fl, 481, "Call/Transaction Does "
			       "Not Exist", NULL, NULL, NULL, NULL);
		return;
	}
	if (!pl_strcmp(met, "REGISTER")) {
		proxy = false;
		next = gw_register;
	}
	else if (!pl_strcmp(met, "PUBLISH") || !pl_strcmp(met, "SUBSCRIBE")) {
		if (!event_presence(msg)) {
			(void)gw_reply(gw, stx, msg, fl, 489, "Bad Event",
				       NULL, "Allow-Events: presence\r\n",
				       NULL, NULL);
			return;
		}
		if (!pl_strcmp(met, "SUBSCRIBE") && pl_isset(&msg->to.tag)) {
			if (!gw_subscribe_indialog(gw, msg, stx, fl))
				(void)gw_reply(gw, stx, msg, fl, 481,
					       "Subscription does not exist",
					       NULL, NULL, NULL, NULL);
			return;
		}
		next = !pl_strcmp(met, "PUBLISH") ? gw_publish : gw_subscribe;
	}
	else if (!pl_strcmp(met, "MESSAGE")) {
		next = gw_message;
	}
	else {
		(void)gw_reply(gw, stx, msg, fl, 405, "Method Not Allowed",
			       NULL, allow_hdr, NULL, NULL);
		return;
	}

	err = gw_req_alloc(&rq, gw, msg, stx, fl);
	if (err) {
		(void)gw_reply(gw, stx, msg, fl, 503, "Service Unavailable",
			       NULL, "Retry-After: 5\r\n", NULL, NULL);
		return;
	}
	gw_auth(rq, proxy, next);
}

void gw_sip_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct gw *gw = arg;
	struct sst_verdict v = {0};
	struct sst_strans *stx = NULL;
	struct sip_msg *msg = NULL;
	struct gw_flow *fl = NULL;
	int err;

	/* a stream message over the size limit: only its header block
	 * came up, to be answered 513 before the connection closes */
	if (rx->oversize)
		err = sst_msg_decode_head(mb, NULL, &v);
	else
		err = sst_msg_decode(&msg, mb, rx->tp != SST_TP_UDP, NULL,
				     &v);
	if (err) {
		if (err != ENODATA) {
			static struct dmn_ratelim rl =
				DMN_RATELIM_INIT(10, 60000);

			gw->c.malformed++;
			if (rx->conn)
				sst_conn_garbage(rx->conn);
			dmn_log_rl(&rl, DMN_LOG_INFO, "gw: malformed "
				   "reason=%s peer=%s",
				   sst_reason_name(v.reason),
				   rx->tp == SST_TP_UDP ? "udp" : "stream");
			if (v.reply && v.msg && v.status &&
			    !gw_flow_alloc(&fl, gw, rx, v.msg)) {
				(void)gw_reply(gw, NULL, v.msg, fl, v.status,
					       v.phrase, NULL, NULL, NULL,
					       NULL);
			}
		}
		goto out;
	}

	if (!msg->req) {
		gw->c.resp_in++;
		(void)sst_tstack_recv_resp(gw->tstk, msg);
		goto out;
	}

	err = gw_flow_alloc(&fl, gw, rx, msg);
	if (err)
		goto out;

	err = sst_tstack_recv_req(gw->tstk, &stx, msg, rx->tp != SST_TP_UDP,
				  gw_flow_respond, fl);
	if (err == ENOTSUP) {
		if (!pl_strcmp(&msg->met, "INVITE"))
			(void)gw_reply(gw, NULL, msg, fl, 501, "Not "
				       "Implemented", NULL, allow_hdr, NULL,
				       NULL);
		else if (!pl_strcmp(&msg->met, "CANCEL"))
			(void)gw_reply(gw, NULL, msg, fl, 481, "Call/"
				       "Transaction Does Not Exist", NULL,
				       NULL, NULL, NULL);
		goto out;
	}
	if (err)
		goto out;   /* EALREADY: a retransmission, absorbed */

	if (gw_fed_is_fed(gw, rx))
		gw_fed_recv(gw, msg, stx, fl);
	else
		dispatch(gw, msg, stx, fl);

 out:
	sst_verdict_reset(&v);
	mem_deref(fl);
	mem_deref(msg);
}
