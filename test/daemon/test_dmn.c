/*
 * test_dmn.c -- the daemon plumbing, as an administrator meets it: log
 * lines, the PID file, privilege drop, signals, the control socket and
 * what `status` prints.  Real sockets, real processes, real JSON parser.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <re.h>
#define DEBUG_MODULE "test"
#define DEBUG_LEVEL 7
#include <re_dbg.h>

#include "daemon/dmn.h"
#include "lib/cutest.h"

/* ------------------------------------------------------------------ */
/* Captured log lines */

enum { CAP_MAX = 64 };

static struct {
	char line[CAP_MAX][DMN_LOG_LINE_MAX];
	enum dmn_log_level lvl[CAP_MAX];
	size_t n;
} cap;

static void cap_sink(enum dmn_log_level lvl, const char *line, void *arg)
{
	(void)arg;
	if (cap.n < CAP_MAX) {
		snprintf(cap.line[cap.n], sizeof(cap.line[0]), "%s", line);
		cap.lvl[cap.n] = lvl;
	}
	cap.n++;
}

static int cap_setup(void)
{
	memset(&cap, 0, sizeof(cap));
	dmn_log_sink_set(cap_sink, NULL);
	dmn_log_level_set(DMN_LOG_INFO);
	return 0;
}

static int cap_teardown(void)
{
	dmn_log_sink_set(NULL, NULL);
	return 0;
}

static bool cap_has(const char *needle)
{
	size_t i;

	for (i = 0; i < min(cap.n, (size_t)CAP_MAX); i++) {
		if (strstr(cap.line[i], needle))
			return true;
	}
	return false;
}

/* Print handlers with the exact type %H wants. */
static int h_json(struct re_printf *pf, void *arg)
{
	return dmn_st_json(pf, arg);
}

static int h_text(struct re_printf *pf, void *arg)
{
	return dmn_st_print(pf, arg);
}

static char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf && lenp)
		*lenp = (size_t)n;
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/*
 * python3 -m json.tool on a file: 0 and its canonical compact form in
 * out if it parses, the tool's exit status otherwise.
 */
static int json_tool(const char *path, char *out, size_t size)
{
	char cmd[4200];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "python3 -m json.tool --compact "
		 "--sort-keys --no-ensure-ascii '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	return pclose(p);
}

/* A UNIX socket address; the test's paths always fit. */
static void sun_set(struct sockaddr_un *sun, const char *path)
{
	const size_t n = min(strlen(path), sizeof(sun->sun_path) - 1);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
}

/* ------------------------------------------------------------------ */
/* Logging */

static void test_log_escape_table(void)
{
	static const struct {
		const char *val;
		const char *want;
	} tv[] = {
		{"plain", "m: e k=plain"},
		{"two words", "m: e k=\"two words\""},
		{"", "m: e k=\"\""},
		{"x\ny", "m: e k=\"x\\ny\""},
		{"cr\rtab\t", "m: e k=\"cr\\rtab\\t\""},
		{"q\"uote", "m: e k=\"q\\\"uote\""},
		{"back\\slash", "m: e k=\"back\\\\slash\""},
		{"a=b", "m: e k=\"a=b\""},
		{"\x01\x7f", "m: e k=\"\\x01\\x7f\""},
		{"caf\xc3\xa9", "m: e k=\"caf\\xc3\\xa9\""},
		{"x\nwarning m: forged k=1",
		 "m: e k=\"x\\nwarning m: forged k=1\""},
	};
	char buf[DMN_LOG_LINE_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		size_t n = dmn_log_format(buf, sizeof(buf), 0, "m: e k=%s",
					  tv[i].val);

		CU_ASSERT_STRING_EQUAL(buf, tv[i].want);
		CU_ASSERT_EQUAL(n, strlen(tv[i].want));
		CU_ASSERT_PTR_NULL(strchr(buf, '\n'));
	}
}

static void test_log_format_args(void)
{
	char buf[DMN_LOG_LINE_MAX];
	char big[3 * DMN_LOG_LINE_MAX];
	size_t n;

	dmn_log_format(buf, sizeof(buf), 0,
		       "m: e i=%d u=%u z=%zu ll=%lld x=%x pct=%% pl=%.*s",
		       -5, 7u, (size_t)42, -123456789012LL, 255u, 3,
		       "abcdef");
	CU_ASSERT_STRING_EQUAL(buf, "m: e i=-5 u=7 z=42 ll=-123456789012 "
			       "x=ff pct=% pl=abc");

	dmn_log_format(buf, sizeof(buf), EACCES, "ctl: bind path=%s",
		       "/run/x");
	CU_ASSERT_STRING_EQUAL(buf, "ctl: bind path=/run/x "
			       "error=\"Permission denied\"");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = dmn_log_format(buf, sizeof(buf), 0, "m: e k=%s", big);
	CU_ASSERT(n < DMN_LOG_LINE_MAX);
	CU_ASSERT_EQUAL(n, strlen(buf));
	CU_ASSERT_STRING_EQUAL(buf + n - 3, "...");
}

static void test_log_sink_levels(void)
{
	cap_setup();

	dmn_log_info("cn: accepted peer=%s", "evil\nerror: fake line");
	CU_ASSERT_EQUAL(cap.n, 1);
	CU_ASSERT_STRING_EQUAL(cap.line[0], "cn: accepted "
			       "peer=\"evil\\nerror: fake line\"");
	CU_ASSERT_EQUAL(cap.lvl[0], DMN_LOG_INFO);

	errno = ENOENT;
	dmn_log_warn("conf: open file=%s", "/etc/x.xml");
	CU_ASSERT_EQUAL(errno, ENOENT);	/* preserved */
	CU_ASSERT_EQUAL(cap.n, 2);
	CU_ASSERT_STRING_EQUAL(cap.line[1], "conf: open file=/etc/x.xml "
			       "error=\"No such file or directory\"");
	CU_ASSERT_EQUAL(cap.lvl[1], DMN_LOG_WARN);

	errno = ENOENT;
	dmn_log_warnx("conf: bad value line=%d", 12);
	CU_ASSERT_STRING_EQUAL(cap.line[2], "conf: bad value line=12");

	dmn_log_code(DMN_LOG_ERR, ETIMEDOUT, "dir: bind uri=%s", "ldap://x");
	CU_ASSERT_STRING_EQUAL(cap.line[3], "dir: bind uri=ldap://x "
			       "error=\"Connection timed out\"");
	CU_ASSERT_EQUAL(cap.lvl[3], DMN_LOG_ERR);

	dmn_log_debug("not: shown");
	CU_ASSERT_EQUAL(cap.n, 4);
	dmn_log_level_set(DMN_LOG_DEBUG);
	dmn_log_debug("now: shown");
	CU_ASSERT_EQUAL(cap.n, 5);
	dmn_log_level_set(DMN_LOG_INFO);

	/* libre's own diagnostics arrive as escaped log lines */
	dmn_log_open("test_dmn", true, DMN_LOG_INFO);
	dbg_printf(DBG_WARNING, "tcp: recv(): \"oops\"\n");
	CU_ASSERT_EQUAL(cap.n, 6);
	CU_ASSERT_STRING_EQUAL(cap.line[5],
			       "re: diag text=\"tcp: recv(): \\\"oops\\\"\"");
	CU_ASSERT_EQUAL(cap.lvl[5], DMN_LOG_WARN);

	cap_teardown();
}

