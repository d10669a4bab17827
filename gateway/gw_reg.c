/*
 * gw_reg.c -- the registration table.
 *
 * AORs live in a hash (lookup) and a list (sweeps); each AOR keeps its
 * bindings in a list, oldest first.  An AOR without bindings is freed at
 * once, so "registered" is "has an AOR entry with a live binding".
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "gateway/gw_reg.h"

enum { REG_BUCKETS_MIN = 1024, REG_BUCKETS_MAX = 65536 };

struct gw_aor {
	struct le he;          /* in reg->aorh */
	struct le le;          /* in reg->aorl */
	char *aor;
	struct list bindings;
	uint32_t n;
};

struct gw_reg {
	struct hash *aorh;
	struct list aorl;
	uint32_t max_aors;
	struct gw_reg_stats st;
};

static void binding_destructor(void *arg)
{
	struct gw_binding *b = arg;

	list_unlink(&b->le);
	mem_deref(b->uri);
	mem_deref(b->instance);
	mem_deref(b->callid);
	mem_deref(b->flow);
}

static void aor_destructor(void *arg)
{
	struct gw_aor *a = arg;

	hash_unlink(&a->he);
	list_unlink(&a->le);
	list_flush(&a->bindings);
	mem_deref(a->aor);
}

static void reg_destructor(void *arg)
{
	struct gw_reg *reg = arg;

	hash_clear(reg->aorh);
	list_flush(&reg->aorl);
	mem_deref(reg->aorh);
}

int gw_reg_alloc(struct gw_reg **regp, uint32_t max_aors)
{
	uint32_t buckets = REG_BUCKETS_MIN;
	struct gw_reg *reg;
	int err;

	if (!regp)
		return EINVAL;
	reg = mem_zalloc(sizeof(*reg), reg_destructor);
	if (!reg)
		return ENOMEM;
	reg->max_aors = max_aors ? max_aors : GW_REG_AORS_DEFAULT;
	/* about two AORs per bucket when full */
	while (buckets < reg->max_aors / 2 && buckets < REG_BUCKETS_MAX)
		buckets *= 2;
	err = hash_alloc(&reg->aorh, buckets);
	if (err)
		mem_deref(reg);
	else
		*regp = reg;
	return err;
}

static bool aor_cmp(struct le *le, void *arg)
{
	const struct gw_aor *a = le->data;

	return !strcmp(a->aor, arg);
}

static struct gw_aor *aor_find(const struct gw_reg *reg, const char *aor)
{
	struct le *le = hash_lookup(reg->aorh, hash_joaat_str(aor), aor_cmp,
				    (void *)aor);

	return le ? le->data : NULL;
}

static void binding_drop(struct gw_reg *reg, struct gw_aor *a,
			 struct gw_binding *b)
{
	mem_deref(b);
	a->n--;
	reg->st.bindings--;
}

static void aor_drop_if_empty(struct gw_reg *reg, struct gw_aor *a)
{
	if (a->n)
		return;
	mem_deref(a);
	reg->st.aors--;
}

static bool str_ok(const char *s, size_t max, int *err)
{
	if (!s || !s[0]) {
		*err = EINVAL;
		return false;
	}
	if (strlen(s) > max) {
		*err = EMSGSIZE;
		return false;
	}
	return true;
}

static bool same_key(const struct gw_reg_contact *c, const char *uri,
		     const char *instance, uint32_t regid)
{
	if (c->instance)
		return instance && !strcmp(c->instance, instance) &&
			c->regid == regid;
	return !instance && !strcmp(c->uri, uri);
}

static struct gw_binding *binding_find(const struct gw_aor *a,
				       const struct gw_reg_contact *c)
{
	struct le *le;

	if (!a)
		return NULL;
	for (le = list_head(&a->bindings); le; le = le->next) {
		struct gw_binding *b = le->data;

		if (same_key(c, b->uri, b->instance, b->regid))
			return b;
	}
	return NULL;
}

