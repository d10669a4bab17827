/*
 * gw_pres.c -- local users' presence: publications (RFC 3903), the
 * state a watcher sees, and subscriptions with their NOTIFYs
 * (RFC 6665, Event: presence, bodies from sst_pidf.h).
 *
 * The state of a user (gw_pres_status):
 *	not registered (no valid binding)        Offline
 *	registered, a live publication           the most recently
 *	                                         published state
 *	registered, nothing published            Active
 * "Most recent wins" among a user's publications (one per device or
 * tool): the last thing the person did is the best guess of where they
 * are.  Offline on unregistration, whatever was published, so that
 * nobody stays wrongly online after the client goes.
 *
 * Subscriptions: a dialog per watcher (our To tag, the watcher's From
 * tag and Call-ID); NOTIFYs go back on the flow the SUBSCRIBE came on,
 * to the watcher's Contact, one at a time per dialog (a change while
 * one is in flight is sent when it completes, with the state current
 * then).  A NOTIFY answered 481, or lost (timeout, transport error),
 * ends the subscription.  Expiry sends a final NOTIFY
 * "terminated;reason=timeout"; an un-SUBSCRIBE (Expires: 0) a final
 * "terminated".  Subscriptions last at most GW_SUB_EXPIRES_MAX (600 s):
 * subscriptions live in memory only, and a restarted gateway answers
 * the next refresh of a dialog it lost 481, so a client's stale view
 * is corrected within that bound.
 *
 * Federation: a subscription's target may be an external presentity
 * (its state, as this watcher sees it, comes from the federation
 * subscription gw_fed.c holds for it -- one shared per presentity in a
 * SIP community, the watcher's own in an XMPP community -- asked
 * through gw->obs, gateway/gw_obs.h, with the watcher's AOR),
 * and its watcher may be outside (ext: NOTIFYs carry the SUBSCRIBE's
 * Record-Route set as Route and name the local user by email, the
 * entity the watcher subscribed to).
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
#include "gateway/gw_pres.h"
#include "gateway/gw_route.h"
#include "gateway/gw_shared.h"
#include "gateway/gw_sipv.h"
#include "gateway/gw_pres_seam.h"
#include "gateway/gw_reg.h"
#include "store/sto.h"

enum { GW_ETAG_SIZE = 24 };

struct gw_pub {
	struct le le;
	char etag[GW_ETAG_SIZE];
	enum sst_status st;
	char note[SST_PIDF_NOTE_MAX + 1];
	uint64_t expires;
	uint64_t seq;                /* modification order */
};

struct gw_pres {
	struct le he;
	char aor[GW_URI_MAX];
	struct list pubs;
};

struct gw_sub {
	struct le le;                /* in gw->subs */
	struct le he_t;              /* in gw->subt, by target */
	struct le he_d;              /* in gw->subd, by Call-ID */
	struct gw *gw;
	char *strs;                  /* one buffer: the strings below */
	char *watcher;               /* AOR */
	char *target;                /* AOR */
	char *callid;
	char *rtag;                  /* watcher's From tag */
	char ltag[SST_TAG_SIZE];     /* our To tag */
	char *rfrom;                 /* watcher's URI */
	char *ruri;                  /* watcher's Contact URI */
	struct sst_flow *fl;
	struct sst_ctrans *ct;       /* NOTIFY in flight */
	uint32_t lcseq;
	uint64_t expires;
	enum sst_status last;
	bool notified;               /* at least one NOTIFY sent */
	bool again;                  /* a change while ct was in flight */
	bool ending;                 /* final NOTIFY sent or due */
	const char *end_reason;      /* NULL or "timeout" */
	bool ext;                    /* an external watcher (connector) */
	bool ext_target;             /* the target is an external
				      * presentity (its state is polled) */
	char *entity;                /* the target as the watcher names
				      * it (its email AOR); NULL = target */
	char *route;                 /* "Route: ...\r\n" from the
				      * SUBSCRIBE's Record-Route, or NULL */
	bool stored;                 /* written to the state store */
	struct tmr resend;           /* a NOTIFY refused 503: again */
};

enum {
	GW_NOTIFY_RETRY_S     = 5,   /* 503 without Retry-After */
	GW_NOTIFY_RETRY_MAX_S = 60,
};

/* the state store (the end of this file) */
static void sub_store(struct gw_sub *s);
static void sub_unstore(struct gw_sub *s);
static void pres_store(struct gw *gw, const char *aor);

static uint64_t pub_seq;

/* Where NOTIFYs leave (gw_pres_seam.h): gw_send_request but in tests. */
static gw_pres_send_h *pres_sendh = gw_send_request;

void gw_pres_send_seam(gw_pres_send_h *sendh)
{
	pres_sendh = sendh ? sendh : gw_send_request;
}

static void pres_destructor(void *arg)
{
	struct gw_pres *p = arg;

	hash_unlink(&p->he);
	list_flush(&p->pubs);
}

/* A publication leaves its AOR's list when it goes (removed by
 * Expires: 0, expired by the sweep), so that nothing walks freed
 * memory afterwards. */
