/*
 * sst_tls.h -- TLS (GnuTLS) layered on a libre TCP connection.
 *
 * Owns: GnuTLS credentials and priorities (TLS 1.2 and later only), the
 *	per-connection session as a libre tcp helper, handshake timeout,
 *	peer certificate checks and the facts status screens show.
 * Not here: framing, pooling, which name to expect (the caller says).
 * Memory: sst_tls_ctx and sst_tls are libre mem objects.  An sst_tls
 *	holds a reference to its tcp_conn; the caller keeps its own.
 *	Dropping the sst_tls first, then the tcp_conn, is always safe.
 *
 * After sst_tls_start() the tcp_conn behaves as a plain one: its recv
 * handler sees plaintext, tcp_send() encrypts (queued until the
 * handshake is done), and its estab handler runs once the handshake has
 * succeeded and, with verification required, the peer certificate
 * matched.  A failed handshake or check closes the connection with
 * EAUTH (certificate) or EPROTO (protocol), after sending the alert.
 * A handshake not done within handshake_ms has its socket shut down:
 * the close handler then sees 0 and sst_tls_error() says ETIMEDOUT.
 * Listen with tcp_sock_listen() and a real backlog: tcp_listen() uses 5.
 */
#ifndef STC_SST_TLS_H
#define STC_SST_TLS_H

#include <stdbool.h>
#include <time.h>

struct tcp_conn;
struct sst_tls_ctx;
struct sst_tls;

enum { SST_TLS_HANDSHAKE_MS = 10000 };

struct sst_tls_conf {
	const char *cert;      /* PEM certificate (chain) file, or NULL */
	const char *key;       /* PEM private key file, or NULL (with cert) */
	const char *ca;        /* PEM CA file, or NULL for none */
	bool verify;           /* peer certificate required and checked */
	unsigned handshake_ms; /* 0: SST_TLS_HANDSHAKE_MS */
};

/* What a status screen says about the peer's certificate. */
enum sst_tls_verdict {
	SST_TLS_NONE = 0,        /* no certificate (yet) */
	SST_TLS_VALID,
	SST_TLS_EXPIRED,
	SST_TLS_SELF_SIGNED,
	SST_TLS_UNTRUSTED,
	SST_TLS_NAME_MISMATCH,
};

struct sst_tls_peer {
	char subject[256];
	char cipher[128];       /* e.g. "(TLS1.3)-(ECDHE-X25519)-..." */
	time_t not_after;
	int days_left;          /* negative once expired */
	enum sst_tls_verdict verdict;
};

int  sst_tls_ctx_alloc(struct sst_tls_ctx **ctxp,
		       const struct sst_tls_conf *conf);
int  sst_tls_start(struct sst_tls **tlsp, struct sst_tls_ctx *ctx,
		   struct tcp_conn *tc, bool server, const char *peer_name);
bool sst_tls_up(const struct sst_tls *tls);
/* A client session started on a connection that is already up (as
 * after STARTTLS): send the first handshake message now.  The
 * connection's estab handler runs again once the handshake is done. */
int  sst_tls_begin(struct sst_tls *tls);
int  sst_tls_peer(const struct sst_tls *tls, struct sst_tls_peer *peer);
const char *sst_tls_verdict_name(enum sst_tls_verdict v);

/* Whether the peer's certificate names NAME (RFC 6125 / RFC 5922: a
 * dNSName subjectAltName, the subject CN only when the certificate has
 * no dNSName at all).  Says nothing about trust: see sst_tls_peer(). */
bool sst_tls_peer_matches(const struct sst_tls *tls, const char *name);

/* Why TLS ended the connection: EAUTH, EPROTO, ETIMEDOUT (handshake
 * deadline; libre's close handler then reports 0), ENOSPC (send queue
 * full), or 0 while healthy. */
int  sst_tls_error(const struct sst_tls *tls);

/* Batch the records of several tcp_send() calls into one write. */
void sst_tls_cork(struct sst_tls *tls);
int  sst_tls_uncork(struct sst_tls *tls);

/* TLS 1.3: new traffic keys both ways (KeyUpdate). */
int  sst_tls_key_update(struct sst_tls *tls);

/*
 * Reading this deployment's own credentials the way sst_tls_ctx_alloc()
 * will, for `check` (sst_tls_cert.c).  Each function says why in why
 * ("" on success) and returns:
 *	0        the file is good
 *	ENOENT, EACCES, ...  the file cannot be read (errno)
 *	EBADMSG  no PEM certificate / key in it, or one that does not parse
 *	EKEYREJECTED  the key is not the certificate's (sst_tls_key_check)
 *	ENODATA  a CA file with no certificate (sst_tls_ca_read)
 */
enum { SST_TLS_SAN_MAX = 16, SST_TLS_CHAIN_MAX = 16 };

struct sst_tls_certinfo {
	unsigned nchain;		/* certificates in the file */
	char subject[256];		/* of the first (the leaf) */
	char issuer[256];
	char serial[64];		/* hex */
	time_t not_before, not_after;
	bool self_signed;
	bool chain_ordered;		/* each one issued by the next */
	char cn[256];			/* subject CN, "" if none */
	char dns[SST_TLS_SAN_MAX][256];	/* dNSName subjectAltNames */
	size_t ndns;
	char ip[SST_TLS_SAN_MAX][64];	/* iPAddress SANs, as text */
	size_t nip;
};

int  sst_tls_cert_read(const char *path, struct sst_tls_certinfo *ci,
		       char *why, size_t whysz);
int  sst_tls_key_check(const char *cert, const char *key, char *why,
		       size_t whysz);
int  sst_tls_ca_read(const char *path, unsigned *ncertsp, char *why,
		     size_t whysz);
/* Whether the leaf names NAME: a numeric address against the iPAddress
 * SANs, a DNS name against the dNSNames ("*." covers one label), the CN
 * only when there is no dNSName (the rule sst_tls_peer_matches uses). */
bool sst_tls_cert_covers(const struct sst_tls_certinfo *ci,
			 const char *name);
/*
 * sst_tls_ctx_alloc() with the reason when it fails: the certificate,
 * key and CA file are read first (the errors above, in why), so that a
 * daemon can say "not the private key of the certificate" instead of a
 * bare error code.  *days_leftp (if given) gets the leaf's days left.
 */
int  sst_tls_ctx_load(struct sst_tls_ctx **ctxp,
		      const struct sst_tls_conf *conf, int *days_leftp,
		      char *why, size_t whysz);
/* Days from now to not_after, rounded down; negative once expired. */
int  sst_tls_cert_days_left(const struct sst_tls_certinfo *ci, time_t now);

#endif /* STC_SST_TLS_H */
