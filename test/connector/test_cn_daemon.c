/*
 * test_cn_daemon.c -- the connector's daemon context without the
 * daemon: picking the record, the counters and their log line, the
 * degraded rule, reload keeping state by name, reset and the status
 * tree.  Configuration files are written to a private directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "conf/cfg.h"
#include "daemon/dmn.h"
#include "connector/cn.h"
#include "lib/cutest.h"

static char path[512];
static char lines[8][DMN_LOG_LINE_MAX + 64];
static size_t nlines;

static void sink(enum dmn_log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	if (nlines < sizeof(lines) / sizeof(lines[0]))
		snprintf(lines[nlines++], sizeof(lines[0]), "%s", line);
}

static bool logged(const char *s)
{
	size_t i;

	for (i = 0; i < nlines; i++)
		if (strstr(lines[i], s))
			return true;
	return false;
}

/* The file with boston enabled or not, a third community or not, and
 * the given Gateway name (an unknown one makes the file broken). */
static void write_file(bool boston, bool denver, const char *gw,
		       bool second)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f,
		"<CommunityConfig>\n"
		"<Community name=\"acme\"><Domain>acme.test</Domain>"
		"</Community>\n"
		"<CommunityGateway name=\"gw1\">\n"
		"<ClientListen transport=\"udp\" address=\"127.0.9.30\""
		" port=\"15060\"/>\n"
		"<ConnectorListen transport=\"tcp\" address=\"127.0.9.30\""
		" port=\"15070\"/></CommunityGateway>\n"
		"<CommunityGateway name=\"gw2\">\n"
		"<ClientListen transport=\"udp\" address=\"127.0.9.31\""
		" port=\"15060\"/>\n"
		"<ConnectorListen transport=\"tcp\" address=\"127.0.9.31\""
		" port=\"15070\"/></CommunityGateway>\n"
		"<ExternCommunity name=\"chicago\" transport=\"tcp\">"
		"<Domain>chicago.test</Domain></ExternCommunity>\n"
		"<ExternCommunity name=\"boston\" transport=\"tcp\">"
		"<Domain>boston.test</Domain></ExternCommunity>\n"
		"%s"
		"<CommunityConnector name=\"edge\" ip=\"127.0.9.32\">\n"
		"<Gateway>gw1</Gateway>\n<Gateway>%s</Gateway>\n"
		"<SupportedCommunity name=\"chicago\" enabled=\"true\"/>\n"
		"<SupportedCommunity name=\"boston\" enabled=\"%s\"/>\n"
		"</CommunityConnector>\n"
		"%s"
		"</CommunityConfig>\n",
		denver ? "<ExternCommunity name=\"denver\" transport=\"tcp\">"
		"<Domain>denver.test</Domain></ExternCommunity>\n" : "",
		gw, boston ? "true" : "false",
		second ? "<CommunityConnector name=\"edge2\" "
		"ip=\"127.0.9.33\"><Gateway>gw1</Gateway>"
		"</CommunityConnector>\n" : "");
	fclose(f);
}

static struct cn *make(const struct cn_proxy_ops *ops)
{
	struct cfg_diag diag = {0};
	struct cfg *cfg = NULL;
	struct cn *cn = NULL;
	int err;

	err = cfg_load(&cfg, path, &diag);
	if (err)
		cfg_diag_print(&diag, stderr);
	cfg_diag_reset(&diag);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	err = cn_alloc(&cn, cfg, NULL, path, ops);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	return cn;
}

static int suite_init(void)
{
	snprintf(path, sizeof(path), "%s/community.xml",
		 cutest_tmpdir("cn_daemon"));
	dmn_log_sink_set(sink, NULL);
	return 0;
}

static int suite_clean(void)
{
	dmn_log_sink_set(NULL, NULL);
	return 0;
}

