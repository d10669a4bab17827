/*
 * cn_cmd_peer.c -- `stconnector check --peer COMMUNITY`: probe a
 * partner now, the way the connector's link does, and say how far it
 * got and how long each step took:
 *
 *	resolve    the community as the daemon resolves it (cn_resolve.h):
 *	           source, trust set, the first next hop;
 *	tcp        a TCP connect to that hop from this connector's ip;
 *	tls        the handshake with this deployment's Tls record,
 *	           verified as the daemon verifies (the verdict words of
 *	           status: valid, expired, self-signed, untrusted,
 *	           name-mismatch), with the peer's subject and cipher;
 *	options    an OPTIONS to the hop (the link's keep-alive) and the
 *	           status line of the answer.
 *
 * udp communities skip tcp and tls.  Exit 0 when every step worked and
 * the answer is 2xx, 1 otherwise (the first failed step is named).
 * The libre loop runs here, under one deadline per step.
 *
 * An XMPP community (protocol="xmpp") is probed as cn_xmpp.c opens its
 * outbound streams, through xmpp/xmpp_s2s.c's stream machine:
 *
 *	resolve    _xmpp-server._tcp of its first domain, else its A/AAAA,
 *	           or its Proxy;
 *	tcp        as above;
 *	stream     our stream header (to their domain, from our first
 *	           domain), their header and features;
 *	starttls   <starttls/> and their <proceed/>;
 *	tls        the handshake on that connection, verified for the
 *	           domain with the verdict words above;
 *	features   the stream restarted over TLS and what it offers to
 *	           authenticate with (dialback, SASL EXTERNAL);
 *	close      our </stream:stream>, and the peer's end.
 *
 * Authentication is not attempted: dialback needs the running
 * connector's secret (its listener answers the peer's db:verify).  Exit
 * 0 when every step worked, TLS is valid and the peer offers dialback
 * or SASL EXTERNAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_dns.h"
#include "sipstack/sst_tls.h"
#include "xmpp/xmpp.h"
#include "connector/cn_cmd.h"
#include "connector/cn_resolve.h"

enum {
	PEER_STEP_MS   = 5000,   /* deadline of each step */
	PEER_RESP_MAX  = 65536,  /* bytes of answer kept */
	PEER_UDP_T1    = 500,    /* first UDP retransmission */
};

