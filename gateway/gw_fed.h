/*
 * gw_fed.h -- federation requests and subscriptions (gw_fed.c): what
 * goes to and comes from connectors, and the subscriptions to external
 * presentities (one shared per presentity in a SIP community, one per
 * local watcher in an XMPP community).
 *
 * Owns: the ConnectorListen side (gw_fed_is_fed, gw_fed_recv), a local
 *	user's request handed over by the outbound seam
 *	(gw_fed_outbound), translation between local IDs and email
 *	addresses, and the federation subscriptions (gw_fed_watch,
 *	gw_fed_status).  Presence reaches the last three through
 *	gw->obs (gateway/gw_obs.h), not this header.
 * Not here: the links to connectors, gateway/gw_link.h (the same file
 *	implements both: the links and the subscriptions share its
 *	retry state).
 */
#ifndef STC_GW_FED_H
#define STC_GW_FED_H

#include <stdbool.h>

#include "sipstack/sst_pidf.h"

struct gw;
struct gw_req;
struct sip_msg;
struct sst_strans;
struct sst_flow;

bool gw_fed_is_fed(const struct gw *gw, const struct sst_flow *fl);
void gw_fed_recv(struct gw *gw, struct sip_msg *msg,
		 struct sst_strans *stx, struct sst_flow *fl);
void gw_fed_outbound(struct gw_req *rq);
/* watcher: the local watcher's AOR; fedaddr: its federation address
 * (user@domain, no scheme) or NULL when the caller has none. */
void gw_fed_watch(struct gw *gw, const char *aor, const char *watcher,
		  const char *fedaddr);
enum sst_status gw_fed_status(const struct gw *gw, const char *aor,
			     const char *watcher, const char **notep);

#endif /* STC_GW_FED_H */
