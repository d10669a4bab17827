/*
 * xmpp_s2s.c -- one server-to-server stream (RFC 6120, RFC 7590,
 * XEP-0178, XEP-0220) as a state machine without I/O; see xmpp.h.
 *
 * Bytes in go through xmpp_parse; what the stream answers goes out
 * through the send handler, what the caller must act on through the
 * event handler.  Every refusal is a stream error RFC 6120 section
 * 4.9.3 names, sent after our own stream header when the peer has not
 * seen one yet (4.9.1.1), followed by the closing tag.
 *
 * Neither handler may free the stream; either may call xmpp_s2s_close.
 */
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <re.h>

#include "xmpp/xmpp.h"

enum { MAX_AUTHED = 8, DOMAIN_MAX = 256 };

struct xmpp_s2s {
	enum xmpp_s2s_dir dir;
	enum xmpp_s2s_state st;
	char *local;
	char *remote;
	char *secret;
	char *fixed_id;
	struct xmpp_parse *p;
	xmpp_s2s_send_h *sendh;
	xmpp_s2s_ev_h *evh;
	void *arg;
	bool tls;
	bool hdr_sent;          /* our header of the current stream */
	char sid[64];           /* id of the current stream */
	char peer[DOMAIN_MAX];  /* inbound: the header's from */
	char *authed[MAX_AUTHED];
	unsigned nauthed;
	bool ext_ok;            /* the caller: EXTERNAL may be used */
	bool ext_offered;       /* inbound: in the features we sent */
	bool sasl_pending;      /* inbound: SASL_AUTH not answered yet */
	bool sasl_done;         /* authenticated by EXTERNAL */
};

static const char *state_names[] = {
	"idle", "opening", "features", "starttls", "tls", "dialback",
	"ready", "closed", "sasl",
};

static const char *sasl_names[] = {
	"", "aborted", "account-disabled", "credentials-expired",
	"encryption-required", "incorrect-encoding", "invalid-authzid",
	"invalid-mechanism", "malformed-request", "mechanism-too-weak",
	"not-authorized", "temporary-auth-failure",
};

/** The element name of a SASL failure condition, "" for OK. */
const char *xmpp_sasl_name(enum xmpp_sasl c)
{
	if ((unsigned)c >= XMPP_SASL_MAX)
		return "not-authorized";
	return sasl_names[c];
}

/** The SASL failure condition an element name names. */
enum xmpp_sasl xmpp_sasl_from_name(const char *name)
{
	unsigned i;

	for (i = 1; name && i < XMPP_SASL_MAX; i++) {
		if (0 == strcmp(sasl_names[i], name))
			return (enum xmpp_sasl)i;
	}
	return XMPP_SASL_NOT_AUTHORIZED;
}

/** The name of a stream state, as status shows it. */
const char *xmpp_s2s_state_name(enum xmpp_s2s_state st)
{
	if ((unsigned)st >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[st];
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/**
 * The dialback key of XEP-0185: HMAC-SHA256 keyed with the hex form of
 * SHA256(secret), over "receiving originating id", in hex.
 *
 * @param hexkey      At least 65 bytes
 *
 * @return 0, EINVAL or EIO
 */
int xmpp_db_key(char *hexkey, const char *secret, const char *receiving,
		const char *originating, const char *id)
{
	uint8_t h[32], mac[32];
	char hk[65];
	char *msg = NULL;
	int err;

	if (!hexkey || !secret || !receiving || !originating || !id)
		return EINVAL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), h))
		return EIO;
	hex(hk, h, sizeof(h));
	err = re_sdprintf(&msg, "%s %s %s", receiving, originating, id);
	if (err)
		return err;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, hk, 64, msg, strlen(msg),
			     mac))
		err = EIO;
	else
		hex(hexkey, mac, sizeof(mac));
	mem_deref(msg);
	return err;
}

