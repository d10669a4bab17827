/*
 * cn_proxy.c -- the connector's SIP proxy core: start-up, reload, the
 * receive path and the forwarding of requests and their responses.
 *
 * One request, from the socket to its final answer:
 *	the front door (sst_front: decode, malformed answered per
 *	verdict, responses to their client transactions, ACK dropped,
 *	INVITE 501, CANCEL 481, a server transaction absorbing
 *	retransmissions; malformed input is counted here, with the peer)
 *	-> Max-Forwards 0: 483 -> OPTIONS for us: 200
 *	-> outbound (from a gateway) or inbound (anything else): decide
 *	   (cn_policy), resolve (cn_resolve, maybe waiting), forward over
 *	   a client transaction to the first target, the next one on a
 *	   transport error, 503 or 408, a final answer in every case.
 *
 * In-dialog requests (To tag set): the Request-URI is the remote
 * target, not an address of record, so the community is decided on the
 * To domain instead (outbound: To is the external party; inbound: To is
 * the local one).  Our Route is popped (loose routing); an outbound one
 * goes to the next Route, or the Request-URI when that is an address;
 * an inbound one goes to the next Route / Request-URI only when it is
 * an address of one of our gateways, else to the first healthy
 * gateway: the connector never relays inbound traffic elsewhere.
 *
 * Record-Route: a dialog-creating SUBSCRIBE (no To tag) gets ours,
 * <sip:IP:PORT;transport=X;lr> with the transport and port of the next
 * hop's side, followed by a second one for the sender's side when the
 * two differ (double record-routing, RFC 5658): the gateway then sends
 * in-dialog requests to its own listener over its own transport, the
 * external side to the federation listener.  Both are popped when an
 * in-dialog request comes back.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_transp.h"
#include "sipstack/sst_tls.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_front.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_dns.h"
#include "connector/cn.h"
#include "connector/cn_resolve.h"
#include "connector/cn_proxy.h"
#include "connector/cn_xmpp_sip.h"
#include "connector/cn_px.h"
#include "connector/cn_audit.h"

/* ------------------------------------------------------------------ */
/* Small helpers */

/* The methods the connector relays (OPTIONS to itself, 501 to INVITE). */
static const char px_allow_hdr[] =
	"Allow: MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, OPTIONS\r\n";

enum sst_tp px_kind(enum cfg_transport tp)
{
	switch (tp) {
	case CFG_TP_TCP: return SST_TP_TCP;
	case CFG_TP_TLS: return SST_TP_TLS;
	default:         return SST_TP_UDP;
	}
}

static int sip_tp(enum sst_tp k)
{
	switch (k) {
	case SST_TP_TCP: return SIP_TRANSP_TCP;
	case SST_TP_TLS: return SIP_TRANSP_TLS;
	default:         return SIP_TRANSP_UDP;
	}
}

static const char *tp_param(enum sst_tp k)
{
	switch (k) {
	case SST_TP_TCP: return "tcp";
	case SST_TP_TLS: return "tls";
	default:         return "udp";
	}
}

uint16_t px_port(const struct cn_px *px, enum sst_tp k)
{
	return k == SST_TP_TLS ? px->tls_port : px->port;
}

/* Our sent-by for transport k: "IP:PORT" (IPv6 in brackets); toward a
 * partner (out) the advertised host, toward a gateway the bound ip. */
static void sentby(const struct cn_px *px, enum sst_tp k, bool out,
		   char *buf, size_t size)
{
	if (out)
		re_snprintf(buf, size, "%s:%u", px->host, px_port(px, k));
	else if (strchr(px->ip, ':'))
		re_snprintf(buf, size, "[%s]:%u", px->ip, px_port(px, k));
	else
		re_snprintf(buf, size, "%s:%u", px->ip, px_port(px, k));
}

/* The local address to send from. */
const struct sa *px_laddr(const struct cn_px *px, enum sst_tp k)
{
	return k == SST_TP_UDP ? &px->laddr_udp : &px->laddr_any;
}

/* A uri's host as an address with its port (dflt when none); ENOENT
 * when the host is a name. */
static int uri_addr(struct sa *sa, const struct uri *u, uint16_t dflt)
{
	return sa_set(sa, &u->host, u->port ? u->port : dflt) ? ENOENT : 0;
}

/* transport= of a uri, or dflt. */
static enum sst_tp uri_kind(const struct uri *u, enum sst_tp dflt)
{
	struct pl v;

	if (msg_param_decode(&u->params, "transport", &v))
		return dflt;
	if (!pl_strcasecmp(&v, "tcp"))
		return SST_TP_TCP;
	if (!pl_strcasecmp(&v, "tls"))
		return SST_TP_TLS;
	if (!pl_strcasecmp(&v, "udp"))
		return SST_TP_UDP;
	return dflt;
}

/* Does uri name this connector (our IP, our port or none)? */
static bool is_self(const struct uri *uri, void *arg)
{
	const struct cn_px *px = arg;
	struct sa sa;

	if (!uri)
		return false;
	if (px_topos_is_adv(px, &uri->host))
		;
	else if (sa_set(&sa, &uri->host, 0) ||
		 !sa_cmp(&sa, &px->laddr_any, SA_ADDR))
		return false;
	return !uri->port || uri->port == px->port ||
		uri->port == px->tls_port;
}

/* ------------------------------------------------------------------ */
/* Requests in progress */

static void req_destructor(void *arg)
{
	struct px_req *r = arg;

	if (r->le.list) {
		list_unlink(&r->le);
		--r->px->nreqs;
	}
	if (r->out) {
		px_out_drop(r->out);
	}
	if (r->st)
		sst_strans_abandon(r->st);
	mem_deref(r->subres);	/* cn_subs.c: a place never answered */
	mem_deref(r->rreq);
	mem_deref((void *)r->route);
	mem_deref(r->flow);
	mem_deref(r->msg);
}

/* The final answer, made here; the request is done. */
unsigned px_retry_s(const struct cn_px *px)
{
	const unsigned s = px && px->cn && px->cn->self ?
		px->cn->self->retry : 0;

	return s ? s : CFG_RETRY_DEFAULT;
}

