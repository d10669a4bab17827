/*
 * cn_cmd_checkdns.c -- the --dns part of `stconnector check`: resolve
 * every external community as the daemon would (cn_resolve.h) and say
 * which source addresses its trust check accepts and which hop outbound
 * traffic takes.
 *
 * Uses the Dns record's servers, else the system resolver's.  The libre
 * loop runs here, under one overall deadline.  A community whose
 * domains are all "*." wildcards and that names no Proxy is resolved
 * per request; there is nothing to check ahead of time, and the output
 * says so.  A community that does not resolve makes the check fail.
 * When the file's connector runs and answers on its control socket,
 * what it says about serving stale answers is shown too: this check
 * starts with an empty cache and cannot know.
 *
 * Our side too, as partners see it (when the file has connectors): each
 * of our Community domains is resolved as a partner without a Proxy for
 * us resolves it (SRV, then A/AAAA), and each DNS name of our
 * certificate in our domains as a partner with that Proxy does (A/AAAA).
 * The trust set each gives is what the partner's trust check accepts:
 * every CommunityConnector's ip, or advertiseIp behind a static NAT (or
 * the one named with -n), must be in
 * it, else partners refuse its requests with 403 ("Source is not the
 * community's proxy").  A name that resolves without our address is an
 * error; one that does not resolve a warning, unless none resolves.
 *
 * XMPP communities (protocol="xmpp") are resolved the same way through
 * _xmpp-server._tcp, then their A/AAAA at their port, or their Proxy;
 * their trust set is what inbound streams claiming their domains are
 * checked against.  When an enabled community speaks XMPP, each of our
 * domains is also resolved as an XMPP partner resolves it
 * (_xmpp-server._tcp, then A/AAAA at 5269): every CommunityConnector
 * that serves XMPP must be among the servers it gives, at its ip (or
 * advertiseIp) and xmppPort -- an error otherwise, since partners would
 * open their streams (and ask for our dialback keys) elsewhere; a
 * warning when the domain gives none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "daemon/dmn.h"
#include "connector/cn.h"
#include "sipstack/sst_tls.h"
#include "connector/cn_cmd.h"
#include "connector/cn_resolve.h"

enum {
	CHECK_LOOKUPS_MAX = 1024,  /* (community, domain) pairs checked */
	CHECK_SLACK_MS    = 1000,  /* deadline beyond the DNS stages */
	CHECK_STAGES      = 3,     /* SRV, then targets or A/AAAA, margin */
};

struct check_item {
	const struct cfg_extern *ex;
	const char *domain;        /* NULL with a Proxy */
	bool ours;                 /* our own name, as partners see it */
	struct cn_resolve_req *req;
	struct cn_route *route;
	int err;
	bool done;
};

struct check_run {
	struct check_item *itemv;
	size_t itemc;
	bool deadline;
	/* our names as partners resolve them: the domains, then the
	 * certificate's DNS names in them */
	struct cfg_extern oursv[1 + SST_TLS_SAN_MAX];
	char ournames[SST_TLS_SAN_MAX][256];
	size_t oursc;
	/* our domains as XMPP partners resolve them */
	struct cfg_extern xours;
	bool xours_on;
};

/*
 * The running connector's status as one JSON line (malloc'd), when the
 * file names one connector and it answers on its control socket; else
 * NULL.  check itself starts with an empty cache: only the daemon knows
 * whether it serves stale answers.
 */
static char *running_status(const struct cfg *cfg)
{
	const struct cfg_connector *self = NULL;
	const char *why = NULL;
	char *buf = NULL;
	size_t len = 0;
	int status = 0, err;
	FILE *f;

	if (cn_self_pick(cfg, NULL, &self, &why) || !self->control)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	err = dmn_ctl_request(self->control, "status --json", f,
			      CN_CTL_TIMEOUT_MS, &status);
	fclose(f);
	if (err || !buf || buf[0] != '{') {
		free(buf);
		return NULL;
	}
	return buf;
}

