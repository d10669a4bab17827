/*
 * dmn_ctlc.c -- the command line's side of the control socket.
 *
 * Blocking, with one deadline for the whole exchange: this runs in the
 * short-lived CLI process, never in a daemon's loop.  The answer is
 * copied to the caller's FILE as it arrives, dot-stuffing removed,
 * until the ".exit N" line (see dmn.h for the framing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

enum { DOTLINE_MAX = 16, CONNECT_RETRY_MS = 10 };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 0, ETIMEDOUT or errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {fd, events, 0};
		const int64_t left = deadline - mono_ms();
		int n;

		if (left <= 0)
			return ETIMEDOUT;
		n = poll(&p, 1, (int)min(left, (int64_t)INT32_MAX));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno;
	}
}

/* Answer parser: text, dot-stuffing, and the closing ".exit N". */
struct answer {
	FILE *out;
	bool bol;		/* at the beginning of a line */
	bool dot;		/* inside a line that began with '.' */
	char dl[DOTLINE_MAX];
	size_t dlen;
	bool done;
	int status;
};

static int parse_exit(struct answer *a)
{
	size_t i;
	int v = 0;

	if (a->dlen < 6 || a->dlen > 8 || memcmp(a->dl, "exit ", 5))
		return EPROTO;
	for (i = 5; i < a->dlen; i++) {
		if (a->dl[i] < '0' || a->dl[i] > '9')
			return EPROTO;
		v = v * 10 + (a->dl[i] - '0');
	}
	if (v > 255)
		return EPROTO;
	a->status = v;
	a->done = true;
	return 0;
}

static int answer_feed(struct answer *a, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !a->done; i++) {
		const char c = p[i];

		if (a->dot) {
			if (a->dlen == 0 && c == '.') {
				/* stuffed: the line's text starts here */
				a->dot = false;
				a->bol = false;
				if (a->out)
					fputc('.', a->out);
				continue;
			}
			if (c == '\n') {
				int err = parse_exit(a);

				if (err)
					return err;
				continue;
			}
			if (a->dlen == sizeof(a->dl))
				return EPROTO;
			a->dl[a->dlen++] = c;
			continue;
		}

		if (a->bol && c == '.') {
			a->dot = true;
			a->dlen = 0;
			continue;
		}
		if (a->out)
			fputc(c, a->out);
		a->bol = c == '\n';
	}
	return 0;
}

static int check_line(const char *line)
{
	const size_t len = strlen(line);
	size_t i;

	if (len + 1 > DMN_CTL_LINE_MAX)
		return EMSGSIZE;
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < ' ' && line[i] != '\t')
			return EINVAL;
		if (line[i] == 0x7f)
			return EINVAL;
	}
	return 0;
}

static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int err;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return errno;
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

int dmn_ctl_request(const char *path, const char *line, FILE *out,
		    unsigned timeout_ms, int *statusp)
{
	const int64_t deadline = mono_ms() + timeout_ms;
	struct answer a = {out, true, false, {0}, 0, false, 0};
	struct sockaddr_un sun;
	char buf[4096];
	int fd = -1, err;

	if (!path || !line || !statusp)
		return EINVAL;
	err = check_line(line);
	if (err)
		return err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;

	/* a full backlog says EAGAIN: the daemon is busy, not gone */
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		struct timespec ts = {0, CONNECT_RETRY_MS * 1000000L};

		err = errno;
		if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR) {
			err = ENOTCONN;
			goto out;
		}
		if (err == EPERM)
			err = EACCES;
		if (err != EAGAIN && err != EINTR)
			goto out;
		if (mono_ms() >= deadline) {
			err = ETIMEDOUT;
			goto out;
		}
		(void)nanosleep(&ts, NULL);
	}

	/* a daemon that refuses at once (too many clients) answers and
	 * closes before reading: its answer is still there to read */
	err = send_all(fd, line, strlen(line), deadline);
	if (!err)
		err = send_all(fd, "\n", 1, deadline);
	if (err && err != EPIPE && err != ECONNRESET)
		goto out;

	while (!a.done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			err = answer_feed(&a, buf, (size_t)n);
			if (err)
				goto out;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			err = EPROTO;	/* closed without ".exit N" */
			goto out;
		}
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			goto out;
	}

	if (out)
		fflush(out);
	*statusp = a.status;
	err = 0;

 out:
	(void)close(fd);
	return err;
}

int dmn_ctl_exit_code(int err, int status)
{
	switch (err) {

	case 0:
		return status;
	case ENOTCONN:
		return DMN_EXIT_NOTRUNNING;
	case EACCES:
		return DMN_EXIT_DENIED;
	case EMSGSIZE:
	case EINVAL:
		return DMN_EXIT_USAGE;
	default:
		return DMN_EXIT_FAIL;
	}
}
