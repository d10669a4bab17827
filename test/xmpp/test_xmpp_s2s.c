/*
 * test_xmpp_s2s.c -- the server-to-server stream machine (xmpp_s2s.c):
 * the dialback key against the published vectors of XEP-0185 and
 * XEP-0220; an outbound stream driven through a transcript in the
 * shape a Prosody server answers with, asserting every byte we write;
 * our outbound and inbound streams talking to each other up to an
 * authenticated stream and a delivered stanza; db:verify as the
 * authoritative server; and each refusal with its stream error.
 * SASL EXTERNAL (XEP-0178): the elements both ways, byte for byte, the
 * restart after <success/>, the pair with EXTERNAL on both sides, and
 * each <failure/> condition an inbound stream answers with.
 */
#include <string.h>

#include <re.h>

#include "lib/cutest.h"
#include "xmpp/xmpp.h"

#define NS "xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams' " \
	"xmlns:db='jabber:server:dialback'"

/* One side: what it wrote, what it reported. */
struct side {
	struct xmpp_s2s *s;
	struct mbuf *out;
	struct mbuf *evs;
	struct side *peer;          /* in a pair: who reads out */
	const char *local;
	const char *auth_secret;    /* inbound: the originating server's
				     * secret, to answer DB_RESULT */
	enum xmpp_serr closed_err;
	bool closed_by_peer;
	unsigned ntls, nauthed, nstanza, nclosed;
	bool verify_valid;
	unsigned nverify;
	bool ext;                   /* out: certificate valid, use EXTERNAL;
				     * in: offer it on the header */
	int sasl_verdict;           /* in: answer to SASL_AUTH; -1: later */
	enum xmpp_sasl sasl_failed; /* the last SASL_FAILED */
	unsigned nfeatures;
	unsigned feat_offer;        /* xmpp_features_offer() of the last */
	unsigned close_at_features; /* close (orderly) at the n-th, 0: no */
	int db_err;                 /* the last xmpp_s2s_db_answer() */
	bool db_err_ok;             /* it may fail (else asserted 0) */
};

static int side_send(const char *p, size_t len, void *arg)
{
	struct side *d = arg;

	return mbuf_write_mem(d->out, (const uint8_t *)p, len);
}

static void side_ev(enum xmpp_s2s_ev ev, const struct xmpp_s2s_evinfo *i,
		    void *arg)
{
	struct side *d = arg;
	char key[65];

	switch (ev) {
	case XMPP_S2S_EV_TLS:
		++d->ntls;
		(void)mbuf_write_str(d->evs, "[tls]");
		break;
	case XMPP_S2S_EV_FEATURES:
		++d->nfeatures;
		d->feat_offer = xmpp_features_offer(i->el);
		if (d->nfeatures == d->close_at_features)
			xmpp_s2s_close(d->s, XMPP_SERR_NONE);
		break;
	case XMPP_S2S_EV_AUTHED:
		++d->nauthed;
		(void)mbuf_printf(d->evs, "[authed %s%s]", i->domain,
				  i->external ? " external" : "");
		break;
	case XMPP_S2S_EV_HEADER:
		(void)mbuf_printf(d->evs, "[header %s]",
				  i->domain ? i->domain : "-");
		xmpp_s2s_external(d->s, d->ext);
		break;
	case XMPP_S2S_EV_SASL_AUTH:
		(void)mbuf_printf(d->evs, "[sasl-auth %s]", i->domain);
		if (d->sasl_verdict >= 0)
			CU_ASSERT_EQUAL(xmpp_s2s_sasl_answer(d->s,
				(enum xmpp_sasl)d->sasl_verdict), 0);
		break;
	case XMPP_S2S_EV_SASL_FAILED:
		d->sasl_failed = i->sasl;
		(void)mbuf_printf(d->evs, "[sasl-failed %s]",
				  xmpp_sasl_name(i->sasl));
		break;
	case XMPP_S2S_EV_DB_REFUSED:
		(void)mbuf_printf(d->evs, "[refused %s]", i->domain);
		break;
	case XMPP_S2S_EV_DB_RESULT:
		(void)mbuf_printf(d->evs, "[db-result %s %s]", i->domain,
				  i->id);
		/* what asking the authoritative server would tell */
		CU_ASSERT_EQUAL(xmpp_db_key(key, d->auth_secret, d->local,
					    i->domain, i->id), 0);
		d->db_err = xmpp_s2s_db_answer(d->s, i->domain,
					       0 == strcmp(key, i->key));
		if (!d->db_err_ok)
			CU_ASSERT_EQUAL(d->db_err, 0);
		break;
	case XMPP_S2S_EV_DB_VERIFY:
		++d->nverify;
		d->verify_valid = i->valid;
		(void)mbuf_printf(d->evs, "[verify %s %s]", i->id,
				  i->valid ? "valid" : "invalid");
		break;
	case XMPP_S2S_EV_STANZA:
		++d->nstanza;
		(void)mbuf_printf(d->evs, "[stanza %s]", i->domain);
		break;
	case XMPP_S2S_EV_CLOSED:
		++d->nclosed;
		d->closed_err = i->err;
		d->closed_by_peer = i->by_peer;
		(void)mbuf_printf(d->evs, "[closed %s%s]",
				  i->err ? xmpp_serr_name(i->err) : "ok",
				  i->by_peer ? " by peer" : "");
		break;
	}
}

static void side_init(struct side *d, enum xmpp_s2s_dir dir,
		      const char *local, const char *remote,
		      const char *secret, const char *id)
{
	struct xmpp_s2s_conf c;

	memset(d, 0, sizeof(*d));
	memset(&c, 0, sizeof(c));
	d->local = local;
	c.local = local;
	c.remote = remote;
	c.secret = secret;
	c.id = id;
	d->out = mbuf_alloc(1024);
	d->evs = mbuf_alloc(256);
	CU_ASSERT_FATAL(d->out && d->evs);
	CU_ASSERT_FATAL(xmpp_s2s_alloc(&d->s, dir, &c, side_send, side_ev,
				       d) == 0);
}

static void side_free(struct side *d)
{
	d->s = mem_deref(d->s);
	d->out = mem_deref(d->out);
	d->evs = mem_deref(d->evs);
}