/* From that status, community name's "dns" value when it is stale. */
static bool running_stale(const char *st, const char *name, char *out,
			  size_t size)
{
	static const char dkey[] = "\"dns\":\"";
	char key[CN_RESOLVE_NAME_MAX + 32];
	const char *p, *end, *d, *q;

	if (!st)
		return false;
	snprintf(key, sizeof(key), "{\"name\":\"%s\",\"domains\":", name);
	p = strstr(st, key);
	end = p ? strstr(p, "\"next_hops\"") : NULL;
	d = p ? strstr(p, dkey) : NULL;
	if (!d || !end || d > end)
		return false;
	d += sizeof(dkey) - 1;
	if (strncmp(d, "stale since ", 12))
		return false;
	q = strchr(d, '"');
	if (!q || (size_t)(q - d) >= size)
		return false;
	memcpy(out, d, (size_t)(q - d));
	out[q - d] = '\0';
	return true;
}

static const char *dns_error(int err)
{
	switch (err) {
	case ENOENT:       return "no such name (NXDOMAIN)";
	case ENODATA:      return "no SRV, A or AAAA records";
	case ETIMEDOUT:    return "no answer from the DNS server in time";
	case EAGAIN:       return "the DNS server failed (SERVFAIL)";
	case ECONNREFUSED: return "refused (by the DNS server, or the "
				  "domain publishes no service: SRV \".\")";
	case EINVAL:       return "not a valid DNS name";
	default:           return strerror(err);
	}
}

static void item_h(int err, const struct cn_route *route, void *arg)
{
	struct check_item *it = arg;

	it->err = err;
	it->route = mem_ref((void *)route);
	it->done = true;
	re_cancel();  /* the loop below counts what is left */
}

static void deadline_h(void *arg)
{
	struct check_run *run = arg;

	run->deadline = true;
	re_cancel();
}

static bool all_wild(const struct cfg_extern *ex)
{
	size_t i;

	for (i = 0; i < ex->domains.n; i++) {
		if (strncmp(ex->domains.v[i], "*.", 2))
			return false;
	}
	return true;
}

static void print_addr(FILE *f, const struct sockaddr_storage *ss,
		       bool port)
{
	struct sa sa;

	if (sa_set_sa(&sa, (const struct sockaddr *)ss)) {
		fprintf(f, "?");
		return;
	}
	if (port)
		re_fprintf(f, "%J", &sa);
	else
		re_fprintf(f, "%j", &sa);
}

/* Whether a CommunityConnector of the file lets this community in.  A
 * file without any CommunityConnector (a gateway's view) enables all. */
static bool enabled_here(const struct cfg *cfg, const struct cfg_extern *ex)
{
	size_t i, k;

	if (!cfg->nconnectors)
		return true;
	for (i = 0; i < cfg->nconnectors; i++) {
		const struct cfg_connector *cn = &cfg->connectors[i];

		for (k = 0; k < cn->ncommunities; k++) {
			if (cn->communities[k].enabled &&
			    !strcmp(cn->communities[k].community, ex->name))
				return true;
		}
	}
	return false;
}

/* A community that does not resolve: an error when it is enabled, a
 * warning otherwise (nobody routes to it yet, but an admin about to
 * enable it wants to know). */
static void unresolved(FILE *f, const struct check_item *it, bool enabled,
		       const char *why)
{
	fprintf(stderr, "stconnector check: %s: extern community %s (%s) "
		"does not resolve: %s%s\n", enabled ? "error" : "warning",
		it->ex->name, it->ex->proxy ? it->ex->proxy : it->domain, why,
		enabled ? "" : " (not enabled here)");
	fprintf(f, "    does not resolve: %s%s\n", why,
		enabled ? "" : " (not enabled here: warning only)");
}

