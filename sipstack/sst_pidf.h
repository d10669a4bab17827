/*
 * sst_pidf.h -- presence documents (application/pidf+xml, RFC 3863) with
 * RPID activities (RFC 4480), read and written for the four Sametime
 * states.
 *
 * Owns: the status enum, its names, the Sametime <-> PIDF mapping, and the
 *       size/element/depth limits on documents from peers.
 * Not here: PUBLISH/NOTIFY handling, subscriptions, SIP headers.
 * Users: the gateway (PUBLISH, NOTIFY) and the connector's XMPP
 *        translation (RFC 7248); both must read and write documents the
 *        same way, so the code lives below both of them.
 * Memory: decoding fills a caller's struct (no allocation survives the
 *         call); encoding appends to a caller's mbuf.
 *
 * Mapping, Sametime -> PIDF (sst_pidf_encode):
 *   Active          basic open, no activity
 *   Away            basic open, rpid <away/>
 *   Do not disturb  basic open, rpid <busy/>
 *   Offline         basic closed
 *
 * Mapping, PIDF -> Sametime (sst_pidf_decode):
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
 *     trimmed, cut at SST_PIDF_NOTE_MAX bytes on a UTF-8 boundary.
 *   Namespaces are matched by URI, never by prefix.
 *
 * Refusals (decode returns):
 *   EINVAL    bad arguments
 *   EMSGSIZE  document over SST_PIDF_DOC_MAX, too many elements, more
 *             than SST_PIDF_ATTR_MAX attributes (namespace declarations
 *             included) on one element, nesting too deep, or an entity
 *             URI over SST_PIDF_ENTITY_MAX
 *   EPERM     a DOCTYPE or entity declaration (never expanded)
 *   EBADMSG   not well-formed XML, or not a pidf <presence> document,
 *             or no entity attribute
 * Encode returns EINVAL for bad arguments or text that is not valid
 * UTF-8 XML character data, EMSGSIZE for oversize entity/note, ENOMEM.
 */
#ifndef SST_PIDF_H
#define SST_PIDF_H

#include <stddef.h>

enum {
	SST_PIDF_DOC_MAX = 16384,   /* bytes of a document we accept */
	SST_PIDF_ELEM_MAX = 256,    /* elements in one document */
	SST_PIDF_ATTR_MAX = 64,     /* attributes on one element */
	SST_PIDF_DEPTH_MAX = 12,    /* nesting below <presence> */
	SST_PIDF_ENTITY_MAX = 256,  /* bytes of the entity URI */
	SST_PIDF_NOTE_MAX = 256,    /* bytes of note text kept */
};

#define SST_PIDF_NS "urn:ietf:params:xml:ns:pidf"
#define SST_PIDF_NS_RPID "urn:ietf:params:xml:ns:pidf:rpid"
#define SST_PIDF_NS_DM "urn:ietf:params:xml:ns:pidf:data-model"
#define SST_PIDF_CTYPE "application/pidf+xml"

enum sst_status {
	SST_ST_ACTIVE = 0,
	SST_ST_AWAY,
	SST_ST_DND,
	SST_ST_OFFLINE,
};

/* What a document says. */
struct sst_pidf {
	enum sst_status st;
	char entity[SST_PIDF_ENTITY_MAX + 1];
	char note[SST_PIDF_NOTE_MAX + 1];   /* "" when none */
};

struct mbuf;

/* "active", "away", "dnd", "offline"; "?" for values out of range. */
const char *sst_status_name(enum sst_status st);
/* Inverse of sst_status_name; 0 or EINVAL. */
int sst_status_from_name(enum sst_status *stp, const char *name);

/* Read a PIDF document of len bytes from p (untrusted, not NUL-terminated).
 * *pidf is written only on success. */
int sst_pidf_decode(struct sst_pidf *pidf, const char *p, size_t len);

/* Append a PIDF document for entity in state st to mb; note may be NULL
 * or "". */
int sst_pidf_encode(struct mbuf *mb, const char *entity, enum sst_status st,
		   const char *note);

#endif