void px_req_final(struct px_req *r, uint16_t scode, const char *phrase,
		  const char *hdrs)
{
	struct sst_extra x = {hdrs, NULL, NULL, 0};
	struct mbuf *mb = NULL;

	px_subs_answer(r, scode, NULL);		/* cn_subs.c */
	if (r->st)
		cn_audit_req_str(r->px->cn, r, scode, phrase);
	if (r->st && !sst_build_response(&mb, r->msg, scode, phrase, NULL,
					 &r->src, hdrs ? &x : NULL)) {
		(void)sst_strans_reply(r->st, scode, mb);
		r->st = NULL;
	}
	mem_deref(mb);
	mem_deref(r);
}

/* A refusal: the policy's answer and phrase, counted with its detail;
 * a temporary one (503) says when to retry. */
static void refuse(struct px_req *r, const struct cn_verdict *v)
{
	char src[CN_ADDR_MAX], hdr[64];
	const unsigned scode = v->status ? v->status : 403;
	/* the reason names the refusal; where the phrase says more (which
	 * transport to use), the log says it too */
	const bool why = v->phrase && (v->reason == CN_R_WRONG_TRANSPORT ||
				       v->reason == CN_R_DNS_FAILURE);

	re_snprintf(src, sizeof(src), "%j", &r->src);
	cn_count_reject(r->px->cn, v->community ? v->community->name :
			(r->comm[0] ? r->comm : NULL), v->reason, src,
			"from=%s ruri=%s method=%s%s%s", r->from_domain,
			r->ruri_domain, r->method, why ? " why=" : "",
			why ? v->phrase : "");
	re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
		    px_retry_s(r->px));
	px_req_final(r, (uint16_t)scode,
		     v->phrase ? v->phrase : "Forbidden",
		     scode == 503 ? hdr : NULL);
}

/* Over its community's rate (cn_rate.c): 503, retry in a second; over
 * its subscription cap (cn_subs.c, which answers). */
static bool rate_ok(struct px_req *r)
{
	char src[CN_ADDR_MAX];

	if (px_rate_admit(r->px, r))
		return px_subs_admit(r->px, r);
	re_snprintf(src, sizeof(src), "%j", &r->src);
	cn_count_reject(r->px->cn, r->comm, CN_R_RATE_LIMIT, src,
			"from=%s ruri=%s method=%s", r->from_domain,
			r->ruri_domain, r->method);
	px_req_final(r, 503, "Community over its rate",
		     "Retry-After: 1\r\n");
	return false;
}

/* 483: Max-Forwards used up, or our own Via already in the request. */
static void refuse_loop(struct px_req *r)
{
	struct cn_verdict v;

	memset(&v, 0, sizeof(v));
	v.reason = CN_R_LOOP;
	v.status = 483;
	v.phrase = "Too Many Hops";
	refuse(r, &v);
}

const struct cfg_extern *px_extern(const struct cn_px *px, const char *name)
{
	const struct cfg *cfg = px->cn->cfg;
	size_t i;

	for (i = 0; i < cfg->nexterns; i++) {
		if (!strcmp(cfg->externs[i].name, name))
			return &cfg->externs[i];
	}
	return NULL;
}

/* ---- targets ---- */

static void add_target(struct px_req *r, enum sst_tp kind,
		       const struct sa *addr, const char *tls_name,
		       const struct cn_hop *hop, int gwt)
{
	struct px_target *t;

	if (r->ntgt >= CN_PX_TARGETS_MAX)
		return;
	t = &r->tgt[r->ntgt++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	sa_cpy(&t->addr, addr);
	if (tls_name)
		str_ncpy(t->tls_name, tls_name, sizeof(t->tls_name));
	t->hop = hop;
	t->gwt = gwt;
	t->gwn = gwt;
}

static void report_hops(struct cn_px *px, const char *comm,
			const struct cn_route *rt)
{
	struct cn_link_hop hv[CN_HOPS_MAX];
	uint64_t now = cn_resolve_now();
	size_t i, n = 0;

	for (i = 0; i < rt->hopc && n < CN_HOPS_MAX; i++, n++) {
		struct sa sa;

		memset(&hv[n], 0, sizeof(hv[n]));
		if (!sa_set_sa(&sa, (const struct sockaddr *)&rt->hopv[i].addr))
			re_snprintf(hv[n].addr, sizeof(hv[n].addr), "%j",
				    &sa);
		hv[n].port = rt->hopv[i].port;
		hv[n].tp = rt->hopv[i].tp;
		hv[n].ttl = rt->hopv[i].expires > now ?
			(uint32_t)((rt->hopv[i].expires - now) / 1000) : 0;
	}
	(void)cn_hops_set(px->cn, comm, hv, n);
}

/* Targets of an outbound request from a resolved route. */
static void targets_from_route(struct px_req *r, const struct cn_route *rt)
{
	size_t idxv[CN_RESOLVE_HOPS_MAX], up = 0, i;

	if (cn_resolve_order(r->px->res, rt, idxv, &up))
		return;
	for (i = 0; i < rt->hopc; i++) {
		const struct cn_hop *h = &rt->hopv[idxv[i]];
		struct sa sa;

		if (sa_set_sa(&sa, (const struct sockaddr *)&h->addr))
			continue;
		sa_set_port(&sa, h->port);
		add_target(r, px_kind(h->tp), &sa, h->tls_name, h, -1);
	}
}

/* Tell status whether the community's answers are served stale. */
void px_report_stale(struct cn_px *px, const char *comm, const char *domain)
{
	const struct cfg_extern *ex = px_extern(px, comm);
	uint64_t since, now = cn_resolve_now();
	time_t wall = 0;

	if (!ex)
		return;
	since = cn_resolve_stale_since(px->res, ex, domain);
	if (since)
		wall = time(NULL) - (time_t)((now > since ? now - since : 0) /
					    1000);
	(void)cn_stale_set(px->cn, comm, wall);
}

static bool tls_check(struct sst_conn *conn, const struct cfg_extern *ex,
		      const char *domain, struct cn_tls_info *ti);

static void try_next(struct px_req *r);
static bool dialog_target(const struct cn_px *px, const struct sip_msg *msg,
			  enum sst_tp dflt, struct sa *sa, enum sst_tp *kind);

static void resolved(int err, const struct cn_route *rt, void *arg)
{
	struct px_req *r = arg;
	struct cn_px *px = r->px;

	r->rreq = mem_deref(r->rreq);
	px_report_stale(px, r->comm, r->domain);
	if (err || !rt || !rt->hopc) {
		char hdr[64];
		const bool temp = cn_route_temporary(err, rt);

		(void)cn_link_set(px->cn, r->comm, CN_LINK_DOWN,
				  px->cn->self->retry,
				  "cannot resolve %s: %s", r->domain,
				  strerror(err ? err : ENOENT));
		/* a DNS that does not answer is a temporary fault; a
		 * name that does not exist is not */
		re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
			    px_retry_s(px));
		px_req_final(r, 503, temp ? "Next hop not resolvable: DNS "
			     "unavailable" : "Next hop not resolvable",
			     temp ? hdr : NULL);
		return;
	}
	r->route = mem_ref((void *)rt);
	report_hops(px, r->comm, rt);
	targets_from_route(r, rt);
	try_next(r);
}

