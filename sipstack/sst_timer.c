/*
 * sst_timer.c -- binary min-heap of embedded timers, woken by one libre
 * timer.  See sst_timer.h for the contract.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sst_timer.h"

enum {
	SST_TMRQ_INITCAP = 64,
	SST_TMRQ_MAXCAP  = 1u << 30,	/* slots; far beyond any real load */
};

struct sst_tmrq {
	struct sst_tmr **heap;
	uint32_t n;
	uint32_t cap;
	uint32_t seq;
	sst_clock_h *clockh;
	void *clockarg;
	struct tmr wake;	/* the one libre timer (real clock only) */
	uint64_t armed;		/* deadline wake is armed for; 0 = none */
	struct sst_tmrq_stats st;
};

uint64_t sst_tmr_now(void)
{
	struct timespec ts;

	/* Cannot fail for CLOCK_MONOTONIC on Linux. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void destructor(void *data)
{
	struct sst_tmrq *q = data;
	uint32_t i;

	tmr_cancel(&q->wake);

	/* Owners outliving the queue see their timers stopped. */
	for (i = 0; i < q->n; i++)
		q->heap[i]->q = NULL;

	mem_deref(q->heap);
}

uint64_t sst_tmrq_now(const struct sst_tmrq *q)
{
	if (q && q->clockh)
		return q->clockh(q->clockarg);

	return sst_tmr_now();
}

/* a before b: earlier deadline, then earlier start. */
static inline bool before(const struct sst_tmr *a, const struct sst_tmr *b)
{
	if (a->due != b->due)
		return a->due < b->due;

	return (int32_t)(a->seq - b->seq) < 0;
}

static inline void place(struct sst_tmrq *q, uint32_t i, struct sst_tmr *t)
{
	q->heap[i] = t;
	t->idx = i;
}

static void sift_up(struct sst_tmrq *q, uint32_t i)
{
	struct sst_tmr *t = q->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!before(t, q->heap[p]))
			break;

		place(q, i, q->heap[p]);
		i = p;
	}

	place(q, i, t);
}

static void sift_down(struct sst_tmrq *q, uint32_t i)
{
	struct sst_tmr *t = q->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(q->heap[c + 1], q->heap[c]))
			++c;
		if (!before(q->heap[c], t))
			break;

		place(q, i, q->heap[c]);
		i = c;
	}

	place(q, i, t);
}

/* Take t out of the heap; t must be in q. */
static void heap_remove(struct sst_tmrq *q, struct sst_tmr *t)
{
	uint32_t i = t->idx;
	struct sst_tmr *last;

	last = q->heap[--q->n];
	t->q = NULL;

	if (i == q->n)
		return;

	place(q, i, last);
	if (i > 0 && before(last, q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

static void wake_h(void *arg);

/* Make sure the libre timer fires no later than the head's deadline. */
static void arm(struct sst_tmrq *q)
{
	uint64_t due, now;

	if (q->clockh || !q->n)
		return;

	due = q->heap[0]->due;
	if (q->armed && q->armed <= due && tmr_isrunning(&q->wake))
		return;

	now = sst_tmr_now();
	q->armed = due;
	tmr_start(&q->wake, due > now ? due - now : 0, wake_h, q);
}

unsigned sst_tmrq_expire(struct sst_tmrq *q)
{
	unsigned ran = 0;
	uint64_t now;

	if (!q)
		return 0;

	/* Keep the queue alive should a handler drop the last reference. */
	mem_ref(q);
	now = sst_tmrq_now(q);

	while (q->n && q->heap[0]->due <= now) {
		struct sst_tmr *t = q->heap[0];
		sst_tmr_h *h = t->h;
		void *arg = t->arg;

		heap_remove(q, t);
		t->h = NULL;
		++q->st.fired;
		++ran;

		h(arg);	/* may touch any timer, t included, or free t */
	}

	arm(q);
	mem_deref(q);

	return ran;
}

static void wake_h(void *arg)
{
	struct sst_tmrq *q = arg;

	q->armed = 0;
	++q->st.wakeups;
	(void)sst_tmrq_expire(q);
}

int sst_tmrq_alloc(struct sst_tmrq **qp, sst_clock_h *clockh, void *arg)
{
	struct sst_tmrq *q;
	int err = 0;

	if (!qp)
		return EINVAL;

	q = mem_zalloc(sizeof(*q), destructor);
	if (!q)
		return ENOMEM;

	q->heap = mem_zalloc(SST_TMRQ_INITCAP * sizeof(*q->heap), NULL);
	if (!q->heap) {
		err = ENOMEM;
		goto out;
	}

	q->cap = SST_TMRQ_INITCAP;
	q->clockh = clockh;
	q->clockarg = arg;
	tmr_init(&q->wake);

 out:
	if (err)
		mem_deref(q);
	else
		*qp = q;

	return err;
}

void sst_tmrq_stats(const struct sst_tmrq *q, struct sst_tmrq_stats *st)
{
	if (!q || !st)
		return;

	*st = q->st;
	st->pending = q->n;
	st->capacity = q->cap;
}

void sst_tmr_init(struct sst_tmr *t)
{
	if (t)
		memset(t, 0, sizeof(*t));
}

void sst_tmr_cancel(struct sst_tmr *t)
{
	if (!t || !t->q)
		return;

	++t->q->st.cancelled;
	heap_remove(t->q, t);
	t->h = NULL;
	t->arg = NULL;
	/* The libre timer stays armed: a spurious wake-up re-arms. */
}

int sst_tmr_start_at(struct sst_tmrq *q, struct sst_tmr *t, uint64_t due,
		     sst_tmr_h *h, void *arg)
{
	if (!q || !t || !h)
		return EINVAL;

	if (t->q) {
		/* Restart: leave the slot, keep the cancel counter honest. */
		heap_remove(t->q, t);
	}

	if (q->n == q->cap) {
		struct sst_tmr **heap;
		uint32_t cap = q->cap * 2;

		if (cap > SST_TMRQ_MAXCAP)
			goto nomem;

		heap = mem_reallocarray(q->heap, cap, sizeof(*heap), NULL);
		if (!heap)
			goto nomem;

		q->heap = heap;
		q->cap = cap;
	}

	t->q = q;
	t->h = h;
	t->arg = arg;
	t->due = due;
	t->seq = q->seq++;
	q->heap[q->n] = t;
	t->idx = q->n++;
	sift_up(q, t->idx);
	++q->st.started;

	if (t->idx == 0)
		arm(q);

	return 0;

 nomem:
	t->h = NULL;
	t->arg = NULL;
	return ENOMEM;
}

int sst_tmr_start(struct sst_tmrq *q, struct sst_tmr *t, uint64_t delay,
		  sst_tmr_h *h, void *arg)
{
	if (!q)
		return EINVAL;

	return sst_tmr_start_at(q, t, sst_tmrq_now(q) + delay, h, arg);
}
