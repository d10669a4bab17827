/*
 * test_sst_frame.c -- stream framing: splits at every byte, several
 * messages per chunk, CRLF keep-alives, and each refusal with its code.
 */
#include <string.h>

#include <re.h>

#include "sipstack/sst_frame.h"
#include "lib/cutest.h"

static const char msg1[] =
	"MESSAGE sip:bob@example.org SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 127.0.1.1:5060;branch=z9hG4bK1\r\n"
	"From: <sip:alice@example.com>;tag=1\r\n"
	"To: <sip:bob@example.org>\r\n"
	"Call-ID: a1\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 13\r\n"
	"\r\n"
	"Hello\r\n\r\nBob!";   /* a CRLFCRLF inside a body is data */

static const char msg2[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TCP 127.0.1.1:5060;branch=z9hG4bK1\r\n"
	"l: 0\r\n"
	"\r\n";

/* Collected output of one stream. */
struct out {
	struct mbuf *msgs[16];
	unsigned n;
	unsigned pings;
	int err;
};

static void out_reset(struct out *o)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		mem_deref(o->msgs[i]);
	memset(o, 0, sizeof(*o));
}

/* Push one chunk and take everything out; remember the first error. */
static void feed(struct sst_frame *fr, struct out *o, const void *p,
		 size_t n)
{
	int err;

	err = sst_frame_push(fr, p, n);
	if (err) {
		if (!o->err)
			o->err = err;
		return;
	}

	for (;;) {
		struct mbuf *mb;
		bool ping;

		err = sst_frame_next(fr, &mb, &ping);
		if (err == ENODATA)
			return;
		if (err) {
			if (!o->err)
				o->err = err;
			return;
		}
		if (ping) {
			CU_ASSERT_PTR_NULL(mb);
			o->pings++;
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
		if (o->n < 16)
			o->msgs[o->n++] = mb;
		else
			mem_deref(mb);
	}
}

/* Limits with these two set, the rest the defaults (one at a time). */
static const struct sst_limits *lim(size_t hdr_max, size_t body_max)
{
	static struct sst_limits l;

	memset(&l, 0, sizeof(l));
	l.hdr_max = hdr_max;
	l.body_max = body_max;
	return &l;
}

static bool is_msg(const struct mbuf *mb, const char *want)
{
	return mb && mb->pos == 0 && mb->end == strlen(want) &&
		!memcmp(mb->buf, want, mb->end);
}

static void test_split_everywhere(void)
{
	char stream[sizeof(msg1) + sizeof(msg2)];
	size_t len, i;

	len = (size_t)re_snprintf(stream, sizeof(stream), "%s%s", msg1, msg2);
	CU_ASSERT_EQUAL_FATAL(len, strlen(msg1) + strlen(msg2));

	for (i = 0; i <= len; i++) {
		struct sst_frame *fr = NULL;
		struct out o;

		memset(&o, 0, sizeof(o));
		CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);

		feed(fr, &o, stream, i);
		feed(fr, &o, stream + i, len - i);

		CU_ASSERT_EQUAL(o.err, 0);
		CU_ASSERT_EQUAL(o.n, 2);
		CU_ASSERT_EQUAL(o.pings, 0);
		CU_ASSERT(is_msg(o.msgs[0], msg1));
		CU_ASSERT(is_msg(o.msgs[1], msg2));
		CU_ASSERT_EQUAL(sst_frame_buffered(fr), 0);

		out_reset(&o);
		mem_deref(fr);
	}
}

static void test_byte_by_byte(void)
{
	struct sst_frame *fr = NULL;
	char stream[2 * sizeof(msg1) + 8];
	struct out o;
	size_t len, i;

	len = (size_t)re_snprintf(stream, sizeof(stream), "\r\n%s\r\n\r\n%s",
				  msg1, msg2);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);

	for (i = 0; i < len; i++)
		feed(fr, &o, stream + i, 1);

	CU_ASSERT_EQUAL(o.err, 0);
	CU_ASSERT_EQUAL(o.n, 2);
	CU_ASSERT_EQUAL(o.pings, 1);
	CU_ASSERT(is_msg(o.msgs[0], msg1));
	CU_ASSERT(is_msg(o.msgs[1], msg2));

	out_reset(&o);
	mem_deref(fr);
}

