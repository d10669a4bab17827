/*
 * test_dir.c -- the directory module against a real slapd and against
 * the LDIF file backend, with the same data in both.
 *
 * The slapd runs as this program's child on 127.0.5.1 (ldap :13890,
 * ldaps :16360), its database loaded with slapadd from
 * conf/examples/acme.test.ldif + test/directory/edge.ldif; the file
 * backend reads that same concatenated file.  It is stopped by PID.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <stdbool.h>
#include <unistd.h>

#include <re.h>

#include "directory/dir.h"
#include "directory/dir_int.h"
#include "lib/cutest.h"

#define LDAP_IP      "127.0.5.1"
#define LDAP_PORT    13890
#define LDAPS_PORT   16360
#define URL_LDAP     "ldap://127.0.5.1:13890"
#define URL_LDAPS    "ldaps://127.0.5.1:16360"
#define URL_DEAD     "ldap://127.0.5.2:13890"

static char tdir[1024];
static char all_ldif[1200];
static pid_t slapd_pid = -1;

/* ---- helpers ---------------------------------------------------------- */

static void pathf(char *buf, size_t sz, const char *rel)
{
	snprintf(buf, sz, "%s/%s", tdir, rel);
}

static int port_open(const char *ip, int port)
{
	struct sockaddr_in sa;
	int fd, ok;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int slapd_start(void)
{
	char conf[1200], log[1200];
	int i;

	pathf(conf, sizeof(conf), "slapd.conf");
	pathf(log, sizeof(log), "slapd.log");

	slapd_pid = fork();
	if (slapd_pid < 0)
		return errno;
	if (slapd_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/sbin/slapd", "slapd", "-f", conf, "-h",
		      URL_LDAP "/ " URL_LDAPS "/", "-d", "0", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		if (port_open(LDAP_IP, LDAP_PORT) &&
		    port_open(LDAP_IP, LDAPS_PORT))
			return 0;
		usleep(50000);
	}
	return ETIMEDOUT;
}

static void slapd_stop(void)
{
	if (slapd_pid <= 0)
		return;
	kill(slapd_pid, SIGCONT);
	kill(slapd_pid, SIGTERM);
	waitpid(slapd_pid, NULL, 0);
	slapd_pid = -1;
}

/* One answer, copied out of the handler. */
struct got {
	bool done;
	int err;
	char value[512];
	char reason[512];
	char list[1024];
	enum cfg_privacy privacy;
	enum dir_secret secret;
	bool cached;
};

static void on_result(const struct dir_result *r, void *arg)
{
	struct got *g = arg;
	size_t i;

	g->done = true;
	g->err = r->err;
	snprintf(g->value, sizeof(g->value), "%s", r->value ? r->value : "");
	snprintf(g->reason, sizeof(g->reason), "%s",
		 r->reason ? r->reason : "");
	g->list[0] = '\0';
	for (i = 0; i < r->nlist; i++) {
		if (i)
			strncat(g->list, ",", sizeof(g->list) -
				strlen(g->list) - 1);
		strncat(g->list, r->list[i], sizeof(g->list) -
			strlen(g->list) - 1);
	}
	g->privacy = r->privacy;
	g->secret = r->secret;
	g->cached = r->cached;
	re_cancel();
}

static void on_timeout(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Ask and wait for the answer on the event loop (at most 15 s). */
static int askn(struct dir *d, enum dir_kind kind, const char *key,
		size_t len, struct got *g)
{
	struct tmr t;
	struct pl pl;
	int err;

	memset(g, 0, sizeof(*g));
	pl.p = key;
	pl.l = len;
	err = dir_lookup(d, kind, &pl, on_result, g);
	if (err)
		return err;
	if (!g->done) {
		tmr_init(&t);
		tmr_start(&t, 15000, on_timeout, NULL);
		re_main(NULL);
		tmr_cancel(&t);
	}
	return g->done ? 0 : ETIMEDOUT;
}

static int ask(struct dir *d, enum dir_kind kind, const char *key,
	       struct got *g)
{
	return askn(d, kind, key, strlen(key), g);
}

static void sleep_loop(unsigned ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, on_timeout, NULL);
	re_main(NULL);
	tmr_cancel(&t);
}

static char logbuf[4096];

static void on_log(const char *msg, void *arg)
{
	(void)arg;
	strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

static char *urlv_store[4];

static void cfg_init(struct cfg_directory *c)
{
	memset(c, 0, sizeof(*c));
	c->base = "dc=acme,dc=test";
	c->scope = CFG_SCOPE_SUB;
	c->attr_privacy = "description";
	c->privacy = CFG_PRIVACY_ALL;
	c->cache_size = 100;
	c->cache_ttl = 60;
	c->neg_ttl = 60;
	c->timeout_ms = 2000;
}

static void cfg_file(struct cfg_directory *c, const char *file)
{
	cfg_init(c);
	c->backend = CFG_DIR_FILE;
	c->file = (char *)file;
}

static char bindpw[1200], cafile[1200];

static void cfg_ldap(struct cfg_directory *c, const char *u1,
		     const char *u2)
{
	cfg_init(c);
	c->backend = CFG_DIR_LDAP;
	urlv_store[0] = (char *)u1;
	urlv_store[1] = (char *)u2;
	c->urls.v = urlv_store;
	c->urls.n = u2 ? 2 : 1;
	c->bind_dn = "cn=admin,dc=acme,dc=test";
	pathf(bindpw, sizeof(bindpw), "bindpw");
	pathf(cafile, sizeof(cafile), "certs/ca.pem");
	c->password_file = bindpw;
	c->ca_file = cafile;
}

static struct dir *open_dir(const struct cfg_directory *c)
{
	struct dir *d = NULL;
	char why[512] = "";
	int err;

	err = dir_alloc(&d, c, NULL, why, sizeof(why));
	if (err)
		fprintf(stderr, "dir_alloc: %s (%d)\n", why, err);
	CU_ASSERT_EQUAL(err, 0);
	if (d)
		dir_set_log(d, on_log, NULL);
	return d;
}

/* ---- the behaviour table, shared by both backends --------------------- */

struct qcase {
	enum dir_kind kind;
	const char *key;
	size_t len;            /* 0: strlen(key) */
	int err;
	const char *value;     /* NULL: not checked beyond being empty */
	const char *list;
};

static const struct qcase qcases[] = {
	/* both directions, case-insensitive */
	{DIR_EMAIL_OF, "asmith", 0, 0, "Alice.Smith@acme.test", ""},
	{DIR_EMAIL_OF, "ASmith", 0, 0, "Alice.Smith@acme.test", ""},
	{DIR_ID_OF, "Alice.Smith@acme.test", 0, 0, "asmith", ""},
	{DIR_ID_OF, "alice.smith@ACME.TEST", 0, 0, "asmith", ""},
	{DIR_EMAIL_OF, "bob", 0, 0, "bob@acme.test", ""},
	{DIR_ID_OF, "bob@acme.test", 0, 0, "bob", ""},
	/* unknown, no mail, ambiguous */
	{DIR_EMAIL_OF, "nobody", 0, ENOENT, "", ""},
	{DIR_ID_OF, "nobody@acme.test", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "dave", 0, ENODATA, "", ""},
	{DIR_ID_OF, "twin@acme.test", 0, ENOTUNIQ, "", ""},
	/* base64 in the LDIF, non-ASCII keys */
	{DIR_EMAIL_OF, "j\xc3\xbcrgen", 0, 0, "juergen@acme.test", ""},
	{DIR_ID_OF, "juergen@acme.test", 0, 0, "j\xc3\xbcrgen", ""},
	{DIR_EMAIL_OF, "j\xc3\xbc*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "J\xc3\x9c" "RGEN", 0, 0, "juergen@acme.test", ""},
	/* filter injection: nothing, or exactly the literal */
	{DIR_EMAIL_OF, "star*", 0, 0, "odd(paren)@acme.test", ""},
	{DIR_ID_OF, "odd(paren)@acme.test", 0, 0, "star*", ""},
	{DIR_EMAIL_OF, "*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "st*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "asmith)(uid=*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "*)(|(uid=*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "asmith)(|(objectClass=*)", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "\\", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "asmit\\68", 0, ENOENT, "", ""},
	{DIR_ID_OF, "*@acme.test", 0, ENOENT, "", ""},
	{DIR_ID_OF, "*", 0, ENOENT, "", ""},
	{DIR_EMAIL_OF, "asmith\0*", 8, EINVAL, "", ""},
	{DIR_EMAIL_OF, "\0", 1, EINVAL, "", ""},
	{DIR_EMAIL_OF, "", 0, EINVAL, "", ""},
	/* credentials */
	{DIR_SECRET_OF, "asmith", 0, 0, "alicepw", ""},
	{DIR_SECRET_OF, "carol", 0, 0, "d989c27da963eb001b1dd352b80fb1b5",
	 ""},
	{DIR_SECRET_OF, "hashed", 0, EPROTONOSUPPORT, "", ""},
	{DIR_SECRET_OF, "twin1", 0, ENODATA, "", ""},
	{DIR_SECRET_OF, "nobody", 0, ENOENT, "", ""},
	/* privacy */
	{DIR_PRIVACY_OF, "asmith", 0, 0, "", ""},
	{DIR_PRIVACY_OF, "bob", 0, 0, "", "chicago.test"},
	{DIR_PRIVACY_OF, "carol", 0, 0, "", ""},
	{DIR_PRIVACY_OF, "dave", 0, 0, "", ""},
	{DIR_PRIVACY_OF, "hashed", 0, EBADMSG, "", ""},
	/* groups */
	{DIR_MEMBERS_OF, "federated", 0, 0, "", "asmith,bob,carol"},
	{DIR_MEMBERS_OF, "Federated", 0, 0, "", "asmith,bob,carol"},
	{DIR_MEMBERS_OF, "fed*", 0, ENOENT, "", ""},
	{DIR_MEMBERS_OF, "nosuch", 0, ENOENT, "", ""},
	/* a group named by its DN, as AllowGroup may */
	{DIR_MEMBERS_OF, "cn=federated,ou=groups,dc=acme,dc=test", 0, 0, "",
	 "asmith,bob,carol"},
	{DIR_MEMBERS_OF, "cn=nosuch,ou=groups,dc=acme,dc=test", 0, ENOENT,
	 "", ""},
};

static void run_cases(struct dir *d, struct got *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(qcases); i++) {
		const struct qcase *q = &qcases[i];
		struct got g;
		int err;

		err = askn(d, q->kind, q->key, q->len ? q->len :
			   strlen(q->key), &g);
		CU_ASSERT_EQUAL(err, 0);
		if (g.err != q->err || strcmp(g.value, q->value) ||
		    strcmp(g.list, q->list))
			fprintf(stderr, "case %zu %s \"%s\": got %d (%s) "
				"\"%s\" [%s], want %d \"%s\" [%s]\n", i,
				dir_kind_name(q->kind), q->key, g.err,
				g.reason, g.value, g.list, q->err, q->value,
				q->list);
		CU_ASSERT_EQUAL(g.err, q->err);
		CU_ASSERT_STRING_EQUAL(g.value, q->value);
		CU_ASSERT_STRING_EQUAL(g.list, q->list);
		if (q->err)
			CU_ASSERT(g.reason[0] != '\0');
		if (out)
			out[i] = g;
	}
}

/* What must be said about the answers beyond value and err. */
static void check_details(struct dir *d)
{
	struct got g;

	/* no mail: the error names the user and the attribute */
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "dave", &g), 0);
	CU_ASSERT_EQUAL(g.err, ENODATA);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "dave"));
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "no mail attribute"));
	CU_ASSERT_STRING_EQUAL(dir_err_name(g.err), "no-attribute");

	/* ambiguous: refused, and logged naming both entries */
	logbuf[0] = '\0';
	CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, "twin@acme.test", &g), 0);
	CU_ASSERT_EQUAL(g.err, ENOTUNIQ);
	CU_ASSERT_STRING_EQUAL(g.value, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "twin1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "twin2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "refusing to guess"));

	CU_ASSERT_EQUAL(ask(d, DIR_SECRET_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.secret, DIR_SECRET_PLAIN);
	CU_ASSERT_EQUAL(ask(d, DIR_SECRET_OF, "carol", &g), 0);
	CU_ASSERT_EQUAL(g.secret, DIR_SECRET_HA1);

	CU_ASSERT_EQUAL(ask(d, DIR_PRIVACY_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.privacy, CFG_PRIVACY_ALL);
	CU_ASSERT_EQUAL(ask(d, DIR_PRIVACY_OF, "carol", &g), 0);
	CU_ASSERT_EQUAL(g.privacy, CFG_PRIVACY_NONE);
	CU_ASSERT_EQUAL(ask(d, DIR_PRIVACY_OF, "dave", &g), 0);
	CU_ASSERT_EQUAL(g.privacy, CFG_PRIVACY_ALL);  /* the config's */
	CU_ASSERT_EQUAL(ask(d, DIR_PRIVACY_OF, "hashed", &g), 0);
	CU_ASSERT_EQUAL(g.privacy, CFG_PRIVACY_NONE); /* unreadable: none */
	CU_ASSERT_EQUAL(ask(d, DIR_PRIVACY_OF, "bob", &g), 0);
	CU_ASSERT_EQUAL(g.privacy, CFG_PRIVACY_DOMAINS);
}

/* ---- pure helpers ------------------------------------------------------ */

static void test_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} tv[] = {
		{"alice", 5, "alice"},
		{"*", 1, "\\2a"},
		{")(", 2, "\\29\\28"},
		{"a\\b", 3, "a\\5cb"},
		{"a\0b", 3, "a\\00b"},
		{"j\xc3\xbc", 3, "j\\c3\\bc"},
		{"x\ny", 3, "x\\0ay"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		CU_ASSERT_EQUAL(dir_filter_escape(buf, sizeof(buf), tv[i].in,
						  tv[i].len), 0);
		CU_ASSERT_STRING_EQUAL(buf, tv[i].out);
	}
	CU_ASSERT_EQUAL(dir_filter_escape(buf, 3, "*", 1), EMSGSIZE);
	CU_ASSERT_EQUAL(dir_filter_escape(buf, 4, "*", 1), 0);

	CU_ASSERT_EQUAL(dir_filter_build(buf, sizeof(buf), "uid", "a*",
					 NULL), 0);
	CU_ASSERT_STRING_EQUAL(buf, "(uid=a\\2a)");
	CU_ASSERT_EQUAL(dir_filter_build(buf, sizeof(buf), "mail", "x",
					 "objectClass=person"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "(&(mail=x)(objectClass=person))");
	CU_ASSERT_EQUAL(dir_filter_build(buf, sizeof(buf), "uid)(x", "a",
					 NULL), EINVAL);
	CU_ASSERT_EQUAL(dir_filter_build(buf, 8, "uid", "abcdef", NULL),
			EMSGSIZE);
}

static void test_privacy_secret(void)
{
	static const struct {
		const char *in;
		int err;
		enum cfg_privacy p;
		size_t n;
	} tv[] = {
		{"all", 0, CFG_PRIVACY_ALL, 0},
		{"federation-privacy=none", 0, CFG_PRIVACY_NONE, 0},
		{"FEDERATION-PRIVACY=Domains:a.test, *.b.test", 0,
		 CFG_PRIVACY_DOMAINS, 2},
		{"domains:", 0, CFG_PRIVACY_DOMAINS, 0},
		{"Sales, second floor", ENOENT, CFG_PRIVACY_ALL, 0},
		{"federation-privacy=maybe", EBADMSG, CFG_PRIVACY_ALL, 0},
	};
	enum dir_secret k;
	const char *start;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		enum cfg_privacy p = CFG_PRIVACY_ALL;
		char **list = NULL;
		size_t n = 0, j;

		CU_ASSERT_EQUAL(dir_privacy_parse(tv[i].in, &p, &list, &n),
				tv[i].err);
		CU_ASSERT_EQUAL(p, tv[i].p);
		CU_ASSERT_EQUAL(n, tv[i].n);
		for (j = 0; j < n; j++)
			free(list[j]);
		free(list);
	}

	CU_ASSERT_EQUAL(dir_secret_parse("pw", &k, &start), 0);
	CU_ASSERT_EQUAL(k, DIR_SECRET_PLAIN);
	CU_ASSERT_EQUAL(dir_secret_parse("{CLEARTEXT}pw", &k, &start), 0);
	CU_ASSERT_STRING_EQUAL(start, "pw");
	CU_ASSERT_EQUAL(dir_secret_parse("{HA1}d989c27da963eb001b1dd352b80fb1"
					 "b5", &k, &start), 0);
	CU_ASSERT_EQUAL(k, DIR_SECRET_HA1);
	CU_ASSERT_EQUAL(dir_secret_parse("{HA1}d989", &k, &start), EBADMSG);
	CU_ASSERT_EQUAL(dir_secret_parse("{SSHA}abc", &k, &start),
			EPROTONOSUPPORT);

	CU_ASSERT_TRUE(dir_domain_match("chicago.test", "Chicago.TEST"));
	CU_ASSERT_TRUE(dir_domain_match("*.b.test", "x.y.b.test"));
	CU_ASSERT_FALSE(dir_domain_match("*.b.test", "b.test"));
	CU_ASSERT_FALSE(dir_domain_match("*.b.test", "xb.test"));
}

