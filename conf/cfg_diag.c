/*
 * cfg_diag.c -- the list of "FILE:LINE: message" lines a load produces.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/cfg_int.h"

void cfg_diag_add(struct cfg_diag *diag, const char *file, unsigned line,
		  bool warning, const char *fmt, ...)
{
	char body[1024], full[1400];
	char **v;
	char *s;
	va_list ap;

	if (!diag)
		return;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);

	if (line)
		snprintf(full, sizeof(full), "%s:%u: %s%s", file, line,
			 warning ? "warning: " : "", body);
	else
		snprintf(full, sizeof(full), "%s: %s%s", file,
			 warning ? "warning: " : "", body);

	if (!warning)
		diag->nerr++;
	if (diag->n > CFG_DIAG_MAX)
		return;   /* still counted */
	if (diag->n == CFG_DIAG_MAX)
		snprintf(full, sizeof(full), "%s: too many problems; "
			 "the rest are not listed", file);

	s = strdup(full);
	v = realloc(diag->msg, (diag->n + 1) * sizeof(*v));
	if (!s || !v) {
		/* Keep the count right even when the text is lost. */
		free(s);
		if (v)
			diag->msg = v;
		return;
	}
	diag->msg = v;
	diag->msg[diag->n++] = s;
}

void cfg_diag_reset(struct cfg_diag *diag)
{
	size_t i;

	if (!diag)
		return;
	for (i = 0; i < diag->n; i++)
		free(diag->msg[i]);
	free(diag->msg);
	diag->msg = NULL;
	diag->n = 0;
	diag->nerr = 0;
}

void cfg_diag_print(const struct cfg_diag *diag, FILE *f)
{
	size_t i;

	if (!diag || !f)
		return;
	for (i = 0; i < diag->n; i++)
		fprintf(f, "%s\n", diag->msg[i]);
}

int cfg_load_print(struct cfg **cfgp, const char *path, const char *prog,
		   FILE *f)
{
	struct cfg_diag diag = {0};
	int err;

	err = cfg_load(cfgp, path, &diag);
	if (diag.n)
		cfg_diag_print(&diag, f);
	else if (err)
		fprintf(f, "%s: %s: %s\n", prog, path, strerror(err));
	cfg_diag_reset(&diag);
	return err;
}

void cfg_diag_fail(FILE *f, const char *prog, const char *path,
		   struct cfg_diag *diag, int err)
{
	if (!f || !diag)
		return;
	cfg_diag_print(diag, f);
	if (!diag->n)
		fprintf(f, "%s%s%s: %s\n", prog ? prog : "", prog ? ": " : "",
			path ? path : "?", strerror(err));
	cfg_diag_reset(diag);
}
