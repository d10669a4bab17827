/*
 * sst_frame.h -- cut a TCP/TLS byte stream into whole SIP messages.
 *
 * Owns: the per-connection reassembly buffer, the search for the end of
 *	the header block, the Content-Length that says where the body ends,
 *	RFC 5626 CRLF keep-alives between messages, and enforcing the
 *	header and body limits (defined in sst_limits.h).
 * Not here: header parsing and validation (sst_msg.h), sockets and
 *	answering pings (sst_transp.h).  The only header this module reads
 *	is Content-Length ("l" in compact form); it never calls the SIP
 *	decoder on a partial message.
 * Memory: an sst_frame is a libre mem object owned by its connection;
 *	it holds a buffer only while a message is incomplete.
 *	Every message comes out in an mbuf of its own (pos 0, end = the
 *	message length) that the caller owns, so later input can never move
 *	bytes that a decoded message still points into.
 *
 * Use: sst_frame_push() each received chunk, then call sst_frame_next()
 * until it returns ENODATA.  Errors are sticky: after EBADMSG or
 * EMSGSIZE the stream cannot be resynchronised and the connection must
 * be closed (sst_frame_reason() says why, for the log line).  After
 * EMSGSIZE for a body over the limit the header block is still whole:
 * sst_frame_head() gives a copy, for an answer before the close.
 */
#ifndef STC_SST_FRAME_H
#define STC_SST_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipstack/sst_limits.h"

struct mbuf;
struct sst_frame;

int  sst_frame_alloc(struct sst_frame **frp, const struct sst_limits *lim);
int  sst_frame_push(struct sst_frame *fr, const uint8_t *p, size_t n);
int  sst_frame_next(struct sst_frame *fr, struct mbuf **mbp, bool *ping);
int  sst_frame_head(const struct sst_frame *fr, struct mbuf **mbp);
size_t sst_frame_buffered(const struct sst_frame *fr);
const char *sst_frame_reason(const struct sst_frame *fr);

#endif /* STC_SST_FRAME_H */
