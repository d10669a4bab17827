/*
 * gw_sip.c -- every SIP request a client sends the gateway, from the
 * front door (sst_front) to its service by method.  Replies and new
 * requests from the listener they belong to are gw_lsnr.c's.
 *
 * Requests that arrive from connectors (gw_fed_is_fed) go to
 * gw_fed_recv() instead of the dispatch below.
 *
 * Methods: REGISTER (gw_regsrv.c), PUBLISH and SUBSCRIBE (gw_pres.c),
 * MESSAGE (gw_msg.c), OPTIONS (200 here).  NOTIFY to us gets 481 (the
 * gateway subscribes to nobody on this side), so does a MESSAGE with a
 * To tag (no such dialog is ever held: after a restart such a client
 * learns at once), anything else 405 with Allow.  Decoding, ACK, INVITE
 * (501 with Allow: chat and presence only), CANCEL (481) and
 * retransmissions are the front door's (sipstack/sst_front.h), the same
 * as at the connector; malformed input is counted and logged here.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_front.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_req.h"
#include "gateway/gw_auth.h"
#include "gateway/gw_fed.h"
#include "gateway/gw_msg.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_regsrv.h"
#include "gateway/gw_sip.h"
#include "gateway/gw_out.h"

static const char allow_hdr[] =
	"Allow: REGISTER, PUBLISH, SUBSCRIBE, MESSAGE, OPTIONS\r\n";

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
		     struct sst_strans *stx, struct sst_flow *fl)
{
	const struct pl *met = &msg->met;
	struct gw_req *rq = NULL;
	gw_req_h *next = NULL;
	bool proxy = true;
	int err;

	gw->c.req_in++;

	if (!pl_strcmp(met, "OPTIONS")) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 200, .reason = "OK", .hdrs = allow_hdr});
		return;
	}
	if (!pl_strcmp(met, "NOTIFY")) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 481, .reason = "Subscription does not exist"});
		return;
	}
	/* RFC 3261 12.2.2: the only dialogs this gateway holds are
	 * subscriptions; any other in-dialog request (a MESSAGE in a
	 * dialog of a gateway that has restarted, say) is answered 481 at
	 * once, without a challenge, so that stale clients fail fast */
	if (pl_isset(&msg->to.tag) && !pl_strcmp(met, "MESSAGE")) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 481,
			.reason = "Call/Transaction Does Not Exist"});
		return;
	}
	if (!pl_strcmp(met, "REGISTER")) {
		proxy = false;
		next = gw_register;
	}
	else if (!pl_strcmp(met, "PUBLISH") || !pl_strcmp(met, "SUBSCRIBE")) {
		if (!event_presence(msg)) {
			(void)gw_out_reply(stx, msg, fl,
				&(const struct gw_out_reply){
				.scode = 489, .reason = "Bad Event",
				.hdrs = "Allow-Events: presence\r\n"});
			return;
		}
		if (!pl_strcmp(met, "SUBSCRIBE") && pl_isset(&msg->to.tag)) {
			if (!gw_subscribe_indialog(gw, msg, stx, fl))
				(void)gw_out_reply(stx, msg, fl,
					&(const struct gw_out_reply){
					.scode = 481, .reason =
					"Subscription does not exist"});
			return;
		}
		next = !pl_strcmp(met, "PUBLISH") ? gw_publish : gw_subscribe;
	}
	else if (!pl_strcmp(met, "MESSAGE")) {
		next = gw_message;
	}
	else {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 405, .reason = "Method Not Allowed",
			.hdrs = allow_hdr});
		return;
	}

	err = gw_req_alloc(&rq, gw, msg, stx, fl);
	if (err) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 503, .reason = "Service Unavailable",
			.hdrs = "Retry-After: 5\r\n"});
		return;
	}
	gw_auth(rq, proxy, next);
}

/* A new request with its server transaction, from the front door. */
static void request_h(struct sip_msg *msg, struct sst_strans *stx,
		      struct sst_flow *fl, void *arg)
{
	struct gw *gw = arg;

	if (gw_fed_is_fed(gw, fl))
		gw_fed_recv(gw, msg, stx, fl);
	else
		dispatch(gw, msg, stx, fl);
}

static void msg_h(const struct sip_msg *msg, const struct sst_rx *rx,
		  void *arg)
{
	struct gw *gw = arg;

	(void)rx;
	if (!msg->req)
		gw->c.resp_in++;
}

/* What the front door refused: malformed input is counted and logged
 * (rate-limited) with the peer's address. */
static void report_h(const struct sst_front_report *rep, void *arg)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	struct gw *gw = arg;
	char peer[GW_ADDR_MAX];

	if (rep->ev != SST_FRONT_MALFORMED)
		return;
	gw->c.malformed++;
	re_snprintf(peer, sizeof(peer), "%J", rep->rx->src);
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: malformed reason=%s peer=%s "
		   "transport=%s", sst_reason_name(rep->reason), peer,
		   sst_tp_name(rep->rx->tp));
}

void gw_sip_front(struct gw *gw)
{
	gw->front.tp = gw->tp;
	gw->front.lim = sst_transp_limits(gw->tp);
	gw->front.ts = gw->tstk;
	gw->front.allow = allow_hdr;
	gw->front.reqh = request_h;
	gw->front.msgh = msg_h;
	gw->front.reporth = report_h;
	gw->front.arg = gw;
}

void gw_sip_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct gw *gw = arg;

	sst_front_recv(&gw->front, rx, mb);
}
