/*
 * sto_sqlite.c -- the embedded store: one SQLite file per gateway.
 *
 * The file is opened in WAL mode with synchronous=NORMAL: a committed
 * transaction survives the death of the process (kill -9, a crash),
 * which is what this store is for; after a power cut the last
 * transactions before it may be missing (SQLite's documented trade in
 * that mode), never a torn file.  Three tables, one row per binding,
 * publication and subscription dialog; a "meta" row holds the schema
 * version, and a file of another version is refused rather than
 * guessed at.  Statements are prepared once.  A busy file (another
 * process holding the write lock) waits STO_SQLITE_BUSY_MS, then the
 * batch fails and the front tries again later.  A new file is created
 * mode 0600 (it names users, their addresses and who watches whom);
 * SQLite gives its -wal and -shm files the mode of the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <re.h>

#include "store/sto_int.h"

enum {
	STO_SQLITE_VERSION = 1,
	STO_SQLITE_BUSY_MS = 500,
};

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_REG_DEL, S_REG_INS,
	S_PUB_DEL, S_PUB_INS,
	S_SUB_PUT, S_SUB_DEL,
	S_EXP_REG, S_EXP_PUB, S_EXP_SUB,
	S_LOAD_REG, S_LOAD_PUB, S_LOAD_SUB,
	S_N
};

static const char *const sqlv[S_N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_REG_DEL] = "DELETE FROM binding WHERE aor=?1",
	[S_REG_INS] = "INSERT INTO binding (aor, uri, instance, regid, "
		"callid, cseq, expires, transport, src, dst) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_PUB_DEL] = "DELETE FROM publication WHERE aor=?1",
	[S_PUB_INS] = "INSERT INTO publication (aor, etag, status, note, "
		"expires, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_SUB_PUT] = "INSERT OR REPLACE INTO subscription (callid, ltag, "
		"rtag, watcher, target, rfrom, ruri, entity, route, lcseq, "
		"expires, last, notified, ext, transport, src, dst) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
		"?14, ?15, ?16, ?17)",
	[S_SUB_DEL] = "DELETE FROM subscription WHERE callid=?1 AND ltag=?2",
	[S_EXP_REG] = "DELETE FROM binding WHERE expires<=?1",
	[S_EXP_PUB] = "DELETE FROM publication WHERE expires<=?1",
	[S_EXP_SUB] = "DELETE FROM subscription WHERE expires<=?1",
	[S_LOAD_REG] = "SELECT aor, uri, instance, regid, callid, cseq, "
		"expires, transport, src, dst FROM binding ORDER BY rowid",
	[S_LOAD_PUB] = "SELECT aor, etag, status, note, expires, seq "
		"FROM publication ORDER BY rowid",
	[S_LOAD_SUB] = "SELECT callid, ltag, rtag, watcher, target, rfrom, "
		"ruri, entity, route, lcseq, expires, last, notified, ext, "
		"transport, src, dst FROM subscription ORDER BY rowid",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS binding ("
	" aor TEXT NOT NULL, uri TEXT NOT NULL, instance TEXT,"
	" regid INTEGER NOT NULL, callid TEXT NOT NULL,"
	" cseq INTEGER NOT NULL, expires INTEGER NOT NULL,"
	" transport TEXT, src TEXT, dst TEXT);"
	"CREATE INDEX IF NOT EXISTS binding_aor ON binding (aor);"
	"CREATE TABLE IF NOT EXISTS publication ("
	" aor TEXT NOT NULL, etag TEXT NOT NULL, status INTEGER NOT NULL,"
	" note TEXT, expires INTEGER NOT NULL, seq INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS publication_aor ON publication (aor);"
	"CREATE TABLE IF NOT EXISTS subscription ("
	" callid TEXT NOT NULL, ltag TEXT NOT NULL, rtag TEXT NOT NULL,"
	" watcher TEXT NOT NULL, target TEXT NOT NULL, rfrom TEXT NOT NULL,"
	" ruri TEXT NOT NULL, entity TEXT, route TEXT,"
	" lcseq INTEGER NOT NULL, expires INTEGER NOT NULL,"
	" last INTEGER NOT NULL, notified INTEGER NOT NULL,"
	" ext INTEGER NOT NULL, transport TEXT, src TEXT, dst TEXT,"
	" PRIMARY KEY (callid, ltag));"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('version', '1');";

struct sq {
	sqlite3 *db;
	sqlite3_stmt *stv[S_N];
	char err[STO_ERR_MAX];
};

static int sq_fail(struct sq *q, const char *what)
{
	re_snprintf(q->err, sizeof(q->err), "%s: %s", what,
		    q->db ? sqlite3_errmsg(q->db) : "no database");
	return EIO;
}

/* Run a prepared statement that returns no rows. */
static int sq_run(struct sq *q, enum stmt i)
{
	sqlite3_stmt *s = q->stv[i];
	int rc = sqlite3_step(s);

	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(q, sqlv[i]);
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		(void)sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		(void)sqlite3_bind_null(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void sq_close(void *arg)
{
	struct sq *q = arg;
	size_t i;

	if (!q)
		return;
	for (i = 0; i < S_N; i++)
		(void)sqlite3_finalize(q->stv[i]);
	(void)sqlite3_close(q->db);
	free(q);
}

static int version_check(struct sq *q, char *why, size_t whysz)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(q->db, "SELECT value FROM meta WHERE "
			       "key='version'", -1, &s, NULL) != SQLITE_OK)
		return sq_fail(q, "version");
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	(void)sqlite3_finalize(s);
	if (v != STO_SQLITE_VERSION) {
		re_snprintf(why, whysz, "store file has schema version %d, "
			    "this program writes %d", v, STO_SQLITE_VERSION);
		return EPROTO;
	}
	return 0;
}

