/*
 * sst_conn.c -- one TCP or TLS connection of the transport: accept or
 * connect (bound to a chosen local address), TLS start, framing, CRLF
 * keep-alives, the queue of messages waiting for the connection to come
 * up, the checks the sweep runs, and closing.
 *
 * A connection is in sst_transp.conns from creation to close, and that
 * list holds the transport's reference.  Closing drops the socket, the
 * TLS session, the peer and that reference at once; whoever else holds
 * a reference keeps a dead object on which every call is harmless.
 */
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <re.h>

#include "sipstack/sst_frame.h"
#include "sipstack/sst_tls.h"
#include "sipstack/sst_transp_int.h"

/*
 * TLS wiring.  Define as 0 to build without the TLS layer (sst_tls.c):
 * TLS listeners and connections then fail with ENOSYS.
 */
#ifndef SST_TRANSP_WITH_TLS
#define SST_TRANSP_WITH_TLS 1
#endif

static const uint8_t crlf[] = "\r\n\r\n";

static void qent_destructor(void *data)
{
	struct sst_qent *qe = data;

	list_unlink(&qe->le);
	if (qe->handle)
		qe->handle->qe = NULL;
	mem_deref(qe->mb);
}

static void send_destructor(void *data)
{
	struct sst_send *s = data;

	if (s->qe) {
		s->qe->handle = NULL;
		s->qe->h = NULL;
	}
}

/* Drop every queued message; report err to those who asked. */
static void txq_fail(struct sst_conn *conn, int err, bool notify)
{
	while (conn->txq.head) {
		struct sst_qent *qe = conn->txq.head->data;
		sst_send_h *h = notify ? qe->h : NULL;
		void *arg = qe->arg;

		mem_deref(qe);
		if (h)
			h(err, arg);
	}
	conn->ntxq = 0;
}

/* Release everything but the object itself. */
static void teardown(struct sst_conn *conn)
{
	struct sst_transp *tp = conn->tp;

	hash_unlink(&conn->he);
	hash_unlink(&conn->he_alias);
	list_unlink(&conn->le);
	if (conn->le_untr.list) {
		list_unlink(&conn->le_untr);
		if (tp && tp->nuntrusted)
			--tp->nuntrusted;
	}

	conn->tls = mem_deref(conn->tls);
	conn->tc  = mem_deref(conn->tc);
	conn->fr  = mem_deref(conn->fr);

	if (conn->peer && conn->peer->nconns)
		--conn->peer->nconns;
	conn->peer = mem_deref(conn->peer);

	if (tp && tp->nconns)
		--tp->nconns;
	if (tp && !conn->outbound && tp->nin)
		--tp->nin;
	conn->tp = NULL;
	conn->up = false;
}

static void destructor(void *data)
{
	struct sst_conn *conn = data;

	txq_fail(conn, ECONNABORTED, false);
	teardown(conn);
	mem_deref(conn->name);
	mem_deref(conn->alias_name);
}

/**
 * Close a connection now.  Queued messages fail with err (ECONNRESET
 * for an orderly close).  kind is the error counter to bump, or -1.
 */
void sst_conn_abort(struct sst_conn *conn, int err, int kind)
{
	struct sst_transp *tp;

	if (!conn || !conn->tp)
		return;

	tp = conn->tp;
	if (kind >= 0)
		sst_count_err(tp, conn->kind, conn->peer, (enum sst_err)kind);

	mem_ref(conn);
	teardown(conn);
	txq_fail(conn, err ? err : ECONNRESET, tp->recvh != NULL);
	mem_deref(conn);  /* the transport's reference */
	mem_deref(conn);
}

static void count_out(struct sst_conn *conn, size_t n)
{
	struct sst_counters *c = &conn->tp->c[conn->kind];

	c->msgs_out++;
	c->bytes_out += n;
	if (conn->peer) {
		conn->peer->c.msgs_out++;
		conn->peer->c.bytes_out += n;
		conn->peer->last = tmr_jiffies();
	}
	conn->t_msg = tmr_jiffies();
}

