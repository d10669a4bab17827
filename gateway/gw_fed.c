/*
 * gw_fed.c -- the gateway's federation side: links to connectors,
 * requests from connectors, ID translation, and the subscriptions to
 * presentities in other communities.
 *
 * Links.  The connectors are the CommunityConnector records whose
 * Gateway list names this gateway, in file order; each is reached at
 * ip:port (udp, tcp) or ip:tlsPort with the transport of our first
 * ConnectorListen, from that listener's address (the connector accepts
 * outbound traffic only from its gateways' ConnectorListen addresses).
 * Each link is probed with OPTIONS every GW_FED_KEEPALIVE_S while up
 * (or every retryInterval when that is shorter, so that a link is
 * never checked less often than it would be retried).  A link judges
 * the connector only, never what lies beyond it (link_judge): any
 * answer from the connector means up, a 408 or 503 it relays is that
 * request's failure; a transport error means down at once, and a
 * request with no answer at all (our timeout racing the connector's
 * 408) sends a probe whose failure means down.  A down link is probed
 * again after 1 s, doubling up to retryInterval (gw_retry.h); `reset`
 * probes now.  Outbound traffic takes the first link that is up; a
 * transaction that fails on transport takes its link down, so the next
 * request fails over to the next link.
 *
 * TLS links (the first ConnectorListen is tls): the gateway connects to
 * the connector's ip:tlsPort with the Tls record's certificate as its
 * client certificate, and expects the connector's certificate to carry
 * the connector's ip attribute as an IP-address subjectAltName (checked
 * with Tls verify="required"; the connector is configured by address,
 * not by name, so its address is the name the gateway can check without
 * a DNS lookup or another setting).  A certificate that names only
 * sip.<domain> fails the check: add the connector's IP to it.
 *
 * Requests from connectors arrive on the ConnectorListen addresses (or
 * on a connection we opened to a connector) and are accepted only from
 * CommunityConnectivity trusted IPs: anything else gets 403, counted.
 *
 * Translation, ConvertID=true.  Outbound: the local user's email
 * (dir_email_of, asmith -> Alice.Smith@acme.test) becomes From and
 * P-Asserted-Identity of a request the gateway originates (new Call-ID,
 * tags, CSeq: a B2BUA, not a proxy); To and Request-URI are the external
 * address as the user gave it; bodies pass as they are.  A user with no
 * email cannot federate: 403 "No federation address for user", logged
 * once per user (`gw: no-email user=... reason=...`) and listed in
 * status.  Inbound: the Request-URI email goes back to the local ID
 * (dir_id_of; unknown: 404); MESSAGE is delivered to the user's
 * registered clients (480 when none) with the external From kept;
 * SUBSCRIBE makes an external watcher whose NOTIFYs name the user by
 * email.  ConvertID=false: no translation, the local ID is used on
 * both sides as it is (sip:asmith@acme.test leaves as it is, and
 * inbound Request-URI users are taken as local IDs).
 *
 * Privacy of local users towards external watchers (dir_privacy_of):
 * a watcher whose domain the user's setting does not allow gets 403
 * "Presence not shared with your community" -- not a subscription that
 * stays "closed": a fake offline would be indistinguishable from the
 * truth, and the refusal tells the remote side's administrator why.
 * The user keeps seeing others: privacy covers only what leaves.
 *
 * Subscriptions to external presentities: ONE federation subscription
 * per external presentity, from the gateway's own identity
 * (sip:<gateway name>@<first domain>), serves every local watcher (the
 * state is copied into each local watcher's NOTIFYs, entity the
 * external address).  It is refreshed before expiry and ended when the
 * last local watcher has gone.  Privacy consequence: the external
 * community sees that "acme.test" watches Bob.Jones, not which acme
 * users do; since privacy settings are per domain (all / domains /
 * none), the remote user's decision is applied the same way, but a
 * remote per-watcher allow list could not tell our watchers apart.
 * In exchange the remote side keeps one dialog per presentity, not one
 * per watcher pair, and our watchers' lists are not disclosed.
 *
 * Subscriptions to presentities in an XMPP community (ExternCommunity
 * protocol="xmpp"): there a contact approves each subscriber by name,
 * so a shared subscription from the gateway's identity would ask bob to
 * approve "acme-gw" and show every acme watcher what he granted to one.
 * Instead each local watcher gets a subscription of its own, keyed by
 * (watcher AOR, presentity), From the watcher's federation address as
 * any federated request is (asmith -> Alice.Smith@acme.test, with
 * P-Asserted-Identity), and what that watcher sees comes from it alone:
 * Offline until the first NOTIFY, Offline while it is pending (bob has
 * not answered).  It ends when the watcher's last local dialog to the
 * presentity ends.  A NOTIFY terminated;reason=rejected (bob refused)
 * shows Offline and is final for the pair: no timer, no refresh of the
 * watcher's dialog and no `reset` asks bob again; only a new dialog
 * from the watcher (a new SUBSCRIBE, e.g. the contact re-added) does.
 * Other endings (deactivated, timeout, probation, none) are handled as
 * for SIP below.  The federation address comes with the local dialog
 * (gw_req.email); a restored dialog has none, so it is looked up here.
 *
 * Failures: only when no link is up is every external presentity
 * Offline for its local watchers (NOTIFY closed); when a link comes
 * back, the federation subscriptions are created afresh.  A NOTIFY
 * without a body means no state (Offline).  A subscription or refresh
 * that fails shows Offline and is retried by kind of failure
 * (gw_retry.h: transient after 3 s doubling to 60 s, refusals after
 * 5 min doubling to 4 h), listed in status with its last answer.  An
 * un-SUBSCRIBEd dialog is kept until the terminating NOTIFY or
 * GW_FED_END_WAIT_S.  A restarted gateway starts with no federation
 * state at all, so nothing stays wrongly online.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_msg.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_out.h"
#include "gateway/gw_req.h"
#include "gateway/gw_allow.h"
#include "gateway/gw_fed.h"
#include "gateway/gw_link.h"
#include "gateway/gw_msg.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_fed_seam.h"
#include "gateway/gw_sipv.h"
#include "gateway/gw_retry.h"

enum {
	GW_FED_KEEPALIVE_S = 30,
	GW_FED_SUB_EXPIRES = 600,   /* asked for the federation side */
	GW_FED_NOEMAIL_MAX = 64,    /* users listed as unable to federate */
	GW_FED_FSUB_MAX    = 4096,  /* external presentities watched */
	GW_FED_NAME_MAX    = 64,
	GW_FED_END_WAIT_S  = 32,    /* a dialog kept after un-SUBSCRIBE:
				     * 64*T1, RFC 6665 4.1.2.3 */
};

enum link_state { LINK_PROBING = 0, LINK_UP, LINK_DOWN };
enum fsub_state { FS_IDLE = 0, FS_TRYING, FS_ACTIVE };

struct gw_link {
	struct le le;
	struct gw *gw;
	char name[GW_FED_NAME_MAX];
	enum sst_tp tp;
	struct sa addr;              /* the connector */
	struct sa laddr;             /* our ConnectorListen address */
	char tls_name[GW_ADDR_MAX];  /* TLS: the connector's IP */
	enum link_state state;
	uint64_t next_probe;         /* seconds, gw_now() */
	struct gw_ftx *ct;           /* OPTIONS in flight */
	char last_error[GW_TEXT_MAX];
	uint64_t reqs_out;
	uint64_t failures;
	bool had_conn;               /* stream: a connection was open at
				      * the last tick */
	unsigned down_probes;        /* failed probes in a row while down
				      * (gw_retry_link_wait) */
	uint64_t beyond_failures;    /* 408/503 relayed from beyond, and
				      * our own timeouts the probe cleared */
};

/* One client transaction over a link: the send argument that opens or
 * reuses the connection and turns an asynchronous transport failure
 * into the transaction's 503.  Two references: the transaction's (as
 * send argument, dropped when it ends, before its final answer is
 * delivered) and ours, dropped after the final answer or by
 * ftx_abandon(); owners hold the handle, never the transaction. */
struct gw_ftx {
	struct le le;                /* gw->ftxs when nobody holds it */
	struct gw_link *link;        /* referenced */
	struct sst_send *snd;
	struct sst_ctrans *ct;       /* borrowed, until the final answer */
	void (*resph)(int err, uint16_t scode, const struct sip_msg *msg,
		      void *arg);
	void *arg;
	bool probe;                  /* the owner judges the link itself */
};