static void pub_destructor(void *arg)
{
	struct gw_pub *pb = arg;

	list_unlink(&pb->le);
}

static void sub_destructor(void *arg)
{
	struct gw_sub *s = arg;

	sub_unstore(s);
	if (s->le.list)
		s->gw->nsubs--;
	list_unlink(&s->le);
	hash_unlink(&s->he_t);
	hash_unlink(&s->he_d);
	if (s->ct)
		sst_ctrans_abandon(s->ct);
	tmr_cancel(&s->resend);
	s->strs = mem_deref(s->strs);
	s->route = mem_deref(s->route);
	s->fl = mem_deref(s->fl);
}

static bool pres_cmp(struct le *le, void *arg)
{
	const struct gw_pres *p = le->data;

	return !strcmp(p->aor, arg);
}

static struct gw_pres *pres_find(const struct gw *gw, const char *aor)
{
	struct le *le;

	le = hash_lookup(gw->pres, hash_joaat_str(aor), pres_cmp,
			 (void *)aor);
	return le ? le->data : NULL;
}

static const struct gw_pub *pub_newest(const struct gw_pres *p,
				       uint64_t now)
{
	const struct gw_pub *best = NULL;
	struct le *le;

	for (le = p ? p->pubs.head : NULL; le; le = le->next) {
		const struct gw_pub *pb = le->data;

		if (pb->expires <= now)
			continue;
		if (!best || pb->seq > best->seq)
			best = pb;
	}
	return best;
}

static bool aor_external(const struct gw *gw, const char *aor)
{
	const char *at = strrchr(aor, '@');

	return at && !cfg_domain_is_local(gw->cfg, at + 1);
}

enum sst_status gw_pres_status(struct gw *gw, const char *aor)
{
	const uint64_t now = gw_now();
	const struct gw_pub *pb;

	if (aor_external(gw, aor))
		return gw_obs_ext_status(&gw->obs, gw, aor, NULL, NULL);

	if (!gw_reg_registered(gw->reg, aor, now))
		return gw_shared_status(gw, aor, NULL);
	pb = pub_newest(pres_find(gw, aor), now);
	return pb ? pb->st : SST_ST_ACTIVE;
}

unsigned gw_pub_count(const struct gw *gw)
{
	struct le *le;
	unsigned n = 0;
	uint32_t i;

	for (i = 0; gw->pres && i < hash_bsize(gw->pres); i++)
		for (le = list_head(hash_list(gw->pres, i)); le;
		     le = le->next) {
			const struct gw_pres *p = le->data;

			n += list_count(&p->pubs);
		}
	return n;
}

unsigned gw_subs_status(const struct gw *gw, struct dmn_st *list)
{
	const uint64_t now = gw_now();
	struct le *le;
	unsigned n = 0;

	for (le = gw->subs.head; le; le = le->next) {
		const struct gw_sub *s = le->data;
		struct dmn_st *it;

		if (s->ending)
			continue;
		n++;
		if (!list)
			continue;
		it = dmn_st_item(list);
		dmn_st_str(it, "watcher", s->watcher);
		dmn_st_str(it, "target", s->target);
		dmn_st_bool(it, "external_watcher", s->ext);
		dmn_st_bool(it, "external_target",
			    aor_external(gw, s->target));
		dmn_st_str(it, "last_notified", s->notified ?
			   sst_status_name(s->last) : "none");
		dmn_st_dur(it, "expires_in", s->expires > now ?
			   (s->expires - now) * 1000 : 0);
	}
	return n;
}

unsigned gw_pres_watchers(const struct gw *gw, const char *aor)
{
	struct le *le;
	unsigned n = 0;

	for (le = list_head(hash_list(gw->subt, hash_joaat_str(aor))); le;
	     le = le->next) {
		const struct gw_sub *s = le->data;

		if (!s->ending && !strcmp(s->target, aor))
			n++;
	}
	return n;
}

unsigned gw_pres_watching(const struct gw *gw, const char *watcher,
			  const char *aor)
{
	struct le *le;
	unsigned n = 0;

	for (le = list_head(hash_list(gw->subt, hash_joaat_str(aor))); le;
	     le = le->next) {
		const struct gw_sub *s = le->data;

		if (!s->ending && !strcmp(s->target, aor) &&
		    !strcmp(s->watcher, watcher))
			n++;
	}
	return n;
}

/* The state s's watcher sees of its target: an external presentity's
 * comes from the federation subscription that serves this watcher. */
static enum sst_status sub_status(struct gw_sub *s)
{
	if (s->ext_target)
		return gw_obs_ext_status(&s->gw->obs, s->gw, s->target,
					 s->watcher, NULL);
	return gw_pres_status(s->gw, s->target);
}

unsigned gw_pres_ext_watchers(const struct gw *gw)
{
	struct le *le;
	unsigned n = 0;

	for (le = gw->subs.head; le; le = le->next) {
		const struct gw_sub *s = le->data;

		if (!s->ending && s->ext)
			n++;
	}
	return n;
}

