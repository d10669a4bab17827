/*
 * bench_topos.c -- CPU time of building a forwarded request and its
 * relayed response, plainly (sst_build_forward, sst_build_fwd_response)
 * and with topology hiding (hide_vias and a replaced Contact;
 * sst_build_fwd_response_th restoring the inside Vias and the
 * gateway-side Record-Route), on a gateway's SUBSCRIBE with two inside
 * Vias (the plain response carries them back, the hidden one does not).
 * Not part of make check; see README.md.
 *
 * usage: bench_topos [-n iterations] [-r rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"

static const char req_text[] =
	"SUBSCRIBE sip:bob@chicago.example SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 10.1.0.11:5070;branch=z9hG4bKgw1;rport\r\n"
	"Via: SIP/2.0/TLS 10.1.0.12:5061;branch=z9hG4bKcl1\r\n"
	"Max-Forwards: 69\r\n"
	"From: <sip:alice@acme.example>;tag=49583\r\n"
	"To: <sip:bob@chicago.example>\r\n"
	"Call-ID: 0a1b2c3d4e5f@stgateway\r\n"
	"CSeq: 1 SUBSCRIBE\r\n"
	"Contact: <sip:alice@10.1.0.11:5070;transport=udp>\r\n"
	"Event: presence\r\n"
	"Expires: 600\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static const char resp_text[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TLS sip.acme.example:5061;branch=z9hG4bKcn1\r\n"
	"Record-Route: <sip:sip.acme.example:5061;transport=tls;lr>\r\n"
	"From: <sip:alice@acme.example>;tag=49583\r\n"
	"To: <sip:bob@chicago.example>;tag=77\r\n"
	"Call-ID: 0a1b2c3d4e5f@stgateway\r\n"
	"CSeq: 1 SUBSCRIBE\r\n"
	"Contact: <sip:bob@198.51.100.20:5061;transport=tls>\r\n"
	"Expires: 600\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

/* the same answer without hiding: every Via came back */
static const char resp_plain_text[] =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/TLS sip.acme.example:5061;branch=z9hG4bKcn1\r\n"
	"Via: SIP/2.0/UDP 10.1.0.11:5070;branch=z9hG4bKgw1;rport=5070;"
	"received=10.1.0.11\r\n"
	"Via: SIP/2.0/TLS 10.1.0.12:5061;branch=z9hG4bKcl1\r\n"
	"Record-Route: <sip:sip.acme.example:5061;transport=tls;lr>, "
	"<sip:10.1.0.10:5060;transport=udp;lr>\r\n"
	"From: <sip:alice@acme.example>;tag=49583\r\n"
	"To: <sip:bob@chicago.example>;tag=77\r\n"
	"Call-ID: 0a1b2c3d4e5f@stgateway\r\n"
	"CSeq: 1 SUBSCRIBE\r\n"
	"Contact: <sip:bob@198.51.100.20:5061;transport=tls>\r\n"
	"Expires: 600\r\n"
	"Content-Length: 0\r\n"
	"\r\n";

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool self_h(const struct uri *uri, void *arg)
{
	(void)arg;
	return !pl_strcmp(&uri->host, "sip.acme.example");
}

static struct sip_msg *decode(const char *text)
{
	struct mbuf *mb = mbuf_alloc(strlen(text));
	struct sip_msg *m = NULL;

	if (!mb)
		return NULL;
	(void)mbuf_write_str(mb, text);
	mb->pos = 0;
	if (sip_msg_decode(&m, mb))
		m = NULL;
	mem_deref(mb);
	return m;
}

int main(int argc, char **argv)
{
	unsigned n = 200000, rounds = 5, r, i;
	double best[4] = {1e9, 1e9, 1e9, 1e9};
	struct sip_msg *req, *resp, *plain;
	struct sst_fwd_spec f;
	struct sst_fwdr_spec s;
	struct sa src;
	int c, k;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		switch (c) {
		case 'n': n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_topos [-n iterations]"
				" [-r rounds]\n");
			return 2;
		}
	}
	if (libre_init())
		return 1;
	req = decode(req_text);
	resp = decode(resp_text);
	plain = decode(resp_plain_text);
	if (!req || !resp || !plain) {
		fprintf(stderr, "bench_topos: messages do not decode\n");
		return 1;
	}
	(void)sa_set_str(&src, "10.1.0.11", 5070);
	memset(&f, 0, sizeof(f));
	f.via.tp = SIP_TRANSP_TLS;
	f.via.sentby = "sip.acme.example:5061";
	f.via.branch = "z9hG4bKcn1";
	f.rr = "<sip:sip.acme.example:5061;transport=tls;lr>";
	f.selfh = self_h;
	f.src = &src;
	memset(&s, 0, sizeof(s));
	s.req = req;
	s.src = &src;
	s.selfh = self_h;
	s.rr_in = "<sip:10.1.0.10:5060;transport=udp;lr>";

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 4; k++) {
			const double t0 = cpu_now();
			double t;

			f.hide_vias = k == 1;
			f.contact = k == 1 ?
				"<sip:th17.8a3f00c1@sip.acme.example:5061;"
				"transport=tls>" : NULL;
			for (i = 0; i < n; i++) {
				struct mbuf *mb = NULL;

				if (k < 2)
					(void)sst_build_forward(&mb, req, &f);
				else if (k == 2)
					(void)sst_build_fwd_response(&mb,
								     plain);
				else
					(void)sst_build_fwd_response_th(&mb,
									resp,
									&s);
				mem_deref(mb);
			}
			t = (cpu_now() - t0) / n;
			if (t < best[k])
				best[k] = t;
		}
	}
	printf("%u iterations x %u rounds (best)\n", n, rounds);
	printf("forward request, plain:        %.2f us\n", best[0] * 1e6);
	printf("forward request, hidden:       %.2f us\n", best[1] * 1e6);
	printf("relay response, plain:         %.2f us\n", best[2] * 1e6);
	printf("relay response, Vias restored: %.2f us\n", best[3] * 1e6);
	printf("ratio request hidden/plain:    %.3f\n", best[1] / best[0]);
	printf("ratio response restored/plain: %.3f\n", best[3] / best[2]);
	mem_deref(req);
	mem_deref(resp);
	mem_deref(plain);
	libre_close();
	return 0;
}
