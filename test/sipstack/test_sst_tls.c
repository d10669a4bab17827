/*
 * test_sst_tls.c -- TLS over libre TCP between two endpoints in one
 * process, with certificates made by certtool, plus gnutls-cli as a
 * foreign peer.  Addresses: 127.0.2.1 (server), 127.0.2.2 (client).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_tls.h"
#include "lib/cutest.h"

#define SRV_ADDR "127.0.2.1"
#define CLI_ADDR "127.0.2.2"
#define SRV_NAME "sip.a.test"
#define CLI_NAME "sip.b.test"

enum { GUARD_MS = 8000, MANY = 1000, BIG = 40000 };

enum { DIR_LEN = 1024, PATH_LEN = 1400 };

static char dir[DIR_LEN];

struct ep {
	struct tcp_conn *tc;
	struct sst_tls *tls;
	struct mbuf *rx;
	bool estab;
	bool closed;
	int close_err;
	int tls_err;
	struct sst_tls_peer peer;   /* taken at estab or close */
	bool peer_taken;
};

static struct ep srv, cli;
static struct tcp_sock *lsock;
static struct sa srv_addr;
static struct sst_tls_ctx *srv_ctx, *cli_ctx;
static const char *srv_expect;      /* name the server expects, or NULL */
static bool srv_plain;              /* accept without TLS, never speak */
static bool (*done_fn)(void);
static bool guard_fired;
static struct tmr guard;

static const char *path(const char *file)
{
	static char buf[4][PATH_LEN];
	static unsigned i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, file);
	return buf[i];
}

/* ---- certificates -------------------------------------------------- */

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	return system(cmd);
}

