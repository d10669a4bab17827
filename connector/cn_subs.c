/*
 * cn_subs.c -- the federation subscriptions a community holds through
 * the connector, and their cap (ExternCommunity subscriptionsMax).
 *
 * Owns: the table of the SUBSCRIBE dialogs the connector relays for
 *	every community with a cap, per community and direction (the
 *	direction of the dialog-creating SUBSCRIBE: out, our users
 *	watching theirs; in, theirs watching ours), and the refusal of a
 *	new SUBSCRIBE over the cap.
 * Not here: the per second rates (cn_rate.c), SIP parsing beyond the
 *	headers named below, the answer itself (cn_proxy.c builds it).
 *
 * A subscription is named by its dialog: the Call-ID and the
 * subscriber's tag (From of the SUBSCRIBE, To of the NOTIFY).  Its life
 * as the connector sees it:
 *	a new SUBSCRIBE (no To tag) reserves a place, so that a burst in
 *	flight cannot overrun the cap; over the cap (held + reserved >=
 *	subscriptionsMax in that direction) it is answered 503 "Too many
 *	subscriptions held with this community", Retry-After: 60, counted
 *	rate-limit for the community;
 *	its 2xx makes it held, until now + Expires (the 2xx's, else the
 *	request's, else 3600 s; never more than the request asked nor
 *	than PX_SUBS_MAX_S) + PX_SUBS_GRACE_S; any other final
 *	answer frees the place;
 *	a refresh answered 2xx, and a NOTIFY with Subscription-State
 *	active or pending (its expires=) answered 2xx, move the expiry;
 *	an un-SUBSCRIBE (Expires: 0) or a NOTIFY with Subscription-State
 *	terminated ends it as it passes; a refresh or NOTIFY answered
 *	with one of the codes after which RFC 6665 4.1.2.2 and 4.2.2 say
 *	the subscription is gone (404, 405, 410, 416, 480-485, 489, 501,
 *	604; a NOTIFY also 408, its transaction timing out) ends it too;
 *	a timer every PX_SUBS_SWEEP_MS drops the ones past their expiry.
 * Requests inside a dialog are never refused here: a subscription can
 * always be refreshed and ended.  One the connector does not know (it
 * restarted, or the cap was set by a reload) is counted from its first
 * refresh or NOTIFY answered 2xx, so that the count converges on the
 * truth; such a one is never refused either, so held may exceed the
 * cap until some end.
 *
 * Bounded: communities without a cap cost nothing and are not
 * tracked; a community holds at most 2 x its cap entries each way (the
 * cap, plus ones learnt from refreshes), the table at most
 * PX_SUBS_ENTRIES_MAX, each entry a fixed size (the first
 * PX_SUB_KEY_MAX bytes of the dialog's name, with its length and
 * hash).
 */
#include "config.h"

#include <string.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "connector/cn.h"
#include "connector/cn_px.h"

enum {
	PX_SUBS_BUCKETS     = 1024,
	PX_SUBS_ENTRIES_MAX = 4 * CFG_SUBS_MAX,
	PX_SUBS_SWEEP_MS    = 5000,
	PX_SUBS_GRACE_S     = 5,	/* past Expires: a late refresh */
	PX_SUBS_DEFAULT_S   = 3600,	/* RFC 3856 6.4 */
	PX_SUBS_MAX_S       = 86400,	/* the longest a place is held */
	PX_SUBS_RETRY_S     = 60,
	PX_SUB_KEY_MAX      = 96,
};

/* One community's counts, [direction] as enum cn_dir. */
struct subs_comm {
	struct le le;
	char name[CN_ADDR_MAX];
	uint32_t held[2], reserved[2];
	uint64_t limited[2];
	uint64_t expired;
};

struct px_subs {
	struct cn_px *px;
	struct hash *ht;		/* struct px_sub */
	struct list comms;		/* struct subs_comm */
	struct tmr sweep;
	uint32_t n;
};

/* One subscription dialog.  The table holds a reference while it is
 * linked; a reservation holds another. */
