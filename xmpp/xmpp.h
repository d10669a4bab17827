/*
 * xmpp.h -- XMPP server-to-server at the connector's edge (RFC 6120).
 *
 * This module owns what an XMPP peer's bytes become before anything
 * else in the connector sees them:
 *
 *   xmpp_el.c     the element model: a small tree of elements, each
 *                 with its namespace, attributes and text, built by the
 *                 parser and written back by xmpp_el_encode();
 *   xmpp_parse.c  the bounded stream parser: libxml2's push parser fed
 *                 in chunks of any size, handing out the stream header
 *                 and then each complete top-level element (stanza,
 *                 stream features, STARTTLS, dialback, stream error),
 *                 and refusing what RFC 6120 section 11 forbids or the
 *                 limits do not allow with the stream error it names;
 *   xmpp_s2s.c    one server-to-server stream as a state machine
 *                 without I/O: stream headers and features, STARTTLS,
 *                 SASL EXTERNAL, Server Dialback, stream errors,
 *                 keep-alives.
 *
 * It owns no sockets, timers or TLS sessions: callers feed it bytes and
 * act on what it hands back.  Nothing here is used by the gateway.
 *
 * SECURITY: every byte comes from an unauthenticated peer.  The parser
 * loads nothing from the network, reads no DTD, expands no entity, and
 * bounds the size of each top-level element, the depth of nesting, the
 * attributes of one element and the namespace declarations of one
 * top-level element; the first violation stops the parser for good.
 */
#ifndef STC_XMPP_H
#define STC_XMPP_H

#include <stdbool.h>
#include <stddef.h>

struct mbuf;

/* Namespaces of RFC 6120 and XEP-0220 */
#define XMPP_NS_STREAM  "http://etherx.jabber.org/streams"
#define XMPP_NS_SERVER  "jabber:server"
#define XMPP_NS_CLIENT  "jabber:client"
#define XMPP_NS_TLS     "urn:ietf:params:xml:ns:xmpp-tls"
#define XMPP_NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define XMPP_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XMPP_NS_DIALBACK "jabber:server:dialback"
#define XMPP_NS_DB_FEAT "urn:xmpp:features:dialback"
#define XMPP_NS_SASL    "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMPP_NS_XML     "http://www.w3.org/XML/1998/namespace"

/* ---- element model (xmpp_el.c) ---- */

/* One attribute; ns is NULL for an unqualified attribute. */
struct xmpp_attr {
	struct xmpp_attr *next;
	char *name;
	char *ns;
	char *val;
};

/*
 * One element.  Its character data is kept as one string (the
 * concatenation of all its text children, in order); XMPP's elements
 * hold either text or elements, not both in a meaningful order.
 * Allocated with libre's mem_*; mem_deref() of an element frees its
 * whole subtree.
 */
struct xmpp_el {
	struct xmpp_el *parent;
	struct xmpp_el *next;      /* next sibling */
	struct xmpp_el *kids;      /* first child */
	struct xmpp_el *last;      /* last child */
	struct xmpp_attr *attrs;
	char *name;                /* local name */
	char *ns;                  /* namespace name, NULL if none */
	char *text;                /* character data, NULL if none */
	size_t textlen;
	unsigned nattr;
};

int xmpp_el_alloc(struct xmpp_el **elp, const char *name, const char *ns);
struct xmpp_el *xmpp_el_add(struct xmpp_el *parent, const char *name,
			    const char *ns);
int xmpp_el_set_attr(struct xmpp_el *el, const char *name, const char *ns,
		     const char *val);
int xmpp_el_add_text(struct xmpp_el *el, const char *p, size_t len);
const char *xmpp_el_attr(const struct xmpp_el *el, const char *name);
const char *xmpp_el_attr_ns(const struct xmpp_el *el, const char *name,
			    const char *ns);
struct xmpp_el *xmpp_el_child(const struct xmpp_el *el, const char *name,
			      const char *ns);
bool xmpp_el_is(const struct xmpp_el *el, const char *name, const char *ns);
int xmpp_el_encode(struct mbuf *mb, const struct xmpp_el *el,
		   const char *outer_ns);
int xmpp_escape(struct mbuf *mb, const char *p, size_t len, bool attr);

/* ---- stream errors (RFC 6120 section 4.9.3) ---- */

