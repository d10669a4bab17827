/*
 * gw_main.c -- stgateway's command line.
 *
 * stgateway [-c FILE] [-n NAME] [-f]         run the gateway
 * stgateway status [--json] | reload [-c FILE] [-n NAME] [-s SOCKET]
 *                                            ask the running gateway
 * stgateway --help | --version
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gateway/gw.h"

struct gw_command {
	const char *name;
	const char *usage;
	const char *help;
};

static const struct gw_command commands[] = {
	{"status", "status [--json] [-c FILE] [-n NAME] [-s SOCK]",
	 "ask the running gateway how it is (exit 0 ok, 1 degraded, "
	 "3 not running)"},
	{"reload", "reload [-c FILE] [-n NAME] [-s SOCK]",
	 "make the running gateway load FILE again"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: stgateway [-c FILE] [-n NAME] [-f]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "       stgateway %s\n", commands[i].usage);
	fprintf(f,
		"       stgateway --help | --version\n"
		"\n"
		"  -c FILE    community config file (default %s)\n"
		"  -n NAME    this gateway's CommunityGateway record\n"
		"             (default: the only one in FILE)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -s SOCK    the running gateway's control socket (default:\n"
		"             the record's control attribute in FILE)\n",
		CFG_DEFAULT_PATH);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("stgateway %s\n", PACKAGE_VERSION);
		return GW_EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return GW_EXIT_OK;
	}
	for (i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]);
	     i++)
		if (!strcmp(argv[1], commands[i].name))
			return gw_cmd_ctl(commands[i].name, argc - 2,
					  argv + 2);

	if (argc == 1 || argv[1][0] == '-')
		return gw_daemon_main(argc, argv);

	fprintf(stderr, "stgateway: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return GW_EXIT_USAGE;
}
