/*
 * xmpp_parse.c -- the bounded XMPP stream parser of xmpp.h.
 *
 * libxml2's push parser with its SAX2 callbacks: the opening
 * <stream:stream> tag becomes XMPP_EV_HEADER, each complete child of it
 * becomes an xmpp_el tree handed out as XMPP_EV_ELEMENT, and the
 * closing tag XMPP_EV_END.  Input is given to libxml2 in slices of at
 * most SLICE bytes, and the bytes since the last top-level boundary
 * (the header's end, a top-level element's end, what libxml2 consumed
 * between them) are counted after each slice and at each element's end:
 * so
 * neither a huge stanza nor an opening tag that never ends grows the
 * parser's buffer beyond the stanza limit and one slice.
 *
 * Character references and the five predefined entities are replaced
 * (libxml2 would otherwise hand out attribute values with "&#38;" in
 * them); no other entity can exist, since a DOCTYPE stops the parser
 * before its internal subset is read and every other reference is
 * refused.
 *
 * What RFC 6120 section 11.1 forbids (comments, processing
 * instructions, a DOCTYPE, entity declarations, references to entities
 * other than the five predefined ones) is refused as restricted-xml;
 * libxml2's own errors as not-well-formed; a stream header that is not
 * {http://etherx.jabber.org/streams}stream as invalid-namespace; an
 * encoding other than UTF-8 as unsupported-encoding; text other than
 * whitespace between top-level elements as bad-format; and a limit
 * exceeded as policy-violation.  The first refusal stops the parser;
 * the caller sends that stream error and closes the stream.
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <re.h>

#include "xmpp/xmpp.h"

enum { SLICE = 1024 };

struct xmpp_parse {
	xmlParserCtxtPtr ctxt;
	struct xmpp_limits lim;
	xmpp_parse_h *h;
	void *arg;
	struct xmpp_el *root;     /* top-level element being built */
	struct xmpp_el *cur;      /* its innermost open element */
	char *content_ns;         /* default namespace of the header */
	unsigned depth;           /* open elements, the header included */
	unsigned nsdecl;          /* declarations in the current element */
	size_t fed;               /* bytes given to libxml2 */
	size_t mark;              /* offset of the last boundary */
	enum xmpp_serr err;
	char detail[96];
	bool in_cb;               /* inside a libxml2 callback */
	bool stopped;
	bool reset_pending;
};

static const char *serr_names[XMPP_SERR_MAX] = {
	[XMPP_SERR_NONE] = "",
	[XMPP_SERR_BAD_FORMAT] = "bad-format",
	[XMPP_SERR_BAD_NAMESPACE_PREFIX] = "bad-namespace-prefix",
	[XMPP_SERR_CONFLICT] = "conflict",
	[XMPP_SERR_CONNECTION_TIMEOUT] = "connection-timeout",
	[XMPP_SERR_HOST_GONE] = "host-gone",
	[XMPP_SERR_HOST_UNKNOWN] = "host-unknown",
	[XMPP_SERR_IMPROPER_ADDRESSING] = "improper-addressing",
	[XMPP_SERR_INTERNAL_SERVER_ERROR] = "internal-server-error",
	[XMPP_SERR_INVALID_FROM] = "invalid-from",
	[XMPP_SERR_INVALID_NAMESPACE] = "invalid-namespace",
	[XMPP_SERR_INVALID_XML] = "invalid-xml",
	[XMPP_SERR_NOT_AUTHORIZED] = "not-authorized",
	[XMPP_SERR_NOT_WELL_FORMED] = "not-well-formed",
	[XMPP_SERR_POLICY_VIOLATION] = "policy-violation",
	[XMPP_SERR_REMOTE_CONNECTION_FAILED] = "remote-connection-failed",
	[XMPP_SERR_RESET] = "reset",
	[XMPP_SERR_RESOURCE_CONSTRAINT] = "resource-constraint",
	[XMPP_SERR_RESTRICTED_XML] = "restricted-xml",
	[XMPP_SERR_SEE_OTHER_HOST] = "see-other-host",
	[XMPP_SERR_SYSTEM_SHUTDOWN] = "system-shutdown",
	[XMPP_SERR_UNDEFINED_CONDITION] = "undefined-condition",
	[XMPP_SERR_UNSUPPORTED_ENCODING] = "unsupported-encoding",
	[XMPP_SERR_UNSUPPORTED_FEATURE] = "unsupported-feature",
	[XMPP_SERR_UNSUPPORTED_STANZA_TYPE] = "unsupported-stanza-type",
	[XMPP_SERR_UNSUPPORTED_VERSION] = "unsupported-version",
};

