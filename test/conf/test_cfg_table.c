/*
 * test_cfg_table.c -- the loader's field table (conf/cfg_table.c)
 * against the published schema (community.rng, as compiled into the
 * program): every element and attribute in one is in the other, with
 * the same required-ness, the same number of children allowed, the
 * same text content, and for enumerations and booleans the same values.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/cfg_int.h"
#include "lib/cutest.h"

enum { R_MAX = 48, V_MAX = 16, NAME_MAX_ = 64 };

struct r_attr {
	char name[NAME_MAX_];
	bool req;
	const char *vals[V_MAX];  /* <value>s allowed, if any */
	size_t nvals;
};

struct r_kid {
	char name[NAME_MAX_];
	unsigned min, max;        /* max 0: no limit */
	const xmlNode *el;
};

/* What the schema says one element holds. */
struct r_el {
	struct r_attr a[R_MAX];
	size_t na;
	struct r_kid k[R_MAX];
	size_t nk;
	bool text;
};

static xmlDoc *doc;
static unsigned mismatches;

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
		!strcmp((const char *)n->name, name);
}

static const char *prop(const xmlNode *n, const char *name)
{
	const xmlAttr *a;

	for (a = n->properties; a; a = a->next)
		if (!strcmp((const char *)a->name, name) && a->children)
			return (const char *)a->children->content;
	return NULL;
}

static const xmlNode *define_of(const char *name)
{
	const xmlNode *n;

	for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		if (is(n, "define") && !strcmp(prop(n, "name"), name))
			return n;
	return NULL;
}

/* The <value>s an attribute's content allows. */
static void values(const xmlNode *n, struct r_attr *a)
{
	const xmlNode *c;

	for (c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "value") && a->nvals < V_MAX)
			a->vals[a->nvals++] = (const char *)c->children->content;
		else if (is(c, "ref"))
			values(define_of(prop(c, "name")), a);
		else
			values(c, a);
	}
}

/* Walk an element's content pattern, without entering child elements. */
static void collect(const xmlNode *n, struct r_el *r, bool opt, bool rep)
{
	const xmlNode *c;

	for (c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is(c, "element") && r->nk < R_MAX) {
			struct r_kid *k = &r->k[r->nk++];

			snprintf(k->name, sizeof(k->name), "%s",
				 prop(c, "name"));
			k->min = opt ? 0 : 1;
			k->max = rep ? 0 : 1;
			k->el = c;
		}
		else if (is(c, "attribute") && r->na < R_MAX) {
			struct r_attr *a = &r->a[r->na++];

			memset(a, 0, sizeof(*a));
			snprintf(a->name, sizeof(a->name), "%s",
				 prop(c, "name"));
			a->req = !opt;
			values(c, a);
		}
		else if (is(c, "optional")) {
			collect(c, r, true, rep);
		}
		else if (is(c, "zeroOrMore")) {
			collect(c, r, true, true);
		}
		else if (is(c, "oneOrMore")) {
			collect(c, r, opt, true);
		}
		else if (is(c, "interleave") || is(c, "group")) {
			collect(c, r, opt, rep);
		}
		else if (is(c, "ref")) {
			const xmlNode *d = define_of(prop(c, "name"));

			CU_ASSERT_PTR_NOT_NULL_FATAL(d);
			collect(d, r, opt, rep);
		}
		else if (is(c, "data") || is(c, "text") || is(c, "value") ||
			 is(c, "choice") || is(c, "list")) {
			r->text = true;
		}
	}
}

static void bad(const char *path, const char *fmt, const char *what)
{
	fprintf(stderr, "table vs schema: %s: ", path);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	mismatches++;
}

static bool same_values(const struct cfg_field *f, const struct r_attr *a)
{
	static const char *const bools[] = {"true", "false", NULL};
	const char *const *ev = f->type == F_BOOL ? bools : f->enumv;
	size_t i, n = 0;

	if (!ev)
		return a->nvals == 0;
	for (; ev[n]; n++) {
		for (i = 0; i < a->nvals; i++)
			if (!strcmp(ev[n], a->vals[i]))
				break;
		if (i == a->nvals)
			return false;
	}
	return n == a->nvals;
}

