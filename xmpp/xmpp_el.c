/*
 * xmpp_el.c -- the element model of xmpp.h: build, look up, write back.
 *
 * Elements and attributes are libre mem objects; freeing an element
 * frees its attributes and children.  xmpp_el_encode() writes an
 * element so that xmpp_parse reads back the same tree: a namespace
 * that differs from the enclosing one is declared as the default
 * namespace, xml:lang (and any element of the XML namespace) keeps its
 * reserved prefix, and any other
 * qualified attribute gets a declared prefix of its own.
 */
#include <string.h>

#include <re.h>

#include "xmpp/xmpp.h"

static void attr_destructor(void *arg)
{
	struct xmpp_attr *a = arg;

	mem_deref(a->next);
	mem_deref(a->name);
	mem_deref(a->ns);
	mem_deref(a->val);
}

static void el_destructor(void *arg)
{
	struct xmpp_el *el = arg;
	struct xmpp_el *k = el->kids;

	while (k) {
		struct xmpp_el *n = k->next;

		k->parent = NULL;
		mem_deref(k);
		k = n;
	}
	mem_deref(el->attrs);
	mem_deref(el->name);
	mem_deref(el->ns);
	mem_deref(el->text);
}

/**
 * Allocate a detached element.
 *
 * @param elp  Where the element is written on success
 * @param name Local name
 * @param ns   Namespace name, or NULL
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_el_alloc(struct xmpp_el **elp, const char *name, const char *ns)
{
	struct xmpp_el *el;
	int err;

	if (!elp || !name)
		return EINVAL;
	el = mem_zalloc(sizeof(*el), el_destructor);
	if (!el)
		return ENOMEM;
	err = str_dup(&el->name, name);
	if (!err && ns)
		err = str_dup(&el->ns, ns);
	if (err) {
		mem_deref(el);
		return err;
	}
	*elp = el;
	return 0;
}

/**
 * Append a new child element.
 *
 * @return The child (owned by parent), or NULL when out of memory
 */
struct xmpp_el *xmpp_el_add(struct xmpp_el *parent, const char *name,
			    const char *ns)
{
	struct xmpp_el *el;

	if (!parent || xmpp_el_alloc(&el, name, ns))
		return NULL;
	el->parent = parent;
	if (parent->last)
		parent->last->next = el;
	else
		parent->kids = el;
	parent->last = el;
	return el;
}

/**
 * Add an attribute (no check for duplicates: the parser has done it).
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_el_set_attr(struct xmpp_el *el, const char *name, const char *ns,
		     const char *val)
{
	struct xmpp_attr *a, **tail;
	int err;

	if (!el || !name || !val)
		return EINVAL;
	a = mem_zalloc(sizeof(*a), attr_destructor);
	if (!a)
		return ENOMEM;
	err = str_dup(&a->name, name);
	if (!err && ns)
		err = str_dup(&a->ns, ns);
	if (!err)
		err = str_dup(&a->val, val);
	if (err) {
		mem_deref(a);
		return err;
	}
	for (tail = &el->attrs; *tail; tail = &(*tail)->next)
		;
	*tail = a;
	++el->nattr;
	return 0;
}

/**
 * Append character data to an element's text.
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_el_add_text(struct xmpp_el *el, const char *p, size_t len)
{
	char *t;

	if (!el || (!p && len))
		return EINVAL;
	if (!len)
		return 0;
	/* libre's mem_realloc() does not allocate from NULL */
	t = el->text ? mem_realloc(el->text, el->textlen + len + 1) :
		mem_alloc(len + 1, NULL);
	if (!t)
		return ENOMEM;
	memcpy(t + el->textlen, p, len);
	el->textlen += len;
	t[el->textlen] = '\0';
	el->text = t;
	return 0;
}

/** The value of the unqualified attribute name, or NULL. */
const char *xmpp_el_attr(const struct xmpp_el *el, const char *name)
{
	return xmpp_el_attr_ns(el, name, NULL);
}

static bool ns_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return 0 == strcmp(a, b);
}

/** The value of the attribute {ns}name (ns NULL: unqualified), or NULL. */
const char *xmpp_el_attr_ns(const struct xmpp_el *el, const char *name,
			    const char *ns)
{
	const struct xmpp_attr *a;

	if (!el || !name)
		return NULL;
	for (a = el->attrs; a; a = a->next) {
		if (0 == strcmp(a->name, name) && ns_eq(a->ns, ns))
			return a->val;
	}
	return NULL;
}