/* ---- LDIF refusals ------------------------------------------------------ */

static void test_ldif_errors(void)
{
	static const struct {
		const char *text;
		const char *want;   /* substring of the reason */
	} tv[] = {
		{"dn: dc=x\nuid: a\n bad continuation ok\n\n uid: b\n",
		 ":5: continuation line with nothing"},
		{"uid: a\n", ":1: record must start with \"dn:\""},
		{"dn: dc=x\nuid a\n", ":2: expected \"attribute: value\""},
		{"dn: dc=x\nuid:: !!!notbase64\n", ":2: cannot decode"},
		{"dn: dc=x\nmail:< file:///etc/passwd\n", ":2: URL values"},
		{"dn: dc=x\nchangetype: add\n", ":2: change records"},
		{"dn: dc=x\ndn: dc=y\n", ":2: second \"dn:\""},
		{"dn: dc=x\n\n# c\n#  more\ndn: DC=X\n",
		 ":5: duplicate dn \"DC=X\" (first at line 1)"},
		{"dn: dc=x\nuid:: YQBi\n", ":2: value of uid contains a NUL"},
		{"# only a comment\n", "no entries"},
	};
	char path[1200];
	size_t i;

	pathf(path, sizeof(path), "bad.ldif");
	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct cfg_directory c;
		struct dir *d = NULL;
		char why[512] = "";
		FILE *f = fopen(path, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(tv[i].text, f);
		fclose(f);
		cfg_file(&c, path);
		CU_ASSERT_NOT_EQUAL(dir_alloc(&d, &c, NULL, why, sizeof(why)),
				    0);
		CU_ASSERT_PTR_NULL(d);
		if (!strstr(why, tv[i].want))
			fprintf(stderr, "ldif case %zu: \"%s\" lacks \"%s\"\n",
				i, why, tv[i].want);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, tv[i].want));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "bad.ldif"));
	}
}

