/*
 * dmn_status.c -- the status tree, printed for people or as JSON.
 *
 * Both daemons describe themselves by building one tree per `status`
 * request; this file decides how it looks, so that the two daemons'
 * answers look alike and JSON consumers never see invalid text.  It
 * also reads a tree back (dmn_st_get...) for the one-screen summaries
 * each daemon builds from its own tree, and prints their common lines
 * (refusals by top reason, where the log, trace and metrics are).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "dmn.h"

enum st_type { ST_OBJ, ST_LIST, ST_STR, ST_INT, ST_BOOL, ST_DUR, ST_WORDS,
	       ST_MILLI };

struct dmn_st {
	struct le le;
	struct dmn_st *root;	/* holds the sticky error; no reference */
	enum st_type type;
	char *key;
	char *s;
	size_t slen;
	int64_t i;
	bool b;
	uint64_t ms;
	struct list kids;
	int err;		/* root only */
};

static void destructor(void *arg)
{
	struct dmn_st *st = arg;

	list_flush(&st->kids);
	list_unlink(&st->le);
	mem_deref(st->key);
	mem_deref(st->s);
}

static void fail(struct dmn_st *st, int err)
{
	if (st && st->root && !st->root->err)
		st->root->err = err;
}

int dmn_st_alloc(struct dmn_st **stp)
{
	struct dmn_st *st;

	if (!stp)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), destructor);
	if (!st)
		return ENOMEM;
	st->type = ST_OBJ;
	st->root = st;
	list_init(&st->kids);
	*stp = st;
	return 0;
}

static struct dmn_st *add(struct dmn_st *parent, const char *key,
			  enum st_type type)
{
	struct dmn_st *st;

	if (!parent)
		return NULL;
	if (parent->type != (key ? ST_OBJ : ST_LIST)) {
		fail(parent, EINVAL);
		return NULL;
	}

	st = mem_zalloc(sizeof(*st), destructor);
	if (!st || (key && str_dup(&st->key, key))) {
		mem_deref(st);
		fail(parent, ENOMEM);
		return NULL;
	}
	st->type = type;
	st->root = parent->root;
	list_init(&st->kids);
	list_append(&parent->kids, &st->le, st);
	return st;
}

struct dmn_st *dmn_st_section(struct dmn_st *obj, const char *key)
{
	if (obj && !key) {
		fail(obj, EINVAL);
		return NULL;
	}
	return add(obj, key, ST_OBJ);
}

struct dmn_st *dmn_st_list(struct dmn_st *obj, const char *key)
{
	if (obj && !key) {
		fail(obj, EINVAL);
		return NULL;
	}
	return add(obj, key, ST_LIST);
}

struct dmn_st *dmn_st_item(struct dmn_st *list)
{
	return add(list, NULL, ST_OBJ);
}

static struct dmn_st *scalar(struct dmn_st *obj, const char *key,
			     enum st_type type)
{
	if (obj && !key) {
		fail(obj, EINVAL);
		return NULL;
	}
	return add(obj, key, type);
}

int dmn_st_strn(struct dmn_st *obj, const char *key, const char *p,
		size_t len)
{
	struct dmn_st *st;

	if (!p && len)
		return EINVAL;
	st = scalar(obj, key, ST_STR);
	if (!st)
		return obj ? obj->root->err : EINVAL;

	st->s = mem_alloc(len + 1, NULL);
	if (!st->s) {
		fail(obj, ENOMEM);
		mem_deref(st);
		return ENOMEM;
	}
	if (len)
		memcpy(st->s, p, len);
	st->s[len] = '\0';
	st->slen = len;
	return 0;
}

void dmn_words_add(char *buf, size_t sz, const char *word)
{
	size_t len;

	if (!buf || !sz || !word)
		return;
	len = strnlen(buf, sz);
	if (len < sz)
		snprintf(buf + len, sz - len, "%s%s", len ? ", " : "",
			 word);
}

int dmn_st_words(struct dmn_st *obj, const char *key,
		 const char *const *v, size_t n)
{
	struct dmn_st *st, *w;
	size_t i;

	if (n && !v)
		return EINVAL;
	st = scalar(obj, key, ST_WORDS);
	if (!st)
		return obj ? obj->root->err : EINVAL;
	for (i = 0; i < n; i++) {
		w = mem_zalloc(sizeof(*w), destructor);
		if (!w || str_dup(&w->s, v[i] ? v[i] : "")) {
			mem_deref(w);
			fail(obj, ENOMEM);
			return ENOMEM;
		}
		w->type = ST_STR;
		w->root = st->root;
		w->slen = strlen(w->s);
		list_init(&w->kids);
		list_append(&st->kids, &w->le, w);
	}
	return 0;
}