/* Keys are compared in time independent of where they differ. */
static bool key_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = 0;

	if (la != lb)
		return false;
	for (i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int emit(struct xmpp_s2s *s, struct mbuf *mb)
{
	if (!mb->end)
		return 0;
	return s->sendh((const char *)mb->buf, mb->end, s->arg);
}

static int put_str(struct xmpp_s2s *s, const char *str)
{
	return s->sendh(str, strlen(str), s->arg);
}

static int attr(struct mbuf *mb, const char *name, const char *val)
{
	int err;

	if (!val)
		return 0;
	err = mbuf_printf(mb, " %s='", name);
	if (!err)
		err = xmpp_escape(mb, val, strlen(val), true);
	if (!err)
		err = mbuf_write_u8(mb, '\'');
	return err;
}

static void event(struct xmpp_s2s *s, enum xmpp_s2s_ev ev,
		  const struct xmpp_s2s_evinfo *info)
{
	struct xmpp_s2s_evinfo none;

	if (!info) {
		memset(&none, 0, sizeof(none));
		info = &none;
	}
	s->evh(ev, info, s->arg);
}

static void closed(struct xmpp_s2s *s, enum xmpp_serr err, bool by_peer)
{
	struct xmpp_s2s_evinfo info;

	memset(&info, 0, sizeof(info));
	if (!by_peer && err != XMPP_SERR_NONE &&
	    xmpp_parse_error(s->p) == err)
		info.malformed = xmpp_parse_detail(s->p);
	s->st = XMPP_S2S_CLOSED;
	xmpp_parse_stop(s->p);
	info.err = err;
	info.by_peer = by_peer;
	event(s, XMPP_S2S_EV_CLOSED, &info);
}

static int send_header(struct xmpp_s2s *s)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_write_str(mb, "<?xml version='1.0'?><stream:stream "
			     "xmlns='" XMPP_NS_SERVER "' xmlns:stream='"
			     XMPP_NS_STREAM "' xmlns:db='" XMPP_NS_DIALBACK
			     "'");
	if (!err)
		err = attr(mb, "from", s->local);
	if (!err)
		err = attr(mb, "to", s->dir == XMPP_S2S_OUT ? s->remote :
			   (s->peer[0] ? s->peer : NULL));
	if (!err && s->dir == XMPP_S2S_IN)
		err = attr(mb, "id", s->sid);
	if (!err)
		err = mbuf_write_str(mb, " version='1.0'>");
	if (!err)
		err = emit(s, mb);
	mem_deref(mb);
	if (!err)
		s->hdr_sent = true;
	return err;
}

/* Inbound: the id of the stream we are about to open. */
static void new_sid(struct xmpp_s2s *s)
{
	uint8_t rnd[12];

	if (s->fixed_id)
		str_ncpy(s->sid, s->fixed_id, sizeof(s->sid));
	else if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)))
		str_ncpy(s->sid, "0", sizeof(s->sid));
	else
		hex(s->sid, rnd, sizeof(rnd));
}

/**
 * Close the stream: with the stream error err (NONE for an orderly
 * close), then the closing tag.  The event handler sees CLOSED.
 */
void xmpp_s2s_close(struct xmpp_s2s *s, enum xmpp_serr err)
{
	char buf[160];

	if (!s || s->st == XMPP_S2S_CLOSED)
		return;
	if (!s->hdr_sent && (s->dir == XMPP_S2S_IN || err)) {
		if (s->dir == XMPP_S2S_IN && !s->sid[0])
			new_sid(s);
		(void)send_header(s);
	}
	if (err) {
		(void)re_snprintf(buf, sizeof(buf), "<stream:error><%s "
				  "xmlns='" XMPP_NS_STREAMS "'/>"
				  "</stream:error>", xmpp_serr_name(err));
		(void)put_str(s, buf);
	}
	if (s->hdr_sent)
		(void)put_str(s, "</stream:stream>");
	closed(s, err, false);
}

/**
 * The domain part of a JID ("user@domain/resource", "domain"),
 * lower-cased, in buf.
 *
 * @return false when jid has no domain or it does not fit in sz
 */
bool xmpp_jid_domain(char *buf, size_t sz, const char *jid)
{
	const char *at, *slash, *b;
	size_t n, i;

	if (!jid)
		return false;
	slash = strchr(jid, '/');
	at = strchr(jid, '@');
	if (at && slash && at > slash)
		at = NULL;
	b = at ? at + 1 : jid;
	n = slash ? (size_t)(slash - b) : strlen(b);
	if (!n || n >= sz)
		return false;
	for (i = 0; i < n; i++)
		buf[i] = (char)((b[i] >= 'A' && b[i] <= 'Z') ?
				b[i] + 32 : b[i]);
	buf[n] = '\0';
	return true;
}

/** Whether domain was authenticated on this stream. */
bool xmpp_s2s_authed(const struct xmpp_s2s *s, const char *domain)
{
	unsigned i;

	if (!s || !domain)
		return false;
	for (i = 0; i < s->nauthed; i++) {
		if (0 == str_casecmp(s->authed[i], domain))
			return true;
	}
	return false;
}

static int add_authed(struct xmpp_s2s *s, const char *domain)
{
	if (xmpp_s2s_authed(s, domain))
		return 0;
	if (s->nauthed >= MAX_AUTHED)
		return EOVERFLOW;
	return str_dup(&s->authed[s->nauthed++], domain);
}

