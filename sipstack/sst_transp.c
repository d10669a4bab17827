/*
 * sst_transp.c -- the transport object: settings, listeners, UDP in and
 * out, choosing or opening a pooled connection for a send, per-peer
 * records, counters and the one sweep timer.
 *
 * Connections themselves live in sst_conn.c.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <re.h>

#include "sipstack/sst_transp_int.h"

enum {
	POOL_BUCKETS = 256,
	PEER_BUCKETS = 256,
};

/**
 * Prepare the process for as many sockets as it may have: set the soft
 * RLIMIT_NOFILE to the hard limit, but at most maxfds (0 for
 * SST_FD_CEILING; a soft limit above it is lowered, so that no fd
 * number can pass libre's table), and size libre's fd table to that.
 * Must run after libre_init() and before anything registers a file
 * descriptor (listeners, DNS client, control socket): libre fixes the
 * table size at the first registration.  sst_fd_limit() then says
 * what the process got.
 *
 * @return 0, or the setrlimit()/fd_setsize() error
 */
int sst_transp_init(unsigned maxfds)
{
	struct rlimit rl;
	rlim_t want;
	int err = 0;

	if (!maxfds)
		maxfds = SST_FD_CEILING;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return errno;

	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > maxfds ?
		(rlim_t)maxfds : rl.rlim_max;
	if (rl.rlim_cur != want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			err = errno;
	}

	if (fd_setsize((int)sst_fd_limit()))
		return ENOMEM;

	return err;
}

/** The descriptor limit the process runs with (soft RLIMIT_NOFILE, at
 * most SST_FD_CEILING). */
unsigned sst_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SST_FD_CEILING)
		return SST_FD_CEILING;
	return (unsigned)rl.rlim_cur;
}

/**
 * Split fds descriptors: SST_FD_FIXED for the process's own sockets,
 * fds / 8 (within SST_FD_OUT_MIN..SST_FD_OUT_MAX) for connections we
 * open, the rest for inbound connections.  want_in is the configured
 * inbound cap, 0 for what the budget allows.
 *
 * @return 0; ERANGE when want_in is above what the budget allows (the
 *	cap is then the budget's); ENOSPC when fds leaves no room for
 *	inbound connections at all (b->in is 0)
 */
int sst_budget_calc(struct sst_budget *b, unsigned fds, unsigned want_in)
{
	unsigned out;

	if (!b)
		return EINVAL;

	memset(b, 0, sizeof(*b));
	b->fds = fds;
	b->fixed = SST_FD_FIXED;
	out = fds / 8;
	out = out < SST_FD_OUT_MIN ? SST_FD_OUT_MIN :
		out > SST_FD_OUT_MAX ? SST_FD_OUT_MAX : out;
	b->out = out;

	if (fds <= b->fixed + b->out)
		return ENOSPC;

	b->conns = fds - b->fixed;
	b->allowed = b->conns - b->out;
	if (want_in > b->allowed) {
		b->in = b->allowed;
		return ERANGE;
	}
	b->in = want_in ? want_in : b->allowed;
	return 0;
}

static void peer_destructor(void *data)
{
	struct sst_peer *peer = data;

	hash_unlink(&peer->he);
}

static bool peer_cmp(struct le *le, void *arg)
{
	const struct sst_peer *peer = le->data;

	return sa_cmp(&peer->ip, arg, SA_ADDR);
}

/** The record of the peer at addr's IP; created when asked and room. */
struct sst_peer *sst_peer_get(struct sst_transp *tp, const struct sa *addr,
			      bool create)
{
	struct sst_peer *peer;
	struct le *le;

	le = hash_lookup(tp->peers, sa_hash(addr, SA_ADDR), peer_cmp,
			 (void *)addr);
	if (le) {
		peer = le->data;
		peer->last = tmr_jiffies();
		return peer;
	}

	if (!create || tp->npeers >= tp->conf.max_peers)
		return NULL;

	peer = mem_zalloc(sizeof(*peer), peer_destructor);
	if (!peer)
		return NULL;

	peer->ip = *addr;
	sa_set_port(&peer->ip, 0);
	peer->last = tmr_jiffies();
	hash_append(tp->peers, sa_hash(addr, SA_ADDR), &peer->he, peer);
	++tp->npeers;

	return peer;
}

void sst_count_err(struct sst_transp *tp, enum sst_tp kind,
		   struct sst_peer *peer, enum sst_err e)
{
	tp->c[kind].err[e]++;
	if (peer)
		peer->c.err[e]++;
}

