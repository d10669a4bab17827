/*
 * cn_xmpp.c -- the connector's XMPP server-to-server streams; see
 * cn_xmpp.h.
 *
 * One listener on the connector's ip:xmppPort (when an enabled
 * ExternCommunity speaks XMPP), inbound streams accepted there, and one
 * outbound stream per (our domain, peer domain) opened when the first
 * stanza for it is sent.  Each stream is an xmpp_s2s state machine
 * (xmpp/xmpp.h) over a libre TCP connection; STARTTLS puts sipstack's
 * GnuTLS session (sst_tls) on the same connection.
 *
 * Who a peer is:
 *   - outbound: the peer domain's servers come from the connector's
 *     resolver (cn_resolve.h: the community's Proxy, else SRV
 *     _xmpp-server._tcp, else the domain's A/AAAA), the certificate
 *     must name the domain (verify="required" in Tls), and the peer
 *     accepts us by SASL EXTERNAL (XEP-0178: it offers EXTERNAL after
 *     TLS and takes our certificate for our domain; auth
 *     "sasl-external") or else by our Server Dialback key (XEP-0220;
 *     it asks our listener, the authoritative server, with db:verify;
 *     auth "dialback").  An EXTERNAL the peer refuses is counted
 *     (sasl_fallbacks) and a new stream uses dialback;
 *   - inbound: a peer claims a domain with SASL EXTERNAL (offered,
 *     with dialback, when its certificate is valid for the domain of
 *     its stream header; auth "sasl-external") or with db:result
 *     (auth "dialback+cert").  Either way it is accepted when the
 *     domain is an enabled XMPP community's, the connecting address is
 *     among that community's trust set (the addresses of its SRV
 *     targets, or its Proxy's, or its own A/AAAA) -- else refused and
 *     counted as untrusted-ip like a SIP request -- and its TLS
 *     certificate is valid for the domain.  A peer without such a
 *     certificate is refused (tls-failure): the connector holds XMPP
 *     communities to certificates and addresses both, and does not
 *     fall back to asking the peer's own server (plain dialback),
 *     which proves only DNS.  An EXTERNAL refused is answered with the
 *     RFC 6120 condition and counted (sasl_refused).  The first
 *     claim accepted binds the stream to its community for good: a
 *     later one of another community's domain is refused and counted
 *     there (other_community), so the stream's link, stanzas and end
 *     stay the first community's.
 *
 * The dialback secret is random per process: keys made before a restart
 * are unknown to the restarted connector, whose streams are new anyway.
 *
 * Timers (one tick a second): a stanza waits at most CN_XMPP_WAIT_MS
 * for its stream (then ETIMEDOUT); a stream quiet for CN_XMPP_KA_S gets
 * a whitespace keep-alive, one that heard nothing for xmppIdleTimeout is
 * closed (connection-timeout), and so is one not authenticated
 * CN_XMPP_AUTH_MS after it began, whatever it sent; a failed outbound
 * attempt is not retried
 * for a backoff that doubles from 1 s to CN_XMPP_BACKOFF_MAX_S, and a
 * stanza sent meanwhile fails at once with the last error.
 *
 * A stream we close for quiet takes no presence with it: the link stays
 * up (nobody's presence became untrue because nothing was said), and
 * the next stanza either way opens a new stream.  Only when that fails,
 * or a stream ends for any other reason, does the link go down and
 * every contact learned over it read Offline.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "sipstack/sst_tls.h"
#include "xmpp/xmpp.h"
#include "connector/cn.h"
#include "sipstack/sst_dns.h"
#include "connector/cn_px.h"
#include "connector/cn_resolve.h"
#include "connector/cn_xmpp.h"
#include "connector/cn_xmpp_map.h"

enum {
	CN_XMPP_WAIT_MS       = 10000,
	CN_XMPP_KA_S          = 60,
	CN_XMPP_BACKOFF_MAX_S = 60,
	CN_XMPP_QUEUE_MAX     = 256,   /* stanzas waiting per community */
	CN_XMPP_STREAMS_MAX   = 256,   /* streams at once */
	CN_XMPP_UNAUTH_IN_MAX = 64,    /* of them inbound, not yet
					* authenticated */
	CN_XMPP_UNAUTH_PER_IP = 8,     /* of those, from one address */
	CN_XMPP_AUTH_MS       = 20000, /* to authenticate, from the start */
	CN_XMPP_NAME_MAX      = 256,
	CN_XMPP_BATCH_MAX     = 65536, /* bytes of stanzas in one write */
};

struct cn_xmpp;

/* Per community: what status shows, and the stanzas waiting. */
struct xcomm {
	struct le le;
	struct le he;                   /* in cn_xmpp.commh, by name */
	char name[CN_ADDR_MAX];
	bool up;
	bool quiet;                     /* up with no stream: closed for
					 * quiet, not for a fault */
	uint64_t quiet_closes;
	uint64_t quiet_rechecks;        /* presence asked again after */
	struct list queue;              /* struct xitem */
	uint64_t retry_at;              /* ms: no outbound attempt before */
	unsigned backoff_s;
	int last_err;
	char last_error[CN_TEXT_MAX];
	uint64_t stanzas_in, stanzas_out, untrusted, tls_refused;
	uint64_t errs[XMPP_SERR_MAX];
	uint64_t sasl_refused[XMPP_SASL_MAX]; /* <failure/> we sent */
	uint64_t sasl_fallbacks;        /* out: EXTERNAL failed, dialback */
	uint64_t other_claims;          /* its domain claimed on a stream
					 * of another community, refused */
};

struct xitem {
	struct le le;
	struct xmpp_el *el;
	char remote[CN_XMPP_NAME_MAX];
	char local[CN_XMPP_NAME_MAX];
	cn_xmpp_sent_h *senth;
	void *arg;
	uint64_t deadline;
	int err;                        /* set when failed, told later */
};

struct xstream {
	struct le le;
	struct cn_xmpp *x;
	enum xmpp_s2s_dir dir;
	struct tcp_conn *tc;
	struct sst_tls *tls;
	struct xmpp_s2s *s;
	struct cn_resolve_req *rreq;
	const struct cn_route *route;   /* out: the hops to try, in order */
	size_t hop;                     /* out: the one tried now */
	char comm[CN_ADDR_MAX];         /* "" until known (inbound) */
	struct xcomm *xc;               /* comm's record, NULL until then */
	char local[CN_XMPP_NAME_MAX];
	char remote[CN_XMPP_NAME_MAX];  /* inbound: the domain authed */
	struct sa peer;
	char peerstr[CN_ADDR_MAX];      /* "ip:port", for logs and status */
	char peerip[CN_ADDR_MAX];       /* "ip", for refusals' counts */
	char pending[CN_XMPP_NAME_MAX]; /* authentication waiting on DNS */
	bool pending_sasl;              /* it is SASL EXTERNAL's */
	bool estab, tls_told, authed;
	bool no_ext;                    /* out: dialback, EXTERNAL failed */
	bool ext_failed;                /* out: this stream's EXTERNAL */
	bool quiet_close;               /* we close it: it was quiet */
	enum xmpp_serr close_err;       /* how the stream ended */
	bool close_by_peer;
	char auth[24];
	char verdict[24];
	uint64_t in, out;
	uint64_t last_rx, last_tx;      /* ms */
	uint64_t created;               /* ms */
	time_t since;
};

