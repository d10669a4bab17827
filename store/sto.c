/*
 * sto.c -- the store's front: the change queue, the writer thread, the
 * health and the counters; the memory kind (which keeps nothing).
 *
 * Loop side: a change is copied into one malloc() block and appended
 * to the queue under the mutex; that is all the loop ever waits for.
 * Writer side: take up to STO_BATCH_MAX changes from the head, apply
 * them in one transaction, and commit.  A batch that fails is rolled
 * back and put back at the head, in order, and tried again after
 * STO_RETRY_MS: nothing is lost while the file cannot be written, the
 * queue grows (up to STO_BACKLOG_MAX) and the store says it is
 * unhealthy.  Expired entries are deleted every STO_CLEAN_S.  Health
 * changes ring the mqueue doorbell, so that the loop, not the writer,
 * tells the log.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "store/sto_int.h"

struct sto {
	enum sto_kind kind;
	char *path;
	const struct sto_driver *drv;
	void *db;                         /* the writer's, after load */

	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t cond;              /* work for the writer */
	pthread_cond_t donec;             /* an attempt finished */
	struct sto_op *head, *tail;       /* under mtx */
	uint64_t seq;                     /* last queued, under mtx */
	uint64_t tried;                   /* last attempted, under mtx */
	uint64_t done;                    /* last committed, under mtx */
	uint64_t attempts;                /* batches tried, under mtx */
	bool stop;                        /* under mtx */
	struct sto_stats st;              /* under mtx */
	uint64_t lat_sum;

	struct mqueue *mq;
	sto_log_h *logh;
	void *logarg;

	char *conninfo;                   /* for the feed (pgsql) */
	char *node;
	void *feed;                       /* the driver's reader */
	struct mqueue *fmq;               /* a doorbell only */
	struct feed_item *fhead, *ftail;  /* its messages, under mtx */
	sto_remote_h *rh;
	sto_feed_h *fh;
	void *farg;
};

/* A feed's message, queued here rather than in the mqueue so that
 * what the loop did not take yet is freed at close. */
struct feed_item {
	struct feed_item *next;
	int id;
	void *data;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *sto_kind_name(enum sto_kind kind)
{
	switch (kind) {
	case STO_SQLITE: return "sqlite";
	case STO_PGSQL:  return "postgresql";
	default:         return "memory";
	}
}

static void ops_free(struct sto_op *op)
{
	while (op) {
		struct sto_op *next = op->next;

		free(op);
		op = next;
	}
}

/* ---- the writer ---- */

static void cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m,
			 unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(c, m, &ts);
}

/* Apply the batch in one transaction: 0, or the first error. */
static int batch_apply(struct sto *st, const struct sto_op *op)
{
	int err = st->drv->begin(st->db);

	for (; !err && op; op = op->next)
		err = st->drv->apply(st->db, op);
	if (!err)
		err = st->drv->commit(st->db);
	if (err)
		st->drv->rollback(st->db);
	return err;
}

/* Under mtx: note the outcome; ring the doorbell when health changes. */
static void batch_note(struct sto *st, int err, size_t n, uint64_t us)
{
	const bool was = st->st.healthy;

	if (err) {
		st->st.healthy = false;
		st->st.failures++;
		re_snprintf(st->st.last_error, sizeof(st->st.last_error),
			    "%s", st->drv->errmsg(st->db));
	}
	else {
		st->st.healthy = true;
		st->st.written += n;
		st->st.batches++;
		st->st.last_us = us;
		st->st.max_us = max(st->st.max_us, us);
		st->lat_sum += us;
		st->st.avg_us = st->lat_sum / st->st.batches;
		st->st.last_ok = (int64_t)time(NULL);
	}
	if (was != st->st.healthy && st->mq)
		(void)mqueue_push(st->mq, st->st.healthy, NULL);
}

