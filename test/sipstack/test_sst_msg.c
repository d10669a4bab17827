/*
 * test_sst_msg.c -- sst_msg_decode() on a corpus of valid and invalid
 * messages (after the categories of RFC 3261 section 25 and the RFC 4475
 * torture tests), and the builders of sst_build.h decoded back.
 */
#include <string.h>

#include <re.h>

#include "lib/cutest.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"

#define START "MESSAGE sip:bob@example.org SIP/2.0\r\n"
#define VIA   "Via: SIP/2.0/TCP client.example.net:5060;branch=z9hG4bK74bf9\r\n"
#define MF    "Max-Forwards: 70\r\n"
#define FROM  "From: Alice <sip:alice@example.net>;tag=9fxced76sl\r\n"
#define TO    "To: Bob <sip:bob@example.org>\r\n"
#define CID   "Call-ID: 3848276298220188511@client.example.net\r\n"
#define CSEQ  "CSeq: 31862 MESSAGE\r\n"
#define CTYPE "Content-Type: text/plain\r\n"
#define CL0   "Content-Length: 0\r\n"
#define CL5   "Content-Length: 5\r\n"
#define BODY5 "hello"
#define RESP  "SIP/2.0 200 OK\r\n"

/* one header line of n copies of c, as a heap string */
static char *filler(const char *head, char c, size_t n, const char *tail)
{
	const size_t hl = strlen(head), tl = strlen(tail);
	char *s = mem_alloc(hl + n + tl + 1, NULL);

	if (!s)
		return NULL;
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	return s;
}

static struct mbuf *mb_of(const char *p, size_t len)
{
	struct mbuf *mb = mbuf_alloc(len ? len : 1);

	if (!mb)
		return NULL;
	if (len)
		(void)mbuf_write_mem(mb, (const uint8_t *)p, len);
	mb->pos = 0;
	return mb;
}

static int decode(struct sip_msg **msgp, const char *p, size_t len,
		  bool stream, struct sst_verdict *v)
{
	struct mbuf *mb = mb_of(p, len);
	int err;

	if (!mb)
		return ENOMEM;
	err = sst_msg_decode(msgp, mb, stream, NULL, v);
	mem_deref(mb);
	return err;
}

/* ---- valid messages ---------------------------------------------- */

static const struct {
	const char *name;
	const char *msg;
	bool stream;
	size_t body;          /* bytes left at mb->pos after decoding */
	const char *callid;
} valid[] = {
	{"typical MESSAGE", START VIA MF FROM TO CID CSEQ CTYPE CL5 "\r\n"
	 BODY5, true, 5, "3848276298220188511@client.example.net"},
	{"compact forms",
	 "MESSAGE sip:bob@example.org SIP/2.0\r\n"
	 "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1\r\n"
	 "f: <sip:a@example.net>;tag=1\r\nt: sip:bob@example.org\r\n"
	 "i: cpt-1\r\nMax-Forwards: 5\r\nCSeq: 1 MESSAGE\r\n"
	 "c: text/plain\r\nl: 5\r\nm: <sip:a@192.0.2.1>\r\n\r\n" BODY5,
	 true, 5, "cpt-1"},
	{"odd spacing and tabs",
	 "MESSAGE sip:bob@example.org SIP/2.0\r\n"
	 "Via  :\tSIP/2.0/TCP  client.example.net ;branch=z9hG4bKs1\r\n"
	 "max-forwards:70\r\nFROM   :  <sip:a@example.net> ; tag=x\r\n"
	 "to:\t<sip:bob@example.org>\r\ncall-id:   sp-1   \r\n"
	 "cseq:   7    MESSAGE\r\nCONTENT-LENGTH :  0\r\n\r\n",
	 true, 0, "sp-1"},
	{"folded header values",
	 "MESSAGE sip:bob@example.org SIP/2.0\r\n" VIA MF FROM
	 "To: Bob\r\n  <sip:bob@example.org>\r\n"
	 "Subject: one\r\n\ttwo\r\n   three\r\n" CID CSEQ CL0 "\r\n",
	 true, 0, "3848276298220188511@client.example.net"},
	{"escaped characters in Request-URI",
	 "MESSAGE sip:%61lice%20x@example.org;transport=tcp?subject=a%20b"
	 " SIP/2.0\r\n" VIA MF FROM TO CID CSEQ CL0 "\r\n", true, 0, NULL},
	{"unknown URI scheme left to the caller",
	 "MESSAGE foo:bar.baz;x=y SIP/2.0\r\n" VIA MF FROM TO CID CSEQ CL0
	 "\r\n", true, 0, NULL},
	{"tel URI and IPv6 sent-by",
	 "MESSAGE tel:+14155551212 SIP/2.0\r\n"
	 "Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKv6\r\n"
	 MF FROM TO CID CSEQ CL0 "\r\n", false, 0, NULL},
	{"many Vias in one line and several lines",
	 START "Via: SIP/2.0/TCP a.example;branch=z9hG4bK1, SIP/2.0/TCP "
	 "b.example;branch=z9hG4bK2,SIP/2.0/UDP c.example;branch=z9hG4bK3\r\n"
	 "v: SIP/2.0/UDP d.example;branch=z9hG4bK4\r\n"
	 MF FROM TO CID CSEQ CL0 "\r\n", true, 0, NULL},
	{"unknown and X- headers",
	 START VIA MF FROM TO CID CSEQ "X-Ext-795: anything\r\n"
	 "NewFangledHeader:   newfangled value\r\n continued\r\n" CL0 "\r\n",
	 true, 0, NULL},
	{"LF-only line ends",
	 "MESSAGE sip:bob@example.org SIP/2.0\n"
	 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKlf\nMax-Forwards: 70\n"
	 "From: <sip:a@example.net>;tag=1\nTo: <sip:bob@example.org>\n"
	 "Call-ID: lf-1\nCSeq: 1 MESSAGE\nContent-Length: 5\n\n" BODY5,
	 false, 5, "lf-1"},
	{"leading CRLF skipped", "\r\n\r\n" START VIA MF FROM TO CID CSEQ CL0
	 "\r\n", true, 0, NULL},
	{"response without Max-Forwards", RESP VIA FROM TO CID CSEQ CL0
	 "\r\n", true, 0, NULL},
	{"datagram without Content-Length", START VIA MF FROM TO CID CSEQ
	 "\r\n" BODY5, false, 5, NULL},
	{"datagram with bytes beyond Content-Length", START VIA MF FROM TO
	 CID CSEQ "Content-Length: 3\r\n\r\n" BODY5, false, 3, NULL},
	{"Max-Forwards zero still decodes", START VIA "Max-Forwards: 0\r\n"
	 FROM TO CID CSEQ CL0 "\r\n", true, 0, NULL},
	{"ACK with CSeq ACK", "ACK sip:bob@example.org SIP/2.0\r\n" VIA MF
	 FROM TO CID "CSeq: 31862 ACK\r\n" CL0 "\r\n", true, 0, NULL},
	{"provisional response", "SIP/2.0 180 Ringing\r\n" VIA FROM
	 "To: <sip:bob@example.org>;tag=8321234356\r\n" CID CSEQ CL0 "\r\n",
	 false, 0, NULL},
	{"empty reason phrase", "SIP/2.0 202 \r\n" VIA FROM TO CID CSEQ CL0
	 "\r\n", false, 0, NULL},
};