static int write_file(const char *file, const char *text)
{
	FILE *f = fopen(path(file), "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A leaf NAME signed by CA (ca or other), with extra template lines. */
static int leaf(const char *name, const char *ca, const char *extra)
{
	char tmpl[1024];
	char file[300];

	snprintf(tmpl, sizeof(tmpl),
		 "cn = \"%s\"\norganization = \"stconnector tests\"\n"
		 "dns_name = \"%s\"\ntls_www_server\ntls_www_client\n"
		 "signing_key\nencryption_key\n%s",
		 name, name, extra);
	snprintf(file, sizeof(file), "%s.tmpl", name);
	if (write_file(file, tmpl))
		return -1;

	return sh("cd '%s' && certtool --no-text --generate-privkey "
		  "--key-type=ecdsa --curve=secp256r1 --outfile %s.key "
		  "2>/dev/null && certtool --no-text --generate-certificate "
		  "--load-privkey %s.key --load-ca-certificate %s.pem "
		  "--load-ca-privkey %s.key --template %s.tmpl "
		  "--outfile %s.pem >/dev/null 2>&1",
		  dir, name, name, ca, ca, name, name);
}

/* A leaf in FILE signed by ca, subject CN and dNSName SAN given apart
 * (san NULL: none). */
static int leaf_names(const char *file, const char *cn, const char *san,
		      const char *serial)
{
	char tmpl[1024];
	char tfile[300];

	snprintf(tmpl, sizeof(tmpl),
		 "cn = \"%s\"\norganization = \"stconnector tests\"\n"
		 "%s%s%s"
		 "serial = %s\nexpiration_days = 30\n"
		 "tls_www_server\ntls_www_client\n"
		 "signing_key\nencryption_key\n",
		 cn, san ? "dns_name = \"" : "", san ? san : "",
		 san ? "\"\n" : "", serial);
	snprintf(tfile, sizeof(tfile), "%s.tmpl", file);
	if (write_file(tfile, tmpl))
		return -1;

	return sh("cd '%s' && certtool --no-text --generate-privkey "
		  "--key-type=ecdsa --curve=secp256r1 --outfile %s.key "
		  "2>/dev/null && certtool --no-text --generate-certificate "
		  "--load-privkey %s.key --load-ca-certificate ca.pem "
		  "--load-ca-privkey ca.key --template %s.tmpl "
		  "--outfile %s.pem >/dev/null 2>&1",
		  dir, file, file, file, file);
}

static int make_certs(void)
{
	const char *t = cutest_tmpdir("sst_tls");

	if (!t)
		return -1;
	snprintf(dir, sizeof(dir), "%s", t);

	/* CA plus the two good peers, the project's way */
	if (sh("sh -c \". '%s'; te_certs '%s' %s:%s %s:%s\"",
	       cutest_src("test/lib/testenv.sh"), dir,
	       SRV_NAME, SRV_ADDR, CLI_NAME, CLI_ADDR))
		return -1;

	/* a second CA nobody trusts */
	if (write_file("other.tmpl",
		       "cn = \"other CA\"\nserial = 7\n"
		       "expiration_days = 365\nca\ncert_signing_key\n"))
		return -1;
	if (sh("cd '%s' && certtool --no-text --generate-privkey "
	       "--key-type=ecdsa --curve=secp256r1 --outfile other.key "
	       "2>/dev/null && certtool --no-text --generate-self-signed "
	       "--load-privkey other.key --template other.tmpl "
	       "--outfile other.pem >/dev/null 2>&1", dir))
		return -1;

	if (leaf("stranger.test", "other", "serial = 8\nexpiration_days = 30\n"))
		return -1;
	if (leaf("old.test", "ca",
		 "serial = 9\nactivation_date = \"2020-01-01 00:00:00\"\n"
		 "expiration_date = \"2021-01-01 00:00:00\"\n"))
		return -1;

	/* SAN and CN telling different names, and a CN alone */
	if (leaf_names("san-ok", "wrong.b.test", CLI_NAME, "11") ||
	    leaf_names("cn-ok", CLI_NAME, "wrong.b.test", "12") ||
	    leaf_names("cn-only", CLI_NAME, NULL, "13"))
		return -1;

	/* self-signed leaf */
	if (write_file("self.tmpl",
		       "cn = \"self.test\"\ndns_name = \"self.test\"\n"
		       "serial = 10\nexpiration_days = 30\n"
		       "tls_www_server\ntls_www_client\nsigning_key\n"))
		return -1;
	if (sh("cd '%s' && certtool --no-text --generate-privkey "
	       "--key-type=ecdsa --curve=secp256r1 --outfile self.key "
	       "2>/dev/null && certtool --no-text --generate-self-signed "
	       "--load-privkey self.key --template self.tmpl "
	       "--outfile self.pem >/dev/null 2>&1", dir))
		return -1;

	return 0;
}

/* ---- event plumbing ------------------------------------------------ */

static void check_done(void)
{
	if (done_fn && done_fn())
		re_cancel();
}

static void guard_handler(void *arg)
{
	(void)arg;
	guard_fired = true;
	re_cancel();
}

/* Conditions on things outside the loop (a child's output) need a
 * look now and then. */
static struct tmr ticker;
static void ticker_handler(void *arg)
{
	(void)arg;
	tmr_start(&ticker, 20, ticker_handler, NULL);
	check_done();
}

static void run(bool (*fn)(void))
{
	done_fn = fn;
	guard_fired = false;
	if (fn())
		return;
	tmr_start(&guard, GUARD_MS, guard_handler, NULL);
	tmr_start(&ticker, 20, ticker_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&guard);
	tmr_cancel(&ticker);
	done_fn = NULL;
}

static void take_peer(struct ep *e)
{
	if (e->tls && sst_tls_peer(e->tls, &e->peer) == 0)
		e->peer_taken = true;
}

static void estab_h(void *arg)
{
	struct ep *e = arg;

	e->estab = true;
	take_peer(e);
	check_done();
}

static void recv_h(struct mbuf *mb, void *arg)
{
	struct ep *e = arg;

	(void)mbuf_write_mem(e->rx, mbuf_buf(mb), mbuf_get_left(mb));
	check_done();
}

static void close_h(int err, void *arg)
{
	struct ep *e = arg;

	e->closed = true;
	e->close_err = err;
	e->tls_err = sst_tls_error(e->tls);
	if (!e->peer_taken)
		take_peer(e);
	check_done();
}

static void conn_h(const struct sa *peer, void *arg)
{
	int err;

	(void)peer;
	(void)arg;

	if (srv.tc) {
		tcp_reject(lsock);
		return;
	}

	err = tcp_accept(&srv.tc, lsock, estab_h, recv_h, close_h, &srv);
	if (err) {
		tcp_reject(lsock);
		return;
	}
	if (srv_plain)
		return;

	err = sst_tls_start(&srv.tls, srv_ctx, srv.tc, true, srv_expect);
	CU_ASSERT_EQUAL(err, 0);
}

static void ep_reset(struct ep *e)
{
	e->tls = mem_deref(e->tls);
	e->tc = mem_deref(e->tc);
	e->rx = mem_deref(e->rx);
	memset(e, 0, sizeof(*e));
	e->rx = mbuf_alloc(1024);
}

static int ctx(struct sst_tls_ctx **ctxp, const char *name, const char *ca,
	       bool verify, unsigned hs_ms)
{
	char cert[PATH_LEN], key[PATH_LEN], cafile[PATH_LEN];
	struct sst_tls_conf conf;

	memset(&conf, 0, sizeof(conf));
	if (name) {
		snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
		snprintf(key, sizeof(key), "%s/%s.key", dir, name);
		conf.cert = cert;
		conf.key = key;
	}
	if (ca) {
		snprintf(cafile, sizeof(cafile), "%s/%s", dir, ca);
		conf.ca = cafile;
	}
	conf.verify = verify;
	conf.handshake_ms = hs_ms;

	return sst_tls_ctx_alloc(ctxp, &conf);
}

/* Listen on SRV_ADDR with a fresh port. */
static void listen_srv(void)
{
	struct sa laddr;

	ep_reset(&srv);
	CU_ASSERT_EQUAL(sa_set_str(&laddr, SRV_ADDR, 0), 0);
	CU_ASSERT_EQUAL_FATAL(tcp_listen(&lsock, &laddr, conn_h, NULL), 0);
	CU_ASSERT_EQUAL(tcp_sock_local_get(lsock, &srv_addr), 0);
}

/* Connect from CLI_ADDR; TLS unless cctx is NULL. */
static void connect_cli(struct sst_tls_ctx *cctx, const char *expect)
{
	struct sa laddr;
	int err;

	ep_reset(&cli);
	err = tcp_conn_alloc(&cli.tc, &srv_addr, estab_h, recv_h, close_h,
			     &cli);
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_EQUAL(sa_set_str(&laddr, CLI_ADDR, 0), 0);
	CU_ASSERT_EQUAL(tcp_conn_bind(cli.tc, &laddr), 0);
	if (cctx) {
		err = sst_tls_start(&cli.tls, cctx, cli.tc, false, expect);
		CU_ASSERT_EQUAL_FATAL(err, 0);
	}
	CU_ASSERT_EQUAL_FATAL(tcp_conn_connect(cli.tc, &srv_addr), 0);
}

static void teardown_all(void)
{
	ep_reset(&srv);
	ep_reset(&cli);
	lsock = mem_deref(lsock);
	srv_ctx = mem_deref(srv_ctx);
	cli_ctx = mem_deref(cli_ctx);
	srv_expect = NULL;
	srv_plain = false;
}

static int send_str(struct ep *e, const void *p, size_t len)
{
	struct mbuf *mb = mbuf_alloc(len);
	int err;

	if (!mb)
		return ENOMEM;
	(void)mbuf_write_mem(mb, p, len);
	mb->pos = 0;
	err = tcp_send(e->tc, mb);
	mem_deref(mb);
	return err;
}

static bool both_estab(void)  { return srv.estab && cli.estab; }
static bool cli_closed(void)  { return cli.closed; }
static bool srv_closed(void)  { return srv.closed; }
static bool both_closed(void) { return cli.closed && srv.closed; }

static size_t want_srv, want_cli;
static bool got_data(void)
{
	return srv.rx->end >= want_srv && cli.rx->end >= want_cli;
}

/* Server A (verify, CA) and client B (verify, CA): both fine. */
static void setup_good(void)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, CLI_NAME, "ca.pem", true, 0), 0);
	srv_expect = CLI_NAME;
	listen_srv();
	connect_cli(cli_ctx, SRV_NAME);
}

