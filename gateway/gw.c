/*
 * gw.c -- the gateway's context: build it from a configuration, start
 * its listeners, reload, sweep expired state.
 *
 * What a reload changes: the directory (a new one is built from the
 * new Directory record; requests waiting on the old one are answered
 * 503 and the clients retry), the community domains and realm, the
 * SupportExternalCommunities / ConvertID switches.  What needs a
 * restart (logged, the running value stays): listeners, control socket,
 * PID file, user.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_tls.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_timer.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_req.h"
#include "gateway/gw_ctx.h"
#include "gateway/gw_fed.h"
#include "gateway/gw_link.h"
#include "gateway/gw_msg.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_sip.h"
#include "gateway/gw_store.h"
#include "gateway/gw_digest.h"
#include "gateway/gw_reg.h"

int gw_self_pick(const struct cfg *cfg, const char *name,
		 const struct cfg_gateway **selfp, const char **whyp)
{
	if (!cfg || !selfp || !whyp)
		return EINVAL;
	if (name) {
		const struct cfg_gateway *g = cfg_gateway_find(cfg, name);

		if (!g) {
			*whyp = "no CommunityGateway record of that name";
			return ENOENT;
		}
		*selfp = g;
		return 0;
	}
	if (cfg->ngateways == 0) {
		*whyp = "no CommunityGateway record";
		return ENOENT;
	}
	if (cfg->ngateways > 1) {
		*whyp = "several CommunityGateway records: choose one with -n";
		return ENOTUNIQ;
	}
	*selfp = &cfg->gateways[0];
	return 0;
}

static void dir_log(const char *msg, void *arg)
{
	(void)arg;
	dmn_log_warnx("gw: directory message=%s", msg);
}

static int dir_make(struct dir **dp, const struct cfg *cfg, char *why,
		    size_t whysz)
{
	int err;

	if (!cfg->directory.present) {
		re_snprintf(why, whysz, "%s: no Directory record: the gateway "
			    "cannot check passwords", cfg->path);
		return ENOENT;
	}
	err = dir_alloc(dp, &cfg->directory, NULL, why, whysz);
	if (err)
		return err;
	dir_set_log(*dp, dir_log, NULL);
	return 0;
}

static void gw_destructor(void *arg)
{
	struct gw *gw = arg;

	tmr_cancel(&gw->sweep);
	/* first: what is queued is written, and closing frees nothing
	 * from the file (hooks are off once the store is gone) */
	gw_store_close(gw);
	gw->trace = mem_deref(gw->trace);
	gw_req_cancel_all(gw);
	tmr_cancel(&gw->pendt);
	list_flush(&gw->ambig);
	gw_fed_close(gw);
	gw_pres_close(gw);
	gw_msg_close(gw);
	list_flush(&gw->lsnrs);
	gw->reg = mem_deref(gw->reg);
	gw->tstk = mem_deref(gw->tstk);
	gw->tp = mem_deref(gw->tp);
	gw->tls = mem_deref(gw->tls);
	gw->dir = mem_deref(gw->dir);
	gw->dg = mem_deref(gw->dg);
	gw->pres = mem_deref(gw->pres);
	gw->subt = mem_deref(gw->subt);
	gw->subd = mem_deref(gw->subd);
	gw->cfgpath = mem_deref(gw->cfgpath);
	gw->name = mem_deref(gw->name);
	gw->realm = mem_deref(gw->realm);
	cfg_diag_reset(&gw->reload_diag);
	if (gw->boot != gw->cfg)
		cfg_free(gw->boot);
	cfg_free(gw->cfg);
}

static void sweep(void *arg)
{
	struct gw *gw = arg;
	const uint64_t now = gw_now();

	tmr_start(&gw->sweep, GW_SWEEP_MS, sweep, gw);
	gw_pres_sweep(gw, now);
	gw_fed_tick(gw, now);
}

/**
 * Build the context.  On success gw owns cfg (also on failure: cfg is
 * freed either way).  why gets a sentence for the administrator.
 */
