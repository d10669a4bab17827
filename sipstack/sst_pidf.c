/*
 * sst_pidf.c -- read and write PIDF/RPID presence documents.
 *
 * Documents come from local clients (PUBLISH) and from other communities
 * (NOTIFY), so the reader is defensive: size checked before parsing, the
 * network and DTDs off, entities never substituted, any DOCTYPE stops the
 * parser at once, the attributes of each element are counted (and
 * bounded) before parsing, and the element count and depth are bounded
 * before the tree is interpreted.  libxml2 is told not to print anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <re.h>

#include "sipstack/sst_pidf.h"

static const char *const st_names[] = {
	[SST_ST_ACTIVE] = "active",
	[SST_ST_AWAY] = "away",
	[SST_ST_DND] = "dnd",
	[SST_ST_OFFLINE] = "offline",
};

/* RFC 4480 activities that make a person not want interruptions. */
static const char *const act_dnd[] = {
	"busy", "on-the-phone", "meeting", "performance", "presentation",
};

/* RFC 4480 activities that put a person away from any device. */
static const char *const act_away[] = {
	"away", "appointment", "breakfast", "dinner", "holiday", "lunch",
	"meal", "permanent-absence", "sleeping", "steering", "travel",
	"in-transit", "vacation",
};

const char *sst_status_name(enum sst_status st)
{
	if ((unsigned)st >= ARRAY_SIZE(st_names))
		return "?";
	return st_names[st];
}

int sst_status_from_name(enum sst_status *stp, const char *name)
{
	size_t i;

	if (!stp || !name)
		return EINVAL;
	for (i = 0; i < ARRAY_SIZE(st_names); i++) {
		if (!strcmp(name, st_names[i])) {
			*stp = (enum sst_status)i;
			return 0;
		}
	}
	return EINVAL;
}

/* --- reading --- */

struct scan {
	bool open;
	bool dnd;
	bool away;
	const xmlNode *note;
};

static bool ns_is(const xmlNode *n, const char *ns)
{
	return n->ns && n->ns->href &&
		!strcmp((const char *)n->ns->href, ns);
}

static bool elem_is(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && ns_is(n, ns) &&
		!strcmp((const char *)n->name, name);
}

/* Count elements and depth over the whole tree before reading it. */
static int bounds_check(const xmlNode *n, unsigned depth, unsigned *elems)
{
	int err;

	for (; n; n = n->next) {
		if (n->type == XML_DTD_NODE || n->type == XML_ENTITY_DECL ||
		    n->type == XML_ENTITY_REF_NODE)
			return EPERM;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (++*elems > SST_PIDF_ELEM_MAX || depth > SST_PIDF_DEPTH_MAX)
			return EMSGSIZE;
		err = bounds_check(n->children, depth + 1, elems);
		if (err)
			return err;
	}
	return 0;
}

static bool in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(s, v[i]))
			return true;
	}
	return false;
}

static void activities_read(struct scan *sc, const xmlNode *acts)
{
	const xmlNode *a;

	for (a = acts->children; a; a = a->next) {
		const char *name = (const char *)a->name;

		if (a->type != XML_ELEMENT_NODE || !ns_is(a, SST_PIDF_NS_RPID))
			continue;
		if (in_list(name, act_dnd, ARRAY_SIZE(act_dnd)))
			sc->dnd = true;
		else if (in_list(name, act_away, ARRAY_SIZE(act_away)))
			sc->away = true;
	}
}

/* Every <rpid:activities> below n (bounded by bounds_check). */
static void activities_find(struct scan *sc, const xmlNode *n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (elem_is(n, SST_PIDF_NS_RPID, "activities")) {
			activities_read(sc, n);
			continue;
		}
		activities_find(sc, n->children);
	}
}

/* The first <note> in document order, pidf or data-model namespace. */
static const xmlNode *note_find(const xmlNode *n)
{
	for (; n; n = n->next) {
		const xmlNode *f;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (elem_is(n, SST_PIDF_NS, "note") ||
		    elem_is(n, SST_PIDF_NS_DM, "note"))
			return n;
		f = note_find(n->children);
		if (f)
			return f;
	}
	return NULL;
}

/* Trimmed text content of n into buf (cut on a UTF-8 boundary). */
static void text_copy(char *buf, size_t sz, const xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	const char *s;
	size_t l;

	buf[0] = '\0';
	if (!c)
		return;
	s = (const char *)c;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	l = strlen(s);
	while (l && (s[l-1] == ' ' || s[l-1] == '\t' || s[l-1] == '\r' ||
		     s[l-1] == '\n'))
		l--;
	if (l > sz - 1) {
		l = sz - 1;
		while (l && ((unsigned char)s[l] & 0xc0) == 0x80)
			l--;
		/* the cut may end in whitespace: trimmed as well */
		while (l && (s[l-1] == ' ' || s[l-1] == '\t' ||
			     s[l-1] == '\r' || s[l-1] == '\n'))
			l--;
	}
	memcpy(buf, s, l);
	buf[l] = '\0';
	xmlFree(c);
}