static bool peer_expire(struct le *le, void *arg)
{
	struct sst_peer *peer = le->data;
	struct sst_transp *tp = arg;

	if (!peer->nconns && tmr_jiffies() - peer->last >= tp->conf.idle_ms) {
		--tp->npeers;
		mem_deref(peer);
	}
	return false;
}

static void sweep_handler(void *arg)
{
	struct sst_transp *tp = arg;
	const uint64_t now = tmr_jiffies();
	struct le *le;

	tmr_start(&tp->sweep, tp->conf.sweep_ms, sweep_handler, tp);

	le = tp->conns.head;
	while (le) {
		struct sst_conn *conn = le->data;
		struct sst_conn *next = le->next ? mem_ref(le->next->data) : 0;

		sst_conn_tick(conn, now);

		/* a close handler run by this tick may have closed the next
		 * one too; then start over (ticks are idempotent) */
		le = next ? (next->tp ? &next->le : tp->conns.head) : NULL;
		mem_deref(next);
	}

	(void)hash_apply(tp->peers, peer_expire, tp);
}

static void lsnr_destructor(void *data)
{
	struct sst_lsnr *l = data;

	list_unlink(&l->le);
	mem_deref(l->us);
	mem_deref(l->ts);
}

static void destructor(void *data)
{
	struct sst_transp *tp = data;

	tmr_cancel(&tp->sweep);
	tp->recvh = NULL;  /* closing: no more handler calls */

	while (tp->conns.head) {
		struct sst_conn *conn = tp->conns.head->data;

		sst_conn_abort(conn, ECONNABORTED, -1);
	}

	list_flush(&tp->lsnrs);
	hash_flush(tp->peers);
	mem_deref(tp->peers);
	mem_deref(tp->pool);
}

#define DEFAULT(f, v) do { if (!tp->conf.f) tp->conf.f = (v); } while (0)

/* Ask for size bytes of receive and send buffer; a kernel that caps
 * it (net.core.rmem_max) is not an error.  Returns what was granted. */
static size_t udp_bufs(struct udp_sock *us, int af, unsigned size)
{
	const int fd = udp_sock_fd(us, af);
	int got = 0;
	socklen_t len = sizeof(got);

	(void)udp_sockbuf_set(us, (int)min(size, (unsigned)INT_MAX / 2));
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len))
		return 0;

	/* Linux reports twice the size asked for (its bookkeeping) */
	return (size_t)got / 2;
}

void sst_transp_sockbuf(const struct sst_transp *tp, const struct sa *bound,
			size_t *granted, size_t *asked)
{
	struct le *le;

	if (granted)
		*granted = 0;
	if (asked)
		*asked = 0;
	if (!tp || !bound)
		return;

	for (le = tp->lsnrs.head; le; le = le->next) {
		const struct sst_lsnr *l = le->data;

		if (l->kind != SST_TP_UDP ||
		    !sa_cmp(&l->laddr, bound, SA_ALL))
			continue;
		if (granted)
			*granted = l->rcvbuf;
		if (asked)
			*asked = tp->conf.sockbuf;
		return;
	}
}

