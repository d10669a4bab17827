/*
 * cn_px.h -- the proxy core's own state, shared by cn_proxy.c (receive
 * and forward) and cn_link.c (gateways, links, keep-alives, status).
 * Not a public interface: nothing outside the proxy core includes it.
 */
#ifndef STC_CN_PX_H
#define STC_CN_PX_H

#include <stdbool.h>
#include <stdint.h>

#include <re.h>

#include "sipstack/sst_transp.h"
#include "sipstack/sst_front.h"
#include "sipstack/sst_seal.h"
#include "connector/cn.h"
#include "connector/cn_resolve.h"
#include "connector/cn_proxy.h"

struct sst_tstack;
struct sst_ctrans;
struct sst_strans;
struct sst_send;
struct sst_flow;
struct px_subs;
struct px_subres;
struct cn_xsip;

/* One ConnectorListen address of a gateway this connector serves. */
struct px_gwt {
	char name[CN_ADDR_MAX];		/* CommunityGateway name */
	enum sst_tp kind;
	struct sa addr;
	bool down;
	uint64_t next_probe;		/* sst_tmr_now() ms */
	struct px_out *probe;		/* OPTIONS under way */
};

/* The link probe of one external community. */
struct px_link {
	struct le le;
	struct cn_px *px;
	char comm[CN_ADDR_MAX];
	uint64_t next_probe;
	struct cn_resolve_req *rreq;
	struct px_out *probe;
};

/* One source among the noisiest at the connection limit. */
struct px_noisy {
	struct sa ip;			/* port 0; unset: free slot */
	uint64_t n;			/* refused or evicted */
};

/* Connection admission (cn_admit.c). */
struct px_admit {
	struct sst_budget budget;	/* at start-up */
	unsigned configured;		/* maxConnections, 0: none */
	uint64_t refused;		/* new connections refused */
	uint64_t evicted;		/* untrusted ones closed for room */
	struct px_noisy noisy[CN_PX_NOISY_MAX];
};

/* Topology hiding (cn_topos.c): an inside contact is sealed into the
 * user part of ours when it has at most PX_TOPOS_INSIDE_MAX bytes;
 * PX_TOPOS_URI_MAX is room for such a token (and for an inside URI). */
enum { PX_TOPOS_INSIDE_MAX = 160, PX_TOPOS_URI_MAX = 384 };

struct cn_px {
	struct cn *cn;
	char ip[CN_ADDR_MAX];
	char host[CN_RESOLVE_NAME_MAX + 3];	/* written: advertise or ip */
	char adv[CN_RESOLVE_NAME_MAX + 1];	/* advertise, or "" */
	struct sa adv_ip;			/* advertiseIp, or unset */
	uint8_t topos_key[SST_SEAL_KEY];	/* seals the tokens */
	bool topos_keyed;
	struct list rates;			/* struct px_rate, cn_rate.c */
	struct px_subs *subs;			/* cn_subs.c, or NULL */
	uint16_t port, tls_port;
	struct sa laddr_udp;		/* ip:port, UDP sends come from it */
	struct sa laddr_any;		/* ip:0, TCP/TLS connections */
	struct sst_tls_ctx *tls;
	struct sst_transp *tp;
	struct sst_tstack *ts;
	struct sst_front front;		/* the receive path (sst_front.h) */
	struct sst_dns *dns;
	struct cn_resolve *res;
	struct list reqs;		/* struct px_req */
	uint32_t nreqs;			/* list_count(&reqs), kept: O(1) */
	struct px_gwt gwt[CN_PX_GWT_MAX];
	size_t ngwt;
	struct list links;		/* struct px_link */
	struct list gwl;		/* unused: reserved */
	struct tmr tick;
	uint64_t seq;			/* Call-ID / CSeq of probes */
	struct px_admit admit;
	struct cn_xsip *xsip;		/* XMPP communities (cn_xmpp_sip.c) */
};

/* One forwarding attempt (or probe): the client transaction's sender. */
struct px_out {
	struct cn_px *px;
	struct px_req *req;		/* NULL for a probe */
	enum sst_tp kind;
	struct sa dst;
	char tls_name[CN_RESOLVE_NAME_MAX + 1];
	struct sst_send *snd;
	struct sst_ctrans *ct;		/* until its final answer */
	int gwt;			/* probe of px->gwt[gwt], or -1 */
	struct px_link *link;		/* probe of a link, or NULL */
};

