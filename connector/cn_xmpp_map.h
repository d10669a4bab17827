/*
 * cn_xmpp_map.h -- what a SIP thing is on the XMPP side and back: the
 * pure mappings of RFC 7247 (addresses, errors), RFC 7248 (presence)
 * and RFC 7572 (instant messages).  No I/O, no state: cn_xmpp_sip.c
 * applies them to real requests and stanzas.
 *
 * Addresses (RFC 7247 section 5):
 *   sip:user@host[:port][;params][?headers] -> user@host: the user part
 *   percent-decoded, then the characters a JID localpart may not hold
 *   (space " & ' / : < > @) escaped as XEP-0106 says (\20 ...), the host
 *   lower-cased; the port, parameters and headers have no XMPP meaning
 *   and are dropped.  Refused (EINVAL): another scheme, no user part, an
 *   IP literal host, control characters or bytes that are not UTF-8.
 *   user@domain[/resource] -> sip:user@domain: the resource dropped
 *   (SIP addresses a person, not one of her clients), XEP-0106 escapes
 *   undone, then what RFC 3261 does not allow in a user part
 *   percent-encoded.  Refused: no localpart, an empty domain.
 *
 * Presence (RFC 7248 section 4), sst_status <-> <presence>:
 *   Active  <-> available, no <show> (<show>chat</show> reads Active)
 *   Away    <-> <show>away</show> (<show>xa</show> reads Away too)
 *   DND     <-> <show>dnd</show>
 *   Offline <-> type="unavailable"
 *   the PIDF note <-> <status>.
 *
 * Messages (RFC 7572 section 5): MESSAGE text/plain <-> <message
 * type="chat"><body>; another content type is refused 415.  Inbound,
 * type chat or normal with a <body> is a message; type error, no body
 * (chat states) and groupchat/headline are not.
 *
 * Errors: a SIP final status <-> a stanza error condition and type
 * (RFC 6120 section 8.3), table in cn_xmpp_map.c and in
 * doc/operator-guide.md, "SIP and XMPP, side by side".
 */
#ifndef STC_CN_XMPP_MAP_H
#define STC_CN_XMPP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xmpp/xmpp.h"

#include "sipstack/sst_pidf.h"

struct xmpp_el;

enum {
	CN_XMAP_ADDR_MAX = 256,    /* bytes of one address, either side */
	CN_XMAP_BODY_MAX = 16384,  /* bytes of one message body */
};

/* ---- addresses ---- */

/* sip:/sips: URI (not NUL-terminated, len bytes) -> bare JID in
 * jid[sz].  0, EINVAL (does not map), EOVERFLOW (too long). */
int cn_xmap_sip_to_jid(char *jid, size_t sz, const char *uri, size_t len);
/* JID -> sip:user@domain in uri[sz].  0, EINVAL, EOVERFLOW. */
int cn_xmap_jid_to_sip(char *uri, size_t sz, const char *jid);
/* The domain of a JID (after '@', before '/') into dom[sz]. */
int cn_xmap_jid_domain(char *dom, size_t sz, const char *jid);

/* ---- presence ---- */

enum cn_xmap_ptype {
	CN_XMAP_P_AVAILABLE = 0,   /* no type: a status */
	CN_XMAP_P_UNAVAILABLE,     /* a status too: Offline */
	CN_XMAP_P_SUBSCRIBE,
	CN_XMAP_P_SUBSCRIBED,
	CN_XMAP_P_UNSUBSCRIBE,
	CN_XMAP_P_UNSUBSCRIBED,
	CN_XMAP_P_PROBE,
	CN_XMAP_P_ERROR,
	CN_XMAP_P_INVALID,         /* a type RFC 6121 does not define */
};

enum cn_xmap_ptype cn_xmap_pres_type(const struct xmpp_el *pres);
const char *cn_xmap_ptype_name(enum cn_xmap_ptype t);

/* A <presence> (jabber:server) from -> to saying st, note NULL or "";
 * *elp is a new element.  0, EINVAL, ENOMEM. */
int cn_xmap_pres_encode(struct xmpp_el **elp, const char *from,
			const char *to, enum sst_status st, const char *note);
/* A <presence> of another kind (subscribe, subscribed, unsubscribe,
 * unsubscribed, probe) from -> to. */
int cn_xmap_pres_ctl(struct xmpp_el **elp, const char *from,
		     const char *to, enum cn_xmap_ptype t);
/* What an available/unavailable <presence> says: *stp, and note[sz]
 * ("" when none; trimmed, cut on a UTF-8 boundary).  0, or EPROTO
 * when the stanza is not a status (subscribe, probe, error, ...). */
int cn_xmap_pres_decode(enum sst_status *stp, char *note, size_t sz,
			const struct xmpp_el *pres);

/* ---- messages ---- */

/*
 * A MESSAGE body of content type ctype (a SIP Content-Type value, NULL
 * or "" when there was none and no body) -> <message type="chat">
 * from -> to.  0, or the SIP status to refuse with in *scodep and an
 * errno: 415 (EPROTONOSUPPORT) not text/plain or a charset other than
 * UTF-8; 400 (EBADMSG) empty, not UTF-8 or characters XML cannot
 * carry; 413 (EMSGSIZE) over CN_XMAP_BODY_MAX.
 */
int cn_xmap_msg_encode(struct xmpp_el **elp, const char *from,
		       const char *to, const char *ctype, const char *body,
		       size_t len, uint16_t *scodep);
/* The body of an inbound <message>: *bodyp and *lenp point into the
 * element.  0; EPROTO type error; ENOTSUP groupchat or headline or an
 * unknown type; ENODATA no <body> (chat states, receipts). */
int cn_xmap_msg_decode(const char **bodyp, size_t *lenp,
		       const struct xmpp_el *msg);

/* ---- errors ---- */

/* A SIP final status -> condition and type (offline: the recipient is
 * known to be offline, so 480 reads recipient-unavailable). */
void cn_xmap_err_from_sip(const char **condp, const char **typep,
			  uint16_t scode, bool offline);
/* condition and type (NULL: not given) -> SIP status. */
uint16_t cn_xmap_err_to_sip(const char *cond, const char *type);
/* The SIP status an error stanza (<message|presence type=error>) reads
 * as: its <error>'s condition and type; 500 if it has none. */
uint16_t cn_xmap_err_stanza_sip(const struct xmpp_el *stanza);
/* The error stanza answering orig (from/to swapped, id kept, name kept)
 * for SIP status scode. */
int cn_xmap_err_stanza(struct xmpp_el **elp, const struct xmpp_el *orig,
		       uint16_t scode, bool offline);
/* The fate cn_xmpp_sent_h told (an errno) -> the SIP status to answer
 * with; *retryp seconds of Retry-After: retry_s for a temporary fault,
 * 0 for none. */
uint16_t cn_xmap_senderr_sip(int err, uint32_t retry_s, uint32_t *retryp);
/* An outbound stream that ended before it was authenticated, by
 * condition (XMPP_SERR_NONE: a clean </stream:stream> or a dropped
 * connection) -> the fate of the stanzas it was to carry: EPERM when
 * the peer refused us (not-authorized, policy-violation, invalid-from,
 * host-unknown, host-gone), else ECONNREFUSED, a temporary fault. */
int cn_xmap_unauthed_errno(enum xmpp_serr cond);
/* The reason phrase we send with a status we make up. */
const char *cn_xmap_reason(uint16_t scode);

#endif /* STC_CN_XMPP_MAP_H */