/* ---- NOTIFY ---- */

static void notify_send(struct gw_sub *s);

static void notify_resend(void *arg)
{
	notify_send(arg);
}

/*
 * A NOTIFY answered 503 (a connector over its community's notifyRate,
 * or a watcher's server that is busy) is sent again after its
 * Retry-After (GW_NOTIFY_RETRY_S without one, GW_NOTIFY_RETRY_MAX_S at
 * most), with the state of that moment: each NOTIFY holds the whole
 * state, so the watcher ends up with the newest, and a change meanwhile
 * (notify_send) makes the wait moot.  True when so scheduled.
 */
static bool notify_defer(struct gw_sub *s, const struct sip_msg *msg)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_RETRY_AFTER);
	uint32_t ra = GW_NOTIFY_RETRY_S;
	struct pl n;

	if (s->ending)
		return false;
	/* more than 9 digits is past the cap, and would wrap pl_u32 */
	if (h && !re_regex(h->val.p, h->val.l, "[0-9]+", &n))
		ra = n.l > 9 ? GW_NOTIFY_RETRY_MAX_S : pl_u32(&n);
	ra = ra < 1 ? 1 : min(ra, (uint32_t)GW_NOTIFY_RETRY_MAX_S);
	s->again = false;	/* the resend carries the newest state */
	tmr_start(&s->resend, (uint64_t)ra * 1000, notify_resend, s);
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: notify deferred watcher=%s "
		   "target=%s status=503 retry_in=%us", s->watcher, s->target,
		   (unsigned)ra);
	return true;
}

static void notify_resp(int err, uint16_t scode, const struct sip_msg *msg,
			void *arg)
{
	struct gw_sub *s = arg;
	struct gw *gw = s->gw;

	if (scode < 200)
		return;
	s->ct = NULL;

	/* the final NOTIFY of a dialog the watcher ended: a watcher that
	 * forgot the dialog with its un-SUBSCRIBE answers 481, which is
	 * the end we wanted, not a failure */
	if (scode == 481 && s->ending) {
		dmn_log_debug("gw: notify final watcher=%s target=%s "
			      "status=481 dialog=gone-at-watcher", s->watcher,
			      s->target);
		mem_deref(s);
		return;
	}
	if (scode >= 300) {
		static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);

		gw->c.notify_failed++;
		dmn_log_rl(&rl, DMN_LOG_INFO, "gw: notify failed watcher=%s "
			   "target=%s status=%u error=%d", s->watcher,
			   s->target, (unsigned)scode, err);
		if (scode == 481 || scode == 408 || !msg || s->ending) {
			mem_deref(s);
			return;
		}
		if (scode == 503 && notify_defer(s, msg))
			return;
	}
	if (s->ending) {
		mem_deref(s);
		return;
	}
	if (s->again) {
		s->again = false;
		notify_send(s);
	}
}

static void notify_send(struct gw_sub *s)
{
	struct gw *gw = s->gw;
	const uint64_t now = gw_now();
	char from[GW_URI_MAX + 64], to[GW_URI_MAX + 256];
	const char *entity = s->entity ? s->entity : s->target;
	const char *note = NULL;
	const struct gw_pub *pb;
	struct mbuf *body;
	enum sst_status st;
	struct gw_out_req out = {0};
	struct gw_out_path path;
	char *hdrs;
	int err;

	tmr_cancel(&s->resend);	/* this one carries the newest state */
	if (s->ct) {
		s->again = true;
		return;
	}

	if (aor_external(gw, s->target)) {
		st = gw_obs_ext_status(&gw->obs, gw, s->target, s->watcher,
				       &note);
	}
	else {
		st = gw_pres_status(gw, s->target);
		pb = st == SST_ST_OFFLINE ? NULL :
			pub_newest(pres_find(gw, s->target), now);
		note = pb ? pb->note : NULL;
		if (!pb && st != SST_ST_OFFLINE &&
		    !gw_reg_registered(gw->reg, s->target, now))
			(void)gw_shared_status(gw, s->target, &note);
	}

	body = mbuf_alloc(512);
	if (!body)
		return;
	err = sst_pidf_encode(body, entity, st, note);
	if (err) {
		mem_deref(body);
		return;
	}

	re_snprintf(from, sizeof(from), "<%s>;tag=%s", entity, s->ltag);
	re_snprintf(to, sizeof(to), "<%s>;tag=%s", s->rfrom, s->rtag);
	if (s->ending)
		err = re_sdprintf(&hdrs, "%sEvent: presence\r\n"
				  "Subscription-State: terminated%s%s\r\n",
				  s->route ? s->route : "",
				  s->end_reason ? ";reason=" : "",
				  s->end_reason ? s->end_reason : "");
	else
		err = re_sdprintf(&hdrs, "%sEvent: presence\r\n"
				  "Subscription-State: active;expires=%llu\r\n",
				  s->route ? s->route : "",
				  (unsigned long long)(s->expires > now ?
						       s->expires - now : 0));
	if (err) {
		mem_deref(body);
		if (s->ending)
			mem_deref(s);
		return;
	}

	out.method = "NOTIFY";
	out.ruri = s->ruri;
	out.from = from;
	out.to = to;
	out.callid = s->callid;
	out.cseq = ++s->lcseq;
	out.hdrs = hdrs;
	out.ctype = SST_PIDF_CTYPE;
	out.body = body->buf;
	out.blen = body->end;
	gw_out_flow_path(&path, s->fl);
	err = pres_sendh(gw, &path, &out, notify_resp, s, &s->ct);
	mem_deref(hdrs);
	mem_deref(body);
	if (err) {
		gw->c.notify_failed++;
		if (s->ending)
			mem_deref(s);
		return;
	}
	gw->c.notify_out++;
	s->last = st;
	s->notified = true;
	sub_store(s);
}

