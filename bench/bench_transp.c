/*
 * bench_transp.c -- memory cost of idle connections on the transport.
 *
 * Opens N plain client sockets (no user-space state of their own) to a
 * TCP listener of one transport on 127.0.1.10, then reads the process's
 * resident size (VmRSS from /proc/self/status) and the malloc heap in
 * use (mallinfo2) before and after: once with the connections just
 * accepted, once after each carried one small SIP message (framing
 * buffer used and released).  Build without sanitizers: ASan's shadow
 * memory and quarantine make the figures meaningless.
 *
 * TLS mode: the clients are a second transport in a forked child (its
 * GnuTLS sessions must not count in the server's figures), each send
 * using its own expected name so the pool opens N connections; the
 * server's certificate is made with certtool through test/lib/testenv.sh.
 *
 * Usage: bench_transp [N [tcp|tls]]   (default 1000 tcp)
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <re.h>

#include "sipstack/sst_tls.h"
#include "sipstack/sst_transp.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static const char msg[] =
	"MESSAGE sip:bob@example.org SIP/2.0\r\n"
	"Via: SIP/2.0/TCP 127.0.1.11;branch=z9hG4bK1\r\n"
	"From: <sip:alice@example.com>;tag=1\r\n"
	"To: <sip:bob@example.org>\r\n"
	"Call-ID: bench\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 5\r\n"
	"\r\n"
	"hello";

static unsigned nrecv;
static struct sst_transp *tp;

static void recv_handler(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	(void)rx;
	(void)mb;
	(void)arg;
	++nrecv;
}

static long rss_kib(void)
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

static size_t heap_bytes(void)
{
	return mallinfo2().uordblks;
}

static unsigned get_nrecv(void)
{
	return nrecv;
}

static unsigned get_nconns(void)
{
	return sst_transp_nconns(tp);
}

/* Run the loop until get() reaches want or limit_ms passes. */
struct wait {
	struct tmr t;
	unsigned (*get)(void);
	unsigned want;
	uint64_t until;
};

static void poll_h(void *arg)
{
	struct wait *w = arg;

	if (w->get() >= w->want || tmr_jiffies() >= w->until) {
		re_cancel();
		return;
	}
	tmr_start(&w->t, 1, poll_h, w);
}

static void run_until(unsigned (*get)(void), unsigned want,
		      unsigned limit_ms)
{
	struct wait w;

	tmr_init(&w.t);
	w.get = get;
	w.want = want;
	w.until = tmr_jiffies() + limit_ms;
	tmr_start(&w.t, 0, poll_h, &w);
	(void)re_main(NULL);
	tmr_cancel(&w.t);
}

static void client_recv(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	(void)rx;
	(void)mb;
	(void)arg;
}

/* The TLS clients: wait for the server's address on fd, then open n
 * connections and idle until killed. */
static int tls_clients(int fd, unsigned n)
{
	struct sst_tls_conf tc;
	struct sst_transp_conf conf;
	struct sst_tls_ctx *ctx = NULL;
	struct sst_transp *ctp = NULL;
	struct sa srv, cl;
	unsigned i;

	if (read(fd, &srv, sizeof(srv)) != (ssize_t)sizeof(srv))
		return 1;
	if (libre_init() || sst_transp_init(n + 64))
		return 1;

	memset(&tc, 0, sizeof(tc));
	memset(&conf, 0, sizeof(conf));
	if (sst_tls_ctx_alloc(&ctx, &tc))
		return 1;
	conf.tls = ctx;
	conf.max_conns = n + 16;
	conf.max_per_ip = n + 16;
	if (sst_transp_alloc(&ctp, &conf, client_recv, NULL))
		return 1;
	sa_set_str(&cl, "127.0.1.11", 0);

	for (i = 0; i < n; i++) {
		struct mbuf *mb = mbuf_alloc(sizeof(msg));
		char name[32];

		snprintf(name, sizeof(name), "c%u.bench.test", i);
		mbuf_write_str(mb, msg);
		mb->pos = 0;
		if (sst_transp_send(ctp, NULL, SST_TP_TLS, &srv, &cl, name, mb,
				    NULL, NULL))
			return 1;
		mem_deref(mb);
		if (i % 50 == 49)
			run_until(get_nrecv, 1, 20);
	}

	(void)re_main(NULL);  /* until killed */
	return 0;
}

