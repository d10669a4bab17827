/*
 * cn.h -- the running connector: one daemon context and its surface.
 *
 * Owns: struct cn, the only mutable state of a running stconnector:
 *	the loaded configuration and this connector's record in it, the
 *	state and counters of every external community and gateway, the
 *	listeners, the last reload's result; the counter helpers the SIP
 *	proxy core calls; the reload that swaps configurations; the
 *	control commands (status, reload, reset) and the status tree;
 *	the daemon's start-up and shutdown.
 * Not here: SIP.  Listeners, links, forwarding and the trust check
 *	belong to the proxy core, which plugs in through struct
 *	cn_proxy_ops (below) and reports what it does through the
 *	cn_count_* / cn_*_set helpers.  Until it is plugged in, the
 *	daemon runs with no listeners and says so in its status.
 * Memory: struct cn, struct cn_comm, struct cn_gw and struct
 *	cn_listener are libre mem objects owned by the context;
 *	mem_deref(cn) frees all of it (and the configuration).  Helpers
 *	take community and gateway NAMES, not pointers, because a reload
 *	frees the records of communities that left the file.
 * Threads: everything runs on the libre loop's thread.
 */
#ifndef STC_CN_H
#define STC_CN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <re.h>

#include "conf/cfg.h"
#include "daemon/dmn.h"
#include "connector/cn_policy.h"
#include "sipstack/sst_transp.h"

struct sst_dns;
struct sst_tls_ctx;

enum {
	CN_TEXT_MAX   = 256,	/* stored error / rejection text, bytes */
	CN_HOPS_MAX   = 16,	/* resolved next hops kept per community */
	CN_ADDR_MAX   = 64,	/* printable address */
	CN_RELOAD_TIMEOUT_MS = 10000,
	CN_CTL_TIMEOUT_MS = 5000, /* the CLI's wait for an answer */
};

/*
 * Link state of one external community, as the proxy core reports it.
 * IDLE: enabled, nothing tried yet (also: no proxy core running);
 * CONNECTING: a connection or lookup is under way; UP: a working link;
 * DOWN: the last attempt failed (last_error says why, next_retry when
 * it is tried again); DISABLED: this connector does not serve it.
 */
enum cn_link {
	CN_LINK_IDLE = 0,
	CN_LINK_CONNECTING,
	CN_LINK_UP,
	CN_LINK_DOWN,
	CN_LINK_DISABLED,
};

/* A gateway's state.  UNKNOWN until the proxy core reports on it. */
enum cn_gw_state {
	CN_GW_UNKNOWN = 0,
	CN_GW_UP,
	CN_GW_DOWN,
};

/* One resolved next hop of a community (filled by the proxy core). */
struct cn_link_hop {
	char addr[CN_ADDR_MAX];	/* numeric address */
	uint16_t port;
	enum cfg_transport tp;
	uint32_t ttl;		/* seconds, as resolved */
};

/* The TLS session of a community's link (filled by the proxy core). */
struct cn_tls_info {
	bool known;		/* false: no TLS session to report */
	char peer[CN_TEXT_MAX];	/* peer certificate subject / name */
	char cipher[128];		/* as long as sst_tls_peer's */
	char verdict[CN_ADDR_MAX];	/* "valid", "expired", "name-mismatch"... */
	int days_left;		/* to the peer certificate's expiry */
};

/* Counters and the last refusal, shared by communities and totals. */
struct cn_counts {
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t rejects[CN_R_COUNT];	/* index CN_OK unused */
	char last_reject[CN_TEXT_MAX];	/* "reason: detail" or "" */
	time_t last_reject_at;
};

/* One ExternCommunity, as this connector sees it. */
struct cn_comm {
	struct le le;
	char *name;
	const struct cfg_extern *ex;	/* into cn->cfg; renewed on reload */
	bool enabled;			/* SupportedCommunity enabled here */
	enum cn_link link;
	char last_error[CN_TEXT_MAX];
	time_t last_error_at;
	time_t next_retry;		/* 0: none scheduled */
	struct cn_link_hop hops[CN_HOPS_MAX];
	size_t nhops;
	time_t hops_at;			/* when they were resolved */
	struct cn_tls_info tls;
	time_t dns_stale_since;		/* answers served stale since, or 0 */
	struct cn_counts cnt;
	void *proxy;			/* the proxy core's own, not freed here */
};

/* One CommunityGateway this connector serves. */
struct cn_gw {
	struct le le;
	char *name;
	const struct cfg_gateway *gw;	/* into cn->cfg */
	enum cn_gw_state state;
	char last_error[CN_TEXT_MAX];
	uint64_t msgs_in;		/* from the gateway */
	uint64_t msgs_out;		/* to the gateway */
};

