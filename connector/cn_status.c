/*
 * cn_status.c -- what `stconnector status` shows, as one tree printed
 * for people or as JSON, and the rule that says "degraded".
 *
 * The tree (keys are stable; JSON consumers may rely on them):
 *	version, connector, pid, uptime, health ("ok" or "degraded"),
 *	degraded_because (a list of words: reload, link, gateways, dns;
 *	empty when ok; a JSON array)
 *	config: file, loaded (UTC), last_reload (none|ok|failed),
 *		last_reload_at, pending_restart (what a reload could not
 *		apply, "none"), messages (list of {text})
 *	listeners: list of {transport, address, port}; empty until the
 *		proxy core binds (never invented here)
 *	totals: messages_in, messages_out, last_rejection,
 *		rejections {every reason: count}
 *	gateways: list of {name, addresses, state, messages_in,
 *		messages_out, last_error}
 *	communities: list of {name, domains, proxy, transport,
 *		accepted_transports ("tcp tls", weakest first), port,
 *		enabled, link, dns ("ok", or "stale since TIME" while
 *		expired answers serve), last_error, last_error_at,
 *		next_retry_in,
 *		next_hops (list of {address, port, transport, ttl}),
 *		tls {known, peer, cipher, verdict, days_to_expiry},
 *		messages_in, messages_out, last_rejection,
 *		last_rejection_at, rejections {every reason: count}}
 *	audit: the Audit record's settings and counters (cn_audit.c)
 *	dns: the resolver's counters, when the proxy core has a resolver
 *	then the proxy core's own sections (cn_link.c: proxy; cn_admit.c:
 *	admission, the descriptor budget, connection counts and the
 *	noisiest conn-limit sources; cn_rate.c: rates, per community its
 *	limits, rates and subscriptions held, cn_subs.c)
 * Every reason is always present, with 0 when nothing was refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "daemon/dmn.h"
#include "sipstack/sst_dns.h"
#include "connector/cn.h"
#include "connector/cn_audit.h"

unsigned cn_degraded(const struct cn *cn)
{
	unsigned why = 0;
	size_t down = 0, ngw = 0;
	struct le *le;

	if (!cn)
		return 0;

	if (cn->reload == CN_RELOAD_FAILED)
		why |= CN_DEG_RELOAD;

	for (le = cn->comms.head; le; le = le->next) {
		const struct cn_comm *c = le->data;

		if (c->enabled && c->link == CN_LINK_DOWN)
			why |= CN_DEG_LINK;
		if (c->enabled && c->dns_stale_since)
			why |= CN_DEG_DNS;
	}

	for (le = cn->gws.head; le; le = le->next) {
		const struct cn_gw *g = le->data;

		ngw++;
		if (g->state == CN_GW_DOWN)
			down++;
	}
	if (ngw && down == ngw)
		why |= CN_DEG_GATEWAYS;

	return why;
}

static void put_time(struct dmn_st *o, const char *key, time_t t)
{
	char buf[32] = "never";
	struct tm tm;

	if (t && gmtime_r(&t, &tm))
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dmn_st_str(o, key, buf);
}

static void put_counts(struct dmn_st *o, const struct cn_counts *cnt,
		       bool in_out)
{
	struct dmn_st *r;
	int i;

	if (in_out) {
		dmn_st_int(o, "messages_in", (int64_t)cnt->msgs_in);
		dmn_st_int(o, "messages_out", (int64_t)cnt->msgs_out);
	}
	dmn_st_str(o, "last_rejection", cnt->last_reject);
	put_time(o, "last_rejection_at", cnt->last_reject_at);
	r = dmn_st_section(o, "rejections");
	for (i = CN_OK + 1; i < CN_R_COUNT; i++)
		dmn_st_int(r, cn_reason_name((enum cn_reason)i),
			   (int64_t)cnt->rejects[i]);
}

static void put_config(struct dmn_st *root, const struct cn *cn)
{
	struct dmn_st *o = dmn_st_section(root, "config");
	struct dmn_st *l;
	size_t i;

	dmn_st_str(o, "file", cn->cfgpath);
	put_time(o, "loaded", cn->loaded);
	dmn_st_str(o, "last_reload",
		   cn->reload == CN_RELOAD_OK ? "ok" :
		   cn->reload == CN_RELOAD_FAILED ? "failed" : "none");
	put_time(o, "last_reload_at", cn->reload_at);
	dmn_st_str(o, "pending_restart", cn->pending[0] ? cn->pending :
		   "none");
	l = dmn_st_list(o, "messages");
	for (i = 0; i < cn->reload_diag.n; i++)
		dmn_st_str(dmn_st_item(l), "text", cn->reload_diag.msg[i]);
	if (cn->reload_note[0])
		dmn_st_str(dmn_st_item(l), "text", cn->reload_note);

	dmn_trace_status(root, cn->trace, cn->cfg->trace.enable,
			 cn->cfg->trace.file, cn->cfg->trace.level,
			 cn->trace_err);
}

static void put_listens(struct dmn_st *o, const char *key,
			const struct cfg_listenv *lv)
{
	char buf[512] = "";
	size_t i, n = 0;

	for (i = 0; i < lv->n && n < sizeof(buf); i++) {
		const struct cfg_listen *l = &lv->v[i];
		const bool v6 = strchr(l->addr, ':') != NULL;
		int r;

		r = snprintf(buf + n, sizeof(buf) - n, "%s%s %s%s%s:%u",
			     i ? ", " : "", cfg_transport_name(l->tp),
			     v6 ? "[" : "", l->addr, v6 ? "]" : "", l->port);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	dmn_st_str(o, key, buf);
}

static void put_gateways(struct dmn_st *root, const struct cn *cn)
{
	struct dmn_st *l = dmn_st_list(root, "gateways");
	struct le *le;

	for (le = cn->gws.head; le; le = le->next) {
		const struct cn_gw *g = le->data;
		struct dmn_st *it = dmn_st_item(l);
		static const struct cfg_listenv none;

		dmn_st_str(it, "name", g->name);
		put_listens(it, "addresses", g->gw ? &g->gw->connectors : &none);
		dmn_st_str(it, "state", cn_gw_state_name(g->state));
		dmn_st_int(it, "messages_in", (int64_t)g->msgs_in);
		dmn_st_int(it, "messages_out", (int64_t)g->msgs_out);
		dmn_st_str(it, "last_error", g->last_error);
	}
}

static void put_domains(struct dmn_st *o, const struct cfg_strv *sv)
{
	char buf[1024] = "";
	size_t i, n = 0;

	for (i = 0; i < sv->n && n < sizeof(buf); i++) {
		int r = snprintf(buf + n, sizeof(buf) - n, "%s%s",
				 i ? "," : "", sv->v[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	dmn_st_str(o, "domains", buf);
}

static void put_comm(struct dmn_st *it, const struct cn_comm *c, time_t now)
{
	const struct cfg_extern *ex = c->ex;
	struct dmn_st *hl, *tls;
	char buf[64];
	size_t i;

	dmn_st_str(it, "name", c->name);
	put_domains(it, &ex->domains);
	dmn_st_str(it, "proxy", ex->proxy ? ex->proxy : "");
	dmn_st_str(it, "transport", cfg_transport_name(ex->tp));
	dmn_st_str(it, "accepted_transports",
		   cfg_transports_str(cfg_accepted_transports(ex), buf,
				     sizeof(buf)));
	dmn_st_int(it, "port", ex->port);
	dmn_st_bool(it, "enabled", c->enabled);
	dmn_st_str(it, "protocol", ex->protocol == CFG_PROTO_XMPP ? "xmpp" :
		   "sip");
	dmn_st_str(it, "link", cn_link_name(c->link));
	if (c->dns_stale_since) {
		struct tm tm;
		char t[32] = "?";

		if (gmtime_r(&c->dns_stale_since, &tm))
			strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(buf, sizeof(buf), "stale since %s", t);
		dmn_st_str(it, "dns", buf);
	}
	else {
		dmn_st_str(it, "dns", "ok");
	}
	dmn_st_str(it, "last_error", c->last_error);
	put_time(it, "last_error_at", c->last_error_at);
	/* only a link waiting to be retried has a retry */
	if (c->next_retry > now)
		dmn_st_dur(it, "next_retry_in",
			   (uint64_t)(c->next_retry - now) * 1000);

	hl = dmn_st_list(it, "next_hops");
	for (i = 0; i < c->nhops; i++) {
		struct dmn_st *h = dmn_st_item(hl);

		dmn_st_str(h, "address", c->hops[i].addr);
		dmn_st_int(h, "port", c->hops[i].port);
		dmn_st_str(h, "transport", cfg_transport_name(c->hops[i].tp));
		dmn_st_int(h, "ttl", c->hops[i].ttl);
	}

	tls = dmn_st_section(it, "tls");
	dmn_st_bool(tls, "known", c->tls.known);
	dmn_st_str(tls, "peer", c->tls.peer);
	dmn_st_str(tls, "cipher", c->tls.cipher);
	dmn_st_str(tls, "verdict", c->tls.verdict);
	dmn_st_int(tls, "days_to_expiry", c->tls.known ? c->tls.days_left : 0);

	put_counts(it, &c->cnt, true);
}

