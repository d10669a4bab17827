/*
 * sto_cases.h -- the checks every state-store driver must pass, written
 * once: test_sto.c runs them on an SQLite file, test_sto_pg.c on a
 * PostgreSQL server.  A driver's test supplies a fixture (how to open a
 * store on an empty backing, how to count rows) and adds the checks
 * only its driver has.
 */
#ifndef STC_TEST_STO_CASES_H
#define STC_TEST_STO_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "store/sto.h"

struct sto_fix {
	/* A store on the fixture's backing; NULL (with a failed assert)
	 * when it cannot be opened. */
	struct sto *(*open)(void);
	/* An empty backing for the case NAME; sets sto_case_now. */
	void (*fresh)(const char *name);
	/* Rows of TABLE ("binding", "publication", "subscription"), -1
	 * when they cannot be counted. */
	int (*rows)(const char *table);
	/* The driver's own checks on a store just opened on an empty
	 * backing, and after its first changes were written; may be
	 * NULL. */
	void (*opened)(struct sto *st);
	void (*written)(void);
	/* The kind sto_kind_name() says. */
	const char *kind;
};

/* What a load found, copied. */
struct found {
	unsigned nb, np, ns;
	char b_aor[8][64], b_uri[8][128], b_inst[8][64], b_src[8][64];
	char b_tp[8][8], b_callid[8][64];
	uint32_t b_regid[8], b_cseq[8];
	int64_t b_exp[8];
	char p_etag[8][32], p_note[8][64];
	int p_status[8];
	uint64_t p_seq[8];
	char s_callid[8][64], s_route[8][128], s_dst[8][64];
	uint32_t s_lcseq[8];
	int s_last[8];
	bool s_ext[8], s_notified[8], s_entity_null[8];
};

extern int64_t sto_case_now;
extern const struct sto_load_h sto_case_loadh;   /* into a struct found */
extern const struct sto_load_h sto_case_counth;  /* bindings, into an
						   * unsigned */

/* snprintf of S, "(null)" for NULL */
void sto_case_cp(char *d, size_t sz, const char *s);

struct sto_binding sto_case_binding(const char *aor, const char *uri,
				    int64_t expires);
struct sto_sub sto_case_sub(const char *callid, int64_t expires);

/* The store's log handler: counts, keeps the last word, stops the
 * loop so that a test can wait for it with re_main(). */
extern bool sto_case_logged_healthy;
extern unsigned sto_case_logged;
extern char sto_case_logged_msg[STO_ERR_MAX];
void sto_case_log_h(bool healthy, const char *msg, void *arg);

/* Write, replace, delete and load back across reopenings. */
void sto_case_write_reload(const struct sto_fix *fx);
/* Many changes go in a few bounded transactions. */
void sto_case_batch(const struct sto_fix *fx);
/* What expired while closed is deleted at the next open, not loaded. */
void sto_case_expiry(const struct sto_fix *fx);

#endif
