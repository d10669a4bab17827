/*
 * test_gw_digest.c -- digest authentication: RFC known answers, a full
 * challenge/response exchange for both algorithms, and every refusal with
 * its own code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "gateway/gw_digest.h"
#include "lib/cutest.h"

static const char realm[] = "acme.test";
static const uint64_t t0 = 1700000000;

/* RFC 2617 §3.5 and RFC 7616 §3.9.1: computed responses must equal the
 * published ones. */
static void test_known_answers(void)
{
	static const struct {
		enum gw_digest_alg alg;
		const char *realm, *password, *nonce, *cnonce, *response;
	} tv[] = {
		{GW_DIGEST_MD5, "testrealm@host.com", "Circle Of Life",
		 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b",
		 "6629fae49393a05397450978507c4ef1"},
		{GW_DIGEST_MD5, "http-auth@example.org", "Circle of Life",
		 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		 "8ca523f5e9506fed4657c9700eebdbec"},
		{GW_DIGEST_SHA256, "http-auth@example.org", "Circle of Life",
		 "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		 "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		 "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		char ha1[65], resp[65];

		CU_ASSERT_EQUAL(gw_digest_ha1(ha1, sizeof(ha1), tv[i].alg,
					      "Mufasa", tv[i].realm,
					      tv[i].password), 0);
		CU_ASSERT_EQUAL(gw_digest_response(resp, sizeof(resp), tv[i].alg,
						   ha1, tv[i].nonce, "00000001",
						   tv[i].cnonce, "GET",
						   "/dir/index.html"), 0);
		CU_ASSERT_STRING_EQUAL(resp, tv[i].response);
	}
	/* output buffer too small for SHA-256 */
	{
		char small[33];

		CU_ASSERT_EQUAL(gw_digest_ha1(small, sizeof(small),
					      GW_DIGEST_SHA256, "u", "r", "p"),
				EMSGSIZE);
	}
}

/* HA1 cross-checked against an independent implementation (openssl). */
static void test_ha1_openssl(void)
{
	static const struct {
		enum gw_digest_alg alg;
		const char *dgst;
	} tv[] = {{GW_DIGEST_MD5, "md5"}, {GW_DIGEST_SHA256, "sha256"}};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		char cmd[256], line[256], ha1[65];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "printf '%%s' 'asmith:acme.test:"
			 "s3cr3t pass' | openssl dgst -%s -r", tv[i].dgst);
		f = popen(cmd, "r");
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
		CU_ASSERT_EQUAL(pclose(f), 0);
		CU_ASSERT_EQUAL(gw_digest_ha1(ha1, sizeof(ha1), tv[i].alg,
					      "asmith", "acme.test",
					      "s3cr3t pass"), 0);
		CU_ASSERT_EQUAL(strncmp(line, ha1, strlen(ha1)), 0);
		CU_ASSERT_EQUAL(line[strlen(ha1)], ' ');
	}
}

static int decode_str(struct gw_digest_cred *cr, const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);
	return gw_digest_cred_decode(cr, &pl);
}

