/*
 * tdns.c -- a real dnsmasq for the CUnit tests (see tdns.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdns.h"

int tdns_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return errno;
	fputs(text, f);
	return fclose(f) ? errno : 0;
}

size_t tdns_log_count(const struct tdns *d, const char *needle)
{
	char line[1024];
	size_t n = 0;
	FILE *f = fopen(d->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle))
			n++;
	}
	fclose(f);
	return n;
}

/* Up to 5 s for the n-th line containing needle. */
bool tdns_log_wait(const struct tdns *d, const char *needle, size_t n)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (tdns_log_count(d, needle) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Start dnsmasq in the foreground on port with the config file conf,
 * logging queries to log, running as the current user; ready when its
 * log shows ready.  0, or -1 when it did not come up.
 */
int tdns_start(struct tdns *d, const char *conf, const char *log,
	       const char *port, const char *ready)
{
	char confarg[1200], logarg[1200], portarg[64], userarg[300];
	struct passwd *pw = getpwuid(getuid());

	snprintf(d->log, sizeof(d->log), "%s", log);
	snprintf(confarg, sizeof(confarg), "-C%s", conf);
	snprintf(logarg, sizeof(logarg), "--log-facility=%s", log);
	snprintf(portarg, sizeof(portarg), "--port=%s", port);
	snprintf(userarg, sizeof(userarg), "--user=%s",
		 pw ? pw->pw_name : "root");

	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("dnsmasq", "dnsmasq", "-k", confarg, portarg, logarg,
		       userarg, "--pid-file=", (char *)NULL);
		_exit(127);
	}

	return tdns_log_wait(d, ready, 1) ? 0 : -1;
}

void tdns_stop(struct tdns *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	d->pid = -1;
}
