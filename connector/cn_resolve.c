/*
 * cn_resolve.c -- next hops and trust sets of external communities,
 * from sst_dns answers.  The order and the rules are in cn_resolve.h.
 *
 * One entry per (community, domain) holds the latest route and, while
 * one runs, the job resolving it.  A job asks sst_dns for single (name,
 * type) lookups rather than its composites, because a route needs the
 * TTL of every answer it is made of; sst_dns coalesces and caches them
 * all the same.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "connector/cn_resolve.h"

enum {
	SRV_NAMES   = 3,
	JOB_LOOKUPS = 2 + SRV_NAMES + SRV_NAMES * CN_RESOLVE_TARGETS_MAX * 2,
	ROUTE_TGTS  = CN_RESOLVE_TARGETS_MAX,
};

static const struct {
	const char *prefix;
	enum cfg_transport tp;
} srv_names[SRV_NAMES] = {
	{"_sips._tcp.", CFG_TP_TLS},
	{"_sip._tcp.",  CFG_TP_TCP},
	{"_sip._udp.",  CFG_TP_UDP},
}, xmpp_srv_names[SRV_NAMES] = {
	/* RFC 6120 3.2.1: server-to-server, TCP with STARTTLS */
	{"_xmpp-server._tcp.", CFG_TP_TCP},
	{NULL, CFG_TP_TCP},
	{NULL, CFG_TP_TCP},
};

/* What one lookup of a job is for. */
enum lk_role {
	LK_PROXY,        /* A/AAAA of the Proxy name */
	LK_SRV,          /* SRV name srv */
	LK_TARGET,       /* A/AAAA of target tgt of SRV name srv */
	LK_HOST,         /* A/AAAA of the domain */
};

struct job;

struct lookup {
	struct job *job;
	struct sst_dns_req *req;
	struct sst_dns_answer *ans;
	int err;
	enum lk_role role;
	uint16_t type;
	unsigned srv, tgt;
};

struct entry;

struct job {
	struct entry *ent;         /* not a reference: it owns the job */
	struct lookup lkv[JOB_LOOKUPS];
	size_t lkc;
	size_t left;               /* lookups not answered yet */
	bool host_stage;
};

struct entry {
	struct le le;              /* in res->entries, oldest first */
	struct cn_resolve *res;
	char *community;
	char *proxy;               /* or NULL */
	char *domain;              /* NULL for a Proxy community */
	uint16_t port;
	enum cfg_transport tp;
	bool xmpp;                 /* an XMPP community: _xmpp-server._tcp */
	struct cn_route *route;    /* latest, may be stale */
	int last_err;
	uint64_t stale_since;      /* ms: route served stale since, or 0 */
	uint64_t stale_retry;      /* ms: no refresh before this */
	struct job *job;           /* running, or NULL */
	struct list waiters;       /* struct cn_resolve_req */
};

/* The SRV name s of the entry's protocol; NULL prefix: none. */
#define SRVN(ent, s) ((ent)->xmpp ? xmpp_srv_names[s] : srv_names[s])

struct cn_resolve {
	struct sst_dns *dns;
	struct list entries;
	size_t nentries;
	struct list readyl;        /* requests answered from a fresh route */
	struct tmr tmr_ready;
	uint64_t stale_ms;         /* serve-stale bound, 0: never */
};

struct cn_resolve_req {
	struct le le;              /* in ent->waiters or res->readyl */
	struct entry *ent;         /* referenced */
	cn_resolve_h *h;
	void *arg;
};

/* A route as allocated: the public part first. */
struct route_priv {
	struct cn_route pub;
	struct sst_dns_target tgtv[ROUTE_TGTS];  /* SRV routes, no addrv */
	size_t tgtc;
	size_t hop_tgt[CN_RESOLVE_HOPS_MAX];     /* index into tgtv */
};


uint64_t cn_resolve_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *cn_route_src_name(enum cn_route_src src)
{
	switch (src) {
	case CN_SRC_PROXY: return "proxy";
	case CN_SRC_SRV:   return "srv";
	case CN_SRC_HOST:  return "a/aaaa";
	default:           return "none";
	}
}


/* --- routes --- */

static void route_destructor(void *arg)
{
	struct cn_route *rt = arg;

	mem_deref(rt->hopv);
	mem_deref(rt->trustv);
}

static void sa_to_ss(struct sockaddr_storage *ss, const struct sa *sa)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sa->u, min((size_t)sa->len, sizeof(*ss)));
}

static void trust_add(struct cn_route *rt, const struct sa *addr)
{
	struct sockaddr_storage ss;
	struct sa a = *addr;
	size_t i;

	if (rt->trustc >= CN_RESOLVE_TRUST_MAX)
		return;
	sa_set_port(&a, 0);
	sa_to_ss(&ss, &a);
	for (i = 0; i < rt->trustc; i++) {
		if (cn_addr_equal((struct sockaddr *)&rt->trustv[i],
				  (struct sockaddr *)&ss))
			return;
	}
	rt->trustv[rt->trustc++] = ss;
}

