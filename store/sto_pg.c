/*
 * sto_pg.c -- the shared store: a PostgreSQL database that several
 * gateways of one community write to, through libpq.
 *
 * Every row carries the name of the gateway that wrote it ("node"): a
 * gateway replaces and deletes only its own rows, so two gateways that
 * both hold a binding or a publication of one AOR do not erase each
 * other's, and each row says which gateway holds the client's flow.
 * sto_load() gives a gateway its own rows back after a restart.
 *
 * The connection is used by one thread at a time (sto_load before the
 * writer starts, then the writer), with blocking libpq calls: only that
 * thread waits for the server.  A lost connection is reset at the next
 * batch (the front retries every STO_RETRY_MS), so a server that was
 * stopped and started again is written to as soon as it answers.
 * Connecting has a timeout of STO_PG_CONNECT_S, so a server that does
 * not answer at all holds the writer that long, never the loop.
 *
 * The tables are created when missing, under an advisory lock so that
 * two gateways starting at once do not race; a "meta" row holds the
 * schema version, and a database of another version is refused.
 * Each AOR whose bindings or publications a batch changed is announced
 * at commit with a NOTIFY on STO_PG_CHANNEL, payload "NODE<tab>AOR".
 *
 * The feed (pg_follow): a reader thread with a connection of its own
 * LISTENs on the channel and waits in poll() on the connection's socket
 * (and a pipe that stops it), so nothing polls the server: for each
 * notification from another gateway it reads that AOR's rows of the
 * other gateways and hands a copy to the loop (the front's mqueue).
 * After it connects (and after every lost connection: it tries again
 * every STO_RETRY_MS) it first sends every AOR the others hold, so a
 * gateway catches up on what changed while it could not hear.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <re.h>

#include "store/sto_int.h"

enum {
	STO_PG_VERSION = 1,
	STO_PG_CONNECT_S = 3,
};

#define STO_PG_CHANNEL "stconnector_state"

static const char schema[] =
	"SET client_min_messages = warning;"
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(8130917);"
	"CREATE TABLE IF NOT EXISTS stc_meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS stc_binding ("
	" node TEXT NOT NULL, aor TEXT NOT NULL, uri TEXT NOT NULL,"
	" instance TEXT, regid BIGINT NOT NULL, callid TEXT NOT NULL,"
	" cseq BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" transport TEXT, src TEXT, dst TEXT,"
	" id BIGSERIAL PRIMARY KEY);"
	"CREATE INDEX IF NOT EXISTS stc_binding_aor ON stc_binding (aor);"
	"CREATE TABLE IF NOT EXISTS stc_publication ("
	" node TEXT NOT NULL, aor TEXT NOT NULL, etag TEXT NOT NULL,"
	" status INTEGER NOT NULL, note TEXT, expires BIGINT NOT NULL,"
	" seq BIGINT NOT NULL, id BIGSERIAL PRIMARY KEY);"
	"CREATE INDEX IF NOT EXISTS stc_publication_aor ON stc_publication "
	"(aor);"
	"CREATE TABLE IF NOT EXISTS stc_subscription ("
	" node TEXT NOT NULL, callid TEXT NOT NULL, ltag TEXT NOT NULL,"
	" rtag TEXT NOT NULL, watcher TEXT NOT NULL, target TEXT NOT NULL,"
	" rfrom TEXT NOT NULL, ruri TEXT NOT NULL, entity TEXT, route TEXT,"
	" lcseq BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" last INTEGER NOT NULL, notified BOOLEAN NOT NULL,"
	" ext BOOLEAN NOT NULL, transport TEXT, src TEXT, dst TEXT,"
	" id BIGSERIAL, PRIMARY KEY (node, callid, ltag));"
	"INSERT INTO stc_meta (key, value) VALUES ('version', '1') "
	"ON CONFLICT (key) DO NOTHING;"
	"COMMIT;";

struct pg {
	PGconn *conn;
	char *conninfo;
	char *node;
	char err[STO_ERR_MAX];
};

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The server's or libpq's reason, on one line. */
static int pg_fail(struct pg *q, const char *what, const PGresult *r)
{
	const char *m = r ? PQresultErrorMessage(r) : NULL;
	size_t n;

	if (!m || !m[0])
		m = q->conn ? PQerrorMessage(q->conn) : "no connection";
	re_snprintf(q->err, sizeof(q->err), "%s: %s", what, m);
	n = strlen(q->err);
	while (n && (q->err[n - 1] == '\n' || q->err[n - 1] == '\r'))
		q->err[--n] = '\0';
	for (n = 0; q->err[n]; n++)
		if (q->err[n] == '\n' || q->err[n] == '\t')
			q->err[n] = ' ';
	return EIO;
}

/* Run a command with text parameters; 0 or EIO.  *nump gets the rows
 * it changed when wanted. */
