/*
 * cfg_load.c -- read the community file: bounded read, XML parse without
 * any DTD or entity, the record table check, RelaxNG validation against
 * the compiled-in schema, then the typed structures.
 *
 * Every problem becomes one "FILE:LINE: message" line for administrators;
 * a load reports all it can find.  The record table below says, for every
 * element, its attributes (type, required) and its children (how many);
 * it mirrors community.rng so that messages can be precise, and the
 * schema itself is still applied as the final word.
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
	CFG_DEF_DNS_TIMEOUT_MS = 2000,
	CFG_DEF_STALE_S = 3600,
};

/* ---- the record table ------------------------------------------------ */

enum vtype {
	V_NONE = 0, V_TOKEN, V_TEXT, V_BOOL, V_PORT, V_COUNT, V_ENUM,
	V_ENUMS,	/* one or more enum values, separated by spaces */
};

struct attr_spec {
	const char *name;
	enum vtype t;
	bool req;
	const char *const *enumv;
};

struct el_spec;

struct child_spec {
	const struct el_spec *el;
	unsigned min;
	unsigned max;          /* 0: no limit */
};

struct el_spec {
	const char *name;
	const struct attr_spec *attrs;
	enum vtype text;       /* V_NONE: element only */
	const struct child_spec *kids;
};

static const char *const e_transport[] = {"udp", "tcp", "tls", NULL};
static const char *const e_backend[] = {"file", "ldap", NULL};
static const char *const e_scope[] = {"base", "one", "sub", NULL};
static const char *const e_privacy[] = {"all", "domains", "none", NULL};
static const char *const e_verify[] = {"none", "required", NULL};

#define A_END {NULL, V_NONE, false, NULL}
#define C_END {NULL, 0, 0}
#define DAEMON_ATTRS \
	{"control", V_TEXT, false, NULL}, \
	{"pidFile", V_TEXT, false, NULL}, \
	{"user", V_TEXT, false, NULL}, \
	{"controlGroup", V_TEXT, false, NULL}, \
	{"metrics", V_TEXT, false, NULL}, \
	{"retryInterval", V_COUNT, false, NULL}

static const struct attr_spec a_none[] = {A_END};
static const struct attr_spec a_named[] = {
	{"name", V_TOKEN, true, NULL}, A_END,
};
static const struct el_spec el_domain = {"Domain", a_none, V_TEXT, NULL};
static const struct child_spec k_community[] = {
	{&el_domain, 1, 0}, C_END,
};
static const struct el_spec el_community = {
	"Community", a_named, V_NONE, k_community,
};

static const struct attr_spec a_listen[] = {
	{"transport", V_ENUM, true, e_transport},
	{"address", V_TEXT, true, NULL},
	{"port", V_PORT, false, NULL},
	A_END,
};
static const struct el_spec el_client_listen = {
	"ClientListen", a_listen, V_NONE, NULL,
};
static const struct el_spec el_connector_listen = {
	"ConnectorListen", a_listen, V_NONE, NULL,
};
static const struct attr_spec a_gateway[] = {
	{"name", V_TOKEN, true, NULL},
	{"SupportExternalCommunities", V_BOOL, false, NULL},
	{"ConvertID", V_BOOL, false, NULL},
	{"stateFile", V_TEXT, false, NULL},
	{"stateStore", V_TEXT, false, NULL},
	DAEMON_ATTRS, A_END,
};
static const struct child_spec k_gateway[] = {
	{&el_client_listen, 1, 0}, {&el_connector_listen, 1, 0}, C_END,
};
static const struct el_spec el_gateway = {
	"CommunityGateway", a_gateway, V_NONE, k_gateway,
};