static void test_self_pick(void)
{
	struct cfg_diag diag = {0};
	const struct cfg_connector *self = NULL;
	const char *why = NULL;
	struct cfg *cfg = NULL;

	write_file(false, false, "gw2", true);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&cfg, path, &diag), 0);
	cfg_diag_reset(&diag);

	CU_ASSERT_EQUAL(cn_self_pick(cfg, NULL, &self, &why), E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "-n NAME"));
	CU_ASSERT_EQUAL(cn_self_pick(cfg, "edge2", &self, &why), 0);
	CU_ASSERT_STRING_EQUAL(self->name, "edge2");
	CU_ASSERT_EQUAL(cn_self_pick(cfg, "nobody", &self, &why), ENOENT);
	CU_ASSERT_STRING_EQUAL(self->name, "edge2");	/* untouched */
	cfg_free(cfg);

	write_file(false, false, "gw2", false);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&cfg, path, &diag), 0);
	cfg_diag_reset(&diag);
	CU_ASSERT_EQUAL(cn_self_pick(cfg, NULL, &self, &why), 0);
	CU_ASSERT_STRING_EQUAL(self->name, "edge");
	cfg_free(cfg);
}

static void test_counters(void)
{
	struct cn *cn;
	struct cn_comm *chi;

	write_file(false, false, "gw2", false);
	cn = make(NULL);
	chi = cn_comm_find(cn, "chicago");
	CU_ASSERT_PTR_NOT_NULL_FATAL(chi);
	CU_ASSERT_TRUE(chi->enabled);
	CU_ASSERT_EQUAL(chi->link, CN_LINK_IDLE);
	CU_ASSERT_FALSE(cn_comm_find(cn, "boston")->enabled);
	CU_ASSERT_EQUAL(cn_comm_find(cn, "boston")->link, CN_LINK_DISABLED);

	nlines = 0;
	cn_count_reject(cn, "chicago", CN_R_UNTRUSTED_IP, "127.0.9.99",
			"from %s", "alice@chicago.test");
	cn_count_reject(cn, NULL, CN_R_UNKNOWN_COMMUNITY, NULL, NULL);
	cn_count_reject(cn, "gone", CN_R_MALFORMED, NULL, "x");
	cn_count_reject(cn, "chicago", CN_R_COUNT, NULL, "bad reason");
	cn_count_in(cn, "chicago");
	cn_count_in(cn, NULL);
	cn_count_out(cn, "chicago");
	cn_count_gw(cn, "gw1", true);
	cn_count_gw(cn, "gw1", false);
	cn_count_gw(cn, "gw1", false);

	CU_ASSERT_EQUAL(chi->cnt.rejects[CN_R_UNTRUSTED_IP], 1);
	CU_ASSERT_EQUAL(chi->cnt.rejects[CN_R_UNKNOWN_COMMUNITY], 0);
	CU_ASSERT_EQUAL(cn->total.rejects[CN_R_UNTRUSTED_IP], 1);
	CU_ASSERT_EQUAL(cn->total.rejects[CN_R_UNKNOWN_COMMUNITY], 1);
	CU_ASSERT_EQUAL(cn->total.rejects[CN_R_MALFORMED], 1);
	CU_ASSERT_STRING_EQUAL(chi->cnt.last_reject,
			       "untrusted-ip: from alice@chicago.test");
	CU_ASSERT_NOT_EQUAL(chi->cnt.last_reject_at, 0);
	CU_ASSERT_STRING_EQUAL(cn->total.last_reject, "malformed: x");
	CU_ASSERT_EQUAL(chi->cnt.msgs_in, 1);
	CU_ASSERT_EQUAL(chi->cnt.msgs_out, 1);
	CU_ASSERT_EQUAL(cn->total.msgs_in, 2);
	CU_ASSERT_EQUAL(cn_gw_find(cn, "gw1")->msgs_in, 1);
	CU_ASSERT_EQUAL(cn_gw_find(cn, "gw1")->msgs_out, 2);

	CU_ASSERT_TRUE(logged("cn: reject reason=untrusted-ip "
			      "community=chicago src=127.0.9.99 "
			      "detail=\"from alice@chicago.test\""));
	CU_ASSERT_TRUE(logged("cn: reject reason=unknown-community "
			      "community=- src=-"));
	CU_ASSERT_FALSE(logged("bad reason"));
	mem_deref(cn);
}

