/*
 * sst_tls.c -- GnuTLS sessions carried by libre TCP connections.
 *
 * Each sst_tls is a libre tcp helper on one tcp_conn.  GnuTLS never
 * touches the socket: its push function hands ciphertext to the layer
 * below through tcp_send_helper() (which queues what the kernel does not
 * take, so push never sees EAGAIN, only ENOSPC once libre's queue is
 * full), and its pull function reads from the chunk libre just received.
 * The receive helper decrypts in place of that chunk, so the connection's
 * own recv handler only ever sees plaintext.
 *
 * GnuTLS reports GNUTLS_E_AGAIN also when input is still waiting in the
 * chunk (for example after a TLS 1.3 post-handshake message), so every
 * loop below runs until the chunk is empty or GnuTLS stops consuming;
 * what it leaves is kept for the next chunk.
 *
 * Handshake deadline: one libre timer per connection, armed only while
 * handshaking.  All connections of one context share the same duration,
 * so libre appends each new timer at the end of its sorted list (no
 * long walk), and the timer is cancelled as soon as the handshake ends.
 * On expiry the socket is shut down; libre then reports the close (with
 * error 0, as for any end of stream) and sst_tls_error() says ETIMEDOUT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <re.h>

#include "sst_tls.h"

enum {
	SST_TLS_RECORD_MAX = 16384,       /* plaintext per TLS record */
	SST_TLS_PENDING_MAX = 262144,     /* plaintext queued pre-handshake */
	SST_TLS_VEC_STACK = 20480,        /* vec push coalescing buffer */
	SST_TLS_RX_MIN = 4096,            /* free room kept for decrypting */
	SST_TLS_SEND_RETRIES = 8,         /* "again" from a non-blocking push */
	SST_TLS_STASH_MAX = 65536,        /* unread ciphertext we hold */
};

static const char sst_tls_priorities[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE";

struct sst_tls_ctx {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	bool verify;
	unsigned handshake_ms;
};

struct sst_tls {
	struct sst_tls_ctx *ctx;
	struct tcp_conn *tc;
	struct tcp_helper *th;
	gnutls_session_t s;
	struct tmr tmr;
	struct mbuf *rx;        /* ciphertext GnuTLS pulls from (borrowed) */
	struct mbuf *stash;     /* ciphertext GnuTLS did not take yet */
	struct mbuf *pending;   /* plaintext sent before the handshake */
	char *peer_name;
	char *facts;            /* once up: "subject\0cipher\0" */
	char *match_name;       /* last name asked of sst_tls_peer_matches */
	time_t not_after;       /* with facts */
	enum sst_tls_verdict verdict;  /* with facts */
	bool match_ok;          /* for match_name */
	int err;                /* why we failed: EAUTH, EPROTO, ETIMEDOUT */
	int push_err;           /* errno of the last failed push */
	bool server;
	bool up;
	bool corked;
	bool peer_closed;
};

static void ctx_destructor(void *arg)
{
	struct sst_tls_ctx *ctx = arg;

	if (ctx->prio)
		gnutls_priority_deinit(ctx->prio);
	if (ctx->cred)
		gnutls_certificate_free_credentials(ctx->cred);
}

/**
 * Load certificate, key and CA into a shared TLS context.
 *
 * @param ctxp  Returned context (libre mem object)
 * @param conf  Files and policy; the strings are not kept.  A client
 *              context may have neither cert nor key.
 *
 * @return 0, EINVAL for missing arguments, ENOENT for files GnuTLS
 *	cannot load, ENOMEM
 */
int sst_tls_ctx_alloc(struct sst_tls_ctx **ctxp,
		      const struct sst_tls_conf *conf)
{
	struct sst_tls_ctx *ctx;
	int err = 0;
	int r;

	if (!ctxp || !conf || !conf->cert != !conf->key)
		return EINVAL;
	if (conf->verify && !conf->ca)
		return EINVAL;

	ctx = mem_zalloc(sizeof(*ctx), ctx_destructor);
	if (!ctx)
		return ENOMEM;

	ctx->verify = conf->verify;
	ctx->handshake_ms = conf->handshake_ms ? conf->handshake_ms
					       : SST_TLS_HANDSHAKE_MS;

	if (gnutls_certificate_allocate_credentials(&ctx->cred) < 0) {
		ctx->cred = NULL;
		err = ENOMEM;
		goto out;
	}

	if (conf->cert) {
		r = gnutls_certificate_set_x509_key_file2(ctx->cred,
							  conf->cert,
							  conf->key,
							  GNUTLS_X509_FMT_PEM,
							  NULL, 0);
		if (r < 0) {
			err = ENOENT;
			goto out;
		}
	}

	if (conf->ca) {
		r = gnutls_certificate_set_x509_trust_file(ctx->cred, conf->ca,
							   GNUTLS_X509_FMT_PEM);
		if (r <= 0) {  /* zero certificates is a mistake too */
			err = ENOENT;
			goto out;
		}
	}

	if (gnutls_priority_init2(&ctx->prio, sst_tls_priorities, NULL,
				  0) < 0) {
		ctx->prio = NULL;
		err = EINVAL;
		goto out;
	}

 out:
	if (err)
		mem_deref(ctx);
	else
		*ctxp = ctx;

	return err;
}

static int push_mem(struct sst_tls *tls, const void *data, size_t len)
{
	struct mbuf mb;

	mb.buf = (uint8_t *)data;
	mb.size = len;
	mb.pos = 0;
	mb.end = len;

	return tcp_send_helper(tls->tc, &mb, tls->th);
}

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct sst_tls *tls = p;
	int err;

	if (!len)
		return 0;

	err = push_mem(tls, data, len);
	if (err) {
		tls->push_err = err;
		gnutls_transport_set_errno(tls->s, err);
		return -1;
	}

	return (ssize_t)len;
}

