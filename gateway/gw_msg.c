/*
 * gw_msg.c -- MESSAGE (RFC 3428) between local users.
 *
 * An authenticated local user's MESSAGE to a local target is forked to
 * every registered contact of the target (parallel, over the flows they
 * registered on).  The sender gets 200 as soon as one contact accepts;
 * when every contact refused, the most telling refusal (a client's own
 * 4xx such as 415, else 480).  A target without a binding: 480
 * Temporarily Unavailable; a target the directory does not know: 404.
 * The body and its Content-Type pass through as they are; the gateway
 * originates each copy (new Call-ID, From the sender's AOR with our
 * tag), as a B2BUA.  Targets outside the community go to gw_outbound();
 * MESSAGEs from other communities arrive through gw_msg_deliver()
 * with the external sender's address kept as From.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_out.h"
#include "gateway/gw_req.h"
#include "gateway/gw_auth.h"
#include "gateway/gw_msg.h"
#include "gateway/gw_route.h"
#include "gateway/gw_shared.h"
#include "gateway/gw_sipv.h"
#include "gateway/gw_reg.h"

struct gw_fork;

struct gw_branch {
	struct gw_fork *f;
	struct sst_ctrans *ct;
};

struct gw_fork {
	struct le le;
	struct gw *gw;
	struct gw_req *rq;           /* NULL once answered */
	struct gw_branch br[GW_FORK_MAX];
	unsigned n;
	unsigned pending;
	uint16_t best;               /* most telling refusal so far */
	char target[GW_URI_MAX];
};

static void fork_destructor(void *arg)
{
	struct gw_fork *f = arg;
	unsigned i;

	list_unlink(&f->le);
	for (i = 0; i < f->n; i++)
		if (f->br[i].ct)
			sst_ctrans_abandon(f->br[i].ct);
	f->rq = mem_deref(f->rq);
}

void gw_msg_close(struct gw *gw)
{
	list_flush(&gw->forks);
}

/* A client's own refusal (4xx other than 408) tells more than our
 * transport's 408/503. */
static bool more_telling(uint16_t scode, uint16_t best)
{
	const bool own = scode >= 400 && scode < 500 && scode != 408;

	return own && (best == 0 || best == 408 || best >= 500);
}

static void branch_resp(int err, uint16_t scode, const struct sip_msg *msg,
			void *arg)
{
	struct gw_branch *b = arg;
	struct gw_fork *f = b->f;
	struct gw *gw = f->gw;

	(void)err;
	(void)msg;
	if (scode < 200)
		return;
	b->ct = NULL;
	f->pending--;

	if (scode < 300) {
		if (f->rq) {
			gw->c.msg_delivered++;
			gw_req_answer(f->rq, 200, "OK", NULL);
			f->rq = NULL;
		}
	}
	else if (more_telling(scode, f->best)) {
		f->best = scode;
	}

	if (f->pending)
		return;
	if (f->rq) {
		gw->c.msg_failed++;
		dmn_log_info("gw: message undelivered target=%s status=%u",
			     f->target, (unsigned)(f->best ? f->best : 480));
		if (f->best)
			gw_req_answer(f->rq, f->best, f->best == 415 ?
				      "Unsupported Media Type" :
				      "Refused by every contact", NULL);
		else
			gw_req_answer(f->rq, 480, "Temporarily Unavailable",
				      NULL);
		f->rq = NULL;
	}
	mem_deref(f);
}

struct fork_ctx {
	struct gw_fork *f;
	const char *from;
	const char *to;
	const char *ctype;
	int err;
};

