/*
 * sst_tls_cert.c -- this deployment's own certificate, key and CA file
 * read as sst_tls_ctx_alloc() will read them, with the facts `check`
 * prints: the chain, the leaf's names and dates, whether the key is the
 * certificate's.  GnuTLS's own verdicts, no policy: the caller decides
 * what is an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "sst_tls.h"

enum { CRED_FILE_MAX = 1 << 20 };

/* The whole file, NUL-terminated: 0 or errno (why says which). */
static int file_read(const char *path, gnutls_datum_t *d, char *why,
		     size_t whysz)
{
	struct stat st;
	FILE *f;
	size_t n;
	int err = 0;

	d->data = NULL;
	d->size = 0;
	f = fopen(path, "rb");
	if (!f) {
		err = errno;
		snprintf(why, whysz, "%s: cannot read: %s", path,
			 strerror(err));
		return err;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		err = EINVAL;
		snprintf(why, whysz, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CRED_FILE_MAX) {
		err = EFBIG;
		snprintf(why, whysz, "%s: larger than %d bytes", path,
			 CRED_FILE_MAX);
		goto out;
	}
	d->data = malloc((size_t)st.st_size + 1);
	if (!d->data) {
		err = ENOMEM;
		goto out;
	}
	n = fread(d->data, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		err = EIO;
		snprintf(why, whysz, "%s: read error", path);
		goto out;
	}
	d->data[n] = '\0';
	d->size = (unsigned)n;
 out:
	fclose(f);
	if (err) {
		free(d->data);
		d->data = NULL;
	}
	return err;
}

static int crts_read(const char *path, gnutls_x509_crt_t **listp,
		     unsigned *np, char *why, size_t whysz)
{
	gnutls_datum_t d;
	int err, r;

	err = file_read(path, &d, why, whysz);
	if (err)
		return err;
	r = gnutls_x509_crt_list_import2(listp, np, &d, GNUTLS_X509_FMT_PEM,
					 0);
	free(d.data);
	if (r == GNUTLS_E_NO_CERTIFICATE_FOUND ||
	    (r >= 0 && *np == 0)) {
		snprintf(why, whysz, "%s: no PEM certificate in the file "
			 "(expected -----BEGIN CERTIFICATE-----)", path);
		return r >= 0 ? ENODATA : EBADMSG;
	}
	if (r < 0) {
		snprintf(why, whysz, "%s: not a readable PEM certificate: %s",
			 path, gnutls_strerror(r));
		return EBADMSG;
	}
	return 0;
}

static void crts_free(gnutls_x509_crt_t *list, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

static void dn_of(gnutls_x509_crt_t crt, bool issuer, char *buf, size_t sz)
{
	gnutls_datum_t dn = {NULL, 0};
	int r;

	r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
		   : gnutls_x509_crt_get_dn3(crt, &dn, 0);
	if (r < 0 || !dn.data)
		buf[0] = '\0';
	else
		snprintf(buf, sz, "%.*s", (int)dn.size, (char *)dn.data);
	gnutls_free(dn.data);
}

static void sans_of(gnutls_x509_crt_t crt, struct sst_tls_certinfo *ci)
{
	unsigned seq;

	for (seq = 0;; seq++) {
		char buf[256];
		size_t size = sizeof(buf) - 1;
		unsigned critical;
		int t;

		t = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size,
							 &critical);
		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue;
		if (t < 0)
			break;
		if (t == GNUTLS_SAN_DNSNAME && ci->ndns < SST_TLS_SAN_MAX) {
			buf[size] = '\0';
			snprintf(ci->dns[ci->ndns++], sizeof(ci->dns[0]), "%s",
				 buf);
		}
		else if (t == GNUTLS_SAN_IPADDRESS && ci->nip <
			 SST_TLS_SAN_MAX && (size == 4 || size == 16)) {
			inet_ntop(size == 4 ? AF_INET : AF_INET6, buf,
				  ci->ip[ci->nip], sizeof(ci->ip[0]));
			ci->nip++;
		}
	}
}

int sst_tls_cert_read(const char *path, struct sst_tls_certinfo *ci,
		      char *why, size_t whysz)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned char serial[40];
	size_t size, i;
	unsigned n = 0;
	int err;

	if (!path || !ci || !why || !whysz)
		return EINVAL;
	memset(ci, 0, sizeof(*ci));
	why[0] = '\0';

	err = crts_read(path, &list, &n, why, whysz);
	if (err == ENODATA)
		err = EBADMSG;
	if (err)
		return err;

	ci->nchain = n;
	dn_of(list[0], false, ci->subject, sizeof(ci->subject));
	dn_of(list[0], true, ci->issuer, sizeof(ci->issuer));
	ci->not_before = gnutls_x509_crt_get_activation_time(list[0]);
	ci->not_after = gnutls_x509_crt_get_expiration_time(list[0]);
	ci->self_signed = gnutls_x509_crt_check_issuer(list[0], list[0]) != 0;
	ci->chain_ordered = true;
	for (i = 0; i + 1 < n; i++)
		if (!gnutls_x509_crt_check_issuer(list[i], list[i + 1]))
			ci->chain_ordered = false;

	size = sizeof(ci->cn) - 1;
	if (gnutls_x509_crt_get_dn_by_oid(list[0], GNUTLS_OID_X520_COMMON_NAME,
					  0, 0, ci->cn, &size) < 0)
		ci->cn[0] = '\0';

	size = sizeof(serial);
	if (gnutls_x509_crt_get_serial(list[0], serial, &size) >= 0) {
		for (i = 0; i < size && 2 * i + 2 < sizeof(ci->serial); i++)
			snprintf(ci->serial + 2 * i, 3, "%02x", serial[i]);
	}
	sans_of(list[0], ci);

	crts_free(list, n);
	return 0;
}

