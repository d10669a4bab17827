/*
 * cn.c -- the connector's daemon context: per-community and per-gateway
 * state built from the configuration, and the helpers the proxy core
 * calls to count messages and refusals and to report link states.
 *
 * Counters never fail: a name that is not (or no longer) configured
 * is counted in the totals only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "daemon/dmn.h"
#include "connector/cn.h"
#include "connector/cn_audit.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void comm_destructor(void *arg)
{
	struct cn_comm *c = arg;

	list_unlink(&c->le);
	mem_deref(c->name);
}

static void gw_destructor(void *arg)
{
	struct cn_gw *g = arg;

	list_unlink(&g->le);
	mem_deref(g->name);
}

static void listener_destructor(void *arg)
{
	struct cn_listener *l = arg;

	list_unlink(&l->le);
}

static void cn_destructor(void *arg)
{
	struct cn *cn = arg;

	list_flush(&cn->comms);
	list_flush(&cn->gws);
	list_flush(&cn->listeners);
	mem_deref(cn->trace);
	mem_deref(cn->tls_new);
	if (cn->boot != cn->cfg)
		cfg_free(cn->boot);
	mem_deref(cn->audit);
	cfg_free(cn->cfg);
	cfg_diag_reset(&cn->reload_diag);
	mem_deref(cn->name);
	mem_deref(cn->cfgpath);
}

/* The Trace file the configuration asks for, (re)opened. */
void cn_trace_open(struct cn *cn)
{
	const struct cfg_trace *t = &cn->cfg->trace;

	dmn_trace_reopen(&cn->trace, t->enable, t->file, t->level,
			 cn->trace_err, sizeof(cn->trace_err));
	cn_trace_scope(cn);
}

/* The Trace record's community or user scope, on the open trace. */
void cn_trace_scope(struct cn *cn)
{
	const struct cfg_trace *t = &cn->cfg->trace;
	const struct cfg_extern *x = cfg_trace_extern(cn->cfg);

	if (cn->trace && (x || t->user))
		(void)dmn_trace_scope(cn->trace, x ?
				      (const char *const *)x->domains.v : NULL,
				      x ? x->domains.n : 0, t->user);
}

int cn_self_pick(const struct cfg *cfg, const char *name,
		 const struct cfg_connector **selfp, const char **whyp)
{
	const struct cfg_connector *self;

	if (!cfg || !selfp)
		return EINVAL;

	if (name) {
		self = cfg_connector_find(cfg, name);
		if (!self) {
			if (whyp)
				*whyp = "no CommunityConnector of that name "
					"in the file";
			return ENOENT;
		}
	}
	else if (cfg->nconnectors == 1) {
		self = &cfg->connectors[0];
	}
	else if (cfg->nconnectors == 0) {
		if (whyp)
			*whyp = "the file has no CommunityConnector record";
		return ENOENT;
	}
	else {
		if (whyp)
			*whyp = "the file has several CommunityConnector "
				"records: choose one with -n NAME";
		return E2BIG;
	}

	*selfp = self;
	return 0;
}

/* A community's record for cn->cfg: keep old's state when given. */
static int comm_make(struct cn *cn, const struct cfg_extern *ex,
		     struct cn_comm *old)
{
	const struct cfg_supported *sup;
	struct cn_comm *c = old;
	int err;

	if (!c) {
		c = mem_zalloc(sizeof(*c), comm_destructor);
		if (!c)
			return ENOMEM;
		err = str_dup(&c->name, ex->name);
		if (err) {
			mem_deref(c);
			return err;
		}
	}
	else {
		list_unlink(&c->le);
	}

	sup = cfg_supported_find(cn->self, ex->name);
	c->ex = ex;
	c->enabled = sup && sup->enabled;
	if (!c->enabled) {
		c->link = CN_LINK_DISABLED;
		c->next_retry = 0;
	}
	else if (c->link == CN_LINK_DISABLED) {
		c->link = CN_LINK_IDLE;
	}
	list_append(&cn->comms, &c->le, c);
	return 0;
}

