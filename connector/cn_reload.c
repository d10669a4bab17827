/*
 * cn_reload.c -- SIGHUP and `stconnector reload`: load the file again
 * as a whole new configuration and swap it in only when it has no
 * error.  A failed reload changes nothing that runs; its messages stay
 * in the context for `status` until the next reload.
 *
 * What a reload cannot change: the control socket, the PID file and
 * the user the daemon runs as (all set up before the privilege drop).
 * A new value is logged as needing a restart, and the running one stays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_audit.h"

static bool str_differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static void restart_warn(const struct cfg_connector *old,
			 const struct cfg_connector *nw)
{
	if (str_differ(old->control, nw->control))
		dmn_log_warnx("cn: reload needs-restart field=control");
	if (str_differ(old->pidfile, nw->pidfile))
		dmn_log_warnx("cn: reload needs-restart field=pidFile");
	if (str_differ(old->user, nw->user))
		dmn_log_warnx("cn: reload needs-restart field=user");
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
	const char *why = NULL;
	size_t i;
	int err;

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

	restart_warn(cn->self, self);

	old = cn->cfg;
	cn->cfg = cfg;
	cn->self = self;
	cn->loaded = cfg->loaded ? cfg->loaded : time(NULL);
	err = cn_state_rebuild(cn);
	if (!err && cn->ops && cn->ops->apply)
		err = cn->ops->apply(cn, old);
	cfg_free(old);
	cn_trace_open(cn);
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
	if (pf) {
		(void)re_hprintf(pf, "reload ok: %s\n", cn->cfgpath);
		for (i = 0; i < cn->reload_diag.n; i++)
			(void)re_hprintf(pf, "%s\n", cn->reload_diag.msg[i]);
	}
	return 0;
}
