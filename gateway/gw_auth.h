/*
 * gw_auth.h -- digest authentication of a local user's request, and
 * the directory check of its target (gw_auth.c).
 *
 * Owns: the challenge policy written in gateway/gw.h's top comment
 *	(401 for REGISTER, 407 for the rest), the stale and replay
 *	checks, "the digest username is the From user", and the 404 for
 *	a target the directory does not know.  The credentials
 *	themselves are decoded once by gw_req_cred (gateway/gw_req.h).
 */
#ifndef STC_GW_AUTH_H
#define STC_GW_AUTH_H

#include <stdbool.h>

#include "gateway/gw_req.h"

/* Authenticate rq's request, then call next (or answer the refusal). */
void gw_auth(struct gw_req *rq, bool proxy, gw_req_h *next);

/* Does rq->target exist in the directory?  Then call next, else 404. */
void gw_target_check(struct gw_req *rq, gw_req_h *next);

#endif /* STC_GW_AUTH_H */
