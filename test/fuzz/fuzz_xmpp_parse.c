/*
 * fuzz_xmpp_parse.c -- libFuzzer target: every input is what an XMPP
 * peer sends on a server-to-server stream, its first byte choosing how
 * it is cut into reads (whole, a byte at a time, or slices of 2 to 255
 * bytes).  Each top-level element handed out is written again with
 * xmpp_el_encode() and, inside a fresh stream, must read back to the
 * same text; a refused stream must stay refused with a named condition.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation. */
#include "xmpp/xmpp_el.c"
#include "xmpp/xmpp_parse.c"

#define HEAD "<stream:stream xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct again {
	struct mbuf *mb;
	unsigned n;
};

static void again_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	struct again *a = arg;

	if (ev != XMPP_EV_ELEMENT)
		return;
	++a->n;
	if (xmpp_el_encode(a->mb, el, XMPP_NS_SERVER))
		abort();
}

/* An element written by xmpp_el_encode() reads back as the same text;
 * the limits are raised, since writing may lengthen an element. */
static void check_again(const struct xmpp_el *el, const char *cns)
{
	static const struct xmpp_limits big = {
		.stanza_max = 8 * XMPP_STANZA_MAX, .depth_max = XMPP_DEPTH_MAX,
		.attr_max = XMPP_ATTR_MAX, .nsdecl_max = 4 * XMPP_ATTR_MAX *
		XMPP_DEPTH_MAX
	};
	struct xmpp_parse *p = NULL;
	struct mbuf *mb = mbuf_alloc(512);
	struct again a = {0};

	a.mb = mbuf_alloc(512);
	if (!mb || !a.mb || xmpp_el_encode(mb, el, cns) ||
	    xmpp_parse_alloc(&p, &big, again_h, &a))
		goto out;
	if (xmpp_parse_feed(p, HEAD, strlen(HEAD)) ||
	    xmpp_parse_feed(p, mb->buf, mb->end)) {
		/* only a namespace declared out of the written element's
		 * reach may differ (an element in no namespace) */
		if (xmpp_parse_error(p) != XMPP_SERR_POLICY_VIOLATION)
			abort();
		goto out;
	}
	if (a.n != 1 || !cns || strcmp(cns, XMPP_NS_SERVER))
		goto out;
	if (a.mb->end != mb->end || memcmp(a.mb->buf, mb->buf, mb->end))
		abort();
 out:
	mem_deref(p);
	mem_deref(mb);
	mem_deref(a.mb);
}

struct run {
	struct xmpp_parse *p;
	bool ended;
};

static void run_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	struct run *r = arg;

	if (r->ended)
		abort();
	switch (ev) {
	case XMPP_EV_HEADER:
		if (!el || !xmpp_el_is(el, "stream", XMPP_NS_STREAM))
			abort();
		break;
	case XMPP_EV_ELEMENT:
		if (!el || el->parent)
			abort();
		check_again(el, xmpp_parse_content_ns(r->p));
		break;
	case XMPP_EV_END:
		r->ended = true;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = {0};
	size_t off = 1, step;
	int err = 0;

	if (size < 1)
		return 0;
	step = data[0] == 0 ? size : data[0];
	if (xmpp_parse_alloc(&r.p, NULL, run_h, &r))
		return 0;
	while (off < size && !err) {
		size_t n = size - off < step ? size - off : step;

		err = xmpp_parse_feed(r.p, data + off, n);
		off += n;
	}
	if (err) {
		if (err != EPROTO || xmpp_parse_error(r.p) == XMPP_SERR_NONE ||
		    !*xmpp_serr_name(xmpp_parse_error(r.p)) ||
		    xmpp_parse_feed(r.p, "<a/>", 4) != EPROTO)
			abort();
	}
	mem_deref(r.p);
	return 0;
}
