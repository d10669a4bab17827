/*
 * cfg_ctl.c -- where a control client finds the running daemon's
 * socket: the record's control attribute in the same file.
 *
 * A broken file still names the control socket: the daemon runs with
 * its last good configuration and must stay reachable, above all for
 * the reload that answers with these same errors (kept back unless the
 * daemon does not answer).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/cfg_int.h"

int cfg_ctl_find(char *buf, size_t size, const char *path, const char *name,
		 bool hold, void *arg)
{
	struct cfg_ctl_find *cf = arg;
	const char *control = NULL, *rec = NULL, *why = NULL;
	struct cfg_diag diag = {0};
	struct cfg *cfg = NULL;
	int err, rc = 1;

	err = cfg_load_partial(&cfg, path, &diag);
	if (err && !cfg) {
		cfg_diag_fail(stderr, cf->prog, path, &diag, err);
		fprintf(stderr, "%s: cannot find the control socket in %s; "
			"name it with -s SOCKET\n", cf->prog, path);
		return 1;
	}
	if (err) {
		if (hold) {
			cfg_diag_reset(&cf->held);
			cf->held = diag;
			memset(&diag, 0, sizeof(diag));
		}
		else {
			cfg_diag_print(&diag, stderr);
		}
		fprintf(stderr, "%s: %s has errors; asking the running daemon "
			"anyway\n", cf->prog, path);
	}

	if (cf->pickh(cfg, name, &control, &rec, &why)) {
		fprintf(stderr, "%s: %s: %s\n", cf->prog, path, why);
		goto out;
	}
	if (!control) {
		fprintf(stderr, "%s: %s: %s \"%s\" has no control socket "
			"(attribute control)\n", cf->prog, path, cf->record,
			rec);
		goto out;
	}
	if (strlen(control) >= size) {
		fprintf(stderr, "%s: %s: control socket path too long\n",
			cf->prog, path);
		goto out;
	}
	memcpy(buf, control, strlen(control) + 1);
	rc = 0;
 out:
	cfg_diag_reset(&diag);
	cfg_free(cfg);
	return rc;
}

void cfg_ctl_done(bool answered, void *arg)
{
	struct cfg_ctl_find *cf = arg;

	if (!answered)
		cfg_diag_print(&cf->held, stderr);
	cfg_diag_reset(&cf->held);
}
