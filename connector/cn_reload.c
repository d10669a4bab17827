/*
 * cn_reload.c -- SIGHUP and `stconnector reload`: load the file again
 * as a whole new configuration and swap it in only when it has no
 * error.  A failed reload changes nothing that runs; its messages stay
 * in the context for `status` until the next reload.
 *
 * Before anything changes, the new file's Tls credentials are loaded
 * and its Trace file opened: a certificate that does not load (with the
 * reason: not the key's, expired chain unreadable, ...) or a trace file
 * that cannot be opened fails the reload, and the running configuration
 * stays.  After the swap the proxy core uses the new credentials for
 * every connection opened or accepted from then on (ops->apply takes
 * cn->tls_new); connections already up keep theirs.
 *
 * What a reload cannot change: the listeners (ip, port, tlsPort, TLS
 * newly configured), the control socket, its group, the PID file, the
 * user the daemon runs as (all set up before the privilege drop) and
 * the DNS resolvers.  Each differs from the running value is named in
 * the reload answer, in the log and under `status` as pending_restart
 * (against the file the daemon started with, so that it stays listed
 * until a restart); the running value stays.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "daemon/dmn.h"
#include "sipstack/sst_tls.h"
#include "connector/cn.h"
#include "connector/cn_audit.h"

static bool strv_differ(const struct cfg_strv *a, const struct cfg_strv *b)
{
	size_t i;

	if (a->n != b->n)
		return true;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return true;
	return false;
}

/* What the running daemon keeps from run (the file it started with)
 * although nw says otherwise: "" when nothing. */
static void pending_of(char *buf, size_t sz, const struct cfg *run,
		       const struct cfg_connector *ro, const struct cfg *nwc,
		       const struct cfg_connector *nw)
{
	const bool tls_run = run->tls.present && run->tls.cert;
	const bool tls_new = nwc->tls.present && nwc->tls.cert;

	buf[0] = '\0';
	if (cfg_str_differ(ro->ip, nw->ip) || ro->port != nw->port ||
	    ro->tls_port != nw->tls_port || tls_run != tls_new)
		dmn_words_add(buf, sz, "listeners");
	if (ro->xmpp_port != nw->xmpp_port)
		dmn_words_add(buf, sz, "xmppPort");
	if (cfg_str_differ(ro->control, nw->control))
		dmn_words_add(buf, sz, "control");
	if (cfg_str_differ(ro->control_group, nw->control_group))
		dmn_words_add(buf, sz, "controlGroup");
	if (cfg_str_differ(ro->pidfile, nw->pidfile))
		dmn_words_add(buf, sz, "pidFile");
	if (cfg_str_differ(ro->user, nw->user))
		dmn_words_add(buf, sz, "user");
	if (cfg_str_differ(ro->topos_key, nw->topos_key))
		dmn_words_add(buf, sz, "toposKey");
	if (cfg_str_differ(ro->metrics, nw->metrics))
		dmn_words_add(buf, sz, "metrics");
	if (strv_differ(&run->dns.servers, &nwc->dns.servers) ||
	    run->dns.timeout_ms != nwc->dns.timeout_ms)
		dmn_words_add(buf, sz, "Dns");
}

/* Load what the new file needs before it may replace the running one:
 * 0, or an error with the reason in cn->reload_note. */
static int prepare(struct cn *cn, const struct cfg *cfg,
		   struct dmn_trace **trp, int *daysp)
{
	const struct cfg_tls *t = &cfg->tls;
	char why[CN_TEXT_MAX];
	int err;

	*daysp = INT32_MAX;
	if (t->present && t->cert) {
		struct sst_tls_conf tl;

		memset(&tl, 0, sizeof(tl));
		tl.cert = t->cert;
		tl.key = t->key;
		tl.ca = t->ca;
		tl.verify = t->verify == CFG_VERIFY_REQUIRED;
		err = sst_tls_ctx_load(&cn->tls_new, &tl, daysp, why,
				       sizeof(why));
		if (err) {
			snprintf(cn->reload_note, sizeof(cn->reload_note),
				 "%s:%u: Tls: %s", cfg->path, t->line, why);
			return err;
		}
	}
	if (cfg->trace.enable && cfg->trace.file) {
		err = dmn_trace_open(trp, cfg->trace.file, cfg->trace.level);
		if (err) {
			snprintf(cn->reload_note, sizeof(cn->reload_note),
				 "%s:%u: Trace file %s cannot be opened: %s",
				 cfg->path, cfg->trace.line, cfg->trace.file,
				 strerror(err));
			return err;
		}
	}
	return 0;
}