static int send_now(struct sst_conn *conn, struct mbuf *mb)
{
	const struct sst_transp *tp = conn->tp;
	const size_t n = mbuf_get_left(mb);
	int err;

	if (tp->taph)
		tp->taph(false, sst_tp_name(conn->kind), &conn->raddr, &conn->laddr,
			 mbuf_buf(mb), n, tp->taparg);
	err = tcp_send(conn->tc, mb);
	if (err) {
		sst_conn_abort(conn, err, SST_ERR_SEND);
		return err;
	}

	count_out(conn, n);
	return 0;
}

static void set_nodelay(struct tcp_conn *tc)
{
	const int on = 1;
	int fd = tcp_conn_fd(tc);

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
				 sizeof(on));
}

static void estab_handler(void *arg)
{
	struct sst_conn *conn = arg;
	uint64_t now = tmr_jiffies();

	if (!conn->tp)
		return;

	conn->up = true;
	conn->t_msg = now;
	conn->t_rx = now;
	(void)tcp_conn_local_get(conn->tc, &conn->laddr);

	mem_ref(conn);
	while (conn->tp && conn->txq.head) {
		struct sst_qent *qe = conn->txq.head->data;
		struct mbuf *mb = mem_ref(qe->mb);

		--conn->ntxq;
		mem_deref(qe);
		(void)send_now(conn, mb);
		mem_deref(mb);
	}
	mem_deref(conn);
}

/*
 * Stop reading, and close once what we sent had time to leave: closing
 * with unread input makes the kernel send a reset, which can destroy
 * an answer still on its way (RFC 7230 6.6 calls this lingering close).
 * Our half of the stream is shut at once when nothing is queued, so
 * the peer sees the end right after the answer.
 */
static void linger(struct sst_conn *conn)
{
	const int fd = tcp_conn_fd(conn->tc);

	conn->linger = true;
	conn->t_linger = tmr_jiffies();
	if (!conn->tls && fd >= 0 && !tcp_conn_txqsz(conn->tc))
		(void)shutdown(fd, SHUT_WR);
}

/*
 * A stream message over the size limit: counted, and when its header
 * block is whole, handed up (rx.oversize) so the layer above can
 * answer 413/513 before the connection closes.
 */
static void oversize(struct sst_conn *conn)
{
	struct sst_transp *tp = conn->tp;
	struct mbuf *head = NULL;
	struct sst_rx rx;

	sst_count_err(tp, conn->kind, conn->peer, SST_ERR_OVERSIZE);

	if (!sst_frame_head(conn->fr, &head)) {
		rx.tp = conn->kind;
		rx.src = &conn->raddr;
		rx.dst = &conn->laddr;
		rx.conn = conn;
		rx.oversize = true;
		if (tp->taph)
			tp->taph(true, sst_tp_name(conn->kind), &conn->raddr,
				 &conn->laddr, mbuf_buf(head),
				 mbuf_get_left(head), tp->taparg);
		tp->recvh(&rx, head, tp->arg);
		mem_deref(head);
	}

	if (conn->tp)
		linger(conn);
}

