/*
 * gw_allow.h -- ExternCommunity AllowGroup (gw_allow.c).
 *
 * Owns: the per-community group check of a local user that federates,
 *	its refusal counters and the users it refused, for status.
 */
#ifndef STC_GW_ALLOW_H
#define STC_GW_ALLOW_H

#include <stdbool.h>

#include "gateway/gw_req.h"

struct gw;
struct dmn_st;

/* Call next(rq) when the local user (rq->user outbound, rq->target
 * inbound) may federate with the community of the request's other
 * side, else answer rq. */
void gw_allow_check(struct gw_req *rq, bool inbound, gw_req_h *next);

void gw_allow_close(struct gw *gw);
void gw_allow_status(struct dmn_st *fed, struct dmn_st *cannot,
		     const struct gw *gw);

#endif /* STC_GW_ALLOW_H */
