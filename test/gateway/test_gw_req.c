/*
 * test_gw_req.c -- the request context: a request's digest credentials
 * are found for our realm among its Authorization (or, for a proxy
 * challenge, Proxy-Authorization) headers, decoded once and kept on the
 * request, so that the step after the directory's answer reads the
 * same ones without decoding the header again.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "gateway/gw_req.h"
#include "lib/cutest.h"

static struct sip_msg *msg_with(const char *hdrs)
{
	char buf[2048];
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	struct mbuf *mb = mbuf_alloc(sizeof(buf));
	int n;

	n = re_snprintf(buf, sizeof(buf), "REGISTER sip:acme.test SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.124.30:5060;branch=z9hG4bKq\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:asmith@acme.test>;tag=1\r\n"
			"To: <sip:asmith@acme.test>\r\nCall-ID: rq-1\r\n"
			"CSeq: 1 REGISTER\r\n%sContent-Length: 0\r\n\r\n",
			hdrs);
	CU_ASSERT_FATAL(n > 0);
	(void)mbuf_write_mem(mb, (const uint8_t *)buf, (size_t)n);
	mb->pos = 0;
	CU_ASSERT_EQUAL(sst_msg_decode(&msg, mb, false, NULL, &v), 0);
	sst_verdict_reset(&v);
	mem_deref(mb);
	return msg;
}

#define CRED(hname, user, realm) \
	hname ": Digest username=\"" user "\", realm=\"" realm "\", " \
	"nonce=\"n0\", uri=\"sip:acme.test\", " \
	"response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n"

/* Ours among others, found; kept when asked again, even once the
 * message no longer carries it (it is not decoded a second time). */
static void test_found_and_kept(void)
{
	struct gw_req rq;
	const struct gw_digest_cred *c;
	int err = -1;

	memset(&rq, 0, sizeof(rq));
	rq.msg = msg_with(CRED("Authorization", "other", "elsewhere.test")
			  CRED("Authorization", "asmith", "acme.test"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rq.msg);
	c = gw_req_cred(&rq, "acme.test", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_STRING_EQUAL(c->username, "asmith");
	CU_ASSERT_STRING_EQUAL(c->realm, "acme.test");
	CU_ASSERT_EQUAL(c->alg, GW_DIGEST_MD5);

	mem_deref(rq.msg);
	rq.msg = msg_with("");
	CU_ASSERT(gw_req_cred(&rq, "acme.test", NULL) == c);
	CU_ASSERT_STRING_EQUAL(c->username, "asmith");
	mem_deref(rq.msg);
}

/* None for our realm: NULL and no error; a broken header: its error. */
static void test_none_and_broken(void)
{
	struct gw_req rq;
	int err = -1;

	memset(&rq, 0, sizeof(rq));
	rq.msg = msg_with(CRED("Authorization", "asmith", "elsewhere.test"));
	CU_ASSERT_PTR_NULL(gw_req_cred(&rq, "acme.test", &err));
	CU_ASSERT_EQUAL(err, 0);
	mem_deref(rq.msg);

	memset(&rq, 0, sizeof(rq));
	rq.msg = msg_with("Authorization: Digest username=\"asmith\"\r\n");
	CU_ASSERT_PTR_NULL(gw_req_cred(&rq, "acme.test", &err));
	CU_ASSERT_NOT_EQUAL(err, 0);
	mem_deref(rq.msg);
}

/* A proxy challenge is answered in Proxy-Authorization; the other
 * header is not looked at, and the other way round. */
static void test_proxy_header(void)
{
	struct gw_req rq;
	const struct gw_digest_cred *c;

	memset(&rq, 0, sizeof(rq));
	rq.proxy = true;
	rq.msg = msg_with(CRED("Authorization", "wrong", "acme.test")
			  CRED("Proxy-Authorization", "asmith", "acme.test"));
	c = gw_req_cred(&rq, "acme.test", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(c->username, "asmith");
	mem_deref(rq.msg);

	memset(&rq, 0, sizeof(rq));
	rq.msg = msg_with(CRED("Proxy-Authorization", "asmith", "acme.test"));
	CU_ASSERT_PTR_NULL(gw_req_cred(&rq, "acme.test", NULL));
	mem_deref(rq.msg);
}

static CU_TestInfo req_tests[] = {
	{"credentials found and kept", test_found_and_kept},
	{"none for our realm, or broken", test_none_and_broken},
	{"Proxy-Authorization for a proxy challenge", test_proxy_header},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_req", NULL, NULL, NULL, NULL, req_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
