/*
 * bench_conns.c -- memory a running server spends per idle connection.
 *
 * Opens N TCP (or TLS) connections to ADDR:PORT from source addresses
 * SRC, SRC+1, ... (PER connections each, under the server's per-address
 * limit), sends one SIP OPTIONS on each (a first message is due within
 * the server's first-message timeout), reads what comes back, and then
 * leaves them idle.  Prints the server's VmRSS (from /proc/PID/status)
 * before and after, and the difference per connection.  This process
 * holds the client ends, so its own memory is not in the figure.
 *
 * Usage: bench_conns -p PID -a ADDR -P PORT -s SRC [-n N] [-k PER]
 *                    [-t] [-c CERT -K KEY] [-w SECONDS]
 *   -t       TLS (GnuTLS; no verification of the server; CERT/KEY are
 *            presented as the client certificate when given)
 *   -w       seconds to hold the connections after measuring (0)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

enum {
	BC_MAX_CONNS = 20000,
	BC_IO_TIMEOUT_S = 5,
	BC_SETTLE_US = 1500000,
};

static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
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

static int open_one(const char *src, const char *dst, int port)
{
	struct sockaddr_in sa, da;
	struct timeval tv = { BC_IO_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	memset(&da, 0, sizeof(da));
	da.sin_family = AF_INET;
	da.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, dst, &da.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&da, sizeof(da))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int make_options(char *buf, size_t sz, const char *src, int lport,
			const char *dst, int port, unsigned i, int tls)
{
	return snprintf(buf, sz,
		"OPTIONS sip:%s:%d SIP/2.0\r\n"
		"Via: SIP/2.0/%s %s:%d;branch=z9hG4bKbc%u\r\n"
		"From: <sip:bench@chicago.test>;tag=bc%u\r\n"
		"To: <sip:%s:%d>\r\n"
		"Call-ID: bc%u@%s\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Max-Forwards: 70\r\n"
		"Content-Length: 0\r\n\r\n",
		dst, port, tls ? "TLS" : "TCP", src, lport, i, i, dst, port,
		i, src);
}

static void next_src(char *src, size_t sz, const char *base, unsigned k)
{
	struct in_addr a;

	inet_pton(AF_INET, base, &a);
	a.s_addr = htonl(ntohl(a.s_addr) + k);
	inet_ntop(AF_INET, &a, src, (socklen_t)sz);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *srcbase = NULL, *cert = NULL, *key = NULL;
	int pid = 0, port = 0, tls = 0, opt, i, *fds = NULL, err = 1;
	unsigned n = 1000, per = 60, hold = 0, opened = 0, answered = 0;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t *sess = NULL;
	long rss0, rss1;

	while ((opt = getopt(argc, argv, "p:a:P:s:n:k:tc:K:w:")) != -1) {
		switch (opt) {
		case 'p': pid = atoi(optarg); break;
		case 'a': addr = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 's': srcbase = optarg; break;
		case 'n': n = (unsigned)atoi(optarg); break;
		case 'k': per = (unsigned)atoi(optarg); break;
		case 't': tls = 1; break;
		case 'c': cert = optarg; break;
		case 'K': key = optarg; break;
		case 'w': hold = (unsigned)atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!pid || !addr || !port || !srcbase || !n || n > BC_MAX_CONNS ||
	    !per)
		goto usage;

	fds = calloc(n, sizeof(*fds));
	sess = calloc(n, sizeof(*sess));
	if (!fds || !sess)
		return 1;
	if (tls) {
		if (gnutls_global_init() ||
		    gnutls_certificate_allocate_credentials(&cred))
			return 1;
		if (cert && key &&
		    gnutls_certificate_set_x509_key_file(cred, cert, key,
							 GNUTLS_X509_FMT_PEM)) {
			fprintf(stderr, "bench_conns: cannot load %s\n", cert);
			return 1;
		}
	}

	rss0 = rss_kib(pid);
	for (i = 0; i < (int)n; i++) {
		char src[INET_ADDRSTRLEN], msg[512], rbuf[2048];
		struct sockaddr_in la;
		socklen_t ll = sizeof(la);
		int len;
		ssize_t r;

		next_src(src, sizeof(src), srcbase, (unsigned)i / per);
		fds[i] = open_one(src, addr, port);
		if (fds[i] < 0) {
			fprintf(stderr, "bench_conns: connect %u from %s: %s\n",
				i, src, strerror(errno));
			break;
		}
		getsockname(fds[i], (struct sockaddr *)&la, &ll);
		len = make_options(msg, sizeof(msg), src, ntohs(la.sin_port),
				   addr, port, (unsigned)i, tls);
		if (tls) {
			int e;

			if (gnutls_init(&sess[i], GNUTLS_CLIENT) ||
			    gnutls_set_default_priority(sess[i]) ||
			    gnutls_credentials_set(sess[i],
						   GNUTLS_CRD_CERTIFICATE, cred))
				break;
			gnutls_transport_set_int(sess[i], fds[i]);
			do {
				e = gnutls_handshake(sess[i]);
			} while (e < 0 && !gnutls_error_is_fatal(e));
			if (e < 0) {
				fprintf(stderr, "bench_conns: handshake %u: %s\n",
					i, gnutls_strerror(e));
				break;
			}
			if (gnutls_record_send(sess[i], msg, (size_t)len) != len)
				break;
			r = gnutls_record_recv(sess[i], rbuf, sizeof(rbuf));
		}
		else {
			if (send(fds[i], msg, (size_t)len, 0) != len)
				break;
			r = recv(fds[i], rbuf, sizeof(rbuf), 0);
		}
		++opened;
		if (r > 0)
			++answered;
	}
	usleep(BC_SETTLE_US);
	rss1 = rss_kib(pid);

	printf("connections=%u answered=%u kind=%s rss_before_kib=%ld "
	       "rss_after_kib=%ld per_conn_kib=%.2f\n", opened, answered,
	       tls ? "tls" : "tcp", rss0, rss1,
	       opened ? (double)(rss1 - rss0) / opened : 0.0);
	err = opened == n ? 0 : 1;
	if (hold)
		sleep(hold);

	for (i = 0; i < (int)opened; i++) {
		if (sess[i])
			gnutls_deinit(sess[i]);
		close(fds[i]);
	}
	if (cred)
		gnutls_certificate_free_credentials(cred);
	free(fds);
	free(sess);
	return err;

usage:
	fprintf(stderr, "usage: bench_conns -p PID -a ADDR -P PORT -s SRC "
		"[-n N] [-k PER] [-t] [-c CERT -K KEY] [-w S]\n");
	return 2;
}
