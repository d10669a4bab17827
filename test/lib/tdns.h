/*
 * tdns.h -- a real dnsmasq for the CUnit tests: started as the test's
 * child from a config file the test wrote, its query log readable (to
 * count the queries that reached it), stopped by its PID.
 *
 * Owns: the fork/exec, the readiness wait, the log.
 * Not here: what the records are (each test writes its own config).
 */
#ifndef STC_TDNS_H
#define STC_TDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tdns {
	pid_t pid;
	char log[1100];		/* the query log (--log-facility) */
};

int    tdns_write(const char *path, const char *text);
int    tdns_start(struct tdns *d, const char *conf, const char *log,
		  const char *port, const char *ready);
void   tdns_stop(struct tdns *d);
size_t tdns_log_count(const struct tdns *d, const char *needle);
bool   tdns_log_wait(const struct tdns *d, const char *needle, size_t n);

#endif
