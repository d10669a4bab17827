/*
 * gw_msg.h -- the MESSAGE service (gw_msg.c).
 *
 * Owns: a local user's MESSAGE to a local user, forked to at most
 *	GW_FORK_MAX contacts (480 offline, 404 unknown), to another
 *	gateway of a shared store, or to the outbound seam; the delivery
 *	of a MESSAGE a connector brought (gw_msg_deliver).
 */
#ifndef STC_GW_MSG_H
#define STC_GW_MSG_H

struct gw;
struct gw_req;

void gw_message(struct gw_req *rq);

/* Fork rq's MESSAGE to the contacts of the local AOR target, with
 * from the whole From value the recipients see. */
void gw_msg_deliver(struct gw_req *rq, const char *target,
		    const char *sender);

void gw_msg_close(struct gw *gw);

#endif /* STC_GW_MSG_H */