static void recv_handler(struct mbuf *mb, void *arg)
{
	struct sst_conn *conn = arg;
	struct sst_transp *tp = conn->tp;
	const size_t n = mbuf_get_left(mb);
	uint64_t now = tmr_jiffies();
	int err;

	if (!tp)
		return;

	conn->t_rx = now;
	conn->ping_out = false;
	tp->c[conn->kind].bytes_in += n;
	if (conn->peer) {
		conn->peer->c.bytes_in += n;
		conn->peer->last = now;
	}
	if (conn->linger)
		return;  /* answered and closing: the rest is dropped */

	err = sst_frame_push(conn->fr, mbuf_buf(mb), n);
	if (err) {
		sst_conn_abort(conn, err, SST_ERR_FRAMING);
		return;
	}

	mem_ref(conn);
	while (conn->tp) {
		struct sst_rx rx;
		struct mbuf *msg;
		bool ping;

		err = sst_frame_next(conn->fr, &msg, &ping);
		if (err == ENODATA)
			break;
		if (err == EMSGSIZE) {
			oversize(conn);
			break;
		}
		if (err) {
			sst_conn_abort(conn, err, SST_ERR_FRAMING);
			break;
		}

		if (ping) {
			struct mbuf pong;

			tp->c[conn->kind].pings_in++;
			mbuf_init(&pong);
			pong.buf = (uint8_t *)crlf;
			pong.size = pong.end = 2;
			if (tcp_send(conn->tc, &pong))
				sst_conn_abort(conn, EPIPE, SST_ERR_SEND);
			continue;
		}

		tp->c[conn->kind].msgs_in++;
		if (conn->peer)
			conn->peer->c.msgs_in++;
		conn->got_msg = true;
		conn->t_msg = now;

		rx.tp = conn->kind;
		rx.src = &conn->raddr;
		rx.dst = &conn->laddr;
		rx.conn = conn;
		rx.oversize = false;
		if (tp->taph)
			tp->taph(true, sst_tp_name(conn->kind), &conn->raddr, &conn->laddr,
				 mbuf_buf(msg), mbuf_get_left(msg), tp->taparg);
		tp->recvh(&rx, msg, tp->arg);
		mem_deref(msg);
	}
	mem_deref(conn);
}

static void close_handler(int err, void *arg)
{
	struct sst_conn *conn = arg;
	int kind = -1;

	if (!conn->tp)
		return;

#if SST_TRANSP_WITH_TLS
	/* the TLS layer knows why it ended the connection (libre reports
	 * its handshake deadline as an orderly close) */
	if (conn->tls && sst_tls_error(conn->tls)) {
		err = sst_tls_error(conn->tls);
		if (err == EAUTH || err == EPROTO || !conn->up)
			kind = SST_ERR_TLS;
	}
#endif

	if (kind >= 0)
		;
	else if (conn->kind == SST_TP_TLS && (err == EAUTH || err == EPROTO))
		kind = SST_ERR_TLS;
	else if (conn->outbound && !conn->up)
		kind = SST_ERR_CONNECT;
	else if (err == ETIMEDOUT)
		kind = SST_ERR_TIMEOUT;  /* TLS handshake timer, kernel */

	sst_conn_abort(conn, err, kind);
}

static void admit_report(struct sst_transp *tp, enum sst_admit ev,
			 enum sst_tp kind, const struct sa *peer)
{
	if (tp->admith)
		tp->admith(ev, kind, peer, tp->admitarg);
}

/*
 * Make room for one more connection (inbound unless outbound): while
 * the inbound cap or the total is reached, close the oldest inbound
 * connection that was never trusted.  EMFILE when there is none left.
 */
static int admit(struct sst_transp *tp, enum sst_tp kind,
		 const struct sa *raddr, bool outbound)
{
	while (tp->nconns >= tp->conf.max_conns ||
	       (!outbound && tp->nin >= tp->conf.max_in)) {
		struct sst_conn *v = list_ledata(list_head(&tp->untrusted));
		enum sst_tp vkind;
		struct sa peer;

		if (!v) {
			admit_report(tp, SST_ADMIT_FULL, kind, raddr);
			return EMFILE;
		}
		peer = v->raddr;
		vkind = v->kind;
		sst_conn_abort(v, ECONNRESET, SST_ERR_EVICTED);
		admit_report(tp, SST_ADMIT_EVICTED, vkind, &peer);
	}
	return 0;
}

static int conn_alloc(struct sst_conn **connp, struct sst_transp *tp,
		      enum sst_tp kind, const struct sa *raddr, bool outbound)
{
	struct sst_conn *conn;
	struct sst_peer *peer;
	int err;

	if (kind == SST_TP_TLS && (!SST_TRANSP_WITH_TLS || !tp->conf.tls))
		return ENOSYS;

	peer = sst_peer_get(tp, raddr, true);
	if (!peer || peer->nconns >= tp->conf.max_per_ip) {
		sst_count_err(tp, kind, peer, SST_ERR_LIMIT);
		admit_report(tp, SST_ADMIT_PER_IP, kind, raddr);
		return EMFILE;
	}