/* RFC 3261 §10.3 step 7: same Call-ID needs a higher CSeq. */
static bool in_order(const struct gw_binding *b, const char *callid,
		     uint32_t cseq)
{
	return strcmp(b->callid, callid) || cseq > b->cseq;
}

static int binding_set(struct gw_binding *b, const struct gw_reg_contact *c,
		       const char *callid, uint32_t cseq, void *flow,
		       uint64_t now)
{
	char *uri = NULL, *cid = NULL;
	int err;

	err = str_dup(&uri, c->uri);
	err |= str_dup(&cid, callid);
	if (err) {
		mem_deref(uri);
		mem_deref(cid);
		return ENOMEM;
	}
	mem_deref(b->uri);
	b->uri = uri;
	mem_deref(b->callid);
	b->callid = cid;
	b->cseq = cseq;
	b->expires = now + c->expires;
	if (b->flow != flow) {
		mem_deref(b->flow);
		b->flow = mem_ref(flow);
	}
	return 0;
}

static int aor_get(struct gw_aor **ap, struct gw_reg *reg, const char *aor)
{
	struct gw_aor *a = aor_find(reg, aor);
	int err;

	if (a) {
		*ap = a;
		return 0;
	}
	if (reg->st.aors >= reg->max_aors) {
		reg->st.refused_full++;
		return ENOSPC;
	}
	a = mem_zalloc(sizeof(*a), aor_destructor);
	if (!a)
		return ENOMEM;
	err = str_dup(&a->aor, aor);
	if (err) {
		mem_deref(a);
		return err;
	}
	hash_append(reg->aorh, hash_joaat_str(aor), &a->he, a);
	list_append(&reg->aorl, &a->le, a);
	reg->st.aors++;
	*ap = a;
	return 0;
}

int gw_reg_update(struct gw_reg *reg, const char *aor,
		  const struct gw_reg_contact *cv, size_t cc,
		  const char *callid, uint32_t cseq, void *flow,
		  uint64_t now)
{
	struct gw_aor *a;
	uint32_t adds = 0, dels = 0;
	size_t i, j;
	int err = 0;

	if (!reg || !cv || !cc)
		return EINVAL;
	if (!str_ok(aor, GW_REG_AOR_MAX, &err) ||
	    !str_ok(callid, GW_REG_CALLID_MAX, &err))
		return err;
	if (cc > GW_REG_CONTACTS_MAX)
		return EMSGSIZE;

	/* check everything first: the update is all or nothing */
	a = aor_find(reg, aor);
	for (i = 0; i < cc; i++) {
		const struct gw_reg_contact *c = &cv[i];
		struct gw_binding *b;
		bool dup = false;

		if (!str_ok(c->uri, GW_REG_URI_MAX, &err))
			return err;
		if (!strcmp(c->uri, "*"))
			return EINVAL;  /* "*" goes to gw_reg_remove_all */
		if (c->instance &&
		    !str_ok(c->instance, GW_REG_INSTANCE_MAX, &err))
			return err;

		for (j = 0; j < i && !dup; j++)
			dup = same_key(c, cv[j].uri, cv[j].instance,
				       cv[j].regid);
		b = binding_find(a, c);
		if (b && !in_order(b, callid, cseq)) {
			reg->st.refused_order++;
			return EPROTO;
		}
		if (dup)
			continue;
		if (!b && c->expires)
			adds++;
		else if (b && !c->expires)
			dels++;
	}
	if ((a ? a->n : 0) + adds - dels > GW_REG_BINDINGS_MAX) {
		reg->st.refused_full++;
		return ENOSPC;
	}
	if (!a && !adds)
		return 0;  /* only removals of bindings that do not exist */

	err = aor_get(&a, reg, aor);
	if (err)
		return err;

	for (i = 0; i < cc; i++) {
		const struct gw_reg_contact *c = &cv[i];
		struct gw_binding *b = binding_find(a, c);

		if (!c->expires) {
			if (b) {
				binding_drop(reg, a, b);
				reg->st.removed++;
			}
			continue;
		}
		if (b) {
			err = binding_set(b, c, callid, cseq, flow, now);
			if (err)
				break;
			reg->st.refreshed++;
			continue;
		}

		b = mem_zalloc(sizeof(*b), binding_destructor);
		if (!b) {
			err = ENOMEM;
			break;
		}
		if (c->instance && str_dup(&b->instance, c->instance)) {
			mem_deref(b);
			err = ENOMEM;
			break;
		}
		b->regid = c->regid;
		err = binding_set(b, c, callid, cseq, flow, now);
		if (err) {
			mem_deref(b);
			break;
		}
		list_append(&a->bindings, &b->le, b);
		a->n++;
		reg->st.bindings++;
		reg->st.added++;
	}
	/* only ENOMEM gets here with err set; earlier contacts stay applied */
	aor_drop_if_empty(reg, a);
	return err;
}

