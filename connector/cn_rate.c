/*
 * cn_rate.c -- per community rates at the connector: token buckets for
 * MESSAGE, NOTIFY/PUBLISH and new SUBSCRIBE dialogs, each way, so that
 * one noisy community cannot starve another.
 *
 * An ExternCommunity with messageRate, notifyRate or subscribeRate set
 * gets one bucket per kind and direction: it holds up to one second of
 * the rate (the burst) and refills at the rate.  A request that finds
 * its bucket empty is answered 503 with Retry-After: 1 and counted as
 * rate-limit for its community.  In-dialog SUBSCRIBEs (refreshes,
 * un-SUBSCRIBE) are never limited: ending a subscription must work.
 *
 * Every community's requests of these kinds are counted, limited or
 * not, per second in a ring of RATE_WIN_S whole seconds: status shows,
 * per community, each limit next to the rate admitted and the rate
 * offered (admitted and refused) over the last RATE_WIN_S seconds, the
 * refusals so far, and the subscriptions it holds against its cap
 * (cn_subs.c).
 */
#include "config.h"

#include <string.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "connector/cn.h"
#include "connector/cn_px.h"

enum { K_MESSAGE, K_NOTIFY, K_SUBSCRIBE, K_COUNT };
static const char *const k_name[K_COUNT] = {"message", "notify",
					    "subscribe"};

enum { RATE_WIN_S = 10, RATE_RING = RATE_WIN_S + 1 };

/* Requests per second: slot[s % RATE_RING] counts second s, for the
 * seconds up to sec; the current one and RATE_WIN_S whole ones. */
struct ring {
	uint64_t sec;
	uint32_t slot[RATE_RING];
};

struct bucket {
	uint64_t milli;		/* tokens x 1000 */
	uint64_t last;		/* ms of the last refill */
	struct ring admitted, offered;
	uint64_t limited;
};

struct px_rate {
	struct le le;
	char comm[CN_ADDR_MAX];
	struct bucket b[K_COUNT][2];	/* [kind][outbound?] */
};

static unsigned limit_of(const struct cfg_extern *ex, int k)
{
	return k == K_MESSAGE ? ex->message_rate :
		k == K_NOTIFY ? ex->notify_rate : ex->subscribe_rate;
}

static int kind_of(const struct px_req *r)
{
	if (!strcmp(r->method, "MESSAGE"))
		return K_MESSAGE;
	if (!strcmp(r->method, "NOTIFY") || !strcmp(r->method, "PUBLISH"))
		return K_NOTIFY;
	if (!strcmp(r->method, "SUBSCRIBE") && !r->in_dialog)
		return K_SUBSCRIBE;
	return -1;
}

static struct px_rate *rate_get(struct cn_px *px, const char *comm)
{
	struct px_rate *pr;
	struct le *le;

	for (le = px->rates.head; le; le = le->next) {
		pr = le->data;
		if (!strcmp(pr->comm, comm))
			return pr;
	}
	pr = mem_zalloc(sizeof(*pr), NULL);
	if (!pr)
		return NULL;
	str_ncpy(pr->comm, comm, sizeof(pr->comm));
	list_append(&px->rates, &pr->le, pr);
	return pr;
}

/* Move g to second sec, emptying the slots of the seconds skipped. */
static void ring_roll(struct ring *g, uint64_t sec)
{
	uint64_t s;

	if (sec <= g->sec)
		return;
	for (s = g->sec + 1; s <= sec && s <= g->sec + RATE_RING; s++)
		g->slot[s % RATE_RING] = 0;
	g->sec = sec;
}

static void ring_add(struct ring *g, uint64_t now)
{
	ring_roll(g, now / 1000);
	g->slot[g->sec % RATE_RING]++;
}

/* Per second over the last RATE_WIN_S whole seconds, in thousandths. */
static int64_t ring_rate(struct ring *g, uint64_t now)
{
	uint64_t sum = 0;
	unsigned i;

	ring_roll(g, now / 1000);
	for (i = 0; i < RATE_RING; i++)
		if (i != g->sec % RATE_RING)
			sum += g->slot[i];
	return (int64_t)(sum * 1000 / RATE_WIN_S);
}