/* What the side wrote since the last call, as a string (static). */
static const char *written(struct side *d)
{
	static char buf[4096];
	size_t n = d->out->end < sizeof(buf) - 1 ? d->out->end :
		sizeof(buf) - 1;

	if (n)
		memcpy(buf, d->out->buf, n);
	buf[n] = '\0';
	mbuf_rewind(d->out);
	return buf;
}

static const char *events(struct side *d)
{
	static char buf[1024];
	size_t n = d->evs->end < sizeof(buf) - 1 ? d->evs->end :
		sizeof(buf) - 1;

	if (n)
		memcpy(buf, d->evs->buf, n);
	buf[n] = '\0';
	mbuf_rewind(d->evs);
	return buf;
}

static void feed(struct side *d, const char *s)
{
	(void)xmpp_s2s_recv(d->s, s, strlen(s));
}

/* XEP-0185 section 2 and XEP-0220 section 2.1.1 */
static void test_db_key(void)
{
	char key[65];

	CU_ASSERT_EQUAL(xmpp_db_key(key, "s3cr3tf0rd14lb4ck",
				    "xmpp.example.com", "example.org",
				    "D60000229F"), 0);
	CU_ASSERT_STRING_EQUAL(key, "37c69b1cf07a3f67c04a5ef5902fa5114f2c7"
			       "6fe4a2686482ba5b89323075643");
	CU_ASSERT_EQUAL(xmpp_db_key(key, "s3cr3tf0rd14lb4ck",
				    "montague.example", "capulet.example",
				    "D60000229F"), 0);
	CU_ASSERT_STRING_EQUAL(key, "b4835385f37fe2895af6c196b59097b168624"
			       "06db80559900d96bf6fa7d23df3");
	CU_ASSERT_EQUAL(xmpp_db_key(key, NULL, "a", "b", "c"), EINVAL);
}

/* The domain of a JID, as both the stream and the connector read it */
static void test_jid_domain(void)
{
	char d[16];

	CU_ASSERT(xmpp_jid_domain(d, sizeof(d), "Bob@XMPP.test/Res@x"));
	CU_ASSERT_STRING_EQUAL(d, "xmpp.test");
	CU_ASSERT(xmpp_jid_domain(d, sizeof(d), "xmpp.test"));
	CU_ASSERT_STRING_EQUAL(d, "xmpp.test");
	CU_ASSERT(xmpp_jid_domain(d, sizeof(d), "acme.test/a@b"));
	CU_ASSERT_STRING_EQUAL(d, "acme.test");
	CU_ASSERT(!xmpp_jid_domain(d, sizeof(d), "bob@/r"));
	CU_ASSERT(!xmpp_jid_domain(d, sizeof(d), "/r"));
	CU_ASSERT(!xmpp_jid_domain(d, sizeof(d), NULL));
	CU_ASSERT(!xmpp_jid_domain(d, sizeof(d), "a@much-too-long.test"));
}

#define P_HDR1 "<?xml version='1.0'?><stream:stream xmlns:db='jabber:" \
	"server:dialback' xmlns:stream='http://etherx.jabber.org/streams' " \
	"xml:lang='en' version='1.0' xmlns='jabber:server' " \
	"id='b4f6a1c2-7d1e' from='xmpp.test' to='acme.test'>"
#define P_HDR2 "<?xml version='1.0'?><stream:stream xmlns:db='jabber:" \
	"server:dialback' xmlns:stream='http://etherx.jabber.org/streams' " \
	"xml:lang='en' version='1.0' xmlns='jabber:server' " \
	"id='0c9e55d1-a3f0' from='xmpp.test' to='acme.test'>"
#define OUR_HDR "<?xml version='1.0'?><stream:stream " NS \
	" from='acme.test' to='xmpp.test' version='1.0'>"

/* Our outbound stream against the answers of an XMPP server that
 * requires STARTTLS and offers dialback, as Prosody does. */
static void test_outbound_transcript(void)
{
	struct side a;
	char key[65];
	char want[256];
	struct xmpp_el *msg, *body;

	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "acme-secret",
		  NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), OUR_HDR);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_OPENING);

	feed(&a, P_HDR1 "<stream:features><starttls xmlns='urn:ietf:params:"
	     "xml:ns:xmpp-tls'><required/></starttls></stream:features>");
	CU_ASSERT_STRING_EQUAL(written(&a), "<starttls xmlns='urn:ietf:"
			       "params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, NULL), EINVAL);

	feed(&a, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[tls]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_TLS);
	CU_ASSERT_STRING_EQUAL(written(&a), "");

	CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(a.s), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), OUR_HDR);
	/* the new stream's id is the one dialback binds to */
	feed(&a, P_HDR2);
	feed(&a, "<stream:features><dialback xmlns='urn:xmpp:features:"
	     "dialback'><errors/></dialback></stream:features>");
	CU_ASSERT_EQUAL(xmpp_db_key(key, "acme-secret", "xmpp.test",
				    "acme.test", "0c9e55d1-a3f0"), 0);
	(void)re_snprintf(want, sizeof(want), "<db:result from='acme.test' "
			  "to='xmpp.test'>%s</db:result>", key);
	CU_ASSERT_STRING_EQUAL(written(&a), want);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_DIALBACK);

	feed(&a, "<db:result from='xmpp.test' to='acme.test' "
	     "type='valid'/>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[authed xmpp.test]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_READY);
	CU_ASSERT(xmpp_s2s_authed(a.s, "xmpp.test"));

	CU_ASSERT_EQUAL(xmpp_el_alloc(&msg, "message", XMPP_NS_SERVER), 0);
	(void)xmpp_el_set_attr(msg, "from", NULL, "alice.smith@acme.test");
	(void)xmpp_el_set_attr(msg, "to", NULL, "bob@xmpp.test");
	(void)xmpp_el_set_attr(msg, "type", NULL, "chat");
	body = xmpp_el_add(msg, "body", XMPP_NS_SERVER);
	(void)xmpp_el_add_text(body, "1 < 2 & \"3\"", 11);
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, msg), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), "<message from=\"alice.smith@acme"
			       ".test\" to=\"bob@xmpp.test\" type=\"chat\">"
			       "<body>1 &lt; 2 &amp; \"3\"</body></message>");
	mem_deref(msg);

	CU_ASSERT_EQUAL(xmpp_s2s_keepalive(a.s), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), " ");

	feed(&a, "</stream:stream>");
	CU_ASSERT_STRING_EQUAL(written(&a), "</stream:stream>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[closed ok by peer]");
	CU_ASSERT_EQUAL(xmpp_s2s_recv(a.s, " ", 1), EPIPE);
	CU_ASSERT_EQUAL(xmpp_s2s_keepalive(a.s), ENOTCONN);
	side_free(&a);
}

