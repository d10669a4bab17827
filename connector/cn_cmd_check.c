/*
 * cn_cmd_check.c -- `stconnector check [-c FILE] [-n NAME] [--dns]`:
 * load the community file exactly as the daemon would, say what it
 * configures, then open what the daemon will open (check/chk.h): the
 * Tls record's certificate chain, key and CA file, each
 * CommunityConnector's user (or the one named with -n) and the files
 * it writes as that user.
 *
 * A good file: a short summary for people on stdout, warnings included,
 * then "configuration OK"; exit 0.  A bad file or a problem with what
 * it names: every "FILE:LINE: message" on stderr; exit 1.  Secrets are
 * never printed, only the paths of the files that hold them.
 *
 * With --dns, a good file is then resolved as the daemon would
 * (cn_cmd_checkdns.c); a community that does not resolve fails it, and
 * so do our own names when partners would not find this connector in
 * them.  With --peer COMMUNITY, the partner is probed now: resolution,
 * TCP, TLS with its verdict, an OPTIONS round trip; for an XMPP
 * community a stream up to its features over TLS (cn_cmd_peer.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/cfg.h"
#include "check/chk.h"
#include "sipstack/sst_seal.h"
#include "connector/cn_cmd.h"
#include "connector/cn_policy.h"

/* The toposKey file: a key, or nothing yet (made at start). */
static void check_topos_key(struct chk *c, const struct cfg_connector *cn,
			    const char *rec)
{
	struct stat st;

	if (!cn->topos_key)
		return;
	if (stat(cn->topos_key, &st)) {
		if (errno == ENOENT)
			chk_note(c, "%s: toposKey %s will be made at start",
				 rec, cn->topos_key);
		else
			chk_error(c, cn->line, "%s: toposKey %s: %s", rec,
				  cn->topos_key, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != SST_SEAL_KEY)
		chk_error(c, cn->line, "%s: toposKey %s is not a key (%lld "
			  "bytes, want %u): remove it to make a new one", rec,
			  cn->topos_key, (long long)st.st_size,
			  (unsigned)SST_SEAL_KEY);
	else if (st.st_mode & 077)
		chk_warn(c, cn->line, "%s: toposKey %s is readable by "
			 "others: chmod 600", rec, cn->topos_key);
}

/* One connector record: its user, then what it writes as that user. */
static void check_self(struct chk *c, const struct cfg_connector *cn)
{
	char rec[300];
	uid_t uid;
	gid_t gid;

	snprintf(rec, sizeof(rec), "CommunityConnector \"%s\"", cn->name);
	chk_daemon_extras(c, cn->line, rec, cn->control_group,
			  cn->metrics);
	check_topos_key(c, cn, rec);
	if (chk_user(c, cn->line, rec, cn->user, &uid, &gid))
		return;
	chk_tls_readable(c, rec, uid, gid);
	(void)chk_writable(c, cn->line, rec, "pidFile", cn->pidfile, uid,
			   gid);
	(void)chk_writable(c, cn->line, rec, "control", cn->control, uid,
			   gid);
	if (c->cfg->trace.enable)
		(void)chk_writable(c, c->cfg->trace.line, rec, "Trace file",
				   c->cfg->trace.file, uid, gid);
}

int cn_cmd_check(int argc, char **argv)
{
	struct cfg_diag diag = {NULL, 0, 0};
	const char *path = CFG_DEFAULT_PATH, *name = NULL, *peer = NULL;
	struct cfg *cfg = NULL;
	struct chk c;
	size_t k;
	bool dns = false;
	int i, err, rc = CN_EXIT_OK;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			path = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			name = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--peer") && i + 1 < argc) {
			peer = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--dns")) {
			dns = true;
			continue;
		}
		fprintf(stderr, "stconnector check: unexpected argument "
			"\"%s\"\nusage: stconnector check [-c FILE] [-n NAME] "
			"[--dns] [--peer COMMUNITY]\n",
			argv[i]);
		return CN_EXIT_USAGE;
	}

	err = cfg_load(&cfg, path, &diag);
	if (err) {
		cfg_diag_fail(stderr, NULL, path, &diag, err);
		return CN_EXIT_FAIL;
	}

	chk_summary(stdout, cfg, &diag);
	if (name && !cfg_connector_find(cfg, name)) {
		fprintf(stderr, "%s: no CommunityConnector \"%s\" in the "
			"file\n", path, name);
		rc = CN_EXIT_FAIL;
		goto out;
	}
	chk_init(&c, cfg, stdout, stderr);
	(void)chk_tls(&c);
	for (k = 0; k < cfg->nconnectors; k++)
		if (!name || !strcmp(cfg->connectors[k].name, name))
			check_self(&c, &cfg->connectors[k]);
	if (c.nerr) {
		fflush(stdout);
		fprintf(stderr, "%s: %u problem%s: the connector would not "
			"start, or fail later\n", path, c.nerr,
			c.nerr == 1 ? "" : "s");
		rc = CN_EXIT_FAIL;
		goto out;
	}
	printf("configuration OK\n");
	if (dns) {
		fflush(stdout);
		rc = cn_cmd_check_dns(cfg, name, stdout);
		if (rc == CN_EXIT_OK)
			printf("dns OK\n");
	}
	if (peer && rc == CN_EXIT_OK) {
		fflush(stdout);
		rc = cn_cmd_check_peer(cfg, name, peer, stdout);
	}


 out:
	cfg_free(cfg);
	cfg_diag_reset(&diag);
	return rc;
}
