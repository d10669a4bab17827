/*
 * fuzz_dir_ldif.c -- libFuzzer target: every input is an LDIF file for
 * the directory's file backend (dir_ldif_open).  A file that loads is
 * searched by id, email, group and DN; a refused one must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The code under test is compiled into this unit, so that it carries
 * the fuzzer's coverage instrumentation. */
#include "directory/dir_ldif.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static char path[4096];

static void path_drop(void)
{
	unlink(path);
}

static const struct dir_names names = {
	{"uid", "mail", "userPassword", "member"}, "dc=acme,dc=test",
	CFG_SCOPE_SUB, NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum dir_query q;
		const char *v;
	} qv[] = {
		{DIR_Q_BY_ID, "alice"}, {DIR_Q_BY_EMAIL, "alice@acme.test"},
		{DIR_Q_GROUP, "staff"},
		{DIR_Q_DN, "uid=alice,ou=people,dc=acme,dc=test"},
	};
	struct dir_be *be = NULL;
	char why[512] = "";
	size_t i;
	FILE *f;
	int err;

	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		int fd;

		snprintf(path, sizeof(path), "%s/fuzz_ldif.XXXXXX",
			 tmp && tmp[0] ? tmp : "/tmp");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(path_drop);
	}
	f = fopen(path, "w");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	err = dir_ldif_open(&be, path, &names, why, sizeof(why));
	if (err) {
		if (!why[0] && err != ENOMEM)
			abort();  /* every refusal names file and line */
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(qv); i++) {
		struct dir_ents ents = {0};

		if (!be->ops->find(be, qv[i].q, qv[i].v, 4, &ents, why,
				   sizeof(why)))
			dir_ents_free(&ents);
	}
	be->ops->destroy(be);
	return 0;
}