int dmn_st_str(struct dmn_st *obj, const char *key, const char *val)
{
	if (!val)
		val = "";
	return dmn_st_strn(obj, key, val, strlen(val));
}

int dmn_st_int(struct dmn_st *obj, const char *key, int64_t val)
{
	struct dmn_st *st = scalar(obj, key, ST_INT);

	if (!st)
		return obj ? obj->root->err : EINVAL;
	st->i = val;
	return 0;
}

int dmn_st_bool(struct dmn_st *obj, const char *key, bool val)
{
	struct dmn_st *st = scalar(obj, key, ST_BOOL);

	if (!st)
		return obj ? obj->root->err : EINVAL;
	st->b = val;
	return 0;
}

int dmn_st_dur(struct dmn_st *obj, const char *key, uint64_t ms)
{
	struct dmn_st *st = scalar(obj, key, ST_DUR);

	if (!st)
		return obj ? obj->root->err : EINVAL;
	st->ms = ms;
	return 0;
}

int dmn_st_milli(struct dmn_st *obj, const char *key, int64_t milli)
{
	struct dmn_st *st = scalar(obj, key, ST_MILLI);

	if (!st)
		return obj ? obj->root->err : EINVAL;
	st->i = milli;
	return 0;
}

/* A number in thousandths, "4.9", "0.05", "12": the fraction only as
 * long as it needs to be. */
static int print_milli(struct re_printf *pf, int64_t m)
{
	const char *sign = m < 0 ? "-" : "";
	const uint64_t a = m < 0 ? (uint64_t)-(m + 1) + 1 : (uint64_t)m;
	unsigned f = (unsigned)(a % 1000), w = 3;

	if (!f)
		return re_hprintf(pf, "%s%llu", sign,
				  (unsigned long long)(a / 1000));
	while (!(f % 10)) {
		f /= 10;
		w--;
	}
	return re_hprintf(pf, w == 3 ? "%s%llu.%03u" : w == 2 ?
			  "%s%llu.%02u" : "%s%llu.%u", sign,
			  (unsigned long long)(a / 1000), f);
}

int dmn_st_err(const struct dmn_st *st)
{
	return st ? st->root->err : EINVAL;
}

/* ------------------------------------------------------------------ */
/* For people */

static bool is_scalar(const struct dmn_st *st)
{
	return st->type != ST_OBJ && st->type != ST_LIST;
}

static int print_dur(struct re_printf *pf, uint64_t ms)
{
	uint64_t s = ms / 1000;
	const uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	int err = 0;

	if (ms < 1000)
		return re_hprintf(pf, "%llums", (unsigned long long)ms);

	s %= 60;
	if (d)
		err |= re_hprintf(pf, "%llud ", (unsigned long long)d);
	if (d || h)
		err |= re_hprintf(pf, "%lluh ", (unsigned long long)h);
	if (d || h || m)
		err |= re_hprintf(pf, "%llum ", (unsigned long long)m);
	err |= re_hprintf(pf, "%llus", (unsigned long long)s);
	return err;
}

/* A string for a terminal: control characters as \xNN. */
static int print_text(struct re_printf *pf, const char *s, size_t len)
{
	size_t i, run = 0;
	int err = 0;

	if (!len)
		return re_hprintf(pf, "\"\"");

	for (i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)s[i];

		if (c >= ' ' && c != 0x7f)
			continue;
		if (i > run)
			err |= re_hprintf(pf, "%b", s + run, i - run);
		err |= re_hprintf(pf, "\\x%02x", c);
		run = i + 1;
	}
	if (len > run)
		err |= re_hprintf(pf, "%b", s + run, len - run);
	return err;
}

static int print_value(struct re_printf *pf, const struct dmn_st *st)
{
	switch (st->type) {

	case ST_STR:
		return print_text(pf, st->s, st->slen);
	case ST_INT:
		return re_hprintf(pf, "%lld", (long long)st->i);
	case ST_BOOL:
		return re_hprintf(pf, "%s", st->b ? "yes" : "no");
	case ST_DUR:
		return print_dur(pf, st->ms);
	case ST_MILLI:
		return print_milli(pf, st->i);
	case ST_WORDS: {
		const struct le *le;
		int err = 0;

		if (list_isempty(&st->kids))
			return re_hprintf(pf, "(none)");
		for (le = st->kids.head; le; le = le->next) {
			const struct dmn_st *w = le->data;

			if (le != st->kids.head)
				err |= re_hprintf(pf, ", ");
			err |= print_text(pf, w->s, w->slen);
		}
		return err;
	}
	default:
		return 0;
	}
}