/* A watcher's subscription ends: final NOTIFY, then it goes. */
static void sub_end(struct gw_sub *s, const char *reason)
{
	sub_unstore(s);
	s->ending = true;
	s->end_reason = reason;
	s->again = false;
	if (s->ct) {
		/* the final NOTIFY supersedes the one in flight */
		sst_ctrans_abandon(s->ct);
		s->ct = NULL;
	}
	notify_send(s);   /* frees s on failure or on its final answer */
}

/* The watchers of aor only (the target index), not every
 * subscription: a status change costs its own fan-out.  An external
 * presentity may look different to each watcher (XMPP: each has its own
 * subscription), so its state is asked per watcher. */
void gw_pres_changed(struct gw *gw, const char *aor)
{
	const bool ext = aor_external(gw, aor);
	const enum sst_status st = ext ? SST_ST_OFFLINE :
		gw_pres_status(gw, aor);
	struct le *le;

	le = list_head(hash_list(gw->subt, hash_joaat_str(aor)));
	while (le) {
		struct gw_sub *s = le->data;

		le = le->next;
		if (s->ending || strcmp(s->target, aor))
			continue;
		if ((ext ? sub_status(s) : st) != s->last || !s->notified)
			notify_send(s);
	}
}

/* An AOR whose last binding expired: tell its watchers. */
static void reg_gone(const char *aor, void *arg)
{
	gw_pres_changed(arg, aor);
}

void gw_pres_sweep(struct gw *gw, uint64_t now)
{
	struct le *le;
	uint32_t i;

	(void)gw_reg_sweep(gw->reg, now, reg_gone, gw);

	for (i = 0; i < hash_bsize(gw->pres); i++) {
		le = list_head(hash_list(gw->pres, i));
		while (le) {
			struct gw_pres *p = le->data;
			struct le *pl = p->pubs.head;
			bool gone = false;

			le = le->next;
			while (pl) {
				struct gw_pub *pb = pl->data;

				pl = pl->next;
				if (pb->expires <= now) {
					mem_deref(pb);
					gone = true;
				}
			}
			if (gone)
				gw_pres_changed(gw, p->aor);
			if (list_isempty(&p->pubs))
				mem_deref(p);
		}
	}

	/* Local targets' changes (publications, registrations, their
	 * expiry) are pushed through gw_pres_changed(); only external
	 * targets and a first NOTIFY that could not be sent are looked at
	 * here, so that an idle second costs a walk, not a status lookup
	 * per subscription. */
	le = gw->subs.head;
	while (le) {
		struct gw_sub *s = le->data;

		le = le->next;
		if (s->ending)
			continue;
		if (s->expires <= now)
			sub_end(s, "timeout");
		else if ((s->ext_target || !s->notified) &&
			 sub_status(s) != s->last)
			notify_send(s);
	}
}

void gw_pres_close(struct gw *gw)
{
	uint32_t i;

	list_flush(&gw->subs);
	for (i = 0; gw->pres && i < hash_bsize(gw->pres); i++) {
		struct le *le = list_head(hash_list(gw->pres, i));

		while (le) {
			struct gw_pres *p = le->data;

			le = le->next;
			mem_deref(p);
		}
	}
}

/* ---- PUBLISH ---- */

static bool is_pidf(const struct sip_msg *msg)
{
	return !pl_strcasecmp(&msg->ctyp.type, "application") &&
		!pl_strcasecmp(&msg->ctyp.subtype, "pidf+xml");
}