static void test_valid(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		struct sip_msg *msg = NULL;
		struct sst_verdict v;
		int err;

		err = decode(&msg, valid[i].msg, strlen(valid[i].msg),
			     valid[i].stream, &v);
		if (err)
			fprintf(stderr, "valid '%s': err %d reason %s\n",
				valid[i].name, err,
				sst_reason_name(v.reason));
		CU_ASSERT_EQUAL(err, 0);
		CU_ASSERT_EQUAL(v.reason, SST_R_OK);
		CU_ASSERT_EQUAL(v.status, 0);
		CU_ASSERT_FALSE(v.reply);
		CU_ASSERT_PTR_NULL(v.msg);
		if (err)
			continue;

		CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
		CU_ASSERT_EQUAL(mbuf_get_left(msg->mb), valid[i].body);
		if (valid[i].callid)
			CU_ASSERT_EQUAL(pl_strcmp(&msg->callid,
						  valid[i].callid), 0);
		mem_deref(msg);
	}
}

/* ---- invalid messages -------------------------------------------- */

struct bad {
	const char *name;
	const char *msg;
	size_t len;            /* 0: strlen */
	bool stream;
	int err;
	enum sst_reason reason;
	uint16_t status;
	bool reply;
};

static const struct bad bad[] = {
	{"empty", "", 0, false, ENODATA, SST_R_EMPTY, 0, false},
	{"CRLF only", "\r\n\r\n", 0, true, ENODATA, SST_R_KEEPALIVE, 0,
	 false},
	{"garbage without line end", "hello world", 0, false, EBADMSG,
	 SST_R_TRUNCATED, 400, false},
	{"garbage lines", "garbage\r\nmore garbage\r\n\r\n", 0, false,
	 EBADMSG, SST_R_BAD_START_LINE, 400, false},
	{"binary garbage", "\x01\x02\x03 \xff\xfe \x80\r\n\r\n", 0, false,
	 EBADMSG, SST_R_BAD_METHOD, 400, false},
	{"two-token request line", "MESSAGE sip:bob@example.org\r\n" VIA MF
	 FROM TO CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_START_LINE,
	 400, false},
	{"no headers at all", "MESSAGE sip:bob@example.org SIP/2.0\r\n\r\n", 0,
	 true, EBADMSG, SST_R_MISSING_VIA, 400, false},
	{"no blank line", START VIA MF FROM TO CID CSEQ CL0, 0, true,
	 EBADMSG, SST_R_TRUNCATED, 400, false},
	{"missing Via", START MF FROM TO CID CSEQ CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_MISSING_VIA, 400, false},
	{"missing From", START VIA MF TO CID CSEQ CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_MISSING_FROM, 400, false},
	{"missing To", START VIA MF FROM CID CSEQ CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_MISSING_TO, 400, false},
	{"missing Call-ID", START VIA MF FROM TO CSEQ CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_MISSING_CALLID, 400, false},
	{"missing CSeq", START VIA MF FROM TO CID CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_MISSING_CSEQ, 400, false},
	{"missing Max-Forwards", START VIA FROM TO CID CSEQ CL0 "\r\n", 0,
	 true, EBADMSG, SST_R_MISSING_MAXFWD, 400, true},
	{"ACK is never answered", "ACK sip:bob@example.org SIP/2.0\r\n" VIA
	 FROM TO CID "CSeq: 31862 ACK\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_MISSING_MAXFWD, 400, false},
	{"missing Content-Length on a stream", START VIA MF FROM TO CID CSEQ
	 "\r\n", 0, true, EBADMSG, SST_R_MISSING_CLEN, 400, true},
	{"response missing CSeq", RESP VIA FROM TO CID CL0 "\r\n", 0, false,
	 EBADMSG, SST_R_MISSING_CSEQ, 400, false},
	{"two From", START VIA MF FROM FROM TO CID CSEQ CL0 "\r\n", 0, true,
	 EBADMSG, SST_R_DUP_FROM, 400, false},
	{"two To", START VIA MF FROM TO "t: <sip:x@example.org>\r\n" CID CSEQ
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_DUP_TO, 400, false},
	{"two Call-ID", START VIA MF FROM TO CID "i: other\r\n" CSEQ CL0
	 "\r\n", 0, true, EBADMSG, SST_R_DUP_CALLID, 400, false},
	{"two CSeq", START VIA MF FROM TO CID CSEQ "CSeq: 31863 MESSAGE\r\n"
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_DUP_CSEQ, 400, false},
	{"two Max-Forwards", START VIA MF MF FROM TO CID CSEQ CL0 "\r\n", 0,
	 true, EBADMSG, SST_R_DUP_MAXFWD, 400, true},
	{"two Content-Length", START VIA MF FROM TO CID CSEQ CL0 "l: 0\r\n"
	 "\r\n", 0, true, EBADMSG, SST_R_DUP_CLEN, 400, true},
	{"two Content-Type", START VIA MF FROM TO CID CSEQ CTYPE CTYPE CL0
	 "\r\n", 0, true, EBADMSG, SST_R_DUP_CTYPE, 400, true},
	{"two Expires", START VIA MF FROM TO CID CSEQ "Expires: 5\r\n"
	 "Expires: 6\r\n" CL0 "\r\n", 0, true, EBADMSG, SST_R_DUP_EXPIRES,
	 400, true},
	{"CSeq method mismatch", START VIA MF FROM TO CID
	 "CSeq: 31862 INVITE\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_CSEQ_METHOD, 400, true},
	{"CSeq method case differs", START VIA MF FROM TO CID
	 "CSeq: 31862 message\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_CSEQ_METHOD, 400, true},
	{"CSeq number 2^31", START VIA MF FROM TO CID
	 "CSeq: 2147483648 MESSAGE\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_BAD_CSEQ, 400, false},
	{"CSeq trailing junk", START VIA MF FROM TO CID
	 "CSeq: 1 MESSAGE extra\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_BAD_CSEQ, 400, false},
	{"CSeq not a number", START VIA MF FROM TO CID "CSeq: abc MESSAGE\r\n"
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_CSEQ, 400, false},
	{"empty Call-ID", START VIA MF FROM TO "Call-ID:   \r\n" CSEQ CL0
	 "\r\n", 0, true, EBADMSG, SST_R_BAD_CALLID, 400, false},
	{"Call-ID with a space", START VIA MF FROM TO "Call-ID: a b\r\n" CSEQ
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_CALLID, 400, false},
	{"Max-Forwards not a number", START VIA "Max-Forwards: ten\r\n" FROM
	 TO CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_MAXFWD, 400,
	 true},
	{"Max-Forwards negative", START VIA "Max-Forwards: -1\r\n" FROM TO
	 CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_MAXFWD, 400, true},
	{"Content-Length negative", START VIA MF FROM TO CID CSEQ
	 "Content-Length: -5\r\n\r\n" BODY5, 0, true, EBADMSG, SST_R_BAD_CLEN,
	 400, true},
	{"Content-Length not a number", START VIA MF FROM TO CID CSEQ
	 "Content-Length: five\r\n\r\n" BODY5, 0, false, EBADMSG,
	 SST_R_BAD_CLEN, 400, true},
	{"Content-Length with sign", START VIA MF FROM TO CID CSEQ
	 "Content-Length: +5\r\n\r\n" BODY5, 0, false, EBADMSG,
	 SST_R_BAD_CLEN, 400, true},
	{"Content-Length huge", START VIA MF FROM TO CID CSEQ
	 "Content-Length: 99999999999999999999999\r\n\r\n" BODY5, 0, true,
	 EMSGSIZE, SST_R_BODY_TOO_BIG, 413, true},
	{"Content-Length above the body limit", START VIA MF FROM TO CID CSEQ
	 "Content-Length: 40000\r\n\r\n" BODY5, 0, true, EMSGSIZE,
	 SST_R_BODY_TOO_BIG, 413, true},
	{"Content-Length larger than stream message", START VIA MF FROM TO CID
	 CSEQ "Content-Length: 10\r\n\r\n" BODY5, 0, true, EBADMSG,
	 SST_R_CLEN_MISMATCH, 400, true},
	{"Content-Length smaller than stream message", START VIA MF FROM TO
	 CID CSEQ "Content-Length: 2\r\n\r\n" BODY5, 0, true, EBADMSG,
	 SST_R_CLEN_MISMATCH, 400, true},
	{"Content-Length beyond datagram", START VIA MF FROM TO CID CSEQ
	 "Content-Length: 6\r\n\r\n" BODY5, 0, false, EBADMSG,
	 SST_R_CLEN_MISMATCH, 400, true},
	{"request version SIP/7.0", "MESSAGE sip:bob@example.org SIP/7.0\r\n"
	 VIA MF FROM TO CID CSEQ CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_BAD_VERSION, 505, true},
	{"request version in lower case",
	 "MESSAGE sip:bob@example.org sip/2.0\r\n" VIA MF FROM TO CID CSEQ
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_VERSION, 505, true},
	{"request version SIP/20.0 missing Via",
	 "MESSAGE sip:bob@example.org SIP/20.0\r\n" MF FROM TO CID CSEQ
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_VERSION, 505, false},
	{"response version SIP/3.0", "SIP/3.0 200 OK\r\n" VIA FROM TO CID
	 CSEQ CL0 "\r\n", 0, false, EBADMSG, SST_R_BAD_VERSION, 505, false},
	{"HTTP response", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0,
	 true, EBADMSG, SST_R_BAD_VERSION, 505, false},
	{"HTTP request", "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", 0,
	 true, EBADMSG, SST_R_BAD_START_LINE, 400, false},
	{"status code four digits", "SIP/2.0 2000 OK\r\n" VIA FROM TO CID
	 CSEQ CL0 "\r\n", 0, false, EBADMSG, SST_R_BAD_STATUS, 400, false},
	{"status code 099", "SIP/2.0 099 Early\r\n" VIA FROM TO CID CSEQ CL0
	 "\r\n", 0, false, EBADMSG, SST_R_BAD_STATUS, 400, false},
	{"method not a token", "MESS@GE sip:bob@example.org SIP/2.0\r\n" VIA
	 MF FROM TO CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_METHOD,
	 400, false},
	{"unparsable Request-URI", "MESSAGE nocolon SIP/2.0\r\n" VIA MF FROM
	 TO CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_RURI, 400,
	 false},
	{"name colliding with Call-ID", START VIA MF FROM TO CID
	 "P-Ext-795: bogus-value\r\n" CSEQ CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_HDR_NAME_COLLISION, 400, false},
	{"name colliding with To", START VIA MF FROM TO CID
	 "P-Ext-3041: bogus-value\r\n" CSEQ CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_HDR_NAME_COLLISION, 400, false},
	{"name colliding with CSeq", START VIA MF FROM TO CID CSEQ
	 "P-Ext-15395: 1 MESSAGE\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_HDR_NAME_COLLISION, 400, false},
	{"name colliding with Expires", START VIA MF FROM TO CID CSEQ
	 "P-Ext-4970: 60\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_HDR_NAME_COLLISION, 400, true},
	{"name colliding with Content-Length", START VIA MF FROM TO CID CSEQ
	 "P-Ext-6046: 0\r\n\r\n", 0, true, EBADMSG,
	 SST_R_HDR_NAME_COLLISION, 400, true},
	{"NUL byte in a header value", START VIA MF FROM TO CID CSEQ
	 "Subject: a\0b\r\n" CL0 "\r\n", sizeof(START VIA MF FROM TO CID CSEQ
	 "Subject: a\0b\r\n" CL0 "\r\n") - 1, true, EBADMSG, SST_R_NUL_BYTE,
	 400, true},
	{"NUL byte in the start line", "MESSAGE sip:bob@exa\0mple.org SIP/2.0"
	 "\r\n" VIA MF FROM TO CID CSEQ CL0 "\r\n",
	 sizeof("MESSAGE sip:bob@exa\0mple.org SIP/2.0\r\n" VIA MF FROM TO
	 CID CSEQ CL0 "\r\n") - 1, true, EBADMSG, SST_R_NUL_BYTE, 400, true},
	{"bare CR in a header", START VIA MF FROM TO CID CSEQ
	 "Subject: a\rb\r\n" CL0 "\r\n", 0, true, EBADMSG, SST_R_BARE_CR, 400,
	 false},
	{"line without colon", START VIA MF FROM TO CID CSEQ "Bogus line\r\n"
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_HDR_LINE, 400, false},
	{"empty header name", START VIA MF FROM TO CID CSEQ ": value\r\n" CL0
	 "\r\n", 0, true, EBADMSG, SST_R_BAD_HDR_LINE, 400, false},
	{"space inside a header name", START VIA MF FROM TO CID CSEQ
	 "Sub ject: x\r\n" CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_HDR_LINE,
	 400, false},
	{"continuation before any header", START " folded\r\n" VIA MF FROM TO
	 CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_HDR_LINE, 400,
	 false},
	{"Via without branch", START
	 "Via: SIP/2.0/TCP client.example.net:5060\r\n" MF FROM TO CID CSEQ
	 CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_VIA, 400, false},
	{"Via garbage", START "Via: garbage\r\n" MF FROM TO CID CSEQ CL0
	 "\r\n", 0, true, EBADMSG, SST_R_BAD_VIA, 400, false},
	{"From garbage", START VIA MF "From: Alice\r\n" TO
	 CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_FROM, 400, false},
	{"To garbage", START VIA MF FROM "To: <>\r\n"
	 CID CSEQ CL0 "\r\n", 0, true, EBADMSG, SST_R_BAD_TO, 400, false},
	{"Content-Type without slash", START VIA MF FROM TO CID CSEQ
	 "Content-Type: textplain\r\n" CL0 "\r\n", 0, true, EBADMSG,
	 SST_R_BAD_CTYPE, 400, false},
};

static void check_bad(const struct bad *b, const char *p, size_t len)
{
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	int err;

	err = decode(&msg, p, len, b->stream, &v);
	if (err != b->err || v.reason != b->reason || v.reply != b->reply)
		fprintf(stderr, "bad '%s': err %d reason %s reply %d\n",
			b->name, err, sst_reason_name(v.reason), v.reply);
	CU_ASSERT_EQUAL(err, b->err);
	CU_ASSERT_EQUAL(v.reason, b->reason);
	CU_ASSERT_EQUAL(v.status, b->status);
	CU_ASSERT_EQUAL(v.reply, b->reply);
	CU_ASSERT_PTR_NULL(msg);
	CU_ASSERT_EQUAL(v.phrase == NULL, b->status == 0);

	if (v.reply) {
		struct mbuf *out = NULL;
		struct sip_msg *resp = NULL;
		struct sst_verdict rv;

		CU_ASSERT_PTR_NOT_NULL_FATAL(v.msg);
		CU_ASSERT_EQUAL(sst_build_response(&out, v.msg, v.status,
						   v.phrase, NULL, NULL,
						   NULL), 0);
		CU_ASSERT_EQUAL(sst_msg_decode(&resp, out, true, NULL, &rv),
				0);
		if (!resp)
			fprintf(stderr, "reply to '%s': %s\n", b->name,
				sst_reason_name(rv.reason));
		if (resp) {
			CU_ASSERT_EQUAL(resp->scode, v.status);
			CU_ASSERT_EQUAL(pl_strcmp(&resp->reason, v.phrase), 0);
		}
		mem_deref(resp);
		mem_deref(out);
	}
	else {
		CU_ASSERT_PTR_NULL(v.msg);
	}

	sst_verdict_reset(&v);
	CU_ASSERT_PTR_NULL(v.msg);
}

static void test_invalid(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		check_bad(&bad[i], bad[i].msg,
			  bad[i].len ? bad[i].len : strlen(bad[i].msg));
}

/* Limits need long input, built at run time. */
static void test_limits(void)
{
	static const struct bad cases[] = {
		{"line too long", NULL, 0, true, EBADMSG, SST_R_LINE_TOO_LONG,
		 400, false},
		{"too many headers", NULL, 0, true, EBADMSG,
		 SST_R_TOO_MANY_HDRS, 400, false},
		{"header section too big", NULL, 0, true, EMSGSIZE,
		 SST_R_HDR_TOO_BIG, 513, false},
		{"datagram over the message limit", NULL, 0, false, EMSGSIZE,
		 SST_R_TOO_BIG, 513, true},
		{"datagram body over the limit", NULL, 0, false, EMSGSIZE,
		 SST_R_BODY_TOO_BIG, 413, true},
	};
	char *s[ARRAY_SIZE(cases)];
	char *line;
	size_t i;

	s[0] = filler(START VIA MF FROM TO CID CSEQ "Subject: ", 'x',
		      SST_LINE_MAX, "\r\n" CL0 "\r\n");
	/* 200 short header lines */
	s[1] = filler(START VIA MF FROM TO CID CSEQ, 'x', 200 * 6,
		      CL0 "\r\n");
	for (i = 0; s[1] && i < 200; i++)
		memcpy(strstr(s[1], "xxxxxx"), "s:xx\r\n", 6);
	/* 8 lines of 3000 bytes: each fine, together over 16 KiB */
	line = filler("", 'x', 8 * 3010, "");
	for (i = 0; line && i < 8; i++)
		memcpy(line + i * 3010, "Subject: ", 9),
		memcpy(line + i * 3010 + 3008, "\r\n", 2);
	s[2] = line ? filler(START VIA MF FROM TO CID CSEQ, 'x', 0, line) :
		NULL;
	mem_deref(line);
	if (s[2])
		s[2] = mem_realloc(s[2], strlen(s[2]) + sizeof(CL0 "\r\n"));
	if (s[2])
		strcat(s[2], CL0 "\r\n");
	s[3] = filler(START VIA MF FROM TO CID CSEQ "\r\n", 'b', 70000, "");
	s[4] = filler(START VIA MF FROM TO CID CSEQ "\r\n", 'b', 40000, "");

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(s[i]);
		check_bad(&cases[i], s[i], strlen(s[i]));
		mem_deref(s[i]);
	}
}

/*
 * A request whose header block (blank line included) is hdr bytes, with
 * "Content-Length: clen" when clen >= 0, then body bytes of 'b'.  The
 * padding is X-Pad lines of at most 3000 bytes, within the line limit.
 */
static struct mbuf *sized(size_t hdr, long clen, size_t body)
{
	struct mbuf *mb = mbuf_alloc(hdr + body + 1);
	size_t pad;

	if (!mb)
		return NULL;
	(void)mbuf_write_str(mb, START VIA MF FROM TO CID CSEQ);
	if (clen >= 0)
		(void)mbuf_printf(mb, "Content-Length: %ld\r\n", clen);
	if (mb->end + 2 + 10 > hdr)
		return mem_deref(mb);
	pad = hdr - mb->end - 2;
	while (pad) {
		const size_t n = pad > 4000 ? 3000 : pad;

		(void)mbuf_write_str(mb, "X-Pad: ");
		(void)mbuf_fill(mb, 'p', n - 9);
		(void)mbuf_write_str(mb, "\r\n");
		pad -= n;
	}
	(void)mbuf_write_str(mb, "\r\n");
	(void)mbuf_fill(mb, 'b', body);
	mb->pos = 0;
	return mb;
}

/* Each limit of sst_limits.h, at the limit and one byte above it. */
static void test_limit_edges(void)
{
	static const struct {
		const char *name;
		bool stream;
		size_t hdr;
		long clen;        /* -1: no Content-Length */
		size_t body;
		int err;
		enum sst_reason reason;
		uint16_t status;
	} tv[] = {
		{"header block at the limit", true, SST_HDR_MAX, 0, 0, 0,
		 SST_R_OK, 0},
		{"header block one over", true, SST_HDR_MAX + 1, 0, 0,
		 EMSGSIZE, SST_R_HDR_TOO_BIG, 513},
		{"stream body at the limit", true, 600, SST_BODY_MAX,
		 SST_BODY_MAX, 0, SST_R_OK, 0},
		{"stream body one over", true, 600, SST_BODY_MAX + 1,
		 SST_BODY_MAX + 1, EMSGSIZE, SST_R_BODY_TOO_BIG, 413},
		{"datagram body at the limit", false, 600, -1, SST_BODY_MAX,
		 0, SST_R_OK, 0},
		{"datagram body one over", false, 600, -1, SST_BODY_MAX + 1,
		 EMSGSIZE, SST_R_BODY_TOO_BIG, 413},
		{"datagram Content-Length one over", false, 600,
		 SST_BODY_MAX + 1, SST_BODY_MAX + 1, EMSGSIZE,
		 SST_R_BODY_TOO_BIG, 413},
		{"both at their limits: the whole message", false,
		 SST_HDR_MAX, SST_BODY_MAX, SST_BODY_MAX, 0, SST_R_OK, 0},
		/* bytes past Content-Length count towards the message */
		{"datagram at the message limit", false, 600, 0,
		 SST_MSG_MAX - 600, 0, SST_R_OK, 0},
		{"datagram one over the message limit", false, 600, 0,
		 SST_MSG_MAX - 600 + 1, EMSGSIZE, SST_R_TOO_BIG, 513},
	};
	size_t i;

	CU_ASSERT_EQUAL(SST_MSG_MAX, SST_HDR_MAX + SST_BODY_MAX);
	CU_ASSERT(SST_MSG_MAX <= SST_DGRAM_MAX);

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct mbuf *mb = sized(tv[i].hdr, tv[i].clen, tv[i].body);
		struct sip_msg *msg = NULL;
		struct sst_verdict v;
		int err;

		CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
		err = sst_msg_decode(&msg, mb, tv[i].stream, NULL, &v);
		if (err != tv[i].err || v.reason != tv[i].reason)
			fprintf(stderr, "edge '%s': err %d reason %s\n",
				tv[i].name, err, sst_reason_name(v.reason));
		CU_ASSERT_EQUAL(err, tv[i].err);
		CU_ASSERT_EQUAL(v.reason, tv[i].reason);
		CU_ASSERT_EQUAL(v.status, tv[i].status);
		if (!err) {
			CU_ASSERT_EQUAL(mbuf_get_left(msg->mb),
					tv[i].clen > 0 ? (size_t)tv[i].clen :
					tv[i].clen < 0 ? tv[i].body : 0);
		}
		else {
			/* answered, unless the headers could not be read */
			CU_ASSERT_EQUAL(v.reply,
					tv[i].reason != SST_R_HDR_TOO_BIG);
		}
		mem_deref(msg);
		sst_verdict_reset(&v);
		mem_deref(mb);
	}
}

/* Zero members take the defaults; msg_max follows what is set. */
static void test_limits_of(void)
{
	const struct sst_limits small = {.hdr_max = 1000, .body_max = 500};
	const struct sst_limits own = {.msg_max = 700};
	struct sst_limits l = sst_limits_of(NULL);

	CU_ASSERT_EQUAL(l.hdr_max, SST_HDR_MAX);
	CU_ASSERT_EQUAL(l.body_max, SST_BODY_MAX);
	CU_ASSERT_EQUAL(l.msg_max, SST_MSG_MAX);
	CU_ASSERT_EQUAL(l.line_max, SST_LINE_MAX);
	CU_ASSERT_EQUAL(l.hdr_count_max, SST_HDR_COUNT_MAX);
	CU_ASSERT_EQUAL(l.dgram_max, SST_DGRAM_MAX);
	l = sst_limits_of(&small);
	CU_ASSERT_EQUAL(l.msg_max, 1500);
	CU_ASSERT_EQUAL(l.dgram_max, SST_DGRAM_MAX);
	l = sst_limits_of(&own);
	CU_ASSERT_EQUAL(l.msg_max, 700);
	CU_ASSERT_EQUAL(l.body_max, SST_BODY_MAX);
}

static void test_reason_names(void)
{
	int r;

	for (r = 0; r < SST_R_COUNT; r++) {
		int q;

		CU_ASSERT_PTR_NOT_NULL(sst_reason_name(r));
		CU_ASSERT_STRING_NOT_EQUAL(sst_reason_name(r), "?");
		for (q = 0; q < r; q++)
			CU_ASSERT_STRING_NOT_EQUAL(sst_reason_name(q),
						   sst_reason_name(r));
	}
	CU_ASSERT_STRING_EQUAL(sst_reason_name(SST_R_COUNT), "?");
	CU_ASSERT_STRING_EQUAL(sst_reason_phrase(SST_R_MISSING_CALLID),
			       "Missing Call-ID header");
	CU_ASSERT_EQUAL(sst_reason_status(SST_R_TOO_BIG), 513);
}

/* Every name libre knows is its own canonical name: no false alarm. */
static void test_names(void)
{
	static const char *names[] = { "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Accept-Resource-Priority", "Alert-Info", "Allow", "Allow-Events", "Answer-Mode", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date", "Encryption", "Error-Info", "Event", "Expires", "Flow-Timer", "From", "Hide", "History-Info", "Identity", "Identity-Info", "In-Reply-To", "Join", "Max-Breadth", "Max-Forwards", "MIME-Version", "Min-Expires", "Min-SE", "Organization", "P-Access-Network-Info", "P-Answer-State", "P-Asserted-Identity", "P-Associated-URI", "P-Called-Party-ID", "P-Charging-Function-Addresses", "P-Charging-Vector", "P-DCS-Trace-Party-ID", "P-DCS-OSPS", "P-DCS-Billing-Info", "P-DCS-LAES", "P-DCS-Redirect", "P-Early-Media", "P-Media-Authorization", "P-Preferred-Identity", "P-Profile-Key", "P-Refused-URI-List", "P-Served-User", "P-User-Database", "P-Visited-Network-ID", "Path", "Permission-Missing", "Priority", "Priv-Answer-Mode", "Privacy", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route", "Refer-Sub", "Refer-To", "Referred-By", "Reject-Contact", "Replaces", "Reply-To", "Request-Disposition", "Require", "Resource-Priority", "Response-Key", "Retry-After", "Route", "RSeq", "Security-Client", "Security-Server", "Security-Verify", "Server", "Service-Route", "Session-Expires", "SIP-ETag", "SIP-If-Match", "Subject", "Subscription-State", "Supported", "Target-Dialog", "Timestamp", "To", "Trigger-Consent", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",  };
	static const char *colliders[] = {
		"P-Ext-795", "P-Ext-3041", "P-Ext-15395", "P-Ext-4244",
		"P-Ext-6046", "P-Ext-4193", "P-Ext-6490", "P-Ext-4970",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct pl pl;

		pl_set_str(&pl, names[i]);
		if (sst_msg_name_collides(&pl))
			fprintf(stderr, "name %s\n", names[i]);
		CU_ASSERT_FALSE(sst_msg_name_collides(&pl));
	}
	for (i = 0; i < ARRAY_SIZE(colliders); i++) {
		struct pl pl;

		pl_set_str(&pl, colliders[i]);
		CU_ASSERT_TRUE(sst_msg_name_collides(&pl));
	}
}

static void test_uint(void)
{
	static const struct {
		const char *in; uint32_t max; int err; uint32_t want;
	} tv[] = {
		{"0", 10, 0, 0}, {"10", 10, 0, 10}, {"11", 10, EMSGSIZE, 0},
		{"", 10, EBADMSG, 0}, {"1a", 10, EBADMSG, 0},
		{"-1", 10, EBADMSG, 0}, {"4294967295", UINT32_MAX, 0,
		 UINT32_MAX}, {"4294967296", UINT32_MAX, EMSGSIZE, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct pl pl;
		uint32_t got = 0;

		pl_set_str(&pl, tv[i].in);
		CU_ASSERT_EQUAL(sst_msg_uint(&got, &pl, tv[i].max),
				tv[i].err);
		if (!tv[i].err)
			CU_ASSERT_EQUAL(got, tv[i].want);
	}
}

/* Truncating a valid message anywhere never crashes and never passes
 * on a stream (Content-Length is exact). */
static void test_truncations(void)
{
	static const char m[] = START VIA MF FROM TO CID CSEQ CTYPE CL5 "\r\n"
		BODY5;
	size_t len;

	for (len = 0; len < sizeof(m) - 1; len++) {
		struct sip_msg *msg = NULL;
		struct sst_verdict v;

		CU_ASSERT_NOT_EQUAL(decode(&msg, m, len, true, &v), 0);
		CU_ASSERT_PTR_NULL(msg);
		sst_verdict_reset(&v);
	}
}

/* ---- builders ---------------------------------------------------- */

static struct sip_msg *must_decode(struct mbuf *mb, bool stream)
{
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	int err;

	err = sst_msg_decode(&msg, mb, stream, NULL, &v);
	if (err)
		fprintf(stderr, "decode: %s\n", sst_reason_name(v.reason));
	CU_ASSERT_EQUAL(err, 0);
	sst_verdict_reset(&v);
	return msg;
}

static struct sip_msg *decode_str(const char *s, bool stream)
{
	struct mbuf *mb = mb_of(s, strlen(s));
	struct sip_msg *msg = must_decode(mb, stream);

	mem_deref(mb);
	return msg;
}

static void test_response(void)
{
	static const char req[] = START
		"Via: SIP/2.0/UDP first.example;branch=z9hG4bKa, "
		"SIP/2.0/TLS second.example;branch=z9hG4bKb\r\n"
		"Record-Route: <sip:rr.example;lr>\r\n"
		"v: SIP/2.0/TCP third.example;branch=z9hG4bKc\r\n"
		MF FROM TO CID CSEQ CL5 "\r\n" BODY5;
	static const char *vias[] = {
		"SIP/2.0/UDP first.example;branch=z9hG4bKa",
		"SIP/2.0/TLS second.example;branch=z9hG4bKb",
		"SIP/2.0/TCP third.example;branch=z9hG4bKc",
	};
	struct sip_msg *msg, *resp;
	struct mbuf *out = NULL;
	struct sst_extra x = {"Server: test\r\n", "text/plain", "ok", 2};
	struct le *le;
	size_t i = 0;

	msg = decode_str(req, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);

	CU_ASSERT_EQUAL(sst_build_response(&out, msg, 200, "OK", "tg1",
					   NULL, &x), 0);
	resp = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_FALSE(resp->req);
	CU_ASSERT_EQUAL(resp->scode, 200);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_VIA), 3);
	for (le = resp->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;

		if (h->id != SIP_HDR_VIA)
			continue;
		CU_ASSERT_FATAL(i < ARRAY_SIZE(vias));
		CU_ASSERT_EQUAL(pl_strcmp(&h->val, vias[i]), 0);
		++i;
	}
	CU_ASSERT_EQUAL(pl_strcmp(&resp->to.tag, "tg1"), 0);
	CU_ASSERT_EQUAL(pl_cmp(&resp->from.val, &msg->from.val), 0);
	CU_ASSERT_EQUAL(pl_cmp(&resp->callid, &msg->callid), 0);
	CU_ASSERT_EQUAL(resp->cseq.num, 31862);
	CU_ASSERT_EQUAL(pl_strcmp(&resp->cseq.met, "MESSAGE"), 0);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_RECORD_ROUTE), 1);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_xhdr(resp, "Server"));
	CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), 2);
	CU_ASSERT_EQUAL(memcmp(mbuf_buf(resp->mb), "ok", 2), 0);
	mem_deref(resp);
	out = mem_deref(out);

	/* 100 gets no tag, no Record-Route; a random tag otherwise */
	CU_ASSERT_EQUAL(sst_build_response(&out, msg, 100, "Trying", NULL,
					   NULL, NULL), 0);
	resp = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_FALSE(pl_isset(&resp->to.tag));
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_RECORD_ROUTE), 0);
	mem_deref(resp);
	out = mem_deref(out);

	CU_ASSERT_EQUAL(sst_build_response(&out, msg, 404, "Not Found", NULL,
					   NULL, NULL), 0);
	resp = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_EQUAL(resp->to.tag.l, SST_TAG_SIZE - 1);
	mem_deref(resp);
	out = mem_deref(out);

	CU_ASSERT_EQUAL(sst_build_response(&out, msg, 99, "x", NULL, NULL,
					   NULL), EINVAL);
	CU_ASSERT_PTR_NULL(out);
	mem_deref(msg);
}

