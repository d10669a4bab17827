/*
 * gw_digest.c -- SIP digest authentication, server side.
 *
 * Hashes, HMAC and randomness come from GnuTLS.  Every comparison that
 * involves a secret or a MAC runs in constant time.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <re.h>

#include "gateway/gw_digest.h"

enum {
	KEY_LEN = 32,
	TS_LEN = 8,
	RND_LEN = 8,
	MAC_LEN = 16,
	NONCE_BIN = TS_LEN + RND_LEN + MAC_LEN,
	HASH_MAX = 32,
};

/* One nonce in use and the highest nonce count seen with it. */
struct nc_ent {
	struct le he;       /* in dg->nct */
	struct le le;       /* in dg->ncl, oldest first */
	uint8_t id[RND_LEN + MAC_LEN];
	uint64_t ts;
	uint32_t nc;
};

struct gw_digest {
	uint8_t key[KEY_LEN];
	uint32_t ttl;
	struct hash *nct;
	struct list ncl;
	uint32_t ncn;
	uint64_t watermark;  /* highest timestamp dropped from the table */
	bool dropped;
};

static const struct {
	const char *name;
	gnutls_digest_algorithm_t dig;
	size_t len;
} algs[GW_DIGEST_ALG_COUNT] = {
	[GW_DIGEST_SHA256] = {"SHA-256", GNUTLS_DIG_SHA256, 32},
	[GW_DIGEST_MD5] = {"MD5", GNUTLS_DIG_MD5, 16},
};

const char *gw_digest_alg_name(enum gw_digest_alg alg)
{
	if ((unsigned)alg >= GW_DIGEST_ALG_COUNT)
		return "?";
	return algs[alg].name;
}

const char *gw_digest_reason(int err)
{
	switch (err) {
	case 0:               return "ok";
	case EPROTONOSUPPORT: return "not-digest";
	case EBADMSG:         return "malformed";
	case EMSGSIZE:        return "too-long";
	case EEXIST:          return "duplicate-param";
	case ENOENT:          return "missing-param";
	case ENOTSUP:         return "unsupported";
	case EXDEV:           return "wrong-realm";
	case ENXIO:           return "wrong-uri";
	case EPERM:           return "bad-nonce";
	case EACCES:          return "bad-response";
	case ESTALE:          return "stale-nonce";
	case EALREADY:        return "nc-replay";
	case ENOMEM:          return "no-memory";
	default:              return "error";
	}
}

static void destructor(void *arg)
{
	struct gw_digest *dg = arg;

	list_clear(&dg->ncl);
	hash_flush(dg->nct);
	mem_deref(dg->nct);
	gnutls_memset(dg->key, 0, sizeof(dg->key));
}

int gw_digest_alloc(struct gw_digest **dgp, uint32_t ttl)
{
	struct gw_digest *dg;
	int err;

	if (!dgp)
		return EINVAL;
	dg = mem_zalloc(sizeof(*dg), destructor);
	if (!dg)
		return ENOMEM;
	dg->ttl = ttl ? ttl : GW_DIGEST_TTL_DEFAULT;
	err = hash_alloc(&dg->nct, GW_DIGEST_NC_MAX / 4);
	if (err)
		goto out;
	if (gnutls_rnd(GNUTLS_RND_KEY, dg->key, sizeof(dg->key))) {
		err = EIO;
		goto out;
	}
 out:
	if (err)
		mem_deref(dg);
	else
		*dgp = dg;
	return err;
}

/* --- hex and hashing --- */

