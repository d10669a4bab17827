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

#endif