/* The one place where services that must reach each other are
 * connected (gateway/gw_obs.h says why each callback exists). */
static void observers_register(struct gw *gw)
{
	gw->obs.ext_status = gw_fed_status;
	gw->obs.ext_watch = gw_fed_watch;
	gw->obs.ext_outbound = gw_fed_outbound;
	gw->obs.changed = gw_pres_changed;
}

int gw_alloc(struct gw **gwp, struct cfg *cfg, const char *name,
	     const char *cfgpath, char *why, size_t whysz)
{
	const struct cfg_gateway *self = NULL;
	const char *reason = NULL;
	struct gw *gw;
	int err;

	if (!gwp || !cfg || !cfgpath) {
		cfg_free(cfg);
		return EINVAL;
	}

	gw = mem_zalloc(sizeof(*gw), gw_destructor);
	if (!gw) {
		cfg_free(cfg);
		return ENOMEM;
	}
	gw->cfg = cfg;
	gw->started = time(NULL);
	gw->started_ms = sst_tmr_now();
	tmr_init(&gw->sweep);
	tmr_init(&gw->pendt);

	err = gw_self_pick(cfg, name, &self, &reason);
	if (err) {
		re_snprintf(why, whysz, "%s: %s", cfgpath, reason);
		goto out;
	}
	gw->self = self;
	if (cfg->community.domains.n == 0) {
		re_snprintf(why, whysz, "%s: the Community record has no "
			    "Domain", cfgpath);
		err = EINVAL;
		goto out;
	}

	err  = str_dup(&gw->cfgpath, cfgpath);
	err |= str_dup(&gw->name, self->name ? self->name : "gateway");
	err |= str_dup(&gw->realm, cfg->community.domains.v[0]);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err  = hash_alloc(&gw->pres, GW_INDEX_BUCKETS);
	err |= hash_alloc(&gw->subt, GW_INDEX_BUCKETS);
	err |= hash_alloc(&gw->subd, GW_INDEX_BUCKETS);
	if (err) {
		err = ENOMEM;
		goto out;
	}
	err = gw_digest_alloc(&gw->dg, 0);
	if (err)
		goto out;
	err = gw_reg_alloc(&gw->reg, 0);
	if (err)
		goto out;
	observers_register(gw);
	err = dir_make(&gw->dir, cfg, why, whysz);
	if (err)
		goto out;

 out:
	if (err)
		mem_deref(gw);
	else
		*gwp = gw;
	return err;
}

/*
 * The TLS credentials of the Tls record, as the connector builds its
 * own (connector/cn_proxy.c px_start: the same five settings; the two
 * programs share no library that sees both conf/ and sipstack/, so the
 * mapping is repeated rather than given a module of its own).  No Tls
 * record or no certificate: no context, and tls listeners are refused.
 */
/* A Trace record's community or user scope, after each (re)open. */
static void trace_scope(struct gw *gw)
{
	const struct cfg_extern *x = cfg_trace_extern(gw->cfg);

	if (gw->trace && (x || gw->cfg->trace.user))
		(void)dmn_trace_scope(gw->trace, x ?
				      (const char *const *)x->domains.v : NULL,
				      x ? x->domains.n : 0,
				      gw->cfg->trace.user);
}

static int tls_make(struct gw *gw)
{
	const struct cfg_tls *tc = &gw->cfg->tls;
	struct sst_tls_conf tl;
	char why[256];
	int err;

	if (!tc->present || !tc->cert)
		return 0;
	memset(&tl, 0, sizeof(tl));
	tl.cert = tc->cert;
	tl.key = tc->key;
	tl.ca = tc->ca;
	tl.verify = tc->verify == CFG_VERIFY_REQUIRED;
	err = sst_tls_ctx_load(&gw->tls, &tl, NULL, why, sizeof(why));
	if (err)
		dmn_log_code(DMN_LOG_ERR, err, "gw: tls failed cert=%s "
			     "reason=%s", tc->cert, why);
	return err;
}

/** Open the ClientListen and ConnectorListen listeners and start the
 * sweep. */