static void test_several_in_one_chunk(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *all = mbuf_alloc(1024);
	struct out o;
	unsigned i;

	for (i = 0; i < 5; i++)
		mbuf_printf(all, "%s%s", i % 2 ? msg2 : msg1,
			    i == 2 ? "\r\n" : "");

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	feed(fr, &o, all->buf, all->end);

	CU_ASSERT_EQUAL(o.err, 0);
	CU_ASSERT_EQUAL(o.n, 5);
	CU_ASSERT_EQUAL(o.pings, 0);
	for (i = 0; i < o.n; i++)
		CU_ASSERT(is_msg(o.msgs[i], i % 2 ? msg2 : msg1));

	out_reset(&o);
	mem_deref(fr);
	mem_deref(all);
}

/* A message handed out must survive later input (own mbuf). */
static void test_own_mbuf(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *first = NULL;
	static char big[20000];
	bool ping;

	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	CU_ASSERT_EQUAL(sst_frame_push(fr, (const uint8_t *)msg2,
				       strlen(msg2)), 0);
	CU_ASSERT_EQUAL(sst_frame_push(fr, (const uint8_t *)msg1, 10), 0);
	CU_ASSERT_EQUAL(sst_frame_next(fr, &first, &ping), 0);
	CU_ASSERT_EQUAL(sst_frame_next(fr, &(struct mbuf *){NULL}, &ping),
			ENODATA);

	/* grow the stream buffer well past its first allocation */
	memset(big, 'a', sizeof(big));
	CU_ASSERT_EQUAL(sst_frame_push(fr, (const uint8_t *)big,
				       sizeof(big)), 0);
	CU_ASSERT(is_msg(first, msg2));

	mem_deref(first);
	mem_deref(fr);
}

static void test_keepalive(void)
{
	static const struct {
		const char *chunks[4];
		unsigned pings;
		unsigned msgs;
	} tv[] = {
		{{"\r\n\r\n"}, 1, 0},
		{{"\r\n", "\r\n"}, 1, 0},                 /* ping split */
		{{"\r\n\r\n\r\n\r\n"}, 2, 0},
		{{"\r\n", msg2}, 0, 1},                   /* a pong */
		{{"\r", "\n\r", "\n", msg2}, 1, 1},
		{{msg2, "\r\n\r\n", msg2, "\r\n"}, 1, 2},
	};
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct sst_frame *fr = NULL;
		struct out o;

		memset(&o, 0, sizeof(o));
		CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
		for (j = 0; j < 4 && tv[i].chunks[j]; j++)
			feed(fr, &o, tv[i].chunks[j], strlen(tv[i].chunks[j]));

		CU_ASSERT_EQUAL(o.err, 0);
		CU_ASSERT_EQUAL(o.pings, tv[i].pings);
		CU_ASSERT_EQUAL(o.n, tv[i].msgs);
		if (o.err || o.pings != tv[i].pings || o.n != tv[i].msgs)
			fprintf(stderr, "keepalive case %zu: err=%d pings=%u"
				" msgs=%u\n", i, o.err, o.pings, o.n);
		out_reset(&o);
		mem_deref(fr);
	}
}

