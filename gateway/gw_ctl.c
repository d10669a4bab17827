/*
 * gw_ctl.c -- the gateway's status tree and control commands, both
 * sides.
 *
 * Daemon side (rows of the control socket's table; dmn.h adds "help"):
 *	status [--json]   the status tree; exit 0 healthy, 1 degraded
 *	                  (directory down, or the last reload failed)
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
	dmn_st_str(it, "presence", gw_status_name(gw_pres_status(uc->gw,
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
	rc = dmn_st_answer(pf, st, argc, argv);
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
	{"status", "[--json] [--all] [SECTION...]", "health, listeners, "
	 "registrations, subscriptions, messages, directory; SECTION: only "
	 "those parts", DMN_CTL_ANY, ctl_status},
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
