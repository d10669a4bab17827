/*
 * gw_regsrv.c -- REGISTER from authenticated local users (RFC 3261 10.3).
 *
 * Expiry policy: a contact's expires parameter, else the Expires header,
 * else GW_EXPIRES_DEFAULT.  Below GW_EXPIRES_MIN (and not 0): 423
 * Interval Too Brief with Min-Expires.  Above GW_EXPIRES_MAX: cut to it
 * (the 200 says what was granted).  A REGISTER without Contact is a
 * query: 200 listing the bindings.  The bindings (gw_reg.h) keep the
 * flow the REGISTER arrived on; requests to the user go back over it.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_req.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_regsrv.h"
#include "gateway/gw_store.h"
#include "gateway/gw_sipv.h"
#include "gateway/gw_reg.h"
#include "store/sto.h"

struct reg_parse {
	struct gw_reg_contact cv[GW_REG_CONTACTS_MAX];
	char uri[GW_REG_CONTACTS_MAX][GW_REG_URI_MAX + 1];
	char inst[GW_REG_CONTACTS_MAX][GW_REG_INSTANCE_MAX + 1];
	size_t cc;
	uint32_t dflt;
	bool star;
	bool brief;
	int err;
};

static bool contact_apply(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct reg_parse *rp = arg;
	struct gw_reg_contact *c;
	struct sip_addr addr;
	struct pl v;
	uint32_t e;

	(void)msg;
	if (!pl_strcmp(&hdr->val, "*")) {
		rp->star = true;
		return false;
	}
	if (rp->cc >= GW_REG_CONTACTS_MAX) {
		rp->err = EMSGSIZE;
		return true;
	}
	if (sip_addr_decode(&addr, &hdr->val) ||
	    addr.auri.l > GW_REG_URI_MAX) {
		rp->err = EBADMSG;
		return true;
	}
	c = &rp->cv[rp->cc];
	(void)pl_strcpy(&addr.auri, rp->uri[rp->cc], GW_REG_URI_MAX + 1);
	c->uri = rp->uri[rp->cc];

	e = rp->dflt;
	if (!msg_param_decode(&addr.params, "expires", &v)) {
		if (sst_msg_uint(&e, &v, UINT32_MAX)) {
			rp->err = EBADMSG;
			return true;
		}
	}
	if (e && e < GW_EXPIRES_MIN)
		rp->brief = true;
	c->expires = min(e, (uint32_t)GW_EXPIRES_MAX);

	if (!msg_param_decode(&addr.params, "+sip.instance", &v) &&
	    v.l <= GW_REG_INSTANCE_MAX) {
		(void)pl_strcpy(&v, rp->inst[rp->cc], GW_REG_INSTANCE_MAX + 1);
		c->instance = rp->inst[rp->cc];
		if (!msg_param_decode(&addr.params, "reg-id", &v))
			c->regid = pl_u32(&v);
	}
	rp->cc++;
	return false;
}

struct reply_ctx {
	struct mbuf *mb;
	uint64_t now;
};

static bool binding_print(const struct gw_binding *b, void *arg)
{
	struct reply_ctx *rc = arg;

	(void)mbuf_printf(rc->mb, "Contact: <%s>;expires=%llu\r\n", b->uri,
			  (unsigned long long)(b->expires - rc->now));
	return false;
}

void gw_register(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	struct reg_parse *rp = NULL;
	struct reply_ctx rc = {0};
	char aor[GW_REG_AOR_MAX + 1], callid[GW_REG_CALLID_MAX + 1];
	const uint64_t now = gw_now();
	int err;

	if (gw_aor_of(aor, sizeof(aor), &rq->msg->to.uri) ||
	    rq->msg->callid.l > GW_REG_CALLID_MAX) {
		gw->c.reg_refused++;
		gw_req_answer(rq, 400, "Bad To or Call-ID", NULL);
		return;
	}
	(void)pl_strcpy(&rq->msg->callid, callid, sizeof(callid));

	rp = mem_zalloc(sizeof(*rp), NULL);
	if (!rp) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}
	rp->dflt = gw_expires_of(rq->msg, GW_EXPIRES_DEFAULT);
	(void)sip_msg_hdr_apply(rq->msg, true, SIP_HDR_CONTACT, contact_apply,
				rp);
	if (rp->err) {
		gw->c.reg_refused++;
		gw_req_answer(rq, 400, rp->err == EMSGSIZE ?
			      "Too many contacts" : "Bad Contact", NULL);
		goto out;
	}
	if (rp->brief) {
		char hdr[64];

		gw->c.reg_refused++;
		re_snprintf(hdr, sizeof(hdr), "Min-Expires: %u\r\n",
			    (unsigned)GW_EXPIRES_MIN);
		gw_req_answer(rq, 423, "Interval Too Brief", hdr);
		goto out;
	}

	if (rp->star) {
		if (rp->cc || rp->dflt != 0) {
			gw->c.reg_refused++;
			gw_req_answer(rq, 400, "Contact * needs Expires: 0",
				      NULL);
			goto out;
		}
		err = gw_reg_remove_all(gw->reg, aor, callid,
					rq->msg->cseq.num);
	}
	else if (rp->cc) {
		err = gw_reg_update(gw->reg, aor, rp->cv, rp->cc, callid,
				    rq->msg->cseq.num, rq->fl, now);
	}
	else {
		err = 0;   /* a query */
	}

	if (err) {
		gw->c.reg_refused++;
		gw_req_answer(rq, err == ENOSPC ? 403 : 400,
			      err == ENOSPC ? "Too many registrations" :
			      err == EPROTO ? "Out of order" : "Bad Contact",
			      NULL);
		goto out;
	}

	rc.mb = mbuf_alloc(256);
	rc.now = now;
	if (!rc.mb) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		goto out;
	}
	(void)gw_reg_contacts(gw->reg, aor, now, binding_print, &rc);
	(void)mbuf_write_u8(rc.mb, 0);

	gw->c.reg_ok++;
	if (rp->star || rp->cc)
		gw_store_reg(gw, aor);
	dmn_log_info("gw: register aor=%s contacts=%u registered=%s", aor,
		     (unsigned)rp->cc,
		     gw_reg_registered(gw->reg, aor, now) ? "yes" : "no");
	gw_req_answer(rq, 200, "OK", (const char *)rc.mb->buf);
	mem_deref(rc.mb);

	gw_pres_changed(gw, aor);

 out:
	mem_deref(rp);
}
