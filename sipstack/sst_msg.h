/*
 * sst_msg.h -- decode and validate one whole SIP message.
 *
 * Owns: the checks libre's sip_msg_decode() leaves out, enforcing the
 *	size limits of sst_limits.h on a whole message, and the refusal
 *	reasons (with the status a server
 *	answers and a stable name for counters).
 * Not here: cutting a stream into messages (sst_frame.h), building the
 *	answer (sst_build.h), logging (callers count and log, rate-limited).
 * Memory: a decoded message is libre's struct sip_msg; it holds a
 *	reference to the mbuf its fields point into.  The caller owns the
 *	message on success, and the one in a verdict until
 *	sst_verdict_reset().
 *
 * What sst_msg_decode() refuses, beyond libre:
 *	- empty input or CR/LF only (keep-alive): ENODATA, nothing to answer;
 *	- more than the limits (sst_limits.h: size, header section, line
 *	  length, header count), a NUL byte or a bare CR in the start line or the
 *	  headers, header lines without a name or a colon, continuation
 *	  lines with nothing to continue, no blank line after the headers;
 *	- a version other than "SIP/2.0" in requests (505) and responses,
 *	  a status code outside 100..699, a method that is not a token;
 *	- a header NAME that libre maps to one of its known ids but that is
 *	  neither that header's canonical nor its compact name (libre's
 *	  12-bit name hash: "P-Ext-795" would otherwise act as Call-ID).
 *	  Such messages are refused, not repaired: libre has already used
 *	  the value, and no real header name collides;
 *	- missing Via, From, To, Call-ID, CSeq (and Max-Forwards in
 *	  requests); more than one From, To, Call-ID, CSeq, Max-Forwards,
 *	  Content-Length, Content-Type or Expires;
 *	- an empty or spaced Call-ID, a CSeq number >= 2^31, a CSeq method
 *	  other than the request method, a Max-Forwards that is not digits;
 *	- Content-Length: digits only; above the body limit is 413.  On a
 *	  stream it is required and must equal the bytes after the headers.
 *	  In a datagram it may be absent (the body is the rest), must not
 *	  exceed what arrived, and extra bytes are dropped (RFC 3261 18.3)
 *	  by lowering mb->end.
 *
 * libre's ENOENT (a Via, From, To, CSeq or Content-Type value it could
 * not parse, or a top Via without branch) is mapped to the header at
 * fault by parsing the values again; EBADMSG to the start line,
 * Request-URI or header line at fault.
 */
#ifndef STC_SST_MSG_H
#define STC_SST_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipstack/sst_limits.h"

struct mbuf;
struct pl;
struct sip_msg;

/* The size limits are sst_limits.h's, shared with the framer and the
 * UDP receive. */
enum {
	SST_CSEQ_MAX      = 2147483647, /* RFC 3261 8.1.1.5: < 2^31 */
};

