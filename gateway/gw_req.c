/*
 * gw_req.c -- the request context (see gw_req.h): allocation, parking
 * while the directory answers, answering, and the credentials kept on
 * the request.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_req.h"

static unsigned answer_ms(const struct gw *gw)
{
	const unsigned v = gw->cfg->directory.answer_ms ?
		gw->cfg->directory.answer_ms : (unsigned)CFG_DIR_ANSWER_MS;

	return min(max(v, (unsigned)GW_DIR_ANSWER_MIN_MS),
		   (unsigned)GW_DIR_ANSWER_MAX_MS);
}

static void req_destructor(void *arg)
{
	struct gw_req *rq = arg;

	list_unlink(&rq->le);
	if (rq->gw && rq->gw->dir)
		dir_cancel(rq->gw->dir, rq);
	if (rq->stx)
		sst_strans_abandon(rq->stx);
	rq->msg = mem_deref(rq->msg);
	rq->fl = mem_deref(rq->fl);
}

int gw_req_alloc(struct gw_req **rqp, struct gw *gw, struct sip_msg *msg,
		 struct sst_strans *stx, struct sst_flow *fl)
{
	struct gw_req *rq;

	if (!rqp || !gw || !msg || !fl)
		return EINVAL;
	if (list_count(&gw->pending) >= GW_PENDING_MAX)
		return EAGAIN;
	rq = mem_zalloc(sizeof(*rq), req_destructor);
	if (!rq)
		return ENOMEM;
	rq->gw = gw;
	rq->msg = mem_ref(msg);
	rq->stx = stx;
	rq->fl = mem_ref(fl);
	rq->deadline = sst_tmr_now() + answer_ms(gw);
	*rqp = rq;
	return 0;
}

/* Every parked request past its deadline gets 503: the directory is
 * down or slow, and the sender must hear so well before its Timer F. */
static void pending_tick(void *arg)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	struct gw *gw = arg;
	const uint64_t now = sst_tmr_now();
	struct le *le = gw->pending.head;
	char ra[32];

	re_snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", GW_RETRY_AFTER);
	while (le) {
		struct gw_req *rq = le->data;

		le = le->next;
		if (now < rq->deadline)
			continue;
		list_unlink(&rq->le);
		if (gw->dir)
			dir_cancel(gw->dir, rq);
		gw->c.dir_unavailable++;
		gw->c.dir_slow++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "gw: directory too slow "
			   "method=%.*s waited_ms=%u", (int)rq->msg->met.l,
			   rq->msg->met.p, answer_ms(gw));
		gw_req_answer(rq, 503, "Directory Unavailable", ra);
	}
	if (!list_isempty(&gw->pending))
		tmr_start(&gw->pendt, GW_PENDING_TICK_MS, pending_tick, gw);
}

void gw_req_park(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	list_append(&gw->pending, &rq->le, rq);
	if (!tmr_isrunning(&gw->pendt))
		tmr_start(&gw->pendt, GW_PENDING_TICK_MS, pending_tick, gw);
}

struct gw_ambig {
	struct le le;
	char key[DIR_KEY_MAX + 1];
	uint64_t until;              /* seconds, gw_now(): quiet until */
};

bool gw_req_ambiguous(struct gw_req *rq, const struct dir_result *res,
		      const char *key)
{
	struct gw *gw = rq->gw;
	const uint64_t now = gw_now();
	struct gw_ambig *a = NULL;
	struct le *le;

	if (res->err != ENOTUNIQ)
		return false;
	gw->c.dir_ambiguous++;
	for (le = gw->ambig.head; le; le = le->next) {
		struct gw_ambig *x = le->data;

		if (!str_casecmp(x->key, key)) {
			a = x;
			break;
		}
	}
	if (!a || now >= a->until) {
		/* once per key per cache period: the entry is cached that
		 * long, and the administrator needs one line, not one per
		 * request */
		dmn_log_warnx("gw: ambiguous directory key=%s reason=%s",
			      key, res->reason && res->reason[0] ?
			      res->reason : dir_err_name(res->err));
		if (!a) {
			if (list_count(&gw->ambig) >= GW_AMBIG_MAX)
				mem_deref(list_head(&gw->ambig)->data);
			a = mem_zalloc(sizeof(*a), NULL);
			if (a) {
				str_ncpy(a->key, key, sizeof(a->key));
				list_append(&gw->ambig, &a->le, a);
			}
		}
		if (a)
			a->until = now + (gw->cfg->directory.cache_ttl ?
					  gw->cfg->directory.cache_ttl : 60);
	}
	/* RFC 3261 21.4.23: the address names several users; asking
	 * again will not help, so no Retry-After */
	gw_req_answer(rq, 485, "Ambiguous", NULL);
	return true;
}

/* Answer and free rq. */
void gw_req_answer(struct gw_req *rq, uint16_t scode, const char *reason,
		   const char *hdrs)
{
	if (!rq)
		return;
	(void)gw_out_reply(rq->stx, rq->msg, rq->fl,
		&(const struct gw_out_reply){
		.scode = scode, .reason = reason, .hdrs = hdrs});
	rq->stx = NULL;
	mem_deref(rq);
}

/* Every parked request gets 503 (shutdown, or a directory swap). */
void gw_req_cancel_all(struct gw *gw)
{
	struct le *le;

	while ((le = list_head(&gw->pending)) != NULL) {
		struct gw_req *rq = le->data;

		list_unlink(&rq->le);
		if (gw->dir)
			dir_cancel(gw->dir, rq);
		gw_req_answer(rq, 503, "Service Unavailable",
			      "Retry-After: 5\r\n");
	}
}

struct cred_find {
	const char *realm;
	struct gw_digest_cred cred;
	bool found;
	int err;
};

static bool cred_apply(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct cred_find *cf = arg;
	struct gw_digest_cred c;
	int err;

	(void)msg;
	err = gw_digest_cred_decode(&c, &hdr->val);
	if (err) {
		cf->err = err;
		return false;
	}
	if (strcmp(c.realm, cf->realm))
		return false;   /* another realm's credentials: not ours */
	cf->cred = c;
	cf->found = true;
	return true;
}

const struct gw_digest_cred *gw_req_cred(struct gw_req *rq,
					 const char *realm, int *errp)
{
	if (!rq->cred_done) {
		struct cred_find cf = {0};

		cf.realm = realm;
		(void)sip_msg_hdr_apply(rq->msg, true, rq->proxy ?
					SIP_HDR_PROXY_AUTHORIZATION :
					SIP_HDR_AUTHORIZATION, cred_apply,
					&cf);
		rq->cred = cf.cred;
		rq->cred_found = cf.found;
		rq->cred_err = cf.err;
		rq->cred_done = true;
	}
	if (errp)
		*errp = rq->cred_found ? 0 : rq->cred_err;
	return rq->cred_found ? &rq->cred : NULL;
}
