/*
 * dir_ldif.c -- the file backend: an LDIF file (RFC 2849) of entries,
 * read once into memory.  The same file loads into slapd with slapadd,
 * so the demo and the LDAP tests share their data.
 *
 * Lines, continuations (a leading space), comments and blank-line
 * record ends are split here, with a line number for every error;
 * each logical line is then decoded by libldap's ldif_parse_line2()
 * (plain and base64 "::" values).  Refused, with FILE:LINE: URL values
 * (":<", which would read other files), change records, a record not
 * starting with dn:, duplicate DNs, NUL bytes in values, and anything
 * over the named bounds in dir_int.h.
 *
 * Matching follows what slapd does for the sample schema: uid, mail
 * and cn compare case-insensitively, with Unicode case folding of
 * UTF-8 values (towlower in the C.UTF-8 locale; slapd also normalises
 * compatibility forms, which we do not).  The config's extra LDAP filter
 * is not evaluated here; base limits the entries to that subtree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <locale.h>
#include <wctype.h>

#include <lber.h>
#include <ldif.h>

#include "directory/dir_int.h"

struct ldif_attr {
	char *name;
	char *val;
};

struct ldif_entry {
	char *dn;
	struct ldif_attr *a;
	size_t n;
	unsigned line;
};

struct ldif_be {
	struct dir_be be;
	locale_t utf8;            /* (locale_t)0: ASCII folding only */
	char *path;
	struct ldif_entry *v;
	size_t n;
	size_t cap;               /* entries allocated */
};

/* Parser state while reading the file. */
struct ldif_rd {
	const char *path;
	struct ldif_be *lb;
	struct ldif_entry *cur;   /* record being read, or NULL */
	char *buf;                /* current logical line */
	size_t len;
	unsigned line;            /* where the logical line began */
	bool have;
	bool comment;
	char *why;
	size_t whysz;
	size_t *dnh;              /* DN hash: entry index + 1, 0 empty */
	size_t dnhcap;            /* slots, a power of two */
};

/* Tests count the DN comparisons of the duplicate check. */
#ifndef DIR_LDIF_COMPARED
#define DIR_LDIF_COMPARED() ((void)0)
#endif

static int rd_err(struct ldif_rd *rd, unsigned line, int err,
		  const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->why && rd->whysz)
		snprintf(rd->why, rd->whysz, "%s:%u: %s", rd->path, line, msg);
	return err;
}

static void entry_free(struct ldif_entry *e)
{
	size_t i;

	free(e->dn);
	for (i = 0; i < e->n; i++) {
		free(e->a[i].name);
		free(e->a[i].val);
	}
	free(e->a);
}

static void ldif_destroy(struct dir_be *be)
{
	struct ldif_be *lb = (struct ldif_be *)be;
	size_t i;

	for (i = 0; i < lb->n; i++)
		entry_free(&lb->v[i]);
	free(lb->v);
	free(lb->path);
	if (lb->utf8)
		freelocale(lb->utf8);
	free(lb);
}

static char *memdup0(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Next code point of a UTF-8 string; a bad byte stands for itself. */
static uint32_t utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t c = p[0];
	size_t n, i;

	n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
	    (c & 0xf8) == 0xf0 ? 3 : 0;
	if (!n) {
		*pp = p + 1;
		return c;
	}
	c &= 0x3f >> n;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*pp = p + 1;
			return p[0] | 0x80000000u;  /* never equals a real one */
		}
		c = (c << 6) | (p[i] & 0x3f);
	}
	*pp = p + n + 1;
	return c;
}

static uint32_t fold(locale_t loc, uint32_t c)
{
	if (c & 0x80000000u)
		return c;
	if (c < 0x80 || !loc)
		return (c >= 'A' && c <= 'Z') ? c + 32 : c;
	return (uint32_t)towlower_l((wint_t)c, loc);
}

static bool ci_eq(locale_t loc, const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p && *q) {
		if (fold(loc, utf8_next(&p)) != fold(loc, utf8_next(&q)))
			return false;
	}
	return !*p && !*q;
}

static bool dn_eq(locale_t loc, const char *a, const char *b)
{
	return ci_eq(loc, a, b);
}