static void test_degraded(void)
{
	struct cn *cn;

	write_file(true, false, "gw2", false);
	cn = make(NULL);

	CU_ASSERT_EQUAL(cn_degraded(cn), 0);

	/* idle and connecting links are not failures */
	CU_ASSERT_EQUAL(cn_link_set(cn, "chicago", CN_LINK_CONNECTING, 0,
				    NULL), 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), 0);
	CU_ASSERT_EQUAL(cn_link_set(cn, "chicago", CN_LINK_DOWN, 60,
				    "connect: %s", "refused"), 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), CN_DEG_LINK);
	CU_ASSERT_STRING_EQUAL(cn_comm_find(cn, "chicago")->last_error,
			       "connect: refused");
	CU_ASSERT_NOT_EQUAL(cn_comm_find(cn, "chicago")->next_retry, 0);
	CU_ASSERT_EQUAL(cn_link_set(cn, "nowhere", CN_LINK_UP, 0, NULL),
			ENOENT);

	/* one gateway down and one unknown: not yet degraded */
	CU_ASSERT_EQUAL(cn_gw_set(cn, "gw1", CN_GW_DOWN, "timeout"), 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), CN_DEG_LINK);
	CU_ASSERT_EQUAL(cn_gw_set(cn, "gw2", CN_GW_DOWN, NULL), 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), CN_DEG_LINK | CN_DEG_GATEWAYS);
	CU_ASSERT_EQUAL(cn_gw_set(cn, "gw2", CN_GW_UP, NULL), 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), CN_DEG_LINK);

	/* a down link of a community this connector does not serve:
	 * disable chicago by reload, the rule ignores it */
	cn->reload = CN_RELOAD_FAILED;
	CU_ASSERT_EQUAL(cn_degraded(cn), CN_DEG_LINK | CN_DEG_RELOAD);
	cn->reload = CN_RELOAD_OK;

	/* reset: back to idle, error cleared, healthy */
	CU_ASSERT_EQUAL(cn_reset(cn, "chicago"), 0);
	CU_ASSERT_EQUAL(cn_comm_find(cn, "chicago")->link, CN_LINK_IDLE);
	CU_ASSERT_STRING_EQUAL(cn_comm_find(cn, "chicago")->last_error, "");
	CU_ASSERT_EQUAL(cn_comm_find(cn, "chicago")->next_retry, 0);
	CU_ASSERT_EQUAL(cn_degraded(cn), 0);
	CU_ASSERT_EQUAL(cn_reset(cn, "nowhere"), ENOENT);
	mem_deref(cn);
}

static unsigned n_apply, n_retry;

static int h_apply(struct cn *cn, const struct cfg *old)
{
	CU_ASSERT_PTR_NOT_NULL(old);
	CU_ASSERT_PTR_NOT_EQUAL(old, cn->cfg);
	n_apply++;
	return 0;
}

static int h_retry(struct cn *cn, struct cn_comm *comm)
{
	(void)cn;
	CU_ASSERT_STRING_EQUAL(comm->name, "chicago");
	n_retry++;
	return 0;
}

static const struct cn_proxy_ops test_ops = {
	.apply = h_apply, .retry = h_retry,
};