static void compare(const struct cfg_el *el, const xmlNode *rng,
		    const char *parent)
{
	static struct r_el rs[8];   /* one per nesting level */
	static unsigned depth;
	struct r_el *r;
	char path[256];
	const struct cfg_field *f;
	const struct cfg_kid *k;
	size_t i;

	CU_ASSERT_FATAL(depth < 8);
	r = &rs[depth++];
	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s%s%s", parent, *parent ? "/" : "",
		 el->name);
	collect(rng, r, false, false);

	if ((el->text != F_NONE) != r->text)
		bad(path, "%s", el->text != F_NONE ?
		    "text in the table only" : "text in the schema only");

	for (f = el->fields; f->name; f++) {
		for (i = 0; i < r->na; i++)
			if (!strcmp(r->a[i].name, f->name))
				break;
		if (i == r->na) {
			bad(path, "attribute %s is not in the schema",
			    f->name);
			continue;
		}
		if (r->a[i].req != f->req)
			bad(path, "attribute %s: required differs", f->name);
		if ((f->type == F_ENUM || f->type == F_ENUMS ||
		     f->type == F_BOOL || r->a[i].nvals) &&
		    !same_values(f, &r->a[i]))
			bad(path, "attribute %s: allowed values differ",
			    f->name);
	}
	for (i = 0; i < r->na; i++) {
		for (f = el->fields; f->name; f++)
			if (!strcmp(r->a[i].name, f->name))
				break;
		if (!f->name)
			bad(path, "attribute %s is not in the table",
			    r->a[i].name);
	}

	for (k = el->kids; k && k->el; k++) {
		for (i = 0; i < r->nk; i++)
			if (!strcmp(r->k[i].name, k->el->name))
				break;
		if (i == r->nk) {
			bad(path, "element <%s> is not in the schema",
			    k->el->name);
			continue;
		}
		if (r->k[i].min != k->min || r->k[i].max != k->max)
			bad(path, "element <%s>: how many differs",
			    k->el->name);
		compare(k->el, r->k[i].el, path);
		r = &rs[depth - 1];
	}
	for (i = 0; i < r->nk; i++) {
		for (k = el->kids; k && k->el; k++)
			if (!strcmp(r->k[i].name, k->el->name))
				break;
		if (!k || !k->el)
			bad(path, "element <%s> is not in the table",
			    r->k[i].name);
	}
	depth--;
}

static void test_table_schema(void)
{
	const xmlNode *start = NULL, *root = NULL, *n;

	doc = xmlReadMemory(cfg_schema_rng, (int)strlen(cfg_schema_rng),
			    "community.rng", NULL, XML_PARSE_NONET |
			    XML_PARSE_NOBLANKS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);

	for (n = xmlDocGetRootElement(doc)->children; n; n = n->next)
		if (is(n, "start"))
			start = n;
	CU_ASSERT_PTR_NOT_NULL_FATAL(start);
	for (n = start->children; n; n = n->next)
		if (is(n, "element"))
			root = n;
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_STRING_EQUAL(prop(root, "name"), cfg_el_root.name);

	mismatches = 0;
	compare(&cfg_el_root, root, "");
	CU_ASSERT_EQUAL(mismatches, 0);

	xmlFreeDoc(doc);
	doc = NULL;
}

/* Every row is usable: a name, a type, values for enumerations, a
 * place to go for every child. */
static void walk_rows(const struct cfg_el *el, unsigned *rows)
{
	const struct cfg_field *f;
	const struct cfg_kid *k;

	for (f = el->fields; f->name; f++) {
		(*rows)++;
		CU_ASSERT(f->type != F_NONE);
		CU_ASSERT_EQUAL(f->enumv != NULL,
				f->type == F_ENUM || f->type == F_ENUMS);
		CU_ASSERT(!f->sdflt || f->type == F_TOKEN ||
			  f->type == F_TEXT || f->type == F_PATH);
	}
	for (k = el->kids; k && k->el; k++) {
		CU_ASSERT(k->kind != K_NONE);
		CU_ASSERT(k->max == 0 || k->max >= k->min);
		CU_ASSERT(k->kind != K_ARRAY || k->size > 0);
		/* a single value or record: the first one only */
		CU_ASSERT(k->kind != K_STR && k->kind != K_PATH &&
			  k->kind != K_REC ? true : k->max == 1);
		walk_rows(k->el, rows);
	}
}

static void test_rows(void)
{
	unsigned rows = 0;

	walk_rows(&cfg_el_root, &rows);
	CU_ASSERT(rows > 50);
}

static CU_TestInfo table_tests[] = {
	{"field table matches community.rng", test_table_schema},
	{"rows are complete", test_rows},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cfg_table", NULL, NULL, NULL, NULL, table_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	int rc = cutest_main(suites);

	xmlCleanupParser();
	return rc;
}