/* Why a message was refused.  Order is stable; append only. */
enum sst_reason {
	SST_R_OK = 0,
	SST_R_EMPTY,            /* no bytes at all */
	SST_R_KEEPALIVE,        /* CR/LF only */
	SST_R_NOMEM,
	SST_R_TOO_BIG,          /* 513 */
	SST_R_HDR_TOO_BIG,      /* header section over hdr_max */
	SST_R_LINE_TOO_LONG,
	SST_R_TOO_MANY_HDRS,
	SST_R_BODY_TOO_BIG,     /* 413 */
	SST_R_NUL_BYTE,
	SST_R_BARE_CR,
	SST_R_TRUNCATED,        /* no blank line after the headers */
	SST_R_BAD_START_LINE,
	SST_R_BAD_METHOD,
	SST_R_BAD_RURI,
	SST_R_BAD_VERSION,      /* 505 */
	SST_R_BAD_STATUS,
	SST_R_BAD_HDR_LINE,     /* no colon, empty or odd name, stray fold */
	SST_R_HDR_NAME_COLLISION,
	SST_R_BAD_VIA,
	SST_R_BAD_FROM,
	SST_R_BAD_TO,
	SST_R_BAD_CALLID,
	SST_R_BAD_CSEQ,
	SST_R_BAD_MAXFWD,
	SST_R_BAD_CLEN,
	SST_R_BAD_CTYPE,
	SST_R_BAD_HDR,          /* another value libre refused */
	SST_R_MISSING_VIA,
	SST_R_MISSING_FROM,
	SST_R_MISSING_TO,
	SST_R_MISSING_CALLID,
	SST_R_MISSING_CSEQ,
	SST_R_MISSING_MAXFWD,
	SST_R_MISSING_CLEN,     /* stream transports only */
	SST_R_DUP_FROM,
	SST_R_DUP_TO,
	SST_R_DUP_CALLID,
	SST_R_DUP_CSEQ,
	SST_R_DUP_MAXFWD,
	SST_R_DUP_CLEN,
	SST_R_DUP_CTYPE,
	SST_R_DUP_EXPIRES,
	SST_R_CSEQ_METHOD,
	SST_R_CLEN_MISMATCH,

	SST_R_COUNT
};

/*
 * The outcome of sst_msg_decode().  status and phrase say what to
 * answer (0 and NULL for SST_R_OK and keep-alives); reply says whether
 * an answer is possible at all: only to a request other than ACK whose
 * Via, From, To, Call-ID and CSeq were parsed and appear once.  When
 * reply is true, msg holds a reference to the decoded request for
 * sst_build_response(); sst_verdict_reset() drops it.
 */
struct sst_verdict {
	enum sst_reason reason;
	uint16_t status;
	const char *phrase;
	bool reply;
	struct sip_msg *msg;
};

/*
 * Decode and validate one whole message at mb->pos..mb->end (leading
 * CR/LF skipped).  stream: the message was cut from a TCP/TLS stream
 * (Content-Length required and exact); otherwise it is a datagram.
 * lim may be NULL for the defaults; a zero member means its default.
 *
 * Returns 0 and *msgp (mb->pos at the body, mb->end at its end), or:
 * ENODATA empty or keep-alive, EMSGSIZE over a size limit (413/513),
 * EBADMSG malformed, EINVAL bad arguments, ENOMEM.  v is always filled.
 */
int sst_msg_decode(struct sip_msg **msgp, struct mbuf *mb, bool stream,
		   const struct sst_limits *lim, struct sst_verdict *v);

/*
 * The header block of a stream message refused for its size before its
 * body arrived (struct sst_rx.oversize).  Always an error: EMSGSIZE
 * with reason SST_R_TOO_BIG (513), and v->reply / v->msg when the
 * request can be answered; or the error of the header block itself
 * (a 400 reason) when it is malformed.
 */
int sst_msg_decode_head(struct mbuf *mb, const struct sst_limits *lim,
			struct sst_verdict *v);

/* Drop the message a verdict may hold and clear it. */
void sst_verdict_reset(struct sst_verdict *v);

/* Stable short name for counters ("missing-callid"); "?" if unknown. */
const char *sst_reason_name(enum sst_reason r);
/* Status to answer (400, 413, 505, 513) or 0 for none. */
uint16_t sst_reason_status(enum sst_reason r);
/* Reason phrase for the status line ("Missing Call-ID header"). */
const char *sst_reason_phrase(enum sst_reason r);

/*
 * A decimal number of digits only (no sign, no space), at most max.
 * EBADMSG not digits or empty, EMSGSIZE above max.
 */
int sst_msg_uint(uint32_t *vp, const struct pl *val, uint32_t max);

/*
 * True when libre gives name a known header id but name is neither
 * that header's canonical nor its compact form.
 */
bool sst_msg_name_collides(const struct pl *name);

#endif /* STC_SST_MSG_H */