static void test_ratelim_bucket(void)
{
	struct dmn_ratelim rl = DMN_RATELIM_INIT(3, 1000);
	unsigned rep = 99;
	int i;

	/* a full bucket: 3 lines, then counted */
	for (i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(dmn_ratelim_take(&rl, 10000, &rep));
		CU_ASSERT_EQUAL(rep, 0);
	}
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 10000, &rep));
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 10100, &rep));
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 10200, &rep));
	CU_ASSERT_EQUAL(rl.suppressed, 3);

	/* 400 ms earn 1.2 tokens: one line, carrying the count */
	CU_ASSERT_TRUE(dmn_ratelim_take(&rl, 10400, &rep));
	CU_ASSERT_EQUAL(rep, 3);
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 10400, &rep));
	CU_ASSERT_EQUAL(rep, 0);

	/* a long quiet time refills to burst, not beyond */
	for (i = 0; i < 3; i++)
		CU_ASSERT_TRUE(dmn_ratelim_take(&rl, 99000, &rep));
	CU_ASSERT_EQUAL(rep, 0);	/* reported on the first one */
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 99000, &rep));

	/* a clock going backwards earns nothing */
	CU_ASSERT_FALSE(dmn_ratelim_take(&rl, 50000, &rep));
}

static void test_ratelim_log(void)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(3, 3600000);
	int i;

	cap_setup();
	for (i = 0; i < 10; i++)
		dmn_log_rl(&rl, DMN_LOG_WARN, "cn: rejected peer=%s n=%d",
			   "10.0.0.1", i);
	CU_ASSERT_EQUAL(cap.n, 3);
	CU_ASSERT_STRING_EQUAL(cap.line[2], "cn: rejected peer=10.0.0.1 n=2");

	dmn_ratelim_flush(&rl, DMN_LOG_WARN);
	CU_ASSERT_EQUAL(cap.n, 4);
	CU_ASSERT_STRING_EQUAL(cap.line[3], "cn: rejected suppressed=7");
	dmn_ratelim_flush(&rl, DMN_LOG_WARN);	/* nothing pending */
	CU_ASSERT_EQUAL(cap.n, 4);

	/* suppressed again, then a token: the count comes first */
	dmn_log_rl(&rl, DMN_LOG_WARN, "cn: rejected peer=%s", "x");
	dmn_log_rl(&rl, DMN_LOG_WARN, "cn: rejected peer=%s", "y");
	CU_ASSERT_EQUAL(cap.n, 4);
	rl.tokens_milli = 1000;	/* as if time had passed */
	dmn_log_rl(&rl, DMN_LOG_WARN, "cn: rejected peer=%s", "z");
	CU_ASSERT_EQUAL(cap.n, 6);
	CU_ASSERT_STRING_EQUAL(cap.line[4], "cn: rejected suppressed=2");
	CU_ASSERT_STRING_EQUAL(cap.line[5], "cn: rejected peer=z");
	cap_teardown();
}

static void test_mask(void)
{
	static const struct {
		const char *val;
		const char *want;
	} tv[] = {
		{"Digest username=\"bob\", response=\"0a4f\"", "Digest ***"},
		{"Basic Ym9iOnNlY3JldA==", "Basic ***"},
		{"  Bearer abc", "Bearer ***"},
		{"opaquetoken", "***"},
		{"", ""},
	};
	char buf[64];
	char tiny[6];
	size_t i;

	CU_ASSERT_TRUE(dmn_secret_header("Authorization", 13));
	CU_ASSERT_TRUE(dmn_secret_header("proxy-authorization", 19));
	CU_ASSERT_FALSE(dmn_secret_header("Authorization-X", 15));
	CU_ASSERT_FALSE(dmn_secret_header("Via", 3));

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		dmn_mask_value(buf, sizeof(buf), tv[i].val,
			       strlen(tv[i].val));
		CU_ASSERT_STRING_EQUAL(buf, tv[i].want);
		CU_ASSERT_PTR_NULL(strstr(buf, "bob"));
	}

	/* a small buffer still ends in NUL and never leaks the secret */
	dmn_mask_value(tiny, sizeof(tiny), tv[1].val, strlen(tv[1].val));
	CU_ASSERT_EQUAL(strlen(tiny), sizeof(tiny) - 1);
	CU_ASSERT_PTR_NULL(strstr(tiny, "Ym9"));
}

/* ------------------------------------------------------------------ */
/* Status tree */

static struct dmn_st *sample_tree(void)
{
	struct dmn_st *st = NULL, *sec, *tls, *list, *it;

	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&st), 0);
	dmn_st_str(st, "version", "0.1.0");
	dmn_st_dur(st, "uptime", 93784000);
	dmn_st_bool(st, "healthy", true);

	sec = dmn_st_section(st, "server");
	dmn_st_int(sec, "pid", 4242);
	dmn_st_str(sec, "config", "/etc/stc/community.xml");
	tls = dmn_st_section(sec, "tls");
	dmn_st_str(tls, "cipher", "AES-256-GCM");
	dmn_st_dur(tls, "handshake", 250);

	list = dmn_st_list(st, "communities");
	it = dmn_st_item(list);
	dmn_st_str(it, "name", "chicago");
	dmn_st_bool(it, "enabled", true);
	dmn_st_int(it, "rx", -1);
	dmn_st_str(it, "last_error", "tls: \"bad\"\ncert");
	it = dmn_st_item(list);
	dmn_st_str(it, "name", "boston");
	dmn_st_bool(it, "enabled", false);
	dmn_st_list(it, "hops");

	dmn_st_list(st, "gateways");
	CU_ASSERT_EQUAL(dmn_st_err(st), 0);
	return st;
}

static const char sample_text[] =
	"version: 0.1.0\n"
	"uptime:  1d 2h 3m 4s\n"
	"healthy: yes\n"
	"\n"
	"# server\n"
	"pid:    4242\n"
	"config: /etc/stc/community.xml\n"
	"tls:\n"
	"  cipher:    AES-256-GCM\n"
	"  handshake: 250ms\n"
	"\n"
	"# communities\n"
	"- name:       chicago\n"
	"  enabled:    yes\n"
	"  rx:         -1\n"
	"  last_error: tls: \"bad\"\\x0acert\n"
	"- name:    boston\n"
	"  enabled: no\n"
	"  hops: (none)\n"
	"\n"
	"# gateways\n"
	"(none)\n";

static void test_status_text(void)
{
	struct dmn_st *st = sample_tree();
	char *s = NULL;

	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_text, st), 0);
	CU_ASSERT_STRING_EQUAL(s, sample_text);
	if (strcmp(s, sample_text))
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", s, sample_text);
	mem_deref(s);

	/* nested lists inside sections indent further */
	{
		struct dmn_st *root = NULL, *sec, *l, *it;
		static const char want[] =
			"# links\n"
			"peers:\n"
			"  - addr: 127.0.0.1\n"
			"    up:   yes\n"
			"  - (empty)\n";

		CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&root), 0);
		sec = dmn_st_section(root, "links");
		l = dmn_st_list(sec, "peers");
		it = dmn_st_item(l);
		dmn_st_str(it, "addr", "127.0.0.1");
		dmn_st_bool(it, "up", true);
		dmn_st_item(l);
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_text, root), 0);
		CU_ASSERT_STRING_EQUAL(s, want);
		mem_deref(s);
		mem_deref(root);
	}
	mem_deref(st);
}