struct gw_fsub {
	struct le le;
	struct gw *gw;
	char aor[GW_URI_MAX];
	char callid[48];
	char ltag[SST_TAG_SIZE];
	char *rtag;
	char *rtarget;
	char *route;                 /* "Route: ...\r\n" or NULL */
	uint32_t cseq;
	uint64_t refresh_at;
	uint64_t retry_at;
	enum fsub_state state;
	enum sst_status st;
	char note[SST_PIDF_NOTE_MAX + 1];
	struct gw_ftx *ct;
	unsigned subscribes;
	char last_error[GW_TEXT_MAX];
	unsigned fails;              /* failures in a row, of this kind */
	bool refused;                /* the last one was permanent */
	char last_answer[GW_TEXT_MAX]; /* e.g. "403 Forbidden" */
	char watcher[GW_URI_MAX];    /* XMPP: the local watcher's AOR;
				      * "" for a shared subscription */
	char from[DIR_KEY_MAX + 1];  /* XMPP: its federation address, ""
				      * while being looked up */
	bool looking_up;             /* dir_email_of pending for from */
	bool pending;                /* XMPP: the last NOTIFY said
				      * pending (not approved yet) */
	bool approved;               /* XMPP: a NOTIFY of this dialog said
				      * active */
	bool rejected;               /* XMPP: terminated;reason=rejected:
				      * not asked again but by a new
				      * dialog of the watcher */
	bool holding;                /* dialog lost: subscribing anew while
				      * keeping the last state shown */
	bool ending;                 /* un-SUBSCRIBEd: waiting for the
				      * terminating NOTIFY */
	uint64_t end_at;             /* forget the dialog then */
};

struct gw_noemail {
	struct le le;
	char user[DIR_KEY_MAX + 1];
	char reason[GW_TEXT_MAX];
	uint64_t refusals;
};

struct gw_fmsg {
	struct le le;                /* gw->forks */
	struct gw_req *rq;
	struct gw_ftx *ct;
};

static void fsub_start(struct gw_fsub *fs);

/* Where requests over links leave (gw_fed_seam.h): gw_send_request but
 * in tests. */
static gw_fed_send_h *fed_sendh = gw_send_request;

void gw_fed_send_seam(gw_fed_send_h *sendh)
{
	fed_sendh = sendh ? sendh : gw_send_request;
}

static const char *link_state_name(enum link_state s)
{
	switch (s) {
	case LINK_UP:   return "up";
	case LINK_DOWN: return "down";
	default:        return "probing";
	}
}

static const char *fsub_state_name(enum fsub_state s)
{
	switch (s) {
	case FS_ACTIVE: return "active";
	case FS_TRYING: return "subscribing";
	default:        return "idle";
	}
}

static unsigned keepalive_s(const struct gw *gw)
{
	const unsigned r = gw->self->retry ? gw->self->retry :
		CFG_RETRY_DEFAULT;

	return min(r, (unsigned)GW_FED_KEEPALIVE_S);
}

static unsigned retry_s(const struct gw *gw)
{
	return gw->self->retry ? gw->self->retry : CFG_RETRY_DEFAULT;
}

static struct gw_link *link_first_up(const struct gw *gw)
{
	struct le *le;

	for (le = gw->links.head; le; le = le->next) {
		struct gw_link *l = le->data;

		if (l->state == LINK_UP)
			return l;
	}
	return NULL;
}

/* ---- sending over a link ---- */

static void ftx_destructor(void *arg)
{
	struct gw_ftx *fx = arg;

	list_unlink(&fx->le);
	fx->snd = mem_deref(fx->snd);
	fx->link = mem_deref(fx->link);
}

static void ftx_err(int err, void *arg)
{
	struct gw_ftx *fx = arg;

	if (fx->ct)
		sst_ctrans_tperror(fx->ct, err ? err : ENOTCONN);
}

static int ftx_send(struct mbuf *mb, void *arg)
{
	struct gw_ftx *fx = arg;
	struct gw_link *l = fx->link;
	struct sa la = l->laddr;

	if (l->tp != SST_TP_UDP)
		sa_set_port(&la, 0);   /* a fresh port on the listener's IP */
	fx->snd = mem_deref(fx->snd);
	return sst_transp_send(l->gw->tp, &fx->snd, l->tp, &l->addr, &la,
			       l->tp == SST_TP_TLS ? l->tls_name : NULL, mb,
			       ftx_err, fx);
}

static void link_set(struct gw_link *l, bool up, int err, uint16_t scode);

static void link_probe(struct gw_link *l);

/* What one request's final answer says about its link.  Any answer is
 * from the connector (it relays what lies beyond with that answer's own
 * code), so it proves the link alive, 408 and 503 included: those are
 * the request's failure, counted.  A transport failure takes the link
 * down at once.  Our own timeout (no answer at all) races the
 * connector's 408 for a far side that is slow, so it is not taken as
 * the connector's silence: an OPTIONS probe is sent now, and only its
 * failure takes the link down. */
static void link_judge(struct gw_link *l, int err, uint16_t scode,
		       const struct sip_msg *msg)
{
	if (msg) {
		if (scode == 408 || scode == 503)
			l->beyond_failures++;
		if (l->state != LINK_UP)
			link_set(l, true, 0, scode);
		return;
	}
	if (err && err != ETIMEDOUT) {
		link_set(l, false, err, scode);
		return;
	}
	l->beyond_failures++;
	if (!l->ct && l->state == LINK_UP)
		link_probe(l);
}

static void noop_resp(int err, uint16_t scode, const struct sip_msg *msg,
		      void *arg)
{
	(void)err;
	(void)scode;
	(void)msg;
	(void)arg;
}


static void ftx_resp(int err, uint16_t scode, const struct sip_msg *msg,
		     void *arg)
{
	struct gw_ftx *fx = arg;
	struct gw_link *l = fx->link;

	if (scode < 200) {
		fx->resph(err, scode, msg, fx->arg);
		return;
	}
	fx->ct = NULL;
	fx->resph(err, scode, msg, fx->arg);
	/* after the owner's handler: a link going down may end other
	 * transactions, never the one being answered */
	if (!fx->probe)
		link_judge(l, err, scode, msg);
	mem_deref(fx);
}

/* The owner no longer wants the answer; NULL is fine. */
static void ftx_abandon(struct gw_ftx *fx)
{
	if (!fx)
		return;
	fx->resph = noop_resp;
	if (fx->ct) {
		struct sst_ctrans *ct = fx->ct;

		fx->ct = NULL;
		sst_ctrans_abandon(ct);
	}
	mem_deref(fx);
}

static int link_request(struct gw_link *l, bool probe,
			const struct gw_out_req *req, gw_resp_h *resph,
			void *arg, struct gw_ftx **fxp)
{
	struct gw_ftx *fx;
	struct gw_out_path path;
	int err;

	fx = mem_zalloc(sizeof(*fx), ftx_destructor);
	if (!fx)
		return ENOMEM;
	fx->link = mem_ref(l);
	fx->probe = probe;
	fx->resph = resph ? resph : noop_resp;
	fx->arg = arg;
	path.tp = l->tp;
	path.laddr = &l->laddr;
	path.sendh = ftx_send;
	path.sendarg = fx;
	err = fed_sendh(l->gw, &path, req, ftx_resp, fx, &fx->ct);
	if (err) {
		mem_deref(fx);
		return err;
	}
	l->reqs_out++;
	/* ours stays until the final answer (ftx_resp) or ftx_abandon();
	 * a request nobody waits on is listed so that closing ends it */
	if (fxp)
		*fxp = fx;
	else
		list_append(&l->gw->ftxs, &fx->le, fx);
	return 0;
}

/* A request to the first link that is up; ENOTCONN when none is. */
static int fed_request(struct gw *gw, const struct gw_out_req *req,
		       gw_resp_h *resph, void *arg, struct gw_ftx **fxp)
{
	struct gw_link *l = link_first_up(gw);

	if (!l)
		return ENOTCONN;
	return link_request(l, false, req, resph, arg, fxp);
}

/* ---- links ---- */

static void fsub_reset(struct gw_fsub *fs, bool offline)
{
	struct gw *gw = fs->gw;

	ftx_abandon(fs->ct);
	fs->ct = NULL;
	fs->state = FS_IDLE;
	fs->pending = false;
	fs->approved = false;
	fs->rtag = mem_deref(fs->rtag);
	fs->rtarget = mem_deref(fs->rtarget);
	fs->route = mem_deref(fs->route);
	if (offline && fs->st != SST_ST_OFFLINE) {
		fs->st = SST_ST_OFFLINE;
		fs->note[0] = '\0';
		gw_pres_changed(gw, fs->aor);
	}
}

