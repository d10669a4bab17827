/*
 * dir.c -- the directory's front: configuration, the lookup thread, the
 * hand-off between it and the event loop, the cache and the counters.
 *
 * Loop side: a lookup is checked, answered from the cache when it can
 * be, joined to an identical lookup already in flight, or queued for
 * the thread as a plain malloc'd job with its answer struct allocated
 * here.  Thread side: pop a job, run it against the backend, put the
 * answer on the done list, ring the mqueue doorbell.  Loop side again:
 * drain the done list, update counters and cache, call the handlers.
 * The mutex guards only the two lists and the stop flag.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <re.h>

#include "directory/dir_int.h"

struct dir_pend {
	struct le le;
	uint64_t seq;
	enum dir_kind kind;
	char key[DIR_KEY_MAX + 1];
	uint64_t t0_us;
	dir_result_h *h;
	void *arg;
};

struct dir {
	struct dir_names names;
	char *strs[DIR_A_N + 2];      /* owned copies behind names */
	bool ldap;
	enum cfg_privacy privacy_default;
	unsigned ttl, neg_ttl;
	unsigned cache_size, timeout_ms;   /* as used, for the status */

	struct dir_be *be;            /* used by the thread only */
	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct dir_job *jobs, *jobs_tail;   /* under mtx */
	struct dir_ans *done, *done_tail;   /* under mtx */
	bool stop;                          /* under mtx */
	bool sync_init;

	struct mqueue *mq;
	struct list pend;
	struct list *delivering;
	uint64_t seq;
	size_t queued;
	struct dir_cache *cache;

	dir_log_h *logh;
	void *logarg;

	struct dir_stats st;
	uint64_t lat_sum_us;
	uint64_t lat_n;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000u;
}

static void *thread_main(void *arg)
{
	struct dir *d = arg;

	for (;;) {
		struct dir_job *job;

		pthread_mutex_lock(&d->mtx);
		while (!d->stop && !d->jobs)
			pthread_cond_wait(&d->cond, &d->mtx);
		if (d->stop) {
			pthread_mutex_unlock(&d->mtx);
			break;
		}
		job = d->jobs;
		d->jobs = job->next;
		if (!d->jobs)
			d->jobs_tail = NULL;
		pthread_mutex_unlock(&d->mtx);

		dir_job_run(d->be, job, job->ans, d->privacy_default);

		pthread_mutex_lock(&d->mtx);
		if (d->done_tail)
			d->done_tail->next = job->ans;
		else
			d->done = job->ans;
		d->done_tail = job->ans;
		pthread_mutex_unlock(&d->mtx);
		free(job);

		/* the doorbell: the loop drains the done list */
		(void)mqueue_push(d->mq, 0, NULL);
	}
	return NULL;
}

static void log_msg(struct dir *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (d->logh)
		d->logh(buf, d->logarg);
	else
		(void)re_fprintf(stderr, "directory: %s\n", buf);
}

static bool is_backend_err(int err)
{
	return err && err != ENOENT && err != ENODATA && err != ENOTUNIQ &&
	       err != EPROTONOSUPPORT && err != EBADMSG && err != EINVAL;
}

static void result_from(struct dir_result *r, const struct dir_ans *a,
			enum dir_kind kind, const char *key, bool cached)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->key = key;
	r->err = a->err;
	r->reason = a->reason;
	r->value = a->err ? NULL : a->value;
	r->secret = a->secret;
	r->privacy = a->privacy;
	r->list = (const char *const *)a->list;
	r->nlist = a->nlist;
	r->cached = cached;
}

