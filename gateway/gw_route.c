/*
 * gw_route.c -- is a target inside this community, and what happens to
 * a request for one that is not.
 *
 * gw_domain_is_local() is the one decision "local or external": a host
 * is local when it is one of the Community record's domains (exact or
 * "*." wildcard, case-insensitive, cfg_domain_is_local).
 *
 * gw_outbound() is the seam where the federation side plugs in: the
 * request (MESSAGE, SUBSCRIBE, ...) from an authenticated local user to
 * an external target.  Until links to connectors exist, it refuses with
 * the reason an administrator and a user can act on, and never pretends
 * a delivery:
 *	SupportExternalCommunities=false  403 External communities not
 *	                                  supported
 *	otherwise                         503 No connector available
 */
#include <string.h>

#include <re.h>

#include "gateway/gw.h"

bool gw_domain_is_local(const struct gw *gw, const struct pl *host)
{
	char buf[CFG_DOMAIN_MAX + 1];

	if (!gw || !host || !host->l || host->l > CFG_DOMAIN_MAX)
		return false;
	if (pl_strcpy(host, buf, sizeof(buf)))
		return false;
	return cfg_domain_is_local(gw->cfg, buf);
}

void gw_outbound(struct gw *gw, const struct sip_msg *msg,
		 uint16_t *scodep, const char **reasonp)
{
	(void)msg;

	gw->c.ext_refused++;
	if (!gw->self->support_external) {
		*scodep = 403;
		*reasonp = "External communities not supported";
		return;
	}
	*scodep = 503;
	*reasonp = "No connector available";
}
