/*
 * dmn_run.c -- the life of a daemon, `PROG [-c FILE] [-n NAME] [-f]`,
 * one sequence for stconnector and stgateway.
 *
 * Start-up, in this order:
 *	1. FILE made absolute (a reload after chdir("/") must find it);
 *	2. ops->load reads it and picks the record, printing every problem
 *	   on stderr (the admin is still at the terminal);
 *	3. nobody may hold the PID file: "PROG: already running (pid N,
 *	   FILE)", exit 1, before any fork;
 *	4. without -f: dmn_detach(); the parent exits with the child's
 *	   start-up result;
 *	5. libre, the fd limit, the log (syslog, or stderr with -f), the
 *	   PID file, the context (ops->alloc), the control socket (0600,
 *	   then, as root, handed to the record's user and controlGroup with
 *	   mode 0660 so that they can still use it after the drop),
 *	   ops->start (listeners), root dropped to the record's user,
 *	   SIGHUP (ops->reload) and SIGTERM/SIGINT (stop), the loop.
 * Shutdown: ops->stop, then every object is freed; the PID file and the
 * control socket go with their objects.  Exit 0 after a clean stop.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "daemon/dmn.h"

struct run {
	const struct dmn_run_ops *ops;
	void *ctx;
	struct dmn_pidfile *pf;
	struct dmn_ctl *ctl;
	struct dmn_sig *sig;
	struct dmn_metrics *metrics;
	bool started;		/* ops->start ran */
};

static void sig_reload(int sig, void *arg)
{
	struct run *r = arg;

	dmn_log_info("%s: reload requested-by=signal signal=%d", r->ops->mod,
		     sig);
	if (r->ops->reload)
		r->ops->reload(r->ctx);
}

static void sig_stop(int sig, void *arg)
{
	struct run *r = arg;

	dmn_log_info("%s: stopping signal=%d", r->ops->mod, sig);
	re_cancel();
}

static int usage(const struct dmn_run_ops *ops)
{
	fprintf(stderr, "usage: %s [-c FILE] [-n NAME] [-f]\n", ops->prog);
	return DMN_EXIT_USAGE;
}

static void run_close(struct run *r)
{
	if (r->started && r->ops->stop)
		r->ops->stop(r->ctx);
	r->sig = mem_deref(r->sig);
	r->metrics = mem_deref(r->metrics);
	r->ctl = mem_deref(r->ctl);
	r->ctx = mem_deref(r->ctx);
	r->pf = mem_deref(r->pf);
}

/* Before any fork, so that the admin sees "already running". */
static int pidfile_check(const struct dmn_run_ops *ops, const char *path)
{
	struct dmn_pidfile *pf = NULL;
	pid_t holder = 0;
	int err;

	err = dmn_pidfile_open(&pf, path, &holder);
	if (err == EEXIST) {
		fprintf(stderr, "%s: already running (pid %ld, %s)\n",
			ops->prog, (long)holder, path);
		return err;
	}
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", ops->prog, path,
			strerror(err));
		return err;
	}
	/* released here, taken again by the process that runs */
	mem_deref(pf);
	return 0;
}

int dmn_run_main(int argc, char **argv, const struct dmn_run_ops *ops)
{
	const char *arg_path = ops->defpath, *name = NULL;
	struct dmn_run_self self = {0};
	char path[PATH_MAX], why[512] = "", rname[256] = "";
	struct run r = {0};
	void *cfg = NULL;
	bool fg = false, re_up = false;
	int i, err, rc, ready = -1;

	r.ops = ops;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f"))
			fg = true;
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			arg_path = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			name = argv[++i];
		else
			return usage(ops);
	}

	if (!realpath(arg_path, path)) {
		fprintf(stderr, "%s: %s: %s\n", ops->prog, arg_path,
			strerror(errno));
		return DMN_RUN_FAIL;
	}

	rc = ops->load(&cfg, &self, path, name);
	if (rc)
		return rc;
	rc = DMN_RUN_FAIL;
	/* self's strings live in cfg, which a reload may replace */
	if (self.name)
		str_ncpy(rname, self.name, sizeof(rname));

	dmn_log_open(ops->prog, true, DMN_LOG_INFO);
	if (self.pidfile && pidfile_check(ops, self.pidfile))
		goto out;

	if (!fg) {
		ready = dmn_detach(ops->prog);
		if (ready < 0)
			goto out;
		dmn_log_tee_set(ready);
	}

	err = libre_init();
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "%s: start failed step=libre",
			     ops->mod);
		goto out;
	}
	re_up = true;
	if (ops->fd_init)
		(void)ops->fd_init(ops->fd_max);
	else
		(void)fd_setsize((int)ops->fd_max);
	dmn_log_open(ops->prog, fg, DMN_LOG_INFO);

	if (self.pidfile) {
		err = dmn_pidfile_open(&r.pf, self.pidfile, NULL);
		if (err)
			goto out;
	}

	err = ops->alloc(&r.ctx, cfg, name, path, why, sizeof(why),
			 ops->arg);
	cfg = NULL;	/* the context owns it, or freed it */
	if (err) {
		if (why[0])
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=context reason=%s", ops->mod, why);
		else
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=context", ops->mod);
		if (fg && why[0])
			fprintf(stderr, "%s: %s\n", ops->prog, why);
		goto out;
	}

	if (self.control) {
		err = dmn_ctl_listen(&r.ctl, self.control, ops->cmdv,
				     ops->cmdc, r.ctx);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=control path=%s", ops->mod,
				     self.control);
			goto out;
		}
	}
	else {
		dmn_log_warnx("%s: no-control-socket %s=%s", ops->mod,
			      ops->kind, rname);
	}
	/* only root can give the socket to another user */
	if (self.control) {
		err = dmn_ctl_share(self.control, getuid() == 0 ? self.user :
				    NULL, self.group);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=control-owner path=%s", ops->mod,
				     self.control);
			goto out;
		}
	}

	if (self.metrics && ops->status) {
		err = dmn_metrics_listen(&r.metrics, self.metrics, ops->prog,
					 ops->status, r.ctx);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=metrics address=%s", ops->mod,
				     self.metrics);
			goto out;
		}
	}

	if (ops->start) {
		r.started = true;
		err = ops->start(r.ctx);
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
				     "step=%s", ops->mod, ops->start_step);
			goto out;
		}
	}

	err = dmn_priv_drop(self.user);
	if (err)
		goto out;

	err = dmn_sig_alloc(&r.sig, sig_reload, sig_stop, &r);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "%s: start failed "
			     "step=signals", ops->mod);
		goto out;
	}

	if (ops->started)
		ops->started(r.ctx, path);
	dmn_detach_report(&ready, DMN_EXIT_OK);

	err = re_main(NULL);
	dmn_log_info("%s: stopped %s=%s", ops->mod, ops->kind, rname);
	rc = err ? DMN_RUN_FAIL : DMN_EXIT_OK;

 out:
	run_close(&r);
	if (re_up)
		libre_close();
	dmn_detach_report(&ready, DMN_RUN_FAIL);
	if (cfg)
		ops->cfg_free(cfg);
	dmn_log_close();
	return rc;
}