/* Move what each wrote to the other until both are quiet. */
static void pump(struct side *x, struct side *y)
{
	unsigned rounds = 0;

	while ((x->out->end || y->out->end) && rounds++ < 100) {
		struct side *from = x->out->end ? x : y;
		struct mbuf *mb = mbuf_alloc(from->out->end);

		(void)mbuf_write_mem(mb, from->out->buf, from->out->end);
		mbuf_rewind(from->out);
		(void)xmpp_s2s_recv(from->peer->s, mb->buf, mb->end);
		mem_deref(mb);
		if (x->ntls && y->ntls &&
		    xmpp_s2s_state(x->s) == XMPP_S2S_TLS &&
		    xmpp_s2s_state(y->s) == XMPP_S2S_TLS) {
			/* the handshake, done by the caller's TLS */
			xmpp_s2s_external(x->s, x->ext);
			xmpp_s2s_external(y->s, y->ext);
			CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(y->s), 0);
			CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(x->s), 0);
		}
	}
}

/* Our own outbound and inbound streams agree with each other. */
static void test_pair(void)
{
	struct side a, b;
	struct xmpp_el *pres;

	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "acme-secret",
		  NULL);
	side_init(&b, XMPP_S2S_IN, "xmpp.test", NULL, "xmpp-secret",
		  "s2s-B1");
	a.peer = &b;
	b.peer = &a;
	b.auth_secret = "acme-secret";
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_READY);
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
	CU_ASSERT_STRING_EQUAL(events(&a), "[tls][authed xmpp.test]");
	CU_ASSERT_STRING_EQUAL(events(&b), "[header acme.test][tls][header acme.test]"
			       "[db-result acme.test s2s-B1][authed acme.test]");
	CU_ASSERT(xmpp_s2s_authed(b.s, "acme.test"));

	CU_ASSERT_EQUAL(xmpp_el_alloc(&pres, "presence", XMPP_NS_SERVER), 0);
	(void)xmpp_el_set_attr(pres, "from", NULL,
			       "alice.smith@acme.test/sip");
	(void)xmpp_el_set_attr(pres, "to", NULL, "bob@xmpp.test");
	(void)xmpp_el_add_text(xmpp_el_add(pres, "show", XMPP_NS_SERVER),
			       "away", 4);
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, pres), 0);
	pump(&a, &b);
	CU_ASSERT_STRING_EQUAL(events(&b), "[stanza acme.test]");
	mem_deref(pres);

	xmpp_s2s_close(a.s, XMPP_SERR_NONE);
	pump(&a, &b);
	CU_ASSERT_STRING_EQUAL(events(&a), "[closed ok]");
	CU_ASSERT_STRING_EQUAL(events(&b), "[closed ok by peer]");
	side_free(&a);
	side_free(&b);
}

/* A wrong key: the receiving server says invalid, nothing is sent. */
static void test_pair_wrong_key(void)
{
	struct side a, b;

	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "not-acme's",
		  NULL);
	side_init(&b, XMPP_S2S_IN, "xmpp.test", NULL, "xmpp-secret",
		  "s2s-B2");
	a.peer = &b;
	b.peer = &a;
	b.auth_secret = "acme-secret";
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	pump(&a, &b);
	CU_ASSERT_STRING_EQUAL(events(&a), "[tls][refused xmpp.test]"
			       "[closed not-authorized by peer]");
	CU_ASSERT(!xmpp_s2s_authed(b.s, "acme.test"));
	CU_ASSERT_EQUAL(b.nauthed, 0);
	side_free(&a);
	side_free(&b);
}

/* xmpp.test (v) with a stream up to acme.test (auth, us): what a
 * receiving server has to ask the authoritative one with db:verify. */
static void verify_pair(struct side *v, struct side *auth)
{
	side_init(v, XMPP_S2S_OUT, "xmpp.test", "acme.test", "xmpp-secret",
		  NULL);
	side_init(auth, XMPP_S2S_IN, "acme.test", NULL, "acme-secret",
		  "s2s-A7");
	v->peer = auth;
	auth->peer = v;
	auth->auth_secret = "xmpp-secret";
	CU_ASSERT_EQUAL(xmpp_s2s_start(v->s), 0);
	pump(v, auth);
	CU_ASSERT_EQUAL(xmpp_s2s_state(v->s), XMPP_S2S_READY);
}

/* We as the authoritative server: db:verify answered from our secret. */
static void test_verify(void)
{
	struct side v, auth;
	char key[65];

	/* xmpp.test received a db:result claiming to be acme.test on
	 * stream "s2s-X9" and asks acme.test (us) whether it is ours */
	verify_pair(&v, &auth);

	CU_ASSERT_EQUAL(xmpp_db_key(key, "acme-secret", "xmpp.test",
				    "acme.test", "s2s-X9"), 0);
	CU_ASSERT_EQUAL(xmpp_s2s_db_verify(v.s, "s2s-X9", key), 0);
	pump(&v, &auth);
	CU_ASSERT_EQUAL(v.nverify, 1);
	CU_ASSERT(v.verify_valid);

	key[0] = key[0] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(xmpp_s2s_db_verify(v.s, "s2s-X9", key), 0);
	pump(&v, &auth);
	CU_ASSERT_EQUAL(v.nverify, 2);
	CU_ASSERT(!v.verify_valid);
	CU_ASSERT_STRING_EQUAL(events(&v), "[tls][authed acme.test]"
			       "[verify s2s-X9 valid][verify s2s-X9 invalid]");
	side_free(&v);
	side_free(&auth);
}

#define IN_HDR "<?xml version='1.0'?><stream:stream " NS \
	" from='xmpp.test' to='acme.test' version='1.0'>"
#define IN_REPLY "<?xml version='1.0'?><stream:stream " NS \
	" from='acme.test' to='xmpp.test' id='s2s-7' version='1.0'>"
#define IN_REPLY_NOTO "<?xml version='1.0'?><stream:stream " NS \
	" from='acme.test' id='s2s-7' version='1.0'>"
#define SE(c) "<stream:error><" c " xmlns='urn:ietf:params:xml:ns:" \
	"xmpp-streams'/></stream:error></stream:stream>"

