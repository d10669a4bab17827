/*
 * sst_dns.c -- the resolver: servers, lookups, coalescing, deadlines,
 * TCP retry of truncated answers, counters.
 *
 * A lookup first asks the cache (sst_dns_cache.c).  A miss joins the
 * query already in flight for the same (name, type) or starts one.  Each
 * query has a deadline; all deadlines have the same duration, so they
 * sit in one FIFO driven by a single libre timer (libre inserts timers
 * in O(pending) otherwise).  Every result -- from the network, the
 * cache, or synthetic for IP literals -- is queued and delivered by one
 * zero-delay timer, so no handler ever runs inside the caller's own call
 * or inside a libre dnsc callback.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <re.h>

#include "sst_dns.h"
#include "sst_dns_int.h"

struct dns_pend {
	struct le he;
	struct le le;           /* dns->pendl */
	struct sst_dns *dns;
	char *name;
	uint16_t type;
	struct dns_query *q;
	struct list reqs;       /* waiting struct sst_dns_req */
	uint64_t deadline;
	bool tcp;
	char *cur;              /* CNAME target asked now, or NULL: name */
	unsigned hops;          /* CNAME re-queries made */
	int64_t chain_ttl;      /* smallest CNAME TTL so far, -1: none */
};

struct pend_key {
	const char *name;
	uint16_t type;
};

uint64_t sst_dns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t sst_dns_key(const char *name, uint16_t type)
{
	return hash_joaat_str_ci(name) ^ type;
}


static void answer_destructor(void *arg)
{
	struct dns_answer *a = arg;
	size_t i;

	for (i = 0; i < a->pub.recc; i++) {
		struct sst_dns_rec *r = &a->pub.recv[i];

		mem_deref(r->srv.target);
		mem_deref(r->naptr.flags);
		mem_deref(r->naptr.services);
		mem_deref(r->naptr.regexp);
		mem_deref(r->naptr.replace);
	}
	mem_deref(a->pub.recv);
	mem_deref(a->sav);
}

int sst_dns_answer_alloc(struct sst_dns_answer **ansp, uint16_t type,
			 size_t recc)
{
	struct dns_answer *a;
	size_t i;
	int err = 0;

	a = mem_zalloc(sizeof(*a), answer_destructor);
	if (!a)
		return ENOMEM;

	a->pub.type = type;
	if (recc) {
		a->pub.recv = mem_zalloc(recc * sizeof(*a->pub.recv), NULL);
		a->sav = mem_zalloc(recc * sizeof(*a->sav), NULL);
		if (!a->pub.recv || !a->sav) {
			err = ENOMEM;
			goto out;
		}
		for (i = 0; i < recc; i++)
			a->pub.recv[i].addr = &a->sav[i];
	}

 out:
	if (err)
		mem_deref(a);
	else
		*ansp = &a->pub;

	return err;
}


static void req_destructor(void *arg)
{
	struct sst_dns_req *req = arg;

	list_unlink(&req->le);
	mem_deref(req->ans);
	mem_deref(req->comp);
}

int sst_dns_req_alloc(struct sst_dns_req **reqp, sst_dns_h *h, void *arg)
{
	struct sst_dns_req *req;

	req = mem_zalloc(sizeof(*req), req_destructor);
	if (!req)
		return ENOMEM;

	req->h = h;
	req->arg = arg;
	*reqp = req;
	return 0;
}

static void ready_h(void *arg)
{
	struct sst_dns *dns = arg;
	struct list batch = LIST_INIT;
	struct le *le;

	/* Requests queued by the handlers below wait for the next turn. */
	batch = dns->readyl;
	list_init(&dns->readyl);
	for (le = batch.head; le; le = le->next)
		le->list = &batch;

	mem_ref(dns);
	while ((le = list_head(&batch))) {
		struct sst_dns_req *req = le->data;
		struct sst_dns_answer *ans = req->ans;

		list_unlink(le);
		req->ans = NULL;
		req->h(req->err, ans, req->arg);  /* may mem_deref(req) */
		mem_deref(ans);

		/* The owner dropped the resolver: cancel the rest. */
		if (mem_nrefs(dns) == 1)
			break;
	}
	while ((le = list_head(&batch))) {
		struct sst_dns_req *req = le->data;

		list_unlink(le);
		req->ans = mem_deref(req->ans);
	}
	mem_deref(dns);
}

