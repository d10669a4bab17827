/*
 * cn_xmpp_sip.h -- the translation between our gateways' SIP and the
 * XMPP communities' stanzas (RFC 7247, 7248, 7572), a part of the
 * proxy core (cn_proxy.c creates it and hands it requests).
 *
 * For an ExternCommunity with protocol="xmpp" the connector is the SIP
 * user agent of the XMPP side:
 *   MESSAGE from a gateway   -> <message type="chat">; 200 once the
 *                               stanza is written, else the mapped error
 *   SUBSCRIBE from a gateway -> 202, a dialog of ours, <presence
 *                               type="subscribe"> once and a probe; the
 *                               NOTIFYs say Offline until the contact's
 *                               presence says otherwise
 *   <message> from XMPP      -> MESSAGE to the gateway
 *   <presence> from XMPP     -> NOTIFY in the dialogs it concerns
 *   <presence type=subscribe> from XMPP -> SUBSCRIBE to the gateway;
 *                               its NOTIFYs become <presence>
 *
 * Owns: struct cn_xsip, its dialogs both ways, the refusals it
 *       remembers, the MESSAGEs and requests under way, and the
 *       struct cn_xmpp it allocates (cn_xmpp.h).
 * Memory: libre mem; mem_deref() answers what is still waiting.
 * Threads: the libre loop's thread only.
 */
#ifndef STC_CN_XMPP_SIP_H
#define STC_CN_XMPP_SIP_H

#include <stdbool.h>
#include <stdint.h>

struct cn_px;
struct px_req;
struct cn_xsip;
struct cfg_extern;
struct dmn_st;
struct mbuf;

enum {
	CN_XSIP_DLG_MAX = 4096,	    /* dialogs per community, each way */
	CN_XSIP_REFUSAL_MAX = 4096, /* refused pairs remembered */
	CN_XSIP_REFUSAL_S = 3600,   /* how long a refusal is remembered */
	CN_XSIP_EXPIRES_MAX = 3600, /* longest subscription we grant */
	CN_XSIP_EXPIRES_OUT = 3600, /* what we ask of the gateway */
};

int  cn_xsip_alloc(struct cn_xsip **xsp, struct cn_px *px);
/* r (from a gateway, r->comm set) is for the XMPP community ex: the
 * translation answers it and frees it. */
void cn_xsip_request(struct cn_xsip *xs, struct px_req *r,
		     const struct cfg_extern *ex);
void cn_xsip_status(struct cn_xsip *xs, struct dmn_st *root);
int  cn_xsip_apply(struct cn_xsip *xs);	/* after a reload */

/* Counters, for status and tests. */
enum { CN_XSIP_ERR_KINDS = 16 };

struct cn_xsip_stats {
	uint32_t dlg_out;	/* gateway watchers of XMPP contacts */
	uint32_t dlg_in;	/* XMPP watchers of our users */
	uint32_t refusals;	/* pairs remembered as refused */
	uint64_t dlg_refused;	/* SUBSCRIBEs refused: table full */
	uint64_t sent, recv;	/* stanzas */
	uint64_t msg_out, msg_out_failed;	/* gateway MESSAGE -> stanza */
	uint64_t msg_in, msg_in_failed;	/* <message> -> gateway, answered */
	uint64_t untranslated;	/* stanzas with no SIP meaning: dropped */
	struct cn_xsip_errcount {
		const char *cond;	/* a condition of cn_xmpp_map.c */
		uint64_t n;
	} errs[CN_XSIP_ERR_KINDS];	/* error stanzas we sent, by condition */
};
void cn_xsip_stats(const struct cn_xsip *xs, struct cn_xsip_stats *s);

/*
 * Tests: the SIP requests to gateways leave through sendh (the client
 * transaction's sender, px_out_send's contract) instead of px_out_send,
 * and the clock may be moved on (ms added to the proxy's).
 */
typedef int (cn_xsip_send_h)(struct mbuf *mb, void *arg);
void cn_xsip_send_seam(struct cn_xsip *xs, cn_xsip_send_h *sendh);
void cn_xsip_tick(struct cn_xsip *xs, uint64_t now_ms);

#endif /* STC_CN_XMPP_SIP_H */