	mem_ref(peer);	/* an eviction may drop the last other holder */
	err = admit(tp, kind, raddr, outbound);
	if (err) {
		sst_count_err(tp, kind, peer, SST_ERR_LIMIT);
		mem_deref(peer);
		return err;
	}

	conn = mem_zalloc(sizeof(*conn), destructor);
	if (!conn) {
		mem_deref(peer);
		return ENOMEM;
	}

	err = sst_frame_alloc(&conn->fr, &tp->conf.lim);
	if (err) {
		mem_deref(peer);
		mem_deref(conn);
		return err;
	}

	conn->tp = tp;
	conn->kind = kind;
	conn->raddr = *raddr;
	conn->peer = peer;
	conn->outbound = outbound;
	conn->trusted = outbound;
	conn->t_start = conn->t_msg = conn->t_rx = tmr_jiffies();
	++peer->nconns;
	++tp->nconns;
	list_append(&tp->conns, &conn->le, conn);
	if (!outbound) {
		++tp->nin;
		++tp->nuntrusted;
		list_append(&tp->untrusted, &conn->le_untr, conn);
	}

	*connp = conn;
	return 0;
}

static int tls_start(struct sst_conn *conn, bool server)
{
#if SST_TRANSP_WITH_TLS
	return sst_tls_start(&conn->tls, conn->tp->conf.tls, conn->tc, server,
			     conn->name);
#else
	(void)conn;
	(void)server;
	return ENOSYS;
#endif
}

/**
 * Accept the connection pending on a TCP or TLS listener, or reject it
 * when a limit says no.  Must run inside the listener's handler.
 */
int sst_conn_accept(struct sst_lsnr *lsnr, const struct sa *peer)
{
	struct sst_transp *tp = lsnr->tp;
	struct sst_conn *conn = NULL;
	int err;

	err = conn_alloc(&conn, tp, lsnr->kind, peer, false);
	if (err) {
		tcp_reject(lsnr->ts);
		return err;
	}

	err = tcp_accept(&conn->tc, lsnr->ts, estab_handler, recv_handler,
			 close_handler, conn);
	if (err) {
		tcp_reject(lsnr->ts);
		goto out;
	}

	set_nodelay(conn->tc);
	if (tcp_conn_local_get(conn->tc, &conn->laddr))
		conn->laddr = lsnr->laddr;

	if (lsnr->kind == SST_TP_TLS)
		err = tls_start(conn, true);

	tp->c[lsnr->kind].conns_in++;
	conn->peer->c.conns_in++;

 out:
	if (err)
		sst_conn_abort(conn, err, -1);
	return err;
}

/**
 * Open a connection to dst from laddr (port ignored; NULL lets the
 * kernel choose) and put it in the pool.  Connect failures arrive later
 * through the queued messages' handlers.
 */
int sst_conn_open(struct sst_conn **connp, struct sst_transp *tp,
		  enum sst_tp kind, const struct sa *dst,
		  const struct sa *laddr, const char *name)
{
	struct sst_conn *conn = NULL;
	int err;

	err = conn_alloc(&conn, tp, kind, dst, true);
	if (err)
		return err;

	if (name && kind == SST_TP_TLS) {
		err = str_dup(&conn->name, name);
		if (err)
			goto out;
	}

	err = tcp_conn_alloc(&conn->tc, dst, estab_handler, recv_handler,
			     close_handler, conn);
	if (err)
		goto out;

	if (laddr) {
		struct sa local = *laddr;

		sa_set_port(&local, 0);
		err = tcp_conn_bind(conn->tc, &local);
		if (err)
			goto out;
		conn->laddr = local;
	}

	set_nodelay(conn->tc);

	if (kind == SST_TP_TLS) {
		err = tls_start(conn, false);
		if (err)
			goto out;
	}

	err = tcp_conn_connect(conn->tc, dst);
	if (err)
		goto out;

	hash_append(tp->pool, sa_hash(dst, SA_ALL), &conn->he, conn);
	tp->c[kind].conns_out++;
	conn->peer->c.conns_out++;

 out:
	if (err) {
		sst_conn_abort(conn, err, SST_ERR_CONNECT);
		return err;
	}

	*connp = conn;
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !str_casecmp(a, b);
}

