/*
 * test_sst_seal.c -- sealed tokens (sipstack/sst_seal.c): what comes
 * back is what was sealed, one text gives one token, and a token that
 * was altered, made under another key or cut short is refused.
 */
#include <errno.h>
#include <string.h>

#include "sipstack/sst_seal.h"
#include "lib/cutest.h"

static const char uri[] = "sip:bob@10.1.0.11:5070;transport=tls";

static void test_round_trip(void)
{
	uint8_t key[SST_SEAL_KEY];
	char tok[SST_SEAL_LEN(sizeof(uri)) + 1], tok2[sizeof(tok)];
	char back[64];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(sst_seal_keygen(key), 0);
	CU_ASSERT_EQUAL_FATAL(sst_seal(key, uri, strlen(uri), tok,
				       sizeof(tok)), 0);
	CU_ASSERT_EQUAL(strlen(tok), SST_SEAL_LEN(strlen(uri)));
	for (i = 0; tok[i]; i++)	/* a URI user part as it is */
		CU_ASSERT_PTR_NOT_NULL(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "abcdefghijklmnopqrstuvwxyz"
					      "0123456789-_", tok[i]));
	CU_ASSERT_PTR_NULL(strstr(tok, "10.1.0.11"));
	CU_ASSERT_EQUAL(sst_unseal(key, tok, strlen(tok), back, sizeof(back)),
			0);
	CU_ASSERT_STRING_EQUAL(back, uri);

	/* stable: the same text, the same token */
	CU_ASSERT_EQUAL(sst_seal(key, uri, strlen(uri), tok2, sizeof(tok2)),
			0);
	CU_ASSERT_STRING_EQUAL(tok, tok2);
	/* another text, another token */
	CU_ASSERT_EQUAL(sst_seal(key, uri, strlen(uri) - 1, tok2,
				 sizeof(tok2)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(tok, tok2);
	/* empty text */
	CU_ASSERT_EQUAL(sst_seal(key, "", 0, tok2, sizeof(tok2)), 0);
	CU_ASSERT_EQUAL(sst_unseal(key, tok2, strlen(tok2), back,
				   sizeof(back)), 0);
	CU_ASSERT_STRING_EQUAL(back, "");
}

static void test_refused(void)
{
	uint8_t key[SST_SEAL_KEY], other[SST_SEAL_KEY];
	char tok[SST_SEAL_LEN(sizeof(uri)) + 1], bad[sizeof(tok)];
	char back[64];
	size_t i, l;

	CU_ASSERT_EQUAL_FATAL(sst_seal_keygen(key), 0);
	CU_ASSERT_EQUAL_FATAL(sst_seal_keygen(other), 0);
	CU_ASSERT_EQUAL_FATAL(sst_seal(key, uri, strlen(uri), tok,
				       sizeof(tok)), 0);
	l = strlen(tok);

	CU_ASSERT_EQUAL(sst_unseal(other, tok, l, back, sizeof(back)),
			EBADMSG);
	/* every character changed in turn */
	for (i = 0; i < l; i++) {
		memcpy(bad, tok, l + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		CU_ASSERT_EQUAL(sst_unseal(key, bad, l, back, sizeof(back)),
				EBADMSG);
	}
	for (i = 0; i < l; i++)		/* every length short of it */
		CU_ASSERT_NOT_EQUAL(sst_unseal(key, tok, i, back,
					       sizeof(back)), 0);
	CU_ASSERT_EQUAL(sst_unseal(key, "th0.1234abcd", 12, back,
				   sizeof(back)), EBADMSG);
	CU_ASSERT_EQUAL(sst_unseal(key, tok, l, back, 8), EOVERFLOW);
	CU_ASSERT_EQUAL(sst_seal(key, uri, strlen(uri), bad, l), EOVERFLOW);
}

static CU_TestInfo seal_tests[] = {
	{"round trip, stable, URI-safe", test_round_trip},
	{"altered, short or foreign tokens refused", test_refused},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_seal", NULL, NULL, NULL, NULL, seal_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