static void test_response_received(void)
{
	static const char req[] = START
		"Via: SIP/2.0/UDP host.example:5070;branch=z9hG4bKr;rport\r\n"
		MF FROM "To: <sip:bob@example.org>;tag=have\r\n" CID CSEQ CL0
		"\r\n";
	struct sip_msg *msg, *resp;
	struct mbuf *out = NULL;
	struct pl val;
	struct sa src;

	sa_set_str(&src, "127.0.6.1", 5099);
	msg = decode_str(req, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(sst_build_response(&out, msg, 200, "OK", "new",
					   &src, NULL), 0);
	resp = must_decode(out, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_EQUAL(msg_param_decode(&resp->via.params, "received",
					 &val), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&val, "127.0.6.1"), 0);
	CU_ASSERT_EQUAL(msg_param_decode(&resp->via.params, "rport", &val),
			0);
	CU_ASSERT_EQUAL(pl_strcmp(&val, "5099"), 0);
	/* the request had a To tag: kept, no second one */
	CU_ASSERT_EQUAL(pl_strcmp(&resp->to.tag, "have"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&resp->to.val,
				  "<sip:bob@example.org>;tag=have"), 0);
	mem_deref(resp);
	mem_deref(out);
	mem_deref(msg);
}

static bool is_us(const struct uri *uri, void *arg)
{
	return pl_strcasecmp(&uri->host, arg) == 0;
}

static void test_forward(void)
{
	static const char req[] = START VIA
		"Route: <sip:proxy.example.com;lr>, <sip:next.example.org;lr>\r\n"
		"Max-Forwards: 10\r\n" FROM TO CID CSEQ CTYPE CL5 "\r\n" BODY5;
	struct sst_fwd_spec f;
	struct sip_msg *msg, *fwd;
	struct mbuf *out = NULL;
	const struct sip_hdr *h;
	char branch[SST_BRANCH_SIZE];

	sst_branch_gen(branch, sizeof(branch));
	memset(&f, 0, sizeof(f));
	f.via.tp = SIP_TRANSP_TLS;
	f.via.sentby = "proxy.example.com:5061";
	f.via.branch = branch;
	f.rr = "<sip:proxy.example.com;transport=tls;lr>";
	f.selfh = is_us;
	f.arg = "proxy.example.com";

	msg = decode_str(req, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(sst_build_forward(&out, msg, &f), 0);
	fwd = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);

	CU_ASSERT_EQUAL(pl_strcmp(&fwd->via.branch, branch), 0);
	CU_ASSERT_EQUAL(fwd->via.tp, SIP_TRANSP_TLS);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->via.sentby, "proxy.example.com:5061"),
			0);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_VIA), 2);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->maxfwd, "9"), 0);
	h = sip_msg_hdr(fwd, SIP_HDR_RECORD_ROUTE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(pl_strcmp(&h->val, f.rr), 0);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_ROUTE), 1);
	h = sip_msg_hdr(fwd, SIP_HDR_ROUTE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(pl_strcmp(&h->val, "<sip:next.example.org;lr>"), 0);
	CU_ASSERT_EQUAL(pl_cmp(&fwd->ruri, &msg->ruri), 0);
	CU_ASSERT_EQUAL(mbuf_get_left(fwd->mb), 5);
	CU_ASSERT_EQUAL(memcmp(mbuf_buf(fwd->mb), BODY5, 5), 0);
	mem_deref(fwd);
	out = mem_deref(out);

	/* a Route that is not ours stays; a new Request-URI is used */
	f.arg = "elsewhere.example";
	f.ruri = "sip:bob@192.0.2.7:5061;transport=tls";
	CU_ASSERT_EQUAL(sst_build_forward(&out, msg, &f), 0);
	fwd = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_ROUTE), 2);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->ruri, f.ruri), 0);
	mem_deref(fwd);
	out = mem_deref(out);
	mem_deref(msg);

	/* Max-Forwards 0: the caller answers 483 */
	msg = decode_str(START VIA "Max-Forwards: 0\r\n" FROM TO CID CSEQ CL0
			 "\r\n", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(sst_build_forward(&out, msg, &f), ELOOP);
	CU_ASSERT_PTR_NULL(out);
	mem_deref(msg);
}

