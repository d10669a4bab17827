/*
 * gw_out.h -- what the gateway sends: new requests and replies.
 *
 * Owns: building a request the gateway originates (our Via sent-by,
 *	Contact and a fresh branch for the listener it leaves from) and
 *	starting its client transaction; building a reply and sending it
 *	in its server transaction or, outside one, back where the
 *	request's flow and top Via say (sst_flow).  Parameter structs
 *	instead of long argument lists.
 * Not here: which requests to send (the services), the listeners and
 *	which one a request leaves from (gw.c, gw_send_request() in gw.h),
 *	the links to connectors (gw_fed.c).
 * Memory: nothing is kept; the strings are the caller's and only read
 *	during the call.  A path's send argument must be a libre mem object
 *	(the transaction references it, sst_trans.h).
 */
#ifndef STC_GW_OUT_H
#define STC_GW_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "sipstack/sst_trans.h"
#include "sipstack/sst_transp.h"

struct mbuf;
struct sa;
struct sip_msg;
struct sst_flow;

/* A new request: every string whole ("<sip:a@b>;tag=x" for from). */
struct gw_out_req {
	const char *method;
	const char *ruri;
	const char *from;
	const char *to;
	const char *callid;
	uint32_t cseq;
	const char *hdrs;	/* extra header lines, each ending CRLF */
	const char *ctype;	/* with body: its Content-Type */
	const void *body;
	size_t blen;
};

/* Where a request leaves: the transport, our address (sent-by and
 * Contact), and how its bytes are sent. */
struct gw_out_path {
	enum sst_tp tp;
	const struct sa *laddr;
	sst_trans_send_h *sendh;
	void *sendarg;
};

/* A reply: status and phrase; optional To tag, header lines, body. */
struct gw_out_reply {
	uint16_t scode;
	const char *reason;
	const char *totag;
	const char *hdrs;
	const char *ctype;
	const struct mbuf *body;	/* whole buffer, with ctype */
};

/* The answer to a request the gateway sent (err != 0: none came). */
typedef void (gw_resp_h)(int err, uint16_t scode, const struct sip_msg *msg,
			 void *arg);

/* The path back to a flow's peer: its transport, the address it
 * reached us on, sst_flow_send(). */
void gw_out_flow_path(struct gw_out_path *p, struct sst_flow *fl);

/*
 * Build req for path and start its client transaction on ts; *ctp (may
 * be NULL) as sst_ctrans_start() says.  EINVAL, EMSGSIZE, or the
 * build's or the transaction's error.
 */
int gw_out_request(struct sst_tstack *ts, const struct gw_out_path *path,
		   const struct gw_out_req *req, gw_resp_h *resph, void *arg,
		   struct sst_ctrans **ctp);

/* Answer req: in stx when set, else back the way fl and req's top Via
 * say (fl NULL: EINVAL).  The send error, if any. */
int gw_out_reply(struct sst_strans *stx, const struct sip_msg *req,
		 const struct sst_flow *fl, const struct gw_out_reply *rp);

/* ";transport=tcp" / ";transport=tls" for a sip: URI naming one of our
 * listeners, "" for udp (RFC 3261 18.1.1: a URI without it means UDP,
 * so a Contact naming a stream listener must carry it). */
const char *gw_uri_tp_param(enum sst_tp tp);

#endif /* STC_GW_OUT_H */