/* TTL an answer gives a route, in ms; literals (TTL 0) last long. */
static uint64_t ans_ms(const struct sst_dns_answer *ans)
{
	uint32_t ttl = ans ? ans->ttl : 0;

	if (ans && !ttl)
		ttl = SST_DNS_TTL_MAX;
	return (uint64_t)ttl * 1000;
}

static void hop_add(struct route_priv *rp, const struct sst_dns_answer *ans,
		    const char *target, uint16_t port, enum cfg_transport tp,
		    const char *tls_name, uint64_t expires, size_t tgt,
		    uint16_t pri, uint16_t weight, bool down)
{
	struct cn_route *rt = &rp->pub;
	size_t i;

	/* a hop lives as long as the answer that gave its address */
	if (ans && rt->made + ans_ms(ans) < expires)
		expires = rt->made + ans_ms(ans);

	for (i = 0; ans && i < ans->recc; i++) {
		const struct sst_dns_rec *r = &ans->recv[i];
		struct cn_hop *hop;
		struct sa a;

		if (!r->addr || !sa_af(r->addr))
			continue;  /* never a hop or trust without address */
		trust_add(rt, r->addr);
		if (rt->hopc >= CN_RESOLVE_HOPS_MAX)
			continue;

		hop = &rt->hopv[rt->hopc];
		a = *r->addr;
		sa_set_port(&a, port);
		sa_to_ss(&hop->addr, &a);
		hop->tp = tp;
		hop->port = port;
		str_ncpy(hop->target, target, sizeof(hop->target));
		str_ncpy(hop->tls_name, tls_name, sizeof(hop->tls_name));
		hop->pri = pri;
		hop->weight = weight;
		hop->expires = expires;
		hop->down = down;
		rp->hop_tgt[rt->hopc] = tgt;
		rt->hopc++;
	}
}

/* Failures other than "no such name/records" say more. */
static int err_pick(int cur, int e)
{
	if (!cur)
		return e;
	if (cur == ENOENT || cur == ENODATA)
		return (e && e != ENOENT && e != ENODATA) ? e : cur;
	return cur;
}

static const struct lookup *find_lk(const struct job *job, enum lk_role role,
				    uint16_t type, unsigned srv, unsigned tgt)
{
	size_t i;

	for (i = 0; i < job->lkc; i++) {
		const struct lookup *lk = &job->lkv[i];

		if (lk->role == role && lk->type == type &&
		    (role != LK_SRV && role != LK_TARGET ? true :
		     lk->srv == srv) &&
		    (role != LK_TARGET || lk->tgt == tgt))
			return lk;
	}
	return NULL;
}

/* An SRV answer's usable records: not the "." target, and not port 0,
 * where nothing can be reached. */
static bool srv_usable(const struct sst_dns_rec *r)
{
	return r->type == DNS_TYPE_SRV && r->srv.target &&
		r->srv.target[0] && strcmp(r->srv.target, ".") &&
		r->srv.port;
}

static size_t srv_count(const struct lookup *lk)
{
	size_t i, n = 0;

	if (!lk || lk->err || !lk->ans)
		return 0;
	for (i = 0; i < lk->ans->recc; i++)
		n += srv_usable(&lk->ans->recv[i]);
	return min(n, (size_t)CN_RESOLVE_TARGETS_MAX);
}

/* The n-th usable record of an SRV answer. */
static const struct sst_dns_rec *srv_rec(const struct lookup *lk, size_t n)
{
	size_t i;

	for (i = 0; i < lk->ans->recc; i++) {
		if (!srv_usable(&lk->ans->recv[i]))
			continue;
		if (!n--)
			return &lk->ans->recv[i];
	}
	return NULL;
}

/* Addresses of one host name from its A and AAAA lookups. */
static void host_pair(const struct job *job, enum lk_role role,
		      unsigned srv, unsigned tgt,
		      const struct lookup **l4, const struct lookup **l6)
{
	*l4 = find_lk(job, role, DNS_TYPE_A, srv, tgt);
	*l6 = find_lk(job, role, DNS_TYPE_AAAA, srv, tgt);
}

static void expiry_take(uint64_t *exp, uint64_t now, const struct lookup *lk)
{
	uint64_t e;

	if (!lk)
		return;
	if (lk->ans)
		e = now + ans_ms(lk->ans);
	else
		e = now + (uint64_t)CN_RESOLVE_RETRY_S * 1000;
	if (e < *exp)
		*exp = e;
}