static void on_header(struct xmpp_s2s *s, const struct xmpp_el *h)
{
	const char *cns = xmpp_parse_content_ns(s->p);
	const char *ver = xmpp_el_attr(h, "version");
	const char *from = xmpp_el_attr(h, "from");
	const char *to = xmpp_el_attr(h, "to");
	const char *id = xmpp_el_attr(h, "id");

	if (s->st != XMPP_S2S_OPENING) {
		xmpp_s2s_close(s, XMPP_SERR_BAD_FORMAT);
		return;
	}
	if (s->dir == XMPP_S2S_IN) {
		if (from && !xmpp_jid_domain(s->peer, sizeof(s->peer), from))
			s->peer[0] = '\0';
		new_sid(s);
	}
	if (!cns || strcmp(cns, XMPP_NS_SERVER)) {
		xmpp_s2s_close(s, XMPP_SERR_INVALID_NAMESPACE);
		return;
	}
	/* STARTTLS needs a 1.0 stream; without it TLS cannot be had */
	if (!ver || ver[0] < '1' || ver[0] > '9' || ver[1] != '.') {
		xmpp_s2s_close(s, XMPP_SERR_UNSUPPORTED_VERSION);
		return;
	}
	if (s->dir == XMPP_S2S_OUT) {
		if (from && str_casecmp(from, s->remote)) {
			xmpp_s2s_close(s, XMPP_SERR_INVALID_FROM);
			return;
		}
		if (!id || !*id || strlen(id) >= sizeof(s->sid)) {
			xmpp_s2s_close(s, XMPP_SERR_BAD_FORMAT);
			return;
		}
		str_ncpy(s->sid, id, sizeof(s->sid));
		s->st = XMPP_S2S_FEATURES;
		return;
	}
	if (!to || str_casecmp(to, s->local)) {
		xmpp_s2s_close(s, XMPP_SERR_HOST_UNKNOWN);
		return;
	}
	/* the stream after <success/> is the authenticated domain's */
	if (s->sasl_done && from && !xmpp_s2s_authed(s, s->peer)) {
		xmpp_s2s_close(s, XMPP_SERR_INVALID_FROM);
		return;
	}
	if (!s->sasl_done) {
		/* whose stream it says it is; over TLS: may this domain
		 * use EXTERNAL?  The caller knows */
		struct xmpp_s2s_evinfo info;

		memset(&info, 0, sizeof(info));
		info.domain = s->peer[0] ? s->peer : NULL;
		s->ext_ok = false;
		event(s, XMPP_S2S_EV_HEADER, &info);
		if (s->st == XMPP_S2S_CLOSED)
			return;
	}
	if (send_header(s))
		return;
	if (!s->tls) {
		(void)put_str(s, "<stream:features><starttls xmlns='"
			      XMPP_NS_TLS "'><required/></starttls>"
			      "</stream:features>");
		s->st = XMPP_S2S_STARTTLS;
		return;
	}
	s->ext_offered = !s->sasl_done && s->ext_ok && s->peer[0];
	(void)put_str(s, s->ext_offered ?
		      "<stream:features><mechanisms xmlns='" XMPP_NS_SASL
		      "'><mechanism>EXTERNAL</mechanism></mechanisms>"
		      "<dialback xmlns='" XMPP_NS_DB_FEAT "'><errors/>"
		      "</dialback></stream:features>" :
		      "<stream:features><dialback xmlns='" XMPP_NS_DB_FEAT
		      "'><errors/></dialback></stream:features>");
	s->st = XMPP_S2S_READY;
}

/* A new stream on the same connection after SASL success (RFC 6120
 * 6.4.6): both sides forget the parser state and open again. */
static void sasl_restart(struct xmpp_s2s *s)
{
	s->sasl_done = true;
	s->ext_offered = false;
	s->hdr_sent = false;
	s->st = XMPP_S2S_OPENING;
	(void)xmpp_parse_reset(s->p);
}

/* Outbound: <auth mechanism='EXTERNAL'> with our domain as authzid
 * (XEP-0178 section 2). */
static int send_auth(struct xmpp_s2s *s)
{
	char b64[4 * (DOMAIN_MAX / 3 + 1) + 1];
	size_t n = sizeof(b64) - 1;
	struct mbuf *mb;
	int err;

	if (strlen(s->local) >= DOMAIN_MAX ||
	    base64_encode((const uint8_t *)s->local, strlen(s->local), b64,
			  &n))
		return EINVAL;
	b64[n] = '\0';
	mb = mbuf_alloc(128);
	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb, "<auth xmlns='" XMPP_NS_SASL "' "
			  "mechanism='EXTERNAL'>%s</auth>", b64);
	if (!err)
		err = emit(s, mb);
	mem_deref(mb);
	return err;
}

/* Inbound: a <failure/> with its condition; the stream stays, the peer
 * may go on with dialback. */
static void sasl_fail(struct xmpp_s2s *s, enum xmpp_sasl cond)
{
	struct xmpp_s2s_evinfo info;
	char buf[128];

	(void)re_snprintf(buf, sizeof(buf), "<failure xmlns='" XMPP_NS_SASL
			  "'><%s/></failure>", xmpp_sasl_name(cond));
	(void)put_str(s, buf);
	memset(&info, 0, sizeof(info));
	info.domain = s->peer[0] ? s->peer : NULL;
	info.sasl = cond;
	event(s, XMPP_S2S_EV_SASL_FAILED, &info);
}

/* Inbound <auth/>: the mechanism and the authzid are checked here, the
 * peer's certificate and address by the caller (SASL_AUTH). */