static const struct attr_spec a_extern[] = {
	{"name", V_TOKEN, true, NULL},
	{"port", V_PORT, false, NULL},
	{"transport", V_ENUM, false, e_transport},
	{"acceptTransports", V_ENUMS, false, e_transport},
	{"messageRate", V_COUNT, false, NULL},
	{"notifyRate", V_COUNT, false, NULL},
	{"subscribeRate", V_COUNT, false, NULL},
	{"subscriptionsMax", V_COUNT, false, NULL},
	A_END,
};
static const struct el_spec el_proxy = {"Proxy", a_none, V_TEXT, NULL};
static const struct el_spec el_allow_group = {
	"AllowGroup", a_none, V_TEXT, NULL,
};
static const struct child_spec k_extern[] = {
	{&el_domain, 1, 0}, {&el_proxy, 0, 1}, {&el_allow_group, 0, 0},
	C_END,
};
static const struct el_spec el_extern = {
	"ExternCommunity", a_extern, V_NONE, k_extern,
};

static const struct attr_spec a_connector[] = {
	{"name", V_TOKEN, true, NULL},
	{"ip", V_TEXT, true, NULL},
	{"port", V_PORT, false, NULL},
	{"tlsPort", V_PORT, false, NULL},
	{"advertise", V_TEXT, false, NULL},
	{"advertiseIp", V_TEXT, false, NULL},
	{"maxConnections", V_COUNT, false, NULL},
	{"toposKey", V_TEXT, false, NULL},
	DAEMON_ATTRS, A_END,
};
static const struct el_spec el_gw_ref = {"Gateway", a_none, V_TOKEN, NULL};
static const struct attr_spec a_supported[] = {
	{"name", V_TOKEN, true, NULL},
	{"enabled", V_BOOL, false, NULL},
	A_END,
};
static const struct el_spec el_supported = {
	"SupportedCommunity", a_supported, V_NONE, NULL,
};
static const struct child_spec k_connector[] = {
	{&el_gw_ref, 1, 0}, {&el_supported, 0, 0}, C_END,
};
static const struct el_spec el_connector = {
	"CommunityConnector", a_connector, V_NONE, k_connector,
};

static const struct el_spec el_trusted = {"TrustedIP", a_none, V_TEXT, NULL};
static const struct child_spec k_connectivity[] = {
	{&el_trusted, 1, 0}, C_END,
};
static const struct el_spec el_connectivity = {
	"CommunityConnectivity", a_none, V_NONE, k_connectivity,
};

static const struct el_spec el_file = {"File", a_none, V_TEXT, NULL};
static const struct attr_spec a_ldap[] = {
	{"bindDN", V_TEXT, false, NULL},
	{"passwordFile", V_TEXT, false, NULL},
	{"caFile", V_TEXT, false, NULL},
	{"startTLS", V_BOOL, false, NULL},
	{"base", V_TEXT, true, NULL},
	{"scope", V_ENUM, false, e_scope},
	{"filter", V_TEXT, false, NULL},
	{"timeout", V_COUNT, false, NULL},
	A_END,
};
static const struct el_spec el_url = {"Url", a_none, V_TEXT, NULL};
static const struct child_spec k_ldap[] = {{&el_url, 1, 0}, C_END};
static const struct el_spec el_ldap = {"Ldap", a_ldap, V_NONE, k_ldap};
static const struct attr_spec a_attrs[] = {
	{"id", V_TOKEN, false, NULL},
	{"email", V_TOKEN, false, NULL},
	{"password", V_TOKEN, false, NULL},
	{"privacy", V_TOKEN, false, NULL},
	{"member", V_TOKEN, false, NULL},
	A_END,
};
static const struct el_spec el_attrs = {"Attributes", a_attrs, V_NONE, NULL};
static const struct attr_spec a_privacy[] = {
	{"default", V_ENUM, true, e_privacy}, A_END,
};
static const struct el_spec el_privacy = {"Privacy", a_privacy, V_NONE, NULL};
static const struct attr_spec a_cache[] = {
	{"size", V_COUNT, false, NULL},
	{"ttl", V_COUNT, false, NULL},
	{"negativeTtl", V_COUNT, false, NULL},
	A_END,
};
static const struct el_spec el_cache = {"Cache", a_cache, V_NONE, NULL};
static const struct attr_spec a_directory[] = {
	{"backend", V_ENUM, true, e_backend},
	{"answerTimeout", V_COUNT, false, NULL},
	A_END,
};
static const struct child_spec k_directory[] = {
	{&el_file, 0, 1}, {&el_ldap, 0, 1}, {&el_attrs, 0, 1},
	{&el_privacy, 0, 1}, {&el_cache, 0, 1}, C_END,
};
static const struct el_spec el_directory = {
	"Directory", a_directory, V_NONE, k_directory,
};