static int sq_open(void **dbp, const struct sto_conf *conf, char *why,
		   size_t whysz)
{
	const char *path = conf->path;
	struct sq *q = calloc(1, sizeof(*q));
	char *msg = NULL;
	size_t i;
	int err = 0;

	if (!q)
		return ENOMEM;
	{
		const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0) {
			re_snprintf(why, whysz, "%s: cannot open the store: "
				    "%m", path, errno);
			err = EIO;
			goto out;
		}
		(void)close(fd);
	}
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		re_snprintf(why, whysz, "%s: cannot open the store: %s", path,
			    q->db ? sqlite3_errmsg(q->db) : "out of memory");
		err = EIO;
		goto out;
	}
	(void)sqlite3_busy_timeout(q->db, STO_SQLITE_BUSY_MS);
	if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL;"
			 "PRAGMA synchronous=NORMAL;", NULL, NULL,
			 &msg) != SQLITE_OK ||
	    sqlite3_exec(q->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		re_snprintf(why, whysz, "%s: not a usable store file: %s",
			    path, msg ? msg : sqlite3_errmsg(q->db));
		err = EIO;
		goto out;
	}
	err = version_check(q, why, whysz);
	if (err) {
		if (!why[0])
			re_snprintf(why, whysz, "%s: %s", path, q->err);
		goto out;
	}
	for (i = 0; i < S_N; i++) {
		if (sqlite3_prepare_v2(q->db, sqlv[i], -1, &q->stv[i],
				       NULL) != SQLITE_OK) {
			re_snprintf(why, whysz, "%s: %s", path,
				    sqlite3_errmsg(q->db));
			err = EIO;
			goto out;
		}
	}
 out:
	sqlite3_free(msg);
	if (err)
		sq_close(q);
	else
		*dbp = q;
	return err;
}

static int sq_begin(void *arg)
{
	return sq_run(arg, S_BEGIN);
}

static int sq_commit(void *arg)
{
	return sq_run(arg, S_COMMIT);
}

static void sq_rollback(void *arg)
{
	struct sq *q = arg;

	if (!sqlite3_get_autocommit(q->db))
		(void)sq_run(q, S_ROLLBACK);
}

static int reg_set(struct sq *q, const struct sto_op *op)
{
	sqlite3_stmt *s = q->stv[S_REG_INS];
	size_t i;
	int err;

	bind_text(q->stv[S_REG_DEL], 1, op->aor);
	err = sq_run(q, S_REG_DEL);
	for (i = 0; !err && i < op->n; i++) {
		const struct sto_binding *b = &op->bv[i];

		bind_text(s, 1, b->aor);
		bind_text(s, 2, b->uri);
		bind_text(s, 3, b->instance);
		(void)sqlite3_bind_int64(s, 4, b->regid);
		bind_text(s, 5, b->callid);
		(void)sqlite3_bind_int64(s, 6, b->cseq);
		(void)sqlite3_bind_int64(s, 7, b->expires);
		bind_text(s, 8, b->tp);
		bind_text(s, 9, b->src);
		bind_text(s, 10, b->dst);
		err = sq_run(q, S_REG_INS);
	}
	return err;
}

static int pub_set(struct sq *q, const struct sto_op *op)
{
	sqlite3_stmt *s = q->stv[S_PUB_INS];
	size_t i;
	int err;

	bind_text(q->stv[S_PUB_DEL], 1, op->aor);
	err = sq_run(q, S_PUB_DEL);
	for (i = 0; !err && i < op->n; i++) {
		const struct sto_pub *p = &op->pv[i];

		bind_text(s, 1, p->aor);
		bind_text(s, 2, p->etag);
		(void)sqlite3_bind_int(s, 3, p->status);
		bind_text(s, 4, p->note);
		(void)sqlite3_bind_int64(s, 5, p->expires);
		(void)sqlite3_bind_int64(s, 6, (sqlite3_int64)p->seq);
		err = sq_run(q, S_PUB_INS);
	}
	return err;
}

