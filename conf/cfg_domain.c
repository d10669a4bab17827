/*
 * cfg_domain.c -- domain and address syntax, and domain matching.
 *
 * A pattern is "acme.com" (that name only) or "*.acme.com" (any name
 * below acme.com, at any depth, but not acme.com itself).  Names compare
 * case-insensitively and one trailing dot is ignored on either side.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/cfg_int.h"

/* Length of s without one trailing dot. */
static size_t dom_len(const char *s)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '.')
		n--;
	return n;
}

static bool dom_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

const char *cfg_domain_syntax(const char *s, bool wildcard_ok)
{
	size_t n, i, lab = 0;

	if (!s || !*s)
		return "empty domain";
	n = dom_len(s);
	if (!n)
		return "empty domain";
	if (n > CFG_DOMAIN_MAX)
		return "longer than 253 characters";

	if (s[0] == '*') {
		if (!wildcard_ok)
			return "no wildcard allowed here";
		if (n < 3 || s[1] != '.')
			return "\"*\" is only allowed as a whole leading "
				"label, as in \"*.example.com\"";
		s += 2;
		n -= 2;
	}

	for (i = 0; i <= n; i++) {
		const char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (!lab)
				return "empty label";
			if (s[i - 1] == '-')
				return "a label ends with \"-\"";
			lab = 0;
			continue;
		}
		if (c == '*')
			return "\"*\" is only allowed as a whole leading "
				"label, as in \"*.example.com\"";
		if (!isalnum((unsigned char)c) && c != '-')
			return "only letters, digits, \"-\" and \".\" are "
				"allowed";
		if (c == '-' && !lab)
			return "a label starts with \"-\"";
		if (++lab > CFG_LABEL_MAX)
			return "a label is longer than 63 characters";
	}
	return NULL;
}

bool cfg_domain_match(const char *pattern, const char *domain)
{
	size_t pl, dl;

	if (!pattern || !domain)
		return false;
	pl = dom_len(pattern);
	dl = dom_len(domain);
	if (!pl || !dl)
		return false;

	if (pattern[0] == '*') {
		/* "*.S": domain must be "X.S" with X not empty. */
		if (pl < 3 || pattern[1] != '.')
			return false;
		pattern += 1;   /* ".S" */
		pl -= 1;
		if (dl <= pl)
			return false;
		if (domain[dl - pl - 1] == '.')
			return false;   /* empty label before ".S" */
		return dom_eq(domain + dl - pl, pl, pattern, pl);
	}
	return dom_eq(pattern, pl, domain, dl);
}

bool cfg_domain_overlap(const char *a, const char *b)
{
	size_t al, bl;

	if (!a || !b)
		return false;
	al = dom_len(a);
	bl = dom_len(b);
	if (dom_eq(a, al, b, bl))
		return true;
	if (cfg_domain_match(a, b) || cfg_domain_match(b, a))
		return true;
	/* Both wildcards: one base lies below (or is) the other's. */
	if (a[0] == '*' && b[0] == '*' && al > 2 && bl > 2)
		return cfg_domain_match(a, b + 2) || cfg_domain_match(b, a + 2);
	return false;
}

const struct cfg_extern *cfg_extern_find(const struct cfg *cfg,
					 const char *domain)
{
	size_t i, j;

	if (!cfg || !domain)
		return NULL;
	for (i = 0; i < cfg->nexterns; i++) {
		const struct cfg_extern *ex = &cfg->externs[i];

		for (j = 0; j < ex->domains.n; j++)
			if (cfg_domain_match(ex->domains.v[j], domain))
				return ex;
	}
	return NULL;
}

bool cfg_domain_is_local(const struct cfg *cfg, const char *domain)
{
	size_t i;

	if (!cfg || !domain)
		return false;
	for (i = 0; i < cfg->community.domains.n; i++)
		if (cfg_domain_match(cfg->community.domains.v[i], domain))
			return true;
	return false;
}

bool cfg_ip_valid(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (!s)
		return false;
	return inet_pton(AF_INET, s, buf) == 1 ||
		inet_pton(AF_INET6, s, buf) == 1;
}

/* "ip", "ip:port", "[v6]" or "[v6]:port"; a bare v6 has no port. */
const char *cfg_hostport_syntax(const char *s)
{
	char host[64];
	const char *port = NULL, *end;
	size_t n;

	if (!s || !*s)
		return "empty address";
	if (cfg_ip_valid(s))
		return NULL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end)
			return "\"[\" without \"]\"";
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return "junk after \"]\"";
		if (n >= sizeof(host))
			return "not a numeric IP address";
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (!strchr(host, ':') || !cfg_ip_valid(host))
			return "not a numeric IPv6 address inside [ ]";
	}
	else {
		end = strrchr(s, ':');
		if (!end || memchr(s, ':', (size_t)(end - s)))
			return "not a numeric IP address (IPv6 with a port "
				"is written [addr]:port)";
		n = (size_t)(end - s);
		if (n >= sizeof(host))
			return "not a numeric IP address";
		memcpy(host, s, n);
		host[n] = '\0';
		if (!cfg_ip_valid(host))
			return "not a numeric IP address";
		port = end + 1;
	}
	if (port) {
		char *ep;
		unsigned long v;

		if (!isdigit((unsigned char)*port))
			return "the port must be a number 1-65535";
		v = strtoul(port, &ep, 10);
		if (*ep || v < 1 || v > 65535)
			return "the port must be a number 1-65535";
	}
	return NULL;
}

const char *cfg_transport_name(enum cfg_transport tp)
{
	switch (tp) {
	case CFG_TP_UDP: return "udp";
	case CFG_TP_TCP: return "tcp";
	case CFG_TP_TLS: return "tls";
	}
	return "?";
}

const char *cfg_privacy_name(enum cfg_privacy p)
{
	switch (p) {
	case CFG_PRIVACY_ALL:     return "all";
	case CFG_PRIVACY_DOMAINS: return "domains";
	case CFG_PRIVACY_NONE:    return "none";
	}
	return "?";
}

const char *cfg_scope_name(enum cfg_scope s)
{
	switch (s) {
	case CFG_SCOPE_BASE: return "base";
	case CFG_SCOPE_ONE:  return "one";
	case CFG_SCOPE_SUB:  return "sub";
	}
	return "?";
}

/*
 * The transports a community is accepted on: its configured one and
 * every stronger one (udp < tcp < tls), plus what acceptTransports
 * adds; TLS always.
 */
unsigned cfg_accepted_transports(const struct cfg_extern *ex)
{
	unsigned m = CFG_TP_BIT(CFG_TP_TLS);

	if (!ex)
		return m;
	if (ex->tp <= CFG_TP_TCP)
		m |= CFG_TP_BIT(CFG_TP_TCP);
	if (ex->tp <= CFG_TP_UDP)
		m |= CFG_TP_BIT(CFG_TP_UDP);
	return m | ex->accept_tp;
}

const char *cfg_transports_str(unsigned mask, char *buf, size_t size)
{
	static const enum cfg_transport order[] = {CFG_TP_UDP, CFG_TP_TCP,
						   CFG_TP_TLS};
	size_t i, n = 0;

	if (!buf || !size)
		return "";
	buf[0] = '\0';
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *name = cfg_transport_name(order[i]);
		size_t l = strlen(name);

		if (!(mask & CFG_TP_BIT(order[i])))
			continue;
		if (n + l + 2 > size)
			break;
		if (n)
			buf[n++] = ' ';
		memcpy(buf + n, name, l + 1);
		n += l;
	}
	return buf;
}

bool cfg_str_differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}