static void build_host(struct route_priv *rp, const struct job *job,
		       enum lk_role role, const char *name, uint16_t port,
		       enum cfg_transport tp, const char *tls_name,
		       uint64_t now)
{
	const struct lookup *l4, *l6;
	uint64_t exp = UINT64_MAX;

	host_pair(job, role, 0, 0, &l4, &l6);
	expiry_take(&exp, now, l4);
	expiry_take(&exp, now, l6);
	if (exp < rp->pub.expires)
		rp->pub.expires = exp;

	hop_add(rp, l4 ? l4->ans : NULL, name, port, tp, tls_name,
		UINT64_MAX, 0, 0, 0, false);
	hop_add(rp, l6 ? l6->ans : NULL, name, port, tp, tls_name,
		UINT64_MAX, 0, 0, 0, false);
	if (!rp->pub.hopc)
		rp->pub.err = err_pick(err_pick(0, l4 ? l4->err : ENOENT),
				       l6 ? l6->err : ENOENT);
}

static void trust_ans(struct cn_route *rt, const struct lookup *lk)
{
	size_t k;

	for (k = 0; lk && lk->ans && k < lk->ans->recc; k++) {
		if (lk->ans->recv[k].addr && sa_af(lk->ans->recv[k].addr))
			trust_add(rt, lk->ans->recv[k].addr);
	}
}

/* The addresses of the SRV names not used for hops, and the expiry of
 * all targets. */
static void trust_others(struct route_priv *rp, const struct job *job,
			 int use, uint64_t now)
{
	struct cn_route *rt = &rp->pub;
	unsigned s;
	size_t t;

	for (s = 0; s < SRV_NAMES; s++) {
		const struct lookup *lk = find_lk(job, LK_SRV, DNS_TYPE_SRV,
						  s, 0);
		const size_t n = srv_count(lk);

		for (t = 0; t < n; t++) {
			const struct lookup *l4, *l6;

			host_pair(job, LK_TARGET, s, (unsigned)t, &l4, &l6);
			expiry_take(&rt->expires, now, l4);
			expiry_take(&rt->expires, now, l6);
			if ((int)s == use)
				continue;  /* came with the hops */
			trust_ans(rt, l4);
			trust_ans(rt, l6);
		}
	}
}

static void build_srv(struct route_priv *rp, const struct job *job,
		      const struct entry *ent, uint64_t now)
{
	struct cn_route *rt = &rp->pub;
	size_t idxv[ROUTE_TGTS];
	int use = -1, err = 0;
	unsigned s;
	size_t i, t;

	for (s = 0; s < SRV_NAMES; s++) {
		const struct lookup *lk = find_lk(job, LK_SRV, DNS_TYPE_SRV,
						  s, 0);

		expiry_take(&rt->expires, now, lk);
		err = err_pick(err, lk ? lk->err : ENOENT);
		if (use < 0 && srv_count(lk))
			use = (int)s;
	}

	if (use < 0) {
		rt->err = err ? err : ENOENT;
		trust_others(rp, job, use, now);
		return;
	}

	{
		const struct lookup *lk = find_lk(job, LK_SRV, DNS_TYPE_SRV,
						  (unsigned)use, 0);
		const uint64_t srv_exp = now + ans_ms(lk->ans);

		rt->src = CN_SRC_SRV;
		re_snprintf(rt->name, sizeof(rt->name), "%s%s",
			    SRVN(ent, use).prefix, ent->domain);
		rp->tgtc = srv_count(lk);
		for (t = 0; t < rp->tgtc; t++) {
			const struct sst_dns_rec *r = srv_rec(lk, t);

			str_ncpy(rp->tgtv[t].name, r->srv.target,
				 sizeof(rp->tgtv[t].name));
			rp->tgtv[t].pri = r->srv.pri;
			rp->tgtv[t].weight = r->srv.weight;
			rp->tgtv[t].port = r->srv.port;
		}

		if (sst_dns_srv_order(ent->res->dns, rp->tgtv, rp->tgtc,
				      idxv, NULL)) {
			rt->err = EINVAL;
			trust_others(rp, job, use, now);
			return;
		}

		err = 0;
		for (i = 0; i < rp->tgtc; i++) {
			const struct sst_dns_target *tg = &rp->tgtv[idxv[i]];
			const struct lookup *l4, *l6;
			const uint64_t exp = srv_exp;
			const bool down = sst_dns_is_down(ent->res->dns,
							  tg->name, tg->port);

			host_pair(job, LK_TARGET, (unsigned)use,
				  (unsigned)idxv[i], &l4, &l6);
			hop_add(rp, l4 ? l4->ans : NULL, tg->name, tg->port,
				SRVN(ent, use).tp, ent->domain, exp, idxv[i],
				tg->pri, tg->weight, down);
			hop_add(rp, l6 ? l6->ans : NULL, tg->name, tg->port,
				SRVN(ent, use).tp, ent->domain, exp, idxv[i],
				tg->pri, tg->weight, down);
			err = err_pick(err, l4 ? l4->err : ENOENT);
			err = err_pick(err, l6 ? l6->err : ENOENT);
		}
		if (!rt->hopc)
			rt->err = err ? err : ENOENT;
	}
	trust_others(rp, job, use, now);
}

