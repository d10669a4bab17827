/*
 * gw_ctl.c -- the gateway's status tree and control commands, both
 * sides.
 *
 * Daemon side (rows of the control socket's table; dmn.h adds "help"):
 *	status [--json] [--all] [SECTION...]
 *	                  the one-screen summary (gw_status_summary, read
 *	                  from the tree), the whole tree (--all, --json) or
 *	                  its SECTIONs; exit 0 healthy, 1 degraded
 *	                  (degraded_because: directory, reload, links,
 *	                  store)
 *	reload            load the file again; 0, or 1 with the errors
 *	reset [CONNECTOR] probe down links now, retry backed-off
 *	                  federation subscriptions; 2: no such link
 * CLI side: `stgateway status|reload|reset [-c FILE] [-n NAME] [-s SOCKET]`
 *	finds the control socket in the file (or takes -s), asks, and
 *	exits with the daemon's status (3 when it is not running):
 *	daemon/dmn_cli.c and conf/cfg_ctl.c, given the gateway's record.
 *	A file with errors still names the socket, as for the connector.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_timer.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_ctl.h"
#include "gateway/gw_ctx.h"
#include "gateway/gw_link.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_store.h"
#include "gateway/gw_reg.h"

struct contacts_ctx {
	struct dmn_st *list;
	uint64_t now;
};

static bool contact_add(const struct gw_binding *b, void *arg)
{
	struct contacts_ctx *cc = arg;
	struct dmn_st *it = dmn_st_item(cc->list);
	const struct sst_flow *fl = b->flow;
	char src[GW_ADDR_MAX] = "";

	dmn_st_str(it, "uri", b->uri);
	if (fl) {
		re_snprintf(src, sizeof(src), "%J", &fl->src);
		dmn_st_str(it, "transport", sst_tp_name(fl->tp));
		dmn_st_str(it, "source", src);
	}
	dmn_st_dur(it, "expires_in", (b->expires - cc->now) * 1000);
	return false;
}

struct users_ctx {
	struct gw *gw;
	struct dmn_st *list;
	uint64_t now;
};

static void user_add(const char *aor, void *arg)
{
	struct users_ctx *uc = arg;
	struct contacts_ctx cc;
	struct dmn_st *it;

	if (!gw_reg_registered(uc->gw->reg, aor, uc->now))
		return;
	it = dmn_st_item(uc->list);
	dmn_st_str(it, "aor", aor);
	dmn_st_str(it, "presence", sst_status_name(gw_pres_status(uc->gw,
								 aor)));
	cc.list = dmn_st_list(it, "contacts");
	cc.now = uc->now;
	(void)gw_reg_contacts(uc->gw->reg, aor, uc->now, contact_add, &cc);
}

static void add_listeners(struct dmn_st *root, const struct gw *gw)
{
	struct dmn_st *l = dmn_st_list(root, "listeners");
	struct le *le;

	for (le = gw->lsnrs.head; le; le = le->next) {
		const struct gw_lsnr *ls = le->data;
		struct dmn_st *it = dmn_st_item(l);
		const struct sst_counters *c;
		char a[GW_ADDR_MAX];

		re_snprintf(a, sizeof(a), "%J", &ls->addr);
		dmn_st_str(it, "transport", sst_tp_name(ls->tp));
		dmn_st_str(it, "address", a);
		c = sst_transp_counters(gw->tp, ls->tp);
		if (c) {
			dmn_st_int(it, "msgs_in", (int64_t)c->msgs_in);
			dmn_st_int(it, "msgs_out", (int64_t)c->msgs_out);
		}
	}
}

static void add_trace(struct dmn_st *root, const struct gw *gw)
{
	dmn_trace_status(root, gw->trace, gw->cfg->trace.enable,
			 gw->cfg->trace.file, gw->cfg->trace.level,
			 gw->trace_err);
}

static void add_directory(struct dmn_st *root, const struct gw *gw)
{
	struct dmn_st *d = dmn_st_section(root, "directory");
	struct dir_stats ds;

	dir_stats_get(gw->dir, &ds);
	dmn_st_str(d, "backend", gw->cfg->directory.backend == CFG_DIR_LDAP ?
		   "ldap" : "file");
	dmn_st_str(d, "server", ds.server);
	dmn_st_bool(d, "up", ds.up);
	dmn_st_int(d, "lookups", (int64_t)ds.lookups);
	dmn_st_int(d, "cache_hits", (int64_t)ds.hits);
	dmn_st_int(d, "cache_misses", (int64_t)ds.misses);
	dmn_st_int(d, "cache_hit_rate_pct", ds.lookups ?
		   (int64_t)(ds.hits * 100 / ds.lookups) : 0);
	dmn_st_int(d, "cached", (int64_t)ds.cached);
	dmn_st_int(d, "errors", (int64_t)ds.errors);
	dmn_st_int(d, "avg_us", (int64_t)ds.avg_us);
	dmn_st_str(d, "last_error", ds.last_error);
	dmn_st_int(d, "answer_timeout_ms", gw->cfg->directory.answer_ms);
	dmn_st_int(d, "answered_503_slow", (int64_t)gw->c.dir_slow);
	dmn_st_int(d, "ambiguous_refused", (int64_t)gw->c.dir_ambiguous);
}

/* The words of gw_degraded's reasons (a JSON array; empty when ok). */
static void add_degraded(struct dmn_st *root, const struct gw *gw)
{
	const char *why[4];
	struct dir_stats ds;
	size_t n = 0;

	dir_stats_get(gw->dir, &ds);
	if (!ds.up)
		why[n++] = "directory";
	if (gw->reload_failed)
		why[n++] = "reload";
	if (gw_fed_degraded(gw))
		why[n++] = "links";
	if (gw_store_degraded(gw))
		why[n++] = "store";
	dmn_st_words(root, "degraded_because", why, n);
}