/* One community's facts; false when it does not resolve. */
static bool report(FILE *f, struct cn_resolve *res,
		   const struct check_item *it, bool enabled, unsigned stale_s,
		   const char *running)
{
	const struct cn_route *rt = it->route;
	const uint64_t now = cn_resolve_now();
	const bool xmpp = it->ex->protocol == CFG_PROTO_XMPP;
	size_t idxv[CN_RESOLVE_HOPS_MAX];
	bool udp = false;
	char tps[32], stale[64];
	size_t i;

	fprintf(f, "dns: extern community %s%s", it->ex->name,
		xmpp ? " (xmpp)" : "");
	if (it->ex->proxy)
		fprintf(f, ", proxy %s", it->ex->proxy);
	else
		fprintf(f, ", domain %s", it->domain);
	fprintf(f, "\n");
	if (xmpp)
		fprintf(f, "    protocol: xmpp server-to-server (TCP, "
			"STARTTLS, certificate valid for the domain); its "
			"streams come to our xmppPort from the trust set "
			"below\n");
	else
		fprintf(f, "    accepted on: %s\n",
			cfg_transports_str(cfg_accepted_transports(it->ex),
					  tps, sizeof(tps)));
	if (running_stale(running, it->ex->name, stale, sizeof(stale)))
		fprintf(f, "    running connector: answers %s\n", stale);

	if (!it->done) {
		unresolved(f, it, enabled, "no answer before the deadline");
		return false;
	}
	if (!rt || rt->err || !rt->hopc) {
		const int err = rt && rt->err ? rt->err :
			it->err ? it->err : ENOENT;

		unresolved(f, it, enabled, dns_error(err));
		if (cn_resolve_temporary(err))
			fprintf(f, "    temporary: a running connector keeps "
				"serving its last answers for up to %u s "
				"(serveStale); `stconnector status` shows "
				"\"dns: stale since ...\"\n", stale_s);
		return false;
	}

	fprintf(f, "    resolved by %s %s\n", cn_route_src_name(rt->src),
		rt->name);
	fprintf(f, "    trust accepts:");
	for (i = 0; i < rt->trustc; i++) {
		fprintf(f, " ");
		print_addr(f, &rt->trustv[i], false);
	}
	fprintf(f, "\n");

	if (cn_resolve_order(res, rt, idxv, NULL))
		for (i = 0; i < rt->hopc; i++)
			idxv[i] = i;
	for (i = 0; i < rt->hopc; i++) {
		const struct cn_hop *hop = &rt->hopv[idxv[i]];

		fprintf(f, "    hop %zu: %s ", i + 1,
			xmpp ? "xmpp" : cfg_transport_name(hop->tp));
		print_addr(f, &hop->addr, true);
		if (xmpp)
			fprintf(f, " starttls tls-name %s", hop->tls_name[0] ?
				hop->tls_name : it->domain ? it->domain :
				hop->target);
		else if (hop->tp == CFG_TP_TLS)
			fprintf(f, " tls-name %s", hop->tls_name);
		fprintf(f, " (target %s, ttl %llu s)%s\n", hop->target,
			hop->expires > now ?
			(unsigned long long)(hop->expires - now + 999) / 1000 :
			0ULL, hop->down ? " down" : "");
		udp |= !xmpp && hop->tp == CFG_TP_UDP;
	}
	if (udp)
		fprintf(f, "    warning: extern community %s is reached over "
			"udp: UDP is open to source-address spoofing; prefer "
			"tls\n", it->ex->name);
	return true;
}

static bool in_our_domains(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->community.domains.n; i++) {
		const char *d = cfg->community.domains.v[i];
		const size_t dl = strlen(d), nl = strlen(name);

		if (nl > dl && name[nl - dl - 1] == '.' &&
		    !strcasecmp(name + nl - dl, d))
			return true;
	}
	return false;
}

/* The names partners may resolve for us: our domains (one record, all
 * of them) and each certificate DNS name below them (a Proxy). */