/** The RFC 6120 name of a stream error condition. */
const char *xmpp_serr_name(enum xmpp_serr e)
{
	if ((unsigned)e >= XMPP_SERR_MAX)
		return "undefined-condition";
	return serr_names[e];
}

/** The stream error condition an element name names. */
enum xmpp_serr xmpp_serr_from_name(const char *name)
{
	unsigned i;

	if (!name || !*name)
		return XMPP_SERR_UNDEFINED_CONDITION;
	for (i = 1; i < XMPP_SERR_MAX; i++) {
		if (0 == strcmp(serr_names[i], name))
			return (enum xmpp_serr)i;
	}
	return XMPP_SERR_UNDEFINED_CONDITION;
}

/* Record the first refusal and stop libxml2. */
static void refuse(struct xmpp_parse *p, enum xmpp_serr e, const char *why)
{
	if (p->err)
		return;
	p->err = e;
	str_ncpy(p->detail, why, sizeof(p->detail));
	xmlStopParser(p->ctxt);
}

static size_t consumed(const struct xmpp_parse *p)
{
	long n = xmlByteConsumed(p->ctxt);

	return n < 0 ? p->fed : (size_t)n;
}

static bool over_size(struct xmpp_parse *p, size_t at)
{
	if (at > p->mark && at - p->mark > p->lim.stanza_max) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION, "stanza too large");
		return true;
	}
	return false;
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF.  libxml2 2.9 lets some overlong forms through on
 * some input paths; what we hand out is UTF-8 whatever the chunking.
 */
static bool utf8_ok(const xmlChar *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min, v, k;

		if (c < 0x80) {
			++i;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			v = c & 0x1f;
		}
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			v = c & 0x0f;
		}
		else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			v = c & 0x07;
		}
		else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			v = (v << 6) | (s[i + k] & 0x3f);
		}
		if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static bool str_ok(const xmlChar *s)
{
	return !s || utf8_ok(s, strlen((const char *)s));
}

static char *xstr(const xmlChar *s)
{
	return (char *)s;
}

static int add_attrs(struct xmpp_el *el, int n, const xmlChar **a)
{
	int i, err = 0;

	/* five pointers per attribute: localname, prefix, URI, value,
	 * end of value */
	for (i = 0; i < n && !err; i++) {
		const xmlChar **at = a + 5 * i;
		size_t len = (size_t)(at[4] - at[3]);
		char *val;

		if (!str_ok(at[0]) || !str_ok(at[2]) ||
		    !utf8_ok(at[3], len))
			return EILSEQ;
		val = mem_alloc(len + 1, NULL);
		if (!val)
			return ENOMEM;
		memcpy(val, at[3], len);
		val[len] = '\0';
		err = xmpp_el_set_attr(el, xstr(at[0]), xstr(at[2]), val);
		mem_deref(val);
	}
	return err;
}

