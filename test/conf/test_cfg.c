/*
 * test_cfg.c -- the community file loader: the samples load with the
 * values and defaults an administrator expects, every bad file is
 * refused with the right line and message, and domain matching.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "conf/cfg.h"
#include "conf/cfg_int.h"
#include "test/lib/cutest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char dir[PATH_MAX];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

static const char *in_dir(const char *rel)
{
	static char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
	return buf;
}

static int suite_init(void)
{
	const char *d = cutest_tmpdir("cfg");
	char p[PATH_MAX + 64];

	if (!d || !realpath(d, dir))
		return 1;
	snprintf(p, sizeof(p), "%s/certs", dir);
	if (mkdir(p, 0700) != 0)
		return 1;
	return 0;
}

/* A copy of a sample with the files it names; git keeps no modes. */
static void sample_setup(const char *name, const char *dom)
{
	char from[PATH_MAX], to[PATH_MAX + 64];

	snprintf(from, sizeof(from), "conf/examples/%s.xml", name);
	snprintf(to, sizeof(to), "%s/%s.xml", dir, name);
	copy_file(cutest_src(from), to);
	snprintf(to, sizeof(to), "%s/%s.ldif", dir, dom);
	write_file(to, "# users\n", 0644);
	snprintf(to, sizeof(to), "%s/certs/sip.%s.pem", dir, dom);
	write_file(to, "certificate\n", 0644);
	snprintf(to, sizeof(to), "%s/certs/sip.%s.key", dir, dom);
	write_file(to, "key\n", 0600);
	write_file(in_dir("certs/ca.pem"), "ca\n", 0644);
}