static void put_dns(struct dmn_st *root, const struct sst_dns *dns)
{
	struct sst_dns_stats s;
	struct dmn_st *o;

	sst_dns_stats(dns, &s);
	o = dmn_st_section(root, "dns");
	dmn_st_int(o, "queries", (int64_t)s.queries);
	dmn_st_int(o, "hits", (int64_t)s.hits);
	dmn_st_int(o, "negative_hits", (int64_t)s.neg_hits);
	dmn_st_int(o, "misses", (int64_t)s.misses);
	dmn_st_int(o, "coalesced", (int64_t)s.coalesced);
	dmn_st_int(o, "timeouts", (int64_t)s.timeouts);
	dmn_st_int(o, "truncated_retries", (int64_t)s.trunc_retries);
	dmn_st_int(o, "errors", (int64_t)s.errors);
	dmn_st_int(o, "evictions", (int64_t)s.evictions);
	dmn_st_int(o, "entries", (int64_t)s.entries);
	dmn_st_int(o, "pending", (int64_t)s.pending);
	dmn_st_int(o, "targets_down", (int64_t)s.down);
}

int cn_status_build(struct dmn_st **stp, struct cn *cn)
{
	const unsigned deg = cn_degraded(cn);
	const time_t now = time(NULL);
	struct dmn_st *st = NULL, *o, *l;
	const char *why[4];
	size_t nwhy = 0;
	struct le *le;
	int err;

	if (!stp || !cn)
		return EINVAL;

	err = dmn_st_alloc(&st);
	if (err)
		return err;

	if (deg & CN_DEG_RELOAD)
		why[nwhy++] = "reload";
	if (deg & CN_DEG_LINK)
		why[nwhy++] = "link";
	if (deg & CN_DEG_GATEWAYS)
		why[nwhy++] = "gateways";
	if (deg & CN_DEG_DNS)
		why[nwhy++] = "dns";

	dmn_st_str(st, "version", PACKAGE_VERSION);
	dmn_st_str(st, "connector", cn->name);
	dmn_st_int(st, "pid", (int64_t)getpid());
	dmn_st_dur(st, "uptime", cn_uptime_ms(cn));
	dmn_st_str(st, "health", deg ? "degraded" : "ok");
	dmn_st_words(st, "degraded_because", why, nwhy);

	put_config(st, cn);
	cn_audit_status(cn, st);

	l = dmn_st_list(st, "listeners");
	for (le = cn->listeners.head; le; le = le->next) {
		const struct cn_listener *li = le->data;
		struct dmn_st *it = dmn_st_item(l);

		dmn_st_str(it, "transport", cfg_transport_name(li->tp));
		dmn_st_str(it, "address", li->addr);
		dmn_st_int(it, "port", li->port);
	}

	o = dmn_st_section(st, "totals");
	put_counts(o, &cn->total, true);

	put_gateways(st, cn);

	l = dmn_st_list(st, "communities");
	for (le = cn->comms.head; le; le = le->next)
		put_comm(dmn_st_item(l), le->data, now);

	if (cn->dns)
		put_dns(st, cn->dns);
	if (cn->ops && cn->ops->status)
		cn->ops->status(cn, st);

	err = dmn_st_err(st);
	if (err)
		mem_deref(st);
	else
		*stp = st;
	return err;
}