struct px_sub {
	struct le he;
	struct px_subs *ps;
	struct subs_comm *c;
	uint32_t h;
	size_t klen;
	char key[PX_SUB_KEY_MAX];
	enum cn_dir dir;		/* of the dialog-creating SUBSCRIBE */
	bool held;			/* else reserved */
	uint32_t asked;			/* s: the subscriber's last Expires */
	uint64_t expires;		/* sst_tmr_now() ms, when held */
};

/* The place a new SUBSCRIBE took, until its final answer. */
struct px_subres {
	struct px_sub *s;
};

struct sub_key {
	uint32_t h;
	size_t klen;
	char key[PX_SUB_KEY_MAX];
};

/* ---- the table ---- */

static void sub_unlink(struct px_sub *s)
{
	if (!s->he.list)
		return;
	hash_unlink(&s->he);
	if (s->held)
		--s->c->held[s->dir];
	else
		--s->c->reserved[s->dir];
	--s->ps->n;
	mem_deref(s);		/* the table's reference */
}

static void subres_destructor(void *arg)
{
	struct px_subres *sr = arg;

	/* a request that ends without a 2xx frees its place */
	if (sr->s && !sr->s->held)
		sub_unlink(sr->s);
	mem_deref(sr->s);
}

static void comm_sweep(struct px_subs *ps)
{
	struct le *le = ps->comms.head;

	while (le) {
		struct subs_comm *c = le->data;
		const struct cfg_extern *ex = px_extern(ps->px, c->name);

		le = le->next;
		if (ex && ex->subs_max)
			continue;
		if (c->held[0] || c->held[1] || c->reserved[0] ||
		    c->reserved[1])
			continue;
		list_unlink(&c->le);
		mem_deref(c);
	}
}

static bool sweep_one(struct le *le, void *arg)
{
	struct px_sub *s = le->data;
	const uint64_t now = *(const uint64_t *)arg;
	const struct cfg_extern *ex = px_extern(s->ps->px, s->c->name);

	/* expired; or its community has no cap any more (a reload) */
	if (s->held && (s->expires <= now || !ex || !ex->subs_max)) {
		if (s->expires <= now)
			s->c->expired++;
		sub_unlink(s);
	}
	return false;
}

static void sweep(void *arg)
{
	struct px_subs *ps = arg;
	uint64_t now = sst_tmr_now();

	(void)hash_apply(ps->ht, sweep_one, &now);
	comm_sweep(ps);
	tmr_start(&ps->sweep, PX_SUBS_SWEEP_MS, sweep, ps);
}

static void subs_destructor(void *arg)
{
	struct px_subs *ps = arg;

	tmr_cancel(&ps->sweep);
	hash_flush(ps->ht);
	mem_deref(ps->ht);
	list_flush(&ps->comms);
}

static struct px_subs *subs_get(struct cn_px *px)
{
	struct px_subs *ps = px->subs;

	if (ps)
		return ps;
	ps = mem_zalloc(sizeof(*ps), subs_destructor);
	if (!ps)
		return NULL;
	ps->px = px;
	list_init(&ps->comms);
	tmr_init(&ps->sweep);
	if (hash_alloc(&ps->ht, PX_SUBS_BUCKETS)) {
		mem_deref(ps);
		return NULL;
	}
	tmr_start(&ps->sweep, PX_SUBS_SWEEP_MS, sweep, ps);
	px->subs = ps;
	return ps;
}

static struct subs_comm *comm_get(struct px_subs *ps, const char *name,
				  bool make)
{
	struct subs_comm *c;
	struct le *le;

	for (le = ps->comms.head; le; le = le->next) {
		c = le->data;
		if (!strcmp(c->name, name))
			return c;
	}
	if (!make)
		return NULL;
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return NULL;
	str_ncpy(c->name, name, sizeof(c->name));
	list_append(&ps->comms, &c->le, c);
	return c;
}

