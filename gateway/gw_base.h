/*
 * gw_base.h -- the two questions every gateway service asks of the
 * context, answered by a leaf file that calls no service.
 *
 * Owns: the gateway's clock (gw_now, monotonic seconds) and its
 *	conversion to and from wall-clock seconds (the state store keeps
 *	wall time so that records survive a restart); the one decision
 *	"is this host one of the community's domains"
 *	(gw_domain_is_local, exact or "*." wildcard, case-insensitive,
 *	cfg_domain_is_local).
 * Not here: anything with state.  The functions keep the names they had
 *	in gw.c, gw_route.c and gw_store.c, so that callers did not change.
 */
#ifndef STC_GW_BASE_H
#define STC_GW_BASE_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

struct gw;

uint64_t gw_now(void);          /* seconds, monotonic */
bool gw_domain_is_local(const struct gw *gw, const struct pl *host);
int64_t gw_store_wall(uint64_t expires);       /* gw_now() clock -> wall */
uint64_t gw_store_mono(int64_t expires);       /* and back; 0: past */

#endif /* STC_GW_BASE_H */