/**
 * Create a transport.  Listeners are added with sst_transp_listen().
 *
 * @param tpp   Returned transport
 * @param conf  Settings (NULL: all defaults, no TLS)
 * @param recvh Called with every whole message received
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int sst_transp_alloc(struct sst_transp **tpp,
		     const struct sst_transp_conf *conf,
		     sst_recv_h *recvh, void *arg)
{
	struct sst_transp *tp;
	int err;

	if (!tpp || !recvh)
		return EINVAL;

	tp = mem_zalloc(sizeof(*tp), destructor);
	if (!tp)
		return ENOMEM;

	if (conf)
		tp->conf = *conf;
	if (!tp->conf.max_conns || !tp->conf.max_in) {
		struct sst_budget b;

		(void)sst_budget_calc(&b, sst_fd_limit(), 0);
		DEFAULT(max_conns, b.conns ? b.conns : 1);
		DEFAULT(max_in, b.in ? b.in : 1);
	}
	if (tp->conf.max_in > tp->conf.max_conns)
		tp->conf.max_in = tp->conf.max_conns;
	DEFAULT(max_per_ip, SST_TRANSP_MAX_PER_IP);
	DEFAULT(idle_ms, SST_TRANSP_IDLE_MS);
	DEFAULT(first_ms, SST_TRANSP_FIRST_MS);
	DEFAULT(connect_ms, SST_TRANSP_CONNECT_MS);
	DEFAULT(keepalive_ms, SST_TRANSP_KEEPALIVE_MS);
	DEFAULT(pong_ms, SST_TRANSP_PONG_MS);
	DEFAULT(sweep_ms, SST_TRANSP_SWEEP_MS);
	DEFAULT(garbage_max, SST_TRANSP_GARBAGE_MAX);
	tp->conf.lim = sst_limits_of(&tp->conf.lim);
	DEFAULT(max_peers, SST_TRANSP_MAX_PEERS);
	DEFAULT(sockbuf, SST_TRANSP_SOCKBUF);

	tp->recvh = recvh;
	tp->arg = arg;

	err = hash_alloc(&tp->pool, POOL_BUCKETS);
	if (err)
		goto out;
	err = hash_alloc(&tp->peers, PEER_BUCKETS);
	if (err)
		goto out;

	tmr_start(&tp->sweep, tp->conf.sweep_ms, sweep_handler, tp);

 out:
	if (err)
		mem_deref(tp);
	else
		*tpp = tp;
	return err;
}

static bool only_crlf(const struct mbuf *mb)
{
	size_t i;

	for (i = mb->pos; i < mb->end; i++) {
		if (mb->buf[i] != '\r' && mb->buf[i] != '\n')
			return false;
	}
	return true;
}

static void udp_recv_handler(const struct sa *src, struct mbuf *mb,
			     void *arg)
{
	struct sst_lsnr *l = arg;
	struct sst_transp *tp = l->tp;
	struct sst_counters *c = &tp->c[SST_TP_UDP];
	struct sst_peer *peer;
	struct sst_rx rx;
	const size_t n = mbuf_get_left(mb);

	c->bytes_in += n;
	if (only_crlf(mb)) {
		c->pings_in++;
		return;
	}
	/* the socket reads dgram_max + 1: more is a datagram cut short */
	if (n > tp->conf.lim.dgram_max) {
		sst_count_err(tp, SST_TP_UDP, NULL, SST_ERR_OVERSIZE);
		return;
	}

	c->msgs_in++;
	peer = sst_peer_get(tp, src, true);
	if (peer) {
		peer->c.msgs_in++;
		peer->c.bytes_in += n;
	}

	rx.tp = SST_TP_UDP;
	rx.src = src;
	rx.dst = &l->laddr;
	rx.conn = NULL;
	rx.oversize = false;
	if (tp->taph)
		tp->taph(true, sst_tp_name(SST_TP_UDP), src, &l->laddr, mbuf_buf(mb), n,
			 tp->taparg);
	tp->recvh(&rx, mb, tp->arg);
}

static void tcp_conn_handler(const struct sa *peer, void *arg)
{
	(void)sst_conn_accept(arg, peer);
}

/**
 * Listen for kind on laddr (port 0: any free port).
 *
 * @param bound Returned address actually bound, or NULL
 *
 * @return 0, ENOSYS for TLS without a TLS context, or the socket error
 */
int sst_transp_listen(struct sst_transp *tp, enum sst_tp kind,
		      const struct sa *laddr, struct sa *bound)
{
	struct sst_lsnr *l;
	int err;

	if (!tp || !laddr || kind >= SST_TP_N ||
	    (sa_af(laddr) != AF_INET && sa_af(laddr) != AF_INET6))
		return EINVAL;
	if (kind == SST_TP_TLS && !tp->conf.tls)
		return ENOSYS;

	l = mem_zalloc(sizeof(*l), lsnr_destructor);
	if (!l)
		return ENOMEM;

	l->tp = tp;
	l->kind = kind;

	if (kind == SST_TP_UDP) {
		err = udp_listen(&l->us, laddr, udp_recv_handler, l);
		if (!err) {
			/* libre reads 8 KiB of a datagram unless told */
			udp_rxsz_set(l->us, tp->conf.lim.dgram_max + 1);
			err = udp_local_get(l->us, &l->laddr);
		}
		if (!err)
			l->rcvbuf = udp_bufs(l->us, sa_af(laddr),
					     tp->conf.sockbuf);
	}
	else {
		/* not tcp_listen(): its backlog of 5 drops bursts of
		 * connections (seen in the TLS bench as handshake
		 * timeouts) */
		err = tcp_sock_alloc(&l->ts, laddr, tcp_conn_handler, l);
		if (!err)
			err = tcp_sock_bind(l->ts, laddr);
		if (!err)
			err = tcp_sock_listen(l->ts, SST_TRANSP_BACKLOG);
		if (!err)
			err = tcp_sock_local_get(l->ts, &l->laddr);
	}
	if (err)
		goto out;

	list_append(&tp->lsnrs, &l->le, l);
	if (bound)
		*bound = l->laddr;

 out:
	if (err)
		mem_deref(l);
	return err;
}

