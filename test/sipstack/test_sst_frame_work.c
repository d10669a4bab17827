/*
 * test_sst_frame_work.c -- how much the framer reads to cut a message
 * that arrives one byte at a time.  The framer is compiled into this
 * test so that its searches can be counted (SST_FRAME_LOOKED): a long
 * start line sent byte by byte must cost a number of looked-at bytes
 * linear in its length, not one pass over the line per byte.
 */
#include <stddef.h>

static size_t looked;
#define SST_FRAME_LOOKED(n) (looked += (n))

#include "sipstack/sst_frame.c"

#include "lib/cutest.h"

enum { URI_LEN = 16000 };

static char *long_request(size_t *lenp)
{
	static const char head[] = "MESSAGE sip:";
	static const char tail[] =
		"@example.org SIP/2.0\r\n"
		"Via: SIP/2.0/TCP 127.0.116.1:5060;branch=z9hG4bK1\r\n"
		"Content-Length: 2\r\n"
		"\r\n"
		"hi";
	size_t len = sizeof(head) - 1 + URI_LEN + sizeof(tail) - 1;
	char *p = mem_alloc(len + 1, NULL);

	if (!p)
		return NULL;
	memcpy(p, head, sizeof(head) - 1);
	memset(p + sizeof(head) - 1, 'a', URI_LEN);
	memcpy(p + sizeof(head) - 1 + URI_LEN, tail, sizeof(tail));
	*lenp = len;
	return p;
}

/* Push one byte at a time; the message must come out whole, once. */
static size_t bytewise(const char *p, size_t len, size_t hdr_max)
{
	const struct sst_limits lim = {.hdr_max = hdr_max};
	struct sst_frame *fr = NULL;
	struct mbuf *mb;
	size_t i, got = 0;
	bool ping;
	int err;

	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, &lim), 0);
	looked = 0;
	for (i = 0; i < len; i++) {
		CU_ASSERT_EQUAL_FATAL(sst_frame_push(fr, (const uint8_t *)p + i,
						     1), 0);
		while (!(err = sst_frame_next(fr, &mb, &ping))) {
			CU_ASSERT_FALSE(ping);
			CU_ASSERT_PTR_NOT_NULL(mb);
			if (mb) {
				CU_ASSERT_EQUAL(mb->end, len);
				CU_ASSERT_EQUAL(memcmp(mb->buf, p, len), 0);
				got++;
			}
			mem_deref(mb);
		}
		CU_ASSERT_EQUAL(err, ENODATA);
	}
	CU_ASSERT_EQUAL(got, 1);
	mem_deref(fr);
	return looked;
}

static void test_long_start_line(void)
{
	size_t len = 0;
	char *p = long_request(&len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);

	/* each byte is looked at a few times (CRLF, CRLFCRLF, the start
	 * line check), never once per later byte */
	CU_ASSERT_TRUE(bytewise(p, len, 32768) <= 8 * len);

	mem_deref(p);
}

/* A bad start line is still refused as soon as it is whole. */
static void test_bad_start_line_bytewise(void)
{
	static const char bad[] = "MESSAGE sip:bob@example.org HTTP/1.1\r\n";
	struct sst_frame *fr = NULL;
	struct mbuf *mb = NULL;
	size_t i;
	bool ping;
	int err = ENODATA;

	CU_ASSERT_EQUAL_FATAL(sst_frame_alloc(&fr, NULL), 0);
	for (i = 0; i < sizeof(bad) - 1 && err == ENODATA; i++) {
		CU_ASSERT_EQUAL(sst_frame_push(fr, (const uint8_t *)bad + i,
					       1), 0);
		err = sst_frame_next(fr, &mb, &ping);
	}
	CU_ASSERT_EQUAL(err, EBADMSG);
	CU_ASSERT_EQUAL(i, sizeof(bad) - 1);
	CU_ASSERT_STRING_EQUAL(sst_frame_reason(fr), "bad start line");
	mem_deref(fr);
}

static CU_TestInfo work_tests[] = {
	{"16 KB start line, a byte at a time: linear",
	 test_long_start_line},
	{"bad start line refused when whole, byte by byte",
	 test_bad_start_line_bytewise},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_frame_work", NULL, NULL, NULL, NULL, work_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