/* ---- tests ----------------------------------------------------------- */

static void test_ctx_args(void)
{
	struct sst_tls_ctx *c = NULL;
	struct sst_tls_conf conf;
	char cert[PATH_LEN], nokey[PATH_LEN], wrongkey[PATH_LEN];
	char key[PATH_LEN], ca[PATH_LEN], noca[PATH_LEN];

	snprintf(cert, sizeof(cert), "%s", path("sip.a.test.pem"));
	snprintf(nokey, sizeof(nokey), "%s", path("nonexistent.key"));
	snprintf(wrongkey, sizeof(wrongkey), "%s", path("sip.b.test.key"));
	snprintf(key, sizeof(key), "%s", path("sip.a.test.key"));
	snprintf(ca, sizeof(ca), "%s", path("ca.pem"));
	snprintf(noca, sizeof(noca), "%s", path("nonexistent.pem"));

	memset(&conf, 0, sizeof(conf));
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(NULL, &conf), EINVAL);
	conf.cert = cert;
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), EINVAL); /* no key */
	conf.key = nokey;
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), ENOENT);
	conf.key = wrongkey;                /* key of another cert */
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), ENOENT);
	conf.key = key;
	conf.verify = true;                 /* verify without a CA */
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), EINVAL);
	conf.ca = noca;
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), ENOENT);
	CU_ASSERT_PTR_NULL(c);
	conf.ca = ca;
	CU_ASSERT_EQUAL(sst_tls_ctx_alloc(&c, &conf), 0);
	CU_ASSERT_PTR_NOT_NULL(c);
	mem_deref(c);

	CU_ASSERT_STRING_EQUAL(sst_tls_verdict_name(SST_TLS_NAME_MISMATCH),
			       "name-mismatch");
	CU_ASSERT_STRING_EQUAL(sst_tls_verdict_name(SST_TLS_SELF_SIGNED),
			       "self-signed");
}