static bool branch_start(const struct gw_binding *bd, void *arg)
{
	struct fork_ctx *fc = arg;
	struct gw_fork *f = fc->f;
	struct gw *gw = f->gw;
	const struct sip_msg *msg = f->rq->msg;
	struct gw_branch *b;
	struct gw_out_req out = {0};
	struct gw_out_path path;
	char callid[48];
	int err;

	if (f->n >= GW_FORK_MAX || !bd->flow)
		return f->n >= GW_FORK_MAX;
	b = &f->br[f->n];
	b->f = f;
	re_snprintf(callid, sizeof(callid), "%08x%08x@stgateway",
		    rand_u32(), rand_u32());

	out.method = "MESSAGE";
	out.ruri = bd->uri;
	out.from = fc->from;
	out.to = fc->to;
	out.callid = callid;
	out.cseq = 1;
	out.ctype = fc->ctype;
	out.body = mbuf_buf(msg->mb);
	out.blen = mbuf_get_left(msg->mb);
	gw_out_flow_path(&path, bd->flow);
	err = gw_send_request(gw, &path, &out, branch_resp, b, &b->ct);
	if (err) {
		fc->err = err;
		return false;
	}
	gw->c.msg_out++;
	f->n++;
	f->pending++;
	return false;
}

void gw_msg_deliver(struct gw_req *rq, const char *target,
		    const char *sender_uri)
{
	struct gw *gw = rq->gw;
	const struct sip_msg *msg = rq->msg;
	const struct sip_hdr *cth = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	char from[GW_URI_MAX + 64], to[GW_URI_MAX + 2];
	char sender[GW_URI_MAX], tag[SST_TAG_SIZE], ctype[128];
	struct fork_ctx fc = {0};
	struct gw_fork *f;

	f = mem_zalloc(sizeof(*f), fork_destructor);
	if (!f) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}
	f->gw = gw;
	str_ncpy(f->target, target, sizeof(f->target));
	str_ncpy(sender, sender_uri, sizeof(sender));

	if (!gw_reg_registered(gw->reg, f->target, gw_now())) {
		if (gw_shared_forward(rq, f->target, sender)) {
			mem_deref(f);
			return;
		}
		gw->c.msg_offline++;
		dmn_log_info("gw: message offline from=%s target=%s", sender,
			     f->target);
		mem_deref(f);
		gw_req_answer(rq, 480, "Temporarily Unavailable", NULL);
		return;
	}

	ctype[0] = '\0';
	if (cth && cth->val.l < sizeof(ctype))
		(void)pl_strcpy(&cth->val, ctype, sizeof(ctype));
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(from, sizeof(from), "<%s>;tag=%s", sender, tag);
	re_snprintf(to, sizeof(to), "<%s>", f->target);

	f->rq = rq;
	list_append(&gw->forks, &f->le, f);
	fc.f = f;
	fc.from = from;
	fc.to = to;
	fc.ctype = ctype[0] ? ctype : NULL;
	(void)gw_reg_contacts(gw->reg, f->target, gw_now(), branch_start, &fc);

	if (f->n == 0) {
		/* no contact could be sent to (no listener for its
		 * transport, out of memory): nothing left in flight */
		gw->c.msg_failed++;
		f->rq = NULL;
		mem_deref(f);
		gw_req_answer(rq, 480, "Temporarily Unavailable", NULL);
		return;
	}
	dmn_log_info("gw: message from=%s target=%s contacts=%u", sender,
		     f->target, f->n);
}

static void message_local(struct gw_req *rq)
{
	char target[GW_URI_MAX], sender[GW_URI_MAX];

	if (gw_aor_of(target, sizeof(target), &rq->msg->uri) ||
	    gw_aor_of(sender, sizeof(sender), &rq->msg->from.uri)) {
		gw_req_answer(rq, 400, "Bad Request-URI or From", NULL);
		return;
	}
	gw_msg_deliver(rq, target, sender);
}

void gw_message(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	gw->c.msg_in++;
	if (!gw_domain_is_local(gw, &rq->msg->uri.host)) {
		gw_outbound(rq);
		return;
	}
	if (!rq->msg->uri.user.l || rq->msg->uri.user.l > DIR_KEY_MAX) {
		gw->c.msg_unknown++;
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	(void)pl_strcpy(&rq->msg->uri.user, rq->target, sizeof(rq->target));
	gw_target_check(rq, message_local);
}
