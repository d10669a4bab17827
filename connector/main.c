/*
 * main.c -- stconnector's command line.
 *
 * stconnector [-c FILE] [-f]      run the connector (not built yet)
 * stconnector check [-c FILE]     validate the community file
 * stconnector --help | --version
 */
#include <stdio.h>
#include <string.h>

#include "config.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stconnector [-c FILE] [-f]\n"
		"       stconnector check [-c FILE]\n"
		"       stconnector --help | --version\n"
		"\n"
		"  -c FILE    community config file (default %s)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  check      validate FILE, print what it configures\n",
		"/etc/stconnector/community.xml");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("stconnector %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