/*
 * The inbound trust decision, once the trust set is known (err: why
 * there is none).  The TLS peer's facts are looked at here, and kept
 * for the community's status only when the source is one of its
 * proxy's addresses: a refused sender never changes what status says.
 */
static void decide_trust(struct px_req *r, const struct cn_addrset *set,
			 int err)
{
	struct cn_px *px = r->px;
	struct cn_tls_info ti;
	struct cn_facts f;
	struct cn_verdict v;
	struct sa pref;
	enum sst_tp pk;
	char phrase[128];

	memset(&f, 0, sizeof(f));
	memset(&ti, 0, sizeof(ti));
	f.from_domain = r->from_domain;
	f.ruri_domain = r->ruri_domain;
	f.src = &r->src.u.sa;
	f.tls = r->flow->tp == SST_TP_TLS;
	f.tp = r->flow->tp == SST_TP_TLS ? CFG_TP_TLS :
		r->flow->tp == SST_TP_TCP ? CFG_TP_TCP : CFG_TP_UDP;

	memset(&v, 0, sizeof(v));
	v.community = px_extern(px, r->comm);
	px_report_stale(px, r->comm, r->domain);
	if ((!set || !set->n) && cn_resolve_temporary(err)) {
		/* no answer to check against: temporary, never a 403 */
		v.reason = CN_R_DNS_FAILURE;
		v.status = 503;
		v.phrase = "Cannot check the sender: DNS unavailable";
		refuse(r, &v);
		return;
	}
	if (f.tls && v.community)
		f.tls_name_ok = tls_check(r->flow->conn, v.community,
					  r->domain, &ti);
	r->tls_name_ok = f.tls_name_ok;
	cn_decide_trust(&f, set, px->cn->cfg->tls.verify ==
			CFG_VERIFY_REQUIRED, &v);
	if (ti.known && (v.reason == CN_OK || v.reason == CN_R_TLS_FAILURE))
		(void)cn_tls_set(px->cn, r->comm, &ti);
	if (v.reason == CN_R_WRONG_TRANSPORT) {
		char acc[32];

		re_snprintf(phrase, sizeof(phrase), "%s: %s, use %s",
			    v.phrase, cfg_transport_name(f.tp),
			    cfg_transports_str(cfg_accepted_transports(
					      v.community), acc, sizeof(acc)));
		v.phrase = phrase;
	}
	if (v.reason != CN_OK) {
		refuse(r, &v);
		return;
	}

	/* the community's proxy: admission keeps its connection */
	sst_conn_trust(r->flow->conn);
	if (!rate_ok(r))
		return;
	cn_count_in(px->cn, r->comm);
	if (r->in_dialog &&
	    dialog_target(px, r->msg, SST_TP_UDP, &pref, &pk))
		px_gw_targets(px, r, &pref, pk);
	else
		px_gw_targets(px, r, NULL, SST_TP_UDP);
	if (!r->ntgt) {
		char hdr[64];

		re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
			    px_retry_s(px));
		px_req_final(r, 503, "No gateway available", hdr);
		return;
	}
	try_next(r);
}

static void trust_resolved(int err, const struct cn_route *rt, void *arg)
{
	struct px_req *r = arg;
	struct cn_addrset set = {NULL, 0};

	r->rreq = mem_deref(r->rreq);
	if (!err && rt) {
		set.v = rt->trustv;
		set.n = rt->trustc;
	}
	decide_trust(r, &set, err ? err : rt ? rt->err : ENOMEM);
}

/* ---- forwarding over client transactions ---- */

static void out_destructor(void *arg)
{
	struct px_out *o = arg;

	mem_deref(o->snd);
}

static void out_err(int err, void *arg)
{
	struct px_out *o = arg;

	if (o->ct)
		sst_ctrans_tperror(o->ct, err);
}

int px_out_send(struct mbuf *mb, void *arg)
{
	struct px_out *o = arg;

	o->snd = mem_deref(o->snd);
	if (!o->px->tp)
		return ENOTCONN;
	return sst_transp_send(o->px->tp, &o->snd, o->kind, &o->dst,
			       px_laddr(o->px, o->kind),
			       o->tls_name[0] ? o->tls_name : NULL, mb,
			       out_err, o);
}

/* Drop o and the client transaction it serves (which holds o). */
void *px_out_drop(struct px_out *o)
{
	if (!o)
		return NULL;
	o->req = NULL;
	o->link = NULL;
	o->gwt = -1;
	if (o->ct) {
		struct sst_ctrans *ct = o->ct;

		o->ct = NULL;
		sst_ctrans_abandon(ct);
	}
	return mem_deref(o);
}

