/*
 * sst_timer.h -- many timers on one libre timer.
 *
 * Owns: a timer queue (binary min-heap of deadlines) read from the
 * monotonic clock, and the single libre timer that wakes it up.
 * Not here: what the timers mean (sst_trans.h).
 *
 * Why: libre 1.1.0 keeps its timers in one sorted list, so a tmr_start()
 * with a short delay walks past every longer pending timer (364 us with
 * 100k pending).  Transactions start timers of mixed durations (T1 ...
 * 64*T1), so they use this queue instead: insert and cancel are
 * O(log n), the earliest deadline is O(1), and libre sees one timer.
 *
 * Driving: the libre timer is armed to the earliest deadline only when a
 * new timer is earlier than the one already armed; a cancelled head is
 * left in place and the spurious wake-up re-arms to the new head.  So
 * tmr_start() on libre's list runs at most once per timer and usually
 * not at all.  There is no fixed tick: an empty queue costs nothing.
 *
 * Clock: deadlines are CLOCK_MONOTONIC milliseconds, so an NTP step does
 * not move them.  The libre timer that wakes us measures its delay with
 * gettimeofday() in libre 1.1.0: a backward wall-clock step can delay
 * that wake-up (never the order of expiry).  A timerfd on fd_listen()
 * would remove this; it is not done because one libre timer suffices
 * for now.
 *
 * Memory: struct sst_tmr is embedded in its owner (no allocation per
 * start).  The queue holds an array of pointers that grows by doubling
 * and is never shrunk.  The owner must cancel its timers before freeing
 * them (sst_tmr_cancel() on a stopped timer is a no-op).
 *
 * Handlers run from the libre loop, one at a time, earliest first (ties
 * in start order).  A handler may start, re-start or cancel any timer,
 * including its own, and may free its owner.
 */
#ifndef STC_SST_TIMER_H
#define STC_SST_TIMER_H

#include <stdint.h>
#include <stdbool.h>

struct sst_tmrq;

typedef void (sst_tmr_h)(void *arg);
/* A clock in milliseconds; tests pass their own to step time by hand. */
typedef uint64_t (sst_clock_h)(void *arg);

/* One timer.  Treat the members as private; zero or sst_tmr_init(). */
struct sst_tmr {
	struct sst_tmrq *q;	/* queue while running, else NULL */
	sst_tmr_h *h;
	void *arg;
	uint64_t due;		/* ms on the queue's clock */
	uint32_t seq;		/* start order, breaks ties */
	uint32_t idx;		/* heap slot while running */
};

/* Counters of one queue. */
struct sst_tmrq_stats {
	uint64_t started;	/* sst_tmr_start() calls */
	uint64_t fired;		/* handlers called */
	uint64_t cancelled;	/* running timers stopped */
	uint64_t wakeups;	/* libre timer expiries */
	uint32_t pending;	/* running timers now */
	uint32_t capacity;	/* heap slots allocated */
};

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t sst_tmr_now(void);

/*
 * A new queue.  clockh NULL: the monotonic clock and a libre timer drive
 * it.  clockh set: nobody drives it; the caller calls sst_tmrq_expire().
 */
int  sst_tmrq_alloc(struct sst_tmrq **qp, sst_clock_h *clockh, void *arg);
uint64_t sst_tmrq_now(const struct sst_tmrq *q);
/* Run every handler whose deadline has passed; returns how many ran. */
unsigned sst_tmrq_expire(struct sst_tmrq *q);
void sst_tmrq_stats(const struct sst_tmrq *q, struct sst_tmrq_stats *st);

void sst_tmr_init(struct sst_tmr *t);
/* (Re)start t to fire delay ms from now.  Returns ENOMEM if the heap
 * cannot grow (t is then stopped), EINVAL on bad arguments. */
int  sst_tmr_start(struct sst_tmrq *q, struct sst_tmr *t, uint64_t delay,
		   sst_tmr_h *h, void *arg);
/* (Re)start t to fire at the absolute time due (queue clock, ms). */
int  sst_tmr_start_at(struct sst_tmrq *q, struct sst_tmr *t, uint64_t due,
		      sst_tmr_h *h, void *arg);
void sst_tmr_cancel(struct sst_tmr *t);

static inline bool sst_tmr_isrunning(const struct sst_tmr *t)
{
	return t && t->q != NULL;
}

#endif