int gw_reg_remove_all(struct gw_reg *reg, const char *aor,
		      const char *callid, uint32_t cseq)
{
	struct gw_aor *a;
	struct le *le;
	int err = 0;

	if (!reg)
		return EINVAL;
	if (!str_ok(aor, GW_REG_AOR_MAX, &err) ||
	    !str_ok(callid, GW_REG_CALLID_MAX, &err))
		return err;

	a = aor_find(reg, aor);
	if (!a)
		return 0;
	for (le = list_head(&a->bindings); le; le = le->next) {
		if (!in_order(le->data, callid, cseq)) {
			reg->st.refused_order++;
			return EPROTO;
		}
	}
	reg->st.removed += a->n;
	reg->st.bindings -= a->n;
	a->n = 0;
	list_flush(&a->bindings);
	aor_drop_if_empty(reg, a);
	return 0;
}

uint32_t gw_reg_sweep(struct gw_reg *reg, uint64_t now, gw_reg_aor_h *gone,
		      void *arg)
{
	struct le *le, *next;
	uint32_t n = 0;

	if (!reg)
		return 0;
	for (le = list_head(&reg->aorl); le; le = next) {
		struct gw_aor *a = le->data;
		struct le *ble, *bnext;
		char *name;

		next = le->next;
		for (ble = list_head(&a->bindings); ble; ble = bnext) {
			struct gw_binding *b = ble->data;

			bnext = ble->next;
			if (b->expires > now)
				continue;
			binding_drop(reg, a, b);
			n++;
		}
		if (a->n)
			continue;
		/* told after the AOR left the table, so that gone() sees
		 * it unregistered */
		name = mem_ref(a->aor);
		aor_drop_if_empty(reg, a);
		if (gone)
			gone(name, arg);
		mem_deref(name);
	}
	reg->st.expired += n;
	return n;
}

uint32_t gw_reg_expire(struct gw_reg *reg, uint64_t now)
{
	return gw_reg_sweep(reg, now, NULL, NULL);
}

void gw_reg_aors(const struct gw_reg *reg, gw_reg_aor_h *h, void *arg)
{
	struct le *le;

	if (!reg || !h)
		return;
	for (le = list_head(&reg->aorl); le; le = le->next) {
		const struct gw_aor *a = le->data;

		h(a->aor, arg);
	}
}

uint32_t gw_reg_contacts(const struct gw_reg *reg, const char *aor,
			 uint64_t now, gw_reg_binding_h *h, void *arg)
{
	const struct gw_aor *a;
	struct le *le;
	uint32_t n = 0;

	if (!reg || !aor)
		return 0;
	a = aor_find(reg, aor);
	if (!a)
		return 0;
	for (le = list_head(&a->bindings); le; le = le->next) {
		const struct gw_binding *b = le->data;

		if (b->expires <= now)
			continue;
		n++;
		if (h && h(b, arg))
			break;
	}
	return n;
}

bool gw_reg_registered(const struct gw_reg *reg, const char *aor,
		       uint64_t now)
{
	return gw_reg_contacts(reg, aor, now, NULL, NULL) > 0;
}

void gw_reg_stats_get(const struct gw_reg *reg, struct gw_reg_stats *st)
{
	if (!reg || !st)
		return;
	*st = reg->st;
}