/* ---- file backend ------------------------------------------------------- */

static void test_file_backend(void)
{
	struct cfg_directory c;
	struct dir *d;

	cfg_file(&c, all_ldif);
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	run_cases(d, NULL);
	check_details(d);
	mem_deref(d);
}

static void test_samples_load(void)
{
	static const char *files[] = {
		"conf/examples/acme.test.ldif",
		"conf/examples/chicago.test.ldif",
	};
	struct cfg_directory c;
	struct dir *d;
	struct got g;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		cfg_file(&c, files[i]);
		c.base = NULL;
		d = NULL;
		CU_ASSERT_EQUAL(dir_alloc(&d, &c, SRCDIR, NULL, 0), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, i ? "bob.jones@chicago.test"
				    : "alice.smith@acme.test", &g), 0);
		CU_ASSERT_EQUAL(g.err, 0);
		CU_ASSERT_STRING_EQUAL(g.value, i ? "bob.jones" : "asmith");
		mem_deref(d);
	}
}

static void test_cache_and_stats(void)
{
	struct cfg_directory c;
	struct dir_stats st;
	struct mbuf *mb;
	struct dir *d;
	struct got g;

	cfg_file(&c, all_ldif);
	c.cache_size = 2;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);

	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_FALSE(g.cached);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "ASMITH", &g), 0);
	CU_ASSERT_TRUE(g.cached);
	CU_ASSERT_STRING_EQUAL(g.value, "Alice.Smith@acme.test");
	/* negative answers are cached too */
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "nobody", &g), 0);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "nobody", &g), 0);
	CU_ASSERT_TRUE(g.cached);
	CU_ASSERT_EQUAL(g.err, ENOENT);
	/* bounded: a third key pushes out the least recently used */
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "bob", &g), 0);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_FALSE(g.cached);
	/* ambiguity is never cached: fixing the data takes effect */
	CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, "twin@acme.test", &g), 0);
	CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, "twin@acme.test", &g), 0);
	CU_ASSERT_FALSE(g.cached);

	dir_stats_get(d, &st);
	CU_ASSERT_EQUAL(st.lookups, 8);
	CU_ASSERT_EQUAL(st.hits, 2);
	CU_ASSERT_EQUAL(st.misses, 6);
	CU_ASSERT_EQUAL(st.errors, 2);
	CU_ASSERT_EQUAL(st.cached, 2);
	CU_ASSERT(st.slowest_us >= st.avg_us);

	mb = mbuf_alloc(512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL(mbuf_printf(mb, "%H", dir_status, d), 0);
	mbuf_write_u8(mb, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)mb->buf,
				      "directory.lookups=8\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)mb->buf,
				      "directory.backend=file\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)mb->buf, "directory.hits=2\n"));
	mem_deref(mb);

	/* a handler cancelled before its answer is never called */
	{
		struct got g2;
		struct pl pl;

		memset(&g2, 0, sizeof(g2));
		pl_set_str(&pl, "carol");
		CU_ASSERT_EQUAL(dir_email_of(d, &pl, on_result, &g2), 0);
		dir_cancel(d, &g2);
		CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "carol", &g), 0);
		CU_ASSERT_EQUAL(g.err, 0);
		CU_ASSERT_FALSE(g2.done);
	}
	mem_deref(d);
}