/* Coalesce the records of one flush into a single send. */
static ssize_t vec_push(gnutls_transport_ptr_t p, const giovec_t *iov,
			int iovcnt)
{
	struct sst_tls *tls = p;
	uint8_t stackbuf[SST_TLS_VEC_STACK];
	struct mbuf *heap = NULL;
	uint8_t *buf = stackbuf;
	size_t total = 0, off = 0;
	ssize_t ret;
	int i;

	if (iovcnt == 1)
		return push(p, iov[0].iov_base, iov[0].iov_len);

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;

	if (total > sizeof(stackbuf)) {
		heap = mbuf_alloc(total);
		if (!heap) {
			gnutls_transport_set_errno(tls->s, ENOMEM);
			return -1;
		}
		buf = heap->buf;
	}

	for (i = 0; i < iovcnt; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}

	ret = push(p, buf, total);
	mem_deref(heap);

	return ret;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct sst_tls *tls = p;
	size_t n = tls->rx ? mbuf_get_left(tls->rx) : 0;

	if (!n) {
		gnutls_transport_set_errno(tls->s, EAGAIN);
		return -1;
	}

	n = min(n, len);
	(void)mbuf_read_mem(tls->rx, buf, n);

	return (ssize_t)n;
}

/* Required with a custom pull function; says whether input is ready. */
static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct sst_tls *tls = p;

	(void)ms;

	return (tls->rx && mbuf_get_left(tls->rx)) ? 1 : 0;
}

static bool alert_is_cert(gnutls_alert_description_t a)
{
	switch (a) {

	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_ACCESS_DENIED:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		return true;

	default:
		return false;
	}
}

/* Map a fatal GnuTLS result to what the caller sees, and tell the peer. */
static int fail(struct sst_tls *tls, int r)
{
	int err;

	switch (r) {

	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
		err = EAUTH;
		break;

	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		err = alert_is_cert(gnutls_alert_get(tls->s)) ? EAUTH
							       : EPROTO;
		break;

	case GNUTLS_E_PUSH_ERROR:
		err = tls->push_err ? tls->push_err : EPROTO;
		break;

	default:
		err = EPROTO;
		break;
	}

	if (r != GNUTLS_E_FATAL_ALERT_RECEIVED && r != GNUTLS_E_PUSH_ERROR)
		(void)gnutls_alert_send_appropriate(tls->s, r);

	tls->err = err;
	tmr_cancel(&tls->tmr);

	return err;
}