int gw_status_build(struct dmn_st **stp, struct gw *gw)
{
	const uint64_t now = gw_now();
	struct gw_reg_stats rs;
	struct users_ctx uc;
	struct dmn_st *st = NULL, *s, *l;
	unsigned nsub;
	int err;

	if (!stp || !gw)
		return EINVAL;
	err = dmn_st_alloc(&st);
	if (err)
		return err;

	dmn_st_str(st, "version", PACKAGE_VERSION);
	dmn_st_str(st, "gateway", gw->name);
	dmn_st_str(st, "health", gw_degraded(gw) ? "degraded" : "ok");
	add_degraded(st, gw);
	dmn_st_dur(st, "uptime", sst_tmr_now() - gw->started_ms);
	dmn_st_str(st, "config", gw->cfgpath);
	dmn_st_str(st, "realm", gw->realm);
	dmn_st_bool(st, "external_communities", gw->self->support_external);
	dmn_st_bool(st, "convert_id", gw->self->convert_id);
	if (gw->reload_at) {
		s = dmn_st_section(st, "last_reload");
		dmn_st_str(s, "result", gw->reload_failed ? "failed" : "ok");
		if (gw->reload_failed && gw->reload_note[0])
			dmn_st_str(s, "error", gw->reload_note);
		if (gw->reload_failed && gw->reload_diag.n)
			dmn_st_str(s, "error", gw->reload_diag.msg[0]);
	}
	dmn_st_str(st, "pending_restart", gw->restart[0] ? gw->restart :
		   "none");

	add_listeners(st, gw);

	gw_reg_stats_get(gw->reg, &rs);
	s = dmn_st_section(st, "registrations");
	dmn_st_int(s, "users", rs.aors);
	dmn_st_int(s, "contacts", rs.bindings);
	dmn_st_int(s, "accepted", (int64_t)gw->c.reg_ok);
	dmn_st_int(s, "refused", (int64_t)gw->c.reg_refused);
	dmn_st_int(s, "expired", (int64_t)rs.expired);
	uc.gw = gw;
	uc.now = now;
	uc.list = dmn_st_list(s, "per_user");
	gw_reg_aors(gw->reg, user_add, &uc);

	s = dmn_st_section(st, "authentication");
	dmn_st_int(s, "challenges", (int64_t)gw->c.auth_challenges);
	dmn_st_int(s, "accepted", (int64_t)gw->c.auth_ok);
	dmn_st_int(s, "stale", (int64_t)gw->c.auth_stale);
	dmn_st_int(s, "wrong_password", (int64_t)gw->c.auth_bad_password);
	dmn_st_int(s, "unknown_user", (int64_t)gw->c.auth_unknown_user);
	dmn_st_int(s, "other_refusals", (int64_t)gw->c.auth_other);
	dmn_st_int(s, "directory_unavailable",
		   (int64_t)gw->c.dir_unavailable);

	s = dmn_st_section(st, "presence");
	dmn_st_int(s, "publications", gw_pub_count(gw));
	dmn_st_int(s, "publish_accepted", (int64_t)gw->c.pub_ok);
	dmn_st_int(s, "publish_refused", (int64_t)gw->c.pub_refused);
	dmn_st_int(s, "notify_sent", (int64_t)gw->c.notify_out);
	dmn_st_int(s, "notify_failed", (int64_t)gw->c.notify_failed);

	s = dmn_st_section(st, "subscriptions");
	nsub = gw_subs_status(gw, NULL);
	dmn_st_int(s, "local_watchers", nsub);
	dmn_st_int(s, "external_watchers", gw_pres_ext_watchers(gw));
	dmn_st_int(s, "accepted", (int64_t)gw->c.sub_ok);
	dmn_st_int(s, "refused", (int64_t)gw->c.sub_refused);
	l = dmn_st_list(s, "list");
	gw_subs_status(gw, l);

	s = dmn_st_section(st, "messages");
	dmn_st_int(s, "in", (int64_t)gw->c.msg_in);
	dmn_st_int(s, "out", (int64_t)gw->c.msg_out);
	dmn_st_int(s, "delivered", (int64_t)gw->c.msg_delivered);
	dmn_st_int(s, "offline", (int64_t)gw->c.msg_offline);
	dmn_st_int(s, "unknown_user", (int64_t)gw->c.msg_unknown);
	dmn_st_int(s, "failed", (int64_t)gw->c.msg_failed);
	dmn_st_int(s, "external_refused", (int64_t)gw->c.ext_refused);

	gw_fed_status_build(st, gw);

	s = dmn_st_section(st, "sip");
	dmn_st_int(s, "requests_in", (int64_t)gw->c.req_in);
	dmn_st_int(s, "responses_in", (int64_t)gw->c.resp_in);
	dmn_st_int(s, "malformed", (int64_t)gw->c.malformed);
	dmn_st_int(s, "connections", sst_transp_nconns(gw->tp));

	add_directory(st, gw);
	gw_store_status(st, gw);
	add_trace(st, gw);

	/* the links' own state is federation.connector_links */

	err = dmn_st_err(st);
	if (err) {
		mem_deref(st);
		return err;
	}
	*stp = st;
	return 0;
}

