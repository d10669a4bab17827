/*
 * cn_audit.h -- the Audit record's JSON lines (cn_audit.c).
 */
#ifndef STC_CN_AUDIT_H
#define STC_CN_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

struct cn;
struct px_req;
struct pl;
struct dmn_st;

/* (Re)open per cn->cfg->audit: at start and on every reload. */
void cn_audit_open(struct cn *cn);
/* r got its final answer scode (phrase: its reason phrase). */
void cn_audit_req(struct cn *cn, const struct px_req *r, uint16_t scode,
		  const struct pl *phrase);
void cn_audit_req_str(struct cn *cn, const struct px_req *r, uint16_t scode,
		      const char *phrase);
/* An external community's link went up or down. */
void cn_audit_link(struct cn *cn, const char *community, bool up,
		   const char *reason);

/* The audit section of status: settings, lines recorded, written,
 * dropped and failed, for the file and for syslog. */
void cn_audit_status(struct cn *cn, struct dmn_st *root);

#endif /* STC_CN_AUDIT_H */
