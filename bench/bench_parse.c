/*
 * bench_parse.c -- CPU time per message of libre's bare sip_msg_decode()
 * and of sst_msg_decode() (decode + validation) on a typical 500-byte
 * MESSAGE, and their ratio.  Not part of make check; see README.md.
 *
 * usage: bench_parse [-m both|libre|sst] [-n iterations] [-r rounds]
 * With -m libre or -m sst only that loop runs (for callgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_msg.h"

static const char msg_text[] =
	"MESSAGE sip:bob@example.org SIP/2.0\r\n"
	"Via: SIP/2.0/TLS proxy.example.net:5061;branch=z9hG4bK776asdhds\r\n"
	"Max-Forwards: 69\r\n"
	"From: \"Alice\" <sip:alice@example.net>;tag=49583\r\n"
	"To: \"Bob\" <sip:bob@example.org>\r\n"
	"Call-ID: asd88asd77a@1.2.3.4\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Contact: <sip:alice@proxy.example.net;transport=tls>\r\n"
	"User-Agent: stconnector-bench\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 123\r\n"
	"\r\n"
	"Watson, come here. I want to see you. This is a typical short "
	"instant message body sent between two federated users.... ok.";

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run_libre(struct mbuf *mb, unsigned n)
{
	const double t0 = cpu_now();
	unsigned i;

	for (i = 0; i < n; i++) {
		struct sip_msg *msg = NULL;

		mb->pos = 0;
		if (sip_msg_decode(&msg, mb))
			abort();
		mem_deref(msg);
	}

	return (cpu_now() - t0) / n;
}

static double run_sst(struct mbuf *mb, unsigned n)
{
	const double t0 = cpu_now();
	const size_t end = mb->end;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct sip_msg *msg = NULL;
		struct sst_verdict v;

		mb->pos = 0;
		mb->end = end;
		if (sst_msg_decode(&msg, mb, false, NULL, &v))
			abort();
		mem_deref(msg);
	}

	return (cpu_now() - t0) / n;
}

int main(int argc, char **argv)
{
	const char *mode = "both";
	unsigned n = 200000, rounds = 5, r;
	double best_l = 1e9, best_s = 1e9;
	struct mbuf *mb;
	int c;

	while ((c = getopt(argc, argv, "m:n:r:")) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_parse [-m both|libre|sst]"
				" [-n iterations] [-r rounds]\n");
			return 2;
		}
	}

	if (libre_init())
		return 1;

	mb = mbuf_alloc(sizeof(msg_text));
	if (!mb)
		return 1;
	(void)mbuf_write_mem(mb, (const uint8_t *)msg_text,
			     sizeof(msg_text) - 1);

	if (!strcmp(mode, "libre")) {
		if (n)
			run_libre(mb, n);
	}
	else if (!strcmp(mode, "sst")) {
		if (n)
			run_sst(mb, n);
	}
	else {
		for (r = 0; r < rounds; r++) {
			const double l = run_libre(mb, n);
			const double s = run_sst(mb, n);

			if (l < best_l)
				best_l = l;
			if (s < best_s)
				best_s = s;
		}
		printf("message: %zu bytes, %u iterations x %u rounds (best)\n",
		       sizeof(msg_text) - 1, n, rounds);
		printf("sip_msg_decode:  %.2f us/msg\n", best_l * 1e6);
		printf("sst_msg_decode:  %.2f us/msg\n", best_s * 1e6);
		printf("ratio sst/libre: %.3f\n", best_s / best_l);
	}

	mem_deref(mb);
	libre_close();
	return 0;
}