/* The dialog's name: Call-ID, then the subscriber's tag. */
/* The key of the subscription Call-ID callid, subscriber's tag tag. */
static void key_of(struct sub_key *k, const struct pl *callid,
		   const struct pl *tag)
{
	const size_t cl = min(callid->l, sizeof(k->key) - 1);

	k->h = hash_joaat((const uint8_t *)callid->p, callid->l) ^
		hash_joaat((const uint8_t *)tag->p, tag->l) * 31;
	k->klen = callid->l + 1 + tag->l;
	memset(k->key, 0, sizeof(k->key));
	memcpy(k->key, callid->p, cl);
	if (cl < sizeof(k->key) - 1) {
		k->key[cl] = '\n';
		memcpy(k->key + cl + 1, tag->p, min(tag->l,
					       sizeof(k->key) - cl - 1));
	}
}

static void key_make(struct sub_key *k, const struct sip_msg *msg,
		     bool notify)
{
	key_of(k, &msg->callid, notify ? &msg->to.tag : &msg->from.tag);
}

static bool key_cmp(struct le *le, void *arg)
{
	const struct px_sub *s = le->data;
	const struct sub_key *k = arg;

	return s->h == k->h && s->klen == k->klen &&
		!memcmp(s->key, k->key, sizeof(k->key));
}

static struct px_sub *sub_find(struct px_subs *ps, const struct sub_key *k)
{
	struct le *le = hash_lookup(ps->ht, k->h, key_cmp, (void *)k);

	return le ? le->data : NULL;
}

static struct px_sub *sub_add(struct px_subs *ps, struct subs_comm *c,
			      const struct sub_key *k, enum cn_dir dir,
			      bool held)
{
	struct px_sub *s;

	if (ps->n >= PX_SUBS_ENTRIES_MAX)
		return NULL;
	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return NULL;
	s->ps = ps;
	s->c = c;
	s->h = k->h;
	s->klen = k->klen;
	memcpy(s->key, k->key, sizeof(s->key));
	s->dir = dir;
	s->held = held;
	hash_append(ps->ht, s->h, &s->he, s);
	if (held)
		++c->held[dir];
	else
		++c->reserved[dir];
	++ps->n;
	return s;
}

/*
 * Hold s for expires_s: never longer than the subscriber asked for
 * (RFC 6665 4.2.1.1: a notifier may shorten, never lengthen) nor than
 * PX_SUBS_MAX_S, so that a partner's Expires cannot keep a place.
 */
static void hold(struct px_sub *s, uint32_t expires_s)
{
	if (s->asked && expires_s > s->asked)
		expires_s = s->asked;
	if (expires_s > PX_SUBS_MAX_S)
		expires_s = PX_SUBS_MAX_S;
	if (!s->held) {
		--s->c->reserved[s->dir];
		++s->c->held[s->dir];
		s->held = true;
	}
	s->expires = sst_tmr_now() + ((uint64_t)expires_s +
				      PX_SUBS_GRACE_S) * 1000;
}

/* ---- what the requests say ---- */

static bool is_method(const struct px_req *r, const char *m)
{
	return !strcmp(r->method, m);
}

/* Subscription-State of a NOTIFY: terminated?  *exp its expires=. */
static bool sub_state(const struct sip_msg *msg, bool *terminated,
		      uint32_t *exp)
{
	const struct sip_hdr *h = sip_msg_hdr(msg,
					      SIP_HDR_SUBSCRIPTION_STATE);
	struct pl st, e;

	if (!h || re_regex(h->val.p, h->val.l, "[a-z]+", &st))
		return false;
	*terminated = !pl_strcasecmp(&st, "terminated");
	*exp = re_regex(h->val.p, h->val.l, "expires=[0-9]+", &e) ?
		PX_SUBS_DEFAULT_S : pl_u32(&e);
	return true;
}

/* The answers after which RFC 6665 says the subscription is gone. */
static bool gone(uint16_t scode, bool notify)
{
	switch (scode) {
	case 404: case 405: case 410: case 416: case 480: case 481:
	case 482: case 483: case 484: case 485: case 489: case 501:
	case 604:
		return true;
	case 408:
		return notify;
	default:
		return false;
	}
}