static void req_ready(struct sst_dns *dns, struct sst_dns_req *req, int err,
		      struct sst_dns_answer *ans)
{
	req->err = err;
	req->ans = mem_ref(ans);
	list_append(&dns->readyl, &req->le, req);
	if (!tmr_isrunning(&dns->tmr_ready))
		tmr_start(&dns->tmr_ready, 0, ready_h, dns);
}


static void pend_destructor(void *arg)
{
	struct dns_pend *p = arg;
	struct le *le;

	hash_unlink(&p->he);
	list_unlink(&p->le);
	mem_deref(p->q);

	/* Orphans: their owners still hold them, the handler never runs. */
	while ((le = list_head(&p->reqs))) {
		struct sst_dns_req *req = le->data;

		list_unlink(le);
		req->pend = NULL;
	}
	mem_deref(p->name);
	mem_deref(p->cur);
}

static bool pend_cmp(struct le *le, void *arg)
{
	const struct dns_pend *p = le->data;
	const struct pend_key *k = arg;

	return p->type == k->type && !str_casecmp(p->name, k->name);
}

/* Hand the result to every waiter and free the query.  Delivery goes
 * through the ready queue, so no handler runs inside a libre dnsc
 * callback (a handler may drop the resolver, and with it the dnsc). */
static void pend_complete(struct dns_pend *p, int err,
			  struct sst_dns_answer *ans)
{
	struct sst_dns *dns = p->dns;
	struct le *le;

	while ((le = list_head(&p->reqs))) {
		struct sst_dns_req *req = le->data;

		list_unlink(le);
		req->pend = NULL;
		req_ready(dns, req, err, ans);
	}
	mem_deref(p);
}

static void deadline_h(void *arg);

static void deadline_arm(struct sst_dns *dns)
{
	struct dns_pend *p;
	uint64_t now;

	if (!dns->pendl.head) {
		tmr_cancel(&dns->tmr_deadline);
		return;
	}

	p = dns->pendl.head->data;
	now = sst_dns_now();
	tmr_start(&dns->tmr_deadline, p->deadline > now ? p->deadline - now : 0,
		  deadline_h, dns);
}

static void deadline_h(void *arg)
{
	struct sst_dns *dns = arg;
	uint64_t now = sst_dns_now();

	while (dns->pendl.head) {
		struct dns_pend *p = dns->pendl.head->data;

		if (p->deadline > now)
			break;

		p->q = mem_deref(p->q);  /* libre would retry for ~71 s */
		dns->st.timeouts++;
		pend_complete(p, ETIMEDOUT, NULL);
	}
	deadline_arm(dns);
}


static uint32_t ttl_clamp(int64_t ttl, uint32_t lo, uint32_t hi)
{
	if (ttl < (int64_t)lo)
		return lo;
	if (ttl > (int64_t)hi)
		return hi;
	return (uint32_t)ttl;
}

/* Records of one type for one name.  libre's dns_rrlist_apply() with
 * recurse follows the CNAME chain inside the section (at most 16 links)
 * and hands the CNAME records over too: they are no answer of the type
 * asked, so only their TTL (the chain lives no longer than its shortest
 * link) and the last target (to ask again when the section ends with a
 * CNAME) are kept. */
struct collect {
	struct dnsrr *rrv[SST_DNS_RR_MAX];
	size_t n;
	int64_t ttl;
	uint16_t type;
	const char *cname;      /* last CNAME target seen, or NULL */
};

static void collect_init(struct collect *c, uint16_t type)
{
	memset(c, 0, sizeof(*c));
	c->ttl = -1;
	c->type = type;
}

static bool collect_h(struct dnsrr *rr, void *arg)
{
	struct collect *c = arg;

	if (rr->type != c->type) {
		if (rr->type == DNS_TYPE_CNAME && rr->rdata.cname.cname) {
			c->cname = rr->rdata.cname.cname;
			if (c->ttl < 0 || rr->ttl < c->ttl)
				c->ttl = rr->ttl;
		}
		return false;
	}

	if (c->n >= SST_DNS_RR_MAX)
		return true;

	c->rrv[c->n++] = rr;
	if (c->ttl < 0 || rr->ttl < c->ttl)
		c->ttl = rr->ttl;
	return false;
}