/* The status lines that say which cache and timeout settings are used. */
static void settings_of(struct dir *d, char *buf, size_t sz)
{
	static const char *const keys[] = {
		"directory.cache_size=", "directory.cache_ttl_s=",
		"directory.neg_ttl_s=", "directory.timeout_ms=",
	};
	struct mbuf *mb = mbuf_alloc(1024);
	size_t i, n = 0;

	buf[0] = '\0';
	if (!mb)
		return;
	if (!mbuf_printf(mb, "%H", dir_status, d) && !mbuf_write_u8(mb, 0)) {
		for (i = 0; i < ARRAY_SIZE(keys); i++) {
			const char *l = strstr((char *)mb->buf, keys[i]);
			const char *e = l ? strchr(l, '\n') : NULL;

			if (e && n + (size_t)(e - l) + 2 < sz) {
				memcpy(buf + n, l, (size_t)(e - l) + 1);
				n += (size_t)(e - l) + 1;
				buf[n] = '\0';
			}
		}
	}
	mem_deref(mb);
}

/* A <Directory> that sets no cache or timeout, as the daemon loads it,
 * and a record the way tests build it (zero fields): the same TTLs and
 * timeout, the documented ones. */
static void test_defaults_agree(void)
{
	const char *t = cutest_tmpdir("dir_defaults");
	char path[1200], text[2048], a[512], b[512];
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg_directory c;
	struct cfg *cfg = NULL;
	struct dir *dd, *dz;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	snprintf(path, sizeof(path), "%s/community.xml", t);
	snprintf(text, sizeof(text),
		 "<?xml version=\"1.0\"?>\n<CommunityConfig>\n"
		 "<Community name=\"acme\"><Domain>acme.test</Domain>"
		 "</Community>\n<CommunityGateway name=\"gw\"><ClientListen "
		 "transport=\"udp\" address=\"127.0.116.11\"/>"
		 "<ConnectorListen transport=\"tls\" address=\"127.0.116.11\" "
		 "port=\"5070\"/></CommunityGateway>\n"
		 "<Directory backend=\"file\"><File>%s</File></Directory>\n"
		 "</CommunityConfig>\n",
		 SRCDIR "/conf/examples/acme.test.ldif");
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&cfg, path, &diag), 0);
	dd = open_dir(&cfg->directory);

	memset(&c, 0, sizeof(c));
	c.backend = CFG_DIR_FILE;
	c.file = (char *)SRCDIR "/conf/examples/acme.test.ldif";
	c.cache_size = cfg->directory.cache_size;  /* 0 would mean none */
	dz = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dz);

	settings_of(dd, a, sizeof(a));
	settings_of(dz, b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(a, "directory.cache_size=10000\n"
			       "directory.cache_ttl_s=300\n"
			       "directory.neg_ttl_s=60\n"
			       "directory.timeout_ms=2000\n");

	mem_deref(dd);
	mem_deref(dz);
	cfg_free(cfg);
	cfg_diag_reset(&diag);
}