static void link_set(struct gw_link *l, bool up, int err, uint16_t scode)
{
	struct gw *gw = l->gw;
	const uint64_t now = gw_now();
	const enum link_state was = l->state;
	char a[GW_ADDR_MAX];
	struct le *le;

	if (up) {
		l->state = LINK_UP;
		l->down_probes = 0;
		l->next_probe = now + keepalive_s(gw);
		if (was == LINK_UP)
			return;
		l->last_error[0] = '\0';
		re_snprintf(a, sizeof(a), "%J", &l->addr);
		dmn_log_info("gw: connector up name=%s transport=%s "
			     "address=%s", l->name, sst_tp_name(l->tp), a);
		/* federation subscriptions waiting for a link start now */
		for (le = gw->fsubs.head; le; le = le->next) {
			struct gw_fsub *fs = le->data;

			if (fs->state == FS_IDLE && !fs->refused)
				fs->retry_at = 0;
		}
		return;
	}

	/* re-probed soon, then less often: 1, 2, 4 ... retryInterval */
	if (was != LINK_DOWN)
		l->down_probes = 0;
	l->down_probes++;
	l->state = LINK_DOWN;
	l->failures++;
	l->next_probe = now + gw_retry_link_wait(l->down_probes,
						 retry_s(gw));
	re_snprintf(l->last_error, sizeof(l->last_error), "%s (%u)",
		    err == ETIMEDOUT ? "timeout" : err ? strerror(err) :
		    "no answer", (unsigned)scode);
	if (was == LINK_DOWN)
		return;
	re_snprintf(a, sizeof(a), "%J", &l->addr);
	dmn_log_warnx("gw: connector down name=%s transport=%s address=%s "
		      "error=%s retry_in=%us", l->name, sst_tp_name(l->tp),
		      a, l->last_error, (unsigned)(l->next_probe - now));

	/* the dialogs through this connector are gone: start again on
	 * another link, or show everybody offline until one is back */
	le = gw->fsubs.head;
	while (le) {
		struct gw_fsub *fs = le->data;

		le = le->next;
		if (fs->ending) {
			mem_deref(fs);
			continue;
		}
		fs->holding = false;
		fsub_reset(fs, link_first_up(gw) == NULL);
		if (!fs->refused)
			fs->retry_at = 0;
	}
}

static void probe_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg)
{
	struct gw_link *l = arg;

	if (scode < 200)
		return;
	l->ct = NULL;
	link_set(l, msg != NULL, err, scode);
}

static void link_probe(struct gw_link *l)
{
	struct gw *gw = l->gw;
	char ruri[GW_URI_MAX], from[GW_URI_MAX], to[GW_URI_MAX];
	char callid[48], tag[SST_TAG_SIZE];
	struct gw_out_req out = {0};
	int err;

	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(callid, sizeof(callid), "%08x%08x@stgateway",
		    rand_u32(), rand_u32());
	re_snprintf(ruri, sizeof(ruri), "sip:%J%s", &l->addr,
		    gw_uri_tp_param(l->tp));
	re_snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s", gw->name,
		    gw->realm, tag);
	re_snprintf(to, sizeof(to), "<%s>", ruri);

	/* probe_resp judges the link; ftx_resp must not a second time */
	out.method = "OPTIONS";
	out.ruri = ruri;
	out.from = from;
	out.to = to;
	out.callid = callid;
	out.cseq = 1;
	err = link_request(l, true, &out, probe_resp, l, &l->ct);
	if (err) {
		l->ct = NULL;
		link_set(l, false, err, 0);
	}
}

/* A stream link's connections all closed (the connector died or
 * restarted, its host reset them): that is news about the connector
 * itself, so probe now rather than at the next keep-alive; a refused
 * connection then takes the link down at once. */
static void conn_watch(struct gw_link *l)
{
	unsigned n = 0;

	if (sst_transp_peer_counters(l->gw->tp, &l->addr, NULL, &n))
		n = 0;
	if (l->had_conn && !n)
		link_probe(l);
	l->had_conn = n > 0;
}

static void link_destructor(void *arg)
{
	struct gw_link *l = arg;

	list_unlink(&l->le);
	ftx_abandon(l->ct);
}

static bool names_self(const struct cfg_connector *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->gateways.n; i++)
		if (!str_casecmp(c->gateways.v[i], name))
			return true;
	return false;
}

int gw_fed_start(struct gw *gw)
{
	const struct gw_lsnr *fl = NULL;
	char a[GW_ADDR_MAX];
	struct le *le;
	size_t i;

	for (le = gw->lsnrs.head; le; le = le->next) {
		const struct gw_lsnr *ls = le->data;

		if (ls->fed) {
			fl = ls;
			break;
		}
	}

	for (i = 0; i < gw->cfg->nconnectors; i++) {
		const struct cfg_connector *c = &gw->cfg->connectors[i];
		struct gw_link *l;

		if (!names_self(c, gw->name))
			continue;
		if (!fl) {
			dmn_log_warnx("gw: connector skipped name=%s reason="
				      "no-usable-ConnectorListen",
				      c->name ? c->name : "-");
			continue;
		}
		l = mem_zalloc(sizeof(*l), link_destructor);
		if (!l)
			return ENOMEM;
		l->gw = gw;
		str_ncpy(l->name, c->name ? c->name : "connector",
			 sizeof(l->name));
		l->tp = fl->tp;
		l->laddr = fl->addr;
		str_ncpy(l->tls_name, c->ip, sizeof(l->tls_name));
		if (sa_set_str(&l->addr, c->ip, l->tp == SST_TP_TLS ?
			       c->tls_port : c->port)) {
			mem_deref(l);
			return EINVAL;
		}
		list_append(&gw->links, &l->le, l);
		re_snprintf(a, sizeof(a), "%J", &l->addr);
		dmn_log_info("gw: connector name=%s transport=%s address=%s",
			     l->name, sst_tp_name(l->tp), a);
	}
	return 0;
}

static void fsub_destructor(void *arg)
{
	struct gw_fsub *fs = arg;

	list_unlink(&fs->le);
	if (fs->looking_up && fs->gw->dir)
		dir_cancel(fs->gw->dir, fs);
	ftx_abandon(fs->ct);
	fs->rtag = mem_deref(fs->rtag);
	fs->rtarget = mem_deref(fs->rtarget);
	fs->route = mem_deref(fs->route);
}

void gw_fed_close(struct gw *gw)
{
	struct le *le;

	list_flush(&gw->fsubs);
	for (le = gw->links.head; le; le = le->next) {
		struct gw_link *l = le->data;

		ftx_abandon(l->ct);
		l->ct = NULL;
	}
	while ((le = list_head(&gw->ftxs)) != NULL)
		ftx_abandon(le->data);
	list_flush(&gw->links);
	list_flush(&gw->noemail);
	gw_allow_close(gw);
}

bool gw_fed_degraded(const struct gw *gw)
{
	return !list_isempty(&gw->links) && !link_first_up(gw) &&
		((struct gw_link *)list_head(&gw->links)->data)->state ==
		LINK_DOWN;
}

/* ---- federation subscriptions ---- */

/* Is aor in an XMPP community: one subscription per local watcher. */
static bool per_watcher(const struct gw *gw, const char *aor)
{
	const char *at = strrchr(aor, '@');
	const struct cfg_extern *x = at ? cfg_extern_find(gw->cfg, at + 1) :
		NULL;

	return x && x->protocol == CFG_PROTO_XMPP;
}

/* The live subscription to aor serving watcher: the shared one (watcher
 * NULL or ""), or that watcher's own. */
static struct gw_fsub *fsub_find(const struct gw *gw, const char *aor,
				 const char *watcher)
{
	struct le *le;

	if (!watcher)
		watcher = "";
	for (le = gw->fsubs.head; le; le = le->next) {
		struct gw_fsub *fs = le->data;

		if (!fs->ending && !strcmp(fs->aor, aor) &&
		    !strcmp(fs->watcher, watcher))
			return fs;
	}
	return NULL;
}

enum sst_status gw_fed_status(const struct gw *gw, const char *aor,
			     const char *watcher, const char **notep)
{
	const struct gw_fsub *fs;

	if (per_watcher(gw, aor))
		fs = watcher ? fsub_find(gw, aor, watcher) : NULL;
	else
		fs = fsub_find(gw, aor, NULL);
	/* XMPP: nobody is shown online before the contact approved */
	if (fs && fs->pending)
		fs = NULL;
	if (notep)
		*notep = fs && fs->note[0] ? fs->note : NULL;
	return fs ? fs->st : SST_ST_OFFLINE;
}

static bool rr_collect(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct mbuf *mb = arg;

	(void)msg;
	if (hdr->val.l > GW_URI_MAX)
		return true;
	(void)mbuf_printf(mb, "%s%r", mb->end ? ", " : "Route: ", &hdr->val);
	return mb->end > 4 * GW_URI_MAX;
}