static void test_handshake_and_data(void)
{
	static const char early[] = "sent before the handshake";
	static const char reply[] = "reply from the server";

	setup_good();

	/* queued by the TLS layer until the handshake is done */
	CU_ASSERT_EQUAL(send_str(&cli, early, sizeof(early) - 1), 0);
	CU_ASSERT_FALSE(sst_tls_up(cli.tls));

	run(both_estab);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE(srv.estab && cli.estab);
	CU_ASSERT_TRUE(sst_tls_up(srv.tls));
	CU_ASSERT_TRUE(sst_tls_up(cli.tls));

	CU_ASSERT_EQUAL(send_str(&srv, reply, sizeof(reply) - 1), 0);
	want_srv = sizeof(early) - 1;
	want_cli = sizeof(reply) - 1;
	run(got_data);
	CU_ASSERT_EQUAL(srv.rx->end, sizeof(early) - 1);
	CU_ASSERT_EQUAL(cli.rx->end, sizeof(reply) - 1);
	CU_ASSERT_EQUAL(memcmp(srv.rx->buf, early, sizeof(early) - 1), 0);
	CU_ASSERT_EQUAL(memcmp(cli.rx->buf, reply, sizeof(reply) - 1), 0);

	/* what status screens print */
	CU_ASSERT_EQUAL(cli.peer.verdict, SST_TLS_VALID);
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_VALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(cli.peer.subject, "CN=" SRV_NAME));
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.peer.subject, "CN=" CLI_NAME));
	CU_ASSERT_PTR_NOT_NULL(strstr(cli.peer.cipher, "TLS1.3"));
	CU_ASSERT(cli.peer.days_left >= 823 && cli.peer.days_left <= 825);
	CU_ASSERT(cli.peer.not_after > time(NULL));
	CU_ASSERT_EQUAL(sst_tls_error(cli.tls), 0);

	/* close_notify and FIN reach the server as an orderly close */
	cli.tls = mem_deref(cli.tls);
	cli.tc = mem_deref(cli.tc);
	run(srv_closed);
	CU_ASSERT_TRUE(srv.closed);
	CU_ASSERT_EQUAL(srv.close_err, 0);
	CU_ASSERT_EQUAL(srv.tls_err, 0);

	teardown_all();
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 31 + seed + i / 251) & 0xff);
}