static void in_auth(struct xmpp_s2s *s, const struct xmpp_el *el)
{
	const char *mech = xmpp_el_attr(el, "mechanism");
	struct xmpp_s2s_evinfo info;
	uint8_t authz[DOMAIN_MAX];
	size_t n = sizeof(authz) - 1;

	if (s->sasl_pending) {
		xmpp_s2s_close(s, XMPP_SERR_POLICY_VIOLATION);
		return;
	}
	if (!s->ext_offered || !mech || strcmp(mech, "EXTERNAL")) {
		sasl_fail(s, XMPP_SASL_INVALID_MECHANISM);
		return;
	}
	/* RFC 6120 6.4.2: an empty response is "=" */
	if (!el->text || !el->textlen) {
		sasl_fail(s, XMPP_SASL_MALFORMED_REQUEST);
		return;
	}
	if (0 == strcmp(el->text, "="))
		n = 0;
	else if (el->textlen % 4 || el->textlen > 4 * (sizeof(authz) / 3) ||
		 base64_decode(el->text, el->textlen, authz, &n) ||
		 memchr(authz, '\0', n)) {
		sasl_fail(s, XMPP_SASL_INCORRECT_ENCODING);
		return;
	}
	authz[n] = '\0';
	if (n && str_casecmp((const char *)authz, s->peer)) {
		sasl_fail(s, XMPP_SASL_INVALID_AUTHZID);
		return;
	}
	s->sasl_pending = true;
	memset(&info, 0, sizeof(info));
	info.domain = s->peer;
	event(s, XMPP_S2S_EV_SASL_AUTH, &info);
}

static void start_tls(struct xmpp_s2s *s)
{
	s->st = XMPP_S2S_TLS;
	s->hdr_sent = false;
	(void)xmpp_parse_reset(s->p);
	event(s, XMPP_S2S_EV_TLS, NULL);
}

/* <db:NAME from to id type>: KEY as its text, or (type error) the
 * stanza error COND, or empty. */
static int send_db(struct xmpp_s2s *s, const char *name, const char *to,
		   const char *id, const char *type, const char *key,
		   const char *cond)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_printf(mb, "<db:%s", name);
	if (!err)
		err = attr(mb, "from", s->local);
	if (!err)
		err = attr(mb, "to", to);
	if (!err)
		err = attr(mb, "id", id);
	if (!err)
		err = attr(mb, "type", type);
	/* the key is text: one we are asked to verify came from another
	 * server, decoded, and must not become markup on our stream */
	if (!err && key) {
		err = mbuf_write_u8(mb, '>');
		if (!err)
			err = xmpp_escape(mb, key, strlen(key), false);
		if (!err)
			err = mbuf_printf(mb, "</db:%s>", name);
	}
	else if (!err && cond) {
		err = mbuf_printf(mb, "><error type='wait'><%s xmlns='%s'/>"
				  "</error></db:%s>", cond,
				  XMPP_NS_STANZAS, name);
	}
	else if (!err) {
		err = mbuf_write_str(mb, "/>");
	}
	if (!err)
		err = emit(s, mb);
	mem_deref(mb);
	return err;
}

/* A dialback answer's type is t. */
static bool type_is(const struct xmpp_el *el, const char *t)
{
	const char *v = xmpp_el_attr(el, "type");

	return v && !strcmp(v, t);
}