static const struct attr_spec a_tls[] = {
	{"certificate", V_TEXT, true, NULL},
	{"key", V_TEXT, true, NULL},
	{"ca", V_TEXT, false, NULL},
	{"verify", V_ENUM, false, e_verify},
	A_END,
};
static const struct el_spec el_tls = {"Tls", a_tls, V_NONE, NULL};

static const struct attr_spec a_trace[] = {
	{"enable", V_BOOL, true, NULL},
	{"file", V_TEXT, false, NULL},
	{"level", V_COUNT, false, NULL},
	{"community", V_TOKEN, false, NULL},
	{"user", V_TEXT, false, NULL},
	A_END,
};
static const struct el_spec el_trace = {"Trace", a_trace, V_NONE, NULL};

static const char *const e_facility[] = {
	"local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7", NULL,
};
static const struct attr_spec a_audit[] = {
	{"enable", V_BOOL, true, NULL},
	{"file", V_TEXT, false, NULL},
	{"syslogFacility", V_ENUM, false, e_facility},
	{"bodies", V_BOOL, false, NULL},
	A_END,
};
static const struct el_spec el_audit = {"Audit", a_audit, V_NONE, NULL};

static const struct attr_spec a_dns[] = {
	{"timeout", V_COUNT, false, NULL},
	{"serveStale", V_COUNT, false, NULL}, A_END,
};
static const struct el_spec el_server = {"Server", a_none, V_TEXT, NULL};
static const struct child_spec k_dns[] = {{&el_server, 1, 0}, C_END};
static const struct el_spec el_dns = {"Dns", a_dns, V_NONE, k_dns};

static const struct child_spec k_root[] = {
	{&el_community, 1, 1}, {&el_gateway, 0, 0}, {&el_extern, 0, 0},
	{&el_connector, 0, 0}, {&el_connectivity, 0, 1},
	{&el_directory, 0, 1}, {&el_tls, 0, 1}, {&el_trace, 0, 1},
	{&el_dns, 0, 1}, {&el_audit, 0, 1}, C_END,
};
static const struct el_spec el_root = {
	"CommunityConfig", a_none, V_NONE, k_root,
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
			const char *what, enum vtype t,
			const char *const *enumv, const char *v)
{
	char list[128];
	unsigned u;
	uint16_t port;

	switch (t) {
	case V_TOKEN:
		if (token_ok(v))
			return true;
		ERR(ld, line, "%s: %s \"%s\" must be 1-64 letters, digits, "
		    "\".\", \"_\" or \"-\"", label, what, v);
		return false;
	case V_TEXT:
		if (*v && strlen(v) <= CFG_TEXT_MAX)
			return true;
		ERR(ld, line, "%s: %s %s", label, what,
		    *v ? "is longer than 1024 characters" : "is empty");
		return false;
	case V_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "false"))
			return true;
		ERR(ld, line, "%s: %s must be true or false, not \"%s\"",
		    label, what, v);
		return false;
	case V_PORT:
		if (port_parse(v, &port))
			return true;
		ERR(ld, line, "%s: %s must be a port number 1-65535, "
		    "not \"%s\"", label, what, v);
		return false;
	case V_COUNT:
		if (count_parse(v, &u))
			return true;
		ERR(ld, line, "%s: %s must be a whole number "
		    "0-4294967295, not \"%s\"", label, what, v);
		return false;
	case V_ENUM:
		if (enum_index(enumv, v) >= 0)
			return true;
		enum_list(list, sizeof(list), enumv);
		ERR(ld, line, "%s: %s must be %s, not \"%s\"", label, what,
		    list, v);
		return false;
	case V_ENUMS:
		if (enums_mask(enumv, v) >= 0)
			return true;
		enum_list(list, sizeof(list), enumv);
		ERR(ld, line, "%s: %s must be one or more of %s separated "
		    "by spaces, not \"%s\"", label, what, list, v);
		return false;
	case V_NONE:
		break;
	}
	return true;
}

