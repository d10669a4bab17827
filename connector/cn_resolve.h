/*
 * cn_resolve.h -- where an external community is reached, and which
 * source addresses speak for it, from DNS on libre's loop.
 *
 * Owns: the resolution order for one ExternCommunity (DESIGN.md,
 *	"Message flow" step 3), the ordered next hops it gives, the trust
 *	set (every address the community's proxy resolves to) that
 *	cn_decide_trust() checks, their expiry, and the per-community
 *	facts a status screen shows (hops, remaining TTL, last error).
 * Not here: DNS itself and its cache (sipstack/sst_dns.h), the accept
 *	rules (cn_policy.h), connections.
 * Memory: struct cn_resolve, struct cn_resolve_req and struct cn_route
 *	are libre mem objects.  A route is immutable once made: the
 *	resolver holds the latest one per (community, domain) and a caller
 *	mem_ref()s it to keep it past the handler or accessor that gave it.
 *	The resolver copies what it needs from a struct cfg_extern, so it
 *	does not depend on the lifetime of the struct cfg.  The caller owns
 *	every request it starts; dropping it before its handler ran cancels
 *	it.  Dropping the resolver cancels every request (their handlers
 *	are not called).  The struct sst_dns is shared (mem_ref'd).
 *
 * Resolution order:
 *  1. The community names a Proxy: that name's A and AAAA, every
 *	address a hop at the community's port and transport, TLS name =
 *	the proxy name.  SRV is not tried on the proxy name: RFC 3263
 *	section 4.2 asks for SRV only when the URI has no port, and a
 *	configured community always has one (5060 by default, which the
 *	file cannot tell from an explicit 5060); an administrator who
 *	wants SRV leaves Proxy out.
 *  2. Else SRV for the concrete domain: _sips._tcp (tls), _sip._tcp
 *	(tcp), _sip._udp (udp).  The hops come from the first of the three
 *	that has targets, in RFC 2782 order (sst_dns_srv_order(); targets
 *	marked down come last and are flagged); the transport is the SRV
 *	name's.  The TLS name to expect is the DOMAIN, not the SRV target:
 *	an SRV answer is not authenticated, so RFC 5922 section 4.1 makes
 *	the certificate prove the domain the request was for.
 *  3. Else (none of the three names has SRV records) the domain's A and
 *	AAAA at the community's port and transport, TLS name the domain.
 *  For a community with only "*." domains the caller passes the
 *  concrete domain of the request; a Proxy community ignores it.
 *
 * Trust set: with a Proxy, its A and AAAA.  Otherwise the addresses of
 * every target of all three SRV names (not only the one used for hops),
 * IPv4 and IPv6, or the domain's own A and AAAA when there is no SRV.
 * Addresses only: cn_decide_trust() compares IPs, not ports.
 *
 * Expiry: a route lives as long as the shortest TTL among the answers it
 * was made of (the clamped TTL sst_dns reports).  A failed resolution is
 * remembered for its negative TTL, or CN_RESOLVE_RETRY_S for a timeout
 * or server failure.  sst_dns reports the TTL an answer arrived with,
 * also for a cache hit, so when the answer was in sst_dns's cache before
 * this resolver asked, the route may outlive the records by up to one
 * TTL.
 *
 * Serve-stale (RFC 8767): when a refresh fails temporarily (timeout,
 * SERVFAIL, refused, no server: cn_resolve_temporary()) and the route
 * held had hops or trust addresses, that route stays and keeps serving
 * for up to the stale bound (cn_resolve_set_stale(), default
 * CFG_DNS_STALE_S) counted from the moment it expired.  While
 * stale, lookups and cn_resolve_trust() answer at once from it and a
 * new refresh is tried at most every CN_RESOLVE_RETRY_S seconds, in the
 * background; the first good answer ends it.  NXDOMAIN and NODATA from
 * a working server are answers, not failures: they replace the route.
 * cn_resolve_stale_since() says whether, and since when, a route is
 * served stale.
 *
 * Hot path: cn_resolve_trust() is synchronous and makes no query; it
 * gives the trust set when a fresh one is held.  When it cannot (EAGAIN)
 * the caller starts cn_resolve_lookup() and decides in its handler, or
 * keeps a route warm with cn_resolve_refresh() ahead of time.  In steady
 * state (routes fresh) no message waits and no query is sent.
 *
 * Delivery: like sst_dns, every handler runs from the loop, never inside
 * the call that started the lookup, even when the route is fresh.
 * Lookups for the same (community, domain) share one resolution.
 */
