/*
 * sst_seal.h -- small sealed tokens: a short text encrypted and
 * authenticated under a key of the caller's, as URL-safe base64, so
 * that a value handed to a peer (a URI user part) comes back only as
 * it was issued and tells the peer nothing.
 *
 * Owns: the key (SST_SEAL_KEY random bytes: a cipher key and a nonce
 *	key), the token format base64url(nonce | AES-256-GCM(text) | tag)
 *	without padding, the nonce HMAC-SHA256(nonce key, text) cut to 12
 *	bytes: one text always gives one token (a stable URI), different
 *	texts never share a nonce.
 * Not here: where the key is kept (the caller reads and writes it).
 * Memory: none; callers pass buffers.
 */
#ifndef STC_SST_SEAL_H
#define STC_SST_SEAL_H

#include <stddef.h>
#include <stdint.h>

enum {
	SST_SEAL_KEY   = 64,	/* 32 cipher key, 32 nonce key */
	SST_SEAL_NONCE = 12,
	SST_SEAL_TAG   = 16,
};

/* Base64url characters of a token for n bytes of text. */
#define SST_SEAL_LEN(n) ((((n) + SST_SEAL_NONCE + SST_SEAL_TAG) * 4 + 2) / 3)

/* A new random key. */
int sst_seal_keygen(uint8_t key[SST_SEAL_KEY]);

/* Seal l bytes of p into buf (NUL-ended): 0, or EOVERFLOW when buf is
 * smaller than SST_SEAL_LEN(l) + 1, or the cipher's error. */
int sst_seal(const uint8_t key[SST_SEAL_KEY], const char *p, size_t l,
	     char *buf, size_t size);

/* The text of a token (l characters at p) into buf (NUL-ended): 0, or
 * EBADMSG when it is not one of ours (malformed, altered, another key),
 * EOVERFLOW when buf is too small. */
int sst_unseal(const uint8_t key[SST_SEAL_KEY], const char *p, size_t l,
	       char *buf, size_t size);

#endif /* STC_SST_SEAL_H */
