/*
 * test_dmn_trace.c -- the Trace file: what an administrator finds in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <re.h>

#include "daemon/dmn.h"
#include "lib/cutest.h"

static const char req[] =
	"MESSAGE sip:bob@acme.test SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.20:5060;branch=z9hG4bK1\r\n"
	"From: <sip:Bob.Jones@chicago.test>;tag=1\r\n"
	"To: <sip:bob@acme.test>\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 2 MESSAGE\r\n"
	"Max-Forwards: 70\r\n"
	"Proxy-Authorization: Digest username=\"bob\", response=\"0123456789abcdef\"\r\n"
	"authorization  : Digest username=\"bob\", response=\"fedcba9876543210\"\r\n"
	"X-Odd: a\x01" "b\x1b[31m\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 22\r\n"
	"\r\n"
	"the launch code is 42\n";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void trace_one(const char *path, unsigned level)
{
	struct dmn_trace *tr = NULL;
	struct sa peer, local;

	sa_set_str(&peer, "127.0.0.20", 5060);
	sa_set_str(&local, "127.0.0.10", 5060);
	CU_ASSERT_EQUAL_FATAL(dmn_trace_open(&tr, path, level), 0);
	dmn_trace_msg(tr, true, "udp", &peer, &local,
		      (const uint8_t *)req, sizeof(req) - 1);
	dmn_trace_msg(tr, false, "tls", &peer, &local,
		      (const uint8_t *)req, sizeof(req) - 1);
	CU_ASSERT_EQUAL(dmn_trace_records(tr), 2);
	CU_ASSERT_EQUAL(dmn_trace_errors(tr), 0);
	mem_deref(tr);
}

static void test_level1(void)
{
	const char *dir = cutest_tmpdir("dmn_trace1");
	char path[4200];
	struct stat st;
	char *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/sip.trace", dir);
	trace_one(path, 1);

	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	t = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* record headers: direction, transport, who to whom, size */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, " in udp 127.0.0.20:5060 -> "
				      "127.0.0.10:5060 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, " out tls 127.0.0.10:5060 -> "
				      "127.0.0.20:5060 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "MESSAGE sip:bob@acme.test SIP/2.0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "Call-ID: c1\n"));
	/* credentials masked, whatever the spelling of the name */
	CU_ASSERT_PTR_NULL(strstr(t, "0123456789abcdef"));
	CU_ASSERT_PTR_NULL(strstr(t, "fedcba9876543210"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "Proxy-Authorization: Digest ***"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "authorization: Digest ***"));
	/* no raw control bytes reach the file */
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "X-Odd: a\\x01b\\x1b[31m\n"));
	CU_ASSERT_PTR_NULL(strchr(t, '\r'));
	CU_ASSERT_PTR_NULL(strchr(t, '\x1b'));
	/* level 1 keeps the words out */
	CU_ASSERT_PTR_NULL(strstr(t, "launch code"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "(body: 22 bytes)"));
}

static void test_level2_append(void)
{
	const char *dir = cutest_tmpdir("dmn_trace2");
	char path[4200];
	char *t, *second;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/sip.trace", dir);
	trace_one(path, 2);
	trace_one(path, 2);  /* reopened after a reload: appends */

	t = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\nthe launch code is 42\n"));
	CU_ASSERT_PTR_NULL(strstr(t, "0123456789abcdef"));
	second = strstr(t, "=== ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(second);
	{
		int n = 0;
		const char *q = t;

		while ((q = strstr(q, "=== ")) != NULL) {
			n++;
			q += 4;
		}
		CU_ASSERT_EQUAL(n, 4);
	}
}

static void test_refusals(void)
{
	struct dmn_trace *tr = NULL;
	const char *dir = cutest_tmpdir("dmn_trace3");
	char path[4200], link[4300];

	CU_ASSERT_EQUAL(dmn_trace_open(&tr, NULL, 1), EINVAL);
	CU_ASSERT_EQUAL(dmn_trace_open(&tr, "", 1), EINVAL);
	CU_ASSERT_EQUAL(dmn_trace_open(&tr, "/nonexistent-dir/x.trace", 1),
			ENOENT);
	/* a symlink planted at the trace path is not followed */
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/sip.trace", dir);
	CU_ASSERT_EQUAL(symlink(path, link), 0);
	CU_ASSERT_EQUAL(dmn_trace_open(&tr, link, 1), ELOOP);
	CU_ASSERT_PTR_NULL(tr);
	/* a NULL trace is a no-op, so callers need no check */
	dmn_trace_msg(NULL, true, "udp", NULL, NULL,
		      (const uint8_t *)req, sizeof(req) - 1);
}

/* The scope test: From, To or Request-URI, domains or one address. */
static void test_scope(void)
{
	static const char m[] =
		"MESSAGE sip:alice@acme.test SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
		"From: <sip:Bob@Chicago.Test>;tag=1\r\n"
		"To: <sip:alice@acme.test>\r\n"
		"Call-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	static const char r[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
		"From: <sip:carol@lab.paris.test>;tag=1\r\n"
		"To: <sip:alice@acme.test>;tag=2\r\n"
		"Call-ID: c2\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
	const char *chi[] = {"chicago.test"};
	const char *par[] = {"paris.test", "*.paris.test"};
	const uint8_t *mp = (const uint8_t *)m, *rp = (const uint8_t *)r;

	CU_ASSERT_TRUE(dmn_trace_in_scope(chi, 1, NULL, mp, sizeof(m) - 1));
	CU_ASSERT_FALSE(dmn_trace_in_scope(chi, 1, NULL, rp, sizeof(r) - 1));
	CU_ASSERT_TRUE(dmn_trace_in_scope(par, 2, NULL, rp, sizeof(r) - 1));
	CU_ASSERT_FALSE(dmn_trace_in_scope(par, 2, NULL, mp, sizeof(m) - 1));
	CU_ASSERT_TRUE(dmn_trace_in_scope(NULL, 0, "sip:bob@chicago.test", mp,
					  sizeof(m) - 1));
	CU_ASSERT_TRUE(dmn_trace_in_scope(NULL, 0, "alice@acme.test", rp,
					  sizeof(r) - 1));
	CU_ASSERT_FALSE(dmn_trace_in_scope(NULL, 0, "bo@chicago.test", mp,
					   sizeof(m) - 1));
	CU_ASSERT_FALSE(dmn_trace_in_scope(chi, 1, NULL,
					   (const uint8_t *)"garbage", 7));
}

static CU_TestInfo trace_tests[] = {
	{"scope: community domains or one address", test_scope},
	{"level 1: headers, masked credentials, no body", test_level1},
	{"level 2: bodies, appends on reopen", test_level2_append},
	{"bad paths refused", test_refusals},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"dmn_trace", NULL, NULL, NULL, NULL, trace_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
