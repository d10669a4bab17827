/*
 * sto.h -- the gateway's state store: registrations, subscriptions and
 * publications kept where a restarted stgateway finds them again.
 *
 * Owns: the store's kind (memory: nothing kept, the default; sqlite:
 *	one file per gateway, WAL mode; pgsql: one PostgreSQL database
 *	shared by the gateways of a community), the queue of changes, the writer
 *	thread that applies them in batches, the reading at start-up, the
 *	cleaning of expired entries, and the store's health for status.
 * Not here: what the records mean (the gateway's tables stay the
 *	truth while it runs; the store is written through and read once
 *	at start), SIP, the configuration file (callers pass a kind and a
 *	path).
 * Threads: every function but the writer runs on the caller's thread
 *	(the libre loop).  A change is copied into the queue and the call
 *	returns at once: the loop never waits for the disk.  A driver
 *	(sto_int.h) is used only by the writer thread, and by sto_load()
 *	before the first change.
 * Memory: struct sto is a libre mem object; mem_deref() writes what is
 *	queued (one last attempt), stops the writer and closes the file.
 *	Records passed in are copied; records passed to load handlers
 *	are valid only during the call.
 *
 * Records.  Times are absolute wall-clock seconds (time(NULL)): the
 * gateway's monotonic clock does not survive a restart.  Flows are kept
 * as text: transport "udp", "tcp" or "tls", source and local address as
 * "ip:port" ("[v6]:port").  Status values are the caller's (opaque).
 *
 * Return codes: EINVAL bad arguments; ENOMEM; ENOSPC the queue holds
 * STO_BACKLOG_MAX changes already (the change is dropped, counted, and
 * the store reports itself degraded); EIO the file cannot be written
 * (sto_sync), with the driver's reason in the stats.
 */
#ifndef STC_STO_H
#define STC_STO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sto_kind {
	STO_MEMORY = 0,   /* nothing survives a restart */
	STO_SQLITE,
	STO_PGSQL,        /* shared by the gateways of a community */
};

enum {
	STO_BACKLOG_MAX = 200000,  /* queued changes */
	STO_BATCH_MAX   = 2000,    /* changes per transaction */
	STO_RETRY_MS    = 1000,    /* after a failed batch */
	STO_CLEAN_S     = 60,      /* expired entries removed this often */
	STO_ERR_MAX     = 160,
};

struct sto_conf {
	enum sto_kind kind;
	const char *path;         /* the file (sqlite), or the libpq
				   * conninfo or postgresql:// URI */
	const char *node;         /* this gateway's name in a shared
				   * store (pgsql); rows are tagged
				   * with it */
};

/* One contact binding of a local AOR. */
struct sto_binding {
	const char *aor;
	const char *uri;
	const char *instance;     /* +sip.instance, or NULL */
	uint32_t regid;
	const char *callid;
	uint32_t cseq;
	int64_t expires;
	const char *tp;           /* flow: "udp", "tcp", "tls" */
	const char *src;          /* the client's address */
	const char *dst;          /* our address it arrived on */
};

/* One publication (RFC 3903) of a local AOR. */
struct sto_pub {
	const char *aor;
	const char *etag;
	int status;
	const char *note;         /* or NULL */
	int64_t expires;
	uint64_t seq;             /* "most recent wins" order */
};

/* One watcher's subscription dialog, from the notifier's side. */
struct sto_sub {
	const char *callid;
	const char *ltag;         /* our tag */
	const char *rtag;         /* the watcher's tag */
	const char *watcher;      /* AOR */
	const char *target;       /* AOR */
	const char *rfrom;        /* the watcher's From URI */
	const char *ruri;         /* the watcher's Contact URI */
	const char *entity;       /* or NULL */
	const char *route;        /* "Route: ...\r\n", or NULL */
	uint32_t lcseq;           /* our last CSeq */
	int64_t expires;
	int last;                 /* the last state sent */
	bool notified;
	bool ext;                 /* an external watcher */
	const char *tp;
	const char *src;
	const char *dst;
};

/* What sto_load() found; each handler may be NULL. */
struct sto_load_h {
	void (*binding)(const struct sto_binding *b, void *arg);
	void (*pub)(const struct sto_pub *p, void *arg);
	void (*sub)(const struct sto_sub *s, void *arg);
};

