/*
 * gw.h -- the running gateway: one daemon context and the local
 * community's SIP service.
 *
 * Owns: struct gw, the only mutable state of a running stgateway: the
 *	loaded configuration and this gateway's record in it, the
 *	listeners (transport), transactions, the digest authenticator,
 *	the registration table, publications, subscriptions, the
 *	directory, counters; the reload that swaps configurations; the
 *	control commands and the status tree.
 * Federation (gw_fed.c): links to connectors, the ConnectorListen
 *	side, translation between local IDs and email addresses, and
 *	the shared subscriptions to external presentities.  Requests for
 *	targets outside the community's domains go through gw_outbound()
 *	(gw_route.c), the seam to that side.
 * Memory: struct gw and everything below it are libre mem objects;
 *	mem_deref(gw) frees all of it, the configuration included.
 * Threads: everything runs on the libre loop's thread (the directory
 *	has its own lookup thread behind dir.h).
 *
 * Authentication policy (decided here, see gw_auth.c):
 *	REGISTER is challenged with 401 (WWW-Authenticate), every other
 *	request that starts something (PUBLISH, SUBSCRIBE, MESSAGE
 *	without a To tag) with 407 (Proxy-Authenticate), SHA-256 offered
 *	before MD5.  Trusting "the address the user registered from"
 *	instead would let any local process sharing a NAT or host speak
 *	as that user; baresip, linphone and sipp all answer 407 and then
 *	reuse their credentials (incrementing nc), so the cost is one
 *	extra round trip per new request kind, not per request.
 *	In-dialog requests (re-SUBSCRIBE, un-SUBSCRIBE) are accepted when
 *	they match a dialog we hold and arrive from the same transport
 *	address as the request that created it; anything else in-dialog
 *	gets 481.  The digest username must equal the From user: a user
 *	can only speak as herself.
 */
#ifndef STC_GW_H
#define STC_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <re.h>

#include "conf/cfg.h"
#include "daemon/dmn.h"
#include "directory/dir.h"
#include "sipstack/sst_transp.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_front.h"
#include "gateway/gw_pidf.h"
#include "gateway/gw_out.h"
#include "gateway/gw_req.h"
#include "gateway/gw_obs.h"
#include "gateway/gw_base.h"
#include "gateway/gw_lsnr.h"

struct sst_tstack;
struct sst_strans;
struct sst_ctrans;
struct gw_digest;
struct gw_reg;
struct sto;
struct sto_binding;
struct sto_pub;
struct sto_sub;

enum {
	GW_EXPIRES_MIN      = 60,    /* REGISTER/PUBLISH/SUBSCRIBE floor */
	GW_EXPIRES_MAX      = 3600,  /* ceiling: longer asks are cut */
	GW_EXPIRES_DEFAULT  = 3600,
	GW_SUB_EXPIRES_MAX  = 600,   /* SUBSCRIBE ceiling: a gateway that
				      * restarted without memory answers
				      * the next refresh 481, so a client's
				      * stale view lasts at most this long
				      * (RFC 6665 4.2.1.1 lets the notifier
				      * shorten the duration) */
	GW_SUB_MAX          = 1000000, /* subscriptions held */
	GW_INDEX_BUCKETS    = 65536, /* buckets of the per-user and
				      * per-dialog indexes (100,000 users,
				      * 1,000,000 subscriptions) */
	GW_PUB_PER_AOR_MAX  = 16,    /* publications per user */
	GW_FORK_MAX         = 16,    /* contacts a MESSAGE is forked to */
	GW_PENDING_MAX      = 4096,  /* requests waiting on the directory */
	GW_SWEEP_MS         = 1000,  /* expiry sweep */
	GW_ADDR_MAX         = 64,
	GW_TEXT_MAX         = 256,
	GW_CTL_TIMEOUT_MS   = 5000,
	GW_RETRY_AFTER      = 5,     /* seconds, on 503 from the directory */
	GW_DIR_ANSWER_MIN_MS = 100,  /* bounds of Directory answerTimeout */
	GW_DIR_ANSWER_MAX_MS = 20000,
	GW_PENDING_TICK_MS  = 100,   /* how often parked requests are checked */
	GW_AMBIG_MAX        = 64,    /* ambiguous addresses remembered */
};

