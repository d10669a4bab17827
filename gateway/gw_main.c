/*
 * gw_main.c -- stgateway's command line.
 *
 * stgateway [-c FILE] [-n NAME] [-f]         run the gateway
 * stgateway check [-c FILE] [-n NAME] [--directory]
 *                                            validate the file, open
 *                                            what the gateway will open
 * stgateway status [--all | SECTION...] [--json] | reload | reset [CONNECTOR]
 *           [-c FILE] [-n NAME] [-s SOCKET]
 *                                            ask the running gateway
 * stgateway --help | --version
 *
 * The table below is dispatched by daemon/dmn_cli.c, as stconnector's.
 */
#include "config.h"

#include "gateway/gw.h"
#include "gateway/gw_cmd_check.h"
#include "gateway/gw_ctl.h"
#include "gateway/gw_daemon.h"

static const struct dmn_cli_cmd commands[] = {
	{"check", gw_cmd_check, "check [-c FILE] [-n NAME] [--directory]",
	 "validate FILE and open what the gateway will open; "
	 "--directory: bind to LDAP and read the search base"},
	{"status", gw_cmd_ctl, "status [--all | SECTION...] [--json] "
	 "[-c FILE] [-n NAME] [-s SOCK]",
	 "ask the running gateway how it is: a one-screen summary; --all: "
	 "everything; SECTION: those parts; --json: the whole tree (or the "
	 "SECTIONs) for programs (exit 0 ok, 1 degraded, 3 not running)"},
	{"reload", gw_cmd_ctl, "reload [-c FILE] [-n NAME] [-s SOCK]",
	 "make the running gateway load FILE again"},
	{"reset", gw_cmd_ctl, "reset [CONNECTOR] [-c FILE] [-n NAME] [-s SOCK]",
	 "probe down connector links now, retry federation subscriptions "
	 "waiting out a backoff"},
	{"log", gw_cmd_ctl, "log LEVEL [-c FILE] [-n NAME] [-s SOCK]",
	 "log from LEVEL up (error, warning, info, debug), from now on"},
};

static int run_daemon(int argc, char **argv, const void *arg)
{
	(void)arg;
	return gw_daemon_main(argc, argv);
}

int main(int argc, char **argv)
{
	const struct dmn_cli cli = {
		.prog = "stgateway",
		.version = PACKAGE_VERSION,
		.kind = "gateway",
		.record = "CommunityGateway",
		.defpath = CFG_DEFAULT_PATH,
		.cmdv = commands,
		.cmdc = sizeof(commands) / sizeof(commands[0]),
		.daemon = run_daemon,
	};

	return dmn_cli_main(&cli, argc, argv);
}