void gw_publish(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	const struct sip_msg *msg = rq->msg;
	const size_t blen = mbuf_get_left(msg->mb);
	char aor[GW_URI_MAX], hdrs[GW_ETAG_SIZE + 64];
	const struct sip_hdr *im;
	struct sst_pidf pidf;
	struct gw_pres *p;
	struct gw_pub *pb = NULL;
	const uint64_t now = gw_now();
	uint32_t e;

	if (gw_aor_of(aor, sizeof(aor), &msg->uri) ||
	    pl_strcmp(&msg->uri.user, rq->user) ||
	    !gw_domain_is_local(gw, &msg->uri.host)) {
		gw->c.pub_refused++;
		gw_req_answer(rq, 403, "Can only publish own presence", NULL);
		return;
	}

	e = gw_expires_of(msg, GW_EXPIRES_DEFAULT);
	if (e && e < GW_EXPIRES_MIN) {
		gw->c.pub_refused++;
		gw_req_answer(rq, 423, "Interval Too Brief",
			      "Min-Expires: 60\r\n");
		return;
	}
	e = min(e, (uint32_t)GW_EXPIRES_MAX);

	if (blen) {
		if (!is_pidf(msg)) {
			gw->c.pub_refused++;
			gw_req_answer(rq, 415, "Unsupported Media Type",
				      "Accept: application/pidf+xml\r\n");
			return;
		}
		if (sst_pidf_decode(&pidf, (const char *)mbuf_buf(msg->mb),
				   blen)) {
			gw->c.pub_refused++;
			gw_req_answer(rq, 400, "Bad presence document", NULL);
			return;
		}
	}

	p = pres_find(gw, aor);
	im = sip_msg_xhdr(msg, "SIP-If-Match");
	if (im) {
		struct le *le;

		for (le = p ? p->pubs.head : NULL; le; le = le->next) {
			struct gw_pub *x = le->data;

			if (!pl_strcmp(&im->val, x->etag) &&
			    x->expires > now) {
				pb = x;
				break;
			}
		}
		if (!pb) {
			gw->c.pub_refused++;
			gw_req_answer(rq, 412, "Conditional Request Failed",
				      NULL);
			return;
		}
	}
	else if (!blen) {
		gw->c.pub_refused++;
		gw_req_answer(rq, 400, "PUBLISH without a body or "
			      "SIP-If-Match", NULL);
		return;
	}

	if (e == 0) {
		if (pb)
			mem_deref(pb);
		gw->c.pub_ok++;
		gw_req_answer(rq, 200, "OK", "Expires: 0\r\n");
		pres_store(gw, aor);
		gw_pres_changed(gw, aor);
		return;
	}

	if (!p) {
		p = mem_zalloc(sizeof(*p), pres_destructor);
		if (!p) {
			gw_req_answer(rq, 500, "Server Internal Error", NULL);
			return;
		}
		str_ncpy(p->aor, aor, sizeof(p->aor));
		hash_append(gw->pres, hash_joaat_str(aor), &p->he, p);
	}
	if (!pb) {
		if (list_count(&p->pubs) >= GW_PUB_PER_AOR_MAX) {
			gw->c.pub_refused++;
			gw_req_answer(rq, 403, "Too many publications", NULL);
			return;
		}
		pb = mem_zalloc(sizeof(*pb), pub_destructor);
		if (!pb) {
			gw_req_answer(rq, 500, "Server Internal Error", NULL);
			return;
		}
		list_append(&p->pubs, &pb->le, pb);
	}
	if (blen) {
		pb->st = pidf.st;
		str_ncpy(pb->note, pidf.note, sizeof(pb->note));
		pb->seq = ++pub_seq;
	}
	pb->expires = now + e;
	sst_tag_gen(pb->etag, sizeof(pb->etag));

	gw->c.pub_ok++;
	dmn_log_info("gw: publish aor=%s status=%s expires=%u", aor,
		     sst_status_name(pb->st), (unsigned)e);
	re_snprintf(hdrs, sizeof(hdrs), "SIP-ETag: %s\r\nExpires: %u\r\n",
		    pb->etag, (unsigned)e);
	gw_req_answer(rq, 200, "OK", hdrs);
	pres_store(gw, aor);
	gw_pres_changed(gw, aor);
}

/* ---- SUBSCRIBE ---- */

static bool rr_apply(const struct sip_hdr *hdr, const struct sip_msg *msg,
		     void *arg)
{
	struct mbuf *mb = arg;

	(void)msg;
	if (hdr->val.l > GW_URI_MAX)
		return true;
	(void)mbuf_printf(mb, "%s%r", mb->end ? ", " : "Route: ", &hdr->val);
	return mb->end > 4 * GW_URI_MAX;
}

/* The route set of a dialog we answer (UAS): the Record-Route values
 * in their order, as one Route header line; NULL when none. */
static int route_of(char **routep, const struct sip_msg *msg)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err = 0;

	if (!mb)
		return ENOMEM;
	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_RECORD_ROUTE, rr_apply, mb);
	if (mb->end) {
		(void)mbuf_write_str(mb, "\r\n");
		mb->pos = 0;
		err = mbuf_strdup(mb, routep, mb->end);
	}
	mem_deref(mb);
	return err;
}

static char *strs_put(char **pp, const struct pl *v)
{
	char *d = *pp;

	memcpy(d, v->p, v->l);
	d[v->l] = '\0';
	*pp += v->l + 1;
	return d;
}

/* The dialog's strings, in one allocation (a subscription is held by
 * the million: one buffer instead of seven saves their overhead). */