static void test_big_message(void)
{
	static uint8_t a[BIG], b[BIG];

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);

	setup_good();
	run(both_estab);
	CU_ASSERT_TRUE_FATAL(both_estab());

	CU_ASSERT_EQUAL(send_str(&cli, a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(send_str(&srv, b, sizeof(b)), 0);
	want_srv = want_cli = BIG;
	run(got_data);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_EQUAL_FATAL(srv.rx->end, BIG);
	CU_ASSERT_EQUAL_FATAL(cli.rx->end, BIG);
	CU_ASSERT_EQUAL(memcmp(srv.rx->buf, a, BIG), 0);
	CU_ASSERT_EQUAL(memcmp(cli.rx->buf, b, BIG), 0);

	teardown_all();
}

static void many(struct ep *e, struct mbuf *expect, bool cork)
{
	unsigned i;

	if (cork)
		sst_tls_cork(e->tls);
	for (i = 0; i < MANY; i++) {
		char msg[128];
		int n = snprintf(msg, sizeof(msg),
				 "MESSAGE sip:u%u@sip.a.test SIP/2.0\r\n"
				 "CSeq: %u MESSAGE\r\n\r\n", i, i);

		CU_ASSERT_EQUAL(send_str(e, msg, (size_t)n), 0);
		(void)mbuf_write_mem(expect, (uint8_t *)msg, (size_t)n);
	}
	if (cork)
		CU_ASSERT_EQUAL(sst_tls_uncork(e->tls), 0);
}

static void test_many_messages(void)
{
	struct mbuf *to_srv = mbuf_alloc(64 * MANY);
	struct mbuf *to_cli = mbuf_alloc(64 * MANY);

	setup_good();
	run(both_estab);
	CU_ASSERT_TRUE_FATAL(both_estab());

	many(&cli, to_srv, false);
	many(&srv, to_cli, false);
	/* a post-handshake message right in front of data: GnuTLS says
	 * "again" after it although records are still unread */
	CU_ASSERT_EQUAL(sst_tls_key_update(srv.tls), 0);
	many(&srv, to_cli, true);
	many(&cli, to_srv, true);   /* and once batched */
	want_srv = to_srv->end;
	want_cli = to_cli->end;
	run(got_data);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_EQUAL(srv.rx->end, to_srv->end);
	CU_ASSERT_EQUAL(cli.rx->end, to_cli->end);
	if (srv.rx->end == to_srv->end)
		CU_ASSERT_EQUAL(memcmp(srv.rx->buf, to_srv->buf,
				       to_srv->end), 0);
	if (cli.rx->end == to_cli->end)
		CU_ASSERT_EQUAL(memcmp(cli.rx->buf, to_cli->buf,
				       to_cli->end), 0);

	mem_deref(to_srv);
	mem_deref(to_cli);
	teardown_all();
}

/* Client verifies and expects a name the server's certificate lacks. */
static void test_name_mismatch_refused(void)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", false, 0),
			      0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, CLI_NAME, "ca.pem", true, 0), 0);
	listen_srv();
	connect_cli(cli_ctx, "sip.x.test");
	CU_ASSERT_EQUAL(send_str(&cli, "never", 5), 0);

	run(both_closed);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_FALSE(cli.estab);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(cli.close_err, EAUTH);
	CU_ASSERT_EQUAL(cli.tls_err, EAUTH);
	CU_ASSERT_EQUAL(cli.peer.verdict, SST_TLS_NAME_MISMATCH);
	CU_ASSERT_PTR_NOT_NULL(strstr(cli.peer.subject, SRV_NAME));
	/* the server learns why from the alert */
	CU_ASSERT_EQUAL(srv.close_err, EAUTH);
	CU_ASSERT_EQUAL(srv.rx->end, 0);
	/* a refused connection takes no more data */
	CU_ASSERT_NOT_EQUAL(send_str(&cli, "x", 1), 0);

	teardown_all();
}

