/*
 * sst_dns.h -- cached, deadline-bound DNS resolution on libre's dnsc.
 *
 * Owns: the dnsc client and its server list, a cache of answers keyed
 *	by (name, type) that honours TTLs (clamped) and caches NXDOMAIN and
 *	NODATA, coalescing of identical lookups in flight, a deadline on
 *	every lookup, the retry over TCP of truncated UDP answers, RFC 2782
 *	weighted ordering of SRV targets and a short "target down" memory
 *	for failover, plus the counters a status screen shows.
 * Not here: which names to look up, or in which order (RFC 3263
 *	NAPTR/SRV/A policy belongs to the caller).  Nothing here reads the
 *	configuration file.
 * Memory: struct sst_dns, struct sst_dns_req and struct sst_dns_answer
 *	are libre mem objects.  The caller owns every request it starts and
 *	mem_deref()s it, before or after its handler ran; dropping a request
 *	before its handler ran cancels it (the handler is then never
 *	called).  Dropping the resolver cancels every request still
 *	running; their handlers are not called either.  An answer is
 *	immutable and shared with the cache: mem_ref() it to keep it past
 *	the handler.
 *
 * Delivery: every handler runs from libre's loop, never inside the call
 * that started the lookup, even when the answer is in the cache, and
 * never inside a libre dnsc callback.  All results (cache hits included)
 * are queued and delivered by one zero-delay timer per resolver, started
 * once per batch, not per answer.  So a caller may start a lookup while
 * holding state it only finishes setting up after the call returns, and
 * a handler may drop the resolver.
 *
 * Deadlines: each query sent has the configured deadline; a lookup that
 * joins a query already in flight shares that query's deadline.  All
 * deadlines sit in one FIFO behind one libre timer.  Cache entries have
 * no timer: they expire when looked up, and the size bound evicts the
 * least recently used.  Clock: CLOCK_MONOTONIC.
 *
 * Errors passed to handlers: 0 answer with at least one record, ENOENT
 * the name does not exist (NXDOMAIN), ENODATA the name exists without
 * records of that type (NODATA), ETIMEDOUT no answer within the deadline,
 * EAGAIN the server failed (SERVFAIL), ECONNREFUSED the server refused,
 * EPROTO any other error code (and a CNAME chain that does not end),
 * ENOMEM.  ENOENT and ENODATA are cached.
 *
 * CNAMEs: an answer holds only records of the type asked for.  A name
 * behind a CNAME is answered with its target's records, followed inside
 * the answer and, when the answer stops at a CNAME, asked for again (at
 * most 8 times); the TTL is the shortest along the chain.  SRV answers'
 * additional A/AAAA records are cached only for targets inside the SRV
 * name's own domain ("_sip._tcp.acme.com": acme.com and below, RFC 2181
 * 5.4.1); other targets are asked for.
 */
#ifndef STC_SST_DNS_H
#define STC_SST_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sa;
struct re_printf;

enum {
	SST_DNS_TIMEOUT_MS   = 2000,   /* default deadline per lookup */
	SST_DNS_TTL_MIN      = 1,      /* s; shorter TTLs are raised */
	SST_DNS_TTL_MAX      = 3600,   /* s; longer TTLs are lowered */
	SST_DNS_NEG_TTL      = 30,     /* s; negative TTL without an SOA */
	SST_DNS_NEG_TTL_MAX  = 300,    /* s; cap on negative TTLs */
	SST_DNS_CACHE_MAX    = 4096,   /* entries before LRU eviction */
	SST_DNS_DOWN_MS      = 30000,  /* how long a target stays down */
	SST_DNS_SERVERS_MAX  = 8,      /* configured servers used */
	SST_DNS_NAME_MAX     = 253,    /* presentation length, no dot */
	SST_DNS_RR_MAX       = 128,    /* records kept from one answer */
	SST_DNS_TARGETS_MAX  = 32,     /* SRV targets resolved per name */
	SST_DNS_ADDRS_MAX    = 32,     /* addresses kept per host name */
};

/* Plain settings.  Zero means "the default" for every number.
 *
 * No local address: queries leave from whatever address the kernel
 * picks for the server.  libre 1.1.0's dnsc opens its UDP sockets and
 * TCP connections itself (dnsc_conf has only table sizes and timeouts)
 * and offers no way to bind them, so binding would mean a DNS client
 * of our own. */
