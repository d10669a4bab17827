/*
 * cfg_load.c -- read the community file: bounded read, XML parse without
 * any DTD or entity, the record table check, RelaxNG validation against
 * the compiled-in schema, then the typed structures.
 *
 * Every problem becomes one "FILE:LINE: message" line for administrators;
 * a load reports all it can find.  The field table (cfg_table.c) says,
 * for every element, its attributes (type, required, default, where the
 * value goes) and its children (how many, where they go): the checks,
 * the defaults and the extraction below all come from it.  It mirrors
 * community.rng so that messages can be precise, and the schema itself
 * is still applied as the final word.
 *
 * Relative paths in the file (LDIF file, TLS files, password file, trace
 * file, control socket, pid file) are taken relative to the directory
 * that holds the config file and stored absolute.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "conf/cfg_int.h"

enum {
	CFG_TEXT_MAX  = 1024,
	CFG_TOKEN_MAX = 64,
};

/* ---- load context ---------------------------------------------------- */

struct ld {
	const char *file;      /* as the admin named it, for messages */
	char *dir;             /* absolute directory of the file */
	struct cfg_diag *diag;
	bool enomem;
};

#define ERR(ld, line, ...) cfg_diag_add((ld)->diag, (ld)->file, (line), \
					false, __VA_ARGS__)

static unsigned node_line(const xmlNode *n)
{
	long l = xmlGetLineNo(n);

	return l > 0 && l < (long)UINT_MAX ? (unsigned)l : 0;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
		!strcmp((const char *)n->name, name);
}

/* An attribute value in a private copy; NULL when absent. */
static char *attr_get(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	if (!v)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

/* Element text, leading and trailing white space removed. */
static char *text_get(const xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	const char *p, *e;
	char *s;

	if (!v)
		return strdup("");
	p = (const char *)v;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		e--;
	s = strndup(p, (size_t)(e - p));
	xmlFree(v);
	return s;
}

/* The record's name for messages: Element "name", or Element. */
static void label_of(char *buf, size_t sz, const char *parent,
		     const xmlNode *n)
{
	char *name = attr_get(n, "name");

	if (parent && name)
		snprintf(buf, sz, "%s %s \"%s\"", parent, n->name, name);
	else if (parent)
		snprintf(buf, sz, "%s %s", parent, n->name);
	else if (name)
		snprintf(buf, sz, "%s \"%s\"", n->name, name);
	else
		snprintf(buf, sz, "%s", n->name);
	free(name);
}

static bool token_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > CFG_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++) {
		const char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static bool count_parse(const char *s, unsigned *vp)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > UINT_MAX)
			return false;
	}
	*vp = (unsigned)v;
	return true;
}

static bool port_parse(const char *s, uint16_t *pp)
{
	unsigned v;

	if (!count_parse(s, &v) || v < 1 || v > 65535)
		return false;
	*pp = (uint16_t)v;
	return true;
}

static int enum_index(const char *const *ev, const char *s)
{
	int i;

	for (i = 0; ev[i]; i++)
		if (!strcmp(ev[i], s))
			return i;
	return -1;
}

/* A space-separated list of enum values as a mask (1 << index each);
 * -1 when empty or when a word is not one of ev. */
static long enums_mask(const char *const *ev, const char *s)
{
	char word[32];
	long m = 0;

	while (*s) {
		size_t l = 0;
		int k;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		while (s[l] && s[l] != ' ' && s[l] != '\t')
			l++;
		if (l >= sizeof(word))
			return -1;
		memcpy(word, s, l);
		word[l] = '\0';
		k = enum_index(ev, word);
		if (k < 0)
			return -1;
		m |= 1L << k;
		s += l;
	}
	return m ? m : -1;
}

static void enum_list(char *buf, size_t sz, const char *const *ev)
{
	size_t i, n = 0, len = 0;

	while (ev[n])
		n++;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *sep = !i ? "" : i + 1 == n ? " or " : ", ";
		int r = snprintf(buf + len, sz - len, "%s%s", sep, ev[i]);

		if (r < 0 || (size_t)r >= sz - len)
			break;
		len += (size_t)r;
	}
}

