/*
 * dmn_cli.c -- the command line both programs share: subcommand
 * dispatch with --help/--version, and the control client's side
 * (`PROG status|reload|... [-c FILE] [-n NAME] [-s SOCKET]`).
 *
 * The client checks its words against the daemon's own command table
 * (struct dmn_ctl_cmd's usage): NULL takes no word, "[WORD]" takes that
 * word once, a usage ending in "...]" up to DMN_CLI_WORDS_MAX words
 * (the daemon checks them), anything else exactly one word.  Finding
 * the socket in the configuration is the caller's (dmn_cli_ctl.find):
 * daemon/ knows no configuration file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "daemon/dmn.h"

enum { DMN_CLI_WORDS_MAX = 8 };

static void usage(const struct dmn_cli *cli, FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-c FILE] [-n NAME] [-f]\n", cli->prog);
	for (i = 0; i < cli->cmdc; i++)
		fprintf(f, "       %s %s\n", cli->prog, cli->cmdv[i].usage);
	fprintf(f,
		"       %s --help | --version\n"
		"\n"
		"  -c FILE    community config file (default %s)\n"
		"  -n NAME    this %s's %s record\n"
		"             (default: the only one in FILE)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -s SOCK    the running %s's control socket (default:\n"
		"             the record's control attribute in FILE)\n",
		cli->prog, cli->defpath, cli->kind, cli->record, cli->kind);
	for (i = 0; i < cli->cmdc; i++)
		fprintf(f, "  %-10s %s\n", cli->cmdv[i].name,
			cli->cmdv[i].help);
}

int dmn_cli_main(const struct dmn_cli *cli, int argc, char **argv)
{
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("%s %s\n", cli->prog, cli->version);
		return DMN_EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(cli, stdout);
		return DMN_EXIT_OK;
	}
	for (i = 0; argc > 1 && i < cli->cmdc; i++)
		if (!strcmp(argv[1], cli->cmdv[i].name))
			return cli->cmdv[i].run(cli->cmdv[i].name, argc - 2,
						argv + 2);

	if (argc == 1 || argv[1][0] == '-')
		return cli->daemon(argc, argv, cli->arg);

	fprintf(stderr, "%s: unknown command \"%s\"\n", cli->prog, argv[1]);
	usage(cli, stderr);
	return DMN_EXIT_USAGE;
}

/* ---- control client ---- */

static const char *cmd_usage(const struct dmn_cli_ctl *c, const char *cmd)
{
	size_t i;

	for (i = 0; i < c->cmdc; i++)
		if (!strcmp(c->cmdv[i].name, cmd))
			return c->cmdv[i].usage;
	return NULL;
}

static int ctl_usage(const struct dmn_cli_ctl *c, const char *cmd)
{
	const char *u = cmd_usage(c, cmd);

	fprintf(stderr, "usage: %s %s%s%s [-c FILE] [-n NAME] [-s SOCKET]\n",
		c->prog, cmd, u ? " " : "", u ? u : "");
	return DMN_EXIT_USAGE;
}

/* The words after cmd fit its usage: see the file's head. */
static bool words_fit(const char *u, const char **words, size_t nw)
{
	size_t len;

	if (!u)
		return nw == 0;
	len = strlen(u);
	if (len > 4 && !strcmp(u + len - 4, "...]"))
		return true;
	/* "[NAME]" in capitals: any one word or none; "[--json]": that
	 * word or none */
	if (len > 2 && u[0] == '[' && u[len - 1] == ']' &&
	    isupper((unsigned char)u[1]))
		return nw <= 1;
	if (len > 2 && u[0] == '[' && u[len - 1] == ']')
		return nw == 0 || (nw == 1 && strlen(words[0]) == len - 2 &&
				   !strncmp(words[0], u + 1, len - 2));
	return nw == 1;
}

int dmn_cli_ctl(const struct dmn_cli_ctl *c, const char *cmd, int argc,
		char **argv)
{
	const char *path = c->defpath, *name = NULL, *sock = NULL;
	const char *words[DMN_CLI_WORDS_MAX];
	char line[DMN_CTL_LINE_MAX], sockbuf[DMN_CLI_SOCK_MAX];
	size_t nw = 0, i;
	int err, status = 0, rc;
	bool answered = false;

	for (i = 0; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-n") ||
		    !strcmp(argv[i], "-s")) {
			if (i + 1 == (size_t)argc)
				return ctl_usage(c, cmd);
			if (argv[i][1] == 'c')
				path = argv[++i];
			else if (argv[i][1] == 'n')
				name = argv[++i];
			else
				sock = argv[++i];
			continue;
		}
		if (nw == DMN_CLI_WORDS_MAX)
			return ctl_usage(c, cmd);
		words[nw++] = argv[i];
	}
	if (!words_fit(cmd_usage(c, cmd), words, nw))
		return ctl_usage(c, cmd);

	if (!sock) {
		/* a reload answers with the file's errors itself */
		rc = c->find(sockbuf, sizeof(sockbuf), path, name,
			     !strcmp(cmd, "reload"), c->arg);
		if (rc)
			goto out;
		sock = sockbuf;
	}

	re_snprintf(line, sizeof(line), "%s", cmd);
	for (i = 0; i < nw; i++) {
		strncat(line, " ", sizeof(line) - strlen(line) - 1);
		strncat(line, words[i], sizeof(line) - strlen(line) - 1);
	}

	fflush(stdout);
	err = dmn_ctl_request(sock, line, stdout, c->timeout_ms, &status);
	fflush(stdout);
	rc = dmn_ctl_exit_code(err, status);
	if (err == ENOTCONN)
		fprintf(stderr, "%s: not running (no answer on %s)\n",
			c->prog, sock);
	else if (err)
		fprintf(stderr, "%s: %s: %s\n", c->prog, sock, strerror(err));
	answered = !err;
 out:
	if (c->done)
		c->done(answered, c->arg);
	return rc;
}
