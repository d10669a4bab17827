/*
 * test_xmpp_parse.c -- the bounded XMPP stream parser (xmpp_parse.c)
 * and the element model (xmpp_el.c): streams as Prosody and ejabberd
 * send them, fed whole, a byte at a time and in irregular chunks, must
 * give the same header, elements and end; each thing RFC 6120 section
 * 11 forbids and each limit gets the stream error it names, whatever
 * the chunking.
 */
#include <string.h>

#include <re.h>

#include "lib/cutest.h"
#include "xmpp/xmpp.h"

#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams' " \
	"xmlns:db='jabber:server:dialback' from='xmpp.test' " \
	"to='acme.test' id='c2s-1' version='1.0' xml:lang='en'>"

/* What a stream gave, written as one string: "H[from,to,id,version]"
 * for the header, each element as xmpp_el_encode() writes it (in the
 * content namespace), "|END" for the end. */
struct rec {
	struct mbuf *mb;
	const char *cns;
	unsigned nel;
	bool reset_on;         /* reset when <proceed/> arrives */
};

static void rec_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	struct rec *r = arg;

	switch (ev) {
	case XMPP_EV_HEADER:
		(void)mbuf_printf(r->mb, "H[%s,%s,%s,%s,%s]",
				  xmpp_el_attr(el, "from"),
				  xmpp_el_attr(el, "to"),
				  xmpp_el_attr(el, "id"),
				  xmpp_el_attr(el, "version"),
				  xmpp_el_attr_ns(el, "lang", XMPP_NS_XML));
		break;
	case XMPP_EV_ELEMENT:
		++r->nel;
		(void)mbuf_write_u8(r->mb, '|');
		(void)xmpp_el_encode(r->mb, el, r->cns);
		break;
	case XMPP_EV_END:
		(void)mbuf_write_str(r->mb, "|END");
		break;
	}
}

/* Deterministic irregular chunk sizes. */
static size_t chunk_len(unsigned *seed, unsigned how)
{
	if (how == 0)
		return (size_t)-1;
	if (how == 1)
		return 1;
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 16) % (how * 7);
}

/* Feed s in chunks chosen by how (0 whole, 1 byte at a time, else
 * irregular); the record string goes to out, the error is returned. */
static enum xmpp_serr run(const char *s, size_t len,
			  const struct xmpp_limits *lim, unsigned how,
			  char *out, size_t outsz)
{
	struct xmpp_parse *p = NULL;
	struct rec r = {0};
	unsigned seed = 7 + how;
	size_t off = 0;
	enum xmpp_serr e;
	int err = 0;

	r.mb = mbuf_alloc(256);
	r.cns = XMPP_NS_SERVER;
	CU_ASSERT_FATAL(r.mb != NULL);
	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, lim, rec_h, &r) == 0);
	while (off < len && !err) {
		size_t n = chunk_len(&seed, how);

		if (n > len - off)
			n = len - off;
		err = xmpp_parse_feed(p, s + off, n);
		off += n;
	}
	e = xmpp_parse_error(p);
	CU_ASSERT_EQUAL(err, e ? EPROTO : 0);
	if (e) {
		/* a refused stream stays refused */
		CU_ASSERT_EQUAL(xmpp_parse_feed(p, "<a/>", 4), EPROTO);
		CU_ASSERT_EQUAL(xmpp_parse_error(p), e);
	}
	if (out) {
		size_t n = r.mb->end < outsz - 1 ? r.mb->end : outsz - 1;

		memcpy(out, r.mb->buf, n);
		out[n] = '\0';
	}
	mem_deref(p);
	mem_deref(r.mb);
	return e;
}

static const unsigned hows[] = {0, 1, 2, 3, 5, 11, 40};
#define NHOW (sizeof(hows) / sizeof(hows[0]))