/* One value against its type; reports and returns false when bad. */
static bool value_check(struct ld *ld, unsigned line, const char *label,
			const char *what, enum cfg_ftype t,
			const char *const *enumv, const char *v)
{
	char list[128];
	unsigned u;
	uint16_t port;

	switch (t) {
	case F_TOKEN:
		if (token_ok(v))
			return true;
		ERR(ld, line, "%s: %s \"%s\" must be 1-64 letters, digits, "
		    "\".\", \"_\" or \"-\"", label, what, v);
		return false;
	case F_TEXT:
	case F_PATH:
		if (*v && strlen(v) <= CFG_TEXT_MAX)
			return true;
		ERR(ld, line, "%s: %s %s", label, what,
		    *v ? "is longer than 1024 characters" : "is empty");
		return false;
	case F_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			return true;
		ERR(ld, line, "%s: %s must be true or false, not \"%s\"",
		    label, what, v);
		return false;
	case F_PORT:
		if (port_parse(v, &port))
			return true;
		ERR(ld, line, "%s: %s must be a port number 1-65535, "
		    "not \"%s\"", label, what, v);
		return false;
	case F_COUNT:
		if (count_parse(v, &u))
			return true;
		ERR(ld, line, "%s: %s must be a whole number "
		    "0-4294967295, not \"%s\"", label, what, v);
		return false;
	case F_ENUM:
		if (enum_index(enumv, v) >= 0)
			return true;
		enum_list(list, sizeof(list), enumv);
		ERR(ld, line, "%s: %s must be %s, not \"%s\"", label, what,
		    list, v);
		return false;
	case F_ENUMS:
		if (enums_mask(enumv, v) >= 0)
			return true;
		enum_list(list, sizeof(list), enumv);
		ERR(ld, line, "%s: %s must be one or more of %s separated "
		    "by spaces, not \"%s\"", label, what, list, v);
		return false;
	case F_NONE:
		break;
	}
	return true;
}

static void struct_check(struct ld *ld, const xmlNode *n,
			 const struct cfg_el *sp, const char *parent)
{
	char label[256], what[80];
	unsigned count[16] = {0}, first[16] = {0};
	const unsigned line = node_line(n);
	const xmlAttr *a;
	const xmlNode *c;
	size_t i;

	label_of(label, sizeof(label), parent, n);

	for (a = n->properties; a; a = a->next) {
		const char *an = (const char *)a->name;
		const struct cfg_field *as = NULL;
		char *v;

		for (i = 0; sp->fields[i].name; i++)
			if (!strcmp(sp->fields[i].name, an))
				as = &sp->fields[i];
		if (!as || a->ns) {
			ERR(ld, line, "%s: unknown attribute %s", label, an);
			continue;
		}
		v = attr_get(n, an);
		if (!v) {
			ld->enomem = true;
			continue;
		}
		snprintf(what, sizeof(what), "attribute %s", an);
		value_check(ld, line, label, what, as->type, as->enumv, v);
		free(v);
	}
	for (i = 0; sp->fields[i].name; i++) {
		if (sp->fields[i].req &&
		    !xmlHasNsProp(n, (const xmlChar *)sp->fields[i].name, NULL))
			ERR(ld, line, "%s: missing attribute %s", label,
			    sp->fields[i].name);
	}

	if (sp->text != F_NONE) {
		char *v = text_get(n);

		if (!v) {
			ld->enomem = true;
			return;
		}
		snprintf(what, sizeof(what), "<%s>", sp->name);
		value_check(ld, line, parent ? parent : label, what, sp->text,
			    NULL, v);
		free(v);
	}

	for (c = n->children; c; c = c->next) {
		const struct cfg_el *cs = NULL;
		size_t k = 0;

		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const xmlChar *t = c->content;

			if (sp->text != F_NONE || !t)
				continue;
			while (*t == ' ' || *t == '\t' || *t == '\n' ||
			       *t == '\r')
				t++;
			if (*t)
				ERR(ld, node_line(c) ? node_line(c) : line,
				    "%s: text is not allowed here (only "
				    "elements)", label);
			continue;
		}
		if (c->type == XML_ENTITY_REF_NODE) {
			ERR(ld, line, "%s: entity references are not allowed",
			    label);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (k = 0; sp->kids && sp->kids[k].el; k++)
			if (!strcmp(sp->kids[k].el->name,
				    (const char *)c->name)) {
				cs = sp->kids[k].el;
				break;
			}
		if (!cs) {
			if (sp == &cfg_el_root)
				ERR(ld, node_line(c), "unknown record <%s>",
				    c->name);
			else
				ERR(ld, node_line(c), "%s: unknown element "
				    "<%s>", label, c->name);
			continue;
		}
		if (k < 16) {
			if (!count[k])
				first[k] = node_line(c);
			count[k]++;
			if (sp->kids[k].max && count[k] > sp->kids[k].max) {
				if (sp == &cfg_el_root)
					ERR(ld, node_line(c), "second <%s> "
					    "record (the first is at line %u)",
					    c->name, first[k]);
				else
					ERR(ld, node_line(c), "%s: more than "
					    "one <%s>", label, c->name);
				continue;
			}
		}
		struct_check(ld, c, cs, sp == &cfg_el_root ? NULL : label);
	}
	for (i = 0; sp->kids && sp->kids[i].el && i < 16; i++) {
		if (count[i] < sp->kids[i].min) {
			if (sp == &cfg_el_root)
				ERR(ld, line, "missing <%s> record",
				    sp->kids[i].el->name);
			else
				ERR(ld, line, "%s: missing <%s>", label,
				    sp->kids[i].el->name);
		}
	}
}