static int rec_fill(struct sst_dns_rec *r, const struct dnsrr *rr)
{
	int err = 0;

	r->type = rr->type;
	r->ttl = (uint32_t)(rr->ttl < 0 ? 0 :
			    rr->ttl > UINT32_MAX ? UINT32_MAX : rr->ttl);

	switch (rr->type) {

	case DNS_TYPE_A:
		sa_set_in(r->addr, rr->rdata.a.addr, 0);
		break;

	case DNS_TYPE_AAAA:
		sa_set_in6(r->addr, rr->rdata.aaaa.addr, 0);
		break;

	case DNS_TYPE_SRV:
		r->srv.pri = rr->rdata.srv.pri;
		r->srv.weight = rr->rdata.srv.weight;
		r->srv.port = rr->rdata.srv.port;
		err = str_dup(&r->srv.target, rr->rdata.srv.target ?
			      rr->rdata.srv.target : "");
		break;

	case DNS_TYPE_NAPTR:
		r->naptr.order = rr->rdata.naptr.order;
		r->naptr.pref = rr->rdata.naptr.pref;
		err  = str_dup(&r->naptr.flags, rr->rdata.naptr.flags ?
			       rr->rdata.naptr.flags : "");
		err |= str_dup(&r->naptr.services, rr->rdata.naptr.services ?
			       rr->rdata.naptr.services : "");
		err |= str_dup(&r->naptr.regexp, rr->rdata.naptr.regexp ?
			       rr->rdata.naptr.regexp : "");
		err |= str_dup(&r->naptr.replace, rr->rdata.naptr.replace ?
			       rr->rdata.naptr.replace : "");
		break;

	default:
		break;
	}

	if (rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA)
		r->addr = NULL;  /* only addresses have one */

	return err ? ENOMEM : 0;
}

static int answer_build(struct sst_dns_answer **ansp, struct sst_dns *dns,
			const struct collect *c, uint16_t type,
			int64_t chain_ttl)
{
	struct sst_dns_answer *ans;
	size_t i;
	int err;

	err = sst_dns_answer_alloc(&ans, type, c->n);
	if (err)
		return err;

	for (i = 0; i < c->n; i++) {
		err = rec_fill(&ans->recv[i], c->rrv[i]);
		if (err) {
			ans->recc = i + 1;  /* free what was filled */
			mem_deref(ans);
			return err;
		}
	}
	ans->recc = c->n;
	ans->ttl = ttl_clamp(chain_ttl >= 0 && chain_ttl < c->ttl ?
			     chain_ttl : c->ttl,
			     dns->conf.ttl_min, dns->conf.ttl_max);

	*ansp = ans;
	return 0;
}

/* RFC 2308: the negative TTL is the smaller of the SOA's TTL and its
 * MINIMUM field. */
static uint32_t neg_ttl(const struct sst_dns *dns, struct list *authl)
{
	struct le *le;
	int64_t ttl = -1;

	for (le = list_head(authl); le; le = le->next) {
		const struct dnsrr *rr = le->data;

		if (rr->type != DNS_TYPE_SOA)
			continue;
		ttl = min(rr->ttl, (int64_t)rr->rdata.soa.ttlmin);
		break;
	}

	if (ttl < 0)
		ttl = dns->conf.neg_ttl;

	return ttl_clamp(ttl, dns->conf.ttl_min, dns->conf.neg_ttl_max);
}

/* The zone an SRV name speaks for: the name without its leading
 * "_service._proto" labels ("_sip._tcp.acme.com" -> "acme.com"), or
 * NULL when nothing is left. */
static const char *srv_zone(const char *owner)
{
	while (owner && owner[0] == '_') {
		owner = strchr(owner, '.');
		if (owner)
			owner++;
	}
	return owner && owner[0] ? owner : NULL;
}

/* name is zone or below it (case-insensitive, trailing dots ignored). */
static bool in_zone(const char *name, const char *zone)
{
	size_t nl = strlen(name), zl = strlen(zone);

	if (nl && name[nl - 1] == '.')
		nl--;
	if (zl && zone[zl - 1] == '.')
		zl--;
	if (!zl || nl < zl)
		return false;
	if (strncasecmp(name + nl - zl, zone, zl))
		return false;
	return nl == zl || name[nl - zl - 1] == '.';
}

/* SRV answers may carry the targets' A/AAAA records: cache them with
 * their own TTLs, unless the cache already has a live answer.  Only
 * names that are targets of this SRV answer and lie inside the zone
 * the SRV name belongs to are taken (RFC 2181 5.4.1: a server has no
 * authority to give the addresses of another zone's hosts); the others
 * are asked for on their own. */
