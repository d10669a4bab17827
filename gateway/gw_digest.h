/*
 * gw_digest.h -- SIP digest authentication, server side (RFC 3261 §22,
 * RFC 2617 qop=auth, RFC 7616/RFC 8760 SHA-256).
 *
 * Owns: challenges (WWW-Authenticate / Proxy-Authenticate values), the
 *       stateless expiring nonce, parsing an Authorization /
 *       Proxy-Authorization value, and verifying it against a cleartext
 *       password or a stored HA1.
 * Not here: looking up users and their secrets (directory/), choosing
 *       401 vs 407, counting and logging refusals (the caller does, once;
 *       nothing here logs, and no secret is ever printed).
 * Memory: struct gw_digest is a libre mem object holding the per-process
 *       nonce key and the bounded nonce-count table; credentials are a
 *       plain caller struct.
 *
 * Nonce: hex of timestamp (8 bytes, caller's clock in seconds) | random
 * (8 bytes) | HMAC-SHA256(key, timestamp | random | realm) cut to 16
 * bytes.  It needs no server state to check; it is bound to the realm,
 * and it expires after the lifetime given to gw_digest_alloc.  The key
 * is drawn at allocation, so a restart invalidates outstanding nonces
 * (clients get a fresh challenge, as for a forged nonce).
 *
 * Nonce counts (optional replay defence, kept bounded): the first
 * GW_DIGEST_NC_MAX nonces in use are remembered with their highest nc; a
 * request whose nc is not higher is refused (EALREADY).  When the table
 * is full the oldest entry is dropped and its timestamp becomes a
 * watermark: an unknown nonce at or below it can no longer be checked
 * for replay and is answered as stale, so the client simply retries with
 * a fresh nonce.  Entries also go once their nonce has expired.
 *
 * Only qop=auth and the MD5 and SHA-256 algorithms (no -sess, no
 * userhash) are accepted: they are what the challenge offers.  The uri
 * parameter must equal the request-URI byte for byte.
 *
 * Return codes (gw_digest_reason() names each for counters and logs):
 *   parse:  EPROTONOSUPPORT  scheme is not Digest
 *           EBADMSG  syntax (unterminated quote, missing '=', bad nc, ...)
 *           EMSGSIZE value over GW_DIGEST_HDR_MAX or a field over its cap
 *           EEXIST   a parameter given twice
 *           ENOENT   a required parameter missing
 *           ENOTSUP  algorithm or qop we do not offer
 *   verify: EXDEV    realm is not ours
 *           ENXIO    uri differs from the request-URI
 *           EPERM    nonce not issued by us (tampered, other realm, garbled)
 *           ENOTSUP  no qop, or no secret for this algorithm
 *           EACCES   wrong response (wrong password)
 *           ESTALE   right response, expired nonce: challenge with stale=true
 *           EALREADY nonce count not increasing (replay)
 */
#ifndef GW_DIGEST_H
#define GW_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	GW_DIGEST_HDR_MAX = 2048,     /* bytes of one Authorization value */
	GW_DIGEST_USER_MAX = 128,     /* username, realm, cnonce, opaque */
	GW_DIGEST_URI_MAX = 512,
	GW_DIGEST_NONCE_LEN = 64,     /* hex chars of our nonce */
	GW_DIGEST_HEX_MAX = 64,       /* hex chars of a SHA-256 value */
	GW_DIGEST_NC_MAX = 65536,     /* nonces whose nc is tracked (~100
				       * bytes each); more fresh nonces than
				       * this within one second are stale */
	GW_DIGEST_TTL_DEFAULT = 300,  /* seconds a nonce is fresh */
	GW_DIGEST_SKEW = 5,           /* seconds of future timestamp allowed */
};

/* Order of preference: SHA-256 first (RFC 8760), MD5 for older clients. */
enum gw_digest_alg {
	GW_DIGEST_SHA256 = 0,
	GW_DIGEST_MD5,
	GW_DIGEST_ALG_COUNT,
};

/* A parsed Authorization value; strings are unescaped and NUL-terminated. */
struct gw_digest_cred {
	enum gw_digest_alg alg;
	bool qop_auth;               /* qop=auth present */
	uint32_t nc;                 /* nonce count, valid if qop_auth */
	char username[GW_DIGEST_USER_MAX + 1];
	char realm[GW_DIGEST_USER_MAX + 1];
	char nonce[GW_DIGEST_USER_MAX + 1];
	char uri[GW_DIGEST_URI_MAX + 1];
	char response[GW_DIGEST_HEX_MAX + 1];
	char cnonce[GW_DIGEST_USER_MAX + 1];
	char nc_hex[9];
	char opaque[GW_DIGEST_USER_MAX + 1];
};

/* The user's secret: a password, or HA1 hex per algorithm (either may be
 * NULL).  A password is used when present. */
struct gw_digest_secret {
	const char *password;
	const char *ha1[GW_DIGEST_ALG_COUNT];
};

struct gw_digest;
struct mbuf;
struct pl;

/* "SHA-256" / "MD5", as on the wire. */
const char *gw_digest_alg_name(enum gw_digest_alg alg);
/* A stable short name for a return code of this module. */
const char *gw_digest_reason(int err);

/* Server state with a fresh random key; ttl in seconds (0: default). */
int gw_digest_alloc(struct gw_digest **dgp, uint32_t ttl);

/* Append one challenge value for alg to mb, with a fresh nonce. */
int gw_digest_challenge(struct mbuf *mb, struct gw_digest *dg,
			enum gw_digest_alg alg, const char *realm,
			uint64_t now, bool stale);
/* Append "hname: value\r\n" once per algorithm, SHA-256 first, sharing
 * one nonce (hname is WWW-Authenticate or Proxy-Authenticate). */
int gw_digest_challenges(struct mbuf *mb, struct gw_digest *dg,
			 const char *hname, const char *realm, uint64_t now,
			 bool stale);

/* Parse an Authorization / Proxy-Authorization value (untrusted).
 * *cred is written only on success. */
int gw_digest_cred_decode(struct gw_digest_cred *cred, const struct pl *val);

/* Verify cred for a request (method, request-URI) in our realm. */
int gw_digest_verify(struct gw_digest *dg, const struct gw_digest_cred *cred,
		     const char *realm, const char *method,
		     const struct pl *ruri, const struct gw_digest_secret *sec,
		     uint64_t now);

/* HA1 = H(user:realm:password) as lowercase hex into hex[sz]; sz must
 * hold the digest (33 for MD5, 65 for SHA-256). */
int gw_digest_ha1(char *hex, size_t sz, enum gw_digest_alg alg,
		  const char *user, const char *realm, const char *password);
/* The qop=auth response H(HA1:nonce:nc:cnonce:auth:H(method:uri)). */
int gw_digest_response(char *hex, size_t sz, enum gw_digest_alg alg,
		       const char *ha1hex, const char *nonce, const char *nc,
		       const char *cnonce, const char *method, const char *uri);

#endif