/* ---- the one-screen summary, read from the tree ---- */

/* "udp 1.2.3.4:5060, tls ..." from a list of {transport, address}. */
static int addrs_h(struct re_printf *pf, void *arg)
{
	const struct dmn_st *l = arg, *it;
	int err = 0;

	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it))
		err |= re_hprintf(pf, "%s%s %s",
				  it == dmn_st_next(l, NULL) ? "" : ", ",
				  dmn_st_gets(it, "transport"),
				  dmn_st_gets(it, "address"));
	if (!dmn_st_next(l, NULL))
		err |= re_hprintf(pf, "none");
	return err;
}

static void sum_problems(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l, *it;
	struct dmn_st *p;
	char key[96];

	if (!strcmp(dmn_st_gets(st, "health"), "ok"))
		return;
	dmn_st_strf(sum, "degraded_because", "%H", dmn_st_pvalue,
		    (void *)dmn_st_get(st, "degraded_because"));
	p = dmn_st_section(sum, "problems");
	if (!dmn_st_geti(st, "directory.up"))
		dmn_st_strf(p, "directory", "%s is down: %s",
			    dmn_st_gets(st, "directory.server"),
			    dmn_st_gets(st, "directory.last_error"));
	if (!strcmp(dmn_st_gets(st, "last_reload.result"), "failed"))
		dmn_st_strf(p, "reload", "failed: %s",
			    dmn_st_gets(st, "last_reload.error"));
	l = dmn_st_get(st, "federation.connector_links");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		if (!strcmp(dmn_st_gets(it, "state"), "up"))
			continue;
		re_snprintf(key, sizeof(key), "link %s",
			    dmn_st_gets(it, "name"));
		dmn_st_strf(p, key, "%s: %s", dmn_st_gets(it, "state"),
			    dmn_st_gets(it, "last_error")[0] ?
			    dmn_st_gets(it, "last_error") : "no answer yet");
	}
	if (strcmp(dmn_st_gets(st, "store.health"), "ok"))
		dmn_st_strf(p, "store", "%s %s: %s",
			    dmn_st_gets(st, "store.kind"),
			    dmn_st_gets(st, "store.health"),
			    dmn_st_gets(st, "store.last_error"));
}