static void addl_cache(struct sst_dns *dns, const struct sst_dns_answer *srv,
		       const char *owner, struct list *addl)
{
	static const uint16_t types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	const char *zone = srv_zone(owner);
	size_t i, t;

	if (!zone)
		return;

	for (i = 0; i < srv->recc; i++) {
		const char *target = srv->recv[i].srv.target;

		if (!target || !target[0] || !in_zone(target, zone))
			continue;

		for (t = 0; t < ARRAY_SIZE(types); t++) {
			struct collect c;
			struct sst_dns_answer *ans;

			if (sst_dns_cache_fresh(dns, target, types[t]))
				continue;

			collect_init(&c, types[t]);
			dns_rrlist_apply(addl, target, types[t], DNS_CLASS_IN,
					 false, collect_h, &c);
			if (!c.n)
				continue;
			if (answer_build(&ans, dns, &c, types[t], -1))
				continue;
			sst_dns_cache_put(dns, target, types[t], ans);
			mem_deref(ans);
		}
	}
}

static int rcode_err(uint8_t rcode)
{
	switch (rcode) {

	case DNS_RCODE_SRV_FAIL: return EAGAIN;
	case DNS_RCODE_REFUSED:  return ECONNREFUSED;
	default:                 return EPROTO;
	}
}

static void query_h(int err, const struct dnshdr *hdr, struct list *ansl,
		    struct list *authl, struct list *addl, void *arg);

/* Ask for the target of a CNAME the answer ended with, under the same
 * deadline; the result is cached under the name first asked.  EPROTO
 * when the chain is longer than DNS_CNAME_MAX re-queries (or loops), or
 * the target is no valid host name. */
static int name_check(char *out, size_t outsz, const char *name);

static int cname_requery(struct dns_pend *p, const char *target)
{
	char qname[SST_DNS_NAME_MAX + 1];
	struct sst_dns *dns = p->dns;
	char *cur = NULL;
	int err;

	if (p->hops >= DNS_CNAME_MAX)
		return EPROTO;
	/* a peer's name: the same checks as a caller's */
	if (name_check(qname, sizeof(qname), target))
		return EPROTO;

	err = str_dup(&cur, qname);
	if (err)
		return err;

	err = dnsc_query(&p->q, dns->dnsc, cur, p->type, DNS_CLASS_IN, true,
			 query_h, p);
	if (err) {
		mem_deref(cur);
		return err;
	}

	mem_deref(p->cur);
	p->cur = cur;
	p->hops++;
	p->tcp = false;
	dns->st.queries++;
	return 0;
}

static void query_h(int err, const struct dnshdr *hdr, struct list *ansl,
		    struct list *authl, struct list *addl, void *arg)
{
	struct dns_pend *p = arg;
	struct sst_dns *dns = p->dns;
	struct sst_dns_answer *ans = NULL;
	struct collect c;

	/* libre has already set p->q to NULL and frees the query after
	 * this returns. */

	if (!err && hdr && hdr->tc && !p->tcp) {
		int terr;

		terr = dnsc_query_srv(&p->q, dns->dnsc,
				      p->cur ? p->cur : p->name, p->type,
				      DNS_CLASS_IN, IPPROTO_TCP, dns->srvv,
				      &dns->srvc, true, query_h, p);
		if (!terr) {
			p->tcp = true;
			dns->st.trunc_retries++;
			dns->st.queries++;
			return;
		}
		/* else: use what the truncated answer holds */
	}

	if (err) {
		dns->st.errors++;
		pend_complete(p, err, NULL);
		return;
	}

	if (!hdr) {
		dns->st.errors++;
		pend_complete(p, EPROTO, NULL);
		return;
	}

	if (hdr->rcode == DNS_RCODE_NAME_ERR) {
		err = ENOENT;
		goto negative;
	}

	if (hdr->rcode != DNS_RCODE_OK) {
		dns->st.errors++;
		pend_complete(p, rcode_err(hdr->rcode), NULL);
		return;
	}

	collect_init(&c, p->type);
	dns_rrlist_apply(ansl, p->cur ? p->cur : p->name, p->type,
			 DNS_CLASS_IN, true, collect_h, &c);
	if (c.cname && (p->chain_ttl < 0 || c.ttl < p->chain_ttl))
		p->chain_ttl = c.ttl;
	if (!c.n && c.cname) {
		/* The section ends with a CNAME: ask for its target. */
		err = cname_requery(p, c.cname);
		if (!err)
			return;
		dns->st.errors++;
		pend_complete(p, err, NULL);
		return;
	}
	if (!c.n) {
		err = ENODATA;
		goto negative;
	}