/* ---- LDAP backend ------------------------------------------------------- */

static int ldap_suite_init(void)
{
	const char *t = cutest_tmpdir("dir");
	char cmd[8192];
	int n;

	if (!t)
		return 1;
	snprintf(tdir, sizeof(tdir), "%s", t);
	snprintf(all_ldif, sizeof(all_ldif), "%s/all.ldif", tdir);
	n = snprintf(cmd, sizeof(cmd), "cat '%s' '%s' >'%s' && "
		     "top_srcdir='%s' sh '%s' '%s' '%s' >'%s/prep.log' 2>&1",
		     SRCDIR "/conf/examples/acme.test.ldif",
		     SRCDIR "/test/directory/edge.ldif", all_ldif, SRCDIR,
		     SRCDIR "/test/directory/slapd-prep.sh", tdir, all_ldif,
		     tdir);
	if (n < 0 || (size_t)n >= sizeof(cmd) || system(cmd) != 0) {
		fprintf(stderr, "slapd-prep.sh failed: see %s/prep.log\n",
			tdir);
		return 1;
	}
	return slapd_start() ? 1 : 0;
}

static int ldap_suite_clean(void)
{
	slapd_stop();
	return 0;
}

static void test_ldap_cases(void)
{
	struct cfg_directory c;
	struct dir *d;

	cfg_ldap(&c, URL_LDAP, NULL);
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	run_cases(d, NULL);
	check_details(d);
	mem_deref(d);
}