static int sub_fill(struct gw_sub *s, const struct sip_msg *msg,
		    const char *watcher, const char *target,
		    const char *entity)
{
	const struct sip_hdr *ch = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct pl w, t, en = PL_INIT;
	struct sip_addr ca;
	size_t n;
	char *p;

	if (!ch || sip_addr_decode(&ca, &ch->val) || !ca.auri.l ||
	    ca.auri.l >= GW_URI_MAX)
		return EBADMSG;
	if (!pl_isset(&msg->from.tag) || msg->from.auri.l >= GW_URI_MAX)
		return EBADMSG;
	pl_set_str(&w, watcher);
	pl_set_str(&t, target);
	if (entity)
		pl_set_str(&en, entity);
	n = w.l + t.l + en.l + ca.auri.l + msg->callid.l +
		msg->from.tag.l + msg->from.auri.l + 7;
	p = mem_alloc(n, NULL);
	if (!p)
		return ENOMEM;
	s->strs = p;
	s->watcher = strs_put(&p, &w);
	s->target = strs_put(&p, &t);
	s->entity = entity ? strs_put(&p, &en) : NULL;
	s->ruri = strs_put(&p, &ca.auri);
	s->callid = strs_put(&p, &msg->callid);
	s->rtag = strs_put(&p, &msg->from.tag);
	s->rfrom = strs_put(&p, &msg->from.auri);
	if (s->ext && route_of(&s->route, msg))
		return ENOMEM;
	return 0;
}

static void sub_reply(struct gw_req *rq, struct gw_sub *s, uint32_t e)
{
	char hdrs[GW_URI_MAX + 64], contact[GW_URI_MAX];

	if (gw_contact_uri(rq->gw, contact, sizeof(contact), rq->fl))
		contact[0] = '\0';
	re_snprintf(hdrs, sizeof(hdrs), "Expires: %u\r\nContact: <%s>\r\n",
		    (unsigned)e, contact);
	(void)gw_out_reply(rq->stx, rq->msg, rq->fl,
		&(const struct gw_out_reply){
		.scode = 200, .reason = "OK", .totag = s->ltag, .hdrs = hdrs});
	rq->stx = NULL;
}

/* A subscription of rq's watcher to target (an AOR: local, or an
 * external presentity); entity: how the watcher names the target (NULL:
 * the target); ext: the watcher is outside, behind a connector. */
static void sub_create(struct gw_req *rq, const char *target,
		       const char *entity, bool ext)
{
	struct gw *gw = rq->gw;
	const struct sip_msg *msg = rq->msg;
	char watcher[GW_URI_MAX];
	char rq_email[sizeof(rq->email)];
	struct gw_sub *s;
	uint32_t e;
	int err;

	e = gw_expires_of(msg, GW_EXPIRES_DEFAULT);
	if (e && e < GW_EXPIRES_MIN) {
		gw->c.sub_refused++;
		gw_req_answer(rq, 423, "Interval Too Brief",
			      "Min-Expires: 60\r\n");
		return;
	}
	e = min(e, (uint32_t)GW_SUB_EXPIRES_MAX);
	if (gw->nsubs >= GW_SUB_MAX) {
		gw->c.sub_refused++;
		gw_req_answer(rq, 503, "Too many subscriptions",
			      "Retry-After: 60\r\n");
		return;
	}

	s = mem_zalloc(sizeof(*s), sub_destructor);
	if (!s) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}
	tmr_init(&s->resend);
	s->gw = gw;
	s->fl = mem_ref(rq->fl);
	s->ext = ext;
	s->ext_target = aor_external(gw, target);
	sst_tag_gen(s->ltag, sizeof(s->ltag));
	err = gw_aor_of(watcher, sizeof(watcher), &msg->from.uri);
	if (!err)
		err = sub_fill(s, msg, watcher, target, entity);
	if (err) {
		mem_deref(s);
		if (err == ENOMEM) {
			gw_req_answer(rq, 500, "Server Internal Error", NULL);
			return;
		}
		gw->c.sub_refused++;
		gw_req_answer(rq, 400, "Bad Contact, From or To", NULL);
		return;
	}
	s->expires = gw_now() + e;

	gw->c.sub_ok++;
	dmn_log_info("gw: subscribe watcher=%s target=%s expires=%u "
		     "external-watcher=%s", s->watcher, s->target,
		     (unsigned)e, ext ? "yes" : "no");
	str_ncpy(rq_email, rq->email, sizeof(rq_email));
	sub_reply(rq, s, e);
	mem_deref(rq);

	list_append(&gw->subs, &s->le, s);
	hash_append(gw->subt, hash_joaat_str(s->target), &s->he_t, s);
	hash_append(gw->subd, hash_joaat_str(s->callid), &s->he_d, s);
	gw->nsubs++;
	if (e == 0) {   /* a fetch: one NOTIFY with the state, then done */
		s->ending = true;
		s->end_reason = "timeout";
	}
	else if (aor_external(gw, target)) {
		/* a new dialog of a local watcher: its federation address
		 * is what the outbound path found (gw_fed_outbound) */
		gw_obs_ext_watch(&gw->obs, gw, target, s->watcher,
				 !ext && rq_email[0] ? rq_email : NULL);
	}
	notify_send(s);
}

