/*
 * cn_proxy.h -- the connector's SIP proxy core.
 *
 * Owns: the listeners on the CommunityConnector address (UDP and TCP on
 *	port, TLS on tlsPort), the resolver, the transaction stack, the
 *	receive path (decode, refuse, decide, forward, relay), the links
 *	to gateways and external communities (OPTIONS keep-alives, down
 *	marks, retries) and what status shows about them.
 * Not here: the accept rules (cn_policy.h), the resolution order
 *	(cn_resolve.h), the daemon, its counters and status tree (cn.h).
 *
 * Methods: presence and instant messaging only (SUBSCRIBE, NOTIFY,
 * PUBLISH, MESSAGE, OPTIONS, REGISTER ...).  INVITE and CANCEL are
 * answered 501; ACK is dropped.
 *
 * Every request that is accepted by the server transaction gets exactly
 * one final answer: the next hop's, or 403 (refused, with the reason as
 * phrase), 483 (Max-Forwards 0), 503 (no hop or gateway left; with
 * Retry-After when no gateway is up) or 408 (the last hop timed out,
 * Timer F = 64*T1 = 32 s).
 */
#ifndef STC_CN_PROXY_H
#define STC_CN_PROXY_H

#include "connector/cn.h"

enum {
	CN_PX_KEEPALIVE_S  = 30,    /* OPTIONS to each gateway and link */
	CN_PX_TICK_MS      = 1000,  /* link timer granularity */
	CN_PX_NOISY_MAX    = 8,     /* conn-limit sources shown */
	CN_PX_TARGETS_MAX  = 16,    /* next hops tried for one request */
	CN_PX_GWT_MAX      = 64,    /* gateway addresses kept */
	CN_PX_PENDING_MAX  = 10000, /* requests waiting or forwarded */
};

/* The table main.c hands to cn_daemon_main(). */
extern const struct cn_proxy_ops cn_proxy_ops;

#endif /* STC_CN_PROXY_H */