static int print_mb(const char *p, size_t size, void *arg)
{
	return mbuf_write_mem(arg, (const uint8_t *)p, size);
}

/* A summary built from the sample tree, as the daemons build theirs. */
static int sample_sum(struct dmn_st **sump, const struct dmn_st *st,
		      void *arg)
{
	const struct dmn_st *l = dmn_st_get(st, "communities"), *it;
	struct dmn_st *sum = NULL, *o;
	int err = dmn_st_alloc(&sum);

	(void)arg;
	if (err)
		return err;
	dmn_st_strf(sum, "uptime", "%H", dmn_st_pvalue,
		    (void *)dmn_st_get(st, "uptime"));
	dmn_st_strf(sum, "pid", "%lld",
		    (long long)dmn_st_geti(st, "server.pid"));
	o = dmn_st_section(sum, "communities");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it))
		dmn_st_strf(o, dmn_st_gets(it, "name"), "%s",
			    dmn_st_geti(it, "enabled") ? "on" : "off");
	dmn_sum_more(sum, st);
	*sump = sum;
	return dmn_st_err(sum);
}

static int answer(char **sp, struct dmn_st *st, const char *words)
{
	char buf[128], *argv[8];
	int argc = 0, rc = -1;
	char *w;

	re_snprintf(buf, sizeof(buf), "%s", words);
	for (w = strtok(buf, " "); w && argc < 8; w = strtok(NULL, " "))
		argv[argc++] = w;
	{
		struct mbuf *mb = mbuf_alloc(512);
		struct re_printf pf = {print_mb, mb};

		rc = dmn_st_answer(&pf, st, argc, argv, sample_sum, NULL);
		mb->pos = 0;
		(void)mbuf_strdup(mb, sp, mb->end);
		mem_deref(mb);
	}
	return rc;
}

static void test_status_summary(void)
{
	struct dmn_st *st = sample_tree();
	char *s = NULL;

	/* reading back */
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(st, "server.config"),
			       "/etc/stc/community.xml");
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(st, "server.nosuch"), "");
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(st, "server.pid"), "");
	CU_ASSERT_EQUAL(dmn_st_geti(st, "server.pid"), 4242);
	CU_ASSERT_EQUAL(dmn_st_geti(st, "server.tls.handshake"), 250);
	CU_ASSERT_EQUAL(dmn_st_geti(st, "healthy"), 1);
	CU_ASSERT_PTR_NULL(dmn_st_get(st, "version.x"));
	CU_ASSERT_PTR_NULL(dmn_st_next(dmn_st_get(st, "gateways"), NULL));

	/* no word: the summary; --all and SECTION: the tree */
	CU_ASSERT_EQUAL(answer(&s, st, "status"), DMN_EXIT_OK);
	CU_ASSERT_STRING_EQUAL(s,
		"uptime: 1d 2h 3m 4s\n"
		"pid:    4242\n"
		"communities:\n"
		"  chicago: on\n"
		"  boston:  off\n"
		"more:   status --all; status SECTION: server, communities, "
		"gateways\n");
	s = mem_deref(s);
	CU_ASSERT_EQUAL(answer(&s, st, "status --all"), DMN_EXIT_OK);
	CU_ASSERT_STRING_EQUAL(s, sample_text);
	s = mem_deref(s);
	CU_ASSERT_EQUAL(answer(&s, st, "status --json"), DMN_EXIT_OK);
	CU_ASSERT_EQUAL(s[0], '{');
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"communities\":[{"));
	s = mem_deref(s);
	CU_ASSERT_EQUAL(answer(&s, st, "status gateways"), DMN_EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "# gateways\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "# server"));
	s = mem_deref(s);
	mem_deref(st);
}

static void test_sum_refused(void)
{
	static const char *const names[] = {"a", "b", "c", "d", "e"};
	struct dmn_st *sum = NULL;
	const int64_t none[] = {0, 0, 0, 0, 0};
	const int64_t two[] = {0, 3, 0, 5, 0};
	const int64_t five[] = {1, 2, 7, 2, 1};

	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&sum), 0);
	dmn_sum_refused(sum, "none", names, none, 5);
	dmn_sum_refused(sum, "two", names, two, 5);
	dmn_sum_refused(sum, "five", names, five, 5);
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(sum, "none"), "none");
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(sum, "two"), "8: d 5, b 3");
	/* the largest first; among equals the first named */
	CU_ASSERT_STRING_EQUAL(dmn_st_gets(sum, "five"),
			       "13: c 7, b 2, d 2 (+2 more reasons)");
	mem_deref(sum);
}

static void test_status_json_escape(void)
{
	static const struct {
		const char *p;
		size_t len;
		const char *want;
	} tv[] = {
#define S(x) x, sizeof(x) - 1
		{S("plain"), "{\"k\":\"plain\"}\n"},
		{S("q\"b\\s/"), "{\"k\":\"q\\\"b\\\\s/\"}\n"},
		{S("\b\f\n\r\t"), "{\"k\":\"\\b\\f\\n\\r\\t\"}\n"},
		{S("\x01\x1f\x7f"), "{\"k\":\"\\u0001\\u001f\\u007f\"}\n"},
		{S("a\0b"), "{\"k\":\"a\\u0000b\"}\n"},
		{S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		 "{\"k\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n"},
		{S("\xff"), "{\"k\":\"\\ufffd\"}\n"},
		{S("x\xc3"), "{\"k\":\"x\\ufffd\"}\n"},
		{S("\xc0\xaf"), "{\"k\":\"\\ufffd\\ufffd\"}\n"},
		{S("\xed\xa0\x80"), "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}\n"},
		{S("\xf4\x90\x80\x80"),
		 "{\"k\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}\n"},
		{S(""), "{\"k\":\"\"}\n"},
#undef S
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct dmn_st *st = NULL;
		char *s = NULL;

		CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&st), 0);
		CU_ASSERT_EQUAL(dmn_st_strn(st, "k", tv[i].p, tv[i].len), 0);
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, st), 0);
		CU_ASSERT_STRING_EQUAL(s, tv[i].want);
		mem_deref(s);
		mem_deref(st);
	}

	/* the same string alone, as the audit log writes its fields */
	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		const struct pl pl = {tv[i].p, tv[i].len};
		char *s = NULL, want[64];
		size_t n = strlen(tv[i].want);

		/* {"k":X}\n -> X */
		CU_ASSERT_FATAL(n > 7 && n - 6 < sizeof(want));
		memcpy(want, tv[i].want + 5, n - 7);
		want[n - 7] = '\0';
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", dmn_json_pl, &pl), 0);
		CU_ASSERT_STRING_EQUAL(s, want);
		mem_deref(s);
	}

	/* numbers and booleans */
	{
		struct dmn_st *st = NULL;
		char *s = NULL;

		CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&st), 0);
		dmn_st_int(st, "min", INT64_MIN);
		dmn_st_int(st, "max", INT64_MAX);
		dmn_st_bool(st, "t", true);
		dmn_st_bool(st, "f", false);
		dmn_st_dur(st, "d1", 1250);
		dmn_st_dur(st, "d2", 3000);
		dmn_st_dur(st, "d3", 5);
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, st), 0);
		CU_ASSERT_STRING_EQUAL(s, "{\"min\":-9223372036854775808,"
				       "\"max\":9223372036854775807,"
				       "\"t\":true,\"f\":false,\"d1\":1.250,"
				       "\"d2\":3,\"d3\":0.005}\n");
		mem_deref(s);
		mem_deref(st);
	}
}