struct inref {
	const char *what;
	const char *in;       /* what the peer sends */
	const char *want;     /* all we write */
	enum xmpp_serr err;
};

/* An inbound stream refuses with the stream error RFC 6120 names,
 * after a header of its own. */
static void test_inbound_refusals(void)
{
	static const struct inref tv[] = {
		{"stanza before TLS", IN_HDR "<message from='bob@xmpp.test' "
		 "to='alice@acme.test'/>", IN_REPLY "<stream:features>"
		 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
		 "<required/></starttls></stream:features>"
		 SE("policy-violation"), XMPP_SERR_POLICY_VIOLATION},
		{"dialback before TLS", IN_HDR "<db:result from='xmpp.test' "
		 "to='acme.test'>00</db:result>", IN_REPLY
		 "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:"
		 "xmpp-tls'><required/></starttls></stream:features>"
		 SE("policy-violation"), XMPP_SERR_POLICY_VIOLATION},
		{"not our domain", "<stream:stream " NS " from='xmpp.test' "
		 "to='other.test' version='1.0'>",
		 IN_REPLY SE("host-unknown"), XMPP_SERR_HOST_UNKNOWN},
		{"client namespace", "<stream:stream xmlns='jabber:client' "
		 "xmlns:stream='http://etherx.jabber.org/streams' "
		 "from='xmpp.test' to='acme.test' version='1.0'>",
		 IN_REPLY SE("invalid-namespace"),
		 XMPP_SERR_INVALID_NAMESPACE},
		{"no version", "<stream:stream " NS " from='xmpp.test' "
		 "to='acme.test'>", IN_REPLY SE("unsupported-version"),
		 XMPP_SERR_UNSUPPORTED_VERSION},
		{"not a stream", "<stream " NS ">", IN_REPLY_NOTO
		 SE("invalid-namespace"), XMPP_SERR_INVALID_NAMESPACE},
		{"comment", IN_HDR "<!-- x -->", IN_REPLY "<stream:features>"
		 "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
		 "<required/></starttls></stream:features>"
		 SE("restricted-xml"), XMPP_SERR_RESTRICTED_XML},
		{"HTTP", "GET / HTTP/1.1\r\nHost: acme.test\r\n\r\n",
		 IN_REPLY_NOTO SE("not-well-formed"),
		 XMPP_SERR_NOT_WELL_FORMED},
	};
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct side b;
		const char *got;

		side_init(&b, XMPP_S2S_IN, "acme.test", NULL, "acme-secret",
			  "s2s-7");
		CU_ASSERT_EQUAL(xmpp_s2s_recv(b.s, tv[i].in, strlen(tv[i].in)),
				EPIPE);
		got = written(&b);
		if (strcmp(got, tv[i].want))
			printf("\n%s: wrote\n%s\n", tv[i].what, got);
		CU_ASSERT_STRING_EQUAL(got, tv[i].want);
		CU_ASSERT_EQUAL(b.closed_err, tv[i].err);
		CU_ASSERT(!b.closed_by_peer);
		CU_ASSERT_EQUAL(b.nclosed, 1);
		side_free(&b);
	}
}

/* Bring an inbound stream past TLS, then check stanza addressing. */
static void inbound_ready(struct side *b)
{
	side_init(b, XMPP_S2S_IN, "acme.test", NULL, "acme-secret", "s2s-7");
	b->auth_secret = "xmpp-secret";
	feed(b, IN_HDR "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_EQUAL(xmpp_s2s_state(b->s), XMPP_S2S_TLS);
	CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(b->s), 0);
	feed(b, IN_HDR);
	CU_ASSERT_EQUAL(xmpp_s2s_state(b->s), XMPP_S2S_READY);
	(void)written(b);
	(void)events(b);
}

static void test_inbound_addressing(void)
{
	struct side b;
	char key[65], db[256];

	inbound_ready(&b);
	feed(&b, "<message from='bob@xmpp.test' to='alice@acme.test'/>");
	CU_ASSERT_STRING_EQUAL(written(&b), SE("not-authorized"));
	side_free(&b);

	inbound_ready(&b);
	CU_ASSERT_EQUAL(xmpp_db_key(key, "xmpp-secret", "acme.test",
				    "xmpp.test", "s2s-7"), 0);
	(void)re_snprintf(db, sizeof(db), "<db:result from='xmpp.test' "
			  "to='acme.test'>%s</db:result>", key);
	feed(&b, db);
	CU_ASSERT_STRING_EQUAL(written(&b), "<db:result from='acme.test' "
			       "to='xmpp.test' type='valid'/>");
	CU_ASSERT_STRING_EQUAL(events(&b), "[db-result xmpp.test s2s-7]"
			       "[authed xmpp.test]");
	feed(&b, "<message from='Bob@XMPP.test/p' to='alice@acme.test'>"
	     "<body>hi</body></message>");
	CU_ASSERT_STRING_EQUAL(events(&b), "[stanza xmpp.test]");
	feed(&b, "<message from='bob@xmpp.test' to='alice@other.test'/>");
	CU_ASSERT_STRING_EQUAL(written(&b), SE("host-unknown"));
	side_free(&b);

	inbound_ready(&b);
	feed(&b, db);
	(void)written(&b);
	feed(&b, "<presence from='eve@evil.test' to='alice@acme.test'/>");
	CU_ASSERT_STRING_EQUAL(written(&b), SE("invalid-from"));
	side_free(&b);

	inbound_ready(&b);
	feed(&b, db);
	(void)written(&b);
	feed(&b, "<presence to='alice@acme.test'/>");
	CU_ASSERT_STRING_EQUAL(written(&b), SE("improper-addressing"));
	side_free(&b);

	inbound_ready(&b);
	feed(&b, "<db:result from='xmpp.test' to='acme.test'>0000"
	     "</db:result>");
	CU_ASSERT_STRING_EQUAL(written(&b), "<db:result from='acme.test' "
			       "to='xmpp.test' type='invalid'/>");
	CU_ASSERT_EQUAL(b.nauthed, 0);
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
	side_free(&b);
}

/* A peer may authenticate several domains on one stream by dialback,
 * up to eight; the ninth is told no for now (resource-constraint), not
 * valid and then refused, and the eight keep their stream. */
