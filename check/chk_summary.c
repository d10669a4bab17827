/*
 * chk_summary.c -- what a community file configures, for people: the
 * first part of both programs' `check` output.  Secrets are never
 * printed, only the paths of the files that hold them.
 */
#include <string.h>

#include "check/chk.h"

static void print_strv(FILE *f, const struct cfg_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		fprintf(f, "%s%s", i ? ", " : "", sv->v[i]);
}

static void print_listens(FILE *f, const char *what,
			  const struct cfg_listenv *lv)
{
	size_t i;

	fprintf(f, "    %s:", what);
	for (i = 0; i < lv->n; i++) {
		const struct cfg_listen *l = &lv->v[i];
		const bool v6 = strchr(l->addr, ':') != NULL;

		fprintf(f, " %s %s%s%s:%u", cfg_transport_name(l->tp),
			v6 ? "[" : "", l->addr, v6 ? "]" : "", l->port);
	}
	fprintf(f, "\n");
}

/* The community's rates and subscription cap, when it has any. */
static void print_limits(FILE *f, const struct cfg_extern *ex)
{
	const struct {
		const char *name, *unit;
		unsigned v;
	} lv[] = {
		{"messageRate", "/s", ex->message_rate},
		{"notifyRate", "/s", ex->notify_rate},
		{"subscribeRate", "/s", ex->subscribe_rate},
		{"subscriptionsMax", " held", ex->subs_max},
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		if (!lv[i].v)
			continue;
		fprintf(f, "%s%s %u%s", n++ ? ", " : "    limits each way: ",
			lv[i].name, lv[i].v, lv[i].unit);
	}
	if (n)
		fprintf(f, "\n");
}

void chk_summary(FILE *f, const struct cfg *cfg,
		    const struct cfg_diag *diag)
{
	const struct cfg_directory *d = &cfg->directory;
	size_t i, j;

	fprintf(f, "file: %s\n", cfg->path);
	fprintf(f, "community %s: ", cfg->community.name);
	print_strv(f, &cfg->community.domains);
	fprintf(f, "\n");

	for (i = 0; i < cfg->ngateways; i++) {
		const struct cfg_gateway *gw = &cfg->gateways[i];

		fprintf(f, "gateway %s: external communities %s, "
			"convert IDs %s\n", gw->name,
			gw->support_external ? "yes" : "no",
			gw->convert_id ? "yes" : "no");
		print_listens(f, "clients", &gw->clients);
		print_listens(f, "connectors", &gw->connectors);
	}

	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];
		char tps[32];

		fprintf(f, "extern community %s: ", ex->name);
		print_strv(f, &ex->domains);
		if (ex->protocol == CFG_PROTO_XMPP) {
			/* TCP with STARTTLS always: no transports */
			fprintf(f, "; xmpp, proxy %s, port %u (STARTTLS)\n",
				ex->proxy ? ex->proxy :
				"(by DNS of the domain)", ex->port);
			print_limits(f, ex);
			continue;
		}
		fprintf(f, "; proxy %s, %s port %u; accepted on %s\n",
			ex->proxy ? ex->proxy : "(by DNS of the domain)",
			cfg_transport_name(ex->tp), ex->port,
			cfg_transports_str(cfg_accepted_transports(ex), tps,
					   sizeof(tps)));
		print_limits(f, ex);
	}

	for (i = 0; i < cfg->nconnectors; i++) {
		const struct cfg_connector *cn = &cfg->connectors[i];

		bool xmpp = false;

		for (j = 0; j < cn->ncommunities; j++) {
			const struct cfg_extern *ex = NULL;
			size_t k;

			for (k = 0; k < cfg->nexterns; k++)
				if (!strcmp(cfg->externs[k].name,
					    cn->communities[j].community))
					ex = &cfg->externs[k];
			xmpp |= ex && ex->protocol == CFG_PROTO_XMPP;
		}
		fprintf(f, "connector %s: %s port %u, tls port %u", cn->name,
			cn->ip, cn->port, cn->tls_port);
		if (xmpp)
			fprintf(f, ", xmpp port %u", cn->xmpp_port);
		fprintf(f, "; gateways ");
		print_strv(f, &cn->gateways);
		fprintf(f, "\n");
		for (j = 0; j < cn->ncommunities; j++)
			fprintf(f, "    supports %s: %s\n",
				cn->communities[j].community,
				cn->communities[j].enabled ? "enabled" :
				"disabled");
	}

	if (cfg->connectivity.trusted_ips.n) {
		fprintf(f, "trusted connector IPs: ");
		print_strv(f, &cfg->connectivity.trusted_ips);
		fprintf(f, "\n");
	}

	if (!d->present)
		fprintf(f, "directory: none\n");
	else if (d->backend == CFG_DIR_FILE)
		fprintf(f, "directory: file %s\n", d->file);
	else {
		fprintf(f, "directory: ldap ");
		print_strv(f, &d->urls);
		fprintf(f, " base %s scope %s\n", d->base,
			cfg_scope_name(d->scope));
	}
	if (d->present)
		fprintf(f, "    attributes id=%s email=%s; privacy default %s;"
			" cache %u entries, ttl %u s, negative %u s\n",
			d->attr_id, d->attr_email,
			cfg_privacy_name(d->privacy), d->cache_size,
			d->cache_ttl, d->neg_ttl);

	if (cfg->tls.present)
		fprintf(f, "tls: certificate %s, key %s, ca %s, verify %s\n",
			cfg->tls.cert, cfg->tls.key,
			cfg->tls.ca ? cfg->tls.ca : "(none)",
			cfg->tls.verify == CFG_VERIFY_REQUIRED ? "required" :
			"none");
	else
		fprintf(f, "tls: not configured\n");

	if (cfg->dns.servers.n) {
		fprintf(f, "dns: ");
		print_strv(f, &cfg->dns.servers);
		if (cfg->dns.timeout_ms)
			fprintf(f, ", timeout %u ms", cfg->dns.timeout_ms);
		else
			fprintf(f, ", the resolver's default timeout");
	}
	else
		fprintf(f, "dns: the system resolver");
	if (cfg->dns.stale_s)
		fprintf(f, "; expired answers serve up to %u s while the "
			"DNS fails\n", cfg->dns.stale_s);
	else
		fprintf(f, "; expired answers never serve\n");

	fprintf(f, "trace: %s\n", cfg->trace.enable ? "enabled" : "disabled");

	for (i = 0; i < diag->n; i++)
		fprintf(f, "%s\n", diag->msg[i]);
}