/* The UDP socket to send from: bound to laddr's IP (and port, if set),
 * else the first one of dst's family. */
static struct sst_lsnr *udp_lsnr(struct sst_transp *tp, const struct sa *dst,
				 const struct sa *laddr)
{
	struct le *le;

	for (le = tp->lsnrs.head; le; le = le->next) {
		struct sst_lsnr *l = le->data;

		if (l->kind != SST_TP_UDP || sa_af(&l->laddr) != sa_af(dst))
			continue;
		if (!laddr)
			return l;
		if (!sa_cmp(&l->laddr, laddr, SA_ADDR))
			continue;
		if (sa_port(laddr) && sa_port(laddr) != sa_port(&l->laddr))
			continue;
		return l;
	}

	return NULL;
}

/**
 * Send a message: over UDP from the listening socket of laddr, over
 * TCP/TLS on the pooled connection for (kind, dst, tls_name) from
 * laddr's IP, opening one if needed.  A message for a connection still
 * coming up is copied and queued; if the connection then fails, errh
 * gets the error, unless the caller dropped the handle first.
 *
 * @param tp       Transport
 * @param sendp    Optional: returned handle when the message was queued
 *		   (mem_deref cancels errh), else set to NULL
 * @param kind     Transport
 * @param dst      Destination address
 * @param laddr    Local address to send from, or NULL for any
 * @param tls_name Name the peer certificate must match (TLS only)
 * @param mb       Message from mb->pos to mb->end
 * @param errh     Asynchronous failure handler, or NULL
 * @param arg      Handler argument
 *
 * @return 0, EADDRNOTAVAIL (no UDP socket on laddr), EMFILE (connection
 *	limit), ENOSPC (queue full), ENOSYS (TLS not available), or the
 *	socket error
 */
int sst_transp_send(struct sst_transp *tp, struct sst_send **sendp,
		    enum sst_tp kind, const struct sa *dst,
		    const struct sa *laddr, const char *tls_name,
		    struct mbuf *mb, sst_send_h *errh, void *arg)
{
	struct sst_conn *conn;
	int err;

	if (sendp)
		*sendp = NULL;
	if (!tp || !dst || !sa_isset(dst, SA_ALL) || !mb ||
	    !mbuf_get_left(mb) || kind >= SST_TP_N)
		return EINVAL;

	if (kind == SST_TP_UDP) {
		struct sst_lsnr *l = udp_lsnr(tp, dst, laddr);
		struct sst_peer *peer;
		const size_t n = mbuf_get_left(mb);

		if (!l)
			return EADDRNOTAVAIL;

		err = udp_send(l->us, dst, mb);
		if (err) {
			sst_count_err(tp, kind, NULL, SST_ERR_SEND);
			return err;
		}
		if (tp->taph)
			tp->taph(false, sst_tp_name(kind), dst, &l->laddr, mbuf_buf(mb), n,
				 tp->taparg);

		tp->c[kind].msgs_out++;
		tp->c[kind].bytes_out += n;
		peer = sst_peer_get(tp, dst, true);
		if (peer) {
			peer->c.msgs_out++;
			peer->c.bytes_out += n;
		}
		return 0;
	}

	if (kind != SST_TP_TLS)
		tls_name = NULL;

	conn = sst_conn_find(tp, kind, dst, laddr, tls_name);
	if (!conn) {
		err = sst_conn_open(&conn, tp, kind, dst, laddr, tls_name);
		if (err)
			return err;
	}

	return sst_conn_queue(conn, sendp, mb, errh, arg);
}

/**
 * Set (or with NULL remove) the tap that sees every message in and out.
 *
 * @param tp   Transport
 * @param taph Tap handler, or NULL
 * @param arg  Its argument
 */
void sst_transp_tap(struct sst_transp *tp, sst_tap_h *taph, void *arg)
{
	if (!tp)
		return;
	tp->taph = taph;
	tp->taparg = taph ? arg : NULL;
}

/**
 * Set (or with NULL remove) the handler told of every connection
 * admission refused or evicted (for the daemon's counters and log).
 */
void sst_transp_admit(struct sst_transp *tp, sst_admit_h *admith, void *arg)
{
	if (!tp)
		return;
	tp->admith = admith;
	tp->admitarg = admith ? arg : NULL;
}