static void test_parse_rfc2617(void)
{
	struct gw_digest_cred cr;
	char resp[65], ha1[65];

	CU_ASSERT_EQUAL_FATAL(decode_str(&cr,
		"Digest username=\"Mufasa\",\r\n"
		"                 realm=\"testrealm@host.com\",\r\n"
		"                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
		"                 uri=\"/dir/index.html\",\r\n"
		"                 qop=auth,\r\n"
		"                 nc=00000001,\r\n"
		"                 cnonce=\"0a4f113b\",\r\n"
		"                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
		"                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), 0);
	CU_ASSERT_EQUAL(cr.alg, GW_DIGEST_MD5);
	CU_ASSERT(cr.qop_auth);
	CU_ASSERT_EQUAL(cr.nc, 1);
	CU_ASSERT_STRING_EQUAL(cr.username, "Mufasa");
	CU_ASSERT_STRING_EQUAL(cr.realm, "testrealm@host.com");
	CU_ASSERT_STRING_EQUAL(cr.uri, "/dir/index.html");
	CU_ASSERT_STRING_EQUAL(cr.cnonce, "0a4f113b");
	CU_ASSERT_STRING_EQUAL(cr.opaque, "5ccc069c403ebaf9f0171e9517f40e41");

	gw_digest_ha1(ha1, sizeof(ha1), cr.alg, cr.username, cr.realm,
		      "Circle Of Life");
	gw_digest_response(resp, sizeof(resp), cr.alg, ha1, cr.nonce,
			   cr.nc_hex, cr.cnonce, "GET", cr.uri);
	CU_ASSERT_STRING_EQUAL(resp, cr.response);
}

/* Pull the nonce out of a challenge value. */
static void nonce_of(char *nonce, const struct mbuf *mb)
{
	const char *p = strstr((const char *)mb->buf, "nonce=\"");

	CU_ASSERT_FATAL(p != NULL);
	memcpy(nonce, p + 7, GW_DIGEST_NONCE_LEN);
	nonce[GW_DIGEST_NONCE_LEN] = '\0';
}

static struct gw_digest *dg;

static char *challenge(enum gw_digest_alg alg, uint64_t now, char *nonce)
{
	struct mbuf *mb = mbuf_alloc(256);
	char *s = NULL;

	CU_ASSERT_EQUAL(gw_digest_challenge(mb, dg, alg, realm, now, false), 0);
	mbuf_write_u8(mb, 0);
	nonce_of(nonce, mb);
	mbuf_set_pos(mb, 0);
	mbuf_strdup(mb, &s, mb->end - 1);
	mem_deref(mb);
	return s;
}

/* What a client would send; the response computed with password pw. */
static void auth_make(char *out, size_t sz, enum gw_digest_alg alg,
		      const char *arealm, const char *nonce, const char *uri,
		      const char *nc, const char *pw)
{
	char ha1[65], resp[65];

	gw_digest_ha1(ha1, sizeof(ha1), alg, "asmith", arealm, pw);
	gw_digest_response(resp, sizeof(resp), alg, ha1, nonce, nc,
			   "c0ffee42", "REGISTER", uri);
	snprintf(out, sz, "Digest username=\"asmith\", realm=\"%s\", "
		 "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s, "
		 "cnonce=\"c0ffee42\", qop=auth, nc=%s",
		 arealm, nonce, uri, resp, gw_digest_alg_name(alg), nc);
}

static int verify_str(const char *auth, const char *ruri,
		      const struct gw_digest_secret *sec, uint64_t now)
{
	struct gw_digest_cred cr;
	struct pl pl;
	int err;

	err = decode_str(&cr, auth);
	if (err)
		return err;
	pl_set_str(&pl, ruri);
	return gw_digest_verify(dg, &cr, realm, "REGISTER", &pl, sec, now);
}

static int suite_init(void)
{
	return gw_digest_alloc(&dg, 60);
}

static int suite_clean(void)
{
	dg = mem_deref(dg);
	return 0;
}

static void test_challenges(void)
{
	struct mbuf *mb = mbuf_alloc(512);
	char *s, n1[65], n2[65];
	const char *l2;

	CU_ASSERT_EQUAL(gw_digest_challenges(mb, dg, "WWW-Authenticate",
					     "acme \"main\" site", t0, true), 0);
	mbuf_write_u8(mb, 0);
	s = (char *)mb->buf;
	CU_ASSERT_EQUAL(strncmp(s, "WWW-Authenticate: Digest realm=\"acme "
				"\\\"main\\\" site\", nonce=\"", 53), 0);
	l2 = strstr(s, "\r\nWWW-Authenticate: ");
	CU_ASSERT_FATAL(l2 != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "algorithm=SHA-256, qop=\"auth\", "
				      "stale=true\r\n"));
	CU_ASSERT(strstr(s, "algorithm=SHA-256") < l2);
	CU_ASSERT(strstr(s, "algorithm=MD5") > l2);
	nonce_of(n1, mb);
	mb->buf += l2 - s;   /* peek at the second line's nonce */
	nonce_of(n2, mb);
	mb->buf -= l2 - s;
	CU_ASSERT_STRING_EQUAL(n1, n2);

	/* two challenges never share a nonce */
	mem_deref(challenge(GW_DIGEST_MD5, t0, n1));
	mem_deref(challenge(GW_DIGEST_MD5, t0, n2));
	CU_ASSERT_STRING_NOT_EQUAL(n1, n2);

	mbuf_reset(mb);
	CU_ASSERT_EQUAL(gw_digest_challenge(mb, dg, GW_DIGEST_MD5, "",
					    t0, false), EINVAL);
	CU_ASSERT_EQUAL(gw_digest_challenge(mb, dg, GW_DIGEST_MD5, "a\nb",
					    t0, false), EINVAL);
	CU_ASSERT_EQUAL(mb->end, 0);
	mem_deref(mb);
}

static void test_exchange(void)
{
	static const char uri[] = "sip:acme.test";
	enum gw_digest_alg alg;

	for (alg = 0; alg < GW_DIGEST_ALG_COUNT; alg++) {
		struct gw_digest_secret pw = {.password = "s3cr3t pass"};
		struct gw_digest_secret st = {0};
		char nonce[65], auth[1024], ha1[65];
		char *ch = challenge(alg, t0, nonce);

		CU_ASSERT_PTR_NOT_NULL(strstr(ch, gw_digest_alg_name(alg)));
		mem_deref(ch);

		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "00000001", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 1), 0);

		/* the same with a stored HA1 instead of the password */
		gw_digest_ha1(ha1, sizeof(ha1), alg, "asmith", realm,
			      "s3cr3t pass");
		st.ha1[alg] = ha1;
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "00000002", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &st, t0 + 2), 0);

		/* replayed nc, then a higher one */
		CU_ASSERT_EQUAL(verify_str(auth, uri, &st, t0 + 2), EALREADY);
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "0000000a", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &st, t0 + 3), 0);

		/* HA1 stored only for the other algorithm */
		st.ha1[alg] = NULL;
		st.ha1[alg == GW_DIGEST_MD5 ? GW_DIGEST_SHA256 : GW_DIGEST_MD5] = ha1;
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "0000000b", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &st, t0 + 3), ENOTSUP);

		/* wrong password */
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "0000000c", "s3cr3t pasS");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 3), EACCES);

		/* uri other than the request-URI */
		auth_make(auth, sizeof(auth), alg, realm, nonce,
			  "sip:evil.test", "0000000d", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 3), ENXIO);

		/* expired: stale only when the response is right */
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "0000000e", "s3cr3t pass");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 61), ESTALE);
		auth_make(auth, sizeof(auth), alg, realm, nonce, uri,
			  "0000000f", "wrong");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 61), EACCES);
	}
}

