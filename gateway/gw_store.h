/*
 * gw_store.h -- the state store (store/sto.h) from the gateway's side
 * (gw_store.c).
 *
 * Owns: opening the store and restoring from it at start (bindings
 *	itself, publications and subscriptions through gateway/gw_pres.h),
 *	the write hook after a REGISTER, status and "degraded".
 *	Hooks are no-ops while gw->store is NULL (tests, shutdown).
 *	The clock conversions and a flow's text form are leaf helpers
 *	(gateway/gw_base.h, gateway/gw_lsnr.h).
 */
#ifndef STC_GW_STORE_H
#define STC_GW_STORE_H

#include <stdbool.h>

struct gw;
struct dmn_st;

int  gw_store_start(struct gw *gw);
void gw_store_close(struct gw *gw);
void gw_store_reg(struct gw *gw, const char *aor);
void gw_store_status(struct dmn_st *root, const struct gw *gw);
bool gw_store_degraded(const struct gw *gw);

#endif /* STC_GW_STORE_H */