/* ------------------------------------------------------------------ */
/* The one-screen summary: one line per thing, read from the tree. */

/* "udp 1.2.3.4:5060, tls 1.2.3.4:5061" from a list of {transport,
 * address, port}. */
static int hops_h(struct re_printf *pf, void *arg)
{
	const struct dmn_st *l = arg, *it;
	int err = 0;

	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		const char *a = dmn_st_gets(it, "address");
		const bool v6 = strchr(a, ':') != NULL;

		err |= re_hprintf(pf, "%s%s %s%s%s:%lld",
				  it == dmn_st_next(l, NULL) ? "" : ", ",
				  dmn_st_gets(it, "transport"), v6 ? "[" : "",
				  a, v6 ? "]" : "",
				  (long long)dmn_st_geti(it, "port"));
	}
	if (!dmn_st_next(l, NULL))
		err |= re_hprintf(pf, "none");
	return err;
}

static int64_t refused_sum(const struct dmn_st *r)
{
	const struct dmn_st *k;
	int64_t n = 0;

	for (k = dmn_st_next(r, NULL); k; k = dmn_st_next(r, k))
		if (dmn_st_isint(k))
			n += dmn_st_geti(k, NULL);
	return n;
}

static void sum_refused(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *r = dmn_st_get(st, "totals.rejections"), *k;
	const char *names[CN_R_COUNT];
	int64_t counts[CN_R_COUNT];
	size_t n = 0;

	for (k = dmn_st_next(r, NULL); k && n < CN_R_COUNT;
	     k = dmn_st_next(r, k)) {
		names[n] = dmn_st_key(k);
		counts[n++] = dmn_st_geti(k, NULL);
	}
	dmn_sum_refused(sum, "refused", names, counts, n);
}