static void out_element(struct xmpp_s2s *s, struct xmpp_el *el)
{
	struct xmpp_s2s_evinfo info;
	char key[65];

	memset(&info, 0, sizeof(info));
	switch (s->st) {
	case XMPP_S2S_FEATURES:
		if (!xmpp_el_is(el, "features", XMPP_NS_STREAM))
			break;
		info.el = el;
		event(s, XMPP_S2S_EV_FEATURES, &info);
		if (s->st == XMPP_S2S_CLOSED)
			return;
		if (!s->tls) {
			if (!xmpp_el_child(el, "starttls", XMPP_NS_TLS)) {
				xmpp_s2s_close(s, XMPP_SERR_POLICY_VIOLATION);
				return;
			}
			(void)put_str(s, "<starttls xmlns='" XMPP_NS_TLS
				      "'/>");
			s->st = XMPP_S2S_STARTTLS;
			return;
		}
		if (s->sasl_done) {
			/* the stream after <success/>: ours to use */
			info.domain = s->remote;
			info.external = true;
			s->st = XMPP_S2S_READY;
			event(s, XMPP_S2S_EV_AUTHED, &info);
			return;
		}
		if (s->ext_ok && (xmpp_features_offer(el) &
					  XMPP_FEAT_SASL_EXTERNAL)) {
			if (send_auth(s)) {
				xmpp_s2s_close(s,
					XMPP_SERR_INTERNAL_SERVER_ERROR);
				return;
			}
			s->st = XMPP_S2S_SASL;
			return;
		}
		if (!xmpp_el_child(el, "dialback", XMPP_NS_DB_FEAT)) {
			xmpp_s2s_close(s, XMPP_SERR_UNSUPPORTED_FEATURE);
			return;
		}
		if (xmpp_db_key(key, s->secret, s->remote, s->local, s->sid) ||
		    send_db(s, "result", s->remote, NULL, NULL, key, NULL)) {
			xmpp_s2s_close(s, XMPP_SERR_INTERNAL_SERVER_ERROR);
			return;
		}
		s->st = XMPP_S2S_DIALBACK;
		return;
	case XMPP_S2S_SASL:
		if (xmpp_el_is(el, "success", XMPP_NS_SASL)) {
			if (add_authed(s, s->remote)) {
				xmpp_s2s_close(s,
					XMPP_SERR_INTERNAL_SERVER_ERROR);
				return;
			}
			sasl_restart(s);
			if (send_header(s))
				xmpp_s2s_close(s,
					XMPP_SERR_INTERNAL_SERVER_ERROR);
			return;
		}
		if (xmpp_el_is(el, "failure", XMPP_NS_SASL)) {
			const struct xmpp_el *k;

			info.domain = s->remote;
			info.sasl = XMPP_SASL_NOT_AUTHORIZED;
			for (k = el->kids; k; k = k->next) {
				if (xmpp_el_is(k, k->name, XMPP_NS_SASL) &&
				    strcmp(k->name, "text")) {
					info.sasl = xmpp_sasl_from_name(
						k->name);
					break;
				}
			}
			event(s, XMPP_S2S_EV_SASL_FAILED, &info);
			/* a new stream may try dialback: this one is done */
			xmpp_s2s_close(s, XMPP_SERR_NONE);
			return;
		}
		break;
	case XMPP_S2S_STARTTLS:
		if (xmpp_el_is(el, "proceed", XMPP_NS_TLS)) {
			start_tls(s);
			return;
		}
		if (xmpp_el_is(el, "failure", XMPP_NS_TLS)) {
			(void)put_str(s, "</stream:stream>");
			closed(s, XMPP_SERR_POLICY_VIOLATION, true);
			return;
		}
		break;
	case XMPP_S2S_DIALBACK:
	case XMPP_S2S_READY:
		if (xmpp_el_is(el, "verify", XMPP_NS_DIALBACK)) {
			info.domain = xmpp_el_attr(el, "from");
			info.id = xmpp_el_attr(el, "id");
			info.valid = type_is(el, "valid");
			event(s, XMPP_S2S_EV_DB_VERIFY, &info);
			return;
		}
		if (s->st != XMPP_S2S_DIALBACK ||
		    !xmpp_el_is(el, "result", XMPP_NS_DIALBACK))
			break;
		info.domain = s->remote;
		if (type_is(el, "valid")) {
			if (add_authed(s, s->remote)) {
				xmpp_s2s_close(s,
					XMPP_SERR_INTERNAL_SERVER_ERROR);
				return;
			}
			s->st = XMPP_S2S_READY;
			event(s, XMPP_S2S_EV_AUTHED, &info);
			return;
		}
		/* type=error: the peer could not check our key now
		 * (XEP-0220 2.4: remote-server-timeout...), no refusal */
		info.err = type_is(el, "error") ?
			XMPP_SERR_REMOTE_CONNECTION_FAILED :
			XMPP_SERR_NOT_AUTHORIZED;
		event(s, XMPP_S2S_EV_DB_REFUSED, &info);
		if (s->st != XMPP_S2S_CLOSED) {
			(void)put_str(s, "</stream:stream>");
			closed(s, info.err, true);
		}
		return;
	default:
		break;
	}
	xmpp_s2s_close(s, s->tls ? XMPP_SERR_UNSUPPORTED_STANZA_TYPE :
		       XMPP_SERR_POLICY_VIOLATION);
}

/**
 * What a <stream:features> element offers: XMPP_FEAT_* bits.  Other
 * features are not told.
 */
unsigned xmpp_features_offer(const struct xmpp_el *features)
{
	const struct xmpp_el *tls, *mechs, *m;
	unsigned f = 0;

	if (!xmpp_el_is(features, "features", XMPP_NS_STREAM))
		return 0;
	tls = xmpp_el_child(features, "starttls", XMPP_NS_TLS);
	if (tls) {
		f |= XMPP_FEAT_STARTTLS;
		if (xmpp_el_child(tls, "required", XMPP_NS_TLS))
			f |= XMPP_FEAT_TLS_REQUIRED;
	}
	if (xmpp_el_child(features, "dialback", XMPP_NS_DB_FEAT))
		f |= XMPP_FEAT_DIALBACK;
	mechs = xmpp_el_child(features, "mechanisms", XMPP_NS_SASL);
	for (m = mechs ? mechs->kids : NULL; m; m = m->next) {
		if (!xmpp_el_is(m, "mechanism", XMPP_NS_SASL) || !m->text)
			continue;
		if (m->textlen == 8 && !memcmp(m->text, "EXTERNAL", 8))
			f |= XMPP_FEAT_SASL_EXTERNAL;
		else
			f |= XMPP_FEAT_SASL_OTHER;
	}
	return f;
}

