/*
 * test_cn_policy.c -- the connector's accept/route rules, one table.
 *
 * The configuration is a real community file, loaded by the real loader,
 * so the rules are checked against what an administrator writes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector/cn_policy.h"
#include "lib/cutest.h"

static const char conf_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<CommunityConfig>\n"
	" <Community name=\"acme\"><Domain>acme.test</Domain>"
	"<Domain>sales.acme.test</Domain></Community>\n"
	" <CommunityGateway name=\"gw\">\n"
	"  <ClientListen transport=\"udp\" address=\"127.0.0.11\" port=\"5060\"/>\n"
	"  <ConnectorListen transport=\"tls\" address=\"127.0.0.11\" port=\"5070\"/>\n"
	"  <ConnectorListen transport=\"tcp\" address=\"::1\" port=\"5070\"/>\n"
	" </CommunityGateway>\n"
	" <ExternCommunity name=\"chicago\"><Domain>chicago.test</Domain>"
	"<Domain>*.chicago.test</Domain><Proxy>sip.chicago.test</Proxy>"
	"</ExternCommunity>\n"
	" <ExternCommunity name=\"boston\"><Domain>boston.test</Domain>"
	"</ExternCommunity>\n"
	" <ExternCommunity name=\"denver\"><Domain>denver.test</Domain>"
	"</ExternCommunity>\n"
	" <CommunityConnector name=\"edge\" ip=\"127.0.0.10\">\n"
	"  <Gateway>gw</Gateway>\n"
	"  <SupportedCommunity name=\"chicago\" enabled=\"true\"/>\n"
	"  <SupportedCommunity name=\"boston\" enabled=\"false\"/>\n"
	" </CommunityConnector>\n"
	"</CommunityConfig>\n";

static struct cfg *cfg;
static const struct cfg_connector *self;

static int suite_init(void)
{
	const char *dir = cutest_tmpdir("cn_policy");
	struct cfg_diag diag = {0};
	char path[4200];
	FILE *f;

	if (!dir)
		return 1;
	snprintf(path, sizeof(path), "%s/community.xml", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs(conf_xml, f);
	fclose(f);

	if (cfg_load(&cfg, path, &diag)) {
		cfg_diag_print(&diag, stderr);
		cfg_diag_reset(&diag);
		return 1;
	}
	cfg_diag_reset(&diag);
	self = cfg_connector_find(cfg, "edge");
	return self ? 0 : 1;
}

static int suite_clean(void)
{
	cfg_free(cfg);
	cfg = NULL;
	return 0;
}

static struct sockaddr_storage ip(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr)) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(40000);
	}
	else if (inet_pton(AF_INET6, s,
			   &((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		ss.ss_family = AF_INET6;
	}
	return ss;
}

static void test_community_table(void)
{
	static const struct {
		enum cn_dir dir;
		const char *from, *ruri;
		enum cn_reason want;
		const char *community;
	} tv[] = {
		/* outbound: matched by target */
		{CN_DIR_OUTBOUND, "acme.test", "chicago.test", CN_OK, "chicago"},
		{CN_DIR_OUTBOUND, "acme.test", "a.b.chicago.test", CN_OK, "chicago"},
		{CN_DIR_OUTBOUND, "acme.test", "CHICAGO.TEST.", CN_OK, "chicago"},
		{CN_DIR_OUTBOUND, "acme.test", "boston.test", CN_R_NOT_ENABLED, "boston"},
		{CN_DIR_OUTBOUND, "acme.test", "denver.test", CN_R_NOT_ENABLED, "denver"},
		{CN_DIR_OUTBOUND, "acme.test", "paris.test", CN_R_UNKNOWN_COMMUNITY, NULL},
		{CN_DIR_OUTBOUND, "acme.test", "chicago.test.evil.test", CN_R_UNKNOWN_COMMUNITY, NULL},
		{CN_DIR_OUTBOUND, "acme.test", "evilchicago.test", CN_R_UNKNOWN_COMMUNITY, NULL},
		/* inbound: matched by From, target must be local */
		{CN_DIR_INBOUND, "chicago.test", "acme.test", CN_OK, "chicago"},
		{CN_DIR_INBOUND, "x.chicago.test", "sales.acme.test", CN_OK, "chicago"},
		{CN_DIR_INBOUND, "boston.test", "acme.test", CN_R_NOT_ENABLED, "boston"},
		{CN_DIR_INBOUND, "paris.test", "acme.test", CN_R_UNKNOWN_COMMUNITY, NULL},
		{CN_DIR_INBOUND, NULL, "acme.test", CN_R_UNKNOWN_COMMUNITY, NULL},
		{CN_DIR_INBOUND, "chicago.test", "boston.test", CN_R_NOT_LOCAL, "chicago"},
		{CN_DIR_INBOUND, "chicago.test", "chicago.test", CN_R_NOT_LOCAL, "chicago"},
		{CN_DIR_INBOUND, "chicago.test", "x.acme.test", CN_R_NOT_LOCAL, "chicago"},
	};
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct cn_facts f = {tv[i].from, tv[i].ruri, NULL, false, false};
		struct cn_verdict v;

		cn_decide_community(cfg, self, tv[i].dir, &f, &v);
		if (v.reason != tv[i].want)
			fprintf(stderr, "case %zu: got %s, want %s\n", i,
				cn_reason_name(v.reason),
				cn_reason_name(tv[i].want));
		CU_ASSERT_EQUAL(v.reason, tv[i].want);
		if (tv[i].community) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(v.community);
			CU_ASSERT_STRING_EQUAL(v.community->name,
					       tv[i].community);
		}
		if (tv[i].want != CN_OK) {
			CU_ASSERT_EQUAL(v.status, 403);
			CU_ASSERT_PTR_NOT_NULL(v.phrase);
		}
	}
}

