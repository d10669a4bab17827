/*
 * dir.h -- the directory: local ID <-> email, SIP credentials, group
 * members and the per-user federation privacy setting.
 *
 * Owns: one lookup thread per struct dir, its backend (LDAP through
 *	libldap, or an LDIF file loaded into memory), the bounded answer
 *	cache with positive and negative expiry, and the counters that
 *	`stgateway status` prints.
 * Not here: what the gateway does with an answer; the config loader
 *	(conf/ fills struct cfg_directory).
 * Memory: struct dir is a libre mem object owned by the caller.  A
 *	struct dir_result is only valid during the handler call; copy what
 *	you keep.
 *
 * Threading: every backend call (and so every libldap call) runs on the
 * lookup thread, never on the event loop.  The thread talks to the loop
 * only through plain malloc'd structs on a mutex-protected list plus a
 * libre mqueue doorbell; libre objects never cross threads.  A slow or
 * dead LDAP server therefore delays answers, never SIP traffic: each
 * LDAP operation is bounded by cfg->timeout_ms, and after every server
 * has failed the thread answers EHOSTDOWN at once for DIR_DOWN_MS before
 * it tries again.
 *
 * Handlers run on the thread that called dir_alloc() (its libre loop).
 * A cache hit, or a key refused before any lookup (EINVAL), calls the
 * handler before the lookup function returns; everything else calls it
 * later from the loop.  dir_cancel() drops pending handlers for an arg.
 *
 * Errors, in struct dir_result.err, with a human reason beside:
 *	0          found
 *	ENOENT     no such user / email / group
 *	ENODATA    the user exists but lacks the asked attribute (e.g. no
 *	           mail: the user can be reached locally, not federated)
 *	ENOTUNIQ   several entries match: refused and logged, never a guess
 *	EINVAL     key refused before lookup (empty, too long, NUL, control)
 *	EPROTONOSUPPORT  the stored password is a hash SIP digest cannot use
 *	EBADMSG    the privacy attribute holds a value we cannot read
 *	EHOSTDOWN  no LDAP server reachable
 *	ETIMEDOUT  the server did not answer within timeout_ms
 *	EACCES     the bind was refused (bind DN / password file)
 *	EMSGSIZE   the server's answer exceeded our size limit
 *	EAGAIN     too many lookups queued
 *	EIO        any other server error (reason carries LDAP's text)
 */
#ifndef STC_DIR_H
#define STC_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/cfg.h"

struct pl;
struct re_printf;
struct dir;

enum {
	DIR_KEY_MAX      = 256,   /* bytes in an ID or email key */
	DIR_QUEUE_MAX    = 1024,  /* lookups waiting for the thread */
	DIR_MEMBERS_MAX  = 1000,  /* members returned for one group */
	DIR_DOWN_MS      = 500,   /* fail fast this long after all fail */
};
/* Defaults for cache TTLs and the LDAP timeout: CFG_DIR_* in cfg.h. */

enum dir_kind {
	DIR_EMAIL_OF = 0,  /* local ID -> email */
	DIR_ID_OF,         /* email -> local ID */
	DIR_SECRET_OF,     /* local ID -> password or HA1 */
	DIR_PRIVACY_OF,    /* local ID -> federation privacy */
	DIR_MEMBERS_OF,    /* group name -> member local IDs */
	DIR_KIND_N,
};

/* How the secret of DIR_SECRET_OF is stored. */
enum dir_secret {
	DIR_SECRET_NONE = 0,
	DIR_SECRET_PLAIN,  /* cleartext (no scheme, or {CLEARTEXT}) */
	DIR_SECRET_HA1,    /* "{HA1}" + 32 hex digits: MD5(user:realm:pw) */
};

struct dir_result {
	enum dir_kind kind;
	const char *key;          /* what was asked, as given */
	int err;
	const char *reason;       /* "" on success */
	const char *value;        /* email, ID or secret; NULL on error */
	enum dir_secret secret;
	enum cfg_privacy privacy; /* DIR_PRIVACY_OF (also set on EBADMSG:
				   * CFG_PRIVACY_NONE, the safe reading) */
	const char *const *list;  /* allowed domains, or group members */
	size_t nlist;
	bool cached;
};