#ifndef STC_CN_RESOLVE_H
#define STC_CN_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/cfg.h"
#include "connector/cn_policy.h"

struct sst_dns;
struct re_printf;

enum {
	CN_RESOLVE_NAME_MAX    = 253,  /* DNS name, presentation form */
	CN_RESOLVE_TARGETS_MAX = 16,   /* SRV targets kept per SRV name */
	CN_RESOLVE_HOPS_MAX    = 64,   /* hops in one route */
	CN_RESOLVE_TRUST_MAX   = 128,  /* addresses in one trust set */
	CN_RESOLVE_RETRY_S     = 5,    /* s a timeout/SERVFAIL is kept */
	CN_RESOLVE_ENTRIES_MAX = 4096, /* (community, domain) remembered */
};

/* Where a route's hops came from. */
enum cn_route_src {
	CN_SRC_NONE = 0,     /* nothing resolved */
	CN_SRC_PROXY,        /* the community's Proxy name */
	CN_SRC_SRV,          /* an SRV name of the domain */
	CN_SRC_HOST,         /* the domain's own A/AAAA */
};

/* One next hop: one address of one target. */
struct cn_hop {
	enum cfg_transport tp;
	struct sockaddr_storage addr;  /* with the port to use */
	uint16_t port;
	char target[CN_RESOLVE_NAME_MAX + 1];   /* host name of addr */
	char tls_name[CN_RESOLVE_NAME_MAX + 1]; /* peer name to expect */
	uint16_t pri, weight;          /* SRV; 0 otherwise */
	uint64_t expires;              /* cn_resolve_now() ms */
	bool down;                     /* marked down when the route was made */
};

/* The outcome of one resolution, immutable. */
struct cn_route {
	int err;                       /* 0, or why there is no hop */
	enum cn_route_src src;
	char name[CN_RESOLVE_NAME_MAX + 1];   /* proxy, SRV name or domain */
	size_t hopc;
	struct cn_hop *hopv;           /* in the order to try */
	size_t trustc;
	struct sockaddr_storage *trustv;  /* port 0 */
	uint64_t made;                 /* cn_resolve_now() ms */
	uint64_t expires;
};

struct cn_resolve;
struct cn_resolve_req;

/* err is route->err (0 when there is at least one hop). */
typedef void (cn_resolve_h)(int err, const struct cn_route *route,
			    void *arg);

int  cn_resolve_alloc(struct cn_resolve **resp, struct sst_dns *dns);

int  cn_resolve_lookup(struct cn_resolve_req **reqp, struct cn_resolve *res,
		       const struct cfg_extern *ex, const char *domain,
		       cn_resolve_h *h, void *arg);
int  cn_resolve_refresh(struct cn_resolve *res, const struct cfg_extern *ex,
			const char *domain);

int  cn_resolve_trust(struct cn_resolve *res, const struct cfg_extern *ex,
		      const char *domain, struct cn_addrset *set);
const struct cn_route *cn_resolve_current(struct cn_resolve *res,
					  const struct cfg_extern *ex,
					  const char *domain, int *last_errp);

int  cn_resolve_order(struct cn_resolve *res, const struct cn_route *route,
		      size_t *idxv, size_t *upc);
void cn_resolve_hop_failed(struct cn_resolve *res, const struct cn_hop *hop,
			   unsigned ms);

void cn_resolve_set_stale(struct cn_resolve *res, unsigned seconds);
uint64_t cn_resolve_stale_since(struct cn_resolve *res,
				const struct cfg_extern *ex,
				const char *domain);
bool cn_resolve_temporary(int err);
bool cn_route_temporary(int err, const struct cn_route *rt);
bool cn_resolve_stale_usable(const struct cn_route *old, uint64_t since,
			     uint64_t now, uint64_t stale_ms);

uint64_t    cn_resolve_now(void);
const char *cn_route_src_name(enum cn_route_src src);
int  cn_resolve_debug(struct re_printf *pf, const struct cn_resolve *res);

#endif /* STC_CN_RESOLVE_H */
