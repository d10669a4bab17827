/*
 * gw_sipv.h -- values the gateway's services read from a request, in
 * one form for all of them.
 *
 * Owns: the address-of-record form that registrations, presence and
 *	messages compare byte for byte ("sip:user@host", host in lower
 *	case), and the Expires header's value.
 * Not here: any policy on those values (the services clamp Expires).
 * Memory: nothing is allocated.
 */
#ifndef STC_GW_SIPV_H
#define STC_GW_SIPV_H

#include <stddef.h>
#include <stdint.h>

struct sip_msg;
struct uri;

/* uri's AOR in buf: EINVAL without a user or host, EMSGSIZE when the
 * user is over DIR_KEY_MAX, the host over CFG_DOMAIN_MAX or buf too
 * small. */
int gw_aor_of(char *buf, size_t sz, const struct uri *uri);

/* msg's Expires value, or dflt when there is none or it is not a
 * number up to UINT32_MAX. */
uint32_t gw_expires_of(const struct sip_msg *msg, uint32_t dflt);

#endif /* STC_GW_SIPV_H */
