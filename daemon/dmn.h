/*
 * dmn.h -- daemon plumbing shared by stconnector and stgateway.
 *
 * Owns: logging (syslog, or stderr in the foreground), the PID file,
 *	dropping root after binding, the UNIX control socket (server and
 *	client) with its command table, and the status tree printed for
 *	people or as JSON.
 * Not here: SIP, configuration, directory.  Uses libre's event loop.
 */
#ifndef STC_DMN_H
#define STC_DMN_H
#endif
