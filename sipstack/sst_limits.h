/*
 * sst_limits.h -- the size limits of one SIP message: the only
 * definition, used by the stream framer (sst_frame.h), the decoder
 * (sst_msg.h) and the UDP receive (sst_transp.h).
 *
 * Owns: the default limits and the struct that overrides them.
 * Not here: what is answered when a limit is passed (sst_msg.h has the
 *	reasons and statuses), connection and descriptor limits
 *	(sst_transp.h).
 * Memory: plain values, copied by whoever keeps them.
 *
 * One body limit for every transport.  A message is at most a full
 * header block plus a full body (msg_max = hdr_max + body_max), which
 * fits in one UDP datagram, so the same message is accepted or refused
 * the same way over UDP, TCP and TLS.  What a refusal looks like
 * differs only where the transport forces it: a stream whose announced
 * body is over body_max cannot be resynchronised, so it is answered 513
 * from its header block and closed; a datagram is whole, so its body
 * over body_max is answered 413 and one over msg_max 513.
 *
 * dgram_max is how much of a datagram is read at all: 65535, every
 * payload UDP can carry, so that no datagram is ever cut short (libre
 * reads 8 KiB unless told) and one over msg_max still reaches the
 * decoder and its 513.  A datagram over dgram_max (only when configured
 * lower) is dropped and counted oversize: nothing of it can be trusted.
 */
#ifndef STC_SST_LIMITS_H
#define STC_SST_LIMITS_H

#include <stddef.h>

enum {
	SST_HDR_MAX       = 16384, /* start line + headers + blank line */
	SST_BODY_MAX      = 32768, /* Content-Length, on every transport */
	SST_MSG_MAX       = SST_HDR_MAX + SST_BODY_MAX, /* whole message */
	SST_LINE_MAX      = 4096,  /* one physical line, without CRLF */
	SST_HDR_COUNT_MAX = 128,   /* header lines, continuations aside */
	SST_DGRAM_MAX     = 65535, /* bytes of a datagram read */
};

/* Zero members (or a NULL pointer where one is taken) mean the default
 * above; a zero msg_max is hdr_max + body_max of the limits in effect. */
struct sst_limits {
	size_t hdr_max;
	size_t body_max;
	size_t msg_max;
	size_t line_max;
	size_t hdr_count_max;
	size_t dgram_max;
};

/* The limits in effect: in's members, the defaults for zero ones. */
static inline struct sst_limits sst_limits_of(const struct sst_limits *in)
{
	struct sst_limits l = {
		SST_HDR_MAX, SST_BODY_MAX, SST_MSG_MAX, SST_LINE_MAX,
		SST_HDR_COUNT_MAX, SST_DGRAM_MAX,
	};

	if (!in)
		return l;
	if (in->hdr_max)
		l.hdr_max = in->hdr_max;
	if (in->body_max)
		l.body_max = in->body_max;
	/* a whole header block and a whole body, unless said otherwise */
	l.msg_max = in->msg_max ? in->msg_max : l.hdr_max + l.body_max;
	if (in->line_max)
		l.line_max = in->line_max;
	if (in->hdr_count_max)
		l.hdr_count_max = in->hdr_count_max;
	if (in->dgram_max)
		l.dgram_max = in->dgram_max;
	return l;
}

#endif /* STC_SST_LIMITS_H */