static void deliver(struct dir *d, const struct dir_ans *a, uint64_t seq,
		    const char *key_for_log)
{
	struct list todo = LIST_INIT;
	struct le *le;

	/* move the waiters aside first: handlers may call back into us */
	le = list_head(&d->pend);
	while (le) {
		struct dir_pend *p = le->data;

		le = le->next;
		if (p->seq != seq)
			continue;
		list_unlink(&p->le);
		list_append(&todo, &p->le, p);
	}

	(void)key_for_log;
	mem_ref(d);
	d->delivering = &todo;
	while ((le = list_head(&todo))) {
		struct dir_pend *p = le->data;
		struct dir_result r;
		uint64_t lat = now_us() - p->t0_us;

		d->lat_sum_us += lat;
		d->lat_n++;
		if (lat > d->st.slowest_us)
			d->st.slowest_us = lat;

		list_unlink(&p->le);
		result_from(&r, a, p->kind, p->key, false);
		if (p->h)
			p->h(&r, p->arg);
		mem_deref(p);
	}
	d->delivering = NULL;
	mem_deref(d);
}

static void answer(struct dir *d, struct dir_ans *a)
{
	uint64_t ttl = 0;
	char key[DIR_KEY_MAX + 1] = "";
	struct le *le;

	if (d->queued)
		d->queued--;

	for (le = list_head(&d->pend); le; le = le->next) {
		const struct dir_pend *p = le->data;

		if (p->seq == a->seq) {
			memcpy(key, p->key, sizeof(key));
			break;
		}
	}

	if (is_backend_err(a->err) || (a->err && a->warn)) {
		if (is_backend_err(a->err))
			d->st.errors++;
		if (a->err == ENOTUNIQ)
			d->st.errors++;
	}
	if (is_backend_err(a->err)) {
		d->st.up = false;
		str_ncpy(d->st.last_error, a->reason,
			 sizeof(d->st.last_error));
	}
	else {
		d->st.up = true;
	}
	if (a->where[0])
		str_ncpy(d->st.server, a->where, sizeof(d->st.server));

	if (a->warn && a->reason[0])
		log_msg(d, "%s %s: %s (%s)", dir_kind_name(a->kind), key,
			a->reason, dir_err_name(a->err));

	deliver(d, a, a->seq, key);

	if (!a->err && a->kind != DIR_MEMBERS_OF)
		ttl = d->ttl;
	else if (!a->err)
		ttl = d->ttl;
	else if (a->err == ENOENT || a->err == ENODATA)
		ttl = d->neg_ttl;

	if (ttl && key[0])
		dir_cache_put(d->cache, a->kind, key, a,
			      now_ms() + ttl * 1000u);
	else
		dir_ans_free(a);
}

static void mq_handler(int id, void *data, void *arg)
{
	struct dir *d = arg;
	struct dir_ans *list;

	(void)id;
	(void)data;

	pthread_mutex_lock(&d->mtx);
	list = d->done;
	d->done = d->done_tail = NULL;
	pthread_mutex_unlock(&d->mtx);

	mem_ref(d);
	while (list) {
		struct dir_ans *a = list;

		list = a->next;
		a->next = NULL;
		answer(d, a);
	}
	mem_deref(d);
}

static void dir_destructor(void *arg)
{
	struct dir *d = arg;
	size_t i;

	if (d->started) {
		pthread_mutex_lock(&d->mtx);
		d->stop = true;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->mtx);
		pthread_join(d->thread, NULL);
	}
	while (d->jobs) {
		struct dir_job *j = d->jobs;

		d->jobs = j->next;
		dir_ans_free(j->ans);
		free(j);
	}
	while (d->done) {
		struct dir_ans *a = d->done;

		d->done = a->next;
		dir_ans_free(a);
	}
	if (d->be)
		d->be->ops->destroy(d->be);
	if (d->sync_init) {
		pthread_cond_destroy(&d->cond);
		pthread_mutex_destroy(&d->mtx);
	}
	list_flush(&d->pend);
	mem_deref(d->mq);
	mem_deref(d->cache);
	for (i = 0; i < ARRAY_SIZE(d->strs); i++)
		mem_deref(d->strs[i]);
}

/* A copy in d->strs[slot]; NULL stays NULL. */
static const char *keep(struct dir *d, size_t slot, const char *s,
			const char *def, int *errp)
{
	if (!s || !s[0])
		s = def;
	if (!s)
		return NULL;
	if (str_dup(&d->strs[slot], s))
		*errp = ENOMEM;
	return d->strs[slot];
}