struct cn_xmpp {
	struct cn_px *px;
	struct cn_xmpp_handlers h;
	struct tcp_sock *ts;
	struct sa laddr;
	char lstr[CN_ADDR_MAX];
	struct list streams;
	struct list comms;              /* struct xcomm, for status */
	struct hash *commh;             /* the same, by name */
	struct list done;               /* struct xitem to tell */
	struct tmr tick, tell;
	char secret[65];
	bool listening;
	uint64_t auth_timeouts;         /* closed: not authenticated in
					 * CN_XMPP_AUTH_MS */
	uint64_t unauth_refused;        /* connections refused: already
					 * CN_XMPP_UNAUTH_PER_IP from
					 * their address */
	uint64_t unauth_evicted;        /* the oldest not authenticated,
					 * closed for a new one at
					 * CN_XMPP_UNAUTH_IN_MAX */
};

static uint64_t now_ms(void)
{
	return tmr_jiffies();
}

static const struct cfg *cfg_of(const struct cn_xmpp *x)
{
	return x->px->cn->cfg;
}

/* An enabled XMPP community of this connector, by name. */
static const struct cfg_extern *xmpp_extern(const struct cn_xmpp *x,
					    const char *name)
{
	const struct cfg_extern *ex = px_extern(x->px, name);
	const struct cfg_supported *sup;

	if (!ex || ex->protocol != CFG_PROTO_XMPP)
		return NULL;
	sup = cfg_supported_find(x->px->cn->self, ex->name);
	return sup && sup->enabled ? ex : NULL;
}

/* The enabled XMPP community a domain belongs to. */
static const struct cfg_extern *xmpp_extern_of(const struct cn_xmpp *x,
					       const char *domain)
{
	const struct cfg_extern *ex = cfg_extern_find(cfg_of(x), domain);

	return ex ? xmpp_extern(x, ex->name) : NULL;
}

static bool comm_name_eq(struct le *le, void *arg)
{
	const struct xcomm *c = le->data;

	return 0 == strcmp(c->name, arg);
}

static void comm_destructor(void *arg)
{
	struct xcomm *c = arg;

	hash_unlink(&c->he);
	list_unlink(&c->le);
}

/* A community's record by name, made when first asked for: records live
 * as long as the connector's XMPP edge, so streams keep a pointer. */
static struct xcomm *comm_get(struct cn_xmpp *x, const char *name)
{
	const uint32_t key = hash_joaat_str(name);
	struct xcomm *c;
	struct le *le;

	le = hash_lookup(x->commh, key, comm_name_eq, (void *)name);
	if (le)
		return le->data;
	c = mem_zalloc(sizeof(*c), comm_destructor);
	if (!c)
		return NULL;
	str_ncpy(c->name, name, sizeof(c->name));
	list_append(&x->comms, &c->le, c);
	hash_append(x->commh, key, &c->he, c);
	return c;
}

/* The stream is now a community's. */
static void stream_comm(struct xstream *st, const char *name)
{
	str_ncpy(st->comm, name, sizeof(st->comm));
	st->xc = comm_get(st->x, name);
}

/* ---- telling stanzas' fates, always from the loop ---- */

static void tell_h(void *arg)
{
	struct cn_xmpp *x = arg;
	struct le *le;

	while ((le = list_head(&x->done))) {
		struct xitem *it = le->data;

		list_unlink(&it->le);
		if (it->senth)
			it->senth(it->err, it->arg);
		mem_deref(it);
	}
}

static void item_done(struct cn_xmpp *x, struct xitem *it, int err)
{
	list_unlink(&it->le);
	it->err = err;
	list_append(&x->done, &it->le, it);
	tmr_start(&x->tell, 0, tell_h, x);
}

static void item_destructor(void *arg)
{
	struct xitem *it = arg;

	list_unlink(&it->le);
	mem_deref(it->el);
}

static void queue_fail(struct cn_xmpp *x, struct xcomm *c,
		       const char *remote, int err)
{
	struct le *le = list_head(&c->queue);

	while (le) {
		struct xitem *it = le->data;

		le = le->next;
		if (!remote || !str_casecmp(it->remote, remote))
			item_done(x, it, err);
	}
}

/* ---- the community's link, as status and the translation see it ---- */

static bool comm_has_stream(const struct cn_xmpp *x,
			    const struct xcomm *c, const struct xstream *but)
{
	struct le *le;

	LIST_FOREACH(&x->streams, le) {
		const struct xstream *st = le->data;

		if (st != but && st->authed && st->xc == c)
			return true;
	}
	return false;
}

static void link_update(struct cn_xmpp *x, struct xcomm *c,
			const struct xstream *gone, const char *why)
{
	bool up;

	if (!c)
		return;
	up = comm_has_stream(x, c, gone) || c->quiet;
	if (c->up == up)
		return;
	c->up = up;
	if (up)
		(void)cn_link_set(x->px->cn, c->name, CN_LINK_UP, 0, "%s", "");
	else
		(void)cn_link_set(x->px->cn, c->name, CN_LINK_DOWN, 0, "%s",
				  why ? why : "streams closed");
	dmn_log(DMN_LOG_INFO, "cn: xmpp link community=%s state=%s",
		c->name, up ? "up" : "down");
	if (x->h.link)
		x->h.link(c->name, up, x->h.arg);
}

/* ---- one stream ---- */

/* Who the stream is connected to, written once for all its logs,
 * counts and status. */
static void stream_peer(struct xstream *st, const struct sa *peer)
{
	st->peer = *peer;
	re_snprintf(st->peerstr, sizeof(st->peerstr), "%J", peer);
	re_snprintf(st->peerip, sizeof(st->peerip), "%j", peer);
}

static void stream_destructor(void *arg)
{
	struct xstream *st = arg;

	list_unlink(&st->le);
	st->rreq = mem_deref(st->rreq);
	st->route = mem_deref((void *)st->route);
	st->s = mem_deref(st->s);
	st->tls = mem_deref(st->tls);
	st->tc = mem_deref(st->tc);
}

