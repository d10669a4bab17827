/*
 * sst_flow.c -- where responses to a UDP request go.
 *
 * RFC 3261 18.2.2: a server sends the response to the address in
 * received= (added when the sent-by host is not the source address, RFC
 * 3261 18.2.1) or else to the sent-by host, at the sent-by port or
 * 5060.  RFC 3581: with rport, to the source address and port, where a
 * client behind NAT can receive it.  Both daemons use this one rule.
 * Over a stream, responses and later requests go back on the
 * connection the request came on (RFC 3261 18.2.2, first case).
 */
#include <errno.h>
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

void sst_flow_borrow(struct sst_flow *fl, struct sst_transp *tp,
		     const struct sst_rx *rx, const struct sip_msg *req)
{
	memset(fl, 0, sizeof(*fl));
	fl->transp = tp;
	fl->tp = rx->tp;
	fl->src = *rx->src;
	if (!req || !req->req || sst_flow_udp_dest(&fl->reply, req, rx->src))
		fl->reply = *rx->src;
	if (rx->dst)
		fl->dst = *rx->dst;
	fl->conn = rx->conn;
}

static void flow_destructor(void *arg)
{
	struct sst_flow *fl = arg;

	fl->conn = mem_deref(fl->conn);
}

int sst_flow_alloc(struct sst_flow **flp, struct sst_transp *tp,
		   const struct sst_rx *rx, const struct sip_msg *req)
{
	struct sst_flow *fl;

	if (!flp || !tp || !rx || !rx->src)
		return EINVAL;
	fl = mem_zalloc(sizeof(*fl), flow_destructor);
	if (!fl)
		return ENOMEM;
	sst_flow_borrow(fl, tp, rx, req);
	fl->conn = mem_ref(rx->conn);
	*flp = fl;
	return 0;
}

int sst_flow_alloc_udp(struct sst_flow **flp, struct sst_transp *tp,
		       const struct sa *peer, const struct sa *laddr)
{
	struct sst_flow *fl;

	if (!flp || !tp || !peer || !sa_isset(peer, SA_ALL))
		return EINVAL;
	fl = mem_zalloc(sizeof(*fl), flow_destructor);
	if (!fl)
		return ENOMEM;
	fl->transp = tp;
	fl->tp = SST_TP_UDP;
	fl->src = *peer;
	fl->reply = *peer;
	if (laddr)
		fl->dst = *laddr;
	*flp = fl;
	return 0;
}

static int flow_udp_send(const struct sst_flow *fl, const struct sa *to,
		    struct mbuf *mb)
{
	if (!fl->transp)
		return ENOTCONN;
	return sst_transp_send(fl->transp, NULL, SST_TP_UDP, to,
			       sa_isset(&fl->dst, SA_ADDR) ? &fl->dst : NULL,
			       NULL, mb, NULL, NULL);
}

int sst_flow_send(struct mbuf *mb, void *arg)
{
	const struct sst_flow *fl = arg;

	if (!fl || !mb)
		return EINVAL;
	if (fl->tp == SST_TP_UDP)
		return flow_udp_send(fl, &fl->src, mb);
	if (!fl->conn)
		return ENOTCONN;
	return sst_conn_send(fl->conn, mb);
}

int sst_flow_respond(struct mbuf *mb, void *arg)
{
	const struct sst_flow *fl = arg;

	if (!fl || !mb)
		return EINVAL;
	if (fl->tp == SST_TP_UDP)
		return flow_udp_send(fl, sa_isset(&fl->reply, SA_ALL) ?
				&fl->reply : &fl->src, mb);
	return sst_flow_send(mb, arg);
}

int sst_flow_respond_to(const struct sst_flow *fl, const struct sip_msg *req,
			struct mbuf *mb)
{
	struct sa to;
	int err;

	if (!fl || !mb)
		return EINVAL;
	if (fl->tp != SST_TP_UDP || !req)
		return sst_flow_respond(mb, (void *)fl);
	err = sst_flow_udp_dest(&to, req, &fl->src);
	if (err)
		return err;
	return flow_udp_send(fl, &to, mb);
}
