/*
 * cn_xmpp_sip.c -- SIP from our gateways <-> stanzas of XMPP
 * communities (RFC 7247, 7248, 7572); see cn_xmpp_sip.h.
 *
 * The connector is the SIP user agent of every XMPP user: it answers
 * the gateway's MESSAGE and SUBSCRIBE itself, holds the presence
 * dialogs, and sends the gateway NOTIFY, MESSAGE and SUBSCRIBE requests
 * of its own (client transactions, as cn_link.c's probes).  What a
 * request or stanza becomes is cn_xmpp_map.c's; when, and in which
 * dialog, is decided here.
 *
 * Nobody is shown online who is not: a new subscription says Offline
 * until the contact's own presence arrives, and when the community's
 * streams go away every dialog learned over them says Offline again.
 *
 * Bounds: CN_XSIP_DLG_MAX dialogs per community each way (a SUBSCRIBE
 * past it is answered 503, an XMPP subscribe unsubscribed, both
 * counted); CN_XSIP_REFUSAL_MAX refused pairs (the oldest forgotten).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "daemon/dmn.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_build.h"
#include "sipstack/sst_trans.h"
#include "sipstack/sst_timer.h"
#include "sipstack/sst_pidf.h"
#include "xmpp/xmpp.h"
#include "connector/cn_px.h"
#include "connector/cn_xmpp.h"
#include "connector/cn_xmpp_map.h"
#include "connector/cn_xmpp_sip.h"

/*
 * The streams (cn_xmpp.c) are built beside this file; until they are
 * linked in, the references stay unresolved and every XMPP request is
 * answered 503 (tests link a fake).
 */

enum {
	XS_ADDR = CN_XMAP_ADDR_MAX + 8,
	XS_SWEEP_MS = 1000,
	XS_RETRY_MIN_S = 5,	/* XS_IN: a SUBSCRIBE that failed for now */
	XS_RETRY_MAX_S = 60,
};

enum xs_dir {
	XS_OUT,		/* a gateway's watcher of an XMPP contact */
	XS_IN,		/* an XMPP watcher of one of our users */
};

struct cn_xsip {
	struct cn_px *px;
	struct cn_xmpp *x;
	struct list dlgs;	/* struct xs_dlg */
	struct list refusals;	/* struct xs_refusal, oldest first */
	struct list waits;	/* struct xs_msg */
	struct list outs;	/* struct xs_out */
	struct list asks;	/* struct xs_ask */
	struct tmr tmr;
	cn_xsip_send_h *sendh;
	uint64_t seq;
	struct cn_xsip_stats st;
};

struct xs_dlg {
	struct le le;
	struct cn_xsip *xs;
	enum xs_dir dir;
	char comm[CN_ADDR_MAX];
	char w_jid[XS_ADDR], w_sip[XS_ADDR];	/* the watcher */
	char t_jid[XS_ADDR], t_sip[XS_ADDR];	/* the presentity */
	char callid[96];
	char ltag[SST_TAG_SIZE];
	char rtag[64];
	char rcontact[XS_ADDR + 64];	/* XS_OUT: where NOTIFYs go */
	uint32_t lcseq;
	uint64_t expires_at;		/* sst_tmr_now() ms */
	bool active;			/* XS_OUT: subscribed; XS_IN: 2xx */
	bool ending;			/* XS_IN: Expires 0 sent */
	enum sst_status pst;
	char note[SST_PIDF_NOTE_MAX + 1];
	int gwi;
	uint64_t retry_at;		/* XS_IN: SUBSCRIBE again then */
	unsigned retry_s;		/* XS_IN: the wait after the last */
	struct xs_out *sub;		/* XS_IN: SUBSCRIBE under way */
	struct xs_ask *ask;		/* XS_OUT: its stanza not told yet */
};

/*
 * An XS_OUT dialog's subscribe or probe whose fate cn_xmpp has not told
 * yet: it waits in the queue for a stream, or was just written.  The
 * link coming up delivers what waits, so the dialog is not asked again
 * then (a second subscribe to the contact's server).
 */
struct xs_ask {
	struct le le;
	struct xs_dlg *d;		/* NULL once the dialog is gone */
};

struct xs_refusal {
	struct le le;
	struct cn_xsip *xs;
	char comm[CN_ADDR_MAX];
	char w_jid[XS_ADDR], t_jid[XS_ADDR];
	uint64_t until;
};

/* A MESSAGE from a gateway waiting for its stanza's fate. */
struct xs_msg {
	struct le le;
	struct cn_xsip *xs;
	struct px_req *r;		/* NULL once answered */
};

enum xs_okind { XO_MESSAGE, XO_SUBSCRIBE, XO_NOTIFY };

/* A request of ours to a gateway. */
struct xs_out {
	struct le le;
	struct cn_xsip *xs;
	struct px_out *o;
	enum xs_okind kind;
	char comm[CN_ADDR_MAX];
	struct xmpp_el *stanza;		/* XO_MESSAGE: answered on error */
	struct xs_dlg *dlg;		/* XO_SUBSCRIBE */
};

/* ---- helpers ---- */

static uint64_t xs_now(void)
{
	return sst_tmr_now();
}

static void pl_cpy(const struct pl *pl, char *buf, size_t sz)
{
	if (!pl_isset(pl) || pl_strcpy(pl, buf, sz))
		buf[0] = '\0';
}

/* The bare JID of a from/to attribute (resource dropped, domain
 * lower-cased), through the SIP mapping so that both sides agree. */
static int bare_jid(char *jid, size_t sz, char *sip, size_t ssz,
		    const char *addr)
{
	char s[XS_ADDR];
	int err;

	if (!addr)
		return EINVAL;
	err = cn_xmap_jid_to_sip(s, sizeof(s), addr);
	if (!err)
		err = cn_xmap_sip_to_jid(jid, sz, s, strlen(s));
	if (!err && sip)
		str_ncpy(sip, s, ssz);
	return err;
}

static int uri_jid(char *jid, size_t sz, const struct uri *u)
{
	char s[XS_ADDR];

	if (re_snprintf(s, sizeof(s), "sip:%r@%r", &u->user, &u->host) < 0)
		return EOVERFLOW;
	return cn_xmap_sip_to_jid(jid, sz, s, strlen(s));
}

static const char *tp_name(enum sst_tp k)
{
	return k == SST_TP_TCP ? "tcp" : k == SST_TP_TLS ? "tls" : "udp";
}

/* The gateway to send to: prefer, if up, else the first one up. */
static int pick_gw(const struct cn_px *px, int prefer)
{
	size_t i;

	if (prefer >= 0 && (size_t)prefer < px->ngwt &&
	    !px->gwt[prefer].down)
		return prefer;
	for (i = 0; i < px->ngwt; i++) {
		if (!px->gwt[i].down)
			return (int)i;
	}
	return -1;
}