/* The dialog a 2xx or the first NOTIFY set up (we are the UAC: the
 * route set is the Record-Route reversed). */
static void fsub_dialog(struct gw_fsub *fs, const struct sip_msg *msg,
			bool response)
{
	const struct sip_hdr *ch = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	const struct pl *tag = response ? &msg->to.tag : &msg->from.tag;
	struct sip_addr ca;
	struct mbuf *mb;

	if (!fs->rtag && pl_isset(tag) && tag->l < 128)
		(void)pl_strdup(&fs->rtag, tag);
	if (ch && !sip_addr_decode(&ca, &ch->val) && ca.auri.l &&
	    ca.auri.l < GW_URI_MAX) {
		fs->rtarget = mem_deref(fs->rtarget);
		(void)pl_strdup(&fs->rtarget, &ca.auri);
	}
	if (!response || fs->route)
		return;
	mb = mbuf_alloc(256);
	if (!mb)
		return;
	(void)sip_msg_hdr_apply(msg, false, SIP_HDR_RECORD_ROUTE, rr_collect,
				mb);
	if (mb->end && !mbuf_write_str(mb, "\r\n")) {
		mb->pos = 0;
		(void)mbuf_strdup(mb, &fs->route, mb->end);
	}
	mem_deref(mb);
}

static void fsub_failed_as(struct gw_fsub *fs, const char *what,
			   uint16_t scode, const struct sip_msg *msg,
			   bool permanent)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);
	unsigned wait;

	if (permanent != fs->refused)
		fs->fails = 0;
	fs->refused = permanent;
	fs->fails++;
	wait = gw_retry_wait(permanent, fs->fails);
	re_snprintf(fs->last_error, sizeof(fs->last_error), "%s %u", what,
		    (unsigned)scode);
	if (msg && msg->reason.l && msg->reason.l < 64)
		re_snprintf(fs->last_answer, sizeof(fs->last_answer),
			    "%u %r", (unsigned)scode, &msg->reason);
	else if (scode)
		re_snprintf(fs->last_answer, sizeof(fs->last_answer),
			    "%u (no answer)", (unsigned)scode);
	else
		str_ncpy(fs->last_answer, what, sizeof(fs->last_answer));
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: federation subscription lost "
		   "presentity=%s reason=%s kind=%s retry_in=%us", fs->aor,
		   fs->last_error, permanent ? "refused" : "transient", wait);
	fs->holding = false;
	fsub_reset(fs, true);
	fs->retry_at = gw_now() + wait;
}

/* The far side forgot a dialog that was working (481 to our refresh: its
 * gateway or connector restarted; or it ended it with reason deactivated
 * or timeout, which invite a new SUBSCRIBE at once, RFC 6665 4.1.3).
 * Subscribe anew now and keep showing the last state until the new
 * subscription's first NOTIFY says what is true: a user who is online is
 * not shown offline on the way, one who left is shown offline by that
 * NOTIFY, and a new SUBSCRIBE that fails shows offline (fsub_failed_as).
 * Once only: a second loss in a row is an ordinary failure. */
static bool fsub_lost(struct gw_fsub *fs, const char *why)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);

	if (fs->holding)
		return false;
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: federation dialog lost "
		   "presentity=%s reason=%s action=resubscribe status=%s",
		   fs->aor, why, sst_status_name(fs->st));
	re_snprintf(fs->last_error, sizeof(fs->last_error), "%s", why);
	fsub_reset(fs, false);
	fs->holding = true;
	fs->retry_at = 0;
	return true;
}

/* XMPP: the contact refused this watcher.  Offline, and final for the
 * pair until the watcher opens a new dialog (gw_fed_watch). */
static void fsub_rejected(struct gw_fsub *fs)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);

	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: federation subscription rejected "
		   "presentity=%s watcher=%s from=%s action=none-until-new-"
		   "dialog", fs->aor, fs->watcher, fs->from);
	fs->refused = true;
	fs->fails = 1;
	fs->rejected = true;
	str_ncpy(fs->last_error, "terminated rejected",
		 sizeof(fs->last_error));
	str_ncpy(fs->last_answer, "terminated;reason=rejected",
		 sizeof(fs->last_answer));
	fs->holding = false;
	fsub_reset(fs, true);
	fs->retry_at = 0;
}

static void fsub_failed(struct gw_fsub *fs, const char *what, uint16_t scode)
{
	fsub_failed_as(fs, what, scode, NULL, gw_retry_permanent(scode));
}

static void fsub_resp(int err, uint16_t scode, const struct sip_msg *msg,
		      void *arg)
{
	struct gw_fsub *fs = arg;
	uint32_t e;

	(void)err;
	if (scode < 200)
		return;
	fs->ct = NULL;
	if (scode == 481 && fs->state == FS_ACTIVE &&
	    fsub_lost(fs, "refresh 481"))
		return;
	if (scode >= 300 || !msg) {
		fsub_failed_as(fs, fs->state == FS_ACTIVE ? "refresh" :
			       "subscribe", scode, msg,
			       gw_retry_permanent(scode));
		return;
	}
	fsub_dialog(fs, msg, true);
	e = gw_expires_of(msg, GW_FED_SUB_EXPIRES);
	if (e == 0) {
		fsub_failed(fs, "expires=0", scode);
		return;
	}
	fs->state = FS_ACTIVE;
	fs->last_error[0] = '\0';
	fs->fails = 0;
	fs->refused = false;
	re_snprintf(fs->last_answer, sizeof(fs->last_answer), "%u %r",
		    (unsigned)scode, &msg->reason);
	fs->refresh_at = gw_now() + (e > 90 ? e - 60 : e / 2 + 1);
}

static int fsub_send(struct gw_fsub *fs, uint32_t expires,
		     void (*resph)(int err, uint16_t scode,
				   const struct sip_msg *msg, void *arg),
		     void *arg, struct gw_ftx **fxp)
{
	struct gw *gw = fs->gw;
	char from[GW_URI_MAX + 64], to[GW_URI_MAX + 160];
	struct gw_out_req out = {0};
	char *hdrs = NULL;
	int err;

	if (fs->watcher[0])
		re_snprintf(from, sizeof(from), "<sip:%s>;tag=%s", fs->from,
			    fs->ltag);
	else
		re_snprintf(from, sizeof(from), "<sip:%s@%s>;tag=%s",
			    gw->name, gw->realm, fs->ltag);
	if (fs->rtag)
		re_snprintf(to, sizeof(to), "<%s>;tag=%s", fs->aor, fs->rtag);
	else
		re_snprintf(to, sizeof(to), "<%s>", fs->aor);
	err = re_sdprintf(&hdrs, "%s%s%s%sEvent: presence\r\nAccept: "
			  "application/pidf+xml\r\nExpires: %u\r\n",
			  fs->rtag && fs->route ? fs->route : "",
			  fs->watcher[0] ? "P-Asserted-Identity: <sip:" : "",
			  fs->watcher[0] ? fs->from : "",
			  fs->watcher[0] ? ">\r\n" : "",
			  (unsigned)expires);
	if (err)
		return err;
	out.method = "SUBSCRIBE";
	out.ruri = fs->rtag && fs->rtarget ? fs->rtarget : fs->aor;
	out.from = from;
	out.to = to;
	out.callid = fs->callid;
	out.cseq = ++fs->cseq;
	out.hdrs = hdrs;
	err = fed_request(gw, &out, resph, arg, fxp);
	mem_deref(hdrs);
	if (!err)
		gw->c.fed_sub_out++;
	return err;
}

static void fsub_start(struct gw_fsub *fs)
{
	int err;

	fsub_reset(fs, false);
	re_snprintf(fs->callid, sizeof(fs->callid), "%08x%08x@stgateway",
		    rand_u32(), rand_u32());
	sst_tag_gen(fs->ltag, sizeof(fs->ltag));
	fs->cseq = 0;
	err = fsub_send(fs, GW_FED_SUB_EXPIRES, fsub_resp, fs, &fs->ct);
	if (err) {
		fsub_failed(fs, "send", 0);
		return;
	}
	fs->state = FS_TRYING;
	fs->subscribes++;
	if (fs->watcher[0])
		dmn_log_info("gw: federation subscribe presentity=%s "
			     "watcher=%s from=%s", fs->aor, fs->watcher,
			     fs->from);
	else
		dmn_log_info("gw: federation subscribe presentity=%s "
			     "watchers=%u", fs->aor,
			     gw_pres_watchers(fs->gw, fs->aor));
}