/* ---- reading the file ------------------------------------------------ */

static int file_read(char **bufp, size_t *lenp, const char *path)
{
	struct stat st;
	FILE *f;
	char *buf = NULL;
	size_t n;
	int err = 0;

	f = fopen(path, "rb");
	if (!f)
		return errno;
	if (fstat(fileno(f), &st) != 0) {
		err = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto out;
	}
	if (st.st_size > CFG_FILE_MAX) {
		err = EFBIG;
		goto out;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	n = fread(buf, 1, CFG_FILE_MAX + 1, f);
	if (ferror(f)) {
		err = EIO;
		goto out;
	}
	if (n > CFG_FILE_MAX) {   /* grew since fstat */
		err = EFBIG;
		goto out;
	}
	buf[n] = '\0';
	*bufp = buf;
	*lenp = n;
	buf = NULL;
 out:
	free(buf);
	fclose(f);
	return err;
}

/*
 * Refuse DOCTYPE and ENTITY declarations before libxml2 sees them, so
 * that no entity is ever declared, let alone expanded.  Comments,
 * CDATA sections and processing instructions are skipped.
 */
static unsigned doctype_line(const char *p, size_t len)
{
	const char *end = p + len, *q;
	unsigned line = 1;

	for (q = p; q < end; q++) {
		const char *skip = NULL;
		size_t rest = (size_t)(end - q);

		if (*q == '\n') {
			line++;
			continue;
		}
		if (*q != '<')
			continue;
		if (rest >= 4 && !memcmp(q, "<!--", 4))
			skip = "-->";
		else if (rest >= 9 && !memcmp(q, "<![CDATA[", 9))
			skip = "]]>";
		else if (rest >= 2 && q[1] == '?')
			skip = "?>";
		else if (rest >= 2 && q[1] == '!')
			return line;   /* <!DOCTYPE, <!ENTITY, anything else */
		if (skip) {
			const char *e = strstr(q, skip);

			if (!e)
				return 0;  /* the parser reports it */
			for (; q < e; q++)
				if (*q == '\n')
					line++;
		}
	}
	return 0;
}

struct xml_errs {
	struct ld *ld;
	unsigned n;
};

static void xml_err(void *arg, xmlErrorPtr e)
{
	struct xml_errs *xe = arg;
	char msg[512];
	size_t l;

	if (!e || e->level < XML_ERR_ERROR || xe->n >= 20)
		return;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "?");
	l = strlen(msg);
	while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
		msg[--l] = '\0';

	if (e->domain == XML_FROM_RELAXNGV) {
		/* Reported only when the record table missed it. */
		const xmlNode *n = e->node;
		size_t i;

		if (!n || !(l = node_line(n)))
			return;
		for (i = 0; i < xe->ld->diag->n; i++) {
			char pfx[64];

			snprintf(pfx, sizeof(pfx), ":%u: ", (unsigned)l);
			if (strstr(xe->ld->diag->msg[i], pfx))
				return;
		}
		ERR(xe->ld, node_line(n), "%s: does not match the schema: %s",
		    n->name, msg);
		xe->n++;
		return;
	}
	/* The first parse error is the real one; the rest follow from it. */
	if (xe->n)
		return;
	ERR(xe->ld, e->line > 0 ? (unsigned)e->line : 0, "XML: %s", msg);
	xe->n++;
}