static void hex_encode(char *hex, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2*i] = digits[b[i] >> 4];
		hex[2*i+1] = digits[b[i] & 0xf];
	}
	hex[2*n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2n hex digits into n bytes. */
static bool hex_decode(uint8_t *b, size_t n, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		int hi = hexval(hex[2*i]), lo = hexval(hex[2*i+1]);

		if (hi < 0 || lo < 0)
			return false;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* H(p[0] ":" p[1] ":" ... ) over n NUL-terminated parts. */
static int hash_parts(uint8_t *out, enum gw_digest_alg alg,
		      const char *const *p, size_t n)
{
	gnutls_hash_hd_t h;
	size_t i;

	if (gnutls_hash_init(&h, algs[alg].dig))
		return EIO;
	for (i = 0; i < n; i++) {
		if (i)
			gnutls_hash(h, ":", 1);
		gnutls_hash(h, p[i], strlen(p[i]));
	}
	gnutls_hash_deinit(h, out);
	return 0;
}

int gw_digest_ha1(char *hex, size_t sz, enum gw_digest_alg alg,
		  const char *user, const char *realm, const char *password)
{
	const char *p[3] = {user, realm, password};
	uint8_t h[HASH_MAX];
	int err;

	if (!hex || (unsigned)alg >= GW_DIGEST_ALG_COUNT || !user || !realm ||
	    !password)
		return EINVAL;
	if (sz < 2 * algs[alg].len + 1)
		return EMSGSIZE;
	err = hash_parts(h, alg, p, 3);
	if (!err)
		hex_encode(hex, h, algs[alg].len);
	gnutls_memset(h, 0, sizeof(h));
	return err;
}

int gw_digest_response(char *hex, size_t sz, enum gw_digest_alg alg,
		       const char *ha1hex, const char *nonce, const char *nc,
		       const char *cnonce, const char *method, const char *uri)
{
	const char *p2[2] = {method, uri};
	char ha2hex[2 * HASH_MAX + 1];
	uint8_t h[HASH_MAX];
	int err;

	if (!hex || (unsigned)alg >= GW_DIGEST_ALG_COUNT || !ha1hex ||
	    !nonce || !nc || !cnonce || !method || !uri)
		return EINVAL;
	if (sz < 2 * algs[alg].len + 1)
		return EMSGSIZE;

	err = hash_parts(h, alg, p2, 2);
	if (err)
		return err;
	hex_encode(ha2hex, h, algs[alg].len);
	{
		const char *p[6] = {ha1hex, nonce, nc, cnonce, "auth", ha2hex};

		err = hash_parts(h, alg, p, 6);
	}
	if (!err)
		hex_encode(hex, h, algs[alg].len);
	return err;
}

/* --- nonces --- */

static int nonce_mac(uint8_t *mac, const struct gw_digest *dg,
		     const uint8_t *tsrnd, const char *realm)
{
	gnutls_hmac_hd_t h;
	uint8_t full[32];

	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, dg->key, sizeof(dg->key)))
		return EIO;
	gnutls_hmac(h, tsrnd, TS_LEN + RND_LEN);
	gnutls_hmac(h, realm, strlen(realm));
	gnutls_hmac_deinit(h, full);
	memcpy(mac, full, MAC_LEN);
	return 0;
}

static int nonce_make(char *hex, const struct gw_digest *dg,
		      const char *realm, uint64_t now)
{
	uint8_t b[NONCE_BIN];
	int i, err;

	for (i = 0; i < TS_LEN; i++)
		b[i] = (uint8_t)(now >> (8 * (TS_LEN - 1 - i)));
	if (gnutls_rnd(GNUTLS_RND_NONCE, b + TS_LEN, RND_LEN))
		return EIO;
	err = nonce_mac(b + TS_LEN + RND_LEN, dg, b, realm);
	if (err)
		return err;
	hex_encode(hex, b, NONCE_BIN);
	return 0;
}

/* Ours and untampered: 0 with *tsp set, else EPERM. */
static int nonce_check(uint64_t *tsp, uint8_t *id, const struct gw_digest *dg,
		       const char *hex, const char *realm)
{
	uint8_t b[NONCE_BIN], mac[MAC_LEN];
	uint64_t ts = 0;
	int i;

	if (!hex_decode(b, NONCE_BIN, hex))
		return EPERM;
	if (nonce_mac(mac, dg, b, realm))
		return EPERM;
	if (!ct_equal(mac, b + TS_LEN + RND_LEN, MAC_LEN))
		return EPERM;
	for (i = 0; i < TS_LEN; i++)
		ts = ts << 8 | b[i];
	*tsp = ts;
	memcpy(id, b + TS_LEN, RND_LEN + MAC_LEN);
	return 0;
}

/* Quoted-string body: escape '"' and '\'; refuse control characters. */
static int qstr_write(struct mbuf *mb, const char *s)
{
	int err = 0;

	for (; *s && !err; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return EINVAL;
		if (*s == '"' || *s == '\\')
			err = mbuf_write_u8(mb, '\\');
		if (!err)
			err = mbuf_write_u8(mb, (uint8_t)*s);
	}
	return err;
}