/* Can fs be sent now: a link is up and, per watcher, its From known. */
static bool fsub_ready(const struct gw_fsub *fs)
{
	return link_first_up(fs->gw) && (!fs->watcher[0] || fs->from[0]);
}

static void fsub_email_h(const struct dir_result *res, void *arg)
{
	struct gw_fsub *fs = arg;

	fs->looking_up = false;
	if (res->err || !res->value || !res->value[0] ||
	    strlen(res->value) > DIR_KEY_MAX) {
		/* no federation address: the watcher stays Offline, as its
		 * SUBSCRIBE would have been refused 403 */
		re_snprintf(fs->last_error, sizeof(fs->last_error),
			    "no federation address (%s)",
			    res->reason && res->reason[0] ? res->reason :
			    dir_err_name(res->err));
		return;
	}
	str_ncpy(fs->from, res->value, sizeof(fs->from));
	if (fs->state == FS_IDLE && !fs->rejected && fsub_ready(fs))
		fsub_start(fs);
}

/* The watcher's federation address when the caller had none (a
 * restored dialog): as gw_fed_outbound finds it. */
static void fsub_from_of(struct gw_fsub *fs)
{
	struct gw *gw = fs->gw;
	const char *u = fs->watcher;
	struct pl id;
	const char *at;

	if (!strncmp(u, "sip:", 4))
		u += 4;
	if (!gw->self->convert_id) {
		str_ncpy(fs->from, u, sizeof(fs->from));
		return;
	}
	at = strchr(u, '@');
	if (!gw->dir || !at)
		return;
	id.p = u;
	id.l = (size_t)(at - u);
	fs->looking_up = true;
	if (dir_email_of(gw->dir, &id, fsub_email_h, fs))
		fs->looking_up = false;
}

void gw_fed_watch(struct gw *gw, const char *aor, const char *watcher,
		  const char *fedaddr)
{
	const bool pw = per_watcher(gw, aor) && watcher && watcher[0];
	struct gw_fsub *fs = fsub_find(gw, aor, pw ? watcher : NULL);

	if (fs && pw && fs->rejected) {
		/* a new dialog of the watcher: the one thing that asks a
		 * contact who refused again */
		dmn_log_info("gw: federation subscription retried "
			     "presentity=%s watcher=%s reason=new-dialog",
			     fs->aor, fs->watcher);
		fs->rejected = false;
		fs->refused = false;
		fs->fails = 0;
		fs->retry_at = 0;
		if (fedaddr && fedaddr[0])
			str_ncpy(fs->from, fedaddr, sizeof(fs->from));
		if (fs->state == FS_IDLE && fsub_ready(fs))
			fsub_start(fs);
		return;
	}
	if (fs)
		return;   /* shared, or this watcher's own already */
	if (list_count(&gw->fsubs) >= GW_FED_FSUB_MAX)
		return;   /* the watcher sees Offline */
	fs = mem_zalloc(sizeof(*fs), fsub_destructor);
	if (!fs)
		return;
	fs->gw = gw;
	str_ncpy(fs->aor, aor, sizeof(fs->aor));
	fs->st = SST_ST_OFFLINE;
	list_append(&gw->fsubs, &fs->le, fs);
	if (pw) {
		str_ncpy(fs->watcher, watcher, sizeof(fs->watcher));
		if (fedaddr && fedaddr[0])
			str_ncpy(fs->from, fedaddr, sizeof(fs->from));
		else
			fsub_from_of(fs);
	}
	if (fs->state == FS_IDLE && fsub_ready(fs))
		fsub_start(fs);
}

static void unsub_resp(int err, uint16_t scode, const struct sip_msg *msg,
		       void *arg)
{
	struct gw_fsub *fs = arg;

	(void)err;
	if (scode < 200)
		return;
	fs->ct = NULL;
	/* refused or unanswered: no terminating NOTIFY will come */
	if (scode >= 300 || !msg)
		mem_deref(fs);
}

/* The last local watcher went: un-SUBSCRIBE, and keep the dialog until
 * the notifier's terminating NOTIFY (RFC 6665 4.1.2.3: it sends one
 * after an un-SUBSCRIBE) or GW_FED_END_WAIT_S, so that NOTIFY is
 * answered 200, not 481.  A new watcher meanwhile gets a subscription
 * of its own (fsub_find skips ending ones). */
static void fsub_end(struct gw_fsub *fs)
{
	ftx_abandon(fs->ct);
	fs->ct = NULL;
	if (fs->state != FS_ACTIVE) {
		mem_deref(fs);
		return;
	}
	fs->ending = true;
	fs->end_at = gw_now() + GW_FED_END_WAIT_S;
	if (fsub_send(fs, 0, unsub_resp, fs, &fs->ct)) {
		fs->ct = NULL;
		mem_deref(fs);
		return;
	}
	if (fs->watcher[0])
		dmn_log_info("gw: federation unsubscribe presentity=%s "
			     "watcher=%s", fs->aor, fs->watcher);
	else
		dmn_log_info("gw: federation unsubscribe presentity=%s",
			     fs->aor);
}

void gw_fed_tick(struct gw *gw, uint64_t now)
{
	struct le *le;

	for (le = gw->links.head; le; le = le->next) {
		struct gw_link *l = le->data;

		if (!l->ct && now >= l->next_probe)
			link_probe(l);
		else if (!l->ct && l->state == LINK_UP &&
			 l->tp != SST_TP_UDP)
			conn_watch(l);
	}

	le = gw->fsubs.head;
	while (le) {
		struct gw_fsub *fs = le->data;

		le = le->next;
		if (fs->ending) {
			if (now >= fs->end_at)
				mem_deref(fs);
			continue;
		}
		if (fs->watcher[0] ?
		    !gw_pres_watching(gw, fs->watcher, fs->aor) :
		    !gw_pres_watchers(gw, fs->aor)) {
			fsub_end(fs);
			continue;
		}
		if (fs->ct)
			continue;
		if (fs->state == FS_IDLE && !fs->rejected &&
		    now >= fs->retry_at && fsub_ready(fs))
			fsub_start(fs);
		else if (fs->state == FS_ACTIVE && now >= fs->refresh_at &&
			 fsub_send(fs, GW_FED_SUB_EXPIRES, fsub_resp, fs,
				   &fs->ct))
			fsub_failed(fs, "refresh-send", 0);
	}
}

static void fed_notify(struct gw *gw, const struct sip_msg *msg,
		       struct sst_strans *stx, struct sst_flow *fl)
{
	const struct sip_hdr *ss = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	const size_t blen = mbuf_get_left(msg->mb);
	struct gw_fsub *fs = NULL;
	struct sst_pidf pidf;
	bool approval = false;
	struct le *le;

	for (le = gw->fsubs.head; le; le = le->next) {
		struct gw_fsub *x = le->data;

		if (x->state != FS_IDLE && !pl_strcmp(&msg->callid, x->callid)
		    && !pl_strcmp(&msg->to.tag, x->ltag)) {
			fs = x;
			break;
		}
	}
	if (!fs) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 481, .reason = "Subscription does not exist"});
		return;
	}
	if (blen && sst_pidf_decode(&pidf, (const char *)mbuf_buf(msg->mb),
				   blen)) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 400, .reason = "Bad presence document"});
		return;
	}
	(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
		.scode = 200, .reason = "OK"});
	gw->c.fed_notify_in++;
	if (fs->ending) {
		/* the answer to our un-SUBSCRIBE: the dialog is over */
		if (ss && ss->val.l >= 10 &&
		    !strncasecmp(ss->val.p, "terminated", 10))
			mem_deref(fs);
		return;
	}
	fsub_dialog(fs, msg, false);

	if (ss && ss->val.l >= 10 && !strncasecmp(ss->val.p, "terminated",
						   10)) {
		struct pl reason = PL_INIT;

		/* RFC 6665 4.1.3: after "rejected" or "noresource" asking
		 * again soon is pointless; other reasons invite a new
		 * SUBSCRIBE */
		(void)re_regex(ss->val.p, ss->val.l, "reason=[a-z]+", &reason);
		if (fs->watcher[0] && !pl_strcasecmp(&reason, "rejected")) {
			fsub_rejected(fs);
			return;
		}
		if ((!pl_strcasecmp(&reason, "deactivated") ||
		     !pl_strcasecmp(&reason, "timeout")) &&
		    fsub_lost(fs, "terminated"))
			return;
		fsub_failed_as(fs, "terminated", 0, NULL,
			       !pl_strcasecmp(&reason, "rejected") ||
			       !pl_strcasecmp(&reason, "noresource"));
		return;
	}
	fs->holding = false;   /* the new subscription's truth is here */
	if (fs->watcher[0]) {
		const bool was = fs->pending;

		/* XMPP: not approved yet -- whatever the body says, the
		 * watcher sees Offline (gw_fed_status) */
		fs->pending = ss && ss->val.l >= 7 &&
			!strncasecmp(ss->val.p, "pending", 7);
		approval = was != fs->pending;
		fs->approved = !fs->pending;
	}
	if (!blen) {
		/* No body: the notifier has no presence state to give (RFC
		 * 6665 4.1.3 leaves a NOTIFY body optional and its absence
		 * to the package; RFC 3856 6.6 lets a presence agent send a
		 * NOTIFY without a document when it has none, e.g. when the
		 * presentity's publication expired).  Nothing known is not
		 * "still as before": show the presentity closed. */
		pidf.st = SST_ST_OFFLINE;
		pidf.note[0] = '\0';
	}
	if (fs->watcher[0])
		dmn_log_info("gw: federation notify presentity=%s watcher=%s "
			     "document=%s status=%s approval=%s", fs->aor,
			     fs->watcher, blen ? "pidf" : "none",
			     sst_status_name(pidf.st), fs->pending ? "pending" :
			     "active");
	else
		dmn_log_info("gw: federation notify presentity=%s "
			     "document=%s status=%s", fs->aor,
			     blen ? "pidf" : "none", sst_status_name(pidf.st));
	if (approval || pidf.st != fs->st || strcmp(pidf.note, fs->note)) {
		fs->st = pidf.st;
		str_ncpy(fs->note, pidf.note, sizeof(fs->note));
		gw_pres_changed(gw, fs->aor);
	}
}

