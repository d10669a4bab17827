/*
 * sst.h -- the SIP stack of stconnector and stgateway.
 *
 * Holds no policy: routing and trust live in connector/ and gateway/.
 * Callers pass plain settings; nothing here reads the config file.
 *
 * Headers, one per concern:
 *	sst_msg.h	validation of decoded messages, reasons, limits
 *	sst_build.h	building requests, responses and forwarded copies
 *	sst_frame.h	cutting TCP/TLS streams into whole messages
 *	sst_transp.h	UDP/TCP/TLS listeners, connection pool, counters
 *	sst_tls.h	GnuTLS layered on a libre TCP connection
 *	sst_trans.h	client and server transactions, timers
 *	sst_dns.h	cached, deadline-bound DNS resolution
 */
#ifndef STC_SST_H
#define STC_SST_H
#endif
