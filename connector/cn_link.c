/*
 * cn_link.c -- the connector's links: the gateways it serves and the
 * external communities it talks to.
 *
 * Gateways: every ConnectorListen address of every CommunityGateway in
 * the connector's <Gateway> list is a target, in file order.  Each gets
 * an OPTIONS every CN_PX_KEEPALIVE_S seconds.  A target is down after a
 * failed OPTIONS or a failed transaction (transport error, 408, 503)
 * and gets its next OPTIONS retryInterval seconds later; any answer
 * brings it back, and so does any message (request or response) that
 * arrives from the target's IP: a gateway that talks to us is alive,
 * so one started after its connector is served at once, not after the
 * rest of a retryInterval of 503s.  A gateway is up when one of its
 * addresses is.
 *
 * External communities: a link is open once a request reached one of
 * its next hops.  An open link gets an OPTIONS to its first next hop
 * every CN_PX_KEEPALIVE_S seconds; a down one (no hop answered) is
 * probed again at its retry time (retryInterval), or at once after
 * `reset COMMUNITY`, which also forgets the down marks of its hops (a
 * community never used has no link to retry: it opens with its first
 * request).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_dns.h"
#include "sipstack/sst_timer.h"
#include "connector/cn_px.h"

static void tick(void *arg);

/* "addr:port" of sa, for log lines and status. */
static const char *astr(const struct sa *sa, char *buf, size_t size)
{
	if (re_snprintf(buf, size, "%J", sa) < 0)
		buf[0] = '\0';
	return buf;
}

static uint64_t retry_ms(const struct cn_px *px)
{
	return (uint64_t)px_retry_s(px) * 1000;
}

/* ---- gateway state ---- */

static void gw_report(struct cn_px *px, const char *name, const char *why)
{
	bool up = false, known = false;
	size_t i;

	for (i = 0; i < px->ngwt; i++) {
		if (strcmp(px->gwt[i].name, name))
			continue;
		if (!px->gwt[i].down)
			up = true;
		known = true;
	}
	if (!known)
		return;
	if (up)
		(void)cn_gw_set(px->cn, name, CN_GW_UP, NULL);
	else
		(void)cn_gw_set(px->cn, name, CN_GW_DOWN, "%s", why);
}

void px_gwt_failed(struct cn_px *px, int idx, const char *why)
{
	struct px_gwt *g;

	if (idx < 0 || (size_t)idx >= px->ngwt)
		return;
	g = &px->gwt[idx];
	g->down = true;
	g->next_probe = sst_tmr_now() + retry_ms(px);
	char ab[CN_ADDR_MAX];

	dmn_log_warnx("cn: gateway-down name=%s addr=%s why=%s", g->name,
		      astr(&g->addr, ab, sizeof(ab)), why);
	gw_report(px, g->name, why);
}

void px_gwt_ok(struct cn_px *px, int idx)
{
	struct px_gwt *g;

	if (idx < 0 || (size_t)idx >= px->ngwt)
		return;
	g = &px->gwt[idx];
	if (g->down) {
		char ab[CN_ADDR_MAX];

		dmn_log_info("cn: gateway-up name=%s addr=%s", g->name,
			     astr(&g->addr, ab, sizeof(ab)));
	}
	g->down = false;
	gw_report(px, g->name, "");
}

/*
 * A message arrived from src: every down gateway address on that IP is
 * up again (the receive path calls this for each message, so the common
 * case, nothing down, costs one pass over at most CN_PX_GWT_MAX).
 */
/*
 * The gateway table entry whose IP sent src (ports are ephemeral), or
 * -1: the one walk per received message that both "is this one of our
 * gateways" and "a gateway was heard from" use.  The table holds the
 * configured addresses already parsed, so nothing is parsed per message.
 */
int px_gw_index(const struct cn_px *px, const struct sa *src)
{
	size_t i;

	if (!px || !src)
		return -1;
	for (i = 0; i < px->ngwt; i++) {
		if (sa_cmp(&px->gwt[i].addr, src, SA_ADDR))
			return (int)i;
	}
	return -1;
}

/* A gateway was heard from: every entry with its address that is down
 * is up again (entries before idx do not have that address). */
