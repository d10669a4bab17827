/*
 * gw_out.c -- new requests and replies (see gw_out.h).
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "gateway/gw_out.h"

static int via_tp(enum sst_tp tp)
{
	switch (tp) {
	case SST_TP_TCP: return SIP_TRANSP_TCP;
	case SST_TP_TLS: return SIP_TRANSP_TLS;
	default:         return SIP_TRANSP_UDP;
	}
}

const char *gw_uri_tp_param(enum sst_tp tp)
{
	switch (tp) {
	case SST_TP_TCP: return ";transport=tcp";
	case SST_TP_TLS: return ";transport=tls";
	default:         return "";
	}
}

void gw_out_flow_path(struct gw_out_path *p, struct sst_flow *fl)
{
	memset(p, 0, sizeof(*p));
	if (!fl)
		return;
	p->tp = fl->tp;
	p->laddr = &fl->dst;
	p->sendh = sst_flow_send;
	p->sendarg = fl;
}

int gw_out_request(struct sst_tstack *ts, const struct gw_out_path *path,
		   const struct gw_out_req *req, gw_resp_h *resph, void *arg,
		   struct sst_ctrans **ctp)
{
	struct sst_req_spec r = {0};
	char branch[SST_BRANCH_SIZE], sentby[64], contact[128];
	struct sst_ctrans *ct;
	struct mbuf *mb = NULL;
	int err;

	if (!ts || !path || !path->laddr || !path->sendh || !req ||
	    !req->method)
		return EINVAL;
	if (re_snprintf(sentby, sizeof(sentby), "%J", path->laddr) < 0)
		return EMSGSIZE;
	if (re_snprintf(contact, sizeof(contact), "<sip:%J%s>", path->laddr,
			gw_uri_tp_param(path->tp)) < 0)
		return EMSGSIZE;
	sst_branch_gen(branch, sizeof(branch));

	r.method = req->method;
	r.ruri = req->ruri;
	r.from = req->from;
	r.to = req->to;
	r.callid = req->callid;
	r.cseq = req->cseq;
	r.via.tp = via_tp(path->tp);
	r.via.sentby = sentby;
	r.via.branch = branch;
	r.contact = contact;
	r.x.hdrs = req->hdrs;
	r.x.ctype = req->ctype;
	r.x.body = req->body;
	r.x.blen = req->blen;

	err = sst_build_request(&mb, &r);
	if (err)
		return err;
	err = sst_ctrans_start(&ct, ts, req->method, branch, mb,
			       path->tp != SST_TP_UDP, path->sendh,
			       path->sendarg, resph, arg);
	mem_deref(mb);
	if (!err && ctp)
		*ctp = ct;
	return err;
}

int gw_out_reply(struct sst_strans *stx, const struct sip_msg *req,
		 const struct sst_flow *fl, const struct gw_out_reply *rp)
{
	struct sst_extra x = {0};
	struct mbuf *mb = NULL;
	int err;

	if (!req || !rp || (!stx && !fl))
		return EINVAL;
	x.hdrs = rp->hdrs;
	if (rp->ctype && rp->body) {
		x.ctype = rp->ctype;
		x.body = rp->body->buf;
		x.blen = rp->body->end;
	}
	err = sst_build_response(&mb, req, rp->scode, rp->reason, rp->totag,
				 fl ? &fl->src : NULL, &x);
	if (err)
		return err;
	if (stx)
		err = sst_strans_reply(stx, rp->scode, mb);
	else	/* this request's Via decides, whichever flow it came on */
		err = sst_flow_respond_to(fl, req, mb);
	mem_deref(mb);
	return err;
}
