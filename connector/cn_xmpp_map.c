/*
 * cn_xmpp_map.c -- SIP <-> XMPP mappings (RFC 7247, 7248, 7572), pure.
 *
 * Everything here reads or builds one address, one status, one body or
 * one error; cn_xmpp_sip.c decides when.  Input from either side is
 * untrusted: lengths are bounded, escapes checked, and text that XML
 * cannot carry is refused rather than passed on.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "connector/cn_xmpp_map.h"
#include "xmpp/xmpp.h"

/* ---- text ---- */

/* Length of one UTF-8 sequence at p that is an XML 1.0 Char, or 0. */
static size_t xml_char(const unsigned char *p, size_t len)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80) {
		if (p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' &&
		    p[0] != '\r')
			return 0;
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) { n = 2; c = p[0] & 0x1f; }
	else if ((p[0] & 0xf0) == 0xe0) { n = 3; c = p[0] & 0x0f; }
	else if ((p[0] & 0xf8) == 0xf0) { n = 4; c = p[0] & 0x07; }
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;	/* overlong or out of range */
	if ((c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

static bool xml_text_ok(const char *p, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		n = xml_char((const unsigned char *)p + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* ---- addresses ---- */

/* The localpart characters XEP-0106 escapes, and their codes. */
static const char xep106_chars[] = " \"&'/:<>@\\";
static const char *const xep106_codes[] = {
	"20", "22", "26", "27", "2f", "3a", "3c", "3e", "40", "5c",
};

static int xep106_code(const char *p, size_t len)
{
	size_t i;

	if (len < 3 || p[0] != '\\')
		return -1;
	for (i = 0; i < ARRAY_SIZE(xep106_codes); i++) {
		if (0 == strncasecmp(p + 1, xep106_codes[i], 2))
			return (int)i;
	}
	return -1;
}

static int put(char *dst, size_t sz, size_t *np, const char *s, size_t n)
{
	if (*np + n >= sz)
		return EOVERFLOW;
	memcpy(dst + *np, s, n);
	*np += n;
	dst[*np] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A DNS name we route to: letters, digits, '-', '.', not an IPv4
 * literal (an XMPP domain names a server, RFC 7247 5.1). */
static int put_domain(char *dst, size_t sz, size_t *np, const char *p,
		      size_t len)
{
	bool alpha = false;
	size_t i;
	int err;

	if (!len)
		return EINVAL;
	for (i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)p[i]);

		if (isalpha((unsigned char)c) || c == '-')
			alpha = true;
		else if (!isdigit((unsigned char)c) && c != '.')
			return EINVAL;
		err = put(dst, sz, np, &c, 1);
		if (err)
			return err;
	}
	return alpha ? 0 : EINVAL;
}

/**
 * sip:user@host[:port][;params][?headers] -> user@host (RFC 7247 5.1).
 *
 * @return 0, EINVAL (does not map) or EOVERFLOW
 */
int cn_xmap_sip_to_jid(char *jid, size_t sz, const char *uri, size_t len)
{
	char user[CN_XMAP_ADDR_MAX] = "";
	const char *at, *p, *host, *end;
	size_t ulen = 0, n = 0, i;
	int err;

	if (!jid || !sz || !uri)
		return EINVAL;
	if (len > 4 && 0 == strncasecmp(uri, "sip:", 4))
		p = uri + 4;
	else if (len > 5 && 0 == strncasecmp(uri, "sips:", 5))
		p = uri + 5;
	else
		return EINVAL;
	end = uri + len;
	at = memchr(p, '@', (size_t)(end - p));
	if (!at || at == p)
		return EINVAL;

	/* the user part, percent-decoded */
	for (; p < at; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int h, l;

			if (at - p < 3)
				return EINVAL;
			h = hexval(p[1]);
			l = hexval(p[2]);
			if (h < 0 || l < 0)
				return EINVAL;
			c = h << 4 | l;
			p += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '\0')
			return EINVAL;
		if (ulen + 1 >= sizeof(user))
			return EOVERFLOW;
		user[ulen++] = (char)c;
	}
	if (!xml_text_ok(user, ulen))
		return EINVAL;

	/* escaped as a localpart (XEP-0106) */
	jid[0] = '\0';
	for (i = 0; i < ulen; i++) {
		const char *e = strchr(xep106_chars, user[i]);

		if (e && (user[i] != '\\' ||
			  xep106_code(user + i, ulen - i) >= 0)) {
			char esc[3] = {'\\', 0, 0};

			err = put(jid, sz, &n, esc, 1);
			if (!err)
				err = put(jid, sz, &n,
					  xep106_codes[e - xep106_chars], 2);
		}
		else {
			err = put(jid, sz, &n, user + i, 1);
		}
		if (err)
			return err;
	}
	err = put(jid, sz, &n, "@", 1);
	if (err)
		return err;

	/* the host, without port, parameters or headers */
	host = at + 1;
	for (p = host; p < end && *p != ':' && *p != ';' && *p != '?'; p++)
		;
	if (host < end && *host == '[')
		return EINVAL;
	return put_domain(jid, sz, &n, host, (size_t)(p - host));
}

/* RFC 3261 user: unreserved / user-unreserved, less ';' and '?' which
 * would read as the start of parameters or headers to a lax parser. */
static bool sip_user_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("-_.!~*'()&=+$,/", c));
}