static void contact_of(const struct cn_px *px, enum sst_tp k, char *buf,
		       size_t sz)
{
	if (strchr(px->ip, ':'))
		re_snprintf(buf, sz, "<sip:[%s]:%u;transport=%s>", px->ip,
			    px_port(px, k), tp_name(k));
	else
		re_snprintf(buf, sz, "<sip:%s:%u;transport=%s>", px->ip,
			    px_port(px, k), tp_name(k));
}

/* ---- answering a gateway's request ---- */

/*
 * The final answer to a gateway's request, through the subscription
 * cap as the proxy's own answers go (cn_subs.c): a new SUBSCRIBE's
 * place becomes held on 2xx, for expires when it is not NULL (the
 * Expires granted), else is freed.
 */
static void reply_exp(struct px_req *r, uint16_t scode, const char *totag,
		      const char *hdrs, const uint32_t *expires)
{
	struct sst_extra x = {hdrs, NULL, NULL, 0};
	struct mbuf *mb = NULL;

	if (expires)
		px_subs_answer_expires(r, scode, *expires);
	else
		px_subs_answer(r, scode, NULL);

	if (r->st && !sst_build_response(&mb, r->msg, scode,
					 cn_xmap_reason(scode), totag,
					 &r->src, hdrs ? &x : NULL)) {
		(void)sst_strans_reply(r->st, scode, mb);
		r->st = NULL;
	}
	mem_deref(mb);
	mem_deref(r);
}

static void reply(struct px_req *r, uint16_t scode, const char *totag,
		  const char *hdrs)
{
	reply_exp(r, scode, totag, hdrs, NULL);
}

/* ---- requests to gateways ---- */

static void out_destructor(void *arg)
{
	struct xs_out *xo = arg;

	list_unlink(&xo->le);
	if (xo->dlg && xo->dlg->sub == xo)
		xo->dlg->sub = NULL;
	px_out_drop(xo->o);
	mem_deref(xo->stanza);
}

static void out_resp(int err, uint16_t scode, const struct sip_msg *msg,
		     void *arg);

/*
 * Send a request to a gateway (gwi preferred).  q is filled but for Via
 * and method-independent parts; *xop (may be NULL) gets the request.
 */
static int send_req(struct cn_xsip *xs, int gwi, struct sst_req_spec *q,
		    enum xs_okind kind, const char *comm,
		    struct xs_out **xop)
{
	struct cn_px *px = xs->px;
	char branch[SST_BRANCH_SIZE], sb[CN_ADDR_MAX + 16];
	char contact[CN_ADDR_MAX + 48];
	struct xs_out *xo;
	struct mbuf *mb = NULL;
	int g = pick_gw(px, gwi), err;
	enum sst_tp k;

	if (g < 0)
		return ENOTCONN;
	k = px->gwt[g].kind;
	xo = mem_zalloc(sizeof(*xo), out_destructor);
	if (!xo)
		return ENOMEM;
	xo->xs = xs;
	xo->kind = kind;
	str_ncpy(xo->comm, comm, sizeof(xo->comm));
	err = px_out_alloc(&xo->o, px, k, &px->gwt[g].addr, NULL);
	if (err)
		goto out;
	sst_branch_gen(branch, sizeof(branch));
	if (strchr(px->ip, ':'))
		re_snprintf(sb, sizeof(sb), "[%s]:%u", px->ip, px_port(px, k));
	else
		re_snprintf(sb, sizeof(sb), "%s:%u", px->ip, px_port(px, k));
	contact_of(px, k, contact, sizeof(contact));
	q->via.tp = k == SST_TP_TCP ? SIP_TRANSP_TCP :
		k == SST_TP_TLS ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	q->via.sentby = sb;
	q->via.branch = branch;
	if (kind != XO_MESSAGE)
		q->contact = contact;
	err = sst_build_request(&mb, q);
	if (err)
		goto out;
	err = sst_ctrans_start(&xo->o->ct, px->ts, q->method, branch, mb,
			       k != SST_TP_UDP,
			       xs->sendh ? xs->sendh : px_out_send, xo->o,
			       out_resp, xo);
	mem_deref(mb);
	if (err)
		goto out;
	list_append(&xs->outs, &xo->le, xo);
	if (xop)
		*xop = xo;
	return 0;
 out:
	mem_deref(xo);
	return err;
}

/* The fate of a stanza nobody waits for. */
static void sent_quiet(int err, void *arg)
{
	(void)arg;
	if (err)
		dmn_log_debug("xmpp: stanza lost reason=%s", strerror(err));
}

/* A stanza to comm; a failure is logged (nobody waits for it). */
static void send_stanza(struct cn_xsip *xs, const char *comm,
			struct xmpp_el *el)
{
	int err;

	if (!el)
		return;
	if (!xs->x)
		err = ENOTCONN;
	else
		err = cn_xmpp_send(xs->x, comm, el, sent_quiet, NULL);
	if (err)
		dmn_log_debug("xmpp: stanza not sent comm=%s name=%s reason=%s",
			      comm, el->name, strerror(err));
	else
		++xs->st.sent;
	mem_deref(el);
}

/* An error stanza answering orig for SIP status scode, counted by its
 * condition. */
static void send_error(struct cn_xsip *xs, const char *comm,
		       const struct xmpp_el *orig, uint16_t scode,
		       bool offline)
{
	struct xmpp_el *el = NULL;
	const char *cond, *type;
	size_t i;

	if (cn_xmap_err_stanza(&el, orig, scode, offline))
		return;
	cn_xmap_err_from_sip(&cond, &type, scode, offline);
	for (i = 0; cond && i < CN_XSIP_ERR_KINDS; i++) {
		struct cn_xsip_errcount *e = &xs->st.errs[i];

		if (!e->cond)
			e->cond = cond;
		if (!strcmp(e->cond, cond)) {
			++e->n;
			break;
		}
	}
	send_stanza(xs, comm, el);
}

/* ---- dialogs ---- */

static void dlg_destructor(void *arg)
{
	struct xs_dlg *d = arg;

	if (d->le.list) {
		list_unlink(&d->le);
		if (d->dir == XS_OUT)
			--d->xs->st.dlg_out;
		else
			--d->xs->st.dlg_in;
		/* the gateway's subscription ends with it: its place
		 * under subscriptionsMax comes back */
		if (d->dir == XS_OUT)
			px_subs_forget(d->xs->px, d->callid, d->rtag);
	}
	if (d->sub) {
		d->sub->dlg = NULL;
		d->sub = NULL;
	}
	if (d->ask) {
		d->ask->d = NULL;
		d->ask = NULL;
	}
}

