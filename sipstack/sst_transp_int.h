/*
 * sst_transp_int.h -- state shared by sst_transp.c (listeners, UDP,
 * peers, sending, the sweep) and sst_conn.c (stream connections).
 * Private to the transport; nothing outside those files includes it.
 */
#ifndef STC_SST_TRANSP_INT_H
#define STC_SST_TRANSP_INT_H

#include "sipstack/sst_transp.h"

/* One remote IP: its counters and how many connections it holds. */
struct sst_peer {
	struct le he;             /* sst_transp.peers, by address */
	struct sa ip;             /* port 0 */
	struct sst_counters c;
	unsigned nconns;
	uint64_t last;            /* jiffies of the last activity */
};

struct sst_transp {
	struct sst_transp_conf conf;  /* defaults filled in */
	sst_recv_h *recvh;
	void *arg;
	sst_tap_h *taph;          /* sst_transp_tap(): Trace */
	void *taparg;
	sst_admit_h *admith;      /* sst_transp_admit() */
	void *admitarg;
	struct list lsnrs;
	struct list conns;        /* every open connection; owns a ref */
	struct list untrusted;    /* inbound, never trusted, oldest first */
	struct hash *pool;        /* outbound and aliased, by remote sa */
	struct hash *peers;
	unsigned npeers;
	unsigned nconns;
	unsigned nin;             /* of them inbound */
	unsigned nuntrusted;
	struct tmr sweep;
	struct sst_counters c[SST_TP_N];
};

struct sst_lsnr {
	struct le le;
	struct sst_transp *tp;
	enum sst_tp kind;
	struct sa laddr;          /* as bound (real port) */
	struct udp_sock *us;
	struct tcp_sock *ts;
	size_t rcvbuf;            /* UDP: as granted by the kernel */
};

/* A message waiting for its connection to come up. */
struct sst_qent {
	struct le le;
	struct mbuf *mb;          /* private copy */
	sst_send_h *h;
	void *arg;
	struct sst_send *handle;  /* weak, both ways */
};

struct sst_send {
	struct sst_qent *qe;
};

struct sst_conn {
	struct le le;             /* sst_transp.conns */
	struct le he;             /* sst_transp.pool by raddr (outbound) */
	struct le he_alias;       /* sst_transp.pool by alias */
	struct le le_untr;        /* sst_transp.untrusted */
	struct sst_transp *tp;    /* NULL once closed */
	struct sst_peer *peer;
	struct tcp_conn *tc;
	struct sst_tls *tls;
	struct sst_frame *fr;
	enum sst_tp kind;
	struct sa raddr;
	struct sa laddr;
	struct sa alias;
	char *name;               /* expected TLS name (outbound) */
	char *alias_name;
	bool outbound;
	bool up;
	bool aliased;
	bool got_msg;
	bool ping_out;
	bool trusted;             /* outbound, or sst_conn_trust() */
	bool linger;              /* answered an oversize message: closing */
	unsigned garbage;
	uint64_t t_start;
	uint64_t t_msg;           /* last message either way */
	uint64_t t_rx;            /* last byte received */
	uint64_t t_ping;
	uint64_t t_linger;
	struct list txq;
	unsigned ntxq;
};

/* sst_transp.c */
struct sst_peer *sst_peer_get(struct sst_transp *tp, const struct sa *addr,
			      bool create);
void sst_count_err(struct sst_transp *tp, enum sst_tp kind,
		   struct sst_peer *peer, enum sst_err e);

/* sst_conn.c */
int  sst_conn_accept(struct sst_lsnr *lsnr, const struct sa *peer);
int  sst_conn_open(struct sst_conn **connp, struct sst_transp *tp,
		   enum sst_tp kind, const struct sa *dst,
		   const struct sa *laddr, const char *name);
struct sst_conn *sst_conn_find(struct sst_transp *tp, enum sst_tp kind,
			       const struct sa *dst, const struct sa *laddr,
			       const char *name);
int  sst_conn_queue(struct sst_conn *conn, struct sst_send **sendp,
		    struct mbuf *mb, sst_send_h *h, void *arg);
void sst_conn_abort(struct sst_conn *conn, int err, int kind);
void sst_conn_tick(struct sst_conn *conn, uint64_t now);

#endif /* STC_SST_TRANSP_INT_H */
