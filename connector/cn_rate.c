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
 * Status shows, per limited community, each limit and the requests
 * admitted in the last whole second.
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

struct bucket {
	uint64_t milli;		/* tokens x 1000 */
	uint64_t last;		/* ms of the last refill */
	uint64_t win;		/* second of the current count */
	uint32_t now, prev;	/* admitted this second, the last one */
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

static void roll(struct bucket *b, uint64_t now)
{
	const uint64_t sec = now / 1000;

	if (sec != b->win) {
		b->prev = sec == b->win + 1 ? b->now : 0;
		b->now = 0;
		b->win = sec;
	}
}

/*
 * Does r fit its community's rate?  True when no limit applies (and
 * the request is counted); false when its bucket is empty: the caller
 * refuses it rate-limit.
 */
bool px_rate_admit(struct cn_px *px, const struct px_req *r)
{
	const struct cfg_extern *ex = px_extern(px, r->comm);
	const uint64_t now = sst_tmr_now();
	struct px_rate *pr;
	struct bucket *b;
	unsigned lim;
	int k = kind_of(r);

	if (!ex || k < 0 || !(lim = limit_of(ex, k)))
		return true;
	pr = rate_get(px, r->comm);
	if (!pr)
		return true;	/* out of memory: never a refusal */
	b = &pr->b[k][r->dir == CN_DIR_OUTBOUND];
	if (!b->last) {
		b->milli = (uint64_t)lim * 1000;
		b->last = now;
	}
	b->milli += (now - b->last) * lim;
	if (b->milli > (uint64_t)lim * 1000)
		b->milli = (uint64_t)lim * 1000;
	b->last = now;
	roll(b, now);
	if (b->milli < 1000) {
		b->limited++;
		return false;
	}
	b->milli -= 1000;
	b->now++;
	return true;
}

/* rates: per limited community, each limit and the last second. */
void px_rate_status(struct cn_px *px, struct dmn_st *root)
{
	const struct cfg *cfg = px->cn->cfg;
	const uint64_t now = sst_tmr_now();
	struct dmn_st *l = dmn_st_list(root, "rates");
	size_t i;
	int k, d;

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];
		struct px_rate *pr = NULL;
		struct le *le;
		struct dmn_st *it;

		if (!ex->message_rate && !ex->notify_rate &&
		    !ex->subscribe_rate)
			continue;
		for (le = px->rates.head; le && !pr; le = le->next)
			if (!strcmp(((struct px_rate *)le->data)->comm,
				    ex->name))
				pr = le->data;
		it = dmn_st_item(l);
		dmn_st_str(it, "community", ex->name);
		for (k = 0; k < K_COUNT; k++) {
			char key[32];

			re_snprintf(key, sizeof(key), "%s_limit", k_name[k]);
			dmn_st_int(it, key, limit_of(ex, k));
			for (d = 0; d < 2; d++) {
				struct bucket *b = pr ? &pr->b[k][d] : NULL;

				if (b)
					roll(b, now);
				re_snprintf(key, sizeof(key), "%s_%s_per_s",
					    k_name[k], d ? "out" : "in");
				dmn_st_int(it, key, b ? b->prev : 0);
				re_snprintf(key, sizeof(key), "%s_%s_limited",
					    k_name[k], d ? "out" : "in");
				dmn_st_int(it, key, b ? (int64_t)b->limited :
					   0);
			}
		}
	}
}

void px_rate_stop(struct cn_px *px)
{
	list_flush(&px->rates);
}