/* Exit statuses of the program (the same values as DMN_EXIT_*). */
enum {
	GW_EXIT_OK = 0,
	GW_EXIT_FAIL = 1,
	GW_EXIT_USAGE = 2,
};

/* Where a request came from (struct sst_flow, sipstack/sst_flow.h):
 * kept by registrations (a binding's flow), dialogs and transactions
 * (the send argument). */

/* Counters, for status. */
struct gw_counters {
	uint64_t req_in;
	uint64_t resp_in;
	uint64_t malformed;
	uint64_t reg_ok;
	uint64_t reg_refused;       /* 400/403/423 to REGISTER */
	uint64_t auth_challenges;
	uint64_t auth_ok;
	uint64_t auth_stale;
	uint64_t auth_bad_password;
	uint64_t auth_unknown_user;
	uint64_t auth_other;        /* uri mismatch, identity, replay */
	uint64_t dir_unavailable;   /* answered 503 for the directory */
	uint64_t dir_slow;          /* of those: no answer in answerTimeout */
	uint64_t dir_ambiguous;     /* 485: several entries for one key */
	uint64_t pub_ok;
	uint64_t pub_refused;
	uint64_t sub_ok;
	uint64_t sub_refused;
	uint64_t notify_out;
	uint64_t notify_failed;
	uint64_t msg_in;
	uint64_t msg_delivered;     /* at least one contact accepted */
	uint64_t msg_out;           /* MESSAGE requests we sent */
	uint64_t msg_offline;       /* 480 */
	uint64_t msg_unknown;       /* 404 */
	uint64_t msg_failed;        /* every contact refused */
	uint64_t ext_refused;       /* outbound hook refusals */
	uint64_t fed_in;            /* requests on ConnectorListen */
	uint64_t fed_untrusted;     /* 403: source not a trusted IP */
	uint64_t fed_msg_out;       /* MESSAGEs sent to a connector */
	uint64_t fed_msg_in;        /* MESSAGEs from a connector */
	uint64_t fed_no_email;      /* 403: local user without email */
	uint64_t fed_no_connector;  /* 503: no connector link up */
	uint64_t fed_privacy;       /* 403: external watcher refused */
	uint64_t fed_sub_out;       /* federation SUBSCRIBEs sent */
	uint64_t fed_notify_in;     /* NOTIFYs from external presentities */
};

/* What the last start found in the state store, for status. */
struct gw_restored {
	uint32_t bindings;
	uint32_t publications;
	uint32_t subscriptions;
	uint32_t stream_bindings;  /* not restored: TCP/TLS flow died */
	uint32_t stream_subs;
	uint32_t unusable;         /* no listener for it, bad address */
};

struct gw {
	struct cfg *cfg;
	const struct cfg_gateway *self;
	char *cfgpath;
	char *name;
	char *realm;               /* the community's first domain */
	time_t started;
	uint64_t started_ms;

	struct sst_transp *tp;
	struct sst_tls_ctx *tls;   /* from the Tls record, or NULL */
	struct sst_tstack *tstk;
	struct sst_front front;    /* the receive path (sst_front.h) */
	struct gw_obs obs;         /* services calling back (gw_obs.h) */
	struct gw_digest *dg;
	struct gw_reg *reg;
	struct dir *dir;
	struct list lsnrs;         /* struct gw_lsnr */
	struct list pending;       /* struct gw_req waiting on dir */
	struct hash *pres;         /* struct gw_pres by AOR */
	struct list subs;          /* struct gw_sub */
	struct hash *subt;         /* the same, by target AOR */
	struct hash *subd;         /* the same, by Call-ID */
	uint32_t nsubs;            /* entries in subs */
	struct list forks;         /* struct gw_fork: MESSAGEs in flight */
	struct list links;         /* struct gw_link: connectors, in order */
	struct list fsubs;         /* struct gw_fsub: external presentities */
	struct list noemail;       /* struct gw_noemail: cannot federate */
	struct list allow_cnt;     /* gw_allow.c: refusals per community */
	struct list allow_users;   /* gw_allow.c: users refused */
	struct list ftxs;          /* federation requests nobody waits on */
	struct list ambig;         /* struct gw_ambig: logged recently */
	struct tmr sweep;
	struct sto *store;         /* the state store (gw_store.c); NULL
				    * before start and while closing */
	struct hash *remote;       /* other gateways' AORs (gw_shared.c) */
	struct gw_restored restored;
	struct tmr pendt;          /* answers requests the directory keeps */