/* One socket the proxy core listens on. */
struct cn_listener {
	struct le le;
	enum cfg_transport tp;
	char addr[CN_ADDR_MAX];
	uint16_t port;
};

/* Result of the last reload. */
enum cn_reload_state {
	CN_RELOAD_NONE = 0,	/* no reload since start */
	CN_RELOAD_OK,
	CN_RELOAD_FAILED,
};

struct cn;

/*
 * The proxy core's seam.  Each member may be NULL (nothing to do).
 *  start: bind listeners (cn_listener_add each), start links; called
 *	as root, before the privilege drop.  Non-zero stops the daemon.
 *  apply: after a reload swapped cn->cfg (old is still valid during
 *	the call): keep listeners that did not change, rebind others,
 *	start or stop links of communities whose state changed.
 *  retry: `reset COMMUNITY`: the community's error was cleared; try
 *	its link now.
 *  stop: before the context is freed at shutdown.
 *  status: add the proxy core's own sections (e.g. DNS) to the tree.
 */
struct cn_proxy_ops {
	int  (*start)(struct cn *cn);
	int  (*apply)(struct cn *cn, const struct cfg *old);
	int  (*retry)(struct cn *cn, struct cn_comm *comm);
	void (*stop)(struct cn *cn);
	void (*status)(struct cn *cn, struct dmn_st *root);
};

struct cn {
	struct cfg *cfg;
	const struct cfg_connector *self;	/* into cfg */
	char *name;			/* this connector's name */
	char *cfgpath;			/* absolute config file path */
	time_t started;			/* wall clock */
	uint64_t started_ms;		/* monotonic, for uptime */
	time_t loaded;			/* when cfg was loaded */

	enum cn_reload_state reload;
	time_t reload_at;
	struct cfg_diag reload_diag;	/* messages of the last reload */
	char reload_note[CN_TEXT_MAX * 4];	/* a failure outside the file */

	struct list comms;		/* struct cn_comm, file order */
	struct list gws;		/* struct cn_gw, <Gateway> order */
	struct list listeners;		/* struct cn_listener */
	struct cn_counts total;		/* every community, and none */

	const struct cn_proxy_ops *ops;
	void *proxy;			/* the proxy core's state */
	struct sst_dns *dns;		/* resolver, if the core has one */
	struct dmn_trace *trace;	/* the Trace file, when enabled */
	char trace_err[CN_TEXT_MAX];	/* why it could not be opened */

	/* reload (cn_reload.c) */
	struct cfg *boot;		/* the file as started (reloaded) */
	struct sst_tls_ctx *tls_new;	/* credentials for ops->apply */
	char pending[CN_TEXT_MAX];	/* what needs a restart, "" if none */
	struct cn_audit *audit;		/* the Audit record (cn_audit.c) */
};

/* ------------------------------------------------------------------ */
/* Trace (cn.c): the Trace record's file, (re)opened at start and on
 * every reload, so that an administrator can rotate it; the transport's
 * tap is dmn_trace_tap on &cn->trace. */
void cn_trace_open(struct cn *cn);
void cn_trace_scope(struct cn *cn);

/* ------------------------------------------------------------------ */
/* Context (cn.c) */

/*
 * A context for cfg (taken over: freed with the context) and its
 * CommunityConnector record named name.  ENOENT if there is none.
 */
int cn_alloc(struct cn **cnp, struct cfg *cfg, const char *name,
	     const char *cfgpath, const struct cn_proxy_ops *ops);

/*
 * This file's connector record: the one named name, or with name NULL
 * the only one.  0, or ENOENT (no such record / none at all) or
 * E2BIG (several and no name); *whyp gets a sentence for people.
 */
int cn_self_pick(const struct cfg *cfg, const char *name,
		 const struct cfg_connector **selfp, const char **whyp);

/*
 * Rebuild the community and gateway records for cn->cfg and cn->self;
 * records whose name is still configured keep their counters and link
 * state, the others are freed.
 */
int cn_state_rebuild(struct cn *cn);
/* Milliseconds since cn_alloc (monotonic). */
uint64_t cn_uptime_ms(const struct cn *cn);

struct cn_comm *cn_comm_find(const struct cn *cn, const char *name);
struct cn_gw *cn_gw_find(const struct cn *cn, const char *name);

/* Counters for the proxy core.  community may be NULL (none known). */
void cn_count_in(struct cn *cn, const char *community);
void cn_count_out(struct cn *cn, const char *community);
void cn_count_gw(struct cn *cn, const char *gateway, bool in);

