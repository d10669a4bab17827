/*
 * cn_daemon.c -- `stconnector [-c FILE] [-n NAME] [-f]`: start, run and
 * stop the connector.  The sequence is daemon/dmn_run.c's; this file
 * gives it the connector's pieces.
 *
 * Start-up, in this order:
 *	1. load FILE; every problem goes to stderr as FILE:LINE: message,
 *	   exit 1 on any error (the admin is still at the terminal);
 *	2. pick this connector's CommunityConnector record (-n NAME, or
 *	   the only one in the file);
 *	3. check nobody holds the PID file (exit 1 naming the PID);
 *	4. without -f: dmn_detach() (fork, setsid, chdir /, stdio to
 *	   /dev/null); the parent waits for the child to report that it is
 *	   up and exits with the child's start-up result;
 *	5. log to syslog (stderr with -f), take the PID file, open the
 *	   control socket (mode 0600), start the proxy core
 *	   (ops->start: listeners), drop root to the record's user,
 *	   catch SIGHUP (reload) and SIGTERM/SIGINT (stop), run the loop.
 * Shutdown frees everything: the PID file and the control socket are
 * removed by their destructors.  Exit 0 after a clean stop.
 *
 * SECURITY: the control socket is 0600 and reload/reset are for root
 * and the daemon's own uid only; the daemon drops root after start-up
 * (dmn_priv_drop refuses to continue as root when a user is named).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"

/* Load, print problems, pick the record: 0 or an exit status. */
static int load(void **cfgp, struct dmn_run_self *rs, const char *path,
		const char *name)
{
	const struct cfg_connector *self = NULL;
	const char *why = NULL;
	struct cfg *cfg = NULL;
	int err;

	err = cfg_load_print(&cfg, path, "stconnector", stderr);
	if (err)
		return CN_EXIT_FAIL;

	err = cn_self_pick(cfg, name, &self, &why);
	if (err) {
		if (name)
			fprintf(stderr, "stconnector: %s: CommunityConnector "
				"\"%s\": %s\n", path, name, why);
		else
			fprintf(stderr, "stconnector: %s: %s\n", path, why);
		cfg_free(cfg);
		return CN_EXIT_FAIL;
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
	struct cn *cn = NULL;
	int err;

	(void)why;
	(void)whysz;
	err = cn_alloc(&cn, cfg, name, path, arg);
	if (err) {
		cfg_free(cfg);
		return err;
	}
	*ctxp = cn;
	return 0;
}

static int run_start(void *ctx)
{
	struct cn *cn = ctx;

	if (cn->ops && cn->ops->start)
		return cn->ops->start(cn);
	dmn_log_warnx("cn: no-proxy-core listeners=0");
	return 0;
}

static void run_stop(void *ctx)
{
	struct cn *cn = ctx;

	if (cn->ops && cn->ops->stop)
		cn->ops->stop(cn);
}

static void run_reload(void *ctx)
{
	(void)cn_reload(ctx, NULL);
}

static int run_status(struct dmn_st **stp, void *ctx)
{
	return cn_status_build(stp, ctx);
}

static void run_started(void *ctx, const char *path)
{
	struct cn *cn = ctx;

	dmn_log_info("cn: started connector=%s file=%s communities=%u "
		     "gateways=%u", cn->name, path,
		     list_count(&cn->comms), list_count(&cn->gws));
}

int cn_daemon_main(int argc, char **argv, const struct cn_proxy_ops *ops)
{
	const struct dmn_run_ops run = {
		.prog = "stconnector",
		.mod = "cn",
		.kind = "connector",
		.start_step = "proxy",
		.defpath = CFG_DEFAULT_PATH,
		.fd_max = SST_FD_CEILING,
		.fd_init = sst_transp_init,
		.load = load,
		.cfg_free = run_cfg_free,
		.alloc = run_alloc,
		.start = run_start,
		.stop = run_stop,
		.reload = run_reload,
		.started = run_started,
		.cmdv = cn_ctl_cmdv,
		.cmdc = cn_ctl_cmdc,
		.status = run_status,
		.arg = ops,
	};

	return dmn_run_main(argc, argv, &run);
}