static int route_build(struct cn_route **rtp, const struct job *job)
{
	const struct entry *ent = job->ent;
	const uint64_t now = cn_resolve_now();
	struct route_priv *rp;
	struct cn_route *rt;

	rp = mem_zalloc(sizeof(*rp), route_destructor);
	if (!rp)
		return ENOMEM;
	rt = &rp->pub;
	rt->hopv = mem_zalloc(CN_RESOLVE_HOPS_MAX * sizeof(*rt->hopv), NULL);
	rt->trustv = mem_zalloc(CN_RESOLVE_TRUST_MAX * sizeof(*rt->trustv),
				NULL);
	if (!rt->hopv || !rt->trustv) {
		mem_deref(rp);
		return ENOMEM;
	}
	rt->made = now;
	rt->expires = UINT64_MAX;

	if (ent->proxy) {
		rt->src = CN_SRC_PROXY;
		str_ncpy(rt->name, ent->proxy, sizeof(rt->name));
		build_host(rp, job, LK_PROXY, ent->proxy, ent->port, ent->tp,
			   ent->proxy, now);
	}
	else {
		build_srv(rp, job, ent, now);
		if (rt->src != CN_SRC_SRV && job->host_stage) {
			rt->err = 0;
			rt->src = CN_SRC_HOST;
			str_ncpy(rt->name, ent->domain, sizeof(rt->name));
			build_host(rp, job, LK_HOST, ent->domain, ent->port,
				   ent->tp, ent->domain, now);
		}
	}

	if (rt->hopc)
		rt->err = 0;
	else if (!rt->err)
		rt->err = ENOENT;
	if (rt->expires == UINT64_MAX)
		rt->expires = now + (uint64_t)CN_RESOLVE_RETRY_S * 1000;

	*rtp = rt;
	return 0;
}


/* --- jobs --- */

static void job_destructor(void *arg)
{
	struct job *job = arg;
	size_t i;

	for (i = 0; i < job->lkc; i++) {
		mem_deref(job->lkv[i].req);
		mem_deref(job->lkv[i].ans);
	}
}

static void lookup_h(int err, const struct sst_dns_answer *ans, void *arg);

/* Start one lookup; a refusal (bad name, ...) counts as its answer. */
static void job_ask(struct job *job, const char *name, uint16_t type,
		    enum lk_role role, unsigned srv, unsigned tgt)
{
	struct lookup *lk;
	int err;

	if (job->lkc >= JOB_LOOKUPS)
		return;
	lk = &job->lkv[job->lkc++];
	lk->job = job;
	lk->role = role;
	lk->type = type;
	lk->srv = srv;
	lk->tgt = tgt;

	err = sst_dns_lookup(&lk->req, job->ent->res->dns, name, type,
			     lookup_h, lk);
	if (err)
		lk->err = err;
	else
		job->left++;
}

static void entry_complete(struct entry *ent, struct cn_route *rt);

bool cn_resolve_temporary(int err)
{
	return err && err != ENOENT && err != ENODATA && err != EINVAL;
}

/* A lookup answered err and rt with no hop: did it fail for now (the
 * DNS did not answer), not for good (no such name, no server)? */
bool cn_route_temporary(int err, const struct cn_route *rt)
{
	return cn_resolve_temporary(err ? err : rt ? rt->err : ENOMEM);
}

/*
 * RFC 8767: may the route held (expired) keep serving at now after a
 * refresh that failed temporarily?  Within stale_ms of the moment it
 * went stale, and only a route that had something to serve.
 */
bool cn_resolve_stale_usable(const struct cn_route *old, uint64_t since,
			     uint64_t now, uint64_t stale_ms)
{
	if (!old || (!old->hopc && !old->trustc) || !stale_ms)
		return false;
	if (!since)
		since = old->expires;
	return now < since + stale_ms;
}

/* A resolution's outcome becomes the entry's route, unless it failed
 * temporarily and the route held may serve stale: then that one stays,
 * marked stale, and is not refreshed again for CN_RESOLVE_RETRY_S. */
static void entry_take(struct entry *ent, struct cn_route *rt)
{
	const uint64_t now = cn_resolve_now();

	if (!rt->hopc && !rt->trustc && cn_resolve_temporary(rt->err) &&
	    cn_resolve_stale_usable(ent->route, ent->stale_since, now,
				    ent->res->stale_ms)) {
		if (!ent->stale_since)
			ent->stale_since = ent->route->expires;
		ent->stale_retry = now + (uint64_t)CN_RESOLVE_RETRY_S * 1000;
		ent->last_err = rt->err;
		mem_deref(rt);
		return;
	}
	mem_deref(ent->route);
	ent->route = rt;
	ent->last_err = rt->err;
	ent->stale_since = 0;
	ent->stale_retry = 0;
}

