/*
 * cn_ctl.c -- the connector's control commands, both sides.
 *
 * Daemon side: rows of the control socket's command table (daemon/
 *	dmn.h adds "help"):
 *	status [--json] [--all] [SECTION...]
 *	                   the summary (cn_status_summary), the whole tree
 *	                   (--all, --json) or its SECTIONs; exit 0
 *	                   healthy, 1 degraded
 *	reload             load the file again; 0, or 1 with the errors
 *	reset COMMUNITY    clear a link error and retry now; 2 if unknown
 * CLI side: `stconnector status|reload|reset ... [-c FILE] [-n NAME]`
 *	finds the control socket in the same file and record the daemon
 *	uses (or takes it from -s SOCKET, for when the file is broken),
 *	sends the request and exits with the daemon's status (3 when it is
 *	not running): daemon/dmn_cli.c and conf/cfg_ctl.c, given the
 *	connector's record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"

static int ctl_status(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	struct cn *cn = arg;
	struct dmn_st *st = NULL;
	int err, rc;

	(void)peer;
	err = cn_status_build(&st, cn);
	if (err) {
		(void)re_hprintf(pf, "error: status: %m\n", err);
		return DMN_EXIT_FAIL;
	}
	rc = dmn_st_answer(pf, st, argc, argv, cn_status_summary, cn);
	mem_deref(st);
	if (rc != DMN_EXIT_OK)
		return rc;
	return cn_degraded(cn) ? DMN_EXIT_DEGRADED : DMN_EXIT_OK;
}

static int ctl_reload(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	(void)argv;
	(void)peer;
	if (argc != 1) {
		(void)re_hprintf(pf, "error: reload takes no argument\n");
		return DMN_EXIT_USAGE;
	}
	dmn_log_info("cn: reload requested-by=control");
	return cn_reload(arg, pf) ? DMN_EXIT_DEGRADED : DMN_EXIT_OK;
}

static int ctl_reset(struct re_printf *pf, int argc, char *argv[],
		     const struct dmn_ctl_peer *peer, void *arg)
{
	struct cn *cn = arg;
	int err;

	(void)peer;
	if (argc != 2) {
		(void)re_hprintf(pf, "error: usage: reset COMMUNITY\n");
		return DMN_EXIT_USAGE;
	}
	err = cn_reset(cn, argv[1]);
	if (err == ENOENT) {
		(void)re_hprintf(pf, "error: reset: no external community "
				 "named %s\n", argv[1]);
		return DMN_EXIT_USAGE;
	}
	if (err) {
		(void)re_hprintf(pf, "error: reset %s: retry failed: %m\n",
				 argv[1], err);
		return DMN_EXIT_DEGRADED;
	}
	(void)re_hprintf(pf, "reset %s: error cleared%s\n", argv[1],
			 cn->ops && cn->ops->retry ? ", retrying now" : "");
	return DMN_EXIT_OK;
}

const struct dmn_ctl_cmd cn_ctl_cmdv[] = {
	{"status", "[--json] [--all] [SECTION...]", "a one-screen summary: "
	 "health and why, each gateway and community; --all: the whole "
	 "tree; SECTION: only those parts; --json: the tree as JSON",
	 DMN_CTL_ANY, ctl_status},
	{"reload", NULL, "load the configuration file again",
	 DMN_CTL_OWNER, ctl_reload},
	{"reset", "COMMUNITY", "clear a community's link error and retry "
	 "now", DMN_CTL_OWNER, ctl_reset},
	{"log", "LEVEL", "log from LEVEL up: error, warning, info, debug",
	 DMN_CTL_OWNER, dmn_ctl_log},
};
const size_t cn_ctl_cmdc = sizeof(cn_ctl_cmdv) / sizeof(cn_ctl_cmdv[0]);

/* ------------------------------------------------------------------ */
/* CLI side */

static int pick(const struct cfg *cfg, const char *name,
		const char **controlp, const char **recnamep, const char **whyp)
{
	const struct cfg_connector *self = NULL;
	int err;

	err = cn_self_pick(cfg, name, &self, whyp);
	if (err)
		return err;
	*controlp = self->control;
	*recnamep = self->name;
	return 0;
}

int cn_cmd_ctl(const char *cmd, int argc, char **argv)
{
	struct cfg_ctl_find cf = {
		.prog = "stconnector",
		.record = "CommunityConnector",
		.pickh = pick,
	};
	const struct dmn_cli_ctl c = {
		.prog = "stconnector",
		.defpath = CFG_DEFAULT_PATH,
		.cmdv = cn_ctl_cmdv,
		.cmdc = cn_ctl_cmdc,
		.timeout_ms = CN_CTL_TIMEOUT_MS,
		.find = cfg_ctl_find,
		.done = cfg_ctl_done,
		.arg = &cf,
	};

	return dmn_cli_ctl(&c, cmd, argc, argv);
}