int gw_start(struct gw *gw)
{
	struct sst_transp_conf conf;
	size_t i;
	int err;

	if (!gw)
		return EINVAL;

	err = tls_make(gw);
	if (err)
		return err;
	memset(&conf, 0, sizeof(conf));
	conf.tls = gw->tls;
	err = sst_transp_alloc(&gw->tp, &conf, gw_sip_recv, gw);
	if (err)
		return err;
	dmn_trace_reopen(&gw->trace, gw->cfg->trace.enable,
			 gw->cfg->trace.file, gw->cfg->trace.level,
			 gw->trace_err, sizeof(gw->trace_err));
	trace_scope(gw);
	sst_transp_tap(gw->tp, dmn_trace_tap, &gw->trace);
	err = sst_tstack_alloc(&gw->tstk, NULL, NULL);
	if (err)
		return err;
	gw_sip_front(gw);

	for (i = 0; i < gw->self->clients.n + gw->self->connectors.n; i++) {
		const bool fed = i >= gw->self->clients.n;
		const struct cfg_listen *cl = fed ?
			&gw->self->connectors.v[i - gw->self->clients.n] :
			&gw->self->clients.v[i];
		struct gw_lsnr *l;
		enum sst_tp kind;
		struct sa sa;

		if (cl->tp == CFG_TP_TLS && !gw->tls) {
			dmn_log_warnx("gw: listener skipped transport=tls "
				      "address=%s reason=no-tls-certificate "
				      "side=%s", cl->addr,
				      fed ? "connector" : "client");
			continue;
		}
		kind = cl->tp == CFG_TP_TLS ? SST_TP_TLS :
			cl->tp == CFG_TP_TCP ? SST_TP_TCP : SST_TP_UDP;
		err = sa_set_str(&sa, cl->addr, cl->port);
		if (err)
			return err;

		l = mem_zalloc(sizeof(*l), NULL);
		if (!l)
			return ENOMEM;
		l->tp = kind;
		l->fed = fed;
		err = sst_transp_listen(gw->tp, kind, &sa, &l->addr);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "gw: listen failed "
				     "transport=%s address=%s port=%u",
				     sst_tp_name(kind), cl->addr,
				     (unsigned)cl->port);
			mem_deref(l);
			return err;
		}
		list_append(&gw->lsnrs, &l->le, l);
		dmn_log_info("gw: listening transport=%s address=%s port=%u "
			     "side=%s", sst_tp_name(kind), cl->addr,
			     (unsigned)sa_port(&l->addr),
			     fed ? "connector" : "client");
		if (kind == SST_TP_UDP) {
			size_t got, asked;

			sst_transp_sockbuf(gw->tp, &l->addr, &got, &asked);
			if (got < asked)
				dmn_log_warnx("gw: udp receive buffer capped "
					      "asked=%zu granted=%zu (raise "
					      "net.core.rmem_max)", asked,
					      got);
		}
	}

	if (list_isempty(&gw->lsnrs)) {
		dmn_log_errx("gw: no client listener");
		return EADDRNOTAVAIL;
	}

	err = gw_fed_start(gw);
	if (err)
		return err;
	err = gw_store_start(gw);
	if (err)
		return err;

	tmr_start(&gw->sweep, GW_SWEEP_MS, sweep, gw);
	return 0;
}

bool gw_degraded(const struct gw *gw)
{
	struct dir_stats ds;

	if (!gw)
		return true;
	dir_stats_get(gw->dir, &ds);
	return !ds.up || gw->reload_failed || gw_fed_degraded(gw) ||
		gw_store_degraded(gw);
}

/* ---- reload ---- */

static bool listen_differ(const struct cfg_listenv *a,
			  const struct cfg_listenv *b)
{
	size_t i;

	if (a->n != b->n)
		return true;
	for (i = 0; i < a->n; i++)
		if (a->v[i].tp != b->v[i].tp || a->v[i].port != b->v[i].port ||
		    cfg_str_differ(a->v[i].addr, b->v[i].addr))
			return true;
	return false;
}