static void test_sample_acme(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	const struct cfg_connector *cn;
	const struct cfg_gateway *gw;
	const struct cfg_extern *ex;
	int err;

	sample_setup("acme.test", "acme.test");
	err = cfg_load(&cfg, in_dir("acme.test.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(diag.n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);

	CU_ASSERT_STRING_EQUAL(cfg->community.name, "acme");
	CU_ASSERT_EQUAL_FATAL(cfg->community.domains.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg->community.domains.v[0], "acme.test");

	gw = cfg_gateway_find(cfg, "acme-gw");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gw);
	CU_ASSERT_EQUAL_FATAL(gw->clients.n, 2);
	CU_ASSERT_EQUAL(gw->clients.v[0].tp, CFG_TP_UDP);
	CU_ASSERT_EQUAL(gw->clients.v[1].tp, CFG_TP_TCP);
	CU_ASSERT_STRING_EQUAL(gw->clients.v[0].addr, "127.0.0.11");
	CU_ASSERT_EQUAL(gw->clients.v[0].port, 5060);
	CU_ASSERT_EQUAL_FATAL(gw->connectors.n, 1);
	CU_ASSERT_EQUAL(gw->connectors.v[0].tp, CFG_TP_TLS);
	CU_ASSERT_EQUAL(gw->connectors.v[0].port, 5070);

	ex = cfg_extern_find(cfg, "a.b.chicago.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_PTR_EQUAL(cfg_extern_find(cfg, "CHICAGO.TEST."), ex);
	CU_ASSERT_PTR_NULL(cfg_extern_find(cfg, "acme.test"));
	CU_ASSERT_STRING_EQUAL(ex->name, "chicago");
	CU_ASSERT_STRING_EQUAL(ex->proxy, "sip.chicago.test");
	CU_ASSERT_EQUAL(ex->tp, CFG_TP_TLS);
	CU_ASSERT_EQUAL(ex->port, 5061);
	CU_ASSERT(cfg_domain_is_local(cfg, "Acme.Test."));
	CU_ASSERT(!cfg_domain_is_local(cfg, "x.acme.test"));

	cn = cfg_connector_find(cfg, "acme-edge");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cn);
	CU_ASSERT_STRING_EQUAL(cn->ip, "127.0.0.10");
	CU_ASSERT_EQUAL(cn->port, 5060);
	CU_ASSERT_EQUAL(cn->tls_port, 5061);
	CU_ASSERT_EQUAL_FATAL(cn->gateways.n, 1);
	CU_ASSERT_STRING_EQUAL(cn->gateways.v[0], "acme-gw");
	CU_ASSERT_PTR_NOT_NULL(cfg_supported_find(cn, "chicago"));
	CU_ASSERT(cfg_supported_find(cn, "chicago")->enabled);
	CU_ASSERT_STRING_EQUAL(cn->control, in_dir("run/stconnector.sock"));
	CU_ASSERT_STRING_EQUAL(cn->pidfile, in_dir("run/stconnector.pid"));

	CU_ASSERT_EQUAL_FATAL(cfg->connectivity.trusted_ips.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg->connectivity.trusted_ips.v[0],
			       "127.0.0.10");

	CU_ASSERT(cfg->directory.present);
	CU_ASSERT_EQUAL(cfg->directory.backend, CFG_DIR_FILE);
	CU_ASSERT_STRING_EQUAL(cfg->directory.file, in_dir("acme.test.ldif"));
	CU_ASSERT(cfg->tls.present);
	CU_ASSERT_STRING_EQUAL(cfg->tls.cert,
			       in_dir("certs/sip.acme.test.pem"));
	CU_ASSERT_STRING_EQUAL(cfg->tls.key,
			       in_dir("certs/sip.acme.test.key"));
	CU_ASSERT_STRING_EQUAL(cfg->tls.ca, in_dir("certs/ca.pem"));
	CU_ASSERT_EQUAL(cfg->tls.verify, CFG_VERIFY_REQUIRED);
	CU_ASSERT_EQUAL_FATAL(cfg->dns.servers.n, 1);
	CU_ASSERT_STRING_EQUAL(cfg->dns.servers.v[0], "127.0.0.53:5353");
	CU_ASSERT(!cfg->trace.enable);

	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

static void test_sample_chicago(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	const struct cfg_extern *ex;
	int err;

	sample_setup("chicago.test", "chicago.test");
	err = cfg_load(&cfg, in_dir("chicago.test.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(diag.n, 0);
	CU_ASSERT_STRING_EQUAL(cfg->community.domains.v[0], "chicago.test");
	CU_ASSERT_PTR_NOT_NULL(cfg_connector_find(cfg, "chicago-edge"));
	CU_ASSERT_STRING_EQUAL(cfg_connector_find(cfg, "chicago-edge")->ip,
			       "127.0.0.20");
	CU_ASSERT_STRING_EQUAL(cfg_gateway_find(cfg, "chicago-gw")
			       ->clients.v[0].addr, "127.0.0.21");
	ex = cfg_extern_find(cfg, "sip.acme.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(ex->name, "acme");
	CU_ASSERT_STRING_EQUAL(ex->proxy, "sip.acme.test");
	CU_ASSERT_STRING_EQUAL(cfg->connectivity.trusted_ips.v[0],
			       "127.0.0.20");
	CU_ASSERT_STRING_EQUAL(cfg->directory.file,
			       in_dir("chicago.test.ldif"));
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* Lines 1-6 of every small file below; the case's text starts at line 7. */
#define HEAD \
	"<?xml version=\"1.0\"?>\n" \
	"<CommunityConfig>\n" \
	"<Community name=\"acme\"><Domain>acme.test</Domain>" \
	"<Domain>sales.acme.test</Domain></Community>\n" \
	"<CommunityGateway name=\"gw\"><ClientListen transport=\"udp\" " \
	"address=\"127.0.0.11\"/><ConnectorListen transport=\"tls\" " \
	"address=\"127.0.0.11\" port=\"5070\"/></CommunityGateway>\n" \
	"<ExternCommunity name=\"chicago\"><Domain>chicago.test</Domain>" \
	"</ExternCommunity>\n" \
	"<CommunityConnector name=\"edge1\" ip=\"127.0.0.10\"><Gateway>gw" \
	"</Gateway><SupportedCommunity name=\"chicago\"/>" \
	"</CommunityConnector>\n"
#define TAIL "\n</CommunityConfig>\n"

static void test_defaults(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	const struct cfg_directory *d;
	int err;

	write_file(in_dir("min.xml"), HEAD TAIL, 0644);
	err = cfg_load(&cfg, in_dir("min.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(cfg->externs[0].port, 5060);
	CU_ASSERT_EQUAL(cfg->externs[0].tp, CFG_TP_TLS);
	CU_ASSERT_PTR_NULL(cfg->externs[0].proxy);
	CU_ASSERT_EQUAL(cfg->externs[0].line, 5);
	CU_ASSERT_EQUAL(cfg->connectors[0].port, 5060);
	CU_ASSERT_EQUAL(cfg->connectors[0].tls_port, 5061);
	CU_ASSERT_EQUAL(cfg->connectors[0].retry, CFG_RETRY_DEFAULT);
	CU_ASSERT_EQUAL(cfg->connectors[0].max_conns, 0);  /* the budget's */
	CU_ASSERT_EQUAL(cfg->connectors[0].line, 6);
	CU_ASSERT(cfg->connectors[0].communities[0].enabled);
	CU_ASSERT_EQUAL(cfg->gateways[0].clients.v[0].port, 5060);
	CU_ASSERT_EQUAL(cfg->gateways[0].retry, CFG_RETRY_DEFAULT);
	CU_ASSERT_PTR_NULL(cfg->gateways[0].statefile);   /* memory only */
	d = &cfg->directory;
	CU_ASSERT(!d->present);
	CU_ASSERT_STRING_EQUAL(d->attr_id, "uid");
	CU_ASSERT_STRING_EQUAL(d->attr_email, "mail");
	CU_ASSERT_STRING_EQUAL(d->attr_password, "userPassword");
	CU_ASSERT_STRING_EQUAL(d->attr_member, "member");
	CU_ASSERT_EQUAL(d->cache_size, 10000);
	CU_ASSERT_EQUAL(d->cache_ttl, 300);
	CU_ASSERT_EQUAL(d->neg_ttl, 60);
	CU_ASSERT_EQUAL(d->timeout_ms, 2000);
	CU_ASSERT_EQUAL(d->privacy, CFG_PRIVACY_ALL);
	CU_ASSERT(!cfg->tls.present);
	/* 0: the resolver's own default, defined in sipstack/sst_dns.h */
	CU_ASSERT_EQUAL(cfg->dns.timeout_ms, 0);
	CU_ASSERT_EQUAL(cfg->dns.stale_s, CFG_DNS_STALE_S);
	CU_ASSERT_EQUAL(cfg->dns.servers.n, 0);
	CU_ASSERT_EQUAL(cfg->externs[0].accept_tp, 0);
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* stateFile: a path like the others, absolute against the file's
 * directory; an empty one is an error (leave it out for memory only). */
static void test_state_file(void)
{
	static const struct {
		const char *attr;
		const char *want;     /* relative to dir, "" absolute, NULL */
	} tv[] = {
		{"stateFile=\"run/gw.state\"", "run/gw.state"},
		{"stateFile=\"/var/lib/stc/gw.db\"", ""},
		{"stateFile=\"\"", NULL},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct cfg_diag diag = {NULL, 0, 0};
		struct cfg *cfg = NULL;
		char text[2048];
		const char *sf;
		int err;

		snprintf(text, sizeof(text), "<?xml version=\"1.0\"?>\n"
			 "<CommunityConfig>\n"
			 "<Community name=\"acme\"><Domain>acme.test</Domain>"
			 "</Community>\n<CommunityGateway name=\"gw\" %s>"
			 "<ClientListen transport=\"udp\" address=\"127.0.0.11"
			 "\"/><ConnectorListen transport=\"tcp\" address=\""
			 "127.0.0.11\" port=\"5070\"/></CommunityGateway>\n"
			 "</CommunityConfig>\n", tv[i].attr);
		write_file(in_dir("state.xml"), text, 0644);
		err = cfg_load(&cfg, in_dir("state.xml"), &diag);
		if (!tv[i].want) {
			CU_ASSERT_EQUAL(err, EBADMSG);
			CU_ASSERT_EQUAL_FATAL(diag.n, 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0],
				"state.xml:4: CommunityGateway \"gw\": "
				"attribute stateFile is empty"));
			cfg_diag_reset(&diag);
			continue;
		}
		cfg_diag_print(&diag, stderr);
		CU_ASSERT_EQUAL_FATAL(err, 0);
		sf = cfg->gateways[0].statefile;
		if (!tv[i].want[0]) {
			CU_ASSERT_STRING_EQUAL(sf, "/var/lib/stc/gw.db");
		}
		else {
			CU_ASSERT_STRING_EQUAL(sf, in_dir(tv[i].want));
		}
		cfg_free(cfg);
		cfg_diag_reset(&diag);
	}
}

/* CommunityConnector maxConnections: the inbound connection cap. */
static void test_max_connections(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	int err;

	write_file(in_dir("maxc.xml"), HEAD "<CommunityConnector name=\"e2\" "
		   "ip=\"127.0.0.12\" maxConnections=\"250\"><Gateway>gw"
		   "</Gateway></CommunityConnector>" TAIL, 0644);
	err = cfg_load(&cfg, in_dir("maxc.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(cfg->connectors[0].max_conns, 0);
	CU_ASSERT_EQUAL(cfg->connectors[1].max_conns, 250);
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* ExternCommunity protocol: sip by default on 5060; xmpp defaults its
 * port to 5269 and keeps a port given; the connector's xmppPort 5269. */
static void test_protocol(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	const struct cfg_extern *ex;
	int err;

	write_file(in_dir("proto.xml"), HEAD "<ExternCommunity name=\"x\" "
		   "protocol=\"xmpp\"><Domain>xmpp.test</Domain>"
		   "</ExternCommunity>\n<ExternCommunity name=\"y\" "
		   "protocol=\"xmpp\" port=\"5299\"><Domain>y.test</Domain>"
		   "</ExternCommunity>\n<ExternCommunity name=\"z\" "
		   "protocol=\"sip\"><Domain>z.test</Domain>"
		   "</ExternCommunity>\n<CommunityConnector name=\"e2\" "
		   "ip=\"127.0.0.12\" xmppPort=\"5270\"><Gateway>gw"
		   "</Gateway></CommunityConnector>" TAIL, 0644);
	err = cfg_load(&cfg, in_dir("proto.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(cfg_extern_find(cfg, "chicago.test")->protocol,
			CFG_PROTO_SIP);
	CU_ASSERT_EQUAL(cfg_extern_find(cfg, "chicago.test")->port,
			CFG_SIP_PORT);
	ex = cfg_extern_find(cfg, "xmpp.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_EQUAL(ex->protocol, CFG_PROTO_XMPP);
	CU_ASSERT_EQUAL(ex->port, 5269);
	CU_ASSERT_EQUAL(cfg_extern_find(cfg, "y.test")->port, 5299);
	CU_ASSERT_EQUAL(cfg_extern_find(cfg, "z.test")->protocol,
			CFG_PROTO_SIP);
	CU_ASSERT_EQUAL(cfg->connectors[0].xmpp_port, CFG_XMPP_PORT);
	CU_ASSERT_EQUAL(cfg->connectors[1].xmpp_port, 5270);
	cfg_free(cfg);
	cfg_diag_reset(&diag);

	write_file(in_dir("proto.xml"), HEAD "<ExternCommunity name=\"x\" "
		   "protocol=\"jabber\"><Domain>xmpp.test</Domain>"
		   "</ExternCommunity>" TAIL, 0644);
	err = cfg_load(&cfg, in_dir("proto.xml"), &diag);
	CU_ASSERT_EQUAL(err, EBADMSG);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "protocol"));
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "jabber"));
	cfg_diag_reset(&diag);
}

/* stateStore: the shared PostgreSQL store, kept as written (a libpq
 * string, not a path); with stateFile as well, the file is refused. */
static void test_state_store(void)
{
	static const char *const gw_fmt = "<?xml version=\"1.0\"?>\n"
		"<CommunityConfig>\n"
		"<Community name=\"acme\"><Domain>acme.test</Domain>"
		"</Community>\n<CommunityGateway name=\"gw\" %s>"
		"<ClientListen transport=\"udp\" address=\"127.0.0.11\"/>"
		"<ConnectorListen transport=\"tcp\" address=\"127.0.0.11\" "
		"port=\"5070\"/></CommunityGateway>\n</CommunityConfig>\n";
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	char text[2048];
	int err;

	snprintf(text, sizeof(text), gw_fmt, "stateStore=\"postgresql://"
		 "stc@db.acme.test/stc\"");
	write_file(in_dir("store.xml"), text, 0644);
	err = cfg_load(&cfg, in_dir("store.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_STRING_EQUAL(cfg->gateways[0].statestore,
			       "postgresql://stc@db.acme.test/stc");
	CU_ASSERT_PTR_NULL(cfg->gateways[0].statefile);
	cfg_free(cfg);
	cfg_diag_reset(&diag);

	snprintf(text, sizeof(text), gw_fmt, "stateStore=\"host=db "
		 "dbname=stc\" stateFile=\"run/gw.state\"");
	write_file(in_dir("store.xml"), text, 0644);
	cfg = NULL;
	CU_ASSERT_EQUAL(cfg_load(&cfg, in_dir("store.xml"), &diag), EBADMSG);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "store.xml:4: "
		"CommunityGateway \"gw\": stateFile and stateStore exclude "
		"each other"));
	cfg_diag_reset(&diag);

	snprintf(text, sizeof(text), gw_fmt, "stateStore=\"\"");
	write_file(in_dir("store.xml"), text, 0644);
	CU_ASSERT_EQUAL(cfg_load(&cfg, in_dir("store.xml"), &diag), EBADMSG);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0],
				      "attribute stateStore is empty"));
	cfg_diag_reset(&diag);
}

static void test_udp_warns(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	int err;

	write_file(in_dir("udp.xml"), HEAD
		   "<ExternCommunity name=\"old\" transport=\"udp\">"
		   "<Domain>old.test</Domain></ExternCommunity>" TAIL, 0644);
	err = cfg_load(&cfg, in_dir("udp.xml"), &diag);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_EQUAL(diag.nerr, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "udp.xml:7: warning: "
				      "ExternCommunity \"old\": transport "
				      "udp"));
	CU_ASSERT_EQUAL(cfg->externs[1].tp, CFG_TP_UDP);
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* A bad file: its text and the messages it must produce ("%s": dir). */
struct bad {
	const char *what;
	const char *text;
	const char *want;
	const char *want2;
};

static const struct bad badv[] = {
	{"malformed XML", HEAD "<Trace enable=\"true\">" TAIL,
	 ":8: XML: Opening and ending tag mismatch: Trace line 7 and "
	 "CommunityConfig", NULL},
	{"unknown record", HEAD "<Foo/>" TAIL,
	 ":7: unknown record <Foo>", NULL},
	{"unknown element in a record", HEAD
	 "<ExternCommunity name=\"x\"><Domain>x.test</Domain><Bar/>"
	 "</ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": unknown element <Bar>", NULL},
	{"unknown attribute", HEAD "<Trace enable=\"true\" colour=\"red\"/>"
	 TAIL, ":7: Trace: unknown attribute colour", NULL},
	{"missing attribute", HEAD
	 "<CommunityConnector name=\"edge2\"><Gateway>gw</Gateway>"
	 "</CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"edge2\": missing attribute ip", NULL},
	{"missing element", HEAD "<ExternCommunity name=\"x\"><Proxy>p.test"
	 "</Proxy></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": missing <Domain>", NULL},
	{"missing Community", "<?xml version=\"1.0\"?>\n<CommunityConfig>\n"
	 "</CommunityConfig>\n", ":2: missing <Community> record", NULL},
	{"second Trace", HEAD "<Trace enable=\"true\"/>\n"
	 "<Trace enable=\"false\"/>" TAIL,
	 ":8: second <Trace> record (the first is at line 7)", NULL},
	{"wildcard inside", HEAD "<ExternCommunity name=\"x\"><Domain>a.*.b"
	 "</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": bad domain \"a.*.b\": \"*\" is only "
	 "allowed as a whole leading label", NULL},
	{"wildcard glued", HEAD "<ExternCommunity name=\"x\"><Domain>*x.com"
	 "</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": bad domain \"*x.com\": \"*\" is only "
	 "allowed as a whole leading label", NULL},
	{"bad domain characters", HEAD "<ExternCommunity name=\"x\"><Domain>"
	 "a_b.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": bad domain \"a_b.test\": only letters",
	 NULL},
	{"domain in two externs", HEAD "<ExternCommunity name=\"x\">"
	 "<Domain>Chicago.Test.</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": domain \"Chicago.Test.\" is already "
	 "claimed by ExternCommunity \"chicago\" as \"chicago.test\" "
	 "(line 5)", NULL},
	{"local domain as extern", HEAD "<ExternCommunity name=\"x\">"
	 "<Domain>ACME.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": domain \"ACME.test\" is already claimed "
	 "by the local Community (line 3)", NULL},
	{"wildcard covers local", HEAD "<ExternCommunity name=\"x\">"
	 "<Domain>*.acme.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": domain \"*.acme.test\" covers local "
	 "domain \"sales.acme.test\" (line 3)", NULL},
	{"bad IPv4", HEAD "<CommunityConnectivity><TrustedIP>127.0.0.300"
	 "</TrustedIP></CommunityConnectivity>" TAIL,
	 ":7: CommunityConnectivity: TrustedIP \"127.0.0.300\" is not a "
	 "numeric IPv4 or IPv6 address", NULL},
	{"bad IPv6", HEAD "<CommunityConnector name=\"e6\" ip=\"fe80::1::2\">"
	 "<Gateway>gw</Gateway></CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"e6\": ip \"fe80::1::2\" is not a numeric "
	 "IPv4 or IPv6 address", NULL},
	{"port 0", HEAD "<ExternCommunity name=\"x\" port=\"0\"><Domain>"
	 "x.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": attribute port must be a port number "
	 "1-65535, not \"0\"", NULL},
	{"start tag over two lines", HEAD "<ExternCommunity name=\"x\"\n"
	 "  port=\"0\"><Domain>x.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": attribute port must be a port number "
	 "1-65535, not \"0\"", NULL},
	{"prefixed start tag over two lines, comment with a tag",
	 HEAD "<x:Foo xmlns:x=\"urn:x\"\n  a=\"b\"/>\n<!-- <Bar\n> -->\n"
	 "<Baz\n/>" TAIL, ":7: unknown record <Foo>",
	 ":11: unknown record <Baz>"},
	{"port 65536", HEAD "<CommunityConnector name=\"e2\" ip=\"::1\" "
	 "tlsPort=\"65536\"><Gateway>gw</Gateway></CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"e2\": attribute tlsPort must be a port "
	 "number 1-65535, not \"65536\"", NULL},
	{"maxConnections not a number", HEAD "<CommunityConnector "
	 "name=\"e2\" ip=\"::1\" maxConnections=\"many\"><Gateway>gw"
	 "</Gateway></CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"e2\": attribute maxConnections must be a "
	 "whole number 0-4294967295, not \"many\"", NULL},
	{"port abc", HEAD "<CommunityGateway name=\"g2\"><ClientListen "
	 "transport=\"tcp\" address=\"127.0.0.11\" port=\"abc\"/>"
	 "<ConnectorListen transport=\"tls\" address=\"127.0.0.11\"/>"
	 "</CommunityGateway>" TAIL,
	 ":7: CommunityGateway \"g2\" ClientListen: attribute port must be "
	 "a port number 1-65535, not \"abc\"", NULL},
	{"dangling community", HEAD "<CommunityConnector name=\"e2\" "
	 "ip=\"127.0.0.10\"><Gateway>gw</Gateway><SupportedCommunity "
	 "name=\"nowhere\"/></CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"e2\": SupportedCommunity \"nowhere\" is "
	 "not an ExternCommunity in this file", NULL},
	{"dangling gateway", HEAD "<CommunityConnector name=\"e2\" "
	 "ip=\"127.0.0.10\"><Gateway>gw-nowhere</Gateway>"
	 "</CommunityConnector>" TAIL,
	 ":7: CommunityConnector \"e2\": Gateway \"gw-nowhere\" is not a "
	 "CommunityGateway in this file", NULL},
	{"duplicate name", HEAD "<ExternCommunity name=\"chicago\"><Domain>"
	 "other.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"chicago\": the name is already used at "
	 "line 5", NULL},
	{"world-readable secret", HEAD "<Tls certificate=\"cert.pem\" "
	 "key=\"world.key\"/>" TAIL,
	 ":7: secret file %s/world.key is readable by group or others "
	 "(mode 0644); chmod 600 it", NULL},
	{"group-readable secret", HEAD "<Tls certificate=\"cert.pem\" "
	 "key=\"group.key\"/>" TAIL,
	 ":7: secret file %s/group.key is readable by group or others "
	 "(mode 0640); chmod 600 it", NULL},
	{"missing secret file", HEAD "<Tls certificate=\"cert.pem\" "
	 "key=\"missing.key\"/>" TAIL,
	 ":7: secret file %s/missing.key: No such file or directory", NULL},
	{"ldap password file readable", HEAD "<Directory backend=\"ldap\">"
	 "<Ldap base=\"dc=acme\" passwordFile=\"world.key\"><Url>"
	 "ldap://127.0.0.1:3389</Url></Ldap></Directory>" TAIL,
	 ":7: secret file %s/world.key is readable by group or others "
	 "(mode 0644)", NULL},
	{"DOCTYPE with entity", "<?xml version=\"1.0\"?>\n"
	 "<!DOCTYPE CommunityConfig [\n<!ENTITY e \"EXPANDED\">\n]>\n"
	 "<CommunityConfig><Community name=\"acme\"><Domain>&e;</Domain>"
	 "</Community></CommunityConfig>\n",
	 ":2: DOCTYPE and ENTITY declarations are not allowed", NULL},
	{"bad boolean", HEAD "<Trace enable=\"yes\"/>" TAIL,
	 ":7: Trace: attribute enable must be true or false, not \"yes\"",
	 NULL},
	{"bad transport", HEAD "<ExternCommunity name=\"x\" transport=\"sctp\">"
	 "<Domain>x.test</Domain></ExternCommunity>" TAIL,
	 ":7: ExternCommunity \"x\": attribute transport must be udp, tcp or "
	 "tls, not \"sctp\"", NULL},
	{"ldap without Ldap", HEAD "<Directory backend=\"ldap\"/>" TAIL,
	 ":7: Directory: backend ldap needs an <Ldap> element", NULL},
	{"file without File", HEAD "<Directory backend=\"file\"/>" TAIL,
	 ":7: Directory: backend file needs a <File> element", NULL},
	{"bad Dns server", HEAD "<Dns><Server>127.0.0.53:0</Server></Dns>"
	 TAIL, ":7: Dns: Server \"127.0.0.53:0\": the port must be a number "
	 "1-65535", NULL},
	{"Dns v6 without brackets", HEAD "<Dns><Server>[::1]:53</Server>\n"
	 "<Server>fe80::1:53:x</Server></Dns>" TAIL,
	 ":8: Dns: Server \"fe80::1:53:x\": not a numeric IP address", NULL},
	{"two errors, both reported", HEAD "<CommunityConnector name=\"e2\" "
	 "ip=\"127.0.0.10\" port=\"0\"><Gateway>gw</Gateway>"
	 "</CommunityConnector>\n<Foo/>" TAIL,
	 ":7: CommunityConnector \"e2\": attribute port must be a port "
	 "number 1-65535, not \"0\"", ":8: unknown record <Foo>"},
	{"not CommunityConfig", "<?xml version=\"1.0\"?>\n<Config/>\n",
	 ":2: the top element must be <CommunityConfig>, not <Config>",
	 NULL},
};

static void test_bad_files(void)
{
	size_t i, j;

	write_file(in_dir("cert.pem"), "certificate\n", 0644);
	write_file(in_dir("world.key"), "key\n", 0644);
	write_file(in_dir("group.key"), "key\n", 0640);

	for (i = 0; i < ARRAY_SIZE(badv); i++) {
		struct cfg_diag diag = {NULL, 0, 0};
		struct cfg *cfg = NULL;
		char want[2][1024];
		bool found[2] = {false, badv[i].want2 == NULL};
		int err;

		snprintf(want[0], sizeof(want[0]), badv[i].want, dir);
		if (badv[i].want2)
			snprintf(want[1], sizeof(want[1]), badv[i].want2, dir);

		write_file(in_dir("bad.xml"), badv[i].text, 0644);
		err = cfg_load(&cfg, in_dir("bad.xml"), &diag);
		CU_ASSERT_EQUAL(err, EBADMSG);
		CU_ASSERT_PTR_NULL(cfg);
		CU_ASSERT(diag.nerr >= 1);
		for (j = 0; j < diag.n; j++) {
			CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[j], "bad.xml:"));
			CU_ASSERT_PTR_NULL(strstr(diag.msg[j], "EXPANDED"));
			if (strstr(diag.msg[j], want[0]))
				found[0] = true;
			if (badv[i].want2 && strstr(diag.msg[j], want[1]))
				found[1] = true;
		}
		if (!found[0] || !found[1]) {
			fprintf(stderr, "\n%s: want \"%s\"%s%s, got:\n",
				badv[i].what, want[0],
				badv[i].want2 ? " and " : "",
				badv[i].want2 ? want[1] : "");
			cfg_diag_print(&diag, stderr);
		}
		CU_ASSERT(found[0]);
		CU_ASSERT(found[1]);
		cfg_free(cfg);
		cfg_diag_reset(&diag);
	}
}

static void test_too_big(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	FILE *f = fopen(in_dir("big.xml"), "w");
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(HEAD "<!--", f);
	for (i = 0; i < CFG_FILE_MAX / 64 + 1; i++)
		fputs("...............................................................\n", f);
	fputs("-->" TAIL, f);
	fclose(f);

	CU_ASSERT_EQUAL(cfg_load(&cfg, in_dir("big.xml"), &diag), EFBIG);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "big.xml: file is larger "
				      "than 1048576 bytes"));
	cfg_diag_reset(&diag);

	CU_ASSERT_EQUAL(cfg_load(&cfg, in_dir("nothing-here.xml"), &diag),
			ENOENT);
	CU_ASSERT_EQUAL_FATAL(diag.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "nothing-here.xml: cannot "
				      "read: No such file or directory"));
	cfg_diag_reset(&diag);
}

/* Thousands of mistakes: the list is bounded, the count is not. */
static void test_many_errors(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	FILE *f = fopen(in_dir("many.xml"), "w");
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(HEAD, f);
	for (i = 0; i < 3000; i++)
		fprintf(f, "<Foo%d/>\n", i);
	fputs(TAIL, f);
	fclose(f);
	CU_ASSERT_EQUAL(cfg_load(&cfg, in_dir("many.xml"), &diag), EBADMSG);
	CU_ASSERT_EQUAL(diag.nerr, 3000);
	CU_ASSERT_EQUAL_FATAL(diag.n, CFG_DIAG_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[0], "many.xml:7: unknown "
				      "record <Foo0>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(diag.msg[CFG_DIAG_MAX],
				      "too many problems"));
	cfg_diag_reset(&diag);
}