static int challenge_write(struct mbuf *mb, enum gw_digest_alg alg,
			   const char *realm, const char *nonce, bool stale)
{
	int err;

	err = mbuf_write_str(mb, "Digest realm=\"");
	if (!err)
		err = qstr_write(mb, realm);
	if (!err)
		err = mbuf_printf(mb, "\", nonce=\"%s\", algorithm=%s, "
				  "qop=\"auth\"%s", nonce, algs[alg].name,
				  stale ? ", stale=true" : "");
	return err;
}

static bool realm_ok(const char *realm)
{
	return realm && realm[0] && strlen(realm) <= GW_DIGEST_USER_MAX;
}

int gw_digest_challenge(struct mbuf *mb, struct gw_digest *dg,
			enum gw_digest_alg alg, const char *realm,
			uint64_t now, bool stale)
{
	char nonce[GW_DIGEST_NONCE_LEN + 1];
	size_t start;
	int err;

	if (!mb || !dg || (unsigned)alg >= GW_DIGEST_ALG_COUNT ||
	    !realm_ok(realm))
		return EINVAL;
	err = nonce_make(nonce, dg, realm, now);
	if (err)
		return err;
	start = mb->end;
	err = challenge_write(mb, alg, realm, nonce, stale);
	if (err) {
		mb->pos = mb->end = start;
	}
	return err;
}

int gw_digest_challenges(struct mbuf *mb, struct gw_digest *dg,
			 const char *hname, const char *realm, uint64_t now,
			 bool stale)
{
	char nonce[GW_DIGEST_NONCE_LEN + 1];
	size_t start;
	int a, err;

	if (!mb || !dg || !hname || !realm_ok(realm))
		return EINVAL;
	err = nonce_make(nonce, dg, realm, now);
	if (err)
		return err;
	start = mb->end;
	for (a = 0; a < GW_DIGEST_ALG_COUNT && !err; a++) {
		err = mbuf_printf(mb, "%s: ", hname);
		if (!err)
			err = challenge_write(mb, (enum gw_digest_alg)a, realm,
					      nonce, stale);
		if (!err)
			err = mbuf_write_str(mb, "\r\n");
	}
	if (err)
		mb->pos = mb->end = start;
	return err;
}

/* --- parsing --- */

enum field {
	F_USERNAME, F_REALM, F_NONCE, F_URI, F_RESPONSE, F_CNONCE, F_NC,
	F_QOP, F_ALGORITHM, F_OPAQUE, F_COUNT,
};

static const char *const field_names[F_COUNT] = {
	[F_USERNAME] = "username", [F_REALM] = "realm", [F_NONCE] = "nonce",
	[F_URI] = "uri", [F_RESPONSE] = "response", [F_CNONCE] = "cnonce",
	[F_NC] = "nc", [F_QOP] = "qop", [F_ALGORITHM] = "algorithm",
	[F_OPAQUE] = "opaque",
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || strchr("-.!%*_+`'~", c) != NULL;
}

struct cursor {
	const char *p;
	const char *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && is_ws(*c->p))
		c->p++;
}

static int token_read(struct pl *tok, struct cursor *c)
{
	tok->p = c->p;
	while (c->p < c->end && *c->p && is_tchar(*c->p))
		c->p++;
	tok->l = (size_t)(c->p - tok->p);
	return tok->l ? 0 : EBADMSG;
}

/* A value (token, or quoted-string with \-escapes) into buf[sz], or
 * skipped when buf is NULL. */
static int value_read(char *buf, size_t sz, struct cursor *c)
{
	size_t n = 0;

	if (c->p < c->end && *c->p == '"') {
		c->p++;
		for (;;) {
			char ch;

			if (c->p >= c->end)
				return EBADMSG;  /* unterminated */
			ch = *c->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (c->p >= c->end)
					return EBADMSG;
				ch = *c->p++;
			}
			if ((unsigned char)ch < 0x20 && ch != '\t')
				return EBADMSG;
			if (buf) {
				if (n + 1 >= sz)
					return EMSGSIZE;
				buf[n++] = ch;
			}
		}
	}
	else {
		struct pl tok;

		if (token_read(&tok, c))
			return EBADMSG;
		if (buf) {
			if (tok.l + 1 > sz)
				return EMSGSIZE;
			memcpy(buf, tok.p, tok.l);
			n = tok.l;
		}
	}
	if (buf)
		buf[n] = '\0';
	return 0;
}