/* The stream is over: its stanzas waiting fail, the link may go down. */
static void stream_end(struct xstream *st, int err, const char *why)
{
	struct cn_xmpp *x = st->x;
	struct xcomm *c = st->xc;

	if (c && st->dir == XMPP_S2S_OUT) {
		if (!st->quiet_close) {	/* a quiet close is no error */
			c->last_err = err;
			re_snprintf(c->last_error, sizeof(c->last_error),
				    "%s %s: %s", st->remote, "outbound", why);
		}
		if (!st->authed) {
			c->backoff_s = c->backoff_s ? min(c->backoff_s * 2,
				(unsigned)CN_XMPP_BACKOFF_MAX_S) : 1;
			c->retry_at = now_ms() + c->backoff_s * 1000ULL;
		}
		queue_fail(x, c, st->remote, err);
	}
	/* quiet ends with the first fault: the partner may be gone */
	if (c && c->quiet && (st->authed || st->dir == XMPP_S2S_OUT) &&
	    !st->quiet_close) {
		c->quiet = false;
		if (!st->authed)
			link_update(x, c, st, why);
	}
	dmn_log(DMN_LOG_INFO, "cn: xmpp stream %s community=%s peer=%s "
		"domain=%s closed reason=%s",
		st->dir == XMPP_S2S_OUT ? "out" : "in",
		st->comm[0] ? st->comm : "-", st->peerstr,
		st->remote[0] ? st->remote : "-", why);
	list_unlink(&st->le);
	if (st->authed)
		link_update(x, c, st, why);
	mem_deref(st);
}

static int send_h(const char *p, size_t len, void *arg)
{
	struct xstream *st = arg;
	struct mbuf mb;

	if (!st->tc)
		return ENOTCONN;
	mb.buf = (uint8_t *)p;
	mb.size = mb.end = len;
	mb.pos = 0;
	st->last_tx = now_ms();
	return tcp_send(st->tc, &mb);
}

/*
 * The stanzas waiting for this stream go out: each encoded once, into
 * one buffer, and the buffer written in one go (a new write only past
 * CN_XMPP_BATCH_MAX bytes).
 */
static void flush_queue(struct xstream *st)
{
	struct cn_xmpp *x = st->x;
	struct xcomm *c = st->xc;
	struct list batch = LIST_INIT;
	struct mbuf *mb;
	struct le *le;
	int err = 0;

	if (!c)
		return;
	mb = mbuf_alloc(1024);
	le = list_head(&c->queue);
	while (le || !list_isempty(&batch)) {
		struct xitem *it = le ? le->data : NULL;
		size_t at;

		if (it) {
			le = le->next;
			if (str_casecmp(it->remote, st->remote) ||
			    str_casecmp(it->local, st->local))
				continue;
			at = mb ? mb->end : 0;
			if (!mb || xmpp_el_encode(mb, it->el, XMPP_NS_SERVER)) {
				if (mb)
					mb->end = mb->pos = at;
				item_done(x, it, EPIPE);
				continue;
			}
			list_unlink(&it->le);
			list_append(&batch, &it->le, it);
			if (le && mb->end < CN_XMPP_BATCH_MAX)
				continue;
		}
		/* write what is encoded, then tell each stanza */
		err = err ? err : xmpp_s2s_send_encoded(st->s, mb);
		while (!list_isempty(&batch)) {
			struct xitem *bt = list_head(&batch)->data;

			if (!err) {
				++st->out;
				++c->stanzas_out;
				cn_count_out(x->px->cn, st->comm);
			}
			item_done(x, bt, err ? EPIPE : 0);
		}
		mbuf_rewind(mb);
	}
	mem_deref(mb);
}

/* A TLS peer's certificate verdict, in status's words. */
static void tls_verdict(struct xstream *st)
{
	struct sst_tls_peer p;

	if (st->tls && !sst_tls_peer(st->tls, &p))
		str_ncpy(st->verdict, sst_tls_verdict_name(p.verdict),
			 sizeof(st->verdict));
}

static void inbound_auth(struct xstream *st, const char *domain,
			 bool sasl);
static bool stream_closed(const struct xstream *st);
static void stream_end(struct xstream *st, int err, const char *why);

/* The trust set an inbound authentication waited for is resolved:
 * decide now. */
static void trust_h(int err, const struct cn_route *route, void *arg)
{
	struct xstream *st = arg;
	char domain[CN_XMPP_NAME_MAX];

	(void)err;
	(void)route;
	st->rreq = mem_deref(st->rreq);
	str_ncpy(domain, st->pending, sizeof(domain));
	inbound_auth(st, domain, st->pending_sasl);
	st->pending[0] = '\0';
	if (stream_closed(st))
		stream_end(st, EPERM, "refused");
}

/* Whether the peer's certificate is valid and names domain. */
static bool cert_names(struct xstream *st, const char *domain)
{
	struct sst_tls_peer tp;

	tls_verdict(st);
	return st->tls && !sst_tls_peer(st->tls, &tp) &&
		tp.verdict == SST_TLS_VALID &&
		sst_tls_peer_matches(st->tls, domain);
}

enum verdict {
	V_OK,
	V_PENDING,      /* decided when the trust set is resolved */
	V_UNKNOWN,      /* not an enabled XMPP community's domain */
	V_NO_TRUST_SET, /* its addresses cannot be had */
	V_UNTRUSTED,    /* not from an address of the domain */
	V_NO_CERT,      /* no valid certificate for the domain */
	V_OTHER,        /* another community's, on an authenticated
			 * stream (other_community) */
};

/*
 * An inbound peer claims a domain (db:result or SASL EXTERNAL): the
 * same checks and the same counts for both -- the domain is an enabled
 * XMPP community's, the peer connects from an address of it, and its
 * certificate is valid for it.
 */