typedef void (dir_result_h)(const struct dir_result *res, void *arg);

/* Warnings worth an administrator's eye (ambiguous entries, servers
 * failing).  Called on the loop thread.  Default: stderr. */
typedef void (dir_log_h)(const char *msg, void *arg);

struct dir_stats {
	uint64_t lookups;     /* every dir_*_of call */
	uint64_t hits;        /* answered from the cache */
	uint64_t misses;      /* went to the backend */
	uint64_t errors;      /* answers other than 0/ENOENT/ENODATA */
	uint64_t slowest_us;  /* slowest backend answer */
	uint64_t avg_us;      /* mean backend answer */
	size_t cached;        /* entries in the cache now */
	size_t queued;        /* lookups waiting or running */
	bool up;              /* last backend contact worked */
	char server[256];     /* LDAP URL in use, or the LDIF file */
	char last_error[256];
};

/*
 * Build a directory from its config record.  Relative file names in
 * cfg are taken relative to base_dir (NULL: the working directory).
 * The LDIF file and the LDAP password file are read here; the LDAP
 * connection is made lazily by the lookup thread.  On failure, why
 * holds "FILE:LINE: what" or another sentence for the administrator.
 */
int dir_alloc(struct dir **dp, const struct cfg_directory *cfg,
	      const char *base_dir, char *why, size_t whysz);

/*
 * For `stgateway check`: open the backend as dir_alloc() would (the
 * LDIF file read, with FILE:LINE in why when it is malformed; the LDAP
 * URLs and password file), without a thread.  With server, an LDAP
 * backend also binds and reads the search base (scope base): EACCES
 * for a refused bind, ENOENT when the base does not exist, EHOSTDOWN
 * when no server answers.  Synchronous: never on a daemon's loop.
 */
struct dir_probe {
	char where[256];	/* the LDIF file or the LDAP URL used */
	bool searched;		/* bind and base search done */
	uint64_t usec;		/* time they took */
};

int dir_probe(const struct cfg_directory *cfg, const char *base_dir,
	      bool server, struct dir_probe *pr, char *why, size_t whysz);

void dir_set_log(struct dir *d, dir_log_h *logh, void *arg);

int dir_email_of(struct dir *d, const struct pl *id, dir_result_h *h,
		 void *arg);
int dir_id_of(struct dir *d, const struct pl *email, dir_result_h *h,
	      void *arg);
int dir_secret_of(struct dir *d, const struct pl *id, dir_result_h *h,
		  void *arg);
int dir_privacy_of(struct dir *d, const struct pl *id, dir_result_h *h,
		   void *arg);
/* group: a groupOfNames entry's DN (the key holds a '=') or its cn;
 * the answer lists the members' local IDs. */
int dir_members_of(struct dir *d, const struct pl *group, dir_result_h *h,
		   void *arg);
int dir_lookup(struct dir *d, enum dir_kind kind, const struct pl *key,
	       dir_result_h *h, void *arg);

/* Forget pending handlers registered with arg (before freeing arg). */
void dir_cancel(struct dir *d, void *arg);
/* Drop every cached answer (e.g. after the directory changed). */
void dir_flush(struct dir *d);

void dir_stats_get(const struct dir *d, struct dir_stats *st);
/* "key=value" lines for status screens.  Never prints secrets. */
int dir_status(struct re_printf *pf, const struct dir *d);

/* Short tokens for logs and status: "no-such-entry", "no-attribute"... */
const char *dir_err_name(int err);
const char *dir_kind_name(enum dir_kind kind);

/*
 * Does a privacy answer let `domain` see the user?  (all: yes; none:
 * no; domains: exact or "*." wildcard match, case-insensitive.)
 */
bool dir_privacy_allows(const struct dir_result *res, const char *domain);

#endif /* STC_DIR_H */