void px_gw_heard(struct cn_px *px, int idx)
{
	size_t i;

	if (!px || idx < 0)
		return;
	for (i = (size_t)idx; i < px->ngwt; i++) {
		struct px_gwt *g = &px->gwt[i];

		if (!g->down || !sa_cmp(&g->addr, &px->gwt[idx].addr, SA_ADDR))
			continue;
		px_gwt_ok(px, (int)i);
		g->next_probe = sst_tmr_now() +
			(uint64_t)CN_PX_KEEPALIVE_S * 1000;
	}
}

/*
 * Targets of an inbound request: prefer (an in-dialog destination) when
 * it is an address of one of our gateways, then every gateway address
 * that is not down, in order.
 */
void px_gw_targets(struct cn_px *px, struct px_req *r,
		   const struct sa *prefer, enum sst_tp prefer_kind)
{
	size_t i;

	if (prefer) {
		for (i = 0; i < px->ngwt; i++) {
			struct px_target *t;

			if (!sa_cmp(&px->gwt[i].addr, prefer, SA_ADDR))
				continue;
			t = &r->tgt[r->ntgt++];
			memset(t, 0, sizeof(*t));
			t->kind = prefer_kind;
			sa_cpy(&t->addr, prefer);
			t->gwn = (int)i;
			/* a dialog's own address says nothing of the
			 * gateway's listener: it is not marked down */
			t->gwt = sa_cmp(&px->gwt[i].addr, prefer, SA_ALL) &&
				prefer_kind == px->gwt[i].kind ? (int)i : -1;
			break;
		}
	}

	for (i = 0; i < px->ngwt && r->ntgt < CN_PX_TARGETS_MAX; i++) {
		struct px_target *t;

		if (px->gwt[i].down)
			continue;
		if (r->ntgt && sa_cmp(&r->tgt[0].addr, &px->gwt[i].addr,
				      SA_ALL) &&
		    r->tgt[0].kind == px->gwt[i].kind)
			continue;
		t = &r->tgt[r->ntgt++];
		memset(t, 0, sizeof(*t));
		t->kind = px->gwt[i].kind;
		sa_cpy(&t->addr, &px->gwt[i].addr);
		t->gwt = (int)i;
		t->gwn = (int)i;
	}
}

static int gwt_build(struct cn_px *px)
{
	const struct cfg *cfg = px->cn->cfg;
	const struct cfg_connector *self = px->cn->self;
	size_t i, j;

	for (i = 0; i < px->ngwt; i++)
		px->gwt[i].probe = px_out_drop(px->gwt[i].probe);
	px->ngwt = 0;

	for (i = 0; i < self->gateways.n; i++) {
		const struct cfg_gateway *gw;

		gw = cfg_gateway_find(cfg, self->gateways.v[i]);
		if (!gw)
			continue;
		for (j = 0; j < gw->connectors.n; j++) {
			const struct cfg_listen *l = &gw->connectors.v[j];
			struct px_gwt *g;

			if (px->ngwt >= CN_PX_GWT_MAX)
				break;
			g = &px->gwt[px->ngwt];
			memset(g, 0, sizeof(*g));
			if (sa_set_str(&g->addr, l->addr, l->port))
				continue;
			str_ncpy(g->name, gw->name, sizeof(g->name));
			g->kind = px_kind(l->tp);
			g->next_probe = 0;	/* probe at once */
			px->ngwt++;
		}
	}
	return 0;
}

/* ---- OPTIONS probes ---- */

static void probe_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg);