int sst_tls_key_check(const char *cert, const char *key, char *why,
		      size_t whysz)
{
	unsigned char kid_c[64], kid_k[64];
	size_t sz_c = sizeof(kid_c), sz_k = sizeof(kid_k);
	gnutls_x509_crt_t *list = NULL;
	gnutls_x509_privkey_t pk = NULL;
	gnutls_datum_t d = {NULL, 0};
	unsigned n = 0;
	int err, r;

	if (!cert || !key || !why || !whysz)
		return EINVAL;
	why[0] = '\0';

	err = file_read(key, &d, why, whysz);
	if (err)
		return err;
	if (gnutls_x509_privkey_init(&pk) < 0) {
		err = ENOMEM;
		goto out;
	}
	r = gnutls_x509_privkey_import2(pk, &d, GNUTLS_X509_FMT_PEM, NULL,
					GNUTLS_PKCS_PLAIN);
	if (r < 0) {
		snprintf(why, whysz, "%s: not a readable unencrypted PEM "
			 "private key: %s", key, gnutls_strerror(r));
		err = EBADMSG;
		goto out;
	}

	err = crts_read(cert, &list, &n, why, whysz);
	if (err) {
		if (err == ENODATA)
			err = EBADMSG;
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(list[0], GNUTLS_KEYID_USE_SHA256,
				       kid_c, &sz_c) < 0 ||
	    gnutls_x509_privkey_get_key_id(pk, GNUTLS_KEYID_USE_SHA256,
					   kid_k, &sz_k) < 0 ||
	    sz_c != sz_k || memcmp(kid_c, kid_k, sz_c)) {
		snprintf(why, whysz, "%s is not the private key of the "
			 "certificate %s", key, cert);
		err = EKEYREJECTED;
	}
 out:
	if (list)
		crts_free(list, n);
	if (pk)
		gnutls_x509_privkey_deinit(pk);
	if (d.data) {
		memset(d.data, 0, d.size);
		free(d.data);
	}
	return err;
}

int sst_tls_ca_read(const char *path, unsigned *ncertsp, char *why,
		    size_t whysz)
{
	gnutls_x509_crt_t *list = NULL;
	unsigned n = 0;
	int err;

	if (!path || !why || !whysz)
		return EINVAL;
	why[0] = '\0';
	err = crts_read(path, &list, &n, why, whysz);
	if (err)
		return err;
	if (ncertsp)
		*ncertsp = n;
	crts_free(list, n);
	return 0;
}

static bool ip_eq(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && !memcmp(x, y, 4);
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && !memcmp(x, y, 16);
	return false;
}

static bool dns_eq(const char *pattern, const char *name)
{
	const char *dot;

	if (!strcasecmp(pattern, name))
		return true;
	if (strncmp(pattern, "*.", 2))
		return false;
	dot = strchr(name, '.');
	return dot && dot != name && !strcasecmp(pattern + 1, dot);
}

bool sst_tls_cert_covers(const struct sst_tls_certinfo *ci,
			 const char *name)
{
	unsigned char tmp[16];
	size_t i;

	if (!ci || !name)
		return false;
	if (inet_pton(AF_INET, name, tmp) == 1 ||
	    inet_pton(AF_INET6, name, tmp) == 1) {
		for (i = 0; i < ci->nip; i++)
			if (ip_eq(name, ci->ip[i]))
				return true;
		return false;
	}
	for (i = 0; i < ci->ndns; i++)
		if (dns_eq(ci->dns[i], name))
			return true;
	return !ci->ndns && ci->cn[0] && !strcasecmp(ci->cn, name);
}

int sst_tls_cert_days_left(const struct sst_tls_certinfo *ci, time_t now)
{
	double d;

	if (!ci)
		return 0;
	d = difftime(ci->not_after, now) / 86400.0;
	return d < 0 ? -(int)(-d) - 1 : (int)d;
}

int sst_tls_ctx_load(struct sst_tls_ctx **ctxp,
		     const struct sst_tls_conf *conf, int *days_leftp,
		     char *why, size_t whysz)
{
	struct sst_tls_certinfo ci;
	int err;

	if (!ctxp || !conf || !why || !whysz)
		return EINVAL;
	why[0] = '\0';
	if (conf->cert) {
		err = sst_tls_cert_read(conf->cert, &ci, why, whysz);
		if (err)
			return err;
		if (days_leftp)
			*days_leftp = sst_tls_cert_days_left(&ci, time(NULL));
	}
	if (conf->cert && conf->key) {
		err = sst_tls_key_check(conf->cert, conf->key, why, whysz);
		if (err)
			return err;
	}
	if (conf->ca) {
		err = sst_tls_ca_read(conf->ca, NULL, why, whysz);
		if (err)
			return err;
	}
	err = sst_tls_ctx_alloc(ctxp, conf);
	if (err)
		snprintf(why, whysz, "GnuTLS refused the credentials "
			 "(certificate %s, key %s, ca %s)",
			 conf->cert ? conf->cert : "none",
			 conf->key ? conf->key : "none",
			 conf->ca ? conf->ca : "none");
	return err;
}
