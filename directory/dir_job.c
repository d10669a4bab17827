/*
 * dir_job.c -- one lookup, run on the lookup thread: ask the backend,
 * then read its entries the same way whichever backend answered.
 *
 * This is where "works in one direction only" is made impossible to
 * miss: an entry found without the asked attribute answers ENODATA
 * with the user's name and the attribute's, and two entries for one key
 * answer ENOTUNIQ naming both, never the first of them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "directory/dir_int.h"

enum {
	PRIVACY_DOMAINS_MAX = 64,
	HA1_HEX_LEN = 32,
};

#define PRIVACY_PREFIX "federation-privacy="

void dir_ents_free(struct dir_ents *e)
{
	size_t i, a, k;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].dn);
		for (a = 0; a < DIR_A_N; a++) {
			for (k = 0; k < e->v[i].a[a].n; k++)
				free(e->v[i].a[a].v[k]);
			free(e->v[i].a[a].v);
		}
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Append a copy of (p, len); values beyond the bounds are dropped. */
int dir_vals_add(struct dir_vals *vs, const char *p, size_t len)
{
	char **nv;
	char *s;

	if (vs->n >= DIR_VALUES_MAX || len > DIR_VALUE_MAX)
		return EMSGSIZE;
	s = malloc(len + 1);
	if (!s)
		return ENOMEM;
	memcpy(s, p, len);
	s[len] = '\0';
	nv = realloc(vs->v, (vs->n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return ENOMEM;
	}
	nv[vs->n++] = s;
	vs->v = nv;
	return 0;
}

void dir_ans_free(struct dir_ans *a)
{
	size_t i;

	if (!a)
		return;
	if (a->value) {
		/* may be a secret: do not leave it in freed memory */
		memset(a->value, 0, strlen(a->value));
		free(a->value);
	}
	for (i = 0; i < a->nlist; i++)
		free(a->list[i]);
	free(a->list);
	free(a);
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_add(char ***vp, size_t *np, const char *p, size_t len)
{
	struct dir_vals vs = {*vp, *np};
	int err;

	err = dir_vals_add(&vs, p, len);
	*vp = vs.v;
	*np = vs.n;
	return err;
}

/*
 * Exact or "*." wildcard (one or more labels), case-insensitive;
 * "*.acme.test" does not match "acme.test" itself.
 */
bool dir_domain_match(const char *pattern, const char *domain)
{
	size_t pl, dl;

	if (!pattern || !domain)
		return false;
	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, domain) == 0;

	pl = strlen(pattern + 1);  /* ".acme.test" */
	dl = strlen(domain);
	if (dl <= pl)
		return false;
	return strcasecmp(domain + dl - pl, pattern + 1) == 0;
}

/*
 * One value of the privacy attribute: "all", "none" or
 * "domains:a.test,*.b.test", optionally after "federation-privacy="
 * (so that a general attribute such as description can carry it beside
 * other text).  ENOENT: not a privacy value at all; EBADMSG: it says
 * it is one but cannot be read.
 */
int dir_privacy_parse(const char *val, enum cfg_privacy *privp,
		      char ***listp, size_t *nlistp)
{
	const bool prefixed = !strncasecmp(val, PRIVACY_PREFIX,
					   strlen(PRIVACY_PREFIX));
	const char *p = prefixed ? val + strlen(PRIVACY_PREFIX) : val;
	char **list = NULL;
	size_t n = 0;
	int err = 0;

	while (*p == ' ')
		++p;

	if (!strcasecmp(p, "all")) {
		*privp = CFG_PRIVACY_ALL;
	}
	else if (!strcasecmp(p, "none")) {
		*privp = CFG_PRIVACY_NONE;
	}
	else if (!strncasecmp(p, "domains", 7) &&
		 (p[7] == ':' || p[7] == '=' || p[7] == ' ')) {
		p += 8;
		for (;;) {
			size_t len;

			while (*p == ' ' || *p == ',')
				++p;
			if (!*p)
				break;
			len = strcspn(p, " ,");
			if (len > CFG_DOMAIN_MAX + 2 ||
			    n >= PRIVACY_DOMAINS_MAX) {
				err = EBADMSG;
				goto out;
			}
			err = strv_add(&list, &n, p, len);
			if (err)
				goto out;
			p += len;
		}
		*privp = CFG_PRIVACY_DOMAINS;
	}
	else {
		err = prefixed ? EBADMSG : ENOENT;
		goto out;
	}

	*listp = list;
	*nlistp = n;
	list = NULL;
	n = 0;
 out:
	strv_free(list, n);
	return err;
}

/*
 * A password attribute value as SIP digest can use it: cleartext (no
 * scheme or {CLEARTEXT}) or "{HA1}" followed by 32 hex digits.  Other
 * RFC 3112 schemes ({SSHA}, {CRYPT}, ...) are one-way hashes that
 * digest authentication cannot check: EPROTONOSUPPORT.
 */
int dir_secret_parse(const char *val, enum dir_secret *kindp,
		     const char **startp)
{
	size_t i;

	if (!strncasecmp(val, "{HA1}", 5)) {
		const char *h = val + 5;

		for (i = 0; i < HA1_HEX_LEN; i++)
			if (!isxdigit((unsigned char)h[i]))
				return EBADMSG;
		if (h[HA1_HEX_LEN])
			return EBADMSG;
		*kindp = DIR_SECRET_HA1;
		*startp = h;
		return 0;
	}
	if (!strncasecmp(val, "{CLEARTEXT}", 11)) {
		*kindp = DIR_SECRET_PLAIN;
		*startp = val + 11;
		return 0;
	}
	if (val[0] == '{' && strchr(val, '}'))
		return EPROTONOSUPPORT;

	*kindp = DIR_SECRET_PLAIN;
	*startp = val;
	return 0;
}

static void why_set(struct dir_ans *a, int err, bool warn,
		    const char *fmt, ...)
{
	va_list ap;

	a->err = err;
	a->warn = warn;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool backend_err(int err)
{
	return err && err != ENOENT;
}

/*
 * Find the one entry for a key.  0 with *entp set, or the answer is
 * filled with ENOENT / ENOTUNIQ / the backend's error.
 */
static int find_one(struct dir_be *be, struct dir_ans *a, enum dir_query q,
		    const char *key, struct dir_ents *ents)
{
	const char *what;
	char why[DIR_REASON_MAX] = "";
	int err;

	what = q == DIR_Q_BY_EMAIL ? be->names->attr[DIR_A_EMAIL] :
	       q == DIR_Q_GROUP ? "group cn" :
	       q == DIR_Q_DN ? "dn" : be->names->attr[DIR_A_ID];

	err = be->ops->find(be, q, key, 2, ents, why, sizeof(why));
	if (err) {
		why_set(a, err, backend_err(err), "%s", why);
		return err;
	}
	a->up = true;

	if (ents->n == 0) {
		why_set(a, ENOENT, false, "no entry with %s=%s", what, key);
		return ENOENT;
	}
	if (ents->n > 1) {
		why_set(a, ENOTUNIQ, true,
			"%s%zu entries have %s=%s (%s, %s): refusing to guess",
			ents->more ? "more than " : "", ents->n, what, key,
			ents->v[0].dn, ents->v[1].dn);
		return ENOTUNIQ;
	}
	return 0;
}

static int set_value(struct dir_ans *a, const char *v)
{
	a->value = strdup(v);
	if (!a->value) {
		why_set(a, ENOMEM, true, "out of memory");
		return ENOMEM;
	}
	return 0;
}

static void run_email_of(struct dir_be *be, struct dir_ans *a,
			 const char *key)
{
	const char *attr = be->names->attr[DIR_A_EMAIL];
	struct dir_ents ents = {0};
	const struct dir_vals *vs;

	if (find_one(be, a, DIR_Q_BY_ID, key, &ents))
		goto out;
	vs = &ents.v[0].a[DIR_A_EMAIL];
	if (!vs->n) {
		why_set(a, ENODATA, true,
			"user %s (%s) has no %s attribute: no email address "
			"to federate with", key, ents.v[0].dn, attr);
		goto out;
	}
	set_value(a, vs->v[0]);
 out:
	dir_ents_free(&ents);
}

static void run_id_of(struct dir_be *be, struct dir_ans *a, const char *key)
{
	const char *attr = be->names->attr[DIR_A_ID];
	struct dir_ents ents = {0};
	const struct dir_vals *vs;

	if (find_one(be, a, DIR_Q_BY_EMAIL, key, &ents))
		goto out;
	vs = &ents.v[0].a[DIR_A_ID];
	if (!vs->n) {
		why_set(a, ENODATA, true,
			"entry %s with %s=%s has no %s attribute: no local ID",
			ents.v[0].dn, be->names->attr[DIR_A_EMAIL], key, attr);
		goto out;
	}
	set_value(a, vs->v[0]);
 out:
	dir_ents_free(&ents);
}

static void run_secret_of(struct dir_be *be, struct dir_ans *a,
			  const char *key)
{
	const char *attr = be->names->attr[DIR_A_PASSWORD];
	struct dir_ents ents = {0};
	const struct dir_vals *vs;
	const char *start;
	int err;

	if (find_one(be, a, DIR_Q_BY_ID, key, &ents))
		goto out;
	vs = &ents.v[0].a[DIR_A_PASSWORD];
	if (!vs->n) {
		why_set(a, ENODATA, true,
			"user %s (%s) has no %s attribute (or the bind DN may "
			"not read it): cannot authenticate", key,
			ents.v[0].dn, attr);
		goto out;
	}
	err = dir_secret_parse(vs->v[0], &a->secret, &start);
	if (err) {
		why_set(a, err, true, "user %s: %s holds a %s that SIP digest "
			"cannot use", key, attr,
			err == EPROTONOSUPPORT ? "one-way hash" :
			"malformed {HA1} value");
		goto out;
	}
	set_value(a, start);
 out:
	dir_ents_free(&ents);
}

static void run_privacy_of(struct dir_be *be, struct dir_ans *a,
			   const char *key, enum cfg_privacy def)
{
	const char *attr = be->names->attr[DIR_A_PRIVACY];
	struct dir_ents ents = {0};
	const struct dir_vals *vs;
	size_t i;

	a->privacy = def;
	if (find_one(be, a, DIR_Q_BY_ID, key, &ents)) {
		a->privacy = CFG_PRIVACY_NONE;
		goto out;
	}
	vs = &ents.v[0].a[DIR_A_PRIVACY];
	for (i = 0; attr && i < vs->n; i++) {
		int err = dir_privacy_parse(vs->v[i], &a->privacy, &a->list,
					    &a->nlist);
		if (err == ENOENT)
			continue;
		if (err) {
			a->privacy = CFG_PRIVACY_NONE;
			why_set(a, err, true, "user %s: cannot read %s value "
				"\"%s\": treated as none", key, attr,
				vs->v[i]);
		}
		break;
	}
 out:
	dir_ents_free(&ents);
}

static void run_members_of(struct dir_be *be, struct dir_ans *a,
			   const char *key)
{
	struct dir_ents ents = {0};
	const struct dir_vals *vs;
	size_t i, skipped = 0;

	/* a group named by its DN ("cn=x,ou=groups,..."), or by its cn */
	if (find_one(be, a, strchr(key, '=') ? DIR_Q_DN : DIR_Q_GROUP, key,
		     &ents))
		goto out;
	vs = &ents.v[0].a[DIR_A_MEMBER];
	for (i = 0; i < vs->n; i++) {
		struct dir_ents m = {0};
		char why[DIR_REASON_MAX] = "";
		int err;

		if (a->nlist >= DIR_MEMBERS_MAX) {
			skipped += vs->n - i;
			break;
		}
		err = be->ops->find(be, DIR_Q_DN, vs->v[i], 1, &m, why,
				    sizeof(why));
		if (backend_err(err)) {
			why_set(a, err, true, "%s", why);
			dir_ents_free(&m);
			goto out;
		}
		if (!err && m.n == 1 && m.v[0].a[DIR_A_ID].n) {
			const char *id = m.v[0].a[DIR_A_ID].v[0];

			err = strv_add(&a->list, &a->nlist, id, strlen(id));
		}
		else {
			++skipped;
			err = 0;
		}
		dir_ents_free(&m);
		if (err) {
			why_set(a, err, true, "out of memory");
			goto out;
		}
	}
	if (skipped)
		snprintf(a->reason, sizeof(a->reason),
			 "%zu members of %s skipped (missing, without %s, or "
			 "over %u)", skipped, key, be->names->attr[DIR_A_ID],
			 (unsigned)DIR_MEMBERS_MAX);
 out:
	dir_ents_free(&ents);
}

void dir_job_run(struct dir_be *be, const struct dir_job *job,
		 struct dir_ans *a, enum cfg_privacy privacy_default)
{
	uint64_t t0;

	a->seq = job->seq;
	a->kind = job->kind;

	t0 = now_us();
	switch (job->kind) {

	case DIR_EMAIL_OF:
		run_email_of(be, a, job->key);
		break;
	case DIR_ID_OF:
		run_id_of(be, a, job->key);
		break;
	case DIR_SECRET_OF:
		run_secret_of(be, a, job->key);
		break;
	case DIR_PRIVACY_OF:
		run_privacy_of(be, a, job->key, privacy_default);
		break;
	case DIR_MEMBERS_OF:
		run_members_of(be, a, job->key);
		break;
	default:
		why_set(a, EINVAL, false, "unknown lookup kind");
		break;
	}
	a->usec = now_us() - t0;
	if (!a->err && a->kind != DIR_MEMBERS_OF)
		a->reason[0] = '\0';
	be->ops->where(be, a->where, sizeof(a->where));
}