static void test_dialback_domains(void)
{
	struct side b;
	char key[65], db[256], dom[32], want[256];
	unsigned k;

	inbound_ready(&b);
	b.db_err_ok = true;
	for (k = 0; k < 9; k++) {
		(void)re_snprintf(dom, sizeof(dom), "d%u.test", k);
		CU_ASSERT_EQUAL(xmpp_db_key(key, "xmpp-secret", "acme.test",
					    dom, "s2s-7"), 0);
		(void)re_snprintf(db, sizeof(db), "<db:result from='%s' "
				  "to='acme.test'>%s</db:result>", dom, key);
		feed(&b, db);
		if (k < 8)
			(void)re_snprintf(want, sizeof(want), "<db:result "
					  "from='acme.test' to='%s' "
					  "type='valid'/>", dom);
		else
			(void)re_snprintf(want, sizeof(want), "<db:result "
					  "from='acme.test' to='%s' "
					  "type='error'><error type='wait'>"
					  "<resource-constraint xmlns='urn:"
					  "ietf:params:xml:ns:xmpp-stanzas'/>"
					  "</error></db:result>", dom);
		CU_ASSERT_STRING_EQUAL(written(&b), want);
		CU_ASSERT_EQUAL(b.db_err, k < 8 ? 0 : EOVERFLOW);
	}
	CU_ASSERT_EQUAL(b.nauthed, 8);
	CU_ASSERT(!xmpp_s2s_authed(b.s, "d8.test"));
	(void)events(&b);
	feed(&b, "<message from='bob@d0.test' to='alice@acme.test'/>");
	CU_ASSERT_STRING_EQUAL(events(&b), "[stanza d0.test]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
	side_free(&b);
}

/* The key we are asked to verify came from another server: it is
 * written as text, never as markup on our stream. */
static void test_verify_key_text(void)
{
	struct side v, auth;
	const char *w;

	verify_pair(&v, &auth);
	(void)written(&v);
	CU_ASSERT_EQUAL(xmpp_s2s_db_verify(v.s, "s2s-X9", "k</db:verify>"
		"<message from='xmpp.test' to='acme.test'><body>forged"
		"</body></message><db:verify>"), 0);
	w = written(&v);
	CU_ASSERT_PTR_NULL(strstr(w, "<message"));
	CU_ASSERT_STRING_EQUAL(w, "<db:verify from='xmpp.test' "
		"to='acme.test' id='s2s-X9'>k&lt;/db:verify&gt;&lt;message "
		"from='xmpp.test' to='acme.test'&gt;&lt;body&gt;forged&lt;"
		"/body&gt;&lt;/message&gt;&lt;db:verify&gt;</db:verify>");
	side_free(&v);
	side_free(&auth);
}

/* An outbound stream: what the peer may not do, and its errors. */
static void test_outbound_refusals(void)
{
	struct side a;

	/* RFC 7590: no STARTTLS offered, no stream */
	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "s", NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	(void)written(&a);
	feed(&a, P_HDR1 "<stream:features><dialback xmlns='urn:xmpp:"
	     "features:dialback'/></stream:features>");
	CU_ASSERT_STRING_EQUAL(written(&a), SE("policy-violation"));
	CU_ASSERT_EQUAL(a.closed_err, XMPP_SERR_POLICY_VIOLATION);
	side_free(&a);

	/* a header from someone else */
	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "s", NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	(void)written(&a);
	feed(&a, "<stream:stream " NS " id='1' from='evil.test' "
	     "version='1.0'>");
	CU_ASSERT_STRING_EQUAL(written(&a), SE("invalid-from"));
	side_free(&a);

	/* the peer's stream error is reported as the peer's */
	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "s", NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	(void)written(&a);
	feed(&a, P_HDR1 "<stream:error><host-unknown xmlns='urn:ietf:params:"
	     "xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:"
	     "xmpp-streams'>no such host</text></stream:error>");
	CU_ASSERT_STRING_EQUAL(written(&a), "</stream:stream>");
	CU_ASSERT_EQUAL(a.closed_err, XMPP_SERR_HOST_UNKNOWN);
	CU_ASSERT(a.closed_by_peer);
	side_free(&a);

	/* STARTTLS refused by the peer */
	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "s", NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	feed(&a, P_HDR1 "<stream:features><starttls xmlns='urn:ietf:params:"
	     "xml:ns:xmpp-tls'/></stream:features><failure xmlns='urn:ietf:"
	     "params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_CLOSED);
	CU_ASSERT(a.closed_by_peer);
	CU_ASSERT_EQUAL(a.ntls, 0);
	side_free(&a);
}

/* db:result type=invalid refuses our key; type=error (XEP-0220 2.4:
 * the peer could not check it now) is no refusal, and the close says
 * so. */
static void test_outbound_db_error(void)
{
	static const struct {
		const char *type;
		enum xmpp_serr err;
	} tv[] = {
		{"invalid", XMPP_SERR_NOT_AUTHORIZED},
		{"error", XMPP_SERR_REMOTE_CONNECTION_FAILED},
	};
	char in[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct side a;

		side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test",
			  "acme-secret", NULL);
		CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
		feed(&a, P_HDR1 "<stream:features><starttls xmlns='urn:ietf:"
		     "params:xml:ns:xmpp-tls'><required/></starttls>"
		     "</stream:features>");
		feed(&a, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
		CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(a.s), 0);
		feed(&a, P_HDR2 "<stream:features><dialback xmlns='urn:xmpp:"
		     "features:dialback'><errors/></dialback>"
		     "</stream:features>");
		CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_DIALBACK);
		(void)events(&a);
		(void)re_snprintf(in, sizeof(in), "<db:result from='xmpp.test'"
				  " to='acme.test' type='%s'>%s</db:result>",
				  tv[i].type, !strcmp(tv[i].type, "error") ?
				  "<error type='wait'><remote-server-timeout "
				  "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
				  "</error>" : "");
		feed(&a, in);
		CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_CLOSED);
		CU_ASSERT_EQUAL(a.closed_err, tv[i].err);
		CU_ASSERT(!xmpp_s2s_authed(a.s, "xmpp.test"));
		side_free(&a);
	}
}

/* ---- SASL EXTERNAL (XEP-0178) ---- */

#define SASL "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
#define P_HDR3 "<?xml version='1.0'?><stream:stream xmlns:db='jabber:" \
	"server:dialback' xmlns:stream='http://etherx.jabber.org/streams' " \
	"xml:lang='en' version='1.0' xmlns='jabber:server' " \
	"id='77aa01' from='xmpp.test' to='acme.test'>"