static enum verdict inbound_check(struct xstream *st, const char *domain,
				  bool sasl)
{
	struct cn_xmpp *x = st->x;
	const struct cfg_extern *ex = xmpp_extern_of(x, domain);
	struct cn_addrset set = {NULL, 0};
	const char *src = st->peerip;
	struct xcomm *c;
	bool trusted = false;
	size_t i;
	int err;

	if (!ex) {
		cn_count_reject(x->px->cn, NULL, CN_R_UNKNOWN_COMMUNITY, src,
				"xmpp domain=%s", domain);
		return V_UNKNOWN;
	}
	/* an authenticated stream stays its community's (other_community
	 * refused the claims of others'): counts go to the one claimed */
	if (!st->authed)
		stream_comm(st, ex->name);
	c = comm_get(x, ex->name);

	err = cn_resolve_trust(x->px->res, ex, domain, &set);
	if (err == EAGAIN && !st->rreq && !st->pending[0]) {
		/* no fresh trust set: decide once it is resolved */
		str_ncpy(st->pending, domain, sizeof(st->pending));
		st->pending_sasl = sasl;
		if (!cn_resolve_lookup(&st->rreq, x->px->res, ex, domain,
				       trust_h, st))
			return V_PENDING;
		st->pending[0] = '\0';
	}
	if (err == EAGAIN || (!set.n && cn_resolve_temporary(err))) {
		/* no answer to check against: a temporary refusal (the
		 * peer retries), never policy-violation */
		cn_count_reject(x->px->cn, ex->name, CN_R_DNS_FAILURE, src,
				"xmpp domain=%s", domain);
		return V_NO_TRUST_SET;
	}
	for (i = 0; !err && i < set.n; i++) {
		if (cn_addr_equal((const struct sockaddr *)&set.v[i],
				  &st->peer.u.sa))
			trusted = true;
	}
	if (!trusted) {
		if (c)
			++c->untrusted;
		cn_count_reject(x->px->cn, ex->name, CN_R_UNTRUSTED_IP, src,
				"xmpp domain=%s", domain);
		return V_UNTRUSTED;
	}
	if (!cert_names(st, domain)) {
		/* a valid chain for another name is named so */
		const bool other = !strcmp(st->verdict,
			sst_tls_verdict_name(SST_TLS_VALID));

		if (c)
			++c->tls_refused;
		cn_count_reject(x->px->cn, ex->name, CN_R_TLS_FAILURE, src,
				"xmpp domain=%s certificate=%s", domain,
				other ? sst_tls_verdict_name(
					SST_TLS_NAME_MISMATCH) :
				st->verdict[0] ?
				st->verdict : "none");
		return V_NO_CERT;
	}
	return V_OK;
}

/*
 * A claim on a stream already authenticated for a community, of a
 * domain of another one: one stream is one community's (its link, its
 * stanzas, its contacts' presence), so the claim is refused -- counted
 * for the community claimed, found here, never by rebinding the
 * stream -- and the stream stays what it was.  A server that is both
 * domains' opens a stream for each.
 */
static bool other_community(struct xstream *st, const char *domain)
{
	struct cn_xmpp *x = st->x;
	const struct cfg_extern *ex;
	struct xcomm *c;

	if (!st->authed || !st->xc)
		return false;
	ex = xmpp_extern_of(x, domain);
	if (!ex || !strcmp(ex->name, st->comm))
		return false;
	c = comm_get(x, ex->name);
	if (c)
		++c->other_claims;
	dmn_log(DMN_LOG_INFO, "cn: xmpp stream in community=%s peer=%s "
		"domain=%s refused reason=other-community claimed=%s",
		st->comm, st->peerstr, domain, ex->name);
	return true;
}

/* Inbound db:result or SASL EXTERNAL <auth/>: is this peer that
 * domain?  Answered with the mechanism's own words; a peer from the
 * wrong address or without the certificate loses the stream too. */
static void inbound_auth(struct xstream *st, const char *domain,
			 bool sasl)
{
	const enum verdict v = other_community(st, domain) ? V_OTHER :
		inbound_check(st, domain, sasl);
	enum xmpp_serr close = XMPP_SERR_NONE;

	switch (v) {
	case V_PENDING:
		return;
	case V_OK:
		str_ncpy(st->remote, domain, sizeof(st->remote));
		str_ncpy(st->auth, sasl ? "sasl-external" : "dialback+cert",
			 sizeof(st->auth));
		break;
	case V_UNKNOWN:
	case V_OTHER:
		break;
	case V_NO_TRUST_SET:
		close = XMPP_SERR_REMOTE_CONNECTION_FAILED;
		break;
	case V_UNTRUSTED:
		close = XMPP_SERR_POLICY_VIOLATION;
		break;
	case V_NO_CERT:
		close = XMPP_SERR_NOT_AUTHORIZED;
		break;
	}
	if (sasl)
		(void)xmpp_s2s_sasl_answer(st->s, v == V_OK ? XMPP_SASL_OK :
			v == V_NO_TRUST_SET ? XMPP_SASL_TEMPORARY_AUTH_FAILURE :
			XMPP_SASL_NOT_AUTHORIZED);
	else
		(void)xmpp_s2s_db_answer(st->s, domain, v == V_OK);
	if (close)
		xmpp_s2s_close(st->s, close);
}

static void ev_h(enum xmpp_s2s_ev ev, const struct xmpp_s2s_evinfo *info,
		 void *arg)
{
	struct xstream *st = arg;
	struct cn_xmpp *x = st->x;
	struct xcomm *c;
	int err;

	switch (ev) {
	case XMPP_S2S_EV_TLS:
		err = sst_tls_start(&st->tls, x->px->tls, st->tc,
				    st->dir == XMPP_S2S_IN,
				    st->dir == XMPP_S2S_OUT ? st->remote :
				    NULL);
		if (!err && st->dir == XMPP_S2S_OUT)
			err = sst_tls_begin(st->tls);
		if (err)
			xmpp_s2s_close(st->s, XMPP_SERR_INTERNAL_SERVER_ERROR);
		break;
	case XMPP_S2S_EV_AUTHED:
		st->authed = true;
		if (info->external)
			str_ncpy(st->auth, "sasl-external", sizeof(st->auth));
		c = st->xc;
		if (c)
			c->quiet = false;
		if (st->dir == XMPP_S2S_OUT) {
			if (!info->external)
				str_ncpy(st->auth, "dialback",
					 sizeof(st->auth));
			c = st->xc;
			if (c) {
				c->backoff_s = 0;
				c->retry_at = 0;
			}
		}
		dmn_log(DMN_LOG_INFO, "cn: xmpp stream %s community=%s "
			"peer=%s domain=%s authenticated auth=%s tls=%s",
			st->dir == XMPP_S2S_OUT ? "out" : "in", st->comm,
			st->peerstr, st->remote, st->auth, st->verdict);
		link_update(x, st->xc, NULL, NULL);
		if (st->dir == XMPP_S2S_OUT)
			flush_queue(st);
		break;
	case XMPP_S2S_EV_DB_REFUSED:
		/* type=invalid refuses us; type=error says the peer could
		 * not check our key now (remote-server-timeout...) */
		c = st->xc;
		if (c)
			queue_fail(x, c, st->remote,
				   cn_xmap_unauthed_errno(info->err));
		break;
	case XMPP_S2S_EV_DB_RESULT:
		inbound_auth(st, info->domain, false);
		break;
	case XMPP_S2S_EV_HEADER:
		/* the community an inbound stream claims to be of: what
		 * befalls the stream before it is authenticated (a TLS
		 * handshake refused) is counted there */
		if (st->dir == XMPP_S2S_IN && !st->xc && info->domain) {
			const struct cfg_extern *ex =
				xmpp_extern_of(x, info->domain);

			if (ex)
				stream_comm(st, ex->name);
		}
		/* offer EXTERNAL to a peer that could use it (RFC 6120
		 * 6.3.4, XEP-0178); the address is checked on <auth/> */
		xmpp_s2s_external(st->s, info->domain &&
				  xmpp_extern_of(x, info->domain) &&
				  cert_names(st, info->domain));
		break;
	case XMPP_S2S_EV_SASL_AUTH:
		inbound_auth(st, info->domain, true);
		break;
	case XMPP_S2S_EV_SASL_FAILED:
		if (st->dir == XMPP_S2S_OUT) {
			/* recv_h opens a new stream for dialback */
			st->ext_failed = true;
			if (st->xc)
				++st->xc->sasl_fallbacks;
		}
		else {
			const struct cfg_extern *ex = info->domain ?
				xmpp_extern_of(x, info->domain) : NULL;

			c = st->xc ? st->xc :
				ex ? comm_get(x, ex->name) : NULL;
			if (c && info->sasl < XMPP_SASL_MAX)
				++c->sasl_refused[info->sasl];
		}
		dmn_log(DMN_LOG_INFO, st->dir == XMPP_S2S_OUT ?
			"cn: xmpp stream out community=%s peer=%s domain=%s "
			"sasl external failed condition=%s next=dialback" :
			"cn: xmpp stream in community=%s peer=%s domain=%s "
			"sasl external failed condition=%s",
			st->comm[0] ? st->comm : "-", st->peerstr,
			info->domain ? info->domain : "-",
			xmpp_sasl_name(info->sasl));
		break;
	case XMPP_S2S_EV_DB_VERIFY:
		break;	/* we never ask: see the top comment */
	case XMPP_S2S_EV_FEATURES:
		break;	/* the stream acts on them */
	case XMPP_S2S_EV_STANZA:
		c = st->xc;
		++st->in;
		if (c)
			++c->stanzas_in;
		cn_count_in(x->px->cn, st->comm);
		if (x->h.recv)
			x->h.recv(st->comm, info->el, x->h.arg);
		break;
	case XMPP_S2S_EV_CLOSED:
		c = st->xc;
		if (c && info->err != XMPP_SERR_NONE &&
		    info->err < XMPP_SERR_MAX)
			++c->errs[info->err];
		/* bad XML, counted whether or not the stream had named
		 * its community yet */
		if (info->malformed)
			cn_count_reject(x->px->cn, c ? c->name : NULL,
					CN_R_MALFORMED, st->peerip,
					"xmpp stream error %s: %s",
					xmpp_serr_name(info->err),
					info->malformed);
		st->close_err = info->err;
		st->close_by_peer = info->by_peer;
		/* the connection goes when the loop is back: see recv_h */
		break;
	}
}