	err = answer_build(&ans, dns, &c, p->type, p->chain_ttl);
	if (err) {
		pend_complete(p, err, NULL);
		return;
	}

	sst_dns_cache_put(dns, p->name, p->type, ans);
	if (p->type == DNS_TYPE_SRV)
		addl_cache(dns, ans, c.rrv[0]->name, addl);

	pend_complete(p, 0, ans);
	mem_deref(ans);
	return;

 negative:
	if (!sst_dns_answer_alloc(&ans, p->type, 0)) {
		ans->err = err;
		ans->ttl = neg_ttl(dns, authl);
		sst_dns_cache_put(dns, p->name, p->type, ans);
	}
	pend_complete(p, err, ans);
	mem_deref(ans);
}


/* Presentation name: 1..253 printable characters, labels of 1..63, one
 * optional trailing dot (dropped into out). */
static int name_check(char *out, size_t outsz, const char *name)
{
	size_t len, i, label = 0;

	len = strlen(name);
	if (len && name[len - 1] == '.')
		len--;
	if (!len || len > SST_DNS_NAME_MAX || len >= outsz)
		return EINVAL;

	for (i = 0; i < len; i++) {
		const char ch = name[i];

		if (ch <= ' ' || ch > '~')
			return EINVAL;
		if (ch == '.') {
			if (!label)
				return EINVAL;
			label = 0;
			continue;
		}
		if (++label > 63)
			return EINVAL;
	}

	memcpy(out, name, len);
	out[len] = '\0';
	return 0;
}

/* An IP literal asked as A or AAAA: answered without DNS. */
static int literal_answer(struct sst_dns_answer **ansp, const char *name,
			  uint16_t type)
{
	struct sst_dns_answer *ans;
	struct sa sa;
	int af, err;

	if (sa_set_str(&sa, name, 0))
		return ENOENT;  /* not a literal */

	af = sa_af(&sa);
	if ((af == AF_INET) != (type == DNS_TYPE_A)) {
		err = sst_dns_answer_alloc(&ans, type, 0);
		if (err)
			return err;
		ans->err = ENODATA;
		*ansp = ans;
		return 0;
	}

	err = sst_dns_answer_alloc(&ans, type, 1);
	if (err)
		return err;
	ans->recc = 1;
	ans->recv[0].type = type;
	ans->recv[0].ttl = 0;
	*ans->recv[0].addr = sa;
	*ansp = ans;
	return 0;
}

/**
 * Look up one (name, type).  The handler runs later from the loop, once
 * (unless the request is dropped first), with the answer or an error
 * (see the header).  An IP literal asked as A or AAAA is answered as
 * such without a query.
 *
 * @param reqp  request handle; the caller mem_deref()s it
 * @param dns   resolver
 * @param name  host or service name, trailing dot optional
 * @param type  DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_SRV or DNS_TYPE_NAPTR
 * @param h     handler
 * @param arg   handler argument
 *
 * @return 0, EINVAL (bad arguments or name), ENOMEM, or a dnsc error
 */