/* A sender for one client transaction to dst. */
int px_out_alloc(struct px_out **op, struct cn_px *px, enum sst_tp kind,
		 const struct sa *dst, const char *tls_name)
{
	struct px_out *o = mem_zalloc(sizeof(*o), out_destructor);

	if (!o)
		return ENOMEM;
	o->px = px;
	o->kind = kind;
	o->gwt = -1;
	sa_cpy(&o->dst, dst);
	if (tls_name)
		str_ncpy(o->tls_name, tls_name, sizeof(o->tls_name));
	*op = o;
	return 0;
}

static void target_failed(struct px_req *r, const struct px_target *t)
{
	struct cn_px *px = r->px;

	if (t->hop)
		cn_resolve_hop_failed(px->res, t->hop, 0);
	if (t->gwt >= 0)
		px_gwt_failed(px, t->gwt, "no answer to a request");
}

/* A response to relay back, topology hidden (cn_topos.c): outbound,
 * the inside Vias restored from the request; inbound, the gateway's
 * Contact replaced by ours. */
static int fwd_response(const struct px_req *r, const struct sip_msg *msg,
			struct mbuf **mbp)
{
	char ct[PX_TOPOS_URI_MAX + CN_RESOLVE_NAME_MAX + 64];
	char rr[CN_ADDR_MAX + 48];
	struct sst_fwdr_spec s;

	memset(&s, 0, sizeof(s));
	s.selfh = is_self;
	s.arg = r->px;
	if (r->dir == CN_DIR_OUTBOUND) {
		const enum sst_tp kout = r->tgt[r->cur].kind;
		const enum sst_tp kin = r->flow->tp;
		const struct cn_px *px = r->px;

		s.req = r->msg;
		s.src = &r->src;
		/* double record-routing (RFC 5658): the entry facing the
		 * gateway, kept off the partner's leg */
		if (r->record_route && (kin != kout ||
					px_port(px, kin) != px_port(px, kout))) {
			if (strchr(px->ip, ':'))
				re_snprintf(rr, sizeof(rr),
					    "<sip:[%s]:%u;transport=%s;lr>",
					    px->ip, px_port(px, kin),
					    tp_param(kin));
			else
				re_snprintf(rr, sizeof(rr),
					    "<sip:%s:%u;transport=%s;lr>",
					    px->ip, px_port(px, kin),
					    tp_param(kin));
			s.rr_in = rr;
		}
		return sst_build_fwd_response_th(mbp, msg, &s);
	}
	s.rr_out = true;
	if (px_topos_contact(r->px, msg, r->flow->tp, ct, sizeof(ct)) !=
	    ENOENT)
		s.contact = ct;
	return sst_build_fwd_response_th(mbp, msg, &s);
}

static void out_resp(int err, uint16_t scode, const struct sip_msg *msg,
		     void *arg)
{
	struct px_out *o = arg;
	struct px_req *r = o->req;
	struct mbuf *mb = NULL;
	struct px_target *t;

	if (scode >= 200)
		o->ct = NULL;	/* the transaction is over */
	if (!r)
		return;
	t = &r->tgt[r->cur];

	if (scode < 200) {
		/* 100 is hop by hop; other provisional answers go back */
		if (msg && scode > 100 && r->st &&
		    !fwd_response(r, msg, &mb))
			(void)sst_strans_reply(r->st, scode, mb);
		mem_deref(mb);
		return;
	}

	/* Only silence or a transport failure says the next hop is gone
	 * (ours is the local 408/503 without a message).  Any answer it
	 * sends, 408 and 503 included, proves it alive: its 503 speaks for
	 * what lies beyond it (a directory, a far gateway) and goes back as
	 * it is, with its own reason and Retry-After. */
	if (!msg) {
		r->last_scode = scode;
		r->last_timeout = !msg && err == ETIMEDOUT;
		target_failed(r, t);
		r->out = mem_deref(r->out);
		try_next(r);
		return;
	}

	/* a final answer from the next hop: relay it */
	if (r->dir == CN_DIR_OUTBOUND) {
		(void)cn_link_set(r->px->cn, r->comm, CN_LINK_UP, 0, NULL);
		cn_count_in(r->px->cn, r->comm);
	}
	else if (t->gwt >= 0) {
		px_gwt_ok(r->px, t->gwt);
	}
	px_subs_answer(r, scode, msg);		/* cn_subs.c */
	if (r->st)
		cn_audit_req(r->px->cn, r, scode, &msg->reason);
	if (r->st && !fwd_response(r, msg, &mb)) {
		(void)sst_strans_reply(r->st, scode, mb);
		r->st = NULL;
	}
	mem_deref(mb);
	mem_deref(r);
}

/* Topology hiding of a forwarded request (cn_topos.c): leaving the
 * community only our Via and our Contact; coming in, a Request-URI we
 * handed out becomes the inside contact again. */
static void topos_forward(struct px_req *r, const struct px_target *t,
			  struct sst_fwd_spec *f, char *ct, size_t ctsize,
			  char *ruri, size_t rurisize)
{
	if (r->dir == CN_DIR_OUTBOUND) {
		f->hide_vias = true;
		if (px_topos_contact(r->px, r->msg, t->kind, ct, ctsize) !=
		    ENOENT)
			f->contact = ct;
	}
	else if (px_topos_ruri(r->px, r->msg, ruri, rurisize)) {
		f->ruri = ruri;
	}
}

