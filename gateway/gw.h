/*
 * gw.h -- the running gateway's shared state: one daemon context.
 *
 * Owns: struct gw, the only mutable state of a running stgateway: the
 *	loaded configuration and this gateway's record in it, the
 *	listeners (transport), transactions, the digest authenticator,
 *	the registration table, publications, subscriptions, the
 *	directory, counters, the callbacks services reach each other
 *	through (gw->obs, gateway/gw_obs.h); the limits and defaults all
 *	services share; struct gw_lsnr.  Only data: no function is
 *	declared here, so that including it ties a file to no other.
 * Each service has its own header, as narrow as gateway/gw_reg.h:
 *	gw_ctx.h     the context's life (gw.c: alloc, start, reload)
 *	gw_sip.h     the receive side and dispatch (gw_sip.c)
 *	gw_auth.h    authentication and the target check (gw_auth.c)
 *	gw_regsrv.h  REGISTER (gw_regsrv.c; the table: gw_reg.h)
 *	gw_pres.h    PUBLISH, SUBSCRIBE, NOTIFY, presence state (gw_pres.c)
 *	gw_msg.h     MESSAGE (gw_msg.c)
 *	gw_route.h   the outbound seam (gw_route.c)
 *	gw_fed.h     federation requests and subscriptions (gw_fed.c)
 *	gw_link.h    the links to connectors (gw_fed.c)
 *	gw_allow.h   ExternCommunity AllowGroup (gw_allow.c)
 *	gw_store.h   the state store's side (gw_store.c)
 *	gw_shared.h  the other gateways of a shared store (gw_shared.c)
 *	gw_ctl.h, gw_cmd_check.h, gw_daemon.h   the program
 *	and leaf helpers that call no service: gw_base.h (clock, local
 *	domains), gw_lsnr.h (listeners, sending, replying), gw_out.h
 *	(building requests and replies), gw_req.h (the request context),
 *	gw_sipv.h (AOR form, Expires), gw_obs.h (the callbacks).
 *	test/gateway/layers.sh fails on any cycle among them.
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
#include "sipstack/sst_pidf.h"
#include "gateway/gw_obs.h"

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

#endif /* STC_GW_H */