static void test_trust(void)
{
	struct sockaddr_storage px[3] = {
		ip("127.0.0.20"), ip("127.0.0.21"), ip("fd00::20"),
	};
	struct cn_addrset set = {px, 3};
	struct cn_addrset none = {px, 0};
	static const struct {
		const char *src;
		bool tls, name_ok, verify;
		bool empty;
		enum cn_reason want;
	} tv[] = {
		{"127.0.0.20", false, false, false, false, CN_OK},
		{"127.0.0.21", false, false, true, false, CN_OK},
		{"fd00::20", false, false, false, false, CN_OK},
		{"::ffff:127.0.0.20", false, false, false, false, CN_OK},
		{"127.0.0.99", false, false, false, false, CN_R_UNTRUSTED_IP},
		{"fd00::99", false, false, false, false, CN_R_UNTRUSTED_IP},
		{"127.0.0.20", false, false, false, true, CN_R_UNTRUSTED_IP},
		{"127.0.0.20", true, true, true, false, CN_OK},
		{"127.0.0.20", true, false, true, false, CN_R_TLS_FAILURE},
		{"127.0.0.20", true, false, false, false, CN_OK},
		/* an untrusted address is reported as such even over TLS */
		{"127.0.0.99", true, false, true, false, CN_R_UNTRUSTED_IP},
	};
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct sockaddr_storage src = ip(tv[i].src);
		struct cn_facts f = {"chicago.test", "acme.test",
				     (struct sockaddr *)&src, tv[i].tls,
				     tv[i].name_ok};
		struct cn_verdict v = {0};

		cn_decide_trust(&f, tv[i].empty ? &none : &set,
				tv[i].verify, &v);
		if (v.reason != tv[i].want)
			fprintf(stderr, "trust case %zu: got %s\n", i,
				cn_reason_name(v.reason));
		CU_ASSERT_EQUAL(v.reason, tv[i].want);
	}
}

static void test_gateway_source(void)
{
	struct sockaddr_storage a = ip("127.0.0.11");
	struct sockaddr_storage b = ip("::1");
	struct sockaddr_storage c = ip("127.0.0.12");
	struct sockaddr_storage d = ip("::ffff:127.0.0.11");

	CU_ASSERT_TRUE(cn_is_gateway(cfg, self, (struct sockaddr *)&a));
	CU_ASSERT_TRUE(cn_is_gateway(cfg, self, (struct sockaddr *)&b));
	CU_ASSERT_TRUE(cn_is_gateway(cfg, self, (struct sockaddr *)&d));
	CU_ASSERT_FALSE(cn_is_gateway(cfg, self, (struct sockaddr *)&c));
	CU_ASSERT_FALSE(cn_is_gateway(cfg, self, NULL));
}

static void test_reason_names(void)
{
	static const char *want[] = {
		"untrusted-ip", "not-enabled", "unknown-community",
		"not-local", "malformed", "tls-failure", "overload",
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CU_ASSERT_STRING_EQUAL(cn_reason_name(CN_R_UNTRUSTED_IP +
						      (enum cn_reason)i),
				       want[i]);
	CU_ASSERT_STRING_EQUAL(cn_reason_name(CN_R_COUNT), "?");
}

static CU_TestInfo policy_tests[] = {
	{"community and locality rules", test_community_table},
	{"source address and TLS trust", test_trust},
	{"gateway sources", test_gateway_source},
	{"reason names", test_reason_names},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cn_policy", suite_init, suite_clean, NULL, NULL, policy_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
