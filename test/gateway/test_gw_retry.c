/*
 * test_gw_retry.c -- the retry policy: which answers are refusals, and
 * the waits an administrator reads in `stgateway status` after each
 * failure in a row.
 */
#include <limits.h>

#include <re.h>

#include "gateway/gw_retry.h"
#include "lib/cutest.h"

/* Refusals back off to hours; busy or restarting partners do not. */
static void test_kinds(void)
{
	static const uint16_t permanent[] = {
		400, 403, 404, 405, 410, 415, 416, 420, 484, 485, 488, 489,
		603, 604, 606,
	};
	static const uint16_t transient[] = {
		0, 408, 480, 481, 482, 483, 486, 491, 500, 502, 503, 504, 600,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(permanent); i++)
		CU_ASSERT_TRUE(gw_retry_permanent(permanent[i]));
	for (i = 0; i < ARRAY_SIZE(transient); i++)
		CU_ASSERT_FALSE(gw_retry_permanent(transient[i]));
}

static void test_waits(void)
{
	static const struct {
		bool permanent;
		unsigned fails;
		unsigned want;
	} tv[] = {
		{false, 1, 3}, {false, 2, 6}, {false, 3, 12}, {false, 5, 48},
		{false, 6, 60}, {false, 100, 60}, {false, UINT_MAX, 60},
		{true, 1, 300}, {true, 2, 600}, {true, 3, 1200},
		{true, 6, 9600}, {true, 7, 14400}, {true, 1000, 14400},
		{true, UINT_MAX, 14400},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++)
		CU_ASSERT_EQUAL(gw_retry_wait(tv[i].permanent, tv[i].fails),
				tv[i].want);
}

/* A down link: 1, 2, 4 ... up to its retryInterval, never above. */
static void test_link_waits(void)
{
	static const struct {
		unsigned fails, max, want;
	} tv[] = {
		{1, 60, 1}, {2, 60, 2}, {3, 60, 4}, {6, 60, 32}, {7, 60, 60},
		{50, 60, 60}, {1, 2, 1}, {2, 2, 2}, {9, 2, 2}, {3, 5, 4},
		{4, 5, 5}, {1, 0, 1}, {UINT_MAX, 60, 60},
		{40, UINT_MAX, UINT_MAX},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++)
		CU_ASSERT_EQUAL(gw_retry_link_wait(tv[i].fails, tv[i].max),
				tv[i].want);
}

static CU_TestInfo retry_tests[] = {
	{"refusals and transient failures", test_kinds},
	{"subscription waits", test_waits},
	{"link probe waits", test_link_waits},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_retry", NULL, NULL, NULL, NULL, retry_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
