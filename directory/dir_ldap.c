/*
 * dir_ldap.c -- the LDAP backend, run on the lookup thread only.
 *
 * Synchronous libldap calls, each bounded: LDAP_OPT_NETWORK_TIMEOUT for
 * the TCP connect, LDAP_OPT_TIMEOUT for StartTLS and bind, and the
 * search's own time limit; all from cfg->timeout_ms.  One connection,
 * made lazily: the URLs are tried in order, starting with the one that
 * last worked, and the first that connects, starts TLS (ldaps:// or
 * StartTLS, certificate checked against the configured CA) and binds is
 * kept.  A search that finds the connection gone (the server restarted)
 * reconnects once and repeats; when every URL has failed, lookups fail
 * at once with EHOSTDOWN for DIR_DOWN_MS instead of waiting on dead
 * servers again for each queued lookup.
 *
 * Filter values are escaped (dir_filter.c); answers are bounded by the
 * search size limit and by dir_vals_add()'s value caps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "directory/dir_int.h"

struct ldap_be {
	struct dir_be be;
	char **urls;
	size_t nurls;
	size_t cur;               /* URL of the live (or last good) link */
	LDAP *ld;
	bool starttls;
	char *bind_dn;
	char *password;
	char *ca_file;
	unsigned timeout_ms;
	uint64_t down_until;      /* ms, monotonic */
	char down_why[DIR_REASON_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int map_rc(int rc)
{
	switch (rc) {

	case LDAP_SUCCESS:
		return 0;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return EHOSTDOWN;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return ETIMEDOUT;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return EACCES;
	case LDAP_SIZELIMIT_EXCEEDED:
		return EMSGSIZE;
	case LDAP_NO_SUCH_OBJECT:
		return ENOENT;
	default:
		return EIO;
	}
}

/* The connection is unusable after these: drop it. */
static bool link_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
	       rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE;
}

static void drop_link(struct ldap_be *lb)
{
	if (lb->ld)
		ldap_unbind_ext_s(lb->ld, NULL, NULL);
	lb->ld = NULL;
}

static bool is_ldaps(const char *url)
{
	return !strncasecmp(url, "ldaps://", 8);
}

/* Set up, start TLS on and bind one URL.  LDAP result code. */
static int link_one(struct ldap_be *lb, const char *url, LDAP **ldp,
		    const char **stepp)
{
	const int version = LDAP_VERSION3;
	const int demand = LDAP_OPT_X_TLS_DEMAND;
	const int zero = 0;
	struct timeval tv;
	struct berval cred;
	LDAP *ld = NULL;
	int rc;

	tv.tv_sec = lb->timeout_ms / 1000;
	tv.tv_usec = (lb->timeout_ms % 1000) * 1000;

	*stepp = "initialize";
	rc = ldap_initialize(&ld, url);
	if (rc != LDAP_SUCCESS)
		goto out;

	*stepp = "set options";
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv)) {
		rc = LDAP_LOCAL_ERROR;
		goto out;
	}

	if (lb->starttls || is_ldaps(url)) {
		*stepp = "TLS setup";
		if ((lb->ca_file && ldap_set_option(ld,
						    LDAP_OPT_X_TLS_CACERTFILE,
						    lb->ca_file)) ||
		    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) ||
		    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero)) {
			rc = LDAP_LOCAL_ERROR;
			goto out;
		}
	}
	if (lb->starttls && !is_ldaps(url)) {
		*stepp = "StartTLS";
		rc = ldap_start_tls_s(ld, NULL, NULL);
		if (rc != LDAP_SUCCESS)
			goto out;
	}

	*stepp = "bind";
	cred.bv_val = lb->password ? lb->password : (char *)"";
	cred.bv_len = strlen(cred.bv_val);
	rc = ldap_sasl_bind_s(ld, lb->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
			      NULL, NULL);
 out:
	if (rc == LDAP_SUCCESS)
		*ldp = ld;
	else if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