/* Refusals by reason, each counted once: not the per-method totals
 * (registrations.refused, messages.external_refused, ...) that hold
 * them, nor directory.answered_503_slow, a part of
 * directory-unavailable. */
static void sum_refused(struct dmn_st *sum, const struct dmn_st *st)
{
	static const struct {
		const char *name, *path;
	} rv[] = {
		{"wrong-password",        "authentication.wrong_password"},
		{"unknown-user",          "authentication.unknown_user"},
		{"other-authentication",  "authentication.other_refusals"},
		{"directory-unavailable", "authentication.directory_unavailable"},
		{"ambiguous-user",        "directory.ambiguous_refused"},
		{"untrusted-source",      "federation.untrusted_refused"},
		{"no-email",              "federation.no_email_refused"},
		{"privacy",               "federation.privacy_refused"},
		{"no-connector",          "federation.no_connector"},
		{"malformed",             "sip.malformed"},
		{"not-in-group",          NULL},
	};
	enum { N = sizeof(rv) / sizeof(rv[0]) };
	const struct dmn_st *l = dmn_st_get(st, "federation.federation_policy");
	const struct dmn_st *it;
	const char *names[N];
	int64_t counts[N];
	size_t i;

	for (i = 0; i < N; i++) {
		names[i] = rv[i].name;
		counts[i] = rv[i].path ? dmn_st_geti(st, rv[i].path) : 0;
	}
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it))
		counts[N - 1] += dmn_st_geti(it, "not_in_group_out") +
			dmn_st_geti(it, "not_in_group_in");
	dmn_sum_refused(sum, "refused", names, counts, N);
}

static void sum_links(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l = dmn_st_get(st, "federation.connector_links");
	const struct dmn_st *it;
	struct dmn_st *o;

	if (!dmn_st_next(l, NULL)) {
		dmn_st_str(sum, "connector_links", "none");
		return;
	}
	o = dmn_st_section(sum, "connector_links");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		const bool up = !strcmp(dmn_st_gets(it, "state"), "up");
		const char *err = dmn_st_gets(it, "last_error");

		dmn_st_strf(o, dmn_st_gets(it, "name"),
			    "%s, %s %s, %lld requests out, %lld failures%s%s",
			    dmn_st_gets(it, "state"),
			    dmn_st_gets(it, "transport"),
			    dmn_st_gets(it, "address"),
			    (long long)dmn_st_geti(it, "requests_out"),
			    (long long)dmn_st_geti(it, "failures"),
			    !up && err[0] ? "; " : "", !up ? err : "");
	}
}

static void sum_communities(struct dmn_st *sum, const struct dmn_st *st)
{
	const struct dmn_st *l = dmn_st_get(st,
					    "federation.external_communities");
	const struct dmn_st *it;
	struct dmn_st *o;

	if (!dmn_st_geti(st, "external_communities")) {
		dmn_st_str(sum, "communities", "not federated "
			   "(SupportExternalCommunities=\"false\")");
		return;
	}
	if (!dmn_st_next(l, NULL)) {
		dmn_st_str(sum, "communities", "nobody watched outside yet");
		return;
	}
	o = dmn_st_section(sum, "communities");
	for (it = dmn_st_next(l, NULL); it; it = dmn_st_next(l, it)) {
		if (!dmn_st_get(it, "watcher_subscriptions")) {
			dmn_st_strf(o, dmn_st_gets(it, "name"), "%lld "
				    "presentities watched, %lld local "
				    "watchers",
				    (long long)dmn_st_geti(it, "presentities"),
				    (long long)dmn_st_geti(it,
							   "local_watchers"));
			continue;
		}
		/* XMPP: a subscription per watcher, each approved or not
		 * by the contact */
		dmn_st_strf(o, dmn_st_gets(it, "name"), "%lld presentities "
			    "watched, %lld local watchers; %s, per watcher: "
			    "%lld active, %lld pending, %lld rejected, %lld "
			    "retrying",
			    (long long)dmn_st_geti(it, "presentities"),
			    (long long)dmn_st_geti(it, "local_watchers"),
			    dmn_st_gets(it, "protocol"),
			    (long long)dmn_st_geti(it,
				"watcher_subscriptions.active"),
			    (long long)dmn_st_geti(it,
				"watcher_subscriptions.pending"),
			    (long long)dmn_st_geti(it,
				"watcher_subscriptions.rejected"),
			    (long long)dmn_st_geti(it,
				"watcher_subscriptions.retrying"));
	}
}