static void test_reload(void)
{
	struct cn *cn;
	struct cn_comm *chi;
	struct le *le;

	write_file(true, false, "gw2", false);
	cn = make(&test_ops);
	n_apply = n_retry = 0;

	cn_count_reject(cn, "chicago", CN_R_NOT_LOCAL, NULL, NULL);
	cn_count_in(cn, "boston");
	cn_link_set(cn, "chicago", CN_LINK_DOWN, 60, "refused");
	cn_count_gw(cn, "gw1", true);
	chi = cn_comm_find(cn, "chicago");

	/* boston disabled, denver new: chicago keeps its state */
	write_file(false, true, "gw2", false);
	CU_ASSERT_EQUAL(cn_reload(cn, NULL), 0);
	CU_ASSERT_EQUAL(cn->reload, CN_RELOAD_OK);
	CU_ASSERT_EQUAL(n_apply, 1);
	CU_ASSERT_PTR_EQUAL(cn_comm_find(cn, "chicago"), chi);
	CU_ASSERT_EQUAL(chi->cnt.rejects[CN_R_NOT_LOCAL], 1);
	CU_ASSERT_EQUAL(chi->link, CN_LINK_DOWN);
	CU_ASSERT_PTR_EQUAL(chi->ex, &cn->cfg->externs[0]);
	CU_ASSERT_FALSE(cn_comm_find(cn, "boston")->enabled);
	CU_ASSERT_EQUAL(cn_comm_find(cn, "boston")->link, CN_LINK_DISABLED);
	CU_ASSERT_EQUAL(cn_comm_find(cn, "boston")->cnt.msgs_in, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cn_comm_find(cn, "denver"));
	CU_ASSERT_FALSE(cn_comm_find(cn, "denver")->enabled);
	CU_ASSERT_EQUAL(cn_gw_find(cn, "gw1")->msgs_in, 1);
	CU_ASSERT_EQUAL(list_count(&cn->comms), 3);

	/* denver leaves again; boston enabled: back to idle */
	write_file(true, false, "gw2", false);
	CU_ASSERT_EQUAL(cn_reload(cn, NULL), 0);
	CU_ASSERT_PTR_NULL(cn_comm_find(cn, "denver"));
	CU_ASSERT_EQUAL(cn_comm_find(cn, "boston")->link, CN_LINK_IDLE);
	le = list_head(&cn->comms);
	CU_ASSERT_STRING_EQUAL(((struct cn_comm *)le->data)->name, "chicago");

	/* a broken file changes nothing and is kept for status */
	write_file(false, false, "nosuch", false);
	CU_ASSERT_EQUAL(cn_reload(cn, NULL), EBADMSG);
	CU_ASSERT_EQUAL(cn->reload, CN_RELOAD_FAILED);
	CU_ASSERT_TRUE(cn->reload_diag.nerr >= 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(cn->reload_diag.msg[0], path));
	CU_ASSERT_PTR_NOT_NULL(strstr(cn->reload_diag.msg[0], "nosuch"));
	CU_ASSERT_TRUE(cn_comm_find(cn, "boston")->enabled);
	CU_ASSERT_PTR_NOT_NULL(cn_gw_find(cn, "gw2"));
	CU_ASSERT_EQUAL(n_apply, 2);
	CU_ASSERT_TRUE(cn_degraded(cn) & CN_DEG_RELOAD);

	/* the record renamed away: refused, named in the note */
	{
		FILE *f;
		char *buf = NULL, *p;
		long n;

		write_file(true, false, "gw2", false);
		f = fopen(path, "r");
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = calloc(1, (size_t)n + 1);
		CU_ASSERT_EQUAL((long)fread(buf, 1, (size_t)n, f), n);
		fclose(f);
		p = strstr(buf, "name=\"edge\"");
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		f = fopen(path, "w");
		fwrite(buf, 1, (size_t)(p - buf), f);
		fputs("name=\"other\"", f);
		fputs(p + strlen("name=\"edge\""), f);
		fclose(f);
		free(buf);
	}
	CU_ASSERT_EQUAL(cn_reload(cn, NULL), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(cn->reload_note, "\"edge\""));
	CU_ASSERT_STRING_EQUAL(cn->self->name, "edge");

	/* reset calls the proxy core's retry */
	CU_ASSERT_EQUAL(cn_reset(cn, "chicago"), 0);
	CU_ASSERT_EQUAL(n_retry, 1);
	mem_deref(cn);
}

static int h_json(struct re_printf *pf, void *arg)
{
	return dmn_st_json(pf, arg);
}

