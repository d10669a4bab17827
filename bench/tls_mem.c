/*
 * tls_mem.c -- memory held by idle TLS connections.
 *
 * Opens N connections from a client to a server in this one process
 * (127.0.2.10 -> 127.0.2.11), waits until every one is established (for
 * TLS: handshake done, one short message each way), then reports the
 * growth of VmRSS and of malloc'ed bytes in use, per connection end.
 * Run it once with "tcp" and once with "tls"; the difference is what TLS
 * costs beyond TCP.
 *
 * usage: tls_mem tcp|tls N CERTDIR
 *	CERTDIR holds ca.pem and sip.a.test.{pem,key} (te_certs).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <re.h>

#include "sipstack/sst_tls.h"

struct conn {
	struct tcp_conn *tc;
	struct sst_tls *tls;
	bool estab;
	size_t got;
};

static struct conn *srvv, *cliv;
static unsigned nconn, nsrv, nestab, ngot, want_estab, want_got;
static struct tcp_sock *lsock;
static struct sst_tls_ctx *sctx, *cctx;
static bool use_tls;
static int failures;

static long vm_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kib;
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void check(void)
{
	if (nestab >= want_estab && ngot >= want_got)
		re_cancel();
}

static void estab_h(void *arg)
{
	struct conn *c = arg;
	struct mbuf *mb = mbuf_alloc(32);

	c->estab = true;
	++nestab;
	if (mb) {
		(void)mbuf_write_str(mb, "ping\r\n\r\n");
		mb->pos = 0;
		if (tcp_send(c->tc, mb))
			++failures;
		mem_deref(mb);
	}
	check();
}

static void recv_h(struct mbuf *mb, void *arg)
{
	struct conn *c = arg;

	c->got += mbuf_get_left(mb);
	if (c->got == 8)
		++ngot;
	check();
}

static void close_h(int err, void *arg)
{
	struct conn *c = arg;

	fprintf(stderr, "close: %s end %s estab %d tls %s\n", strerror(err),
		(c >= srvv && c < srvv + nconn) ? "server" : "client",
		c->estab, strerror(sst_tls_error(c->tls)));
	++failures;
	re_cancel();
}

static void conn_h(const struct sa *peer, void *arg)
{
	struct conn *c;

	(void)peer;
	(void)arg;

	if (nsrv >= nconn) {
		tcp_reject(lsock);
		return;
	}
	c = &srvv[nsrv++];
	if (tcp_accept(&c->tc, lsock, estab_h, recv_h, close_h, c)) {
		++failures;
		return;
	}
	if (use_tls && sst_tls_start(&c->tls, sctx, c->tc, true, NULL))
		++failures;
}

static int open_client(struct conn *c, const struct sa *srv)
{
	struct sa laddr;
	int err;

	err = tcp_conn_alloc(&c->tc, srv, estab_h, recv_h, close_h, c);
	if (err)
		return err;
	(void)sa_set_str(&laddr, "127.0.2.11", 0);
	err = tcp_conn_bind(c->tc, &laddr);
	if (!err && use_tls)
		err = sst_tls_start(&c->tls, cctx, c->tc, false, "sip.a.test");
	if (!err)
		err = tcp_conn_connect(c->tc, srv);
	return err;
}

int main(int argc, char *argv[])
{
	const struct rlimit rl = {20000, 20000};
	char cert[1024], key[1024], ca[1024];
	struct sst_tls_conf conf;
	struct sa laddr, srv;
	long rss0, rss1;
	size_t heap0, heap1;
	unsigned i, batch = 50;

	if (argc != 4) {
		fprintf(stderr, "usage: tls_mem tcp|tls N CERTDIR\n");
		return 2;
	}
	use_tls = !strcmp(argv[1], "tls");
	nconn = (unsigned)atoi(argv[2]);
	snprintf(cert, sizeof(cert), "%s/sip.a.test.pem", argv[3]);
	snprintf(key, sizeof(key), "%s/sip.a.test.key", argv[3]);
	snprintf(ca, sizeof(ca), "%s/ca.pem", argv[3]);

	(void)setrlimit(RLIMIT_NOFILE, &rl);
	(void)fd_setsize(8192);
	if (libre_init())
		return 1;

	memset(&conf, 0, sizeof(conf));
	conf.cert = cert;
	conf.key = key;
	conf.ca = ca;
	conf.verify = true;
	if (sst_tls_ctx_alloc(&sctx, &conf) || sst_tls_ctx_alloc(&cctx, &conf))
		return 1;

	srvv = calloc(nconn, sizeof(*srvv));
	cliv = calloc(nconn, sizeof(*cliv));
	(void)sa_set_str(&laddr, "127.0.2.10", 0);
	/* not tcp_listen(): its backlog of 5 drops SYNs under a burst */
	if (tcp_sock_alloc(&lsock, &laddr, conn_h, NULL) ||
	    tcp_sock_bind(lsock, &laddr) || tcp_sock_listen(lsock, 1024))
		return 1;
	(void)tcp_sock_local_get(lsock, &srv);

	malloc_trim(0);
	rss0 = vm_rss_kib();
	heap0 = heap_used();

	for (i = 0; i < nconn && !failures; i += batch) {
		unsigned j, n = min(batch, nconn - i);

		for (j = 0; j < n; j++) {
			if (open_client(&cliv[i + j], &srv))
				++failures;
		}
		want_estab = 2 * (i + n);
		want_got = 2 * (i + n);
		(void)re_main(NULL);
	}

	rss1 = vm_rss_kib();
	heap1 = heap_used();

	if (failures || nestab != 2 * nconn || ngot != 2 * nconn) {
		fprintf(stderr, "failed: estab %u got %u failures %d\n",
			nestab, ngot, failures);
		return 1;
	}

	printf("%s conns=%u ends=%u rss_delta_kib=%ld "
	       "rss_per_end_bytes=%.0f heap_delta=%zu heap_per_end_bytes=%.0f\n",
	       argv[1], nconn, 2 * nconn, rss1 - rss0,
	       (double)(rss1 - rss0) * 1024.0 / (2.0 * nconn),
	       heap1 - heap0, (double)(heap1 - heap0) / (2.0 * nconn));

	for (i = 0; i < nconn; i++) {
		mem_deref(srvv[i].tls);
		mem_deref(srvv[i].tc);
		mem_deref(cliv[i].tls);
		mem_deref(cliv[i].tc);
	}
	free(srvv);
	free(cliv);
	mem_deref(lsock);
	mem_deref(sctx);
	mem_deref(cctx);
	libre_close();

	return 0;
}