/* n spaces (libre's printf has no '*' width). */
static int pad(struct re_printf *pf, size_t n)
{
	static const char sp[] = "                                ";
	int err = 0;

	while (n && !err) {
		const size_t k = min(n, sizeof(sp) - 1);

		err = pf->vph(sp, k, pf->arg);
		n -= k;
	}
	return err;
}

/*
 * The start of a line at indent; if *dash, the line opens a list item:
 * "- " takes the last two columns of the indent.
 */
static int line_start(struct re_printf *pf, unsigned indent, bool *dash)
{
	if (dash && *dash) {
		*dash = false;
		return pad(pf, indent - 2) | re_hprintf(pf, "- ");
	}
	return pad(pf, indent);
}

static int print_obj(struct re_printf *pf, const struct dmn_st *obj,
		     unsigned indent, bool *dash, bool top)
{
	size_t w = 0;
	struct le *le;
	int err = 0;

	for (le = obj->kids.head; le; le = le->next) {
		const struct dmn_st *k = le->data;

		if (is_scalar(k))
			w = max(w, strlen(k->key));
	}

	for (le = obj->kids.head; le && !err; le = le->next) {
		const struct dmn_st *k = le->data;
		struct le *ie;

		if (top && !is_scalar(k))
			continue;	/* sections after the scalars */

		err |= line_start(pf, indent, dash);
		if (is_scalar(k)) {
			err |= re_hprintf(pf, "%s:", k->key);
			err |= pad(pf, w - strlen(k->key) + 1);
			err |= print_value(pf, k);
			err |= re_hprintf(pf, "\n");
			continue;
		}

		if (k->type == ST_OBJ) {
			err |= re_hprintf(pf, "%s:\n", k->key);
			err |= print_obj(pf, k, indent + 2, NULL, false);
			continue;
		}

		if (list_isempty(&k->kids)) {
			err |= re_hprintf(pf, "%s: (none)\n", k->key);
			continue;
		}
		err |= re_hprintf(pf, "%s:\n", k->key);
		for (ie = k->kids.head; ie; ie = ie->next) {
			const struct dmn_st *item = ie->data;
			bool d = true;

			if (list_isempty(&item->kids)) {
				err |= pad(pf, indent + 2);
				err |= re_hprintf(pf, "- (empty)\n");
				continue;
			}
			err |= print_obj(pf, item, indent + 4, &d, false);
		}
	}

	if (!top)
		return err;

	for (le = obj->kids.head; le && !err; le = le->next) {
		const struct dmn_st *k = le->data;
		struct le *ie;

		if (is_scalar(k))
			continue;

		if (le != obj->kids.head)
			err |= re_hprintf(pf, "\n");
		err |= re_hprintf(pf, "# %s\n", k->key);
		if (k->type == ST_OBJ) {
			err |= print_obj(pf, k, 0, NULL, false);
			continue;
		}
		if (list_isempty(&k->kids))
			err |= re_hprintf(pf, "(none)\n");
		for (ie = k->kids.head; ie; ie = ie->next) {
			const struct dmn_st *item = ie->data;
			bool d = true;

			if (list_isempty(&item->kids)) {
				err |= re_hprintf(pf, "- (empty)\n");
				continue;
			}
			err |= print_obj(pf, item, 2, &d, false);
		}
	}
	return err;
}

int dmn_st_print(struct re_printf *pf, const struct dmn_st *st)
{
	if (!pf || !st)
		return EINVAL;
	if (st->root->err)
		return st->root->err;
	return print_obj(pf, st, 0, NULL, st == st->root);
}

/* ------------------------------------------------------------------ */
/* JSON (RFC 8259) */

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	}
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	}
	else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	}
	else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

