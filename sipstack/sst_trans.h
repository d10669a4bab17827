/*
 * sst_trans.h -- non-INVITE SIP transactions (RFC 3261 section 17.1.2
 * and 17.2.2).
 *
 * Owns: client and server transaction state machines, their timers
 * (E, F, K on the client; J on the server) on one sst_tmrq, the branch
 * hash tables that match responses and retransmitted requests, and the
 * counters.
 * Not here: sockets (the owner passes a send callback and says whether
 * the transport is reliable), decoding and validating messages (the
 * owner feeds libre's decoded struct sip_msg), building messages (the
 * owner hands over encoded bytes).
 *
 * Methods: presence and instant messaging use SUBSCRIBE, NOTIFY,
 * PUBLISH, MESSAGE, OPTIONS and REGISTER, all non-INVITE.  INVITE, ACK
 * and CANCEL are refused here with ENOTSUP; the front door
 * (sst_front.h) answers an incoming INVITE 501 and a CANCEL 481 and
 * drops an ACK before they reach this layer, and the daemons never
 * send one.
 *
 * Every client request gets exactly one final answer: the peer's final
 * response, or a locally made 408 when Timer F (64*T1) fires, or 503 on
 * a transport error.  The local ones reach the owner's handler with
 * msg NULL and err set (ETIMEDOUT, or the transport's error).
 *
 * Server matching: a branch beginning with the RFC 3261 magic cookie
 * "z9hG4bK" is matched on branch, top Via sent-by and method (17.2.3).
 * Other branches come from RFC 2543 peers; they are matched on the
 * older rule's fields: Request-URI, From tag, To tag, Call-ID, CSeq
 * number and method, and the whole top Via value.  Responses are
 * matched to client transactions on top Via branch and CSeq method
 * (17.1.3); our own branches always carry the cookie.
 *
 * Memory: transactions are libre mem objects owned by the stack.  The
 * pointers handed to the owner are borrowed: a client transaction's is
 * valid until its final answer was delivered or sst_ctrans_abandon(); a
 * server transaction's until sst_strans_reply() with a final status or
 * sst_strans_abandon().  The send argument (sendarg) must be a libre mem
 * object or NULL: the transaction holds a reference on it for as long
 * as it may send.  A client transaction keeps the request bytes only
 * over unreliable transports and only until a final response; a server
 * transaction keeps its last response only over unreliable transports.
 */
#ifndef STC_SST_TRANS_H
#define STC_SST_TRANS_H

#include <stdint.h>
#include <stdbool.h>

struct mbuf;
struct sip_msg;
struct sst_tmrq;

/* RFC 3261 defaults, in milliseconds. */
enum {
	SST_TRANS_T1 = 500,
	SST_TRANS_T2 = 4000,
	SST_TRANS_T4 = 5000,
	SST_TRANS_HASHSIZE = 65536,	/* buckets per table: 32 s of UDP
					 * server transactions at 10,000/s
					 * is ~5 per bucket; 1 MiB each */
	SST_TRANS_KEY_MAX = 1024,	/* bytes of matching key kept */
};

struct sst_trans_conf {
	uint32_t t1;		/* RTT estimate; 0 = SST_TRANS_T1 */
	uint32_t t2;		/* retransmit cap; 0 = SST_TRANS_T2 */
	uint32_t t4;		/* network lifetime; 0 = SST_TRANS_T4 */
	uint32_t hashsize;	/* 0 = SST_TRANS_HASHSIZE */
};

struct sst_trans_stats {
	uint64_t ct_created;	/* client transactions started */
	uint64_t st_created;	/* server transactions created */
	uint32_t ct_active;	/* client transactions alive now */
	uint32_t st_active;	/* server transactions alive now */
	uint64_t timeouts;	/* Timer F expiries (local 408) */
	uint64_t tperrors;	/* transport errors (local 503) */
	uint64_t retrans;	/* requests re-sent by Timer E */
	uint64_t resp_resent;	/* responses re-sent for a retransmission */
	uint64_t req_absorbed;	/* retransmitted requests absorbed */
	uint64_t resp_absorbed;	/* retransmitted responses absorbed */
	uint64_t resp_unmatched;/* responses matching no transaction */
};