static void test_status_tree(void)
{
	static const char *reasons[] = {
		"untrusted-ip", "not-enabled", "unknown-community",
		"not-local", "malformed", "tls-failure", "overload",
	};
	struct cn_link_hop hop = {"127.0.9.40", 15061, CFG_TP_TCP, 30};
	struct dmn_st *st = NULL;
	struct cn *cn;
	char *s = NULL, key[64];
	size_t i;

	write_file(true, false, "gw2", false);
	cn = make(NULL);
	CU_ASSERT_EQUAL(cn_hops_set(cn, "chicago", &hop, 1), 0);
	CU_ASSERT_EQUAL(cn_listener_add(cn, CFG_TP_TCP, "127.0.9.32", 15060),
			0);
	cn_count_reject(cn, "boston", CN_R_OVERLOAD, NULL, NULL);

	CU_ASSERT_EQUAL_FATAL(cn_status_build(&st, cn), 0);
	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&s, "%H", h_json, st), 0);

	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"health\":\"ok\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"listeners\":[{\"transport\":"
				      "\"tcp\",\"address\":\"127.0.9.32\","
				      "\"port\":15060}]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"next_hops\":[{\"address\":"
				      "\"127.0.9.40\",\"port\":15061,"
				      "\"transport\":\"tcp\",\"ttl\":30}]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"overload\":1"));
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *p = s;
		unsigned n = 0;

		snprintf(key, sizeof(key), "\"%s\":", reasons[i]);
		while ((p = strstr(p, key))) {
			n++;
			p++;
		}
		/* totals + chicago + boston */
		CU_ASSERT_EQUAL(n, 3);
	}
	mem_deref(s);
	mem_deref(st);
	mem_deref(cn);
}

/* Lines per source of the flood test. */
static size_t flood_a, flood_b, flood_c, flood_other;

static void flood_sink(enum dmn_log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	if (strstr(line, "reason=loop community=chicago src=192.0.2.1 "))
		flood_a++;
	else if (strstr(line, "reason=loop community=chicago src=192.0.2.2 "))
		flood_b++;
	else if (strstr(line, "reason=dns-failure community=chicago "
			"src=192.0.2.1 "))
		flood_c++;
	else
		flood_other++;
}

/* A flood of one reason from one source hides neither another source's
 * line of that reason nor any line of another reason; every refusal is
 * counted all the same. */
static void test_reject_log_buckets(void)
{
	struct cn *cn;
	int i;

	write_file(false, false, "gw2", false);
	cn = make(NULL);
	dmn_log_sink_set(flood_sink, NULL);

	for (i = 0; i < 40; i++)
		cn_count_reject(cn, "chicago", CN_R_LOOP, "192.0.2.1",
				"n=%d", i);
	cn_count_reject(cn, "chicago", CN_R_LOOP, "192.0.2.2", "n=x");
	cn_count_reject(cn, "chicago", CN_R_DNS_FAILURE, "192.0.2.1", "n=y");

	CU_ASSERT_EQUAL(flood_a, CN_LOG_SRC_BURST);
	CU_ASSERT_EQUAL(flood_b, 1);
	CU_ASSERT_EQUAL(flood_c, 1);
	CU_ASSERT_EQUAL(cn_comm_find(cn, "chicago")->cnt.rejects[CN_R_LOOP],
			41);
	CU_ASSERT_EQUAL(cn->total.rejects[CN_R_DNS_FAILURE], 1);

	dmn_log_sink_set(sink, NULL);
	mem_deref(cn);
}

static CU_TestInfo cn_tests[] = {
	{"record by name or the only one", test_self_pick},
	{"counters and the reject log line", test_counters},
	{"the degraded rule and reset", test_degraded},
	{"reload keeps state by name, refuses broken files", test_reload},
	{"status tree keys", test_status_tree},
	{"one log bucket per reason and source", test_reject_log_buckets},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cn_daemon", suite_init, suite_clean, NULL, NULL, cn_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
