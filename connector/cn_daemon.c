/*
 * cn_daemon.c -- `stconnector [-c FILE] [-n NAME] [-f]`: start, run and
 * stop the connector.
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"

enum { CN_FD_MAX = 4096 };

struct run {
	struct cn *cn;
	struct dmn_pidfile *pf;
	struct dmn_ctl *ctl;
	struct dmn_sig *sig;
	bool started;		/* ops->start ran */
};

static void sig_reload(int sig, void *arg)
{
	struct run *r = arg;

	dmn_log_info("cn: reload requested-by=signal signal=%d", sig);
	(void)cn_reload(r->cn, NULL);
}

static void sig_stop(int sig, void *arg)
{
	(void)arg;
	dmn_log_info("cn: stopping signal=%d", sig);
	re_cancel();
}

static int usage(void)
{
	fprintf(stderr, "usage: stconnector [-c FILE] [-n NAME] [-f]\n");
	return CN_EXIT_USAGE;
}

/* Load, print problems, pick the record: 0 or an exit status. */
static int load(struct cfg **cfgp, const struct cfg_connector **selfp,
		const char *path, const char *name)
{
	struct cfg_diag diag = {0};
	const char *why = NULL;
	int err;

	err = cfg_load(cfgp, path, &diag);
	if (diag.n)
		cfg_diag_print(&diag, stderr);
	else if (err)
		fprintf(stderr, "stconnector: %s: %s\n", path, strerror(err));
	cfg_diag_reset(&diag);
	if (err)
		return CN_EXIT_FAIL;

	err = cn_self_pick(*cfgp, name, selfp, &why);
	if (err) {
		if (name)
			fprintf(stderr, "stconnector: %s: CommunityConnector "
				"\"%s\": %s\n", path, name, why);
		else
			fprintf(stderr, "stconnector: %s: %s\n", path, why);
		cfg_free(*cfgp);
		*cfgp = NULL;
		return CN_EXIT_FAIL;
	}
	return 0;
}

static void run_close(struct run *r)
{
	if (r->started && r->cn && r->cn->ops && r->cn->ops->stop)
		r->cn->ops->stop(r->cn);
	r->sig = mem_deref(r->sig);
	r->ctl = mem_deref(r->ctl);
	r->cn = mem_deref(r->cn);
	r->pf = mem_deref(r->pf);
}

int cn_daemon_main(int argc, char **argv, const struct cn_proxy_ops *ops)
{
	const char *arg_path = CFG_DEFAULT_PATH, *name = NULL;
	const struct cfg_connector *self = NULL;
	struct run r = {0};
	struct cfg *cfg = NULL;
	char path[PATH_MAX];
	bool fg = false;
	int i, err, rc = CN_EXIT_FAIL, ready = -1;
	bool re_up = false;
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

	/* an absolute path, so that a reload after chdir("/") finds it */
	if (!realpath(arg_path, path)) {
		fprintf(stderr, "stconnector: %s: %s\n", arg_path,
			strerror(errno));
		return CN_EXIT_FAIL;
	}

	rc = load(&cfg, &self, path, name);
	if (rc)
		return rc;
	rc = CN_EXIT_FAIL;

	/* before any fork, so that the admin sees "already running" */
	dmn_log_open("stconnector", true, DMN_LOG_INFO);
	if (self->pidfile) {
		err = dmn_pidfile_open(&r.pf, self->pidfile, &holder);
		if (err == EEXIST) {
			fprintf(stderr, "stconnector: already running "
				"(pid %ld, %s)\n", (long)holder,
				self->pidfile);
			goto out;
		}
		if (err) {
			fprintf(stderr, "stconnector: %s: %s\n",
				self->pidfile, strerror(err));
			goto out;
		}
		/* released here, taken again by the process that runs */
		r.pf = mem_deref(r.pf);
	}

	if (!fg) {
		ready = dmn_detach("stconnector");
		if (ready < 0)
			goto out;
	}

	err = libre_init();
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: start failed step=libre");
		goto out;
	}
	re_up = true;
	(void)fd_setsize(CN_FD_MAX);
	dmn_log_open("stconnector", fg, DMN_LOG_INFO);

	if (self->pidfile) {
		err = dmn_pidfile_open(&r.pf, self->pidfile, &holder);
		if (err)
			goto out;
	}

	err = cn_alloc(&r.cn, cfg, self->name, path, ops);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: start failed step=context");
		goto out;
	}
	cfg = NULL;	/* the context owns it */

	if (r.cn->self->control) {
		err = dmn_ctl_listen(&r.ctl, r.cn->self->control, cn_ctl_cmdv,
				     cn_ctl_cmdc, r.cn);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "cn: start failed "
				     "step=control path=%s",
				     r.cn->self->control);
			goto out;
		}
	}
	else {
		dmn_log_warnx("cn: no-control-socket connector=%s",
			      r.cn->name);
	}

	if (ops && ops->start) {
		r.started = true;
		err = ops->start(r.cn);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err,
				     "cn: start failed step=proxy");
			goto out;
		}
	}
	else {
		dmn_log_warnx("cn: no-proxy-core listeners=0");
	}

	err = dmn_priv_drop(r.cn->self->user);
	if (err)
		goto out;

	err = dmn_sig_alloc(&r.sig, sig_reload, sig_stop, &r);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: start failed step=signals");
		goto out;
	}

	dmn_log_info("cn: started connector=%s file=%s communities=%u "
		     "gateways=%u", r.cn->name, path,
		     list_count(&r.cn->comms), list_count(&r.cn->gws));
	dmn_detach_report(&ready, CN_EXIT_OK);

	err = re_main(NULL);
	dmn_log_info("cn: stopped connector=%s", r.cn->name);
	rc = err ? CN_EXIT_FAIL : CN_EXIT_OK;

 out:
	run_close(&r);
	if (re_up)
		libre_close();
	dmn_detach_report(&ready, CN_EXIT_FAIL);
	cfg_free(cfg);
	dmn_log_close();
	return rc;
}