	struct gw_counters c;
	struct dmn_trace *trace;   /* the Trace file, when enabled */
	char trace_err[GW_TEXT_MAX];

	/* the last reload */
	time_t reload_at;
	bool reload_failed;
	struct cfg_diag reload_diag;
	char reload_note[GW_TEXT_MAX * 4];	/* a failure outside the file */
	struct cfg *boot;          /* the file as started, once reloaded */
	char restart[GW_TEXT_MAX]; /* what needs a restart, "" if none */
};

/* One bound listener, for status and for our own Contact/Via. */
struct gw_lsnr {
	struct le le;
	enum sst_tp tp;
	struct sa addr;
	bool fed;                  /* a ConnectorListen address */
};

/* gw.c: the context */
int  gw_alloc(struct gw **gwp, struct cfg *cfg, const char *name,
	      const char *cfgpath, char *why, size_t whysz);
int  gw_start(struct gw *gw);
int  gw_self_pick(const struct cfg *cfg, const char *name,
		  const struct cfg_gateway **selfp, const char **whyp);
int  gw_reload(struct gw *gw, struct re_printf *pf);
bool gw_degraded(const struct gw *gw);
/* gw_route.c: the outbound seam (gw_domain_is_local: gw_base.h) */
struct gw_req;
/* Answer or hand over rq (a local user's request to an external
 * target); rq is consumed. */
void gw_outbound(struct gw_req *rq);

/* gw_sip.c: receiving (answering and sending: gw_lsnr.h) */
void gw_sip_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg);
/* Fill gw->front once gw->tp and gw->tstk exist. */
void gw_sip_front(struct gw *gw);

/* The request context, struct gw_req: gateway/gw_req.h. */
/* Authenticate rq's request, then call next (or answer the refusal). */
void gw_auth(struct gw_req *rq, bool proxy, gw_req_h *next);
/* Does rq->target exist in the directory?  Then call next, else 404. */
void gw_target_check(struct gw_req *rq, gw_req_h *next);

/* gw_regsrv.c: REGISTER (the registered AORs: gw->reg, gw_reg.h) */
void gw_register(struct gw_req *rq);

/* gw_pres.c: PUBLISH, SUBSCRIBE, NOTIFY, presence state */
void gw_publish(struct gw_req *rq);
void gw_subscribe(struct gw_req *rq);
bool gw_subscribe_indialog(struct gw *gw, const struct sip_msg *msg,
			   struct sst_strans *stx, struct sst_flow *fl);
enum gw_status gw_pres_status(struct gw *gw, const char *aor);
void gw_pres_changed(struct gw *gw, const char *aor);
void gw_pres_sweep(struct gw *gw, uint64_t now);
void gw_pres_close(struct gw *gw);
unsigned gw_pub_count(const struct gw *gw);
/* Live subscriptions; each added to list when list is set. */
unsigned gw_subs_status(const struct gw *gw, struct dmn_st *list);

/* Subscribe rq's local watcher to an external presentity (after
 * gw_outbound accepted it); and a local user's external watcher
 * (rq->fed, rq->target the local ID, rq->entity the email AOR). */
void gw_subscribe_external(struct gw_req *rq);
void gw_subscribe_fed(struct gw_req *rq);
/* Live local subscriptions whose target is aor. */
unsigned gw_pres_watchers(const struct gw *gw, const char *aor);
unsigned gw_pres_ext_watchers(const struct gw *gw);