static unsigned dlg_count(const struct cn_xsip *xs, const char *comm,
			  enum xs_dir dir)
{
	struct le *le;
	unsigned n = 0;

	for (le = xs->dlgs.head; le; le = le->next) {
		const struct xs_dlg *d = le->data;

		n += d->dir == dir && !strcmp(d->comm, comm);
	}
	return n;
}

static struct xs_dlg *dlg_by_id(const struct cn_xsip *xs,
				const struct sip_msg *msg)
{
	struct le *le;

	for (le = xs->dlgs.head; le; le = le->next) {
		struct xs_dlg *d = le->data;

		if (!pl_strcmp(&msg->callid, d->callid) &&
		    !pl_strcmp(&msg->to.tag, d->ltag))
			return d;
	}
	return NULL;
}

/*
 * Bare JIDs compare without regard to ASCII case: servers casefold the
 * localpart and domain (RFC 7622 3.2, 3.3), so a watcher we announced
 * as Alice.Smith@acme.test comes back as alice.smith@acme.test.
 */
static bool jid_eq(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

static struct xs_dlg *dlg_by_pair(const struct cn_xsip *xs,
				  const char *comm, enum xs_dir dir,
				  const char *w_jid, const char *t_jid,
				  struct le **lep)
{
	struct le *le = lep && *lep ? (*lep)->next : xs->dlgs.head;

	for (; le; le = le->next) {
		struct xs_dlg *d = le->data;

		if (d->dir == dir && !strcmp(d->comm, comm) &&
		    jid_eq(d->w_jid, w_jid) && jid_eq(d->t_jid, t_jid)) {
			if (lep)
				*lep = le;
			return d;
		}
	}
	return NULL;
}

static struct xs_refusal *refused(struct cn_xsip *xs, const char *comm,
				  const char *w_jid, const char *t_jid)
{
	uint64_t now = xs_now();
	struct le *le;

	for (le = xs->refusals.head; le; le = le->next) {
		struct xs_refusal *f = le->data;

		if (f->until > now && !strcmp(f->comm, comm) &&
		    jid_eq(f->w_jid, w_jid) && jid_eq(f->t_jid, t_jid))
			return f;
	}
	return NULL;
}

static void refusal_destructor(void *arg)
{
	struct xs_refusal *f = arg;

	if (f->le.list) {
		list_unlink(&f->le);
		--f->xs->st.refusals;
	}
}

static void refusal_add(struct cn_xsip *xs, const struct xs_dlg *d)
{
	struct xs_refusal *f;

	if (refused(xs, d->comm, d->w_jid, d->t_jid))
		return;
	if (xs->st.refusals >= CN_XSIP_REFUSAL_MAX)	/* the oldest */
		mem_deref(list_ledata(xs->refusals.head));
	f = mem_zalloc(sizeof(*f), refusal_destructor);
	if (!f)
		return;
	f->xs = xs;
	str_ncpy(f->comm, d->comm, sizeof(f->comm));
	str_ncpy(f->w_jid, d->w_jid, sizeof(f->w_jid));
	str_ncpy(f->t_jid, d->t_jid, sizeof(f->t_jid));
	f->until = xs_now() + (uint64_t)CN_XSIP_REFUSAL_S * 1000;
	list_append(&xs->refusals, &f->le, f);
	++xs->st.refusals;
}

/*
 * A NOTIFY in an XS_OUT dialog: the state d knows (Offline unless the
 * contact said otherwise), Subscription-State from the dialog, or
 * terminated with reason when reason is not NULL.
 */
static void notify(struct xs_dlg *d, const char *reason)
{
	struct cn_xsip *xs = d->xs;
	char from[XS_ADDR + 40], to[XS_ADDR + 80], hdrs[160];
	struct sst_req_spec q;
	struct mbuf *body = mbuf_alloc(512);
	uint64_t now = xs_now();
	uint32_t left;
	int err;

	if (!body)
		return;
	left = d->expires_at > now ?
		(uint32_t)((d->expires_at - now + 999) / 1000) : 0;
	re_snprintf(from, sizeof(from), "<%s>;tag=%s", d->t_sip, d->ltag);
	re_snprintf(to, sizeof(to), "<%s>;tag=%s", d->w_sip, d->rtag);
	if (reason)
		re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\n"
			    "Subscription-State: terminated;reason=%s\r\n",
			    reason);
	else
		re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\n"
			    "Subscription-State: %s;expires=%u\r\n",
			    d->active ? "active" : "pending", left);
	err = sst_pidf_encode(body, d->t_sip, reason ? SST_ST_OFFLINE :
			      d->pst, reason ? NULL : d->note);
	if (err)	/* a note we cannot write: the state alone */
		err = sst_pidf_encode(body, d->t_sip, d->pst, NULL);
	if (!err) {
		memset(&q, 0, sizeof(q));
		q.method = "NOTIFY";
		q.ruri = d->rcontact;
		q.from = from;
		q.to = to;
		q.callid = d->callid;
		q.cseq = ++d->lcseq;
		q.x.hdrs = hdrs;
		q.x.ctype = SST_PIDF_CTYPE;
		q.x.body = body->buf;
		q.x.blen = body->end;
		err = send_req(xs, d->gwi, &q, XO_NOTIFY, d->comm, NULL);
	}
	if (err)
		dmn_log_debug("xmpp: notify not sent comm=%s watcher=%s reason=%s",
			      d->comm, d->w_sip, strerror(err));
	mem_deref(body);
}

/* The stanzas that open (or re-open) an XS_OUT subscription. */
/*
 * Ask T for the subscription (ask), or, once T has approved, probe for
 * T's presence.  Never both: a server answers a probe from an entity
 * that is not yet subscribed with unsubscribed (RFC 6121 4.3.2), and
 * Prosody takes its own answer for the contact's refusal, dropping the
 * request the contact has not answered yet.  A contact that approved
 * earlier has its server answer the subscribe with subscribed and the
 * current presence (RFC 6121 3.1.3).
 */
static void ask_destructor(void *arg)
{
	struct xs_ask *a = arg;

	list_unlink(&a->le);
	if (a->d)
		a->d->ask = NULL;
}

static void ask_sent(int err, void *arg)
{
	sent_quiet(err, NULL);
	mem_deref(arg);
}

