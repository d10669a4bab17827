/*
 * dmn_sig.c -- signals into the libre loop through a self-pipe.
 *
 * The signal handler does one thing that is async-signal-safe: write
 * the signal number as one byte to a non-blocking pipe.  The loop
 * reads the pipe (fd_listen) and calls the daemon's handlers there,
 * where allocation, logging and reconfiguration are allowed.  A full
 * pipe drops the byte: enough of the same signal are already queued.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

struct dmn_sig {
	int pfd[2];
	dmn_sig_h *reloadh;
	dmn_sig_h *stoph;
	void *arg;
};

static const int caught[] = {SIGHUP, SIGTERM, SIGINT};

/* Only the handler reads it; set before the handlers are installed. */
static volatile sig_atomic_t wfd = -1;
static struct dmn_sig *active;

static void on_signal(int sig)
{
	const int saved = errno;
	const unsigned char b = (unsigned char)sig;

	if (wfd >= 0)
		(void)!write(wfd, &b, 1);
	errno = saved;
}

static void pipe_handler(int flags, void *arg)
{
	struct dmn_sig *s = arg;
	unsigned char buf[64];
	ssize_t n, i;
	(void)flags;

	n = read(s->pfd[0], buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		/* a handler may free s (shutdown): look it up again */
		if (active != s)
			return;
		if (buf[i] == SIGHUP) {
			dmn_log_info("sig: received signal=HUP");
			if (s->reloadh)
				s->reloadh(SIGHUP, s->arg);
		}
		else {
			dmn_log_info("sig: received signal=%s",
				     buf[i] == SIGINT ? "INT" : "TERM");
			if (s->stoph)
				s->stoph(buf[i], s->arg);
		}
	}
}

static void destructor(void *arg)
{
	struct dmn_sig *s = arg;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(caught); i++)
		(void)signal(caught[i], SIG_DFL);
	wfd = -1;
	if (s->pfd[0] >= 0) {
		fd_close(s->pfd[0]);
		(void)close(s->pfd[0]);
	}
	if (s->pfd[1] >= 0)
		(void)close(s->pfd[1]);
	if (active == s)
		active = NULL;
}

int dmn_sig_alloc(struct dmn_sig **sigp, dmn_sig_h *reloadh,
		  dmn_sig_h *stoph, void *arg)
{
	struct sigaction sa;
	struct dmn_sig *s;
	size_t i;
	int err;

	if (!sigp)
		return EINVAL;
	if (active)
		return EALREADY;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;
	s->pfd[0] = s->pfd[1] = -1;
	s->reloadh = reloadh;
	s->stoph = stoph;
	s->arg = arg;

	if (pipe2(s->pfd, O_NONBLOCK | O_CLOEXEC) != 0) {
		err = errno;
		goto out;
	}

	err = fd_listen(s->pfd[0], FD_READ, pipe_handler, s);
	if (err)
		goto out;

	active = s;
	wfd = s->pfd[1];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(caught); i++) {
		if (sigaction(caught[i], &sa, NULL) != 0) {
			err = errno;
			goto out;
		}
	}
	(void)signal(SIGPIPE, SIG_IGN);

 out:
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "sig: cannot set up signals");
		mem_deref(s);
	}
	else {
		*sigp = s;
	}
	return err;
}