int dmn_json_str(struct re_printf *pf, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	int err = re_hprintf(pf, "\"");

	while (i < len) {
		const unsigned char c = s[i];
		const char *esc = NULL;
		char ubuf[8];
		size_t n;

		switch (c) {
		case '"':  esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				re_snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
				esc = ubuf;
			}
			break;
		}

		n = esc ? 1 : utf8_len(s + i, len - i);
		if (!n)
			esc = "\\ufffd";	/* invalid UTF-8 byte */

		if (esc) {
			if (i > run)
				err |= re_hprintf(pf, "%b", str + run,
						  i - run);
			err |= re_hprintf(pf, "%s", esc);
			i++;
			run = i;
			continue;
		}
		i += n;
	}
	if (len > run)
		err |= re_hprintf(pf, "%b", str + run, len - run);
	err |= re_hprintf(pf, "\"");
	return err;
}

int dmn_json_pl(struct re_printf *pf, const struct pl *pl)
{
	return dmn_json_str(pf, pl->p, pl->l);
}

static int json_node(struct re_printf *pf, const struct dmn_st *st)
{
	struct le *le;
	int err = 0;

	switch (st->type) {

	case ST_STR:
		return dmn_json_str(pf, st->s, st->slen);
	case ST_INT:
		return re_hprintf(pf, "%lld", (long long)st->i);
	case ST_BOOL:
		return re_hprintf(pf, "%s", st->b ? "true" : "false");
	case ST_MILLI:
		return print_milli(pf, st->i);
	case ST_DUR:
		if (st->ms % 1000)
			return re_hprintf(pf, "%llu.%03u",
					  (unsigned long long)(st->ms / 1000),
					  (unsigned)(st->ms % 1000));
		return re_hprintf(pf, "%llu",
				  (unsigned long long)(st->ms / 1000));
	case ST_WORDS:
	case ST_LIST:
		err |= re_hprintf(pf, "[");
		for (le = st->kids.head; le; le = le->next) {
			if (le != st->kids.head)
				err |= re_hprintf(pf, ",");
			err |= json_node(pf, le->data);
		}
		return err | re_hprintf(pf, "]");
	case ST_OBJ:
		err |= re_hprintf(pf, "{");
		for (le = st->kids.head; le; le = le->next) {
			const struct dmn_st *k = le->data;

			if (le != st->kids.head)
				err |= re_hprintf(pf, ",");
			err |= dmn_json_str(pf, k->key, strlen(k->key));
			err |= re_hprintf(pf, ":");
			err |= json_node(pf, k);
		}
		return err | re_hprintf(pf, "}");
	}
	return EINVAL;
}

int dmn_st_json(struct re_printf *pf, const struct dmn_st *st)
{
	int err;

	if (!pf || !st)
		return EINVAL;
	if (st->root->err)
		return st->root->err;
	err = json_node(pf, st);
	return err | re_hprintf(pf, "\n");
}

static bool key_in(const char *key, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; key && i < n; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

int dmn_st_pick(struct dmn_st *st, const char *const *keys, size_t n,
		const char **badp)
{
	struct le *le, *next;
	size_t i;

	if (!st || (n && !keys))
		return EINVAL;

	/* every key must name a section or list: say which does not */
	for (i = 0; i < n; i++) {
		bool found = false;

		for (le = st->kids.head; le && !found; le = le->next) {
			const struct dmn_st *k = le->data;

			found = (k->type == ST_OBJ || k->type == ST_LIST) &&
				k->key && !strcmp(k->key, keys[i]);
		}
		if (!found) {
			if (badp)
				*badp = keys[i];
			return ENOENT;
		}
	}

	for (le = st->kids.head; le; le = next) {
		struct dmn_st *k = le->data;

		next = le->next;
		if ((k->type == ST_OBJ || k->type == ST_LIST) &&
		    !key_in(k->key, keys, n))
			mem_deref(k);
	}
	return 0;
}

int dmn_st_sections(struct re_printf *pf, const struct dmn_st *st)
{
	const struct le *le;
	int err = 0;
	bool first = true;

	if (!st)
		return EINVAL;
	for (le = st->kids.head; le && !err; le = le->next) {
		const struct dmn_st *k = le->data;

		if (k->type != ST_OBJ && k->type != ST_LIST)
			continue;
		err = re_hprintf(pf, "%s%s", first ? "" : ", ", k->key);
		first = false;
	}
	return err;
}

int dmn_st_answer(struct re_printf *pf, struct dmn_st *st, int argc,
		  char *argv[], dmn_st_sum_h *sumh, void *arg)
{
	const char *keys[DMN_CTL_ARGS_MAX], *bad = NULL;
	struct dmn_st *sum = NULL;
	bool json = false, all = false;
	size_t n = 0;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else if (argv[i][0] == '-' || n == DMN_CTL_ARGS_MAX)
			goto usage;
		else
			keys[n++] = argv[i];
	}
	if (n && dmn_st_pick(st, keys, n, &bad) == ENOENT) {
		(void)re_hprintf(pf, "error: status: no section %s; there "
				 "are: ", bad);
		(void)dmn_st_sections(pf, st);
		(void)re_hprintf(pf, "\n");
		return DMN_EXIT_USAGE;
	}
	if (json)
		err = dmn_st_json(pf, st);
	else if (all || n || !sumh)
		err = dmn_st_print(pf, st);
	else {
		err = dmn_st_err(st);
		if (!err)
			err = sumh(&sum, st, arg);
		if (!err)
			err = dmn_st_print_brief(pf, sum);
		mem_deref(sum);
	}
	return err ? DMN_EXIT_FAIL : DMN_EXIT_OK;

 usage:
	(void)re_hprintf(pf, "error: status: unknown argument %s (usage: "
			 "status [--json] [--all] [SECTION...])\n", argv[i]);
	return DMN_EXIT_USAGE;
}