static void job_finish(struct job *job)
{
	struct entry *ent = job->ent;
	struct cn_route *rt = NULL;
	int err;

	if (!ent->proxy && !job->host_stage) {
		unsigned s;
		bool any = false;

		for (s = 0; s < SRV_NAMES; s++)
			any |= srv_count(find_lk(job, LK_SRV, DNS_TYPE_SRV,
						 s, 0)) > 0;
		if (!any) {
			job->host_stage = true;
			job_ask(job, ent->domain, DNS_TYPE_A, LK_HOST, 0, 0);
			job_ask(job, ent->domain, DNS_TYPE_AAAA, LK_HOST, 0, 0);
			if (job->left)
				return;
		}
	}

	err = route_build(&rt, job);
	if (err) {
		rt = NULL;
		ent->last_err = err;
	}
	entry_complete(ent, rt);  /* drops the job */
}

static void lookup_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	struct lookup *lk = arg;
	struct job *job = lk->job;

	lk->err = err;
	lk->ans = mem_ref((void *)ans);

	if (lk->role == LK_SRV && !err) {
		const size_t n = srv_count(lk);
		size_t t;

		for (t = 0; t < n; t++) {
			const struct sst_dns_rec *r = srv_rec(lk, t);

			job_ask(job, r->srv.target, DNS_TYPE_A, LK_TARGET,
				lk->srv, (unsigned)t);
			job_ask(job, r->srv.target, DNS_TYPE_AAAA, LK_TARGET,
				lk->srv, (unsigned)t);
		}
	}

	if (--job->left)
		return;

	job_finish(job);
}

static int job_start(struct entry *ent)
{
	char name[CN_RESOLVE_NAME_MAX + 16];
	struct job *job;
	unsigned s;

	job = mem_zalloc(sizeof(*job), job_destructor);
	if (!job)
		return ENOMEM;
	job->ent = ent;
	ent->job = job;

	/* +1: no completion while still starting */
	job->left = 1;
	if (ent->proxy) {
		job_ask(job, ent->proxy, DNS_TYPE_A, LK_PROXY, 0, 0);
		job_ask(job, ent->proxy, DNS_TYPE_AAAA, LK_PROXY, 0, 0);
	}
	else {
		for (s = 0; s < SRV_NAMES; s++) {
			if (!SRVN(ent, s).prefix)
				continue;
			re_snprintf(name, sizeof(name), "%s%s",
				    SRVN(ent, s).prefix, ent->domain);
			job_ask(job, name, DNS_TYPE_SRV, LK_SRV, s, 0);
		}
	}

	if (--job->left == 0) {
		/* every lookup refused at once: complete from the loop
		 * all the same, through the ready timer */
		struct cn_route *rt = NULL;
		int err = route_build(&rt, job);

		ent->job = mem_deref(ent->job);
		if (err)
			return err;
		entry_take(ent, rt);
	}

	return 0;
}


/* --- entries and requests --- */

static void entry_destructor(void *arg)
{
	struct entry *ent = arg;

	if (ent->le.list) {
		list_unlink(&ent->le);
		ent->res->nentries--;
	}
	mem_deref(ent->job);
	mem_deref(ent->route);
	mem_deref(ent->community);
	mem_deref(ent->proxy);
	mem_deref(ent->domain);
}

static void req_destructor(void *arg)
{
	struct cn_resolve_req *req = arg;

	list_unlink(&req->le);
	mem_deref(req->ent);
}

static void entry_complete(struct entry *ent, struct cn_route *rt)
{
	struct list l = LIST_INIT;
	struct cn_resolve *res;
	struct le *le;

	if (rt)
		entry_take(ent, rt);

	/* Handlers may drop their request, others, or the resolver. */
	mem_ref(ent);
	res = mem_ref(ent->res);
	ent->job = mem_deref(ent->job);
	while ((le = list_head(&ent->waiters))) {
		list_unlink(le);
		list_append(&l, le, le->data);
	}
	while ((le = list_head(&l))) {
		struct cn_resolve_req *req = le->data;
		struct cn_route *cur = mem_ref(ent->route);

		list_unlink(le);
		if (cur)
			req->h(cur->err, cur, req->arg);
		else
			req->h(ent->last_err ? ent->last_err : ENOMEM, NULL,
			       req->arg);
		mem_deref(cur);

		/* The owner dropped the resolver: cancel the rest. */
		if (mem_nrefs(res) == 1)
			break;
	}
	while ((le = list_head(&l)))
		list_unlink(le);
	mem_deref(res);
	mem_deref(ent);
}

