/*
 * sst_build.h -- build SIP requests, responses and forwarded copies.
 *
 * Owns: the wire form of what the stack sends: a response to a received
 *	request, a new request, the stateful proxy's forwarded request
 *	(new top Via, Max-Forwards - 1, Record-Route, loose-routing Route
 *	pop, RFC 3261 16.6) and forwarded response (our Via removed),
 *	branch and tag generation.
 * Not here: sending, transactions, timers, choosing targets.
 * Memory: every builder allocates a fresh struct mbuf (pos 0, end at
 *	the last byte) and gives it to the caller on success only.  The
 *	received message is only read; a forwarded body is the bytes of
 *	msg->mb from pos to end, as sst_msg_decode() left them.
 *
 * Strings the caller passes (URIs, header values, extra header lines)
 * are written as they are: they must come from configuration or from
 * validated messages, never from unchecked peer input.
 */
#ifndef STC_SST_BUILD_H
#define STC_SST_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mbuf;
struct sa;
struct sip_msg;
struct uri;

enum {
	SST_BRANCH_SIZE    = 32, /* "z9hG4bK" + 24 random + NUL */
	SST_TAG_SIZE       = 17, /* 16 random + NUL */
	SST_MAXFWD_DEFAULT = 70,
};

/* Our Via: transport (enum sip_transp), sent-by "host[:port]", branch. */
struct sst_via_spec {
	int tp;
	const char *sentby;
	const char *branch;
};

/* Optional additions to any message. */
struct sst_extra {
	const char *hdrs;   /* whole header lines, each ending in CRLF */
	const char *ctype;  /* Content-Type of body; NULL: no body */
	const void *body;
	size_t blen;
};

/*
 * "z9hG4bK" followed by random letters and digits (RFC 3261 8.1.1.7),
 * into buf of at least SST_BRANCH_SIZE bytes; a smaller buf gets "".
 */
void sst_branch_gen(char *buf, size_t size);
/* A random To/From tag into buf of at least SST_TAG_SIZE bytes. */
void sst_tag_gen(char *buf, size_t size);

/*
 * Response to req: status line, every Via in order, Record-Route for
 * 101..299, From, To (plus ";tag=totag" when the request had no To tag
 * and status > 100; totag NULL: a random one), Call-ID, CSeq, extra
 * headers, Content-Length and body.  src, when set, is where req came
 * from: the top Via gets received= when its host differs and a value
 * for an empty rport (RFC 3261 18.2.1, RFC 3581).
 * EINVAL bad arguments or req not a request, ENOMEM.
 */
int sst_build_response(struct mbuf **mbp, const struct sip_msg *req,
		       uint16_t scode, const char *reason, const char *totag,
		       const struct sa *src, const struct sst_extra *x);

/* A new request. */
struct sst_req_spec {
	const char *method;
	const char *ruri;
	const char *from;       /* whole value, e.g. "<sip:a@b>;tag=x" */
	const char *to;
	const char *callid;
	uint32_t cseq;
	struct sst_via_spec via;
	uint32_t maxfwd;        /* 0: SST_MAXFWD_DEFAULT */
	const char *contact;    /* whole value or NULL */
	struct sst_extra x;
};

/* EINVAL when a mandatory member is missing, ENOMEM. */
int sst_build_request(struct mbuf **mbp, const struct sst_req_spec *r);

enum { SST_FWD_SELF_MAX = 4 };

/* Does this Route URI name us? */
typedef bool (sst_self_h)(const struct uri *uri, void *arg);

/* How a request is forwarded. */
struct sst_fwd_spec {
	struct sst_via_spec via;   /* our new top Via */
	const char *ruri;          /* new Request-URI; NULL keeps it */
	const char *rr;            /* Record-Route value ("<sip:..;lr>") */
	sst_self_h *selfh;         /* leading Routes naming us are removed */
	void *arg;
	const struct sa *src;      /* received/rport as in responses */
	bool hide_vias;            /* the request's Vias and Record-Routes
				    * not copied */
	const char *contact;       /* Contact value replacing every
				    * Contact header; NULL keeps them */
};

/*
 * Forwarded copy of req (RFC 3261 16.6): new top Via, the request's
 * Vias after it, Record-Route first when rr is set, the leading Route
 * values selfh says are ours dropped (loose routing, 16.4; up to
 * SST_FWD_SELF_MAX, two after double record-routing, RFC 5658),
 * Max-Forwards decremented (inserted as 70 when absent), every other
 * header as received, Content-Length recomputed, same body.
 * ELOOP Max-Forwards is 0 (answer 483), EBADMSG it is not a number,
 * EINVAL bad arguments, ENOMEM.  With hide_vias only our Via is written
 * (topology hiding: the caller restores the others on the response,
 * sst_build_fwd_response_th); with contact the Contact is replaced.
 */
int sst_build_forward(struct mbuf **mbp, const struct sip_msg *req,
		      const struct sst_fwd_spec *f);

/*
 * Forwarded copy of resp with its top Via (ours) removed, everything
 * else as received.  ENOENT when no Via would be left (the response
 * was for us), EINVAL, ENOMEM.
 */
int sst_build_fwd_response(struct mbuf **mbp, const struct sip_msg *resp);

/* How a response is relayed with topology hiding. */
struct sst_fwdr_spec {
	const struct sip_msg *req; /* Vias and Record-Routes restored */
	const struct sa *src;      /* received/rport of req's top Via */
	const char *contact;       /* replaces every Contact, or NULL */
	sst_self_h *selfh;         /* which Record-Route values are ours */
	void *arg;
	const char *rr_in;         /* written after our first Record-Route
				    * value (then req's values), or NULL */
	bool rr_out;               /* values before our last leading one
				    * dropped */
};

/*
 * Forwarded copy of resp for topology hiding.  With req, the Vias are
 * req's (the request as it reached us, the top one with received/rport
 * for src) in place of resp's, and the Record-Route values are resp's
 * up to our first one, then rr_in, then req's.  With rr_out, the
 * values before the last of our leading ones are dropped (what lies
 * behind us).  With contact, it replaces every Contact header.
 * Everything else as received.  EINVAL, ENOMEM.
 */
int sst_build_fwd_response_th(struct mbuf **mbp, const struct sip_msg *resp,
			      const struct sst_fwdr_spec *s);

#endif /* STC_SST_BUILD_H */