static bool stream_closed(const struct xstream *st)
{
	return xmpp_s2s_state(st->s) == XMPP_S2S_CLOSED;
}

static void estab_h(void *arg)
{
	struct xstream *st = arg;

	if (!st->estab) {
		st->estab = true;
		if (st->dir == XMPP_S2S_OUT && xmpp_s2s_start(st->s)) {
			stream_end(st, ECONNREFUSED, "start failed");
			return;
		}
		if (!st->tls)
			return;
	}
	/* a second estab: the TLS handshake on this connection is done */
	if (st->tls && sst_tls_up(st->tls) && !st->tls_told) {
		st->tls_told = true;
		tls_verdict(st);
		if (st->dir == XMPP_S2S_OUT)
			xmpp_s2s_external(st->s, !st->no_ext &&
					  cert_names(st, st->remote));
		(void)xmpp_s2s_tls_ready(st->s);
		if (stream_closed(st))
			stream_end(st, cn_xmap_unauthed_errno(st->close_err),
				   "closed after TLS");
	}
}

static int out_open(struct cn_xmpp *x, const struct cfg_extern *ex,
		    const char *local, const char *remote, bool no_ext);

/*
 * The peer refused our SASL EXTERNAL: a new stream to the same peer
 * authenticates with dialback (RFC 6120 6.4.5 lets the initiating
 * entity try another way; a new stream keeps this one's state out of
 * it).  The stanzas waiting stay for the new stream.
 */
static int out_retry(struct xstream *st)
{
	struct cn_xmpp *x = st->x;
	const struct cfg_extern *ex = xmpp_extern(x, st->comm);
	int err;

	if (!ex)
		return ENOENT;
	list_unlink(&st->le);   /* out_find must not see it */
	err = out_open(x, ex, st->local, st->remote, true);
	if (err) {
		list_append(&x->streams, &st->le, st);
		return err;
	}
	dmn_log(DMN_LOG_INFO, "cn: xmpp stream out community=%s peer=%s "
		"domain=%s closed reason=sasl-external-refused "
		"next=dialback", st->comm, st->peerstr, st->remote);
	mem_deref(st);
	return 0;
}

static void recv_h(struct mbuf *mb, void *arg)
{
	struct xstream *st = arg;
	int err;

	st->last_rx = now_ms();
	(void)xmpp_s2s_recv(st->s, mbuf_buf(mb), mbuf_get_left(mb));
	if (!stream_closed(st))
		return;
	if (st->ext_failed && !out_retry(st))
		return;
	/* before authentication only a refusal of us is permanent: a
	 * peer shutting down, failing or closing is a temporary fault */
	err = st->authed ? EPIPE : cn_xmap_unauthed_errno(st->close_err);
	if (st->close_err == XMPP_SERR_NONE) {
		stream_end(st, err, st->close_by_peer ?
			   "closed by the peer" : "closed");
	}
	else {
		char why[64];

		re_snprintf(why, sizeof(why), "stream error %s%s",
			    xmpp_serr_name(st->close_err),
			    st->close_by_peer ? " from the peer" : "");
		stream_end(st, err, why);
	}
}

static bool next_hop(struct xstream *st, const char *why);

static void close_h(int err, void *arg)
{
	struct xstream *st = arg;
	char why[64];
	int tlserr = st->tls ? sst_tls_error(st->tls) : 0;

	if (tlserr == EAUTH) {
		tls_verdict(st);
		re_snprintf(why, sizeof(why), "tls %s",
			    st->verdict[0] ? st->verdict : "failure");
		if (st->xc)
			++st->xc->tls_refused;
		if (st->dir == XMPP_S2S_IN)
			cn_count_reject(st->x->px->cn, st->xc ? st->comm :
					NULL, CN_R_TLS_FAILURE, st->peerip,
					"xmpp handshake certificate=%s",
					st->verdict[0] ? st->verdict :
					"none");
		stream_end(st, EPERM, why);
		return;
	}
	re_snprintf(why, sizeof(why), "%m", err ? err : ECONNRESET);
	if (!st->estab && next_hop(st, why))
		return;
	stream_end(st, st->estab ? EPIPE : ECONNREFUSED, why);
}

