/*
 * fuzz_sst_dns.c -- libFuzzer target: every input is a DNS answer, as
 * the resolver (sipstack/sst_dns*.c) and the connector's route and trust
 * building (connector/cn_resolve.c) see it.  A server inside this
 * process, on 127.0.116.60, answers every query the resolver sends with
 * the input: a header whose flags and section counts come from the
 * input's first 8 bytes (response bit set, opcode 0, never truncated),
 * the query's own question, then the rest of the input as the records
 * (a name may point at the question with 0xc00c).  Each input resolves
 * a community by SRV and one by its Proxy name, on a fresh resolver;
 * every hop and every trusted address must have an address family, and
 * every lookup must end within its deadline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "connector/cn_resolve.h"

#define SRV_ADDR "127.0.116.60"
#define SRV_PORT 16360

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct udp_sock *srv;
static const uint8_t *in;
static size_t inlen;
static struct tmr guard;
static bool done, guard_fired;

static char *d_srv[] = {"f.test"};
static char *d_prox[] = {"p.test"};
static const struct cfg_extern ex_srv = {
	"fsrv", {d_srv, NULL, 1}, NULL, 5060, CFG_TP_TLS, 1, 0, 0, 0, 0};
static const struct cfg_extern ex_prox = {
	"fprox", {d_prox, NULL, 1}, "sip.p.test", 5061, CFG_TP_TCP, 2, 0, 0, 0, 0};

/* The end of the question (name, type, class) in a query, or 0. */
static size_t question_end(const uint8_t *p, size_t n)
{
	size_t i = 12;

	while (i < n && p[i]) {
		if (p[i] & 0xc0)
			return 0;
		i += (size_t)p[i] + 1;
	}
	return i + 5 <= n ? i + 5 : 0;
}

static void srv_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	const uint8_t *q = mbuf_buf(mb);
	const size_t qn = mbuf_get_left(mb);
	uint8_t hdr[8] = {0};
	struct mbuf *out;
	size_t qe;
	uint16_t flags;

	(void)arg;
	qe = question_end(q, qn);
	if (!qe)
		abort();  /* the resolver sent a malformed query */

	memcpy(hdr, in, inlen < 8 ? inlen : 8);
	flags = (uint16_t)((hdr[0] << 8) | hdr[1]);
	flags = (uint16_t)((flags | 0x8000) & ~0x7800 & ~0x0200);

	out = mbuf_alloc(qe + inlen + 16);
	if (!out)
		return;
	(void)mbuf_write_mem(out, q, 2);                 /* id */
	(void)mbuf_write_u16(out, htons(flags));
	(void)mbuf_write_u16(out, htons(1));             /* question */
	(void)mbuf_write_mem(out, hdr + 2, 6);           /* an, ns, ar */
	(void)mbuf_write_mem(out, q + 12, qe - 12);
	if (inlen > 8)
		(void)mbuf_write_mem(out, in + 8, inlen - 8);
	out->pos = 0;
	(void)udp_send(srv, src, out);
	mem_deref(out);
}

static void guard_h(void *arg)
{
	(void)arg;
	guard_fired = true;
	re_cancel();
}

static void check_route(const struct cn_route *rt)
{
	size_t i;

	if (!rt)
		return;
	if (rt->hopc > CN_RESOLVE_HOPS_MAX || rt->trustc > CN_RESOLVE_TRUST_MAX)
		abort();
	if (!rt->err && !rt->hopc)
		abort();  /* success means at least one hop */
	for (i = 0; i < rt->hopc; i++) {
		const int af = rt->hopv[i].addr.ss_family;

		if (af != AF_INET && af != AF_INET6)
			abort();
		if (!rt->hopv[i].port)
			abort();
	}
	for (i = 0; i < rt->trustc; i++) {
		const int af = rt->trustv[i].ss_family;

		if (af != AF_INET && af != AF_INET6)
			abort();
	}
}

static void route_h(int err, const struct cn_route *rt, void *arg)
{
	(void)arg;
	if (rt && err != rt->err)
		abort();
	check_route(rt);
	done = true;
	re_cancel();
}

static void resolve(struct cn_resolve *res, const struct cfg_extern *ex,
		    const char *domain)
{
	struct cn_resolve_req *req = NULL;
	struct cn_addrset set;

	done = false;
	guard_fired = false;
	if (cn_resolve_lookup(&req, res, ex, domain, route_h, NULL))
		return;
	/* every lookup has a 20 ms deadline; a few run one after another */
	tmr_start(&guard, 5000, guard_h, NULL);
	while (!done && !guard_fired)
		re_main(NULL);
	tmr_cancel(&guard);
	if (!done)
		abort();  /* a lookup outlived every deadline */
	mem_deref(req);

	if (!cn_resolve_trust(res, ex, domain, &set)) {
		size_t i;

		for (i = 0; i < set.n; i++) {
			if (set.v[i].ss_family != AF_INET &&
			    set.v[i].ss_family != AF_INET6)
				abort();
		}
	}
}

static void srvset_h(int err, const struct sst_dns_srvset *set, void *arg)
{
	size_t i, k;

	(void)arg;
	if (!err && (!set || !set->tgtc || set->tgtc > SST_DNS_TARGETS_MAX))
		abort();
	for (i = 0; !err && i < set->tgtc; i++) {
		const struct sst_dns_target *t = &set->tgtv[i];

		if (!t->name[0] || (t->addrc && !t->addrv))
			abort();
		for (k = 0; k < t->addrc; k++) {
			if (sa_af(&t->addrv[k]) != AF_INET &&
			    sa_af(&t->addrv[k]) != AF_INET6)
				abort();
		}
	}
	done = true;
	re_cancel();
}

/* The resolver's own SRV composite (targets with their addresses). */
static void srv_lookup(struct sst_dns *dns)
{
	struct sst_dns_req *req = NULL;

	done = false;
	guard_fired = false;
	if (sst_dns_srv(&req, dns, "_sip._tcp.s.test", srvset_h, NULL))
		return;
	tmr_start(&guard, 5000, guard_h, NULL);
	while (!done && !guard_fired)
		re_main(NULL);
	tmr_cancel(&guard);
	if (!done)
		abort();
	mem_deref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const servers[] = {SRV_ADDR ":16360"};
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;
	struct cn_resolve *res = NULL;

	if (!srv) {
		struct sa local;

		if (libre_init() || sa_set_str(&local, SRV_ADDR, SRV_PORT) ||
		    udp_listen(&srv, &local, srv_recv, NULL))
			abort();
		tmr_init(&guard);
	}

	in = data;
	inlen = size;

	memset(&conf, 0, sizeof(conf));
	conf.servers = servers;
	conf.serverc = 1;
	conf.timeout_ms = 20;
	if (sst_dns_alloc(&dns, &conf))
		abort();
	if (cn_resolve_alloc(&res, dns))
		abort();

	resolve(res, &ex_srv, "f.test");
	resolve(res, &ex_prox, "p.test");
	srv_lookup(dns);

	mem_deref(res);
	mem_deref(dns);
	return 0;
}
