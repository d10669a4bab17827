/*
 * sto_int.h -- inside the store: the queued change and the driver
 * table a kind of store implements (sto_sqlite.c, the embedded file;
 * sto_pg.c, the shared PostgreSQL database).
 *
 * A driver's functions run on one thread at a time (the writer, or
 * sto_load before it starts); they return 0 or an errno code, with a
 * sentence in the driver's own error text (errmsg).
 */
#ifndef STC_STO_INT_H
#define STC_STO_INT_H

#include "store/sto.h"

enum sto_op_type {
	STO_OP_REG_SET,    /* aor, bv[n] */
	STO_OP_PUB_SET,    /* aor, pv[n] */
	STO_OP_SUB_PUT,    /* sub */
	STO_OP_SUB_DEL,    /* sub.callid, sub.ltag */
};

/* One change: the op and its records in a single malloc() block. */
struct sto_op {
	struct sto_op *next;
	uint64_t seq;
	enum sto_op_type type;
	const char *aor;
	size_t n;
	struct sto_binding *bv;
	struct sto_pub *pv;
	struct sto_sub sub;
};

struct sto_driver {
	const char *name;
	int  (*open)(void **dbp, const struct sto_conf *conf, char *why,
		     size_t whysz);
	void (*close)(void *db);
	int  (*begin)(void *db);
	int  (*commit)(void *db);
	void (*rollback)(void *db);
	int  (*apply)(void *db, const struct sto_op *op);
	int  (*expire)(void *db, int64_t now, uint64_t *nump);
	int  (*load)(void *db, const struct sto_load_h *h, void *arg);
	const char *(*errmsg)(void *db);
	/* optional: the other gateways' feed, on a thread of its own;
	 * it calls push from that thread */
	int  (*follow)(void **fp, const struct sto_conf *conf,
		       void (*push)(int id, void *msg, void *arg), void *arg);
	void (*unfollow)(void *f);
};

/* Messages of a feed to the loop (push ids). */
enum {
	STO_FEED_UP = 1,      /* msg NULL: connected, a full resend follows */
	STO_FEED_DOWN,        /* msg: a char * reason, free() */
	STO_FEED_AOR,         /* msg: a struct sto_feed_msg *, free() */
	STO_FEED_SYNCED,      /* msg NULL: the full resend is complete */
	STO_FEED_RESYNC,      /* msg NULL: a full resend follows */
	STO_FEED_NODE_DOWN,   /* msg: the gateway's name, free() */
	STO_FEED_NODE_UP,     /* msg: the gateway's name, free() */
};

/* One AOR's rows of the other gateways, in one malloc() block. */
struct sto_feed_msg {
	struct sto_remote r;
};

extern const struct sto_driver sto_sqlite_driver;
extern const struct sto_driver sto_pg_driver;

/* The connection string without its password, for status and logs. */
int sto_pg_shown(char **dstp, const char *conninfo);

#endif /* STC_STO_INT_H */