static char *field_buf(struct gw_digest_cred *cr, enum field f, size_t *sz,
		       char *scratch, size_t scratch_sz)
{
	switch (f) {
	case F_USERNAME: *sz = sizeof(cr->username); return cr->username;
	case F_REALM:    *sz = sizeof(cr->realm); return cr->realm;
	case F_NONCE:    *sz = sizeof(cr->nonce); return cr->nonce;
	case F_URI:      *sz = sizeof(cr->uri); return cr->uri;
	case F_RESPONSE: *sz = sizeof(cr->response); return cr->response;
	case F_CNONCE:   *sz = sizeof(cr->cnonce); return cr->cnonce;
	case F_NC:       *sz = sizeof(cr->nc_hex); return cr->nc_hex;
	case F_OPAQUE:   *sz = sizeof(cr->opaque); return cr->opaque;
	default:         *sz = scratch_sz; return scratch;
	}
}

int gw_digest_cred_decode(struct gw_digest_cred *cred, const struct pl *val)
{
	struct gw_digest_cred cr;
	char qop[16] = "", alg[16] = "";
	unsigned seen = 0;
	struct cursor c;
	struct pl tok;
	size_t i;

	if (!cred || !val || !val->p)
		return EINVAL;
	if (val->l > GW_DIGEST_HDR_MAX)
		return EMSGSIZE;

	memset(&cr, 0, sizeof(cr));
	c.p = val->p;
	c.end = val->p + val->l;

	skip_ws(&c);
	if (token_read(&tok, &c) || pl_strcasecmp(&tok, "Digest"))
		return EPROTONOSUPPORT;
	if (c.p >= c.end || !is_ws(*c.p))
		return EBADMSG;

	for (;;) {
		enum field f = F_COUNT;
		char scratch[GW_DIGEST_URI_MAX + 1];
		char *buf;
		size_t sz;
		int err;

		skip_ws(&c);
		if (token_read(&tok, &c))
			return EBADMSG;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != '=')
			return EBADMSG;
		c.p++;
		skip_ws(&c);

		for (i = 0; i < F_COUNT; i++) {
			if (!pl_strcasecmp(&tok, field_names[i])) {
				f = (enum field)i;
				break;
			}
		}
		if (f != F_COUNT) {
			if (seen & (1u << f))
				return EEXIST;
			seen |= 1u << f;
		}

		if (f == F_QOP) {
			buf = qop;
			sz = sizeof(qop);
		}
		else if (f == F_ALGORITHM) {
			buf = alg;
			sz = sizeof(alg);
		}
		else if (f == F_COUNT) {
			buf = NULL;  /* unknown: skipped, still checked */
			sz = 0;
		}
		else {
			buf = field_buf(&cr, f, &sz, scratch, sizeof(scratch));
		}
		err = value_read(buf, sz, &c);
		if (err)
			return err;

		skip_ws(&c);
		if (c.p >= c.end)
			break;
		if (*c.p != ',')
			return EBADMSG;
		c.p++;
	}

	for (i = 0; i <= F_RESPONSE; i++) {
		if (!(seen & (1u << i)))
			return ENOENT;
	}

	if (!(seen & (1u << F_ALGORITHM)) || !str_casecmp(alg, "MD5"))
		cr.alg = GW_DIGEST_MD5;
	else if (!str_casecmp(alg, "SHA-256"))
		cr.alg = GW_DIGEST_SHA256;
	else
		return ENOTSUP;

	if (seen & (1u << F_QOP)) {
		uint8_t ncb[4];

		if (str_casecmp(qop, "auth"))
			return ENOTSUP;
		if (!(seen & (1u << F_NC)) || !(seen & (1u << F_CNONCE)))
			return ENOENT;
		if (!hex_decode(ncb, sizeof(ncb), cr.nc_hex))
			return EBADMSG;
		cr.nc = (uint32_t)ncb[0] << 24 | (uint32_t)ncb[1] << 16 |
			(uint32_t)ncb[2] << 8 | ncb[3];
		cr.qop_auth = true;
	}

	*cred = cr;
	return 0;
}

/* --- verification --- */

static bool nc_cmp(struct le *le, void *arg)
{
	const struct nc_ent *e = le->data;

	return !memcmp(e->id, arg, sizeof(e->id));
}

