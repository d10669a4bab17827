/*
 * gw_sip.h -- the gateway's receive side (gw_sip.c): the front door's
 * handlers and the dispatch of requests by method to the services.
 *
 * Owns: the sst_front handlers; counting and logging of malformed
 *	input.  Only gw.c uses it; replies and new requests are
 *	gateway/gw_lsnr.h's.
 */
#ifndef STC_GW_SIP_H
#define STC_GW_SIP_H

#include <re.h>

#include "sipstack/sst_transp.h"

struct gw;

void gw_sip_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg);

/* Fill gw->front once gw->tp and gw->tstk exist. */
void gw_sip_front(struct gw *gw);

#endif /* STC_GW_SIP_H */
