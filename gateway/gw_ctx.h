/*
 * gw_ctx.h -- the running gateway's life (gw.c): build the context
 * from a configuration, start it, reload it, pick this gateway's
 * record, and whether it runs degraded.
 *
 * Owns: nothing of struct gw's contents (gateway/gw.h); only the calls
 *	that the program (gw_daemon.c) and the control side (gw_ctl.c)
 *	make on the whole context.  gw.c is the top of the gateway: it
 *	starts and closes every service and wires their callbacks
 *	(gateway/gw_obs.h); no service calls it.
 */
#ifndef STC_GW_CTX_H
#define STC_GW_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

#include "conf/cfg.h"

struct gw;

int  gw_alloc(struct gw **gwp, struct cfg *cfg, const char *name,
	      const char *cfgpath, char *why, size_t whysz);
int  gw_start(struct gw *gw);
int  gw_self_pick(const struct cfg *cfg, const char *name,
		  const struct cfg_gateway **selfp, const char **whyp);
int  gw_reload(struct gw *gw, struct re_printf *pf);
bool gw_degraded(const struct gw *gw);

#endif /* STC_GW_CTX_H */