static void test_fwd_response(void)
{
	static const char resp[] = RESP
		"Via: SIP/2.0/TLS proxy.example.com;branch=z9hG4bKours\r\n"
		"Via: SIP/2.0/UDP ua.example;branch=z9hG4bKua;received=192.0.2.4"
		"\r\n" FROM "To: <sip:bob@example.org>;tag=77\r\n" CID CSEQ CL5
		"\r\n" BODY5;
	struct sip_msg *msg, *fwd, *last;
	struct mbuf *out = NULL, *out2 = NULL;

	msg = decode_str(resp, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(sst_build_fwd_response(&out, msg), 0);
	fwd = must_decode(out, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_VIA), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->via.branch, "z9hG4bKua"), 0);
	CU_ASSERT_EQUAL(fwd->scode, 200);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->to.tag, "77"), 0);
	CU_ASSERT_EQUAL(mbuf_get_left(fwd->mb), 5);

	/* the last Via was the UA's: nothing to forward to */
	CU_ASSERT_EQUAL(sst_build_fwd_response(&out2, fwd), ENOENT);
	CU_ASSERT_PTR_NULL(out2);
	(void)last;
	mem_deref(fwd);
	mem_deref(out);
	mem_deref(msg);
}

/* Every Record-Route value of msg, joined by ", " (libre keeps each
 * value of a list as a header of its own). */