/* ---- users who cannot federate ---- */

static void noemail_note(struct gw *gw, const char *user, const char *why)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	struct gw_noemail *ne = NULL;
	struct le *le;

	gw->c.fed_no_email++;
	for (le = gw->noemail.head; le; le = le->next) {
		struct gw_noemail *x = le->data;

		if (!strcmp(x->user, user)) {
			ne = x;
			break;
		}
	}
	if (ne) {
		ne->refusals++;
		str_ncpy(ne->reason, why, sizeof(ne->reason));
		return;
	}
	/* the first refusal of a user is logged (rate-limited overall) */
	dmn_log_rl(&rl, DMN_LOG_WARN, "gw: no-email user=%s reason=%s", user,
		   why);
	if (list_count(&gw->noemail) >= GW_FED_NOEMAIL_MAX)
		mem_deref(list_head(&gw->noemail)->data);
	ne = mem_zalloc(sizeof(*ne), NULL);
	if (!ne)
		return;
	str_ncpy(ne->user, user, sizeof(ne->user));
	str_ncpy(ne->reason, why, sizeof(ne->reason));
	ne->refusals = 1;
	list_append(&gw->noemail, &ne->le, ne);
}

/* ---- outbound: a local user to an external target ---- */

static void fmsg_destructor(void *arg)
{
	struct gw_fmsg *m = arg;

	list_unlink(&m->le);
	ftx_abandon(m->ct);
	m->rq = mem_deref(m->rq);
}

static void fmsg_resp(int err, uint16_t scode, const struct sip_msg *msg,
		      void *arg)
{
	struct gw_fmsg *m = arg;
	char reason[128];

	(void)err;
	if (scode < 200)
		return;
	m->ct = NULL;
	if (msg && msg->reason.l && msg->reason.l < sizeof(reason))
		(void)pl_strcpy(&msg->reason, reason, sizeof(reason));
	else
		str_ncpy(reason, scode == 408 ? "Request Timeout" :
			 scode == 503 ? "Connector unreachable" : "Error",
			 sizeof(reason));
	if (scode < 300)
		str_ncpy(reason, "OK", sizeof(reason));
	dmn_log_info("gw: federation message from=%s status=%u",
		     m->rq->email, (unsigned)scode);
	gw_req_answer(m->rq, scode, reason, NULL);
	m->rq = NULL;
	mem_deref(m);
}

static void fed_message(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	const struct sip_msg *msg = rq->msg;
	const struct sip_hdr *cth = sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE);
	char from[GW_URI_MAX + 64], to[GW_URI_MAX + 2], ruri[GW_URI_MAX];
	char hdrs[GW_URI_MAX + 64], ctype[128], callid[48];
	char tag[SST_TAG_SIZE];
	struct gw_out_req out = {0};
	struct gw_fmsg *m;
	int err;

	if (msg->ruri.l >= sizeof(ruri) || msg->to.auri.l >= GW_URI_MAX) {
		gw_req_answer(rq, 414, "Request-URI Too Long", NULL);
		return;
	}
	(void)pl_strcpy(&msg->ruri, ruri, sizeof(ruri));
	re_snprintf(to, sizeof(to), "<%r>", &msg->to.auri);
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(from, sizeof(from), "<sip:%s>;tag=%s", rq->email, tag);
	re_snprintf(hdrs, sizeof(hdrs), "P-Asserted-Identity: <sip:%s>\r\n",
		    rq->email);
	re_snprintf(callid, sizeof(callid), "%08x%08x@stgateway",
		    rand_u32(), rand_u32());
	ctype[0] = '\0';
	if (cth && cth->val.l < sizeof(ctype))
		(void)pl_strcpy(&cth->val, ctype, sizeof(ctype));

	m = mem_zalloc(sizeof(*m), fmsg_destructor);
	if (!m) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}
	out.method = "MESSAGE";
	out.ruri = ruri;
	out.from = from;
	out.to = to;
	out.callid = callid;
	out.cseq = 1;
	out.hdrs = hdrs;
	out.ctype = ctype[0] ? ctype : NULL;
	out.body = mbuf_buf(msg->mb);
	out.blen = mbuf_get_left(msg->mb);
	err = fed_request(gw, &out, fmsg_resp, m, &m->ct);
	if (err) {
		mem_deref(m);
		gw->c.ext_refused++;
		gw->c.fed_no_connector++;
		gw_req_answer(rq, 503, "No connector available",
			      "Retry-After: 30\r\n");
		return;
	}
	gw->c.fed_msg_out++;
	m->rq = rq;
	list_append(&gw->forks, &m->le, m);
}

static void outbound_go(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	if (!pl_strcmp(&rq->msg->met, "SUBSCRIBE")) {
		gw_subscribe_external(rq);
		return;
	}
	if (!link_first_up(gw)) {
		gw->c.ext_refused++;
		gw->c.fed_no_connector++;
		gw_req_answer(rq, 503, "No connector available",
			      "Retry-After: 30\r\n");
		return;
	}
	fed_message(rq);
}

static void email_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	struct gw *gw = rq->gw;

	list_unlink(&rq->le);
	if (res->err == ENODATA || res->err == ENOENT ||
	    res->err == ENOTUNIQ || res->err == EINVAL) {
		noemail_note(gw, rq->user, res->reason && res->reason[0] ?
			     res->reason : dir_err_name(res->err));
		gw->c.ext_refused++;
		if (!pl_strcmp(&rq->msg->met, "SUBSCRIBE"))
			gw->c.sub_refused++;
		gw_req_answer(rq, 403, "No federation address for user",
			      NULL);
		return;
	}
	if (res->err || !res->value || strlen(res->value) > DIR_KEY_MAX) {
		gw->c.dir_unavailable++;
		gw_req_answer(rq, 503, "Directory Unavailable",
			      "Retry-After: 5\r\n");
		return;
	}
	str_ncpy(rq->email, res->value, sizeof(rq->email));
	gw_allow_check(rq, false, outbound_go);
}

void gw_fed_outbound(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	struct pl id;
	int err;

	if (!gw->self->convert_id) {
		/* IDs pass unchanged: the local AOR is the address */
		if (re_snprintf(rq->email, sizeof(rq->email), "%s@%r",
				rq->user, &rq->msg->from.uri.host) < 0) {
			gw_req_answer(rq, 400, "From too long", NULL);
			return;
		}
		gw_allow_check(rq, false, outbound_go);
		return;
	}
	pl_set_str(&id, rq->user);
	gw_req_park(rq);
	err = dir_email_of(gw->dir, &id, email_h, rq);
	if (err) {
		list_unlink(&rq->le);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
	}
}

/* ---- inbound: from a connector ---- */

static bool trusted(const struct gw *gw, const struct sa *src)
{
	const struct cfg_strv *t = &gw->cfg->connectivity.trusted_ips;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct sa sa;

		if (!sa_set_str(&sa, t->v[i], 0) &&
		    sa_cmp(&sa, src, SA_ADDR))
			return true;
	}
	return false;
}