static void schema_validate(struct ld *ld, xmlDoc *doc)
{
	xmlRelaxNGParserCtxtPtr pc;
	xmlRelaxNGPtr schema = NULL;
	xmlRelaxNGValidCtxtPtr vc = NULL;
	struct xml_errs xe = {ld, 0};

	pc = xmlRelaxNGNewMemParserCtxt(cfg_schema_rng,
					(int)strlen(cfg_schema_rng));
	if (!pc) {
		ld->enomem = true;
		return;
	}
	schema = xmlRelaxNGParse(pc);
	xmlRelaxNGFreeParserCtxt(pc);
	if (!schema) {
		ERR(ld, 0, "the built-in schema does not compile");
		return;
	}
	vc = xmlRelaxNGNewValidCtxt(schema);
	if (!vc) {
		ld->enomem = true;
		goto out;
	}
	xmlRelaxNGSetValidStructuredErrors(vc, xml_err, &xe);
	if (xmlRelaxNGValidateDoc(vc, doc) != 0 && !ld->diag->nerr)
		ERR(ld, 1, "the file does not match the schema");
 out:
	xmlRelaxNGFreeValidCtxt(vc);
	xmlRelaxNGFree(schema);
}

/*
 * libxml2 gives an element the line where its start tag ENDS; for a tag
 * spread over several lines admins expect the line where it begins.
 * Start tags appear in the text in document order, so one forward pass
 * over the text, skipping comments, CDATA sections, processing
 * instructions, declarations and end tags (text and attribute values
 * hold no literal "<"), meets the "<" of every element in the order a
 * depth-first walk of the tree visits them: linear in the file, with
 * or without namespace prefixes.
 */
struct lines {
	const char *buf;
	size_t len;
	size_t *start;   /* start[i]: offset of line i + 1 */
	size_t n;
	size_t pos;      /* where the next start tag is looked for */
	bool lost;       /* text and tree disagree: stop moving lines */
};

/* Tests count the bytes the pass looks at; nothing in the daemon. */
#ifndef CFG_LOAD_LOOKED
#define CFG_LOAD_LOOKED(n) ((void)0)
#endif

