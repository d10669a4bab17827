/*
 * main.c -- stconnector's command line.
 *
 * stconnector [-c FILE] [-n NAME] [-f]   run the connector
 * stconnector check [-c FILE] [-n NAME] [--dns] [--peer COMMUNITY]
 *                                        validate the community file, open
 *                                        what the connector will open
 *                                        (--dns: and resolve its communities)
 * stconnector status [--all | SECTION...] [--json] | reload | reset COMMUNITY
 *             [-c FILE] [-n NAME] [-s SOCKET]
 *                                        ask the running connector
 * stconnector --help | --version
 *
 * Subcommands are rows of one table: name, handler, one line of help;
 * daemon/dmn_cli.c dispatches and prints the usage.
 */
#include "config.h"

#include "conf/cfg.h"
#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"
#include "connector/cn_proxy.h"

static int cmd_check(const char *name, int argc, char **argv)
{
	(void)name;
	return cn_cmd_check(argc, argv);
}

static const struct dmn_cli_cmd commands[] = {
	{"check", cmd_check, "check [-c FILE] [-n NAME] [--dns] "
	 "[--peer COMMUNITY]",
	 "validate FILE and open what the connector will open; --dns: "
	 "resolve every external community and our own names; --peer: "
	 "probe a partner now (DNS, TCP, TLS, OPTIONS)"},
	{"status", cn_cmd_ctl, "status [--all | SECTION...] [--json] "
	 "[-c FILE] [-n NAME] [-s SOCK]",
	 "ask the running connector how it is: a one-screen summary; --all: "
	 "everything; SECTION: those parts; --json: the whole tree (or the "
	 "SECTIONs) for programs (exit 0 ok, 1 degraded, 3 not running)"},
	{"reload", cn_cmd_ctl, "reload [-c FILE] [-n NAME] [-s SOCK]",
	 "make the running connector load FILE again"},
	{"reset", cn_cmd_ctl, "reset COMMUNITY [-c FILE] [-n NAME] [-s SOCK]",
	 "clear a community's link error and retry now"},
	{"log", cn_cmd_ctl, "log LEVEL [-c FILE] [-n NAME] [-s SOCK]",
	 "log from LEVEL up (error, warning, info, debug), from now on"},
};

static int run_daemon(int argc, char **argv, const void *arg)
{
	return cn_daemon_main(argc, argv, arg);
}

int main(int argc, char **argv)
{
	const struct dmn_cli cli = {
		.prog = "stconnector",
		.version = PACKAGE_VERSION,
		.kind = "connector",
		.record = "CommunityConnector",
		.defpath = CFG_DEFAULT_PATH,
		.cmdv = commands,
		.cmdc = sizeof(commands) / sizeof(commands[0]),
		.daemon = run_daemon,
		/* the proxy core's entry points (cn_proxy.h) */
		.arg = &cn_proxy_ops,
	};

	return dmn_cli_main(&cli, argc, argv);
}