/* FNV-1a over the folded code points: equal under dn_eq, equal hash. */
static size_t dn_hash(locale_t loc, const char *dn)
{
	const unsigned char *p = (const unsigned char *)dn;
	uint64_t h = 14695981039346656037ull;

	while (*p) {
		h ^= fold(loc, utf8_next(&p));
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* Double the DN table (or make it), putting entries 0..n-1 back. */
static int dnh_grow(struct ldif_rd *rd, size_t n)
{
	const size_t cap = rd->dnhcap ? rd->dnhcap * 2 : 64;
	size_t *t, i;

	t = calloc(cap, sizeof(*t));
	if (!t)
		return ENOMEM;
	for (i = 0; i < n; i++) {
		size_t k = dn_hash(rd->lb->utf8, rd->lb->v[i].dn) & (cap - 1);

		while (t[k])
			k = (k + 1) & (cap - 1);
		t[k] = i + 1;
	}
	free(rd->dnh);
	rd->dnh = t;
	rd->dnhcap = cap;
	return 0;
}

/* The entry's record ends: check its DN is new (one hash probe
 * sequence, not a comparison with every earlier entry) and keep it. */
static int rd_end_record(struct ldif_rd *rd)
{
	struct ldif_be *lb = rd->lb;
	size_t idx, k;
	int err;

	if (!rd->cur)
		return 0;
	idx = (size_t)(rd->cur - lb->v);
	if (2 * lb->n > rd->dnhcap) {
		err = dnh_grow(rd, idx);
		if (err)
			return err;
	}
	k = dn_hash(lb->utf8, rd->cur->dn) & (rd->dnhcap - 1);
	for (; rd->dnh[k]; k = (k + 1) & (rd->dnhcap - 1)) {
		const struct ldif_entry *e = &lb->v[rd->dnh[k] - 1];

		DIR_LDIF_COMPARED();
		if (dn_eq(lb->utf8, e->dn, rd->cur->dn))
			return rd_err(rd, rd->cur->line, EEXIST,
				      "duplicate dn \"%s\" (first at line %u)",
				      rd->cur->dn, e->line);
	}
	rd->dnh[k] = idx + 1;
	rd->cur = NULL;
	return 0;
}

static int rd_new_entry(struct ldif_rd *rd, const char *dn, size_t len)
{
	struct ldif_be *lb = rd->lb;
	struct ldif_entry *nv;

	if (lb->n >= DIR_LDIF_ENTRIES_MAX)
		return rd_err(rd, rd->line, EMSGSIZE,
			      "more than %u entries", DIR_LDIF_ENTRIES_MAX);
	if (!len)
		return rd_err(rd, rd->line, EBADMSG, "empty dn");

	if (lb->n == lb->cap) {  /* doubling: no copy per entry */
		const size_t cap = lb->cap ? lb->cap * 2 : 64;

		nv = realloc(lb->v, cap * sizeof(*nv));
		if (!nv)
			return ENOMEM;
		lb->v = nv;
		lb->cap = cap;
	}
	rd->cur = &lb->v[lb->n];
	memset(rd->cur, 0, sizeof(*rd->cur));
	rd->cur->line = rd->line;
	rd->cur->dn = memdup0(dn, len);
	if (!rd->cur->dn) {
		rd->cur = NULL;
		return ENOMEM;
	}
	lb->n++;
	return 0;
}

static int rd_add_attr(struct ldif_rd *rd, const char *name, size_t nlen,
		       const char *val, size_t vlen)
{
	struct ldif_entry *e = rd->cur;
	struct ldif_attr *na;

	if (e->n >= DIR_LDIF_ATTRS_MAX)
		return rd_err(rd, rd->line, EMSGSIZE,
			      "more than %u attribute lines in \"%s\"",
			      DIR_LDIF_ATTRS_MAX, e->dn);
	na = realloc(e->a, (e->n + 1) * sizeof(*na));
	if (!na)
		return ENOMEM;
	e->a = na;
	na[e->n].name = memdup0(name, nlen);
	na[e->n].val = memdup0(val, vlen);
	if (!na[e->n].name || !na[e->n].val) {
		free(na[e->n].name);
		free(na[e->n].val);
		return ENOMEM;
	}
	e->n++;
	return 0;
}

static bool name_is(const struct berval *t, const char *s)
{
	return t->bv_len == strlen(s) && !strncasecmp(t->bv_val, s, t->bv_len);
}

static bool b64_ok(const char *p)
{
	size_t n = 0;

	while (*p == ' ')
		++p;
	for (; *p; p++, n++) {
		const char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      c == '='))
			return false;
	}
	return n % 4 == 0;
}