/**
 * user@domain[/resource] -> sip:user@domain (RFC 7247 5.2).
 *
 * @return 0, EINVAL (does not map) or EOVERFLOW
 */
int cn_xmap_jid_to_sip(char *uri, size_t sz, const char *jid)
{
	const char *at, *slash, *p;
	size_t n = 0, dlen;
	int err;

	if (!uri || !sz || !jid)
		return EINVAL;
	slash = strchr(jid, '/');
	dlen = slash ? (size_t)(slash - jid) : strlen(jid);
	at = memchr(jid, '@', dlen);
	if (!at || at == jid)
		return EINVAL;
	if (!xml_text_ok(jid, (size_t)(at - jid)))
		return EINVAL;
	uri[0] = '\0';
	err = put(uri, sz, &n, "sip:", 4);
	for (p = jid; p < at && !err; p++) {
		unsigned char c = (unsigned char)*p;
		int k = xep106_code(p, (size_t)(at - p));
		char esc[4];

		if (k >= 0) {
			c = (unsigned char)xep106_chars[k];
			p += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return EINVAL;
		if (sip_user_char(c)) {
			err = put(uri, sz, &n, (const char *)&c, 1);
		}
		else {
			(void)re_snprintf(esc, sizeof(esc), "%%%02X", c);
			err = put(uri, sz, &n, esc, 3);
		}
	}
	if (!err)
		err = put(uri, sz, &n, "@", 1);
	if (!err)
		err = put_domain(uri, sz, &n, at + 1,
				 dlen - (size_t)(at + 1 - jid));
	return err;
}

/** The domain of a JID. */
int cn_xmap_jid_domain(char *dom, size_t sz, const char *jid)
{
	const char *at, *end;
	size_t n = 0;

	if (!dom || !sz || !jid)
		return EINVAL;
	end = strchr(jid, '/');
	if (!end)
		end = jid + strlen(jid);
	at = memchr(jid, '@', (size_t)(end - jid));
	at = at ? at + 1 : jid;
	dom[0] = '\0';
	return put_domain(dom, sz, &n, at, (size_t)(end - at));
}

/* ---- presence ---- */

static const char *const ptype_names[] = {
	[CN_XMAP_P_AVAILABLE] = "available",
	[CN_XMAP_P_UNAVAILABLE] = "unavailable",
	[CN_XMAP_P_SUBSCRIBE] = "subscribe",
	[CN_XMAP_P_SUBSCRIBED] = "subscribed",
	[CN_XMAP_P_UNSUBSCRIBE] = "unsubscribe",
	[CN_XMAP_P_UNSUBSCRIBED] = "unsubscribed",
	[CN_XMAP_P_PROBE] = "probe",
	[CN_XMAP_P_ERROR] = "error",
	[CN_XMAP_P_INVALID] = "invalid",
};

const char *cn_xmap_ptype_name(enum cn_xmap_ptype t)
{
	if ((unsigned)t >= ARRAY_SIZE(ptype_names))
		return "?";
	return ptype_names[t];
}

/** The kind of a <presence>; available when it has no type. */
enum cn_xmap_ptype cn_xmap_pres_type(const struct xmpp_el *pres)
{
	const char *t;
	unsigned i;

	if (!pres || 0 != strcmp(pres->name, "presence"))
		return CN_XMAP_P_INVALID;
	t = xmpp_el_attr(pres, "type");
	if (!t)
		return CN_XMAP_P_AVAILABLE;
	/* "available" is no type on the wire */
	for (i = CN_XMAP_P_UNAVAILABLE; i < CN_XMAP_P_INVALID; i++) {
		if (0 == strcmp(t, ptype_names[i]))
			return (enum cn_xmap_ptype)i;
	}
	return CN_XMAP_P_INVALID;
}

static int stanza_new(struct xmpp_el **elp, const char *name,
		      const char *from, const char *to)
{
	struct xmpp_el *el;
	int err;

	if (!elp || !from || !to || !*from || !*to)
		return EINVAL;
	err = xmpp_el_alloc(&el, name, XMPP_NS_SERVER);
	if (!err)
		err = xmpp_el_set_attr(el, "from", NULL, from);
	if (!err)
		err = xmpp_el_set_attr(el, "to", NULL, to);
	if (err) {
		mem_deref(el);
		return err;
	}
	*elp = el;
	return 0;
}

static int add_text_child(struct xmpp_el *el, const char *name,
			  const char *text, size_t len)
{
	struct xmpp_el *k = xmpp_el_add(el, name, XMPP_NS_SERVER);

	if (!k)
		return ENOMEM;
	return xmpp_el_add_text(k, text, len);
}

/** A status <presence> (RFC 7248 section 4). */
int cn_xmap_pres_encode(struct xmpp_el **elp, const char *from,
			const char *to, enum sst_status st, const char *note)
{
	struct xmpp_el *el = NULL;
	const char *show = NULL;
	int err;

	if (st > SST_ST_OFFLINE || !elp)
		return EINVAL;
	if (note && !xml_text_ok(note, strlen(note)))
		return EINVAL;
	err = stanza_new(&el, "presence", from, to);
	if (err)
		return err;
	switch (st) {
	case SST_ST_AWAY:    show = "away"; break;
	case SST_ST_DND:     show = "dnd"; break;
	case SST_ST_OFFLINE:
		err = xmpp_el_set_attr(el, "type", NULL, "unavailable");
		break;
	default: break;
	}
	if (!err && show)
		err = add_text_child(el, "show", show, strlen(show));
	if (!err && note && *note)
		err = add_text_child(el, "status", note, strlen(note));
	if (err) {
		mem_deref(el);
		return err;
	}
	*elp = el;
	return 0;
}

/** A subscription or probe <presence> (RFC 7248 sections 5, 6). */
int cn_xmap_pres_ctl(struct xmpp_el **elp, const char *from,
		     const char *to, enum cn_xmap_ptype t)
{
	struct xmpp_el *el = NULL;
	int err;

	if (t < CN_XMAP_P_SUBSCRIBE || t > CN_XMAP_P_PROBE)
		return EINVAL;
	err = stanza_new(&el, "presence", from, to);
	if (!err)
		err = xmpp_el_set_attr(el, "type", NULL, ptype_names[t]);
	if (err) {
		mem_deref(el);
		return err;
	}
	*elp = el;
	return 0;
}

/* Copy text, whitespace trimmed, cut on a UTF-8 boundary to fit. */
static void copy_trimmed(char *dst, size_t sz, const char *p, size_t len)
{
	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	if (len > sz - 1) {
		len = sz - 1;
		while (len && ((unsigned char)p[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, p, len);
	dst[len] = '\0';
}

/** What a status <presence> says (RFC 7248 section 4). */
int cn_xmap_pres_decode(enum sst_status *stp, char *note, size_t sz,
			const struct xmpp_el *pres)
{
	enum cn_xmap_ptype t = cn_xmap_pres_type(pres);
	const struct xmpp_el *k;
	enum sst_status st = SST_ST_ACTIVE;

	if (!stp || !note || !sz || !pres)
		return EINVAL;
	if (t != CN_XMAP_P_AVAILABLE && t != CN_XMAP_P_UNAVAILABLE)
		return EPROTO;
	if (sz > SST_PIDF_NOTE_MAX + 1)
		sz = SST_PIDF_NOTE_MAX + 1;
	if (t == CN_XMAP_P_UNAVAILABLE) {
		st = SST_ST_OFFLINE;
	}
	else if ((k = xmpp_el_child(pres, "show", pres->ns)) && k->text) {
		char show[8];

		copy_trimmed(show, sizeof(show), k->text, k->textlen);
		if (!strcmp(show, "away") || !strcmp(show, "xa"))
			st = SST_ST_AWAY;
		else if (!strcmp(show, "dnd"))
			st = SST_ST_DND;
	}
	note[0] = '\0';
	k = xmpp_el_child(pres, "status", pres->ns);
	if (k && k->text && xml_text_ok(k->text, k->textlen))
		copy_trimmed(note, sz, k->text, k->textlen);
	*stp = st;
	return 0;
}

/* ---- messages ---- */

/* text/plain, with no charset or charset UTF-8 (RFC 7572 section 5). */
static bool ctype_plain(const char *ct)
{
	struct pl v = PL_INIT, params, cs;
	const char *semi;
	size_t len;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	semi = strchr(ct, ';');
	len = semi ? (size_t)(semi - ct) : strlen(ct);
	while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len != 10 || 0 != strncasecmp(ct, "text/plain", 10))
		return false;
	if (!semi)
		return true;
	pl_set_str(&params, semi);
	if (re_regex(params.p, params.l, "charset=[~;]+", &v))
		return true;
	cs = v;
	if (cs.l >= 2 && cs.p[0] == '"' && cs.p[cs.l - 1] == '"') {
		cs.p++;
		cs.l -= 2;
	}
	return 0 == pl_strcasecmp(&cs, "utf-8") ||
		0 == pl_strcasecmp(&cs, "us-ascii");
}

/** A SIP MESSAGE body -> <message type="chat"> (RFC 7572 section 5). */
int cn_xmap_msg_encode(struct xmpp_el **elp, const char *from,
		       const char *to, const char *ctype, const char *body,
		       size_t len, uint16_t *scodep)
{
	struct xmpp_el *el = NULL;
	uint16_t sc = 0;
	int err;

	if (!elp || !scodep || (len && !body))
		return EINVAL;
	if (!ctype || !*ctype) {
		sc = len ? 415 : 400;
		err = len ? EPROTONOSUPPORT : EBADMSG;
	}
	else if (!ctype_plain(ctype)) {
		sc = 415;
		err = EPROTONOSUPPORT;
	}
	else if (len > CN_XMAP_BODY_MAX) {
		sc = 413;
		err = EMSGSIZE;
	}
	else if (!len || !xml_text_ok(body, len)) {
		sc = 400;
		err = EBADMSG;
	}
	else {
		err = stanza_new(&el, "message", from, to);
		if (!err)
			err = xmpp_el_set_attr(el, "type", NULL, "chat");
		if (!err)
			err = add_text_child(el, "body", body, len);
		if (err) {
			sc = err == EINVAL ? 400 : 500;
			el = mem_deref(el);
		}
	}
	*scodep = sc;
	if (!err)
		*elp = el;
	return err;
}

/** The body of an inbound <message> (RFC 7572 section 6). */
int cn_xmap_msg_decode(const char **bodyp, size_t *lenp,
		       const struct xmpp_el *msg)
{
	const struct xmpp_el *b;
	const char *t;

	if (!bodyp || !lenp || !msg || 0 != strcmp(msg->name, "message"))
		return EINVAL;
	t = xmpp_el_attr(msg, "type");
	if (t && !strcmp(t, "error"))
		return EPROTO;
	if (t && strcmp(t, "chat") && strcmp(t, "normal"))
		return ENOTSUP;
	b = xmpp_el_child(msg, "body", msg->ns);
	if (!b || !b->textlen || !b->text)
		return ENODATA;
	*bodyp = b->text;
	*lenp = b->textlen;
	return 0;
}

/* ---- errors ---- */

/*
 * SIP status -> stanza error (RFC 6120 8.3.3 for the types).  The first
 * row naming a condition and type is also the way back.
 */
static const struct sip2x {
	uint16_t sc;
	const char *cond;
	const char *type;
} sip2x[] = {
	{400, "bad-request", "modify"},
	{403, "forbidden", "auth"},
	{404, "item-not-found", "cancel"},
	{408, "remote-server-timeout", "wait"},
	{413, "policy-violation", "modify"},
	{415, "not-acceptable", "modify"},
	{480, "service-unavailable", "cancel"},
	{500, "internal-server-error", "wait"},
	{503, "service-unavailable", "wait"},
	/* one way only: several SIP codes, one XMPP meaning */
	{401, "not-authorized", "auth"},
	{405, "not-allowed", "cancel"},
	{406, "not-acceptable", "modify"},
	{407, "not-authorized", "auth"},
	{410, "gone", "cancel"},
	{420, "feature-not-implemented", "cancel"},
	{484, "jid-malformed", "modify"},
	{486, "recipient-unavailable", "wait"},
	{488, "not-acceptable", "modify"},
	{501, "feature-not-implemented", "cancel"},
	{502, "remote-server-not-found", "cancel"},
	{504, "remote-server-timeout", "wait"},
	{600, "service-unavailable", "cancel"},
	{603, "forbidden", "auth"},
	{604, "item-not-found", "cancel"},
};

/* stanza error condition -> SIP status, read before sip2x: the
 * conditions sip2x gives only one way, or not at all */
static const struct x2sip {
	const char *cond;
	uint16_t sc;
} x2sip[] = {
	{"recipient-unavailable", 480},
	{"remote-server-not-found", 404},
	{"jid-malformed", 400},
	{"not-authorized", 403},
	{"payment-required", 403},
	{"subscription-required", 403},
	{"registration-required", 403},
	{"not-allowed", 405},
	{"gone", 410},
	{"redirect", 410},
	{"conflict", 400},
	{"unexpected-request", 400},
	{"feature-not-implemented", 501},
	{"resource-constraint", 503},
	{"undefined-condition", 500},
};

/** A SIP final status -> a stanza error condition and type. */
void cn_xmap_err_from_sip(const char **condp, const char **typep,
			  uint16_t scode, bool offline)
{
	const char *cond, *type;
	size_t i;

	if (scode == 480 && offline) {
		cond = "recipient-unavailable";
		type = "wait";
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(sip2x); i++) {
		if (sip2x[i].sc == scode) {
			cond = sip2x[i].cond;
			type = sip2x[i].type;
			goto out;
		}
	}
	/* classes: a client fault, a server fault, a global refusal */
	if (scode >= 600) {
		cond = "service-unavailable";
		type = "cancel";
	}
	else if (scode >= 500) {
		cond = "internal-server-error";
		type = "wait";
	}
	else if (scode >= 300 && scode < 400) {
		cond = "item-not-found";	/* we do not follow redirects */
		type = "cancel";
	}
	else {
		cond = "bad-request";
		type = "modify";
	}
 out:
	if (condp)
		*condp = cond;
	if (typep)
		*typep = type;
}

/** A stanza error condition and type -> a SIP final status. */
uint16_t cn_xmap_err_to_sip(const char *cond, const char *type)
{
	size_t i;

	if (!cond)
		return 500;
	if (!strcmp(cond, "service-unavailable"))
		return type && !strcmp(type, "cancel") ? 480 : 503;
	for (i = 0; i < ARRAY_SIZE(x2sip); i++) {
		if (!strcmp(x2sip[i].cond, cond))
			return x2sip[i].sc;
	}
	for (i = 0; i < ARRAY_SIZE(sip2x); i++) {
		if (!strcmp(sip2x[i].cond, cond))
			return sip2x[i].sc;
	}
	return 500;
}

/** The SIP status an error stanza reads as. */
uint16_t cn_xmap_err_stanza_sip(const struct xmpp_el *stanza)
{
	const struct xmpp_el *e, *k;

	e = xmpp_el_child(stanza, "error", stanza ? stanza->ns : NULL);
	if (!e)
		return 500;
	for (k = e->kids; k; k = k->next) {
		if (k->ns && !strcmp(k->ns, XMPP_NS_STANZAS) &&
		    strcmp(k->name, "text"))
			return cn_xmap_err_to_sip(k->name,
						  xmpp_el_attr(e, "type"));
	}
	return 500;
}

/** The error stanza answering orig for SIP status scode. */
int cn_xmap_err_stanza(struct xmpp_el **elp, const struct xmpp_el *orig,
		       uint16_t scode, bool offline)
{
	struct xmpp_el *el = NULL, *e;
	const char *cond, *type, *id;
	int err;

	if (!elp || !orig)
		return EINVAL;
	err = stanza_new(&el, orig->name, xmpp_el_attr(orig, "to"),
			 xmpp_el_attr(orig, "from"));
	if (err)
		return err;
	cn_xmap_err_from_sip(&cond, &type, scode, offline);
	id = xmpp_el_attr(orig, "id");
	if (id)
		err = xmpp_el_set_attr(el, "id", NULL, id);
	if (!err)
		err = xmpp_el_set_attr(el, "type", NULL, "error");
	e = err ? NULL : xmpp_el_add(el, "error", XMPP_NS_SERVER);
	if (!err && !e)
		err = ENOMEM;
	if (!err)
		err = xmpp_el_set_attr(e, "type", NULL, type);
	if (!err && !xmpp_el_add(e, cond, XMPP_NS_STANZAS))
		err = ENOMEM;
	if (err) {
		mem_deref(el);
		return err;
	}
	*elp = el;
	return 0;
}

/** What cn_xmpp_sent_h said -> the SIP answer (temporary: Retry-After
 * retry_s, the connector's retryInterval as the SIP side says it). */
uint16_t cn_xmap_senderr_sip(int err, uint32_t retry_s, uint32_t *retryp)
{
	uint32_t retry = 0;
	uint16_t sc;

	switch (err) {
	case 0:            sc = 200; break;
	case ETIMEDOUT:    sc = 503; retry = retry_s; break;
	case ECONNREFUSED: sc = 480; retry = retry_s; break;
	case EPIPE:        sc = 503; retry = retry_s; break;
	case ENOTCONN:     sc = 503; retry = retry_s; break;
	case ENOENT:       sc = 404; break;
	case EPERM:        sc = 403; break;
	default:           sc = 500; break;
	}
	if (retryp)
		*retryp = retry;
	return sc;
}

/** A refusal of us ends in EPERM, anything else is temporary. */
int cn_xmap_unauthed_errno(enum xmpp_serr cond)
{
	switch (cond) {
	case XMPP_SERR_NOT_AUTHORIZED:
	case XMPP_SERR_POLICY_VIOLATION:
	case XMPP_SERR_INVALID_FROM:
	case XMPP_SERR_HOST_UNKNOWN:
	case XMPP_SERR_HOST_GONE:
		return EPERM;
	default:
		return ECONNREFUSED;
	}
}

const char *cn_xmap_reason(uint16_t scode)
{
	switch (scode) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 489: return "Bad Event";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default:  return scode < 300 ? "OK" : "Error";
	}
}