static void test_stream_chunkings(void)
{
	static const char s[] = HDR
		"<stream:features><dialback xmlns='urn:xmpp:features:dialback'"
		"/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
		"<required/></starttls></stream:features>\n"
		"<db:result from='xmpp.test' to='acme.test'>"
		"b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3"
		"</db:result> \r\n\t"
		"<message from='bob@xmpp.test/x' to='alice.smith@acme.test' "
		"type='chat' id='m1'><body>a &lt;b&gt; &amp; &#x263A; "
		"&quot;q&apos; <![CDATA[<raw>]]></body>"
		"<x:y xmlns:x='urn:example:x' x:attr='1'/></message>"
		"<presence from='bob@xmpp.test/x'><show>away</show></presence>"
		"</stream:stream>";
	static const char want[] =
		"H[xmpp.test,acme.test,c2s-1,1.0,en]"
		"|<features xmlns=\"http://etherx.jabber.org/streams\">"
		"<dialback xmlns=\"urn:xmpp:features:dialback\"/>"
		"<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\">"
		"<required/></starttls></features>"
		"|<result xmlns=\"jabber:server:dialback\" from=\"xmpp.test\" "
		"to=\"acme.test\">"
		"b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3"
		"</result>"
		"|<message from=\"bob@xmpp.test/x\" to=\"alice.smith@acme.test\" "
		"type=\"chat\" id=\"m1\"><body>a &lt;b&gt; &amp; \xe2\x98\xba "
		"\"q' &lt;raw&gt;</body>"
		"<y xmlns=\"urn:example:x\" xmlns:a0=\"urn:example:x\" "
		"a0:attr=\"1\"/></message>"
		"|<presence from=\"bob@xmpp.test/x\"><show>away</show></presence>"
		"|END";
	char got[2048];
	unsigned i;

	for (i = 0; i < NHOW; i++) {
		CU_ASSERT_EQUAL(run(s, sizeof(s) - 1, NULL, hows[i], got,
				    sizeof(got)), XMPP_SERR_NONE);
		if (strcmp(got, want))
			printf("\nchunking %u: got\n%s\n", hows[i], got);
		CU_ASSERT_STRING_EQUAL(got, want);
	}
}

/* An element written by xmpp_el_encode() reads back the same. */
static void test_encode_roundtrip(void)
{
	static const char s[] = HDR
		"<iq type='get' id='a&amp;b\"' xml:lang='de'>"
		"<query xmlns='jabber:iq:version'><name>n&#13;\n\tx</name>"
		"<e xmlns=''/></query></iq>";
	char first[1024], again[2048];
	struct mbuf *mb = mbuf_alloc(512);
	const char *el;

	CU_ASSERT_FATAL(mb != NULL);
	CU_ASSERT_EQUAL(run(s, sizeof(s) - 1, NULL, 0, first, sizeof(first)),
			XMPP_SERR_NONE);
	el = strchr(first, '|');
	CU_ASSERT_FATAL(el != NULL);
	(void)mbuf_write_str(mb, HDR);
	(void)mbuf_write_str(mb, el + 1);
	CU_ASSERT_EQUAL(run((char *)mb->buf, mb->end, NULL, 1, again,
			    sizeof(again)), XMPP_SERR_NONE);
	if (strcmp(again, first))
		printf("\nfirst %s\nagain %s\n", first, again);
	CU_ASSERT_STRING_EQUAL(again, first);
	CU_ASSERT(strstr(first, "xml:lang=\"de\"") != NULL);
	CU_ASSERT(strstr(first, "<e xmlns=\"\"/>") != NULL);
	CU_ASSERT(strstr(first, "n&#13;\n\tx") != NULL);
	mem_deref(mb);
}

struct refusal {
	const char *what;
	const char *s;
	enum xmpp_serr want;
	const char *before;   /* what was handed out before the refusal */
};

static const struct xmpp_limits small = {
	.stanza_max = 200, .depth_max = 4, .attr_max = 4, .nsdecl_max = 2
};

static void check_refusals(const struct refusal *tv, size_t n,
			   const struct xmpp_limits *lim)
{
	char got[1024];
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < NHOW; j++) {
			enum xmpp_serr e = run(tv[i].s, strlen(tv[i].s), lim,
					       hows[j], got, sizeof(got));

			if (e != tv[i].want || strcmp(got, tv[i].before))
				printf("\n%s (chunking %u): got %s \"%s\", "
				       "want %s \"%s\"\n", tv[i].what,
				       hows[j], xmpp_serr_name(e), got,
				       xmpp_serr_name(tv[i].want),
				       tv[i].before);
			CU_ASSERT_EQUAL(e, tv[i].want);
			CU_ASSERT_STRING_EQUAL(got, tv[i].before);
		}
	}
}

#define H "H[xmpp.test,acme.test,c2s-1,1.0,en]"

