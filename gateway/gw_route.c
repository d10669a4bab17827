/*
 * gw_route.c -- is a target inside this community, and what happens to
 * a request for one that is not.
 *
 * gw_domain_is_local() is the one decision "local or external": a host
 * is local when it is one of the Community record's domains (exact or
 * "*." wildcard, case-insensitive, cfg_domain_is_local).
 *
 * gw_outbound() is the seam to the federation side: the request
 * (MESSAGE, SUBSCRIBE) from an authenticated local user to an external
 * target.  SupportExternalCommunities=false refuses with 403 "External
 * communities not supported"; otherwise gw_fed_outbound() (gw_fed.c)
 * takes it (503 "No connector available" when no link is up).
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

void gw_outbound(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	if (!gw->self->support_external) {
		gw->c.ext_refused++;
		if (!pl_strcmp(&rq->msg->met, "SUBSCRIBE"))
			gw->c.sub_refused++;
		gw_req_answer(rq, 403, "External communities not supported",
			      NULL);
		return;
	}
	gw_fed_outbound(rq);
}
