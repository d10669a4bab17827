/*
 * chk.c -- open what the daemon will open: the Tls record's files, the
 * record's user, the files the daemon writes as that user.  One line
 * per problem, FILE:LINE of its record, what is wrong and what to do.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <re.h>

#include "check/chk.h"
#include "sipstack/sst_tls.h"

enum { CHK_GROUPS_MAX = 256 };

void chk_init(struct chk *c, const struct cfg *cfg, FILE *out, FILE *err)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->out = out;
	c->err = err;
}

static void vline(struct chk *c, FILE *f, unsigned line, const char *tag,
		  const char *fmt, va_list ap)
{
	if (line)
		fprintf(f, "%s:%u: %s", c->cfg->path, line, tag);
	else
		fprintf(f, "%s: %s", c->cfg->path, tag);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

void chk_error(struct chk *c, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fflush(c->out);
	va_start(ap, fmt);
	vline(c, c->err, line, "", fmt, ap);
	va_end(ap);
	c->nerr++;
}

void chk_warn(struct chk *c, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(c, c->out, line, "warning: ", fmt, ap);
	va_end(ap);
	c->nwarn++;
}

void chk_note(struct chk *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
}

/* ---- Tls ---- */

static void print_names(struct chk *c, const struct sst_tls_certinfo *ci)
{
	size_t i;

	fprintf(c->out, "tls names:");
	for (i = 0; i < ci->ndns; i++)
		fprintf(c->out, " DNS:%s", ci->dns[i]);
	for (i = 0; i < ci->nip; i++)
		fprintf(c->out, " IP:%s", ci->ip[i]);
	if (!ci->ndns && !ci->nip)
		fprintf(c->out, " (no subjectAltName) CN:%s",
			ci->cn[0] ? ci->cn : "(none)");
	fputc('\n', c->out);
}

static void date_of(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, sz, "%Y-%m-%d %H:%M UTC",
					     &tm))
		snprintf(buf, sz, "%lld", (long long)t);
}

static bool links_tls(const struct cfg *cfg, const struct cfg_connector *cn)
{
	size_t i;

	for (i = 0; i < cn->gateways.n; i++) {
		const struct cfg_gateway *gw =
			cfg_gateway_find(cfg, cn->gateways.v[i]);

		if (gw && gw->connectors.n &&
		    gw->connectors.v[0].tp == CFG_TP_TLS)
			return true;
	}
	return false;
}

/* The names peers check: connectors' IPs (gateway links), our domains. */
static void names_check(struct chk *c, const struct sst_tls_certinfo *ci)
{
	const struct cfg *cfg = c->cfg;
	const unsigned line = cfg->tls.line;
	const bool req = cfg->tls.verify == CFG_VERIFY_REQUIRED;
	bool ours = false;
	size_t i, j;

	for (i = 0; i < cfg->nconnectors; i++) {
		const struct cfg_connector *cn = &cfg->connectors[i];

		if (!links_tls(cfg, cn) || sst_tls_cert_covers(ci, cn->ip))
			continue;
		if (req)
			chk_error(c, line, "Tls certificate %s has no "
				  "IP-address subjectAltName %s: the gateway "
				  "link to CommunityConnector \"%s\" will fail "
				  "its check; make the certificate again with "
				  "ip_address = \"%s\" (certtool template)",
				  cfg->tls.cert, cn->ip, cn->name, cn->ip);
		else
			chk_warn(c, line, "Tls certificate %s has no "
				 "IP-address subjectAltName %s "
				 "(CommunityConnector \"%s\"): gateways will "
				 "fail to check it once verify=\"required\"; "
				 "add ip_address = \"%s\"",
				 cfg->tls.cert, cn->ip, cn->name, cn->ip);
	}

	/* Partners check the Proxy name they have for us (or our domain):
	 * any name in or below one of our domains will do. */
	for (i = 0; i < cfg->community.domains.n && !ours; i++) {
		const char *dom = cfg->community.domains.v[i];
		const size_t dl = strlen(dom);

		for (j = 0; j < ci->ndns && !ours; j++) {
			const char *n = ci->dns[j];
			const size_t nl = strlen(n);

			ours = !strcasecmp(n, dom) ||
				(nl > dl && n[nl - dl - 1] == '.' &&
				 !strcasecmp(n + nl - dl, dom));
		}
	}
	if (cfg->nconnectors && cfg->nexterns && !ours)
		chk_warn(c, line, "Tls certificate %s names no DNS name in "
			 "this community's domains: partners that verify it "
			 "check the proxy name they use for us (e.g. sip.%s); "
			 "add it as dns_name",
			 cfg->tls.cert, cfg->community.domains.n ?
			 cfg->community.domains.v[0] : "DOMAIN");
}