static int path_of(char *buf, size_t sz, const char *base_dir,
		   const char *name)
{
	int n;

	if (name[0] == '/' || !base_dir || !base_dir[0])
		n = snprintf(buf, sz, "%s", name);
	else
		n = snprintf(buf, sz, "%s/%s", base_dir, name);
	return (n < 0 || (size_t)n >= sz) ? ENAMETOOLONG : 0;
}

/*
 * The bind password: first line of an owner-only regular file.
 * Refused when group or others may read it, as OpenSMTPD does.
 */
static int read_secret(const char *path, char *buf, size_t sz, char *why,
		       size_t whysz)
{
	struct stat st;
	FILE *f;
	size_t n;
	int err = 0;

	f = fopen(path, "r");
	if (!f) {
		err = errno;
		(void)re_snprintf(why, whysz, "%s: cannot open password file: "
				  "%m", path, err);
		return err;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		err = EINVAL;
		(void)re_snprintf(why, whysz, "%s: password file is not a "
				  "regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		err = EPERM;
		(void)re_snprintf(why, whysz, "%s: password file may be read "
				  "by group or others (chmod 600 it)", path);
		goto out;
	}
	n = fread(buf, 1, sz - 1, f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (n == sz - 1 && !feof(f)) {
		err = EMSGSIZE;
		(void)re_snprintf(why, whysz, "%s: password file too long",
				  path);
	}
 out:
	fclose(f);
	return err;
}

/* With thread false: the backend only, for dir_probe(). */
static int dir_make(struct dir **dp, const struct cfg_directory *cfg,
		    const char *base_dir, char *why, size_t whysz,
		    bool thread)
{
	char path[1024], ca[1024];
	char secret[DIR_SECRET_FILE_MAX];
	char dummy[8];
	struct dir *d;
	int err = 0;

	if (!why || !whysz) {
		why = dummy;
		whysz = sizeof(dummy);
	}
	why[0] = '\0';
	secret[0] = '\0';
	if (!dp || !cfg)
		return EINVAL;

	d = mem_zalloc(sizeof(*d), dir_destructor);
	if (!d)
		return ENOMEM;

	d->names.attr[DIR_A_ID] = keep(d, DIR_A_ID, cfg->attr_id, "uid", &err);
	d->names.attr[DIR_A_EMAIL] = keep(d, DIR_A_EMAIL, cfg->attr_email,
					  "mail", &err);
	d->names.attr[DIR_A_PASSWORD] = keep(d, DIR_A_PASSWORD,
					     cfg->attr_password,
					     "userPassword", &err);
	d->names.attr[DIR_A_PRIVACY] = keep(d, DIR_A_PRIVACY,
					    cfg->attr_privacy, NULL, &err);
	d->names.attr[DIR_A_MEMBER] = keep(d, DIR_A_MEMBER, cfg->attr_member,
					   "member", &err);
	d->names.base = keep(d, DIR_A_N, cfg->base, NULL, &err);
	d->names.filter = keep(d, DIR_A_N + 1, cfg->filter, NULL, &err);
	d->names.scope = cfg->scope;
	d->privacy_default = cfg->privacy;
	d->ttl = cfg->cache_ttl ? cfg->cache_ttl : CFG_DIR_CACHE_TTL;
	d->neg_ttl = cfg->neg_ttl ? cfg->neg_ttl : CFG_DIR_NEG_TTL;
	d->cache_size = cfg->cache_size;
	d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : CFG_DIR_TIMEOUT_MS;
	if (err)
		goto out;

	err = dir_cache_alloc(&d->cache, cfg->cache_size);
	if (err)
		goto out;

	if (cfg->backend == CFG_DIR_FILE) {
		if (!cfg->file || !cfg->file[0]) {
			err = EINVAL;
			(void)re_snprintf(why, whysz, "directory backend file "
					  "needs an LDIF file name");
			goto out;
		}
		err = path_of(path, sizeof(path), base_dir, cfg->file);
		if (!err)
			err = dir_ldif_open(&d->be, path, &d->names, why,
					    whysz);
		if (err)
			goto out;
	}
	else {
		d->ldap = true;
		if (cfg->password_file && cfg->password_file[0]) {
			err = path_of(path, sizeof(path), base_dir,
				      cfg->password_file);
			if (!err)
				err = read_secret(path, secret, sizeof(secret),
						  why, whysz);
			if (err)
				goto out;
		}
		if (cfg->ca_file && cfg->ca_file[0]) {
			err = path_of(ca, sizeof(ca), base_dir, cfg->ca_file);
			if (err)
				goto out;
		}
		err = dir_ldap_open(&d->be, cfg,
				    cfg->password_file ? secret : NULL,
				    cfg->ca_file && cfg->ca_file[0] ? ca : NULL,
				    &d->names, why, whysz);
		if (err)
			goto out;
	}
	d->be->ops->where(d->be, d->st.server, sizeof(d->st.server));
	d->st.up = true;
	if (!thread)
		goto done;

	err = mqueue_alloc(&d->mq, mq_handler, d);
	if (err)
		goto out;

	err = pthread_mutex_init(&d->mtx, NULL);
	if (err)
		goto out;
	err = pthread_cond_init(&d->cond, NULL);
	if (err) {
		pthread_mutex_destroy(&d->mtx);
		goto out;
	}
	d->sync_init = true;

	err = pthread_create(&d->thread, NULL, thread_main, d);
	if (err) {
		(void)re_snprintf(why, whysz, "cannot start the directory "
				  "lookup thread: %m", err);
		goto out;
	}
	d->started = true;
 done:
	*dp = d;
	d = NULL;
 out:
	memset(secret, 0, sizeof(secret));
	if (err && !why[0])
		(void)re_snprintf(why, whysz, "directory: %m", err);
	mem_deref(d);
	return err;
}

int dir_alloc(struct dir **dp, const struct cfg_directory *cfg,
	      const char *base_dir, char *why, size_t whysz)
{
	return dir_make(dp, cfg, base_dir, why, whysz, true);
}

int dir_probe(const struct cfg_directory *cfg, const char *base_dir,
	      bool server, struct dir_probe *pr, char *why, size_t whysz)
{
	struct dir_ents ents = {0};
	struct dir *d = NULL;
	uint64_t t0;
	int err;

	if (!cfg || !pr || !why || !whysz)
		return EINVAL;
	memset(pr, 0, sizeof(*pr));
	why[0] = '\0';
	err = dir_make(&d, cfg, base_dir, why, whysz, false);
	if (err)
		return err;
	d->be->ops->where(d->be, pr->where, sizeof(pr->where));
	if (!server || !d->ldap)
		goto out;

	/* the bind, then the search base itself (scope base) */
	t0 = now_us();
	err = d->be->ops->find(d->be, DIR_Q_DN, d->names.base ?
			       d->names.base : "", 1, &ents, why, whysz);
	pr->usec = now_us() - t0;
	d->be->ops->where(d->be, pr->where, sizeof(pr->where));
	if (!err && !ents.n) {
		(void)re_snprintf(why, whysz, "LDAP %s: search base \"%s\" "
				  "does not exist", pr->where,
				  d->names.base ? d->names.base : "");
		err = ENOENT;
	}
	pr->searched = !err;
	dir_ents_free(&ents);
 out:
	mem_deref(d);
	return err;
}

void dir_set_log(struct dir *d, dir_log_h *logh, void *arg)
{
	if (!d)
		return;
	d->logh = logh;
	d->logarg = arg;
}

/* Keys that could never be a stored ID or address go no further. */
static int key_check(const struct pl *key, const char **whyp)
{
	size_t i;

	if (!key->p || !key->l) {
		*whyp = "empty key";
		return EINVAL;
	}
	if (key->l > DIR_KEY_MAX) {
		*whyp = "key longer than 256 bytes";
		return EINVAL;
	}
	for (i = 0; i < key->l; i++) {
		const unsigned char c = (unsigned char)key->p[i];

		if (c < 0x20 || c == 0x7f) {
			*whyp = "key contains a NUL or control byte";
			return EINVAL;
		}
	}
	return 0;
}

static void answer_now(enum dir_kind kind, const char *key, int err,
		       const char *reason, dir_result_h *h, void *arg)
{
	struct dir_result r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.key = key;
	r.err = err;
	r.reason = reason;
	r.privacy = CFG_PRIVACY_NONE;
	h(&r, arg);
}

static void pend_destructor(void *arg)
{
	struct dir_pend *p = arg;

	list_unlink(&p->le);
}

int dir_lookup(struct dir *d, enum dir_kind kind, const struct pl *key,
	       dir_result_h *h, void *arg)
{
	char k[DIR_KEY_MAX + 1];
	const struct dir_ans *hit;
	const char *why = "";
	struct dir_pend *p;
	struct dir_job *job;
	struct le *le;
	uint64_t seq = 0;
	int err;

	if (!d || !key || !h || kind >= DIR_KIND_N)
		return EINVAL;

	d->st.lookups++;
	err = key_check(key, &why);
	if (err) {
		pl_strcpy(key, k, min(sizeof(k), key->l + 1));
		answer_now(kind, k, err, why, h, arg);
		return 0;
	}
	pl_strcpy(key, k, sizeof(k));

	hit = dir_cache_get(d->cache, kind, k, now_ms());
	if (hit) {
		struct dir_result r;

		d->st.hits++;
		result_from(&r, hit, kind, k, true);
		h(&r, arg);
		return 0;
	}
	d->st.misses++;

	/* the same question already on its way: wait for that answer */
	for (le = list_head(&d->pend); le; le = le->next) {
		const struct dir_pend *q = le->data;

		if (q->kind == kind && !str_casecmp(q->key, k)) {
			seq = q->seq;
			break;
		}
	}

	if (!seq && d->queued >= DIR_QUEUE_MAX) {
		answer_now(kind, k, EAGAIN, "too many directory lookups "
			   "queued", h, arg);
		return 0;
	}

	p = mem_zalloc(sizeof(*p), pend_destructor);
	if (!p)
		return ENOMEM;
	p->kind = kind;
	memcpy(p->key, k, sizeof(p->key));
	p->t0_us = now_us();
	p->h = h;
	p->arg = arg;

	if (!seq) {
		job = calloc(1, sizeof(*job));
		if (job)
			job->ans = calloc(1, sizeof(*job->ans));
		if (!job || !job->ans) {
			free(job);
			mem_deref(p);
			return ENOMEM;
		}
		seq = ++d->seq;
		job->seq = seq;
		job->kind = kind;
		memcpy(job->key, k, sizeof(job->key));

		pthread_mutex_lock(&d->mtx);
		if (d->jobs_tail)
			d->jobs_tail->next = job;
		else
			d->jobs = job;
		d->jobs_tail = job;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->mtx);
		d->queued++;
	}
	p->seq = seq;
	list_append(&d->pend, &p->le, p);

	return 0;
}

int dir_email_of(struct dir *d, const struct pl *id, dir_result_h *h,
		 void *arg)
{
	return dir_lookup(d, DIR_EMAIL_OF, id, h, arg);
}

int dir_id_of(struct dir *d, const struct pl *email, dir_result_h *h,
	      void *arg)
{
	return dir_lookup(d, DIR_ID_OF, email, h, arg);
}

int dir_secret_of(struct dir *d, const struct pl *id, dir_result_h *h,
		  void *arg)
{
	return dir_lookup(d, DIR_SECRET_OF, id, h, arg);
}

int dir_privacy_of(struct dir *d, const struct pl *id, dir_result_h *h,
		   void *arg)
{
	return dir_lookup(d, DIR_PRIVACY_OF, id, h, arg);
}

int dir_members_of(struct dir *d, const struct pl *group, dir_result_h *h,
		   void *arg)
{
	return dir_lookup(d, DIR_MEMBERS_OF, group, h, arg);
}

static void cancel_in(struct list *l, void *arg)
{
	struct le *le;

	for (le = list_head(l); le; le = le->next) {
		struct dir_pend *p = le->data;

		if (p->arg == arg)
			p->h = NULL;
	}
}

void dir_cancel(struct dir *d, void *arg)
{
	if (!d)
		return;
	/* the job stays queued (its answer still feeds the cache); only
	 * the handler is forgotten */
	cancel_in(&d->pend, arg);
	if (d->delivering)
		cancel_in(d->delivering, arg);
}

void dir_flush(struct dir *d)
{
	if (d)
		dir_cache_flush(d->cache);
}

void dir_stats_get(const struct dir *d, struct dir_stats *st)
{
	if (!d || !st)
		return;
	*st = d->st;
	st->avg_us = d->lat_n ? d->lat_sum_us / d->lat_n : 0;
	st->cached = dir_cache_count(d->cache);
	st->queued = d->queued;
}

int dir_status(struct re_printf *pf, const struct dir *d)
{
	struct dir_stats st;

	if (!d)
		return EINVAL;
	dir_stats_get(d, &st);
	return re_hprintf(pf,
			  "directory.backend=%s\n"
			  "directory.server=%s\n"
			  "directory.state=%s\n"
			  "directory.lookups=%llu\n"
			  "directory.hits=%llu\n"
			  "directory.misses=%llu\n"
			  "directory.errors=%llu\n"
			  "directory.cached=%zu\n"
			  "directory.queued=%zu\n"
			  "directory.latency_avg_ms=%llu.%03llu\n"
			  "directory.latency_max_ms=%llu.%03llu\n"
			  "directory.last_error=%s\n"
			  "directory.cache_size=%u\n"
			  "directory.cache_ttl_s=%u\n"
			  "directory.neg_ttl_s=%u\n"
			  "directory.timeout_ms=%u\n",
			  d->ldap ? "ldap" : "file", st.server,
			  st.up ? "up" : "down",
			  (unsigned long long)st.lookups,
			  (unsigned long long)st.hits,
			  (unsigned long long)st.misses,
			  (unsigned long long)st.errors, st.cached, st.queued,
			  (unsigned long long)(st.avg_us / 1000),
			  (unsigned long long)(st.avg_us % 1000),
			  (unsigned long long)(st.slowest_us / 1000),
			  (unsigned long long)(st.slowest_us % 1000),
			  st.last_error, d->cache_size, d->ttl, d->neg_ttl,
			  d->timeout_ms);
}

const char *dir_err_name(int err)
{
	switch (err) {

	case 0:               return "ok";
	case ENOENT:          return "no-such-entry";
	case ENODATA:         return "no-attribute";
	case ENOTUNIQ:        return "ambiguous";
	case EINVAL:          return "bad-key";
	case EPROTONOSUPPORT: return "unusable-password";
	case EBADMSG:         return "bad-value";
	case EHOSTDOWN:       return "unreachable";
	case ETIMEDOUT:       return "timeout";
	case EACCES:          return "access-denied";
	case EMSGSIZE:        return "too-big";
	case EAGAIN:          return "overload";
	case ENOMEM:          return "no-memory";
	default:              return "server-error";
	}
}

const char *dir_kind_name(enum dir_kind kind)
{
	switch (kind) {

	case DIR_EMAIL_OF:   return "email-of";
	case DIR_ID_OF:      return "id-of";
	case DIR_SECRET_OF:  return "secret-of";
	case DIR_PRIVACY_OF: return "privacy-of";
	case DIR_MEMBERS_OF: return "members-of";
	default:             return "?";
	}
}

bool dir_privacy_allows(const struct dir_result *res, const char *domain)
{
	size_t i;

	if (!res || !domain || res->kind != DIR_PRIVACY_OF || res->err)
		return false;
	switch (res->privacy) {

	case CFG_PRIVACY_ALL:
		return true;
	case CFG_PRIVACY_DOMAINS:
		for (i = 0; i < res->nlist; i++)
			if (dir_domain_match(res->list[i], domain))
				return true;
		return false;
	default:
		return false;
	}
}
