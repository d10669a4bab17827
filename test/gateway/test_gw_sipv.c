/*
 * test_gw_sipv.c -- the AOR form the gateway's services compare byte
 * for byte, and the Expires value they read.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "gateway/gw_sipv.h"
#include "lib/cutest.h"

static struct sip_msg *msg_with(const char *hdrs)
{
	char buf[1024];
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	struct mbuf *mb = mbuf_alloc(sizeof(buf));
	int n;

	n = re_snprintf(buf, sizeof(buf), "SUBSCRIBE sip:Bob@ACME.test "
			"SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.124.31:5060;branch=z9hG4bKs\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:asmith@acme.test>;tag=1\r\n"
			"To: <sip:Bob@ACME.test>\r\nCall-ID: sv-1\r\n"
			"CSeq: 1 SUBSCRIBE\r\n%sContent-Length: 0\r\n\r\n",
			hdrs);
	CU_ASSERT_FATAL(n > 0);
	(void)mbuf_write_mem(mb, (const uint8_t *)buf, (size_t)n);
	mb->pos = 0;
	CU_ASSERT_EQUAL(sst_msg_decode(&msg, mb, false, NULL, &v), 0);
	sst_verdict_reset(&v);
	mem_deref(mb);
	return msg;
}

/* The host is lower-cased, the user kept as it is. */
static void test_aor(void)
{
	struct sip_msg *msg = msg_with("");
	char buf[64];
	struct uri u;

	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(gw_aor_of(buf, sizeof(buf), &msg->uri), 0);
	CU_ASSERT_STRING_EQUAL(buf, "sip:Bob@acme.test");
	CU_ASSERT_EQUAL(gw_aor_of(buf, sizeof(buf), &msg->from.uri), 0);
	CU_ASSERT_STRING_EQUAL(buf, "sip:asmith@acme.test");
	CU_ASSERT_EQUAL(gw_aor_of(NULL, 0, &msg->uri), EINVAL);

	u = msg->uri;
	u.user.l = 0;
	CU_ASSERT_EQUAL(gw_aor_of(buf, sizeof(buf), &u), EINVAL);
	mem_deref(msg);
}

static void test_expires(void)
{
	struct sip_msg *msg = msg_with("Expires: 600\r\n");

	CU_ASSERT_EQUAL(gw_expires_of(msg, 3600), 600);
	mem_deref(msg);
	msg = msg_with("");
	CU_ASSERT_EQUAL(gw_expires_of(msg, 3600), 3600);
	mem_deref(msg);
	CU_ASSERT_EQUAL(gw_expires_of(NULL, 7), 7);
}

static CU_TestInfo sipv_tests[] = {
	{"AOR form", test_aor},
	{"Expires", test_expires},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_sipv", NULL, NULL, NULL, NULL, sipv_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
