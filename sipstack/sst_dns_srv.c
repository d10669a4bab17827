/*
 * sst_dns_srv.c -- RFC 2782 ordering of SRV targets, and the two
 * composite lookups: a host name to all its addresses (A and AAAA), and
 * an SRV name to ordered (target, port, addresses).
 *
 * Which names to ask for, and in which order (NAPTR, _sips._tcp, ...),
 * is the caller's policy; only the generic RFC 2782 ordering is here.
 */
#include <string.h>

#include <re.h>

#include "sst_dns.h"
#include "sst_dns_int.h"

/**
 * Order SRV targets as RFC 2782 says: ascending priority; inside one
 * priority, repeated weighted random choice (weight 0 entries first in
 * the running sum, so they are rarely chosen while others have weight;
 * all-zero groups are shuffled uniformly).  Targets marked down come
 * after all the others, ordered the same way among themselves.
 * Call it again for every attempt: each call draws anew.
 *
 * @param dns   resolver (for the down marks)
 * @param tgtv  targets
 * @param tgtc  number of targets, at most SST_DNS_TARGETS_MAX
 * @param idxv  out: tgtc indexes into tgtv, in the order to try
 * @param upc   out, optional: how many of idxv are not marked down
 *
 * @return 0, EINVAL, E2BIG
 */
int sst_dns_srv_order(struct sst_dns *dns, const struct sst_dns_target *tgtv,
		      size_t tgtc, size_t *idxv, size_t *upc)
{
	bool used[SST_DNS_TARGETS_MAX];
	bool down[SST_DNS_TARGETS_MAX];
	size_t n = 0, ups = 0, i;
	int pass;

	if (!dns || (!tgtv && tgtc) || !idxv)
		return EINVAL;
	if (tgtc > SST_DNS_TARGETS_MAX)
		return E2BIG;

	for (i = 0; i < tgtc; i++) {
		used[i] = false;
		down[i] = sst_dns_is_down(dns, tgtv[i].name, tgtv[i].port);
	}

	for (pass = 0; pass < 2; pass++) {
		const bool want_down = pass == 1;

		for (;;) {
			size_t grp[SST_DNS_TARGETS_MAX];
			size_t g = 0, k;
			uint32_t pri = UINT32_MAX, sum = 0, r, run = 0;

			for (i = 0; i < tgtc; i++) {
				if (!used[i] && down[i] == want_down &&
				    tgtv[i].pri < pri)
					pri = tgtv[i].pri;
			}
			if (pri == UINT32_MAX)
				break;

			/* weight 0 first, then the others, as listed */
			for (i = 0; i < tgtc; i++) {
				if (!used[i] && down[i] == want_down &&
				    tgtv[i].pri == pri && !tgtv[i].weight)
					grp[g++] = i;
			}
			for (i = 0; i < tgtc; i++) {
				if (!used[i] && down[i] == want_down &&
				    tgtv[i].pri == pri && tgtv[i].weight) {
					grp[g++] = i;
					sum += tgtv[i].weight;
				}
			}

			/* choose one of the group, then draw again */
			while (g) {
				if (!sum) {
					k = rand_u32() % g;
				}
				else {
					r = rand_u32() % (sum + 1);
					run = 0;
					for (k = 0; k < g; k++) {
						run += tgtv[grp[k]].weight;
						if (run >= r)
							break;
					}
					if (k == g)
						k = g - 1;
				}

				idxv[n++] = grp[k];
				used[grp[k]] = true;
				sum -= tgtv[grp[k]].weight;
				memmove(&grp[k], &grp[k + 1],
					(g - k - 1) * sizeof(grp[0]));
				g--;
			}
		}

		if (!want_down)
			ups = n;
	}

	if (upc)
		*upc = ups;

	return 0;
}


/* --- host name to all addresses --- */

struct host_ctx;
typedef void (host_done_h)(struct host_ctx *hc, void *arg);

struct host_ctx {
	struct sst_dns_req *qa;
	struct sst_dns_req *qaaaa;
	struct sst_dns_answer *a4, *a6;   /* held until both are in */
	int erra, erraaaa;
	unsigned left;
	uint16_t port;
	struct sa addrv[SST_DNS_ADDRS_MAX];
	size_t addrc;
	int err;
	host_done_h *doneh;
	void *arg;
};

static void host_destructor(void *arg)
{
	struct host_ctx *hc = arg;

	mem_deref(hc->qa);
	mem_deref(hc->qaaaa);
	mem_deref(hc->a4);
	mem_deref(hc->a6);
}

/* Failures other than "no such name/records" say more. */
static int err_pick(int e1, int e2)
{
	if (e1 && e1 != ENOENT && e1 != ENODATA)
		return e1;
	if (e2 && e2 != ENOENT && e2 != ENODATA)
		return e2;
	if (e1 == ENOENT || e2 == ENOENT)
		return ENOENT;
	return ENODATA;
}