/* what Prosody 0.12 offers a peer whose certificate it verified */
#define P_FEAT_EXT "<stream:features><mechanisms " SASL "><mechanism>" \
	"EXTERNAL</mechanism></mechanisms><dialback xmlns='urn:xmpp:" \
	"features:dialback'><errors/></dialback></stream:features>"
/* base64("acme.test") */
#define OUR_AUTH "<auth " SASL " mechanism='EXTERNAL'>YWNtZS50ZXN0</auth>"

static void test_sasl_names(void)
{
	unsigned c;

	CU_ASSERT_STRING_EQUAL(xmpp_sasl_name(XMPP_SASL_OK), "");
	CU_ASSERT_STRING_EQUAL(xmpp_sasl_name(XMPP_SASL_INVALID_AUTHZID),
			       "invalid-authzid");
	for (c = 1; c < XMPP_SASL_MAX; c++)
		CU_ASSERT_EQUAL(xmpp_sasl_from_name(xmpp_sasl_name(c)), c);
	CU_ASSERT_EQUAL(xmpp_sasl_from_name("bogus"),
			XMPP_SASL_NOT_AUTHORIZED);
	CU_ASSERT_EQUAL(xmpp_sasl_from_name(NULL), XMPP_SASL_NOT_AUTHORIZED);
}

/* Outbound up to the features after TLS, EXTERNAL allowed or not. */
static void outbound_tls(struct side *a, bool ext)
{
	side_init(a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "acme-secret",
		  NULL);
	CU_ASSERT_EQUAL(xmpp_s2s_start(a->s), 0);
	feed(a, P_HDR1 "<stream:features><starttls xmlns='urn:ietf:params:"
	     "xml:ns:xmpp-tls'><required/></starttls></stream:features>");
	feed(a, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	xmpp_s2s_external(a->s, ext);
	CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(a->s), 0);
	feed(a, P_HDR2);
	(void)written(a);
	(void)events(a);
}

static void test_outbound_external(void)
{
	struct side a;
	struct xmpp_el *msg;

	outbound_tls(&a, true);
	feed(&a, P_FEAT_EXT);
	CU_ASSERT_STRING_EQUAL(written(&a), OUR_AUTH);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_SASL);
	CU_ASSERT_STRING_EQUAL(xmpp_s2s_state_name(XMPP_S2S_SASL), "sasl");

	/* RFC 6120 6.4.6: success, then a new stream on the connection */
	feed(&a, "<success " SASL "/>");
	CU_ASSERT_STRING_EQUAL(written(&a), OUR_HDR);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_OPENING);
	CU_ASSERT_STRING_EQUAL(events(&a), "");
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, NULL), EINVAL);
	feed(&a, P_HDR3 "<stream:features/>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[authed xmpp.test external]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_READY);
	CU_ASSERT_STRING_EQUAL(written(&a), "");

	CU_ASSERT_EQUAL(xmpp_el_alloc(&msg, "message", XMPP_NS_SERVER), 0);
	(void)xmpp_el_set_attr(msg, "from", NULL, "alice.smith@acme.test");
	(void)xmpp_el_set_attr(msg, "to", NULL, "bob@xmpp.test");
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, msg), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), "<message from=\"alice.smith@"
			       "acme.test\" to=\"bob@xmpp.test\"/>");
	mem_deref(msg);
	side_free(&a);

	/* the peer refuses: the stream ends, without a stream error */
	outbound_tls(&a, true);
	feed(&a, P_FEAT_EXT);
	(void)written(&a);
	feed(&a, "<failure " SASL "><not-authorized/><text>no</text>"
	     "</failure>");
	CU_ASSERT_STRING_EQUAL(written(&a), "</stream:stream>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[sasl-failed not-authorized]"
			       "[closed ok]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_CLOSED);
	CU_ASSERT_EQUAL(a.nauthed, 0);
	side_free(&a);

	outbound_tls(&a, true);
	feed(&a, P_FEAT_EXT);
	(void)written(&a);
	feed(&a, "<failure " SASL "><invalid-authzid/></failure>");
	CU_ASSERT_EQUAL(a.sasl_failed, XMPP_SASL_INVALID_AUTHZID);
	side_free(&a);

	/* a certificate we could not verify for the peer: dialback */
	outbound_tls(&a, false);
	feed(&a, P_FEAT_EXT);
	CU_ASSERT(!strncmp(written(&a), "<db:result from='acme.test' "
			   "to='xmpp.test'>", 42));
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_DIALBACK);
	side_free(&a);

	/* EXTERNAL allowed, not offered: dialback */
	outbound_tls(&a, true);
	feed(&a, "<stream:features><mechanisms " SASL "><mechanism>PLAIN"
	     "</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:"
	     "dialback'/></stream:features>");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_DIALBACK);
	side_free(&a);

	/* anything but success or failure to our <auth/> */
	outbound_tls(&a, true);
	feed(&a, P_FEAT_EXT);
	(void)written(&a);
	feed(&a, "<db:result from='xmpp.test' to='acme.test' "
	     "type='valid'/>");
	CU_ASSERT_STRING_EQUAL(written(&a), SE("unsupported-stanza-type"));
	CU_ASSERT_EQUAL(a.nauthed, 0);
	side_free(&a);
}

