/*
 * sst_flow.c -- where responses to a UDP request go.
 *
 * RFC 3261 18.2.2: a server sends the response to the address in
 * received= (added when the sent-by host is not the source address, RFC
 * 3261 18.2.1) or else to the sent-by host, at the sent-by port or
 * 5060.  RFC 3581: with rport, to the source address and port, where a
 * client behind NAT can receive it.  Both daemons use this one rule.
 */
#include <string.h>

#include <re.h>

#include "sipstack/sst_flow.h"

uint16_t sst_flow_sentby_port(const char *p, size_t n)
{
	const char *e = p + n, *c;
	uint32_t port = 0;

	if (!p || !n)
		return 0;

	if (*p == '[') {
		c = memchr(p, ']', n);
		if (!c)
			return 0;
		++c;
		if (c == e)
			return 0;
		if (*c != ':')
			return 0;
	}
	else {
		c = memchr(p, ':', n);
		if (!c)
			return 0;
	}

	if (++c == e)
		return 0;
	for (; c < e; c++) {
		if (*c < '0' || *c > '9')
			return 0;
		port = port * 10 + (uint32_t)(*c - '0');
		if (port > 65535)
			return 0;
	}
	return (uint16_t)port;
}

int sst_flow_udp_dest(struct sa *dst, const struct sip_msg *req,
		      const struct sa *src)
{
	struct pl rp;
	uint16_t port;

	if (!dst || !req || !src || !sa_isset(src, SA_ALL))
		return EINVAL;

	*dst = *src;
	if (!msg_param_exists(&req->via.params, "rport", &rp))
		return 0;

	port = sst_flow_sentby_port(req->via.sentby.p, req->via.sentby.l);
	sa_set_port(dst, port ? port : SST_FLOW_PORT);
	return 0;
}
