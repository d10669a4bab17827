/*
 * main.c -- stconnector's command line.
 *
 * stconnector [-c FILE] [-f]      run the connector (not built yet)
 * stconnector check [-c FILE] [--dns]  validate the community file
 *                                 (--dns: and resolve its communities)
 * stconnector --help | --version
 *
 * Subcommands are rows of one table: name, handler, one line of help.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf/cfg.h"
#include "connector/cn_cmd.h"

struct cn_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct cn_command commands[] = {
	{"check", cn_cmd_check, "check [-c FILE] [--dns]",
	 "validate FILE, print what it configures; --dns: resolve "
	 "every external community"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: stconnector [-c FILE] [-f]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "       stconnector %s\n", commands[i].usage);
	fprintf(f,
		"       stconnector --help | --version\n"
		"\n"
		"  -c FILE    community config file (default %s)\n"
		"  -f         stay in the foreground, log to stderr\n",
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

	if (argc > 1)
		fprintf(stderr, "stconnector: unknown command \"%s\"\n",
			argv[1]);
	usage(stderr);
	return CN_EXIT_USAGE;
}