struct peer {
	FILE *f;
	const struct cfg *cfg;
	const struct cfg_connector *self;
	const struct cfg_extern *ex;
	const struct cn_hop *hop;
	struct cn_route *route;
	struct sst_tls_ctx *ctx;
	struct tcp_conn *tc;
	struct sst_tls *tls;
	struct udp_sock *us;
	struct mbuf *req;	/* the OPTIONS, for UDP retransmission */
	struct mbuf *rx;
	struct sa dst;		/* the hop */
	struct tmr tmr, rtx;
	unsigned rtx_ms;
	uint64_t t0;
	int err;
	bool done, timeout, up;
	uint16_t scode;
	char reason[128];
	/* XMPP */
	struct xmpp_s2s *s;
	unsigned nfeat;
	unsigned feat[2];       /* before and over TLS */
	bool proceed, tls_up, we_closed, s2s_closed, peer_end, tcp_closed;
	enum xmpp_serr serr;
	bool serr_by_peer;
	int tcp_err;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double ms_since(uint64_t t0)
{
	return (double)(now_us() - t0) / 1000.0;
}

static void stop(struct peer *p, int err)
{
	if (p->done)
		return;
	p->err = err;
	p->done = true;
	re_cancel();
}

static void deadline_h(void *arg)
{
	struct peer *p = arg;

	p->timeout = true;
	stop(p, ETIMEDOUT);
}

/* Run the loop until the step is done or its deadline passed. */
static int step_wait(struct peer *p)
{
	p->done = false;
	p->timeout = false;
	p->err = 0;
	tmr_start(&p->tmr, PEER_STEP_MS, deadline_h, p);
	while (!p->done)
		re_main(NULL);
	tmr_cancel(&p->tmr);
	return p->err;
}

/* ---- resolve ---- */

static void resolve_h(int err, const struct cn_route *route, void *arg)
{
	struct peer *p = arg;

	p->route = mem_ref((void *)route);
	stop(p, err ? err : route && route->hopc ? 0 : ENOENT);
}

static const char *first_domain(const struct cfg_extern *ex)
{
	size_t i;

	for (i = 0; i < ex->domains.n; i++)
		if (strncmp(ex->domains.v[i], "*.", 2))
			return ex->domains.v[i];
	return NULL;
}

static int step_resolve(struct peer *p, struct cn_resolve *res)
{
	const char *dom = p->ex->proxy ? NULL : first_domain(p->ex);
	struct cn_resolve_req *req = NULL;
	size_t idx[CN_RESOLVE_HOPS_MAX], i;
	uint64_t t0 = now_us();
	int err;

	if (!p->ex->proxy && !dom) {
		fprintf(p->f, "resolve: failed: extern community %s has only "
			"wildcard domains and no Proxy: nothing to resolve "
			"ahead of a request\n", p->ex->name);
		return EINVAL;
	}
	err = cn_resolve_lookup(&req, res, p->ex, dom, resolve_h, p);
	if (!err)
		err = step_wait(p);
	mem_deref(req);
	if (err || !p->route || !p->route->hopc) {
		fprintf(p->f, "resolve %s: failed (%.1f ms): %s\n",
			p->ex->proxy ? p->ex->proxy : dom, ms_since(t0),
			p->timeout ? "no answer in time" :
			err == ENOENT ? "no such name, or no SRV, A or AAAA "
			"records" : strerror(err ? err : ENOENT));
		return err ? err : ENOENT;
	}
	if (cn_resolve_order(res, p->route, idx, NULL))
		idx[0] = 0;
	p->hop = &p->route->hopv[idx[0]];
	if (sa_set_sa(&p->dst, (const struct sockaddr *)&p->hop->addr))
		return EINVAL;
	re_fprintf(p->f, "resolve %s: ok (%.1f ms): %s %s, %zu hop%s, "
		   "first %s %J", p->ex->proxy ? p->ex->proxy : dom,
		   ms_since(t0), cn_route_src_name(p->route->src),
		   p->route->name, p->route->hopc,
		   p->route->hopc == 1 ? "" : "s",
		   cfg_transport_name(p->hop->tp), &p->dst);
	if (p->hop->tp == CFG_TP_TLS)
		fprintf(p->f, " tls-name %s", p->hop->tls_name);
	fprintf(p->f, "; trust accepts");
	for (i = 0; i < p->route->trustc; i++) {
		struct sa t;

		if (!sa_set_sa(&t, (const struct sockaddr *)
			       &p->route->trustv[i]))
			re_fprintf(p->f, " %j", &t);
	}
	fprintf(p->f, "\n");
	return 0;
}

/* ---- tcp: a plain connect, timed on its own ---- */

static int step_tcp(struct peer *p, const struct sa *dst,
		    const struct sa *laddr)
{
	struct pollfd pfd;
	uint64_t t0 = now_us();
	socklen_t len = sizeof(int);
	int fd, err = 0, r;

	fd = socket(sa_af(dst), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	if (bind(fd, &laddr->u.sa, laddr->len) < 0) {
		err = errno;
		goto out;
	}
	if (connect(fd, &dst->u.sa, dst->len) < 0 && errno != EINPROGRESS) {
		err = errno;
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	r = poll(&pfd, 1, PEER_STEP_MS);
	if (r == 0)
		err = ETIMEDOUT;
	else if (r < 0)
		err = errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
 out:
	close(fd);
	if (err)
		re_fprintf(p->f, "tcp connect %J from %j: failed (%.1f ms): "
			   "%s\n", dst, laddr, ms_since(t0), strerror(err));
	else
		re_fprintf(p->f, "tcp connect %J from %j: ok (%.1f ms)\n",
			   dst, laddr, ms_since(t0));
	return err;
}

/* ---- the OPTIONS, over whichever transport ---- */

static int options_build(struct peer *p, const struct sa *dst,
			 const struct sa *local)
{
	char branch[SST_BRANCH_SIZE], tag[SST_TAG_SIZE];
	char ruri[128], to[140], from[320], callid[64], sb[80];
	const char *tpn = cfg_transport_name(p->hop->tp);
	struct sst_req_spec q;

	sst_branch_gen(branch, sizeof(branch));
	sst_tag_gen(tag, sizeof(tag));
	re_snprintf(ruri, sizeof(ruri), "sip:%J;transport=%s", dst, tpn);
	re_snprintf(to, sizeof(to), "<%s>", ruri);
	re_snprintf(from, sizeof(from), "<sip:connector@%s>;tag=%s",
		    p->cfg->community.domains.n ?
		    p->cfg->community.domains.v[0] : p->self->ip, tag);
	re_snprintf(callid, sizeof(callid), "check-%s", tag);
	re_snprintf(sb, sizeof(sb), "%J", local);

	memset(&q, 0, sizeof(q));
	q.method = "OPTIONS";
	q.ruri = ruri;
	q.from = from;
	q.to = to;
	q.callid = callid;
	q.cseq = 1;
	q.via.tp = p->hop->tp == CFG_TP_TCP ? SIP_TRANSP_TCP :
		p->hop->tp == CFG_TP_TLS ? SIP_TRANSP_TLS : SIP_TRANSP_UDP;
	q.via.sentby = sb;
	q.via.branch = branch;
	return sst_build_request(&p->req, &q);
}

/* A whole status line with its headers: the final answer, or wait. */
static void answer_in(struct peer *p, const uint8_t *buf, size_t len)
{
	unsigned code;
	char reason[128];
	const char *end;

	if (!p->rx)
		p->rx = mbuf_alloc(1024);
	if (!p->rx || p->rx->end + len > PEER_RESP_MAX) {
		stop(p, EMSGSIZE);
		return;
	}
	(void)mbuf_write_mem(p->rx, buf, len);
	(void)mbuf_write_u8(p->rx, 0);
	p->rx->end--;
	p->rx->pos = p->rx->end;
	for (;;) {
		const char *s = (const char *)p->rx->buf;

		end = strstr(s, "\r\n\r\n");
		if (!end)
			return;
		if (sscanf(s, "SIP/2.0 %3u %127[^\r\n]", &code, reason) < 1) {
			stop(p, EBADMSG);
			return;
		}
		if (code >= 200) {
			p->scode = (uint16_t)code;
			snprintf(p->reason, sizeof(p->reason), "%s", reason);
			stop(p, 0);
			return;
		}
		/* a provisional answer: drop it, wait for the final one */
		end += 4;
		memmove(p->rx->buf, end, strlen(end) + 1);
		p->rx->end = strlen((const char *)p->rx->buf);
	}
}

static void peer_tcp_recv(struct mbuf *mb, void *arg)
{
	struct peer *p = arg;

	answer_in(p, mbuf_buf(mb), mbuf_get_left(mb));
}

static void peer_tcp_estab(void *arg)
{
	struct peer *p = arg;

	p->up = true;
	stop(p, 0);
}

static void peer_tcp_close(int err, void *arg)
{
	struct peer *p = arg;

	if (p->tls && sst_tls_error(p->tls))
		err = sst_tls_error(p->tls);
	stop(p, err ? err : ECONNRESET);
}

static void peer_udp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct peer *p = arg;

	(void)src;
	answer_in(p, mbuf_buf(mb), mbuf_get_left(mb));
}

static void udp_rtx_h(void *arg)
{
	struct peer *p = arg;

	p->req->pos = 0;
	(void)udp_send(p->us, &p->dst, p->req);
	p->rtx_ms *= 2;
	tmr_start(&p->rtx, p->rtx_ms, udp_rtx_h, p);
}

static const char *tls_why(int err)
{
	switch (err) {
	case EAUTH:     return "the peer's certificate was refused";
	case EPROTO:    return "the handshake failed (protocol)";
	case ETIMEDOUT: return "no handshake in time";
	default:        return strerror(err);
	}
}

static int step_tls(struct peer *p, const struct sa *dst,
		    const struct sa *laddr)
{
	struct sst_tls_peer info;
	uint64_t t0 = now_us();
	int err;

	err = tcp_conn_alloc(&p->tc, dst, peer_tcp_estab, peer_tcp_recv,
			     peer_tcp_close, p);
	if (!err)
		err = tcp_conn_bind(p->tc, laddr);
	if (!err)
		err = tcp_conn_connect(p->tc, dst);
	if (!err && p->hop->tp == CFG_TP_TLS)
		err = sst_tls_start(&p->tls, p->ctx, p->tc, false,
				    p->hop->tls_name);
	if (!err)
		err = step_wait(p);
	if (p->hop->tp != CFG_TP_TLS)
		return err;

	memset(&info, 0, sizeof(info));
	if (p->tls)
		(void)sst_tls_peer(p->tls, &info);
	if (err)
		fprintf(p->f, "tls handshake (name %s): failed (%.1f ms): %s; "
			"verdict %s%s%s\n", p->hop->tls_name, ms_since(t0),
			tls_why(err), sst_tls_verdict_name(info.verdict),
			info.subject[0] ? ", peer " : "", info.subject);
	else
		fprintf(p->f, "tls handshake (name %s): ok (%.1f ms, with its "
			"TCP connect): verdict %s, peer %s, %d days left, %s\n",
			p->hop->tls_name, ms_since(t0),
			sst_tls_verdict_name(info.verdict), info.subject,
			info.days_left, info.cipher);
	return err;
}

static int step_options(struct peer *p, const struct sa *dst,
			const struct sa *laddr)
{
	struct sa local;
	uint64_t t0 = now_us();
	int err;

	if (p->hop->tp == CFG_TP_UDP) {
		err = udp_listen(&p->us, laddr, peer_udp_recv, p);
		if (!err)
			err = udp_local_get(p->us, &local);
	}
	else
		err = tcp_conn_local_get(p->tc, &local);
	if (!err)
		err = options_build(p, dst, &local);
	if (err)
		goto out;

	p->req->pos = 0;
	if (p->hop->tp == CFG_TP_UDP) {
		err = udp_send(p->us, dst, p->req);
		p->rtx_ms = PEER_UDP_T1;
		tmr_start(&p->rtx, p->rtx_ms, udp_rtx_h, p);
	}
	else {
		err = tcp_send(p->tc, p->req);
	}
	if (!err)
		err = step_wait(p);
	tmr_cancel(&p->rtx);
 out:
	if (err)
		re_fprintf(p->f, "options sip:%J: failed (%.1f ms): %s\n", dst,
			   ms_since(t0), p->timeout ? "no answer in time" :
			   strerror(err));
	else
		re_fprintf(p->f, "options sip:%J: %u %s (%.1f ms)\n", dst,
			   p->scode, p->reason, ms_since(t0));
	return err;
}

/* ---- XMPP: one outbound stream up to its features over TLS ---- */

static int x_send_h(const char *buf, size_t len, void *arg)
{
	struct peer *p = arg;
	struct mbuf mb;

	if (!p->tc)
		return ENOTCONN;
	mb.buf = (uint8_t *)buf;
	mb.size = mb.end = len;
	mb.pos = 0;
	return tcp_send(p->tc, &mb);
}

static void x_ev_h(enum xmpp_s2s_ev ev, const struct xmpp_s2s_evinfo *info,
		   void *arg)
{
	struct peer *p = arg;

	switch (ev) {
	case XMPP_S2S_EV_FEATURES:
		if (p->nfeat < 2)
			p->feat[p->nfeat] = xmpp_features_offer(info->el);
		if (++p->nfeat == 2) {
			/* no dialback: close here, see the top comment */
			p->we_closed = true;
			xmpp_s2s_close(p->s, XMPP_SERR_NONE);
		}
		stop(p, 0);
		break;
	case XMPP_S2S_EV_TLS:
		p->proceed = true;
		stop(p, 0);
		break;
	case XMPP_S2S_EV_CLOSED:
		p->s2s_closed = true;
		if (p->we_closed && info->err == XMPP_SERR_NONE &&
		    !info->by_peer)
			break;
		p->serr = info->err;
		p->serr_by_peer = info->by_peer;
		stop(p, EPROTO);
		break;
	default:
		break;
	}
}

static void x_estab_h(void *arg)
{
	struct peer *p = arg;

	if (!p->up) {
		p->up = true;
		if (xmpp_s2s_start(p->s))
			stop(p, EPIPE);
		return;
	}
	if (p->tls && sst_tls_up(p->tls) && !p->tls_up) {
		p->tls_up = true;
		stop(p, 0);
	}
}

static void x_recv_h(struct mbuf *mb, void *arg)
{
	struct peer *p = arg;
	const char *b = (const char *)mbuf_buf(mb);
	const size_t n = mbuf_get_left(mb);
	static const char end[] = "</stream:stream>";
	size_t i;

	if (!p->s2s_closed) {
		(void)xmpp_s2s_recv(p->s, b, n);
		return;
	}
	/* after our close the machine is done: only the peer's end tag */
	for (i = 0; i + sizeof(end) - 1 <= n; i++) {
		if (!memcmp(b + i, end, sizeof(end) - 1)) {
			p->peer_end = true;
			stop(p, 0);
			return;
		}
	}
}

static void x_close_h(int err, void *arg)
{
	struct peer *p = arg;

	p->tcp_closed = true;
	if (p->tls && sst_tls_error(p->tls))
		err = sst_tls_error(p->tls);
	p->tcp_err = err ? err : ECONNRESET;
	stop(p, p->tcp_err);
}

/* Wait until *flag, unless the stream is already over. */
static int x_wait(struct peer *p, const bool *flag)
{
	int err = 0;

	if (!*flag && !p->tcp_closed && !(p->s2s_closed && !p->we_closed))
		err = step_wait(p);
	if (*flag)
		return 0;
	if (p->tcp_closed)
		return p->tcp_err;
	if (p->s2s_closed && !p->we_closed)
		return EPROTO;
	return err ? err : ETIMEDOUT;
}

static void feat_print(FILE *f, unsigned feat)
{
	const char *sep = "";

	if (feat & XMPP_FEAT_STARTTLS) {
		fprintf(f, "starttls%s", feat & XMPP_FEAT_TLS_REQUIRED ?
			" (required)" : "");
		sep = ", ";
	}
	if (feat & XMPP_FEAT_DIALBACK) {
		fprintf(f, "%sdialback", sep);
		sep = ", ";
	}
	if (feat & XMPP_FEAT_SASL_EXTERNAL) {
		fprintf(f, "%ssasl external", sep);
		sep = ", ";
	}
	if (feat & XMPP_FEAT_SASL_OTHER) {
		fprintf(f, "%sother sasl mechanisms", sep);
		sep = ", ";
	}
	if (!sep[0])
		fprintf(f, "none we know");
}

/* Why a stream step failed, in words. */
static void x_why(struct peer *p, int err, char *buf, size_t sz)
{
	if (p->s2s_closed && !p->we_closed && p->serr != XMPP_SERR_NONE)
		re_snprintf(buf, sz, "stream error %s %s",
			    xmpp_serr_name(p->serr), p->serr_by_peer ?
			    "from the peer" : "sent by us (the peer broke "
			    "the protocol)");
	else if (p->s2s_closed && !p->we_closed)
		re_snprintf(buf, sz, "the peer closed its stream");
	else if (p->timeout)
		re_snprintf(buf, sz, "no answer in time");
	else if (p->tcp_closed)
		re_snprintf(buf, sz, "connection closed: %s",
			    tls_why(p->tcp_err));
	else
		re_snprintf(buf, sz, "%s", strerror(err));
}

static int x_step_tls(struct peer *p, const char *domain)
{
	struct sst_tls_peer info;
	uint64_t t0 = now_us();
	int err;

	err = sst_tls_start(&p->tls, p->ctx, p->tc, false, domain);
	if (!err)
		err = sst_tls_begin(p->tls);
	if (!err)
		err = x_wait(p, &p->tls_up);
	memset(&info, 0, sizeof(info));
	if (p->tls)
		(void)sst_tls_peer(p->tls, &info);
	if (!err && (info.verdict != SST_TLS_VALID ||
		     !sst_tls_peer_matches(p->tls, domain))) {
		fprintf(p->f, "tls handshake (name %s): failed (%.1f ms): the "
			"peer's certificate is not valid for %s; verdict %s%s"
			"%s\n", domain, ms_since(t0), domain,
			sst_tls_verdict_name(info.verdict),
			info.subject[0] ? ", peer " : "", info.subject);
		return EAUTH;
	}
	if (err)
		fprintf(p->f, "tls handshake (name %s): failed (%.1f ms): %s; "
			"verdict %s%s%s\n", domain, ms_since(t0),
			tls_why(err), sst_tls_verdict_name(info.verdict),
			info.subject[0] ? ", peer " : "", info.subject);
	else
		fprintf(p->f, "tls handshake (name %s): ok (%.1f ms): verdict "
			"%s, peer %s, %d days left, %s\n", domain,
			ms_since(t0), sst_tls_verdict_name(info.verdict),
			info.subject, info.days_left, info.cipher);
	return err;
}

static int probe_xmpp(struct peer *p, const struct sa *laddr)
{
	const char *domain = first_domain(p->ex);
	const char *local = p->cfg->community.domains.n ?
		p->cfg->community.domains.v[0] : NULL;
	struct xmpp_s2s_conf conf;
	char secret[33], why[160];
	uint64_t t0;
	int err;

	if (!domain || !local) {
		fprintf(p->f, "stream: failed: %s\n", !domain ?
			"the community has only wildcard domains: no domain "
			"to open a stream to" : "our Community has no Domain "
			"to open a stream from");
		return EINVAL;
	}
	/* never used: the stream is closed before dialback */
	rand_str(secret, sizeof(secret));
	memset(&conf, 0, sizeof(conf));
	conf.local = local;
	conf.remote = domain;
	conf.secret = secret;
	err = xmpp_s2s_alloc(&p->s, XMPP_S2S_OUT, &conf, x_send_h, x_ev_h,
			     p);
	if (err)
		return err;

	/* stream: our header, theirs and their features */
	t0 = now_us();
	err = tcp_conn_alloc(&p->tc, &p->dst, x_estab_h, x_recv_h,
			     x_close_h, p);
	if (!err)
		err = tcp_conn_bind(p->tc, laddr);
	if (!err)
		err = tcp_conn_connect(p->tc, &p->dst);
	if (!err)
		err = step_wait(p);
	if (err || !p->nfeat) {
		x_why(p, err, why, sizeof(why));
		fprintf(p->f, "stream to=%s from=%s: failed (%.1f ms): %s\n",
			domain, local, ms_since(t0), why);
		return err ? err : EPROTO;
	}
	fprintf(p->f, "stream to=%s from=%s: ok (%.1f ms): the peer's header "
		"and features: ", domain, local, ms_since(t0));
	feat_print(p->f, p->feat[0]);
	fprintf(p->f, "\n");

	/* starttls */
	t0 = now_us();
	if (!(p->feat[0] & XMPP_FEAT_STARTTLS)) {
		fprintf(p->f, "starttls: failed: the peer does not offer "
			"STARTTLS (RFC 7590: we send nothing without TLS)\n");
		return EPROTO;
	}
	err = x_wait(p, &p->proceed);
	if (err) {
		x_why(p, err, why, sizeof(why));
		fprintf(p->f, "starttls: failed (%.1f ms): %s\n", ms_since(t0),
			p->s2s_closed && p->serr_by_peer &&
			p->serr == XMPP_SERR_POLICY_VIOLATION ?
			"the peer answered <failure/>" : why);
		return err;
	}
	fprintf(p->f, "starttls: ok (%.1f ms): proceed\n", ms_since(t0));

	err = x_step_tls(p, domain);
	if (err)
		return err;

	/* the stream again, over TLS */
	t0 = now_us();
	err = xmpp_s2s_tls_ready(p->s);
	if (!err && p->nfeat < 2)
		err = step_wait(p);
	if (err || p->nfeat < 2) {
		x_why(p, err, why, sizeof(why));
		fprintf(p->f, "features: failed (%.1f ms, the stream restarted "
			"over TLS): %s\n", ms_since(t0), why);
		return err ? err : EPROTO;
	}
	fprintf(p->f, "features: ok (%.1f ms, the stream restarted over "
		"TLS): ", ms_since(t0));
	feat_print(p->f, p->feat[1]);
	fprintf(p->f, "\n");
	fprintf(p->f, "authentication not attempted: dialback needs the "
		"running connector's secret%s\n",
		p->feat[1] & (XMPP_FEAT_DIALBACK | XMPP_FEAT_SASL_EXTERNAL) ?
		"" : "; and the peer offers neither dialback nor SASL "
		"EXTERNAL: no stream of ours could authenticate");

	/* close: ours went out with the features, wait for theirs */
	t0 = now_us();
	if (!p->peer_end && !p->tcp_closed)
		(void)step_wait(p);
	if (p->peer_end || p->tcp_closed)
		fprintf(p->f, "close: ok (%.1f ms): </stream:stream> sent, %s\n",
			ms_since(t0), p->peer_end ? "the peer ended its "
			"stream" : "the peer closed the connection");
	else {
		fprintf(p->f, "close: failed (%.1f ms): </stream:stream> sent, "
			"the peer did not end its stream in time\n",
			ms_since(t0));
		return ETIMEDOUT;
	}
	return p->feat[1] & (XMPP_FEAT_DIALBACK | XMPP_FEAT_SASL_EXTERNAL) ?
		0 : EPROTO;
}

static int probe(struct peer *p, struct cn_resolve *res)
{
	struct sa laddr;
	int err;

	err = step_resolve(p, res);
	if (err)
		return err;
	if (sa_set_str(&laddr, p->self->ip, 0))
		return EINVAL;

	if (p->ex->protocol == CFG_PROTO_XMPP) {
		err = step_tcp(p, &p->dst, &laddr);
		return err ? err : probe_xmpp(p, &laddr);
	}
	if (p->hop->tp != CFG_TP_UDP) {
		err = step_tcp(p, &p->dst, &laddr);
		if (err)
			return err;
		err = step_tls(p, &p->dst, &laddr);
		if (err)
			return err;
	}
	err = step_options(p, &p->dst, &laddr);
	if (err)
		return err;
	return p->scode >= 200 && p->scode < 300 ? 0 : EPROTO;
}

int cn_cmd_check_peer(const struct cfg *cfg, const char *name,
		      const char *community, FILE *f)
{
	struct peer p;
	struct sst_dns *dns = NULL;
	struct sst_dns_conf dc;
	struct cn_resolve *res = NULL;
	char why[256];
	size_t i;
	int err;

	memset(&p, 0, sizeof(p));
	p.f = f;
	p.cfg = cfg;
	tmr_init(&p.tmr);
	tmr_init(&p.rtx);
	for (i = 0; i < cfg->nexterns; i++)
		if (!strcmp(cfg->externs[i].name, community))
			p.ex = &cfg->externs[i];
	if (!p.ex) {
		fprintf(stderr, "stconnector check: --peer: no ExternCommunity "
			"\"%s\" in %s\n", community, cfg->path);
		return CN_EXIT_FAIL;
	}
	for (i = 0; i < cfg->nconnectors; i++)
		if (!name || !strcmp(cfg->connectors[i].name, name))
			p.self = p.self ? p.self : &cfg->connectors[i];
	if (!p.self) {
		fprintf(stderr, "stconnector check: --peer: no "
			"CommunityConnector to probe from in %s\n", cfg->path);
		return CN_EXIT_FAIL;
	}

	fprintf(f, "peer %s: %s %s, from connector %s %s\n", p.ex->name,
		p.ex->proxy ? "proxy" : "domain",
		p.ex->proxy ? p.ex->proxy : first_domain(p.ex) ?
		first_domain(p.ex) : "(wildcards only)", p.self->name,
		p.self->ip);

	err = libre_init();
	if (err) {
		fprintf(stderr, "stconnector check: cannot start the event "
			"loop: %s\n", strerror(err));
		return CN_EXIT_FAIL;
	}
	if (p.ex->tp == CFG_TP_TLS || p.ex->protocol == CFG_PROTO_XMPP) {
		struct sst_tls_conf tl;

		memset(&tl, 0, sizeof(tl));
		tl.cert = cfg->tls.present ? cfg->tls.cert : NULL;
		tl.key = cfg->tls.present ? cfg->tls.key : NULL;
		tl.ca = cfg->tls.present ? cfg->tls.ca : NULL;
		tl.verify = cfg->tls.present &&
			cfg->tls.verify == CFG_VERIFY_REQUIRED;
		err = sst_tls_ctx_load(&p.ctx, &tl, NULL, why, sizeof(why));
		if (err) {
			fprintf(stderr, "stconnector check: --peer: Tls: %s\n",
				why[0] ? why : strerror(err));
			goto out;
		}
	}
	memset(&dc, 0, sizeof(dc));
	dc.servers = (const char *const *)cfg->dns.servers.v;
	dc.serverc = cfg->dns.servers.n;
	dc.timeout_ms = cfg->dns.timeout_ms;
	err = sst_dns_alloc(&dns, &dc);
	if (!err)
		err = cn_resolve_alloc(&res, dns);
	if (err) {
		fprintf(stderr, "stconnector check: --peer: DNS: %s\n",
			strerror(err));
		goto out;
	}

	err = probe(&p, res);
	fprintf(f, "peer %s: %s\n", p.ex->name, err ? "NOT reachable: the "
		"first failed step is above" :
		p.ex->protocol == CFG_PROTO_XMPP ? "reachable, a stream would "
		"open (authentication not attempted)" :
		"reachable, link would be up");
 out:
	tmr_cancel(&p.tmr);
	tmr_cancel(&p.rtx);
	p.tls = mem_deref(p.tls);
	p.tc = mem_deref(p.tc);
	p.s = mem_deref(p.s);
	p.us = mem_deref(p.us);
	mem_deref(p.req);
	mem_deref(p.rx);
	mem_deref(p.route);
	mem_deref(res);
	mem_deref(dns);
	mem_deref(p.ctx);
	libre_close();
	return err ? CN_EXIT_FAIL : CN_EXIT_OK;
}
