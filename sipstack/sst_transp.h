/*
 * sst_transp.h -- SIP over UDP, TCP and TLS: listeners, the connection
 * pool, keep-alives, limits and counters.
 *
 * Owns: listening sockets on configured addresses (IPv4 and IPv6),
 *	outbound connections bound to a chosen local address (so the far
 *	side's source-IP trust check sees the right IP), the pool that
 *	reuses them, stream framing (sst_frame.h), RFC 5626 CRLF
 *	keep-alives, idle and first-message timeouts, connection limits,
 *	and per-transport and per-peer counters.
 * Not here: decoding and validating messages (sst_msg.h), choosing a
 *	next hop (sst_dns.h), TLS itself (sst_tls.h; this module only
 *	starts it on each connection), any policy.
 * Memory: sst_transp and sst_conn are libre mem objects.  The transport
 *	owns its connections; a received message's connection reference
 *	(struct sst_rx.conn) is borrowed and stays valid only during the
 *	receive handler, unless the handler takes mem_ref(), which keeps
 *	the object (not the socket) alive: sst_conn_send() on a closed
 *	connection returns ENOTCONN.
 *
 * Before any socket exists, call sst_transp_init(maxfds) once: it
 * raises the soft RLIMIT_NOFILE to the hard one (at most maxfds) and
 * sizes libre's fd table to the result; libre fixes the table at the
 * first registration and refuses every fd beyond it (EMFILE).
 *
 * Admission (the descriptor budget): sst_budget_calc() splits the
 * descriptor limit into a fixed reserve for the process's own sockets
 * (listeners, DNS, the control socket and its clients, log and trace
 * files, the descriptor accept() needs before a refusal), a reserve
 * for connections we open (gateways, links), and the inbound cap.  A
 * connection the peer opened is "untrusted" until the layer above
 * calls sst_conn_trust() (it carried a request from a trusted source).
 * When a new connection would pass the inbound cap or the total, the
 * oldest untrusted inbound connection is closed to make room (counted
 * "evicted"); when there is none, the new connection is refused
 * (counted "limit").  Connections we open never count against the
 * inbound cap and are never evicted.  Every refusal and eviction goes
 * to the admission handler (sst_transp_admit()) for the daemon to
 * count and log: the sipstack does not log.
 *
 * Connection reuse (RFC 5923, RFC 5626): a connection we opened carries
 * every later request to the same (transport, address, TLS name) and the
 * requests the peer sends back over it.  A connection the peer opened
 * answers its own requests only, until the layer above calls
 * sst_conn_alias() (it saw ";alias" in the top Via and, over TLS,
 * verified the peer for that name); from then on requests to the alias
 * address reuse it.  The transport never aliases on its own.
 *
 * Timers: one libre timer sweeps all connections every sweep_ms, so the
 * timer list stays short whatever the connection count (notes §2).
 */
#ifndef STC_SST_TRANSP_H
#define STC_SST_TRANSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipstack/sst_limits.h"

struct mbuf;
struct sa;
struct re_printf;
struct sst_tls_ctx;
struct sst_transp;
struct sst_conn;
struct sst_send;

enum sst_tp {
	SST_TP_UDP = 0,
	SST_TP_TCP,
	SST_TP_TLS,
	SST_TP_N
};

/* The descriptor budget (see above). */
enum {
	SST_FD_CEILING = 65536,  /* largest fd table sst_transp_init asks */
	SST_FD_FIXED   = 64,     /* the process's own descriptors */
	SST_FD_OUT_MIN = 16,     /* outbound reserve: fds / 8, within */
	SST_FD_OUT_MAX = 1024,   /*   these bounds */
};

struct sst_budget {
	unsigned fds;     /* the descriptor limit it was computed from */
	unsigned fixed;   /* kept for the process's own sockets */
	unsigned out;     /* kept for connections we open */
	unsigned conns;   /* every TCP/TLS connection: fds - fixed */
	unsigned in;      /* inbound cap: conns - out, or less if asked */
	unsigned allowed; /* the largest inbound cap this budget allows */
};