static void host_addrs(struct host_ctx *hc, const struct sst_dns_answer *ans)
{
	size_t i;

	for (i = 0; ans && i < ans->recc; i++) {
		const struct sst_dns_rec *r = &ans->recv[i];

		if (hc->addrc >= SST_DNS_ADDRS_MAX)
			break;
		if ((r->type != DNS_TYPE_A && r->type != DNS_TYPE_AAAA) ||
		    !r->addr || !sa_af(r->addr))
			continue;

		hc->addrv[hc->addrc] = *r->addr;
		sa_set_port(&hc->addrv[hc->addrc], hc->port);
		hc->addrc++;
	}
}

/* Both answers are in: IPv4 addresses first, then IPv6. */
static void host_part_done(struct host_ctx *hc)
{
	if (--hc->left)
		return;

	hc->addrc = 0;
	host_addrs(hc, hc->a4);
	host_addrs(hc, hc->a6);
	hc->err = hc->addrc ? 0 : err_pick(hc->erra, hc->erraaaa);

	hc->doneh(hc, hc->arg);  /* may free hc */
}

static void host_a_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	struct host_ctx *hc = arg;

	hc->erra = err;
	hc->a4 = mem_ref((void *)ans);
	host_part_done(hc);
}

static void host_aaaa_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	struct host_ctx *hc = arg;

	hc->erraaaa = err;
	hc->a6 = mem_ref((void *)ans);
	host_part_done(hc);
}

static int host_start(struct host_ctx **hcp, struct sst_dns *dns,
		      const char *name, uint16_t port, host_done_h *doneh,
		      void *arg)
{
	struct host_ctx *hc;
	int err;

	hc = mem_zalloc(sizeof(*hc), host_destructor);
	if (!hc)
		return ENOMEM;

	hc->port = port;
	hc->doneh = doneh;
	hc->arg = arg;
	hc->left = 2;

	err = sst_dns_lookup(&hc->qa, dns, name, DNS_TYPE_A, host_a_h, hc);
	if (err)
		goto out;
	err = sst_dns_lookup(&hc->qaaaa, dns, name, DNS_TYPE_AAAA,
			     host_aaaa_h, hc);

 out:
	if (err)
		mem_deref(hc);
	else
		*hcp = hc;

	return err;
}

struct host_req {
	struct host_ctx *hc;
	sst_dns_addr_h *h;
	void *arg;
};

static void host_req_destructor(void *arg)
{
	struct host_req *hr = arg;

	mem_deref(hr->hc);
}

static void host_req_done(struct host_ctx *hc, void *arg)
{
	struct host_req *hr = arg;

	hr->h(hc->err, hc->addrc ? hc->addrv : NULL, hc->addrc, hr->arg);
}

/**
 * Resolve a host name to all its addresses: A and AAAA are asked
 * together; IPv4 addresses come first, then IPv6 (at most
 * SST_DNS_ADDRS_MAX, port 0).  An IP literal resolves to itself.  The
 * handler gets err 0 when at least one address was found; otherwise the
 * more telling of the two errors (ETIMEDOUT etc. before ENOENT before
 * ENODATA).  addrv is valid during the handler only.
 *
 * @return 0, EINVAL, ENOMEM
 */
int sst_dns_host(struct sst_dns_req **reqp, struct sst_dns *dns,
		 const char *name, sst_dns_addr_h *h, void *arg)
{
	struct sst_dns_req *req;
	struct host_req *hr;
	int err;

	if (!reqp || !dns || !name || !h)
		return EINVAL;

	err = sst_dns_req_alloc(&req, NULL, NULL);
	if (err)
		return err;

	hr = mem_zalloc(sizeof(*hr), host_req_destructor);
	if (!hr) {
		err = ENOMEM;
		goto out;
	}
	req->comp = hr;
	hr->h = h;
	hr->arg = arg;

	err = host_start(&hr->hc, dns, name, 0, host_req_done, hr);

 out:
	if (err)
		mem_deref(req);
	else
		*reqp = req;

	return err;
}


/* --- SRV name to ordered targets with addresses --- */

struct srv_ctx {
	struct sst_dns *dns;
	struct sst_dns_req *qsrv;
	struct host_ctx *hostv[SST_DNS_TARGETS_MAX];
	struct sst_dns_target tgtv[SST_DNS_TARGETS_MAX];
	struct sst_dns_target ordv[SST_DNS_TARGETS_MAX];
	size_t tgtc;
	size_t left;
	sst_dns_srv_h *h;
	void *arg;
};

static void srv_destructor(void *arg)
{
	struct srv_ctx *sc = arg;
	size_t i;

	mem_deref(sc->qsrv);
	for (i = 0; i < SST_DNS_TARGETS_MAX; i++) {
		mem_deref(sc->hostv[i]);
		mem_deref(sc->tgtv[i].addrv);
	}
}