static void out_subscribe(struct xs_dlg *d, bool ask)
{
	struct cn_xsip *xs = d->xs;
	struct xmpp_el *el = NULL;
	struct xs_ask *a;
	int err;

	if (cn_xmap_pres_ctl(&el, d->w_jid, d->t_jid, ask ?
			     CN_XMAP_P_SUBSCRIBE : CN_XMAP_P_PROBE))
		return;
	a = mem_zalloc(sizeof(*a), ask_destructor);
	if (!a || !xs->x) {
		mem_deref(a);
		send_stanza(xs, d->comm, el);
		return;
	}
	err = cn_xmpp_send(xs->x, d->comm, el, ask_sent, a);
	if (err) {
		dmn_log_debug("xmpp: stanza not sent comm=%s name=%s reason=%s",
			      d->comm, el->name, strerror(err));
		mem_deref(a);
	}
	else {
		++xs->st.sent;
		if (d->ask)
			d->ask->d = NULL;
		a->d = d;
		d->ask = a;
		list_append(&xs->asks, &a->le, a);
	}
	mem_deref(el);
}

/* An XS_OUT dialog ends: the gateway hears terminated; the contact
 * hears unsubscribe when the watcher left (not when it refused). */
static void out_end(struct xs_dlg *d, const char *reason, bool unsub)
{
	struct xmpp_el *el = NULL;

	notify(d, reason);
	if (unsub && !cn_xmap_pres_ctl(&el, d->w_jid, d->t_jid,
				       CN_XMAP_P_UNSUBSCRIBE))
		send_stanza(d->xs, d->comm, el);
	mem_deref(d);
}

/* ---- SUBSCRIBE from a gateway ---- */

static uint32_t expires_of(const struct sip_msg *msg)
{
	uint32_t e;

	if (!pl_isset(&msg->expires))
		return CN_XSIP_EXPIRES_MAX;
	e = pl_u32(&msg->expires);
	return e > CN_XSIP_EXPIRES_MAX ? CN_XSIP_EXPIRES_MAX : e;
}

static void answer_202(struct px_req *r, const struct xs_dlg *d,
		       const char *ltag, uint32_t expires)
{
	char hdrs[CN_ADDR_MAX + 96];
	const struct cn_px *px = r->px;
	enum sst_tp k = d && d->gwi >= 0 ? px->gwt[d->gwi].kind :
		SST_TP_TCP;
	char contact[CN_ADDR_MAX + 48];

	contact_of(px, k, contact, sizeof(contact));
	re_snprintf(hdrs, sizeof(hdrs), "Expires: %u\r\nContact: %s\r\n",
		    expires, contact);
	reply_exp(r, 202, ltag, hdrs, &expires);
}

static void fill_remote(struct xs_dlg *d, const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr a;

	if (h && !sip_addr_decode(&a, &h->val))
		pl_cpy(&a.auri, d->rcontact, sizeof(d->rcontact));
	if (!d->rcontact[0])
		pl_cpy(&msg->from.auri, d->rcontact, sizeof(d->rcontact));
	pl_cpy(&msg->from.tag, d->rtag, sizeof(d->rtag));
}

static void subscribe_new(struct cn_xsip *xs, struct px_req *r,
			  const char *comm)
{
	const struct sip_msg *msg = r->msg;
	char w_jid[XS_ADDR], t_jid[XS_ADDR];
	uint32_t expires = expires_of(msg);
	struct xs_dlg *d;

	if (uri_jid(w_jid, sizeof(w_jid), &msg->from.uri) ||
	    uri_jid(t_jid, sizeof(t_jid), &msg->uri)) {
		reply(r, 404, NULL, NULL);
		return;
	}
	d = mem_zalloc(sizeof(*d), dlg_destructor);
	if (!d) {
		reply(r, 500, NULL, NULL);
		return;
	}
	d->xs = xs;
	d->dir = XS_OUT;
	d->gwi = r->gwi;
	d->pst = SST_ST_OFFLINE;
	str_ncpy(d->comm, comm, sizeof(d->comm));
	str_ncpy(d->w_jid, w_jid, sizeof(d->w_jid));
	str_ncpy(d->t_jid, t_jid, sizeof(d->t_jid));
	(void)cn_xmap_jid_to_sip(d->w_sip, sizeof(d->w_sip), w_jid);
	(void)cn_xmap_jid_to_sip(d->t_sip, sizeof(d->t_sip), t_jid);
	pl_cpy(&msg->callid, d->callid, sizeof(d->callid));
	sst_tag_gen(d->ltag, sizeof(d->ltag));
	fill_remote(d, msg);
	d->expires_at = xs_now() + (uint64_t)expires * 1000;

	/* refused within the hour: the same answer, T not asked again */
	if (refused(xs, comm, w_jid, t_jid) || !expires) {
		const bool ref = expires != 0;

		answer_202(r, d, d->ltag, 0);
		notify(d, ref ? "rejected" : "timeout");
		mem_deref(d);
		return;
	}
	if (dlg_count(xs, comm, XS_OUT) >= CN_XSIP_DLG_MAX) {
		++xs->st.dlg_refused;
		dmn_log_warnx("xmpp: subscribe refused comm=%s reason=table-"
			      "full max=%u", comm, CN_XSIP_DLG_MAX);
		mem_deref(d);
		reply(r, 503, NULL, "Retry-After: 60\r\n");
		return;
	}
	/* one subscription per pair: a second dialog (a re-subscribe after
	 * a restart of the gateway) replaces the first quietly */
	mem_deref(dlg_by_pair(xs, comm, XS_OUT, w_jid, t_jid, NULL));
	list_append(&xs->dlgs, &d->le, d);
	++xs->st.dlg_out;
	answer_202(r, d, d->ltag, expires);
	notify(d, NULL);
	out_subscribe(d, true);
}

static void subscribe_gw(struct cn_xsip *xs, struct px_req *r,
			 const char *comm)
{
	const struct sip_msg *msg = r->msg;
	struct xs_dlg *d;
	uint32_t expires;

	const struct sip_hdr *ev = sip_msg_hdr(msg, SIP_HDR_EVENT);

	if (!pl_isset(&msg->from.tag) || !ev || ev->val.l < 8 ||
	    strncasecmp(ev->val.p, "presence", 8) ||
	    (ev->val.l > 8 && ev->val.p[8] != ';' && ev->val.p[8] != ' ')) {
		reply(r, 489, NULL, "Allow-Events: presence\r\n");
		return;
	}
	if (!pl_isset(&msg->to.tag)) {
		subscribe_new(xs, r, comm);
		return;
	}
	d = dlg_by_id(xs, msg);
	if (!d || d->dir != XS_OUT) {
		reply(r, 481, NULL, NULL);
		return;
	}
	expires = expires_of(msg);
	d->expires_at = xs_now() + (uint64_t)expires * 1000;
	fill_remote(d, msg);
	answer_202(r, d, NULL, expires);
	if (!expires) {
		out_end(d, "timeout", true);
		return;
	}
	notify(d, NULL);
}