static void *writer_main(void *arg)
{
	struct sto *st = arg;
	uint64_t clean_at = now_us() + STO_CLEAN_S * 1000000ull;

	pthread_mutex_lock(&st->mtx);
	for (;;) {
		struct sto_op *batch, *last;
		uint64_t t0, us;
		size_t n = 0;
		bool stopping;
		int err;

		while (!st->stop && !st->head && now_us() < clean_at)
			cond_wait_ms(&st->cond, &st->mtx, 1000);
		stopping = st->stop;

		/* due even while changes keep coming */
		if (!stopping && now_us() >= clean_at) {
			uint64_t num = 0;

			pthread_mutex_unlock(&st->mtx);
			err = st->drv->expire(st->db, (int64_t)time(NULL),
					      &num);
			pthread_mutex_lock(&st->mtx);
			clean_at = now_us() + STO_CLEAN_S * 1000000ull;
			if (!err)
				st->st.cleaned += num;
			continue;
		}
		if (!st->head) {
			if (stopping)
				break;
			continue;
		}

		/* take up to STO_BATCH_MAX from the head */
		batch = last = st->head;
		for (n = 1; last->next && n < STO_BATCH_MAX; n++)
			last = last->next;
		st->head = last->next;
		if (!st->head)
			st->tail = NULL;
		last->next = NULL;
		st->st.backlog -= (uint32_t)n;
		pthread_mutex_unlock(&st->mtx);

		t0 = now_us();
		err = batch_apply(st, batch);
		us = now_us() - t0;

		pthread_mutex_lock(&st->mtx);
		batch_note(st, err, n, us);
		st->attempts++;
		/* a failed batch blocks everything behind it: all tried */
		st->tried = err ? st->seq : last->seq;
		if (!err) {
			st->done = last->seq;
			ops_free(batch);
		}
		else if (stopping) {
			st->st.dropped += n;
			ops_free(batch);
		}
		else {
			/* back at the head, in order, for the next try */
			last->next = st->head;
			st->head = batch;
			if (!st->tail)
				st->tail = last;
			st->st.backlog += (uint32_t)n;
		}
		pthread_cond_broadcast(&st->donec);
		if (stopping && !st->head)
			break;
		if (err && !stopping) {
			const uint64_t until = now_us() +
				STO_RETRY_MS * 1000ull;
			uint64_t t;

			while (!st->stop && (t = now_us()) < until)
				cond_wait_ms(&st->cond, &st->mtx,
					     (unsigned)((until - t) / 1000) + 1);
		}
	}
	st->tried = st->seq;
	pthread_cond_broadcast(&st->donec);
	pthread_mutex_unlock(&st->mtx);
	return NULL;
}

static void mq_handler(int id, void *data, void *arg)
{
	struct sto *st = arg;
	char msg[STO_ERR_MAX];

	(void)data;
	pthread_mutex_lock(&st->mtx);
	str_ncpy(msg, id ? "" : st->st.last_error, sizeof(msg));
	pthread_mutex_unlock(&st->mtx);
	if (st->logh)
		st->logh(id != 0, msg, st->logarg);
}

/* ---- life ---- */

static void sto_destructor(void *arg)
{
	struct sto *st = arg;

	if (st->feed)
		st->drv->unfollow(st->feed);
	st->feed = NULL;
	st->fmq = mem_deref(st->fmq);
	while (st->fhead) {
		struct feed_item *it = st->fhead;

		st->fhead = it->next;
		free(it->data);
		free(it);
	}
	if (st->started) {
		pthread_mutex_lock(&st->mtx);
		st->stop = true;
		pthread_cond_broadcast(&st->cond);
		pthread_mutex_unlock(&st->mtx);
		pthread_join(st->thread, NULL);
	}
	ops_free(st->head);
	if (st->drv && st->db)
		st->drv->close(st->db);
	if (st->kind != STO_MEMORY) {
		pthread_cond_destroy(&st->cond);
		pthread_cond_destroy(&st->donec);
		pthread_mutex_destroy(&st->mtx);
	}
	st->mq = mem_deref(st->mq);
	st->path = mem_deref(st->path);
	st->conninfo = mem_deref(st->conninfo);
	st->node = mem_deref(st->node);
}

