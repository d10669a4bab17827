/*
 * cfg_int.h -- private to conf/: diagnostics collection, the schema
 * compiled into the program, syntax checks shared by the loader and the
 * cross-record checks.
 */
#ifndef STC_CFG_INT_H
#define STC_CFG_INT_H

#include "conf/cfg.h"

/* The text of community.rng, generated at build time (cfg_schema.c). */
extern const char cfg_schema_rng[];

/* Messages kept per load; errors past it are still counted. */
enum { CFG_DIAG_MAX = 100 };

/* Append "FILE:LINE: message" (LINE 0: "FILE: message"). */
void cfg_diag_add(struct cfg_diag *diag, const char *file, unsigned line,
		  bool warning, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Syntax checks; NULL when fine, else a static reason. */
const char *cfg_domain_syntax(const char *s, bool wildcard_ok);
bool cfg_ip_valid(const char *s);
const char *cfg_hostport_syntax(const char *s);

/* Two domain patterns can name a common host. */
bool cfg_domain_overlap(const char *a, const char *b);

/* Every check across records and against the file system. */
void cfg_check_all(const struct cfg *cfg, const char *file,
		   struct cfg_diag *diag);

/*
 * The field table (cfg_table.c): what every element may hold and where
 * its values go.  Offsets are into the struct the element fills: the
 * record's own (struct cfg_gateway, ...), or the parent's for K_SAME
 * children (Directory's Ldap, Cache, ...).
 */
enum cfg_ftype {
	F_NONE = 0,
	F_TOKEN,	/* char *: 1-64 of [A-Za-z0-9._-] */
	F_TEXT,		/* char *: 1-1024 characters */
	F_PATH,		/* char *: text, made absolute */
	F_BOOL,		/* bool: true or false */
	F_PORT,		/* uint16_t: 1-65535 */
	F_COUNT,	/* unsigned: 0-4294967295 */
	F_ENUM,		/* int (an enum): index in enumv */
	F_ENUMS,	/* unsigned: 1 << index of each, space separated */
};

struct cfg_field {
	const char *name;
	enum cfg_ftype type;
	bool req;
	const char *const *enumv;  /* F_ENUM(S): allowed values, NULL-ended */
	size_t off;                /* member in the element's struct */
	long dflt;                 /* numbers, bools, enums */
	const char *sdflt;         /* strings: copied when absent */
};

enum cfg_kind {
	K_NONE = 0,
	K_STRV,		/* text appended to a struct cfg_strv at off */
	K_STR,		/* text of the first one, a char * at off */
	K_PATH,		/* the same, made absolute */
	K_SAME,		/* attributes and children fill the parent struct */
	K_REC,		/* a record: the struct at off, first one only */
	K_ARRAY,	/* records: an array at off, its count at noff */
};

struct cfg_el;

struct cfg_kid {
	const struct cfg_el *el;
	unsigned min;
	unsigned max;          /* 0: no limit */
	enum cfg_kind kind;
	size_t off;
	size_t noff;           /* K_ARRAY: the size_t count */
	size_t size;           /* K_ARRAY: one element */
};

/* Run on a record once read, for rules across its fields. */
typedef void (cfg_done_h)(void *rec, const char *file,
			  struct cfg_diag *diag);

#define CFG_NOLINE ((size_t)-1)

struct cfg_el {
	const char *name;
	const struct cfg_field *fields;
	enum cfg_ftype text;   /* F_NONE: element only */
	const struct cfg_kid *kids;
	size_t line_off;       /* unsigned line member, or CFG_NOLINE */
	cfg_done_h *doneh;
};

/* <CommunityConfig> filling struct cfg. */
extern const struct cfg_el cfg_el_root;

#endif
