/*
 * sst_frame.c -- cut a TCP/TLS byte stream into whole SIP messages.
 *
 * RFC 3261 section 18.3: on a stream the Content-Length header is
 * mandatory and is the only way to find the end of a message.  The
 * header block ends at the first empty line (CRLF CRLF).  Between
 * messages a peer may send CRLF CRLF as a keep-alive ping and expects a
 * single CRLF back (RFC 5626 section 4.4.1); a lone CRLF is such a pong
 * and is skipped.
 *
 * Every refusal leaves a static reason string for the caller's log line;
 * this file never logs.
 */
#include <string.h>

#include <re.h>

#include "sipstack/sst_frame.h"

struct sst_frame {
	struct mbuf *buf;  /* unconsumed bytes from buf->pos to buf->end */
	size_t hdr_max;
	size_t body_max;
	size_t scan;       /* bytes past pos already searched, no CRLFCRLF */
	size_t sl_len;     /* start line length once found and checked */
	size_t hdr_len;    /* header block length once found, else 0 */
	size_t clen;       /* its Content-Length */
	unsigned crlfs;    /* CRLFs seen in a row between messages */
	int err;           /* sticky error */
	const char *reason;
};

static void destructor(void *data)
{
	struct sst_frame *fr = data;

	mem_deref(fr->buf);
}

/**
 * Allocate the framing state of one stream connection.
 *
 * @param frp  Returned frame state
 * @param lim  Limits (hdr_max and body_max are used); NULL or a zero
 *	       member for the default (sst_limits.h)
 *
 * @return 0 if success, otherwise errorcode
 */
int sst_frame_alloc(struct sst_frame **frp, const struct sst_limits *lim)
{
	const struct sst_limits l = sst_limits_of(lim);
	struct sst_frame *fr;

	if (!frp)
		return EINVAL;

	fr = mem_zalloc(sizeof(*fr), destructor);
	if (!fr)
		return ENOMEM;

	fr->hdr_max  = l.hdr_max;
	fr->body_max = l.body_max;

	*frp = fr;
	return 0;
}

/**
 * Append a received chunk.  Call sst_frame_next() until ENODATA after
 * every push; that keeps the buffer below hdr_max + body_max + chunk.
 *
 * @return 0, ENOMEM, or the sticky framing error
 */
int sst_frame_push(struct sst_frame *fr, const uint8_t *p, size_t n)
{
	size_t pos;
	int err;

	if (!fr || (!p && n))
		return EINVAL;
	if (fr->err)
		return fr->err;
	if (!n)
		return 0;

	if (!fr->buf) {
		fr->buf = mbuf_alloc(n);
		if (!fr->buf)
			return ENOMEM;
	}

	pos = fr->buf->pos;
	fr->buf->pos = fr->buf->end;
	err = mbuf_write_mem(fr->buf, p, n);
	fr->buf->pos = pos;

	return err;
}

static int fail(struct sst_frame *fr, int err, const char *reason)
{
	fr->err = err;
	fr->reason = reason;
	return err;
}

/* Move the unconsumed bytes to the front; drop an empty buffer, so an
 * idle connection holds no buffer at all (bench/README-transport.md:
 * keeping even 4 KiB multiplied the idle cost by eight). */
static void compact(struct sst_frame *fr)
{
	struct mbuf *mb = fr->buf;
	size_t left;

	if (!mb)
		return;

	left = mbuf_get_left(mb);
	if (!left) {
		fr->buf = mem_deref(fr->buf);
		return;
	}

	if (mb->pos) {
		memmove(mb->buf, mb->buf + mb->pos, left);
		mb->pos = 0;
		mb->end = left;
	}
}

/* Tests count the bytes the searches look at, so that a rescan shows
 * as a number rather than a time; nothing in the daemon. */
#ifndef SST_FRAME_LOOKED
#define SST_FRAME_LOOKED(n) ((void)0)
#endif

static bool is_token(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;

	return c && strchr("-.!%*_+`'~", c) != NULL;
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *pat,
			   size_t plen)
{
	size_t i;

	SST_FRAME_LOOKED(n);
	if (n < plen)
		return NULL;

	for (i = 0; i + plen <= n; i++) {
		if (p[i] == (uint8_t)pat[0] && !memcmp(p + i, pat, plen))
			return p + i;
	}

	return NULL;
}

