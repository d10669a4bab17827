/*
 * cn_policy.h -- the connector's decisions, without any I/O.
 *
 * Owns: which requests the connector accepts and where they go, as pure
 *	functions of the configuration and the facts of one request
 *	(direction, From and Request-URI domains, source address, the
 *	addresses the claimed community's proxy resolves to, the TLS peer's
 *	name check).  The refusal reasons and their stable names, which
 *	status screens and counters use.
 * Not here: DNS lookups (the caller resolves and passes the addresses),
 *	sockets, SIP parsing.  So every rule can be tested on its own.
 *
 * The rules (DESIGN.md, "Message flow"):
 *   outbound (from one of this connector's gateways): the Request-URI
 *	domain names an ExternCommunity (else unknown-community), which
 *	this connector supports and has enabled (else not-enabled);
 *   inbound (from anywhere else): the From domain names an
 *	ExternCommunity (else unknown-community), enabled here (else
 *	not-enabled); the Request-URI domain is one of the local community's
 *	(else not-local: never an open relay); the source IP is one of the
 *	community's proxy addresses (else untrusted-ip); and over TLS with
 *	verification required, the peer certificate matched the proxy name
 *	(else tls-failure); the request came over one of the transports
 *	the community is accepted on (else wrong-transport).
 *   an inbound request whose From domain is one of the local
 *	community's comes from inside and should have come from one of
 *	this connector's gateways: not-gateway.
 *
 * Transports, weakest first: udp, tcp, tls.  A community is accepted on
 * its configured transport and every stronger one, and on whatever its
 * acceptTransports attribute adds (cfg_extern.accept, a mask of
 * CFG_TP_BIT()); TLS is always acceptable.
 */
#ifndef STC_CN_POLICY_H
#define STC_CN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "conf/cfg.h"

enum cn_reason {
	CN_OK = 0,
	CN_R_UNTRUSTED_IP,
	CN_R_NOT_ENABLED,
	CN_R_UNKNOWN_COMMUNITY,
	CN_R_NOT_LOCAL,
	CN_R_MALFORMED,
	CN_R_TLS_FAILURE,
	CN_R_OVERLOAD,
	CN_R_NOT_GATEWAY,
	CN_R_LOOP,
	CN_R_CONN_LIMIT,	/* a TCP/TLS connection refused or evicted */
	CN_R_WRONG_TRANSPORT,
	CN_R_DNS_FAILURE,
	CN_R_RATE_LIMIT,	/* over the community's rate (cn_rate.c) */
	CN_R_COUNT
};

enum cn_dir {
	CN_DIR_OUTBOUND = 0,	/* a local gateway towards the federation */
	CN_DIR_INBOUND,		/* an external community towards us */
};

/* One request's facts, as the caller found them. */
struct cn_facts {
	const char *from_domain;	/* host part of From, or NULL */
	const char *ruri_domain;	/* host part of the Request-URI */
	const struct sockaddr *src;	/* packet source */
	bool tls;			/* arrived over TLS */
	bool tls_name_ok;		/* TLS peer matched the proxy name */
	enum cfg_transport tp;		/* the transport it arrived over */
};


/* The addresses a community's proxy resolves to (every SRV target,
 * IPv4 and IPv6), for the trust check. */
struct cn_addrset {
	const struct sockaddr_storage *v;
	size_t n;
};

struct cn_verdict {
	enum cn_reason reason;
	const struct cfg_extern *community;	/* when one was found */
	unsigned status;			/* SIP status to answer */
	const char *phrase;			/* its reason phrase */
};

const char *cn_reason_name(enum cn_reason r);

/* The rule over the configuration itself (for tools and tests); the
 * daemon applies the same rule through its gateway table, whose
 * addresses are parsed once per configuration (cn_link.c px_gw_index). */
bool cn_is_gateway(const struct cfg *cfg, const struct cfg_connector *self,
		   const struct sockaddr *src);

void cn_decide_community(const struct cfg *cfg,
			 const struct cfg_connector *self, enum cn_dir dir,
			 const struct cn_facts *f, struct cn_verdict *v);

void cn_decide_trust(const struct cn_facts *f,
		     const struct cn_addrset *proxy, bool verify_required,
		     struct cn_verdict *v);

/* Request validation (RFC 3261 16.3 step 1, RFC 3986), on the raw
 * text of a URI's user part and host. */
bool cn_user_has_ctl(const char *p, size_t l);
bool cn_host_ok(const char *p, size_t l);

bool cn_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

#endif /* STC_CN_POLICY_H */
