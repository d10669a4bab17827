/*
 * sst_flow.h -- the way back to the sender of a request.
 *
 * Owns: struct sst_flow, what a daemon keeps of where a message came
 *	from -- the connection it arrived on (streams), or for UDP the
 *	peer's source address and our address it arrived on -- and the
 *	two ways to use it: responses (sst_flow_respond) go where RFC 3261
 *	18.2.2 and RFC 3581 say, new requests toward the peer
 *	(sst_flow_send) to its source.  One rule for both daemons.
 * Not here: the received= and rport= values written into the
 *	response's Via (sst_build.h), the sockets (sst_transp.h), the
 *	receive path that makes flows (sst_front.h).
 * Memory: a flow from sst_flow_alloc() is a libre mem object holding a
 *	reference on its connection (the object, not the socket: a send on
 *	a closed one returns ENOTCONN); it can be a transaction's send
 *	argument.  The transport pointer is borrowed: the transport must
 *	outlive every send on the flow, as it does in both daemons (it is
 *	freed last, after transactions and registrations).
 */
#ifndef STC_SST_FLOW_H
#define STC_SST_FLOW_H

#include <stdint.h>

#include <re.h>

#include "sipstack/sst_transp.h"

enum { SST_FLOW_PORT = 5060 };  /* sent-by without a port */

struct sst_flow {
	struct sst_transp *transp; /* borrowed, see above */
	enum sst_tp tp;
	struct sa src;             /* the peer */
	struct sa dst;             /* our address it arrived on, or unset */
	struct sa reply;           /* UDP responses: sst_flow_udp_dest() */
	struct sst_conn *conn;     /* streams; referenced */
};

/*
 * The flow of a message received from rx on transport tp.  req: the
 * request whose top Via sets the UDP reply address (NULL: the source
 * address).  EINVAL without tp, rx or rx->src; ENOMEM.
 */
int sst_flow_alloc(struct sst_flow **flp, struct sst_transp *tp,
		   const struct sst_rx *rx, const struct sip_msg *req);

/* A UDP flow to peer from our address laddr (NULL or unset: any), for
 * a flow restored from storage.  EINVAL, ENOMEM. */
int sst_flow_alloc_udp(struct sst_flow **flp, struct sst_transp *tp,
		       const struct sa *peer, const struct sa *laddr);

/* A flow on the stack for one answer while rx is being handled: the
 * connection is borrowed, not referenced.  Never hand it on. */
void sst_flow_borrow(struct sst_flow *fl, struct sst_transp *tp,
		     const struct sst_rx *rx, const struct sip_msg *req);

/* sst_trans send callbacks, arg a struct sst_flow.  Responses: over
 * the connection, or for UDP to the reply address; requests toward the
 * peer: over the connection, or to its source address.  Both send from
 * the address the flow arrived on.  ENOTCONN for a stream flow whose
 * connection is gone. */
int sst_flow_respond(struct mbuf *mb, void *arg);
int sst_flow_send(struct mbuf *mb, void *arg);

/* A response to req outside the request's own flow state: for UDP the
 * address req's top Via asks for (from fl's source), else as
 * sst_flow_respond(). */
int sst_flow_respond_to(const struct sst_flow *fl, const struct sip_msg *req,
			struct mbuf *mb);

/*
 * The destination of a UDP response to req, which came from src.
 * With rport in the top Via (RFC 3581): src, address and port.
 * Without: src's address -- the sent-by host itself when it is that
 * address, else the received= address the response's Via carries --
 * at the sent-by port, SST_FLOW_PORT when it names none.  A sent-by
 * host name is never looked up: the received= address stands for it.
 * maddr (multicast) is not supported and is ignored.
 *
 * @return 0, or EINVAL
 */
int sst_flow_udp_dest(struct sa *dst, const struct sip_msg *req,
		      const struct sa *src);

/* The port of a Via sent-by ("host", "host:port", "[v6]:port"); 0
 * when it names none or an invalid one. */
uint16_t sst_flow_sentby_port(const char *p, size_t n);

#endif /* STC_SST_FLOW_H */
