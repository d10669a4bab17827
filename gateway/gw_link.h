/*
 * gw_link.h -- the links to connectors (implemented in gw_fed.c, see
 * gateway/gw_fed.h for why).
 *
 * Owns: starting and closing the links, their probes (gw_fed_tick),
 *	status, "degraded" and the `reset` control command.
 */
#ifndef STC_GW_LINK_H
#define STC_GW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

struct gw;
struct dmn_st;

int  gw_fed_start(struct gw *gw);
void gw_fed_close(struct gw *gw);
void gw_fed_tick(struct gw *gw, uint64_t now);
void gw_fed_status_build(struct dmn_st *root, struct gw *gw);
bool gw_fed_degraded(const struct gw *gw);

/* `reset [CONNECTOR]`: probe down links now (all, or the one named)
 * and retry every federation subscription waiting out a backoff;
 * ENOENT when no link has that name. */
int  gw_fed_reset(struct gw *gw, const char *name, struct re_printf *pf);

#endif /* STC_GW_LINK_H */
