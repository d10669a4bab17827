/*
 * gw_pidf.h -- presence documents (application/pidf+xml, RFC 3863) with
 * RPID activities (RFC 4480), read and written for the four Sametime
 * states.
 *
 * Owns: the status enum, its names, the Sametime <-> PIDF mapping, and the
 *       size/element/depth limits on documents from peers.
 * Not here: PUBLISH/NOTIFY handling, subscriptions, SIP headers.
 * Memory: decoding fills a caller's struct (no allocation survives the
 *         call); encoding appends to a caller's mbuf.
 *
 * Mapping, Sametime -> PIDF (gw_pidf_encode):
 *   Active          basic open, no activity
 *   Away            basic open, rpid <away/>
 *   Do not disturb  basic open, rpid <busy/>
 *   Offline         basic closed
 *
 * Mapping, PIDF -> Sametime (gw_pidf_decode):
 *   - basic status: every <tuple> is read; if any tuple says "open" the
 *     presentity is open (one reachable device is enough), else closed.
 *     A document with no tuple carrying a basic status is Offline: it
 *     gives no sign the person can be reached.
 *   - closed: Offline, whatever the activities say.
 *   - open: activities are read from <rpid:activities> anywhere under a
 *     tuple or a person (data-model <dm:person>, or <person> in the pidf
 *     or rpid namespace, as older clients write).  By RFC 4480 meaning:
 *       busy, on-the-phone, meeting, performance, presentation -> DND
 *         (the person is occupied and should not be interrupted);
 *       away, appointment, breakfast, dinner, holiday, lunch, meal,
 *       permanent-absence, sleeping, steering, travel, in-transit,
 *       vacation -> Away (the person is not at a device);
 *       anything else (unknown, other, working, shopping, ...) -> no
 *       effect.
 *     When both kinds occur, DND wins: it is the stronger request.
 *     No activity: Active.
 *   - note: the first <note> (pidf or data-model namespace), whitespace
 *     trimmed, cut at GW_PIDF_NOTE_MAX bytes on a UTF-8 boundary.
 *   Namespaces are matched by URI, never by prefix.
 *
 * Refusals (decode returns):
 *   EINVAL    bad arguments
 *   EMSGSIZE  document over GW_PIDF_DOC_MAX, too many elements, more
 *             than GW_PIDF_ATTR_MAX attributes (namespace declarations
 *             included) on one element, nesting too deep, or an entity
 *             URI over GW_PIDF_ENTITY_MAX
 *   EPERM     a DOCTYPE or entity declaration (never expanded)
 *   EBADMSG   not well-formed XML, or not a pidf <presence> document,
 *             or no entity attribute
 * Encode returns EINVAL for bad arguments or text that is not valid
 * UTF-8 XML character data, EMSGSIZE for oversize entity/note, ENOMEM.
 */
#ifndef GW_PIDF_H
#define GW_PIDF_H

#include <stddef.h>

enum {
	GW_PIDF_DOC_MAX = 16384,   /* bytes of a document we accept */
	GW_PIDF_ELEM_MAX = 256,    /* elements in one document */
	GW_PIDF_ATTR_MAX = 64,     /* attributes on one element */
	GW_PIDF_DEPTH_MAX = 12,    /* nesting below <presence> */
	GW_PIDF_ENTITY_MAX = 256,  /* bytes of the entity URI */
	GW_PIDF_NOTE_MAX = 256,    /* bytes of note text kept */
};

#define GW_PIDF_NS "urn:ietf:params:xml:ns:pidf"
#define GW_PIDF_NS_RPID "urn:ietf:params:xml:ns:pidf:rpid"
#define GW_PIDF_NS_DM "urn:ietf:params:xml:ns:pidf:data-model"
#define GW_PIDF_CTYPE "application/pidf+xml"

enum gw_status {
	GW_ST_ACTIVE = 0,
	GW_ST_AWAY,
	GW_ST_DND,
	GW_ST_OFFLINE,
};

/* What a document says. */
struct gw_pidf {
	enum gw_status st;
	char entity[GW_PIDF_ENTITY_MAX + 1];
	char note[GW_PIDF_NOTE_MAX + 1];   /* "" when none */
};

struct mbuf;

/* "active", "away", "dnd", "offline"; "?" for values out of range. */
const char *gw_status_name(enum gw_status st);
/* Inverse of gw_status_name; 0 or EINVAL. */
int gw_status_from_name(enum gw_status *stp, const char *name);

/* Read a PIDF document of len bytes from p (untrusted, not NUL-terminated).
 * *pidf is written only on success. */
int gw_pidf_decode(struct gw_pidf *pidf, const char *p, size_t len);

/* Append a PIDF document for entity in state st to mb; note may be NULL
 * or "". */
int gw_pidf_encode(struct mbuf *mb, const char *entity, enum gw_status st,
		   const char *note);

#endif
