/*
 * sst_flow.h -- the way back to the sender of a request.
 *
 * Owns: where a response to a request received over UDP is sent (RFC
 *	3261 18.2.2, RFC 3581), one rule for both daemons.
 * Not here: streams (a response goes back on the request's connection,
 *	struct sst_rx.conn), the received= and rport= values written into
 *	the response's Via (sst_build.h), sending (sst_transp.h).
 * Memory: nothing is allocated.
 */
#ifndef STC_SST_FLOW_H
#define STC_SST_FLOW_H

#include <stdint.h>

struct sa;
struct sip_msg;

enum { SST_FLOW_PORT = 5060 };  /* sent-by without a port */

/*
 * The destination of a UDP response to req, which came from src.
 * With rport in the top Via (RFC 3581): src, address and port.
 * Without: src's address -- the sent-by host itself when it is that
 * address, else the received= address the response's Via carries --
 * at the sent-by port, SST_FLOW_PORT when it names none.  A sent-by
 * host name is never looked up: the received= address stands for it.
 * maddr (multicast) is not supported and is ignored.
 *
 * @return 0, or EINVAL
 */
int sst_flow_udp_dest(struct sa *dst, const struct sip_msg *req,
		      const struct sa *src);

/* The port of a Via sent-by ("host", "host:port", "[v6]:port"); 0
 * when it names none or an invalid one. */
uint16_t sst_flow_sentby_port(const char *p, size_t n);

#endif /* STC_SST_FLOW_H */