/* One logical (unfolded) line: "name: value" or "name:: base64". */
static int rd_logical(struct ldif_rd *rd)
{
	struct berval type = {0, NULL}, val = {0, NULL};
	int freeval = 0;
	char *colon;
	int err = 0;

	rd->buf[rd->len] = '\0';
	colon = memchr(rd->buf, ':', rd->len);
	if (!colon || colon == rd->buf)
		return rd_err(rd, rd->line, EBADMSG,
			      "expected \"attribute: value\"");
	if (colon[1] == '<')
		return rd_err(rd, rd->line, EPERM,
			      "URL values (\":<\") are not supported");
	/* check base64 here: libldap would print its complaint on stderr */
	if (colon[1] == ':' && !b64_ok(colon + 2))
		return rd_err(rd, rd->line, EBADMSG,
			      "cannot decode this line (bad base64)");

	if (ldif_parse_line2(rd->buf, &type, &val, &freeval) < 0 ||
	    !type.bv_val)
		return rd_err(rd, rd->line, EBADMSG,
			      "cannot decode this line (bad base64?)");

	if (val.bv_len && memchr(val.bv_val, '\0', val.bv_len)) {
		err = rd_err(rd, rd->line, EBADMSG,
			     "value of %.*s contains a NUL byte",
			     (int)type.bv_len, type.bv_val);
		goto out;
	}

	if (!rd->cur) {
		if (name_is(&type, "version") && rd->lb->n == 0)
			goto out;
		if (!name_is(&type, "dn")) {
			err = rd_err(rd, rd->line, EBADMSG,
				     "record must start with \"dn:\", not "
				     "\"%.*s:\"", (int)type.bv_len,
				     type.bv_val);
			goto out;
		}
		err = rd_new_entry(rd, val.bv_val, val.bv_len);
		goto out;
	}
	if (name_is(&type, "dn")) {
		err = rd_err(rd, rd->line, EBADMSG,
			     "second \"dn:\" in one record (missing blank "
			     "line?)");
		goto out;
	}
	if (name_is(&type, "changetype")) {
		err = rd_err(rd, rd->line, EBADMSG,
			     "change records are not supported: give plain "
			     "entries");
		goto out;
	}
	err = rd_add_attr(rd, type.bv_val, type.bv_len,
			  val.bv_val ? val.bv_val : "", val.bv_len);
 out:
	if (freeval)
		ber_memfree(val.bv_val);
	return err;
}

static int rd_flush(struct ldif_rd *rd)
{
	int err = 0;

	if (rd->have)
		err = rd_logical(rd);
	rd->have = false;
	rd->comment = false;
	rd->len = 0;
	return err;
}

static int rd_append(struct ldif_rd *rd, const char *p, size_t len)
{
	if (rd->len + len > DIR_LDIF_LINE_MAX)
		return rd_err(rd, rd->line, EMSGSIZE,
			      "line longer than %u bytes", DIR_LDIF_LINE_MAX);
	memcpy(rd->buf + rd->len, p, len);
	rd->len += len;
	return 0;
}

static int rd_line(struct ldif_rd *rd, const char *p, size_t len,
		   unsigned lineno)
{
	int err;

	if (len && p[len - 1] == '\r')
		--len;

	if (len && p[0] == ' ') {
		if (rd->comment)
			return 0;
		if (!rd->have)
			return rd_err(rd, lineno, EBADMSG,
				      "continuation line with nothing to "
				      "continue");
		return rd_append(rd, p + 1, len - 1);
	}

	err = rd_flush(rd);
	if (err)
		return err;

	if (!len)
		return rd_end_record(rd);
	if (p[0] == '#') {
		rd->comment = true;
		return 0;
	}
	rd->line = lineno;
	rd->have = true;
	return rd_append(rd, p, len);
}