static const char *rr_join(const struct sip_msg *msg, char *buf,
			   size_t size)
{
	struct le *le;
	size_t n = 0;

	buf[0] = '\0';
	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *h = le->data;

		if (h->id != SIP_HDR_RECORD_ROUTE)
			continue;
		n += (size_t)re_snprintf(buf + n, size - n, "%s%r",
					 n ? ", " : "", &h->val);
	}
	return buf;
}

static bool is_us_both(const struct uri *uri, void *arg)
{
	(void)arg;
	return !pl_strcasecmp(&uri->host, "proxy.example.com") ||
		!pl_strcasecmp(&uri->host, "10.0.0.1");
}

/* Topology hiding: only our Via and Contact go out; the response comes
 * back with the inside Vias and Record-Route values restored. */
static void test_fwd_hidden(void)
{
	static const char req[] = START VIA
		"Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKin2\r\n"
		"Record-Route: <sip:10.0.0.9;lr>\r\n"
		"Contact: <sip:alice@10.0.0.5:5070>;expires=60\r\n"
		"Max-Forwards: 10\r\n" FROM TO CID CSEQ CL0 "\r\n";
	static const char resp[] = RESP
		"Via: SIP/2.0/TLS proxy.example.com;branch=z9hG4bKours\r\n"
		"Record-Route: <sip:far.example;lr>, \"x,y\" "
		"<sip:proxy.example.com;lr>\r\n"
		FROM "To: <sip:bob@example.org>;tag=77\r\n" CID CSEQ
		"Contact: <sip:bob@far.example>\r\n" CL0 "\r\n";
	static const char resp_in[] = RESP
		"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKours\r\n"
		"Via: SIP/2.0/TLS far.example;branch=z9hG4bKfar\r\n"
		"Record-Route: <sip:gw.inside;lr>, <sip:10.0.0.1;lr>\r\n"
		"Record-Route: <sip:proxy.example.com;lr>, "
		"<sip:far.example;lr>\r\n"
		FROM "To: <sip:bob@example.org>;tag=77\r\n" CID CSEQ
		"Contact: <sip:bob@10.0.0.5:5070>\r\n" CL0 "\r\n";
	struct sst_fwd_spec f;
	struct sst_fwdr_spec s;
	struct sip_msg *msg, *fwd, *rsp;
	struct mbuf *out = NULL;
	const struct sip_hdr *h;
	char text[1024];

	memset(&f, 0, sizeof(f));
	f.via.tp = SIP_TRANSP_TLS;
	f.via.sentby = "proxy.example.com:5061";
	f.via.branch = "z9hG4bKours";
	f.rr = "<sip:proxy.example.com;lr>";
	f.hide_vias = true;
	f.contact = "<sip:th1.0000abcd@proxy.example.com:5061>;expires=60";

	msg = decode_str(req, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(sst_build_forward(&out, msg, &f), 0);
	fwd = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_VIA), 1);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_RECORD_ROUTE), 1);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_CONTACT), 1);
	h = sip_msg_hdr(fwd, SIP_HDR_CONTACT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(pl_strcmp(&h->val, f.contact), 0);
	CU_ASSERT_FATAL(out->end < sizeof(text));
	memcpy(text, out->buf, out->end);
	text[out->end] = '\0';
	CU_ASSERT_PTR_NULL(strstr(text, "10.0.0."));
	mem_deref(fwd);
	out = mem_deref(out);

	/* the partner's 200: its own value and ours (a comma inside a
	 * quoted name is not a separator), then ours for the inside
	 * and the request's own */
	memset(&s, 0, sizeof(s));
	s.req = msg;
	s.selfh = is_us;
	s.arg = "proxy.example.com";
	s.rr_in = "<sip:10.0.0.1;lr>";
	rsp = decode_str(resp, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rsp);
	CU_ASSERT_EQUAL(sst_build_fwd_response_th(&out, rsp, &s), 0);
	fwd = must_decode(out, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_VIA), 2);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->via.branch, "z9hG4bK74bf9"), 0);
	h = sip_msg_hdr(fwd, SIP_HDR_RECORD_ROUTE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_STRING_EQUAL(rr_join(fwd, text, sizeof(text)),
			       "<sip:far.example;lr>, "
			       "\"x,y\" <sip:proxy.example.com;lr>, "
			       "<sip:10.0.0.1;lr>, <sip:10.0.0.9;lr>");
	mem_deref(fwd);
	out = mem_deref(out);

	mem_deref(rsp);
	mem_deref(msg);

	/* toward a partner: what lies behind our values (the gateway's
	 * and our inside one) dropped, the Contact replaced, the Vias
	 * as they came less ours */
	memset(&s, 0, sizeof(s));
	s.selfh = is_us_both;
	s.rr_out = true;
	s.contact = "<sip:th2.00000001@proxy.example.com>";
	rsp = decode_str(resp_in, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rsp);
	CU_ASSERT_EQUAL(sst_build_fwd_response_th(&out, rsp, &s), 0);
	fwd = must_decode(out, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fwd);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(fwd, SIP_HDR_VIA), 1);
	CU_ASSERT_EQUAL(pl_strcmp(&fwd->via.branch, "z9hG4bKfar"), 0);
	h = sip_msg_hdr(fwd, SIP_HDR_RECORD_ROUTE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_STRING_EQUAL(rr_join(fwd, text, sizeof(text)),
			       "<sip:proxy.example.com;lr>, "
			       "<sip:far.example;lr>");
	h = sip_msg_hdr(fwd, SIP_HDR_CONTACT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(pl_strcmp(&h->val, s.contact), 0);
	mem_deref(fwd);
	mem_deref(out);
	mem_deref(rsp);
}

static void test_request(void)
{
	struct sst_req_spec r;
	struct sip_msg *msg;
	struct mbuf *out = NULL;
	char branch[SST_BRANCH_SIZE], b2[SST_BRANCH_SIZE];
	char tag[SST_TAG_SIZE], small[8];

	sst_branch_gen(branch, sizeof(branch));
	sst_branch_gen(b2, sizeof(b2));
	CU_ASSERT_EQUAL(strncmp(branch, "z9hG4bK", 7), 0);
	CU_ASSERT_EQUAL(strlen(branch), SST_BRANCH_SIZE - 1);
	CU_ASSERT_STRING_NOT_EQUAL(branch, b2);
	sst_tag_gen(tag, sizeof(tag));
	CU_ASSERT_EQUAL(strlen(tag), SST_TAG_SIZE - 1);
	sst_branch_gen(small, sizeof(small));
	CU_ASSERT_EQUAL(small[0], '\0');

	memset(&r, 0, sizeof(r));
	r.method = "NOTIFY";
	r.ruri = "sip:watcher@192.0.2.9:5060;transport=tcp";
	r.from = "<sip:alice@example.net>;tag=ab";
	r.to = "<sip:watcher@example.org>;tag=cd";
	r.callid = "n-1@example.net";
	r.cseq = 4;
	r.via.tp = SIP_TRANSP_TCP;
	r.via.sentby = "127.0.6.1:5060";
	r.via.branch = branch;
	r.contact = "<sip:gw@127.0.6.1:5060;transport=tcp>";
	r.x.hdrs = "Event: presence\r\nSubscription-State: active\r\n";
	r.x.ctype = "application/pidf+xml";
	r.x.body = "<presence/>";
	r.x.blen = 11;

	CU_ASSERT_EQUAL(sst_build_request(&out, &r), 0);
	msg = must_decode(out, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(pl_strcmp(&msg->met, "NOTIFY"), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&msg->maxfwd, "70"), 0);
	CU_ASSERT_EQUAL(msg->cseq.num, 4);
	CU_ASSERT_EQUAL(pl_strcmp(&msg->via.branch, branch), 0);
	CU_ASSERT_EQUAL(pl_strcmp(&msg->callid, "n-1@example.net"), 0);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(msg, SIP_HDR_CONTACT));
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(msg, SIP_HDR_EVENT));
	CU_ASSERT_EQUAL(pl_strcmp(&msg->ctyp.type, "application"), 0);
	CU_ASSERT_EQUAL(mbuf_get_left(msg->mb), 11);
	mem_deref(msg);
	out = mem_deref(out);

	r.via.branch = "nomagic";
	CU_ASSERT_EQUAL(sst_build_request(&out, &r), EINVAL);
	CU_ASSERT_PTR_NULL(out);
}

