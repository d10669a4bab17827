/*
 * cn_policy.c -- the connector's accept/route decisions, no I/O.
 *
 * Every refusal is a 403 with a reason phrase that tells the far
 * administrator what to fix, and a stable short name that counters,
 * logs and `stconnector status` use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cn_policy.h"

static const struct {
	const char *name;
	unsigned status;
	const char *phrase;
} reasons[CN_R_COUNT] = {
	[CN_OK]                  = {"ok", 0, NULL},
	[CN_R_UNTRUSTED_IP]      = {"untrusted-ip", 403,
				    "Source is not the community's proxy"},
	[CN_R_NOT_ENABLED]       = {"not-enabled", 403,
				    "Community not enabled"},
	[CN_R_UNKNOWN_COMMUNITY] = {"unknown-community", 403,
				    "Unknown community"},
	[CN_R_NOT_LOCAL]         = {"not-local", 403,
				    "Target domain is not local"},
	[CN_R_MALFORMED]         = {"malformed", 400, "Bad Request"},
	[CN_R_TLS_FAILURE]       = {"tls-failure", 403,
				    "TLS peer does not match community proxy"},
	[CN_R_OVERLOAD]          = {"overload", 503, "Overloaded"},
	[CN_R_NOT_GATEWAY]       = {"not-gateway", 403,
				    "Not a configured gateway"},
	[CN_R_LOOP]              = {"loop", 483, "Too Many Hops"},
	[CN_R_CONN_LIMIT]        = {"conn-limit", 503,
				    "Connection limit reached"},
	/* 403: the request is fine but will never be accepted over this
	 * transport until the peer changes its configuration; a 5xx would
	 * make it retry and fail over to no avail.  The daemon adds the
	 * transport used and those to use: "...: tcp, use tls". */
	[CN_R_WRONG_TRANSPORT]   = {"wrong-transport", 403,
		"Transport not accepted for this community"},
	/* the trust set cannot be known now: temporary (Retry-After) */
	[CN_R_DNS_FAILURE]       = {"dns-failure", 503,
		"Cannot check the sender: DNS unavailable"},
	[CN_R_RATE_LIMIT]        = {"rate-limit", 503,
		"Community over its rate"},
};

const char *cn_reason_name(enum cn_reason r)
{
	if ((unsigned)r >= CN_R_COUNT)
		return "?";
	return reasons[r].name;
}

static void verdict_set(struct cn_verdict *v, enum cn_reason r)
{
	v->reason = r;
	v->status = reasons[r].status;
	v->phrase = reasons[r].phrase;
}

/*
 * An address reduced to what the trust check compares: family and the
 * address bytes, with an IPv4-mapped IPv6 address turned into the IPv4
 * one, so that a dual-stack socket's view of a peer equals the
 * configured address.  Copied out with memcpy: a sockaddr is read only
 * through the type it was written as.
 */
struct ipkey {
	int af;
	uint8_t a[16];
};

static bool ipkey_of(const struct sockaddr *sa, struct ipkey *k)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					     0xff, 0xff};
	sa_family_t af;

	memset(k, 0, sizeof(*k));
	memcpy(&af, (const char *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof(af));

	if (af == AF_INET) {
		struct sockaddr_in s4;

		memcpy(&s4, sa, sizeof(s4));
		k->af = AF_INET;
		memcpy(k->a, &s4.sin_addr, 4);
		return true;
	}
	if (af == AF_INET6) {
		struct sockaddr_in6 s6;

		memcpy(&s6, sa, sizeof(s6));
		if (!memcmp(s6.sin6_addr.s6_addr, v4mapped, 12)) {
			k->af = AF_INET;
			memcpy(k->a, &s6.sin6_addr.s6_addr[12], 4);
		}
		else {
			k->af = AF_INET6;
			memcpy(k->a, s6.sin6_addr.s6_addr, 16);
		}
		return true;
	}
	return false;
}

/* Address equality, ports ignored: a peer's source port is ephemeral. */
bool cn_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	struct ipkey ka, kb;

	if (!a || !b || !ipkey_of(a, &ka) || !ipkey_of(b, &kb))
		return false;
	return ka.af == kb.af && !memcmp(ka.a, kb.a, sizeof(ka.a));
}

/* A numeric address string as a sockaddr; false when it is not one. */
static bool addr_parse(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return true;
	}
	return false;
}

/* Is src one of the gateways this connector serves (any of their
 * connector-facing addresses)? */
bool cn_is_gateway(const struct cfg *cfg, const struct cfg_connector *self,
		   const struct sockaddr *src)
{
	size_t i, j;

	if (!cfg || !self || !src)
		return false;

	for (i = 0; i < self->gateways.n; i++) {
		const struct cfg_gateway *gw;

		gw = cfg_gateway_find(cfg, self->gateways.v[i]);
		if (!gw)
			continue;
		for (j = 0; j < gw->connectors.n; j++) {
			struct sockaddr_storage ss;

			if (addr_parse(gw->connectors.v[j].addr, &ss) &&
			    cn_addr_equal((struct sockaddr *)&ss, src))
				return true;
		}
	}
	return false;
}

