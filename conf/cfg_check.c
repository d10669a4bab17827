/*
 * cfg_check.c -- the checks the schema cannot express: domain and
 * address syntax, references between records, domains claimed twice,
 * duplicate names, what each Directory backend needs, and the files the
 * configuration names (secrets must be owner-only).
 *
 * All checks run; each problem is one "FILE:LINE: message".
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf/cfg_int.h"

struct ck {
	const char *file;
	struct cfg_diag *diag;
};

#define ERR(ck, line, ...) cfg_diag_add((ck)->diag, (ck)->file, (line), \
					false, __VA_ARGS__)
#define WARN(ck, line, ...) cfg_diag_add((ck)->diag, (ck)->file, (line), \
					 true, __VA_ARGS__)

static const char *nm(const char *s)
{
	return s ? s : "?";
}

static void check_domains(struct ck *ck, const char *label,
			  const struct cfg_strv *sv, bool wildcard_ok)
{
	size_t i;

	for (i = 0; i < sv->n; i++) {
		const char *why = cfg_domain_syntax(sv->v[i], wildcard_ok);

		if (why)
			ERR(ck, sv->line[i], "%s: bad domain \"%s\": %s",
			    label, sv->v[i], why);
	}
}

static void check_ip(struct ck *ck, unsigned line, const char *label,
		     const char *what, const char *ip)
{
	if (ip && !cfg_ip_valid(ip))
		ERR(ck, line, "%s: %s \"%s\" is not a numeric IPv4 or IPv6 "
		    "address", label, what, ip);
}

/* One claim on a domain: who made it and where. */
struct claim {
	const char *dom;
	unsigned line;
	const char *owner;   /* NULL: the local Community */
};

static void check_claims(struct ck *ck, const struct cfg *cfg)
{
	const struct cfg_strv *loc = &cfg->community.domains;
	size_t i, j, k, l;

	/* local against local: an exact repeat only */
	for (i = 0; i < loc->n; i++)
		for (j = 0; j < i; j++)
			if (cfg_domain_overlap(loc->v[i], loc->v[j]) &&
			    !cfg_domain_syntax(loc->v[i], true))
				ERR(ck, loc->line[i], "Community \"%s\": "
				    "domain \"%s\" overlaps \"%s\" (line %u)",
				    nm(cfg->community.name), loc->v[i],
				    loc->v[j], loc->line[j]);

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];

		for (k = 0; k < ex->domains.n; k++) {
			const char *d = ex->domains.v[k];
			const unsigned line = ex->domains.line[k];

			if (cfg_domain_syntax(d, true))
				continue;   /* already reported */

			for (j = 0; j < loc->n; j++) {
				if (!cfg_domain_overlap(d, loc->v[j]))
					continue;
				if (cfg_domain_match(d, loc->v[j]) &&
				    strcasecmp(d, loc->v[j]))
					ERR(ck, line, "ExternCommunity \"%s\":"
					    " domain \"%s\" covers local "
					    "domain \"%s\" (line %u)",
					    nm(ex->name), d, loc->v[j],
					    loc->line[j]);
				else
					ERR(ck, line, "ExternCommunity \"%s\":"
					    " domain \"%s\" is already claimed "
					    "by the local Community (line %u)",
					    nm(ex->name), d, loc->line[j]);
			}
			/* earlier externs, and earlier domains of this one */
			for (j = 0; j <= i; j++) {
				const struct cfg_extern *o = &cfg->externs[j];
				const size_t lim = j == i ? k : o->domains.n;

				for (l = 0; l < lim; l++) {
					if (!cfg_domain_overlap(d,
							o->domains.v[l]))
						continue;
					ERR(ck, line, "ExternCommunity \"%s\":"
					    " domain \"%s\" is already claimed "
					    "by ExternCommunity \"%s\" as "
					    "\"%s\" (line %u)", nm(ex->name),
					    d, nm(o->name), o->domains.v[l],
					    o->domains.line[l]);
				}
			}
		}
	}
}

static void check_names(struct ck *ck, const struct cfg *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->ngateways; i++)
		for (j = 0; j < i; j++)
			if (cfg->gateways[i].name && cfg->gateways[j].name &&
			    !strcmp(cfg->gateways[i].name,
				    cfg->gateways[j].name))
				ERR(ck, cfg->gateways[i].line, "CommunityGateway "
				    "\"%s\": the name is already used at "
				    "line %u", cfg->gateways[i].name,
				    cfg->gateways[j].line);
	for (i = 0; i < cfg->nexterns; i++)
		for (j = 0; j < i; j++)
			if (cfg->externs[i].name && cfg->externs[j].name &&
			    !strcmp(cfg->externs[i].name,
				    cfg->externs[j].name))
				ERR(ck, cfg->externs[i].line, "ExternCommunity "
				    "\"%s\": the name is already used at "
				    "line %u", cfg->externs[i].name,
				    cfg->externs[j].line);
	for (i = 0; i < cfg->nconnectors; i++)
		for (j = 0; j < i; j++)
			if (cfg->connectors[i].name &&
			    cfg->connectors[j].name &&
			    !strcmp(cfg->connectors[i].name,
				    cfg->connectors[j].name))
				ERR(ck, cfg->connectors[i].line,
				    "CommunityConnector \"%s\": the name is "
				    "already used at line %u",
				    cfg->connectors[i].name,
				    cfg->connectors[j].line);
}