/* ---- the way back (sst_flow) --------------------------------------- */

static void test_sentby_port(void)
{
	static const struct {
		const char *in;
		uint16_t port;
	} tv[] = {
		{"192.0.2.1", 0}, {"192.0.2.1:5070", 5070},
		{"proxy.example.org:15062", 15062}, {"proxy.example.org", 0},
		{"[2001:db8::1]:5061", 5061}, {"[2001:db8::1]", 0},
		{"[2001:db8::1", 0}, {"h:", 0}, {"h:65535", 65535},
		{"h:65536", 0}, {"h:50x", 0}, {"", 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++)
		CU_ASSERT_EQUAL(sst_flow_sentby_port(tv[i].in,
						     strlen(tv[i].in)),
				tv[i].port);
}

/* RFC 3261 18.2.2 and RFC 3581 over a table of top Vias. */
static void test_udp_dest(void)
{
	static const struct {
		const char *via;
		const char *want;   /* for a request from 127.0.111.7:40000 */
	} tv[] = {
		{"SIP/2.0/UDP 127.0.111.7:5070;branch=z9hG4bKa",
		 "127.0.111.7:5070"},
		{"SIP/2.0/UDP sip.chicago.test:15062;branch=z9hG4bKb",
		 "127.0.111.7:15062"},
		{"SIP/2.0/UDP sip.chicago.test;branch=z9hG4bKc",
		 "127.0.111.7:5060"},
		{"SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKd",
		 "127.0.111.7:5070"},
		{"SIP/2.0/UDP 127.0.111.7:5070;rport;branch=z9hG4bKe",
		 "127.0.111.7:40000"},
		{"SIP/2.0/UDP 127.0.111.7:5070;branch=z9hG4bKf;rport",
		 "127.0.111.7:40000"},
		{"SIP/2.0/UDP [::1]:5072;branch=z9hG4bKg",
		 "127.0.111.7:5072"},
		{"SIP/2.0/UDP h.test:5070;rportx=1;branch=z9hG4bKh",
		 "127.0.111.7:5070"},
	};
	struct sa src, dst;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&src, "127.0.111.7", 40000), 0);
	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		char m[512], got[64];
		struct sip_msg *msg = NULL;
		struct sst_verdict v;

		re_snprintf(m, sizeof(m), "OPTIONS sip:x@acme.test SIP/2.0\r\n"
			    "Via: %s\r\nMax-Forwards: 70\r\n"
			    "From: <sip:a@b.test>;tag=1\r\nTo: <sip:x@acme.test>"
			    "\r\nCall-ID: c%zu\r\nCSeq: 1 OPTIONS\r\n\r\n",
			    tv[i].via, i);
		CU_ASSERT_EQUAL_FATAL(decode(&msg, m, strlen(m), false, &v), 0);
		CU_ASSERT_EQUAL(sst_flow_udp_dest(&dst, msg, &src), 0);
		re_snprintf(got, sizeof(got), "%J", &dst);
		CU_ASSERT_STRING_EQUAL(got, tv[i].want);
		sst_verdict_reset(&v);
		mem_deref(msg);
	}
	CU_ASSERT_EQUAL(sst_flow_udp_dest(&dst, NULL, &src), EINVAL);
}