static int probe_send(struct cn_px *px, struct px_out *o)
{
	const struct cfg *cfg = px->cn->cfg;
	char branch[SST_BRANCH_SIZE], tag[SST_TAG_SIZE];
	char ruri[CN_ADDR_MAX + 32], to[CN_ADDR_MAX + 40];
	char from[CN_RESOLVE_NAME_MAX + 40], callid[64], sb[CN_RESOLVE_NAME_MAX + 16];
	const char *tpn = o->kind == SST_TP_TCP ? "tcp" :
		o->kind == SST_TP_TLS ? "tls" : "udp";
	struct sst_req_spec q;
	struct mbuf *mb = NULL;
	int err;

	sst_branch_gen(branch, sizeof(branch));
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(ruri, sizeof(ruri), "sip:%J;transport=%s", &o->dst, tpn);
	re_snprintf(to, sizeof(to), "<%s>", ruri);
	re_snprintf(from, sizeof(from), "<sip:connector@%s>;tag=%s",
		    cfg->community.domains.n ? cfg->community.domains.v[0] :
		    px->ip, tag);
	re_snprintf(callid, sizeof(callid), "ka%llu-%s",
		    (unsigned long long)++px->seq, tag);
	/* a partner's probe names the advertised host, a gateway's the
	 * bound ip */
	if (o->link || !strchr(px->ip, ':'))
		re_snprintf(sb, sizeof(sb), "%s:%u", o->link ? px->host :
			    px->ip, px_port(px, o->kind));
	else
		re_snprintf(sb, sizeof(sb), "[%s]:%u", px->ip,
			    px_port(px, o->kind));

	memset(&q, 0, sizeof(q));
	q.method = "OPTIONS";
	q.ruri = ruri;
	q.from = from;
	q.to = to;
	q.callid = callid;
	q.cseq = 1;
	q.via.tp = o->kind == SST_TP_TCP ? SIP_TRANSP_TCP :
		o->kind == SST_TP_TLS ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	q.via.sentby = sb;
	q.via.branch = branch;

	err = sst_build_request(&mb, &q);
	if (err)
		return err;
	err = sst_ctrans_start(&o->ct, px->ts, "OPTIONS", branch, mb,
			       o->kind != SST_TP_UDP, px_out_send, o,
			       probe_resp, o);
	mem_deref(mb);
	return err;
}

static void gw_probe(struct cn_px *px, size_t i)
{
	struct px_gwt *g = &px->gwt[i];
	struct px_out *o;

	if (px_out_alloc(&o, px, g->kind, &g->addr, NULL))
		return;
	o->gwt = (int)i;
	g->probe = o;
	if (probe_send(px, o)) {
		g->probe = mem_deref(g->probe);
		px_gwt_failed(px, (int)i, "cannot send OPTIONS");
	}
}

static struct px_link *link_find(struct cn_px *px, const char *comm)
{
	struct le *le;

	for (le = px->links.head; le; le = le->next) {
		struct px_link *l = le->data;

		if (!strcmp(l->comm, comm))
			return l;
	}
	return NULL;
}

static void link_destructor(void *arg)
{
	struct px_link *l = arg;

	list_unlink(&l->le);
	mem_deref(l->rreq);
	px_out_drop(l->probe);
}

/* A probe's answer: any response from the peer means it is alive. */
static void probe_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg)
{
	struct px_out *o = arg;
	struct cn_px *px = o->px;

	if (scode < 200)
		return;
	o->ct = NULL;

	if (o->gwt >= 0 && (size_t)o->gwt < px->ngwt &&
	    px->gwt[o->gwt].probe == o) {
		struct px_gwt *g = &px->gwt[o->gwt];

		g->probe = NULL;
		if (msg) {
			px_gwt_ok(px, o->gwt);
			g->next_probe = sst_tmr_now() +
				(uint64_t)CN_PX_KEEPALIVE_S * 1000;
		}
		else {
			char why[64];

			re_snprintf(why, sizeof(why), "OPTIONS: %u (%s)",
				    scode, strerror(err));
			px_gwt_failed(px, o->gwt, why);
		}
		mem_deref(o);
		return;
	}

	if (o->link && o->link->probe == o) {
		struct px_link *l = o->link;

		l->probe = NULL;
		if (msg) {
			(void)cn_link_set(px->cn, l->comm, CN_LINK_UP, 0,
					  NULL);
			l->next_probe = sst_tmr_now() +
				(uint64_t)CN_PX_KEEPALIVE_S * 1000;
		}
		else {
			char ab[CN_ADDR_MAX];

			(void)cn_link_set(px->cn, l->comm, CN_LINK_DOWN,
					  (unsigned)(retry_ms(px) / 1000),
					  "OPTIONS to %s: %u (%s)",
					  astr(&o->dst, ab, sizeof(ab)),
					  scode, strerror(err));
			l->next_probe = sst_tmr_now() + retry_ms(px);
		}
		mem_deref(o);
		return;
	}
	mem_deref(o);
}