int sto_alloc(struct sto **stop, const struct sto_conf *conf, char *why,
	      size_t whysz)
{
	struct sto *st;
	int err;

	if (!stop || !conf || !why || !whysz)
		return EINVAL;
	why[0] = '\0';
	if (conf->kind == STO_SQLITE && (!conf->path || !conf->path[0])) {
		re_snprintf(why, whysz, "the sqlite store needs a file");
		return EINVAL;
	}
	if (conf->kind == STO_PGSQL && (!conf->path || !conf->path[0])) {
		re_snprintf(why, whysz, "the postgresql store needs a "
			    "connection string");
		return EINVAL;
	}

	st = mem_zalloc(sizeof(*st), sto_destructor);
	if (!st)
		return ENOMEM;
	st->kind = conf->kind;
	st->st.kind = conf->kind;
	st->st.healthy = true;
	if (st->kind == STO_MEMORY) {
		*stop = st;
		return 0;
	}

	pthread_mutex_init(&st->mtx, NULL);
	pthread_cond_init(&st->cond, NULL);
	pthread_cond_init(&st->donec, NULL);
	st->drv = conf->kind == STO_PGSQL ? &sto_pg_driver :
		&sto_sqlite_driver;
	err = conf->kind == STO_PGSQL ? sto_pg_shown(&st->path, conf->path) :
		str_dup(&st->path, conf->path);
	if (err)
		goto out;
	if (conf->kind == STO_PGSQL) {
		err = str_dup(&st->conninfo, conf->path);
		if (!err)
			err = str_dup(&st->node, conf->node && conf->node[0] ?
				      conf->node : "-");
		if (err)
			goto out;
	}
	err = st->drv->open(&st->db, conf, why, whysz);
	if (err)
		goto out;
	err = mqueue_alloc(&st->mq, mq_handler, st);
	if (err) {
		re_snprintf(why, whysz, "store: no doorbell: %m", err);
		goto out;
	}
 out:
	if (err)
		mem_deref(st);
	else
		*stop = st;
	return err;
}

enum sto_kind sto_kind(const struct sto *st)
{
	return st ? st->kind : STO_MEMORY;
}

const char *sto_path(const struct sto *st)
{
	return st ? st->path : NULL;
}

void sto_set_log(struct sto *st, sto_log_h *h, void *arg)
{
	if (!st)
		return;
	st->logh = h;
	st->logarg = arg;
}

int sto_load(struct sto *st, const struct sto_load_h *h, void *arg,
	     int64_t now)
{
	uint64_t num = 0;
	int err;

	if (!st || !h)
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	if (st->started)
		return EALREADY;

	err = st->drv->expire(st->db, now, &num);
	if (!err)
		err = st->drv->load(st->db, h, arg);
	st->st.cleaned += num;
	if (err) {
		re_snprintf(st->st.last_error, sizeof(st->st.last_error),
			    "%s", st->drv->errmsg(st->db));
		return err;
	}

	/* the writer owns the connection from now on */
	err = pthread_create(&st->thread, NULL, writer_main, st);
	if (err)
		return err;
	st->started = true;
	return 0;
}

/* ---- the other gateways (shared kinds) ---- */

static void feed_note(struct sto *st, bool up, bool resync, bool update)
{
	pthread_mutex_lock(&st->mtx);
	st->st.feed_up = up;
	if (resync) {
		st->st.feed_resyncs++;
		st->st.gateways_down = 0;
	}
	if (update)
		st->st.feed_updates++;
	pthread_mutex_unlock(&st->mtx);
}

static void feed_one(struct sto *st, int id, void *data)
{
	switch (id) {
	case STO_FEED_UP: {
		struct sto_remote r;

		memset(&r, 0, sizeof(r));
		feed_note(st, true, true, false);
		if (st->fh)
			st->fh(true, "", st->farg);
		if (st->rh)
			st->rh(&r, st->farg);
		break;
	}
	case STO_FEED_SYNCED: {
		struct sto_remote r;

		memset(&r, 0, sizeof(r));
		r.synced = true;
		if (st->rh)
			st->rh(&r, st->farg);
		break;
	}
	case STO_FEED_RESYNC: {
		struct sto_remote r;

		memset(&r, 0, sizeof(r));
		if (st->rh)
			st->rh(&r, st->farg);
		break;
	}
	case STO_FEED_NODE_DOWN:
	case STO_FEED_NODE_UP: {
		struct sto_remote r;

		memset(&r, 0, sizeof(r));
		r.node = data;
		r.node_up = id == STO_FEED_NODE_UP;
		pthread_mutex_lock(&st->mtx);
		if (!r.node_up)
			st->st.gateways_down++;
		else if (st->st.gateways_down)
			st->st.gateways_down--;
		pthread_mutex_unlock(&st->mtx);
		if (st->rh && data)
			st->rh(&r, st->farg);
		break;
	}
	case STO_FEED_DOWN:
		feed_note(st, false, false, false);
		if (st->fh)
			st->fh(false, data ? data : "", st->farg);
		break;
	case STO_FEED_AOR: {
		const struct sto_feed_msg *m = data;

		feed_note(st, true, false, true);
		if (st->rh && m)
			st->rh(&m->r, st->farg);
		break;
	}
	default:
		break;
	}
	free(data);
}