/* The header block of a stream message refused for its size: 513. */
static void test_decode_head(void)
{
	static const char head[] =
		"MESSAGE sip:bob@acme.test SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 127.0.118.3:5060;branch=z9hG4bKo\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:a@chicago.test>;tag=1\r\n"
		"To: <sip:bob@acme.test>\r\nCall-ID: big-1\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Length: 70000\r\n\r\n";
	static const char broken[] =
		"MESSAGE sip:bob@acme.test SIP/2.0\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:a@chicago.test>;tag=1\r\n"
		"To: <sip:bob@acme.test>\r\nCall-ID: big-2\r\n"
		"CSeq: 1 MESSAGE\r\nContent-Length: 70000\r\n\r\n";
	struct sst_verdict v;
	struct mbuf *mb = mb_of(head, strlen(head));

	CU_ASSERT_EQUAL(sst_msg_decode_head(mb, NULL, &v), EMSGSIZE);
	CU_ASSERT_EQUAL(v.reason, SST_R_TOO_BIG);
	CU_ASSERT_EQUAL(v.status, 513);
	CU_ASSERT(v.reply);
	CU_ASSERT_PTR_NOT_NULL(v.msg);
	sst_verdict_reset(&v);
	mem_deref(mb);

	mb = mb_of(broken, strlen(broken));
	CU_ASSERT_EQUAL(sst_msg_decode_head(mb, NULL, &v), EBADMSG);
	CU_ASSERT_EQUAL(v.reason, SST_R_MISSING_VIA);
	sst_verdict_reset(&v);
	mem_deref(mb);
}

static CU_TestInfo flow_tests[] = {
	{"sent-by ports", test_sentby_port},
	{"UDP response destination", test_udp_dest},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo decode_tests[] = {
	{"oversize header block", test_decode_head},
	{"valid corpus", test_valid},
	{"invalid corpus", test_invalid},
	{"size limits", test_limits},
	{"each size limit at and one above", test_limit_edges},
	{"limits: defaults for zero members", test_limits_of},
	{"truncated messages", test_truncations},
	{"reason table", test_reason_names},
	{"header names", test_names},
	{"decimal numbers", test_uint},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo build_tests[] = {
	{"response mirrors the request", test_response},
	{"response received/rport", test_response_received},
	{"forwarded request", test_forward},
	{"forwarded response", test_fwd_response},
	{"topology hiding", test_fwd_hidden},
	{"new request and random ids", test_request},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_msg", NULL, NULL, NULL, NULL, decode_tests},
	{"sst_build", NULL, NULL, NULL, NULL, build_tests},
	{"sst_flow", NULL, NULL, NULL, NULL, flow_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