/* The same file in slapd and in the file backend: the same answers. */
static void test_parity(void)
{
	struct got a[ARRAY_SIZE(qcases)], b[ARRAY_SIZE(qcases)];
	struct cfg_directory c;
	struct dir *dl, *df;
	size_t i;

	cfg_ldap(&c, URL_LDAP, NULL);
	c.cache_size = 0;
	dl = open_dir(&c);
	cfg_file(&c, all_ldif);
	c.cache_size = 0;
	df = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(df);

	run_cases(dl, a);
	run_cases(df, b);
	for (i = 0; i < ARRAY_SIZE(qcases); i++) {
		CU_ASSERT_EQUAL(a[i].err, b[i].err);
		CU_ASSERT_STRING_EQUAL(a[i].value, b[i].value);
		CU_ASSERT_STRING_EQUAL(a[i].list, b[i].list);
		CU_ASSERT_EQUAL(a[i].privacy, b[i].privacy);
		CU_ASSERT_EQUAL(a[i].secret, b[i].secret);
	}
	mem_deref(dl);
	mem_deref(df);
}

static void test_ldap_failover_tls(void)
{
	struct cfg_directory c;
	struct dir_stats st;
	struct dir *d;
	struct got g;
	char other_ca[1200];

	/* the first server is dead: the second answers */
	cfg_ldap(&c, URL_DEAD, URL_LDAP);
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, "bob@acme.test", &g), 0);
	CU_ASSERT_EQUAL(g.err, 0);
	CU_ASSERT_STRING_EQUAL(g.value, "bob");
	dir_stats_get(d, &st);
	CU_ASSERT_STRING_EQUAL(st.server, URL_LDAP);
	mem_deref(d);

	/* ldaps with the CA that signed slapd's certificate */
	cfg_ldap(&c, URL_LDAPS, NULL);
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.err, 0);
	CU_ASSERT_STRING_EQUAL(g.value, "Alice.Smith@acme.test");
	mem_deref(d);

	/* StartTLS on the plain port */
	cfg_ldap(&c, URL_LDAP, NULL);
	c.starttls = true;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_SECRET_OF, "carol", &g), 0);
	CU_ASSERT_EQUAL(g.err, 0);
	CU_ASSERT_EQUAL(g.secret, DIR_SECRET_HA1);
	mem_deref(d);

	/* a CA that did not sign it: refused, and the reason says where */
	pathf(other_ca, sizeof(other_ca), "other/ca.pem");
	cfg_ldap(&c, URL_LDAPS, NULL);
	c.ca_file = other_ca;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.err, EHOSTDOWN);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, URL_LDAPS));
	CU_ASSERT_STRING_EQUAL(g.value, "");
	mem_deref(d);

	cfg_ldap(&c, URL_LDAP, NULL);
	c.starttls = true;
	c.ca_file = other_ca;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_NOT_EQUAL(g.err, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "StartTLS"));
	mem_deref(d);
}

