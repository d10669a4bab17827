/*
 * cn_cmd.h -- stconnector's subcommands, one handler each.
 *
 * main.c finds the command in its table and hands it the arguments after
 * the command word.  A handler returns the process exit status:
 * 0 success, 1 the work failed (a bad file, ...), 2 a usage error.
 */
#ifndef STC_CN_CMD_H
#define STC_CN_CMD_H

#include <stdio.h>

struct cfg;

enum {
	CN_EXIT_OK    = 0,
	CN_EXIT_FAIL  = 1,
	CN_EXIT_USAGE = 2,
};

/* stconnector check [-c FILE] [-n NAME] [--dns] [--peer COMMUNITY] */
int cn_cmd_check(int argc, char **argv);

/* check --dns: resolve every external community of a loaded file, and
 * our own names as partners see them (name: the connector to compare,
 * NULL for all). */
int cn_cmd_check_dns(const struct cfg *cfg, const char *name, FILE *f);

/* check --peer COMMUNITY: probe a partner now (cn_cmd_peer.c). */
int cn_cmd_check_peer(const struct cfg *cfg, const char *name,
		      const char *community, FILE *f);

#endif