static int gw_status_summary(struct dmn_st **sump, const struct dmn_st *st,
			     void *arg)
{
	const struct gw *gw = arg;
	const struct dmn_st *dir = dmn_st_get(st, "directory");
	const struct cfg_gateway *boot;
	struct dmn_st *sum = NULL;
	int64_t lookups;
	int err;

	if (!sump || !st || !gw)
		return EINVAL;
	err = dmn_st_alloc(&sum);
	if (err)
		return err;

	dmn_st_str(sum, "gateway", dmn_st_gets(st, "gateway"));
	dmn_st_str(sum, "health", dmn_st_gets(st, "health"));
	sum_problems(sum, st);
	/* the endpoint bound at start: a reload does not move it */
	boot = gw->boot ? cfg_gateway_find(gw->boot, gw->name) : gw->self;
	dmn_st_strf(sum, "version", "%s (up %H)", dmn_st_gets(st, "version"),
		    dmn_st_pvalue, (void *)dmn_st_get(st, "uptime"));
	dmn_st_strf(sum, "config", "%s (realm %s; last reload: %s)",
		    dmn_st_gets(st, "config"), dmn_st_gets(st, "realm"),
		    dmn_st_get(st, "last_reload") ?
		    dmn_st_gets(st, "last_reload.result") : "none");
	dmn_st_str(sum, "pending_restart",
		   dmn_st_gets(st, "pending_restart"));
	dmn_st_strf(sum, "listeners", "%H", addrs_h,
		    (void *)dmn_st_get(st, "listeners"));
	dmn_st_strf(sum, "users", "%lld registered, %lld contacts; %lld "
		    "registrations accepted, %lld refused",
		    (long long)dmn_st_geti(st, "registrations.users"),
		    (long long)dmn_st_geti(st, "registrations.contacts"),
		    (long long)dmn_st_geti(st, "registrations.accepted"),
		    (long long)dmn_st_geti(st, "registrations.refused"));
	dmn_st_strf(sum, "presence", "%lld local watchers, %lld external; "
		    "%lld NOTIFYs sent, %lld failed",
		    (long long)dmn_st_geti(st, "subscriptions.local_watchers"),
		    (long long)dmn_st_geti(st,
					   "subscriptions.external_watchers"),
		    (long long)dmn_st_geti(st, "presence.notify_sent"),
		    (long long)dmn_st_geti(st, "presence.notify_failed"));
	dmn_st_strf(sum, "messages", "%lld in, %lld out: %lld delivered, "
		    "%lld offline, %lld failed",
		    (long long)dmn_st_geti(st, "messages.in"),
		    (long long)dmn_st_geti(st, "messages.out"),
		    (long long)dmn_st_geti(st, "messages.delivered"),
		    (long long)dmn_st_geti(st, "messages.offline"),
		    (long long)dmn_st_geti(st, "messages.failed"));
	lookups = dmn_st_geti(dir, "lookups");
	dmn_st_strf(sum, "directory", "%s %s: %s, %lld lookups (%lld%% "
		    "from the cache), %lld errors",
		    dmn_st_gets(dir, "backend"), dmn_st_gets(dir, "server"),
		    dmn_st_geti(dir, "up") ? "up" : "down", (long long)lookups,
		    (long long)dmn_st_geti(dir, "cache_hit_rate_pct"),
		    (long long)dmn_st_geti(dir, "errors"));
	dmn_st_strf(sum, "store", "%s: %s, backlog %lld",
		    dmn_st_gets(st, "store.kind"),
		    dmn_st_gets(st, "store.health"),
		    (long long)dmn_st_geti(st, "store.backlog"));
	sum_refused(sum, st);
	sum_links(sum, st);
	sum_communities(sum, st);
	dmn_sum_where(sum, st, boot ? boot->metrics : NULL);
	dmn_sum_more(sum, st);

	err = dmn_st_err(sum);
	if (err)
		mem_deref(sum);
	else
		*sump = sum;
	return err;
}