static void header(struct xmpp_parse *p, const xmlChar *name,
		   const xmlChar *uri, int nns, const xmlChar **ns,
		   int nattr, const xmlChar **attrs)
{
	struct xmpp_el *el = NULL;
	const char *enc = (const char *)p->ctxt->encoding;
	int i;

	if (!uri || strcmp(xstr(uri), XMPP_NS_STREAM) ||
	    strcmp(xstr(name), "stream")) {
		refuse(p, XMPP_SERR_INVALID_NAMESPACE,
		       "not a stream header");
		return;
	}
	if ((enc && str_casecmp(enc, "UTF-8")) ||
	    (p->ctxt->input && p->ctxt->input->buf &&
	     p->ctxt->input->buf->encoder)) {
		refuse(p, XMPP_SERR_UNSUPPORTED_ENCODING, "not UTF-8");
		return;
	}
	if ((unsigned)nns > p->lim.nsdecl_max) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION,
		       "too many namespace declarations");
		return;
	}
	if ((unsigned)nattr > p->lim.attr_max) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION, "too many attributes");
		return;
	}
	p->content_ns = mem_deref(p->content_ns);
	for (i = 0; i < nns; i++) {
		if (!ns[2 * i] && ns[2 * i + 1] &&
		    str_dup(&p->content_ns, xstr(ns[2 * i + 1]))) {
			refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
			return;
		}
	}
	if (xmpp_el_alloc(&el, "stream", XMPP_NS_STREAM)) {
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
		return;
	}
	i = add_attrs(el, nattr, attrs);
	if (i) {
		mem_deref(el);
		refuse(p, i == EILSEQ ? XMPP_SERR_NOT_WELL_FORMED :
		       XMPP_SERR_RESOURCE_CONSTRAINT,
		       i == EILSEQ ? "not UTF-8" : "no memory");
		return;
	}
	p->depth = 1;
	/* libxml2 reports a start tag with its '>' not yet consumed */
	p->mark = consumed(p) + 1;
	p->h(XMPP_EV_HEADER, el, p->arg);
	mem_deref(el);
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
		     const xmlChar *uri, int nns, const xmlChar **ns,
		     int nattr, int ndef, const xmlChar **attrs)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	struct xmpp_el *el = NULL;
	(void)ndef;

	if (p->err || p->stopped || p->reset_pending)
		return;
	if (prefix && !uri) {
		refuse(p, XMPP_SERR_NOT_WELL_FORMED, "undeclared prefix");
		return;
	}
	if (!str_ok(name) || !str_ok(uri)) {
		refuse(p, XMPP_SERR_NOT_WELL_FORMED, "not UTF-8");
		return;
	}
	if (p->depth == 0) {
		header(p, name, uri, nns, ns, nattr, attrs);
		return;
	}
	if (p->depth >= p->lim.depth_max + 1) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION, "nested too deep");
		return;
	}
	if ((unsigned)nattr > p->lim.attr_max) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION, "too many attributes");
		return;
	}
	if (p->depth == 1)
		p->nsdecl = 0;
	p->nsdecl += (unsigned)nns;
	if (p->nsdecl > p->lim.nsdecl_max) {
		refuse(p, XMPP_SERR_POLICY_VIOLATION,
		       "too many namespace declarations");
		return;
	}
	if (p->depth == 1) {
		(void)xmpp_el_alloc(&el, xstr(name), xstr(uri));
		p->root = el;
	}
	else {
		el = xmpp_el_add(p->cur, xstr(name), xstr(uri));
	}
	if (!el) {
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
		return;
	}
	switch (add_attrs(el, nattr, attrs)) {
	case 0:
		break;
	case EILSEQ:
		refuse(p, XMPP_SERR_NOT_WELL_FORMED, "not UTF-8");
		return;
	default:
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
		return;
	}
	p->cur = el;
	++p->depth;
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	struct xmpp_el *el;
	(void)name;
	(void)prefix;
	(void)uri;

	if (p->err || p->stopped || p->reset_pending || !p->depth)
		return;
	--p->depth;
	if (p->depth == 0) {
		p->h(XMPP_EV_END, NULL, p->arg);
		return;
	}
	if (p->depth > 1) {
		p->cur = p->cur->parent;
		return;
	}
	if (over_size(p, consumed(p)))
		return;
	el = p->root;
	p->root = p->cur = NULL;
	p->mark = consumed(p);
	p->h(XMPP_EV_ELEMENT, el, p->arg);
	mem_deref(el);
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	int i;

	if (p->err || p->stopped || p->reset_pending || len <= 0)
		return;
	if (!utf8_ok(ch, (size_t)len)) {
		refuse(p, XMPP_SERR_NOT_WELL_FORMED, "not UTF-8");
		return;
	}
	if (p->depth == 1) {
		for (i = 0; i < len; i++) {
			if (ch[i] != ' ' && ch[i] != '\t' && ch[i] != '\n' &&
			    ch[i] != '\r') {
				refuse(p, XMPP_SERR_BAD_FORMAT,
				       "text between stanzas");
				return;
			}
		}
		return;
	}
	if (p->depth < 2 || !p->cur)
		return;
	if (xmpp_el_add_text(p->cur, (const char *)ch, (size_t)len))
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
}

static void on_comment(void *ctx, const xmlChar *v)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	(void)v;

	refuse(p, XMPP_SERR_RESTRICTED_XML, "comment");
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	(void)target;
	(void)data;

	refuse(p, XMPP_SERR_RESTRICTED_XML, "processing instruction");
}