enum xmpp_serr {
	XMPP_SERR_NONE = 0,
	XMPP_SERR_BAD_FORMAT,
	XMPP_SERR_BAD_NAMESPACE_PREFIX,
	XMPP_SERR_CONFLICT,
	XMPP_SERR_CONNECTION_TIMEOUT,
	XMPP_SERR_HOST_GONE,
	XMPP_SERR_HOST_UNKNOWN,
	XMPP_SERR_IMPROPER_ADDRESSING,
	XMPP_SERR_INTERNAL_SERVER_ERROR,
	XMPP_SERR_INVALID_FROM,
	XMPP_SERR_INVALID_NAMESPACE,
	XMPP_SERR_INVALID_XML,
	XMPP_SERR_NOT_AUTHORIZED,
	XMPP_SERR_NOT_WELL_FORMED,
	XMPP_SERR_POLICY_VIOLATION,
	XMPP_SERR_REMOTE_CONNECTION_FAILED,
	XMPP_SERR_RESET,
	XMPP_SERR_RESOURCE_CONSTRAINT,
	XMPP_SERR_RESTRICTED_XML,
	XMPP_SERR_SEE_OTHER_HOST,
	XMPP_SERR_SYSTEM_SHUTDOWN,
	XMPP_SERR_UNDEFINED_CONDITION,
	XMPP_SERR_UNSUPPORTED_ENCODING,
	XMPP_SERR_UNSUPPORTED_FEATURE,
	XMPP_SERR_UNSUPPORTED_STANZA_TYPE,
	XMPP_SERR_UNSUPPORTED_VERSION,
	XMPP_SERR_MAX
};

/* The condition's element name ("policy-violation"), "" for NONE. */
const char *xmpp_serr_name(enum xmpp_serr e);
/* The condition named by an element name, XMPP_SERR_UNDEFINED_CONDITION
 * for a name RFC 6120 does not define. */
enum xmpp_serr xmpp_serr_from_name(const char *name);

/* ---- SASL failure conditions (RFC 6120 section 6.5) ---- */

enum xmpp_sasl {
	XMPP_SASL_OK = 0,
	XMPP_SASL_ABORTED,
	XMPP_SASL_ACCOUNT_DISABLED,
	XMPP_SASL_CREDENTIALS_EXPIRED,
	XMPP_SASL_ENCRYPTION_REQUIRED,
	XMPP_SASL_INCORRECT_ENCODING,
	XMPP_SASL_INVALID_AUTHZID,
	XMPP_SASL_INVALID_MECHANISM,
	XMPP_SASL_MALFORMED_REQUEST,
	XMPP_SASL_MECHANISM_TOO_WEAK,
	XMPP_SASL_NOT_AUTHORIZED,
	XMPP_SASL_TEMPORARY_AUTH_FAILURE,
	XMPP_SASL_MAX
};

/* The condition's element name ("not-authorized"), "" for OK. */
const char *xmpp_sasl_name(enum xmpp_sasl c);
/* The condition an element name names; NOT_AUTHORIZED for a name
 * RFC 6120 does not define (its catch-all). */
enum xmpp_sasl xmpp_sasl_from_name(const char *name);

/* ---- the bounded stream parser (xmpp_parse.c) ---- */

/* Limits; a zero field takes the default below. */
struct xmpp_limits {
	size_t stanza_max;   /* bytes of one top-level element */
	unsigned depth_max;  /* nesting inside it, the element itself is 1 */
	unsigned attr_max;   /* attributes of one element */
	unsigned nsdecl_max; /* namespace declarations in one top-level
			      * element, or in the stream header */
	size_t names_max;    /* bytes of the distinct names (elements,
			      * attributes, prefixes, namespaces) one
			      * stream may bring: the parser keeps each
			      * for the stream's life */
};

#define XMPP_STANZA_MAX  65536
#define XMPP_DEPTH_MAX   16
#define XMPP_ATTR_MAX    32
#define XMPP_NSDECL_MAX  16
#define XMPP_NAMES_MAX   262144

/*
 * What the parser hands out.  HEADER: the <stream:stream> opening tag
 * (el has its attributes and no children; el->ns is XMPP_NS_STREAM,
 * and the default namespace it declared is in the parser's
 * xmpp_parse_content_ns()).  ELEMENT: a complete top-level element,
 * which the handler may keep by taking a reference (mem_ref).  END:
 * </stream:stream>.  The handler may not free the parser; it may call
 * xmpp_parse_stop() or xmpp_parse_reset().
 */
enum xmpp_ev {
	XMPP_EV_HEADER,
	XMPP_EV_ELEMENT,
	XMPP_EV_END,
};