static void tuple_read(struct scan *sc, const xmlNode *tuple)
{
	const xmlNode *st, *b;

	for (st = tuple->children; st; st = st->next) {
		if (!elem_is(st, SST_PIDF_NS, "status"))
			continue;
		for (b = st->children; b; b = b->next) {
			char val[16];

			if (!elem_is(b, SST_PIDF_NS, "basic"))
				continue;
			text_copy(val, sizeof(val), b);
			if (!strcmp(val, "open"))
				sc->open = true;
		}
	}
	activities_find(sc, tuple->children);
}

static bool is_person(const xmlNode *n)
{
	return elem_is(n, SST_PIDF_NS_DM, "person") ||
		elem_is(n, SST_PIDF_NS, "person") ||
		elem_is(n, SST_PIDF_NS_RPID, "person");
}

/* SAX hook: a DOCTYPE stops the parser before any declaration is read. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
		       const xmlChar *sid)
{
	xmlParserCtxtPtr ctxt = ctx;

	(void)name;
	(void)eid;
	(void)sid;
	*(bool *)ctxt->_private = true;
	xmlStopParser(ctxt);
}

/* A raw "<!DOCTYPE" or "<!ENTITY" anywhere is refused without parsing. */
static bool has_decl(const char *p, size_t len)
{
	static const char *const bad[] = {"<!DOCTYPE", "<!ENTITY"};
	size_t i, k;

	for (i = 0; i + 2 < len; i++) {
		if (p[i] != '<' || p[i+1] != '!')
			continue;
		for (k = 0; k < ARRAY_SIZE(bad); k++) {
			size_t bl = strlen(bad[k]);

			if (len - i >= bl && !memcmp(p + i, bad[k], bl))
				return true;
		}
	}
	return false;
}

/* Offset just past the first pat at or after i, or len. */
static size_t past(const char *p, size_t len, size_t i, const char *pat)
{
	const size_t pl = strlen(pat);

	for (; i + pl <= len; i++) {
		if (p[i] == pat[0] && !memcmp(p + i, pat, pl))
			return i + pl;
	}
	return len;
}

/*
 * More than max attributes on one start tag, counted on the raw bytes
 * before libxml2 sees them: libxml2 checks each new attribute against
 * all earlier ones of its element, so its cost grows with the square of
 * the count (2,000 attributes: 13 ms).  Every "=" inside a tag and
 * outside quotes is one attribute, namespace declarations included;
 * comments, CDATA sections and processing instructions are skipped.
 */
static bool attrs_over(const char *p, size_t len, unsigned max)
{
	size_t i = 0;

	while (i < len) {
		const char *lt = memchr(p + i, '<', len - i);
		unsigned n = 0;
		char q = 0;

		if (!lt)
			break;
		i = (size_t)(lt - p) + 1;
		if (len - i >= 3 && !memcmp(p + i, "!--", 3)) {
			i = past(p, len, i + 3, "-->");
			continue;
		}
		if (len - i >= 8 && !memcmp(p + i, "![CDATA[", 8)) {
			i = past(p, len, i + 8, "]]>");
			continue;
		}
		if (len - i >= 1 && p[i] == '?') {
			i = past(p, len, i + 1, "?>");
			continue;
		}
		for (; i < len && (q || p[i] != '>'); i++) {
			if (q) {
				if (p[i] == q)
					q = 0;
			}
			else if (p[i] == '"' || p[i] == '\'') {
				q = p[i];
			}
			else if (p[i] == '=' && ++n > max) {
				return true;
			}
		}
	}
	return false;
}

