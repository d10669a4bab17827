/*
 * gw_daemon.c -- `stgateway [-c FILE] [-n NAME] [-f]`: start, run and
 * stop the gateway.  The sequence is daemon/dmn_run.c's, shared with
 * the connector; this file gives it the gateway's pieces:
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
#include <stdio.h>

#include <re.h>

#include "gateway/gw.h"
#include "gateway/gw_ctl.h"
#include "gateway/gw_ctx.h"
#include "gateway/gw_daemon.h"

static int load(void **cfgp, struct dmn_run_self *rs, const char *path,
		const char *name)
{
	const struct cfg_gateway *self = NULL;
	const char *why = NULL;
	struct cfg *cfg = NULL;

	if (cfg_load_print(&cfg, path, "stgateway", stderr))
		return GW_EXIT_FAIL;

	if (gw_self_pick(cfg, name, &self, &why)) {
		fprintf(stderr, "stgateway: %s: %s%s%s\n", path,
			name ? name : "", name ? ": " : "", why);
		cfg_free(cfg);
		return GW_EXIT_FAIL;
	}
	rs->name = self->name;
	rs->pidfile = self->pidfile;
	rs->control = self->control;
	rs->user = self->user;
	rs->group = self->control_group;
	rs->metrics = self->metrics;
	*cfgp = cfg;
	return 0;
}

static void run_cfg_free(void *cfg)
{
	cfg_free(cfg);
}

static int run_alloc(void **ctxp, void *cfg, const char *name,
		     const char *path, char *why, size_t whysz,
		     const void *arg)
{
	struct gw *gw = NULL;
	int err;

	(void)arg;
	err = gw_alloc(&gw, cfg, name, path, why, whysz);
	if (err)
		return err;
	*ctxp = gw;
	return 0;
}

static int run_start(void *ctx)
{
	return gw_start(ctx);
}

static void run_reload(void *ctx)
{
	(void)gw_reload(ctx, NULL);
}

static int run_status(struct dmn_st **stp, void *ctx)
{
	return gw_status_build(stp, ctx);
}

static void run_started(void *ctx, const char *path)
{
	struct gw *gw = ctx;

	dmn_log_info("gw: started gateway=%s file=%s realm=%s",
		     gw->name, path, gw->realm);
}

int gw_daemon_main(int argc, char **argv)
{
	const struct dmn_run_ops run = {
		.prog = "stgateway",
		.mod = "gw",
		.kind = "gateway",
		.start_step = "listen",
		.defpath = CFG_DEFAULT_PATH,
		.fd_max = SST_FD_CEILING,
		.fd_init = sst_transp_init,
		.load = load,
		.cfg_free = run_cfg_free,
		.alloc = run_alloc,
		.start = run_start,
		.reload = run_reload,
		.started = run_started,
		.cmdv = gw_ctl_cmdv,
		.cmdc = gw_ctl_cmdc,
		.status = run_status,
	};

	return dmn_run_main(argc, argv, &run);
}