static int stream_alloc(struct xstream **stp, struct cn_xmpp *x,
			enum xmpp_s2s_dir dir, const char *local,
			const char *remote)
{
	struct xmpp_s2s_conf conf;
	struct xstream *st;
	int err;

	if (list_count(&x->streams) >= CN_XMPP_STREAMS_MAX)
		return ENOSPC;
	st = mem_zalloc(sizeof(*st), stream_destructor);
	if (!st)
		return ENOMEM;
	st->x = x;
	st->dir = dir;
	st->since = time(NULL);
	st->created = st->last_rx = st->last_tx = now_ms();
	str_ncpy(st->local, local, sizeof(st->local));
	if (remote)
		str_ncpy(st->remote, remote, sizeof(st->remote));
	memset(&conf, 0, sizeof(conf));
	conf.local = local;
	conf.remote = remote;
	conf.secret = x->secret;
	err = xmpp_s2s_alloc(&st->s, dir, &conf, send_h, ev_h, st);
	if (err) {
		mem_deref(st);
		return err;
	}
	list_append(&x->streams, &st->le, st);
	*stp = st;
	return 0;
}

/* ---- outbound ---- */

/* Connect to the hop st->hop of st->route. */
static int connect_hop(struct xstream *st)
{
	const struct cn_hop *hop = &st->route->hopv[st->hop];
	struct sa dst;
	int err;

	if (sa_set_sa(&dst, (const struct sockaddr *)&hop->addr))
		return EINVAL;
	stream_peer(st, &dst);
	err = tcp_conn_alloc(&st->tc, &dst, estab_h, recv_h, close_h, st);
	if (!err)
		err = tcp_conn_bind(st->tc, &st->x->px->laddr_any);
	if (!err)
		err = tcp_conn_connect(st->tc, &dst);
	return err;
}

/*
 * The hop tried could not be reached: marked down for the resolver's
 * order, and the next one of the route tried (RFC 6120 3.2.1: the
 * next SRV target, or the next address).  False when none is left.
 */
static bool next_hop(struct xstream *st, const char *why)
{
	const struct cn_route *rt = st->route;

	if (!rt || st->estab)
		return false;
	sst_dns_mark_down(st->x->px->dns, rt->hopv[st->hop].target,
			  rt->hopv[st->hop].port, 0);
	while (++st->hop < rt->hopc) {
		dmn_log(DMN_LOG_INFO, "cn: xmpp stream out community=%s "
			"peer=%s domain=%s unreachable reason=%s, trying "
			"the next of %zu", st->comm, st->peerstr, st->remote,
			why, rt->hopc);
		st->tc = mem_deref(st->tc);
		if (!connect_hop(st))
			return true;
	}
	return false;
}

static void route_h(int err, const struct cn_route *route, void *arg)
{
	struct xstream *st = arg;

	st->rreq = mem_deref(st->rreq);
	if (err || !route || !route->hopc) {
		/* a DNS that does not answer is a temporary fault; a
		 * domain with no server (NXDOMAIN, no SRV and no
		 * address) is not */
		const bool temp = cn_route_temporary(err, route);

		stream_end(st, temp ? ETIMEDOUT : ENOENT, temp ?
			   "DNS unavailable" : "no server in DNS");
		return;
	}
	/* in the route's order: the resolver put hops marked down last */
	st->route = mem_ref((void *)route);
	st->hop = 0;
	if (connect_hop(st) && !next_hop(st, "connect failed"))
		stream_end(st, ECONNREFUSED, "connect failed");
}

static struct xstream *out_find(struct cn_xmpp *x, const char *local,
				const char *remote)
{
	struct le *le;

	LIST_FOREACH(&x->streams, le) {
		struct xstream *st = le->data;

		if (st->dir == XMPP_S2S_OUT && !stream_closed(st) &&
		    !str_casecmp(st->remote, remote) &&
		    !str_casecmp(st->local, local))
			return st;
	}
	return NULL;
}

static int out_open(struct cn_xmpp *x, const struct cfg_extern *ex,
		    const char *local, const char *remote, bool no_ext)
{
	struct xstream *st;
	int err;

	err = stream_alloc(&st, x, XMPP_S2S_OUT, local, remote);
	if (err)
		return err;
	st->no_ext = no_ext;
	stream_comm(st, ex->name);
	err = cn_resolve_lookup(&st->rreq, x->px->res, ex, remote, route_h,
				st);
	if (err)
		mem_deref(st);
	return err;
}

int cn_xmpp_send(struct cn_xmpp *x, const char *comm,
		 const struct xmpp_el *stanza, cn_xmpp_sent_h *senth,
		 void *arg)
{
	char local[CN_XMPP_NAME_MAX], remote[CN_XMPP_NAME_MAX];
	const struct cfg_extern *ex;
	struct xstream *st;
	struct xcomm *c;
	struct xitem *it;
	int err = 0;

	if (!x || !comm || !stanza)
		return EINVAL;
	if (!xmpp_jid_domain(local, sizeof(local),
			     xmpp_el_attr(stanza, "from")) ||
	    !xmpp_jid_domain(remote, sizeof(remote),
			     xmpp_el_attr(stanza, "to")))
		return EINVAL;
	c = comm_get(x, comm);
	if (!c)
		return ENOMEM;
	it = mem_zalloc(sizeof(*it), item_destructor);
	if (!it)
		return ENOMEM;
	it->el = mem_ref((void *)stanza);
	it->senth = senth;
	it->arg = arg;
	it->deadline = now_ms() + CN_XMPP_WAIT_MS;
	str_ncpy(it->local, local, sizeof(it->local));
	str_ncpy(it->remote, remote, sizeof(it->remote));
	list_append(&c->queue, &it->le, it);

	ex = xmpp_extern(x, comm);
	if (!ex || !cfg_domain_is_local(cfg_of(x), local) ||
	    xmpp_extern_of(x, remote) != ex) {
		item_done(x, it, ENOTCONN);
		return 0;
	}
	st = out_find(x, local, remote);
	if (st && xmpp_s2s_state(st->s) == XMPP_S2S_READY) {
		flush_queue(st);
		return 0;
	}
	if (st)
		return 0;	/* waits for it */
	if (list_count(&c->queue) > CN_XMPP_QUEUE_MAX) {
		item_done(x, it, ETIMEDOUT);
		return 0;
	}
	if (c->retry_at && now_ms() < c->retry_at) {
		item_done(x, it, c->last_err ? c->last_err : ECONNREFUSED);
		return 0;
	}
	err = out_open(x, ex, local, remote, false);
	if (err)	/* out of streams or memory: ours, and temporary */
		item_done(x, it, err == EINVAL ? ENOENT : ETIMEDOUT);
	return 0;
}

/* ---- inbound ---- */

/* Inbound streams not authenticated yet: how many, how many of them
 * from peer's address (peer NULL: none), and the oldest. */
