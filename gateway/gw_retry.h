/*
 * gw_retry.h -- when the gateway asks again: the retry policy of
 * federation subscriptions and the re-probe schedule of a connector
 * link that went down.
 *
 * Owns: the classification of answers into transient and permanent
 *	failures, and the waits before the next attempt.
 * Not here: the timers and the state of each subscription or link
 *	(gw_fed.c keeps them; it calls these pure functions).
 * Memory: none.
 */
#ifndef STC_GW_RETRY_H
#define STC_GW_RETRY_H

#include <stdbool.h>
#include <stdint.h>

enum {
	GW_RETRY_TRANSIENT_S     = 3,        /* first wait, transient */
	GW_RETRY_TRANSIENT_MAX_S = 60,       /* doubling up to this */
	GW_RETRY_REFUSED_S       = 300,      /* first wait, refused */
	GW_RETRY_REFUSED_MAX_S   = 4 * 3600, /* doubling up to this */
	GW_RETRY_LINK_FIRST_S    = 1,        /* a down link: 1 s, doubling
					      * up to retryInterval */
};

/* Does this final answer refuse a subscription for good (no such user,
 * the partner refuses us, the request cannot work: 400, 403, 404, 405,
 * 410, 415, 416, 420, 484, 485, 488, 489, 603, 604, 606)?  Everything
 * else (408, 480, 481, 5xx, 0 for no answer or transport failure) is
 * transient. */
bool gw_retry_permanent(uint16_t scode);

/* Seconds to wait after the fails-th failure in a row (fails >= 1) of
 * the given kind: 3, 6, 12 ... 60 s, or 300, 600 ... 14400 s. */
unsigned gw_retry_wait(bool permanent, unsigned fails);

/* Seconds before the next probe of a link that is down, after the
 * fails-th failed probe in a row (fails >= 1): 1, 2, 4 ... up to max_s
 * (its retryInterval; 0 counts as 1). */
unsigned gw_retry_link_wait(unsigned fails, unsigned max_s);

#endif /* STC_GW_RETRY_H */