static int pg_cmd(struct pg *q, const char *what, const char *sql, int n,
		  const char *const *pv, uint64_t *nump)
{
	PGresult *r = PQexecParams(q->conn, sql, n, NULL, pv, NULL, NULL, 0);
	const ExecStatusType rs = PQresultStatus(r);
	int err = 0;

	if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK)
		err = pg_fail(q, what, r);
	else if (nump)
		*nump += strtoull(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return err;
}

static int pg_connect(struct pg *q)
{
	PGresult *r;
	char to[16];
	const char *keys[] = {"dbname", "connect_timeout",
			      "application_name", NULL};
	const char *vals[] = {q->conninfo, to, "stgateway", NULL};

	if (q->conn)
		PQfinish(q->conn);
	(void)re_snprintf(to, sizeof(to), "%d", STO_PG_CONNECT_S);
	/* expand_dbname: the first "dbname" may be a whole conninfo
	 * string or a postgresql:// URI */
	q->conn = PQconnectdbParams(keys, vals, 1);
	if (!q->conn) {
		re_snprintf(q->err, sizeof(q->err), "out of memory");
		return ENOMEM;
	}
	if (PQstatus(q->conn) != CONNECTION_OK)
		return pg_fail(q, "connect", NULL);
	(void)PQsetNoticeProcessor(q->conn, quiet, NULL);
	r = PQexec(q->conn, schema);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		(void)pg_fail(q, "schema", r);
		PQclear(r);
		r = PQexec(q->conn, "ROLLBACK");
		PQclear(r);
		return EIO;
	}
	PQclear(r);
	return 0;
}

/* Reconnect when the server went away since the last use. */
static int pg_alive(struct pg *q)
{
	if (q->conn && PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	return pg_connect(q);
}

static void pg_close(void *arg)
{
	struct pg *q = arg;

	if (!q)
		return;
	if (q->conn)
		PQfinish(q->conn);
	free(q->conninfo);
	free(q->node);
	free(q);
}

static int version_check(struct pg *q, char *why, size_t whysz)
{
	PGresult *r = PQexec(q->conn, "SELECT value FROM stc_meta WHERE "
			     "key='version'");
	int v = -1;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		(void)pg_fail(q, "version", r);
		PQclear(r);
		re_snprintf(why, whysz, "%s", q->err);
		return EIO;
	}
	if (PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v != STO_PG_VERSION) {
		re_snprintf(why, whysz, "store database has schema version "
			    "%d, this program writes %d", v, STO_PG_VERSION);
		return EPROTO;
	}
	return 0;
}

static int pg_open(void **dbp, const struct sto_conf *conf, char *why,
		   size_t whysz)
{
	struct pg *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return ENOMEM;
	q->conninfo = strdup(conf->path);
	q->node = strdup(conf->node && conf->node[0] ? conf->node : "-");
	if (!q->conninfo || !q->node) {
		pg_close(q);
		return ENOMEM;
	}
	err = pg_connect(q);
	if (err) {
		re_snprintf(why, whysz, "cannot open the store: %s", q->err);
		goto out;
	}
	err = version_check(q, why, whysz);
 out:
	if (err)
		pg_close(q);
	else
		*dbp = q;
	return err;
}

static int pg_begin(void *arg)
{
	struct pg *q = arg;
	int err = pg_alive(q);

	if (err)
		return err;
	err = pg_cmd(q, "BEGIN", "BEGIN", 0, NULL, NULL);
	if (err && PQstatus(q->conn) != CONNECTION_OK) {
		/* the server restarted since: one new connection now */
		err = pg_connect(q);
		if (!err)
			err = pg_cmd(q, "BEGIN", "BEGIN", 0, NULL, NULL);
	}
	return err;
}

static int pg_commit(void *arg)
{
	return pg_cmd(arg, "COMMIT", "COMMIT", 0, NULL, NULL);
}

/* Told to the others at commit ("NODE<tab>AOR"; the server sends one
 * of identical notifications per transaction). */
static int pg_announce(struct pg *q, const char *aor)
{
	const char *pv[2] = {q->node, aor};

	return pg_cmd(q, "NOTIFY", "SELECT pg_notify('" STO_PG_CHANNEL
		      "', $1::text || E'\\t' || $2::text)", 2, pv, NULL);
}

static void pg_rollback(void *arg)
{
	struct pg *q = arg;
	PGresult *r;

	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK ||
	    PQtransactionStatus(q->conn) == PQTRANS_IDLE)
		return;
	r = PQexec(q->conn, "ROLLBACK");
	PQclear(r);
}

static void fmt_u(char *buf, size_t sz, uint64_t v)
{
	(void)re_snprintf(buf, sz, "%llu", (unsigned long long)v);
}