/* An inbound stream past TLS, EXTERNAL offered when ext. */
static void inbound_tls(struct side *b, bool ext, int verdict)
{
	side_init(b, XMPP_S2S_IN, "acme.test", NULL, "acme-secret", "s2s-7");
	b->ext = ext;
	b->sasl_verdict = verdict;
	feed(b, IN_HDR "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(b->s), 0);
	(void)written(b);
	feed(b, IN_HDR);
}

#define OUR_FEAT_EXT "<stream:features><mechanisms " SASL "><mechanism>" \
	"EXTERNAL</mechanism></mechanisms><dialback xmlns='urn:xmpp:" \
	"features:dialback'><errors/></dialback></stream:features>"
#define OUR_FEAT_DB "<stream:features><dialback xmlns='urn:xmpp:" \
	"features:dialback'><errors/></dialback></stream:features>"
#define FAIL(c) "<failure " SASL "><" c "/></failure>"

static void test_inbound_external(void)
{
	static const struct {
		const char *what, *auth, *want;
		enum xmpp_sasl cond;
	} tv[] = {
		{"other mechanism", "<auth " SASL " mechanism='PLAIN'>AGEAYg=="
		 "</auth>", FAIL("invalid-mechanism"),
		 XMPP_SASL_INVALID_MECHANISM},
		{"no mechanism", "<auth " SASL ">=</auth>",
		 FAIL("invalid-mechanism"), XMPP_SASL_INVALID_MECHANISM},
		{"no response", "<auth " SASL " mechanism='EXTERNAL'/>",
		 FAIL("malformed-request"), XMPP_SASL_MALFORMED_REQUEST},
		{"not base64", "<auth " SASL " mechanism='EXTERNAL'>eG1w!A=="
		 "</auth>", FAIL("incorrect-encoding"),
		 XMPP_SASL_INCORRECT_ENCODING},
		{"bad length", "<auth " SASL " mechanism='EXTERNAL'>eG1wcA"
		 "</auth>", FAIL("incorrect-encoding"),
		 XMPP_SASL_INCORRECT_ENCODING},
		/* base64("evil.test") */
		{"other authzid", "<auth " SASL " mechanism='EXTERNAL'>"
		 "ZXZpbC50ZXN0</auth>", FAIL("invalid-authzid"),
		 XMPP_SASL_INVALID_AUTHZID},
	};
	struct side b;
	size_t i;

	/* EXTERNAL offered with dialback; "=" is the empty authzid */
	inbound_tls(&b, true, XMPP_SASL_OK);
	CU_ASSERT_STRING_EQUAL(written(&b), IN_REPLY OUR_FEAT_EXT);
	CU_ASSERT_STRING_EQUAL(events(&b), "[header xmpp.test][tls][header xmpp.test]");
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), "<success " SASL "/>");
	CU_ASSERT_STRING_EQUAL(events(&b), "[sasl-auth xmpp.test]"
			       "[authed xmpp.test external]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_OPENING);
	/* the restarted stream: no EXTERNAL again, stanzas accepted */
	feed(&b, IN_HDR);
	CU_ASSERT_STRING_EQUAL(written(&b), IN_REPLY OUR_FEAT_DB);
	CU_ASSERT_STRING_EQUAL(events(&b), "");
	feed(&b, "<message from='bob@xmpp.test/x' to='alice@acme.test'>"
	     "<body>hi</body></message>");
	CU_ASSERT_STRING_EQUAL(events(&b), "[stanza xmpp.test]");
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), FAIL("invalid-mechanism"));
	side_free(&b);

	/* the restarted stream must come from the domain authenticated */
	inbound_tls(&b, true, XMPP_SASL_OK);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	(void)written(&b);
	feed(&b, "<stream:stream " NS " from='evil.test' to='acme.test' "
	     "version='1.0'>");
	{
		const char *w = written(&b);

		if (!strstr(w, SE("invalid-from")))
			printf("\nwrote %s [%s]\n", w, events(&b));
		CU_ASSERT(strstr(w, SE("invalid-from")) != NULL);
	}
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_CLOSED);
	side_free(&b);

	/* the authzid may be the domain itself, base64 ("xmpp.test") */
	inbound_tls(&b, true, XMPP_SASL_OK);
	(void)written(&b);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>eG1wcC50ZXN0</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), "<success " SASL "/>");
	CU_ASSERT(xmpp_s2s_authed(b.s, "xmpp.test"));
	side_free(&b);

	/* the caller says no: a failure, the stream stays for dialback */
	inbound_tls(&b, true, XMPP_SASL_NOT_AUTHORIZED);
	(void)written(&b);
	(void)events(&b);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), FAIL("not-authorized"));
	CU_ASSERT_STRING_EQUAL(events(&b), "[sasl-auth xmpp.test]"
			       "[sasl-failed not-authorized]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
	CU_ASSERT(!xmpp_s2s_authed(b.s, "xmpp.test"));
	side_free(&b);

	/* no valid certificate: not offered, and refused when asked */
	inbound_tls(&b, false, XMPP_SASL_OK);
	CU_ASSERT_STRING_EQUAL(written(&b), IN_REPLY OUR_FEAT_DB);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), FAIL("invalid-mechanism"));
	CU_ASSERT_EQUAL(b.nauthed, 0);
	side_free(&b);

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		const char *got;

		inbound_tls(&b, true, XMPP_SASL_OK);
		(void)written(&b);
		(void)events(&b);
		feed(&b, tv[i].auth);
		got = written(&b);
		if (strcmp(got, tv[i].want))
			printf("\n%s: wrote\n%s\n", tv[i].what, got);
		CU_ASSERT_STRING_EQUAL(got, tv[i].want);
		CU_ASSERT_EQUAL(b.sasl_failed, tv[i].cond);
		CU_ASSERT_EQUAL(b.nauthed, 0);
		CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
		side_free(&b);
	}

	/* decided later; nothing else may come meanwhile */
	inbound_tls(&b, true, -1);
	(void)written(&b);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>");
	CU_ASSERT_STRING_EQUAL(written(&b), "");
	CU_ASSERT_EQUAL(xmpp_s2s_sasl_answer(b.s, XMPP_SASL_OK), 0);
	CU_ASSERT_STRING_EQUAL(written(&b), "<success " SASL "/>");
	CU_ASSERT_EQUAL(xmpp_s2s_sasl_answer(b.s, XMPP_SASL_OK), EINVAL);
	side_free(&b);

	inbound_tls(&b, true, -1);
	(void)written(&b);
	feed(&b, "<auth " SASL " mechanism='EXTERNAL'>=</auth>"
	     "<db:result from='xmpp.test' to='acme.test'>00</db:result>");
	CU_ASSERT_STRING_EQUAL(written(&b), SE("policy-violation"));
	side_free(&b);
}