/* Forward r to its next target, or give the final answer. */
static void try_next(struct px_req *r)
{
	struct cn_px *px = r->px;
	char branch[SST_BRANCH_SIZE], sb[CN_RESOLVE_NAME_MAX + 16];
	char rr[2 * (CN_RESOLVE_NAME_MAX + 40)];
	char ct[PX_TOPOS_URI_MAX + CN_RESOLVE_NAME_MAX + 64];
	char ruri[PX_TOPOS_URI_MAX];
	struct sst_fwd_spec f;
	struct mbuf *mb = NULL;
	struct px_target *t;
	struct px_out *o;
	int err;

 again:
	if (r->next >= r->ntgt) {
		if (r->dir == CN_DIR_OUTBOUND)
			(void)cn_link_set(px->cn, r->comm, CN_LINK_DOWN,
					  px->cn->self->retry,
					  "no next hop answered (%u)",
					  r->last_scode);
		if (r->last_timeout)
			px_req_final(r, 408, "Next hop timed out", NULL);
		else if (r->dir == CN_DIR_INBOUND) {
			char hdr[64];

			re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
				    px_retry_s(px));
			px_req_final(r, 503, "No gateway available", hdr);
		}
		else
			px_req_final(r, 503, "Next hop unavailable", NULL);
		return;
	}
	r->cur = r->next++;
	t = &r->tgt[r->cur];

	sst_branch_gen(branch, sizeof(branch));
	sentby(px, t->kind, r->dir == CN_DIR_OUTBOUND, sb, sizeof(sb));
	memset(&f, 0, sizeof(f));
	f.via.tp = sip_tp(t->kind);
	f.via.sentby = sb;
	f.via.branch = branch;
	f.selfh = is_self;
	f.arg = px;
	f.src = &r->src;
	if (r->record_route) {
		/* RFC 3261 16.6 step 4, RFC 5658: one entry per leg when
		 * the legs differ in transport or port; the entry facing the
		 * next hop first, so that each side's in-dialog requests
		 * reach the listener on its own side */
		const enum sst_tp kout = t->kind, kin = r->flow->tp;
		const bool out = r->dir == CN_DIR_OUTBOUND;
		char host[CN_ADDR_MAX + 2];
		int n;

		/* the entry facing the partner names the advertised host
		 * (static NAT), the one facing a gateway the bound ip */
		if (strchr(px->ip, ':'))
			re_snprintf(host, sizeof(host), "[%s]", px->ip);
		else
			str_ncpy(host, px->ip, sizeof(host));
		n = re_snprintf(rr, sizeof(rr), "<sip:%s:%u;transport=%s;lr>",
				out ? px->host : host, px_port(px, kout),
				tp_param(kout));
		/* leaving the community: the entry facing the gateway is
		 * added on the response back to it (fwd_response) */
		if (n > 0 && !out && (kin != kout ||
			      px_port(px, kin) != px_port(px, kout)))
			(void)re_snprintf(rr + n, sizeof(rr) - (size_t)n,
					  ", <sip:%s:%u;transport=%s;lr>",
					  out ? host : px->host,
					  px_port(px, kin),
					  tp_param(kin));
		f.rr = rr;
	}

	topos_forward(r, t, &f, ct, sizeof(ct), ruri, sizeof(ruri));
	err = sst_build_forward(&mb, r->msg, &f);
	if (err == ELOOP) {
		refuse_loop(r);
		return;
	}
	if (err) {
		px_req_final(r, 500, "Cannot forward", NULL);
		return;
	}

	if (px_out_alloc(&o, px, t->kind, &t->addr, t->tls_name)) {
		mem_deref(mb);
		px_req_final(r, 500, "Out of memory", NULL);
		return;
	}
	o->req = r;
	r->out = o;

	err = sst_ctrans_start(&o->ct, px->ts, r->method, branch, mb,
			       t->kind != SST_TP_UDP, px_out_send, o, out_resp,
			       o);
	mem_deref(mb);
	if (err) {
		r->out = mem_deref(r->out);
		r->last_scode = 503;
		goto again;
	}
	if (r->dir == CN_DIR_OUTBOUND) {
		cn_count_out(px->cn, r->comm);
	}
	else if (t->gwn >= 0) {
		cn_count_gw(px->cn, px->gwt[t->gwn].name, false);
	}
}

/* ------------------------------------------------------------------ */
/* Deciding what to do with a new request */

static void pl_to(const struct pl *pl, char *buf, size_t size)
{
	if (!pl_isset(pl) || pl_strcpy(pl, buf, size))
		buf[0] = '\0';
}

/* The first Route after ours (loose routing), or false. */
static bool next_route(const struct cn_px *px, const struct sip_msg *msg,
		       struct sip_addr *addr)
{
	struct le *le;
	bool first = true;

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *h = le->data;
		struct sip_addr a;

		if (h->id != SIP_HDR_ROUTE)
			continue;
		if (sip_addr_decode(&a, &h->val))
			return false;
		/* ours: one, or two after double record-routing */
		if (first && is_self(&a.uri, (void *)px))
			continue;
		first = false;
		*addr = a;
		return true;
	}
	return false;
}

/* The in-dialog destination written in the request, if an address. */
static bool dialog_target(const struct cn_px *px, const struct sip_msg *msg,
			  enum sst_tp dflt, struct sa *sa, enum sst_tp *kind)
{
	char ibuf[PX_TOPOS_URI_MAX];
	struct sip_addr a;
	const struct uri *u;
	struct uri iu;

	if (next_route(px, msg, &a))
		u = &a.uri;
	else	/* a Request-URI we handed out: the inside contact */
		u = px_topos_uri(px, msg, &iu, ibuf, sizeof(ibuf)) ? &iu :
			&msg->uri;
	*kind = uri_kind(u, dflt);
	return !uri_addr(sa, u, *kind == SST_TP_TLS ? CFG_SIPS_PORT :
			 CFG_SIP_PORT);
}