/* ---- MESSAGE from a gateway ---- */

static void msg_destructor(void *arg)
{
	struct xs_msg *m = arg;

	list_unlink(&m->le);
	if (m->r)
		reply(m->r, 503, NULL, NULL);
}

static void xs_sent(int err, void *arg)
{
	struct xs_msg *m = arg;
	char hdr[40] = "";
	uint32_t retry;
	uint16_t sc;

	if (m->r) {
		struct px_req *r = m->r;

		m->r = NULL;
		sc = cn_xmap_senderr_sip(err, px_retry_s(m->xs ?
					 m->xs->px : NULL), &retry);
		if (retry)
			re_snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
				    retry);
		if (m->xs && !err) {
			++m->xs->st.sent;
			++m->xs->st.msg_out;
		}
		else if (m->xs) {
			++m->xs->st.msg_out_failed;
		}
		reply(r, sc, NULL, hdr[0] ? hdr : NULL);
	}
	mem_deref(m);
}

static void message_gw(struct cn_xsip *xs, struct px_req *r,
		       const char *comm)
{
	const struct sip_msg *msg = r->msg;
	char from[XS_ADDR], to[XS_ADDR], ctype[128] = "", id[32];
	struct xmpp_el *el = NULL;
	struct xs_msg *m;
	uint16_t sc = 0;
	int err;

	if (uri_jid(from, sizeof(from), &msg->from.uri) ||
	    uri_jid(to, sizeof(to), &msg->uri)) {
		++xs->st.msg_out_failed;
		reply(r, 404, NULL, NULL);
		return;
	}
	if (pl_isset(&msg->ctyp.type))
		re_snprintf(ctype, sizeof(ctype), "%r/%r%r",
			    &msg->ctyp.type, &msg->ctyp.subtype,
			    &msg->ctyp.params);
	err = cn_xmap_msg_encode(&el, from, to, ctype,
				 (const char *)mbuf_buf(msg->mb),
				 mbuf_get_left(msg->mb), &sc);
	if (err) {
		++xs->st.msg_out_failed;
		reply(r, sc ? sc : 500, NULL, sc == 415 ?
		      "Accept: text/plain\r\n" : NULL);
		return;
	}
	re_snprintf(id, sizeof(id), "sip%llu",
		    (unsigned long long)++xs->seq);
	err = xmpp_el_set_attr(el, "id", NULL, id);
	m = err ? NULL : mem_zalloc(sizeof(*m), msg_destructor);
	if (!m) {
		++xs->st.msg_out_failed;
		mem_deref(el);
		reply(r, 500, NULL, NULL);
		return;
	}
	m->xs = xs;
	m->r = r;
	list_append(&xs->waits, &m->le, m);
	if (!xs->x)
		err = ENOTCONN;
	else
		err = cn_xmpp_send(xs->x, comm, el, xs_sent, m);
	mem_deref(el);
	if (err)	/* never told: answer now */
		xs_sent(err, m);
}

/* ---- NOTIFY from a gateway, in an XS_IN dialog ---- */

static void in_subscribe(struct xs_dlg *d, uint32_t expires);
static void in_retry_later(struct xs_dlg *d);

/* What Subscription-State: terminated;reason= asks of the subscriber
 * (RFC 6665 4.1.3). */
enum xs_term {
	XS_TERM_LATER,	/* probation, giveup, none: again, after a wait */
	XS_TERM_NOW,	/* deactivated, timeout: again at once */
	XS_TERM_FINAL,	/* rejected, noresource, invalid: not again */
};

static enum xs_term term_of(const struct pl *val)
{
	struct pl r;

	if (re_regex(val->p, val->l, "reason=[a-z]+", &r))
		return XS_TERM_LATER;
	if (!pl_strcasecmp(&r, "rejected") ||
	    !pl_strcasecmp(&r, "noresource") ||
	    !pl_strcasecmp(&r, "invalid"))
		return XS_TERM_FINAL;
	if (!pl_strcasecmp(&r, "deactivated") ||
	    !pl_strcasecmp(&r, "timeout"))
		return XS_TERM_NOW;
	return XS_TERM_LATER;
}

/* An XS_IN dialog starts afresh: a new Call-ID and local tag, no
 * remote tag yet. */
static void dlg_new_ids(struct xs_dlg *d)
{
	char tag[SST_TAG_SIZE];

	sst_tag_gen(d->ltag, sizeof(d->ltag));
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(d->callid, sizeof(d->callid), "x%llu-%s",
		    (unsigned long long)++d->xs->seq, tag);
	d->rtag[0] = '\0';
}

static void notify_gw(struct cn_xsip *xs, struct px_req *r)
{
	const struct sip_msg *msg = r->msg;
	struct xs_dlg *d = dlg_by_id(xs, msg);
	struct xmpp_el *el = NULL;
	const struct sip_hdr *h;
	struct sst_pidf pd;
	size_t blen = mbuf_get_left(msg->mb);
	enum xs_term term = XS_TERM_LATER;
	bool ended;

	if (!d || d->dir != XS_IN) {
		reply(r, 481, NULL, NULL);
		return;
	}
	if (!d->rtag[0])
		pl_cpy(&msg->from.tag, d->rtag, sizeof(d->rtag));
	d->active = true;
	if (blen && !sst_pidf_decode(&pd, (const char *)mbuf_buf(msg->mb),
				     blen)) {
		d->pst = pd.st;
		str_ncpy(d->note, pd.note, sizeof(d->note));
	}
	h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	ended = h && h->val.l >= 10 &&
		!strncasecmp(h->val.p, "terminated", 10);
	if (ended) {
		d->pst = SST_ST_OFFLINE;
		term = term_of(&h->val);
	}
	reply(r, 200, NULL, NULL);	/* msg is gone */
	if (!cn_xmap_pres_encode(&el, d->t_jid, d->w_jid, d->pst, d->note))
		send_stanza(xs, d->comm, el);
	if (!ended)
		return;
	if (!d->ending && term != XS_TERM_FINAL) {
		/* subscribe again, in a new dialog; B stays subscribed
		 * and reads Offline meanwhile */
		dlg_new_ids(d);
		d->retry_s = 0;
		if (term == XS_TERM_NOW)
			in_subscribe(d, CN_XSIP_EXPIRES_OUT);
		if (term != XS_TERM_NOW || !d->sub)
			in_retry_later(d);
		return;
	}
	/* the gateway refused it (rejected, noresource, invalid): B is
	 * no longer subscribed */
	el = NULL;
	if (!d->ending && !cn_xmap_pres_ctl(&el, d->t_jid, d->w_jid,
					    CN_XMAP_P_UNSUBSCRIBED))
		send_stanza(xs, d->comm, el);
	mem_deref(d);
}