static const struct cfg_extern *extern_by_name(const struct cfg *cfg,
					       const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nexterns; i++)
		if (cfg->externs[i].name && !strcmp(cfg->externs[i].name, name))
			return &cfg->externs[i];
	return NULL;
}

static void check_connector(struct ck *ck, const struct cfg *cfg,
			    const struct cfg_connector *cn)
{
	char label[128];
	size_t i, j;

	snprintf(label, sizeof(label), "CommunityConnector \"%s\"",
		 nm(cn->name));
	check_ip(ck, cn->line, label, "ip", cn->ip);
	check_ip(ck, cn->line, label, "advertiseIp", cn->advertise_ip);
	if (cn->xmpp_idle && (cn->xmpp_idle < CFG_XMPP_IDLE_MIN ||
			      cn->xmpp_idle > CFG_XMPP_IDLE_MAX))
		ERR(ck, cn->line, "%s: xmppIdleTimeout %u is out of range "
		    "(0 for never, or %u to %u seconds)", label,
		    (unsigned)cn->xmpp_idle, (unsigned)CFG_XMPP_IDLE_MIN,
		    (unsigned)CFG_XMPP_IDLE_MAX);
	if (cn->advertise && !cfg_ip_valid(cn->advertise)) {
		const char *why = cfg_domain_syntax(cn->advertise, false);

		if (why)
			ERR(ck, cn->line, "%s: advertise \"%s\" is neither an "
			    "address nor a host name: %s", label,
			    cn->advertise, why);
	}

	for (i = 0; i < cn->gateways.n; i++) {
		if (!cfg_gateway_find(cfg, cn->gateways.v[i]))
			ERR(ck, cn->gateways.line[i], "%s: Gateway \"%s\" is "
			    "not a CommunityGateway in this file", label,
			    cn->gateways.v[i]);
		for (j = 0; j < i; j++)
			if (!strcmp(cn->gateways.v[i], cn->gateways.v[j]))
				ERR(ck, cn->gateways.line[i], "%s: Gateway "
				    "\"%s\" is listed twice", label,
				    cn->gateways.v[i]);
	}
	for (i = 0; i < cn->ncommunities; i++) {
		const struct cfg_supported *su = &cn->communities[i];

		if (!su->community)
			continue;
		if (!extern_by_name(cfg, su->community))
			ERR(ck, su->line, "%s: SupportedCommunity \"%s\" is "
			    "not an ExternCommunity in this file", label,
			    su->community);
		for (j = 0; j < i; j++)
			if (cn->communities[j].community &&
			    !strcmp(su->community, cn->communities[j].community))
				ERR(ck, su->line, "%s: SupportedCommunity "
				    "\"%s\" is listed twice", label,
				    su->community);
	}
}

static void check_listen(struct ck *ck, const char *label, const char *what,
			 const struct cfg_listenv *lv)
{
	size_t i;

	for (i = 0; i < lv->n; i++)
		check_ip(ck, lv->v[i].line, label, what, lv->v[i].addr);
}

/* A file the daemon reads must exist and be a regular file. */
static bool check_file(struct ck *ck, unsigned line, const char *label,
		       const char *what, const char *path, struct stat *st)
{
	if (!path)
		return false;
	if (stat(path, st) != 0) {
		ERR(ck, line, "%s: %s %s: %s", label, what, path,
		    strerror(errno));
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		ERR(ck, line, "%s: %s %s is not a regular file", label, what,
		    path);
		return false;
	}
	return true;
}

