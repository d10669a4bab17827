/*
 * gw_reg.h -- the gateway's registration table: for each local address of
 * record (AOR), the contact bindings its clients registered.
 *
 * Owns: bindings and their RFC 3261 §10.3 update rules (Call-ID/CSeq
 *       ordering, Expires 0 and "*" removal), per-AOR and table limits,
 *       expiry by the caller's clock, counters.
 *       This table is the gateway's only index of registered AORs: status
 *       walks it (gw_reg_aors) and presence learns from the sweep which
 *       AORs went offline (gw_reg_sweep).
 * Not here: parsing REGISTER, authentication, the min/max Expires policy
 *       (423 Interval Too Brief) -- the caller clamps expires first --, any
 *       timer: the caller runs gw_reg_expire(table, now) as often as it
 *       likes (one sweep is O(bindings)).
 * Memory: the table is a libre mem object; bindings and AORs belong to
 *       it.  A binding holds a reference (mem_ref) on the caller's flow
 *       object (the transport facts: connection, source address, ...),
 *       released when the binding goes or is refreshed with another flow.
 *
 * Matching: an AOR is compared byte for byte, so the caller passes it in
 * canonical form (e.g. "sip:user@domain", host lower-cased).  A contact
 * with a +sip.instance matches the binding with the same instance and
 * reg-id (RFC 5626 §6); otherwise contacts match by URI, byte for byte.
 *
 * Return codes:
 *   EINVAL    bad arguments (NULL, empty strings, "*" with expires != 0)
 *   EMSGSIZE  a string over its cap, or more than GW_REG_CONTACTS_MAX
 *             contacts in one request
 *   EPROTO    same Call-ID with a CSeq not higher than the binding's:
 *             out of order, nothing changed (RFC 3261: the request fails)
 *   ENOSPC    the AOR would exceed GW_REG_BINDINGS_MAX bindings, or the
 *             table its AOR limit; nothing changed
 *   ENOMEM
 * An update is all or nothing: every contact is checked before any change.
 */
#ifndef GW_REG_H
#define GW_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

enum {
	GW_REG_AOR_MAX = 256,        /* bytes of an AOR */
	GW_REG_URI_MAX = 512,        /* bytes of a contact URI */
	GW_REG_CALLID_MAX = 256,     /* bytes of a Call-ID */
	GW_REG_INSTANCE_MAX = 128,   /* bytes of a +sip.instance */
	GW_REG_BINDINGS_MAX = 16,    /* bindings per AOR */
	GW_REG_CONTACTS_MAX = 16,    /* contacts in one request */
	GW_REG_AORS_DEFAULT = 100000,
};

/* One Contact of a REGISTER. */
struct gw_reg_contact {
	const char *uri;
	uint32_t expires;         /* seconds from now; 0 removes */
	const char *instance;     /* +sip.instance value, or NULL */
	uint32_t regid;           /* reg-id, 0 when absent */
};

/* A binding as callers see it (read only). */
struct gw_binding {
	struct le le;             /* in its AOR's list */
	char *uri;
	char *instance;           /* NULL when none */
	uint32_t regid;
	char *callid;
	uint32_t cseq;
	uint64_t expires;         /* absolute, in the caller's clock */
	void *flow;               /* caller's mem object, referenced */
};

struct gw_reg_stats {
	uint32_t aors;            /* AORs with at least one binding */
	uint32_t bindings;
	uint64_t added;
	uint64_t refreshed;
	uint64_t removed;         /* by Expires: 0 or "*" */
	uint64_t expired;         /* by gw_reg_expire */
	uint64_t refused_order;   /* EPROTO */
	uint64_t refused_full;    /* ENOSPC */
};

struct gw_reg;

/* A table for at most max_aors AORs (0: GW_REG_AORS_DEFAULT). */
int gw_reg_alloc(struct gw_reg **regp, uint32_t max_aors);

/* Apply the cc contacts of one REGISTER (Call-ID callid, CSeq cseq) for
 * aor at time now; flow (a mem object or NULL) is kept by new and
 * refreshed bindings. */
int gw_reg_update(struct gw_reg *reg, const char *aor,
		  const struct gw_reg_contact *cv, size_t cc,
		  const char *callid, uint32_t cseq, void *flow,
		  uint64_t now);

/* "Contact: *" with Expires: 0 -- remove every binding of aor (none if
 * one of them is out of order: EPROTO). */
int gw_reg_remove_all(struct gw_reg *reg, const char *aor,
		      const char *callid, uint32_t cseq);

/* Drop every binding with expires <= now; returns how many went. */
uint32_t gw_reg_expire(struct gw_reg *reg, uint64_t now);

/* An AOR, for the walks below. */
typedef void (gw_reg_aor_h)(const char *aor, void *arg);

/* gw_reg_expire, and then gone(aor, arg) for each AOR that lost its
 * last binding in this sweep (it is already out of the table; gone
 * must not change the table). */
uint32_t gw_reg_sweep(struct gw_reg *reg, uint64_t now, gw_reg_aor_h *gone,
		      void *arg);

/* Call h for each AOR that has bindings, oldest AOR first.  h must not
 * change the table. */
void gw_reg_aors(const struct gw_reg *reg, gw_reg_aor_h *h, void *arg);

/* Whether aor has a binding still valid at now. */
bool gw_reg_registered(const struct gw_reg *reg, const char *aor,
		       uint64_t now);

/* Call h for each binding of aor valid at now, oldest first; stops when h
 * returns true.  Returns how many bindings were visited. */
typedef bool (gw_reg_binding_h)(const struct gw_binding *b, void *arg);
uint32_t gw_reg_contacts(const struct gw_reg *reg, const char *aor,
			 uint64_t now, gw_reg_binding_h *h, void *arg);

void gw_reg_stats_get(const struct gw_reg *reg, struct gw_reg_stats *st);

#endif