/* ------------------------------------------------------------------ */
/* Reading a tree back, and the summary's common lines */

const struct dmn_st *dmn_st_get(const struct dmn_st *obj, const char *path)
{
	const char *dot;
	struct le *le;
	size_t len;

	if (!obj || !path)
		return NULL;
	dot = strchr(path, '.');
	len = dot ? (size_t)(dot - path) : strlen(path);
	if (obj->type != ST_OBJ)
		return NULL;
	for (le = obj->kids.head; le; le = le->next) {
		const struct dmn_st *k = le->data;

		if (k->key && strlen(k->key) == len &&
		    !strncmp(k->key, path, len))
			return dot ? dmn_st_get(k, dot + 1) : k;
	}
	return NULL;
}

const char *dmn_st_gets(const struct dmn_st *obj, const char *path)
{
	const struct dmn_st *k = dmn_st_get(obj, path);

	return k && k->type == ST_STR ? k->s : "";
}

int64_t dmn_st_geti(const struct dmn_st *obj, const char *path)
{
	const struct dmn_st *k = path ? dmn_st_get(obj, path) : obj;

	if (!k)
		return 0;
	switch (k->type) {

	case ST_INT:  return k->i;
	case ST_BOOL: return k->b;
	case ST_DUR:  return (int64_t)k->ms;
	default:      return 0;
	}
}

const struct dmn_st *dmn_st_next(const struct dmn_st *obj,
				 const struct dmn_st *item)
{
	const struct le *le;

	if (!obj || (obj->type != ST_LIST && obj->type != ST_OBJ))
		return NULL;
	le = item ? item->le.next : obj->kids.head;
	return le ? le->data : NULL;
}

const char *dmn_st_key(const struct dmn_st *st)
{
	return st ? st->key : NULL;
}

bool dmn_st_isint(const struct dmn_st *st)
{
	return st && st->type == ST_INT;
}

int dmn_st_pvalue(struct re_printf *pf, void *arg)
{
	const struct dmn_st *st = arg;

	return st ? print_value(pf, st) : 0;
}

int dmn_st_strf(struct dmn_st *obj, const char *key, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int err;

	if (!fmt)
		return EINVAL;
	va_start(ap, fmt);
	err = re_vsdprintf(&s, fmt, ap);
	va_end(ap);
	if (err) {
		fail(obj, err);
		return err;
	}
	err = dmn_st_str(obj, key, s);
	mem_deref(s);
	return err;
}

int dmn_st_print_brief(struct re_printf *pf, const struct dmn_st *st)
{
	if (!pf || !st)
		return EINVAL;
	if (st->root->err)
		return st->root->err;
	return print_obj(pf, st, 0, NULL, false);
}

enum { SUM_TOP = 3 };