static unsigned unauth_in(const struct cn_xmpp *x, const struct sa *peer,
			  unsigned *from_peer, struct xstream **oldest)
{
	const struct le *le;
	unsigned n = 0;

	LIST_FOREACH(&x->streams, le) {
		struct xstream *st = le->data;

		if (st->dir != XMPP_S2S_IN || st->authed)
			continue;
		++n;
		if (peer && from_peer && sa_cmp(&st->peer, peer, SA_ADDR))
			++*from_peer;
		if (oldest && (!*oldest || st->created < (*oldest)->created))
			*oldest = st;
	}
	return n;
}

/*
 * A connection to the listener.  Those that have not authenticated
 * have places of their own (CN_XMPP_UNAUTH_IN_MAX), fewer than all
 * streams': whoever holds them open cannot take the places of our
 * outbound streams or of streams authenticated, and each goes after
 * CN_XMPP_AUTH_MS anyway.  One address holds at most
 * CN_XMPP_UNAUTH_PER_IP of them (a new one from it is refused); when
 * all are taken, the oldest is closed for the new one, as the SIP
 * transport evicts the oldest connection never trusted: an attacker
 * holding connections open cannot keep a real server out, which
 * authenticates within a second or two.
 */
static void conn_h(const struct sa *peer, void *arg)
{
	struct cn_xmpp *x = arg;
	const struct cfg *cfg = cfg_of(x);
	struct xstream *st, *oldest = NULL;
	unsigned n, from_peer = 0;
	int err;

	n = unauth_in(x, peer, &from_peer, &oldest);
	if (from_peer >= CN_XMPP_UNAUTH_PER_IP) {
		char ip[CN_ADDR_MAX];

		re_snprintf(ip, sizeof(ip), "%j", peer);
		++x->unauth_refused;
		cn_count_reject(x->px->cn, NULL, CN_R_CONN_LIMIT, ip,
				"xmpp streams not authenticated from this "
				"address=%u", from_peer);
		tcp_reject(x->ts);
		return;
	}
	if (n >= CN_XMPP_UNAUTH_IN_MAX && oldest) {
		++x->unauth_evicted;
		cn_count_reject(x->px->cn, NULL, CN_R_CONN_LIMIT,
				oldest->peerip, "xmpp stream evicted, not "
				"authenticated=%u", n);
		xmpp_s2s_close(oldest->s, XMPP_SERR_RESOURCE_CONSTRAINT);
		stream_end(oldest, ECONNREFUSED, "evicted: not authenticated");
	}
	if (!cfg->community.domains.n ||
	    stream_alloc(&st, x, XMPP_S2S_IN, cfg->community.domains.v[0],
			 NULL)) {
		tcp_reject(x->ts);
		return;
	}
	stream_peer(st, peer);
	st->estab = true;
	err = tcp_accept(&st->tc, x->ts, estab_h, recv_h, close_h, st);
	if (err) {
		tcp_reject(x->ts);
		mem_deref(st);
		return;
	}
	dmn_log(DMN_LOG_DEBUG, "cn: xmpp stream in peer=%s accepted",
		st->peerstr);
}

/* ---- the tick ---- */

/*
 * The last stream of a community closed for quiet.  Silence proves
 * nothing about the partner: it may have died or restarted meanwhile,
 * and its users' presence with it.  What we show of its contacts is
 * asked again now (the translation probes what our users watch there),
 * so one new stream opens: a partner that is gone takes the link down,
 * one that is there answers with what is true now.  Where nobody of
 * ours watches anybody there, nothing is sent and the link just stays
 * up.
 */
static void quiet_recheck(struct cn_xmpp *x, struct xcomm *c)
{
	++c->quiet_rechecks;
	dmn_log(DMN_LOG_INFO, "cn: xmpp community=%s quiet: asking its "
		"contacts' presence again", c->name);
	if (x->h.recheck)
		x->h.recheck(c->name, x->h.arg);
}

static void tick_h(void *arg)
{
	struct cn_xmpp *x = arg;
	const uint64_t now = now_ms();
	const struct cfg_connector *self = x->px->cn->self;
	const uint64_t idle_ms = self ? self->xmpp_idle * 1000ULL : 0;
	struct le *le, *ce;

	tmr_start(&x->tick, 1000, tick_h, x);
	LIST_FOREACH(&x->comms, ce) {
		struct xcomm *c = ce->data;

		le = list_head(&c->queue);
		while (le) {
			struct xitem *it = le->data;

			le = le->next;
			if (now >= it->deadline)
				item_done(x, it, ETIMEDOUT);
		}
	}
	le = list_head(&x->streams);
	while (le) {
		struct xstream *st = le->data;

		le = le->next;
		if (idle_ms && now - st->last_rx > idle_ms) {
			struct xcomm *c = st->authed ? st->xc : NULL;

			if (c) {
				c->quiet = true;
				++c->quiet_closes;
				st->quiet_close = true;
			}
			xmpp_s2s_close(st->s, XMPP_SERR_CONNECTION_TIMEOUT);
			stream_end(st, ETIMEDOUT, "idle");
			/* the last one: a stream the asking opens is only
			 * appended (the resolver answers from the loop),
			 * and read by this loop as the new one it is */
			if (c && !comm_has_stream(x, c, NULL))
				quiet_recheck(x, c);
			continue;
		}
		/* from the start: bytes (whitespace is allowed) do not
		 * buy a stream more time to authenticate */
		if (!st->authed && now - st->created > CN_XMPP_AUTH_MS) {
			++x->auth_timeouts;
			xmpp_s2s_close(st->s, XMPP_SERR_CONNECTION_TIMEOUT);
			stream_end(st, ETIMEDOUT, "no authentication in time");
			continue;
		}
		if (st->authed && now - st->last_tx > CN_XMPP_KA_S * 1000ULL)
			(void)xmpp_s2s_keepalive(st->s);
	}
}

/* ---- life ---- */

static bool any_xmpp(const struct cn_xmpp *x)
{
	const struct cfg_connector *self = x->px->cn->self;
	size_t i;

	for (i = 0; self && i < self->ncommunities; i++) {
		if (self->communities[i].enabled &&
		    xmpp_extern(x, self->communities[i].community))
			return true;
	}
	return false;
}

static int listen_start(struct cn_xmpp *x)
{
	const struct cfg_connector *self = x->px->cn->self;
	int err;

	if (x->listening || !any_xmpp(x))
		return 0;
	err = sa_set_str(&x->laddr, self->ip, self->xmpp_port ?
			 self->xmpp_port : CFG_XMPP_PORT);
	re_snprintf(x->lstr, sizeof(x->lstr), "%J", &x->laddr);
	if (!err)
		err = tcp_sock_alloc(&x->ts, &x->laddr, conn_h, x);
	if (!err)
		err = tcp_sock_bind(x->ts, &x->laddr);
	if (!err)
		err = tcp_sock_listen(x->ts, 64);
	if (err) {
		x->ts = mem_deref(x->ts);
		dmn_log_code(DMN_LOG_ERR, err, "cn: xmpp listen failed "
			     "addr=%s", x->lstr);
		return err;
	}
	x->listening = true;
	dmn_log(DMN_LOG_INFO, "cn: xmpp listening addr=%s", x->lstr);
	return 0;
}