static void failed(struct cn *cn, struct re_printf *pf)
{
	size_t i;

	cn->reload = CN_RELOAD_FAILED;
	for (i = 0; i < cn->reload_diag.n; i++)
		dmn_log_errx("cn: reload-error file=%s message=%s",
			     cn->cfgpath, cn->reload_diag.msg[i]);
	if (cn->reload_note[0])
		dmn_log_errx("cn: reload-error file=%s message=%s",
			     cn->cfgpath, cn->reload_note);
	dmn_log_errx("cn: reload failed file=%s kept=running-configuration",
		     cn->cfgpath);

	if (!pf)
		return;
	(void)re_hprintf(pf, "reload failed: the running configuration "
			 "is unchanged\n");
	for (i = 0; i < cn->reload_diag.n; i++)
		(void)re_hprintf(pf, "%s\n", cn->reload_diag.msg[i]);
	if (cn->reload_note[0])
		(void)re_hprintf(pf, "%s\n", cn->reload_note);
}

int cn_reload(struct cn *cn, struct re_printf *pf)
{
	const struct cfg_connector *self = NULL;
	struct cfg *cfg = NULL, *old;
	struct dmn_trace *trace = NULL;
	const char *why = NULL;
	size_t i;
	int err, days;

	if (!cn)
		return EINVAL;

	cfg_diag_reset(&cn->reload_diag);
	cn->reload_note[0] = '\0';
	cn->reload_at = time(NULL);

	err = cfg_load(&cfg, cn->cfgpath, &cn->reload_diag);
	if (err) {
		if (err != EBADMSG || !cn->reload_diag.nerr)
			snprintf(cn->reload_note, sizeof(cn->reload_note),
				 "%s: cannot load: %s", cn->cfgpath,
				 strerror(err));
		failed(cn, pf);
		return err;
	}

	err = cn_self_pick(cfg, cn->name, &self, &why);
	if (err) {
		snprintf(cn->reload_note, sizeof(cn->reload_note),
			 "%s: CommunityConnector \"%s\": %s", cn->cfgpath,
			 cn->name, why);
		cfg_free(cfg);
		failed(cn, pf);
		return err;
	}

	err = prepare(cn, cfg, &trace, &days);
	if (err) {
		cn->tls_new = mem_deref(cn->tls_new);
		mem_deref(trace);
		cfg_free(cfg);
		failed(cn, pf);
		return err;
	}

	/* the file the daemon started with, kept to say what is pending */
	if (!cn->boot)
		cn->boot = cn->cfg;
	pending_of(cn->pending, sizeof(cn->pending), cn->boot,
		   cfg_connector_find(cn->boot, cn->name), cfg, self);

	old = cn->cfg;
	cn->cfg = cfg;
	cn->self = self;
	cn->loaded = cfg->loaded ? cfg->loaded : time(NULL);
	err = cn_state_rebuild(cn);
	if (!err && cn->ops && cn->ops->apply)
		err = cn->ops->apply(cn, old);
	if (old != cn->boot)
		cfg_free(old);
	cn->tls_new = mem_deref(cn->tls_new);	/* not taken: no TLS */
	mem_deref(cn->trace);
	cn->trace = trace;
	cn->trace_err[0] = '\0';
	if (cn->pending[0])
		dmn_log_warnx("cn: reload needs-restart fields=%s",
			      cn->pending);
	cn_trace_scope(cn);
	cn_audit_open(cn);

	if (err) {
		/* the new file is in use; what failed was applying it */
		snprintf(cn->reload_note, sizeof(cn->reload_note),
			 "%s: loaded, but applying it failed: %s",
			 cn->cfgpath, strerror(err));
		failed(cn, pf);
		return err;
	}

	cn->reload = CN_RELOAD_OK;
	for (i = 0; i < cn->reload_diag.n; i++)
		dmn_log_warnx("cn: reload-warning file=%s message=%s",
			      cn->cfgpath, cn->reload_diag.msg[i]);
	dmn_log_info("cn: reloaded file=%s communities=%u gateways=%u",
		     cn->cfgpath, list_count(&cn->comms),
		     list_count(&cn->gws));
	if (days < 0)
		dmn_log_errx("cn: tls certificate-expired days=%d cert=%s",
			     -days, cfg->tls.cert);
	else if (days < 30)
		dmn_log_warnx("cn: tls certificate-expires days=%d cert=%s",
			      days, cfg->tls.cert);
	if (pf) {
		(void)re_hprintf(pf, "reload ok: %s\n", cn->cfgpath);
		for (i = 0; i < cn->reload_diag.n; i++)
			(void)re_hprintf(pf, "%s\n", cn->reload_diag.msg[i]);
		if (cfg->tls.present && cfg->tls.cert)
			(void)re_hprintf(pf, "tls: certificate %s loaded for "
					 "new connections (%d days left)\n",
					 cfg->tls.cert, days);
		if (cfg->trace.enable)
			(void)re_hprintf(pf, "trace: %s\n", cfg->trace.file);
		if (cn->pending[0])
			(void)re_hprintf(pf, "pending restart: %s (the running "
					 "values stay until a restart)\n",
					 cn->pending);
	}
	return 0;
}
