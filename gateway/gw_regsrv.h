/*
 * gw_regsrv.h -- the REGISTER service (gw_regsrv.c).
 *
 * Owns: the Expires policy (423, the cut to GW_EXPIRES_MAX), the
 *	REGISTER answer listing the bindings, the store hook and the
 *	presence change after each REGISTER.  The bindings and the
 *	registered AORs are the registration table's (gw->reg,
 *	gateway/gw_reg.h), the one index of them.
 */
#ifndef STC_GW_REGSRV_H
#define STC_GW_REGSRV_H

struct gw_req;

void gw_register(struct gw_req *rq);

#endif /* STC_GW_REGSRV_H */