static void test_nonce_refusals(void)
{
	static const char uri[] = "sip:acme.test";
	struct gw_digest_secret pw = {.password = "pw"};
	struct gw_digest *other = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	char nonce[65], bad[65], auth[1024];
	size_t i;

	mem_deref(challenge(GW_DIGEST_SHA256, t0, nonce));

	/* every single hex digit changed: timestamp, random and MAC parts */
	for (i = 0; i < GW_DIGEST_NONCE_LEN; i++) {
		strcpy(bad, nonce);
		bad[i] = bad[i] == '0' ? '1' : '0';
		auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, realm, bad,
			  uri, "00000001", "pw");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EPERM);
	}
	/* truncated, not hex, empty */
	auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, realm, "abcd", uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EPERM);
	strcpy(bad, nonce);
	bad[10] = 'g';
	auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, realm, bad, uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EPERM);

	/* a realm we do not serve */
	auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, "chicago.test", nonce,
		  uri, "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EXDEV);

	/* a nonce from another server (another key) */
	CU_ASSERT_EQUAL_FATAL(gw_digest_alloc(&other, 60), 0);
	CU_ASSERT_EQUAL(gw_digest_challenge(mb, other, GW_DIGEST_SHA256, realm,
					    t0, false), 0);
	mbuf_write_u8(mb, 0);
	nonce_of(bad, mb);
	auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, realm, bad, uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EPERM);

	/* a nonce from the future */
	mem_deref(challenge(GW_DIGEST_SHA256, t0 + 3600, nonce));
	auth_make(auth, sizeof(auth), GW_DIGEST_SHA256, realm, nonce, uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), EPERM);

	/* no qop (RFC 2069 style) is not what we offered */
	mem_deref(challenge(GW_DIGEST_MD5, t0, nonce));
	snprintf(auth, sizeof(auth), "Digest username=\"asmith\", realm=\"%s\""
		 ", nonce=\"%s\", uri=\"%s\", response=\"%032d\"", realm,
		 nonce, uri, 0);
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), ENOTSUP);

	mem_deref(other);
	mem_deref(mb);
}

