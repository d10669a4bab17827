/*
 * gw_lsnr.h -- the listeners as the services see them: which one a
 * flow belongs to, our Contact there, and sending from it.
 *
 * Owns: the choice of listener for a transport and local address
 *	(gw_lsnr_for: the exact address, else one on the same IP, else
 *	any client listener of that transport); our Contact URI for a
 *	flow; new requests sent from the listener a path names
 *	(gw_send_request, built by gw_out.c); a flow's text form for
 *	the state store and the flow rebuilt from it
 *	(gw_store_flow_text, gw_store_flow).
 * Not here: replies, which go back on the request's flow whatever the
 *	listener (gw_out_reply, gateway/gw_out.h); binding the listeners
 *	(gw.c at start) or receiving (gw_sip.c).  A leaf: it calls no
 *	gateway service, so every service can use it.
 */
#ifndef STC_GW_LSNR_H
#define STC_GW_LSNR_H

#include <stddef.h>

#include <re.h>

#include "sipstack/sst_transp.h"
#include "sipstack/sst_flow.h"
#include "gateway/gw_out.h"

struct gw;
struct gw_lsnr;
struct sst_strans;
struct sst_ctrans;

const struct gw_lsnr *gw_lsnr_for(const struct gw *gw, enum sst_tp tp,
				  const struct sa *laddr);
int  gw_contact_uri(const struct gw *gw, char *buf, size_t sz,
		    const struct sst_flow *fl);
/* Send req (gw_out.h) along path, from the listener path->laddr names
 * (ENOENT when none). */
int  gw_send_request(struct gw *gw, const struct gw_out_path *path,
		     const struct gw_out_req *req, gw_resp_h *resph,
		     void *arg, struct sst_ctrans **ctp);
void gw_store_flow_text(const struct sst_flow *fl, char *tp, size_t tpsz,
			char *src, char *dst, size_t addrsz);
/* A flow back to a restored client: ENOTCONN for a stream transport
 * (its connection is gone), EADDRNOTAVAIL when no listener of ours
 * can send from there any more. */
int  gw_store_flow(struct sst_flow **flp, struct gw *gw, const char *tp,
		   const char *src, const char *dst);

#endif /* STC_GW_LSNR_H */