static void srv_deliver(struct srv_ctx *sc)
{
	size_t idxv[SST_DNS_TARGETS_MAX];
	struct sst_dns_srvset set;
	size_t i;

	if (sst_dns_srv_order(sc->dns, sc->tgtv, sc->tgtc, idxv, NULL)) {
		sc->h(EINVAL, NULL, sc->arg);
		return;
	}

	for (i = 0; i < sc->tgtc; i++)
		sc->ordv[i] = sc->tgtv[idxv[i]];

	set.tgtc = sc->tgtc;
	set.tgtv = sc->ordv;
	sc->h(0, &set, sc->arg);  /* may free sc */
}

static void srv_host_done(struct host_ctx *hc, void *arg)
{
	struct srv_ctx *sc = arg;
	size_t i;

	for (i = 0; i < sc->tgtc; i++) {
		struct sst_dns_target *t = &sc->tgtv[i];

		if (sc->hostv[i] != hc)
			continue;

		t->err = hc->err;
		if (hc->addrc) {
			t->addrv = mem_alloc(hc->addrc * sizeof(*t->addrv),
					     NULL);
			if (t->addrv) {
				memcpy(t->addrv, hc->addrv,
				       hc->addrc * sizeof(*t->addrv));
				t->addrc = hc->addrc;
			}
			else {
				t->err = ENOMEM;
			}
		}
		break;
	}

	if (--sc->left)
		return;

	srv_deliver(sc);
}

static void srv_answer_h(int err, const struct sst_dns_answer *ans,
			 void *arg)
{
	struct srv_ctx *sc = arg;
	size_t i, n = 0;

	if (err || !ans) {
		sc->h(err ? err : EPROTO, NULL, sc->arg);
		return;
	}

	/* RFC 2782: a lone "." target: the service is decidedly not
	 * available at this domain. */
	if (ans->recc == 1 && ans->recv[0].type == DNS_TYPE_SRV &&
	    (!ans->recv[0].srv.target || !ans->recv[0].srv.target[0] ||
	     !strcmp(ans->recv[0].srv.target, "."))) {
		sc->h(ECONNREFUSED, NULL, sc->arg);
		return;
	}

	for (i = 0; i < ans->recc && n < SST_DNS_TARGETS_MAX; i++) {
		const struct sst_dns_rec *r = &ans->recv[i];
		struct sst_dns_target *t = &sc->tgtv[n];

		if (r->type != DNS_TYPE_SRV || !r->srv.target ||
		    !r->srv.target[0] || !r->srv.port ||
		    strlen(r->srv.target) > SST_DNS_NAME_MAX)
			continue;

		str_ncpy(t->name, r->srv.target, sizeof(t->name));
		t->pri = r->srv.pri;
		t->weight = r->srv.weight;
		t->port = r->srv.port;
		n++;
	}

	if (!n) {
		sc->h(ENODATA, NULL, sc->arg);
		return;
	}

	sc->tgtc = n;
	sc->left = n + 1;  /* +1: no delivery while still starting */
	for (i = 0; i < n; i++) {
		err = host_start(&sc->hostv[i], sc->dns, sc->tgtv[i].name,
				 sc->tgtv[i].port, srv_host_done, sc);
		if (err) {
			sc->tgtv[i].err = err;
			--sc->left;
		}
	}

	/* Every host lookup answers later, from the loop. */
	if (--sc->left)
		return;

	srv_deliver(sc);
}

/**
 * Resolve an SRV name to its targets, each with its port and all its
 * addresses (the SRV answer's additional records are used through the
 * cache), in one RFC 2782 order.  Targets whose addresses could not be
 * found are included with addrc 0 and their error; records with port 0
 * (nothing can be reached there) are left out.  The set is valid
 * during the handler only; call sst_dns_srv_order() on set->tgtv for a
 * fresh order on later attempts.
 *
 * Handler errors: those of sst_dns_lookup(), and ECONNREFUSED when the
 * domain publishes the "." target (no such service here).
 *
 * @return 0, EINVAL, ENOMEM
 */
int sst_dns_srv(struct sst_dns_req **reqp, struct sst_dns *dns,
		const char *name, sst_dns_srv_h *h, void *arg)
{
	struct sst_dns_req *req;
	struct srv_ctx *sc;
	int err;

	if (!reqp || !dns || !name || !h)
		return EINVAL;

	err = sst_dns_req_alloc(&req, NULL, NULL);
	if (err)
		return err;

	sc = mem_zalloc(sizeof(*sc), srv_destructor);
	if (!sc) {
		err = ENOMEM;
		goto out;
	}
	req->comp = sc;
	sc->dns = dns;
	sc->h = h;
	sc->arg = arg;

	err = sst_dns_lookup(&sc->qsrv, dns, name, DNS_TYPE_SRV,
			     srv_answer_h, sc);

 out:
	if (err)
		mem_deref(req);
	else
		*reqp = req;

	return err;
}