static void outbound(struct px_req *r)
{
	struct cn_px *px = r->px;
	const struct cfg_extern *ex;
	struct cn_facts f;
	struct cn_verdict v;
	int err;

	if (r->gwi >= 0 && (size_t)r->gwi < px->ngwt)
		cn_count_gw(px->cn, px->gwt[r->gwi].name, true);

	memset(&f, 0, sizeof(f));
	f.from_domain = r->from_domain;
	f.ruri_domain = r->ruri_domain;
	f.src = &r->src.u.sa;
	memset(&v, 0, sizeof(v));
	cn_decide_community(px->cn->cfg, px->cn->self, CN_DIR_OUTBOUND, &f,
			    &v);
	if (v.reason != CN_OK) {
		refuse(r, &v);
		return;
	}
	ex = v.community;
	str_ncpy(r->comm, ex->name, sizeof(r->comm));
	str_ncpy(r->domain, r->ruri_domain, sizeof(r->domain));
	if (!rate_ok(r))
		return;
	/* an XMPP community: the connector is its users' SIP user agent */
	if (ex->protocol == CFG_PROTO_XMPP) {
		cn_count_out(px->cn, r->comm);
		cn_xsip_request(px->xsip, r, ex);
		return;
	}

	if (r->in_dialog) {
		struct sa sa;
		enum sst_tp k;

		if (dialog_target(px, r->msg, px_kind(ex->tp), &sa, &k)) {
			add_target(r, k, &sa, ex->proxy ? ex->proxy :
				   r->domain, NULL, -1);
			try_next(r);
			return;
		}
	}

	err = cn_resolve_lookup(&r->rreq, px->res, ex, r->domain, resolved,
				r);
	if (err)	/* out of memory or of resolver entries: temporary */
		px_req_final(r, 503, "Next hop not resolvable",
			     err == EINVAL ? NULL : "Retry-After: 5\r\n");
}

/*
 * The TLS peer of conn checked against the community's proxy name (or
 * the domain without a Proxy); *ti gets the facts for status.  Not
 * recorded here: only the caller knows whether the source passed.
 */
static bool tls_check(struct sst_conn *conn, const struct cfg_extern *ex,
		      const char *domain, struct cn_tls_info *ti)
{
	struct sst_tls *tls;
	struct sst_tls_peer peer;
	const char *want = ex->proxy ? ex->proxy : domain;
	bool ok = false;

	if (!conn)
		return false;
	tls = sst_conn_tls(conn);
	if (!tls || sst_tls_peer(tls, &peer))
		return false;

	/* the name is checked as outbound checks it: the dNSName SANs,
	 * the subject CN only when the certificate has none */
	if (sst_tls_peer_matches(tls, want))
		ok = peer.verdict == SST_TLS_VALID;

	memset(ti, 0, sizeof(*ti));
	ti->known = true;
	str_ncpy(ti->peer, peer.subject, sizeof(ti->peer));
	str_ncpy(ti->cipher, peer.cipher, sizeof(ti->cipher));
	str_ncpy(ti->verdict, ok ? sst_tls_verdict_name(peer.verdict) :
		 (peer.verdict == SST_TLS_VALID ? "name-mismatch" :
		  sst_tls_verdict_name(peer.verdict)), sizeof(ti->verdict));
	ti->days_left = peer.days_left;
	return ok;
}

static void inbound(struct px_req *r)
{
	struct cn_px *px = r->px;
	const struct cfg_extern *ex;
	struct cn_addrset set;
	struct cn_facts f;
	struct cn_verdict v;
	int err;

	/* the TLS peer is looked at once trust is known */
	memset(&f, 0, sizeof(f));
	f.from_domain = r->from_domain;
	f.ruri_domain = r->ruri_domain;
	f.src = &r->src.u.sa;
	memset(&v, 0, sizeof(v));
	cn_decide_community(px->cn->cfg, px->cn->self, CN_DIR_INBOUND, &f,
			    &v);
	if (v.reason != CN_OK) {
		refuse(r, &v);
		return;
	}
	ex = v.community;
	str_ncpy(r->comm, ex->name, sizeof(r->comm));
	str_ncpy(r->domain, r->from_domain, sizeof(r->domain));

	err = cn_resolve_trust(px->res, ex, r->domain, &set);
	if (!err) {
		decide_trust(r, &set, 0);
		return;
	}
	if (err != EAGAIN) {
		set.v = NULL;
		set.n = 0;
		decide_trust(r, &set, err);
		return;
	}
	err = cn_resolve_lookup(&r->rreq, px->res, ex, r->domain,
				trust_resolved, r);
	if (err)
		px_req_final(r, 503, "Cannot check the sender",
			     "Retry-After: 5\r\n");
}

/*
 * RFC 3261 16.3 step 1-2 for what the connector relays: a sip or sips
 * Request-URI (else 416), and in the Request-URI, From and To no
 * escaped control byte in the user part and a well-formed host (else
 * 400).  Counted as malformed with the precise reason; false when
 * answered.
 */
static bool request_valid(struct px_req *r, const struct sip_msg *msg)
{
	const struct {
		const char *what;
		const struct uri *u;
	} uv[] = {
		{"Request-URI", &msg->uri},
		{"From", &msg->from.uri},
		{"To", &msg->to.uri},
	};
	char src[CN_ADDR_MAX], why[128], host[80] = "";
	uint16_t scode = 400;
	size_t i;

	why[0] = '\0';
	if (pl_strcasecmp(&msg->uri.scheme, "sip") &&
	    pl_strcasecmp(&msg->uri.scheme, "sips")) {
		scode = 416;
		re_snprintf(why, sizeof(why), "unsupported Request-URI "
			    "scheme %r", &msg->uri.scheme);
	}
	for (i = 0; !why[0] && i < sizeof(uv) / sizeof(uv[0]); i++) {
		const struct uri *u = uv[i].u;

		if (i && pl_strcasecmp(&u->scheme, "sip") &&
		    pl_strcasecmp(&u->scheme, "sips"))
			continue;	/* a tel: From has no host */
		if (cn_user_has_ctl(u->user.p, u->user.l))
			re_snprintf(why, sizeof(why), "escaped control "
				    "character in the %s user part",
				    uv[i].what);
		else if (!cn_host_ok(u->host.p, u->host.l)) {
			/* the host goes to the log, not into the answer */
			re_snprintf(why, sizeof(why), "invalid host in %s",
				    uv[i].what);
			re_snprintf(host, sizeof(host), " host=\"%r\"",
				    &u->host);
		}
	}
	if (!why[0])
		return true;

	re_snprintf(src, sizeof(src), "%j", &r->src);
	cn_count_reject(r->px->cn, NULL, CN_R_MALFORMED, src,
			"method=%s %s%s", r->method, why, host);
	if (scode == 416) {
		px_req_final(r, 416, "Unsupported URI Scheme", NULL);
	}
	else {
		char phrase[160];

		re_snprintf(phrase, sizeof(phrase), "Bad Request: %s", why);
		px_req_final(r, 400, phrase, NULL);
	}
	return false;
}