/* The line (1-based) holding offset off. */
static long line_of(const struct lines *lt, size_t off)
{
	size_t lo = 0, hi = lt->n;

	while (hi - lo > 1) {
		const size_t mid = lo + (hi - lo) / 2;

		if (lt->start[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo + 1;
}

/* At p, open: the offset just past the next close, or len. */
static bool skip_span(const struct lines *lt, size_t *p, const char *open,
		      const char *close)
{
	const size_t ol = strlen(open), cl = strlen(close);
	size_t i;

	if (lt->len - *p < ol || memcmp(lt->buf + *p, open, ol))
		return false;

	for (i = *p + ol; i + cl <= lt->len; i++) {
		if (lt->buf[i] == close[0] && !memcmp(lt->buf + i, close, cl))
			break;
	}
	CFG_LOAD_LOOKED(i - *p);
	*p = i + cl <= lt->len ? i + cl : lt->len;
	return true;
}

/* Offset of the next start tag's "<" from lt->pos, or len. */
static size_t next_start_tag(struct lines *lt)
{
	size_t p = lt->pos;

	while (p < lt->len) {
		const char *c = memchr(lt->buf + p, '<', lt->len - p);

		if (!c)
			break;
		CFG_LOAD_LOOKED((size_t)(c - (lt->buf + p)) + 1);
		p = (size_t)(c - lt->buf);
		if (skip_span(lt, &p, "<!--", "-->") ||
		    skip_span(lt, &p, "<![CDATA[", "]]>") ||
		    skip_span(lt, &p, "<?", "?>") ||
		    skip_span(lt, &p, "<!", ">") ||
		    skip_span(lt, &p, "</", ">"))
			continue;
		lt->pos = p + 1;
		return p;
	}
	lt->pos = lt->len;
	return lt->len;
}

/* The tag at p (its "<") names element n, prefix included. */
static bool tag_is(const struct lines *lt, size_t p, const xmlNode *n)
{
	const char *pfx = n->ns && n->ns->prefix ?
		(const char *)n->ns->prefix : NULL;
	const size_t nl = strlen((const char *)n->name);
	const size_t pl = pfx ? strlen(pfx) + 1 : 0;

	p++;
	if (lt->len - p <= pl + nl)
		return false;
	if (pfx && (memcmp(lt->buf + p, pfx, pl - 1) ||
		    lt->buf[p + pl - 1] != ':'))
		return false;
	if (memcmp(lt->buf + p + pl, n->name, nl))
		return false;
	return strchr(" \t\r\n/>", lt->buf[p + pl + nl]) != NULL;
}

static void lines_fix(xmlNode *n, struct lines *lt)
{
	for (; n; n = n->next) {
		size_t p;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!lt->lost) {
			p = next_start_tag(lt);
			if (p >= lt->len || !tag_is(lt, p, n)) {
				lt->lost = true;  /* keep libxml2's lines */
			}
			else {
				const long line = line_of(lt, p);

				if (xmlGetLineNo(n) < 65535 && line < 65535)
					n->line = (unsigned short)line;
			}
		}
		lines_fix(n->children, lt);
	}
}

/* Put each element on the line of its start tag's "<". */
static void lines_fix_doc(struct ld *ld, xmlDoc *doc, const char *buf,
			  size_t len)
{
	struct lines lt = {buf, len, NULL, 0, 0, false};
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	lt.start = malloc(n * sizeof(*lt.start));
	if (!lt.start) {
		ld->enomem = true;
		return;
	}
	lt.start[lt.n++] = 0;
	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			lt.start[lt.n++] = i + 1;
	lines_fix(xmlDocGetRootElement(doc), &lt);
	free(lt.start);
}

static xmlDoc *xml_parse(struct ld *ld, const char *buf, size_t len)
{
	struct xml_errs xe = {ld, 0};
	xmlDoc *doc;
	unsigned dl;

	dl = doctype_line(buf, len);
	if (dl) {
		ERR(ld, dl, "DOCTYPE and ENTITY declarations are not allowed "
		    "(no DTD, no entities)");
		return NULL;
	}

	xmlSetStructuredErrorFunc(&xe, xml_err);
	doc = xmlReadMemory(buf, (int)len, ld->file, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOCDATA |
			    XML_PARSE_BIG_LINES);
	xmlSetStructuredErrorFunc(NULL, NULL);

	if (doc && (doc->intSubset || doc->extSubset)) {
		ERR(ld, 1, "DOCTYPE and ENTITY declarations are not allowed "
		    "(no DTD, no entities)");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (!doc && !xe.n)
		ERR(ld, 0, "not an XML document");
	if (doc)
		lines_fix_doc(ld, doc, buf, len);
	return doc;
}

/* ---- building the structures ----------------------------------------- */

/* The member at off of the struct at base. */
#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))

/* A path from the file, absolute against the file's directory. */
static char *path_get(struct ld *ld, const xmlNode *n, const char *attr)
{
	char *v = attr ? attr_get(n, attr) : text_get(n);
	char *abs;
	size_t l;

	if (!v || !*v || v[0] == '/') {
		if (v && !*v) {
			free(v);
			return NULL;
		}
		return v;
	}
	l = strlen(ld->dir) + 1 + strlen(v) + 1;
	abs = malloc(l);
	if (abs)
		snprintf(abs, l, "%s/%s", ld->dir, v);
	else
		ld->enomem = true;
	free(v);
	return abs;
}

static void str_put(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

/* One attribute into its member.  Absent, or bad (struct_check said
 * so), it keeps the default. */
static void field_set(struct ld *ld, const xmlNode *n,
		      const struct cfg_field *f, void *base)
{
	char *v;
	unsigned u;
	uint16_t port;
	long m;
	int k;

	if (f->type == F_PATH) {
		v = path_get(ld, n, f->name);
		if (v)
			str_put(AT(base, f->off, char *), v);
		return;
	}
	v = attr_get(n, f->name);
	if (!v)
		return;

	switch (f->type) {
	case F_TOKEN:
	case F_TEXT:
		str_put(AT(base, f->off, char *), v);
		return;
	case F_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			*AT(base, f->off, bool) = v[0] == 't';
		break;
	case F_PORT:
		if (port_parse(v, &port))
			*AT(base, f->off, uint16_t) = port;
		break;
	case F_COUNT:
		if (count_parse(v, &u))
			*AT(base, f->off, unsigned) = u;
		break;
	case F_ENUM:
		k = enum_index(f->enumv, v);
		if (k >= 0)
			*AT(base, f->off, int) = k;
		break;
	case F_ENUMS:
		m = enums_mask(f->enumv, v);
		if (m > 0)
			*AT(base, f->off, unsigned) = (unsigned)m;
		break;
	case F_PATH:
	case F_NONE:
		break;
	}
	free(v);
}

/* The table's defaults into a record (and the records inside it). */
static void fields_default(struct ld *ld, const struct cfg_el *el,
			   void *base)
{
	const struct cfg_field *f;
	const struct cfg_kid *k;

	for (f = el->fields; f->name; f++) {
		switch (f->type) {
		case F_TOKEN:
		case F_TEXT:
		case F_PATH:
			if (f->sdflt && !(*AT(base, f->off, char *) =
					  strdup(f->sdflt)))
				ld->enomem = true;
			break;
		case F_BOOL:
			*AT(base, f->off, bool) = f->dflt != 0;
			break;
		case F_PORT:
			*AT(base, f->off, uint16_t) = (uint16_t)f->dflt;
			break;
		case F_COUNT:
		case F_ENUMS:
			*AT(base, f->off, unsigned) = (unsigned)f->dflt;
			break;
		case F_ENUM:
			*AT(base, f->off, int) = (int)f->dflt;
			break;
		case F_NONE:
			break;
		}
	}
	for (k = el->kids; k && k->el; k++) {
		if (k->kind == K_SAME)
			fields_default(ld, k->el, base);
		else if (k->kind == K_REC)
			fields_default(ld, k->el, AT(base, k->off, char));
	}
}

static void strv_add(struct ld *ld, struct cfg_strv *sv, const xmlNode *n)
{
	char **v;
	unsigned *line;
	char *s = text_get(n);

	v = realloc(sv->v, (sv->n + 1) * sizeof(*v));
	if (v)
		sv->v = v;
	line = realloc(sv->line, (sv->n + 1) * sizeof(*line));
	if (line)
		sv->line = line;
	if (!s || !v || !line) {
		free(s);
		ld->enomem = true;
		return;
	}
	sv->v[sv->n] = s;
	sv->line[sv->n] = node_line(n);
	sv->n++;
}

static void strv_free(struct cfg_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	free(sv->line);
	memset(sv, 0, sizeof(*sv));
}

/* Grow an array of records by one zeroed element; NULL on ENOMEM. */
static void *arr_add(struct ld *ld, void **arrp, size_t *np, size_t sz)
{
	char *a = realloc(*arrp, (*np + 1) * sz);

	if (!a) {
		ld->enomem = true;
		return NULL;
	}
	*arrp = a;
	memset(a + *np * sz, 0, sz);
	return a + (*np)++ * sz;
}

/*
 * Element n into the struct at base, as its table row el says: the
 * attributes, its line, then each child (only the first of one allowed
 * once: struct_check reported the others), then the record's own rules.
 */
static void el_fill(struct ld *ld, const xmlNode *n, const struct cfg_el *el,
		    void *base)
{
	unsigned seen[16] = {0};
	const struct cfg_field *f;
	const xmlNode *c;

	for (f = el->fields; f->name; f++)
		field_set(ld, n, f, base);
	if (el->line_off != CFG_NOLINE)
		*AT(base, el->line_off, unsigned) = node_line(n);

	for (c = n->children; c; c = c->next) {
		const struct cfg_kid *k = NULL;
		char **sp;
		void *rec;
		size_t i;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; el->kids && el->kids[i].el; i++)
			if (is_el(c, el->kids[i].el->name)) {
				k = &el->kids[i];
				break;
			}
		if (!k || (k->max == 1 && i < 16 && seen[i]++))
			continue;

		switch (k->kind) {
		case K_STRV:
			strv_add(ld, AT(base, k->off, struct cfg_strv), c);
			break;
		case K_STR:
		case K_PATH:
			sp = AT(base, k->off, char *);
			if (*sp)
				break;
			*sp = k->kind == K_STR ? text_get(c) :
				path_get(ld, c, NULL);
			if (!*sp && k->kind == K_STR)
				ld->enomem = true;
			break;
		case K_SAME:
			el_fill(ld, c, k->el, base);
			break;
		case K_REC:
			el_fill(ld, c, k->el, AT(base, k->off, char));
			break;
		case K_ARRAY:
			rec = arr_add(ld, AT(base, k->off, void *),
				      AT(base, k->noff, size_t), k->size);
			if (!rec)
				return;
			fields_default(ld, k->el, rec);
			el_fill(ld, c, k->el, rec);
			break;
		case K_NONE:
			break;
		}
	}
	if (el->doneh)
		el->doneh(base, ld->file, ld->diag);
}

static void build(struct ld *ld, struct cfg *cfg, const xmlNode *root)
{
	fields_default(ld, &cfg_el_root, cfg);
	el_fill(ld, root, &cfg_el_root, cfg);
}

/* ---- public ---------------------------------------------------------- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d, *r;

	if (!slash)
		d = strdup(".");
	else if (slash == path)
		d = strdup("/");
	else
		d = strndup(path, (size_t)(slash - path));
	if (!d)
		return NULL;
	r = realpath(d, NULL);
	if (r) {
		free(d);
		return r;
	}
	return d;
}

static int load(struct cfg **cfgp, const char *path, struct cfg_diag *diag,
		bool partial)
{
	struct cfg_diag mine = {NULL, 0, 0};
	struct ld ld = {path, NULL, diag ? diag : &mine, false};
	struct cfg *cfg = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!cfgp || !path)
		return EINVAL;

	err = file_read(&buf, &len, path);
	if (err == EFBIG) {
		ERR(&ld, 0, "file is larger than %u bytes", CFG_FILE_MAX);
		goto out;
	}
	if (err == EINVAL) {
		ERR(&ld, 0, "not a regular file");
		goto out;
	}
	if (err) {
		ERR(&ld, 0, "cannot read: %s", strerror(err));
		goto out;
	}

	ld.dir = dir_of(path);
	cfg = calloc(1, sizeof(*cfg));
	if (!ld.dir || !cfg) {
		err = ENOMEM;
		goto out;
	}
	cfg->path = realpath(path, NULL);
	if (!cfg->path)
		cfg->path = strdup(path);
	cfg->loaded = time(NULL);

	doc = xml_parse(&ld, buf, len);
	if (!doc) {
		err = EBADMSG;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_el(root, "CommunityConfig")) {
		ERR(&ld, root ? node_line(root) : 0, "the top element must be "
		    "<CommunityConfig>, not <%s>",
		    root ? (const char *)root->name : "");
		err = EBADMSG;
		goto out;
	}

	struct_check(&ld, root, &cfg_el_root, NULL);
	schema_validate(&ld, doc);
	build(&ld, cfg, root);
	if (ld.enomem) {
		err = ENOMEM;
		goto out;
	}
	cfg_check_all(cfg, path, ld.diag);

	if (ld.diag->nerr) {
		err = EBADMSG;
		if (!partial)
			goto out;
	}
	*cfgp = cfg;
	cfg = NULL;
 out:
	if (doc)
		xmlFreeDoc(doc);
	cfg_free(cfg);
	free(ld.dir);
	free(buf);
	cfg_diag_reset(&mine);
	return err;
}

int cfg_load(struct cfg **cfgp, const char *path, struct cfg_diag *diag)
{
	return load(cfgp, path, diag, false);
}

int cfg_load_partial(struct cfg **cfgp, const char *path,
		     struct cfg_diag *diag)
{
	return load(cfgp, path, diag, true);
}

static void listenv_free(struct cfg_listenv *lv)
{
	size_t i;

	for (i = 0; i < lv->n; i++)
		free(lv->v[i].addr);
	free(lv->v);
}

void cfg_free(struct cfg *cfg)
{
	struct cfg_directory *d;
	size_t i, j;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->community.name);
	strv_free(&cfg->community.domains);
	for (i = 0; i < cfg->ngateways; i++) {
		struct cfg_gateway *gw = &cfg->gateways[i];

		free(gw->name);
		listenv_free(&gw->clients);
		listenv_free(&gw->connectors);
		free(gw->control);
		free(gw->pidfile);
		free(gw->user);
		free(gw->statefile);
		free(gw->control_group);
		free(gw->metrics);
		free(gw->statestore);
	}
	free(cfg->gateways);
	for (i = 0; i < cfg->nexterns; i++) {
		free(cfg->externs[i].name);
		strv_free(&cfg->externs[i].domains);
		strv_free(&cfg->externs[i].allow_groups);
		free(cfg->externs[i].proxy);
	}
	free(cfg->externs);
	for (i = 0; i < cfg->nconnectors; i++) {
		struct cfg_connector *cn = &cfg->connectors[i];

		free(cn->name);
		free(cn->ip);
		free(cn->advertise);
		free(cn->advertise_ip);
		free(cn->topos_key);
		strv_free(&cn->gateways);
		for (j = 0; j < cn->ncommunities; j++)
			free(cn->communities[j].community);
		free(cn->communities);
		free(cn->control);
		free(cn->pidfile);
		free(cn->user);
		free(cn->control_group);
		free(cn->metrics);
	}
	free(cfg->connectors);
	strv_free(&cfg->connectivity.trusted_ips);
	d = &cfg->directory;
	free(d->file);
	strv_free(&d->urls);
	free(d->bind_dn);
	free(d->password_file);
	free(d->ca_file);
	free(d->base);
	free(d->filter);
	free(d->attr_id);
	free(d->attr_email);
	free(d->attr_password);
	free(d->attr_privacy);
	free(d->attr_member);
	free(cfg->tls.cert);
	free(cfg->tls.key);
	free(cfg->tls.ca);
	free(cfg->trace.file);
	free(cfg->trace.community);
	free(cfg->trace.user);
	free(cfg->audit.file);
	strv_free(&cfg->dns.servers);
	free(cfg);
}

const struct cfg_connector *cfg_connector_find(const struct cfg *cfg,
					       const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->nconnectors; i++)
		if (cfg->connectors[i].name &&
		    !strcmp(cfg->connectors[i].name, name))
			return &cfg->connectors[i];
	return NULL;
}

const struct cfg_gateway *cfg_gateway_find(const struct cfg *cfg,
					   const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->ngateways; i++)
		if (cfg->gateways[i].name &&
		    !strcmp(cfg->gateways[i].name, name))
			return &cfg->gateways[i];
	return NULL;
}

const struct cfg_supported *cfg_supported_find(const struct cfg_connector *cn,
					       const char *community)
{
	size_t i;

	if (!cn || !community)
		return NULL;
	for (i = 0; i < cn->ncommunities; i++)
		if (cn->communities[i].community &&
		    !strcmp(cn->communities[i].community, community))
			return &cn->communities[i];
	return NULL;
}
