/*
 * gw_shared.c -- what the other gateways of the community hold, when
 * they share a PostgreSQL store (CommunityGateway stateStore).
 *
 * The store's feed (sto_follow) hands the loop, for each AOR another
 * gateway changed, that AOR's bindings and publications at the other
 * gateways.  They are kept here, apart from the gateway's own tables
 * (which stay the truth for its own clients), and used for presence:
 * a user not registered here but registered at another gateway has the
 * state published there (the newest publication of all gateways, by
 * the store's order of writes), or "online" without one.  Each change
 * is pushed to this gateway's watchers of the AOR at once (through
 * gw->obs.changed, gateway/gw_obs.h: gw_pres_changed), so a watcher
 * here sees a change made there as soon as PostgreSQL delivers the
 * notification.
 *
 * A MESSAGE for a user not registered here but registered at another
 * gateway is sent to that gateway (the row's node; its first UDP
 * ClientListen in the community file), which delivers it to its
 * client without challenging it: the request comes from a gateway
 * sharing our store, which authenticated the sender.  Its answer is
 * relayed; no answer is 503 Retry-After.  A MESSAGE that came from a
 * peer is never forwarded again.
 *
 * When another gateway dies its sessions with PostgreSQL end and the
 * lock it held is granted to our watch (store/sto_pg.c): its rows are
 * left out from then on, so its users are offline here (the truth: its
 * clients cannot be reached until they register again, here or
 * elsewhere) and watchers are told at once.
 *
 * When the feed reconnects (after PostgreSQL was away) everything is
 * sent again: what is known stays until then, what was not sent again
 * is dropped at the end, and every AOR changed or dropped is pushed to
 * its watchers, so they catch up without seeing a user go offline and
 * come back in between.  While the feed
 * is down, what was known stays (the others' users do not all go
 * offline because this gateway lost its view); status says degraded.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_trans.h"
#include "store/sto.h"
#include "gateway/gw.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_out.h"
#include "gateway/gw_req.h"
#include "gateway/gw_shared.h"

enum { GW_REMOTE_BUCKETS = 1024 };

struct gw_rem {
	struct le he;
	char *aor;
	int64_t reg_expires;      /* the latest binding, wall clock */
	char node[64];            /* which gateway holds that binding */
	bool has_pub;
	int status;               /* the newest live publication */
	char note[GW_TEXT_MAX];
	int64_t pub_expires;
	bool stale;               /* not sent again yet in a resync */
};

static void rem_destructor(void *arg)
{
	struct gw_rem *r = arg;

	hash_unlink(&r->he);
	r->aor = mem_deref(r->aor);
}

static bool rem_cmp(struct le *le, void *arg)
{
	const struct gw_rem *r = le->data;

	return !strcmp(r->aor, arg);
}

static struct gw_rem *rem_find(const struct gw *gw, const char *aor)
{
	struct le *le;

	if (!gw->remote)
		return NULL;
	le = hash_lookup(gw->remote, hash_joaat_str(aor), rem_cmp,
			 (void *)aor);
	return le ? le->data : NULL;
}

static const struct gw_rem *rem_live(const struct gw *gw, const char *aor)
{
	const struct gw_rem *r = rem_find(gw, aor);

	if (!r || r->reg_expires <= (int64_t)time(NULL))
		return NULL;
	return r;
}

enum sst_status gw_shared_status(const struct gw *gw, const char *aor,
				const char **notep)
{
	const struct gw_rem *r = rem_live(gw, aor);

	if (notep)
		*notep = NULL;
	if (!r)
		return SST_ST_OFFLINE;
	if (!r->has_pub || r->pub_expires <= (int64_t)time(NULL))
		return SST_ST_ACTIVE;
	if (notep && r->note[0])
		*notep = r->note;
	return (enum sst_status)r->status;
}

const char *gw_shared_node(const struct gw *gw, const char *aor)
{
	const struct gw_rem *r = rem_live(gw, aor);

	return r ? r->node : NULL;
}

unsigned gw_shared_count(const struct gw *gw)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; gw->remote && i < hash_bsize(gw->remote); i++)
		n += list_count(hash_list(gw->remote, i));
	return n;
}

/* A resync begins: everything known is stale until sent again. */
static void rem_mark(struct gw *gw)
{
	struct le *le;
	uint32_t i;

	for (i = 0; i < hash_bsize(gw->remote); i++)
		for (le = list_head(hash_list(gw->remote, i)); le;
		     le = le->next)
			((struct gw_rem *)le->data)->stale = true;
}

/* A resync ended: what was not sent again is gone at the others; tell
 * the watchers of each AOR dropped. */