static void test_restricted(void)
{
	static const struct refusal tv[] = {
		{"comment", HDR "<!-- hi -->", XMPP_SERR_RESTRICTED_XML, H},
		{"comment in stanza", HDR "<message><!-- x --></message>",
		 XMPP_SERR_RESTRICTED_XML, H},
		{"processing instruction", HDR "<?php x?>",
		 XMPP_SERR_RESTRICTED_XML, H},
		{"DOCTYPE", "<?xml version='1.0'?><!DOCTYPE stream>" HDR,
		 XMPP_SERR_RESTRICTED_XML, ""},
		{"entity declaration",
		 "<!DOCTYPE s [<!ENTITY a 'aaaaaaaa'>]>" HDR,
		 XMPP_SERR_RESTRICTED_XML, ""},
		{"entity reference", HDR "<message><body>&a;</body></message>",
		 XMPP_SERR_RESTRICTED_XML, H},
		{"external entity", HDR "<message>&xxe;</message>",
		 XMPP_SERR_RESTRICTED_XML, H},
	};

	check_refusals(tv, sizeof(tv) / sizeof(tv[0]), NULL);
}

static void test_malformed(void)
{
	static const struct refusal tv[] = {
		{"mismatched end tag", HDR "<message><body></message>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"duplicate attribute", HDR "<message to='a' to='b'/>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"undeclared prefix", HDR "<foo:message/>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"bad name", HDR "<1message/>", XMPP_SERR_NOT_WELL_FORMED, H},
		{"bad UTF-8", HDR "<message>\xc3\x28</message>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"overlong UTF-8 in text", HDR "<message>a\xc1\xb8" "b</message>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"overlong UTF-8 in an attribute", HDR "<message id='\xc0\xaf'/>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"surrogate", HDR "<message>\xed\xa0\x80</message>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"NUL", HDR "<message>\x01</message>",
		 XMPP_SERR_NOT_WELL_FORMED, H},
		{"after the end", HDR "</stream:stream><message/>",
		 XMPP_SERR_NOT_WELL_FORMED, H "|END"},
		{"text between stanzas", HDR "<presence/>hello<presence/>",
		 XMPP_SERR_BAD_FORMAT, H "|<presence/>"},
		{"wrong stream namespace",
		 "<stream:stream xmlns:stream='urn:example:streams'>",
		 XMPP_SERR_INVALID_NAMESPACE, ""},
		{"not a stream", "<html xmlns='jabber:server'>",
		 XMPP_SERR_INVALID_NAMESPACE, ""},
		{"stream without namespace", "<stream>",
		 XMPP_SERR_INVALID_NAMESPACE, ""},
		{"Latin-1", "<?xml version='1.0' encoding='ISO-8859-1'?>"
		 "<stream:stream xmlns:stream='http://etherx.jabber.org/"
		 "streams'>", XMPP_SERR_UNSUPPORTED_ENCODING, ""},
	};

	check_refusals(tv, sizeof(tv) / sizeof(tv[0]), NULL);
}

#define SH "<stream:stream xmlns='jabber:server' " \
	"xmlns:stream='http://etherx.jabber.org/streams' from='a' " \
	"to='b' id='c' version='1.0'>"
#define SHR "H[a,b,c,1.0,]"

static void test_limits(void)
{
	static const struct refusal tv[] = {
		{"depth 5", SH "<a><b><c><d><e/></d></c></b></a>",
		 XMPP_SERR_POLICY_VIOLATION, SHR},
		{"depth 4", SH "<a><b><c><d/></c></b></a>",
		 XMPP_SERR_NONE, SHR "|<a><b><c><d/></c></b></a>"},
		{"5 attributes", SH "<a v='' w='' x='' y='' z=''/>",
		 XMPP_SERR_POLICY_VIOLATION, SHR},
		{"4 attributes", SH "<a w='' x='' y='' z=''/>",
		 XMPP_SERR_NONE, SHR "|<a w=\"\" x=\"\" y=\"\" z=\"\"/>"},
		{"3 namespace declarations in one stanza",
		 SH "<a xmlns:p='urn:p'><b xmlns='urn:b'/>"
		 "<c xmlns='urn:c'/></a>", XMPP_SERR_POLICY_VIOLATION, SHR},
		{"2 namespace declarations, then 2 more",
		 SH "<a xmlns:p='urn:p'><b xmlns='urn:b'/></a>"
		 "<a xmlns:p='urn:p'><b xmlns='urn:b'/></a>", XMPP_SERR_NONE,
		 SHR "|<a><b xmlns=\"urn:b\"/></a>|<a><b xmlns=\"urn:b\"/></a>"},
		{"3 namespace declarations in the header",
		 "<stream:stream xmlns='jabber:server' xmlns:db='d' "
		 "xmlns:stream='http://etherx.jabber.org/streams'>",
		 XMPP_SERR_POLICY_VIOLATION, ""},
		{"stanza of 201 bytes",
		 SH "<message><body>"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "012345678</body></message>",
		 XMPP_SERR_POLICY_VIOLATION, SHR},
		{"stanza of 200 bytes",
		 SH "<message><body>"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "01234567</body></message>",
		 XMPP_SERR_NONE, SHR "|<message><body>"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789"
		 "01234567</body></message>"},
	};

	check_refusals(tv, sizeof(tv) / sizeof(tv[0]), &small);
}

/* An opening tag that never ends is refused once it passes the limit,
 * and the parser holds no more than that. */
static void test_endless_tag(void)
{
	struct xmpp_parse *p = NULL;
	struct rec r = {0};
	char buf[4096];
	unsigned i;
	int err = 0;

	r.mb = mbuf_alloc(64);
	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, NULL, rec_h, &r) == 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, SH "<message to='", strlen(SH) +
					13), 0);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < 64 && !err; i++)
		err = xmpp_parse_feed(p, buf, sizeof(buf));
	CU_ASSERT_EQUAL(err, EPROTO);
	CU_ASSERT_EQUAL(xmpp_parse_error(p), XMPP_SERR_POLICY_VIOLATION);
	/* 65536 bytes allowed: 13 + 16 * 4096 are refused */
	CU_ASSERT_EQUAL(i, 16);
	mem_deref(p);
	mem_deref(r.mb);
}