static void on_dtd(void *ctx, const xmlChar *name, const xmlChar *eid,
		   const xmlChar *sid)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	(void)name;
	(void)eid;
	(void)sid;

	refuse(p, XMPP_SERR_RESTRICTED_XML, "DOCTYPE");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
			   const xmlChar *pid, const xmlChar *sid,
			   xmlChar *content)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	(void)name;
	(void)type;
	(void)pid;
	(void)sid;
	(void)content;

	refuse(p, XMPP_SERR_RESTRICTED_XML, "entity declaration");
}

/* No entity is known but the five predefined ones, which libxml2
 * resolves before asking. */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;
	(void)name;

	refuse(p, XMPP_SERR_RESTRICTED_XML, "entity reference");
	return NULL;
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	struct xmpp_parse *p = ((xmlParserCtxtPtr)ctx)->_private;

	if (!e || e->level < XML_ERR_ERROR)
		return;
	/* An input conversion error comes from inside libxml2's
	 * encoding switch, where halting the parser would pull the input
	 * from under it: record it, and the feed loop stops. */
	if (e->domain == XML_FROM_IO || e->domain == XML_FROM_I18N) {
		if (!p->err) {
			p->err = XMPP_SERR_UNSUPPORTED_ENCODING;
			str_ncpy(p->detail, "not UTF-8", sizeof(p->detail));
		}
		return;
	}
	switch (e->code) {
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_ENTITY_LOOP:
		refuse(p, XMPP_SERR_RESTRICTED_XML, "entity reference");
		break;
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_INVALID_ENCODING:
		refuse(p, XMPP_SERR_UNSUPPORTED_ENCODING, "not UTF-8");
		break;
	case XML_ERR_NO_MEMORY:	/* names past names_max, or out of memory */
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "too many names");
		break;
	default:
		refuse(p, XMPP_SERR_NOT_WELL_FORMED,
		       e->domain == XML_FROM_NAMESPACE ?
		       "namespace error" : "not well-formed");
		break;
	}
}

/*
 * What the context may do, set anew after every reset.  libxml2 keeps
 * every name it meets in the context's dictionary for the life of the
 * context, across stanzas and resets: with no bound of our own, a peer
 * sending stanzas with ever new attribute names or namespaces (each
 * stanza within its limits) grows it without end.  The bound goes in
 * after the options, which set libxml2's own.
 */
static void ctxt_options(struct xmpp_parse *p)
{
	p->ctxt->_private = p;
	(void)xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA |
				XML_PARSE_NOENT | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	p->ctxt->replaceEntities = 1;
	p->ctxt->loadsubset = 0;
	p->ctxt->validate = 0;
	if (p->ctxt->dict)
		xmlDictSetLimit(p->ctxt->dict, p->lim.names_max);
}

static int ctxt_new(struct xmpp_parse *p)
{
	xmlSAXHandler sax;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = on_start;
	sax.endElementNs = on_end;
	sax.characters = on_chars;
	sax.ignorableWhitespace = on_chars;
	sax.cdataBlock = on_chars;
	sax.comment = on_comment;
	sax.processingInstruction = on_pi;
	sax.internalSubset = on_dtd;
	sax.externalSubset = on_dtd;
	sax.entityDecl = on_entity_decl;
	sax.getEntity = on_get_entity;
	sax.getParameterEntity = on_get_entity;
	sax.serror = on_error;

	p->ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
	if (!p->ctxt)
		return ENOMEM;
	ctxt_options(p);
	return 0;
}

static void clear(struct xmpp_parse *p)
{
	p->root = mem_deref(p->root);
	p->cur = NULL;
	p->content_ns = mem_deref(p->content_ns);
	p->depth = 0;
	p->nsdecl = 0;
	p->fed = 0;
	p->mark = 0;
	p->err = XMPP_SERR_NONE;
	p->detail[0] = '\0';
	p->stopped = false;
	p->reset_pending = false;
}

static void parse_destructor(void *arg)
{
	struct xmpp_parse *p = arg;

	clear(p);
	if (p->ctxt)
		xmlFreeParserCtxt(p->ctxt);
}