static void ours_setup(struct check_run *run, const struct cfg *cfg)
{
	struct sst_tls_certinfo ci;
	char why[256];
	size_t i;

	if (!cfg->nconnectors || !cfg->community.domains.n)
		return;
	for (i = 0; i < cfg->nexterns; i++) {
		if (cfg->externs[i].protocol == CFG_PROTO_XMPP &&
		    enabled_here(cfg, &cfg->externs[i]))
			run->xours_on = true;
	}
	if (run->xours_on) {
		run->xours.name = cfg->community.name;
		run->xours.domains = cfg->community.domains;
		run->xours.port = CFG_XMPP_PORT;   /* a partner's fallback */
		run->xours.tp = CFG_TP_TCP;
		run->xours.protocol = CFG_PROTO_XMPP;
	}
	run->oursv[0].name = cfg->community.name;
	run->oursv[0].domains = cfg->community.domains;
	run->oursv[0].port = CFG_SIPS_PORT;
	run->oursv[0].tp = CFG_TP_TLS;
	run->oursc = 1;

	if (!cfg->tls.present || !cfg->tls.cert ||
	    sst_tls_cert_read(cfg->tls.cert, &ci, why, sizeof(why)))
		return;
	for (i = 0; i < ci.ndns; i++) {
		struct cfg_extern *ex = &run->oursv[run->oursc];

		if (strchr(ci.dns[i], '*') || !in_our_domains(cfg, ci.dns[i]))
			continue;
		snprintf(run->ournames[run->oursc - 1],
			 sizeof(run->ournames[0]), "%s", ci.dns[i]);
		ex->name = cfg->community.name;
		ex->proxy = run->ournames[run->oursc - 1];
		ex->port = CFG_SIPS_PORT;
		ex->tp = CFG_TP_TLS;
		run->oursc++;
	}
}

static bool trusted(const struct cn_route *rt, const char *ip)
{
	struct sa want, got;
	size_t i;

	if (sa_set_str(&want, ip, 0))
		return false;
	for (i = 0; i < rt->trustc; i++) {
		if (!sa_set_sa(&got, (const struct sockaddr *)&rt->trustv[i]) &&
		    sa_cmp(&want, &got, SA_ADDR))
			return true;
	}
	return false;
}

/* One of our names as partners see it.  Returns 1 when it resolves
 * and accepts every connector checked, 0 when it does not resolve, -1
 * when it resolves without one of them (an error, said here). */
static int report_ours(FILE *f, const struct cfg *cfg, const char *name,
		       const struct check_item *it)
{
	const struct cn_route *rt = it->route;
	const char *what = it->domain ? "domain" : "name";
	const char *nm = it->domain ? it->domain : it->ex->proxy;
	int rc = 1;
	size_t i;

	fprintf(f, "dns: our community %s, %s %s (as partners resolve it%s)\n",
		cfg->community.name, what, nm, it->domain ? "" :
		" with this Proxy: a name of our certificate");
	if (!it->done || !rt || rt->err || !rt->hopc) {
		const int err = !it->done ? ETIMEDOUT : rt && rt->err ?
			rt->err : it->err ? it->err : ENOENT;

		fprintf(f, "    does not resolve: %s\n", dns_error(err));
		return 0;
	}
	fprintf(f, "    resolved by %s %s\n", cn_route_src_name(rt->src),
		rt->name);
	fprintf(f, "    partners' trust check accepts:");
	for (i = 0; i < rt->trustc; i++) {
		fprintf(f, " ");
		print_addr(f, &rt->trustv[i], false);
	}
	fprintf(f, "\n");
	for (i = 0; i < rt->hopc; i++) {
		fprintf(f, "    partners send to: %s ",
			cfg_transport_name(rt->hopv[i].tp));
		print_addr(f, &rt->hopv[i].addr, true);
		fprintf(f, "\n");
	}
	for (i = 0; i < cfg->nconnectors; i++) {
		const struct cfg_connector *cn = &cfg->connectors[i];
		const char *pub;

		if (name && strcmp(name, cn->name))
			continue;
		/* behind a static NAT partners see advertiseIp */
		pub = cn->advertise_ip ? cn->advertise_ip : cn->ip;
		if (trusted(rt, pub)) {
			fprintf(f, "    connector %s %s: accepted\n", cn->name,
				pub);
			continue;
		}
		fprintf(f, "    connector %s %s: NOT accepted\n", cn->name,
			pub);
		fprintf(stderr, "stconnector check: error: our %s %s "
			"resolves without CommunityConnector \"%s\" (%s): "
			"partners that resolve it refuse its requests (403 "
			"Source is not the community's proxy); publish %s in "
			"%s\n", what, nm, cn->name, pub, pub,
			rt->src == CN_SRC_SRV ?
			"the A/AAAA records of the SRV targets" :
			"its A/AAAA records");
		rc = -1;
	}
	return rc;
}