static void rem_sweep(struct gw *gw)
{
	struct list aors = LIST_INIT;
	struct le *le;
	uint32_t i;

	for (i = 0; i < hash_bsize(gw->remote); i++) {
		le = list_head(hash_list(gw->remote, i));
		while (le) {
			struct gw_rem *r = le->data;

			le = le->next;
			if (!r->stale)
				continue;
			hash_unlink(&r->he);
			list_append(&aors, &r->he, r);
		}
	}
	while ((le = list_head(&aors))) {
		struct gw_rem *r = le->data;
		char *aor = mem_ref(r->aor);

		list_unlink(&r->he);
		mem_deref(r);
		gw_obs_changed(&gw->obs, gw, aor);
		mem_deref(aor);
	}
}

static void on_remote(const struct sto_remote *sr, void *arg)
{
	struct gw *gw = arg;
	struct gw_rem *r;
	uint64_t best = 0;
	size_t i;

	if (!gw->remote)
		return;
	if (!sr->aor && sr->node) {
		if (sr->node_up)
			dmn_log_info("gw: store gateway-back node=%s",
				     sr->node);
		else
			dmn_log_warnx("gw: store gateway-gone node=%s "
				      "its-users=offline-here", sr->node);
		return;
	}
	if (!sr->aor) {
		if (sr->synced)
			rem_sweep(gw);
		else
			rem_mark(gw);
		return;
	}
	mem_deref(rem_find(gw, sr->aor));
	r = mem_zalloc(sizeof(*r), rem_destructor);
	if (!r || str_dup(&r->aor, sr->aor)) {
		mem_deref(r);
		gw_obs_changed(&gw->obs, gw, sr->aor);
		return;
	}
	for (i = 0; i < sr->nb; i++) {
		if (sr->bv[i].expires > r->reg_expires) {
			r->reg_expires = sr->bv[i].expires;
			str_ncpy(r->node, sr->bnode[i] ? sr->bnode[i] : "",
				 sizeof(r->node));
		}
	}
	for (i = 0; i < sr->np; i++) {
		const struct sto_pub *p = &sr->pv[i];

		if (p->expires <= (int64_t)time(NULL) ||
		    (r->has_pub && p->seq < best))
			continue;
		best = p->seq;
		r->has_pub = true;
		r->status = p->status;
		r->pub_expires = p->expires;
		str_ncpy(r->note, p->note ? p->note : "", sizeof(r->note));
	}
	if (sr->nb || sr->np)
		hash_append(gw->remote, hash_joaat_str(r->aor), &r->he, r);
	else
		r = mem_deref(r);
	gw_obs_changed(&gw->obs, gw, sr->aor);
}

static void on_feed(bool up, const char *msg, void *arg)
{
	struct gw *gw = arg;
	struct sto_stats ss;

	sto_stats_get(gw->store, &ss);
	if (up)
		dmn_log_info("gw: store feed-up resync=%llu",
			     (unsigned long long)ss.feed_resyncs);
	else
		dmn_log_warnx("gw: store feed-down error=%s "
			      "others=kept retry-ms=%u", msg,
			      (unsigned)STO_RETRY_MS);
}

int gw_shared_start(struct gw *gw)
{
	int err;

	if (!gw || !gw->store || sto_kind(gw->store) != STO_PGSQL)
		return 0;
	err = hash_alloc(&gw->remote, GW_REMOTE_BUCKETS);
	if (err)
		return err;
	return sto_follow(gw->store, on_remote, on_feed, gw);
}

void gw_shared_close(struct gw *gw)
{
	if (!gw || !gw->remote)
		return;
	hash_flush(gw->remote);
	gw->remote = mem_deref(gw->remote);
}

/* ---- requests for users whose client is at another gateway ---- */

/* The other gateway named node, sharing our store: its first UDP
 * ClientListen. */
static const struct cfg_listen *peer_udp(const struct gw *gw,
					 const struct cfg_gateway *g)
{
	size_t i;

	if (!g->statestore || !gw->self->statestore ||
	    strcmp(g->statestore, gw->self->statestore) ||
	    !strcmp(g->name, gw->self->name))
		return NULL;
	for (i = 0; i < g->clients.n; i++)
		if (g->clients.v[i].tp == CFG_TP_UDP)
			return &g->clients.v[i];
	return NULL;
}

bool gw_shared_peer(const struct gw *gw, const struct sst_flow *fl)
{
	size_t i;

	if (!gw || !fl || !gw->remote || fl->tp != SST_TP_UDP)
		return false;
	for (i = 0; i < gw->cfg->ngateways; i++) {
		const struct cfg_listen *l = peer_udp(gw, &gw->cfg->gateways[i]);
		struct sa a;

		if (l && !sa_set_str(&a, l->addr, l->port) &&
		    sa_cmp(&a, &fl->src, SA_ALL))
			return true;
	}
	return false;
}

