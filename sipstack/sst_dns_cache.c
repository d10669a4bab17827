/*
 * sst_dns_cache.c -- the answer cache and the "target down" memory.
 *
 * Entries are keyed by (lower-case name, type) and hold a shared,
 * immutable answer.  There is no timer per entry: an entry is checked
 * for expiry when it is looked up, and the size bound evicts the least
 * recently used entry (which is where stale entries end up).
 */
#include <re.h>

#include "sst_dns.h"
#include "sst_dns_int.h"

struct dns_centry {
	struct le he;
	struct le lle;
	struct sst_dns *dns;
	char *name;
	uint16_t type;
	uint64_t expires;       /* sst_dns_now() ms */
	struct sst_dns_answer *ans;
};

struct dns_down {
	struct le he;
	struct le lle;
	char *name;
	uint16_t port;
	uint64_t until;
};

struct key {
	const char *name;
	uint16_t type;
	uint16_t port;
};

static void centry_destructor(void *arg)
{
	struct dns_centry *e = arg;

	hash_unlink(&e->he);
	if (e->lle.list) {
		list_unlink(&e->lle);
		e->dns->entries--;
	}
	mem_deref(e->name);
	mem_deref(e->ans);
}

static bool centry_cmp(struct le *le, void *arg)
{
	const struct dns_centry *e = le->data;
	const struct key *k = arg;

	return e->type == k->type && !str_casecmp(e->name, k->name);
}

static struct dns_centry *centry_find(struct sst_dns *dns, const char *name,
				      uint16_t type)
{
	struct key k = {name, type, 0};
	struct le *le;

	le = hash_lookup(dns->cache, sst_dns_key(name, type), centry_cmp, &k);
	return le ? le->data : NULL;
}

/**
 * Find a live cache entry.  Expired entries are dropped on the way.
 *
 * @return the answer (not referenced: valid until the cache changes),
 *	   or NULL
 */
struct sst_dns_answer *sst_dns_cache_get(struct sst_dns *dns,
					 const char *name, uint16_t type)
{
	struct dns_centry *e = centry_find(dns, name, type);

	if (!e)
		return NULL;

	if (e->expires <= sst_dns_now()) {
		mem_deref(e);
		return NULL;
	}

	list_unlink(&e->lle);
	list_append(&dns->lru, &e->lle, e);
	return e->ans;
}

/** True if (name, type) has a live entry; does not touch the LRU order. */
bool sst_dns_cache_fresh(struct sst_dns *dns, const char *name,
			 uint16_t type)
{
	struct dns_centry *e = centry_find(dns, name, type);

	return e && e->expires > sst_dns_now();
}

/**
 * Store an answer for ans->ttl seconds, replacing any older entry.  A
 * full cache first evicts its least recently used entry.
 */
void sst_dns_cache_put(struct sst_dns *dns, const char *name,
		       uint16_t type, struct sst_dns_answer *ans)
{
	struct dns_centry *e;

	e = centry_find(dns, name, type);
	mem_deref(e);

	while (dns->entries >= dns->conf.cache_max && dns->lru.head) {
		mem_deref(dns->lru.head->data);
		dns->st.evictions++;
	}

	e = mem_zalloc(sizeof(*e), centry_destructor);
	if (!e)
		return;  /* not cached: the answer is still delivered */

	if (str_dup(&e->name, name)) {
		mem_deref(e);
		return;
	}

	e->dns = dns;
	e->type = type;
	e->expires = sst_dns_now() + (uint64_t)ans->ttl * 1000;
	e->ans = mem_ref(ans);

	hash_append(dns->cache, sst_dns_key(name, type), &e->he, e);
	list_append(&dns->lru, &e->lle, e);
	dns->entries++;
}

/** Drop every cached answer (queries in flight are not affected). */
void sst_dns_flush(struct sst_dns *dns)
{
	if (!dns)
		return;

	while (dns->lru.head)
		mem_deref(dns->lru.head->data);
}


static void down_destructor(void *arg)
{
	struct dns_down *d = arg;

	hash_unlink(&d->he);
	list_unlink(&d->lle);
	mem_deref(d->name);
}

static bool down_cmp(struct le *le, void *arg)
{
	const struct dns_down *d = le->data;
	const struct key *k = arg;

	return d->port == k->port && !str_casecmp(d->name, k->name);
}

static struct dns_down *down_find(struct sst_dns *dns, const char *target,
				  uint16_t port)
{
	struct key k = {target, 0, port};
	struct le *le;

	le = hash_lookup(dns->downh, sst_dns_key(target, port), down_cmp, &k);
	return le ? le->data : NULL;
}

/**
 * Remember that target:port failed, so that sst_dns_srv_order() puts it
 * after the others for ms milliseconds (0: the configured default).
 * Other targets, and the cached records of this one, are not affected.
 */
void sst_dns_mark_down(struct sst_dns *dns, const char *target,
		       uint16_t port, unsigned ms)
{
	struct dns_down *d;

	if (!dns || !target)
		return;

	if (!ms)
		ms = dns->conf.down_ms;

	d = down_find(dns, target, port);
	if (d) {
		list_unlink(&d->lle);
	}
	else {
		if (list_count(&dns->downl) >= DNS_DOWN_MAX)
			mem_deref(dns->downl.head->data);

		d = mem_zalloc(sizeof(*d), down_destructor);
		if (!d)
			return;
		if (str_dup(&d->name, target)) {
			mem_deref(d);
			return;
		}
		d->port = port;
		hash_append(dns->downh, sst_dns_key(target, port), &d->he, d);
	}

	d->until = sst_dns_now() + ms;
	list_append(&dns->downl, &d->lle, d);
}

/** Forget a down mark (the target answered again). */
void sst_dns_mark_up(struct sst_dns *dns, const char *target, uint16_t port)
{
	if (!dns || !target)
		return;

	mem_deref(down_find(dns, target, port));
}

/** True while target:port is marked down. */
bool sst_dns_is_down(struct sst_dns *dns, const char *target, uint16_t port)
{
	struct dns_down *d;

	if (!dns || !target)
		return false;

	d = down_find(dns, target, port);
	if (!d)
		return false;

	if (d->until <= sst_dns_now()) {
		mem_deref(d);
		return false;
	}

	return true;
}

void sst_dns_down_flush(struct sst_dns *dns)
{
	while (dns->downl.head)
		mem_deref(dns->downl.head->data);
}