int sst_dns_lookup(struct sst_dns_req **reqp, struct sst_dns *dns,
		   const char *name, uint16_t type, sst_dns_h *h, void *arg)
{
	char qname[SST_DNS_NAME_MAX + 1];
	struct sst_dns_req *req = NULL;
	struct sst_dns_answer *ans = NULL;
	struct dns_pend *p;
	struct pend_key k;
	struct le *le;
	int err;

	if (!reqp || !dns || !name || !h)
		return EINVAL;
	if (type != DNS_TYPE_A && type != DNS_TYPE_AAAA &&
	    type != DNS_TYPE_SRV && type != DNS_TYPE_NAPTR)
		return EINVAL;

	err = name_check(qname, sizeof(qname), name);
	if (err)
		return err;

	err = sst_dns_req_alloc(&req, h, arg);
	if (err)
		return err;

	if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
		err = literal_answer(&ans, qname, type);
		if (!err) {
			req_ready(dns, req, ans->err, ans);
			mem_deref(ans);
			goto out;
		}
		if (err != ENOENT)
			goto out;
		err = 0;
	}

	ans = sst_dns_cache_get(dns, qname, type);
	if (ans) {
		if (ans->err)
			dns->st.neg_hits++;
		else
			dns->st.hits++;
		req_ready(dns, req, ans->err, ans);
		goto out;
	}

	dns->st.misses++;

	k.name = qname;
	k.type = type;
	le = hash_lookup(dns->pendh, sst_dns_key(qname, type), pend_cmp, &k);
	if (le) {
		p = le->data;
		dns->st.coalesced++;
		goto join;
	}

	p = mem_zalloc(sizeof(*p), pend_destructor);
	if (!p) {
		err = ENOMEM;
		goto out;
	}
	p->dns = dns;
	p->type = type;
	p->chain_ttl = -1;
	err = str_dup(&p->name, qname);
	if (err) {
		mem_deref(p);
		goto out;
	}

	err = dnsc_query(&p->q, dns->dnsc, qname, type, DNS_CLASS_IN, true,
			 query_h, p);
	if (err) {
		mem_deref(p);
		goto out;
	}
	dns->st.queries++;

	p->deadline = sst_dns_now() + dns->conf.timeout_ms;
	hash_append(dns->pendh, sst_dns_key(qname, type), &p->he, p);
	list_append(&dns->pendl, &p->le, p);
	if (!tmr_isrunning(&dns->tmr_deadline))
		deadline_arm(dns);

 join:
	req->pend = p;
	list_append(&p->reqs, &req->le, req);

 out:
	if (err)
		mem_deref(req);
	else
		*reqp = req;

	return err;
}


/**
 * Parse one server: "ip", "ip:port", "[v6]" or "[v6]:port" (port 53 if
 * none is given).
 *
 * @return 0, EINVAL for anything else
 */
int sst_dns_server_parse(struct sa *sa, const char *str)
{
	char host[64];
	const char *port = NULL, *p;
	size_t len, hlen;
	uint32_t num = 0;
	struct sa tmp;

	if (!sa || !str)
		return EINVAL;

	len = strlen(str);
	if (!len || len >= sizeof(host))
		return EINVAL;

	if (str[0] == '[') {
		p = strchr(str, ']');
		if (!p)
			return EINVAL;
		hlen = (size_t)(p - str) - 1;
		memcpy(host, str + 1, hlen);
		host[hlen] = '\0';
		if (p[1] == ':')
			port = p + 2;
		else if (p[1])
			return EINVAL;
	}
	else {
		p = strchr(str, ':');
		if (p && !strchr(p + 1, ':')) {  /* one colon: v4:port */
			hlen = (size_t)(p - str);
			memcpy(host, str, hlen);
			host[hlen] = '\0';
			port = p + 1;
		}
		else {
			memcpy(host, str, len + 1);  /* bare v4 or v6 */
		}
	}

	if (port) {
		if (!*port || strlen(port) > 5)
			return EINVAL;
		for (p = port; *p; p++) {
			if (*p < '0' || *p > '9')
				return EINVAL;
			num = num * 10 + (uint32_t)(*p - '0');
		}
		if (!num || num > 65535)
			return EINVAL;
	}

	if (sa_set_str(&tmp, host, port ? (uint16_t)num : DNS_PORT))
		return EINVAL;
	if (str[0] == '[' && sa_af(&tmp) != AF_INET6)
		return EINVAL;

	*sa = tmp;
	return 0;
}

static void dns_destructor(void *arg)
{
	struct sst_dns *dns = arg;
	struct le *le;

	tmr_cancel(&dns->tmr_deadline);
	tmr_cancel(&dns->tmr_ready);

	while (dns->pendl.head)
		mem_deref(dns->pendl.head->data);

	while ((le = list_head(&dns->readyl))) {
		struct sst_dns_req *req = le->data;

		list_unlink(le);
		req->ans = mem_deref(req->ans);
	}

	sst_dns_flush(dns);
	sst_dns_down_flush(dns);
	mem_deref(dns->cache);
	mem_deref(dns->pendh);
	mem_deref(dns->downh);
	mem_deref(dns->dnsc);
}

#define DFLT(field, value) \
	do { if (!dns->conf.field) dns->conf.field = (value); } while (0)