static void ready_h(void *arg)
{
	struct cn_resolve *res = arg;
	struct list l = LIST_INIT;
	struct le *le;

	while ((le = list_head(&res->readyl))) {
		list_unlink(le);
		list_append(&l, le, le->data);
	}
	mem_ref(res);
	while ((le = list_head(&l))) {
		struct cn_resolve_req *req = le->data;
		struct entry *ent = mem_ref(req->ent);
		struct cn_route *cur = mem_ref(ent->route);

		list_unlink(le);
		req->h(cur ? cur->err : ent->last_err, cur, req->arg);
		mem_deref(cur);
		mem_deref(ent);
		if (mem_nrefs(res) == 1)
			break;
	}
	while ((le = list_head(&l)))
		list_unlink(le);
	mem_deref(res);
}

static bool fresh(const struct entry *ent)
{
	return ent->route && ent->route->expires > cn_resolve_now();
}

/* Served stale: a refresh failed and the route may still be used. */
static bool stale(const struct entry *ent)
{
	return ent->stale_since && !fresh(ent) &&
		cn_resolve_stale_usable(ent->route, ent->stale_since,
					cn_resolve_now(), ent->res->stale_ms);
}

/* A refresh is due: nothing fresh, none running, and when serving
 * stale, the last failure is CN_RESOLVE_RETRY_S old. */
static bool refresh_due(const struct entry *ent)
{
	if (ent->job || fresh(ent))
		return false;
	return !stale(ent) || cn_resolve_now() >= ent->stale_retry;
}

/* The key: a Proxy community ignores the domain. */
static bool entry_is(const struct entry *ent, const struct cfg_extern *ex,
		     const char *domain)
{
	if (ent->port != ex->port || ent->tp != ex->tp ||
	    ent->xmpp != (ex->protocol == CFG_PROTO_XMPP) ||
	    strcmp(ent->community, ex->name))
		return false;
	if (!ent->proxy != !ex->proxy)
		return false;
	if (ex->proxy)
		return !str_casecmp(ent->proxy, ex->proxy);
	return !str_casecmp(ent->domain, domain);
}

static int check_args(const struct cfg_extern *ex, const char *domain)
{
	size_t i;

	if (!ex || !ex->name)
		return EINVAL;
	if (ex->proxy)
		return strlen(ex->proxy) > CN_RESOLVE_NAME_MAX ? EINVAL : 0;
	if (!domain || !domain[0] || strlen(domain) > CN_RESOLVE_NAME_MAX)
		return EINVAL;
	for (i = 0; i < ex->domains.n; i++) {
		if (cfg_domain_match(ex->domains.v[i], domain))
			return 0;
	}
	return EINVAL;  /* not one of this community's domains */
}

static struct entry *entry_find(struct cn_resolve *res,
				const struct cfg_extern *ex,
				const char *domain)
{
	struct le *le;

	LIST_FOREACH(&res->entries, le) {
		struct entry *ent = le->data;

		if (entry_is(ent, ex, domain))
			return ent;
	}
	return NULL;
}

static int entry_get(struct entry **entp, struct cn_resolve *res,
		     const struct cfg_extern *ex, const char *domain)
{
	struct entry *ent;
	struct le *le;
	int err;

	ent = entry_find(res, ex, domain);
	if (ent) {
		list_unlink(&ent->le);
		list_append(&res->entries, &ent->le, ent);
		*entp = ent;
		return 0;
	}

	/* Full: forget the oldest idle entry. */
	for (le = list_head(&res->entries);
	     le && res->nentries >= CN_RESOLVE_ENTRIES_MAX; le = le->next) {
		struct entry *old = le->data;

		if (!old->job && list_isempty(&old->waiters)) {
			mem_deref(old);
			break;
		}
	}
	if (res->nentries >= CN_RESOLVE_ENTRIES_MAX)
		return ENOSPC;

	ent = mem_zalloc(sizeof(*ent), entry_destructor);
	if (!ent)
		return ENOMEM;
	ent->res = res;
	ent->port = ex->port;
	ent->tp = ex->tp;
	ent->xmpp = ex->protocol == CFG_PROTO_XMPP;
	err = str_dup(&ent->community, ex->name);
	if (!err && ex->proxy)
		err = str_dup(&ent->proxy, ex->proxy);
	if (!err && !ex->proxy)
		err = str_dup(&ent->domain, domain);
	if (err) {
		mem_deref(ent);
		return err;
	}
	list_append(&res->entries, &ent->le, ent);
	res->nentries++;
	*entp = ent;
	return 0;
}