/** Connections against the caps, for status screens. */
void sst_transp_admission(const struct sst_transp *tp,
			  struct sst_admission *a)
{
	if (!a)
		return;
	memset(a, 0, sizeof(*a));
	if (!tp)
		return;
	a->max_conns = tp->conf.max_conns;
	a->max_in = tp->conf.max_in;
	a->conns = tp->nconns;
	a->in = tp->nin;
	a->untrusted = tp->nuntrusted;
}

/**
 * Use ctx for TLS connections opened or accepted from now on (after a
 * certificate rotation); connections already up keep the credentials
 * they started with, each holding its own reference.  The caller owns
 * ctx, as it owns sst_transp_conf.tls.
 */
void sst_transp_tls_set(struct sst_transp *tp, struct sst_tls_ctx *ctx)
{
	if (!tp)
		return;
	tp->conf.tls = ctx;
}

/** The message limits in effect, defaults filled in. */
const struct sst_limits *sst_transp_limits(const struct sst_transp *tp)
{
	return tp ? &tp->conf.lim : NULL;
}

/** Counters of one transport kind, for status screens. */
const struct sst_counters *sst_transp_counters(const struct sst_transp *tp,
					       enum sst_tp kind)
{
	if (!tp || kind >= SST_TP_N)
		return NULL;

	return &tp->c[kind];
}

/**
 * Counters of the peer at ip's address (all transports together) and
 * its number of open connections.
 *
 * @return 0, or ENOENT when no record exists for that address
 */
int sst_transp_peer_counters(const struct sst_transp *tp,
			     const struct sa *ip, struct sst_counters *c,
			     unsigned *nconns)
{
	struct sst_peer *peer;

	if (!tp || !ip)
		return EINVAL;

	peer = sst_peer_get((struct sst_transp *)tp, ip, false);
	if (!peer)
		return ENOENT;

	if (c)
		*c = peer->c;
	if (nconns)
		*nconns = peer->nconns;
	return 0;
}

/** Open TCP and TLS connections. */
unsigned sst_transp_nconns(const struct sst_transp *tp)
{
	return tp ? tp->nconns : 0;
}

const char *sst_tp_name(enum sst_tp kind)
{
	switch (kind) {

	case SST_TP_UDP: return "udp";
	case SST_TP_TCP: return "tcp";
	case SST_TP_TLS: return "tls";
	default:         return "?";
	}
}

const char *sst_admit_name(enum sst_admit ev)
{
	switch (ev) {

	case SST_ADMIT_PER_IP:  return "per-ip-limit";
	case SST_ADMIT_FULL:    return "cap-reached";
	case SST_ADMIT_EVICTED: return "evicted";
	default:                return "?";
	}
}

const char *sst_err_name(enum sst_err e)
{
	static const char *const names[SST_ERR_N] = {
		"framing", "oversize", "garbage", "connect-failure",
		"idle-timeout", "timeout", "limit", "tls-failure",
		"send-failure", "evicted",
	};

	return e < SST_ERR_N ? names[e] : "?";
}

/** Print listeners, connections and counters, one key=value line each. */
int sst_transp_debug(struct re_printf *pf, const struct sst_transp *tp)
{
	struct le *le;
	int err = 0;
	int k, e;

	if (!tp)
		return 0;

	for (le = tp->lsnrs.head; le; le = le->next) {
		const struct sst_lsnr *l = le->data;

		err |= re_hprintf(pf, "listen %s %J\n", sst_tp_name(l->kind),
				  &l->laddr);
	}

	err |= re_hprintf(pf, "connections=%u inbound=%u untrusted=%u"
			  " max_connections=%u max_inbound=%u peers=%u\n",
			  tp->nconns, tp->nin, tp->nuntrusted,
			  tp->conf.max_conns, tp->conf.max_in, tp->npeers);

	for (k = 0; k < SST_TP_N; k++) {
		const struct sst_counters *c = &tp->c[k];

		err |= re_hprintf(pf, "%s msgs_in=%llu msgs_out=%llu"
				  " bytes_in=%llu bytes_out=%llu"
				  " conns_in=%llu conns_out=%llu",
				  sst_tp_name(k), c->msgs_in, c->msgs_out,
				  c->bytes_in, c->bytes_out, c->conns_in,
				  c->conns_out);
		for (e = 0; e < SST_ERR_N; e++)
			err |= re_hprintf(pf, " %s=%llu", sst_err_name(e),
					  c->err[e]);
		err |= re_hprintf(pf, "\n");
	}

	return err;
}