static void link_resolved(int err, const struct cn_route *rt, void *arg)
{
	struct px_link *l = arg;
	struct cn_px *px = l->px;
	size_t idxv[CN_RESOLVE_HOPS_MAX], up = 0;
	const struct cn_hop *h;
	struct px_out *o;
	struct sa sa;

	l->rreq = mem_deref(l->rreq);
	{
		const struct cfg_extern *ex = px_extern(px, l->comm);
		const char *dom = ex && ex->domains.n ? ex->domains.v[0] :
			NULL;

		if (dom && !strncmp(dom, "*.", 2))
			dom += 2;
		if (dom)
			px_report_stale(px, l->comm, dom);
	}

	if (err || !rt || !rt->hopc ||
	    cn_resolve_order(px->res, rt, idxv, &up)) {
		(void)cn_link_set(px->cn, l->comm, CN_LINK_DOWN,
				  (unsigned)(retry_ms(px) / 1000),
				  "cannot resolve: %s",
				  strerror(err ? err : ENOENT));
		l->next_probe = sst_tmr_now() + retry_ms(px);
		return;
	}
	h = &rt->hopv[idxv[0]];
	err = sa_set_sa(&sa, (const struct sockaddr *)&h->addr);
	if (!err) {
		sa_set_port(&sa, h->port);
		err = px_out_alloc(&o, px, px_kind(h->tp), &sa, h->tls_name);
	}
	if (err) {
		/* say why, and try again later: never a silent stop */
		(void)cn_link_set(px->cn, l->comm, CN_LINK_DOWN,
				  (unsigned)(retry_ms(px) / 1000),
				  "cannot use hop %s: %s", h->target,
				  strerror(err));
		l->next_probe = sst_tmr_now() + retry_ms(px);
		return;
	}
	o->link = l;
	l->probe = o;
	/* a keep-alive of an up link leaves it up until it fails: no
	 * connecting/up pair in the log every keep-alive */
	{
		const struct cn_comm *c = cn_comm_find(px->cn, l->comm);

		if (!c || c->link != CN_LINK_UP)
			(void)cn_link_set(px->cn, l->comm, CN_LINK_CONNECTING,
					  0, NULL);
	}
	if (probe_send(px, o)) {
		char ab[CN_ADDR_MAX];

		l->probe = mem_deref(l->probe);
		(void)cn_link_set(px->cn, l->comm, CN_LINK_DOWN,
				  (unsigned)(retry_ms(px) / 1000),
				  "cannot send OPTIONS to %s",
				  astr(&sa, ab, sizeof(ab)));
		l->next_probe = sst_tmr_now() + retry_ms(px);
	}
}

static void link_probe(struct cn_px *px, struct px_link *l,
		       const struct cfg_extern *ex)
{
	const char *dom = ex->domains.n ? ex->domains.v[0] : NULL;

	if (l->rreq || l->probe || !dom)
		return;
	if (!strncmp(dom, "*.", 2))
		dom += 2;
	l->next_probe = sst_tmr_now() + retry_ms(px);	/* until answered */
	if (cn_resolve_lookup(&l->rreq, px->res, ex, dom, link_resolved, l))
		l->rreq = NULL;
}

/* Probe communities: open links every keep-alive, down ones when due. */
static void links_tick(struct cn_px *px, uint64_t now)
{
	struct le *le;

	for (le = px->cn->comms.head; le; le = le->next) {
		struct cn_comm *c = le->data;
		const struct cfg_extern *ex;
		struct px_link *l;

		if (!c->enabled)
			continue;
		if (c->link != CN_LINK_UP && c->link != CN_LINK_DOWN)
			continue;
		ex = px_extern(px, c->name);
		/* an XMPP community's link is its streams' (cn_xmpp.c):
		 * a SIP OPTIONS to an XMPP server is only noise to it */
		if (!ex || ex->protocol == CFG_PROTO_XMPP)
			continue;
		l = link_find(px, c->name);
		if (!l) {
			l = mem_zalloc(sizeof(*l), link_destructor);
			if (!l)
				return;
			str_ncpy(l->comm, c->name, sizeof(l->comm));
			l->px = px;
			l->next_probe = now + (c->link == CN_LINK_UP ?
				(uint64_t)CN_PX_KEEPALIVE_S * 1000 :
				retry_ms(px));
			list_append(&px->links, &l->le, l);
			continue;
		}
		if (now >= l->next_probe)
			link_probe(px, l, ex);
	}
}

static void tick(void *arg)
{
	struct cn_px *px = arg;
	uint64_t now = sst_tmr_now();
	size_t i;

	for (i = 0; i < px->ngwt; i++) {
		if (!px->gwt[i].probe && now >= px->gwt[i].next_probe) {
			px->gwt[i].next_probe = now + retry_ms(px);
			gw_probe(px, i);
		}
	}
	links_tick(px, now);
	tmr_start(&px->tick, CN_PX_TICK_MS, tick, px);
}