/* gw_msg.c: MESSAGE */
void gw_message(struct gw_req *rq);
/* Fork rq's MESSAGE to the contacts of the local AOR target, with
 * from the whole From value the recipients see. */
void gw_msg_deliver(struct gw_req *rq, const char *target,
		    const char *sender);
void gw_msg_close(struct gw *gw);

/* gw_allow.c: ExternCommunity AllowGroup.  Call next(rq) when the
 * local user (rq->user outbound, rq->target inbound) may federate with
 * the community of the request's other side, else answer rq. */
void gw_allow_check(struct gw_req *rq, bool inbound, gw_req_h *next);
void gw_allow_close(struct gw *gw);
void gw_allow_status(struct dmn_st *fed, struct dmn_st *cannot,
		     const struct gw *gw);

/* gw_fed.c: federation.  See the file's top comment. */
int  gw_fed_start(struct gw *gw);
void gw_fed_close(struct gw *gw);
void gw_fed_tick(struct gw *gw, uint64_t now);
bool gw_fed_is_fed(const struct gw *gw, const struct sst_flow *fl);
void gw_fed_recv(struct gw *gw, struct sip_msg *msg,
		 struct sst_strans *stx, struct sst_flow *fl);
void gw_fed_outbound(struct gw_req *rq);
void gw_fed_watch(struct gw *gw, const char *aor);
enum gw_status gw_fed_status(const struct gw *gw, const char *aor,
			     const char **notep);
void gw_fed_status_build(struct dmn_st *root, struct gw *gw);
bool gw_fed_degraded(const struct gw *gw);
/* `reset [CONNECTOR]`: probe down links now (all, or the one named)
 * and retry every federation subscription waiting out a backoff;
 * ENOENT when no link has that name. */
int  gw_fed_reset(struct gw *gw, const char *name, struct re_printf *pf);

/* gw_store.c: the state store (store/sto.h) from the gateway's side.
 * Hooks are no-ops while gw->store is NULL (tests, shutdown). */
int  gw_store_start(struct gw *gw);
/* gw_shared.c: the other gateways of a shared store. */
int  gw_shared_start(struct gw *gw);
void gw_shared_close(struct gw *gw);
enum gw_status gw_shared_status(const struct gw *gw, const char *aor,
				const char **notep);
const char *gw_shared_node(const struct gw *gw, const char *aor);
unsigned gw_shared_count(const struct gw *gw);
/* A request from another gateway of the shared store (its UDP
 * ClientListen address: a forwarded MESSAGE, whose sender it
 * authenticated); a MESSAGE for a user whose client is at another
 * gateway, sent there (true: rq is taken). */
bool gw_shared_peer(const struct gw *gw, const struct sst_flow *fl);
bool gw_shared_forward(struct gw_req *rq, const char *target,
		       const char *sender);
void gw_store_close(struct gw *gw);
void gw_store_reg(struct gw *gw, const char *aor);
void gw_store_status(struct dmn_st *root, const struct gw *gw);
bool gw_store_degraded(const struct gw *gw);
/* gw_pres.c: put restored records back (at start only) */
void gw_pres_restore_pub(struct gw *gw, const struct sto_pub *p,
			 uint64_t expires);
int  gw_pres_restore_sub(struct gw *gw, const struct sto_sub *u,
			 struct sst_flow *fl, uint64_t expires);
void gw_pres_restore_done(struct gw *gw);

/* gw_ctl.c / gw_status.c */
int  gw_status_build(struct dmn_st **stp, struct gw *gw);
extern const struct dmn_ctl_cmd gw_ctl_cmdv[];
extern const size_t gw_ctl_cmdc;
int  gw_cmd_ctl(const char *cmd, int argc, char **argv);
/* gw_cmd_check.c: stgateway check [-c FILE] [-n NAME] [--directory] */
int  gw_cmd_check(const char *cmd, int argc, char **argv);

/* gw_daemon.c */
int  gw_daemon_main(int argc, char **argv);

#endif /* STC_GW_H */