static void resolve_destructor(void *arg)
{
	struct cn_resolve *res = arg;
	struct le *le;

	tmr_cancel(&res->tmr_ready);
	/* requests still held by callers keep their entry alive: cut them
	 * loose so that no handler runs */
	while ((le = list_head(&res->readyl)))
		list_unlink(le);
	LIST_FOREACH(&res->entries, le) {
		struct entry *ent = le->data;

		ent->job = mem_deref(ent->job);
		while (list_head(&ent->waiters))
			list_unlink(list_head(&ent->waiters));
	}
	while ((le = list_head(&res->entries))) {
		struct entry *ent = le->data;

		list_unlink(&ent->le);
		res->nentries--;
		mem_deref(ent);
	}
	mem_deref(res->dns);
}

/**
 * Make a resolver on a shared sst_dns (mem_ref'd).
 *
 * @return 0, EINVAL, ENOMEM
 */
int cn_resolve_alloc(struct cn_resolve **resp, struct sst_dns *dns)
{
	struct cn_resolve *res;

	if (!resp || !dns)
		return EINVAL;

	res = mem_zalloc(sizeof(*res), resolve_destructor);
	if (!res)
		return ENOMEM;
	res->dns = mem_ref(dns);
	res->stale_ms = (uint64_t)CFG_DNS_STALE_S * 1000;
	tmr_init(&res->tmr_ready);
	*resp = res;
	return 0;
}

/** How long an expired route may serve while refreshes fail (0: never). */
void cn_resolve_set_stale(struct cn_resolve *res, unsigned seconds)
{
	if (res)
		res->stale_ms = (uint64_t)seconds * 1000;
}

/**
 * When the route of (ex, domain) went stale, if it is served stale now
 * (cn_resolve_now() ms), else 0.
 */
uint64_t cn_resolve_stale_since(struct cn_resolve *res,
				const struct cfg_extern *ex,
				const char *domain)
{
	const struct entry *ent;

	if (!res || check_args(ex, domain))
		return 0;
	ent = entry_find(res, ex, domain);
	return ent && stale(ent) ? ent->stale_since : 0;
}

/**
 * Resolve a community for one concrete domain (ignored with a Proxy),
 * or take its fresh route.  The handler runs later from the loop, once,
 * with the route (also when it failed: route->err) or, without a route,
 * an error such as ENOMEM.
 *
 * @return 0, EINVAL (domain not the community's, bad name), ENOMEM,
 *	   ENOSPC (too many entries busy)
 */
int cn_resolve_lookup(struct cn_resolve_req **reqp, struct cn_resolve *res,
		      const struct cfg_extern *ex, const char *domain,
		      cn_resolve_h *h, void *arg)
{
	struct cn_resolve_req *req;
	struct entry *ent;
	int err;

	if (!reqp || !res || !h)
		return EINVAL;
	err = check_args(ex, domain);
	if (err)
		return err;
	err = entry_get(&ent, res, ex, domain);
	if (err)
		return err;

	req = mem_zalloc(sizeof(*req), req_destructor);
	if (!req)
		return ENOMEM;
	req->ent = mem_ref(ent);
	req->h = h;
	req->arg = arg;

	if (refresh_due(ent)) {
		err = job_start(ent);
		if (err) {
			mem_deref(req);
			return err;
		}
	}

	/* a stale route answers at once while the refresh runs */
	if (ent->job && !stale(ent)) {
		list_append(&ent->waiters, &req->le, req);
	}
	else {
		list_append(&res->readyl, &req->le, req);
		if (!tmr_isrunning(&res->tmr_ready))
			tmr_start(&res->tmr_ready, 0, ready_h, res);
	}

	*reqp = req;
	return 0;
}

/**
 * Start resolving in the background unless a fresh route is held or a
 * resolution runs already.  No handler; the result shows in
 * cn_resolve_trust() and cn_resolve_current().
 *
 * @return 0, EINVAL, ENOMEM, ENOSPC
 */
int cn_resolve_refresh(struct cn_resolve *res, const struct cfg_extern *ex,
		       const char *domain)
{
	struct entry *ent;
	int err;

	if (!res)
		return EINVAL;
	err = check_args(ex, domain);
	if (err)
		return err;
	err = entry_get(&ent, res, ex, domain);
	if (err)
		return err;
	/* asked for (reset COMMUNITY): not held back while stale */
	if (ent->job || fresh(ent))
		return 0;
	return job_start(ent);
}

/**
 * The trust set for an inbound request, synchronously and without any
 * query.  set points into the held route: valid until control returns
 * to the loop (mem_ref the route from cn_resolve_current() to keep it).
 *
 * @return 0 and *set: a fresh route with at least one address;
 *	   EAGAIN: no fresh route (resolve first); the route's error
 *	   (ENOENT, ETIMEDOUT, ...) when the fresh route has no address;
 *	   EINVAL.
 */