/* The doorbell: take every message queued so far, in order. */
static void feed_handler(int id, void *data, void *arg)
{
	struct sto *st = arg;

	(void)id;
	(void)data;
	for (;;) {
		struct feed_item *it;

		pthread_mutex_lock(&st->mtx);
		it = st->fhead;
		if (it) {
			st->fhead = it->next;
			if (!st->fhead)
				st->ftail = NULL;
		}
		pthread_mutex_unlock(&st->mtx);
		if (!it)
			break;
		feed_one(st, it->id, it->data);
		free(it);
	}
}

/* On the reader's thread. */
static void feed_push(int id, void *msg, void *arg)
{
	struct sto *st = arg;
	struct feed_item *it = calloc(1, sizeof(*it));

	if (!it) {
		free(msg);
		return;
	}
	it->id = id;
	it->data = msg;
	pthread_mutex_lock(&st->mtx);
	if (st->ftail)
		st->ftail->next = it;
	else
		st->fhead = it;
	st->ftail = it;
	pthread_mutex_unlock(&st->mtx);
	(void)mqueue_push(st->fmq, 0, NULL);
}

int sto_follow(struct sto *st, sto_remote_h *rh, sto_feed_h *fh, void *arg)
{
	struct sto_conf c;
	int err;

	if (!st)
		return EINVAL;
	if (!st->drv || !st->drv->follow || st->feed)
		return 0;
	st->rh = rh;
	st->fh = fh;
	st->farg = arg;
	err = mqueue_alloc(&st->fmq, feed_handler, st);
	if (err)
		return err;
	memset(&c, 0, sizeof(c));
	c.kind = st->kind;
	c.path = st->conninfo;
	c.node = st->node;
	err = st->drv->follow(&st->feed, &c, feed_push, st);
	if (err) {
		st->fmq = mem_deref(st->fmq);
		return err;
	}
	pthread_mutex_lock(&st->mtx);
	st->st.following = true;
	pthread_mutex_unlock(&st->mtx);
	return 0;
}

/* ---- changes ---- */

static size_t slen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copy s to the cursor *pp; NULL stays NULL. */
static const char *sput(char **pp, const char *s)
{
	const size_t n = slen(s);
	char *d = *pp;

	if (!n)
		return NULL;
	memcpy(d, s, n);
	*pp += n;
	return d;
}

static size_t sub_strlen(const struct sto_sub *s)
{
	return slen(s->callid) + slen(s->ltag) + slen(s->rtag) +
		slen(s->watcher) + slen(s->target) + slen(s->rfrom) +
		slen(s->ruri) + slen(s->entity) + slen(s->route) +
		slen(s->tp) + slen(s->src) + slen(s->dst);
}

static void sub_copy(struct sto_sub *d, const struct sto_sub *s, char **pp)
{
	*d = *s;
	d->callid = sput(pp, s->callid);
	d->ltag = sput(pp, s->ltag);
	d->rtag = sput(pp, s->rtag);
	d->watcher = sput(pp, s->watcher);
	d->target = sput(pp, s->target);
	d->rfrom = sput(pp, s->rfrom);
	d->ruri = sput(pp, s->ruri);
	d->entity = sput(pp, s->entity);
	d->route = sput(pp, s->route);
	d->tp = sput(pp, s->tp);
	d->src = sput(pp, s->src);
	d->dst = sput(pp, s->dst);
}

static int enqueue(struct sto *st, struct sto_op *op)
{
	pthread_mutex_lock(&st->mtx);
	if (st->st.backlog >= STO_BACKLOG_MAX) {
		st->st.dropped++;
		st->st.healthy = false;
		re_snprintf(st->st.last_error, sizeof(st->st.last_error),
			    "queue full: %u changes wait for the file",
			    (unsigned)st->st.backlog);
		pthread_mutex_unlock(&st->mtx);
		free(op);
		return ENOSPC;
	}
	op->seq = ++st->seq;
	if (st->tail)
		st->tail->next = op;
	else
		st->head = op;
	st->tail = op;
	st->st.backlog++;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->mtx);
	return 0;
}