static void struct_check(struct ld *ld, const xmlNode *n,
			 const struct el_spec *sp, const char *parent)
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
		const struct attr_spec *as = NULL;
		char *v;

		for (i = 0; sp->attrs[i].name; i++)
			if (!strcmp(sp->attrs[i].name, an))
				as = &sp->attrs[i];
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
		value_check(ld, line, label, what, as->t, as->enumv, v);
		free(v);
	}
	for (i = 0; sp->attrs[i].name; i++) {
		if (sp->attrs[i].req &&
		    !xmlHasNsProp(n, (const xmlChar *)sp->attrs[i].name, NULL))
			ERR(ld, line, "%s: missing attribute %s", label,
			    sp->attrs[i].name);
	}

	if (sp->text != V_NONE) {
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
		const struct el_spec *cs = NULL;
		size_t k = 0;

		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const xmlChar *t = c->content;

			if (sp->text != V_NONE || !t)
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
			if (sp == &el_root)
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
				if (sp == &el_root)
					ERR(ld, node_line(c), "second <%s> "
					    "record (the first is at line %u)",
					    c->name, first[k]);
				else
					ERR(ld, node_line(c), "%s: more than "
					    "one <%s>", label, c->name);
				continue;
			}
		}
		struct_check(ld, c, cs, sp == &el_root ? NULL : label);
	}
	for (i = 0; sp->kids && sp->kids[i].el && i < 16; i++) {
		if (count[i] < sp->kids[i].min) {
			if (sp == &el_root)
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

static bool attr_bool(const xmlNode *n, const char *name, bool dflt)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	bool r = dflt;

	if (v) {
		if (!strcmp((const char *)v, "true"))
			r = true;
		else if (!strcmp((const char *)v, "false"))
			r = false;
		xmlFree(v);
	}
	return r;
}

static uint16_t attr_port(const xmlNode *n, const char *name, uint16_t dflt)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	uint16_t p = dflt;

	if (v) {
		if (!port_parse((const char *)v, &p))
			p = dflt;
		xmlFree(v);
	}
	return p;
}

static unsigned attr_count(const xmlNode *n, const char *name, unsigned dflt)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	unsigned u = dflt;

	if (v) {
		if (!count_parse((const char *)v, &u))
			u = dflt;
		xmlFree(v);
	}
	return u;
}

static int attr_enum(const xmlNode *n, const char *name,
		     const char *const *ev, int dflt)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	int r = dflt;

	if (v) {
		r = enum_index(ev, (const char *)v);
		if (r < 0)
			r = dflt;
		xmlFree(v);
	}
	return r;
}

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

static void listen_add(struct ld *ld, struct cfg_listenv *lv,
		       const xmlNode *n)
{
	struct cfg_listen *l;
	uint16_t dport;

	l = arr_add(ld, (void **)&lv->v, &lv->n, sizeof(*l));
	if (!l)
		return;
	l->tp = (enum cfg_transport)attr_enum(n, "transport", e_transport,
					      CFG_TP_UDP);
	dport = l->tp == CFG_TP_TLS ? CFG_SIPS_PORT : CFG_SIP_PORT;
	l->addr = attr_get(n, "address");
	l->port = attr_port(n, "port", dport);
	l->line = node_line(n);
}