struct sst_dns_conf {
	/* "ip", "ip:port", "[v6]" or "[v6]:port" each; port 53 if none.
	 * serverc == 0: the system resolver's servers (/etc/resolv.conf). */
	const char *const *servers;
	size_t serverc;
	unsigned timeout_ms;    /* deadline per lookup */
	unsigned ttl_min;       /* s */
	unsigned ttl_max;       /* s */
	unsigned neg_ttl;       /* s, when the answer has no SOA */
	unsigned neg_ttl_max;   /* s */
	unsigned cache_max;     /* entries */
	unsigned down_ms;       /* sst_dns_mark_down() default duration */
};

/* One record of an answer.  Strings are NUL-terminated and owned by the
 * answer. */
struct sst_dns_rec {
	uint16_t type;          /* the type asked: A, AAAA, SRV or NAPTR */
	uint32_t ttl;           /* as received, s */
	struct {
		uint16_t pri, weight, port;
		char *target;
	} srv;
	struct {
		uint16_t order, pref;
		char *flags, *services, *regexp, *replace;
	} naptr;
	struct sa *addr;        /* A/AAAA: address, port 0; else NULL */
};

struct sst_dns_answer {
	uint16_t type;
	int err;                /* 0, ENOENT or ENODATA */
	uint32_t ttl;           /* clamped TTL the cache applied, s */
	size_t recc;
	struct sst_dns_rec *recv;
};

/* One SRV target with its addresses (A and AAAA). */
struct sst_dns_target {
	char name[SST_DNS_NAME_MAX + 1];
	uint16_t pri, weight, port;
	int err;                /* why addrc is 0, else 0 */
	size_t addrc;
	struct sa *addrv;       /* addrc entries, port = target port */
};

/* Result of sst_dns_srv(): targets in one RFC 2782 order (priority,
 * then weighted random; down targets last). */
struct sst_dns_srvset {
	size_t tgtc;
	struct sst_dns_target *tgtv;
};

struct sst_dns_stats {
	uint64_t queries;       /* sent to a server, UDP and TCP */
	uint64_t hits;          /* answered from the cache, positive */
	uint64_t neg_hits;      /* answered from the cache, negative */
	uint64_t misses;        /* not in the cache (or expired) */
	uint64_t coalesced;     /* joined a query already in flight */
	uint64_t timeouts;      /* deadline reached */
	uint64_t trunc_retries; /* truncated UDP answer asked again on TCP */
	uint64_t errors;        /* SERVFAIL, REFUSED, other failures */
	uint64_t evictions;     /* entries pushed out by the size bound */
	size_t entries;         /* now in the cache */
	size_t pending;         /* queries in flight */
	size_t down;            /* targets marked down */
};

struct sst_dns;
struct sst_dns_req;

typedef void (sst_dns_h)(int err, const struct sst_dns_answer *ans,
			 void *arg);
typedef void (sst_dns_addr_h)(int err, const struct sa *addrv,
			      size_t addrc, void *arg);
typedef void (sst_dns_srv_h)(int err, const struct sst_dns_srvset *set,
			     void *arg);

int  sst_dns_alloc(struct sst_dns **dnsp, const struct sst_dns_conf *conf);
int  sst_dns_server_parse(struct sa *sa, const char *str);

int  sst_dns_lookup(struct sst_dns_req **reqp, struct sst_dns *dns,
		    const char *name, uint16_t type, sst_dns_h *h, void *arg);
int  sst_dns_host(struct sst_dns_req **reqp, struct sst_dns *dns,
		  const char *name, sst_dns_addr_h *h, void *arg);
int  sst_dns_srv(struct sst_dns_req **reqp, struct sst_dns *dns,
		 const char *name, sst_dns_srv_h *h, void *arg);

int  sst_dns_srv_order(struct sst_dns *dns,
		       const struct sst_dns_target *tgtv, size_t tgtc,
		       size_t *idxv, size_t *upc);
void sst_dns_mark_down(struct sst_dns *dns, const char *target,
		       uint16_t port, unsigned ms);
void sst_dns_mark_up(struct sst_dns *dns, const char *target,
		     uint16_t port);
bool sst_dns_is_down(struct sst_dns *dns, const char *target,
		     uint16_t port);

void sst_dns_flush(struct sst_dns *dns);
void sst_dns_stats(const struct sst_dns *dns, struct sst_dns_stats *st);
int  sst_dns_debug(struct re_printf *pf, const struct sst_dns *dns);

#endif