static bool is_stanza(const struct xmpp_el *el)
{
	return xmpp_el_is(el, "message", XMPP_NS_SERVER) ||
		xmpp_el_is(el, "presence", XMPP_NS_SERVER) ||
		xmpp_el_is(el, "iq", XMPP_NS_SERVER);
}

static void in_ready(struct xmpp_s2s *s, struct xmpp_el *el)
{
	struct xmpp_s2s_evinfo info;
	char from[DOMAIN_MAX], to[DOMAIN_MAX], key[65];
	const char *type;

	memset(&info, 0, sizeof(info));
	if (s->sasl_pending) {
		/* RFC 6120 6.4: nothing else until the outcome */
		xmpp_s2s_close(s, XMPP_SERR_POLICY_VIOLATION);
		return;
	}
	if (xmpp_el_is(el, "auth", XMPP_NS_SASL)) {
		in_auth(s, el);
		return;
	}
	if (xmpp_el_is(el, "result", XMPP_NS_DIALBACK)) {
		if (!xmpp_jid_domain(from, sizeof(from),
				     xmpp_el_attr(el, "from")) ||
		    !xmpp_jid_domain(to, sizeof(to), xmpp_el_attr(el, "to")) ||
		    !el->text) {
			xmpp_s2s_close(s, XMPP_SERR_IMPROPER_ADDRESSING);
			return;
		}
		if (str_casecmp(to, s->local)) {
			xmpp_s2s_close(s, XMPP_SERR_HOST_UNKNOWN);
			return;
		}
		info.domain = from;
		info.id = s->sid;
		info.key = el->text;
		event(s, XMPP_S2S_EV_DB_RESULT, &info);
		return;
	}
	if (xmpp_el_is(el, "verify", XMPP_NS_DIALBACK)) {
		/* we are the authoritative server: did we make this key? */
		if (!xmpp_jid_domain(from, sizeof(from),
				     xmpp_el_attr(el, "from")) ||
		    !str_isset(xmpp_el_attr(el, "id")) || !el->text) {
			xmpp_s2s_close(s, XMPP_SERR_IMPROPER_ADDRESSING);
			return;
		}
		type = "invalid";
		if (xmpp_jid_domain(to, sizeof(to), xmpp_el_attr(el, "to")) &&
		    !str_casecmp(to, s->local) &&
		    !xmpp_db_key(key, s->secret, from, s->local,
				 xmpp_el_attr(el, "id")) &&
		    key_eq(key, el->text))
			type = "valid";
		(void)send_db(s, "verify", from, xmpp_el_attr(el, "id"), type,
			      NULL, NULL);
		return;
	}
	if (!is_stanza(el)) {
		xmpp_s2s_close(s, XMPP_SERR_UNSUPPORTED_STANZA_TYPE);
		return;
	}
	if (!xmpp_jid_domain(from, sizeof(from), xmpp_el_attr(el, "from")) ||
	    !xmpp_jid_domain(to, sizeof(to), xmpp_el_attr(el, "to"))) {
		xmpp_s2s_close(s, XMPP_SERR_IMPROPER_ADDRESSING);
		return;
	}
	if (!xmpp_s2s_authed(s, from)) {
		xmpp_s2s_close(s, s->nauthed ? XMPP_SERR_INVALID_FROM :
			       XMPP_SERR_NOT_AUTHORIZED);
		return;
	}
	if (str_casecmp(to, s->local)) {
		xmpp_s2s_close(s, XMPP_SERR_HOST_UNKNOWN);
		return;
	}
	info.domain = from;
	info.el = el;
	event(s, XMPP_S2S_EV_STANZA, &info);
}

static void in_element(struct xmpp_s2s *s, struct xmpp_el *el)
{
	if (s->st == XMPP_S2S_STARTTLS) {
		if (!xmpp_el_is(el, "starttls", XMPP_NS_TLS)) {
			/* RFC 7590: nothing before TLS */
			xmpp_s2s_close(s, XMPP_SERR_POLICY_VIOLATION);
			return;
		}
		(void)put_str(s, "<proceed xmlns='" XMPP_NS_TLS "'/>");
		start_tls(s);
		return;
	}
	if (s->st == XMPP_S2S_READY) {
		in_ready(s, el);
		return;
	}
	xmpp_s2s_close(s, XMPP_SERR_BAD_FORMAT);
}

static void on_xml(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	struct xmpp_s2s *s = arg;
	const struct xmpp_el *k;
	enum xmpp_serr e;

	if (s->st == XMPP_S2S_CLOSED)
		return;
	switch (ev) {
	case XMPP_EV_HEADER:
		on_header(s, el);
		return;
	case XMPP_EV_END:
		(void)put_str(s, "</stream:stream>");
		closed(s, XMPP_SERR_NONE, true);
		return;
	case XMPP_EV_ELEMENT:
		break;
	}
	if (xmpp_el_is(el, "error", XMPP_NS_STREAM)) {
		e = XMPP_SERR_UNDEFINED_CONDITION;
		for (k = el->kids; k; k = k->next) {
			if (k->ns && 0 == strcmp(k->ns, XMPP_NS_STREAMS) &&
			    strcmp(k->name, "text")) {
				e = xmpp_serr_from_name(k->name);
				break;
			}
		}
		(void)put_str(s, "</stream:stream>");
		closed(s, e, true);
		return;
	}
	if (s->dir == XMPP_S2S_OUT)
		out_element(s, el);
	else
		in_element(s, el);
}