/* Whether the connector serves an enabled XMPP community. */
static bool serves_xmpp(const struct cfg *cfg, const struct cfg_connector *cn)
{
	const struct cfg_extern *ex;
	size_t j, k;

	for (k = 0; k < cn->ncommunities; k++) {
		if (!cn->communities[k].enabled)
			continue;
		ex = NULL;
		for (j = 0; j < cfg->nexterns; j++)
			if (!strcmp(cfg->externs[j].name,
				    cn->communities[k].community))
				ex = &cfg->externs[j];
		if (ex && ex->protocol == CFG_PROTO_XMPP)
			return true;
	}
	return false;
}

static bool hop_is(const struct cn_route *rt, const char *ip, uint16_t port)
{
	struct sa want, got;
	size_t i;

	if (sa_set_str(&want, ip, port))
		return false;
	for (i = 0; i < rt->hopc; i++) {
		if (!sa_set_sa(&got, (const struct sockaddr *)
			       &rt->hopv[i].addr) &&
		    sa_cmp(&want, &got, SA_ALL))
			return true;
	}
	return false;
}

/* One of our domains as XMPP partners resolve it.  Returns 1 when it
 * reaches every connector checked that serves XMPP, 0 when it does not
 * resolve (a warning, said here), -1 when it gives other servers (an
 * error, said here). */
static int report_ours_xmpp(FILE *f, const struct cfg *cfg,
			    const char *name, const struct check_item *it)
{
	const struct cn_route *rt = it->route;
	int rc = 1;
	size_t i;

	fprintf(f, "dns: our community %s, domain %s, xmpp (as XMPP partners "
		"resolve it: _xmpp-server._tcp, then A/AAAA at %u)\n",
		cfg->community.name, it->domain, CFG_XMPP_PORT);
	if (!it->done || !rt || rt->err || !rt->hopc) {
		const int err = !it->done ? ETIMEDOUT : rt && rt->err ?
			rt->err : it->err ? it->err : ENOENT;

		fprintf(f, "    does not resolve: %s\n", dns_error(err));
		fprintf(stderr, "stconnector check: warning: our domain %s "
			"has no _xmpp-server._tcp record nor address (%s): "
			"XMPP partners cannot open streams to us; publish "
			"_xmpp-server._tcp.%s pointing at our connectors' "
			"xmppPort\n", it->domain, dns_error(err), it->domain);
		return 0;
	}
	fprintf(f, "    resolved by %s %s\n", cn_route_src_name(rt->src),
		rt->name);
	for (i = 0; i < rt->hopc; i++) {
		fprintf(f, "    xmpp partners connect to: ");
		print_addr(f, &rt->hopv[i].addr, true);
		fprintf(f, " (target %s)\n", rt->hopv[i].target);
	}
	for (i = 0; i < cfg->nconnectors; i++) {
		const struct cfg_connector *cn = &cfg->connectors[i];
		const char *pub;

		if ((name && strcmp(name, cn->name)) || !serves_xmpp(cfg, cn))
			continue;
		pub = cn->advertise_ip ? cn->advertise_ip : cn->ip;
		if (hop_is(rt, pub, cn->xmpp_port)) {
			fprintf(f, "    connector %s %s:%u (xmppPort): reached\n",
				cn->name, pub, cn->xmpp_port);
			continue;
		}
		fprintf(f, "    connector %s %s:%u (xmppPort): NOT reached\n",
			cn->name, pub, cn->xmpp_port);
		fprintf(stderr, "stconnector check: error: our domain %s "
			"resolves for XMPP partners (%s %s) without "
			"CommunityConnector \"%s\" (%s:%u): they open their "
			"streams, and ask for our dialback keys, elsewhere; "
			"point _xmpp-server._tcp.%s at %s port %u\n",
			it->domain, cn_route_src_name(rt->src), rt->name,
			cn->name, pub, cn->xmpp_port, it->domain, pub,
			cn->xmpp_port);
		rc = -1;
	}
	return rc;
}

