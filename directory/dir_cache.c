/*
 * dir_cache.c -- the directory's answer cache, on the loop thread.
 *
 * A libre hash for finding, a libre list for recency (head = least
 * recently used).  Both found and "no such" answers are kept, each with
 * its own expiry chosen by the caller; size 0 keeps nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <re.h>

#include "directory/dir_int.h"

enum { CACHE_BUCKETS_MAX = 4096 };

struct dir_cache {
	struct hash *ht;
	struct list lru;
	size_t size;
	size_t n;
};

struct centry {
	struct le he;
	struct le le;
	struct dir_cache *c;
	enum dir_kind kind;
	char key[DIR_KEY_MAX + 1];   /* lower case */
	struct dir_ans *ans;
	uint64_t expires;
};

static void centry_destructor(void *arg)
{
	struct centry *ce = arg;

	hash_unlink(&ce->he);
	list_unlink(&ce->le);
	ce->c->n--;
	dir_ans_free(ce->ans);
}

static void cache_destructor(void *arg)
{
	struct dir_cache *c = arg;

	dir_cache_flush(c);
	mem_deref(c->ht);
}

static void lower(char *dst, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i < DIR_KEY_MAX; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

static uint32_t key_hash(enum dir_kind kind, const char *lkey)
{
	return hash_joaat_str(lkey) ^ (uint32_t)kind;
}

int dir_cache_alloc(struct dir_cache **cp, size_t size)
{
	struct dir_cache *c;
	uint32_t buckets = 16;
	int err;

	if (!cp)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), cache_destructor);
	if (!c)
		return ENOMEM;
	c->size = size;
	while (buckets < size && buckets < CACHE_BUCKETS_MAX)
		buckets *= 2;
	err = hash_alloc(&c->ht, buckets);
	if (err) {
		mem_deref(c);
		return err;
	}
	*cp = c;
	return 0;
}

struct match {
	enum dir_kind kind;
	const char *lkey;
};

static bool cmp_handler(struct le *le, void *arg)
{
	const struct centry *ce = le->data;
	const struct match *m = arg;

	return ce->kind == m->kind && !strcmp(ce->key, m->lkey);
}

const struct dir_ans *dir_cache_get(struct dir_cache *c, enum dir_kind kind,
				    const char *key, uint64_t now_ms)
{
	char lkey[DIR_KEY_MAX + 1];
	struct match m;
	struct centry *ce;
	struct le *le;

	if (!c || !c->size || !key)
		return NULL;
	lower(lkey, key);
	m.kind = kind;
	m.lkey = lkey;
	le = hash_lookup(c->ht, key_hash(kind, lkey), cmp_handler, &m);
	if (!le)
		return NULL;
	ce = le->data;
	if (now_ms >= ce->expires) {
		mem_deref(ce);
		return NULL;
	}
	/* most recently used goes to the tail */
	list_unlink(&ce->le);
	list_append(&c->lru, &ce->le, ce);
	return ce->ans;
}

void dir_cache_put(struct dir_cache *c, enum dir_kind kind, const char *key,
		   struct dir_ans *a, uint64_t expires_ms)
{
	char lkey[DIR_KEY_MAX + 1];
	struct match m;
	struct centry *ce;
	struct le *le;

	if (!c || !c->size || !key) {
		dir_ans_free(a);
		return;
	}
	lower(lkey, key);
	m.kind = kind;
	m.lkey = lkey;
	le = hash_lookup(c->ht, key_hash(kind, lkey), cmp_handler, &m);
	if (le)
		mem_deref(le->data);

	while (c->n >= c->size)
		mem_deref(list_head(&c->lru)->data);

	ce = mem_zalloc(sizeof(*ce), centry_destructor);
	if (!ce) {
		dir_ans_free(a);
		return;
	}
	ce->c = c;
	c->n++;
	ce->kind = kind;
	memcpy(ce->key, lkey, sizeof(ce->key));
	ce->ans = a;
	ce->expires = expires_ms;
	hash_append(c->ht, key_hash(kind, lkey), &ce->he, ce);
	list_append(&c->lru, &ce->le, ce);
}

void dir_cache_flush(struct dir_cache *c)
{
	if (!c)
		return;
	while (list_head(&c->lru))
		mem_deref(list_head(&c->lru)->data);
}

size_t dir_cache_count(const struct dir_cache *c)
{
	return c ? c->n : 0;
}
