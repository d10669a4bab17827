/*
 * sst_seal.c -- sealed tokens: see sst_seal.h.
 */
#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "sipstack/sst_seal.h"

enum { SEAL_TEXT_MAX = 1024 };

static const char b64u[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sst_seal_keygen(uint8_t key[SST_SEAL_KEY])
{
	return gnutls_rnd(GNUTLS_RND_KEY, key, SST_SEAL_KEY) ? EIO : 0;
}

static size_t b64u_encode(const uint8_t *in, size_t l, char *out)
{
	size_t i, n = 0;

	for (i = 0; i + 2 < l; i += 3) {
		const uint32_t v = (uint32_t)in[i] << 16 |
			(uint32_t)in[i + 1] << 8 | in[i + 2];

		out[n++] = b64u[v >> 18 & 63];
		out[n++] = b64u[v >> 12 & 63];
		out[n++] = b64u[v >> 6 & 63];
		out[n++] = b64u[v & 63];
	}
	if (l - i == 1) {
		out[n++] = b64u[in[i] >> 2];
		out[n++] = b64u[(in[i] & 3) << 4];
	}
	else if (l - i == 2) {
		const uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[n++] = b64u[v >> 10 & 63];
		out[n++] = b64u[v >> 4 & 63];
		out[n++] = b64u[(v & 15) << 2];
	}
	return n;
}

static int b64u_val(char c)
{
	const char *p = c ? strchr(b64u, c) : NULL;

	return p ? (int)(p - b64u) : -1;
}

/* -1 for a character outside the alphabet or a length no encoding has. */
static long b64u_decode(const char *in, size_t l, uint8_t *out, size_t size)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	if (l % 4 == 1)
		return -1;
	for (i = 0; i < l; i++) {
		const int v = b64u_val(in[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= size)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc ? -1 : (long)n;	/* the unused bits are zero */
}

static int aead(gnutls_aead_cipher_hd_t *h, const uint8_t *key)
{
	gnutls_datum_t k = {(unsigned char *)key, 32};

	return gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &k) ?
		EIO : 0;
}

int sst_seal(const uint8_t key[SST_SEAL_KEY], const char *p, size_t l,
	     char *buf, size_t size)
{
	uint8_t raw[SST_SEAL_NONCE + SEAL_TEXT_MAX + SST_SEAL_TAG];
	uint8_t mac[32];
	gnutls_aead_cipher_hd_t h;
	size_t ctl = sizeof(raw) - SST_SEAL_NONCE;
	int err;

	if (!key || !p || !buf || l > SEAL_TEXT_MAX)
		return EINVAL;
	if (size < SST_SEAL_LEN(l) + 1)
		return EOVERFLOW;
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key + 32, 32, p, l, mac))
		return EIO;
	memcpy(raw, mac, SST_SEAL_NONCE);
	err = aead(&h, key);
	if (err)
		return err;
	if (gnutls_aead_cipher_encrypt(h, raw, SST_SEAL_NONCE, NULL, 0,
				       SST_SEAL_TAG, p, l,
				       raw + SST_SEAL_NONCE, &ctl))
		err = EIO;
	gnutls_aead_cipher_deinit(h);
	if (err)
		return err;
	buf[b64u_encode(raw, SST_SEAL_NONCE + ctl, buf)] = '\0';
	return 0;
}

int sst_unseal(const uint8_t key[SST_SEAL_KEY], const char *p, size_t l,
	       char *buf, size_t size)
{
	uint8_t raw[SST_SEAL_NONCE + SEAL_TEXT_MAX + SST_SEAL_TAG];
	gnutls_aead_cipher_hd_t h;
	size_t ptl;
	long n;
	int err;

	if (!key || !p || !buf || !size)
		return EINVAL;
	n = b64u_decode(p, l, raw, sizeof(raw));
	if (n < SST_SEAL_NONCE + SST_SEAL_TAG)
		return EBADMSG;
	ptl = (size_t)n - SST_SEAL_NONCE - SST_SEAL_TAG;
	if (ptl + 1 > size)
		return EOVERFLOW;
	err = aead(&h, key);
	if (err)
		return err;
	if (gnutls_aead_cipher_decrypt(h, raw, SST_SEAL_NONCE, NULL, 0,
				       SST_SEAL_TAG, raw + SST_SEAL_NONCE,
				       (size_t)n - SST_SEAL_NONCE, buf, &ptl))
		err = EBADMSG;
	gnutls_aead_cipher_deinit(h);
	if (err)
		return err;
	buf[ptl] = '\0';
	return 0;
}
