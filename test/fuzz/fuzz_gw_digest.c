/*
 * fuzz_gw_digest.c -- libFuzzer target: every input is an
 * Authorization / Proxy-Authorization value for gw_digest_cred_decode().
 * A value that decodes is verified against a fixed realm, request-URI
 * and password, which must refuse it or accept it without a crash, and
 * its strings must be NUL-terminated within their caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation. */
#include "gateway/gw_digest.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_digest *dg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gw_digest_secret sec = {"secret", {NULL, NULL}};
	struct gw_digest_cred cred;
	struct pl val, ruri;

	if (!dg && gw_digest_alloc(&dg, 0))
		abort();

	val.p = (const char *)data;
	val.l = size;
	if (gw_digest_cred_decode(&cred, &val))
		return 0;

	if (strlen(cred.username) > GW_DIGEST_USER_MAX ||
	    strlen(cred.uri) > GW_DIGEST_URI_MAX ||
	    strlen(cred.response) > GW_DIGEST_HEX_MAX ||
	    (unsigned)cred.alg >= GW_DIGEST_ALG_COUNT)
		abort();

	pl_set_str(&ruri, "sip:acme.test");
	(void)gw_digest_reason(gw_digest_verify(dg, &cred, "acme.test",
						 "REGISTER", &ruri, &sec,
						 1000000));
	return 0;
}