static int dns_setup(struct sst_dns **dnsp, const struct cfg *cfg)
{
	struct sst_dns_conf conf;

	memset(&conf, 0, sizeof(conf));
	conf.servers = (const char *const *)cfg->dns.servers.v;
	conf.serverc = cfg->dns.servers.n;
	conf.timeout_ms = cfg->dns.timeout_ms;
	return sst_dns_alloc(dnsp, &conf);
}

static int check_items(struct check_run *run, const struct cfg *cfg)
{
	size_t i, j, n = 0;

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];

		if (ex->proxy)
			n++;
		else
			for (j = 0; j < ex->domains.n; j++)
				n += strncmp(ex->domains.v[j], "*.", 2) != 0;
	}
	if (n > CHECK_LOOKUPS_MAX)
		return E2BIG;

	n += run->oursc ? cfg->community.domains.n + run->oursc - 1 : 0;
	n += run->xours_on ? cfg->community.domains.n : 0;
	run->itemv = mem_zalloc((n ? n : 1) * sizeof(*run->itemv), NULL);
	if (!run->itemv)
		return ENOMEM;

	for (i = 0; i < run->oursc; i++) {
		const struct cfg_extern *ex = &run->oursv[i];

		if (ex->proxy) {
			run->itemv[run->itemc].ours = true;
			run->itemv[run->itemc++].ex = ex;
			continue;
		}
		for (j = 0; j < ex->domains.n; j++) {
			run->itemv[run->itemc].ours = true;
			run->itemv[run->itemc].ex = ex;
			run->itemv[run->itemc++].domain = ex->domains.v[j];
		}
	}

	for (j = 0; run->xours_on && j < cfg->community.domains.n; j++) {
		run->itemv[run->itemc].ours = true;
		run->itemv[run->itemc].ex = &run->xours;
		run->itemv[run->itemc++].domain = cfg->community.domains.v[j];
	}

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];

		if (ex->proxy) {
			run->itemv[run->itemc++].ex = ex;
			continue;
		}
		for (j = 0; j < ex->domains.n; j++) {
			if (!strncmp(ex->domains.v[j], "*.", 2))
				continue;
			run->itemv[run->itemc].ex = ex;
			run->itemv[run->itemc++].domain = ex->domains.v[j];
		}
	}
	return 0;
}

/**
 * Resolve every external community of cfg and print the result to f.
 *
 * Communities that no CommunityConnector of the file enables are
 * resolved too, but their failure is only a warning.
 *
 * @return CN_EXIT_OK when every enabled community resolves, else
 *	   CN_EXIT_FAIL
 */