static void daemon_attrs(struct ld *ld, const xmlNode *n, char **control,
			 char **pidfile, char **user, unsigned *retry)
{
	*control = path_get(ld, n, "control");
	*pidfile = path_get(ld, n, "pidFile");
	*user = attr_get(n, "user");
	*retry = attr_count(n, "retryInterval", CFG_RETRY_DEFAULT);
}

static void build_gateway(struct ld *ld, struct cfg *cfg, const xmlNode *n)
{
	struct cfg_gateway *gw;
	const xmlNode *c;

	gw = arr_add(ld, (void **)&cfg->gateways, &cfg->ngateways,
		     sizeof(*gw));
	if (!gw)
		return;
	gw->name = attr_get(n, "name");
	gw->support_external = attr_bool(n, "SupportExternalCommunities",
					 true);
	gw->convert_id = attr_bool(n, "ConvertID", true);
	gw->control_group = attr_get(n, "controlGroup");
	gw->metrics = attr_get(n, "metrics");
	daemon_attrs(ld, n, &gw->control, &gw->pidfile, &gw->user,
		     &gw->retry);
	gw->statefile = path_get(ld, n, "stateFile");
	gw->statestore = attr_get(n, "stateStore");
	gw->line = node_line(n);
	if (gw->statefile && gw->statestore)
		ERR(ld, gw->line, "CommunityGateway \"%s\": stateFile and "
		    "stateStore exclude each other (one store per gateway)",
		    gw->name ? gw->name : "");
	for (c = n->children; c; c = c->next) {
		if (is_el(c, "ClientListen"))
			listen_add(ld, &gw->clients, c);
		else if (is_el(c, "ConnectorListen"))
			listen_add(ld, &gw->connectors, c);
	}
}

static void build_extern(struct ld *ld, struct cfg *cfg, const xmlNode *n)
{
	struct cfg_extern *ex;
	const xmlNode *c;

	ex = arr_add(ld, (void **)&cfg->externs, &cfg->nexterns, sizeof(*ex));
	if (!ex)
		return;
	ex->name = attr_get(n, "name");
	ex->port = attr_port(n, "port", CFG_SIP_PORT);
	ex->tp = (enum cfg_transport)attr_enum(n, "transport", e_transport,
					       CFG_TP_TLS);
	{
		char *v = attr_get(n, "acceptTransports");
		long m = v ? enums_mask(e_transport, v) : 0;

		ex->accept_tp = m > 0 ? (unsigned)m : 0;
		free(v);
	}
	ex->message_rate = attr_count(n, "messageRate", 0);
	ex->notify_rate = attr_count(n, "notifyRate", 0);
	ex->subscribe_rate = attr_count(n, "subscribeRate", 0);
	ex->subs_max = attr_count(n, "subscriptionsMax", 0);
	ex->line = node_line(n);
	if (ex->subs_max > CFG_SUBS_MAX)
		ERR(ld, ex->line, "ExternCommunity \"%s\": subscriptionsMax "
		    "%u is above %u", ex->name ? ex->name : "", ex->subs_max,
		    (unsigned)CFG_SUBS_MAX);
	for (c = n->children; c; c = c->next) {
		if (is_el(c, "Domain"))
			strv_add(ld, &ex->domains, c);
		else if (is_el(c, "Proxy") && !ex->proxy)
			ex->proxy = text_get(c);
		else if (is_el(c, "AllowGroup"))
			strv_add(ld, &ex->allow_groups, c);
	}
}