struct px_target {
	enum sst_tp kind;
	struct sa addr;
	char tls_name[CN_RESOLVE_NAME_MAX + 1];
	const struct cn_hop *hop;	/* into the request's route */
	int gwt;			/* px->gwt index to mark, or -1 */
	int gwn;			/* px->gwt index to count, or -1 */
};

struct px_req {
	struct le le;
	struct cn_px *px;
	struct sip_msg *msg;		/* referenced, with its mbuf */
	struct sst_strans *st;		/* until the final answer */
	struct sst_flow *flow;		/* the way back; referenced */
	struct px_out *out;		/* the attempt under way */
	struct cn_resolve_req *rreq;
	const struct cn_route *route;	/* referenced */
	struct sa src;
	int gwi;			/* gateway table index of src, or -1 */
	enum cn_dir dir;
	char method[32];
	bool in_dialog, record_route, tls_name_ok;
	char from_domain[CN_RESOLVE_NAME_MAX + 1];
	char ruri_domain[CN_RESOLVE_NAME_MAX + 1];
	char domain[CN_RESOLVE_NAME_MAX + 1];	/* resolved for */
	char comm[CN_ADDR_MAX];
	struct px_target tgt[CN_PX_TARGETS_MAX];
	size_t ntgt, next, cur;
	uint16_t last_scode;
	bool last_timeout;
	struct px_subres *subres;	/* a new SUBSCRIBE's place (cn_subs.c) */
};

/* cn_proxy.c */
enum sst_tp px_kind(enum cfg_transport tp);
uint16_t px_port(const struct cn_px *px, enum sst_tp k);
const struct sa *px_laddr(const struct cn_px *px, enum sst_tp k);
const struct cfg_extern *px_extern(const struct cn_px *px,
				   const char *name);
void px_req_final(struct px_req *r, uint16_t scode, const char *phrase,
		  const char *hdrs);
int  px_out_alloc(struct px_out **op, struct cn_px *px, enum sst_tp kind,
		  const struct sa *dst, const char *tls_name);
int  px_out_send(struct mbuf *mb, void *arg);
void *px_out_drop(struct px_out *o);
void px_report_stale(struct cn_px *px, const char *comm, const char *domain);

/* cn_topos.c */
int  px_topos_init(struct cn_px *px, const struct cfg_connector *self);
bool px_topos_is_adv(const struct cn_px *px, const struct pl *host);
int  px_topos_contact(struct cn_px *px, const struct sip_msg *msg,
		      enum sst_tp k, char *buf, size_t size);
bool px_topos_ruri(const struct cn_px *px, const struct sip_msg *msg,
		   char *buf, size_t size);
bool px_topos_uri(const struct cn_px *px, const struct sip_msg *msg,
		  struct uri *u, char *buf, size_t size);

/* cn_rate.c */
bool px_rate_admit(struct cn_px *px, const struct px_req *r);
void px_rate_status(struct cn_px *px, struct dmn_st *root);
void px_rate_stop(struct cn_px *px);
void px_rate_refused(struct cn_px *px, const struct px_req *r);
/* Seconds of Retry-After in a temporary answer, and between retries:
 * the connector's retryInterval. */
unsigned px_retry_s(const struct cn_px *px);

/* cn_subs.c */
bool px_subs_admit(struct cn_px *px, struct px_req *r);
void px_subs_answer(struct px_req *r, uint16_t scode,
		    const struct sip_msg *resp);
void px_subs_answer_expires(struct px_req *r, uint16_t scode,
			    uint32_t expires);
void px_subs_forget(struct cn_px *px, const char *callid, const char *tag);
void px_subs_status(struct cn_px *px, struct dmn_st *it,
		    const struct cfg_extern *ex);

/* cn_admit.c */
int  px_admit_conf(struct cn_px *px, struct sst_transp_conf *conf);
void px_admit_start(struct cn_px *px);
void px_admit_status(const struct cn_px *px, struct dmn_st *root);

/* cn_link.c */
int  px_links_start(struct cn_px *px);
int  px_links_apply(struct cn_px *px);
int  px_links_retry(struct cn_px *px, struct cn_comm *comm);
void px_links_stop(struct cn_px *px);
void px_links_status(struct cn_px *px, struct dmn_st *root);
void px_gw_targets(struct cn_px *px, struct px_req *r,
		   const struct sa *prefer, enum sst_tp prefer_kind);
void px_gwt_failed(struct cn_px *px, int idx, const char *why);
void px_gwt_ok(struct cn_px *px, int idx);
int  px_gw_index(const struct cn_px *px, const struct sa *src);
void px_gw_heard(struct cn_px *px, int idx);

#endif /* STC_CN_PX_H */