/* A new request with its server transaction. */
static void request(struct sip_msg *msg, struct sst_strans *st,
		    struct sst_flow *fl, void *arg)
{
	struct cn_px *px = arg;
	struct px_req *r;
	const struct pl *dom;

	r = mem_zalloc(sizeof(*r), req_destructor);
	if (!r) {
		sst_strans_abandon(st);
		return;
	}
	r->px = px;
	r->msg = mem_ref(msg);
	r->st = st;
	r->flow = mem_ref(fl);
	sa_cpy(&r->src, &fl->src);
	r->gwi = px_gw_index(px, &fl->src);
	pl_to(&msg->met, r->method, sizeof(r->method));
	r->in_dialog = pl_isset(&msg->to.tag);
	r->record_route = !r->in_dialog &&
		!pl_strcasecmp(&msg->met, "SUBSCRIBE");
	pl_to(&msg->from.uri.host, r->from_domain, sizeof(r->from_domain));
	dom = r->in_dialog ? &msg->to.uri.host : &msg->uri.host;
	pl_to(dom, r->ruri_domain, sizeof(r->ruri_domain));
	list_append(&px->reqs, &r->le, r);
	++px->nreqs;

	if (!request_valid(r, msg))
		return;

	/* Max-Forwards 0: nowhere left to go (RFC 3261 16.3 step 3) */
	if (pl_isset(&msg->maxfwd) && pl_u32(&msg->maxfwd) == 0 &&
	    !(pl_strcasecmp(&msg->met, "OPTIONS") == 0 &&
	      is_self(&msg->uri, px) && !pl_isset(&msg->uri.user))) {
		refuse_loop(r);
		return;
	}

	/* OPTIONS to the connector itself: a keep-alive, answered here */
	if (!pl_strcasecmp(&msg->met, "OPTIONS") && is_self(&msg->uri, px) &&
	    !pl_isset(&msg->uri.user) && !next_route(px, msg,
						      &(struct sip_addr){0})) {
		px_req_final(r, 200, "OK", px_allow_hdr);
		return;
	}

	/* a counter, not list_count(): a walk of the queue on every
	 * request made the relay collapse once requests queued */
	if (px->nreqs > CN_PX_PENDING_MAX) {
		char src[CN_ADDR_MAX];

		re_snprintf(src, sizeof(src), "%j", &r->src);
		cn_count_reject(px->cn, NULL, CN_R_OVERLOAD, src,
				"pending=%u", px->nreqs);
		px_req_final(r, 503, "Overloaded", "Retry-After: 5\r\n");
		return;
	}

	if (r->gwi >= 0) {
		r->dir = CN_DIR_OUTBOUND;
		outbound(r);
	}
	else {
		r->dir = CN_DIR_INBOUND;
		inbound(r);
	}
}

/* ------------------------------------------------------------------ */
/* Receive path */

/* Any message from a configured gateway: it is alive, and so is its
 * connection (admission never evicts it). */
static void heard(const struct sip_msg *msg, const struct sst_rx *rx,
		  void *arg)
{
	struct cn_px *px = arg;
	const int gwi = px_gw_index(px, rx->src);

	(void)msg;
	px_gw_heard(px, gwi);
	if (gwi >= 0)
		sst_conn_trust(rx->conn);
}

/* What the front door refused: malformed input is counted and logged
 * with the peer's address; the rest needs no word. */
static void front_report(const struct sst_front_report *rep, void *arg)
{
	struct cn_px *px = arg;
	char src[CN_ADDR_MAX];

	if (rep->ev != SST_FRONT_MALFORMED)
		return;
	re_snprintf(src, sizeof(src), "%J", rep->rx->src);
	cn_count_reject(px->cn, NULL, CN_R_MALFORMED, src, "%s%s",
			sst_reason_name(rep->reason),
			rep->rx->oversize ? " (closing the connection)" : "");
}

static void recv_handler(const struct sst_rx *rx, struct mbuf *mb, void *arg)
{
	struct cn_px *px = arg;

	sst_front_recv(&px->front, rx, mb);
}

/* ------------------------------------------------------------------ */
/* Start, reload, stop */

static void px_destructor(void *arg)
{
	struct cn_px *px = arg;

	tmr_cancel(&px->tick);
	px_links_stop(px);
	px_rate_stop(px);
	px->xsip = mem_deref(px->xsip);	/* answers what waits on XMPP */
	list_flush(&px->reqs);
	px->nreqs = 0;
	px->subs = mem_deref(px->subs);		/* after the requests */
	px->ts = mem_deref(px->ts);
	px->res = mem_deref(px->res);
	px->tp = mem_deref(px->tp);
	px->tls = mem_deref(px->tls);
	px->dns = mem_deref(px->dns);
}

static int listen_one(struct cn_px *px, enum sst_tp k, uint16_t port)
{
	struct sa la, bound;
	enum cfg_transport ct = k == SST_TP_TCP ? CFG_TP_TCP :
		k == SST_TP_TLS ? CFG_TP_TLS : CFG_TP_UDP;
	int err;

	err = sa_set_str(&la, px->ip, port);
	if (err)
		return err;
	err = sst_transp_listen(px->tp, k, &la, &bound);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: listen failed "
			     "transport=%s addr=%s port=%u", sst_tp_name(k),
			     px->ip, port);
		return err;
	}
	dmn_log_info("cn: listening transport=%s addr=%s port=%u",
		     sst_tp_name(k), px->ip, sa_port(&bound));
	if (k == SST_TP_UDP) {
		size_t got, asked;

		sst_transp_sockbuf(px->tp, &bound, &got, &asked);
		if (got < asked)
			dmn_log_warnx("cn: udp receive buffer capped "
				     "asked=%zu granted=%zu (raise "
				     "net.core.rmem_max)", asked, got);
	}
	return cn_listener_add(px->cn, ct, px->ip, sa_port(&bound));
}