static void sum_problems(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l, *it;
	struct dmn_st *p = NULL;
	char key[96];

	if (!strcmp(dmn_st_gets(st, "health"), "ok"))
		return;
	dmn_st_strf(sum, "degraded_because", "%H", dmn_st_pvalue,
		    (void *)dmn_st_get(st, "degraded_because"));
	p = dmn_st_section(sum, "problems");

	if (!strcmp(dmn_st_gets(st, "config.last_reload"), "failed")) {
		const struct dmn_st *m = dmn_st_next(dmn_st_get(st,
						"config.messages"), NULL);

		dmn_st_strf(p, "reload", "failed at %s%s%s",
			    dmn_st_gets(st, "config.last_reload_at"),
			    m ? ": " : "", m ? dmn_st_gets(m, "text") : "");
	}

	l = dmn_st_get(st, "communities");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		const char *name = dmn_st_gets(it, "name");

		if (!dmn_st_geti(it, "enabled"))
			continue;
		if (!strcmp(dmn_st_gets(it, "link"), "down")) {
			const struct dmn_st *rt = dmn_st_get(it,
							     "next_retry_in");

			re_snprintf(key, sizeof(key), "link %s", name);
			dmn_st_strf(p, key, "down since %s: %s%s%H",
				    dmn_st_gets(it, "last_error_at"),
				    dmn_st_gets(it, "last_error")[0] ?
				    dmn_st_gets(it, "last_error") :
				    "no answer",
				    rt ? "; retry in " : "",
				    dmn_st_pvalue, (void *)rt);
		}
		if (strcmp(dmn_st_gets(it, "dns"), "ok")) {
			re_snprintf(key, sizeof(key), "dns %s", name);
			dmn_st_strf(p, key, "answers %s (the DNS fails)",
				    dmn_st_gets(it, "dns"));
		}
	}

	l = dmn_st_get(st, "gateways");
	it = dmn_st_next(l, NULL);
	if (it) {
		bool all_down = true;

		for (; it; it = dmn_st_next(l, it))
			all_down &= !strcmp(dmn_st_gets(it, "state"), "down");
		if (all_down) {
			it = dmn_st_next(l, NULL);
			dmn_st_strf(p, "gateways", "every gateway is down "
				    "(%s: %s)", dmn_st_gets(it, "name"),
				    dmn_st_gets(it, "last_error")[0] ?
				    dmn_st_gets(it, "last_error") :
				    "no answer");
		}
	}
}