static int read_file(const char *path, char **bufp, size_t *lenp,
		     char *why, size_t whysz)
{
	struct stat st;
	FILE *f;
	char *buf = NULL;
	int err = 0;

	f = fopen(path, "r");
	if (!f) {
		err = errno;
		snprintf(why, whysz, "%s: cannot open: %s", path,
			 strerror(err));
		return err;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		err = EINVAL;
		snprintf(why, whysz, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > DIR_LDIF_FILE_MAX) {
		err = EFBIG;
		snprintf(why, whysz, "%s: larger than %u bytes", path,
			 DIR_LDIF_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		err = EIO;
		snprintf(why, whysz, "%s: read error", path);
		goto out;
	}
	buf[st.st_size] = '\0';
	*bufp = buf;
	*lenp = (size_t)st.st_size;
	buf = NULL;
 out:
	free(buf);
	fclose(f);
	return err;
}

static bool in_base(locale_t loc, const struct dir_names *nm, const char *dn)
{
	size_t bl, dl;

	if (!nm->base || !nm->base[0])
		return true;
	bl = strlen(nm->base);
	dl = strlen(dn);
	if (dl == bl)
		return dn_eq(loc, dn, nm->base);
	if (nm->scope == CFG_SCOPE_BASE || dl < bl + 1)
		return false;
	return dn[dl - bl - 1] == ',' && dn_eq(loc, dn + dl - bl, nm->base);
}

static bool has_value(locale_t loc, const struct ldif_entry *e,
		      const char *attr, const char *value)
{
	size_t i;

	if (!attr)
		return false;
	for (i = 0; i < e->n; i++)
		if (!strcasecmp(e->a[i].name, attr) &&
		    ci_eq(loc, e->a[i].val, value))
			return true;
	return false;
}

static bool matches(locale_t loc, const struct dir_names *nm,
		    const struct ldif_entry *e, enum dir_query q,
		    const char *value)
{
	switch (q) {

	case DIR_Q_BY_ID:
		return in_base(loc, nm, e->dn) &&
		       has_value(loc, e, nm->attr[DIR_A_ID], value);
	case DIR_Q_BY_EMAIL:
		return in_base(loc, nm, e->dn) &&
		       has_value(loc, e, nm->attr[DIR_A_EMAIL], value);
	case DIR_Q_GROUP:
		return in_base(loc, nm, e->dn) &&
		       has_value(loc, e, "objectClass", "groupOfNames") &&
		       has_value(loc, e, "cn", value);
	case DIR_Q_DN:
		return dn_eq(loc, e->dn, value);
	}
	return false;
}

static int copy_entry(const struct dir_names *nm, const struct ldif_entry *e,
		      struct dir_ent *out)
{
	size_t i, s;
	int err;

	out->dn = strdup(e->dn);
	if (!out->dn)
		return ENOMEM;
	for (i = 0; i < e->n; i++) {
		for (s = 0; s < DIR_A_N; s++) {
			if (!nm->attr[s] || strcasecmp(e->a[i].name,
						       nm->attr[s]))
				continue;
			err = dir_vals_add(&out->a[s], e->a[i].val,
					   strlen(e->a[i].val));
			if (err == ENOMEM)
				return err;
		}
	}
	return 0;
}

static int ldif_find(struct dir_be *be, enum dir_query q, const char *value,
		     size_t limit, struct dir_ents *out, char *why,
		     size_t whysz)
{
	struct ldif_be *lb = (struct ldif_be *)be;
	struct dir_ents ents = {0};
	size_t i;
	int err = 0;

	(void)why;
	(void)whysz;

	ents.v = calloc(limit ? limit : 1, sizeof(*ents.v));
	if (!ents.v)
		return ENOMEM;

	for (i = 0; i < lb->n; i++) {
		if (!matches(lb->utf8, be->names, &lb->v[i], q, value))
			continue;
		if (ents.n >= limit) {
			ents.more = true;
			break;
		}
		err = copy_entry(be->names, &lb->v[i], &ents.v[ents.n++]);
		if (err)
			goto out;
	}
	*out = ents;
	memset(&ents, 0, sizeof(ents));
 out:
	dir_ents_free(&ents);
	return err;
}

static void ldif_where(struct dir_be *be, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s", ((struct ldif_be *)be)->path);
}

static const struct dir_be_ops ldif_ops = {
	ldif_find, ldif_where, ldif_destroy,
};

int dir_ldif_open(struct dir_be **bep, const char *path,
		  const struct dir_names *names, char *why, size_t whysz)
{
	struct ldif_rd rd;
	struct ldif_be *lb;
	char *data = NULL;
	size_t len = 0, pos = 0;
	unsigned lineno = 0;
	int err;

	if (!bep || !path || !names)
		return EINVAL;

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return ENOMEM;
	lb->be.ops = &ldif_ops;
	lb->be.names = names;
	lb->path = strdup(path);
	lb->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

	memset(&rd, 0, sizeof(rd));
	rd.path = path;
	rd.lb = lb;
	rd.why = why;
	rd.whysz = whysz;
	rd.buf = malloc(DIR_LDIF_LINE_MAX + 1);
	if (!lb->path || !rd.buf) {
		err = ENOMEM;
		goto out;
	}

	err = read_file(path, &data, &len, why, whysz);
	if (err)
		goto out;

	if (memchr(data, '\0', len)) {
		err = EBADMSG;
		snprintf(why, whysz, "%s: contains NUL bytes: not LDIF", path);
		goto out;
	}

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		const size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;

		err = rd_line(&rd, data + pos, ll, ++lineno);
		if (err)
			goto out;
		pos += ll + (nl ? 1 : 0);
	}
	err = rd_flush(&rd);
	if (!err)
		err = rd_end_record(&rd);
	if (err)
		goto out;
	if (lb->n == 0) {
		err = ENOENT;
		snprintf(why, whysz, "%s: no entries", path);
		goto out;
	}

	*bep = &lb->be;
	lb = NULL;
 out:
	if (err == ENOMEM && why && whysz && !why[0])
		snprintf(why, whysz, "%s: out of memory", path);
	free(rd.buf);
	free(rd.dnh);
	free(data);
	if (lb)
		ldif_destroy(&lb->be);
	return err;
}