static void test_ldap_bind(void)
{
	struct cfg_directory c;
	struct dir *d = NULL;
	struct got g;
	char why[512] = "", pw[1200];
	FILE *f;

	/* a password file others may read is refused up front */
	cfg_ldap(&c, URL_LDAP, NULL);
	pathf(pw, sizeof(pw), "bindpw.open");
	c.password_file = pw;
	CU_ASSERT_EQUAL(dir_alloc(&d, &c, NULL, why, sizeof(why)), EPERM);
	CU_ASSERT_PTR_NULL(d);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "chmod 600"));

	/* a wrong password: access denied, not "no such user" */
	pathf(pw, sizeof(pw), "bindpw.wrong");
	f = fopen(pw, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("wrong\n", f);
	fclose(f);
	chmod(pw, 0600);
	c.password_file = pw;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.err, EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "Invalid credentials"));
	mem_deref(d);

	/* anonymous: IDs convert, passwords are not readable */
	cfg_ldap(&c, URL_LDAP, NULL);
	c.bind_dn = NULL;
	c.password_file = NULL;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.err, 0);
	CU_ASSERT_EQUAL(ask(d, DIR_SECRET_OF, "asmith", &g), 0);
	CU_ASSERT_EQUAL(g.err, ENODATA);
	CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, "userPassword"));
	mem_deref(d);
}

static unsigned ticks;
static struct tmr ticker;

static void on_tick(void *arg)
{
	(void)arg;
	ticks++;
	tmr_start(&ticker, 20, on_tick, NULL);
}