bool gw_fed_is_fed(const struct gw *gw, const struct sst_flow *fl)
{
	struct le *le;

	if (!sa_isset(&fl->dst, SA_ADDR))
		return false;
	for (le = gw->lsnrs.head; le; le = le->next) {
		const struct gw_lsnr *l = le->data;

		if (l->tp == fl->tp && sa_cmp(&l->addr, &fl->dst, SA_ALL))
			return l->fed;
	}
	/* not on a listener: a connection this gateway opened, and it
	 * opens connections only to connectors */
	return fl->conn != NULL && !list_isempty(&gw->links);
}

static void privacy_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	struct gw *gw = rq->gw;
	char dom[CFG_DOMAIN_MAX + 1];

	list_unlink(&rq->le);
	if (rq->msg->from.uri.host.l > CFG_DOMAIN_MAX ||
	    pl_strcpy(&rq->msg->from.uri.host, dom, sizeof(dom)))
		dom[0] = '\0';
	if ((res->err && res->err != EBADMSG) || !dom[0] ||
	    !dir_privacy_allows(res, dom)) {
		static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);

		if (res->err && res->err != EBADMSG && res->err != ENOENT &&
		    res->err != ENODATA) {
			gw->c.dir_unavailable++;
			gw_req_answer(rq, 503, "Directory Unavailable",
				      "Retry-After: 5\r\n");
			return;
		}
		gw->c.fed_privacy++;
		gw->c.sub_refused++;
		dmn_log_rl(&rl, DMN_LOG_INFO, "gw: external watcher refused "
			   "user=%s watcher-domain=%s reason=privacy",
			   rq->target, dom);
		gw_req_answer(rq, 403, "Presence not shared with your "
			      "community", NULL);
		return;
	}
	gw_subscribe_fed(rq);
}

static void inbound_target(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	char target[GW_URI_MAX], sender[GW_URI_MAX];
	struct uri u = rq->msg->uri;
	struct pl id;
	int err;

	if (!pl_strcmp(&rq->msg->met, "SUBSCRIBE")) {
		pl_set_str(&id, rq->target);
		gw_req_park(rq);
		err = dir_privacy_of(gw->dir, &id, privacy_h, rq);
		if (err) {
			list_unlink(&rq->le);
			gw_req_answer(rq, 500, "Server Internal Error", NULL);
		}
		return;
	}
	pl_set_str(&u.user, rq->target);
	if (gw_aor_of(target, sizeof(target), &u) ||
	    gw_aor_of(sender, sizeof(sender), &rq->msg->from.uri)) {
		gw_req_answer(rq, 400, "Bad Request-URI or From", NULL);
		return;
	}
	gw->c.fed_msg_in++;
	gw_msg_deliver(rq, target, sender);
}

static void id_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	struct gw *gw = rq->gw;

	list_unlink(&rq->le);
	if (res->err == ENOENT || res->err == ENODATA ||
	    res->err == EINVAL) {
		if (!pl_strcmp(&rq->msg->met, "MESSAGE"))
			gw->c.msg_unknown++;
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	if (gw_req_ambiguous(rq, res, rq->entity))
		return;
	if (res->err || !res->value || strlen(res->value) > DIR_KEY_MAX) {
		gw->c.dir_unavailable++;
		gw_req_answer(rq, 503, "Directory Unavailable",
			      "Retry-After: 5\r\n");
		return;
	}
	str_ncpy(rq->target, res->value, sizeof(rq->target));
	gw_allow_check(rq, true, inbound_target);
}

static void exists_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;

	list_unlink(&rq->le);
	if (res->err == 0 || res->err == ENODATA) {
		gw_allow_check(rq, true, inbound_target);
		return;
	}
	if (res->err == ENOENT || res->err == EINVAL) {
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	if (gw_req_ambiguous(rq, res, rq->target))
		return;
	rq->gw->c.dir_unavailable++;
	gw_req_answer(rq, 503, "Directory Unavailable", "Retry-After: 5\r\n");
}

static void inbound(struct gw *gw, struct sip_msg *msg,
		    struct sst_strans *stx, struct sst_flow *fl)
{
	struct gw_req *rq = NULL;
	const struct uri *u = &msg->uri;
	char email[DIR_KEY_MAX + 1];
	struct pl key;
	int err;

	if (!gw_domain_is_local(gw, &u->host)) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 404, .reason = "Not a local domain"});
		return;
	}
	if (!u->user.l || u->user.l + 1 + u->host.l > DIR_KEY_MAX) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 404, .reason = "Not Found"});
		return;
	}
	err = gw_req_alloc(&rq, gw, msg, stx, fl);
	if (err) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 503, .reason = "Service Unavailable",
			.hdrs = "Retry-After: 5\r\n"});
		return;
	}
	rq->fed = true;
	if (!pl_strcmp(&msg->met, "MESSAGE"))
		gw->c.msg_in++;

	if (!gw->self->convert_id) {
		(void)pl_strcpy(&u->user, rq->target, sizeof(rq->target));
		rq->entity[0] = '\0';
		gw_req_park(rq);
		/* the target must exist; dir_email_of answers for any user
		 * (ENODATA: exists without email) */
		pl_set_str(&key, rq->target);
		err = dir_email_of(gw->dir, &key, exists_h, rq);
		if (err) {
			list_unlink(&rq->le);
			gw_req_answer(rq, 500, "Server Internal Error", NULL);
		}
		return;
	}

	re_snprintf(email, sizeof(email), "%r@%r", &u->user, &u->host);
	if (gw_aor_of(rq->entity, sizeof(rq->entity), u)) {
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	pl_set_str(&key, email);
	gw_req_park(rq);
	err = dir_id_of(gw->dir, &key, id_h, rq);
	if (err) {
		list_unlink(&rq->le);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
	}
}

static bool event_presence(const struct sip_msg *msg)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_EVENT);
	struct pl ev;

	if (!h || re_regex(h->val.p, h->val.l, "[^; \t]+", &ev))
		return false;
	return !pl_strcasecmp(&ev, "presence");
}

void gw_fed_recv(struct gw *gw, struct sip_msg *msg,
		 struct sst_strans *stx, struct sst_flow *fl)
{
	const struct pl *met = &msg->met;

	gw->c.fed_in++;
	if (!trusted(gw, &fl->src)) {
		static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
		char a[GW_ADDR_MAX];

		gw->c.fed_untrusted++;
		re_snprintf(a, sizeof(a), "%j", &fl->src);
		dmn_log_rl(&rl, DMN_LOG_WARN, "gw: untrusted connector "
			   "source=%s method=%.*s", a, (int)met->l, met->p);
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 403, .reason = "Untrusted connector address"});
		return;
	}
	sst_conn_trust(fl->conn);	/* a trusted connector's: kept */
	if (!pl_strcmp(met, "OPTIONS")) {
		(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
			.scode = 200, .reason = "OK"});
		return;
	}
	if (!pl_strcmp(met, "NOTIFY")) {
		fed_notify(gw, msg, stx, fl);
		return;
	}
	if (!pl_strcmp(met, "SUBSCRIBE")) {
		if (!event_presence(msg)) {
			(void)gw_out_reply(stx, msg, fl,
				&(const struct gw_out_reply){
				.scode = 489, .reason = "Bad Event",
				.hdrs = "Allow-Events: presence\r\n"});
			return;
		}
		if (pl_isset(&msg->to.tag)) {
			if (!gw_subscribe_indialog(gw, msg, stx, fl))
				(void)gw_out_reply(stx, msg, fl,
					&(const struct gw_out_reply){
					.scode = 481, .reason =
					"Subscription does not exist"});
			return;
		}
		inbound(gw, msg, stx, fl);
		return;
	}
	if (!pl_strcmp(met, "MESSAGE")) {
		inbound(gw, msg, stx, fl);
		return;
	}
	(void)gw_out_reply(stx, msg, fl, &(const struct gw_out_reply){
		.scode = 405, .reason = "Method Not Allowed",
		.hdrs = "Allow: SUBSCRIBE, NOTIFY, MESSAGE, OPTIONS\r\n"});
}

/* ---- reset ---- */

static void fsubs_reset(struct gw *gw, struct re_printf *pf)
{
	struct le *le;

	for (le = gw->fsubs.head; le; le = le->next) {
		struct gw_fsub *fs = le->data;

		if (fs->ending || fs->state != FS_IDLE || !fs->fails ||
		    fs->rejected)
			continue;
		(void)re_hprintf(pf, "presentity %s: retrying now (was %s "
				 "after %s)\n", fs->aor, fs->refused ?
				 "refused" : "transient", fs->last_answer);
		fs->fails = 0;
		fs->refused = false;
		fs->retry_at = 0;
	}
	gw_fed_tick(gw, gw_now());
}