static void fmt_i(char *buf, size_t sz, int64_t v)
{
	(void)re_snprintf(buf, sz, "%lld", (long long)v);
}

static int reg_set(struct pg *q, const struct sto_op *op)
{
	const char *dv[2] = {q->node, op->aor};
	size_t i;
	int err;

	err = pg_cmd(q, "delete bindings", "DELETE FROM stc_binding WHERE "
		     "node=$1 AND aor=$2", 2, dv, NULL);
	for (i = 0; !err && i < op->n; i++) {
		const struct sto_binding *b = &op->bv[i];
		char regid[24], cseq[24], exp[24];
		const char *pv[11] = {q->node, b->aor, b->uri, b->instance,
				      regid, b->callid, cseq, exp, b->tp,
				      b->src, b->dst};

		fmt_u(regid, sizeof(regid), b->regid);
		fmt_u(cseq, sizeof(cseq), b->cseq);
		fmt_i(exp, sizeof(exp), b->expires);
		err = pg_cmd(q, "insert binding", "INSERT INTO stc_binding "
			     "(node, aor, uri, instance, regid, callid, cseq, "
			     "expires, transport, src, dst) VALUES ($1, $2, "
			     "$3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, pv,
			     NULL);
	}
	return err ? err : pg_announce(q, op->aor);
}

static int pub_set(struct pg *q, const struct sto_op *op)
{
	const char *dv[2] = {q->node, op->aor};
	size_t i;
	int err;

	err = pg_cmd(q, "delete publications", "DELETE FROM stc_publication "
		     "WHERE node=$1 AND aor=$2", 2, dv, NULL);
	for (i = 0; !err && i < op->n; i++) {
		const struct sto_pub *p = &op->pv[i];
		char status[24], exp[24], seq[24];
		const char *pv[7] = {q->node, p->aor, p->etag, status,
				     p->note, exp, seq};

		fmt_i(status, sizeof(status), p->status);
		fmt_i(exp, sizeof(exp), p->expires);
		fmt_u(seq, sizeof(seq), p->seq);
		err = pg_cmd(q, "insert publication", "INSERT INTO "
			     "stc_publication (node, aor, etag, status, note, "
			     "expires, seq) VALUES ($1, $2, $3, $4, $5, $6, "
			     "$7)", 7, pv, NULL);
	}
	return err ? err : pg_announce(q, op->aor);
}

static int sub_put(struct pg *q, const struct sto_sub *u)
{
	char lcseq[24], exp[24], last[24];
	const char *pv[18] = {q->node, u->callid, u->ltag, u->rtag,
			      u->watcher, u->target, u->rfrom, u->ruri,
			      u->entity, u->route, lcseq, exp, last,
			      u->notified ? "t" : "f", u->ext ? "t" : "f",
			      u->tp, u->src, u->dst};

	fmt_u(lcseq, sizeof(lcseq), u->lcseq);
	fmt_i(exp, sizeof(exp), u->expires);
	fmt_i(last, sizeof(last), u->last);
	return pg_cmd(q, "put subscription", "INSERT INTO stc_subscription "
		      "(node, callid, ltag, rtag, watcher, target, rfrom, "
		      "ruri, entity, route, lcseq, expires, last, notified, "
		      "ext, transport, src, dst) VALUES ($1, $2, $3, $4, $5, "
		      "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
		      "$17, $18) ON CONFLICT (node, callid, ltag) DO UPDATE "
		      "SET rtag=EXCLUDED.rtag, watcher=EXCLUDED.watcher, "
		      "target=EXCLUDED.target, rfrom=EXCLUDED.rfrom, "
		      "ruri=EXCLUDED.ruri, entity=EXCLUDED.entity, "
		      "route=EXCLUDED.route, lcseq=EXCLUDED.lcseq, "
		      "expires=EXCLUDED.expires, last=EXCLUDED.last, "
		      "notified=EXCLUDED.notified, ext=EXCLUDED.ext, "
		      "transport=EXCLUDED.transport, src=EXCLUDED.src, "
		      "dst=EXCLUDED.dst", 18, pv, NULL);
}

static int pg_apply(void *arg, const struct sto_op *op)
{
	struct pg *q = arg;
	const char *dv[3] = {q->node, op->sub.callid, op->sub.ltag};

	switch (op->type) {
	case STO_OP_REG_SET:
		return reg_set(q, op);
	case STO_OP_PUB_SET:
		return pub_set(q, op);
	case STO_OP_SUB_PUT:
		return sub_put(q, &op->sub);
	case STO_OP_SUB_DEL:
		return pg_cmd(q, "delete subscription", "DELETE FROM "
			      "stc_subscription WHERE node=$1 AND callid=$2 "
			      "AND ltag=$3", 3, dv, NULL);
	}
	return EINVAL;
}