static int gw_make(struct cn *cn, const char *name, struct cn_gw *old)
{
	struct cn_gw *g = old;
	int err;

	if (!g) {
		g = mem_zalloc(sizeof(*g), gw_destructor);
		if (!g)
			return ENOMEM;
		err = str_dup(&g->name, name);
		if (err) {
			mem_deref(g);
			return err;
		}
	}
	else {
		list_unlink(&g->le);
	}
	g->gw = cfg_gateway_find(cn->cfg, name);
	list_append(&cn->gws, &g->le, g);
	return 0;
}

/*
 * Rebuild the community and gateway lists for cn->cfg and cn->self,
 * moving state over from the old lists by name; what is left in them
 * afterwards is freed.  On ENOMEM the lists hold what was built so far
 * (every record still points into cn->cfg).
 */
int cn_state_rebuild(struct cn *cn)
{
	struct list oldc = LIST_INIT, oldg = LIST_INIT;
	struct le *le;
	size_t i;
	int err = 0;

	/* move the current records aside */
	while ((le = list_head(&cn->comms))) {
		list_unlink(le);
		list_append(&oldc, le, le->data);
	}
	while ((le = list_head(&cn->gws))) {
		list_unlink(le);
		list_append(&oldg, le, le->data);
	}

	for (i = 0; i < cn->cfg->nexterns && !err; i++) {
		const struct cfg_extern *ex = &cn->cfg->externs[i];
		struct cn_comm *old = NULL;

		for (le = oldc.head; le; le = le->next) {
			struct cn_comm *c = le->data;

			if (!strcmp(c->name, ex->name)) {
				old = c;
				break;
			}
		}
		err = comm_make(cn, ex, old);
	}

	for (i = 0; i < cn->self->gateways.n && !err; i++) {
		const char *name = cn->self->gateways.v[i];
		struct cn_gw *old = NULL;

		for (le = oldg.head; le; le = le->next) {
			struct cn_gw *g = le->data;

			if (!strcmp(g->name, name)) {
				old = g;
				break;
			}
		}
		err = gw_make(cn, name, old);
	}

	list_flush(&oldc);
	list_flush(&oldg);
	return err;
}

int cn_alloc(struct cn **cnp, struct cfg *cfg, const char *name,
	     const char *cfgpath, const struct cn_proxy_ops *ops)
{
	const struct cfg_connector *self = NULL;
	struct cn *cn;
	int err;

	if (!cnp || !cfg || !cfgpath)
		return EINVAL;

	err = cn_self_pick(cfg, name, &self, NULL);
	if (err)
		return err;

	cn = mem_zalloc(sizeof(*cn), cn_destructor);
	if (!cn)
		return ENOMEM;

	cn->cfg = cfg;
	cn->self = self;
	cn->ops = ops;
	cn->started = time(NULL);
	cn->started_ms = mono_ms();
	cn->loaded = cfg->loaded ? cfg->loaded : cn->started;

	err = str_dup(&cn->name, self->name);
	err |= str_dup(&cn->cfgpath, cfgpath);
	if (err) {
		err = ENOMEM;
		goto out;
	}
	err = cn_state_rebuild(cn);
	if (!err) {
		cn_trace_open(cn);
		cn_audit_open(cn);
	}

 out:
	if (err) {
		cn->cfg = NULL;		/* the caller still owns it */
		mem_deref(cn);
	}
	else {
		*cnp = cn;
	}
	return err;
}

uint64_t cn_uptime_ms(const struct cn *cn)
{
	return mono_ms() - cn->started_ms;
}

struct cn_comm *cn_comm_find(const struct cn *cn, const char *name)
{
	struct le *le;

	if (!cn || !name)
		return NULL;
	for (le = cn->comms.head; le; le = le->next) {
		struct cn_comm *c = le->data;

		if (!strcmp(c->name, name))
			return c;
	}
	return NULL;
}

struct cn_gw *cn_gw_find(const struct cn *cn, const char *name)
{
	struct le *le;

	if (!cn || !name)
		return NULL;
	for (le = cn->gws.head; le; le = le->next) {
		struct cn_gw *g = le->data;

		if (!strcmp(g->name, name))
			return g;
	}
	return NULL;
}

