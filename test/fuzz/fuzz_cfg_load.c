/*
 * fuzz_cfg_load.c -- libFuzzer target: every input is a community
 * configuration file for cfg_load().  A file that loads is queried the
 * way the daemons do (domains, connectors, gateways); a refused one
 * must carry at least one error message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

static void path_drop(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_diag diag = {NULL, 0, 0};
	struct cfg *cfg = NULL;
	FILE *f;
	int err;

	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		int fd;

		snprintf(path, sizeof(path), "%s/fuzz_cfg.XXXXXX",
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

	err = cfg_load(&cfg, path, &diag);
	if (err) {
		if (cfg || (err != ENOMEM && !diag.nerr))
			abort();  /* a refusal says why */
	}
	else {
		(void)cfg_extern_find(cfg, "sip.chicago.test");
		(void)cfg_domain_is_local(cfg, "acme.test");
		(void)cfg_connector_find(cfg, "edge1");
		(void)cfg_gateway_find(cfg, "gw");
		cfg_free(cfg);
	}
	cfg_diag_reset(&diag);
	return 0;
}
