/*
 * fuzz_xmpp_s2s.c -- libFuzzer target: every input is what a peer
 * sends to an inbound server-to-server stream (xmpp_s2s.c), its first
 * byte choosing how it is cut into reads.  TLS is taken as done when
 * asked for, every dialback key and every SASL EXTERNAL as valid (and
 * EXTERNAL offered to every peer), so that inputs reach the
 * authenticated state.  A stream reports CLOSED once, and once closed
 * reads nothing more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation. */
#include "xmpp/xmpp_el.c"
#include "xmpp/xmpp_parse.c"
#include "xmpp/xmpp_s2s.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct xmpp_s2s *s;
	unsigned nclosed;
	bool tls;
	size_t sent;
};

static int fz_send(const char *p, size_t len, void *arg)
{
	struct fz *f = arg;

	(void)p;
	f->sent += len;
	return 0;
}

static void fz_ev(enum xmpp_s2s_ev ev, const struct xmpp_s2s_evinfo *i,
		  void *arg)
{
	struct fz *f = arg;

	switch (ev) {
	case XMPP_S2S_EV_TLS:
		f->tls = true;
		break;
	case XMPP_S2S_EV_DB_RESULT:
		if (!i->domain || !i->key)
			abort();
		(void)xmpp_s2s_db_answer(f->s, i->domain, true);
		break;
	case XMPP_S2S_EV_HEADER:
		/* offer EXTERNAL to every peer, so inputs reach it */
		xmpp_s2s_external(f->s, true);
		break;
	case XMPP_S2S_EV_SASL_AUTH:
		if (!i->domain || !*i->domain)
			abort();
		(void)xmpp_s2s_sasl_answer(f->s, XMPP_SASL_OK);
		break;
	case XMPP_S2S_EV_STANZA:
		if (!i->el || !xmpp_s2s_authed(f->s, i->domain))
			abort();
		break;
	case XMPP_S2S_EV_CLOSED:
		if (++f->nclosed > 1 ||
		    xmpp_s2s_state(f->s) != XMPP_S2S_CLOSED)
			abort();
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xmpp_s2s_conf c;
	struct fz f;
	size_t off = 1, step;
	int err = 0;

	if (size < 1)
		return 0;
	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	c.local = "acme.test";
	c.secret = "fuzz-secret";
	c.id = "s2s-1";
	if (xmpp_s2s_alloc(&f.s, XMPP_S2S_IN, &c, fz_send, fz_ev, &f))
		return 0;
	step = data[0] == 0 ? size : data[0];
	while (off < size && !err) {
		size_t n = size - off < step ? size - off : step;

		err = xmpp_s2s_recv(f.s, data + off, n);
		off += n;
		if (f.tls) {
			f.tls = false;
			if (xmpp_s2s_tls_ready(f.s))
				abort();
		}
	}
	if (err && (err != EPIPE || f.nclosed != 1 ||
		    xmpp_s2s_recv(f.s, " ", 1) != EPIPE))
		abort();
	(void)xmpp_s2s_keepalive(f.s);
	mem_deref(f.s);
	return 0;
}