void dmn_sum_refused(struct dmn_st *sum, const char *key,
		     const char *const *names, const int64_t *counts,
		     size_t n)
{
	size_t top[SUM_TOP], ntop = 0, nz = 0, i, j;
	int64_t total = 0;
	char buf[256];
	size_t len;

	for (i = 0; i < n; i++) {
		if (counts[i] <= 0)
			continue;
		total += counts[i];
		nz++;
		/* insertion into the largest SUM_TOP, first seen first */
		for (j = ntop; j > 0 && counts[top[j - 1]] < counts[i]; j--)
			if (j < SUM_TOP)
				top[j] = top[j - 1];
		if (j < SUM_TOP) {
			top[j] = i;
			if (ntop < SUM_TOP)
				ntop++;
		}
	}
	if (!total) {
		dmn_st_str(sum, key, "none");
		return;
	}
	len = (size_t)re_snprintf(buf, sizeof(buf), "%lld:",
				  (long long)total);
	for (i = 0; i < ntop && len < sizeof(buf); i++)
		len += (size_t)re_snprintf(buf + len, sizeof(buf) - len,
					   "%s %s %lld", i ? "," : "",
					   names[top[i]],
					   (long long)counts[top[i]]);
	if (nz > ntop && len < sizeof(buf))
		(void)re_snprintf(buf + len, sizeof(buf) - len,
				  " (+%zu more reason%s)", nz - ntop,
				  nz - ntop > 1 ? "s" : "");
	dmn_st_str(sum, key, buf);
}

void dmn_sum_where(struct dmn_st *sum, const struct dmn_st *st,
		   const char *metrics)
{
	const struct dmn_st *tr = dmn_st_get(st, "trace");
	char buf[320];

	dmn_st_strf(sum, "log", "%s, level %s",
		    dmn_log_dest(buf, sizeof(buf)),
		    dmn_log_level_name(dmn_log_level_get()));
	if (!dmn_st_geti(tr, "enabled"))
		dmn_st_str(sum, "trace", "off");
	else if (strcmp(dmn_st_gets(tr, "error"), "none"))
		dmn_st_strf(sum, "trace", "%s: %s", dmn_st_gets(tr, "file"),
			    dmn_st_gets(tr, "error"));
	else
		dmn_st_strf(sum, "trace", "%s (%lld records)",
			    dmn_st_gets(tr, "file"),
			    (long long)dmn_st_geti(tr, "records"));
	if (metrics && metrics[0])
		dmn_st_strf(sum, "metrics", "http://%s/metrics", metrics);
	else
		dmn_st_str(sum, "metrics", "off");
}

static int sections_h(struct re_printf *pf, void *arg)
{
	return dmn_st_sections(pf, arg);
}

void dmn_sum_more(struct dmn_st *sum, const struct dmn_st *st)
{
	dmn_st_strf(sum, "more", "status --all; status SECTION: %H",
		    sections_h, (void *)st);
}

/* ------------------------------------------------------------------ */
/* Prometheus text exposition of the same tree */

struct msample {
	char *name;
	char *labels;		/* "" or `k="v",k="v"` */
	int64_t val;		/* value * 10^scale */
	unsigned scale;		/* decimals: 0, 3 (ms), 6 (us) */
	size_t seq;		/* tree order, to keep it within a name */
};

struct mset {
	struct msample *v;
	size_t n, cap;
	int err;
};

static void msample_free(struct mset *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		mem_deref(ms->v[i].name);
		mem_deref(ms->v[i].labels);
	}
	mem_deref(ms->v);
}

/* A metric or label name: [a-zA-Z0-9_] only. */
static void name_put(struct mbuf *mb, const char *s)
{
	for (; *s; s++) {
		const char c = *s;

		(void)mbuf_write_u8(mb, (uint8_t)((c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ?
			c : '_'));
	}
}

static char *mb_str(struct mbuf *mb)
{
	char *s = NULL;

	mb->pos = 0;
	if (mbuf_strdup(mb, &s, mb->end))
		return NULL;
	return s;
}

static void m_add(struct mset *ms, const char *name, const char *labels,
		  int64_t val, unsigned scale)
{
	struct msample *sm;

	if (ms->err)
		return;
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 64;
		struct msample *v = ms->v ? mem_realloc(ms->v,
							cap * sizeof(*v)) :
			mem_alloc(cap * sizeof(*v), NULL);

		if (!v) {
			ms->err = ENOMEM;
			return;
		}
		ms->v = v;
		ms->cap = cap;
	}
	sm = &ms->v[ms->n];
	memset(sm, 0, sizeof(*sm));
	if (str_dup(&sm->name, name) || str_dup(&sm->labels, labels)) {
		mem_deref(sm->name);
		mem_deref(sm->labels);
		ms->err = ENOMEM;
		return;
	}
	sm->val = val;
	sm->scale = scale;
	sm->seq = ms->n++;
}