int sto_reg_set(struct sto *st, const char *aor,
		const struct sto_binding *bv, size_t n)
{
	struct sto_op *op;
	size_t i, sz;
	char *p;

	if (!st || !aor || (n && !bv))
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	sz = sizeof(*op) + n * sizeof(*bv) + slen(aor);
	for (i = 0; i < n; i++)
		sz += slen(bv[i].uri) + slen(bv[i].instance) +
			slen(bv[i].callid) + slen(bv[i].tp) +
			slen(bv[i].src) + slen(bv[i].dst);
	op = calloc(1, sz);
	if (!op)
		return ENOMEM;
	op->type = STO_OP_REG_SET;
	op->n = n;
	op->bv = (struct sto_binding *)(op + 1);
	p = (char *)(op->bv + n);
	op->aor = sput(&p, aor);
	for (i = 0; i < n; i++) {
		struct sto_binding *b = &op->bv[i];

		*b = bv[i];
		b->aor = op->aor;
		b->uri = sput(&p, bv[i].uri);
		b->instance = sput(&p, bv[i].instance);
		b->callid = sput(&p, bv[i].callid);
		b->tp = sput(&p, bv[i].tp);
		b->src = sput(&p, bv[i].src);
		b->dst = sput(&p, bv[i].dst);
	}
	return enqueue(st, op);
}

int sto_pub_set(struct sto *st, const char *aor, const struct sto_pub *pv,
		size_t n)
{
	struct sto_op *op;
	size_t i, sz;
	char *p;

	if (!st || !aor || (n && !pv))
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	sz = sizeof(*op) + n * sizeof(*pv) + slen(aor);
	for (i = 0; i < n; i++)
		sz += slen(pv[i].etag) + slen(pv[i].note);
	op = calloc(1, sz);
	if (!op)
		return ENOMEM;
	op->type = STO_OP_PUB_SET;
	op->n = n;
	op->pv = (struct sto_pub *)(op + 1);
	p = (char *)(op->pv + n);
	op->aor = sput(&p, aor);
	for (i = 0; i < n; i++) {
		struct sto_pub *d = &op->pv[i];

		*d = pv[i];
		d->aor = op->aor;
		d->etag = sput(&p, pv[i].etag);
		d->note = sput(&p, pv[i].note);
	}
	return enqueue(st, op);
}

int sto_sub_put(struct sto *st, const struct sto_sub *s)
{
	struct sto_op *op;
	char *p;

	if (!st || !s || !s->callid || !s->ltag)
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	op = calloc(1, sizeof(*op) + sub_strlen(s));
	if (!op)
		return ENOMEM;
	op->type = STO_OP_SUB_PUT;
	p = (char *)(op + 1);
	sub_copy(&op->sub, s, &p);
	return enqueue(st, op);
}

int sto_sub_del(struct sto *st, const char *callid, const char *ltag)
{
	struct sto_op *op;
	struct sto_sub s;
	char *p;

	if (!st || !callid || !ltag)
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	memset(&s, 0, sizeof(s));
	s.callid = callid;
	s.ltag = ltag;
	op = calloc(1, sizeof(*op) + sub_strlen(&s));
	if (!op)
		return ENOMEM;
	op->type = STO_OP_SUB_DEL;
	p = (char *)(op + 1);
	sub_copy(&op->sub, &s, &p);
	return enqueue(st, op);
}

int sto_sync(struct sto *st)
{
	uint64_t want, a0;
	int err;

	if (!st)
		return EINVAL;
	if (st->kind == STO_MEMORY)
		return 0;
	if (!st->started)
		return st->head ? EIO : 0;
	pthread_mutex_lock(&st->mtx);
	want = st->seq;
	a0 = st->attempts;
	/* committed, or an attempt made after this call failed */
	while (st->done < want && (st->tried < want || st->attempts == a0))
		pthread_cond_wait(&st->donec, &st->mtx);
	err = st->done >= want ? 0 : EIO;
	pthread_mutex_unlock(&st->mtx);
	return err;
}

void sto_stats_get(const struct sto *st, struct sto_stats *ss)
{
	struct sto *m = (struct sto *)st;   /* the mutex, not the state */

	if (!ss)
		return;
	if (!st) {
		memset(ss, 0, sizeof(*ss));
		ss->healthy = true;
		return;
	}
	if (st->kind == STO_MEMORY) {
		*ss = st->st;
		return;
	}
	pthread_mutex_lock(&m->mtx);
	*ss = st->st;
	pthread_mutex_unlock(&m->mtx);
}

bool sto_degraded(const struct sto *st)
{
	struct sto_stats ss;

	sto_stats_get(st, &ss);
	return !ss.healthy;
}