static void test_domain_match(void)
{
	static const struct {
		const char *pat, *dom;
		bool match;
	} tv[] = {
		{"acme.com", "acme.com", true},
		{"acme.com", "ACME.COM", true},
		{"Acme.Com", "acme.com", true},
		{"acme.com.", "acme.com", true},
		{"acme.com", "acme.com.", true},
		{"acme.com.", "acme.com.", true},
		{"acme.com", "acme.com..", false},
		{"acme.com", "a.acme.com", false},
		{"acme.com", "evilacme.com", false},
		{"acme.com", "acme.co", false},
		{"*.acme.com", "a.acme.com", true},
		{"*.acme.com", "a.b.acme.com", true},
		{"*.acme.com", "A.B.ACME.COM.", true},
		{"*.acme.com.", "a.acme.com", true},
		{"*.acme.com", "acme.com", false},
		{"*.acme.com", "acme.com.", false},
		{"*.acme.com", "evilacme.com", false},
		{"*.acme.com", "a.evilacme.com", false},
		{"*.acme.com", "acme.com.evil.net", false},
		{"*.acme.com", "a.acme.com.evil.net", false},
		{"*.acme.com", ".acme.com", false},
		{"*.acme.com", "x..acme.com", false},
		{"acme.com", "", false},
		{"", "acme.com", false},
		{"", "", false},
		{".", ".", false},
		{"*", "acme.com", false},
		{"*", "*", false},
		{"*.", "acme.com", false},
		{"*.acme.com", "*.acme.com", true},
		{"a.*.com", "a.b.com", false},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		bool got = cfg_domain_match(tv[i].pat, tv[i].dom);

		if (got != tv[i].match)
			fprintf(stderr, "\nmatch(\"%s\", \"%s\") = %d\n",
				tv[i].pat, tv[i].dom, got);
		CU_ASSERT_EQUAL(got, tv[i].match);
	}
	CU_ASSERT(!cfg_domain_match(NULL, "a"));
	CU_ASSERT(!cfg_domain_match("a", NULL));
	CU_ASSERT_PTR_NULL(cfg_extern_find(NULL, "a"));
	CU_ASSERT(!cfg_domain_is_local(NULL, "a"));
}

