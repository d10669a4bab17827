/*
 * gw_obs.h -- the registered callbacks through which gateway services
 * that must reach each other do so without including each other's
 * headers (DESIGN.md: feature files that must call each other do it
 * through a registered callback).
 *
 * Owns: struct gw_obs (one in struct gw) and the calls through it.
 *	gw.c fills it once, in gw_alloc(), before any request, restore or
 *	timer can use it; nothing changes it afterwards.
 * Why each one exists:
 *	ext_status, ext_watch  presence (gw_pres.c) asks the federation
 *	        side (gw_fed.c) for an external presentity's state as one
 *	        local watcher sees it, and to hold the subscription that
 *	        state comes from (one shared per presentity in a SIP
 *	        community, one per watcher in an XMPP community), while
 *	        federation calls into presence (a NOTIFY from outside
 *	        changed a state; an external watcher subscribes).  This is
 *	        the presence <-> federation loop turned into an observer.
 *	        Both carry the local watcher's AOR (sip:asmith@acme.test);
 *	        ext_watch also its federation address when the request
 *	        that made the subscription found it (Alice.Smith@acme.test,
 *	        gw_req.email), NULL when not (a restored subscription):
 *	        the federation side then finds it itself.  ext_watch is
 *	        called once per new local dialog, never for its refreshes.
 *	ext_outbound  the seam gw_outbound() (gw_route.c) hands a local
 *	        user's request for an external target to (gw_fed.c), while
 *	        federation delivers MESSAGEs and NOTIFYs through the
 *	        services that call gw_outbound().
 *	changed  the other gateways of a shared store (gw_shared.c) tell
 *	        presence that a user's state changed there, while presence
 *	        reads that state from gw_shared.c.
 * Unset (a context built by a test): an external or shared AOR reads
 *	offline with no note, nothing is watched, a request for an
 *	external target gets 503 "No connector available" (what
 *	gw_fed_outbound answers without links), and changes go unseen.
 */
#ifndef STC_GW_OBS_H
#define STC_GW_OBS_H

#include <stddef.h>

#include "sipstack/sst_pidf.h"

struct gw;
struct gw_req;

typedef enum sst_status (gw_obs_status_h)(const struct gw *gw,
					 const char *aor,
					 const char *watcher,
					 const char **notep);
typedef void (gw_obs_watch_h)(struct gw *gw, const char *aor,
			      const char *watcher, const char *fedaddr);
typedef void (gw_obs_aor_h)(struct gw *gw, const char *aor);
/* the same type as gw_req_h (gateway/gw_req.h), which gw.h does not
 * include: the request context is a leaf of its own */
typedef void (gw_obs_req_h)(struct gw_req *rq);

struct gw_obs {
	gw_obs_status_h *ext_status;  /* gw_fed_status */
	gw_obs_watch_h *ext_watch;    /* gw_fed_watch */
	gw_obs_req_h *ext_outbound;   /* gw_fed_outbound */
	gw_obs_aor_h *changed;        /* gw_pres_changed */
};

/* The calls, as the emitting service writes them; o is &gw->obs. */
static inline enum sst_status gw_obs_ext_status(const struct gw_obs *o,
					       const struct gw *gw,
					       const char *aor,
					       const char *watcher,
					       const char **notep)
{
	if (o->ext_status)
		return o->ext_status(gw, aor, watcher, notep);
	if (notep)
		*notep = NULL;
	return SST_ST_OFFLINE;
}

static inline void gw_obs_ext_watch(const struct gw_obs *o, struct gw *gw,
				    const char *aor, const char *watcher,
				    const char *fedaddr)
{
	if (o->ext_watch)
		o->ext_watch(gw, aor, watcher, fedaddr);
}

static inline void gw_obs_changed(const struct gw_obs *o, struct gw *gw,
				  const char *aor)
{
	if (o->changed)
		o->changed(gw, aor);
}

#endif /* STC_GW_OBS_H */