/*
 * Does r fit its community's rate?  True when no limit applies or its
 * bucket has a token (the request is counted either way); false when
 * its bucket is empty: the caller refuses it rate-limit.
 */
bool px_rate_admit(struct cn_px *px, const struct px_req *r)
{
	const struct cfg_extern *ex = px_extern(px, r->comm);
	const uint64_t now = sst_tmr_now();
	struct px_rate *pr;
	struct bucket *b;
	unsigned lim;
	int k = kind_of(r);

	if (!ex || k < 0)
		return true;
	pr = rate_get(px, r->comm);
	if (!pr)
		return true;	/* out of memory: never a refusal */
	b = &pr->b[k][r->dir == CN_DIR_OUTBOUND];
	ring_add(&b->offered, now);
	lim = limit_of(ex, k);
	if (!lim) {
		ring_add(&b->admitted, now);
		return true;
	}
	if (!b->last) {
		b->milli = (uint64_t)lim * 1000;
		b->last = now;
	}
	b->milli += (now - b->last) * lim;
	if (b->milli > (uint64_t)lim * 1000)
		b->milli = (uint64_t)lim * 1000;
	b->last = now;
	if (b->milli < 1000) {
		b->limited++;
		return false;
	}
	b->milli -= 1000;
	ring_add(&b->admitted, now);
	return true;
}

/* r, admitted by its rate, was refused after all (its subscription
 * cap, cn_subs.c): not counted as admitted. */
void px_rate_refused(struct cn_px *px, const struct px_req *r)
{
	struct px_rate *pr;
	struct ring *g;
	int k = kind_of(r);
	struct le *le;

	if (k < 0)
		return;
	for (le = px->rates.head; le; le = le->next) {
		pr = le->data;
		if (strcmp(pr->comm, r->comm))
			continue;
		g = &pr->b[k][r->dir == CN_DIR_OUTBOUND].admitted;
		ring_roll(g, sst_tmr_now() / 1000);
		if (g->slot[g->sec % RATE_RING])
			g->slot[g->sec % RATE_RING]--;
		return;
	}
}

/* Forget the counts of communities a reload removed. */
static void rate_prune(struct cn_px *px)
{
	struct le *le = px->rates.head;

	while (le) {
		struct px_rate *pr = le->data;

		le = le->next;
		if (!px_extern(px, pr->comm)) {
			list_unlink(&pr->le);
			mem_deref(pr);
		}
	}
}

/* rates: per community, each limit, the rates, the refusals, and the
 * subscriptions held against the cap. */
void px_rate_status(struct cn_px *px, struct dmn_st *root)
{
	const struct cfg *cfg = px->cn->cfg;
	const uint64_t now = sst_tmr_now();
	struct dmn_st *l = dmn_st_list(root, "rates");
	size_t i;
	int k, d;

	rate_prune(px);
	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];
		struct px_rate *pr = NULL;
		struct le *le;
		struct dmn_st *it;

		for (le = px->rates.head; le && !pr; le = le->next)
			if (!strcmp(((struct px_rate *)le->data)->comm,
				    ex->name))
				pr = le->data;
		it = dmn_st_item(l);
		dmn_st_str(it, "community", ex->name);
		for (k = 0; k < K_COUNT; k++) {
			char key[40];

			re_snprintf(key, sizeof(key), "%s_limit", k_name[k]);
			dmn_st_int(it, key, limit_of(ex, k));
			for (d = 0; d < 2; d++) {
				struct bucket *b = pr ? &pr->b[k][d] : NULL;
				const char *dn = d ? "out" : "in";

				re_snprintf(key, sizeof(key), "%s_%s_per_second",
					    k_name[k], dn);
				dmn_st_milli(it, key, b ? ring_rate(
						     &b->admitted, now) : 0);
				re_snprintf(key, sizeof(key),
					    "%s_%s_offered_per_second", k_name[k],
					    dn);
				dmn_st_milli(it, key, b ? ring_rate(
						     &b->offered, now) : 0);
				re_snprintf(key, sizeof(key), "%s_%s_limited",
					    k_name[k], dn);
				dmn_st_int(it, key, b ? (int64_t)b->limited :
					   0);
			}
		}
		px_subs_status(px, it, ex);
	}
}

void px_rate_stop(struct cn_px *px)
{
	list_flush(&px->rates);
}