/* The start line must be "SIP/2.0 nnn ..." or "METHOD uri SIP/2.0". */
static bool start_line_ok(const uint8_t *p, size_t n)
{
	static const char ver[] = "SIP/2.0";
	const size_t vl = sizeof(ver) - 1;
	size_t i;

	SST_FRAME_LOOKED(n);
	for (i = 0; i < n; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return false;
	}

	if (n >= vl + 4 && !strncasecmp((const char *)p, ver, vl) &&
	    p[vl] == ' ') {
		for (i = vl + 1; i < vl + 4; i++) {
			if (p[i] < '0' || p[i] > '9')
				return false;
		}
		return n == vl + 4 || p[vl + 4] == ' ';
	}

	for (i = 0; i < n && is_token(p[i]); i++)
		;
	if (i == 0 || i >= n || p[i] != ' ')
		return false;

	return n > vl + i + 2 && p[n - vl - 1] == ' ' &&
		!strncasecmp((const char *)p + n - vl, ver, vl);
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp((const char *)p, name, n);
}

/* Content-Length from a complete header block (start line excluded). */
static int content_length(struct sst_frame *fr, const uint8_t *p, size_t n,
			  size_t *clenp)
{
	const uint8_t *end = p + n;
	bool seen = false, last_cl = false;
	size_t clen = 0;

	while (p < end) {
		const uint8_t *eol = find(p, (size_t)(end - p), "\r\n", 2);
		const uint8_t *colon, *v, *ve, *ne;
		size_t val = 0;

		if (!eol)
			eol = end;

		if (p == eol)
			break;  /* the empty line */

		if (*p == ' ' || *p == '\t') {
			if (last_cl)
				return fail(fr, EBADMSG,
					    "folded Content-Length");
			goto next;
		}

		last_cl = false;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			return fail(fr, EBADMSG, "header line without colon");

		ne = colon;
		while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
			--ne;
		if (!name_is(p, (size_t)(ne - p), "Content-Length") &&
		    !name_is(p, (size_t)(ne - p), "l"))
			goto next;

		v = colon + 1;
		ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			++v;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			--ve;
		if (v == ve)
			return fail(fr, EBADMSG, "empty Content-Length");

		for (; v < ve; v++) {
			size_t d;

			if (*v < '0' || *v > '9')
				return fail(fr, EBADMSG,
					    "non-numeric Content-Length");
			d = (size_t)(*v - '0');
			if (val > fr->body_max / 10 ||
			    val * 10 + d > fr->body_max)
				return fail(fr, EMSGSIZE, "body too large");
			val = val * 10 + d;
		}

		if (seen && val != clen)
			return fail(fr, EBADMSG, "conflicting Content-Length");

		seen = true;
		last_cl = true;
		clen = val;
	next:
		p = eol + 2;
	}

	if (!seen)
		return fail(fr, EBADMSG, "missing Content-Length");

	*clenp = clen;
	return 0;
}

/**
 * Take the next complete message, or a keep-alive ping, off the stream.
 *
 * @param fr    Frame state
 * @param mbp   Returned message in its own mbuf; NULL after a ping
 * @param ping  Set true when a CRLFCRLF ping was consumed: answer CRLF
 *
 * @return 0 for a message or a ping, ENODATA when more bytes are needed,
 *	EMSGSIZE (header block or body over the limit) or EBADMSG (not a
 *	SIP stream, Content-Length missing or malformed); both are sticky.
 */