/** Whether el is {ns}name. */
bool xmpp_el_is(const struct xmpp_el *el, const char *name, const char *ns)
{
	return el && name && 0 == strcmp(el->name, name) && ns_eq(el->ns, ns);
}

/** The first child {ns}name of el, or NULL; name NULL matches any. */
struct xmpp_el *xmpp_el_child(const struct xmpp_el *el, const char *name,
			      const char *ns)
{
	struct xmpp_el *k;

	if (!el)
		return NULL;
	for (k = el->kids; k; k = k->next) {
		if (!name || xmpp_el_is(k, name, ns))
			return k;
	}
	return NULL;
}

/**
 * Write character data escaped for element content (attr false) or a
 * double-quoted attribute value (attr true).
 *
 * @return 0 or ENOMEM
 */
int xmpp_escape(struct mbuf *mb, const char *p, size_t len, bool attr)
{
	size_t i, run = 0;
	int err = 0;

	for (i = 0; i < len && !err; i++) {
		const char *rep = NULL;

		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		case '\'': rep = attr ? "&apos;" : NULL; break;
		case '\t': rep = attr ? "&#9;" : NULL; break;
		case '\n': rep = attr ? "&#10;" : NULL; break;
		case '\r': rep = "&#13;"; break;
		default: break;
		}
		if (!rep)
			continue;
		err = mbuf_write_mem(mb, (const uint8_t *)p + run, i - run);
		if (!err)
			err = mbuf_write_str(mb, rep);
		run = i + 1;
	}
	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)p + run, len - run);
	return err;
}

static int encode_attrs(struct mbuf *mb, const struct xmpp_el *el)
{
	const struct xmpp_attr *a;
	unsigned n = 0;
	int err = 0;

	for (a = el->attrs; a && !err; a = a->next) {
		if (!a->ns) {
			err = mbuf_printf(mb, " %s=\"", a->name);
		}
		else if (0 == strcmp(a->ns, XMPP_NS_XML)) {
			err = mbuf_printf(mb, " xml:%s=\"", a->name);
		}
		else {
			err = mbuf_printf(mb, " xmlns:a%u=\"", n);
			if (!err)
				err = xmpp_escape(mb, a->ns, strlen(a->ns),
						  true);
			if (!err)
				err = mbuf_printf(mb, "\" a%u:%s=\"", n,
						  a->name);
			++n;
		}
		if (!err)
			err = xmpp_escape(mb, a->val, strlen(a->val), true);
		if (!err)
			err = mbuf_write_u8(mb, '"');
	}
	return err;
}

/**
 * Write el and its subtree as XML.
 *
 * @param mb       Buffer written at its position
 * @param el       Element
 * @param outer_ns The default namespace in force where el is written
 *                 (the stream's content namespace for a stanza), or
 *                 NULL
 *
 * @return 0, EINVAL or ENOMEM
 */
int xmpp_el_encode(struct mbuf *mb, const struct xmpp_el *el,
		   const char *outer_ns)
{
	const struct xmpp_el *k;
	const char *pfx = "";
	int err;

	if (!mb || !el)
		return EINVAL;
	/* the XML namespace may not be declared, only used by its prefix */
	if (el->ns && 0 == strcmp(el->ns, XMPP_NS_XML))
		pfx = "xml:";
	err = mbuf_printf(mb, "<%s%s", pfx, el->name);
	if (!err && !*pfx && !ns_eq(el->ns, outer_ns)) {
		err = mbuf_write_str(mb, " xmlns=\"");
		if (!err && el->ns)
			err = xmpp_escape(mb, el->ns, strlen(el->ns), true);
		if (!err)
			err = mbuf_write_u8(mb, '"');
	}
	if (!err)
		err = encode_attrs(mb, el);
	if (err)
		return err;
	if (!el->kids && !el->textlen)
		return mbuf_write_str(mb, "/>");
	err = mbuf_write_u8(mb, '>');
	if (!err && el->textlen)
		err = xmpp_escape(mb, el->text, el->textlen, false);
	for (k = el->kids; k && !err; k = k->next)
		err = xmpp_el_encode(mb, k, *pfx ? outer_ns : el->ns);
	if (!err)
		err = mbuf_printf(mb, "</%s%s>", pfx, el->name);
	return err;
}