/** A request from a gateway for an XMPP community: answered here. */
void cn_xsip_request(struct cn_xsip *xs, struct px_req *r,
		     const struct cfg_extern *ex)
{
	const char *comm = ex ? ex->name : r->comm;

	if (!xs) {
		reply(r, 503, NULL, NULL);
		return;
	}
	if (!strcmp(r->method, "MESSAGE"))
		message_gw(xs, r, comm);
	else if (!strcmp(r->method, "SUBSCRIBE"))
		subscribe_gw(xs, r, comm);
	else if (!strcmp(r->method, "NOTIFY"))
		notify_gw(xs, r);
	else if (!strcmp(r->method, "OPTIONS"))
		reply(r, 200, NULL, "Allow: MESSAGE, SUBSCRIBE, NOTIFY, "
		      "OPTIONS\r\n");
	else
		reply(r, 405, NULL, "Allow: MESSAGE, SUBSCRIBE, NOTIFY, "
		      "OPTIONS\r\n");
}

/* ---- our requests' answers ---- */

/*
 * A SUBSCRIBE of ours answered with a fault that passes (RFC 6665
 * 4.1.2.2 lets a subscriber ask again after these): no answer (err),
 * 408, 480, 481 (the gateway restarted), 5xx.  Anything else refuses
 * the XMPP user (403, 404, 489, 603, 604 ...).
 */
static bool sub_temporary(int err, uint16_t scode)
{
	return err || scode == 408 || scode == 480 || scode == 481 ||
		(scode >= 500 && scode < 600);
}

/* Ask the gateway again soon: 5 s, doubling to a minute. */
static void in_retry_later(struct xs_dlg *d)
{
	d->retry_s = d->retry_s ? min(d->retry_s * 2,
				      (unsigned)XS_RETRY_MAX_S) :
		XS_RETRY_MIN_S;
	d->retry_at = xs_now() + (uint64_t)d->retry_s * 1000;
}

/* What the gateway's user is, we no longer know: the XMPP watcher is
 * told unavailable rather than a state that may be untrue. */
static void in_unknown(struct xs_dlg *d)
{
	struct xmpp_el *el = NULL;

	if (d->pst == SST_ST_OFFLINE)
		return;
	d->pst = SST_ST_OFFLINE;
	d->note[0] = '\0';
	if (!cn_xmap_pres_encode(&el, d->t_jid, d->w_jid, d->pst, NULL))
		send_stanza(d->xs, d->comm, el);
}

static void out_resp(int err, uint16_t scode, const struct sip_msg *msg,
		     void *arg)
{
	struct xs_out *xo = arg;
	struct cn_xsip *xs = xo->xs;
	struct xs_dlg *d = xo->dlg;
	struct xmpp_el *el = NULL;

	(void)err;
	if (scode < 200)
		return;
	xo->o->ct = NULL;	/* the transaction is over */

	switch (xo->kind) {
	case XO_MESSAGE:
		if (scode < 300) {
			++xs->st.msg_in;
			break;
		}
		++xs->st.msg_in_failed;
		if (xo->stanza)
			send_error(xs, xo->comm, xo->stanza, scode,
				   scode == 480);
		break;
	case XO_SUBSCRIBE:
		if (!d)
			break;
		if (scode < 300) {
			if (msg && !d->rtag[0])
				pl_cpy(&msg->to.tag, d->rtag,
				       sizeof(d->rtag));
			if (d->ending) {
				mem_deref(d);
				break;
			}
			if (!d->active && !cn_xmap_pres_ctl(&el, d->t_jid,
				d->w_jid, CN_XMAP_P_SUBSCRIBED))
				send_stanza(xs, d->comm, el);
			d->active = true;
			d->retry_at = 0;
			d->retry_s = 0;
			if (msg && pl_isset(&msg->expires))
				d->expires_at = xs_now() +
					(uint64_t)pl_u32(&msg->expires) * 1000;
		}
		else if (d->ending) {
			mem_deref(d);
		}
		else if (sub_temporary(err, scode)) {
			/* the gateway restarting, a connection dropped: the
			 * XMPP user's subscription stays, asked again */
			if (scode == 481)	/* the gateway lost the dialog */
				d->rtag[0] = '\0';
			in_unknown(d);
			in_retry_later(d);
		}
		else {
			if (!cn_xmap_pres_ctl(&el, d->t_jid, d->w_jid,
					      CN_XMAP_P_UNSUBSCRIBED))
				send_stanza(xs, d->comm, el);
			mem_deref(d);
		}
		break;
	case XO_NOTIFY:
		break;
	}
	mem_deref(xo);
}

/* ---- XMPP watchers of our users (XS_IN) ---- */

static void in_subscribe(struct xs_dlg *d, uint32_t expires)
{
	char from[XS_ADDR + 40], to[XS_ADDR + 80], hdrs[64];
	struct sst_req_spec q;
	int err;

	re_snprintf(from, sizeof(from), "<%s>;tag=%s", d->w_sip, d->ltag);
	if (d->rtag[0])
		re_snprintf(to, sizeof(to), "<%s>;tag=%s", d->t_sip, d->rtag);
	else
		re_snprintf(to, sizeof(to), "<%s>", d->t_sip);
	re_snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nExpires: %u\r\n"
		    "Accept: " SST_PIDF_CTYPE "\r\n", expires);
	memset(&q, 0, sizeof(q));
	q.method = "SUBSCRIBE";
	q.ruri = d->t_sip;
	q.from = from;
	q.to = to;
	q.callid = d->callid;
	q.cseq = ++d->lcseq;
	q.x.hdrs = hdrs;
	if (d->sub)
		mem_deref(d->sub);
	err = send_req(d->xs, d->gwi, &q, XO_SUBSCRIBE, d->comm, &d->sub);
	if (!err) {
		d->sub->dlg = d;
		d->expires_at = xs_now() + (uint64_t)expires * 1000;
		return;
	}
	dmn_log_debug("xmpp: subscribe not sent comm=%s watcher=%s reason=%s",
		      d->comm, d->w_jid, strerror(err));
}