static void xmpp_destructor(void *arg)
{
	struct cn_xmpp *x = arg;
	struct le *le;

	tmr_cancel(&x->tick);
	tmr_cancel(&x->tell);
	list_flush(&x->streams);
	LIST_FOREACH(&x->comms, le) {
		struct xcomm *c = le->data;

		while (list_head(&c->queue)) {
			struct xitem *it = list_head(&c->queue)->data;

			list_unlink(&it->le);
			if (it->senth)
				it->senth(ENOTCONN, it->arg);
			mem_deref(it);
		}
	}
	while (list_head(&x->done)) {
		struct xitem *it = list_head(&x->done)->data;

		list_unlink(&it->le);
		if (it->senth)
			it->senth(it->err, it->arg);
		mem_deref(it);
	}
	list_flush(&x->comms);
	x->commh = mem_deref(x->commh);
	x->ts = mem_deref(x->ts);
}

int cn_xmpp_alloc(struct cn_xmpp **xp, struct cn_px *px,
		  const struct cn_xmpp_handlers *h)
{
	struct cn_xmpp *x;
	uint8_t rnd[32];
	size_t i;
	int err;

	if (!xp || !px)
		return EINVAL;
	x = mem_zalloc(sizeof(*x), xmpp_destructor);
	if (!x)
		return ENOMEM;
	x->px = px;
	if (h)
		x->h = *h;
	rand_bytes(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		re_snprintf(x->secret + 2 * i, 3, "%02x", rnd[i]);
	tmr_init(&x->tick);
	tmr_init(&x->tell);
	err = hash_alloc(&x->commh, 16);
	if (!err)
		err = listen_start(x);
	if (err) {
		mem_deref(x);
		return err;
	}
	tmr_start(&x->tick, 1000, tick_h, x);
	*xp = x;
	return 0;
}

int cn_xmpp_apply(struct cn_xmpp *x)
{
	struct le *le;

	if (!x)
		return EINVAL;
	/* streams of communities no longer enabled go */
	le = list_head(&x->streams);
	while (le) {
		struct xstream *st = le->data;

		le = le->next;
		if (st->comm[0] && !xmpp_extern(x, st->comm)) {
			xmpp_s2s_close(st->s, XMPP_SERR_POLICY_VIOLATION);
			stream_end(st, ENOTCONN, "community disabled");
		}
	}
	return listen_start(x);
}

/* ---- status ---- */

struct dmn_st *cn_xmpp_status(struct cn_xmpp *x, struct dmn_st *root)
{
	struct dmn_st *xs, *cl;
	struct le *le, *se;

	/* a connector with no XMPP community says nothing of XMPP */
	if (!x || !root || (!x->listening && list_isempty(&x->comms)))
		return NULL;
	xs = dmn_st_section(root, "xmpp");
	if (!xs)
		return NULL;
	if (x->listening)
		dmn_st_str(xs, "listen", x->lstr);
	else
		dmn_st_str(xs, "listen", "off (no XMPP community enabled now)");
	dmn_st_str(xs, "auth_inbound", "sasl-external, dialback+cert");
	dmn_st_int(xs, "unauthenticated_in",
		   (int64_t)unauth_in(x, NULL, NULL, NULL));
	dmn_st_int(xs, "unauthenticated_in_max",
		   (int64_t)CN_XMPP_UNAUTH_IN_MAX);
	dmn_st_int(xs, "unauthenticated_per_address_max",
		   (int64_t)CN_XMPP_UNAUTH_PER_IP);
	dmn_st_int(xs, "unauthenticated_refused", (int64_t)x->unauth_refused);
	dmn_st_int(xs, "unauthenticated_evicted", (int64_t)x->unauth_evicted);
	dmn_st_int(xs, "auth_timeouts", (int64_t)x->auth_timeouts);
	cl = dmn_st_list(xs, "communities");
	LIST_FOREACH(&x->comms, le) {
		const struct xcomm *c = le->data;
		struct dmn_st *it = dmn_st_item(cl);
		struct dmn_st *sl, *er;
		unsigned e;

		if (!it)
			continue;
		dmn_st_str(it, "name", c->name);
		dmn_st_str(it, "link", c->up ? "up" : "down");
		dmn_st_int(it, "stanzas_in", (int64_t)c->stanzas_in);
		dmn_st_int(it, "stanzas_out", (int64_t)c->stanzas_out);
		dmn_st_int(it, "untrusted_ip", (int64_t)c->untrusted);
		dmn_st_int(it, "tls_refused", (int64_t)c->tls_refused);
		dmn_st_int(it, "quiet_closes", (int64_t)c->quiet_closes);
		dmn_st_int(it, "quiet_rechecks", (int64_t)c->quiet_rechecks);
		dmn_st_int(it, "waiting", (int64_t)list_count(&c->queue));
		dmn_st_int(it, "sasl_fallbacks", (int64_t)c->sasl_fallbacks);
		dmn_st_int(it, "other_community_claims",
			   (int64_t)c->other_claims);
		if (c->last_error[0])
			dmn_st_str(it, "last_error", c->last_error);
		er = dmn_st_section(it, "sasl_refused");
		for (e = 1; er && e < XMPP_SASL_MAX; e++) {
			if (c->sasl_refused[e])
				dmn_st_int(er, xmpp_sasl_name(e),
					   (int64_t)c->sasl_refused[e]);
		}
		er = dmn_st_section(it, "stream_errors");
		for (e = 1; er && e < XMPP_SERR_MAX; e++) {
			if (c->errs[e])
				dmn_st_int(er, xmpp_serr_name(e),
					   (int64_t)c->errs[e]);
		}
		sl = dmn_st_list(it, "streams");
		LIST_FOREACH(&x->streams, se) {
			const struct xstream *st = se->data;
			struct dmn_st *s;

			if (st->xc != c)
				continue;
			s = dmn_st_item(sl);
			if (!s)
				continue;
			dmn_st_str(s, "direction", st->dir == XMPP_S2S_OUT ?
				   "out" : "in");
			dmn_st_str(s, "state",
				   xmpp_s2s_state_name(xmpp_s2s_state(st->s)));
			dmn_st_str(s, "peer", st->peerstr);
			dmn_st_str(s, "domain", st->remote[0] ? st->remote :
				   "-");
			dmn_st_str(s, "tls", st->verdict[0] ? st->verdict :
				   "none");
			dmn_st_str(s, "auth", st->auth[0] ? st->auth : "none");
			dmn_st_int(s, "stanzas_in", (int64_t)st->in);
			dmn_st_int(s, "stanzas_out", (int64_t)st->out);
		}
	}
	return xs;
}