static void test_status_json_parse(void)
{
	const char *dir = cutest_tmpdir("dmn_json");
	struct dmn_st *st = sample_tree();
	char path[4200], out[4096];
	char *s = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/status.json", dir);

	/* control characters, quotes and UTF-8 in a nested list item */
	dmn_st_str(dmn_st_item(dmn_st_list(dmn_st_section(st, "extra"),
					   "odd")),
		   "v", "\x01q\"\\\tn\xc3\xa9\xff");
	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, st), 0);
	write_file(path, s);
	mem_deref(s);

	CU_ASSERT_EQUAL(json_tool(path, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"{\"communities\":[{\"enabled\":true,"
		"\"last_error\":\"tls: \\\"bad\\\"\\ncert\",\"name\":\"chicago\","
		"\"rx\":-1},{\"enabled\":false,\"hops\":[],\"name\":\"boston\"}],"
		"\"extra\":{\"odd\":[{\"v\":\"\\u0001q\\\"\\\\\\tn\xc3\xa9"
		"\xef\xbf\xbd\"}]},"
		"\"gateways\":[],\"healthy\":true,"
		"\"server\":{\"config\":\"/etc/stc/community.xml\","
		"\"pid\":4242,\"tls\":{\"cipher\":\"AES-256-GCM\","
		"\"handshake\":0.25}},\"uptime\":93784,\"version\":\"0.1.0\"}\n");

	/* the parser is real: broken JSON is refused */
	write_file(path, "{\"a\":\"x\ny\"}");
	CU_ASSERT_NOT_EQUAL(json_tool(path, out, sizeof(out)), 0);

	mem_deref(st);
}

/* Word lists print on one line for people and as a JSON array; a
 * status SECTION keeps the top-level lines and that section only. */
static void test_status_words_pick(void)
{
	static const char *const why[] = {"reload", "link"};
	struct dmn_st *root = NULL, *sec;
	const char *keys[] = {"links"}, *bad = NULL, *nokey[] = {"nosuch"};
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&root), 0);
	dmn_st_str(root, "health", "degraded");
	CU_ASSERT_EQUAL(dmn_st_words(root, "degraded_because", why, 2), 0);
	CU_ASSERT_EQUAL(dmn_st_words(root, "none", NULL, 0), 0);
	sec = dmn_st_section(root, "config");
	dmn_st_str(sec, "file", "/f");
	sec = dmn_st_section(root, "links");
	dmn_st_int(sec, "up", 1);

	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_text, root), 0);
	CU_ASSERT_STRING_EQUAL(s, "health:           degraded\n"
			       "degraded_because: reload, link\n"
			       "none:             (none)\n"
			       "\n# config\nfile: /f\n\n# links\nup: 1\n");
	s = mem_deref(s);
	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, root), 0);
	CU_ASSERT_STRING_EQUAL(s, "{\"health\":\"degraded\","
			       "\"degraded_because\":[\"reload\",\"link\"],"
			       "\"none\":[],\"config\":{\"file\":\"/f\"},"
			       "\"links\":{\"up\":1}}\n");
	s = mem_deref(s);

	CU_ASSERT_EQUAL(dmn_st_pick(root, nokey, 1, &bad), ENOENT);
	CU_ASSERT_PTR_EQUAL(bad, nokey[0]);
	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", dmn_st_sections, root), 0);
	CU_ASSERT_STRING_EQUAL(s, "config, links");
	s = mem_deref(s);

	CU_ASSERT_EQUAL(dmn_st_pick(root, keys, 1, NULL), 0);
	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, root), 0);
	CU_ASSERT_STRING_EQUAL(s, "{\"health\":\"degraded\","
			       "\"degraded_because\":[\"reload\",\"link\"],"
			       "\"none\":[],\"links\":{\"up\":1}}\n");
	mem_deref(s);
	mem_deref(root);
}

static int h_metrics(struct re_printf *pf, void *arg)
{
	return dmn_st_metrics(pf, arg, "stx");
}

/* The Prometheus exposition: names from the tree, base units, labels
 * from list items, refusals by reason, one TYPE line per name. */
static void test_status_metrics(void)
{
	static const char want[] =
		"# HELP stx_comms_msgs stx status: comms_msgs\n"
		"# TYPE stx_comms_msgs gauge\n"
		"stx_comms_msgs{comm=\"a\\\"b\",transport=\"tls\"} 3\n"
		"stx_comms_msgs{index=\"1\"} 4\n"
		"# HELP stx_comms_rejections stx status: comms_rejections\n"
		"# TYPE stx_comms_rejections gauge\n"
		"stx_comms_rejections{comm=\"a\\\"b\",transport=\"tls\","
		"reason=\"not-local\"} 2\n"
		"# HELP stx_dir_avg_seconds stx status: dir_avg_seconds\n"
		"# TYPE stx_dir_avg_seconds gauge\n"
		"stx_dir_avg_seconds 0.001500\n"
		"# HELP stx_dir_up stx status: dir_up\n"
		"# TYPE stx_dir_up gauge\n"
		"stx_dir_up 1\n"
		"# HELP stx_uptime_seconds stx status: uptime_seconds\n"
		"# TYPE stx_uptime_seconds gauge\n"
		"stx_uptime_seconds 61.250\n";
	struct dmn_st *root = NULL, *l, *it, *sec;
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&root), 0);
	dmn_st_str(root, "version", "1");
	dmn_st_dur(root, "uptime", 61250);
	l = dmn_st_list(root, "comms");
	it = dmn_st_item(l);
	dmn_st_str(it, "name", "a\"b");
	dmn_st_str(it, "transport", "tls");
	dmn_st_int(it, "msgs", 3);
	sec = dmn_st_section(it, "rejections");
	dmn_st_int(sec, "not-local", 2);
	it = dmn_st_item(l);
	dmn_st_int(it, "msgs", 4);
	sec = dmn_st_section(root, "dir");
	dmn_st_bool(sec, "up", true);
	dmn_st_int(sec, "avg_us", 1500);

	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_metrics, root), 0);
	CU_ASSERT_STRING_EQUAL(s, want);
	if (strcmp(s, want))
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", s, want);
	mem_deref(s);
	mem_deref(root);
}

/* Decimals: for people and JSON as short as they can be, for
 * Prometheus with three fraction digits. */