/* A secret: also readable by nobody but its owner. */
static void check_secret(struct ck *ck, unsigned line, const char *path)
{
	struct stat st;

	if (!path)
		return;
	if (stat(path, &st) != 0) {
		ERR(ck, line, "secret file %s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		ERR(ck, line, "secret file %s is not a regular file", path);
		return;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		ERR(ck, line, "secret file %s is readable by group or others "
		    "(mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
}

static void check_directory(struct ck *ck, const struct cfg_directory *d)
{
	struct stat st;
	size_t i;

	if (!d->present)
		return;
	/* the gateway must answer well before a sender's Timer F (32 s) */
	if (d->answer_ms < 100 || d->answer_ms > 20000)
		ERR(ck, d->line, "Directory: answerTimeout %u ms is out of "
		    "range (100 to 20000)", d->answer_ms);
	if (d->backend == CFG_DIR_LDAP) {
		if (!d->base)
			ERR(ck, d->line, "Directory: backend ldap needs an "
			    "<Ldap> element");
		for (i = 0; i < d->urls.n; i++) {
			const char *u = d->urls.v[i];

			if (strncasecmp(u, "ldap://", 7) &&
			    strncasecmp(u, "ldaps://", 8) &&
			    strncasecmp(u, "ldapi://", 8))
				ERR(ck, d->urls.line[i], "Directory: Url "
				    "\"%s\" must start with ldap://, ldaps:// "
				    "or ldapi://", u);
		}
		check_secret(ck, d->line, d->password_file);
		if (d->ca_file)
			check_file(ck, d->line, "Directory", "caFile",
				   d->ca_file, &st);
	}
	else {
		if (!d->file)
			ERR(ck, d->line, "Directory: backend file needs a "
			    "<File> element");
		else
			check_file(ck, d->line, "Directory", "File", d->file,
				   &st);
	}
}

const struct cfg_extern *cfg_trace_extern(const struct cfg *cfg)
{
	size_t i;

	for (i = 0; cfg->trace.community && i < cfg->nexterns; i++)
		if (cfg->externs[i].name &&
		    !strcmp(cfg->externs[i].name, cfg->trace.community))
			return &cfg->externs[i];
	return NULL;
}

void cfg_check_all(const struct cfg *cfg, const char *file,
		   struct cfg_diag *diag)
{
	struct ck ck = {file, diag};
	struct stat st;
	char label[128];
	size_t i;

	if (!cfg)
		return;

	snprintf(label, sizeof(label), "Community \"%s\"",
		 nm(cfg->community.name));
	check_domains(&ck, label, &cfg->community.domains, true);

	for (i = 0; i < cfg->ngateways; i++) {
		const struct cfg_gateway *gw = &cfg->gateways[i];

		snprintf(label, sizeof(label), "CommunityGateway \"%s\"",
			 nm(gw->name));
		check_listen(&ck, label, "ClientListen address", &gw->clients);
		check_listen(&ck, label, "ConnectorListen address",
			     &gw->connectors);
	}

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];
		const char *why;

		snprintf(label, sizeof(label), "ExternCommunity \"%s\"",
			 nm(ex->name));
		check_domains(&ck, label, &ex->domains, true);
		if (ex->proxy && !cfg_ip_valid(ex->proxy) &&
		    (why = cfg_domain_syntax(ex->proxy, false)))
			ERR(&ck, ex->line, "%s: Proxy \"%s\" is neither a "
			    "host name nor a numeric address: %s", label,
			    ex->proxy, why);
		if (ex->tp == CFG_TP_UDP)
			WARN(&ck, ex->line, "%s: transport udp: anyone can "
			     "forge this community's source address; "
			     "prefer tls", label);
	}

	for (i = 0; i < cfg->nconnectors; i++)
		check_connector(&ck, cfg, &cfg->connectors[i]);

	for (i = 0; i < cfg->connectivity.trusted_ips.n; i++)
		check_ip(&ck, cfg->connectivity.trusted_ips.line[i],
			 "CommunityConnectivity", "TrustedIP",
			 cfg->connectivity.trusted_ips.v[i]);

	check_names(&ck, cfg);
	check_claims(&ck, cfg);
	check_directory(&ck, &cfg->directory);

	if (cfg->tls.present) {
		check_file(&ck, cfg->tls.line, "Tls", "certificate",
			   cfg->tls.cert, &st);
		check_secret(&ck, cfg->tls.line, cfg->tls.key);
		if (cfg->tls.ca)
			check_file(&ck, cfg->tls.line, "Tls", "ca",
				   cfg->tls.ca, &st);
		if (cfg->tls.verify == CFG_VERIFY_NONE)
			WARN(&ck, cfg->tls.line, "Tls: verify none accepts "
			     "any certificate from any peer");
	}

	if (cfg->trace.community && cfg->trace.user)
		ERR(&ck, cfg->trace.line, "Trace: community and user exclude "
		    "each other; scope a trace to one of them");
	if (cfg->trace.community && !cfg_trace_extern(cfg))
		ERR(&ck, cfg->trace.line, "Trace: community \"%s\" is not an "
		    "ExternCommunity of this file", cfg->trace.community);
	if (cfg->trace.user && !strchr(cfg->trace.user, '@'))
		ERR(&ck, cfg->trace.line, "Trace: user \"%s\" is not an "
		    "address (user@domain)", cfg->trace.user);

	for (i = 0; i < cfg->dns.servers.n; i++) {
		const char *why = cfg_hostport_syntax(cfg->dns.servers.v[i]);

		if (why)
			ERR(&ck, cfg->dns.servers.line[i], "Dns: Server "
			    "\"%s\": %s", cfg->dns.servers.v[i], why);
	}
}