static const struct cfg_extern *capped(const struct px_req *r)
{
	const struct cfg_extern *ex;

	if (!r->comm[0])
		return NULL;
	ex = px_extern(r->px, r->comm);
	return ex && ex->subs_max ? ex : NULL;
}

static void end_now(struct cn_px *px, const struct px_req *r, bool notify)
{
	struct sub_key k;
	struct px_sub *s;

	if (!px->subs)
		return;
	key_make(&k, r->msg, notify);
	s = sub_find(px->subs, &k);
	if (s)
		sub_unlink(s);
}

/*
 * A request that passed the trust check and the rates: may it go?
 * A new SUBSCRIBE over its community's cap is answered here (503,
 * counted rate-limit) and false returned; one that fits takes a place.
 * An un-SUBSCRIBE or a terminating NOTIFY ends its subscription.
 */
bool px_subs_admit(struct cn_px *px, struct px_req *r)
{
	const struct cfg_extern *ex = capped(r);
	struct px_subs *ps;
	struct subs_comm *c;
	struct sub_key k;
	struct px_subres *sr;
	struct px_sub *s;
	char src[CN_ADDR_MAX], hdr[32];
	bool term;
	uint32_t e;

	if (!ex)
		return true;
	if (is_method(r, "NOTIFY")) {
		if (sub_state(r->msg, &term, &e) && term)
			end_now(px, r, true);
		return true;
	}
	if (!is_method(r, "SUBSCRIBE"))
		return true;
	if (r->in_dialog) {
		if (pl_isset(&r->msg->expires) &&
		    pl_u32(&r->msg->expires) == 0)
			end_now(px, r, false);
		return true;
	}

	ps = subs_get(px);
	c = ps ? comm_get(ps, r->comm, true) : NULL;
	if (!c)
		return true;	/* out of memory: never a refusal */
	key_make(&k, r->msg, false);
	if (sub_find(ps, &k))
		return true;	/* that dialog again */
	if (c->held[r->dir] + c->reserved[r->dir] < ex->subs_max) {
		sr = mem_zalloc(sizeof(*sr), subres_destructor);
		s = sr ? sub_add(ps, c, &k, r->dir, false) : NULL;
		if (!s) {
			mem_deref(sr);
			return true;
		}
		sr->s = mem_ref(s);
		r->subres = sr;
		return true;
	}

	c->limited[r->dir]++;
	px_rate_refused(px, r);
	re_snprintf(src, sizeof(src), "%j", &r->src);
	cn_count_reject(px->cn, r->comm, CN_R_RATE_LIMIT, src,
			"from=%s ruri=%s method=SUBSCRIBE held=%u max=%u",
			r->from_domain, r->ruri_domain,
			c->held[r->dir] + c->reserved[r->dir], ex->subs_max);
	re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
		    (unsigned)PX_SUBS_RETRY_S);
	px_req_final(r, 503, "Too many subscriptions held with this "
		     "community", hdr);
	return false;
}

/*
 * r's final answer scode, relayed (resp) or made here (resp NULL):
 * a reservation becomes held or is freed, a refresh or NOTIFY moves the
 * expiry or ends the subscription.
 */