/* Connect to the first URL that works, starting at the current one. */
static int link_up(struct ldap_be *lb, char *why, size_t whysz)
{
	int rc = LDAP_SERVER_DOWN;
	size_t k;

	if (lb->ld)
		return 0;

	if (lb->down_until && now_ms() < lb->down_until) {
		snprintf(why, whysz, "%s", lb->down_why);
		return EHOSTDOWN;
	}

	for (k = 0; k < lb->nurls; k++) {
		const size_t i = (lb->cur + k) % lb->nurls;
		const char *step = "";

		rc = link_one(lb, lb->urls[i], &lb->ld, &step);
		if (rc == LDAP_SUCCESS) {
			lb->cur = i;
			lb->down_until = 0;
			return 0;
		}
		snprintf(lb->down_why, sizeof(lb->down_why),
			 "LDAP %s: %s failed: %s", lb->urls[i], step,
			 ldap_err2string(rc));
	}

	/* every URL failed: say the last reason, and rest a moment */
	if (lb->nurls > 1) {
		char tmp[DIR_REASON_MAX + 64];

		snprintf(tmp, sizeof(tmp), "all %zu LDAP servers failed; "
			 "last: %s", lb->nurls, lb->down_why);
		memcpy(lb->down_why, tmp, sizeof(lb->down_why) - 1);
		lb->down_why[sizeof(lb->down_why) - 1] = '\0';
	}
	snprintf(why, whysz, "%s", lb->down_why);
	lb->down_until = now_ms() + DIR_DOWN_MS;

	return map_rc(rc) ? map_rc(rc) : EHOSTDOWN;
}

static int collect(struct ldap_be *lb, LDAPMessage *res,
		   struct dir_ents *out, size_t limit)
{
	const struct dir_names *nm = lb->be.names;
	LDAPMessage *e;
	int err = 0;

	for (e = ldap_first_entry(lb->ld, res); e;
	     e = ldap_next_entry(lb->ld, e)) {
		struct dir_ent *de;
		char *dn;
		size_t s;

		if (out->n >= limit) {
			out->more = true;
			break;
		}
		de = &out->v[out->n++];
		dn = ldap_get_dn(lb->ld, e);
		de->dn = strdup(dn ? dn : "");
		ldap_memfree(dn);
		if (!de->dn)
			return ENOMEM;

		for (s = 0; s < DIR_A_N; s++) {
			struct berval **vals;
			size_t k;

			if (!nm->attr[s])
				continue;
			vals = ldap_get_values_len(lb->ld, e, nm->attr[s]);
			for (k = 0; vals && vals[k]; k++) {
				const struct berval *bv = vals[k];

				/* a value with NUL bytes is no ID */
				if (memchr(bv->bv_val, '\0', bv->bv_len))
					continue;
				err = dir_vals_add(&de->a[s], bv->bv_val,
						   bv->bv_len);
				if (err == ENOMEM)
					break;
				err = 0;
			}
			ldap_value_free_len(vals);
			if (err)
				return err;
		}
	}
	return 0;
}

static int search_once(struct ldap_be *lb, enum dir_query q,
		       const char *value, size_t limit, struct dir_ents *out,
		       int *rcp, char *why, size_t whysz)
{
	const struct dir_names *nm = lb->be.names;
	char filter[DIR_FILTER_MAX];
	char *attrs[DIR_A_N + 1];
	const char *base = nm->base ? nm->base : "";
	int scope;
	struct timeval tv;
	LDAPMessage *res = NULL;
	size_t s, na = 0;
	int rc, err;

	switch (q) {

	case DIR_Q_BY_ID:
	case DIR_Q_BY_EMAIL:
		err = dir_filter_build(filter, sizeof(filter),
				       nm->attr[q == DIR_Q_BY_ID ? DIR_A_ID :
						DIR_A_EMAIL], value,
				       nm->filter);
		break;
	case DIR_Q_GROUP:
		err = dir_filter_build(filter, sizeof(filter), "cn", value,
				       "(objectClass=groupOfNames)");
		break;
	default:
		snprintf(filter, sizeof(filter), "(objectClass=*)");
		err = 0;
		break;
	}
	if (err) {
		snprintf(why, whysz, "cannot build an LDAP filter for this "
			 "key");
		return err;
	}

	scope = nm->scope == CFG_SCOPE_BASE ? LDAP_SCOPE_BASE :
		nm->scope == CFG_SCOPE_ONE ? LDAP_SCOPE_ONELEVEL :
		LDAP_SCOPE_SUBTREE;
	if (q == DIR_Q_DN) {
		base = value;
		scope = LDAP_SCOPE_BASE;
	}

	for (s = 0; s < DIR_A_N; s++)
		if (nm->attr[s])
			attrs[na++] = (char *)nm->attr[s];
	attrs[na] = NULL;

	tv.tv_sec = lb->timeout_ms / 1000;
	tv.tv_usec = (lb->timeout_ms % 1000) * 1000;

	rc = ldap_search_ext_s(lb->ld, base, scope, filter, attrs, 0, NULL,
			       NULL, &tv, (int)limit, &res);
	*rcp = rc;

	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED) {
		out->v = calloc(limit, sizeof(*out->v));
		err = out->v ? collect(lb, res, out, limit) : ENOMEM;
		if (rc == LDAP_SIZELIMIT_EXCEEDED)
			out->more = true;
	}
	else if (rc == LDAP_NO_SUCH_OBJECT && q == DIR_Q_DN) {
		err = 0;  /* a member DN that is gone: no entry */
	}
	else {
		err = map_rc(rc);
		if (rc == LDAP_NO_SUCH_OBJECT)
			snprintf(why, whysz, "LDAP %s: search base \"%s\" "
				 "does not exist", lb->urls[lb->cur], base);
		else
			snprintf(why, whysz, "LDAP %s: search failed: %s",
				 lb->urls[lb->cur], ldap_err2string(rc));
		if (rc == LDAP_NO_SUCH_OBJECT)
			err = EIO;
	}
	ldap_msgfree(res);
	return err;
}