/**
 * Load the file again; swap only a configuration without errors.
 * Returns 0, or an error with the running configuration unchanged.
 * pf (the control client) gets the outcome, the log gets it too.
 */
/* What the running gateway keeps from ro (the record it started with)
 * although nw says otherwise: "" when nothing. */
static void pending_of(char *buf, size_t sz, const struct cfg *run,
		       const struct cfg_gateway *ro, const struct cfg *nwc,
		       const struct cfg_gateway *nw)
{
	buf[0] = '\0';
	if (listen_differ(&ro->clients, &nw->clients))
		dmn_words_add(buf, sz, "ClientListen");
	if (listen_differ(&ro->connectors, &nw->connectors))
		dmn_words_add(buf, sz, "ConnectorListen");
	if ((run->tls.present && run->tls.cert) !=
	    (nwc->tls.present && nwc->tls.cert))
		dmn_words_add(buf, sz, "Tls");
	if (cfg_str_differ(ro->control, nw->control))
		dmn_words_add(buf, sz, "control");
	if (cfg_str_differ(ro->control_group, nw->control_group))
		dmn_words_add(buf, sz, "controlGroup");
	if (cfg_str_differ(ro->pidfile, nw->pidfile))
		dmn_words_add(buf, sz, "pidFile");
	if (cfg_str_differ(ro->user, nw->user))
		dmn_words_add(buf, sz, "user");
	if (cfg_str_differ(ro->statefile, nw->statefile))
		dmn_words_add(buf, sz, "stateFile");
	if (cfg_str_differ(ro->statestore, nw->statestore))
		dmn_words_add(buf, sz, "stateStore");
}

/* The new file's credentials and trace, before anything changes: 0, or
 * an error with the reason in gw->reload_note. */
static int reload_prepare(struct gw *gw, const struct cfg *cfg,
			  struct sst_tls_ctx **tlsp, struct dmn_trace **trp,
			  int *daysp)
{
	const struct cfg_tls *t = &cfg->tls;
	char why[GW_TEXT_MAX];
	int err;

	*daysp = 0;
	if (t->present && t->cert) {
		struct sst_tls_conf tl;

		memset(&tl, 0, sizeof(tl));
		tl.cert = t->cert;
		tl.key = t->key;
		tl.ca = t->ca;
		tl.verify = t->verify == CFG_VERIFY_REQUIRED;
		err = sst_tls_ctx_load(tlsp, &tl, daysp, why, sizeof(why));
		if (err) {
			re_snprintf(gw->reload_note, sizeof(gw->reload_note),
				    "%s:%u: Tls: %s", cfg->path, t->line, why);
			return err;
		}
	}
	if (cfg->trace.enable && cfg->trace.file) {
		err = dmn_trace_open(trp, cfg->trace.file, cfg->trace.level);
		if (err) {
			re_snprintf(gw->reload_note, sizeof(gw->reload_note),
				    "%s:%u: Trace file %s cannot be opened: %m",
				    cfg->path, cfg->trace.line,
				    cfg->trace.file, err);
			return err;
		}
	}
	return 0;
}