/* The same peers without verification: up, but status says why not. */
static void verdict_unverified(const char *srv_cert, const char *expect,
			       enum sst_tls_verdict want)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, srv_cert, "ca.pem", false, 0),
			      0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, CLI_NAME, "ca.pem", false, 0),
			      0);
	listen_srv();
	connect_cli(cli_ctx, expect);

	run(both_estab);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE(cli.estab && srv.estab);
	CU_ASSERT_EQUAL(cli.peer.verdict, want);
	if (cli.peer.verdict != want)
		fprintf(stderr, "%s: got %s want %s\n", srv_cert,
			sst_tls_verdict_name(cli.peer.verdict),
			sst_tls_verdict_name(want));
	/* the server asked for the client's certificate anyway */
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_VALID);

	teardown_all();
}

static void test_verdicts_unverified(void)
{
	verdict_unverified(SRV_NAME, "sip.x.test", SST_TLS_NAME_MISMATCH);
	verdict_unverified("old.test", "old.test", SST_TLS_EXPIRED);
	verdict_unverified("self", "self.test", SST_TLS_SELF_SIGNED);
	verdict_unverified("stranger.test", "stranger.test",
			   SST_TLS_UNTRUSTED);
	verdict_unverified(SRV_NAME, SRV_NAME, SST_TLS_VALID);
}

/* With verification each of those is refused with EAUTH. */
static void refused(const char *srv_cert, const char *expect,
		    enum sst_tls_verdict want)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, srv_cert, "ca.pem", false, 0),
			      0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, CLI_NAME, "ca.pem", true, 0), 0);
	listen_srv();
	connect_cli(cli_ctx, expect);

	run(both_closed);
	CU_ASSERT_FALSE(cli.estab);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(cli.close_err, EAUTH);
	CU_ASSERT_EQUAL(cli.peer.verdict, want);

	teardown_all();
}

static void test_verified_refusals(void)
{
	refused("old.test", "old.test", SST_TLS_EXPIRED);
	refused("self", "self.test", SST_TLS_SELF_SIGNED);
	refused("stranger.test", "stranger.test", SST_TLS_UNTRUSTED);
}

/* Server requires a client certificate; the client has none. */
static void test_client_cert_required(void)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, NULL, "ca.pem", true, 0), 0);
	listen_srv();
	connect_cli(cli_ctx, SRV_NAME);
	CU_ASSERT_EQUAL(send_str(&cli, "hello", 5), 0);

	run(both_closed);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(srv.close_err, EAUTH);
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_NONE);
	CU_ASSERT_EQUAL(srv.rx->end, 0);      /* nothing got through */
	CU_ASSERT_EQUAL(cli.close_err, EAUTH);

	/* A client certificate from a CA the server does not trust: a
	 * GnuTLS client offers only certificates from the CAs the server
	 * lists, so it sends none and is refused the same way.  (A client
	 * that sends it anyway: the gnutls-cli test below.) */
	teardown_all();
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, "stranger.test", "ca.pem", true,
				  0), 0);
	listen_srv();
	connect_cli(cli_ctx, SRV_NAME);
	run(both_closed);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(srv.close_err, EAUTH);
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_NONE);
	CU_ASSERT_EQUAL(cli.close_err, EAUTH);

	teardown_all();
}

/* A TCP peer that accepts and never speaks: the client gives up. */
static void test_handshake_timeout(void)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, CLI_NAME, "ca.pem", true, 300),
			      0);
	srv_plain = true;
	listen_srv();
	connect_cli(cli_ctx, SRV_NAME);

	run(cli_closed);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE(cli.closed);
	CU_ASSERT_FALSE(cli.estab);
	CU_ASSERT_EQUAL(cli.close_err, 0);   /* libre saw a shut down socket */
	CU_ASSERT_EQUAL(cli.tls_err, ETIMEDOUT);
	CU_ASSERT_FALSE(sst_tls_up(cli.tls));
	teardown_all();

	/* and the server side against a client that never speaks */
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 300),
			      0);
	listen_srv();
	connect_cli(NULL, NULL);
	run(srv_closed);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE(srv.closed);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(srv.tls_err, ETIMEDOUT);
	teardown_all();
}