/* labels + `key="value"`, the value escaped as the format asks. */
static char *label_add(const char *labels, const char *key, const char *val,
		       size_t vlen)
{
	struct mbuf *mb = mbuf_alloc(128);
	char *s;
	size_t i;

	if (!mb)
		return NULL;
	(void)mbuf_write_str(mb, labels);
	if (labels[0])
		(void)mbuf_write_u8(mb, ',');
	name_put(mb, key);
	(void)mbuf_write_str(mb, "=\"");
	for (i = 0; i < vlen; i++) {
		const char c = val[i];

		if (c == '\\' || c == '"')
			(void)mbuf_printf(mb, "\\%c", c);
		else if (c == '\n')
			(void)mbuf_write_str(mb, "\\n");
		else
			(void)mbuf_write_u8(mb, (uint8_t)c);
	}
	(void)mbuf_write_u8(mb, '"');
	s = mb_str(mb);
	mem_deref(mb);
	return s;
}

/* What tells one list item from the others, as label names. */
static bool id_key(const char *key)
{
	static const char *const keys[] = {"name", "transport", "address",
					   "aor", "presentity", "community",
					   "user", "uri", "gateway"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* "communities" -> "community", "gateways" -> "gateway". */
static void singular(char *buf, size_t sz, const char *list)
{
	size_t n = strlen(list);

	if (n > 3 && !strcmp(list + n - 3, "ies"))
		re_snprintf(buf, sz, "%b%s", list, n - 3, "y");
	else if (n > 1 && list[n - 1] == 's')
		re_snprintf(buf, sz, "%b", list, n - 1);
	else
		re_snprintf(buf, sz, "%s", list);
}

/*
 * Base units, as Prometheus names them: a key in days, seconds ("_s"),
 * milliseconds ("_ms") or microseconds ("_us") becomes "..._seconds"
 * with its value scaled; a duration gets "_seconds".  *multp and
 * *scalep say how to turn the status value into the metric's.
 */
static void unit_name(struct mbuf *mb, const struct dmn_st *k,
		      int64_t *multp, unsigned *scalep)
{
	const char *key = k->key;
	const size_t n = strlen(key);
	const char *d = strstr(key, "days");
	char buf[128];

	*multp = 1;
	*scalep = k->type == ST_DUR ? 3 : 0;
	if (k->type == ST_INT && d) {
		re_snprintf(buf, sizeof(buf), "%b%s%s", key, (size_t)(d - key),
			    "seconds", d + 4);
		name_put(mb, buf);
		*multp = 86400;
		return;
	}
	if (k->type == ST_INT && n > 3 && (!strcmp(key + n - 3, "_us") ||
					   !strcmp(key + n - 3, "_ms"))) {
		re_snprintf(buf, sizeof(buf), "%b_seconds", key, n - 3);
		name_put(mb, buf);
		*scalep = key[n - 2] == 'u' ? 6 : 3;
		return;
	}
	if (k->type == ST_INT && n > 2 && !strcmp(key + n - 2, "_s")) {
		re_snprintf(buf, sizeof(buf), "%b_seconds", key, n - 2);
		name_put(mb, buf);
		return;
	}
	name_put(mb, key);
	if (k->type == ST_DUR && (n < 8 || strcmp(key + n - 8, "_seconds")))
		(void)mbuf_write_str(mb, "_seconds");
}

static void walk(struct mset *ms, const struct dmn_st *obj,
		 const char *path, const char *labels, const char *keylabel);

static void walk_item(struct mset *ms, const struct dmn_st *item,
		      const char *path, const char *labels,
		      const char *list, size_t idx)
{
	char *l = NULL, *n;
	char one[64];
	const struct le *le;
	bool any = false;

	if (str_dup(&l, labels)) {
		ms->err = ENOMEM;
		return;
	}
	for (le = item->kids.head; le; le = le->next) {
		const struct dmn_st *k = le->data;

		if (k->type != ST_STR || !id_key(k->key))
			continue;
		if (!strcmp(k->key, "name"))
			singular(one, sizeof(one), list);
		n = label_add(l, !strcmp(k->key, "name") ? one : k->key,
			      k->s, k->slen);
		mem_deref(l);
		l = n;
		if (!l) {
			ms->err = ENOMEM;
			return;
		}
		any = true;
	}
	if (!any) {
		re_snprintf(one, sizeof(one), "%zu", idx);
		n = label_add(l, "index", one, strlen(one));
		mem_deref(l);
		l = n;
	}
	if (!l) {
		ms->err = ENOMEM;
		return;
	}
	walk(ms, item, path, l, NULL);
	mem_deref(l);
}

static void walk(struct mset *ms, const struct dmn_st *obj,
		 const char *path, const char *labels, const char *keylabel)
{
	const struct le *le;

	for (le = obj->kids.head; le && !ms->err; le = le->next) {
		const struct dmn_st *k = le->data;
		struct mbuf *mb;
		char *name, *l;
		int64_t v, mult = 1;
		unsigned scale = 0;

		if (k->type == ST_STR || k->type == ST_WORDS)
			continue;
		mb = mbuf_alloc(128);
		if (!mb) {
			ms->err = ENOMEM;
			return;
		}
		(void)mbuf_write_str(mb, path);
		if (!keylabel && is_scalar(k)) {
			(void)mbuf_write_u8(mb, '_');
			unit_name(mb, k, &mult, &scale);
		}
		else if (!keylabel) {
			(void)mbuf_write_u8(mb, '_');
			name_put(mb, k->key);
		}
		else if (k->type == ST_DUR) {
			scale = 3;
		}
		name = mb_str(mb);
		mem_deref(mb);
		if (!name) {
			ms->err = ENOMEM;
			return;
		}

		switch (k->type) {

		case ST_MILLI:
			scale = 3;
			/* fall through */
		case ST_INT:
		case ST_BOOL:
		case ST_DUR:
			v = k->type == ST_INT ? k->i * mult :
				k->type == ST_MILLI ? k->i :
				k->type == ST_BOOL ? (k->b ? 1 : 0) :
				(int64_t)k->ms;
			if (keylabel) {
				l = label_add(labels, keylabel, k->key,
					      strlen(k->key));
				if (l)
					m_add(ms, name, l, v, scale);
				else
					ms->err = ENOMEM;
				mem_deref(l);
			}
			else {
				m_add(ms, name, labels, v, scale);
			}
			break;
		case ST_OBJ:
			/* refusals are one metric, by reason */
			walk(ms, k, name, labels, !strcmp(k->key, "rejections") ?
			     "reason" : NULL);
			break;
		case ST_LIST: {
			const struct le *ie;
			size_t i = 0;

			for (ie = k->kids.head; ie && !ms->err; ie = ie->next)
				walk_item(ms, ie->data, name, labels, k->key,
					  i++);
			break;
		}
		default:
			break;
		}
		mem_deref(name);
	}
}

static int sample_cmp(const void *a, const void *b)
{
	const struct msample *x = a, *y = b;
	const int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dmn_st_metrics(struct re_printf *pf, const struct dmn_st *st,
		   const char *prefix)
{
	struct mset ms = {NULL, 0, 0, 0};
	char pfx[64];
	size_t i;
	int err = 0;

	if (!pf || !st || !prefix)
		return EINVAL;
	if (st->root->err)
		return st->root->err;

	re_snprintf(pfx, sizeof(pfx), "%s", prefix);
	for (i = 0; pfx[i]; i++)
		if (!((pfx[i] >= 'a' && pfx[i] <= 'z') ||
		      (pfx[i] >= '0' && pfx[i] <= '9')))
			pfx[i] = '_';
	walk(&ms, st, pfx, "", NULL);
	if (ms.err) {
		msample_free(&ms);
		return ms.err;
	}
	if (ms.n)
		qsort(ms.v, ms.n, sizeof(*ms.v), sample_cmp);
	for (i = 0; i < ms.n && !err; i++) {
		const struct msample *sm = &ms.v[i];

		if (!i || strcmp(sm->name, ms.v[i - 1].name))
			err |= re_hprintf(pf, "# HELP %s %s status: %s\n"
					  "# TYPE %s gauge\n", sm->name,
					  prefix, sm->name + strlen(pfx) + 1,
					  sm->name);
		err |= re_hprintf(pf, "%s%s%s%s ", sm->name,
				  sm->labels[0] ? "{" : "", sm->labels,
				  sm->labels[0] ? "}" : "");
		if (sm->scale) {
			const int64_t div = sm->scale == 6 ? 1000000 : 1000;
			const int64_t a = sm->val < 0 ? -sm->val : sm->val;

			err |= re_hprintf(pf, sm->scale == 6 ? "%s%lld.%06lld\n" :
					  "%s%lld.%03lld\n",
					  sm->val < 0 ? "-" : "",
					  (long long)(a / div),
					  (long long)(a % div));
		}
		else {
			err |= re_hprintf(pf, "%lld\n", (long long)sm->val);
		}
	}
	msample_free(&ms);
	return err;
}