static int ctl_status(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	struct gw *gw = arg;
	struct dmn_st *st = NULL;
	bool json = false;
	int i, err, rc;

	(void)peer;
	for (i = 1; i < argc; i++)
		json |= !strcmp(argv[i], "--json");
	err = gw_status_build(&st, gw);
	if (err) {
		(void)re_hprintf(pf, "error: status: %m\n", err);
		return DMN_EXIT_FAIL;
	}
	rc = dmn_st_answer(pf, st, argc, argv, gw_status_summary, gw);
	if (rc == DMN_EXIT_OK && json)
		(void)re_hprintf(pf, "\n");
	mem_deref(st);
	if (rc != DMN_EXIT_OK)
		return rc;
	return gw_degraded(gw) ? DMN_EXIT_DEGRADED : DMN_EXIT_OK;
}

static int ctl_reload(struct re_printf *pf, int argc, char *argv[],
		      const struct dmn_ctl_peer *peer, void *arg)
{
	(void)argv;
	(void)peer;
	if (argc != 1) {
		(void)re_hprintf(pf, "error: reload takes no argument\n");
		return DMN_EXIT_USAGE;
	}
	dmn_log_info("gw: reload requested-by=control");
	return gw_reload(arg, pf) ? DMN_EXIT_DEGRADED : DMN_EXIT_OK;
}

static int ctl_reset(struct re_printf *pf, int argc, char *argv[],
		     const struct dmn_ctl_peer *peer, void *arg)
{
	(void)peer;
	if (argc > 2) {
		(void)re_hprintf(pf, "error: usage: reset [CONNECTOR]\n");
		return DMN_EXIT_USAGE;
	}
	dmn_log_info("gw: reset requested-by=control connector=%s",
		     argc == 2 ? argv[1] : "all");
	return gw_fed_reset(arg, argc == 2 ? argv[1] : NULL, pf) ?
		DMN_EXIT_USAGE : DMN_EXIT_OK;
}

const struct dmn_ctl_cmd gw_ctl_cmdv[] = {
	{"status", "[--json] [--all] [SECTION...]", "a one-screen summary: "
	 "health and why, users, presence, directory, each connector link; "
	 "--all: the whole tree; SECTION: only those parts; --json: the "
	 "tree as JSON", DMN_CTL_ANY, ctl_status},
	{"reload", NULL, "load the configuration file again",
	 DMN_CTL_OWNER, ctl_reload},
	{"reset", "[CONNECTOR]", "probe down connector links now and retry "
	 "federation subscriptions waiting out a backoff", DMN_CTL_OWNER,
	 ctl_reset},
	{"log", "LEVEL", "log from LEVEL up: error, warning, info, debug",
	 DMN_CTL_OWNER, dmn_ctl_log},
};
const size_t gw_ctl_cmdc = sizeof(gw_ctl_cmdv) / sizeof(gw_ctl_cmdv[0]);

/* ---- CLI side ---- */

static int pick(const struct cfg *cfg, const char *name,
		const char **controlp, const char **recnamep, const char **whyp)
{
	const struct cfg_gateway *self = NULL;
	int err;

	err = gw_self_pick(cfg, name, &self, whyp);
	if (err)
		return err;
	*controlp = self->control;
	*recnamep = self->name;
	return 0;
}

int gw_cmd_ctl(const char *cmd, int argc, char **argv)
{
	struct cfg_ctl_find cf = {
		.prog = "stgateway",
		.record = "CommunityGateway",
		.pickh = pick,
	};
	const struct dmn_cli_ctl c = {
		.prog = "stgateway",
		.defpath = CFG_DEFAULT_PATH,
		.cmdv = gw_ctl_cmdv,
		.cmdc = gw_ctl_cmdc,
		.timeout_ms = GW_CTL_TIMEOUT_MS,
		.find = cfg_ctl_find,
		.done = cfg_ctl_done,
		.arg = &cf,
	};

	return dmn_cli_ctl(&c, cmd, argc, argv);
}