int cn_resolve_trust(struct cn_resolve *res, const struct cfg_extern *ex,
		     const char *domain, struct cn_addrset *set)
{
	struct entry *ent;

	if (!res || !set || check_args(ex, domain))
		return EINVAL;
	ent = entry_find(res, ex, domain);
	if (!ent)
		return EAGAIN;
	if (!fresh(ent)) {
		if (!stale(ent))
			return EAGAIN;
		/* serve stale, and try again in the background */
		if (refresh_due(ent))
			(void)job_start(ent);
	}
	if (!ent->route->trustc)
		return ent->route->err ? ent->route->err : ENOENT;

	set->v = ent->route->trustv;
	set->n = ent->route->trustc;
	return 0;
}

/**
 * The latest route of a community, fresh or not (compare
 * route->expires with cn_resolve_now()), or NULL; for status screens.
 * *last_errp, optional: the error of the latest resolution.
 */
const struct cn_route *cn_resolve_current(struct cn_resolve *res,
					  const struct cfg_extern *ex,
					  const char *domain, int *last_errp)
{
	const struct entry *ent;

	if (!res || check_args(ex, domain))
		return NULL;
	ent = entry_find(res, ex, domain);
	if (!ent)
		return NULL;
	if (last_errp)
		*last_errp = ent->last_err;
	return ent->route;
}

/**
 * A fresh order of a route's hops for one attempt: SRV targets drawn
 * again in RFC 2782 order, every target marked down (now) after all the
 * others; the hops of one target stay together, IPv4 first.
 *
 * @param idxv  out: route->hopc indexes into route->hopv
 * @param upc   out, optional: how many of them are not marked down
 *
 * @return 0, EINVAL
 */
int cn_resolve_order(struct cn_resolve *res, const struct cn_route *route,
		     size_t *idxv, size_t *upc)
{
	const struct route_priv *rp = (const struct route_priv *)route;
	size_t n = 0, ups = 0, i, t;

	if (!res || !route || !idxv)
		return EINVAL;

	if (route->src == CN_SRC_SRV) {
		size_t tidx[ROUTE_TGTS], tup = 0;
		int err;

		err = sst_dns_srv_order(res->dns, rp->tgtv, rp->tgtc, tidx,
					&tup);
		if (err)
			return err;
		for (t = 0; t < rp->tgtc; t++) {
			for (i = 0; i < route->hopc; i++) {
				if (rp->hop_tgt[i] == tidx[t])
					idxv[n++] = i;
			}
			if (t + 1 == tup)
				ups = n;
		}
	}
	else {
		int pass;

		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < route->hopc; i++) {
				const struct cn_hop *hop = &route->hopv[i];
				const bool down = sst_dns_is_down(
					res->dns, hop->target, hop->port);

				if (down == (pass == 1))
					idxv[n++] = i;
			}
			if (!pass)
				ups = n;
		}
	}

	if (upc)
		*upc = ups;
	return 0;
}

/**
 * A hop did not answer: mark its target down for ms (0: sst_dns's
 * default) so that later orders try it last.
 */
void cn_resolve_hop_failed(struct cn_resolve *res, const struct cn_hop *hop,
			   unsigned ms)
{
	if (!res || !hop)
		return;
	sst_dns_mark_down(res->dns, hop->target, hop->port, ms);
}

static int print_hop(struct re_printf *pf, const struct cn_hop *hop,
		     uint64_t now)
{
	struct sa sa;

	if (sa_set_sa(&sa, (const struct sockaddr *)&hop->addr))
		return re_hprintf(pf, "      (bad address)\n");
	return re_hprintf(pf, "      %s %J tls-name %s target %s ttl %llus%s\n",
			  cfg_transport_name(hop->tp), &sa, hop->tls_name,
			  hop->target,
			  hop->expires > now ?
			  (unsigned long long)(hop->expires - now) / 1000 :
			  0ULL,
			  hop->down ? " (down)" : "");
}

/** Status: every entry, its hops with remaining TTL, its last error. */
int cn_resolve_debug(struct re_printf *pf, const struct cn_resolve *res)
{
	const uint64_t now = cn_resolve_now();
	struct le *le;
	int err = 0;

	if (!res)
		return 0;

	LIST_FOREACH(&res->entries, le) {
		const struct entry *ent = le->data;
		const struct cn_route *rt = ent->route;
		size_t i;

		err |= re_hprintf(pf, "  %s %s: %s%s%s, last error %s\n",
				  ent->community,
				  ent->proxy ? ent->proxy : ent->domain,
				  rt ? cn_route_src_name(rt->src) : "none",
				  ent->job ? " (resolving)" : "",
				  stale(ent) ? " (stale)" : "",
				  ent->last_err ? strerror(ent->last_err) :
				  "none");
		for (i = 0; rt && i < rt->hopc; i++)
			err |= print_hop(pf, &rt->hopv[i], now);
	}
	return err;
}