void cn_count_in(struct cn *cn, const char *community)
{
	struct cn_comm *c = cn_comm_find(cn, community);

	if (!cn)
		return;
	cn->total.msgs_in++;
	if (c)
		c->cnt.msgs_in++;
}

void cn_count_out(struct cn *cn, const char *community)
{
	struct cn_comm *c = cn_comm_find(cn, community);

	if (!cn)
		return;
	cn->total.msgs_out++;
	if (c)
		c->cnt.msgs_out++;
}

void cn_count_gw(struct cn *cn, const char *gateway, bool in)
{
	struct cn_gw *g = cn_gw_find(cn, gateway);

	if (!g)
		return;
	if (in)
		g->msgs_in++;
	else
		g->msgs_out++;
}

static void reject_note(struct cn_counts *cnt, enum cn_reason reason,
			const char *detail, time_t now)
{
	cnt->rejects[reason]++;
	snprintf(cnt->last_reject, sizeof(cnt->last_reject), "%s%s%s",
		 cn_reason_name(reason), *detail ? ": " : "", detail);
	cnt->last_reject_at = now;
}

/* The log buckets of refusals: one per reason, and one per (reason,
 * source) for the CN_LOG_SOURCES sources heard last. */
struct rl_src {
	enum cn_reason reason;
	char src[CN_ADDR_MAX];
	uint64_t used;			/* mono_ms() of the last line */
	struct dmn_ratelim rl;
};

static struct dmn_ratelim *rl_source(enum cn_reason reason, const char *src)
{
	static struct rl_src tab[CN_LOG_SOURCES];
	struct rl_src *old = &tab[0];
	size_t i;

	for (i = 0; i < CN_LOG_SOURCES; i++) {
		struct rl_src *e = &tab[i];

		if (e->used && e->reason == reason && !strcmp(e->src, src)) {
			e->used = mono_ms();
			return &e->rl;
		}
		if (e->used < old->used)
			old = e;
	}
	memset(old, 0, sizeof(*old));
	old->reason = reason;
	snprintf(old->src, sizeof(old->src), "%s", src);
	old->used = mono_ms();
	old->rl.burst = CN_LOG_SRC_BURST;
	old->rl.interval_ms = 60000;
	return &old->rl;
}

/* May a refusal line for (reason, src) be written now? */
static bool reject_log_ok(enum cn_reason reason, const char *src)
{
	static struct dmn_ratelim rl[CN_R_COUNT];
	struct dmn_ratelim *r = &rl[reason];
	unsigned dropped = 0;

	if (!r->burst) {
		r->burst = CN_LOG_BURST;
		r->interval_ms = 60000;
	}
	if (src && !dmn_ratelim_take(rl_source(reason, src), mono_ms(),
				     &dropped)) {
		if (r->suppressed < UINT32_MAX)
			r->suppressed++;	/* reported with the reason's */
		return false;
	}
	if (!dmn_ratelim_take(r, mono_ms(), &dropped))
		return false;
	if (dropped)
		dmn_log_info("cn: reject reason=%s suppressed=%u",
			     cn_reason_name(reason), dropped);
	return true;
}

void cn_count_reject(struct cn *cn, const char *community,
		     enum cn_reason reason, const char *src,
		     const char *fmt, ...)
{
	char detail[CN_TEXT_MAX] = "";
	struct cn_comm *c;
	const time_t now = time(NULL);

	if (!cn || reason <= CN_OK || reason >= CN_R_COUNT)
		return;

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}

	c = cn_comm_find(cn, community);
	reject_note(&cn->total, reason, detail, now);
	if (c)
		reject_note(&c->cnt, reason, detail, now);

	if (reject_log_ok(reason, src))
		dmn_log_info("cn: reject reason=%s community=%s src=%s "
			     "detail=%s", cn_reason_name(reason),
			     community ? community : "-", src ? src : "-",
			     detail);
}