static void subs_answer(struct px_req *r, uint16_t scode, bool has_exp,
			uint32_t resp_exp)
{
	const struct cfg_extern *ex;
	const bool notify = is_method(r, "NOTIFY");
	struct px_subs *ps;
	struct subs_comm *c;
	struct sub_key k;
	struct px_sub *s;
	enum cn_dir dir;
	uint32_t e = PX_SUBS_DEFAULT_S;
	bool term = false;

	if (r->subres) {
		s = r->subres->s;
		if (scode < 300 && s->he.list) {
			s->asked = pl_isset(&r->msg->expires) ?
				pl_u32(&r->msg->expires) : PX_SUBS_DEFAULT_S;
			if (has_exp)
				e = resp_exp;
			else if (pl_isset(&r->msg->expires))
				e = pl_u32(&r->msg->expires);
			if (e)
				hold(s, e);
		}
		r->subres = mem_deref(r->subres);	/* else: freed */
		return;
	}
	if (!r->in_dialog || (!notify && !is_method(r, "SUBSCRIBE")))
		return;
	ex = capped(r);
	if (!ex)
		return;
	if (scode >= 300) {
		if (gone(scode, notify))
			end_now(r->px, r, notify);
		return;
	}

	if (notify) {
		if (!sub_state(r->msg, &term, &e) || term)
			return;
	}
	else if (pl_isset(&r->msg->expires)) {
		e = pl_u32(&r->msg->expires);
	}
	if (!notify && has_exp)
		e = resp_exp;
	if (!e) {	/* an un-SUBSCRIBE, or the notifier's Expires: 0 */
		end_now(r->px, r, notify);
		return;
	}

	ps = subs_get(r->px);
	if (!ps)
		return;
	key_make(&k, r->msg, notify);
	s = sub_find(ps, &k);
	if (!s) {
		/* one made before we knew it: count it from now */
		dir = notify ? (r->dir == CN_DIR_OUTBOUND ? CN_DIR_INBOUND :
				CN_DIR_OUTBOUND) : r->dir;
		c = comm_get(ps, r->comm, true);
		if (!c || c->held[dir] + c->reserved[dir] >=
		    2 * ex->subs_max)
			return;
		s = sub_add(ps, c, &k, dir, true);
		if (!s)
			return;
	}
	if (!notify)	/* a refresh asks anew */
		s->asked = pl_isset(&r->msg->expires) ?
			pl_u32(&r->msg->expires) : PX_SUBS_DEFAULT_S;
	hold(s, e);
}

void px_subs_answer(struct px_req *r, uint16_t scode,
		    const struct sip_msg *resp)
{
	const bool has = resp && pl_isset(&resp->expires);

	subs_answer(r, scode, has, has ? pl_u32(&resp->expires) : 0);
}

/* An answer the connector makes itself (an XMPP community's user
 * agent), with the Expires it grants. */
void px_subs_answer_expires(struct px_req *r, uint16_t scode,
			    uint32_t expires)
{
	subs_answer(r, scode, true, expires);
}

/*
 * A subscription the connector itself ended (an XMPP community's
 * dialog, whose terminating NOTIFY never passes the proxy): its place
 * comes back.  callid and tag name it as the SUBSCRIBE did.
 */
void px_subs_forget(struct cn_px *px, const char *callid, const char *tag)
{
	struct pl cid, ftag;
	struct sub_key k;
	struct px_sub *s;

	if (!px || !px->subs || !callid || !tag)
		return;
	pl_set_str(&cid, callid);
	pl_set_str(&ftag, tag);
	key_of(&k, &cid, &ftag);
	s = sub_find(px->subs, &k);
	if (s)
		sub_unlink(s);
}

/* The community's cap and what it holds, into its rates item. */
void px_subs_status(struct cn_px *px, struct dmn_st *it,
		    const struct cfg_extern *ex)
{
	const struct subs_comm *c = px->subs ?
		comm_get(px->subs, ex->name, false) : NULL;

	dmn_st_int(it, "subscriptions_max", ex->subs_max);
	dmn_st_int(it, "subscriptions_in_held", c ? c->held[CN_DIR_INBOUND] :
		   0);
	dmn_st_int(it, "subscriptions_out_held", c ?
		   c->held[CN_DIR_OUTBOUND] : 0);
	dmn_st_int(it, "subscriptions_in_pending", c ?
		   c->reserved[CN_DIR_INBOUND] : 0);
	dmn_st_int(it, "subscriptions_out_pending", c ?
		   c->reserved[CN_DIR_OUTBOUND] : 0);
	dmn_st_int(it, "subscriptions_in_limited", c ?
		   (int64_t)c->limited[CN_DIR_INBOUND] : 0);
	dmn_st_int(it, "subscriptions_out_limited", c ?
		   (int64_t)c->limited[CN_DIR_OUTBOUND] : 0);
	dmn_st_int(it, "subscriptions_expired", c ? (int64_t)c->expired : 0);
}