int gw_fed_reset(struct gw *gw, const char *name, struct re_printf *pf)
{
	const uint64_t now = gw_now();
	unsigned n = 0;
	struct le *le;

	for (le = gw->links.head; le; le = le->next) {
		struct gw_link *l = le->data;

		if (name && str_casecmp(l->name, name))
			continue;
		n++;
		l->down_probes = 0;
		if (l->state == LINK_UP) {
			(void)re_hprintf(pf, "connector %s: up\n", l->name);
			continue;
		}
		l->next_probe = now;
		if (!l->ct)
			link_probe(l);
		(void)re_hprintf(pf, "connector %s: probing now\n", l->name);
	}
	if (name && !n) {
		(void)re_hprintf(pf, "error: reset: no connector link named "
				 "%s\n", name);
		return ENOENT;
	}
	fsubs_reset(gw, pf);
	return 0;
}

/* ---- status ---- */

enum watcher_state { WS_ACTIVE, WS_PENDING, WS_REJECTED, WS_RETRYING };

/* A per-watcher subscription as the administrator asks about it:
 * approved (active), waiting for the contact or a link (pending), bob
 * refused (rejected), or failed and waiting out a backoff (retrying). */
static enum watcher_state fsub_watcher_state(const struct gw_fsub *fs)
{
	if (fs->rejected)
		return WS_REJECTED;
	if (fs->state == FS_ACTIVE && fs->approved)
		return WS_ACTIVE;
	if (fs->state == FS_IDLE && fs->fails)
		return WS_RETRYING;
	return WS_PENDING;
}

static const char *ws_name(enum watcher_state w)
{
	switch (w) {
	case WS_ACTIVE:   return "active";
	case WS_REJECTED: return "rejected";
	case WS_RETRYING: return "retrying";
	default:          return "pending";
	}
}

/* Is fs the first live per-watcher subscription to its presentity (so
 * that a presentity is counted once, however many watch it). */
static bool fsub_first_of(const struct gw *gw, const struct gw_fsub *fs)
{
	struct le *le;

	for (le = gw->fsubs.head; le && le->data != fs; le = le->next) {
		const struct gw_fsub *x = le->data;

		if (!x->ending && x->watcher[0] && !strcmp(x->aor, fs->aor))
			return false;
	}
	return true;
}

static const char *community_of(const struct gw *gw, const char *aor)
{
	const char *at = strrchr(aor, '@');
	const struct cfg_extern *x = at ? cfg_extern_find(gw->cfg, at + 1) :
		NULL;

	return x && x->name ? x->name : "unknown";
}

void gw_fed_status_build(struct dmn_st *root, struct gw *gw)
{
	const uint64_t now = gw_now();
	struct dmn_st *s, *l, *it;
	struct le *le;
	size_t i;

	s = dmn_st_section(root, "federation");
	dmn_st_int(s, "keepalive_s", keepalive_s(gw));
	dmn_st_int(s, "retry_interval_s", retry_s(gw));
	l = dmn_st_list(s, "connector_links");
	for (le = gw->links.head; le; le = le->next) {
		const struct gw_link *k = le->data;
		char a[GW_ADDR_MAX];

		it = dmn_st_item(l);
		re_snprintf(a, sizeof(a), "%J", &k->addr);
		dmn_st_str(it, "name", k->name);
		dmn_st_str(it, "transport", sst_tp_name(k->tp));
		dmn_st_str(it, "address", a);
		dmn_st_str(it, "state", link_state_name(k->state));
		dmn_st_dur(it, "next_probe_in", k->next_probe > now ?
			   (k->next_probe - now) * 1000 : 0);
		dmn_st_int(it, "requests_out", (int64_t)k->reqs_out);
		dmn_st_int(it, "failures", (int64_t)k->failures);
		dmn_st_int(it, "failures_beyond",
			   (int64_t)k->beyond_failures);
		dmn_st_str(it, "last_error", k->last_error);
	}
	dmn_st_int(s, "requests_in", (int64_t)gw->c.fed_in);
	dmn_st_int(s, "untrusted_refused", (int64_t)gw->c.fed_untrusted);
	dmn_st_int(s, "messages_out", (int64_t)gw->c.fed_msg_out);
	dmn_st_int(s, "messages_in", (int64_t)gw->c.fed_msg_in);
	dmn_st_int(s, "no_connector", (int64_t)gw->c.fed_no_connector);
	dmn_st_int(s, "no_email_refused", (int64_t)gw->c.fed_no_email);
	dmn_st_int(s, "privacy_refused", (int64_t)gw->c.fed_privacy);
	dmn_st_int(s, "subscribes_out", (int64_t)gw->c.fed_sub_out);
	dmn_st_int(s, "notifies_in", (int64_t)gw->c.fed_notify_in);
	dmn_st_int(s, "external_watchers", gw_pres_ext_watchers(gw));

	/* per external community: its protocol, presentities watched,
	 * local watchers; XMPP: the per-watcher subscriptions by state */
	l = dmn_st_list(s, "external_communities");
	for (i = 0; i < gw->cfg->nexterns; i++) {
		const struct cfg_extern *x = &gw->cfg->externs[i];
		const char *name = x->name;
		unsigned np = 0, nw = 0, na = 0, npe = 0, nr = 0, nt = 0;

		for (le = gw->fsubs.head; le; le = le->next) {
			const struct gw_fsub *fs = le->data;

			if (fs->ending || strcmp(community_of(gw, fs->aor),
						 name ? name : ""))
				continue;
			if (!fs->watcher[0]) {
				np++;
				nw += gw_pres_watchers(gw, fs->aor);
				continue;
			}
			if (fsub_first_of(gw, fs))
				np++;
			nw += gw_pres_watching(gw, fs->watcher, fs->aor);
			switch (fsub_watcher_state(fs)) {
			case WS_ACTIVE:   na++;  break;
			case WS_PENDING:  npe++; break;
			case WS_REJECTED: nr++;  break;
			default:          nt++;  break;
			}
		}
		it = dmn_st_item(l);
		dmn_st_str(it, "name", name ? name : "-");
		dmn_st_str(it, "protocol", x->protocol == CFG_PROTO_XMPP ?
			   "xmpp" : "sip");
		dmn_st_str(it, "subscriptions", x->protocol ==
			   CFG_PROTO_XMPP ? "per-watcher" : "shared");
		dmn_st_int(it, "presentities", np);
		dmn_st_int(it, "local_watchers", nw);
		if (x->protocol == CFG_PROTO_XMPP) {
			struct dmn_st *ws = dmn_st_section(it,
						"watcher_subscriptions");

			dmn_st_int(ws, "active", na);
			dmn_st_int(ws, "pending", npe);
			dmn_st_int(ws, "rejected", nr);
			dmn_st_int(ws, "retrying", nt);
		}
	}
	l = dmn_st_list(s, "presentities");
	for (le = gw->fsubs.head; le; le = le->next) {
		const struct gw_fsub *fs = le->data;

		it = dmn_st_item(l);
		dmn_st_str(it, "presentity", fs->aor);
		dmn_st_str(it, "community", community_of(gw, fs->aor));
		if (fs->watcher[0]) {
			dmn_st_str(it, "watcher", fs->watcher);
			dmn_st_str(it, "from", fs->from);
			dmn_st_str(it, "approval", ws_name(
					   fsub_watcher_state(fs)));
		}
		dmn_st_str(it, "state", fs->ending ? "unsubscribing" :
			   fsub_state_name(fs->state));
		dmn_st_str(it, "status", sst_status_name(fs->st));
		dmn_st_int(it, "local_watchers", gw_pres_watchers(gw, fs->aor));
		dmn_st_int(it, "subscribes", fs->subscribes);
		dmn_st_str(it, "last_error", fs->last_error);
		dmn_st_str(it, "last_answer", fs->last_answer);
		if (fs->rejected) {
			dmn_st_str(it, "retry", "only on a new dialog of the "
				   "watcher");
		}
		else if (fs->state == FS_IDLE && !fs->ending && fs->fails) {
			dmn_st_str(it, "retry", fs->refused ? "refused" :
				   "transient");
			dmn_st_int(it, "failures_in_a_row", fs->fails);
			dmn_st_dur(it, "next_attempt_in", fs->retry_at > now ?
				   (fs->retry_at - now) * 1000 : 0);
		}
	}
	l = dmn_st_list(s, "cannot_federate");
	for (le = gw->noemail.head; le; le = le->next) {
		const struct gw_noemail *ne = le->data;

		it = dmn_st_item(l);
		dmn_st_str(it, "user", ne->user);
		dmn_st_str(it, "reason", ne->reason);
		dmn_st_int(it, "refusals", (int64_t)ne->refusals);
	}
	gw_allow_status(s, l, gw);
}