struct find {
	enum sst_tp kind;
	const struct sa *dst;
	const struct sa *laddr;
	const char *name;
};

static bool find_handler(struct le *le, void *arg)
{
	const struct sst_conn *conn = le->data;
	const struct find *f = arg;

	if (conn->kind != f->kind || !conn->tp)
		return false;
	if (f->laddr && !sa_cmp(&conn->laddr, f->laddr, SA_ADDR))
		return false;

	if (conn->outbound && sa_cmp(&conn->raddr, f->dst, SA_ALL) &&
	    (conn->kind != SST_TP_TLS || name_eq(conn->name, f->name)))
		return true;

	return conn->aliased && sa_cmp(&conn->alias, f->dst, SA_ALL) &&
		(conn->kind != SST_TP_TLS ||
		 name_eq(conn->alias_name, f->name));
}

/** The pooled connection for (kind, dst, TLS name) from laddr, if any. */
struct sst_conn *sst_conn_find(struct sst_transp *tp, enum sst_tp kind,
			       const struct sa *dst, const struct sa *laddr,
			       const char *name)
{
	struct find f = {kind, dst, laddr, name};
	struct le *le;

	le = hash_lookup(tp->pool, sa_hash(dst, SA_ALL), find_handler, &f);
	return le ? le->data : NULL;
}

/** Send now if the connection is up, else queue a copy of mb. */
int sst_conn_queue(struct sst_conn *conn, struct sst_send **sendp,
		   struct mbuf *mb, sst_send_h *h, void *arg)
{
	struct sst_qent *qe;
	struct sst_send *s = NULL;
	int err;

	if (conn->up)
		return send_now(conn, mb);

	if (conn->ntxq >= SST_TRANSP_TXQ_MAX)
		return ENOSPC;

	qe = mem_zalloc(sizeof(*qe), qent_destructor);
	if (!qe)
		return ENOMEM;

	qe->mb = mbuf_alloc(mbuf_get_left(mb));
	if (!qe->mb) {
		err = ENOMEM;
		goto out;
	}
	err = mbuf_write_mem(qe->mb, mbuf_buf(mb), mbuf_get_left(mb));
	if (err)
		goto out;
	qe->mb->pos = 0;

	if (sendp) {
		s = mem_zalloc(sizeof(*s), send_destructor);
		if (!s) {
			err = ENOMEM;
			goto out;
		}
		s->qe = qe;
		qe->handle = s;
	}

	qe->h = h;
	qe->arg = arg;
	list_append(&conn->txq, &qe->le, qe);
	++conn->ntxq;

 out:
	if (err) {
		mem_deref(qe);
		return err;
	}
	if (sendp)
		*sendp = s;
	return 0;
}

/** The sweep's checks for one connection; may close it. */
void sst_conn_tick(struct sst_conn *conn, uint64_t now)
{
	const struct sst_transp_conf *cf = &conn->tp->conf;

	if (conn->linger) {
		if (now - conn->t_linger >= SST_TRANSP_LINGER_MS)
			sst_conn_abort(conn, 0, -1);
		return;
	}

	if (!conn->up) {
		if (conn->outbound && now - conn->t_start >= cf->connect_ms)
			sst_conn_abort(conn, ETIMEDOUT, SST_ERR_CONNECT);
		else if (!conn->outbound &&
			 now - conn->t_start >= cf->first_ms)
			sst_conn_abort(conn, ETIMEDOUT, SST_ERR_TIMEOUT);
		return;
	}

	if (!conn->outbound && !conn->got_msg &&
	    now - conn->t_start >= cf->first_ms) {
		sst_conn_abort(conn, ETIMEDOUT, SST_ERR_TIMEOUT);
		return;
	}

	if (now - conn->t_msg >= cf->idle_ms) {
		sst_conn_abort(conn, 0, SST_ERR_IDLE);
		return;
	}

	if (!conn->outbound)
		return;

	if (conn->ping_out) {
		if (now - conn->t_ping >= cf->pong_ms)
			sst_conn_abort(conn, ETIMEDOUT, SST_ERR_TIMEOUT);
	}
	else if (now - conn->t_rx >= cf->keepalive_ms &&
		 now - conn->t_ping >= cf->keepalive_ms) {
		struct mbuf ping;

		mbuf_init(&ping);
		ping.buf = (uint8_t *)crlf;
		ping.size = ping.end = 4;
		if (tcp_send(conn->tc, &ping)) {
			sst_conn_abort(conn, EPIPE, SST_ERR_SEND);
			return;
		}
		conn->tp->c[conn->kind].pings_out++;
		conn->ping_out = true;
		conn->t_ping = now;
	}
}