/* The nonce-count table stays bounded; a nonce it had to forget is
 * answered stale, never accepted blindly. */
static void test_nc_bound(void)
{
	static const char uri[] = "sip:acme.test";
	struct gw_digest_secret pw = {.password = "pw"};
	struct gw_digest *saved = dg;
	char first[65], nonce[65], auth[1024];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(gw_digest_alloc(&dg, 600), 0);
	mem_deref(challenge(GW_DIGEST_MD5, t0, first));
	auth_make(auth, sizeof(auth), GW_DIGEST_MD5, realm, first, uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0), 0);

	for (i = 0; i < GW_DIGEST_NC_MAX; i++) {
		mem_deref(challenge(GW_DIGEST_MD5,
				    t0 + 1 + i * 4 / GW_DIGEST_NC_MAX, nonce));
		auth_make(auth, sizeof(auth), GW_DIGEST_MD5, realm, nonce, uri,
			  "00000001", "pw");
		CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 5), 0);
	}
	auth_make(auth, sizeof(auth), GW_DIGEST_MD5, realm, first, uri,
		  "00000002", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 5), ESTALE);

	/* a fresh nonce still works */
	mem_deref(challenge(GW_DIGEST_MD5, t0 + 6, nonce));
	auth_make(auth, sizeof(auth), GW_DIGEST_MD5, realm, nonce, uri,
		  "00000001", "pw");
	CU_ASSERT_EQUAL(verify_str(auth, uri, &pw, t0 + 6), 0);

	mem_deref(dg);
	dg = saved;
}

static void test_malformed(void)
{
	static const char base[] = "username=\"u\", realm=\"r\", nonce=\"n\", "
		"uri=\"sip:r\", response=\"00\"";
	static const struct {
		const char *hdr;
		int err;
	} tv[] = {
		{"Basic dTpw", EPROTONOSUPPORT},
		{"", EPROTONOSUPPORT},
		{"Digestusername=\"u\"", EPROTONOSUPPORT},
		{"Digest", EBADMSG},
		{"Digest username=\"u", EBADMSG},
		{"Digest username=\"u\\", EBADMSG},
		{"Digest username", EBADMSG},
		{"Digest username=", EBADMSG},
		{"Digest username=\"u\" realm=\"r\"", EBADMSG},
		{"Digest username=\"u\",, realm=\"r\"", EBADMSG},
		{"Digest username=\"a\x01\"", EBADMSG},
		{"Digest =\"u\"", EBADMSG},
		{"Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:r\"",
		 ENOENT},
		{"Digest realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"0\"",
		 ENOENT},
		{"Digest username=\"u\", username=\"v\"", EEXIST},
		{"Digest Realm=\"r\", REALM=\"r\"", EEXIST},
	};
	struct gw_digest_cred cr;
	char hdr[4096];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		int err = decode_str(&cr, tv[i].hdr);

		if (err != tv[i].err)
			fprintf(stderr, "malformed %zu: got %d want %d\n", i,
				err, tv[i].err);
		CU_ASSERT_EQUAL(err, tv[i].err);
	}

	/* the base set parses; then one parameter changed at a time */
	snprintf(hdr, sizeof(hdr), "Digest %s", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), 0);
	CU_ASSERT(!cr.qop_auth);
	snprintf(hdr, sizeof(hdr), "Digest %s, algorithm=SHA-512-256", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), ENOTSUP);
	snprintf(hdr, sizeof(hdr), "Digest %s, algorithm=MD5-sess", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), ENOTSUP);
	snprintf(hdr, sizeof(hdr), "Digest %s, algorithm=sha-256", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), 0);
	CU_ASSERT_EQUAL(cr.alg, GW_DIGEST_SHA256);
	snprintf(hdr, sizeof(hdr), "Digest %s, qop=auth-int, nc=00000001, "
		 "cnonce=\"c\"", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), ENOTSUP);
	snprintf(hdr, sizeof(hdr), "Digest %s, qop=auth, cnonce=\"c\"", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), ENOENT);
	snprintf(hdr, sizeof(hdr), "Digest %s, qop=auth, nc=0001, cnonce=\"c\"",
		 base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EBADMSG);
	snprintf(hdr, sizeof(hdr), "Digest %s, qop=auth, nc=0000000x, "
		 "cnonce=\"c\"", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EBADMSG);
	snprintf(hdr, sizeof(hdr), "Digest %s, qop=\"auth\", nc=FFFFFFFF, "
		 "cnonce=\"c\"", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), 0);
	CU_ASSERT_EQUAL(cr.nc, 0xffffffffu);

	/* unknown parameters are ignored, escapes are undone */
	snprintf(hdr, sizeof(hdr), "Digest future=\"x\\\"y\", %s, userhash=false,"
		 " future2=tok", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), 0);
	CU_ASSERT_EQUAL(decode_str(&cr, "Digest username=\"a\\\"b\\\\c\", "
				   "realm=\"r\", nonce=\"n\", uri=\"u\", "
				   "response=\"0\""), 0);
	CU_ASSERT_STRING_EQUAL(cr.username, "a\"b\\c");
	/* an unterminated quote in an unknown parameter is still refused */
	snprintf(hdr, sizeof(hdr), "Digest %s, future=\"x", base);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EBADMSG);

	/* huge values: one field over its cap, the whole value over its cap */
	snprintf(hdr, sizeof(hdr), "Digest username=\"%0*d\", realm=\"r\"",
		 GW_DIGEST_USER_MAX + 1, 7);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EMSGSIZE);
	snprintf(hdr, sizeof(hdr), "Digest username=\"%0*d\", realm=\"r\", "
		 "nonce=\"n\", uri=\"u\", response=\"0\"",
		 GW_DIGEST_USER_MAX, 7);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), 0);
	snprintf(hdr, sizeof(hdr), "Digest %s, x=\"%0*d\"", base,
		 GW_DIGEST_HDR_MAX, 7);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EMSGSIZE);
	snprintf(hdr, sizeof(hdr), "Digest %s, response=\"%0*d\"", base, 65, 7);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EEXIST);
	snprintf(hdr, sizeof(hdr), "Digest username=\"u\", response=\"%0*d\"",
		 65, 7);
	CU_ASSERT_EQUAL(decode_str(&cr, hdr), EMSGSIZE);

	CU_ASSERT_EQUAL(gw_digest_cred_decode(NULL, NULL), EINVAL);
	CU_ASSERT_STRING_EQUAL(gw_digest_reason(ESTALE), "stale-nonce");
	CU_ASSERT_STRING_EQUAL(gw_digest_reason(EXDEV), "wrong-realm");
}

