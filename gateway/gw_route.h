/*
 * gw_route.h -- the seam for a local user's request to a target outside
 * the community (gw_route.c).
 *
 * Owns: the SupportExternalCommunities refusal and the hand-over to the
 *	federation side, registered as gw->obs.ext_outbound
 *	(gateway/gw_obs.h).  The decision "local or external" itself is
 *	gw_domain_is_local (gateway/gw_base.h).
 */
#ifndef STC_GW_ROUTE_H
#define STC_GW_ROUTE_H

struct gw_req;

/* Answer or hand over rq (a local user's request to an external
 * target); rq is consumed. */
void gw_outbound(struct gw_req *rq);

#endif /* STC_GW_ROUTE_H */