/**
 * Create a resolver.
 *
 * @param dnsp  the new resolver, on success
 * @param conf  settings; NULL or zero fields take the defaults, no
 *		servers means the system resolver's
 *
 * @return 0, EINVAL (a server that does not parse, or more than
 *	   SST_DNS_SERVERS_MAX), ENOENT (no system servers), ENOMEM, or a
 *	   socket error
 */
int sst_dns_alloc(struct sst_dns **dnsp, const struct sst_dns_conf *conf)
{
	struct sst_dns *dns;
	size_t i;
	int err;

	if (!dnsp)
		return EINVAL;

	if (conf && conf->serverc > SST_DNS_SERVERS_MAX)
		return EINVAL;

	dns = mem_zalloc(sizeof(*dns), dns_destructor);
	if (!dns)
		return ENOMEM;

	tmr_init(&dns->tmr_deadline);
	tmr_init(&dns->tmr_ready);

	if (conf)
		dns->conf = *conf;
	dns->conf.servers = NULL;
	dns->conf.serverc = 0;
	DFLT(timeout_ms, SST_DNS_TIMEOUT_MS);
	DFLT(ttl_min, SST_DNS_TTL_MIN);
	DFLT(ttl_max, SST_DNS_TTL_MAX);
	DFLT(neg_ttl, SST_DNS_NEG_TTL);
	DFLT(neg_ttl_max, SST_DNS_NEG_TTL_MAX);
	DFLT(cache_max, SST_DNS_CACHE_MAX);
	DFLT(down_ms, SST_DNS_DOWN_MS);
	if (dns->conf.ttl_max < dns->conf.ttl_min)
		dns->conf.ttl_max = dns->conf.ttl_min;
	if (dns->conf.neg_ttl_max < dns->conf.ttl_min)
		dns->conf.neg_ttl_max = dns->conf.ttl_min;

	if (conf && conf->serverc) {
		for (i = 0; i < conf->serverc; i++) {
			err = sst_dns_server_parse(&dns->srvv[i],
						   conf->servers[i]);
			if (err)
				goto out;
		}
		dns->srvc = (uint32_t)conf->serverc;
	}
	else {
		char domain[256];

		dns->srvc = SST_DNS_SERVERS_MAX;
		err = dns_srv_get(domain, sizeof(domain), dns->srvv,
				  &dns->srvc);
		if (err)
			goto out;
		if (!dns->srvc) {
			err = ENOENT;
			goto out;
		}
	}

	err  = hash_alloc(&dns->cache, DNS_CACHE_BUCKETS);
	err |= hash_alloc(&dns->pendh, DNS_PEND_BUCKETS);
	err |= hash_alloc(&dns->downh, DNS_DOWN_BUCKETS);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = dnsc_alloc(&dns->dnsc, NULL, dns->srvv, dns->srvc);

 out:
	if (err)
		mem_deref(dns);
	else
		*dnsp = dns;

	return err;
}

/** Copy the counters. */
void sst_dns_stats(const struct sst_dns *dns, struct sst_dns_stats *st)
{
	if (!dns || !st)
		return;

	*st = dns->st;
	st->entries = dns->entries;
	st->pending = list_count(&dns->pendl);
	st->down = list_count(&dns->downl);
}

/** Status line: "dns: servers=N queries=... entries=..." */
int sst_dns_debug(struct re_printf *pf, const struct sst_dns *dns)
{
	struct sst_dns_stats st;
	uint32_t i;
	int err;

	if (!dns)
		return 0;

	sst_dns_stats(dns, &st);

	err = re_hprintf(pf, "dns: servers=");
	for (i = 0; i < dns->srvc; i++)
		err |= re_hprintf(pf, "%s%J", i ? "," : "", &dns->srvv[i]);

	err |= re_hprintf(pf, " timeout_ms=%u queries=%llu hits=%llu"
			  " neg_hits=%llu misses=%llu coalesced=%llu"
			  " timeouts=%llu trunc_retries=%llu errors=%llu"
			  " evictions=%llu entries=%zu pending=%zu down=%zu\n",
			  dns->conf.timeout_ms,
			  (unsigned long long)st.queries,
			  (unsigned long long)st.hits,
			  (unsigned long long)st.neg_hits,
			  (unsigned long long)st.misses,
			  (unsigned long long)st.coalesced,
			  (unsigned long long)st.timeouts,
			  (unsigned long long)st.trunc_retries,
			  (unsigned long long)st.errors,
			  (unsigned long long)st.evictions,
			  st.entries, st.pending, st.down);

	return err;
}