/* Whether every thread of pid is stopped (state T in its stat line). */
static bool all_stopped(pid_t pid)
{
	char path[300], buf[512];
	struct dirent *de;
	bool all = true;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (all && (de = readdir(dir))) {
		const char *p;
		size_t n = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid,
			 de->d_name);
		f = fopen(path, "r");
		if (f) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		p = strrchr(buf, ')');
		all = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	}
	closedir(dir);
	return all;
}

/* Stop pid with SIGSTOP and wait until every thread of it has stopped:
 * kill() returns before a busy multi-threaded server is frozen, and a
 * request sent in between would still be answered. */
static void freeze(pid_t pid)
{
	int i;

	kill(pid, SIGSTOP);
	for (i = 0; i < 200 && !all_stopped(pid); i++)
		usleep(5000);
}

/* slapd stopped, frozen and restarted under a live directory */
static void test_ldap_down_up(void)
{
	struct cfg_directory c;
	struct dir_stats st;
	struct dir *d;
	struct got g;
	int i;

	cfg_ldap(&c, URL_LDAP, NULL);
	c.cache_size = 0;
	c.timeout_ms = 400;
	d = open_dir(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "bob", &g), 0);
	CU_ASSERT_EQUAL(g.err, 0);

	/* frozen server: the answer is a timeout, and the loop kept
	 * running meanwhile (the ticker fired) */
	freeze(slapd_pid);
	ticks = 0;
	tmr_init(&ticker);
	tmr_start(&ticker, 20, on_tick, NULL);
	CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "bob", &g), 0);
	tmr_cancel(&ticker);
	CU_ASSERT(g.err == ETIMEDOUT || g.err == EHOSTDOWN);
	CU_ASSERT(ticks >= 3);
	kill(slapd_pid, SIGCONT);

	/* stopped: clean failures naming the server */
	slapd_stop();
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "bob", &g), 0);
		CU_ASSERT_EQUAL(g.err, EHOSTDOWN);
		CU_ASSERT_PTR_NOT_NULL(strstr(g.reason, URL_LDAP));
		CU_ASSERT_STRING_EQUAL(g.value, "");
	}
	dir_stats_get(d, &st);
	CU_ASSERT_FALSE(st.up);
	CU_ASSERT_PTR_NOT_NULL(strstr(st.last_error, URL_LDAP));

	/* back: lookups recover without touching the directory object */
	CU_ASSERT_EQUAL_FATAL(slapd_start(), 0);
	for (i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL(ask(d, DIR_EMAIL_OF, "bob", &g), 0);
		if (g.err == 0)
			break;
		sleep_loop(100);
	}
	CU_ASSERT_EQUAL(g.err, 0);
	CU_ASSERT_STRING_EQUAL(g.value, "bob@acme.test");
	CU_ASSERT_EQUAL(ask(d, DIR_ID_OF, "Alice.Smith@acme.test", &g), 0);
	CU_ASSERT_STRING_EQUAL(g.value, "asmith");
	dir_stats_get(d, &st);
	CU_ASSERT_TRUE(st.up);
	mem_deref(d);
}

static CU_TestInfo pure_tests[] = {
	{"RFC 4515 escaping and filters", test_escape},
	{"privacy and secret values", test_privacy_secret},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo file_tests[] = {
	{"LDIF errors say FILE:LINE", test_ldif_errors},
	{"file backend answers", test_file_backend},
	{"sample LDIF files load", test_samples_load},
	{"cache, counters, status, cancel", test_cache_and_stats},
	{"defaults: loaded and zero fields agree", test_defaults_agree},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo ldap_tests[] = {
	{"LDAP backend answers", test_ldap_cases},
	{"LDAP and LDIF agree on the same file", test_parity},
	{"failover, ldaps, StartTLS, wrong CA", test_ldap_failover_tls},
	{"bind: password file, wrong password, anonymous", test_ldap_bind},
	{"slapd frozen, stopped, restarted", test_ldap_down_up},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"dir_pure", NULL, NULL, NULL, NULL, pure_tests},
	/* the LDAP suite prepares the shared temp dir and data first */
	{"dir_ldap", ldap_suite_init, ldap_suite_clean, NULL, NULL,
	 ldap_tests},
	{"dir_file", NULL, NULL, NULL, NULL, file_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (libre_init())
		return 99;
	rc = cutest_main(suites);
	slapd_stop();
	libre_close();
	if (rc == 0 && tdir[0]) {
		char cmd[1100];

		snprintf(cmd, sizeof(cmd), "rm -rf '%.1024s'", tdir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
