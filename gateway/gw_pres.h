/*
 * gw_pres.h -- the presence service (gw_pres.c): PUBLISH, SUBSCRIBE,
 * NOTIFY, and the presence state of local and watched AORs.
 *
 * Owns: publications (gw->pres), subscriptions (gw->subs, subt, subd)
 *	and their NOTIFYs, local and external watchers; the restore of
 *	publications and subscriptions read from the state store.
 * Not here: the state of an external presentity (the federation
 *	subscription gw_fed.c holds, asked through gw->obs) and of a user
 *	registered at another gateway (gateway/gw_shared.h).  Services
 *	that change an AOR's state call gw_pres_changed, directly or as
 *	gw->obs.changed.
 */
#ifndef STC_GW_PRES_H
#define STC_GW_PRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

#include "sipstack/sst_pidf.h"

struct gw;
struct gw_req;
struct sip_msg;
struct sst_strans;
struct sst_flow;
struct dmn_st;
struct sto_pub;
struct sto_sub;

/* Requests from the dispatch (gw_sip.c) */
void gw_publish(struct gw_req *rq);
void gw_subscribe(struct gw_req *rq);
bool gw_subscribe_indialog(struct gw *gw, const struct sip_msg *msg,
			   struct sst_strans *stx, struct sst_flow *fl);

/* State, sweep, status */
enum sst_status gw_pres_status(struct gw *gw, const char *aor);
void gw_pres_changed(struct gw *gw, const char *aor);
void gw_pres_sweep(struct gw *gw, uint64_t now);
void gw_pres_close(struct gw *gw);
unsigned gw_pub_count(const struct gw *gw);

/* Live subscriptions; each added to list when list is set. */
unsigned gw_subs_status(const struct gw *gw, struct dmn_st *list);

/* Subscribe rq's local watcher to an external presentity (after
 * gw_outbound accepted it); and a local user's external watcher
 * (rq->fed, rq->target the local ID, rq->entity the email AOR). */
void gw_subscribe_external(struct gw_req *rq);
void gw_subscribe_fed(struct gw_req *rq);

/* Live local subscriptions whose target is aor. */
unsigned gw_pres_watchers(const struct gw *gw, const char *aor);
/* Live local subscriptions of watcher (an AOR) to aor. */
unsigned gw_pres_watching(const struct gw *gw, const char *watcher,
			  const char *aor);
unsigned gw_pres_ext_watchers(const struct gw *gw);

/* Put restored records back (gw_store.c, at start only) */
void gw_pres_restore_pub(struct gw *gw, const struct sto_pub *p,
			 uint64_t expires);
int  gw_pres_restore_sub(struct gw *gw, const struct sto_sub *u,
			 struct sst_flow *fl, uint64_t expires);
void gw_pres_restore_done(struct gw *gw);

#endif /* STC_GW_PRES_H */