/**
 * Allocate a stream parser.
 *
 * @param pp  Where the parser is written on success
 * @param lim Limits, or NULL for the defaults (a zero field too)
 * @param h   Handler of headers, top-level elements and stream ends
 * @param arg Handler argument
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_parse_alloc(struct xmpp_parse **pp, const struct xmpp_limits *lim,
		     xmpp_parse_h *h, void *arg)
{
	struct xmpp_parse *p;
	int err;

	if (!pp || !h)
		return EINVAL;
	p = mem_zalloc(sizeof(*p), parse_destructor);
	if (!p)
		return ENOMEM;
	if (lim)
		p->lim = *lim;
	if (!p->lim.stanza_max)
		p->lim.stanza_max = XMPP_STANZA_MAX;
	if (!p->lim.depth_max)
		p->lim.depth_max = XMPP_DEPTH_MAX;
	if (!p->lim.attr_max)
		p->lim.attr_max = XMPP_ATTR_MAX;
	if (!p->lim.nsdecl_max)
		p->lim.nsdecl_max = XMPP_NSDECL_MAX;
	if (!p->lim.names_max)
		p->lim.names_max = XMPP_NAMES_MAX;
	p->h = h;
	p->arg = arg;
	err = ctxt_new(p);
	if (err) {
		mem_deref(p);
		return err;
	}
	*pp = p;
	return 0;
}

static void do_reset(struct xmpp_parse *p)
{
	clear(p);
	if (xmlCtxtResetPush(p->ctxt, NULL, 0, NULL, NULL)) {
		refuse(p, XMPP_SERR_RESOURCE_CONSTRAINT, "no memory");
		return;
	}
	ctxt_options(p);
}

/**
 * Give the parser the next bytes of the stream, in any chunking.
 * Handlers run from inside this call.
 *
 * @return 0; EPROTO once the stream was refused (xmpp_parse_error()
 *         says with which condition), also for every later call;
 *         ECANCELED after xmpp_parse_stop(); EINVAL
 */
int xmpp_parse_feed(struct xmpp_parse *p, const void *buf, size_t len)
{
	const char *b = buf;

	if (!p || (!buf && len))
		return EINVAL;
	while (len && !p->err && !p->stopped) {
		size_t n = len < SLICE ? len : SLICE;
		int rc;

		/* libxml2 reports conversion errors without the context;
		 * they too must reach on_error, not stderr */
		xmlSetStructuredErrorFunc(p->ctxt, on_error);
		p->in_cb = true;
		rc = xmlParseChunk(p->ctxt, b, (int)n, 0);
		p->in_cb = false;
		xmlSetStructuredErrorFunc(NULL, NULL);
		if (p->reset_pending) {
			/* the rest belongs to what follows the restart
			 * (TLS records, a new header after SASL) */
			do_reset(p);
			return p->err ? EPROTO : 0;
		}
		if (p->stopped)
			break;
		if (rc && !p->err)
			refuse(p, XMPP_SERR_NOT_WELL_FORMED,
			       "not well-formed");
		p->fed += n;
		b += n;
		len -= n;
		/* Between top-level elements libxml2 leaves an unfinished
		 * tag unconsumed: what it consumed is a boundary. */
		if (!p->err && p->depth == 1 && !p->root)
			p->mark = consumed(p);
		if (!p->err)
			(void)over_size(p, p->fed);
	}
	if (p->err)
		return EPROTO;
	return p->stopped ? ECANCELED : 0;
}

/**
 * Start reading a new stream (RFC 6120 4.3.3: after STARTTLS and SASL).
 * Called from a handler, it takes effect when the handler returns, and
 * the rest of the bytes of that xmpp_parse_feed() call are dropped.
 *
 * @return 0 or EINVAL
 */
int xmpp_parse_reset(struct xmpp_parse *p)
{
	if (!p)
		return EINVAL;
	if (p->in_cb) {
		p->reset_pending = true;
		xmlStopParser(p->ctxt);
		return 0;
	}
	do_reset(p);
	return 0;
}

/** Stop handing out anything (the stream is being closed). */
void xmpp_parse_stop(struct xmpp_parse *p)
{
	if (!p)
		return;
	p->stopped = true;
	if (p->in_cb)
		xmlStopParser(p->ctxt);
}

/** The stream error the parser refused the stream with, or NONE. */
enum xmpp_serr xmpp_parse_error(const struct xmpp_parse *p)
{
	return p ? p->err : XMPP_SERR_NONE;
}

/** A few words on what was refused, for the log ("" if nothing). */
const char *xmpp_parse_detail(const struct xmpp_parse *p)
{
	return p ? p->detail : "";
}

/** The default namespace the stream header declared, or NULL. */
const char *xmpp_parse_content_ns(const struct xmpp_parse *p)
{
	return p ? p->content_ns : NULL;
}