/* Expired rows of every gateway go: whichever cleans first. */
static int pg_expire(void *arg, int64_t now, uint64_t *nump)
{
	static const char *const sqlv[] = {
		"DELETE FROM stc_binding WHERE expires<=$1",
		"DELETE FROM stc_publication WHERE expires<=$1",
		"DELETE FROM stc_subscription WHERE expires<=$1",
	};
	struct pg *q = arg;
	char ts[24];
	const char *pv[1] = {ts};
	uint64_t n = 0;
	size_t i;
	int err;

	fmt_i(ts, sizeof(ts), now);
	err = pg_alive(q);
	if (!err)
		err = pg_cmd(q, "BEGIN", "BEGIN", 0, NULL, NULL);
	for (i = 0; !err && i < ARRAY_SIZE(sqlv); i++)
		err = pg_cmd(q, "expire", sqlv[i], 1, pv, &n);
	if (!err)
		err = pg_cmd(q, "COMMIT", "COMMIT", 0, NULL, NULL);
	if (err) {
		pg_rollback(q);
		return err;
	}
	*nump = n;
	return 0;
}

static const char *val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t ival(const PGresult *r, int row, int col)
{
	const char *v = val(r, row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

static PGresult *query(struct pg *q, const char *what, const char *sql)
{
	const char *pv[1] = {q->node};
	PGresult *r = PQexecParams(q->conn, sql, 1, NULL, pv, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		(void)pg_fail(q, what, r);
		PQclear(r);
		return NULL;
	}
	return r;
}

static int pg_load(void *arg, const struct sto_load_h *h, void *harg)
{
	struct pg *q = arg;
	PGresult *r;
	int i, n;

	if (pg_alive(q))
		return EIO;
	r = query(q, "load bindings", "SELECT aor, uri, instance, regid, "
		  "callid, cseq, expires, transport, src, dst FROM "
		  "stc_binding WHERE node=$1 ORDER BY id");
	if (!r)
		return EIO;
	for (i = 0, n = PQntuples(r); i < n; i++) {
		struct sto_binding b;

		b.aor = val(r, i, 0);
		b.uri = val(r, i, 1);
		b.instance = val(r, i, 2);
		b.regid = (uint32_t)ival(r, i, 3);
		b.callid = val(r, i, 4);
		b.cseq = (uint32_t)ival(r, i, 5);
		b.expires = ival(r, i, 6);
		b.tp = val(r, i, 7);
		b.src = val(r, i, 8);
		b.dst = val(r, i, 9);
		if (h->binding)
			h->binding(&b, harg);
	}
	PQclear(r);

	r = query(q, "load publications", "SELECT aor, etag, status, note, "
		  "expires, seq FROM stc_publication WHERE node=$1 "
		  "ORDER BY id");
	if (!r)
		return EIO;
	for (i = 0, n = PQntuples(r); i < n; i++) {
		struct sto_pub p;

		p.aor = val(r, i, 0);
		p.etag = val(r, i, 1);
		p.status = (int)ival(r, i, 2);
		p.note = val(r, i, 3);
		p.expires = ival(r, i, 4);
		p.seq = (uint64_t)ival(r, i, 5);
		if (h->pub)
			h->pub(&p, harg);
	}
	PQclear(r);

	r = query(q, "load subscriptions", "SELECT callid, ltag, rtag, "
		  "watcher, target, rfrom, ruri, entity, route, lcseq, "
		  "expires, last, notified, ext, transport, src, dst FROM "
		  "stc_subscription WHERE node=$1 ORDER BY id");
	if (!r)
		return EIO;
	for (i = 0, n = PQntuples(r); i < n; i++) {
		struct sto_sub u;

		u.callid = val(r, i, 0);
		u.ltag = val(r, i, 1);
		u.rtag = val(r, i, 2);
		u.watcher = val(r, i, 3);
		u.target = val(r, i, 4);
		u.rfrom = val(r, i, 5);
		u.ruri = val(r, i, 6);
		u.entity = val(r, i, 7);
		u.route = val(r, i, 8);
		u.lcseq = (uint32_t)ival(r, i, 9);
		u.expires = ival(r, i, 10);
		u.last = (int)ival(r, i, 11);
		u.notified = !str_casecmp(val(r, i, 12), "t");
		u.ext = !str_casecmp(val(r, i, 13), "t");
		u.tp = val(r, i, 14);
		u.src = val(r, i, 15);
		u.dst = val(r, i, 16);
		if (h->sub)
			h->sub(&u, harg);
	}
	PQclear(r);
	return 0;
}

/* What status and the log may show of a connection string: where the
 * database is, as a URI without spaces and never with a password:
 * postgresql://USER@HOST:PORT/DBNAME (the parts that were given). */
int sto_pg_shown(char **dstp, const char *conninfo)
{
	const char *user = NULL, *host = NULL, *port = NULL, *db = NULL;
	PQconninfoOption *ov, *o;
	char buf[512];
	int err;

	ov = PQconninfoParse(conninfo, NULL);
	if (!ov)
		return str_dup(dstp, "postgresql://(unparsable)");
	for (o = ov; o->keyword; o++) {
		if (!o->val || !o->val[0])
			continue;
		if (!strcmp(o->keyword, "user"))
			user = o->val;
		else if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr") && !host)
			host = o->val;
		else if (!strcmp(o->keyword, "port"))
			port = o->val;
		else if (!strcmp(o->keyword, "dbname"))
			db = o->val;
	}
	(void)re_snprintf(buf, sizeof(buf), "postgresql://%s%s%s%s%s/%s",
			  user ? user : "", user ? "@" : "",
			  host ? host : "", port ? ":" : "",
			  port ? port : "", db ? db : "");
	PQconninfoFree(ov);
	err = str_dup(dstp, buf);
	return err;
}

static const char *pg_errmsg(void *arg)
{
	struct pg *q = arg;

	return q && q->err[0] ? q->err : "unknown error";
}

/* ---- the feed: the other gateways' changes ---- */

enum { PGF_NODES_MAX = 16, PGF_ARM_DELAY_MS = 2000 };

/* Another gateway watched: a connection of ours waits for its lock. */
struct pgw {
	char node[64];
	PGconn *c;
	bool armed;               /* the lock request is pending */
	bool dead;                /* we got its lock: its sessions ended */
};

struct pgf {
	char *conninfo;
	char *node;
	PGconn *conn;
	struct pgw wv[PGF_NODES_MAX];
	size_t nw;
	uint64_t arm_at;          /* monotonic ms; 0: arm at once */
	char dead[PGF_NODES_MAX * 66 + 4];   /* text[] literal */
	pthread_t thread;
	int pipe[2];              /* a byte: stop */
	void (*push)(int id, void *msg, void *arg);
	void *arg;
};

static size_t zlen(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *zput(char **pp, const char *s)
{
	const size_t n = zlen(s);
	char *d = *pp;

	if (!n)
		return NULL;
	memcpy(d, s, n);
	*pp += n;
	return d;
}

/* The others' rows of aor as one message; NULL on a failed query. */
static struct sto_feed_msg *aor_read(struct pgf *f, const char *aor)
{
	const char *pv[3] = {aor, f->node, f->dead};
	PGresult *rb, *rp;
	struct sto_feed_msg *m = NULL;
	struct sto_binding *bv;
	struct sto_pub *pubv;
	const char **bnode, **pnode;
	size_t sz, nb, np, i;
	char *p;

	rb = PQexecParams(f->conn, "SELECT node, uri, expires, transport, "
			  "src, dst, callid FROM stc_binding WHERE aor=$1 AND "
			  "node<>$2 AND node<>ALL($3::text[]) ORDER BY id", 3,
			  NULL, pv, NULL, NULL, 0);
	rp = PQexecParams(f->conn, "SELECT node, etag, status, note, "
			  "expires, id FROM stc_publication WHERE aor=$1 AND "
			  "node<>$2 AND node<>ALL($3::text[]) ORDER BY id", 3,
			  NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(rb) != PGRES_TUPLES_OK ||
	    PQresultStatus(rp) != PGRES_TUPLES_OK)
		goto out;
	nb = (size_t)PQntuples(rb);
	np = (size_t)PQntuples(rp);
	sz = sizeof(*m) + nb * (sizeof(*bv) + sizeof(char *)) +
		np * (sizeof(*pubv) + sizeof(char *)) + zlen(aor);
	for (i = 0; i < nb; i++) {
		int c;

		for (c = 0; c < 7; c++)
			sz += zlen(val(rb, (int)i, c));
	}
	for (i = 0; i < np; i++)
		sz += zlen(val(rp, (int)i, 0)) + zlen(val(rp, (int)i, 1)) +
			zlen(val(rp, (int)i, 3));
	m = calloc(1, sz);
	if (!m)
		goto out;
	bv = (struct sto_binding *)(m + 1);
	pubv = (struct sto_pub *)(bv + nb);
	bnode = (const char **)(pubv + np);
	pnode = bnode + nb;
	p = (char *)(pnode + np);
	m->r.aor = zput(&p, aor);
	for (i = 0; i < nb; i++) {
		const int r = (int)i;

		bnode[i] = zput(&p, val(rb, r, 0));
		bv[i].aor = m->r.aor;
		bv[i].uri = zput(&p, val(rb, r, 1));
		bv[i].expires = ival(rb, r, 2);
		(void)zput(&p, val(rb, r, 2));
		bv[i].tp = zput(&p, val(rb, r, 3));
		bv[i].src = zput(&p, val(rb, r, 4));
		bv[i].dst = zput(&p, val(rb, r, 5));
		bv[i].callid = zput(&p, val(rb, r, 6));
	}
	for (i = 0; i < np; i++) {
		const int r = (int)i;

		pnode[i] = zput(&p, val(rp, r, 0));
		pubv[i].aor = m->r.aor;
		pubv[i].etag = zput(&p, val(rp, r, 1));
		pubv[i].status = (int)ival(rp, r, 2);
		pubv[i].note = zput(&p, val(rp, r, 3));
		pubv[i].expires = ival(rp, r, 4);
		pubv[i].seq = (uint64_t)ival(rp, r, 5);
	}
	m->r.nb = nb;
	m->r.bv = bv;
	m->r.bnode = bnode;
	m->r.np = np;
	m->r.pv = pubv;
	m->r.pnode = pnode;
 out:
	PQclear(rb);
	PQclear(rp);
	return m;
}

static int aor_send(struct pgf *f, const char *aor)
{
	struct sto_feed_msg *m = aor_read(f, aor);

	if (!m)
		return EIO;
	f->push(STO_FEED_AOR, m, f->arg);
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The dead gateways as a text[] literal (names are tokens). */
static void dead_make(struct pgf *f)
{
	size_t i, len;

	len = (size_t)snprintf(f->dead, sizeof(f->dead), "{");
	for (i = 0; i < f->nw; i++)
		if (f->wv[i].dead && len < sizeof(f->dead))
			len += (size_t)snprintf(f->dead + len,
				sizeof(f->dead) - len, "%s\"%s\"",
				len > 1 ? "," : "", f->wv[i].node);
	if (len < sizeof(f->dead))
		(void)snprintf(f->dead + len, sizeof(f->dead) - len, "}");
}

static const char lock_sql[] =
	"SELECT pg_advisory_lock(hashtext('stconnector-node:' || $1::text))";
static const char unlock_sql[] =
	"SELECT pg_advisory_unlock(hashtext('stconnector-node:' || "
	"$1::text))";

static void watch_close(struct pgw *w)
{
	if (w->c)
		PQfinish(w->c);
	w->c = NULL;
	w->armed = false;
}

/* Ask for the gateway's lock; granted only when its sessions end. */
static void watch_arm(struct pgf *f, struct pgw *w)
{
	const char *pv[1] = {w->node};
	char to[16];
	const char *keys[] = {"dbname", "connect_timeout",
			      "application_name", NULL};
	const char *vals[] = {f->conninfo, to, "stgateway-watch", NULL};

	if (w->armed)
		return;
	(void)re_snprintf(to, sizeof(to), "%d", STO_PG_CONNECT_S);
	if (!w->c) {
		w->c = PQconnectdbParams(keys, vals, 1);
		if (!w->c || PQstatus(w->c) != CONNECTION_OK) {
			watch_close(w);
			return;
		}
		(void)PQsetNoticeProcessor(w->c, quiet, NULL);
	}
	if (!PQsendQueryParams(w->c, lock_sql, 1, NULL, pv, NULL, NULL, 0)) {
		watch_close(w);
		return;
	}
	w->armed = true;
}

static struct pgw *watch_find(struct pgf *f, const char *node, size_t nl,
			      bool add)
{
	struct pgw *w;
	size_t i;

	if (!nl || nl >= sizeof(f->wv[0].node))
		return NULL;
	for (i = 0; i < f->nw; i++)
		if (strlen(f->wv[i].node) == nl &&
		    !strncmp(f->wv[i].node, node, nl))
			return &f->wv[i];
	if (!add || f->nw >= PGF_NODES_MAX)
		return NULL;
	w = &f->wv[f->nw++];
	memset(w, 0, sizeof(*w));
	memcpy(w->node, node, nl);
	w->node[nl] = '\0';
	return w;
}

static void node_push(struct pgf *f, int id, const char *node)
{
	char *m = strdup(node);

	if (m)
		f->push(id, m, f->arg);
}

/* Every AOR the others (alive) hold, between the reset and the end. */
static int feed_snapshot(struct pgf *f, bool reset)
{
	const char *pv[2] = {f->node, f->dead};
	PGresult *r;
	int i, n, err = 0;

	if (reset)
		f->push(STO_FEED_RESYNC, NULL, f->arg);
	r = PQexecParams(f->conn, "SELECT aor FROM stc_binding WHERE "
			 "node<>$1 AND node<>ALL($2::text[]) UNION SELECT aor "
			 "FROM stc_publication WHERE node<>$1 AND "
			 "node<>ALL($2::text[])", 2, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return EIO;
	}
	for (i = 0, n = PQntuples(r); !err && i < n; i++)
		err = aor_send(f, PQgetvalue(r, i, 0));
	PQclear(r);
	if (!err)
		f->push(STO_FEED_SYNCED, NULL, f->arg);
	return err;
}

/* Connected: take our own lock (the others watch it), listen, then send
 * all, so nothing falls between; then say we are here. */
static int feed_start(struct pgf *f)
{
	const char *pv[1] = {f->node};
	PGresult *r;
	int i, n, err;

	(void)PQsetNoticeProcessor(f->conn, quiet, NULL);
	r = PQexecParams(f->conn, lock_sql, 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return EIO;
	}
	PQclear(r);
	r = PQexec(f->conn, "LISTEN " STO_PG_CHANNEL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		PQclear(r);
		return EIO;
	}
	PQclear(r);

	/* after a reconnect the others need a moment to take their own
	 * locks again: watch them a little later */
	for (i = 0; i < (int)f->nw; i++) {
		watch_close(&f->wv[i]);
		f->wv[i].dead = false;
	}
	dead_make(f);
	f->arm_at = mono_ms() + PGF_ARM_DELAY_MS;
	r = PQexecParams(f->conn, "SELECT node FROM stc_binding WHERE "
			 "node<>$1 UNION SELECT node FROM stc_publication "
			 "WHERE node<>$1", 1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return EIO;
	}
	for (i = 0, n = PQntuples(r); i < n; i++) {
		const char *nd = PQgetvalue(r, i, 0);

		(void)watch_find(f, nd, strlen(nd), true);
	}
	PQclear(r);

	f->push(STO_FEED_UP, NULL, f->arg);
	err = feed_snapshot(f, false);
	if (!err) {
		const char *hv[2] = {f->node, ""};

		r = PQexecParams(f->conn, "SELECT pg_notify('" STO_PG_CHANNEL
				 "', $1::text || E'\\t' || $2::text)", 2,
				 NULL, hv, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			err = EIO;
		PQclear(r);
	}
	return err;
}

/* A watch answered: the lock is ours, so that gateway is gone. */
static int watch_ready(struct pgf *f, struct pgw *w)
{
	const char *pv[1] = {w->node};
	PGresult *r;
	bool got = false;

	if (!PQconsumeInput(w->c)) {
		watch_close(w);
		return 0;
	}
	if (PQisBusy(w->c))
		return 0;
	while ((r = PQgetResult(w->c))) {
		if (PQresultStatus(r) == PGRES_TUPLES_OK)
			got = true;
		PQclear(r);
	}
	w->armed = false;
	if (!got) {
		watch_close(w);
		return 0;
	}
	r = PQexecParams(w->c, unlock_sql, 1, NULL, pv, NULL, NULL, 0);
	PQclear(r);
	w->dead = true;
	dead_make(f);
	node_push(f, STO_FEED_NODE_DOWN, w->node);
	return feed_snapshot(f, true);
}

/* A notification: "NODE<tab>AOR", or "NODE<tab>" when NODE starts
 * (only that brings a gateway seen gone back: a change it committed
 * before it went may be read after its lock was granted). */
static int feed_note_in(struct pgf *f, const char *extra)
{
	const char *tab = strchr(extra, '\t');
	const size_t nl = tab ? (size_t)(tab - extra) : 0;
	struct pgw *w;

	if (!tab || (nl == strlen(f->node) && !strncmp(extra, f->node, nl)))
		return 0;
	w = watch_find(f, extra, nl, true);
	if (w && w->dead && tab[1])
		return 0;   /* sent before it went: its rows stay out */
	if (w && w->dead) {
		w->dead = false;
		dead_make(f);
		node_push(f, STO_FEED_NODE_UP, w->node);
		watch_arm(f, w);
		return feed_snapshot(f, true);
	}
	if (w && !w->armed && mono_ms() >= f->arm_at)
		watch_arm(f, w);
	return tab[1] ? aor_send(f, tab + 1) : 0;
}

static void feed_down(struct pgf *f, const char *what)
{
	const char *m = f->conn ? PQerrorMessage(f->conn) : NULL;
	char *msg = malloc(STO_ERR_MAX);
	size_t n;

	if (msg) {
		(void)snprintf(msg, STO_ERR_MAX, "%s: %s", what,
			       m && m[0] ? m : "connection lost");
		for (n = strlen(msg); n && msg[n - 1] == '\n';)
			msg[--n] = '\0';
		for (n = 0; msg[n]; n++)
			if (msg[n] == '\n' || msg[n] == '\t')
				msg[n] = ' ';
	}
	if (f->conn)
		PQfinish(f->conn);
	f->conn = NULL;
	f->push(STO_FEED_DOWN, msg, f->arg);
}

/* Wait for the feed, the watches, or the time to arm them; false when
 * told to stop.  ms < 0: no deadline but the arming. */
static bool feed_wait(struct pgf *f, bool conn, int ms)
{
	struct pollfd pv[2 + PGF_NODES_MAX];
	struct pgw *wv[2 + PGF_NODES_MAX];
	nfds_t n = 1;
	size_t i;

	pv[0].fd = f->pipe[0];
	pv[0].events = POLLIN;
	pv[0].revents = 0;
	if (conn) {
		pv[n].fd = PQsocket(f->conn);
		pv[n].events = POLLIN;
		pv[n].revents = 0;
		wv[n++] = NULL;
		for (i = 0; i < f->nw; i++) {
			struct pgw *w = &f->wv[i];

			if (!w->armed && !w->dead && f->arm_at) {
				const uint64_t now = mono_ms();
				const int left = now >= f->arm_at ? 0 :
					(int)(f->arm_at - now);

				if (ms < 0 || left < ms)
					ms = left;
			}
			if (!w->armed || !w->c)
				continue;
			pv[n].fd = PQsocket(w->c);
			pv[n].events = POLLIN;
			pv[n].revents = 0;
			wv[n++] = w;
		}
	}
	(void)poll(pv, n, ms);
	if (pv[0].revents & (POLLIN | POLLHUP))
		return false;
	for (i = 2; i < n; i++)
		if (pv[i].revents)
			(void)watch_ready(f, wv[i]);
	if (conn && mono_ms() >= f->arm_at)
		for (i = 0; i < f->nw; i++)
			if (!f->wv[i].armed && !f->wv[i].dead)
				watch_arm(f, &f->wv[i]);
	return true;
}

static void watches_close(struct pgf *f)
{
	size_t i;

	for (i = 0; i < f->nw; i++)
		watch_close(&f->wv[i]);
}

static void *feed_main(void *arg)
{
	struct pgf *f = arg;
	char to[16];
	const char *keys[] = {"dbname", "connect_timeout",
			      "application_name", NULL};
	const char *vals[] = {f->conninfo, to, "stgateway-feed", NULL};
	bool was_up = true;   /* the first failure is told */

	(void)re_snprintf(to, sizeof(to), "%d", STO_PG_CONNECT_S);
	dead_make(f);
	for (;;) {
		f->conn = PQconnectdbParams(keys, vals, 1);
		if (!f->conn || PQstatus(f->conn) != CONNECTION_OK ||
		    feed_start(f)) {
			if (was_up)
				feed_down(f, "feed");
			else if (f->conn) {
				PQfinish(f->conn);
				f->conn = NULL;
			}
			watches_close(f);
			was_up = false;
			if (!feed_wait(f, false, STO_RETRY_MS))
				break;
			continue;
		}
		was_up = true;
		for (;;) {
			PGnotify *nf;
			int err = 0;

			if (!feed_wait(f, true, -1))
				goto stop;
			if (!PQconsumeInput(f->conn))
				break;
			while (!err && (nf = PQnotifies(f->conn))) {
				err = feed_note_in(f, nf->extra);
				PQfreemem(nf);
			}
			if (err || PQstatus(f->conn) != CONNECTION_OK)
				break;
		}
		feed_down(f, "feed");
		watches_close(f);
		if (!feed_wait(f, false, STO_RETRY_MS))
			break;
	}
 stop:
	watches_close(f);
	if (f->conn)
		PQfinish(f->conn);
	f->conn = NULL;
	return NULL;
}

static void pg_unfollow(void *arg)
{
	struct pgf *f = arg;
	const char b = 'x';

	if (!f)
		return;
	if (write(f->pipe[1], &b, 1) != 1)
		(void)close(f->pipe[1]);
	pthread_join(f->thread, NULL);
	(void)close(f->pipe[0]);
	(void)close(f->pipe[1]);
	free(f->conninfo);
	free(f->node);
	free(f);
}

static int pg_follow(void **fp, const struct sto_conf *conf,
		     void (*push)(int id, void *msg, void *arg), void *arg)
{
	struct pgf *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return ENOMEM;
	f->push = push;
	f->arg = arg;
	f->conninfo = strdup(conf->path);
	f->node = strdup(conf->node ? conf->node : "-");
	if (!f->conninfo || !f->node || pipe(f->pipe)) {
		err = f->conninfo && f->node ? errno : ENOMEM;
		free(f->conninfo);
		free(f->node);
		free(f);
		return err;
	}
	err = pthread_create(&f->thread, NULL, feed_main, f);
	if (err) {
		(void)close(f->pipe[0]);
		(void)close(f->pipe[1]);
		free(f->conninfo);
		free(f->node);
		free(f);
		return err;
	}
	*fp = f;
	return 0;
}

const struct sto_driver sto_pg_driver = {
	.follow = pg_follow,
	.unfollow = pg_unfollow,
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.apply = pg_apply,
	.expire = pg_expire,
	.load = pg_load,
	.errmsg = pg_errmsg,
};