static void s2s_destructor(void *arg)
{
	struct xmpp_s2s *s = arg;
	unsigned i;

	mem_deref(s->p);
	mem_deref(s->local);
	mem_deref(s->remote);
	mem_deref(s->secret);
	mem_deref(s->fixed_id);
	for (i = 0; i < s->nauthed; i++)
		mem_deref(s->authed[i]);
}

/**
 * Allocate a stream.  Outbound needs conf->remote; both need local and
 * secret.  Nothing is sent until xmpp_s2s_start() (outbound) or the
 * peer's header (inbound).
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_s2s_alloc(struct xmpp_s2s **sp, enum xmpp_s2s_dir dir,
		   const struct xmpp_s2s_conf *conf, xmpp_s2s_send_h *sendh,
		   xmpp_s2s_ev_h *evh, void *arg)
{
	struct xmpp_s2s *s;
	int err;

	if (!sp || !conf || !sendh || !evh || !str_isset(conf->local) ||
	    !str_isset(conf->secret) ||
	    (dir == XMPP_S2S_OUT && !str_isset(conf->remote)))
		return EINVAL;
	s = mem_zalloc(sizeof(*s), s2s_destructor);
	if (!s)
		return ENOMEM;
	s->dir = dir;
	s->sendh = sendh;
	s->evh = evh;
	s->arg = arg;
	err = str_dup(&s->local, conf->local);
	if (!err && conf->remote)
		err = str_dup(&s->remote, conf->remote);
	if (!err)
		err = str_dup(&s->secret, conf->secret);
	if (!err && conf->id)
		err = str_dup(&s->fixed_id, conf->id);
	if (!err)
		err = xmpp_parse_alloc(&s->p, &conf->lim, on_xml, s);
	if (err) {
		mem_deref(s);
		return err;
	}
	s->st = dir == XMPP_S2S_IN ? XMPP_S2S_OPENING : XMPP_S2S_IDLE;
	*sp = s;
	return 0;
}

/**
 * Open an outbound stream: our header goes out.
 *
 * @return 0, EINVAL (not outbound, or already started) or the send
 *         handler's error
 */
int xmpp_s2s_start(struct xmpp_s2s *s)
{
	if (!s || s->dir != XMPP_S2S_OUT || s->st != XMPP_S2S_IDLE)
		return EINVAL;
	s->st = XMPP_S2S_OPENING;
	return send_header(s);
}

/**
 * Bytes from the peer.  After the TLS event the bytes that followed in
 * the same call are dropped (the peer sends none before the handshake).
 *
 * @return 0, EINVAL, or EPIPE once the stream is closed
 */
int xmpp_s2s_recv(struct xmpp_s2s *s, const void *buf, size_t len)
{
	int err;

	if (!s || (!buf && len))
		return EINVAL;
	if (s->st == XMPP_S2S_CLOSED || s->st == XMPP_S2S_IDLE)
		return EPIPE;
	err = xmpp_parse_feed(s->p, buf, len);
	if (err == EPROTO)
		xmpp_s2s_close(s, xmpp_parse_error(s->p));
	return s->st == XMPP_S2S_CLOSED ? EPIPE : 0;
}

/**
 * The TLS handshake the TLS event asked for is done (the caller has
 * verified the peer's certificate); the stream restarts over TLS.
 *
 * @return 0 or EINVAL when no TLS was asked for
 */
int xmpp_s2s_tls_ready(struct xmpp_s2s *s)
{
	if (!s || s->st != XMPP_S2S_TLS)
		return EINVAL;
	s->tls = true;
	s->st = XMPP_S2S_OPENING;
	if (s->dir == XMPP_S2S_OUT)
		return send_header(s);
	return 0;
}

/**
 * Inbound: the verdict on a DB_RESULT event's key (found by asking the
 * domain's authoritative server with db:verify).
 *
 * @return 0, EINVAL or the send handler's error
 */
int xmpp_s2s_db_answer(struct xmpp_s2s *s, const char *domain, bool valid)
{
	struct xmpp_s2s_evinfo info;
	int err;

	if (!s || !domain || s->dir != XMPP_S2S_IN ||
	    s->st != XMPP_S2S_READY)
		return EINVAL;
	if (!valid)
		return send_db(s, "result", domain, NULL, "invalid", NULL,
			       NULL);
	/* taken before the peer is told: a domain past MAX_AUTHED is told
	 * no (resource-constraint, try later), never valid and then
	 * refused as invalid-from with the others on the stream */
	err = add_authed(s, domain);
	if (err) {
		(void)send_db(s, "result", domain, NULL, "error", NULL,
			      "resource-constraint");
		return err;
	}
	err = send_db(s, "result", domain, NULL, "valid", NULL, NULL);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	info.domain = domain;
	event(s, XMPP_S2S_EV_AUTHED, &info);
	return 0;
}