static int make_dns(struct cn_px *px)
{
	const struct cfg_dns *d = &px->cn->cfg->dns;
	struct sst_dns_conf dc;
	int err;

	memset(&dc, 0, sizeof(dc));
	dc.servers = (const char *const *)d->servers.v;
	dc.serverc = d->servers.n;
	dc.timeout_ms = d->timeout_ms;
	err = sst_dns_alloc(&px->dns, &dc);
	if (err)
		return err;
	err = cn_resolve_alloc(&px->res, px->dns);
	if (!err)
		cn_resolve_set_stale(px->res, px->cn->cfg->dns.stale_s);
	return err;
}

static int px_start(struct cn *cn)
{
	const struct cfg_connector *self = cn->self;
	const struct cfg_tls *tc = &cn->cfg->tls;
	struct sst_transp_conf conf;
	struct cn_px *px;
	int err;

	px = mem_zalloc(sizeof(*px), px_destructor);
	if (!px)
		return ENOMEM;
	px->cn = cn;
	list_init(&px->reqs);
	list_init(&px->gwl);
	tmr_init(&px->tick);
	str_ncpy(px->ip, self->ip, sizeof(px->ip));
	err = px_topos_init(px, self);	/* and its key (cn_topos.c) */
	if (err)
		goto out;
	px->port = self->port ? self->port : CFG_SIP_PORT;
	px->tls_port = self->tls_port ? self->tls_port : CFG_SIPS_PORT;
	err  = sa_set_str(&px->laddr_udp, px->ip, px->port);
	err |= sa_set_str(&px->laddr_any, px->ip, 0);
	if (err) {
		err = EINVAL;
		goto out;
	}

	if (tc->present && tc->cert) {
		struct sst_tls_conf tl;
		char why[256];

		memset(&tl, 0, sizeof(tl));
		tl.cert = tc->cert;
		tl.key = tc->key;
		tl.ca = tc->ca;
		tl.verify = tc->verify == CFG_VERIFY_REQUIRED;
		err = sst_tls_ctx_load(&px->tls, &tl, NULL, why,
				       sizeof(why));
		if (err) {
			dmn_log_code(DMN_LOG_ERR, err, "cn: tls failed "
				     "cert=%s reason=%s", tc->cert, why);
			goto out;
		}
	}

	memset(&conf, 0, sizeof(conf));
	conf.tls = px->tls;
	err = px_admit_conf(px, &conf);
	if (err)
		goto out;
	err = sst_transp_alloc(&px->tp, &conf, recv_handler, px);
	if (err)
		goto out;
	px_admit_start(px);
	sst_transp_tap(px->tp, dmn_trace_tap, &cn->trace);
	err = sst_tstack_alloc(&px->ts, NULL, NULL);
	if (err)
		goto out;
	px->front.tp = px->tp;
	px->front.lim = sst_transp_limits(px->tp);
	px->front.ts = px->ts;
	px->front.allow = px_allow_hdr;
	px->front.reqh = request;
	px->front.msgh = heard;
	px->front.reporth = front_report;
	px->front.arg = px;
	err = make_dns(px);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: dns failed");
		goto out;
	}
	cn->dns = px->dns;

	cn_listeners_clear(cn);
	err  = listen_one(px, SST_TP_UDP, px->port);
	err = err ? err : listen_one(px, SST_TP_TCP, px->port);
	if (!err && px->tls)
		err = listen_one(px, SST_TP_TLS, px->tls_port);
	if (err)
		goto out;

	err = px_links_start(px);
	if (err)
		goto out;
	err = cn_xsip_alloc(&px->xsip, px);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: xmpp failed");
		goto out;
	}

	cn->proxy = px;
 out:
	if (err) {
		cn->dns = NULL;
		cn_listeners_clear(cn);
		mem_deref(px);
	}
	return err;
}

static int px_apply(struct cn *cn, const struct cfg *old)
{
	struct cn_px *px = cn->proxy;
	const struct cfg_connector *s = cn->self;

	(void)old;
	if (!px)
		return 0;
	/* rotated credentials: for every connection from now on */
	if (cn->tls_new && px->tls) {
		mem_deref(px->tls);
		px->tls = cn->tls_new;
		cn->tls_new = NULL;
		sst_transp_tls_set(px->tp, px->tls);
		dmn_log_info("cn: tls credentials-reloaded cert=%s",
			     cn->cfg->tls.cert);
	}
	if (strcmp(s->ip, px->ip) ||
	    (s->port ? s->port : CFG_SIP_PORT) != px->port ||
	    (s->tls_port ? s->tls_port : CFG_SIPS_PORT) != px->tls_port)
		dmn_log_warnx("cn: reload listeners-kept addr=%s port=%u "
			      "(a new address or port needs a restart)",
			      px->ip, px->port);
	if (s->max_conns != px->admit.configured)
		dmn_log_warnx("cn: reload max-connections-kept cap=%u "
			      "(a new maxConnections needs a restart)",
			      px->admit.budget.in);
	cn_resolve_set_stale(px->res, cn->cfg->dns.stale_s);
	(void)px_topos_init(px, s);	/* a new advertise= applies at once */
	(void)cn_xsip_apply(px->xsip);
	/* community records were renewed: their link state restarts */
	return px_links_apply(px);
}

static int px_retry(struct cn *cn, struct cn_comm *comm)
{
	struct cn_px *px = cn->proxy;

	if (!px)
		return 0;
	return px_links_retry(px, comm);
}

static void px_stop(struct cn *cn)
{
	struct cn_px *px = cn->proxy;

	cn->proxy = NULL;
	cn->dns = NULL;
	mem_deref(px);
}

static void px_status(struct cn *cn, struct dmn_st *root)
{
	struct cn_px *px = cn->proxy;

	if (px) {
		px_links_status(px, root);
		px_admit_status(px, root);
		px_rate_status(px, root);
		cn_xsip_status(px->xsip, root);
	}
}

const struct cn_proxy_ops cn_proxy_ops = {
	.start = px_start,
	.apply = px_apply,
	.retry = px_retry,
	.stop = px_stop,
	.status = px_status,
};