struct gw_fwd {
	struct le le;             /* in gw->forks, for the close */
	struct gw *gw;
	struct gw_req *rq;
	struct sst_ctrans *ct;
	char target[GW_URI_MAX];
	char node[64];
};

static void fwd_destructor(void *arg)
{
	struct gw_fwd *w = arg;

	list_unlink(&w->le);
	if (w->ct)
		sst_ctrans_abandon(w->ct);
	w->rq = mem_deref(w->rq);
}

static void fwd_resp(int err, uint16_t scode, const struct sip_msg *msg,
		     void *arg)
{
	struct gw_fwd *w = arg;
	struct gw *gw = w->gw;

	(void)msg;
	if (!err && scode < 200)
		return;
	w->ct = NULL;
	if (!err && scode < 300) {
		gw->c.msg_delivered++;
		gw_req_answer(w->rq, 200, "OK", NULL);
	}
	else {
		gw->c.msg_failed++;
		/* the other gateway did not answer: temporary */
		gw_req_answer(w->rq, err || scode == 408 ? 503 : scode,
			      err || scode == 408 ? "Service Unavailable" :
			      "Refused at the user's gateway",
			      err || scode == 408 ? "Retry-After: 5\r\n" :
			      NULL);
	}
	dmn_log_info("gw: message forwarded target=%s node=%s status=%u",
		     w->target, w->node, err ? 0u : (unsigned)scode);
	w->rq = NULL;
	mem_deref(w);
}

bool gw_shared_forward(struct gw_req *rq, const char *target,
		       const char *sender)
{
	struct gw *gw = rq->gw;
	const struct sip_msg *msg = rq->msg;
	const struct sip_hdr *cth = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	const char *node = gw_shared_node(gw, target);
	const struct cfg_listen *l = NULL;
	const struct gw_lsnr *own;
	char from[GW_URI_MAX + 64], to[GW_URI_MAX + 2], ruri[GW_URI_MAX];
	char callid[48], tag[SST_TAG_SIZE], ctype[128], src[GW_ADDR_MAX];
	char dst[GW_ADDR_MAX];
	struct sst_flow *fl = NULL;
	struct gw_out_req out = {0};
	struct gw_out_path path;
	struct gw_fwd *w;
	size_t i;
	int err;

	/* from a peer: it looked already; never back and forth */
	if (!node || gw_shared_peer(gw, rq->fl))
		return false;
	for (i = 0; !l && i < gw->cfg->ngateways; i++)
		if (!strcmp(gw->cfg->gateways[i].name, node))
			l = peer_udp(gw, &gw->cfg->gateways[i]);
	own = gw_lsnr_for(gw, SST_TP_UDP, NULL);
	if (!l || !own)
		return false;
	(void)re_snprintf(src, sizeof(src), "%s:%u", l->addr, l->port);
	(void)re_snprintf(dst, sizeof(dst), "%J", &own->addr);
	if (gw_store_flow(&fl, gw, "udp", src, dst))
		return false;
	w = mem_zalloc(sizeof(*w), fwd_destructor);
	if (!w) {
		mem_deref(fl);
		return false;
	}
	w->gw = gw;
	str_ncpy(w->target, target, sizeof(w->target));
	str_ncpy(w->node, node, sizeof(w->node));
	ctype[0] = '\0';
	if (cth && cth->val.l < sizeof(ctype))
		(void)pl_strcpy(&cth->val, ctype, sizeof(ctype));
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(from, sizeof(from), "<%s>;tag=%s", sender, tag);
	re_snprintf(to, sizeof(to), "<%s>", target);
	str_ncpy(ruri, target, sizeof(ruri));
	re_snprintf(callid, sizeof(callid), "%08x%08x@stgateway",
		    rand_u32(), rand_u32());
	out.method = "MESSAGE";
	out.ruri = ruri;
	out.from = from;
	out.to = to;
	out.callid = callid;
	out.cseq = 1;
	out.ctype = ctype[0] ? ctype : NULL;
	out.body = mbuf_buf(msg->mb);
	out.blen = mbuf_get_left(msg->mb);
	gw_out_flow_path(&path, fl);
	err = gw_send_request(gw, &path, &out, fwd_resp, w, &w->ct);
	mem_deref(fl);
	if (err) {
		mem_deref(w);
		return false;
	}
	w->rq = rq;
	list_append(&gw->forks, &w->le, w);
	gw->c.msg_out++;
	dmn_log_info("gw: message forwarding from=%s target=%s node=%s",
		     sender, target, node);
	return true;
}