static void sum_gateways(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l = dmn_st_get(st, "gateways"), *it;
	struct dmn_st *o;

	if (!dmn_st_next(l, NULL)) {
		dmn_st_str(sum, "gateways", "none");
		return;
	}
	o = dmn_st_section(sum, "gateways");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		const char *err = dmn_st_gets(it, "last_error");
		const bool up = !strcmp(dmn_st_gets(it, "state"), "up");

		dmn_st_strf(o, dmn_st_gets(it, "name"),
			    "%s, %s, %lld in, %lld out%s%s",
			    dmn_st_gets(it, "state"),
			    dmn_st_gets(it, "addresses")[0] ?
			    dmn_st_gets(it, "addresses") : "no address",
			    (long long)dmn_st_geti(it, "messages_in"),
			    (long long)dmn_st_geti(it, "messages_out"),
			    !up && err[0] ? "; " : "", !up ? err : "");
	}
}

/* An XMPP community's line: its streams (the xmpp section), not SIP
 * hops it does not have. */
static void sum_xmpp_comm(struct dmn_st *o, const struct dmn_st *st,
			  const struct dmn_st *it)
{
	const struct dmn_st *l = dmn_st_get(st, "xmpp.communities"), *x;
	const char *name = dmn_st_gets(it, "name");

	for (x = dmn_st_next(l, NULL); x; x = dmn_st_next(l, x)) {
		const struct dmn_st *sl = dmn_st_get(x, "streams"), *s;
		const char *err = dmn_st_gets(x, "last_error");
		const char *link = dmn_st_gets(x, "link");
		unsigned in = 0, out = 0;

		if (strcmp(dmn_st_gets(x, "name"), name))
			continue;
		for (s = dmn_st_next(sl, NULL); s; s = dmn_st_next(sl, s)) {
			if (strcmp(dmn_st_gets(s, "state"), "ready"))
				continue;
			if (!strcmp(dmn_st_gets(s, "direction"), "in"))
				++in;
			else
				++out;
		}
		dmn_st_strf(o, name, "%s, xmpp streams ready: %u in, %u out, "
			    "%lld stanzas in, %lld out, %lld refused%s%s",
			    link, in, out,
			    (long long)dmn_st_geti(x, "stanzas_in"),
			    (long long)dmn_st_geti(x, "stanzas_out"),
			    (long long)(dmn_st_geti(x, "untrusted_ip") +
					dmn_st_geti(x, "tls_refused")),
			    strcmp(link, "up") && err[0] ? "; " : "",
			    strcmp(link, "up") ? err : "");
		return;
	}
	dmn_st_strf(o, name, "%s, xmpp, no stream yet",
		    dmn_st_gets(it, "link"));
}

