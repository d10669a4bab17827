/*
 * gw_daemon.c -- `stgateway [-c FILE] [-n NAME] [-f]`: start, run and
 * stop the gateway.  The same shape as the connector's start-up:
 *	1. load FILE (every problem to stderr as FILE:LINE: message, exit
 *	   1 on any error) and pick this gateway's CommunityGateway record
 *	   (-n NAME, or the only one);
 *	2. check nobody holds the PID file;
 *	3. without -f: dmn_detach() (the parent exits with the child's
 *	   start-up result);
 *	4. log to syslog (stderr with -f), take the PID file, build the
 *	   context (directory included), open the control socket (0600),
 *	   bind the ClientListen listeners, drop root to the record's user,
 *	   catch SIGHUP (reload) and SIGTERM/SIGINT (stop), run the loop.
 * Shutdown answers parked requests, ends subscriptions silently, frees
 * everything; the PID file and control socket go with their objects.
 *
 * SECURITY: listens for local clients only (ClientListen); every request
 * is digest-authenticated (gw.h); the control socket is 0600 and reload
 * is for root and the daemon's uid; root is dropped after binding.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "gateway/gw.h"

struct run {
	struct gw *gw;
	struct dmn_pidfile *pf;
	struct dmn_ctl *ctl;
	struct dmn_sig *sig;
};

static void sig_reload(int sig, void *arg)
{
	struct run *r = arg;

	dmn_log_info("gw: reload requested-by=signal signal=%d", sig);
	(void)gw_reload(r->gw, NULL);
}

static void sig_stop(int sig, void *arg)
{
	(void)arg;
	dmn_log_info("gw: stopping signal=%d", sig);
	re_cancel();
}

static int usage(void)
{
	fprintf(stderr, "usage: stgateway [-c FILE] [-n NAME] [-f]\n");
	return GW_EXIT_USAGE;
}

static int load(struct cfg **cfgp, const char *path, const char *name,
		const struct cfg_gateway **selfp)
{
	struct cfg_diag diag = {0};
	const char *why = NULL;
	int err;

	err = cfg_load(cfgp, path, &diag);
	if (diag.n)
		cfg_diag_print(&diag, stderr);
	else if (err)
		fprintf(stderr, "stgateway: %s: %s\n", path, strerror(err));
	cfg_diag_reset(&diag);
	if (err)
		return GW_EXIT_FAIL;

	err = gw_self_pick(*cfgp, name, selfp, &why);
	if (err) {
		fprintf(stderr, "stgateway: %s: %s%s%s\n", path,
			name ? name : "", name ? ": " : "", why);
		cfg_free(*cfgp);
		*cfgp = NULL;
		return GW_EXIT_FAIL;
	}
	return 0;
}

static void run_close(struct run *r)
{
	r->sig = mem_deref(r->sig);
	r->ctl = mem_deref(r->ctl);
	r->gw = mem_deref(r->gw);
	r->pf = mem_deref(r->pf);
}

int gw_daemon_main(int argc, char **argv)
{
	const char *arg_path = CFG_DEFAULT_PATH, *name = NULL;
	const struct cfg_gateway *self = NULL;
	char path[PATH_MAX], why[512] = "";
	struct run r = {0};
	struct cfg *cfg = NULL;
	bool fg = false, re_up = false;
	int i, err, rc, ready = -1;
	pid_t holder = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f"))
			fg = true;
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			arg_path = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			name = argv[++i];
		else
			return usage();
	}

	/* absolute, so that a reload after chdir("/") finds it */
	if (!realpath(arg_path, path)) {
		fprintf(stderr, "stgateway: %s: %s\n", arg_path,
			strerror(errno));
		return GW_EXIT_FAIL;
	}
	rc = load(&cfg, path, name, &self);
	if (rc)
		return rc;
	rc = GW_EXIT_FAIL;

	dmn_log_open("stgateway", true, DMN_LOG_INFO);
	if (self->pidfile) {
		err = dmn_pidfile_open(&r.pf, self->pidfile, &holder);
		if (err == EEXIST) {
			fprintf(stderr, "stgateway: already running (pid %ld, "
				"%s)\n", (long)holder, self->pidfile);
			goto out;
		}
		if (err) {
			fprintf(stderr, "stgateway: %s: %s\n", self->pidfile,
				strerror(err));
			goto out;
		}
		r.pf = mem_deref(r.pf);
	}

	if (!fg) {
		ready = dmn_detach("stgateway");
		if (ready < 0)
			goto out;
	}

	err = libre_init();
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "gw: start failed step=libre");
		goto out;
	}
	re_up = true;
	(void)sst_transp_init(GW_FD_MAX);
	dmn_log_open("stgateway", fg, DMN_LOG_INFO);

	if (self->pidfile) {
		err = dmn_pidfile_open(&r.pf, self->pidfile, &holder);
		if (err)
			goto out;
	}

	err = gw_alloc(&r.gw, cfg, name, path, why, sizeof(why));
	cfg = NULL;	/* the context owns it, or freed it */
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "gw: start failed step=context "
			     "reason=%s", why);
		if (fg)
			fprintf(stderr, "stgateway: %s\n", why);
		goto out;
	}

	if (r.gw->self->control) {
		err = dmn_ctl_listen(&r.ctl, r.gw->self->control, gw_ctl_cmdv,
				     gw_ctl_cmdc, r.gw);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "gw: start failed "
				     "step=control path=%s",
				     r.gw->self->control);
			goto out;
		}
	}
	else {
		dmn_log_warnx("gw: no-control-socket gateway=%s", r.gw->name);
	}

	err = gw_start(r.gw);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "gw: start failed step=listen");
		goto out;
	}

	err = dmn_priv_drop(r.gw->self->user);
	if (err)
		goto out;

	err = dmn_sig_alloc(&r.sig, sig_reload, sig_stop, &r);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "gw: start failed step=signals");
		goto out;
	}

	dmn_log_info("gw: started gateway=%s file=%s realm=%s",
		     r.gw->name, path, r.gw->realm);
	dmn_detach_report(&ready, GW_EXIT_OK);

	err = re_main(NULL);
	dmn_log_info("gw: stopped gateway=%s", r.gw->name);
	rc = err ? GW_EXIT_FAIL : GW_EXIT_OK;

 out:
	run_close(&r);
	if (re_up)
		libre_close();
	dmn_detach_report(&ready, GW_EXIT_FAIL);
	cfg_free(cfg);
	dmn_log_close();
	return rc;
}