static void in_presence(struct cn_xsip *xs, const char *comm,
			struct xmpp_el *st, enum cn_xmap_ptype t,
			const char *b_jid, const char *a_jid)
{
	struct xs_dlg *d = dlg_by_pair(xs, comm, XS_IN, b_jid, a_jid, NULL);
	struct xmpp_el *el = NULL;

	(void)st;
	switch (t) {
	case CN_XMAP_P_SUBSCRIBE:
		if (d) {	/* asked again: say what we know */
			if (d->active && !cn_xmap_pres_ctl(&el, a_jid, b_jid,
						CN_XMAP_P_SUBSCRIBED))
				send_stanza(xs, comm, el);
			return;
		}
		if (dlg_count(xs, comm, XS_IN) >= CN_XSIP_DLG_MAX) {
			++xs->st.dlg_refused;
			if (!cn_xmap_pres_ctl(&el, a_jid, b_jid,
					      CN_XMAP_P_UNSUBSCRIBED))
				send_stanza(xs, comm, el);
			return;
		}
		d = mem_zalloc(sizeof(*d), dlg_destructor);
		if (!d)
			return;
		d->xs = xs;
		d->dir = XS_IN;
		d->gwi = -1;
		d->pst = SST_ST_OFFLINE;
		str_ncpy(d->comm, comm, sizeof(d->comm));
		str_ncpy(d->w_jid, b_jid, sizeof(d->w_jid));
		str_ncpy(d->t_jid, a_jid, sizeof(d->t_jid));
		(void)cn_xmap_jid_to_sip(d->w_sip, sizeof(d->w_sip), b_jid);
		(void)cn_xmap_jid_to_sip(d->t_sip, sizeof(d->t_sip), a_jid);
		dlg_new_ids(d);
		list_append(&xs->dlgs, &d->le, d);
		++xs->st.dlg_in;
		d->expires_at = xs_now() +
			(uint64_t)CN_XSIP_EXPIRES_OUT * 1000;
		in_subscribe(d, CN_XSIP_EXPIRES_OUT);
		if (!d->sub)	/* no gateway up now: asked again soon */
			in_retry_later(d);
		break;
	case CN_XMAP_P_UNSUBSCRIBE:
		if (d && !d->ending) {
			d->ending = true;
			in_subscribe(d, 0);
			if (!d->sub)
				mem_deref(d);
		}
		break;
	case CN_XMAP_P_PROBE:
		if (!cn_xmap_pres_encode(&el, a_jid, b_jid, d && d->active ?
					 d->pst : SST_ST_OFFLINE,
					 d && d->active ? d->note : NULL))
			send_stanza(xs, comm, el);
		break;
	default:
		break;
	}
}

/* ---- stanzas from XMPP communities ---- */

static void recv_presence(struct cn_xsip *xs, const char *comm,
			  struct xmpp_el *st)
{
	enum cn_xmap_ptype t = cn_xmap_pres_type(st);
	char b_jid[XS_ADDR], a_jid[XS_ADDR];
	struct le *le = NULL;
	struct xs_dlg *d;

	if (bare_jid(b_jid, sizeof(b_jid), NULL, 0,
		     xmpp_el_attr(st, "from")) ||
	    bare_jid(a_jid, sizeof(a_jid), NULL, 0,
		     xmpp_el_attr(st, "to")))
		return;

	switch (t) {
	case CN_XMAP_P_AVAILABLE:
	case CN_XMAP_P_UNAVAILABLE: {
		enum sst_status pst;
		char note[SST_PIDF_NOTE_MAX + 1];

		if (cn_xmap_pres_decode(&pst, note, sizeof(note), st))
			return;
		while ((d = dlg_by_pair(xs, comm, XS_OUT, a_jid, b_jid,
					&le))) {
			/* presence from T is T's consent (RFC 7248 5.1) */
			d->active = true;
			d->pst = pst;
			str_ncpy(d->note, note, sizeof(d->note));
			notify(d, NULL);
		}
		break;
	}
	case CN_XMAP_P_SUBSCRIBED:
		while ((d = dlg_by_pair(xs, comm, XS_OUT, a_jid, b_jid,
					&le))) {
			d->active = true;
			notify(d, NULL);
		}
		break;
	case CN_XMAP_P_UNSUBSCRIBED:
		le = NULL;
		while ((d = dlg_by_pair(xs, comm, XS_OUT, a_jid, b_jid,
					NULL))) {
			refusal_add(xs, d);
			out_end(d, "rejected", false);
		}
		/* an XMPP watcher refused: its SIP side stops too */
		break;
	case CN_XMAP_P_SUBSCRIBE:
	case CN_XMAP_P_UNSUBSCRIBE:
	case CN_XMAP_P_PROBE:
		in_presence(xs, comm, st, t, b_jid, a_jid);
		break;
	default:	/* errors and nonsense: nobody to tell */
		++xs->st.untranslated;
		break;
	}
}

static void recv_message(struct cn_xsip *xs, const char *comm,
			 struct xmpp_el *st)
{
	char b_sip[XS_ADDR], a_sip[XS_ADDR], from[XS_ADDR + 40];
	char to[XS_ADDR + 8], callid[64], tag[SST_TAG_SIZE];
	char b_jid[XS_ADDR], a_jid[XS_ADDR];
	struct sst_req_spec q;
	struct xs_out *xo = NULL;
	const char *body;
	size_t len;
	int err;

	if (cn_xmap_msg_decode(&body, &len, st)) {
		++xs->st.untranslated;	/* error, chat state, groupchat */
		return;
	}
	if (bare_jid(b_jid, sizeof(b_jid), b_sip, sizeof(b_sip),
		     xmpp_el_attr(st, "from")) ||
	    bare_jid(a_jid, sizeof(a_jid), a_sip, sizeof(a_sip),
		     xmpp_el_attr(st, "to"))) {
		++xs->st.msg_in_failed;
		send_error(xs, comm, st, 400, false);
		return;
	}
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(from, sizeof(from), "<%s>;tag=%s", b_sip, tag);
	re_snprintf(to, sizeof(to), "<%s>", a_sip);
	re_snprintf(callid, sizeof(callid), "xm%llu-%s",
		    (unsigned long long)++xs->seq, tag);
	memset(&q, 0, sizeof(q));
	q.method = "MESSAGE";
	q.ruri = a_sip;
	q.from = from;
	q.to = to;
	q.callid = callid;
	q.cseq = 1;
	q.x.ctype = "text/plain;charset=UTF-8";
	q.x.body = body;
	q.x.blen = len;
	err = send_req(xs, -1, &q, XO_MESSAGE, comm, &xo);
	if (err) {
		++xs->st.msg_in_failed;
		send_error(xs, comm, st, 503, false);
		return;
	}
	xo->stanza = mem_ref(st);
}