static void test_refusals(void)
{
	static const struct {
		const char *in;
		int err;
		const char *reason;
	} tv[] = {
		{"MESSAGE sip:x SIP/2.0\r\nVia: x\r\n\r\n", EBADMSG,
		 "missing Content-Length"},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length: 1x\r\n\r\n",
		 EBADMSG, "non-numeric Content-Length"},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length:\r\n\r\n",
		 EBADMSG, "empty Content-Length"},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length: -1\r\n\r\n",
		 EBADMSG, "non-numeric Content-Length"},
		{"MESSAGE sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n",
		 EBADMSG, "conflicting Content-Length"},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length: 65537\r\n\r\n",
		 EMSGSIZE, "body too large"},
		{"MESSAGE sip:x SIP/2.0\r\n"
		 "Content-Length: 99999999999999999999999999\r\n\r\n",
		 EMSGSIZE, "body too large"},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", EBADMSG,
		 "bad start line"},
		{"GET / HTTP/1.1\r\n", EBADMSG, "bad start line"},
		{"SIP/2.0 2000 OK\r\nl: 0\r\n\r\n", EBADMSG, "bad start line"},
		{"\x16\x03\x01\x02\x00\x01", EBADMSG, "not a SIP message"},
		{"\n\nMESSAGE sip:x SIP/2.0\r\n", EBADMSG, "not a SIP message"},
		{"MESSAGE sip:x SIP/2.0\r\nbroken line\r\nl: 0\r\n\r\n",
		 EBADMSG, "header line without colon"},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length: 0\r\n 5\r\n\r\n",
		 EBADMSG, "folded Content-Length"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct sst_frame *fr = NULL;
		struct out o;

		memset(&o, 0, sizeof(o));
		CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
		feed(fr, &o, tv[i].in, strlen(tv[i].in));

		CU_ASSERT_EQUAL(o.err, tv[i].err);
		CU_ASSERT_EQUAL(o.n, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sst_frame_reason(fr));
		CU_ASSERT_STRING_EQUAL(sst_frame_reason(fr), tv[i].reason);
		if (o.err != tv[i].err)
			fprintf(stderr, "refusal case %zu: err=%d (%s)\n", i,
				o.err, sst_frame_reason(fr));

		/* sticky: even a valid message is refused now */
		o.err = 0;
		feed(fr, &o, msg2, strlen(msg2));
		CU_ASSERT_EQUAL(o.err, tv[i].err);
		CU_ASSERT_EQUAL(o.n, 0);

		out_reset(&o);
		mem_deref(fr);
	}
}

static void test_NUL_in_headers(void)
{
	static const char in[] = "MESSAGE sip:x SIP/2.0\r\nX: a\0b\r\nl: 0\r\n\r\n";
	struct sst_frame *fr = NULL;
	struct out o;

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	feed(fr, &o, in, sizeof(in) - 1);
	CU_ASSERT_EQUAL(o.err, EBADMSG);
	CU_ASSERT_EQUAL(o.n, 0);
	out_reset(&o);
	mem_deref(fr);
}

static void test_oversize_header(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *mb = mbuf_alloc(SST_HDR_MAX + 256);
	struct out o;

	/* no end of headers within the limit: refused before the end */
	mbuf_printf(mb, "MESSAGE sip:x SIP/2.0\r\n");
	while (mb->end <= SST_HDR_MAX)
		mbuf_printf(mb, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	feed(fr, &o, mb->buf, SST_HDR_MAX);
	CU_ASSERT_EQUAL(o.err, 0);  /* at the limit, still waiting */
	feed(fr, &o, mb->buf + SST_HDR_MAX,
	     mb->end - SST_HDR_MAX);
	CU_ASSERT_EQUAL(o.err, EMSGSIZE);
	CU_ASSERT_STRING_EQUAL(sst_frame_reason(fr), "header block too large");
	out_reset(&o);
	fr = mem_deref(fr);

	/* a complete header block one byte over a configured limit */
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, lim(strlen(msg2) - 1, 0)), 0);
	feed(fr, &o, msg2, strlen(msg2));
	CU_ASSERT_EQUAL(o.err, EMSGSIZE);
	out_reset(&o);
	fr = mem_deref(fr);

	/* exactly at the configured limit: accepted */
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, lim(strlen(msg2), 0)), 0);
	feed(fr, &o, msg2, strlen(msg2));
	CU_ASSERT_EQUAL(o.err, 0);
	CU_ASSERT_EQUAL(o.n, 1);
	out_reset(&o);
	mem_deref(fr);
	mem_deref(mb);
}