/* Whitespace keep-alives (RFC 6120 4.6.1) count against nothing. */
static void test_keepalives(void)
{
	struct xmpp_parse *p = NULL;
	struct rec r = {0};
	char sp[1000];
	unsigned i;

	memset(sp, ' ', sizeof(sp));
	r.mb = mbuf_alloc(64);
	r.cns = XMPP_NS_SERVER;
	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, &small, rec_h, &r) == 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, SH, strlen(SH)), 0);
	for (i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(xmpp_parse_feed(p, i % 2 ? sp : "\n",
						i % 2 ? sizeof(sp) : 1), 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, "<presence/>", 11), 0);
	CU_ASSERT_EQUAL(xmpp_parse_error(p), XMPP_SERR_NONE);
	CU_ASSERT_EQUAL(r.nel, 1);
	CU_ASSERT_STRING_EQUAL(xmpp_parse_content_ns(p), XMPP_NS_SERVER);
	mem_deref(p);
	mem_deref(r.mb);
}

/* Feed SH, then n stanzas; each with a new attribute name when fresh,
 * else all alike.  Returns how many were handed out; *e the error. */
static unsigned names_flood(struct xmpp_parse *p, struct rec *r, unsigned n,
			    bool fresh, enum xmpp_serr *e)
{
	char st[128];
	unsigned i;

	r->nel = 0;
	CU_ASSERT_EQUAL(xmpp_parse_feed(p, SH, strlen(SH)), 0);
	for (i = 0; i < n; i++) {
		int len = re_snprintf(st, sizeof(st), "<presence "
				      "a-rather-long-attribute-name-%08u=''/>",
				      fresh ? i : 0u);

		if (xmpp_parse_feed(p, st, (size_t)len))
			break;
		r->mb->pos = r->mb->end = 0;	/* keep no record */
	}
	*e = xmpp_parse_error(p);
	return r->nel;
}

/* Every stanza within its limits, but each with a name never seen:
 * the parser keeps each name for the stream's life, so the stream is
 * refused (resource-constraint) once they pass names_max, a restart
 * (STARTTLS, SASL) does not start the count afresh, and a long stream
 * of the names a server really uses is never refused. */
