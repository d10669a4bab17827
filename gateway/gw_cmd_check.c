/*
 * gw_cmd_check.c -- `stgateway check [-c FILE] [-n NAME] [--directory]`:
 * load the community file as the gateway would, say what it configures,
 * then open what the gateway will open: the Tls record's files
 * (check/chk.h, shared with stconnector), the Directory's LDIF file
 * (every malformed line as FILE:LINE) or its LDAP password file, each
 * CommunityGateway's user (or the one named with -n) and the files it
 * writes as that user.  With --directory, an LDAP directory is also
 * bound to and its search base read, as the lookup thread will.
 *
 * Exit 0 and "configuration OK" when nothing is wrong; every problem on
 * stderr as "FILE:LINE: what, and what to do" and exit 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/cfg.h"
#include "check/chk.h"
#include "directory/dir.h"
#include "gateway/gw.h"
#include "gateway/gw_cmd_check.h"

static void check_self(struct chk *c, const struct cfg_gateway *gw)
{
	char rec[300];
	uid_t uid;
	gid_t gid;

	snprintf(rec, sizeof(rec), "CommunityGateway \"%s\"", gw->name);
	chk_daemon_extras(c, gw->line, rec, gw->control_group,
			  gw->metrics);
	if (chk_user(c, gw->line, rec, gw->user, &uid, &gid))
		return;
	chk_tls_readable(c, rec, uid, gid);
	(void)chk_writable(c, gw->line, rec, "pidFile", gw->pidfile, uid,
			   gid);
	(void)chk_writable(c, gw->line, rec, "control", gw->control, uid,
			   gid);
	if (c->cfg->trace.enable)
		(void)chk_writable(c, c->cfg->trace.line, rec, "Trace file",
				   c->cfg->trace.file, uid, gid);
}

static void check_directory(struct chk *c, bool server)
{
	const struct cfg_directory *d = &c->cfg->directory;
	struct dir_probe pr;
	char why[1024];
	int err;

	if (!d->present) {
		chk_error(c, 0, "no Directory record: the gateway cannot "
			  "check passwords; add one (backend=\"file\" with "
			  "an LDIF file, or backend=\"ldap\")");
		return;
	}
	err = dir_probe(d, NULL, server, &pr, why, sizeof(why));
	if (err && d->backend == CFG_DIR_FILE && d->file &&
	    !strncmp(why, d->file, strlen(d->file))) {
		/* FILE:LINE of the LDIF file itself */
		fprintf(c->err, "%s; fix that line of the LDIF file\n", why);
		c->nerr++;
	}
	else if (err)
		chk_error(c, d->line, "Directory: %s", why);
	else if (d->backend == CFG_DIR_FILE)
		chk_note(c, "directory file: %s read", pr.where);
	else if (pr.searched)
		chk_note(c, "directory ldap: %s bind and search base \"%s\" "
			 "ok (%llu ms)", pr.where, d->base ? d->base : "",
			 (unsigned long long)(pr.usec / 1000));
	else
		chk_note(c, "directory ldap: %s (not contacted; "
			 "--directory binds and reads the search base)",
			 pr.where);
}

int gw_cmd_check(const char *cmd, int argc, char **argv)
{
	struct cfg_diag diag = {NULL, 0, 0};
	const char *path = CFG_DEFAULT_PATH, *name = NULL;
	struct cfg *cfg = NULL;
	bool server = false;
	struct chk c;
	int i, err, rc = GW_EXIT_OK;
	size_t k;

	(void)cmd;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			name = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--directory")) {
			server = true;
			continue;
		}
		fprintf(stderr, "stgateway check: unexpected argument "
			"\"%s\"\nusage: stgateway check [-c FILE] [-n NAME] "
			"[--directory]\n", argv[i]);
		return GW_EXIT_USAGE;
	}

	err = cfg_load(&cfg, path, &diag);
	if (err) {
		cfg_diag_fail(stderr, NULL, path, &diag, err);
		return GW_EXIT_FAIL;
	}

	chk_summary(stdout, cfg, &diag);
	if (name && !cfg_gateway_find(cfg, name)) {
		fprintf(stderr, "%s: no CommunityGateway \"%s\" in the "
			"file\n", path, name);
		rc = GW_EXIT_FAIL;
		goto out;
	}
	if (!cfg->ngateways) {
		fprintf(stderr, "%s: the file has no CommunityGateway "
			"record\n", path);
		rc = GW_EXIT_FAIL;
		goto out;
	}
	chk_init(&c, cfg, stdout, stderr);
	(void)chk_tls(&c);
	check_directory(&c, server);
	for (k = 0; k < cfg->ngateways; k++)
		if (!name || !strcmp(cfg->gateways[k].name, name))
			check_self(&c, &cfg->gateways[k]);
	fflush(stdout);
	if (c.nerr) {
		fprintf(stderr, "%s: %u problem%s: the gateway would not "
			"start, or fail later\n", path, c.nerr,
			c.nerr == 1 ? "" : "s");
		rc = GW_EXIT_FAIL;
		goto out;
	}
	printf("configuration OK\n");
 out:
	cfg_free(cfg);
	cfg_diag_reset(&diag);
	return rc;
}
