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
	" <ExternCommunity name=\"ohio\" transport=\"tcp\"><Domain>ohio.test"
	"</Domain></ExternCommunity>\n"
	" <ExternCommunity name=\"utah\" transport=\"udp\"><Domain>utah.test"
	"</Domain></ExternCommunity>\n"
	" <ExternCommunity name=\"maine\" transport=\"tls\" "
	"acceptTransports=\"udp  tcp\"><Domain>maine.test</Domain>"
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
		/* from one of our own domains, not from a gateway */
		{CN_DIR_INBOUND, "acme.test", "acme.test", CN_R_NOT_GATEWAY, NULL},
		{CN_DIR_INBOUND, "SALES.acme.test", "chicago.test", CN_R_NOT_GATEWAY, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct cn_facts f = {tv[i].from, tv[i].ruri, NULL, false, false,
				     CFG_TP_UDP};
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
				     tv[i].name_ok, tv[i].tls ? CFG_TP_TLS :
				     CFG_TP_UDP};
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

/* A community is accepted on its transport, the stronger ones and what
 * acceptTransports adds; the address is checked first. */
static void test_transport(void)
{
	struct sockaddr_storage px = ip("127.0.0.20");
	struct sockaddr_storage bad = ip("127.0.0.99");
	struct cn_addrset set = {&px, 1};
	static const struct {
		const char *comm;
		enum cfg_transport tp;
		bool trusted;
		enum cn_reason want;
	} tv[] = {
		{"chicago", CFG_TP_TLS, true, CN_OK},
		{"chicago", CFG_TP_TCP, true, CN_R_WRONG_TRANSPORT},
		{"chicago", CFG_TP_UDP, true, CN_R_WRONG_TRANSPORT},
		{"chicago", CFG_TP_UDP, false, CN_R_UNTRUSTED_IP},
		{"ohio", CFG_TP_TCP, true, CN_OK},
		{"ohio", CFG_TP_TLS, true, CN_OK},
		{"ohio", CFG_TP_UDP, true, CN_R_WRONG_TRANSPORT},
		{"utah", CFG_TP_UDP, true, CN_OK},
		{"utah", CFG_TP_TCP, true, CN_OK},
		{"maine", CFG_TP_UDP, true, CN_OK},
		{"maine", CFG_TP_TCP, true, CN_OK},
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct cn_facts f = {"x.test", "acme.test",
				     (struct sockaddr *)(tv[i].trusted ? &px :
							 &bad),
				     tv[i].tp == CFG_TP_TLS, true, tv[i].tp};
		struct cn_verdict v = {0};

		v.community = cfg_extern_find(cfg, tv[i].comm[0] == 'c' ?
					      "chicago.test" :
					      tv[i].comm[0] == 'o' ?
					      "ohio.test" :
					      tv[i].comm[0] == 'u' ?
					      "utah.test" : "maine.test");
		CU_ASSERT_PTR_NOT_NULL_FATAL(v.community);
		cn_decide_trust(&f, &set, true, &v);
		if (v.reason != tv[i].want)
			fprintf(stderr, "transport case %zu: got %s\n", i,
				cn_reason_name(v.reason));
		CU_ASSERT_EQUAL(v.reason, tv[i].want);
	}

	CU_ASSERT_STRING_EQUAL(cfg_transports_str(cfg_accepted_transports(
		cfg_extern_find(cfg, "chicago.test")), buf, sizeof(buf)),
		"tls");
	CU_ASSERT_STRING_EQUAL(cfg_transports_str(cfg_accepted_transports(
		cfg_extern_find(cfg, "ohio.test")), buf, sizeof(buf)),
		"tcp tls");
	CU_ASSERT_STRING_EQUAL(cfg_transports_str(cfg_accepted_transports(
		cfg_extern_find(cfg, "maine.test")), buf, sizeof(buf)),
		"udp tcp tls");
}

/* RFC 3261 25.1 hosts and escaped control bytes in user parts. */
static void test_uri_syntax(void)
{
	static const struct {
		const char *host;
		bool ok;
	} hv[] = {
		{"chicago.test", true}, {"a-b.chicago.test", true},
		{"chicago.test.", true}, {"127.0.0.1", true},
		{"::1", true}, {"[fd00::1]", true}, {"x", true},
		{"*.chicago.test", false}, {"*", false},
		{"a..chicago.test", false}, {".chicago.test", false},
		{"-a.chicago.test", false}, {"a-.chicago.test", false},
		{"chi_cago.test", false}, {"", false},
		{"1.2.3.999", false}, {"[fd00::1", false}, {"::g", false},
		{"chicago.test..", false},
	};
	static const struct {
		const char *user;
		bool ctl;
	} uv[] = {
		{"bob", false}, {"bo%20b", false}, {"bo%41b", false},
		{"bo%00b", true}, {"bo%0ab", true}, {"bo%0D", true},
		{"%1f", true}, {"x%7F", true}, {"x%7e", false},
		{"%", false}, {"%0", false}, {"%zz", false}, {"", false},
	};
	size_t i;

	for (i = 0; i < sizeof(hv) / sizeof(hv[0]); i++) {
		if (cn_host_ok(hv[i].host, strlen(hv[i].host)) != hv[i].ok)
			fprintf(stderr, "host \"%s\" wrong\n", hv[i].host);
		CU_ASSERT_EQUAL(cn_host_ok(hv[i].host, strlen(hv[i].host)),
				hv[i].ok);
	}
	for (i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
		if (cn_user_has_ctl(uv[i].user, strlen(uv[i].user)) !=
		    uv[i].ctl)
			fprintf(stderr, "user \"%s\" wrong\n", uv[i].user);
		CU_ASSERT_EQUAL(cn_user_has_ctl(uv[i].user,
						strlen(uv[i].user)),
				uv[i].ctl);
	}
}

static void test_reason_names(void)
{
	static const char *want[] = {
		"untrusted-ip", "not-enabled", "unknown-community",
		"not-local", "malformed", "tls-failure", "overload",
		"not-gateway", "loop", "conn-limit", "wrong-transport",
		"dns-failure", "rate-limit",
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
	{"transport per community", test_transport},
	{"URI host and user syntax", test_uri_syntax},
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