struct sst_tstack;
struct sst_ctrans;
struct sst_strans;

/* Send mb (read from mb->pos) to the transaction's peer. */
typedef int (sst_trans_send_h)(struct mbuf *mb, void *sendarg);

/*
 * A response for a client transaction.  msg is the peer's response
 * (scode == msg->scode), or NULL for a local final answer: scode 408
 * with err ETIMEDOUT, or 503 with err the transport's error.  Called
 * for every provisional response and exactly once with scode >= 200.
 */
typedef void (sst_ctrans_resp_h)(int err, uint16_t scode,
				 const struct sip_msg *msg, void *arg);

/* tmrq NULL: the stack makes its own, driven by the libre loop. */
int  sst_tstack_alloc(struct sst_tstack **stp,
		      const struct sst_trans_conf *conf,
		      struct sst_tmrq *tmrq);
void sst_tstack_stats(const struct sst_tstack *st,
		      struct sst_trans_stats *stats);
struct sst_tmrq *sst_tstack_tmrq(const struct sst_tstack *st);

/*
 * Start a client transaction and send the request.
 *
 * mb: the encoded request (from mb->pos); over an unreliable transport
 * a reference is kept for retransmissions.  method and branch must be
 * the ones in mb (CSeq method, top Via branch); the branch must carry
 * the magic cookie.  A send failure is not returned: it reaches resph
 * as a 503 from the loop, like later transport errors.
 *
 * Returns EINVAL (bad arguments), ENOTSUP (INVITE, ACK, CANCEL),
 * EPROTO (branch without cookie), EMSGSIZE (key too long), EEXIST
 * (branch and method already in use), ENOMEM.
 */
int  sst_ctrans_start(struct sst_ctrans **ctp, struct sst_tstack *st,
		      const char *method, const char *branch,
		      struct mbuf *mb, bool reliable,
		      sst_trans_send_h *sendh, void *sendarg,
		      sst_ctrans_resp_h *resph, void *arg);
/* The transport carrying ct failed (e.g. its connection closed):
 * ct ends with 503.  No-op once the final answer was given. */
void sst_ctrans_tperror(struct sst_ctrans *ct, int err);
/* The owner no longer wants the answer: ct ends now, silently. */
void sst_ctrans_abandon(struct sst_ctrans *ct);

/*
 * Feed a received response.  Returns 0 when it belonged to a client
 * transaction (delivered or absorbed as a retransmission), ENOENT when
 * none matched (a proxy may forward it statelessly), EINVAL when msg
 * is not a response.
 */
int  sst_tstack_recv_resp(struct sst_tstack *st, const struct sip_msg *msg);

/*
 * Feed a received request.
 *
 * 0: a new server transaction *stp; the owner processes the request and
 * answers with sst_strans_reply().
 * EALREADY: a retransmission of a live transaction; it was absorbed
 * (the last response, if any, was sent again).  Do not process it.
 * ENOTSUP: INVITE, ACK or CANCEL; answer elsewhere.
 * EMSGSIZE: matching key too long; EINVAL, ENOMEM.
 */
int  sst_tstack_recv_req(struct sst_tstack *st, struct sst_strans **stp,
			 const struct sip_msg *msg, bool reliable,
			 sst_trans_send_h *sendh, void *sendarg);

/*
 * Send a response (encoded in mb) for a server transaction.  scode is
 * its status: 1xx keeps the transaction open, >= 200 completes it (the
 * pointer is then no longer the owner's).  Returns the send error, if
 * any; EPROTO after a final response was already sent.
 */
int  sst_strans_reply(struct sst_strans *stx, uint16_t scode,
		      struct mbuf *mb);
/* Forget a server transaction the owner will not answer. */
void sst_strans_abandon(struct sst_strans *stx);

#endif
