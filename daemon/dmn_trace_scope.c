/*
 * dmn_trace_scope.c -- does a SIP message concern one community or one
 * user?  The test behind a Trace record's community or user scope.
 *
 * The message is decoded (libre) and its From and To addresses, and
 * for a request the Request-URI, are compared: with domains, a host
 * equal to one of them (case-insensitive) or under a "*." pattern; with
 * user, user@host equal to it (case-insensitive, "sip:" or "sips:"
 * prefix ignored).  From and To stay the parties' addresses for the
 * whole dialog, so in-dialog requests and every response belong to the
 * same scope as the request that opened it.  A message that does not
 * decode is out of scope.
 */
#include <string.h>
#include <strings.h>

#include <re.h>

#include "dmn.h"

static bool host_match(const char *pat, const struct pl *host)
{
	size_t pl_len = strlen(pat);

	if (!host->l)
		return false;
	if (pl_len > 2 && pat[0] == '*' && pat[1] == '.') {
		const size_t sl = pl_len - 1;   /* ".acme.com" */

		return host->l > sl &&
		       !strncasecmp(host->p + host->l - sl, pat + 1, sl);
	}
	return host->l == pl_len && !strncasecmp(host->p, pat, pl_len);
}

static bool uri_in(const struct uri *u, const char *const *domains,
		   size_t n, const char *user)
{
	size_t i;

	if (user) {
		const char *at = strrchr(user, '@');
		size_t ul;

		if (!at)
			return false;
		ul = (size_t)(at - user);
		return u->user.l == ul && !strncasecmp(u->user.p, user, ul) &&
		       u->host.l == strlen(at + 1) &&
		       !strncasecmp(u->host.p, at + 1, u->host.l);
	}
	for (i = 0; i < n; i++)
		if (domains[i] && host_match(domains[i], &u->host))
			return true;
	return false;
}

bool dmn_trace_in_scope(const char *const *domains, size_t n,
			const char *user, const uint8_t *p, size_t len)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	bool in = false;

	if (user) {
		if (!strncasecmp(user, "sip:", 4))
			user += 4;
		else if (!strncasecmp(user, "sips:", 5))
			user += 5;
	}
	mb = mbuf_alloc(len ? len : 1);
	if (!mb)
		return false;
	(void)mbuf_write_mem(mb, p, len);
	mb->pos = 0;
	if (!sip_msg_decode(&msg, mb)) {
		in = uri_in(&msg->from.uri, domains, n, user) ||
		     uri_in(&msg->to.uri, domains, n, user) ||
		     (pl_isset(&msg->met) &&
		      uri_in(&msg->uri, domains, n, user));
	}
	mem_deref(msg);
	mem_deref(mb);
	return in;
}