int sst_frame_next(struct sst_frame *fr, struct mbuf **mbp, bool *ping)
{
	const uint8_t *p, *eoh;
	struct mbuf *msg;
	size_t n, start, total;
	int err;

	if (!fr || !mbp || !ping)
		return EINVAL;

	*mbp = NULL;
	*ping = false;

	if (fr->err)
		return fr->err;
	if (!fr->buf)
		return ENODATA;

	p = mbuf_buf(fr->buf);
	n = mbuf_get_left(fr->buf);

	if (!fr->scan && !fr->hdr_len) {
		while (n >= 2 && p[0] == '\r' && p[1] == '\n') {
			p += 2;
			n -= 2;
			fr->buf->pos += 2;
			if (++fr->crlfs == 2) {
				fr->crlfs = 0;
				*ping = true;
				return 0;
			}
		}

		if (!n || (n == 1 && p[0] == '\r')) {
			compact(fr);
			return ENODATA;
		}

		if (!is_token(p[0]))
			return fail(fr, EBADMSG, "not a SIP message");

		fr->crlfs = 0;
	}

	if (!fr->hdr_len) {
		start = fr->scan > 3 ? fr->scan - 3 : 0;
		eoh = find(p + start, n - start, "\r\n\r\n", 4);
		if (!eoh) {
			/* Check the start line once, as soon as it is
			 * whole; search for its end only in new bytes. */
			if (!fr->sl_len) {
				const size_t from = fr->scan ?
					fr->scan - 1 : 0;
				const uint8_t *eol = find(p + from, n - from,
							  "\r\n", 2);

				if (eol) {
					if (!start_line_ok(p,
							   (size_t)(eol - p)))
						return fail(fr, EBADMSG,
							"bad start line");
					fr->sl_len = (size_t)(eol - p);
				}
			}
			if (n > fr->hdr_max)
				return fail(fr, EMSGSIZE,
					    "header block too large");
			fr->scan = n;
			compact(fr);
			return ENODATA;
		}

		fr->hdr_len = (size_t)(eoh - p) + 4;
		if (fr->hdr_len > fr->hdr_max)
			return fail(fr, EMSGSIZE, "header block too large");
		if (memchr(p, 0, fr->hdr_len))
			return fail(fr, EBADMSG, "NUL in header block");

		if (fr->sl_len) {
			eoh = p + fr->sl_len;
		}
		else {
			eoh = find(p, fr->hdr_len, "\r\n", 2);
			if (!start_line_ok(p, (size_t)(eoh - p)))
				return fail(fr, EBADMSG, "bad start line");
		}

		err = content_length(fr, eoh + 2,
				     fr->hdr_len - (size_t)(eoh + 2 - p),
				     &fr->clen);
		if (err)
			return err;
	}

	total = fr->hdr_len + fr->clen;
	if (n < total) {
		compact(fr);
		return ENODATA;
	}

	msg = mbuf_alloc(total);
	if (!msg)
		return ENOMEM;
	(void)mbuf_write_mem(msg, p, total);
	msg->pos = 0;

	fr->buf->pos += total;
	fr->scan = 0;
	fr->sl_len = 0;
	fr->hdr_len = 0;
	fr->clen = 0;
	if (!mbuf_get_left(fr->buf))
		compact(fr);

	*mbp = msg;
	return 0;
}

/**
 * After EMSGSIZE for a body over the limit: a copy of the refused
 * message's header block (start line through the blank line), so that
 * the caller can answer it (413/513) before closing.
 *
 * @return 0 and *mbp (the caller's), ENOENT when there is no whole
 *	header block to give (no size error, or the header block itself
 *	was too large), ENOMEM
 */
int sst_frame_head(const struct sst_frame *fr, struct mbuf **mbp)
{
	struct mbuf *mb;

	if (!fr || !mbp)
		return EINVAL;
	if (fr->err != EMSGSIZE || !fr->hdr_len || fr->hdr_len > fr->hdr_max ||
	    !fr->buf || mbuf_get_left(fr->buf) < fr->hdr_len)
		return ENOENT;

	mb = mbuf_alloc(fr->hdr_len);
	if (!mb)
		return ENOMEM;
	(void)mbuf_write_mem(mb, mbuf_buf(fr->buf), fr->hdr_len);
	mb->pos = 0;

	*mbp = mb;
	return 0;
}

/** Bytes held for an incomplete message (for status screens). */
size_t sst_frame_buffered(const struct sst_frame *fr)
{
	return fr && fr->buf ? mbuf_get_left(fr->buf) : 0;
}

/** Why the stream was refused, or NULL while it is healthy. */
const char *sst_frame_reason(const struct sst_frame *fr)
{
	return fr ? fr->reason : NULL;
}
