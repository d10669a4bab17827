/*
 * sst_front.h -- the front door: every message a transport delivers,
 * from its bytes to the daemon's request handler.
 *
 * Owns: one receive path for both daemons and the answers it gives by
 *	itself, the same everywhere:
 *	- decode and validate (sst_msg); a malformed request that can be
 *	  answered gets the verdict's status and phrase (400 with the
 *	  reason, 413, 505, 513), anything else is dropped; either way it
 *	  is reported, and a stream connection is told of the garbage
 *	  (sst_conn_garbage) unless it is closing anyway;
 *	- a response goes to its client transaction (sst_trans), one that
 *	  matches none is reported;
 *	- method names are compared case-sensitively (RFC 3261 7.1): ACK is
 *	  dropped, INVITE answered 501 with the daemon's Allow, CANCEL 481
 *	  (RFC 3261 9.2: no INVITE transaction is ever held, so none can
 *	  match), all statelessly, with no transaction; "invite" is an
 *	  extension method like any other;
 *	- any other request gets a server transaction, which absorbs its
 *	  retransmissions (reported); when none can be made, 500;
 *	- then (msg, server transaction, flow) go to the daemon.
 *	Every answer goes back the way sst_flow says (the connection, or
 *	Via sent-by / rport for UDP).
 * Not here: policy, counting and logging.  The front door reports
 *	(sst_front_report_h) and the daemon counts and logs, with the peer
 *	address the report carries.
 * Memory: struct sst_front is the daemon's, embedded, filled once its
 *	transport and transaction stack exist; nothing is allocated but
 *	the flow, which the request handler may keep with mem_ref().
 */
#ifndef STC_SST_FRONT_H
#define STC_SST_FRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "sipstack/sst_msg.h"
#include "sipstack/sst_transp.h"

struct mbuf;
struct sip_msg;
struct sst_flow;
struct sst_strans;
struct sst_tstack;

/* What the front door did by itself. */
enum sst_front_ev {
	SST_FRONT_MALFORMED,	/* refused by decoding: reason, status */
	SST_FRONT_RETRANS,	/* a retransmitted request, absorbed */
	SST_FRONT_NOT_SERVED,	/* ACK dropped, INVITE 501, CANCEL 481 */
	SST_FRONT_NO_TRANS,	/* no server transaction (err): 500 */
	SST_FRONT_RESP_UNMATCHED, /* a response to no client transaction */
};

struct sst_front_report {
	enum sst_front_ev ev;
	enum sst_reason reason;	  /* MALFORMED; SST_R_OK otherwise */
	uint16_t status;	  /* the answer sent; 0: none */
	int err;		  /* NO_TRANS: the transaction layer's */
	const struct sst_rx *rx;  /* the peer (rx->src), transport */
	const struct sip_msg *msg;/* the message as far as decoded, or NULL */
};

typedef void (sst_front_report_h)(const struct sst_front_report *rep,
				  void *arg);
/* Every decoded message, request or response, before the front door
 * acts on it (e.g. to note that a peer was heard). */
typedef void (sst_front_msg_h)(const struct sip_msg *msg,
			       const struct sst_rx *rx, void *arg);
/* A new request with its server transaction, which the daemon must
 * answer (sst_strans_reply) or abandon; fl is the way back, held by
 * the server transaction (take mem_ref() to keep it longer). */
typedef void (sst_front_req_h)(struct sip_msg *msg, struct sst_strans *stx,
			       struct sst_flow *fl, void *arg);

struct sst_front {
	struct sst_transp *tp;
	struct sst_tstack *ts;
	const struct sst_limits *lim;	/* NULL: defaults */
	const char *allow;	/* "Allow: ...\r\n" for 501, or NULL */
	sst_front_req_h *reqh;
	sst_front_msg_h *msgh;		/* optional */
	sst_front_report_h *reporth;	/* optional */
	void *arg;
};

/* Handle one message received from rx (an sst_recv_h body). */
void sst_front_recv(const struct sst_front *f, const struct sst_rx *rx,
		    struct mbuf *mb);

/* Stable short name of an event, for logs ("malformed"). */
const char *sst_front_ev_name(enum sst_front_ev ev);

#endif /* STC_SST_FRONT_H */