static int sub_put(struct sq *q, const struct sto_sub *u)
{
	sqlite3_stmt *s = q->stv[S_SUB_PUT];

	bind_text(s, 1, u->callid);
	bind_text(s, 2, u->ltag);
	bind_text(s, 3, u->rtag);
	bind_text(s, 4, u->watcher);
	bind_text(s, 5, u->target);
	bind_text(s, 6, u->rfrom);
	bind_text(s, 7, u->ruri);
	bind_text(s, 8, u->entity);
	bind_text(s, 9, u->route);
	(void)sqlite3_bind_int64(s, 10, u->lcseq);
	(void)sqlite3_bind_int64(s, 11, u->expires);
	(void)sqlite3_bind_int(s, 12, u->last);
	(void)sqlite3_bind_int(s, 13, u->notified);
	(void)sqlite3_bind_int(s, 14, u->ext);
	bind_text(s, 15, u->tp);
	bind_text(s, 16, u->src);
	bind_text(s, 17, u->dst);
	return sq_run(q, S_SUB_PUT);
}

static int sq_apply(void *arg, const struct sto_op *op)
{
	struct sq *q = arg;

	switch (op->type) {
	case STO_OP_REG_SET:
		return reg_set(q, op);
	case STO_OP_PUB_SET:
		return pub_set(q, op);
	case STO_OP_SUB_PUT:
		return sub_put(q, &op->sub);
	case STO_OP_SUB_DEL:
		bind_text(q->stv[S_SUB_DEL], 1, op->sub.callid);
		bind_text(q->stv[S_SUB_DEL], 2, op->sub.ltag);
		return sq_run(q, S_SUB_DEL);
	}
	return EINVAL;
}

static int sq_expire(void *arg, int64_t now, uint64_t *nump)
{
	static const enum stmt ev[] = {S_EXP_REG, S_EXP_PUB, S_EXP_SUB};
	struct sq *q = arg;
	uint64_t n = 0;
	size_t i;
	int err;

	err = sq_begin(q);
	for (i = 0; !err && i < ARRAY_SIZE(ev); i++) {
		(void)sqlite3_bind_int64(q->stv[ev[i]], 1, now);
		err = sq_run(q, ev[i]);
		if (!err)
			n += (uint64_t)sqlite3_changes(q->db);
	}
	if (!err)
		err = sq_commit(q);
	if (err) {
		sq_rollback(q);
		return err;
	}
	*nump = n;
	return 0;
}

static int load_end(struct sq *q, enum stmt i, int rc)
{
	(void)sqlite3_reset(q->stv[i]);
	return rc == SQLITE_DONE ? 0 : sq_fail(q, sqlv[i]);
}

static int sq_load(void *arg, const struct sto_load_h *h, void *harg)
{
	struct sq *q = arg;
	sqlite3_stmt *s;
	int rc, err;

	s = q->stv[S_LOAD_REG];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sto_binding b;

		b.aor = col_text(s, 0);
		b.uri = col_text(s, 1);
		b.instance = col_text(s, 2);
		b.regid = (uint32_t)sqlite3_column_int64(s, 3);
		b.callid = col_text(s, 4);
		b.cseq = (uint32_t)sqlite3_column_int64(s, 5);
		b.expires = sqlite3_column_int64(s, 6);
		b.tp = col_text(s, 7);
		b.src = col_text(s, 8);
		b.dst = col_text(s, 9);
		if (h->binding && b.aor && b.uri && b.callid)
			h->binding(&b, harg);
	}
	err = load_end(q, S_LOAD_REG, rc);
	if (err)
		return err;

	s = q->stv[S_LOAD_PUB];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sto_pub p;

		p.aor = col_text(s, 0);
		p.etag = col_text(s, 1);
		p.status = sqlite3_column_int(s, 2);
		p.note = col_text(s, 3);
		p.expires = sqlite3_column_int64(s, 4);
		p.seq = (uint64_t)sqlite3_column_int64(s, 5);
		if (h->pub && p.aor && p.etag)
			h->pub(&p, harg);
	}
	err = load_end(q, S_LOAD_PUB, rc);
	if (err)
		return err;

	s = q->stv[S_LOAD_SUB];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sto_sub u;

		u.callid = col_text(s, 0);
		u.ltag = col_text(s, 1);
		u.rtag = col_text(s, 2);
		u.watcher = col_text(s, 3);
		u.target = col_text(s, 4);
		u.rfrom = col_text(s, 5);
		u.ruri = col_text(s, 6);
		u.entity = col_text(s, 7);
		u.route = col_text(s, 8);
		u.lcseq = (uint32_t)sqlite3_column_int64(s, 9);
		u.expires = sqlite3_column_int64(s, 10);
		u.last = sqlite3_column_int(s, 11);
		u.notified = sqlite3_column_int(s, 12) != 0;
		u.ext = sqlite3_column_int(s, 13) != 0;
		u.tp = col_text(s, 14);
		u.src = col_text(s, 15);
		u.dst = col_text(s, 16);
		if (h->sub && u.callid && u.ltag && u.rtag && u.watcher &&
		    u.target && u.rfrom && u.ruri)
			h->sub(&u, harg);
	}
	return load_end(q, S_LOAD_SUB, rc);
}

static const char *sq_errmsg(void *arg)
{
	struct sq *q = arg;

	return q && q->err[0] ? q->err : "unknown error";
}

const struct sto_driver sto_sqlite_driver = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.apply = sq_apply,
	.expire = sq_expire,
	.load = sq_load,
	.errmsg = sq_errmsg,
};