int cn_link_set(struct cn *cn, const char *community, enum cn_link link,
		unsigned retry_s, const char *fmt, ...)
{
	struct cn_comm *c = cn_comm_find(cn, community);
	const time_t now = time(NULL);
	bool changed;

	if (!c)
		return ENOENT;
	changed = c->link != link;

	if (c->link != link)
		dmn_log_info("cn: link community=%s state=%s", c->name,
			     cn_link_name(link));
	c->link = link;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
		va_end(ap);
		c->last_error_at = now;
	}
	if (changed && (link == CN_LINK_UP || link == CN_LINK_DOWN))
		cn_audit_link(cn, c->name, link == CN_LINK_UP,
			      link == CN_LINK_DOWN ? c->last_error : NULL);
	c->next_retry = (link == CN_LINK_DOWN && retry_s) ?
		now + (time_t)retry_s : 0;
	return 0;
}

int cn_gw_set(struct cn *cn, const char *gateway, enum cn_gw_state st,
	      const char *fmt, ...)
{
	struct cn_gw *g = cn_gw_find(cn, gateway);

	if (!g)
		return ENOENT;

	if (g->state != st)
		dmn_log_info("cn: gateway name=%s state=%s", g->name,
			     cn_gw_state_name(st));
	g->state = st;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(g->last_error, sizeof(g->last_error), fmt, ap);
		va_end(ap);
	}
	return 0;
}

int cn_hops_set(struct cn *cn, const char *community,
		const struct cn_link_hop *hops, size_t n)
{
	struct cn_comm *c = cn_comm_find(cn, community);

	if (!c)
		return ENOENT;
	if (n && !hops)
		return EINVAL;

	c->nhops = min(n, (size_t)CN_HOPS_MAX);
	if (c->nhops)
		memcpy(c->hops, hops, c->nhops * sizeof(*hops));
	c->hops_at = time(NULL);
	return 0;
}

int cn_tls_set(struct cn *cn, const char *community,
	       const struct cn_tls_info *tls)
{
	struct cn_comm *c = cn_comm_find(cn, community);

	if (!c)
		return ENOENT;
	if (tls)
		c->tls = *tls;
	else
		memset(&c->tls, 0, sizeof(c->tls));
	return 0;
}

int cn_stale_set(struct cn *cn, const char *community, time_t since)
{
	struct cn_comm *c = cn_comm_find(cn, community);

	if (!c)
		return ENOENT;
	if (!c->dns_stale_since != !since)
		dmn_log_info("cn: dns community=%s answers=%s", c->name,
			     since ? "stale" : "fresh");
	c->dns_stale_since = since;
	return 0;
}

int cn_listener_add(struct cn *cn, enum cfg_transport tp, const char *addr,
		    uint16_t port)
{
	struct cn_listener *l;

	if (!cn || !addr)
		return EINVAL;
	if (strlen(addr) >= CN_ADDR_MAX)
		return ENAMETOOLONG;

	l = mem_zalloc(sizeof(*l), listener_destructor);
	if (!l)
		return ENOMEM;
	l->tp = tp;
	l->port = port;
	str_ncpy(l->addr, addr, sizeof(l->addr));
	list_append(&cn->listeners, &l->le, l);
	return 0;
}

void cn_listeners_clear(struct cn *cn)
{
	if (cn)
		list_flush(&cn->listeners);
}

const char *cn_link_name(enum cn_link link)
{
	switch (link) {

	case CN_LINK_IDLE:       return "idle";
	case CN_LINK_CONNECTING: return "connecting";
	case CN_LINK_UP:         return "up";
	case CN_LINK_DOWN:       return "down";
	case CN_LINK_DISABLED:   return "disabled";
	default:                 return "?";
	}
}

const char *cn_gw_state_name(enum cn_gw_state st)
{
	switch (st) {

	case CN_GW_UNKNOWN: return "unknown";
	case CN_GW_UP:      return "up";
	case CN_GW_DOWN:    return "down";
	default:            return "?";
	}
}

int cn_reset(struct cn *cn, const char *community)
{
	struct cn_comm *c = cn_comm_find(cn, community);
	int err = 0;

	if (!c)
		return ENOENT;

	c->last_error[0] = '\0';
	c->last_error_at = 0;
	c->next_retry = 0;
	if (c->link == CN_LINK_DOWN)
		c->link = CN_LINK_IDLE;
	dmn_log_info("cn: reset community=%s", c->name);

	if (c->enabled && cn->ops && cn->ops->retry)
		err = cn->ops->retry(cn, c);
	return err;
}