static void nc_drop(struct gw_digest *dg, struct nc_ent *e, bool evicted)
{
	if (evicted && (!dg->dropped || e->ts > dg->watermark)) {
		dg->watermark = e->ts;
		dg->dropped = true;
	}
	hash_unlink(&e->he);
	list_unlink(&e->le);
	dg->ncn--;
	mem_deref(e);
}

static int nc_check(struct gw_digest *dg, const uint8_t *id, uint64_t ts,
		    uint32_t nc, uint64_t now)
{
	uint32_t key = hash_joaat(id, RND_LEN + MAC_LEN);
	struct nc_ent *e;
	struct le *le;

	/* entries whose nonce expired can go: such nonces are stale anyway */
	while ((le = list_head(&dg->ncl)) != NULL) {
		e = le->data;
		if (e->ts + dg->ttl >= now)
			break;
		nc_drop(dg, e, false);
	}

	le = hash_lookup(dg->nct, key, nc_cmp, (void *)id);
	if (le) {
		e = le->data;
		if (nc <= e->nc)
			return EALREADY;
		e->nc = nc;
		return 0;
	}
	if (dg->dropped && ts <= dg->watermark)
		return ESTALE;  /* may have been seen; cannot tell */
	if (nc == 0)
		return EALREADY;

	if (dg->ncn >= GW_DIGEST_NC_MAX)
		nc_drop(dg, list_head(&dg->ncl)->data, true);
	if (dg->dropped && ts <= dg->watermark)
		return ESTALE;

	e = mem_zalloc(sizeof(*e), NULL);
	if (!e)
		return ENOMEM;
	memcpy(e->id, id, sizeof(e->id));
	e->ts = ts;
	e->nc = nc;
	hash_append(dg->nct, key, &e->he, e);
	list_append(&dg->ncl, &e->le, e);
	dg->ncn++;
	return 0;
}

int gw_digest_verify(struct gw_digest *dg, const struct gw_digest_cred *cred,
		     const char *realm, const char *method,
		     const struct pl *ruri, const struct gw_digest_secret *sec,
		     uint64_t now)
{
	char ha1buf[2 * HASH_MAX + 1], want[2 * HASH_MAX + 1];
	uint8_t id[RND_LEN + MAC_LEN];
	uint8_t got_b[HASH_MAX], want_b[HASH_MAX];
	const char *ha1;
	size_t hl;
	uint64_t ts;
	bool resp_ok;
	int err;

	if (!dg || !cred || !realm_ok(realm) || !method || !ruri || !sec ||
	    (unsigned)cred->alg >= GW_DIGEST_ALG_COUNT)
		return EINVAL;
	hl = algs[cred->alg].len;

	if (strcmp(cred->realm, realm))
		return EXDEV;
	if (pl_strcmp(ruri, cred->uri))
		return ENXIO;
	err = nonce_check(&ts, id, dg, cred->nonce, realm);
	if (err)
		return err;
	if (ts > now + GW_DIGEST_SKEW)
		return EPERM;  /* from the future: not a nonce we issued */
	if (!cred->qop_auth)
		return ENOTSUP;

	if (sec->password) {
		err = gw_digest_ha1(ha1buf, sizeof(ha1buf), cred->alg,
				    cred->username, realm, sec->password);
		if (err)
			return err;
		ha1 = ha1buf;
	}
	else if (sec->ha1[cred->alg] && strlen(sec->ha1[cred->alg]) == 2 * hl) {
		ha1 = sec->ha1[cred->alg];
	}
	else {
		return ENOTSUP;
	}

	err = gw_digest_response(want, sizeof(want), cred->alg, ha1,
				 cred->nonce, cred->nc_hex, cred->cnonce,
				 method, cred->uri);
	gnutls_memset(ha1buf, 0, sizeof(ha1buf));
	if (err)
		return err;

	/* both as bytes, so the client's hex case does not matter */
	if (!hex_decode(want_b, hl, want))
		return EIO;
	resp_ok = hex_decode(got_b, hl, cred->response) &&
		ct_equal(got_b, want_b, hl);
	if (!resp_ok)
		return EACCES;

	if (now > ts + dg->ttl)
		return ESTALE;

	return nc_check(dg, id, ts, cred->nc, now);
}
