/*
 * dmn_detach.c -- go to the background without losing the start-up
 * result: the parent waits for one status byte from the child and exits
 * with it, so an administrator starting a daemon sees a failure that
 * happens after the fork (control socket in use, bind refused, ...).
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
		unsigned char st = DMN_EXIT_FAIL;

		close(fds[1]);
		if (read(fds[0], &st, 1) != 1) {
			fprintf(stderr, "%s: the daemon stopped during "
				"start-up (see the system log)\n", prog);
			st = DMN_EXIT_FAIL;
		}
		else if (st != DMN_EXIT_OK) {
			fprintf(stderr, "%s: start-up failed (see the system "
				"log)\n", prog);
		}
		_exit(st);
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
	unsigned char st = (unsigned char)status;

	if (!fdp || *fdp < 0)
		return;
	if (write(*fdp, &st, 1) < 0) {
		/* the parent is gone: nobody to tell */
	}
	close(*fdp);
	*fdp = -1;
}