/* Every prefix of a valid header: parsed or refused, no overread. */
static void test_truncation(void)
{
	static const char hdr[] = "Digest username=\"asmith\", realm=\"acme."
		"test\", nonce=\"abc\", uri=\"sip:acme.test\", response=\"00\","
		" algorithm=MD5, cnonce=\"x\\\"y\", qop=auth, nc=00000001";
	size_t l;

	for (l = 0; l < sizeof(hdr); l++) {
		struct gw_digest_cred cr;
		char *copy = malloc(l ? l : 1);
		struct pl pl;
		int err;

		CU_ASSERT_FATAL(copy != NULL);
		memcpy(copy, hdr, l);
		pl.p = copy;
		pl.l = l;
		err = gw_digest_cred_decode(&cr, &pl);
		/* "algorithm=MD" or "qop=au" cut short: ENOTSUP */
		CU_ASSERT(err == 0 || err == EBADMSG || err == ENOENT ||
			  err == EPROTONOSUPPORT || err == ENOTSUP);
		free(copy);
	}
}

static CU_TestInfo pure_tests[] = {
	{"RFC 2617 / RFC 7616 known answers", test_known_answers},
	{"HA1 against openssl dgst", test_ha1_openssl},
	{"parse the RFC 2617 example", test_parse_rfc2617},
	{"malformed values", test_malformed},
	{"truncated values", test_truncation},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo server_tests[] = {
	{"challenges", test_challenges},
	{"challenge/response exchange", test_exchange},
	{"nonce refusals", test_nonce_refusals},
	{"nonce-count table bound", test_nc_bound},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"gw_digest", NULL, NULL, NULL, NULL, pure_tests},
	{"gw_digest_server", suite_init, suite_clean, NULL, NULL, server_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