static int bench_tls(unsigned n)
{
	char dir[] = "/tmp/bench_transp.XXXXXX";
	char cmd[8192], cert[256], key[256];
	struct sst_tls_conf tc;
	struct sst_transp_conf conf;
	struct sst_tls_ctx *ctx = NULL;
	struct sa laddr;
	long rss0, rss1;
	size_t heap0, heap1;
	int pfd[2], status;
	pid_t pid;

	if (!mkdtemp(dir) || pipe(pfd))
		return 1;
	snprintf(cmd, sizeof(cmd), ". '%s/test/lib/testenv.sh' && "
		 "te_certs '%s' sip.bench.test:127.0.1.10", SRCDIR, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_transp: certtool failed\n");
		return 1;
	}
	snprintf(cert, sizeof(cert), "%s/sip.bench.test.chain.pem", dir);
	snprintf(key, sizeof(key), "%s/sip.bench.test.key", dir);

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(pfd[1]);
		_exit(tls_clients(pfd[0], n));
	}
	close(pfd[0]);

	if (libre_init() || sst_transp_init(n + 64))
		return 1;
	memset(&tc, 0, sizeof(tc));
	tc.cert = cert;
	tc.key = key;
	if (sst_tls_ctx_alloc(&ctx, &tc))
		return 1;
	memset(&conf, 0, sizeof(conf));
	conf.tls = ctx;
	conf.max_conns = n + 16;
	conf.max_per_ip = n + 16;
	if (sst_transp_alloc(&tp, &conf, recv_handler, NULL))
		return 1;
	sa_set_str(&laddr, "127.0.1.10", 0);
	if (sst_transp_listen(tp, SST_TP_TLS, &laddr, &laddr))
		return 1;

	run_until(get_nconns, 1, 50);
	malloc_trim(0);
	rss0 = rss_kib();
	heap0 = heap_bytes();

	if (write(pfd[1], &laddr, sizeof(laddr)) != (ssize_t)sizeof(laddr))
		return 1;
	run_until(get_nrecv, n, 60000);
	run_until(get_nconns, n + 1, 200);  /* settle */
	rss1 = rss_kib();
	heap1 = heap_bytes();

	printf("tls connections    %u (open %u, messages %u)\n", n,
	       sst_transp_nconns(tp), nrecv);
	printf("rss before         %ld KiB\n", rss0);
	printf("rss after 1 msg    %ld KiB  (+%.2f KiB/conn)\n", rss1,
	       (double)(rss1 - rss0) / n);
	printf("heap after 1 msg   +%.0f bytes/conn\n",
	       (double)(heap1 - heap0) / n);

	if (nrecv != n)
		re_fprintf(stderr, "%H", sst_transp_debug, tp);

	tp = mem_deref(tp);  /* close_notify reaches a live peer */
	mem_deref(ctx);
	kill(pid, SIGTERM);
	(void)waitpid(pid, &status, 0);
	close(pfd[1]);
	libre_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 && nrecv == n ? 0 : 1;
}

int main(int argc, char *argv[])
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	struct sst_transp_conf conf;
	struct sa laddr, cl;
	unsigned i;
	int *fds;
	long rss0, rss1, rss2;
	size_t heap0, heap1, heap2;
	int err;

	if (!n || n > 20000) {
		fprintf(stderr, "bench_transp: N must be 1..20000\n");
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "tls"))
		return bench_tls(n);

	fds = calloc(n, sizeof(*fds));
	if (!fds || libre_init())
		return 1;

	err = sst_transp_init(2 * n + 64);
	if (err) {
		re_fprintf(stderr, "bench_transp: init: %m\n", err);
		return 1;
	}

	memset(&conf, 0, sizeof(conf));
	conf.max_conns = n + 16;
	conf.max_per_ip = n + 16;
	err = sst_transp_alloc(&tp, &conf, recv_handler, NULL);
	sa_set_str(&laddr, "127.0.1.10", 0);
	err |= sst_transp_listen(tp, SST_TP_TCP, &laddr, &laddr);
	if (err) {
		re_fprintf(stderr, "bench_transp: listen: %m\n", err);
		return 1;
	}
	sa_set_str(&cl, "127.0.1.11", 0);

	/* settle: first use of the loop, timers, hash buckets */
	run_until(get_nconns, 1, 50);
	malloc_trim(0);
	rss0 = rss_kib();
	heap0 = heap_bytes();

	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], &cl.u.sa, cl.len) != 0 ||
		    fcntl(fds[i], F_SETFL, O_NONBLOCK) != 0 ||
		    (connect(fds[i], &laddr.u.sa, laddr.len) != 0 &&
		     errno != EINPROGRESS)) {
			re_fprintf(stderr, "bench_transp: client %u: %m\n", i,
				errno);
			return 1;
		}
		run_until(get_nconns, i + 1, 2000);
	}
	run_until(get_nconns, n + 1, 100);  /* let estab handlers run */

	rss1 = rss_kib();
	heap1 = heap_bytes();

	for (i = 0; i < n; i++) {
		if (write(fds[i], msg, strlen(msg)) != (ssize_t)strlen(msg))
			return 1;
	}
	run_until(get_nrecv, n, 5000);
	rss2 = rss_kib();
	heap2 = heap_bytes();

	printf("connections        %u (open %u, messages %u)\n", n,
	       sst_transp_nconns(tp), nrecv);
	printf("rss before         %ld KiB\n", rss0);
	printf("rss accepted       %ld KiB  (+%.2f KiB/conn)\n", rss1,
	       (double)(rss1 - rss0) / n);
	printf("rss after 1 msg    %ld KiB  (+%.2f KiB/conn)\n", rss2,
	       (double)(rss2 - rss0) / n);
	printf("heap accepted      +%.0f bytes/conn\n",
	       (double)(heap1 - heap0) / n);
	printf("heap after 1 msg   +%.0f bytes/conn\n",
	       (double)(heap2 - heap0) / n);

	for (i = 0; i < n; i++)
		close(fds[i]);
	tp = mem_deref(tp);
	free(fds);
	libre_close();
	return 0;
}