static void quiet(void *arg, xmlErrorPtr e)
{
	(void)arg;
	(void)e;
}

/* The schema in the program is community.rng, byte for byte, and it
 * compiles, accepts a sample and refuses a file the loader refuses. */
static void test_schema_compiled_in(void)
{
	static char rng[256 * 1024];
	FILE *f = fopen(cutest_src("conf/community.rng"), "r");
	xmlRelaxNGParserCtxtPtr pc;
	xmlRelaxNGValidCtxtPtr vc;
	xmlRelaxNGPtr schema;
	xmlDoc *good, *bad;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(rng, 1, sizeof(rng) - 1, f);
	fclose(f);
	rng[n] = '\0';
	CU_ASSERT(n > 1000);
	CU_ASSERT_STRING_EQUAL(cfg_schema_rng, rng);

	pc = xmlRelaxNGNewMemParserCtxt(cfg_schema_rng,
					(int)strlen(cfg_schema_rng));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
	schema = xmlRelaxNGParse(pc);
	xmlRelaxNGFreeParserCtxt(pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(schema);
	vc = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidStructuredErrors(vc, quiet, NULL);
	good = xmlReadMemory(HEAD TAIL, (int)strlen(HEAD TAIL), "good.xml",
			     NULL, XML_PARSE_NONET);
	bad = xmlReadMemory(HEAD "<Foo/>" TAIL, (int)strlen(HEAD "<Foo/>" TAIL),
			    "bad.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	CU_ASSERT_EQUAL(xmlRelaxNGValidateDoc(vc, good), 0);
	CU_ASSERT_NOT_EQUAL(xmlRelaxNGValidateDoc(vc, bad), 0);
	xmlFreeDoc(good);
	xmlFreeDoc(bad);

	/* acceptTransports is a list of transports, serveStale a count */
	{
		static const char acc[] = HEAD
			"<ExternCommunity name=\"ohio\" transport=\"tls\" "
			"acceptTransports=\"tcp udp\"><Domain>ohio.test"
			"</Domain></ExternCommunity>"
			"<Dns serveStale=\"60\"><Server>127.0.0.1</Server>"
			"</Dns>" TAIL;
		static const char nacc[] = HEAD
			"<ExternCommunity name=\"ohio\" "
			"acceptTransports=\"smtp\"><Domain>ohio.test"
			"</Domain></ExternCommunity>" TAIL;

		good = xmlReadMemory(acc, (int)strlen(acc), "acc.xml", NULL,
				     XML_PARSE_NONET);
		bad = xmlReadMemory(nacc, (int)strlen(nacc), "nacc.xml",
				    NULL, XML_PARSE_NONET);
		CU_ASSERT_PTR_NOT_NULL_FATAL(good);
		CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
		CU_ASSERT_EQUAL(xmlRelaxNGValidateDoc(vc, good), 0);
		CU_ASSERT_NOT_EQUAL(xmlRelaxNGValidateDoc(vc, bad), 0);
		xmlFreeDoc(good);
		xmlFreeDoc(bad);
	}
	xmlRelaxNGFreeValidCtxt(vc);
	xmlRelaxNGFree(schema);
}

/* acceptTransports and serveStale as the loader reads them. */
static void test_accept_stale(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	int err;

	write_file(in_dir("acc.xml"), HEAD
		   "<ExternCommunity name=\"ohio\" transport=\"tls\" "
		   "acceptTransports=\" tcp  udp \"><Domain>ohio.test</Domain>"
		   "</ExternCommunity>"
		   "<Dns serveStale=\"0\"><Server>127.0.0.1</Server></Dns>"
		   TAIL, 0644);
	err = cfg_load(&cfg, in_dir("acc.xml"), &diag);
	cfg_diag_print(&diag, stderr);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(cfg->externs[1].accept_tp,
			(1u << CFG_TP_TCP) | (1u << CFG_TP_UDP));
	CU_ASSERT_EQUAL(cfg->dns.stale_s, 0);
	cfg_free(cfg);
	cfg = NULL;
	cfg_diag_reset(&diag);

	write_file(in_dir("nacc.xml"), HEAD
		   "<ExternCommunity name=\"ohio\" acceptTransports=\"\">"
		   "<Domain>ohio.test</Domain></ExternCommunity>" TAIL, 0644);
	err = cfg_load(&cfg, in_dir("nacc.xml"), &diag);
	CU_ASSERT_NOT_EQUAL(err, 0);
	CU_ASSERT_TRUE(diag.n >= 1 && strstr(diag.msg[0],
		"acceptTransports must be one or more of udp, tcp or tls"));
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* A broken file still yields what could be read, for the CLI to find
 * the running daemon's control socket; an unparsable one yields none. */
static void test_partial(void)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	char want[PATH_MAX + 64];
	int err;

	write_file(in_dir("partial.xml"), HEAD "<CommunityConnector "
		   "name=\"e2\" ip=\"127.0.0.10\" control=\"run/e2.sock\">"
		   "<Gateway>gw-nowhere</Gateway></CommunityConnector>" TAIL,
		   0644);
	err = cfg_load(&cfg, in_dir("partial.xml"), &diag);
	CU_ASSERT_EQUAL(err, EBADMSG);
	CU_ASSERT_PTR_NULL(cfg);
	cfg_diag_reset(&diag);

	err = cfg_load_partial(&cfg, in_dir("partial.xml"), &diag);
	CU_ASSERT_EQUAL(err, EBADMSG);
	CU_ASSERT(diag.nerr >= 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg_connector_find(cfg, "e2"));
	snprintf(want, sizeof(want), "%s/run/e2.sock", dir);
	CU_ASSERT_STRING_EQUAL(cfg_connector_find(cfg, "e2")->control, want);
	cfg_free(cfg);
	cfg_diag_reset(&diag);

	cfg = NULL;
	write_file(in_dir("partial.xml"), HEAD "<Trace enable=\"true\">" TAIL,
		   0644);
	err = cfg_load_partial(&cfg, in_dir("partial.xml"), &diag);
	CU_ASSERT_EQUAL(err, EBADMSG);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(diag.nerr >= 1);
	cfg_diag_reset(&diag);
}

static CU_TestInfo cfg_tests[] = {
	{"acceptTransports and serveStale", test_accept_stale},
	{"schema compiled in", test_schema_compiled_in},
	{"sample acme.test loads", test_sample_acme},
	{"sample chicago.test loads", test_sample_chicago},
	{"defaults", test_defaults},
	{"maxConnections", test_max_connections},
	{"ExternCommunity protocol", test_protocol},
	{"udp extern is a warning", test_udp_warns},
	{"bad files: line and message", test_bad_files},
	{"size bound, missing file", test_too_big},
	{"many errors", test_many_errors},
	{"domain matching", test_domain_match},
	{"partial load of a broken file", test_partial},
	{"CommunityGateway stateFile", test_state_file},
	{"CommunityGateway stateStore", test_state_store},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cfg", suite_init, NULL, NULL, NULL, cfg_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