/*
 * Count one refusal for community (NULL when none could be named)
 * and reason, keep "detail" as the last rejection text, and log one
 * rate-limited line
 *	cn: reject reason=untrusted-ip community=chicago src=... detail=...
 * src is the peer address as text (or NULL).  Each reason has its own
 * log bucket (CN_LOG_BURST lines a minute), so that a flood of one
 * reason never hides another's lines; and within a reason each source
 * at most CN_LOG_SRC_BURST of them (CN_LOG_SOURCES sources tracked,
 * the least recently heard one forgotten first), so that one noisy
 * source cannot use up its reason's bucket.  Counters are never
 * rate-limited.
 */
enum {
	CN_LOG_BURST     = 20,
	CN_LOG_SRC_BURST = 5,
	CN_LOG_SOURCES   = 64,
};
void cn_count_reject(struct cn *cn, const char *community,
		     enum cn_reason reason, const char *src,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Link state of a community.  For CN_LINK_DOWN, fmt gives the error
 * kept for status and retry_s (> 0) when the next attempt is due.
 * ENOENT for an unknown community.
 */
int cn_link_set(struct cn *cn, const char *community, enum cn_link link,
		unsigned retry_s, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int cn_gw_set(struct cn *cn, const char *gateway, enum cn_gw_state st,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cn_hops_set(struct cn *cn, const char *community,
		const struct cn_link_hop *hops, size_t n);
int cn_tls_set(struct cn *cn, const char *community,
	       const struct cn_tls_info *tls);
/* The community's DNS answers are served stale since (wall clock), or
 * fresh again (0).  ENOENT for an unknown community. */
int cn_stale_set(struct cn *cn, const char *community, time_t since);
int cn_listener_add(struct cn *cn, enum cfg_transport tp, const char *addr,
		    uint16_t port);
void cn_listeners_clear(struct cn *cn);

const char *cn_link_name(enum cn_link link);
const char *cn_gw_state_name(enum cn_gw_state st);

/*
 * `reset COMMUNITY`: clear the community's link error and retry time,
 * back to IDLE, and ask the proxy core to try now.  ENOENT if unknown.
 */
int cn_reset(struct cn *cn, const char *community);

/* ------------------------------------------------------------------ */
/* Reload (cn_reload.c) */

/*
 * Load the file again.  On any error the running configuration stays,
 * every message is logged and kept for status, and pf (if given) gets
 * them; returns EBADMSG (errors in the file), ENOENT (connector record
 * gone) or the read errno.  On success the new configuration is
 * swapped in: communities and gateways still in the file keep their
 * counters (matched by name), new ones start at zero, the others go;
 * then ops->apply runs.
 */
int cn_reload(struct cn *cn, struct re_printf *pf);

/* ------------------------------------------------------------------ */
/* Health and status (cn_status.c) */

/* Why the connector is degraded, as bits. */
enum cn_degraded {
	CN_DEG_RELOAD   = 1 << 0,	/* the last reload failed */
	CN_DEG_LINK     = 1 << 1,	/* an enabled community's link is down */
	CN_DEG_GATEWAYS = 1 << 2,	/* every gateway it serves is down */
	CN_DEG_DNS      = 1 << 3,	/* an enabled community's answers are
					 * served stale */
};

/*
 * 0 when healthy, else CN_DEG_* bits: the last reload failed; or an
 * enabled community's DNS answers are served stale; or an
 * enabled community's link is DOWN (IDLE and CONNECTING are not
 * failures); or the connector serves gateways and every one of them is
 * DOWN (UNKNOWN is not a failure: nothing was reported yet).
 */
unsigned cn_degraded(const struct cn *cn);

/* The whole status tree; the caller mem_deref()s it. */
int cn_status_build(struct dmn_st **stp, struct cn *cn);
/* The one-screen summary of st (a cn_status_build tree), arg the
 * struct cn (dmn_st_sum_h). */
int cn_status_summary(struct dmn_st **sump, const struct dmn_st *st,
		      void *arg);

/* ------------------------------------------------------------------ */
/* Control (cn_ctl.c) and the daemon (cn_daemon.c) */

extern const struct dmn_ctl_cmd cn_ctl_cmdv[];
extern const size_t cn_ctl_cmdc;

/* stconnector [-c FILE] [-n NAME] [-f] */
int cn_daemon_main(int argc, char **argv, const struct cn_proxy_ops *ops);

/* stconnector status|reload|reset ... [-c FILE] [-n NAME] */
int cn_cmd_ctl(const char *cmd, int argc, char **argv);

#endif /* STC_CN_H */
