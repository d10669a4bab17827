/*
 * main.c -- stconnector's command line.
 *
 * stconnector [-c FILE] [-n NAME] [-f]   run the connector
 * stconnector check [-c FILE] [--dns]    validate the community file
 *                                        (--dns: and resolve its communities)
 * stconnector status [--json] | reload | reset COMMUNITY
 *             [-c FILE] [-n NAME] [-s SOCKET]
 *                                        ask the running connector
 * stconnector --help | --version
 *
 * Subcommands are rows of one table: name, handler, one line of help.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf/cfg.h"
#include "connector/cn.h"
#include "connector/cn_cmd.h"
#include "connector/cn_proxy.h"

struct cn_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int cmd_status(int argc, char **argv)
{
	return cn_cmd_ctl("status", argc, argv);
}

static int cmd_reload(int argc, char **argv)
{
	return cn_cmd_ctl("reload", argc, argv);
}

static int cmd_reset(int argc, char **argv)
{
	return cn_cmd_ctl("reset", argc, argv);
}

static const struct cn_command commands[] = {
	{"check", cn_cmd_check, "check [-c FILE] [--dns]",
	 "validate FILE, print what it configures; --dns: resolve "
	 "every external community"},
	{"status", cmd_status, "status [--json] [-c FILE] [-n NAME] [-s SOCK]",
	 "ask the running connector how it is (exit 0 ok, 1 degraded, "
	 "3 not running)"},
	{"reload", cmd_reload, "reload [-c FILE] [-n NAME] [-s SOCK]",
	 "make the running connector load FILE again"},
	{"reset", cmd_reset, "reset COMMUNITY [-c FILE] [-n NAME] [-s SOCK]",
	 "clear a community's link error and retry now"},
};

/* The proxy core's entry points (cn_proxy.h). */
static const struct cn_proxy_ops *const proxy_ops = &cn_proxy_ops;

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: stconnector [-c FILE] [-n NAME] [-f]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "       stconnector %s\n", commands[i].usage);
	fprintf(f,
		"       stconnector --help | --version\n"
		"\n"
		"  -c FILE    community config file (default %s)\n"
		"  -n NAME    this connector's CommunityConnector record\n"
		"             (default: the only one in FILE)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -s SOCK    the running connector's control socket (default:\n"
		"             the record's control attribute in FILE)\n",
		CFG_DEFAULT_PATH);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("stconnector %s\n", PACKAGE_VERSION);
		return CN_EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CN_EXIT_OK;
	}
	for (i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]);
	     i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 2, argv + 2);

	if (argc == 1 || argv[1][0] == '-')
		return cn_daemon_main(argc, argv, proxy_ops);

	if (argc > 1)
		fprintf(stderr, "stconnector: unknown command \"%s\"\n",
			argv[1]);
	usage(stderr);
	return CN_EXIT_USAGE;
}