static int send_plain(struct sst_tls *tls, const uint8_t *p, size_t len)
{
	unsigned retries = 0;

	while (len) {
		const size_t n = min(len, (size_t)SST_TLS_RECORD_MAX);
		ssize_t r;

		r = gnutls_record_send(tls->s, p, n);
		if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) &&
		    ++retries < SST_TLS_SEND_RETRIES)
			continue;  /* push never blocks: a plain retry */
		if (r < 0)
			return fail(tls, (int)r);

		p += r;
		len -= (size_t)r;
	}

	return 0;
}

static int flush_pending(struct sst_tls *tls)
{
	struct mbuf *q = tls->pending;
	bool corked = tls->corked;
	int err;

	if (!q)
		return 0;

	tls->pending = NULL;

	if (!corked)
		gnutls_record_cork(tls->s);

	err = send_plain(tls, q->buf, q->end);

	if (!err && !corked) {
		if (gnutls_record_uncork(tls->s, GNUTLS_RECORD_WAIT) < 0)
			err = tls->push_err ? tls->push_err : EPROTO;
	}

	mem_deref(q);

	return err;
}

/* Keep what GnuTLS left unread for the next chunk. */
static int keep_leftover(struct sst_tls *tls)
{
	struct mbuf *rx = tls->rx;
	size_t left;
	int err = 0;

	tls->rx = NULL;

	if (!rx)
		return 0;

	left = mbuf_get_left(rx);

	if (rx == tls->stash) {
		if (!left) {
			tls->stash = mem_deref(tls->stash);
		}
		else if (rx->pos) {
			memmove(rx->buf, mbuf_buf(rx), left);
			rx->pos = 0;
			rx->end = left;
		}
		return 0;
	}

	if (!left)
		return 0;

	tls->stash = mbuf_alloc(left);
	if (!tls->stash)
		return ENOMEM;

	err = mbuf_write_mem(tls->stash, mbuf_buf(rx), left);
	tls->stash->pos = 0;
	rx->pos = rx->end;

	return err;
}

