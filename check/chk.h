/*
 * chk.h -- the checks both programs' `check` commands run: open what
 * the daemon will open, before it runs.
 *
 * Owns: the community file's summary for people, the checks of the Tls
 *	record's files (chain, key, expiry, names, CA file), of a record's
 *	user and of the files and directories the daemon writes as that
 *	user (PID file, control socket, trace).
 * Not here: the directory (directory/dir_probe.c, for stgateway) and
 *	DNS (connector/cn_cmd_checkdns.c).  Uses conf, sipstack's TLS
 *	reading and libc.
 *
 * Every problem is one line, FILE:LINE of the record it comes from,
 * what is wrong and what to do: errors on the report's err stream (and
 * counted: `check` then fails), warnings and facts on its out stream.
 */
#ifndef STC_CHK_H
#define STC_CHK_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "conf/cfg.h"

#define CHK_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum {
	CHK_EXPIRY_WARN_DAYS = 30,	/* warn when fewer days are left */
};

struct chk {
	const struct cfg *cfg;
	FILE *out;		/* facts and warnings */
	FILE *err;		/* errors */
	unsigned nerr;
	unsigned nwarn;
	time_t now;		/* for expiry; 0: time(NULL) */
};

void chk_init(struct chk *c, const struct cfg *cfg, FILE *out, FILE *err);
/* "FILE:LINE: text" on err (counted) / "FILE:LINE: warning: text". */
void chk_error(struct chk *c, unsigned line, const char *fmt, ...)
	CHK_PRINTF(3, 4);
void chk_warn(struct chk *c, unsigned line, const char *fmt, ...)
	CHK_PRINTF(3, 4);
/* A fact, on out as it is. */
void chk_note(struct chk *c, const char *fmt, ...) CHK_PRINTF(2, 3);

/* What the file configures, for people (the `check` summary). */
void chk_summary(FILE *f, const struct cfg *cfg,
		 const struct cfg_diag *diag);

/*
 * The Tls record: the certificate chain parses, the key parses and is
 * the certificate's, the leaf has not expired (an error) and has more
 * than CHK_EXPIRY_WARN_DAYS left (else a warning), the CA file holds
 * certificates.  Names: every CommunityConnector whose gateways link
 * over TLS must be named by its ip as an IP-address SAN (the gateway
 * checks exactly that with verify="required"); the names the leaf
 * carries are printed, since partners check them against their
 * ExternCommunity Proxy.  Returns the number of errors it found.
 */
unsigned chk_tls(struct chk *c);

/*
 * A record's user= (record "CommunityConnector \"acme-edge\""): it
 * exists (error otherwise, with the command that creates it).  *uidp
 * and *gidp get the user the daemon will run as: that user, or the
 * one running check when none is named.  Returns 0 or ENOENT.
 */
int  chk_user(struct chk *c, unsigned line, const char *record,
	      const char *user, uid_t *uidp, gid_t *gidp);

/*
 * A file the daemon writes as uid/gid (what: "pidFile", "control",
 * "Trace file"): its directory exists and that user may create and
 * remove files in it; an existing file is writable by it.  Returns the
 * number of errors.
 */
unsigned chk_writable(struct chk *c, unsigned line, const char *record,
		      const char *what, const char *path, uid_t uid,
		      gid_t gid);

/*
 * The Tls files as the daemon's user reads them on reload (after the
 * privilege drop): a warning for each it cannot read.
 */
void chk_tls_readable(struct chk *c, const char *record, uid_t uid,
		      gid_t gid);
bool chk_may_read(const char *path, uid_t uid, gid_t gid);

/*
 * A record's controlGroup exists (the daemon hands its control socket
 * to it) and its metrics attribute is ADDRESS:PORT (the daemon listens
 * there).  Either may be NULL.
 */
void chk_daemon_extras(struct chk *c, unsigned line, const char *record,
		       const char *group, const char *metrics);

/* Whether uid (with gid and its supplementary groups) may write path
 * (and, for a directory, search it), from the mode bits. */
bool chk_may_write(const char *path, uid_t uid, gid_t gid);

#endif /* STC_CHK_H */