static void test_status_milli(void)
{
	static const struct {
		int64_t v;
		const char *text;
	} tv[] = {
		{0, "0"}, {4900, "4.9"}, {50, "0.05"}, {12000, "12"},
		{1, "0.001"}, {-2500, "-2.5"}, {123456, "123.456"},
	};
	struct dmn_st *root;
	char *s = NULL, want[64];
	size_t i;

	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		root = NULL;
		CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&root), 0);
		CU_ASSERT_EQUAL(dmn_st_milli(root, "rate", tv[i].v), 0);
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_json, root), 0);
		re_snprintf(want, sizeof(want), "{\"rate\":%s}\n", tv[i].text);
		CU_ASSERT_STRING_EQUAL(s, want);
		if (strcmp(s, want))
			fprintf(stderr, "\n--- got:\n%s--- want:\n%s", s, want);
		s = mem_deref(s);
		CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_text, root), 0);
		re_snprintf(want, sizeof(want), "rate: %s\n", tv[i].text);
		CU_ASSERT_STRING_EQUAL(s, want);
		if (strcmp(s, want))
			fprintf(stderr, "\n--- got:\n%s--- want:\n%s", s, want);
		s = mem_deref(s);
		mem_deref(root);
	}

	root = NULL;
	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&root), 0);
	dmn_st_milli(root, "notify_out_per_s", 4900);
	CU_ASSERT_EQUAL(re_sdprintf(&s, "%H", h_metrics, root), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\nstx_notify_out_per_s 4.900\n"));
	mem_deref(s);
	mem_deref(root);
}

static void test_status_errors(void)
{
	struct dmn_st *st = NULL, *list;
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(dmn_st_alloc(&st), 0);
	list = dmn_st_list(st, "l");
	/* a scalar straight into a list is a builder bug */
	CU_ASSERT_EQUAL(dmn_st_int(list, "x", 1), EINVAL);
	CU_ASSERT_PTR_NULL(dmn_st_item(st));
	CU_ASSERT_EQUAL(dmn_st_err(st), EINVAL);
	/* a NULL parent does not crash and keeps the first error */
	CU_ASSERT_EQUAL(dmn_st_str(NULL, "k", "v"), EINVAL);
	CU_ASSERT_PTR_NULL(dmn_st_section(NULL, "k"));
	CU_ASSERT_EQUAL(dmn_st_json(NULL, st), EINVAL);
	CU_ASSERT_NOT_EQUAL(re_sdprintf(&s, "%H", h_json, st), 0);
	mem_deref(s);
	mem_deref(st);
}

/* ------------------------------------------------------------------ */
/* PID file */

static pid_t pid_in(const char *path)
{
	char *s = read_file(path, NULL);
	pid_t p = s ? (pid_t)atol(s) : -1;

	free(s);
	return p;
}

static void test_pidfile(void)
{
	const char *dir = cutest_tmpdir("dmn_pid");
	struct dmn_pidfile *pf = NULL, *pf2 = NULL;
	char path[4200], want[128];
	pid_t holder = 0, child;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(path, sizeof(path), "%s/stc.pid", dir);
	cap_setup();

	CU_ASSERT_EQUAL_FATAL(dmn_pidfile_open(&pf, path, NULL), 0);
	CU_ASSERT_EQUAL(pid_in(path), getpid());

	/* a second instance, here and in another process */
	CU_ASSERT_EQUAL(dmn_pidfile_open(&pf2, path, &holder), EEXIST);
	CU_ASSERT_PTR_NULL(pf2);
	CU_ASSERT_EQUAL(holder, getpid());
	snprintf(want, sizeof(want), "pidfile: already running pid=%ld ",
		 (long)getpid());
	CU_ASSERT_TRUE(cap_has(want));

	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		pid_t h = 0;
		int err = dmn_pidfile_open(&pf2, path, &h);

		_exit(err == EEXIST && h == getppid() ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(child, &st, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(pid_in(path), getpid());	/* untouched */

	/* clean exit removes it */
	pf = mem_deref(pf);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);

	/* a process that dies holding it leaves a stale file behind */
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		struct dmn_pidfile *p = NULL;

		_exit(dmn_pidfile_open(&p, path, NULL) ? 1 : 0);
	}
	CU_ASSERT_EQUAL(waitpid(child, &st, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_EQUAL(pid_in(path), child);

	CU_ASSERT_EQUAL(dmn_pidfile_open(&pf, path, NULL), 0);
	CU_ASSERT_EQUAL(pid_in(path), getpid());
	pf = mem_deref(pf);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);

	/* garbage in a stale file does not matter either */
	write_file(path, "not a pid\n");
	CU_ASSERT_EQUAL(dmn_pidfile_open(&pf, path, NULL), 0);
	CU_ASSERT_EQUAL(pid_in(path), getpid());
	pf = mem_deref(pf);

	/* a directory that does not exist is a clear error */
	snprintf(path, sizeof(path), "%s/no/such/dir.pid", dir);
	CU_ASSERT_EQUAL(dmn_pidfile_open(&pf, path, NULL), ENOENT);
	CU_ASSERT_TRUE(cap_has("pidfile: cannot open path="));
	cap_teardown();
}

/* ------------------------------------------------------------------ */
/* Privilege drop */

static void test_priv(void)
{
	const struct passwd *pw = getpwnam("nobody");
	pid_t child;
	int st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	cap_setup();

	CU_ASSERT_EQUAL(dmn_priv_drop("no-such-user-stc"), ENOENT);
	CU_ASSERT_TRUE(cap_has("priv: unknown user=no-such-user-stc"));
	CU_ASSERT_EQUAL(dmn_priv_drop("root"), EINVAL);

	CU_ASSERT_EQUAL(dmn_priv_drop(NULL), 0);
	if (geteuid() == 0) {
		CU_ASSERT_TRUE(cap_has("priv: no user configured, "
				       "keeping root"));
	}
	else {
		CU_ASSERT_TRUE(cap_has("priv: not root, nothing to drop"));
	}
	CU_ASSERT_EQUAL(geteuid() == 0, getuid() == 0);	/* unchanged */

	if (geteuid() != 0) {
		/* without root, switching user is refused, not faked */
		if (geteuid() != pw->pw_uid) {
			CU_ASSERT_EQUAL(dmn_priv_drop("nobody"), EPERM);
			CU_ASSERT_TRUE(cap_has("priv: not root, cannot "
					       "switch to user=nobody"));
		}
		cap_teardown();
		return;
	}

	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		uid_t r, e, s;
		gid_t rg, eg, sg, groups[4];
		int bad = 0;

		if (dmn_priv_drop("nobody") != 0)
			_exit(10);
		if (getresuid(&r, &e, &s) || r != pw->pw_uid ||
		    e != pw->pw_uid || s != pw->pw_uid)
			bad |= 1;
		if (getresgid(&rg, &eg, &sg) || rg != pw->pw_gid ||
		    eg != pw->pw_gid || sg != pw->pw_gid)
			bad |= 2;
		if (getgroups(4, groups) != 1 || groups[0] != pw->pw_gid)
			bad |= 4;
		if (setuid(0) != -1 || errno != EPERM)
			bad |= 8;
		if (seteuid(0) != -1)
			bad |= 16;
		/* what a root-only file says now */
		if (open("/etc/shadow", O_RDONLY) != -1 || errno != EACCES)
			bad |= 32;
		_exit(bad);
	}
	CU_ASSERT_EQUAL(waitpid(child, &st, 0), child);
	CU_ASSERT_TRUE(WIFEXITED(st));
	CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
	CU_ASSERT_EQUAL(geteuid(), 0);	/* the parent kept root */
	cap_teardown();
}