typedef void (xmpp_parse_h)(enum xmpp_ev ev, struct xmpp_el *el,
			    void *arg);

struct xmpp_parse;

int xmpp_parse_alloc(struct xmpp_parse **pp, const struct xmpp_limits *lim,
		     xmpp_parse_h *h, void *arg);
int xmpp_parse_feed(struct xmpp_parse *p, const void *buf, size_t len);
int xmpp_parse_reset(struct xmpp_parse *p);
void xmpp_parse_stop(struct xmpp_parse *p);
enum xmpp_serr xmpp_parse_error(const struct xmpp_parse *p);
const char *xmpp_parse_detail(const struct xmpp_parse *p);
const char *xmpp_parse_content_ns(const struct xmpp_parse *p);

/* ---- server-to-server streams (xmpp_s2s.c) ---- */

/*
 * One XMPP server-to-server stream as a state machine without I/O: the
 * caller gives it what arrived (xmpp_s2s_recv), writes what it asks to
 * send (the send handler), runs the TLS handshake when told, and
 * decides on dialback keys it is asked about.  An outbound stream
 * (we are the initiating entity, RFC 6120 4.1) goes
 *
 *   OPENING -> FEATURES -> STARTTLS -> TLS -> OPENING -> FEATURES
 *           -> DIALBACK -> READY
 *
 * or, when the peer offers SASL EXTERNAL after TLS and the caller said
 * the peer's certificate is valid for its domain (xmpp_s2s_external),
 *
 *   ... -> TLS -> OPENING -> FEATURES -> SASL -> OPENING -> FEATURES
 *           -> READY
 *
 * (XEP-0178: <auth mechanism='EXTERNAL'> with our domain as authzid,
 * <success/> and a stream restart; on <failure/> the stream is closed
 * and the caller may open a new one without EXTERNAL).  An inbound one
 * (we receive) goes
 *
 *   OPENING -> STARTTLS (our features sent) -> TLS -> OPENING
 *           -> READY (dialback answered for each domain)
 *
 * and offers EXTERNAL with dialback when the caller, told the domain
 * of the header after TLS (HEADER event), says its certificate is
 * valid for it; an <auth> is then decided by the caller (SASL_AUTH
 * event, xmpp_s2s_sasl_answer); on success the stream restarts
 * (OPENING, then READY) authenticated for that domain.
 *
 * and either ends in CLOSED.  TLS is required (RFC 7590): a peer that
 * does not offer or accept STARTTLS, or sends anything else first, is
 * closed with policy-violation.  Peer domains are authenticated by
 * SASL EXTERNAL as above, or by Server Dialback (XEP-0220) with keys
 * HMAC-SHA256(hex(SHA256(secret)), "receiving originating stream-id")
 * as XEP-0185 recommends.
 */
enum xmpp_s2s_dir {
	XMPP_S2S_OUT,
	XMPP_S2S_IN,
};

enum xmpp_s2s_state {
	XMPP_S2S_IDLE,
	XMPP_S2S_OPENING,
	XMPP_S2S_FEATURES,
	XMPP_S2S_STARTTLS,
	XMPP_S2S_TLS,
	XMPP_S2S_DIALBACK,
	XMPP_S2S_READY,
	XMPP_S2S_CLOSED,
	XMPP_S2S_SASL,          /* outbound: <auth> sent, waiting */
};

struct xmpp_s2s_conf {
	const char *local;         /* our domain */
	const char *remote;        /* the peer's domain (outbound) */
	const char *secret;        /* dialback secret */
	const char *id;            /* stream id we give (inbound); NULL:
				    * random */
	struct xmpp_limits lim;
};

enum xmpp_s2s_ev {
	XMPP_S2S_EV_TLS,        /* start TLS now, then xmpp_s2s_tls_ready() */
	XMPP_S2S_EV_FEATURES,   /* outbound: the peer's stream features
				 * (el), before the stream acts on them;
				 * the handler may close the stream there */
	XMPP_S2S_EV_AUTHED,     /* domain may now send (in) / be sent to */
	XMPP_S2S_EV_DB_REFUSED, /* outbound: the peer refused our key */
	XMPP_S2S_EV_DB_RESULT,  /* inbound: decide on domain's key, then
				 * xmpp_s2s_db_answer() */
	XMPP_S2S_EV_DB_VERIFY,  /* outbound: the answer to our db:verify */
	XMPP_S2S_EV_STANZA,     /* a stanza from an authenticated domain */
	XMPP_S2S_EV_CLOSED,     /* the stream is over (err: why) */
	XMPP_S2S_EV_HEADER,     /* inbound, before and over TLS: the peer's
				 * header claims domain (NULL: none); over
				 * TLS the handler may offer EXTERNAL
				 * (xmpp_s2s_external) */
	XMPP_S2S_EV_SASL_AUTH,  /* inbound: domain asks for EXTERNAL; decide,
				 * then xmpp_s2s_sasl_answer() */
	XMPP_S2S_EV_SASL_FAILED,/* sasl: the failure we sent (inbound) or
				 * the peer sent (outbound, then closed) */
};

