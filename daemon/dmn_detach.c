/*
 * dmn_detach.c -- go to the background without losing the start-up
 * result: the parent prints the child's error lines and exits with its
 * status, so an administrator starting a daemon sees a failure that
 * happens after the fork (control socket in use, bind refused, ...)
 * and its reason.
 *
 * Shared by stconnector and stgateway.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/dmn.h"

enum { DETACH_MSG_MAX = 8192 };

/* Print the child's error lines; its status, or DMN_EXIT_FAIL. */
static int parent_wait(const char *prog, int fd)
{
	char buf[DETACH_MSG_MAX + 1];
	size_t len = 0, nlines = 0;
	int st = -1;
	char *p, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + len, DETACH_MSG_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == DETACH_MSG_MAX)
			len = 0;	/* a flood: keep the end */
	}
	if (len >= 2 && buf[len - 2] == '\0') {
		st = (unsigned char)buf[len - 1];
		len -= 2;
	}
	buf[len] = '\0';
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		fprintf(stderr, "%s: %s\n", prog, p);
		nlines++;
	}
	if (st < 0) {
		fprintf(stderr, "%s: the daemon stopped during start-up%s\n",
			prog, nlines ? "" : " (see the system log)");
		return DMN_EXIT_FAIL;
	}
	if (st != DMN_EXIT_OK)
		fprintf(stderr, "%s: start-up failed%s\n", prog, nlines ?
			" (the lines above are also in the system log)" :
			" (see the system log)");
	return st;
}

int dmn_detach(const char *prog)
{
	int fds[2], fd;
	pid_t pid;

	if (!prog)
		return -1;
	if (pipe(fds) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		_exit(parent_wait(prog, fds[0]));
	}

	close(fds[0]);
	if (setsid() < 0 || chdir("/") < 0) {
		close(fds[1]);
		return -1;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return fds[1];
}

void dmn_detach_report(int *fdp, int status)
{
	unsigned char st[2] = {0, (unsigned char)status};

	if (!fdp || *fdp < 0)
		return;
	dmn_log_tee_set(-1);
	if (write(*fdp, st, 2) < 0) {
		/* the parent is gone: nobody to tell */
	}
	close(*fdp);
	*fdp = -1;
}
