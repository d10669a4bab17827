/*
 * gw_route.c -- what happens to a request for a target outside this
 * community (the decision "local or external" itself is
 * gw_domain_is_local, gateway/gw_base.h).
 *
 * gw_outbound() is the seam to the federation side: the request
 * (MESSAGE, SUBSCRIBE) from an authenticated local user to an external
 * target.  SupportExternalCommunities=false refuses with 403 "External
 * communities not supported"; otherwise the federation side takes it
 * (gw_fed_outbound() in gw_fed.c, registered as gw->obs.ext_outbound;
 * 503 "No connector available" when no link is up).
 */
#include <string.h>

#include <re.h>

#include "gateway/gw.h"
#include "gateway/gw_req.h"
#include "gateway/gw_route.h"

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
	if (gw->obs.ext_outbound)
		gw->obs.ext_outbound(rq);
	else
		gw_req_answer(rq, 503, "No connector available", NULL);
}
