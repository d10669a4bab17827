/*
 * cn_xmpp.h -- the connector's XMPP edge: server-to-server streams with
 * the communities whose ExternCommunity says protocol="xmpp".
 *
 * Two parts, one interface between them:
 *
 *   cn_xmpp.c      the streams (RFC 6120): the listener on xmppPort,
 *                  outbound streams found by SRV _xmpp-server._tcp,
 *                  STARTTLS with certificate verification, SASL
 *                  EXTERNAL (XEP-0178) or else Server Dialback, the
 *                  IP/DNS trust check, keep-alives,
 *                  idle timeout, reconnect with backoff, status.  It
 *                  knows stanzas only as elements with from and to.
 *   cn_xmpp_sip.c  the translation (RFC 7247, 7248, 7572): SIP requests
 *                  from our gateways to an XMPP community become
 *                  stanzas; stanzas from an XMPP community become SIP
 *                  requests to our gateways.
 *
 * Owns: struct cn_xmpp and its streams.
 * Memory: libre mem objects; mem_deref(x) closes every stream.
 * Threads: the libre loop's thread only.
 */
#ifndef STC_CN_XMPP_H
#define STC_CN_XMPP_H

#include <stdbool.h>

struct cn_px;
struct dmn_st;
struct xmpp_el;
struct cn_xmpp;

/*
 * What the streams tell the translation.  recv: one stanza (message,
 * presence or iq) from an XMPP community; the stream authenticated the
 * domain of its 'from', and its 'to' is one of our domains; comm names
 * the ExternCommunity.  The handler may keep the element (mem_ref).
 * link: the community's streams came up (up: a stanza can be sent
 * now) or all of them went away (presence learned over them is stale).
 * recheck: the community's streams all closed for quiet, its link
 * stays up; what is shown of its contacts should be asked again (the
 * asking opens a stream, and shows whether the partner is still there).
 * recv NULL: every stanza that needs an answer gets a
 * service-unavailable error.
 */
struct cn_xmpp_handlers {
	void (*recv)(const char *comm, struct xmpp_el *stanza, void *arg);
	void (*link)(const char *comm, bool up, void *arg);
	void (*recheck)(const char *comm, void *arg);
	void *arg;
};

/*
 * The fate of one stanza given to cn_xmpp_send, told exactly once and
 * never from inside cn_xmpp_send: 0 written on an authenticated stream;
 * else ETIMEDOUT (no stream came up in time, the DNS did not answer, no
 * room for a stream), ECONNREFUSED (no server answered, or it closed
 * the stream before authentication for a reason of its own:
 * system-shutdown, internal-server-error, a clean close, db:result
 * type=error), EPIPE (the stream broke), ENOENT (the domain has no
 * server in DNS), EPERM (the server failed our certificate check, or
 * refused us: not-authorized, policy-violation, invalid-from,
 * host-unknown, db:result type=invalid), ENOTCONN (the community is
 * disabled or the connector is stopping).  All but ENOENT and EPERM
 * are temporary.  arg must stay valid until then.
 */
typedef void (cn_xmpp_sent_h)(int err, void *arg);

int  cn_xmpp_alloc(struct cn_xmpp **xp, struct cn_px *px,
		   const struct cn_xmpp_handlers *h);
/* stanza: its 'from' in one of our domains, its 'to' in one of comm's. */
int  cn_xmpp_send(struct cn_xmpp *x, const char *comm,
		  const struct xmpp_el *stanza, cn_xmpp_sent_h *senth,
		  void *arg);
int  cn_xmpp_apply(struct cn_xmpp *x);	/* after a reload */
/* The "xmpp" section of root, or NULL when there is no XMPP to tell
 * of (no listener, no community). */
struct dmn_st *cn_xmpp_status(struct cn_xmpp *x, struct dmn_st *root);

#endif /* STC_CN_XMPP_H */