static void recv_h(const char *comm, struct xmpp_el *st, void *arg)
{
	struct cn_xsip *xs = arg;

	if (!st || !comm)
		return;
	++xs->st.recv;
	if (!strcmp(st->name, "message")) {
		recv_message(xs, comm, st);
	}
	else if (!strcmp(st->name, "presence")) {
		recv_presence(xs, comm, st);
	}
	else if (!strcmp(st->name, "iq")) {
		const char *t = xmpp_el_attr(st, "type");

		/* we answer no queries (RFC 6120 8.2.3: get/set need an
		 * answer) */
		if (t && (!strcmp(t, "get") || !strcmp(t, "set")))
			send_error(xs, comm, st, 501, false);
		else
			++xs->st.untranslated;
	}
	else {
		++xs->st.untranslated;
	}
}

static void link_h(const char *comm, bool up, void *arg)
{
	struct cn_xsip *xs = arg;
	struct le *le;

	for (le = xs->dlgs.head; le; le = le->next) {
		struct xs_dlg *d = le->data;

		if (d->dir != XS_OUT || strcmp(d->comm, comm))
			continue;
		if (up) {
			if (!d->ask)	/* else the link delivers it now */
				out_subscribe(d, !d->active);
		}
		else if (d->pst != SST_ST_OFFLINE) {
			d->pst = SST_ST_OFFLINE;
			d->note[0] = '\0';
			notify(d, NULL);
		}
	}
}

/* Quiet for long: the contacts our watchers were told of are probed
 * again (only those approved: a request still waiting is not repeated
 * to the contact). */
static void recheck_h(const char *comm, void *arg)
{
	struct cn_xsip *xs = arg;
	struct le *le;

	for (le = xs->dlgs.head; le; le = le->next) {
		struct xs_dlg *d = le->data;

		if (d->dir == XS_OUT && d->active && !d->ask &&
		    !strcmp(d->comm, comm))
			out_subscribe(d, false);
	}
}

/* ---- expiry ---- */

void cn_xsip_tick(struct cn_xsip *xs, uint64_t now)
{
	struct le *le;

	if (!xs)
		return;
	le = xs->dlgs.head;
	while (le) {
		struct xs_dlg *d = le->data;

		le = le->next;
		if (d->dir == XS_OUT && d->expires_at <= now) {
			out_end(d, "timeout", true);
		}
		else if (d->dir == XS_IN && !d->ending && !d->sub &&
			 (d->retry_at ? d->retry_at <= now :
			  d->expires_at <= now + 60000)) {
			/* refreshed a minute early, while B stays; asked
			 * again after a fault that passes */
			in_subscribe(d, CN_XSIP_EXPIRES_OUT);
			if (!d->sub)
				in_retry_later(d);
		}
	}
	le = xs->refusals.head;
	while (le) {
		struct xs_refusal *f = le->data;

		le = le->next;
		if (f->until <= now)
			mem_deref(f);
	}
}

static void sweep(void *arg)
{
	struct cn_xsip *xs = arg;

	cn_xsip_tick(xs, xs_now());
	tmr_start(&xs->tmr, XS_SWEEP_MS, sweep, xs);
}

/* ---- the object ---- */

static void xsip_destructor(void *arg)
{
	struct cn_xsip *xs = arg;
	struct le *le;

	tmr_cancel(&xs->tmr);
	xs->x = mem_deref(xs->x);	/* tells what it still held */
	for (le = xs->waits.head; le; le = le->next) {
		struct xs_msg *m = le->data;

		m->xs = NULL;
	}
	list_flush(&xs->waits);
	list_flush(&xs->outs);
	list_flush(&xs->dlgs);
	list_flush(&xs->refusals);
	list_flush(&xs->asks);
}

int cn_xsip_alloc(struct cn_xsip **xsp, struct cn_px *px)
{
	struct cn_xmpp_handlers h = {recv_h, link_h, recheck_h, NULL};
	struct cn_xsip *xs;
	int err = 0;

	if (!xsp || !px)
		return EINVAL;
	xs = mem_zalloc(sizeof(*xs), xsip_destructor);
	if (!xs)
		return ENOMEM;
	xs->px = px;
	list_init(&xs->dlgs);
	list_init(&xs->refusals);
	list_init(&xs->waits);
	list_init(&xs->outs);
	list_init(&xs->asks);
	tmr_init(&xs->tmr);
	h.arg = xs;
	err = cn_xmpp_alloc(&xs->x, px, &h);
	if (err) {
		mem_deref(xs);
		return err;
	}
	tmr_start(&xs->tmr, XS_SWEEP_MS, sweep, xs);
	*xsp = xs;
	return 0;
}

void cn_xsip_send_seam(struct cn_xsip *xs, cn_xsip_send_h *sendh)
{
	if (xs)
		xs->sendh = sendh;
}

void cn_xsip_stats(const struct cn_xsip *xs, struct cn_xsip_stats *s)
{
	if (xs && s)
		*s = xs->st;
}

int cn_xsip_apply(struct cn_xsip *xs)
{
	if (!xs || !xs->x)
		return 0;
	return cn_xmpp_apply(xs->x);
}

void cn_xsip_status(struct cn_xsip *xs, struct dmn_st *root)
{
	struct dmn_st *sec, *t, *e;
	size_t i;

	if (!xs || !xs->x)
		return;
	sec = cn_xmpp_status(xs->x, root);
	t = sec ? dmn_st_section(sec, "translation") : NULL;
	if (!t)
		return;
	dmn_st_int(t, "watching_xmpp", xs->st.dlg_out);
	dmn_st_int(t, "watched_by_xmpp", xs->st.dlg_in);
	dmn_st_int(t, "refusals_remembered", xs->st.refusals);
	dmn_st_int(t, "subscribes_refused_full", (int64_t)xs->st.dlg_refused);
	dmn_st_int(t, "messages_out", (int64_t)xs->st.msg_out);
	dmn_st_int(t, "messages_out_failed", (int64_t)xs->st.msg_out_failed);
	dmn_st_int(t, "messages_in", (int64_t)xs->st.msg_in);
	dmn_st_int(t, "messages_in_failed", (int64_t)xs->st.msg_in_failed);
	dmn_st_int(t, "stanzas_sent", (int64_t)xs->st.sent);
	dmn_st_int(t, "stanzas_received", (int64_t)xs->st.recv);
	dmn_st_int(t, "untranslated", (int64_t)xs->st.untranslated);
	e = dmn_st_section(t, "errors_sent");
	for (i = 0; e && i < CN_XSIP_ERR_KINDS && xs->st.errs[i].cond; i++)
		dmn_st_int(e, xs->st.errs[i].cond, (int64_t)xs->st.errs[i].n);
}