static int lbe_find(struct dir_be *be, enum dir_query q, const char *value,
		     size_t limit, struct dir_ents *out, char *why,
		     size_t whysz)
{
	struct ldap_be *lb = (struct ldap_be *)be;
	int attempt;
	int err = 0;

	if (!limit)
		limit = 1;

	for (attempt = 0; attempt < 2; attempt++) {
		struct dir_ents ents = {0};
		int rc = LDAP_SUCCESS;

		err = link_up(lb, why, whysz);
		if (err)
			return err;

		err = search_once(lb, q, value, limit, &ents, &rc, why, whysz);
		if (!err) {
			*out = ents;
			return 0;
		}
		dir_ents_free(&ents);
		if (!link_lost(rc))
			return err;

		/* the link broke: reconnect (maybe elsewhere), once */
		drop_link(lb);
		if (rc == LDAP_TIMEOUT)
			return err;
	}
	return err;
}

static void lbe_where(struct dir_be *be, char *buf, size_t sz)
{
	struct ldap_be *lb = (struct ldap_be *)be;

	snprintf(buf, sz, "%s", lb->nurls ? lb->urls[lb->cur] : "");
}

static void lbe_destroy(struct dir_be *be)
{
	struct ldap_be *lb = (struct ldap_be *)be;
	size_t i;

	drop_link(lb);
	for (i = 0; i < lb->nurls; i++)
		free(lb->urls[i]);
	free(lb->urls);
	if (lb->password) {
		memset(lb->password, 0, strlen(lb->password));
		free(lb->password);
	}
	free(lb->bind_dn);
	free(lb->ca_file);
	free(lb);
}

static const struct dir_be_ops lbe_ops = {
	lbe_find, lbe_where, lbe_destroy,
};

int dir_ldap_open(struct dir_be **bep, const struct cfg_directory *cfg,
		  const char *password, const char *ca_file,
		  const struct dir_names *names, char *why, size_t whysz)
{
	struct ldap_be *lb;
	size_t i;
	int err = 0;

	if (!bep || !cfg || !names)
		return EINVAL;
	if (!cfg->urls.n) {
		snprintf(why, whysz, "directory backend ldap needs at least "
			 "one LDAP URL");
		return EINVAL;
	}

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return ENOMEM;
	lb->be.ops = &lbe_ops;
	lb->be.names = names;
	lb->starttls = cfg->starttls;
	lb->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms :
		CFG_DIR_TIMEOUT_MS;

	lb->urls = calloc(cfg->urls.n, sizeof(*lb->urls));
	if (!lb->urls) {
		err = ENOMEM;
		goto out;
	}
	for (i = 0; i < cfg->urls.n; i++) {
		const char *u = cfg->urls.v[i];

		if (!ldap_is_ldap_url(u) && !is_ldaps(u)) {
			snprintf(why, whysz, "\"%s\" is not an ldap:// or "
				 "ldaps:// URL", u);
			err = EINVAL;
			goto out;
		}
		if (lb->starttls && is_ldaps(u)) {
			snprintf(why, whysz, "\"%s\": StartTLS on an ldaps:// "
				 "URL makes no sense", u);
			err = EINVAL;
			goto out;
		}
		lb->urls[i] = strdup(u);
		if (!lb->urls[i]) {
			err = ENOMEM;
			goto out;
		}
		lb->nurls++;
	}
	if (cfg->bind_dn && !(lb->bind_dn = strdup(cfg->bind_dn)))
		err = ENOMEM;
	if (password && !(lb->password = strdup(password)))
		err = ENOMEM;
	if (ca_file && !(lb->ca_file = strdup(ca_file)))
		err = ENOMEM;
	if (err)
		goto out;

	*bep = &lb->be;
	lb = NULL;
 out:
	if (lb)
		lbe_destroy(&lb->be);
	return err;
}