static void tmr_handler(void *arg)
{
	struct sst_tls *tls = arg;
	const int fd = tcp_conn_fd(tls->tc);

	if (tls->up || tls->err)
		return;

	tls->err = ETIMEDOUT;
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

/* Drive the handshake with the input at tls->rx.  0 also when waiting. */
static int handshake(struct sst_tls *tls)
{
	for (;;) {
		const size_t before = tls->rx ? mbuf_get_left(tls->rx) : 0;
		size_t after;
		int r;

		r = gnutls_handshake(tls->s);
		if (r == 0) {
			tls->up = true;
			tmr_cancel(&tls->tmr);
			return 0;
		}

		if (gnutls_error_is_fatal(r))
			return fail(tls, r);

		after = tls->rx ? mbuf_get_left(tls->rx) : 0;
		if (!after || after == before)
			return 0;  /* need more input */
	}
}

static bool h_estab(int *err, bool active, void *arg)
{
	struct sst_tls *tls = arg;

	if (active && !tls->server) {
		*err = handshake(tls);
		if (*err)
			return true;
	}

	/* the connection's estab handler runs once TLS is up */
	return true;
}

static int decrypt(struct sst_tls *tls, struct mbuf *pt)
{
	for (;;) {
		const size_t before = mbuf_get_left(tls->rx);
		size_t after;
		ssize_t n;
		int err;

		if (mbuf_get_space(pt) < SST_TLS_RX_MIN) {
			err = mbuf_resize(pt, pt->size * 2);
			if (err)
				return err;
		}

		n = gnutls_record_recv(tls->s, mbuf_buf(pt) ,
				       mbuf_get_space(pt));
		if (n > 0) {
			pt->end += (size_t)n;
			pt->pos = pt->end;
			continue;
		}

		if (n == 0) {
			/* close_notify: ignore anything after it */
			tls->peer_closed = true;
			tls->rx->pos = tls->rx->end;
			return 0;
		}

		if (n == GNUTLS_E_REHANDSHAKE) {
			(void)gnutls_alert_send(tls->s, GNUTLS_AL_WARNING,
						GNUTLS_A_NO_RENEGOTIATION);
		}
		else if (gnutls_error_is_fatal((int)n)) {
			return fail(tls, (int)n);
		}

		after = mbuf_get_left(tls->rx);
		if (!after || after == before)
			return 0;
	}
}

static bool h_recv(int *err, struct mbuf *mb, bool *estab, void *arg)
{
	struct sst_tls *tls = arg;
	struct mbuf *pt = NULL;
	bool hide = true;
	int e = 0;

	if (tls->err) {
		*err = tls->err;
		return true;
	}

	if (tls->peer_closed)
		return true;

	if (tls->stash) {
		if (tls->stash->end + mbuf_get_left(mb) > SST_TLS_STASH_MAX) {
			e = EPROTO;  /* GnuTLS stopped reading: give up */
			goto out;
		}
		tls->stash->pos = tls->stash->end;  /* append */
		e = mbuf_write_mem(tls->stash, mbuf_buf(mb),
				   mbuf_get_left(mb));
		if (e)
			goto out;
		tls->stash->pos = 0;
		tls->rx = tls->stash;
	}
	else {
		tls->rx = mb;
	}

	if (!tls->up) {
		e = handshake(tls);
		if (e || !tls->up)
			goto out;

		*estab = true;
		hide = false;

		e = flush_pending(tls);
		if (e)
			goto out;
	}

	pt = mbuf_alloc(mbuf_get_left(tls->rx) + SST_TLS_RX_MIN);
	if (!pt) {
		e = ENOMEM;
		goto out;
	}

	e = decrypt(tls, pt);
	if (e)
		goto out;

	/* before mb is rewritten: it may still hold unread ciphertext */
	e = keep_leftover(tls);
	if (e)
		goto out;

	/* hand the plaintext upwards in place of the ciphertext */
	if (pt->end) {
		uint8_t *buf = mb->buf;
		size_t size = mb->size;

		mb->buf = pt->buf;
		mb->size = pt->size;
		pt->buf = buf;
		pt->size = size;
		mb->pos = 0;
		mb->end = pt->end;
		hide = false;
	}
	else {
		mb->pos = mb->end;
	}

 out:
	if (!e && tls->rx)
		e = keep_leftover(tls);
	tls->rx = NULL;

	if (pt) {
		pt->pos = pt->end = 0;
		mem_deref(pt);
	}

	if (e) {
		if (!tls->err)
			tls->err = e;
		*err = e;
		return true;
	}

	return hide;
}

static bool h_send(int *err, struct mbuf *mb, void *arg)
{
	struct sst_tls *tls = arg;
	const size_t len = mbuf_get_left(mb);

	if (tls->err) {
		*err = tls->err;
		return true;
	}

	if (!tls->up) {
		size_t have = tls->pending ? tls->pending->end : 0;

		if (have + len > SST_TLS_PENDING_MAX) {
			*err = ENOSPC;
			return true;
		}
		if (!tls->pending) {
			tls->pending = mbuf_alloc(len);
			if (!tls->pending) {
				*err = ENOMEM;
				return true;
			}
		}
		*err = mbuf_write_mem(tls->pending, mbuf_buf(mb), len);
		return true;
	}

	*err = send_plain(tls, mbuf_buf(mb), len);

	return true;
}

static void tls_destructor(void *arg)
{
	struct sst_tls *tls = arg;

	tmr_cancel(&tls->tmr);

	if (tls->s) {
		if (tls->up && !tls->err && tcp_conn_fd(tls->tc) >= 0) {
			if (tls->corked)
				(void)gnutls_record_uncork(tls->s,
							   GNUTLS_RECORD_WAIT);
			(void)gnutls_bye(tls->s, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(tls->s);
	}

	/* the helper first: the connection's list still points at it */
	mem_deref(tls->th);
	mem_deref(tls->tc);
	mem_deref(tls->ctx);
	mem_deref(tls->stash);
	mem_deref(tls->pending);
	mem_deref(tls->peer_name);
	mem_deref(tls->facts);
	mem_deref(tls->match_name);
}

static bool is_ip_literal(const char *name)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
	       inet_pton(AF_INET6, name, buf) == 1;
}

/**
 * Layer TLS on a TCP connection.  Call it in the same handler that
 * accepted or connected tc, before the event loop runs again.
 *
 * @param tlsp       Returned TLS object
 * @param ctx        Credentials and policy
 * @param tc         The connection (a reference is taken)
 * @param server     true for the accepting side
 * @param peer_name  Name the peer's certificate must carry (DNS name or
 *                   IP literal); also sent as SNI by a client.  NULL: no
 *                   name check.
 *
 * @return 0, EINVAL, ENOMEM or EPROTO (GnuTLS refused the setup)
 */
int sst_tls_start(struct sst_tls **tlsp, struct sst_tls_ctx *ctx,
		  struct tcp_conn *tc, bool server, const char *peer_name)
{
	struct sst_tls *tls;
	unsigned flags;
	int err = 0;

	if (!tlsp || !ctx || !tc)
		return EINVAL;

	tls = mem_zalloc(sizeof(*tls), tls_destructor);
	if (!tls)
		return ENOMEM;

	tmr_init(&tls->tmr);
	tls->ctx = mem_ref(ctx);
	tls->tc = mem_ref(tc);
	tls->server = server;

	if (peer_name && *peer_name) {
		err = str_dup(&tls->peer_name, peer_name);
		if (err)
			goto out;
	}

	flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK |
		GNUTLS_NO_TICKETS;
	if (gnutls_init(&tls->s, flags) < 0) {
		tls->s = NULL;
		err = ENOMEM;
		goto out;
	}

	if (gnutls_priority_set(tls->s, ctx->prio) < 0 ||
	    gnutls_credentials_set(tls->s, GNUTLS_CRD_CERTIFICATE,
				   ctx->cred) < 0) {
		err = EPROTO;
		goto out;
	}

	if (server) {
		/* asked even when not verified, so status can describe it */
		gnutls_certificate_server_set_request(tls->s,
			ctx->verify ? GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
	}
	else if (tls->peer_name && !is_ip_literal(tls->peer_name)) {
		if (gnutls_server_name_set(tls->s, GNUTLS_NAME_DNS,
					   tls->peer_name,
					   strlen(tls->peer_name)) < 0) {
			err = EINVAL;
			goto out;
		}
	}

	if (ctx->verify)
		gnutls_session_set_verify_cert(tls->s, tls->peer_name, 0);

	gnutls_transport_set_ptr(tls->s, tls);
	gnutls_transport_set_push_function(tls->s, push);
	gnutls_transport_set_vec_push_function(tls->s, vec_push);
	gnutls_transport_set_pull_function(tls->s, pull);
	gnutls_transport_set_pull_timeout_function(tls->s, pull_timeout);

	err = tcp_register_helper(&tls->th, tc, 0, h_estab, h_send, h_recv,
				  tls);
	if (err)
		goto out;

	tmr_start(&tls->tmr, ctx->handshake_ms, tmr_handler, tls);

 out:
	if (err)
		mem_deref(tls);
	else
		*tlsp = tls;

	return err;
}

/**
 * Start the handshake of a client session on a connection that was
 * already established when sst_tls_start() layered TLS on it.
 */
int sst_tls_begin(struct sst_tls *tls)
{
	if (!tls)
		return EINVAL;
	if (tls->server || tls->up)
		return 0;
	return handshake(tls);
}

/** true once the handshake (and any required check) has succeeded. */
bool sst_tls_up(const struct sst_tls *tls)
{
	return tls && tls->up && !tls->err;
}

/**
 * Why TLS ended the connection: EAUTH (certificate), EPROTO (protocol),
 * ETIMEDOUT (handshake deadline; the close handler then sees 0), an
 * errno from the layer below, or 0.
 */
int sst_tls_error(const struct sst_tls *tls)
{
	return tls ? tls->err : EINVAL;
}

/**
 * Hold back records until sst_tls_uncork(), to send a batch of
 * messages produced in one loop pass with one write.
 */
void sst_tls_cork(struct sst_tls *tls)
{
	if (!tls || !tls->s || tls->corked)
		return;

	gnutls_record_cork(tls->s);
	tls->corked = true;
}

/** Send what was held back since sst_tls_cork(). */
int sst_tls_uncork(struct sst_tls *tls)
{
	int r;

	if (!tls || !tls->s)
		return EINVAL;
	if (!tls->corked)
		return 0;

	tls->corked = false;
	if (tls->err)
		return tls->err;

	r = gnutls_record_uncork(tls->s, GNUTLS_RECORD_WAIT);
	if (r < 0)
		return fail(tls, r);

	return 0;
}

/**
 * Renew the traffic keys of a TLS 1.3 connection in both directions
 * (KeyUpdate, asking the peer to do the same).  For long-lived
 * connections; GnuTLS also does it by itself after much traffic.
 *
 * @return 0, EINVAL, ENOTCONN before the handshake, EPROTO (TLS 1.2 has
 *	no key update), or the error that ended the connection
 */
int sst_tls_key_update(struct sst_tls *tls)
{
	int r;

	if (!tls || !tls->s)
		return EINVAL;
	if (tls->err)
		return tls->err;
	if (!tls->up)
		return ENOTCONN;
	if (gnutls_protocol_get_version(tls->s) != GNUTLS_TLS1_3)
		return EPROTO;

	r = gnutls_session_key_update(tls->s, GNUTLS_KU_PEER);
	if (r < 0)
		return fail(tls, r);

	return 0;
}

static enum sst_tls_verdict verdict(unsigned status, gnutls_x509_crt_t crt)
{
	const unsigned untrusted = GNUTLS_CERT_SIGNER_NOT_FOUND |
		GNUTLS_CERT_SIGNER_NOT_CA | GNUTLS_CERT_SIGNATURE_FAILURE |
		GNUTLS_CERT_INSECURE_ALGORITHM | GNUTLS_CERT_REVOKED |
		GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;

	if (!status)
		return SST_TLS_VALID;

	if ((status & GNUTLS_CERT_SIGNER_NOT_FOUND) &&
	    gnutls_x509_crt_check_issuer(crt, crt))
		return SST_TLS_SELF_SIGNED;

	if (status & untrusted)
		return SST_TLS_UNTRUSTED;

	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return SST_TLS_EXPIRED;

	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		return SST_TLS_NAME_MISMATCH;

	return SST_TLS_UNTRUSTED;
}

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
	len = min(len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int days_left(time_t not_after)
{
	long long d;

	if (not_after == (time_t)-1)
		return 0;

	d = (long long)not_after - (long long)time(NULL);

	/* floor, so an hour past expiry is already -1 */
	return (int)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

/* The peer's first certificate, imported; NULL when it sent none. */
static gnutls_x509_crt_t peer_crt(const struct sst_tls *tls)
{
	const gnutls_datum_t *list;
	gnutls_x509_crt_t crt = NULL;
	unsigned n = 0;

	list = gnutls_certificate_get_peers(tls->s, &n);
	if (!list || !n)
		return NULL;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;

	if (gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}

	return crt;
}

/* Parse and verify the peer's certificate: the costly part (ASN.1 and
 * signature checks), done once per connection once it is up. */
static void peer_compute(const struct sst_tls *tls, struct sst_tls_peer *peer)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = {NULL, 0};
	unsigned status = 0;
	int r;

	memset(peer, 0, sizeof(*peer));

	if (tls->up) {
		char *desc = gnutls_session_get_desc(tls->s);

		if (desc) {
			copy_str(peer->cipher, sizeof(peer->cipher), desc,
				 strlen(desc));
			gnutls_free(desc);
		}
	}

	crt = peer_crt(tls);
	if (!crt)
		return;

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		copy_str(peer->subject, sizeof(peer->subject),
			 (const char *)dn.data, dn.size);
		gnutls_free(dn.data);
	}

	peer->not_after = gnutls_x509_crt_get_expiration_time(crt);

	if (tls->peer_name)
		r = gnutls_certificate_verify_peers3(tls->s, tls->peer_name,
						     &status);
	else
		r = gnutls_certificate_verify_peers2(tls->s, &status);

	peer->verdict = r < 0 ? SST_TLS_UNTRUSTED : verdict(status, crt);

	gnutls_x509_crt_deinit(crt);
}

/* Keep the facts of an established connection: its certificate
 * cannot change (renegotiation is refused). */
static void peer_keep(struct sst_tls *tls, const struct sst_tls_peer *peer)
{
	const size_t ls = strlen(peer->subject), lc = strlen(peer->cipher);
	char *f = mem_alloc(ls + lc + 2, NULL);

	if (!f)
		return;  /* computed again next time */

	memcpy(f, peer->subject, ls + 1);
	memcpy(f + ls + 1, peer->cipher, lc + 1);
	tls->facts = f;
	tls->not_after = peer->not_after;
	tls->verdict = peer->verdict;
}

/**
 * Facts about the peer for status screens.  Works after a refused
 * handshake too (as long as the peer sent a certificate), and the
 * verdict is computed against the CA even when verification is off.
 * On an established connection the certificate is parsed and verified
 * once; later calls read what was kept (a valid certificate that has
 * since expired is reported expired).
 *
 * @return 0, or EINVAL
 */
int sst_tls_peer(const struct sst_tls *tls, struct sst_tls_peer *peer)
{
	struct sst_tls *mtls = (struct sst_tls *)tls;  /* cache only */

	if (!tls || !peer || !tls->s)
		return EINVAL;

	if (!tls->facts) {
		peer_compute(tls, peer);
		if (tls->up)
			peer_keep(mtls, peer);
	}
	else {
		const size_t ls = strlen(tls->facts);

		memset(peer, 0, sizeof(*peer));
		copy_str(peer->subject, sizeof(peer->subject), tls->facts,
			 ls);
		copy_str(peer->cipher, sizeof(peer->cipher),
			 tls->facts + ls + 1, strlen(tls->facts + ls + 1));
		peer->not_after = tls->not_after;
		peer->verdict = tls->verdict;
	}

	peer->days_left = days_left(peer->not_after);
	if (peer->verdict == SST_TLS_VALID && peer->not_after != (time_t)-1 &&
	    time(NULL) > peer->not_after)
		peer->verdict = SST_TLS_EXPIRED;

	return 0;
}

/**
 * Whether the peer's certificate is issued to a host name, checked the
 * way an outbound connection checks it: GnuTLS compares the dNSName
 * subjectAltNames and looks at the subject CN only when there is no
 * dNSName (RFC 6125 section 6.4.4, RFC 5922 section 7.1).  An accepting
 * side uses this to tie a client certificate to the domain the request
 * claims to come from.  On an established connection the answer for
 * the last name asked is kept, so a stream of requests from one domain
 * parses the certificate once.
 *
 * @param tls   TLS object (handshake done)
 * @param name  Expected DNS name
 *
 * @return true if the first certificate the peer sent carries name
 */
bool sst_tls_peer_matches(const struct sst_tls *tls, const char *name)
{
	struct sst_tls *mtls = (struct sst_tls *)tls;  /* cache only */
	gnutls_x509_crt_t crt;
	bool ok;

	if (!tls || !tls->s || !name || !*name)
		return false;

	if (tls->match_name && !strcmp(tls->match_name, name))
		return tls->match_ok;

	crt = peer_crt(tls);
	if (!crt)
		return false;

	ok = gnutls_x509_crt_check_hostname2(crt, name, 0) != 0;
	gnutls_x509_crt_deinit(crt);

	if (tls->up) {
		mtls->match_name = mem_deref(mtls->match_name);
		if (!str_dup(&mtls->match_name, name))
			mtls->match_ok = ok;
	}

	return ok;
}

/** The word a status screen prints for a verdict. */
const char *sst_tls_verdict_name(enum sst_tls_verdict v)
{
	switch (v) {

	case SST_TLS_NONE:          return "none";
	case SST_TLS_VALID:         return "valid";
	case SST_TLS_EXPIRED:       return "expired";
	case SST_TLS_SELF_SIGNED:   return "self-signed";
	case SST_TLS_UNTRUSTED:     return "untrusted";
	case SST_TLS_NAME_MISMATCH: return "name-mismatch";
	default:                    return "?";
	}
}