static void build_connector(struct ld *ld, struct cfg *cfg, const xmlNode *n)
{
	struct cfg_connector *cn;
	const xmlNode *c;

	cn = arr_add(ld, (void **)&cfg->connectors, &cfg->nconnectors,
		     sizeof(*cn));
	if (!cn)
		return;
	cn->name = attr_get(n, "name");
	cn->ip = attr_get(n, "ip");
	cn->advertise = attr_get(n, "advertise");
	cn->advertise_ip = attr_get(n, "advertiseIp");
	cn->port = attr_port(n, "port", CFG_SIP_PORT);
	cn->tls_port = attr_port(n, "tlsPort", CFG_SIPS_PORT);
	cn->max_conns = attr_count(n, "maxConnections", 0);
	cn->topos_key = path_get(ld, n, "toposKey");
	cn->control_group = attr_get(n, "controlGroup");
	cn->metrics = attr_get(n, "metrics");
	daemon_attrs(ld, n, &cn->control, &cn->pidfile, &cn->user,
		     &cn->retry);
	cn->line = node_line(n);
	for (c = n->children; c; c = c->next) {
		struct cfg_supported *su;

		if (is_el(c, "Gateway")) {
			strv_add(ld, &cn->gateways, c);
			continue;
		}
		if (!is_el(c, "SupportedCommunity"))
			continue;
		su = arr_add(ld, (void **)&cn->communities,
			     &cn->ncommunities, sizeof(*su));
		if (!su)
			return;
		su->community = attr_get(c, "name");
		su->enabled = attr_bool(c, "enabled", true);
		su->line = node_line(c);
	}
}

static void build_directory(struct ld *ld, struct cfg_directory *d,
			    const xmlNode *n)
{
	const xmlNode *c, *u;

	d->present = true;
	d->line = node_line(n);
	d->backend = (enum cfg_dir_backend)attr_enum(n, "backend", e_backend,
						     CFG_DIR_FILE);
	d->answer_ms = attr_count(n, "answerTimeout", d->answer_ms);
	for (c = n->children; c; c = c->next) {
		if (is_el(c, "File") && !d->file) {
			d->file = path_get(ld, c, NULL);
		}
		else if (is_el(c, "Ldap")) {
			free(d->bind_dn);
			free(d->password_file);
			free(d->ca_file);
			free(d->base);
			free(d->filter);
			d->bind_dn = attr_get(c, "bindDN");
			d->password_file = path_get(ld, c, "passwordFile");
			d->ca_file = path_get(ld, c, "caFile");
			d->starttls = attr_bool(c, "startTLS", false);
			d->base = attr_get(c, "base");
			d->scope = (enum cfg_scope)attr_enum(c, "scope",
							     e_scope,
							     CFG_SCOPE_SUB);
			d->filter = attr_get(c, "filter");
			d->timeout_ms = attr_count(c, "timeout",
						   d->timeout_ms);
			for (u = c->children; u; u = u->next)
				if (is_el(u, "Url"))
					strv_add(ld, &d->urls, u);
		}
		else if (is_el(c, "Attributes")) {
			static const char *const an[] = {
				"id", "email", "password", "privacy", "member",
			};
			char **dst[] = {
				&d->attr_id, &d->attr_email,
				&d->attr_password, &d->attr_privacy,
				&d->attr_member,
			};
			size_t i;

			for (i = 0; i < sizeof(an) / sizeof(an[0]); i++) {
				char *v = attr_get(c, an[i]);

				if (v) {
					free(*dst[i]);
					*dst[i] = v;
				}
			}
		}
		else if (is_el(c, "Privacy")) {
			d->privacy = (enum cfg_privacy)attr_enum(
				c, "default", e_privacy, CFG_PRIVACY_ALL);
		}
		else if (is_el(c, "Cache")) {
			d->cache_size = attr_count(c, "size", d->cache_size);
			d->cache_ttl = attr_count(c, "ttl", d->cache_ttl);
			d->neg_ttl = attr_count(c, "negativeTtl", d->neg_ttl);
		}
	}
}

static void defaults(struct ld *ld, struct cfg *cfg)
{
	struct cfg_directory *d = &cfg->directory;

	d->backend = CFG_DIR_FILE;
	d->scope = CFG_SCOPE_SUB;
	d->attr_id = strdup("uid");
	d->attr_email = strdup("mail");
	d->attr_password = strdup("userPassword");
	d->attr_member = strdup("member");
	if (!d->attr_id || !d->attr_email || !d->attr_password ||
	    !d->attr_member)
		ld->enomem = true;
	d->privacy = CFG_PRIVACY_ALL;
	d->cache_size = CFG_DIR_CACHE_SIZE;
	d->cache_ttl = CFG_DIR_CACHE_TTL;
	d->neg_ttl = CFG_DIR_NEG_TTL;
	d->timeout_ms = CFG_DIR_TIMEOUT_MS;
	d->answer_ms = CFG_DIR_ANSWER_MS;
	cfg->tls.verify = CFG_VERIFY_REQUIRED;
	cfg->dns.timeout_ms = CFG_DEF_DNS_TIMEOUT_MS;
	cfg->dns.stale_s = CFG_DEF_STALE_S;
}

