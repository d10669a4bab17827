/*
 * sst_dns_int.h -- private state shared by sst_dns*.c.  Not for callers.
 */
#ifndef STC_SST_DNS_INT_H
#define STC_SST_DNS_INT_H

enum {
	DNS_CACHE_BUCKETS = 1024,
	DNS_PEND_BUCKETS  = 256,
	DNS_DOWN_BUCKETS  = 64,
	DNS_DOWN_MAX      = 1024,  /* targets remembered as down */
	DNS_CNAME_MAX     = 8,     /* re-queries along one CNAME chain */
};

struct sst_dns {
	struct dnsc *dnsc;
	struct sa srvv[SST_DNS_SERVERS_MAX];
	uint32_t srvc;          /* dnsc_query_srv() keeps &srvc: stable */
	struct sst_dns_conf conf;  /* numbers only; servers not kept */

	struct hash *cache;     /* struct dns_centry by (name, type) */
	struct list lru;        /* least recently used first */
	size_t entries;

	struct hash *pendh;     /* struct dns_pend by (name, type) */
	struct list pendl;      /* deadline order (FIFO: one duration) */
	struct tmr tmr_deadline;

	struct list readyl;     /* requests answered, to be delivered */
	struct tmr tmr_ready;

	struct hash *downh;     /* struct dns_down by target */
	struct list downl;      /* oldest mark first */

	struct sst_dns_stats st;
};

/* An answer as allocated: the public part first. */
struct dns_answer {
	struct sst_dns_answer pub;
	struct sa *sav;
};

enum dns_req_kind { DNS_REQ_LOOKUP, DNS_REQ_COMPOSITE };

struct dns_pend;

struct sst_dns_req {
	struct le le;           /* in a dns_pend's waiters or dns->readyl */
	struct dns_pend *pend;
	struct sst_dns_answer *ans;  /* held while queued for delivery */
	int err;
	sst_dns_h *h;
	void *arg;
	void *comp;             /* composite state (host, srv), a mem obj */
};

uint64_t sst_dns_now(void);
uint32_t sst_dns_key(const char *name, uint16_t type);

int  sst_dns_answer_alloc(struct sst_dns_answer **ansp, uint16_t type,
			  size_t recc);

/* sst_dns_cache.c */
struct sst_dns_answer *sst_dns_cache_get(struct sst_dns *dns,
					 const char *name, uint16_t type);
void sst_dns_cache_put(struct sst_dns *dns, const char *name,
		       uint16_t type, struct sst_dns_answer *ans);
bool sst_dns_cache_fresh(struct sst_dns *dns, const char *name,
			 uint16_t type);
void sst_dns_down_flush(struct sst_dns *dns);

/* sst_dns.c, for the composites */
int  sst_dns_req_alloc(struct sst_dns_req **reqp, sst_dns_h *h, void *arg);

#endif