static void subscribe_local(struct gw_req *rq)
{
	char target[GW_URI_MAX];

	if (gw_aor_of(target, sizeof(target), &rq->msg->uri)) {
		rq->gw->c.sub_refused++;
		gw_req_answer(rq, 400, "Bad Request-URI", NULL);
		return;
	}
	sub_create(rq, target, NULL, false);
}

void gw_subscribe_external(struct gw_req *rq)
{
	subscribe_local(rq);
}

void gw_subscribe_fed(struct gw_req *rq)
{
	char target[GW_URI_MAX];
	struct uri u = rq->msg->uri;

	pl_set_str(&u.user, rq->target);
	if (gw_aor_of(target, sizeof(target), &u)) {
		rq->gw->c.sub_refused++;
		gw_req_answer(rq, 400, "Bad Request-URI", NULL);
		return;
	}
	sub_create(rq, target, rq->entity, true);
}

void gw_subscribe(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	if (!gw_domain_is_local(gw, &rq->msg->uri.host)) {
		gw_outbound(rq);
		return;
	}
	if (!rq->msg->uri.user.l || rq->msg->uri.user.l > DIR_KEY_MAX) {
		gw->c.sub_refused++;
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	(void)pl_strcpy(&rq->msg->uri.user, rq->target, sizeof(rq->target));
	gw_target_check(rq, subscribe_local);
}

bool gw_subscribe_indialog(struct gw *gw, const struct sip_msg *msg,
			   struct sst_strans *stx, struct sst_flow *fl)
{
	struct gw_req rqs = {0};
	struct gw_sub *s = NULL;
	struct le *le;
	uint32_t e;

	for (le = list_head(hash_list(gw->subd, hash_joaat_pl(&msg->callid)));
	     le; le = le->next) {
		struct gw_sub *x = le->data;

		if (!x->ending && !pl_strcmp(&msg->callid, x->callid) &&
		    !pl_strcmp(&msg->from.tag, x->rtag) &&
		    !pl_strcmp(&msg->to.tag, x->ltag)) {
			s = x;
			break;
		}
	}
	if (!s)
		return false;
	if (!sa_cmp(&s->fl->src, &fl->src, SA_ADDR)) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 403,
			.reason = "Dialog belongs to another address"});
		return true;
	}

	e = gw_expires_of(msg, GW_EXPIRES_DEFAULT);
	if (e && e < GW_EXPIRES_MIN) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 423, .reason = "Interval Too Brief",
			.hdrs = "Min-Expires: 60\r\n"});
		return true;
	}
	e = min(e, (uint32_t)GW_SUB_EXPIRES_MAX);

	rqs.gw = gw;
	rqs.msg = (struct sip_msg *)msg;
	rqs.stx = stx;
	rqs.fl = fl;
	sub_reply(&rqs, s, e);

	if (e == 0) {
		dmn_log_info("gw: unsubscribe watcher=%s target=%s",
			     s->watcher, s->target);
		sub_end(s, NULL);
		return true;
	}
	s->expires = gw_now() + e;
	notify_send(s);
	return true;
}

/* ---- the state store (gw_store.c says what survives a restart) ---- */

static void sub_store(struct gw_sub *s)
{
	struct gw *gw = s->gw;
	char tp[8], src[GW_ADDR_MAX], dst[GW_ADDR_MAX];
	struct sto_sub u;

	if (!gw->store || s->ending)
		return;
	gw_store_flow_text(s->fl, tp, sizeof(tp), src, dst, sizeof(src));
	memset(&u, 0, sizeof(u));
	u.callid = s->callid;
	u.ltag = s->ltag;
	u.rtag = s->rtag;
	u.watcher = s->watcher;
	u.target = s->target;
	u.rfrom = s->rfrom;
	u.ruri = s->ruri;
	u.entity = s->entity;
	u.route = s->route;
	u.lcseq = s->lcseq;
	u.expires = gw_store_wall(s->expires);
	u.last = (int)s->last;
	u.notified = s->notified;
	u.ext = s->ext;
	u.tp = tp;
	u.src = src;
	u.dst = dst;
	if (!sto_sub_put(gw->store, &u))
		s->stored = true;
}

static void sub_unstore(struct gw_sub *s)
{
	if (!s->stored || !s->gw->store)
		return;
	(void)sto_sub_del(s->gw->store, s->callid, s->ltag);
	s->stored = false;
}

/* aor's live publications replace what the store has. */
static void pres_store(struct gw *gw, const char *aor)
{
	const struct gw_pres *p = pres_find(gw, aor);
	struct sto_pub pv[GW_PUB_PER_AOR_MAX];
	const uint64_t now = gw_now();
	struct le *le;
	size_t n = 0;

	if (!gw->store)
		return;
	for (le = p ? p->pubs.head : NULL; le && n < ARRAY_SIZE(pv);
	     le = le->next) {
		const struct gw_pub *pb = le->data;

		if (pb->expires <= now)
			continue;
		pv[n].aor = aor;
		pv[n].etag = pb->etag;
		pv[n].status = (int)pb->st;
		pv[n].note = pb->note[0] ? pb->note : NULL;
		pv[n].expires = gw_store_wall(pb->expires);
		pv[n].seq = pb->seq;
		n++;
	}
	(void)sto_pub_set(gw->store, aor, pv, n);
}