static void build(struct ld *ld, struct cfg *cfg, const xmlNode *root)
{
	const xmlNode *n, *c;
	bool seen_community = false;

	defaults(ld, cfg);

	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(n, "Community") && !seen_community) {
			seen_community = true;
			cfg->community.name = attr_get(n, "name");
			cfg->community.line = node_line(n);
			for (c = n->children; c; c = c->next)
				if (is_el(c, "Domain"))
					strv_add(ld, &cfg->community.domains,
						 c);
		}
		else if (is_el(n, "CommunityGateway")) {
			build_gateway(ld, cfg, n);
		}
		else if (is_el(n, "ExternCommunity")) {
			build_extern(ld, cfg, n);
		}
		else if (is_el(n, "CommunityConnector")) {
			build_connector(ld, cfg, n);
		}
		else if (is_el(n, "CommunityConnectivity") &&
			 !cfg->connectivity.line) {
			cfg->connectivity.line = node_line(n);
			for (c = n->children; c; c = c->next)
				if (is_el(c, "TrustedIP"))
					strv_add(ld,
						 &cfg->connectivity.trusted_ips,
						 c);
		}
		else if (is_el(n, "Directory") && !cfg->directory.present) {
			build_directory(ld, &cfg->directory, n);
		}
		else if (is_el(n, "Tls") && !cfg->tls.present) {
			cfg->tls.present = true;
			cfg->tls.line = node_line(n);
			cfg->tls.cert = path_get(ld, n, "certificate");
			cfg->tls.key = path_get(ld, n, "key");
			cfg->tls.ca = path_get(ld, n, "ca");
			cfg->tls.verify = (enum cfg_verify)attr_enum(
				n, "verify", e_verify, CFG_VERIFY_REQUIRED);
		}
		else if (is_el(n, "Trace") && !cfg->trace.line) {
			cfg->trace.line = node_line(n);
			cfg->trace.enable = attr_bool(n, "enable", false);
			cfg->trace.file = path_get(ld, n, "file");
			cfg->trace.level = attr_count(n, "level", 1);
			cfg->trace.community = attr_get(n, "community");
			cfg->trace.user = attr_get(n, "user");
		}
		else if (is_el(n, "Audit") && !cfg->audit.line) {
			cfg->audit.line = node_line(n);
			cfg->audit.enable = attr_bool(n, "enable", false);
			cfg->audit.file = path_get(ld, n, "file");
			cfg->audit.facility = attr_enum(n, "syslogFacility",
							e_facility, -1);
			cfg->audit.bodies = attr_bool(n, "bodies", false);
			if (cfg->audit.enable && !cfg->audit.file &&
			    cfg->audit.facility < 0)
				ERR(ld, cfg->audit.line, "Audit: enabled, but "
				    "neither file nor syslogFacility is set");
		}
		else if (is_el(n, "Dns") && !cfg->dns.line) {
			cfg->dns.line = node_line(n);
			cfg->dns.timeout_ms = attr_count(
				n, "timeout", CFG_DEF_DNS_TIMEOUT_MS);
			cfg->dns.stale_s = attr_count(n, "serveStale",
						      CFG_DEF_STALE_S);
			for (c = n->children; c; c = c->next)
				if (is_el(c, "Server"))
					strv_add(ld, &cfg->dns.servers, c);
		}
	}
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

	struct_check(&ld, root, &el_root, NULL);
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
