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
 * Usage: bench_transp [N]   (default 1000)
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <re.h>

#include "sipstack/sst_transp.h"

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