void gw_pres_restore_pub(struct gw *gw, const struct sto_pub *sp,
			 uint64_t expires)
{
	struct gw_pres *p = pres_find(gw, sp->aor);
	struct gw_pub *pb;

	if (strlen(sp->aor) >= GW_URI_MAX || strlen(sp->etag) >= GW_ETAG_SIZE)
		return;
	if (!p) {
		p = mem_zalloc(sizeof(*p), pres_destructor);
		if (!p)
			return;
		str_ncpy(p->aor, sp->aor, sizeof(p->aor));
		hash_append(gw->pres, hash_joaat_str(p->aor), &p->he, p);
	}
	if (list_count(&p->pubs) >= GW_PUB_PER_AOR_MAX)
		return;
	pb = mem_zalloc(sizeof(*pb), pub_destructor);
	if (!pb)
		return;
	str_ncpy(pb->etag, sp->etag, sizeof(pb->etag));
	pb->st = (enum sst_status)sp->status;
	str_ncpy(pb->note, sp->note ? sp->note : "", sizeof(pb->note));
	pb->expires = expires;
	pb->seq = sp->seq;
	pub_seq = max(pub_seq, sp->seq);
	list_append(&p->pubs, &pb->le, pb);
	gw->restored.publications++;
}

static const char *strs_cput(char **pp, const char *v)
{
	const size_t n = strlen(v) + 1;
	char *d = *pp;

	memcpy(d, v, n);
	*pp += n;
	return d;
}

/* A watcher's dialog read from the store; its NOTIFY goes out from
 * gw_pres_restore_done() once everything is back. */
int gw_pres_restore_sub(struct gw *gw, const struct sto_sub *u,
			struct sst_flow *fl, uint64_t expires)
{
	struct gw_sub *s;
	size_t n;
	char *p;

	/* the limits a SUBSCRIBE is held to (sub_fill): a file is input */
	if (strlen(u->ltag) >= SST_TAG_SIZE ||
	    strlen(u->target) >= GW_URI_MAX ||
	    strlen(u->watcher) >= GW_URI_MAX ||
	    strlen(u->rfrom) >= GW_URI_MAX || strlen(u->ruri) >= GW_URI_MAX ||
	    strlen(u->rtag) >= GW_URI_MAX || strlen(u->callid) >= GW_URI_MAX ||
	    (u->entity && strlen(u->entity) >= GW_URI_MAX) ||
	    (u->route && strlen(u->route) > 6 * GW_URI_MAX))
		return EINVAL;
	if (gw->nsubs >= GW_SUB_MAX)
		return ENOSPC;
	s = mem_zalloc(sizeof(*s), sub_destructor);
	if (!s)
		return ENOMEM;
	tmr_init(&s->resend);
	s->gw = gw;
	n = strlen(u->watcher) + strlen(u->target) +
		(u->entity ? strlen(u->entity) + 1 : 0) + strlen(u->ruri) +
		strlen(u->callid) + strlen(u->rtag) + strlen(u->rfrom) + 6;
	p = mem_alloc(n, NULL);
	if (!p) {
		mem_deref(s);
		return ENOMEM;
	}
	s->strs = p;
	s->watcher = (char *)strs_cput(&p, u->watcher);
	s->target = (char *)strs_cput(&p, u->target);
	s->entity = u->entity ? (char *)strs_cput(&p, u->entity) : NULL;
	s->ruri = (char *)strs_cput(&p, u->ruri);
	s->callid = (char *)strs_cput(&p, u->callid);
	s->rtag = (char *)strs_cput(&p, u->rtag);
	s->rfrom = (char *)strs_cput(&p, u->rfrom);
	if (u->route && str_dup(&s->route, u->route)) {
		mem_deref(s);
		return ENOMEM;
	}
	str_ncpy(s->ltag, u->ltag, sizeof(s->ltag));
	s->fl = mem_ref(fl);
	s->lcseq = u->lcseq;
	s->expires = expires;
	s->last = (enum sst_status)u->last;
	s->notified = u->notified;
	s->ext = u->ext;
	s->ext_target = aor_external(gw, s->target);
	s->stored = true;

	list_append(&gw->subs, &s->le, s);
	hash_append(gw->subt, hash_joaat_str(s->target), &s->he_t, s);
	hash_append(gw->subd, hash_joaat_str(s->callid), &s->he_d, s);
	gw->nsubs++;
	gw->restored.subscriptions++;
	return 0;
}

/* Every restored watcher hears the state as it is now, at once. */
void gw_pres_restore_done(struct gw *gw)
{
	struct le *le = gw->subs.head;

	while (le) {
		struct gw_sub *s = le->data;

		le = le->next;
		if (s->ending)
			continue;
		if (s->ext_target)
			gw_obs_ext_watch(&gw->obs, gw, s->target, s->watcher,
					 NULL);
		notify_send(s);
	}
}
