/*
 * cn_ctl.c -- the connector's control commands, both sides.
 *
 * Daemon side: rows of the control socket's command table (daemon/
 *	dmn.h adds "help"):
 *	status [--json]    the status tree; exit 0 healthy, 1 degraded
 *	reload             load the file again; 0, or 1 with the errors
 *	reset COMMUNITY    clear a link error and retry now; 2 if unknown
 * CLI side: `stconnector status|reload|reset ... [-c FILE] [-n NAME]`
 *	finds the control socket in the same file and record the daemon
 *	uses (or takes it from -s SOCKET, for when the file is broken),
 *	sends the request and exits with the daemon's status (3 when it is
 *	not running).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"

static int ctl_status(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	struct cn *cn = arg;
	struct dmn_st *st = NULL;
	bool json = false;
	int i, err;

	(void)peer;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		(void)re_hprintf(pf, "error: status: unknown argument %s "
				 "(usage: status [--json])\n", argv[i]);
		return DMN_EXIT_USAGE;
	}

	err = cn_status_build(&st, cn);
	if (err) {
		(void)re_hprintf(pf, "error: status: %m\n", err);
		return DMN_EXIT_FAIL;
	}
	err = json ? dmn_st_json(pf, st) : dmn_st_print(pf, st);
	mem_deref(st);
	if (err)
		return DMN_EXIT_FAIL;
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
	{"status", "[--json]", "health, configuration, gateways and "
	 "communities", DMN_CTL_ANY, ctl_status},
	{"reload", NULL, "load the configuration file again",
	 DMN_CTL_OWNER, ctl_reload},
	{"reset", "COMMUNITY", "clear a community's link error and retry "
	 "now", DMN_CTL_OWNER, ctl_reset},
};
const size_t cn_ctl_cmdc = sizeof(cn_ctl_cmdv) / sizeof(cn_ctl_cmdv[0]);

/* ------------------------------------------------------------------ */
/* CLI side */

static int ctl_usage(const char *cmd)
{
	fprintf(stderr, "usage: stconnector %s%s [-c FILE] [-n NAME] "
		"[-s SOCKET]\n", cmd,
		!strcmp(cmd, "status") ? " [--json]" :
		!strcmp(cmd, "reset") ? " COMMUNITY" : "");
	return DMN_EXIT_USAGE;
}

int cn_cmd_ctl(const char *cmd, int argc, char **argv)
{
	const char *path = CFG_DEFAULT_PATH, *name = NULL, *why = NULL;
	const char *sock = NULL;
	const struct cfg_connector *self = NULL;
	struct cfg_diag diag = {0};
	struct cfg *cfg = NULL;
	char line[DMN_CTL_LINE_MAX];
	const char *words[4];
	size_t nw = 0, i;
	int err, status = 0, rc;
	bool held = false;

	words[nw++] = cmd;
	for (i = 0; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-n") ||
		    !strcmp(argv[i], "-s")) {
			if (i + 1 == (size_t)argc)
				return ctl_usage(cmd);
			if (argv[i][1] == 'c')
				path = argv[++i];
			else if (argv[i][1] == 'n')
				name = argv[++i];
			else
				sock = argv[++i];
			continue;
		}
		if (nw == sizeof(words) / sizeof(words[0]))
			return ctl_usage(cmd);
		words[nw++] = argv[i];
	}
	if (!strcmp(cmd, "status")) {
		if (nw > 2 || (nw == 2 && strcmp(words[1], "--json")))
			return ctl_usage(cmd);
	}
	else if (!strcmp(cmd, "reset")) {
		if (nw != 2)
			return ctl_usage(cmd);
	}
	else if (nw != 1) {
		return ctl_usage(cmd);
	}

	if (sock)
		goto ask;

	/* A broken file still names the control socket: the daemon runs
	 * with its last good configuration and must stay reachable, above
	 * all for the reload that answers with these same errors (held
	 * back unless the daemon does not answer). */
	err = cfg_load_partial(&cfg, path, &diag);
	if (err && !cfg) {
		cfg_diag_print(&diag, stderr);
		if (!diag.n)
			fprintf(stderr, "stconnector: %s: %s\n", path,
				strerror(err));
		fprintf(stderr, "stconnector: cannot find the control socket "
			"in %s; name it with -s SOCKET\n", path);
		cfg_diag_reset(&diag);
		return CN_EXIT_FAIL;
	}
	if (err) {
		held = !strcmp(cmd, "reload");
		if (!held)
			cfg_diag_print(&diag, stderr);
		fprintf(stderr, "stconnector: %s has errors; asking the "
			"running daemon anyway\n", path);
	}

	err = cn_self_pick(cfg, name, &self, &why);
	if (err) {
		fprintf(stderr, "stconnector: %s: %s\n", path, why);
		rc = CN_EXIT_FAIL;
		goto out;
	}
	if (!self->control) {
		fprintf(stderr, "stconnector: %s: CommunityConnector \"%s\" "
			"has no control socket (attribute control)\n", path,
			self->name);
		rc = CN_EXIT_FAIL;
		goto out;
	}
	sock = self->control;

 ask:
	line[0] = '\0';
	for (i = 0; i < nw; i++) {
		strncat(line, i ? " " : "", sizeof(line) - strlen(line) - 1);
		strncat(line, words[i], sizeof(line) - strlen(line) - 1);
	}

	fflush(stdout);
	err = dmn_ctl_request(sock, line, stdout, CN_CTL_TIMEOUT_MS,
			      &status);
	fflush(stdout);
	rc = dmn_ctl_exit_code(err, status);
	if (err == ENOTCONN)
		fprintf(stderr, "stconnector: not running (no answer on %s)\n",
			sock);
	else if (err)
		fprintf(stderr, "stconnector: %s: %s\n", sock,
			strerror(err));
	if (!err)
		held = false;	/* the daemon's answer has them */
 out:
	if (held)
		cfg_diag_print(&diag, stderr);
	cfg_diag_reset(&diag);
	cfg_free(cfg);
	return rc;
}