/* ------------------------------------------------------------------ */
/* Signals */

static int sig_reloads, sig_stops, sig_last;

static void on_reload(int sig, void *arg)
{
	(void)arg;
	sig_reloads++;
	sig_last = sig;
	raise(SIGTERM);		/* handled on the next loop pass */
}

static void on_stop(int sig, void *arg)
{
	(void)arg;
	sig_stops++;
	sig_last = sig;
	re_cancel();
}

static void test_signals(void)
{
	struct dmn_sig *s = NULL, *s2 = NULL;
	struct sigaction sa;

	cap_setup();
	CU_ASSERT_EQUAL_FATAL(dmn_sig_alloc(&s, on_reload, on_stop, NULL), 0);
	CU_ASSERT_EQUAL(dmn_sig_alloc(&s2, on_reload, on_stop, NULL),
			EALREADY);
	CU_ASSERT_EQUAL(sigaction(SIGPIPE, NULL, &sa), 0);
	CU_ASSERT_TRUE(sa.sa_handler == SIG_IGN);

	raise(SIGHUP);	/* waits in the pipe until the loop runs */
	CU_ASSERT_EQUAL(sig_reloads, 0);
	CU_ASSERT_EQUAL(re_main(NULL), 0);
	CU_ASSERT_EQUAL(sig_reloads, 1);
	CU_ASSERT_EQUAL(sig_stops, 1);
	CU_ASSERT_EQUAL(sig_last, SIGTERM);
	CU_ASSERT_TRUE(cap_has("sig: received signal=HUP"));
	CU_ASSERT_TRUE(cap_has("sig: received signal=TERM"));

	s = mem_deref(s);
	CU_ASSERT_EQUAL(sigaction(SIGHUP, NULL, &sa), 0);
	CU_ASSERT_TRUE(sa.sa_handler == SIG_DFL);
	cap_teardown();
}

/* ------------------------------------------------------------------ */
/* Control socket */

enum { BIG_LINES = 60000 };	/* about 1 MB: many partial writes */

static int cmd_status(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	struct dmn_st *st = sample_tree();
	int err;
	(void)peer;
	(void)arg;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json"))) {
		mem_deref(st);
		re_hprintf(pf, "usage: status [--json]\n");
		return DMN_EXIT_USAGE;
	}
	err = argc == 2 ? dmn_st_json(pf, st) : dmn_st_print(pf, st);
	mem_deref(st);
	return err ? DMN_EXIT_FAIL : DMN_EXIT_DEGRADED;
}

static int cmd_reset(struct re_printf *pf, int argc, char *argv[],
		     const struct dmn_ctl_peer *peer, void *arg)
{
	(void)arg;
	if (argc != 2) {
		re_hprintf(pf, "usage: reset NAME\n");
		return DMN_EXIT_USAGE;
	}
	re_hprintf(pf, "reset %s by uid %u\n", argv[1], (unsigned)peer->uid);
	return DMN_EXIT_OK;
}

static int cmd_dots(struct re_printf *pf, int argc, char *argv[],
		    const struct dmn_ctl_peer *peer, void *arg)
{
	(void)argc;
	(void)argv;
	(void)peer;
	(void)arg;
	re_hprintf(pf, ".exit 0\n..x\nmid.dle\n.");
	return 7;
}

static int cmd_big(struct re_printf *pf, int argc, char *argv[],
		   const struct dmn_ctl_peer *peer, void *arg)
{
	int i;
	(void)argc;
	(void)argv;
	(void)peer;
	(void)arg;
	for (i = 0; i < BIG_LINES; i++)
		re_hprintf(pf, "line %08d\n", i);
	return DMN_EXIT_OK;
}

static const struct dmn_ctl_cmd ctl_cmds[] = {
	{"status", "[--json]", "show the daemon's state", DMN_CTL_ANY,
	 cmd_status},
	{"reset", "NAME", "reset counters of NAME", DMN_CTL_OWNER, cmd_reset},
	{"dots", NULL, "print lines that look like framing", DMN_CTL_ANY,
	 cmd_dots},
	{"big", NULL, "print about a megabyte", DMN_CTL_ANY, cmd_big},
};

struct ctl_test {
	char dir[4096];
	char sock[4200];
	int rfd;		/* results from the client process */
	char res[8192];
	size_t reslen;
	struct tmr watchdog;
	bool timed_out;
};

static void results_h(int flags, void *arg)
{
	struct ctl_test *t = arg;
	ssize_t n;
	(void)flags;

	n = read(t->rfd, t->res + t->reslen, sizeof(t->res) - 1 - t->reslen);
	if (n > 0) {
		t->reslen += (size_t)n;
		t->res[t->reslen] = '\0';
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	fd_close(t->rfd);
	re_cancel();	/* the client is done */
}

static void watchdog_h(void *arg)
{
	struct ctl_test *t = arg;

	t->timed_out = true;
	re_cancel();
}

/* Client side: "name rc status" per request, to the results pipe. */
static void report(int fd, const char *name, int rc, int status)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %d %d\n", name, rc, status);

	(void)!write(fd, line, (size_t)n);
}

static void req(int fd, const struct ctl_test *t, const char *name,
		const char *line, bool keep)
{
	char path[4300];
	FILE *out = NULL;
	int status = -1, rc;

	if (keep) {
		snprintf(path, sizeof(path), "%s/out.%s", t->dir, name);
		out = fopen(path, "w");
	}
	rc = dmn_ctl_request(t->sock, line, out, 20000, &status);
	if (out)
		fclose(out);
	report(fd, name, rc, status);
}