static void test_names(void)
{
	struct xmpp_parse *p = NULL;
	struct rec r = {0};
	enum xmpp_serr e;
	unsigned n;

	r.mb = mbuf_alloc(256);
	r.cns = XMPP_NS_SERVER;
	CU_ASSERT_FATAL(r.mb != NULL);

	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, NULL, rec_h, &r) == 0);
	n = names_flood(p, &r, 40000, true, &e);
	CU_ASSERT_EQUAL(e, XMPP_SERR_RESOURCE_CONSTRAINT);
	/* 47 bytes a name: refused past some 5600, not before 2000 */
	CU_ASSERT(n > 2000 && n < 40000);
	mem_deref(p);

	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, NULL, rec_h, &r) == 0);
	n = names_flood(p, &r, 3000, true, &e);
	CU_ASSERT_EQUAL(e, XMPP_SERR_NONE);
	CU_ASSERT_EQUAL(xmpp_parse_reset(p), 0);
	n = names_flood(p, &r, 40000, true, &e);
	CU_ASSERT_EQUAL(e, XMPP_SERR_RESOURCE_CONSTRAINT);
	CU_ASSERT(n < 40000);
	mem_deref(p);

	CU_ASSERT_FATAL(xmpp_parse_alloc(&p, NULL, rec_h, &r) == 0);
	n = names_flood(p, &r, 60000, false, &e);
	CU_ASSERT_EQUAL(e, XMPP_SERR_NONE);
	CU_ASSERT_EQUAL(n, 60000);
	mem_deref(p);
	mem_deref(r.mb);
}

/* STARTTLS: the handler restarts the parser on <proceed/>; the bytes
 * after it in the same read are dropped; the new stream is read. */
static struct xmpp_parse *restart_p;

static void restart_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	rec_h(ev, el, arg);
	if (ev == XMPP_EV_ELEMENT && xmpp_el_is(el, "proceed", XMPP_NS_TLS))
		CU_ASSERT_EQUAL(xmpp_parse_reset(restart_p), 0);
}

static void test_restart(void)
{
	static const char one[] = SH
		"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
		"\x16\x03\x01\x02\x00\x01";
	static const char two[] = "<?xml version='1.0'?>" SH
		"<stream:features/>";
	struct rec r = {0};
	char got[512];

	r.mb = mbuf_alloc(64);
	r.cns = XMPP_NS_SERVER;
	CU_ASSERT_FATAL(xmpp_parse_alloc(&restart_p, NULL, restart_h,
					 &r) == 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(restart_p, one, sizeof(one) - 1), 0);
	CU_ASSERT_EQUAL(xmpp_parse_feed(restart_p, two, sizeof(two) - 1), 0);
	CU_ASSERT_EQUAL(xmpp_parse_error(restart_p), XMPP_SERR_NONE);
	memcpy(got, r.mb->buf, r.mb->end);
	got[r.mb->end] = '\0';
	CU_ASSERT_STRING_EQUAL(got, SHR
		"|<proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>"
		SHR "|<features xmlns=\"http://etherx.jabber.org/streams\"/>");
	restart_p = mem_deref(restart_p);
	mem_deref(r.mb);
}

static void test_serr_names(void)
{
	unsigned i;

	for (i = 1; i < XMPP_SERR_MAX; i++)
		CU_ASSERT_EQUAL(xmpp_serr_from_name(xmpp_serr_name(i)), i);
	CU_ASSERT_STRING_EQUAL(xmpp_serr_name(XMPP_SERR_POLICY_VIOLATION),
			       "policy-violation");
	CU_ASSERT_EQUAL(xmpp_serr_from_name("no-such-thing"),
			XMPP_SERR_UNDEFINED_CONDITION);
	CU_ASSERT_EQUAL(xmpp_serr_from_name(NULL),
			XMPP_SERR_UNDEFINED_CONDITION);
}

static CU_TestInfo parse_tests[] = {
	{"a stream in any chunking", test_stream_chunkings},
	{"written elements read back", test_encode_roundtrip},
	{"restricted XML refused", test_restricted},
	{"malformed streams refused", test_malformed},
	{"limits", test_limits},
	{"an endless opening tag", test_endless_tag},
	{"ever new names", test_names},
	{"whitespace keep-alives", test_keepalives},
	{"restart after STARTTLS", test_restart},
	{"stream error names", test_serr_names},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"xmpp_parse", NULL, NULL, NULL, NULL, parse_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