unsigned chk_tls(struct chk *c)
{
	const struct cfg_tls *t = &c->cfg->tls;
	const unsigned before = c->nerr;
	struct sst_tls_certinfo ci;
	char why[1024], d1[40];
	time_t now = c->now ? c->now : time(NULL);
	bool cert_ok = false;
	int err, days;

	if (!t->present || !t->cert)
		return 0;

	err = sst_tls_cert_read(t->cert, &ci, why, sizeof(why));
	if (err == EBADMSG)
		chk_error(c, t->line, "Tls certificate %s; give the PEM "
			  "certificate chain, this deployment's certificate "
			  "first", why);
	else if (err)
		chk_error(c, t->line, "Tls certificate: %s", why);
	else
		cert_ok = true;

	if (cert_ok) {
		date_of(ci.not_after, d1, sizeof(d1));
		days = sst_tls_cert_days_left(&ci, now);
		chk_note(c, "tls certificate: %s; issuer %s; serial %s; "
			 "%u in chain", ci.subject, ci.issuer, ci.serial,
			 ci.nchain);
		if (days < 0)
			chk_note(c, "tls expired: %s (%d days ago)", d1,
				 -days);
		else
			chk_note(c, "tls expires: %s (%d days left)", d1,
				 days);
		print_names(c, &ci);

		if (ci.not_before > now) {
			date_of(ci.not_before, d1, sizeof(d1));
			chk_error(c, t->line, "Tls certificate %s is not valid "
				  "before %s; check the clock or make it "
				  "again", t->cert, d1);
		}
		if (days < 0)
			chk_error(c, t->line, "Tls certificate %s expired on "
				  "%s (%d days ago); install a new "
				  "certificate and run reload", t->cert, d1,
				  -days);
		else if (days < CHK_EXPIRY_WARN_DAYS)
			chk_warn(c, t->line, "Tls certificate %s expires in "
				 "%d days (%s); renew it, then run reload",
				 t->cert, days, d1);
		if (!ci.chain_ordered)
			chk_warn(c, t->line, "Tls certificate %s: the chain is "
				 "out of order; put this deployment's "
				 "certificate first, then each issuer",
				 t->cert);
		if (ci.self_signed)
			chk_warn(c, t->line, "Tls certificate %s is "
				 "self-signed: peers accept it only if they "
				 "hold it as a CA", t->cert);
		names_check(c, &ci);
	}

	if (t->key) {
		err = sst_tls_key_check(t->cert, t->key, why, sizeof(why));
		if (err == EKEYREJECTED)
			chk_error(c, t->line, "Tls %s; give the key the "
				  "certificate was made with (or make a new "
				  "certificate for this key)", why);
		else if (err == EBADMSG && !cert_ok)
			;	/* the certificate's problem, said above */
		else if (err == EBADMSG)
			chk_error(c, t->line, "Tls key %s; give the PEM "
				  "private key (unencrypted, mode 600)",
				  why);
		else if (err)
			chk_error(c, t->line, "Tls key: %s", why);
	}

	if (t->ca) {
		unsigned n = 0;

		err = sst_tls_ca_read(t->ca, &n, why, sizeof(why));
		if (err)
			chk_error(c, t->line, "Tls ca %s; give the PEM file "
				  "of the CA certificates that issue the "
				  "peers' certificates", why);
		else
			chk_note(c, "tls ca: %s, %u certificate%s", t->ca, n,
				 n == 1 ? "" : "s");
	}
	return c->nerr - before;
}

/* ---- user and files ---- */

int chk_user(struct chk *c, unsigned line, const char *record,
	     const char *user, uid_t *uidp, gid_t *gidp)
{
	struct passwd *pw;

	*uidp = geteuid();
	*gidp = getegid();
	if (!user)
		return 0;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		chk_error(c, line, "%s: user \"%s\" does not exist; create "
			  "it (systemd-sysusers with the installed "
			  "sysusers.d file, or useradd --system %s)",
			  record, user, user);
		return ENOENT;
	}
	if (pw->pw_uid == 0) {
		chk_error(c, line, "%s: user \"%s\" is root: the daemon "
			  "refuses to keep root; name an unprivileged user",
			  record, user);
		return EINVAL;
	}
	*uidp = pw->pw_uid;
	*gidp = pw->pw_gid;
	return 0;
}