int sst_pidf_decode(struct sst_pidf *pidf, const char *p, size_t len)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	const xmlNode *root, *n;
	xmlChar *entity = NULL;
	struct scan sc;
	bool doctype = false;
	unsigned elems = 0;
	enum sst_status st;
	int err;

	if (!pidf || !p)
		return EINVAL;
	if (len > SST_PIDF_DOC_MAX)
		return EMSGSIZE;
	if (!len)
		return EBADMSG;
	if (has_decl(p, len))
		return EPERM;
	if (attrs_over(p, len, SST_PIDF_ATTR_MAX))
		return EMSGSIZE;

	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return ENOMEM;
	ctxt->_private = &doctype;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;

	doc = xmlCtxtReadMemory(ctxt, p, (int)len, NULL, "UTF-8", opts);
	if (doctype) {
		err = EPERM;
		goto out;
	}
	if (!doc || !ctxt->wellFormed) {
		err = EBADMSG;
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		err = EPERM;
		goto out;
	}

	err = bounds_check(doc->children, 0, &elems);
	if (err)
		goto out;

	root = xmlDocGetRootElement(doc);
	if (!root || !elem_is(root, SST_PIDF_NS, "presence")) {
		err = EBADMSG;
		goto out;
	}
	entity = xmlGetNoNsProp(root, (const xmlChar *)"entity");
	if (!entity || !entity[0]) {
		err = EBADMSG;
		goto out;
	}
	if (strlen((const char *)entity) > SST_PIDF_ENTITY_MAX) {
		err = EMSGSIZE;
		goto out;
	}

	memset(&sc, 0, sizeof(sc));
	for (n = root->children; n; n = n->next) {
		if (elem_is(n, SST_PIDF_NS, "tuple"))
			tuple_read(&sc, n);
		else if (is_person(n))
			activities_find(&sc, n->children);
	}
	sc.note = note_find(root->children);

	if (!sc.open)
		st = SST_ST_OFFLINE;
	else if (sc.dnd)
		st = SST_ST_DND;
	else if (sc.away)
		st = SST_ST_AWAY;
	else
		st = SST_ST_ACTIVE;

	pidf->st = st;
	str_ncpy(pidf->entity, (const char *)entity, sizeof(pidf->entity));
	if (sc.note)
		text_copy(pidf->note, sizeof(pidf->note), sc.note);
	else
		pidf->note[0] = '\0';
	err = 0;

 out:
	xmlFree(entity);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return err;
}

/* --- writing --- */

/* Valid UTF-8 and XML 1.0 characters only (no C0 controls but TAB/LF/CR). */
static bool text_ok(const char *s)
{
	const unsigned char *u;

	if (!xmlCheckUTF8((const xmlChar *)s))
		return false;
	for (u = (const unsigned char *)s; *u; u++) {
		if (*u < 0x20 && *u != '\t' && *u != '\n' && *u != '\r')
			return false;
	}
	return true;
}

static int xml_escape(struct mbuf *mb, const char *s)
{
	int err = 0;

	for (; *s && !err; s++) {
		switch (*s) {
		case '&':  err = mbuf_write_str(mb, "&amp;"); break;
		case '<':  err = mbuf_write_str(mb, "&lt;"); break;
		case '>':  err = mbuf_write_str(mb, "&gt;"); break;
		case '"':  err = mbuf_write_str(mb, "&quot;"); break;
		case '\'': err = mbuf_write_str(mb, "&apos;"); break;
		case '\r': err = mbuf_write_str(mb, "&#13;"); break;
		default:   err = mbuf_write_u8(mb, (uint8_t)*s); break;
		}
	}
	return err;
}

int sst_pidf_encode(struct mbuf *mb, const char *entity, enum sst_status st,
		   const char *note)
{
	const char *act = NULL;
	size_t start;
	int err;

	if (!mb || !entity || !entity[0] || (unsigned)st > SST_ST_OFFLINE)
		return EINVAL;
	if (strlen(entity) > SST_PIDF_ENTITY_MAX ||
	    (note && strlen(note) > SST_PIDF_NOTE_MAX))
		return EMSGSIZE;
	if (!text_ok(entity) || (note && !text_ok(note)))
		return EINVAL;

	if (st == SST_ST_AWAY)
		act = "away";
	else if (st == SST_ST_DND)
		act = "busy";

	start = mb->pos;
	err = mbuf_write_str(mb,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<presence xmlns=\"" SST_PIDF_NS "\"\r\n"
		" xmlns:dm=\"" SST_PIDF_NS_DM "\"\r\n"
		" xmlns:rpid=\"" SST_PIDF_NS_RPID "\"\r\n"
		" entity=\"");
	err |= xml_escape(mb, entity);
	err |= mbuf_printf(mb, "\">\r\n"
			   " <tuple id=\"gw-t\"><status><basic>%s</basic>"
			   "</status></tuple>\r\n",
			   st == SST_ST_OFFLINE ? "closed" : "open");
	if (act)
		err |= mbuf_printf(mb, " <dm:person id=\"gw-p\"><rpid:activities>"
				   "<rpid:%s/></rpid:activities></dm:person>\r\n",
				   act);
	if (note && note[0]) {
		err |= mbuf_write_str(mb, " <note>");
		err |= xml_escape(mb, note);
		err |= mbuf_write_str(mb, "</note>\r\n");
	}
	err |= mbuf_write_str(mb, "</presence>\r\n");
	if (err) {
		mb->pos = start;
		mb->end = start;
		return ENOMEM;
	}
	return 0;
}