/* gnutls-cli against our server: returns its exit status, output in
 * OUT.  Its stdin stays open until our server has closed, so it waits
 * for the server's answer instead of leaving at end of input. */
static int gnutls_cli(const char *out, const char *prio, const char *cert,
		      const char *extra, bool (*until)(void))
{
	char port[16], certarg[PATH_LEN], keyarg[PATH_LEN];
	int fds[2], status = -1;
	unsigned waited = 0;
	pid_t pid;

	snprintf(port, sizeof(port), "%u", sa_port(&srv_addr));
	if (pipe(fds))
		return -1;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		const char *argv[16];
		int n = 0;

		dup2(fds[0], 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fds[1]);

		argv[n++] = "gnutls-cli";
		argv[n++] = "--x509cafile";
		argv[n++] = path("ca.pem");
		argv[n++] = "--priority";
		argv[n++] = prio;
		argv[n++] = "-p";
		argv[n++] = port;
		if (cert) {
			snprintf(certarg, sizeof(certarg), "%s/%s.pem", dir,
				 cert);
			snprintf(keyarg, sizeof(keyarg), "%s/%s.key", dir,
				 cert);
			argv[n++] = "--x509certfile";
			argv[n++] = certarg;
			argv[n++] = "--x509keyfile";
			argv[n++] = keyarg;
		}
		if (extra)
			argv[n++] = extra;
		argv[n++] = SRV_ADDR;
		argv[n] = NULL;
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	close(fds[0]);

	run(until);
	if (!srv.closed) {
		/* our end goes first; the child sees the end of the stream */
		srv.tls = mem_deref(srv.tls);
		srv.tc = mem_deref(srv.tc);
	}

	/* give it up to 5 s to report and leave, then stop it */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited++ > 500) {
			kill(pid, SIGTERM);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	close(fds[1]);

	return status;
}

static bool file_has(const char *file, const char *needle)
{
	char buf[16384];
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';

	return strstr(buf, needle) != NULL;
}

static void test_gnutls_cli_tls11(void)
{
	const char *out = path("cli11.out");
	int status;

	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", false, 0),
			      0);
	listen_srv();
	status = gnutls_cli(out, "NORMAL:-VERS-ALL:+VERS-TLS1.1", NULL, NULL,
			    srv_closed);
	CU_ASSERT_TRUE(srv.closed);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(srv.close_err, EPROTO);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	CU_ASSERT_FALSE(file_has(out, "Handshake was completed"));
	CU_ASSERT_TRUE(file_has(out, "Received alert"));

	teardown_all();
}

static void test_gnutls_cli_cert_refused(void)
{
	const char *out = path("clicert.out");
	int status;

	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 0), 0);
	listen_srv();
	status = gnutls_cli(out, "NORMAL", "stranger.test", NULL,
			    srv_closed);
	CU_ASSERT_TRUE(srv.closed);
	CU_ASSERT_FALSE(srv.estab);
	CU_ASSERT_EQUAL(srv.close_err, EAUTH);
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_UNTRUSTED);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	CU_ASSERT_TRUE(file_has(out, "Received alert"));

	teardown_all();
}

static const char *reneg_out;
static bool reneg_answered(void)
{
	return srv.closed || file_has(reneg_out, "ReHandshake has failed");
}

/* A TLS 1.2 client asks to renegotiate: the server answers with the
 * no_renegotiation alert; a client that insists anyway is cut off. */
static void test_gnutls_cli_renegotiation(void)
{
	reneg_out = path("clireneg.out");
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", false, 0),
			      0);
	listen_srv();
	(void)gnutls_cli(reneg_out, "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL,
			 "--rehandshake", reneg_answered);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE(srv.estab);
	CU_ASSERT_TRUE(file_has(reneg_out, "Handshake was completed"));
	CU_ASSERT_TRUE(file_has(reneg_out, "Received alert [100]"));
	CU_ASSERT_TRUE(file_has(reneg_out, "ReHandshake has failed"));
	if (srv.closed)
		CU_ASSERT_EQUAL(srv.close_err, EPROTO);

	teardown_all();
}