enum {
	SST_TRANSP_MAX_PER_IP   = 64,      /* connections with one peer IP */
	SST_TRANSP_MAX_PEERS    = 8192,    /* peers with their own counters */
	SST_TRANSP_IDLE_MS      = 300000,  /* no message either way: close */
	SST_TRANSP_FIRST_MS     = 10000,   /* accept (+ TLS) to 1st message */
	SST_TRANSP_CONNECT_MS   = 10000,   /* connect (+ TLS handshake) */
	SST_TRANSP_KEEPALIVE_MS = 90000,   /* silence before we ping */
	SST_TRANSP_PONG_MS      = 10000,   /* ping unanswered: close */
	SST_TRANSP_SWEEP_MS     = 1000,    /* one timer checks them all */
	SST_TRANSP_GARBAGE_MAX  = 3,       /* malformed messages, then close */
	SST_TRANSP_TXQ_MAX      = 32,      /* messages queued while connecting */
	SST_TRANSP_BACKLOG      = 1024,    /* listen() queue (kernel caps it) */
	SST_TRANSP_LINGER_MS    = 2000,    /* answered, then closing */
};

/* UDP listener socket buffers (SO_RCVBUF and SO_SNDBUF), bytes.  The
 * kernel's default (~208 KiB) overflows when a busy relay is off the
 * CPU for a few milliseconds at thousands of messages a second. */
#define SST_TRANSP_SOCKBUF (4u * 1024 * 1024)

/* Error kinds, counted per transport and per peer. */
enum sst_err {
	SST_ERR_FRAMING = 0,  /* not SIP, missing/bad Content-Length */
	SST_ERR_OVERSIZE,     /* header block or body over the limit */
	SST_ERR_GARBAGE,      /* malformed messages reported from above */
	SST_ERR_CONNECT,      /* outbound connect failed or timed out */
	SST_ERR_IDLE,         /* closed after the idle timeout */
	SST_ERR_TIMEOUT,      /* no first message in time, ping unanswered */
	SST_ERR_LIMIT,        /* refused: total or per-IP connection limit */
	SST_ERR_TLS,          /* handshake or certificate check failed */
	SST_ERR_SEND,         /* socket send failed */
	SST_ERR_EVICTED,      /* untrusted, closed to admit another */
	SST_ERR_N
};

struct sst_counters {
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t conns_in;    /* accepted */
	uint64_t conns_out;   /* opened by us */
	uint64_t pings_in;    /* CRLFCRLF received (answered) */
	uint64_t pings_out;   /* CRLFCRLF sent */
	uint64_t err[SST_ERR_N];
};

/* Settings; 0 (or NULL) selects the default named above. */
struct sst_transp_conf {
	unsigned max_conns;     /* 0: from the budget (sst_fd_limit()) */
	unsigned max_in;        /* inbound cap; 0: from the budget */
	unsigned max_per_ip;
	unsigned max_peers;
	unsigned idle_ms;
	unsigned first_ms;
	unsigned connect_ms;
	unsigned keepalive_ms;  /* on connections we opened */
	unsigned pong_ms;
	unsigned sweep_ms;
	unsigned garbage_max;
	struct sst_limits lim;  /* message sizes; zero members: the
				 * defaults of sst_limits.h */
	unsigned sockbuf;       /* UDP buffers; 0: SST_TRANSP_SOCKBUF */
	struct sst_tls_ctx *tls;  /* needed for TLS listeners/connections */
};

/* Where a received message came from. */
struct sst_rx {
	enum sst_tp tp;
	const struct sa *src;   /* the peer */
	const struct sa *dst;   /* our address it arrived on */
	struct sst_conn *conn;  /* NULL for UDP; borrowed, see above */
	/* The stream message was over the size limit: mb holds only its
	 * header block, for an answer (413/513); the connection closes
	 * after a short linger whatever the handler does. */
	bool oversize;
};

/* One whole message (UDP datagram or framed stream message). */
typedef void (sst_recv_h)(const struct sst_rx *rx, struct mbuf *mb,
			  void *arg);

/* A queued send failed after sst_transp_send() returned 0. */
typedef void (sst_send_h)(int err, void *arg);

int  sst_transp_init(unsigned maxfds);
unsigned sst_fd_limit(void);
int  sst_budget_calc(struct sst_budget *b, unsigned fds, unsigned want_in);