struct sto_stats {
	enum sto_kind kind;
	bool healthy;             /* the last write attempt succeeded */
	uint32_t backlog;         /* changes waiting for the writer */
	uint64_t written;         /* changes committed */
	uint64_t batches;         /* transactions committed */
	uint64_t failures;        /* batches that failed (and were kept) */
	uint64_t dropped;         /* changes refused: queue full, or lost
				   * at shutdown */
	uint64_t cleaned;         /* expired entries removed */
	uint64_t last_us;         /* the last batch's commit time */
	uint64_t avg_us;
	uint64_t max_us;
	int64_t last_ok;          /* wall clock of the last commit, 0 never */
	bool following;           /* the other gateways' feed is set up */
	bool feed_up;             /* and connected */
	uint64_t feed_updates;    /* AORs received from the others */
	uint64_t feed_resyncs;    /* full resends after a reconnect */
	uint32_t gateways_down;   /* others seen gone, not back yet */
	char last_error[STO_ERR_MAX];
};

struct sto;

/* Open the store (create the file and its tables when new) and start
 * its writer.  why gets a sentence for the administrator. */
int  sto_alloc(struct sto **stop, const struct sto_conf *conf, char *why,
	       size_t whysz);
enum sto_kind sto_kind(const struct sto *st);
const char *sto_kind_name(enum sto_kind kind);
/* The file (sqlite); for pgsql where the database is, in conninfo
 * form without any password. */
const char *sto_path(const struct sto *st);

/* Read everything still valid at now (expired entries are deleted
 * first): bindings, then publications, then subscriptions. */
int  sto_load(struct sto *st, const struct sto_load_h *h, void *arg,
	      int64_t now);

/* Changes, queued for the writer. */
int  sto_reg_set(struct sto *st, const char *aor,
		 const struct sto_binding *bv, size_t n);   /* aor's all */
int  sto_pub_set(struct sto *st, const char *aor,
		 const struct sto_pub *pv, size_t n);       /* aor's all */
int  sto_sub_put(struct sto *st, const struct sto_sub *s);
int  sto_sub_del(struct sto *st, const char *callid, const char *ltag);

/* Wait until the writer has tried every change queued before the call:
 * 0 when they are written, EIO when that attempt failed.  For tests and
 * shutdown, never on the loop in service. */
int  sto_sync(struct sto *st);

void sto_stats_get(const struct sto *st, struct sto_stats *ss);
bool sto_degraded(const struct sto *st);

/* What the other gateways of a shared store (pgsql) hold for one AOR:
 * their bindings and publications, the full current set each time.
 * node says which gateway holds each; a publication's seq is the
 * store's own order of writes, comparable across gateways.  aor NULL
 * and synced false: the feed (re)connected and every AOR follows again;
 * aor NULL and synced true: that resend is complete, what it did not
 * name is gone. */
struct sto_remote {
	const char *aor;
	bool synced;
	const char *node;         /* aor NULL, node set: that gateway went
				   * (its sessions with the server ended)
				   * or came back; its rows are left out
				   * while it is gone, a resend follows */
	bool node_up;
	size_t nb;
	const struct sto_binding *bv;
	const char *const *bnode;
	size_t np;
	const struct sto_pub *pv;
	const char *const *pnode;
};

/* The feed's health, told with each change of it. */
typedef void (sto_remote_h)(const struct sto_remote *r, void *arg);
typedef void (sto_feed_h)(bool up, const char *msg, void *arg);

/* Follow the other gateways' changes (LISTEN/NOTIFY on a connection of
 * a reader thread of its own; each change is handed to the loop's
 * thread).  After a lost connection it connects again every
 * STO_RETRY_MS and sends everything again (aor NULL first).  A no-op
 * for the other kinds. */
int  sto_follow(struct sto *st, sto_remote_h *rh, sto_feed_h *fh,
		void *arg);

/* Health changes (a write failed, writes resumed), told on the thread
 * that runs the libre loop. */
typedef void (sto_log_h)(bool healthy, const char *msg, void *arg);
void sto_set_log(struct sto *st, sto_log_h *h, void *arg);

#endif /* STC_STO_H */