int px_links_start(struct cn_px *px)
{
	list_init(&px->links);
	gwt_build(px);
	tmr_start(&px->tick, 0, tick, px);
	return 0;
}

int px_links_apply(struct cn_px *px)
{
	list_flush(&px->links);
	return gwt_build(px);
}

int px_links_retry(struct cn_px *px, struct cn_comm *comm)
{
	const struct cfg_extern *ex = px_extern(px, comm->name);
	const struct cn_route *rt;
	struct px_link *l;
	size_t i;

	if (!ex)
		return ENOENT;

	/* a link that was never opened opens with its first request */
	l = link_find(px, comm->name);
	if (!l)
		return 0;

	/* forget the down marks of its hops, then probe now */
	for (i = 0; i < ex->domains.n; i++) {
		const char *dom = ex->domains.v[i];
		size_t h;

		if (!strncmp(dom, "*.", 2))
			dom += 2;
		rt = cn_resolve_current(px->res, ex, dom, NULL);
		for (h = 0; rt && h < rt->hopc; h++)
			sst_dns_mark_up(px->dns, rt->hopv[h].target,
					rt->hopv[h].port);
		(void)cn_resolve_refresh(px->res, ex, dom);
	}

	l->probe = px_out_drop(l->probe);
	l->rreq = mem_deref(l->rreq);
	link_probe(px, l, ex);
	return 0;
}

void px_links_stop(struct cn_px *px)
{
	size_t i;

	list_flush(&px->links);
	for (i = 0; i < px->ngwt; i++)
		px->gwt[i].probe = px_out_drop(px->gwt[i].probe);
	px->ngwt = 0;
}

void px_links_status(struct cn_px *px, struct dmn_st *root)
{
	struct dmn_st *sec, *list;
	struct sst_trans_stats ts;
	uint64_t now = sst_tmr_now();
	size_t i;
	enum sst_tp k;

	sec = dmn_st_section(root, "proxy");
	list = dmn_st_list(sec, "gateway_addresses");
	for (i = 0; i < px->ngwt; i++) {
		const struct px_gwt *g = &px->gwt[i];
		struct dmn_st *it = dmn_st_item(list);
		char addr[CN_ADDR_MAX];

		re_snprintf(addr, sizeof(addr), "%j", &g->addr);
		dmn_st_str(it, "gateway", g->name);
		dmn_st_str(it, "transport", sst_tp_name(g->kind));
		dmn_st_str(it, "address", addr);
		dmn_st_int(it, "port", sa_port(&g->addr));
		dmn_st_str(it, "state", g->down ? "down" : "up");
		dmn_st_dur(it, g->down ? "next_retry_in" : "next_keepalive_in",
			   g->next_probe > now ? g->next_probe - now : 0);
	}

	sst_tstack_stats(px->ts, &ts);
	list = dmn_st_section(sec, "transactions");
	dmn_st_int(list, "client_active", ts.ct_active);
	dmn_st_int(list, "server_active", ts.st_active);
	dmn_st_int(list, "timeouts", (int64_t)ts.timeouts);
	dmn_st_int(list, "transport_errors", (int64_t)ts.tperrors);
	dmn_st_int(list, "retransmissions_absorbed",
		   (int64_t)ts.req_absorbed);
	dmn_st_int(sec, "pending_requests", px->nreqs);

	list = dmn_st_list(sec, "transports");
	for (k = SST_TP_UDP; k < SST_TP_N; k++) {
		const struct sst_counters *c = sst_transp_counters(px->tp, k);
		struct dmn_st *it;

		if (!c)
			continue;
		it = dmn_st_item(list);
		dmn_st_str(it, "transport", sst_tp_name(k));
		dmn_st_int(it, "messages_in", (int64_t)c->msgs_in);
		dmn_st_int(it, "messages_out", (int64_t)c->msgs_out);
		dmn_st_int(it, "connections_in", (int64_t)c->conns_in);
		dmn_st_int(it, "connections_out", (int64_t)c->conns_out);
		dmn_st_int(it, "garbage", (int64_t)c->err[SST_ERR_GARBAGE]);
		dmn_st_int(it, "tls_errors", (int64_t)c->err[SST_ERR_TLS]);
	}
}