/* A raw request: bytes as given, answer saved verbatim. */
static void raw(int fd, const struct ctl_test *t, const char *name,
		const char *bytes, size_t len)
{
	struct sockaddr_un sun;
	char path[4300], buf[4096];
	ssize_t n;
	FILE *out;
	int s;

	snprintf(path, sizeof(path), "%s/out.%s", t->dir, name);
	out = fopen(path, "w");
	sun_set(&sun, t->sock);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (!out || s < 0 ||
	    connect(s, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		report(fd, name, errno, -1);
		goto done;
	}
	(void)!write(s, bytes, len);
	while ((n = read(s, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	/* the daemon closed with our excess bytes unread: that is a
	 * reset after its answer, not an error in it */
	report(fd, name, n < 0 && errno != ECONNRESET ? errno : 0, 0);
 done:
	if (s >= 0)
		close(s);
	if (out)
		fclose(out);
}

/* As nobody, in a grandchild: can we talk to the daemon at all? */
static void as_nobody(int fd, const struct ctl_test *t, const char *tag)
{
	pid_t gc = fork();

	if (gc == 0) {
		char name[64];
		int status = -1, rc;

		if (dmn_priv_drop("nobody") != 0)
			_exit(1);
		snprintf(name, sizeof(name), "%s-status", tag);
		rc = dmn_ctl_request(t->sock, "status", NULL, 20000, &status);
		report(fd, name, rc, status);
		snprintf(name, sizeof(name), "%s-reset", tag);
		rc = dmn_ctl_request(t->sock, "reset chicago", NULL, 20000,
				     &status);
		report(fd, name, rc, status);
		_exit(0);
	}
	if (gc > 0)
		waitpid(gc, NULL, 0);
}

static void client_main(int fd, struct ctl_test *t)
{
	char longline[DMN_CTL_LINE_MAX + 100];
	int conns[DMN_CTL_CLIENTS_MAX];
	char path[4300];
	int i;

	req(fd, t, "status", "status", true);
	req(fd, t, "json", "status --json", true);
	req(fd, t, "badarg", "status --xml", true);
	req(fd, t, "unknown", "frobnicate now", true);
	req(fd, t, "empty", "   ", true);
	req(fd, t, "help", "help", true);
	req(fd, t, "reset", "reset chicago", true);
	req(fd, t, "dots", "dots", true);
	req(fd, t, "big", "big", true);

	memset(longline, 'a', sizeof(longline));
	raw(fd, t, "long", longline, sizeof(longline));
	raw(fd, t, "ctlchar", "status\x1b[2J\n", 11);
	raw(fd, t, "nul", "sta\0tus\n", 8);
	longline[DMN_CTL_LINE_MAX] = '\0';
	req(fd, t, "longlocal", longline, false);

	if (geteuid() == 0) {
		/* let nobody reach the socket; only its mode decides */
		chmod(t->dir, 0711);
		as_nobody(fd, t, "mode0600");
		chmod(t->sock, 0666);
		as_nobody(fd, t, "mode0666");
		chmod(t->sock, 0600);
	}

	/* nobody there */
	snprintf(path, sizeof(path), "%s/none.sock", t->dir);
	{
		int status = -1, rc;

		rc = dmn_ctl_request(path, "status", NULL, 2000, &status);
		report(fd, "nosock", rc, dmn_ctl_exit_code(rc, status));
	}

	/* every slot taken: the next client is told so, not left hanging */
	for (i = 0; i < DMN_CTL_CLIENTS_MAX; i++) {
		struct sockaddr_un sun;

		sun_set(&sun, t->sock);
		conns[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(conns[i], (struct sockaddr *)&sun,
			    sizeof(sun)) != 0)
			report(fd, "slot", errno, i);
	}
	req(fd, t, "busy", "status", true);
	for (i = 0; i < DMN_CTL_CLIENTS_MAX; i++)
		close(conns[i]);
}

static bool result(const struct ctl_test *t, const char *name, int *rc,
		   int *status)
{
	char key[80];
	const char *p;

	snprintf(key, sizeof(key), "%s ", name);
	for (p = t->res; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1
						       : NULL) {
		if (!strncmp(p, key, strlen(key)))
			return sscanf(p + strlen(key), "%d %d", rc,
				      status) == 2;
	}
	return false;
}

static void expect(const struct ctl_test *t, const char *name, int rc,
		   int status, const char *text)
{
	int grc = -1, gst = -1;
	char path[4300];
	char *s;

	CU_ASSERT_TRUE(result(t, name, &grc, &gst));
	CU_ASSERT_EQUAL(grc, rc);
	CU_ASSERT_EQUAL(gst, status);
	if (grc != rc || gst != status)
		fprintf(stderr, "\n%s: rc=%d status=%d\n", name, grc, gst);
	if (!text)
		return;
	snprintf(path, sizeof(path), "%s/out.%s", t->dir, name);
	s = read_file(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, text);
	if (strcmp(s, text))
		fprintf(stderr, "\n%s: got [%s]\n", name, s);
	free(s);
}

static void test_ctl_roundtrip(void)
{
	struct ctl_test t;
	struct dmn_ctl *ctl = NULL, *ctl2 = NULL;
	struct stat sb;
	char path[4300], json[4096];
	int pfd[2], wst;
	pid_t child;
	char *s;
	size_t len;

	memset(&t, 0, sizeof(t));
	snprintf(t.dir, sizeof(t.dir), "%s", cutest_tmpdir("dmn_ctl"));
	snprintf(t.sock, sizeof(t.sock), "%s/ctl.sock", t.dir);
	cap_setup();

	CU_ASSERT_EQUAL_FATAL(dmn_ctl_listen(&ctl, t.sock, ctl_cmds,
					     ARRAY_SIZE(ctl_cmds), NULL), 0);
	CU_ASSERT_EQUAL(lstat(t.sock, &sb), 0);
	CU_ASSERT_TRUE(S_ISSOCK(sb.st_mode));
	CU_ASSERT_EQUAL(sb.st_mode & 07777, 0600);

	/* a live daemon's socket is not stolen */
	CU_ASSERT_EQUAL(dmn_ctl_listen(&ctl2, t.sock, ctl_cmds, 1, NULL),
			EADDRINUSE);
	CU_ASSERT_PTR_NULL(ctl2);
	CU_ASSERT_EQUAL(access(t.sock, F_OK), 0);

	CU_ASSERT_EQUAL_FATAL(pipe2(pfd, O_CLOEXEC), 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		close(pfd[0]);
		client_main(pfd[1], &t);
		_exit(0);
	}
	close(pfd[1]);
	t.rfd = pfd[0];
	fcntl(t.rfd, F_SETFL, O_NONBLOCK);
	CU_ASSERT_EQUAL(fd_listen(t.rfd, FD_READ, results_h, &t), 0);
	tmr_init(&t.watchdog);
	tmr_start(&t.watchdog, 60000, watchdog_h, &t);

	CU_ASSERT_EQUAL(re_main(NULL), 0);

	tmr_cancel(&t.watchdog);
	fd_close(t.rfd);
	close(t.rfd);
	CU_ASSERT_EQUAL(waitpid(child, &wst, 0), child);
	CU_ASSERT_FALSE(t.timed_out);

	expect(&t, "status", 0, DMN_EXIT_DEGRADED, sample_text);
	expect(&t, "badarg", 0, DMN_EXIT_USAGE, "usage: status [--json]\n");
	expect(&t, "unknown", 0, DMN_EXIT_USAGE,
	       "error: unknown command: frobnicate (try: help)\n");
	expect(&t, "empty", 0, DMN_EXIT_USAGE,
	       "error: empty request (try: help)\n");
	expect(&t, "help", 0, DMN_EXIT_OK,
	       "help             list the commands\n"
	       "status [--json]  show the daemon's state\n"
	       "reset NAME       reset counters of NAME (root only)\n"
	       "dots             print lines that look like framing\n"
	       "big              print about a megabyte\n");
	snprintf(json, sizeof(json), "reset chicago by uid %u\n",
		 (unsigned)getuid());
	expect(&t, "reset", 0, DMN_EXIT_OK, json);
	/* output cannot forge the end of the answer */
	expect(&t, "dots", 0, 7, ".exit 0\n..x\nmid.dle\n.\n");
	expect(&t, "long", 0, 0, "error: request line too long "
	       "(max 512 bytes)\n.exit 2\n");
	expect(&t, "ctlchar", 0, 0, "error: control characters in request\n"
	       ".exit 2\n");
	expect(&t, "nul", 0, 0, "error: NUL byte in request\n.exit 2\n");
	expect(&t, "longlocal", EMSGSIZE, -1, NULL);
	expect(&t, "nosock", ENOTCONN, DMN_EXIT_NOTRUNNING, NULL);
	expect(&t, "busy", 0, DMN_EXIT_FAIL,
	       "error: too many control clients\n");
	CU_ASSERT_FALSE(result(&t, "slot", &wst, &wst));

	if (geteuid() == 0) {
		/* 0600 keeps others out at the file system ... */
		expect(&t, "mode0600-status", EACCES, -1, NULL);
		CU_ASSERT_EQUAL(dmn_ctl_exit_code(EACCES, -1),
				DMN_EXIT_DENIED);
		/* ... and the table still guards root-only commands */
		expect(&t, "mode0666-status", 0, DMN_EXIT_DEGRADED, NULL);
		expect(&t, "mode0666-reset", 0, DMN_EXIT_DENIED, NULL);
		CU_ASSERT_TRUE(cap_has("ctl: refused reason=permission "
				       "command=reset"));
	}

	/* JSON over the socket parses */
	snprintf(path, sizeof(path), "%s/out.json", t.dir);
	expect(&t, "json", 0, DMN_EXIT_DEGRADED, NULL);
	CU_ASSERT_EQUAL(json_tool(path, json, sizeof(json)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"name\":\"chicago\""));

	/* a megabyte arrives whole and in order */
	snprintf(path, sizeof(path), "%s/out.big", t.dir);
	expect(&t, "big", 0, DMN_EXIT_OK, NULL);
	s = read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(len, (size_t)BIG_LINES * 14);
	if (len == (size_t)BIG_LINES * 14) {
		int i, bad = 0;

		for (i = 0; i < BIG_LINES; i++) {
			char want[16];

			snprintf(want, sizeof(want), "line %08d\n", i);
			bad += memcmp(s + (size_t)i * 14, want, 14) != 0;
		}
		CU_ASSERT_EQUAL(bad, 0);
	}
	free(s);

	CU_ASSERT_TRUE(cap_has("ctl: refused reason=line-too-long"));
	CU_ASSERT_TRUE(cap_has("ctl: refused reason=too-many-clients"));

	ctl = mem_deref(ctl);
	CU_ASSERT_EQUAL(access(t.sock, F_OK), -1);	/* removed */
	cap_teardown();
}

static void test_ctl_stale_and_absent(void)
{
	const char *dir = cutest_tmpdir("dmn_stale");
	struct dmn_ctl *ctl = NULL;
	struct sockaddr_un sun;
	char sock[4200], file[4200], lng[300];
	int s, status = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	snprintf(sock, sizeof(sock), "%s/stale.sock", dir);
	cap_setup();

	/* nothing at the path: "not running", the CLI exits 3 */
	CU_ASSERT_EQUAL(dmn_ctl_request(sock, "status", NULL, 1000, &status),
			ENOTCONN);
	CU_ASSERT_EQUAL(dmn_ctl_exit_code(ENOTCONN, 0), 3);

	/* a socket file left by a crashed daemon */
	sun_set(&sun, sock);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(s, (struct sockaddr *)&sun, sizeof(sun)),
			      0);
	close(s);
	CU_ASSERT_EQUAL(dmn_ctl_request(sock, "status", NULL, 1000, &status),
			ENOTCONN);

	/* ... is replaced when the daemon starts again */
	CU_ASSERT_EQUAL(dmn_ctl_listen(&ctl, sock, ctl_cmds, 1, NULL), 0);
	CU_ASSERT_TRUE(cap_has("ctl: replaced stale socket"));
	ctl = mem_deref(ctl);

	/* a daemon that accepts but never answers: timeout, exit 5 */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(s, (struct sockaddr *)&sun, sizeof(sun)),
			      0);
	CU_ASSERT_EQUAL(listen(s, 4), 0);
	CU_ASSERT_EQUAL(dmn_ctl_request(sock, "status", NULL, 200, &status),
			ETIMEDOUT);
	CU_ASSERT_EQUAL(dmn_ctl_exit_code(ETIMEDOUT, 0), DMN_EXIT_FAIL);
	close(s);
	unlink(sock);

	/* what is not a socket is never removed */
	snprintf(file, sizeof(file), "%s/plain", dir);
	write_file(file, "keep me\n");
	CU_ASSERT_EQUAL(dmn_ctl_listen(&ctl, file, ctl_cmds, 1, NULL),
			EEXIST);
	CU_ASSERT_EQUAL(access(file, F_OK), 0);

	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	CU_ASSERT_EQUAL(dmn_ctl_listen(&ctl, lng, ctl_cmds, 1, NULL),
			ENAMETOOLONG);
	CU_ASSERT_EQUAL(dmn_ctl_request(sock, "bad\nline", NULL, 100,
					&status), EINVAL);
	cap_teardown();
}

/* ------------------------------------------------------------------ */

/* The "pending restart: ..." list: words joined by ", ", cut at the
 * buffer, never overrun. */
static void test_words_add(void)
{
	char buf[16];

	buf[0] = '\0';
	dmn_words_add(buf, sizeof(buf), "control");
	CU_ASSERT_STRING_EQUAL(buf, "control");
	dmn_words_add(buf, sizeof(buf), "user");
	CU_ASSERT_STRING_EQUAL(buf, "control, user");
	dmn_words_add(buf, sizeof(buf), "pidFile");
	CU_ASSERT_STRING_EQUAL(buf, "control, user, ");
	dmn_words_add(buf, sizeof(buf), "Dns");
	CU_ASSERT_STRING_EQUAL(buf, "control, user, ");
	dmn_words_add(NULL, 4, "x");
	dmn_words_add(buf, 0, "x");
	CU_ASSERT_STRING_EQUAL(buf, "control, user, ");
}

static CU_TestInfo log_tests[] = {
	{"string values are escaped", test_log_escape_table},
	{"numbers, errno, truncation", test_log_format_args},
	{"levels, warn vs warnx, libre diagnostics", test_log_sink_levels},
	{"token bucket", test_ratelim_bucket},
	{"rate-limited lines and suppressed=K", test_ratelim_log},
	{"secrets are masked", test_mask},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo status_tests[] = {
	{"pending-restart word list", test_words_add},
	{"human layout", test_status_text},
	{"summary by default, tree on request", test_status_summary},
	{"refusals by top reason", test_sum_refused},
	{"JSON escaping table", test_status_json_escape},
	{"JSON parses back", test_status_json_parse},
	{"builder errors stick", test_status_errors},
	{"word lists, sections on request", test_status_words_pick},
	{"Prometheus exposition", test_status_metrics},
	{"decimal numbers", test_status_milli},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo proc_tests[] = {
	{"PID file", test_pidfile},
	{"privilege drop", test_priv},
	{"signals into the loop", test_signals},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo ctl_tests[] = {
	{"round trip with a forked client", test_ctl_roundtrip},
	{"stale, absent and silent daemons", test_ctl_stale_and_absent},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"dmn_log", NULL, NULL, NULL, NULL, log_tests},
	{"dmn_status", NULL, NULL, NULL, NULL, status_tests},
	{"dmn_proc", NULL, NULL, NULL, NULL, proc_tests},
	{"dmn_ctl", NULL, NULL, NULL, NULL, ctl_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc, err;

	err = libre_init();
	if (err)
		return 99;
	fd_setsize(1024);
	dmn_log_open("test_dmn", true, DMN_LOG_INFO);

	rc = cutest_main(suites);

	dmn_log_close();
	libre_close();
	return rc;
}
