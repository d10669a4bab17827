/*
 * gw_shared.h -- the other gateways of a shared store (gw_shared.c).
 *
 * Owns: the AORs registered at other gateways (gw->remote), their
 *	presence state, and MESSAGEs forwarded to the gateway a user's
 *	client is at.  It tells presence of changes through gw->obs.changed
 *	(gateway/gw_obs.h).
 */
#ifndef STC_GW_SHARED_H
#define STC_GW_SHARED_H

#include <stdbool.h>

#include "sipstack/sst_pidf.h"

struct gw;
struct gw_req;
struct sst_flow;

int  gw_shared_start(struct gw *gw);
void gw_shared_close(struct gw *gw);
enum sst_status gw_shared_status(const struct gw *gw, const char *aor,
				const char **notep);
const char *gw_shared_node(const struct gw *gw, const char *aor);
unsigned gw_shared_count(const struct gw *gw);

/* A request from another gateway of the shared store (its UDP
 * ClientListen address: a forwarded MESSAGE, whose sender it
 * authenticated); a MESSAGE for a user whose client is at another
 * gateway, sent there (true: rq is taken). */
bool gw_shared_peer(const struct gw *gw, const struct sst_flow *fl);
bool gw_shared_forward(struct gw_req *rq, const char *target,
		       const char *sender);

#endif /* STC_GW_SHARED_H */
