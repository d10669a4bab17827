/*
 * dir_int.h -- inside the directory module: the backend contract, the
 * plain structs that cross between the loop and the lookup thread, and
 * the pure helpers the unit tests call directly.
 *
 * Nothing declared here is a libre mem object: jobs, answers and
 * entries are malloc'd and freed with the functions below, so that they
 * can cross threads.
 */
#ifndef STC_DIR_INT_H
#define STC_DIR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory/dir.h"

enum {
	DIR_REASON_MAX     = 256,
	DIR_FILTER_MAX     = 4096,        /* bytes in a built filter */
	DIR_LDIF_FILE_MAX  = 16 << 20,    /* bytes in an LDIF file */
	DIR_LDIF_LINE_MAX  = 65536,       /* bytes in one logical line */
	DIR_LDIF_ENTRIES_MAX = 20000,  /* linear scans: a demo-sized file */
	DIR_LDIF_ATTRS_MAX = 4096,        /* attribute lines per entry */
	DIR_VALUES_MAX     = 1024,        /* values kept per attribute */
	DIR_VALUE_MAX      = 8192,        /* bytes kept per value */
	DIR_SECRET_FILE_MAX = 1024,
};

/* The attributes a lookup may need, by slot. */
enum dir_attr {
	DIR_A_ID = 0,
	DIR_A_EMAIL,
	DIR_A_PASSWORD,
	DIR_A_PRIVACY,
	DIR_A_MEMBER,
	DIR_A_N,
};

/* What the backend is asked to find. */
enum dir_query {
	DIR_Q_BY_ID = 0,   /* user entries whose ID attribute equals value */
	DIR_Q_BY_EMAIL,    /* user entries whose email equals value */
	DIR_Q_GROUP,       /* groupOfNames entries whose cn equals value */
	DIR_Q_DN,          /* the entry named value */
};

struct dir_vals {
	char **v;
	size_t n;
};

struct dir_ent {
	char *dn;
	struct dir_vals a[DIR_A_N];
};

/* Up to `limit` entries; more is set when the backend had others. */
struct dir_ents {
	struct dir_ent *v;
	size_t n;
	bool more;
};

/* Settings both backends share, resolved from cfg with defaults. */
struct dir_names {
	const char *attr[DIR_A_N];
	const char *base;
	int scope;                /* enum cfg_scope */
	const char *filter;       /* extra user filter, or NULL */
};

struct dir_be;
struct dir_be_ops {
	/* Runs on the lookup thread.  Fills out (caller frees it with
	 * dir_ents_free) or returns an errno-style code with why. */
	int  (*find)(struct dir_be *be, enum dir_query q, const char *value,
		     size_t limit, struct dir_ents *out, char *why,
		     size_t whysz);
	/* "ldap://host:port" in use, or the file name. */
	void (*where)(struct dir_be *be, char *buf, size_t sz);
	void (*destroy)(struct dir_be *be);
};

struct dir_be {
	const struct dir_be_ops *ops;
	const struct dir_names *names;
};

/* A lookup on its way to the thread. */
struct dir_job {
	struct dir_job *next;
	uint64_t seq;
	enum dir_kind kind;
	struct dir_ans *ans;      /* allocated up front, filled by thread */
	char key[DIR_KEY_MAX + 1];
};

/* The thread's answer, also what the cache keeps. */
struct dir_ans {
	struct dir_ans *next;
	uint64_t seq;
	enum dir_kind kind;
	int err;
	bool warn;                /* reason is worth logging */
	char reason[DIR_REASON_MAX];
	char *value;
	enum dir_secret secret;
	enum cfg_privacy privacy;
	char **list;
	size_t nlist;
	uint64_t usec;            /* time the backend took */
	bool up;                  /* the backend was reachable */
	char where[256];
};

/* dir_job.c: fill a job's answer (allocated by the loop) with the
 * backend.  Never fails: problems become the answer's err/reason. */
void dir_job_run(struct dir_be *be, const struct dir_job *job,
		 struct dir_ans *a, enum cfg_privacy privacy_default);
void dir_ans_free(struct dir_ans *a);
void dir_ents_free(struct dir_ents *e);
int  dir_vals_add(struct dir_vals *vs, const char *p, size_t len);

/* Privacy and secret readings, pure. */
int dir_privacy_parse(const char *val, enum cfg_privacy *privp,
		      char ***listp, size_t *nlistp);
int dir_secret_parse(const char *val, enum dir_secret *kindp,
		     const char **startp);
bool dir_domain_match(const char *pattern, const char *domain);

/* dir_filter.c: RFC 4515 value escaping and the filters we send. */
int dir_filter_escape(char *buf, size_t sz, const char *p, size_t len);
int dir_filter_build(char *buf, size_t sz, const char *attr,
		     const char *value, const char *extra);

/* dir_ldif.c / dir_ldap.c: backends. */
int dir_ldif_open(struct dir_be **bep, const char *path,
		  const struct dir_names *names, char *why, size_t whysz);
int dir_ldap_open(struct dir_be **bep, const struct cfg_directory *cfg,
		  const char *password, const char *ca_file,
		  const struct dir_names *names, char *why, size_t whysz);

/*
 * dir_cache.c: the bounded answer cache, loop thread only.  Keys are
 * (kind, key) with the key compared case-insensitively; the least
 * recently used entry goes when full; expired entries are never
 * returned.  The cache owns the answers it keeps.
 */
struct dir_cache;
int  dir_cache_alloc(struct dir_cache **cp, size_t size);
const struct dir_ans *dir_cache_get(struct dir_cache *c, enum dir_kind kind,
				    const char *key, uint64_t now_ms);
/* Takes ownership of a (frees it when not kept). */
void dir_cache_put(struct dir_cache *c, enum dir_kind kind, const char *key,
		   struct dir_ans *a, uint64_t expires_ms);
void dir_cache_flush(struct dir_cache *c);
size_t dir_cache_count(const struct dir_cache *c);

#endif /* STC_DIR_INT_H */