int gw_reload(struct gw *gw, struct re_printf *pf)
{
	const struct cfg_gateway *self = NULL;
	struct cfg *cfg = NULL;
	struct dir *dir = NULL;
	struct sst_tls_ctx *tls = NULL;
	struct dmn_trace *trace = NULL;
	const char *why = NULL;
	char *realm = NULL;
	size_t i;
	int err, days = 0;

	if (!gw)
		return EINVAL;

	cfg_diag_reset(&gw->reload_diag);
	gw->reload_note[0] = '\0';
	gw->reload_at = time(NULL);

	err = cfg_load(&cfg, gw->cfgpath, &gw->reload_diag);
	if (err) {
		if (!gw->reload_diag.n)
			re_snprintf(gw->reload_note, sizeof(gw->reload_note),
				    "%s: %m", gw->cfgpath, err);
		goto fail;
	}
	err = gw_self_pick(cfg, gw->name, &self, &why);
	if (!err && cfg->community.domains.n == 0) {
		why = "the Community record has no Domain";
		err = EINVAL;
	}
	if (err) {
		re_snprintf(gw->reload_note, sizeof(gw->reload_note),
			    "%s: CommunityGateway \"%s\": %s", gw->cfgpath,
			    gw->name, why);
		goto fail;
	}
	err = dir_make(&dir, cfg, gw->reload_note, sizeof(gw->reload_note));
	if (err)
		goto fail;
	err = reload_prepare(gw, cfg, &tls, &trace, &days);
	if (err)
		goto fail;
	err = str_dup(&realm, cfg->community.domains.v[0]);
	if (err)
		goto fail;

	/* against the file the gateway started with: what runs */
	if (!gw->boot)
		gw->boot = gw->cfg;
	pending_of(gw->restart, sizeof(gw->restart), gw->boot,
		   cfg_gateway_find(gw->boot, gw->name), cfg, self);
	if (gw->restart[0])
		dmn_log_warnx("gw: reload needs-restart fields=%s",
			      gw->restart);

	/* requests parked on the old directory: clients retry */
	gw_req_cancel_all(gw);
	mem_deref(gw->dir);
	gw->dir = dir;
	mem_deref(gw->realm);
	gw->realm = realm;

	/* rotated credentials: for every connection from now on; those
	 * up keep theirs */
	if (tls && gw->tls) {
		mem_deref(gw->tls);
		gw->tls = tls;
		tls = NULL;
		sst_transp_tls_set(gw->tp, gw->tls);
		dmn_log_info("gw: tls credentials-reloaded cert=%s",
			     cfg->tls.cert);
	}
	mem_deref(tls);

	/* the whole new file becomes current; what needs a restart
	 * (listeners, control, pidFile, user) was used once at start-up
	 * and keeps running as it was */
	if (gw->cfg != gw->boot)
		cfg_free(gw->cfg);
	gw->cfg = cfg;
	gw->self = self;
	gw->reload_failed = false;
	mem_deref(gw->trace);
	gw->trace = trace;
	gw->trace_err[0] = '\0';
	trace_scope(gw);

	dmn_log_info("gw: reloaded file=%s external=%s convert-id=%s",
		     gw->cfgpath, self->support_external ? "yes" : "no",
		     self->convert_id ? "yes" : "no");
	if (cfg->tls.present && cfg->tls.cert && days < 30)
		dmn_log_warnx("gw: tls certificate-expires days=%d cert=%s",
			      days, cfg->tls.cert);
	if (pf) {
		(void)re_hprintf(pf, "reloaded %s\n", gw->cfgpath);
		if (cfg->tls.present && cfg->tls.cert)
			(void)re_hprintf(pf, "tls: certificate %s loaded for "
					 "new connections (%d days left)\n",
					 cfg->tls.cert, days);
		if (cfg->trace.enable)
			(void)re_hprintf(pf, "trace: %s\n", cfg->trace.file);
		if (gw->restart[0])
			(void)re_hprintf(pf, "pending restart: %s (the running "
					 "values stay until a restart)\n",
					 gw->restart);
	}
	return 0;
 fail:
	mem_deref(dir);
	mem_deref(realm);
	mem_deref(tls);
	mem_deref(trace);
	cfg_free(cfg);
	gw->reload_failed = true;
	for (i = 0; i < gw->reload_diag.n; i++)
		dmn_log_errx("gw: reload-error message=%s",
			     gw->reload_diag.msg[i]);
	if (gw->reload_note[0])
		dmn_log_errx("gw: reload-error message=%s", gw->reload_note);
	dmn_log_errx("gw: reload failed file=%s kept=running-configuration",
		     gw->cfgpath);
	if (pf) {
		(void)re_hprintf(pf, "reload failed: the running "
				 "configuration is unchanged\n");
		for (i = 0; i < gw->reload_diag.n; i++)
			(void)re_hprintf(pf, "%s\n", gw->reload_diag.msg[i]);
		if (gw->reload_note[0])
			(void)re_hprintf(pf, "%s\n", gw->reload_note);
	}
	return err ? err : EBADMSG;
}