int cn_cmd_check_dns(const struct cfg *cfg, const char *name, FILE *f)
{
	struct check_run run;
	int good = 0, nours = 0, ours_bad = 0;
	struct sst_dns *dns = NULL;
	struct cn_resolve *res = NULL;
	struct tmr deadline;
	unsigned timeout;
	size_t i, failed = 0, bad;
	bool on;
	char tps[32];
	char *running = NULL;
	int err;

	memset(&run, 0, sizeof(run));
	tmr_init(&deadline);

	err = libre_init();
	if (err) {
		fprintf(stderr, "stconnector check: cannot start the event "
			"loop: %s\n", strerror(err));
		return CN_EXIT_FAIL;
	}

	err = dns_setup(&dns, cfg);
	if (err) {
		fprintf(stderr, "stconnector check: cannot set up the DNS "
			"resolver: %s\n", strerror(err));
		goto out;
	}
	ours_setup(&run, cfg);
	err = cn_resolve_alloc(&res, dns);
	if (!err)
		err = check_items(&run, cfg);
	if (err) {
		fprintf(stderr, "stconnector check: %s\n", strerror(err));
		goto out;
	}

	for (i = 0; i < run.itemc; i++) {
		struct check_item *it = &run.itemv[i];

		err = cn_resolve_lookup(&it->req, res, it->ex, it->domain,
					item_h, it);
		if (err) {
			it->done = true;
			it->err = err;
			err = 0;
		}
	}

	timeout = cfg->dns.timeout_ms ? cfg->dns.timeout_ms :
		SST_DNS_TIMEOUT_MS;
	tmr_start(&deadline, (uint64_t)timeout * CHECK_STAGES +
		  CHECK_SLACK_MS, deadline_h, &run);
	for (;;) {
		size_t left = 0;

		for (i = 0; i < run.itemc; i++)
			left += !run.itemv[i].done;
		if (!left || run.deadline)
			break;
		re_main(NULL);
	}
	tmr_cancel(&deadline);
	running = running_status(cfg);

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];
		size_t k;

		if (!ex->proxy && all_wild(ex)) {
			fprintf(f, "dns: extern community %s: only wildcard "
				"domains and no proxy: resolved per request "
				"for the request's domain (SRV, then "
				"A/AAAA)\n", ex->name);
			fprintf(f, "    accepted on: %s\n",
				cfg_transports_str(cfg_accepted_transports(ex),
						  tps, sizeof(tps)));
			if (ex->tp == CFG_TP_UDP)
				fprintf(f, "    warning: extern community %s "
					"may be reached over udp: UDP is open "
					"to source-address spoofing; prefer "
					"tls\n", ex->name);
			continue;
		}
		on = enabled_here(cfg, ex);
		bad = 0;
		for (k = 0; k < run.itemc; k++) {
			if (run.itemv[k].ex == ex &&
			    !report(f, res, &run.itemv[k], on,
				    cfg->dns.stale_s, running))
				bad++;
		}
		/* only enabled communities fail the check */
		failed += on && bad > 0;
	}

	for (i = 0; i < run.itemc; i++) {
		const struct check_item *it = &run.itemv[i];
		int r;

		if (!it->ours)
			continue;
		if (it->ex == &run.xours) {
			if (report_ours_xmpp(f, cfg, name, it) < 0)
				ours_bad++;
			continue;
		}
		nours++;
		r = report_ours(f, cfg, name, it);
		if (r < 0)
			ours_bad++;
		else
			good += r;
	}
	if (nours && !good && !ours_bad) {
		fprintf(stderr, "stconnector check: error: no name of ours "
			"resolves (%s and the certificate's names): partners "
			"can neither reach nor trust this community; publish "
			"SRV or A/AAAA records for it\n",
			cfg->community.domains.v[0]);
		ours_bad++;
	}

 out:
	free(running);
	for (i = 0; i < run.itemc; i++) {
		mem_deref(run.itemv[i].req);
		mem_deref(run.itemv[i].route);
	}
	mem_deref(run.itemv);
	mem_deref(res);
	mem_deref(dns);
	libre_close();

	if (err)
		return CN_EXIT_FAIL;
	if (failed)
		fprintf(stderr, "stconnector check: %zu external "
			"communit%s did not resolve\n", failed,
			failed == 1 ? "y" : "ies");
	if (ours_bad)
		fprintf(stderr, "stconnector check: %d problem%s with our own "
			"records\n", ours_bad, ours_bad == 1 ? "" : "s");
	if (failed || ours_bad)
		return CN_EXIT_FAIL;
	return CN_EXIT_OK;
}