/* What admission did, for the daemon's counters and log. */
enum sst_admit {
	SST_ADMIT_PER_IP = 0,  /* refused: the peer IP's own limit */
	SST_ADMIT_FULL,        /* refused: at the cap, nobody to evict */
	SST_ADMIT_EVICTED,     /* an untrusted connection closed for room */
};
/* kind and peer: the refused connection's, or the evicted one's. */
typedef void (sst_admit_h)(enum sst_admit ev, enum sst_tp kind,
			   const struct sa *peer, void *arg);

/* Connection counts against the caps, for status screens. */
struct sst_admission {
	unsigned max_conns, max_in;
	unsigned conns, in, untrusted;
};
int  sst_transp_alloc(struct sst_transp **tpp,
		      const struct sst_transp_conf *conf,
		      sst_recv_h *recvh, void *arg);
int  sst_transp_listen(struct sst_transp *tp, enum sst_tp kind,
		       const struct sa *laddr, struct sa *bound);
/* The receive buffer the kernel granted the UDP listener bound to
 * bound (it caps the request at net.core.rmem_max), and the size asked
 * for; 0/0 when there is no such listener.  For a log line: the
 * sipstack does not log. */
void sst_transp_sockbuf(const struct sst_transp *tp, const struct sa *bound,
			size_t *granted, size_t *asked);
int  sst_transp_send(struct sst_transp *tp, struct sst_send **sendp,
		     enum sst_tp kind, const struct sa *dst,
		     const struct sa *laddr, const char *tls_name,
		     struct mbuf *mb, sst_send_h *errh, void *arg);

/*
 * A tap sees every whole message as it is received (before the receive
 * handler) and as it is handed to the socket (after any queueing while a
 * connection comes up): for the daemons' Trace file.  p/len is the
 * plaintext message; peer is the far end, local ours.  NULL removes it.
 */
typedef void (sst_tap_h)(bool in, const char *tpname,
			 const struct sa *peer, const struct sa *local,
			 const uint8_t *p, size_t len, void *arg);
void sst_transp_tap(struct sst_transp *tp, sst_tap_h *taph, void *arg);
void sst_transp_admit(struct sst_transp *tp, sst_admit_h *admith, void *arg);
void sst_transp_admission(const struct sst_transp *tp,
			  struct sst_admission *a);
/* New TLS credentials for connections from now on (a reload); those up
 * keep theirs.  ctx stays the caller's, like sst_transp_conf.tls. */
void sst_transp_tls_set(struct sst_transp *tp, struct sst_tls_ctx *ctx);

int  sst_conn_send(struct sst_conn *conn, struct mbuf *mb);
void sst_conn_garbage(struct sst_conn *conn);
void sst_conn_trust(struct sst_conn *conn);
bool sst_conn_trusted(const struct sst_conn *conn);
int  sst_conn_alias(struct sst_conn *conn, const struct sa *alias,
		    const char *tls_name);
void sst_conn_close(struct sst_conn *conn);
bool sst_conn_up(const struct sst_conn *conn);
enum sst_tp sst_conn_tp(const struct sst_conn *conn);
const struct sa *sst_conn_peer(const struct sst_conn *conn);
const struct sa *sst_conn_local(const struct sst_conn *conn);
struct sst_tls *sst_conn_tls(const struct sst_conn *conn);

/* The message limits in effect (defaults filled in): what the framer
 * and the UDP receive apply, for the decoder of what they hand up. */
const struct sst_limits *sst_transp_limits(const struct sst_transp *tp);
const struct sst_counters *sst_transp_counters(const struct sst_transp *tp,
					       enum sst_tp kind);
int  sst_transp_peer_counters(const struct sst_transp *tp,
			      const struct sa *ip, struct sst_counters *c,
			      unsigned *nconns);
unsigned sst_transp_nconns(const struct sst_transp *tp);
const char *sst_tp_name(enum sst_tp kind);
const char *sst_err_name(enum sst_err e);
const char *sst_admit_name(enum sst_admit ev);
int  sst_transp_debug(struct re_printf *pf, const struct sst_transp *tp);

#endif /* STC_SST_TRANSP_H */
