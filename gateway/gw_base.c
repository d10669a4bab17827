/*
 * gw_base.c -- the gateway's clock and the local-domain decision
 * (gw_base.h).  A leaf: it uses the context's configuration and
 * sipstack's timer, and calls no gateway service.
 */
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"

uint64_t gw_now(void)
{
	return sst_tmr_now() / 1000;
}

bool gw_domain_is_local(const struct gw *gw, const struct pl *host)
{
	char buf[CFG_DOMAIN_MAX + 1];

	if (!gw || !host || !host->l || host->l > CFG_DOMAIN_MAX)
		return false;
	if (pl_strcpy(host, buf, sizeof(buf)))
		return false;
	return cfg_domain_is_local(gw->cfg, buf);
}

int64_t gw_store_wall(uint64_t expires)
{
	const uint64_t now = gw_now();
	const int64_t wall = (int64_t)time(NULL);

	return expires > now ? wall + (int64_t)(expires - now) : wall;
}

uint64_t gw_store_mono(int64_t expires)
{
	const int64_t wall = (int64_t)time(NULL);

	return expires > wall ? gw_now() + (uint64_t)(expires - wall) : 0;
}