struct xmpp_s2s_evinfo {
	const char *domain;     /* AUTHED, DB_*: the peer domain */
	const char *id;         /* DB_RESULT, DB_VERIFY: the stream id */
	const char *key;        /* DB_RESULT: the key to verify */
	bool valid;             /* DB_VERIFY */
	struct xmpp_el *el;     /* STANZA, FEATURES */
	enum xmpp_serr err;     /* CLOSED: NONE for an orderly close;
				 * DB_REFUSED: not-authorized for
				 * type=invalid, remote-connection-failed
				 * for type=error (try again later) */
	bool by_peer;           /* CLOSED: the peer sent the error */
	const char *malformed;  /* CLOSED: the parser refused what the
				 * peer sent (its bounds among it), and
				 * why; else NULL */
	bool external;          /* AUTHED: by SASL EXTERNAL */
	enum xmpp_sasl sasl;    /* SASL_FAILED: the condition */
};

typedef int (xmpp_s2s_send_h)(const char *p, size_t len, void *arg);
typedef void (xmpp_s2s_ev_h)(enum xmpp_s2s_ev ev,
			     const struct xmpp_s2s_evinfo *info, void *arg);

struct xmpp_s2s;

int xmpp_s2s_alloc(struct xmpp_s2s **sp, enum xmpp_s2s_dir dir,
		   const struct xmpp_s2s_conf *conf, xmpp_s2s_send_h *sendh,
		   xmpp_s2s_ev_h *evh, void *arg);
int xmpp_s2s_start(struct xmpp_s2s *s);
int xmpp_s2s_recv(struct xmpp_s2s *s, const void *buf, size_t len);
int xmpp_s2s_tls_ready(struct xmpp_s2s *s);
int xmpp_s2s_db_answer(struct xmpp_s2s *s, const char *domain, bool valid);
int xmpp_s2s_db_verify(struct xmpp_s2s *s, const char *id, const char *key);
void xmpp_s2s_external(struct xmpp_s2s *s, bool ok);
int xmpp_s2s_sasl_answer(struct xmpp_s2s *s, enum xmpp_sasl cond);
int xmpp_s2s_send(struct xmpp_s2s *s, const struct xmpp_el *stanza);
int xmpp_s2s_send_encoded(struct xmpp_s2s *s, const struct mbuf *mb);
int xmpp_s2s_keepalive(struct xmpp_s2s *s);
void xmpp_s2s_close(struct xmpp_s2s *s, enum xmpp_serr err);
enum xmpp_s2s_state xmpp_s2s_state(const struct xmpp_s2s *s);
const char *xmpp_s2s_state_name(enum xmpp_s2s_state st);
bool xmpp_s2s_authed(const struct xmpp_s2s *s, const char *domain);

/* The domain of a JID, lower case, in buf; false when it has none */
bool xmpp_jid_domain(char *buf, size_t sz, const char *jid);

/* What a <stream:features> element offers (xmpp_features_offer). */
enum {
	XMPP_FEAT_STARTTLS      = 1 << 0,
	XMPP_FEAT_TLS_REQUIRED  = 1 << 1,  /* <starttls><required/> */
	XMPP_FEAT_DIALBACK      = 1 << 2,  /* XEP-0220 stream feature */
	XMPP_FEAT_SASL_EXTERNAL = 1 << 3,  /* SASL mechanism EXTERNAL */
	XMPP_FEAT_SASL_OTHER    = 1 << 4,  /* another SASL mechanism */
};
unsigned xmpp_features_offer(const struct xmpp_el *features);

/* hex[65] = the XEP-0185 dialback key */
int xmpp_db_key(char *hex, const char *secret, const char *receiving,
		const char *originating, const char *id);

#endif