/**
 * Outbound, as receiving server of another stream: ask the peer (the
 * authoritative server) whether it made key for stream id.
 *
 * @return 0, EINVAL or the send handler's error
 */
int xmpp_s2s_db_verify(struct xmpp_s2s *s, const char *id, const char *key)
{
	if (!s || !str_isset(id) || !str_isset(key) ||
	    s->dir != XMPP_S2S_OUT ||
	    (s->st != XMPP_S2S_DIALBACK && s->st != XMPP_S2S_READY))
		return EINVAL;
	return send_db(s, "verify", s->remote, id, NULL, key, NULL);
}

/**
 * Whether SASL EXTERNAL may be used: outbound, call before
 * xmpp_s2s_tls_ready() when the peer's certificate is valid for the
 * peer domain (EXTERNAL is then used when offered); inbound, call from
 * the HEADER event when the certificate is valid for its domain
 * (EXTERNAL is then offered).
 */
void xmpp_s2s_external(struct xmpp_s2s *s, bool ok)
{
	if (s)
		s->ext_ok = ok;
}

/**
 * Inbound: the verdict on a SASL_AUTH event: XMPP_SASL_OK sends
 * <success/> (the domain is authenticated, AUTHED follows, and the
 * stream restarts), anything else a <failure/> with that condition.
 *
 * @return 0, EINVAL when no SASL_AUTH waits, or ENOMEM
 */
int xmpp_s2s_sasl_answer(struct xmpp_s2s *s, enum xmpp_sasl cond)
{
	struct xmpp_s2s_evinfo info;
	char domain[DOMAIN_MAX];
	int err;

	if (!s || s->dir != XMPP_S2S_IN || !s->sasl_pending ||
	    s->st != XMPP_S2S_READY || (unsigned)cond >= XMPP_SASL_MAX)
		return EINVAL;
	s->sasl_pending = false;
	if (cond != XMPP_SASL_OK) {
		sasl_fail(s, cond);
		return 0;
	}
	err = add_authed(s, s->peer);
	if (err) {
		sasl_fail(s, XMPP_SASL_TEMPORARY_AUTH_FAILURE);
		return err;
	}
	str_ncpy(domain, s->peer, sizeof(domain));
	(void)put_str(s, "<success xmlns='" XMPP_NS_SASL "'/>");
	sasl_restart(s);
	memset(&info, 0, sizeof(info));
	info.domain = domain;
	info.external = true;
	event(s, XMPP_S2S_EV_AUTHED, &info);
	return 0;
}

/**
 * Send a stanza on an authenticated outbound stream.
 *
 * @return 0, EINVAL, ENOTCONN before authentication, ENOMEM or the
 *         send handler's error
 */
int xmpp_s2s_send(struct xmpp_s2s *s, const struct xmpp_el *stanza)
{
	struct mbuf *mb;
	int err;

	if (!s || !stanza || s->dir != XMPP_S2S_OUT)
		return EINVAL;
	if (s->st != XMPP_S2S_READY)
		return ENOTCONN;
	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;
	err = xmpp_el_encode(mb, stanza, XMPP_NS_SERVER);
	if (!err)
		err = emit(s, mb);
	mem_deref(mb);
	return err;
}

/**
 * Send stanzas the caller encoded (xmpp_el_encode with outer namespace
 * XMPP_NS_SERVER) on an authenticated outbound stream, in one write:
 * what a caller with several stanzas for the stream uses, so that each
 * is encoded once and the connection written once.
 *
 * @return 0, EINVAL, ENOTCONN before authentication or the send
 *         handler's error
 */
int xmpp_s2s_send_encoded(struct xmpp_s2s *s, const struct mbuf *mb)
{
	if (!s || !mb || s->dir != XMPP_S2S_OUT)
		return EINVAL;
	if (s->st != XMPP_S2S_READY)
		return ENOTCONN;
	if (!mb->end)
		return 0;
	return s->sendh((const char *)mb->buf, mb->end, s->arg);
}

/**
 * A whitespace keep-alive (RFC 6120 4.6.1), on a stream whose header
 * went out.
 *
 * @return 0, ENOTCONN or the send handler's error
 */
int xmpp_s2s_keepalive(struct xmpp_s2s *s)
{
	if (!s || !s->hdr_sent || s->st == XMPP_S2S_CLOSED)
		return ENOTCONN;
	return put_str(s, " ");
}

/** The stream's state. */
enum xmpp_s2s_state xmpp_s2s_state(const struct xmpp_s2s *s)
{
	return s ? s->st : XMPP_S2S_CLOSED;
}