/*
 * Which external community a request concerns, and whether this
 * connector has it enabled.  Outbound requests are matched by their
 * target (Request-URI) domain, inbound ones by their From domain.
 * Inbound requests must also target a local domain.
 */
void cn_decide_community(const struct cfg *cfg,
			 const struct cfg_connector *self, enum cn_dir dir,
			 const struct cn_facts *f, struct cn_verdict *v)
{
	const struct cfg_extern *ext;
	const struct cfg_supported *sup;
	const char *dom;

	memset(v, 0, sizeof(*v));
	if (!cfg || !self || !f || !f->ruri_domain) {
		verdict_set(v, CN_R_MALFORMED);
		return;
	}

	dom = dir == CN_DIR_OUTBOUND ? f->ruri_domain : f->from_domain;
	ext = dom ? cfg_extern_find(cfg, dom) : NULL;
	if (!ext) {
		/* from one of our own domains but not from a gateway: an
		 * inside host that is not a configured gateway */
		verdict_set(v, dir == CN_DIR_INBOUND && dom &&
			    cfg_domain_is_local(cfg, dom) ?
			    CN_R_NOT_GATEWAY : CN_R_UNKNOWN_COMMUNITY);
		return;
	}
	v->community = ext;

	sup = cfg_supported_find(self, ext->name);
	if (!sup || !sup->enabled) {
		verdict_set(v, CN_R_NOT_ENABLED);
		return;
	}

	if (dir == CN_DIR_INBOUND &&
	    !cfg_domain_is_local(cfg, f->ruri_domain)) {
		verdict_set(v, CN_R_NOT_LOCAL);
		return;
	}

	verdict_set(v, CN_OK);
}

/*
 * The inbound trust check, once the community is known and its proxy
 * resolved: the source must be one of the proxy's addresses, and over
 * TLS with verification required its certificate must have matched.
 * An empty address set trusts nobody.
 */
void cn_decide_trust(const struct cn_facts *f,
		     const struct cn_addrset *proxy, bool verify_required,
		     struct cn_verdict *v)
{
	const struct cfg_extern *community = v ? v->community : NULL;
	size_t i;

	if (!v)
		return;
	memset(v, 0, sizeof(*v));
	v->community = community;
	if (!f || !f->src || !proxy) {
		verdict_set(v, CN_R_MALFORMED);
		return;
	}

	for (i = 0; i < proxy->n; i++) {
		if (cn_addr_equal((const struct sockaddr *)&proxy->v[i],
				  f->src))
			break;
	}
	if (i == proxy->n) {
		verdict_set(v, CN_R_UNTRUSTED_IP);
		return;
	}

	if (community && !(cfg_accepted_transports(community) &
			   CFG_TP_BIT(f->tp))) {
		verdict_set(v, CN_R_WRONG_TRANSPORT);
		return;
	}

	if (f->tls && verify_required && !f->tls_name_ok) {
		verdict_set(v, CN_R_TLS_FAILURE);
		return;
	}

	verdict_set(v, CN_OK);
}

/* An escaped control byte (%00-%1F, %7F) in a URI's user part: RFC
 * 3986 lets anything be escaped, but no SIP user name contains one and
 * a NUL or line break cut off or forged downstream. */
bool cn_user_has_ctl(const char *p, size_t l)
{
	size_t i;

	for (i = 0; p && i + 2 < l; i++) {
		unsigned v = 0, k;

		if (p[i] != '%')
			continue;
		for (k = 1; k <= 2; k++) {
			const char c = p[i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				break;
		}
		if (k == 3 && (v < 0x20 || v == 0x7f))
			return true;
	}
	return false;
}

/*
 * A URI host as RFC 3261 25.1 writes it: an IPv4 address, an IPv6
 * reference (with or without its brackets), or a host name of labels
 * of letters, digits and "-" (not first or last), none empty, with one
 * trailing dot at most.  So "*.chicago.test" and "a..b" are not.
 */
bool cn_host_ok(const char *p, size_t l)
{
	char buf[256];
	size_t i, lab = 0;
	bool digits_dots = true;

	if (!p || !l || l >= sizeof(buf))
		return false;
	if (p[0] == '[') {
		if (l < 3 || p[l - 1] != ']')
			return false;
		p++;
		l -= 2;
	}
	memcpy(buf, p, l);
	buf[l] = '\0';
	if (memchr(buf, ':', l)) {
		struct in6_addr a6;

		return inet_pton(AF_INET6, buf, &a6) == 1;
	}
	for (i = 0; i < l; i++)
		digits_dots &= (buf[i] >= '0' && buf[i] <= '9') ||
			buf[i] == '.';
	if (digits_dots) {
		struct in_addr a4;

		return inet_pton(AF_INET, buf, &a4) == 1;
	}

	if (buf[l - 1] == '.')
		buf[--l] = '\0';
	for (i = 0; i <= l; i++) {
		const char c = buf[i];

		if (c == '.' || c == '\0') {
			if (!lab || buf[i - 1] == '-')
				return false;	/* empty label, or "x-." */
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c == '-' && lab)))
			return false;
		lab++;
	}
	return true;
}