static bool in_groups(uid_t uid, gid_t gid, gid_t fgid)
{
	gid_t groups[CHK_GROUPS_MAX];
	int n = CHK_GROUPS_MAX, i;
	struct passwd *pw;

	if (gid == fgid)
		return true;
	pw = getpwuid(uid);
	if (!pw || getgrouplist(pw->pw_name, gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == fgid)
			return true;
	return false;
}

static const char *user_name(uid_t uid, char *buf, size_t sz)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, sz, "%s", pw->pw_name);
	else
		snprintf(buf, sz, "uid %lu", (unsigned long)uid);
	return buf;
}

bool chk_may_read(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	mode_t r;

	if (stat(path, &st) < 0)
		return false;
	if (uid == 0)
		return true;
	r = st.st_uid == uid ? S_IRUSR :
		in_groups(uid, gid, st.st_gid) ? S_IRGRP : S_IROTH;
	return (st.st_mode & r) != 0;
}

void chk_tls_readable(struct chk *c, const char *record, uid_t uid,
		      gid_t gid)
{
	const struct cfg_tls *t = &c->cfg->tls;
	const char *files[3], *what[3] = {"certificate", "key", "ca"};
	char who[64];
	size_t i;

	if (!t->present || uid == 0)
		return;
	files[0] = t->cert;
	files[1] = t->key;
	files[2] = t->ca;
	for (i = 0; i < 3; i++) {
		if (!files[i] || access(files[i], F_OK) < 0 ||
		    chk_may_read(files[i], uid, gid))
			continue;
		chk_warn(c, t->line, "%s: Tls %s %s cannot be read by user "
			 "%s: the daemon starts (it reads it as root), but "
			 "a reload (certificate rotation) will fail; chown "
			 "%s %s", record, what[i], files[i],
			 user_name(uid, who, sizeof(who)), who, files[i]);
	}
}

bool chk_may_write(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	mode_t w, x;

	if (stat(path, &st) < 0)
		return false;
	if (uid == 0)
		return true;
	if (st.st_uid == uid) {
		w = S_IWUSR;
		x = S_IXUSR;
	}
	else if (in_groups(uid, gid, st.st_gid)) {
		w = S_IWGRP;
		x = S_IXGRP;
	}
	else {
		w = S_IWOTH;
		x = S_IXOTH;
	}
	if (!(st.st_mode & w))
		return false;
	return !S_ISDIR(st.st_mode) || (st.st_mode & x);
}

unsigned chk_writable(struct chk *c, unsigned line, const char *record,
		      const char *what, const char *path, uid_t uid,
		      gid_t gid)
{
	char tmp[PATH_MAX], dir[PATH_MAX], who[64];
	const unsigned before = c->nerr;
	struct stat st;

	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	user_name(uid, who, sizeof(who));

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		chk_error(c, line, "%s: %s %s: directory %s does not exist; "
			  "create it, owned by %s (under /run, the installed "
			  "tmpfiles.d file does: systemd-tmpfiles --create)",
			  record, what, path, dir, who);
		return c->nerr - before;
	}
	if (!chk_may_write(dir, uid, gid))
		chk_error(c, line, "%s: %s %s: user %s cannot create files "
			  "in %s; chown %s %s (or run the daemon as its "
			  "owner)",
			  record, what, path, who, dir, who, dir);
	else if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode) &&
		 !chk_may_write(path, uid, gid))
		chk_error(c, line, "%s: %s %s exists and user %s cannot "
			  "write it; chown %s %s", record, what, path, who, who,
			  path);
	return c->nerr - before;
}

void chk_daemon_extras(struct chk *c, unsigned line, const char *record,
		       const char *group, const char *metrics)
{
	struct sa sa;

	if (group && !getgrnam(group))
		chk_error(c, line, "%s: controlGroup \"%s\" does not exist; "
			  "create it (groupadd --system %s) or name another",
			  record, group, group);
	if (metrics && (sa_decode(&sa, metrics, strlen(metrics)) ||
			!sa_port(&sa)))
		chk_error(c, line, "%s: metrics \"%s\" is not ADDRESS:PORT "
			  "(e.g. 127.0.0.1:9464 or [::1]:9464)", record,
			  metrics);
}