/* The accepting side ties the client's certificate to a name the way
 * the connecting side does: by dNSName, the CN only without one. */
static void peer_name_case(const char *cli_cert, const char *name,
			   bool want)
{
	CU_ASSERT_EQUAL_FATAL(ctx(&srv_ctx, SRV_NAME, "ca.pem", true, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ctx(&cli_ctx, cli_cert, "ca.pem", true, 0), 0);
	listen_srv();
	connect_cli(cli_ctx, SRV_NAME);

	run(both_estab);
	CU_ASSERT_FALSE(guard_fired);
	CU_ASSERT_TRUE_FATAL(srv.estab);
	CU_ASSERT_EQUAL(srv.peer.verdict, SST_TLS_VALID);
	CU_ASSERT_EQUAL(sst_tls_peer_matches(srv.tls, name), want);
	if (sst_tls_peer_matches(srv.tls, name) != want)
		fprintf(stderr, "%s as %s: got %d want %d\n", cli_cert, name,
			!want, want);

	/* the answer kept is for one name: another, then this again */
	CU_ASSERT_FALSE(sst_tls_peer_matches(srv.tls, "other.z.test"));
	CU_ASSERT_EQUAL(sst_tls_peer_matches(srv.tls, name), want);

	/* the facts kept at the first call read back the same */
	{
		struct sst_tls_peer p2;

		CU_ASSERT_EQUAL(sst_tls_peer(srv.tls, &p2), 0);
		CU_ASSERT_STRING_EQUAL(p2.subject, srv.peer.subject);
		CU_ASSERT_STRING_EQUAL(p2.cipher, srv.peer.cipher);
		CU_ASSERT(p2.subject[0] && p2.cipher[0]);
		CU_ASSERT_EQUAL(p2.verdict, srv.peer.verdict);
		CU_ASSERT_EQUAL(p2.not_after, srv.peer.not_after);
		CU_ASSERT_EQUAL(p2.days_left, srv.peer.days_left);
	}

	teardown_all();
}

static void test_peer_matches(void)
{
	/* SAN names it, CN does not: accepted */
	peer_name_case("san-ok", CLI_NAME, true);
	peer_name_case("san-ok", "wrong.b.test", false);
	/* CN names it, SAN does not: refused */
	peer_name_case("cn-ok", CLI_NAME, false);
	peer_name_case("cn-ok", "wrong.b.test", true);
	/* no dNSName at all: the CN counts */
	peer_name_case("cn-only", CLI_NAME, true);
	peer_name_case(CLI_NAME, "sip.x.test", false);

	CU_ASSERT_FALSE(sst_tls_peer_matches(NULL, CLI_NAME));
}

static int suite_init(void)
{
	if (libre_init())
		return -1;
	ep_reset(&srv);
	ep_reset(&cli);
	return make_certs();
}

static int suite_clean(void)
{
	teardown_all();
	srv.rx = mem_deref(srv.rx);
	cli.rx = mem_deref(cli.rx);
	libre_close();

	/* keep certificates and gnutls-cli output only to look at failures */
	if (dir[0] && CU_get_number_of_failures() == 0)
		(void)sh("rm -rf '%s'", dir);
	return 0;
}

static CU_TestInfo tls_tests[] = {
	{"context arguments", test_ctx_args},
	{"handshake and data both ways", test_handshake_and_data},
	{"40 KB message both ways", test_big_message},
	{"1000 back-to-back messages", test_many_messages},
	{"name mismatch refused", test_name_mismatch_refused},
	{"verdicts without verification", test_verdicts_unverified},
	{"expired/self-signed/untrusted refused", test_verified_refusals},
	{"client certificate required", test_client_cert_required},
	{"handshake timeout", test_handshake_timeout},
	{"gnutls-cli TLS 1.1 refused", test_gnutls_cli_tls11},
	{"gnutls-cli certificate refused", test_gnutls_cli_cert_refused},
	{"renegotiation refused", test_gnutls_cli_renegotiation},
	{"peer name by SAN, CN only without", test_peer_matches},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_tls", suite_init, suite_clean, NULL, NULL, tls_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cutest_main(suites);
}