static void sum_communities(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l = dmn_st_get(st, "communities"), *it;
	struct dmn_st *o;

	if (!dmn_st_next(l, NULL)) {
		dmn_st_str(sum, "communities", "none");
		return;
	}
	o = dmn_st_section(sum, "communities");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		const struct dmn_st *hops = dmn_st_get(it, "next_hops");
		const struct dmn_st *tls = dmn_st_get(it, "tls");
		const char *link = dmn_st_gets(it, "link");
		const char *err = dmn_st_gets(it, "last_error");
		char tbuf[160] = "", hbuf[256];

		if (!dmn_st_geti(it, "enabled")) {
			dmn_st_str(o, dmn_st_gets(it, "name"),
				   "disabled (enabled=\"false\")");
			continue;
		}
		if (!strcmp(dmn_st_gets(it, "protocol"), "xmpp")) {
			sum_xmpp_comm(o, st, it);
			continue;
		}
		if (dmn_st_geti(tls, "known"))
			re_snprintf(tbuf, sizeof(tbuf), "; tls %s %s, %lld "
				    "days left", dmn_st_gets(tls, "verdict"),
				    dmn_st_gets(tls, "peer"),
				    (long long)dmn_st_geti(tls,
							   "days_to_expiry"));
		if (dmn_st_next(hops, NULL))
			re_snprintf(hbuf, sizeof(hbuf), "%H", hops_h,
				    (void *)hops);
		else
			re_snprintf(hbuf, sizeof(hbuf), "no next hop yet "
				    "(%s %s:%lld)", dmn_st_gets(it, "transport"),
				    dmn_st_gets(it, "proxy")[0] ?
				    dmn_st_gets(it, "proxy") : "by the domain",
				    (long long)dmn_st_geti(it, "port"));
		dmn_st_strf(o, dmn_st_gets(it, "name"),
			    "%s, %s, %lld in, %lld out, %lld refused%s%s%s",
			    link, hbuf,
			    (long long)dmn_st_geti(it, "messages_in"),
			    (long long)dmn_st_geti(it, "messages_out"),
			    (long long)refused_sum(dmn_st_get(it,
							      "rejections")),
			    tbuf, strcmp(link, "up") && err[0] ? "; " : "",
			    strcmp(link, "up") ? err : "");
	}
}

int cn_status_summary(struct dmn_st **sump, const struct dmn_st *st,
		      void *arg)
{
	const struct cn *cn = arg;
	const struct dmn_st *adm = dmn_st_get(st, "admission");
	const struct cfg_connector *boot;
	struct dmn_st *sum = NULL;
	int err;

	if (!sump || !st || !cn)
		return EINVAL;
	err = dmn_st_alloc(&sum);
	if (err)
		return err;

	dmn_st_str(sum, "connector", dmn_st_gets(st, "connector"));
	dmn_st_str(sum, "health", dmn_st_gets(st, "health"));
	sum_problems(sum, st);
	dmn_st_strf(sum, "version", "%s (pid %lld, up %H)",
		    dmn_st_gets(st, "version"),
		    (long long)dmn_st_geti(st, "pid"), dmn_st_pvalue,
		    (void *)dmn_st_get(st, "uptime"));
	dmn_st_strf(sum, "config", "%s (loaded %s; last reload: %s)",
		    dmn_st_gets(st, "config.file"),
		    dmn_st_gets(st, "config.loaded"),
		    dmn_st_gets(st, "config.last_reload"));
	dmn_st_str(sum, "pending_restart",
		   dmn_st_gets(st, "config.pending_restart"));
	if (dmn_st_gets(st, "xmpp.listen")[0])
		dmn_st_strf(sum, "listeners", "%H; xmpp %s", hops_h,
			    (void *)dmn_st_get(st, "listeners"),
			    dmn_st_gets(st, "xmpp.listen"));
	else
		dmn_st_strf(sum, "listeners", "%H", hops_h,
			    (void *)dmn_st_get(st, "listeners"));
	dmn_st_strf(sum, "messages", "%lld in, %lld out",
		    (long long)dmn_st_geti(st, "totals.messages_in"),
		    (long long)dmn_st_geti(st, "totals.messages_out"));
	sum_refused(sum, st);
	if (adm)
		dmn_st_strf(sum, "connections", "%lld (%lld inbound, %lld "
			    "untrusted; cap %lld, %lld refused)",
			    (long long)dmn_st_geti(adm, "connections"),
			    (long long)dmn_st_geti(adm, "inbound"),
			    (long long)dmn_st_geti(adm, "untrusted"),
			    (long long)dmn_st_geti(adm, "max_connections"),
			    (long long)dmn_st_geti(adm, "refused"));
	sum_gateways(sum, st);
	sum_communities(sum, st);
	/* the endpoint bound at start: a reload does not move it */
	boot = cn->boot ? cfg_connector_find(cn->boot, cn->name) : cn->self;
	dmn_sum_where(sum, st, boot ? boot->metrics : NULL);
	dmn_sum_more(sum, st);

	err = dmn_st_err(sum);
	if (err)
		mem_deref(sum);
	else
		*sump = sum;
	return err;
}