/* Our own two sides, both with certificates the other verified. */
static void test_pair_external(void)
{
	struct side a, b;
	struct xmpp_el *pres;

	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "acme-secret",
		  NULL);
	side_init(&b, XMPP_S2S_IN, "xmpp.test", NULL, "xmpp-secret",
		  "s2s-E1");
	a.peer = &b;
	b.peer = &a;
	a.ext = b.ext = true;
	b.sasl_verdict = XMPP_SASL_OK;
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	pump(&a, &b);
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_READY);
	CU_ASSERT_EQUAL(xmpp_s2s_state(b.s), XMPP_S2S_READY);
	CU_ASSERT_STRING_EQUAL(events(&a), "[tls][authed xmpp.test external]");
	CU_ASSERT_STRING_EQUAL(events(&b), "[header acme.test][tls][header acme.test]"
			       "[sasl-auth acme.test]"
			       "[authed acme.test external]");

	CU_ASSERT_EQUAL(xmpp_el_alloc(&pres, "presence", XMPP_NS_SERVER), 0);
	(void)xmpp_el_set_attr(pres, "from", NULL, "alice.smith@acme.test");
	(void)xmpp_el_set_attr(pres, "to", NULL, "bob@xmpp.test");
	CU_ASSERT_EQUAL(xmpp_s2s_send(a.s, pres), 0);
	pump(&a, &b);
	CU_ASSERT_STRING_EQUAL(events(&b), "[stanza acme.test]");
	mem_deref(pres);
	side_free(&a);
	side_free(&b);
}

/* Which features xmpp_features_offer() tells, from parsed elements. */
static void offer_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	unsigned *f = arg;

	if (ev == XMPP_EV_ELEMENT)
		*f = xmpp_features_offer(el);
}

static unsigned offer(const char *features)
{
	struct xmpp_parse *p = NULL;
	unsigned f = 0xffff;

	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, NULL, offer_h, &f) == 0);
	(void)xmpp_parse_feed(p, P_HDR1, strlen(P_HDR1));
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, features, strlen(features)), 0);
	mem_deref(p);
	return f;
}

static void test_features_offer(void)
{
	CU_ASSERT_EQUAL(offer("<stream:features><starttls xmlns='urn:ietf:"
			      "params:xml:ns:xmpp-tls'><required/></starttls>"
			      "</stream:features>"),
			XMPP_FEAT_STARTTLS | XMPP_FEAT_TLS_REQUIRED);
	CU_ASSERT_EQUAL(offer("<stream:features><starttls xmlns='urn:ietf:"
			      "params:xml:ns:xmpp-tls'/><dialback xmlns='urn:"
			      "xmpp:features:dialback'><errors/></dialback>"
			      "</stream:features>"),
			XMPP_FEAT_STARTTLS | XMPP_FEAT_DIALBACK);
	CU_ASSERT_EQUAL(offer("<stream:features><mechanisms xmlns='urn:ietf:"
			      "params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL"
			      "</mechanism></mechanisms><dialback xmlns='urn:"
			      "xmpp:features:dialback'/></stream:features>"),
			XMPP_FEAT_SASL_EXTERNAL | XMPP_FEAT_DIALBACK);
	CU_ASSERT_EQUAL(offer("<stream:features><mechanisms xmlns='urn:ietf:"
			      "params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
			      "</mechanism></mechanisms></stream:features>"),
			XMPP_FEAT_SASL_OTHER);
	/* the names count only in their namespaces */
	CU_ASSERT_EQUAL(offer("<stream:features><dialback xmlns='urn:x'/>"
			      "<mechanisms xmlns='urn:y'><mechanism>EXTERNAL"
			      "</mechanism></mechanisms><starttls/>"
			      "</stream:features>"), 0);
	CU_ASSERT_EQUAL(offer("<stream:stuff/>"), 0);
	CU_ASSERT_EQUAL(xmpp_features_offer(NULL), 0);
}

/* An outbound stream reports each features element before acting on
 * it; closed at the second (over TLS), no dialback key goes out. */
static void test_outbound_features_close(void)
{
	struct side a;

	side_init(&a, XMPP_S2S_OUT, "acme.test", "xmpp.test", "s", NULL);
	a.close_at_features = 2;
	CU_ASSERT_EQUAL(xmpp_s2s_start(a.s), 0);
	(void)written(&a);
	feed(&a, P_HDR1 "<stream:features><starttls xmlns='urn:ietf:params:"
	     "xml:ns:xmpp-tls'><required/></starttls></stream:features>");
	CU_ASSERT_EQUAL(a.nfeatures, 1);
	CU_ASSERT_EQUAL(a.feat_offer, XMPP_FEAT_STARTTLS |
			XMPP_FEAT_TLS_REQUIRED);
	CU_ASSERT_STRING_EQUAL(written(&a), "<starttls xmlns='urn:ietf:"
			       "params:xml:ns:xmpp-tls'/>");
	feed(&a, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
	CU_ASSERT_EQUAL(xmpp_s2s_tls_ready(a.s), 0);
	CU_ASSERT_STRING_EQUAL(written(&a), OUR_HDR);
	feed(&a, P_HDR2 "<stream:features><dialback xmlns='urn:xmpp:features:"
	     "dialback'><errors/></dialback><mechanisms xmlns='urn:ietf:"
	     "params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism>"
	     "</mechanisms></stream:features>");
	CU_ASSERT_EQUAL(a.nfeatures, 2);
	CU_ASSERT_EQUAL(a.feat_offer, XMPP_FEAT_DIALBACK |
			XMPP_FEAT_SASL_EXTERNAL);
	/* the closing tag alone: no db:result */
	CU_ASSERT_STRING_EQUAL(written(&a), "</stream:stream>");
	CU_ASSERT_STRING_EQUAL(events(&a), "[tls][closed ok]");
	CU_ASSERT_EQUAL(xmpp_s2s_state(a.s), XMPP_S2S_CLOSED);
	CU_ASSERT_EQUAL(a.nauthed, 0);
	side_free(&a);
}

static CU_TestInfo s2s_tests[] = {
	{"features offered", test_features_offer},
	{"outbound closed at its features", test_outbound_features_close},
	{"dialback key vectors", test_db_key},
	{"the domain of a JID", test_jid_domain},
	{"outbound against a server's transcript", test_outbound_transcript},
	{"outbound and inbound together", test_pair},
	{"a wrong dialback key", test_pair_wrong_key},
	{"db:verify as authoritative server", test_verify},
	{"inbound refusals", test_inbound_refusals},
	{"inbound addressing", test_inbound_addressing},
	{"dialback: eight domains a stream", test_dialback_domains},
	{"db:verify: the key is text", test_verify_key_text},
	{"outbound refusals", test_outbound_refusals},
	{"db:result type=error is no refusal", test_outbound_db_error},
	{"SASL condition names", test_sasl_names},
	{"SASL EXTERNAL outbound", test_outbound_external},
	{"SASL EXTERNAL inbound", test_inbound_external},
	{"SASL EXTERNAL both ends", test_pair_external},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"xmpp_s2s", NULL, NULL, NULL, NULL, s2s_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