static void test_body_limit(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *mb = mbuf_alloc(SST_BODY_MAX + 256);
	struct out o;

	/* the largest body allowed, arriving in 1000-byte pieces */
	mbuf_printf(mb, "MESSAGE sip:x SIP/2.0\r\nContent-Length: %u\r\n\r\n",
		    (unsigned)SST_BODY_MAX);
	mbuf_fill(mb, 'b', SST_BODY_MAX);

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	for (size_t off = 0; off < mb->end; off += 1000)
		feed(fr, &o, mb->buf + off,
		     mb->end - off < 1000 ? mb->end - off : 1000);
	CU_ASSERT_EQUAL(o.err, 0);
	CU_ASSERT_EQUAL_FATAL(o.n, 1);
	CU_ASSERT_EQUAL(o.msgs[0]->end, mb->end);
	out_reset(&o);
	fr = mem_deref(fr);

	/* one byte more than the default limit: refused at the header */
	{
		char h[96];
		const int hn = re_snprintf(h, sizeof(h), "MESSAGE sip:x "
					   "SIP/2.0\r\nContent-Length: %u"
					   "\r\n\r\n",
					   (unsigned)SST_BODY_MAX + 1);

		CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
		feed(fr, &o, h, (size_t)hn);
		CU_ASSERT_EQUAL(o.err, EMSGSIZE);
		CU_ASSERT_STRING_EQUAL(sst_frame_reason(fr), "body too large");
		out_reset(&o);
		fr = mem_deref(fr);
	}

	/* a smaller configured body limit refuses it */
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, lim(0, 100)), 0);
	feed(fr, &o, mb->buf, 200);
	CU_ASSERT_EQUAL(o.err, EMSGSIZE);
	CU_ASSERT_STRING_EQUAL(sst_frame_reason(fr), "body too large");

	/* its header block is still there, for an answer */
	{
		struct mbuf *head = NULL;
		const char *p = (const char *)mb->buf;
		const size_t hl = (size_t)(strstr(p, "\r\n\r\n") - p) + 4;

		CU_ASSERT_EQUAL_FATAL(sst_frame_head(fr, &head), 0);
		CU_ASSERT_EQUAL(head->pos, 0);
		CU_ASSERT_EQUAL(head->end, hl);
		CU_ASSERT(!memcmp(head->buf, mb->buf, hl));
		mem_deref(head);
	}
	out_reset(&o);
	mem_deref(fr);
	mem_deref(mb);
}

/* Only a size error with a whole header block gives one. */
static void test_head_refused(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *head = NULL;
	struct out o;

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	CU_ASSERT_EQUAL(sst_frame_head(fr, &head), ENOENT);  /* healthy */
	feed(fr, &o, msg2, strlen(msg2));
	CU_ASSERT_EQUAL(sst_frame_head(fr, &head), ENOENT);
	out_reset(&o);
	fr = mem_deref(fr);

	/* the header block itself too large: nothing to answer with */
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, lim(strlen(msg2) - 1, 0)), 0);
	feed(fr, &o, msg2, strlen(msg2));
	CU_ASSERT_EQUAL(o.err, EMSGSIZE);
	CU_ASSERT_EQUAL(sst_frame_head(fr, &head), ENOENT);
	CU_ASSERT_PTR_NULL(head);
	out_reset(&o);
	fr = mem_deref(fr);

	/* not SIP at all */
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	feed(fr, &o, "\x16\x03\x01\r\n\r\n", 7);
	CU_ASSERT_EQUAL(o.err, EBADMSG);
	CU_ASSERT_EQUAL(sst_frame_head(fr, &head), ENOENT);
	CU_ASSERT_EQUAL(sst_frame_head(NULL, &head), EINVAL);
	out_reset(&o);
	mem_deref(fr);
}

static void test_args(void)
{
	struct sst_frame *fr = NULL;
	struct mbuf *mb;
	bool ping;

	CU_ASSERT_EQUAL(sst_frame_alloc(NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	CU_ASSERT_EQUAL(sst_frame_push(fr, NULL, 1), EINVAL);
	CU_ASSERT_EQUAL(sst_frame_push(fr, NULL, 0), 0);
	CU_ASSERT_EQUAL(sst_frame_next(fr, &mb, &ping), ENODATA);
	CU_ASSERT_EQUAL(sst_frame_next(NULL, &mb, &ping), EINVAL);
	CU_ASSERT_PTR_NULL(sst_frame_reason(fr));
	mem_deref(fr);
}

static CU_TestInfo frame_tests[] = {
	{"header block only after a size error", test_head_refused},
	{"two messages split at every byte", test_split_everywhere},
	{"byte by byte with CRLFs", test_byte_by_byte},
	{"several messages in one chunk", test_several_in_one_chunk},
	{"messages own their mbuf", test_own_mbuf},
	{"CRLF keep-alives and pings", test_keepalive},
	{"refusals and reasons", test_refusals},
	{"NUL in headers", test_NUL_in_headers},
	{"oversize header block", test_oversize_header},
	{"body limit", test_body_limit},
	{"arguments", test_args},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_frame", NULL, NULL, NULL, NULL, frame_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