/**
 * Send a message over this connection: a response goes back the way
 * its request came.  Queued while the connection is still coming up.
 *
 * @return 0, ENOTCONN once closed, or the socket error (which closes)
 */
int sst_conn_send(struct sst_conn *conn, struct mbuf *mb)
{
	if (!conn || !mb || !mbuf_get_left(mb))
		return EINVAL;
	if (!conn->tp)
		return ENOTCONN;

	return sst_conn_queue(conn, NULL, mb, NULL, NULL);
}

/**
 * The layer above found a malformed message on this connection.  After
 * garbage_max of them the peer is disconnected.
 */
void sst_conn_garbage(struct sst_conn *conn)
{
	if (!conn || !conn->tp)
		return;

	sst_count_err(conn->tp, conn->kind, conn->peer, SST_ERR_GARBAGE);
	if (++conn->garbage >= conn->tp->conf.garbage_max)
		sst_conn_abort(conn, EBADMSG, -1);
}

/**
 * The layer above accepted a request on this connection from a source
 * it trusts (a configured gateway, a community's proxy that passed the
 * trust check): from now on admission never evicts it.
 */
void sst_conn_trust(struct sst_conn *conn)
{
	if (!conn || !conn->tp || conn->trusted)
		return;

	conn->trusted = true;
	if (conn->le_untr.list) {
		list_unlink(&conn->le_untr);
		if (conn->tp->nuntrusted)
			--conn->tp->nuntrusted;
	}
}

bool sst_conn_trusted(const struct sst_conn *conn)
{
	return conn && conn->tp && conn->trusted;
}

/**
 * Let requests to alias (RFC 5923 Via ";alias", sent-by of the peer)
 * reuse this connection.  Over TLS, name is the name the caller
 * verified the peer certificate for; requests expecting another name
 * do not match.
 */
int sst_conn_alias(struct sst_conn *conn, const struct sa *alias,
		   const char *tls_name)
{
	char *name = NULL;
	int err;

	if (!conn || !alias || !sa_isset(alias, SA_ALL))
		return EINVAL;
	if (!conn->tp)
		return ENOTCONN;

	if (tls_name) {
		err = str_dup(&name, tls_name);
		if (err)
			return err;
	}

	hash_unlink(&conn->he_alias);
	mem_deref(conn->alias_name);
	conn->alias_name = name;
	conn->alias = *alias;
	conn->aliased = true;
	hash_append(conn->tp->pool, sa_hash(alias, SA_ALL), &conn->he_alias,
		    conn);
	return 0;
}

/** Close the connection (for example on administrative disable). */
void sst_conn_close(struct sst_conn *conn)
{
	sst_conn_abort(conn, ECONNABORTED, -1);
}

bool sst_conn_up(const struct sst_conn *conn)
{
	return conn && conn->tp && conn->up;
}

enum sst_tp sst_conn_tp(const struct sst_conn *conn)
{
	return conn ? conn->kind : SST_TP_N;
}

const struct sa *sst_conn_peer(const struct sst_conn *conn)
{
	return conn ? &conn->raddr : NULL;
}

const struct sa *sst_conn_local(const struct sst_conn *conn)
{
	return conn ? &conn->laddr : NULL;
}

/** The TLS session (for sst_tls_peer()), NULL for TCP or once closed. */
struct sst_tls *sst_conn_tls(const struct sst_conn *conn)
{
	return conn ? conn->tls : NULL;
}
