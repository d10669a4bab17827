/*
 * sst_msg.c -- decode and validate one whole SIP message.
 *
 * libre's sip_msg_decode() does the parsing.  Around it: a bounded scan
 * of the start line and header lines before decoding (limits, NUL and
 * bare CR, line shape, header-name collisions, version), and the
 * semantic checks after it (mandatory and singleton headers, CSeq,
 * Max-Forwards, Content-Length against the body).  See sst_msg.h.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sst_msg.h"

/* libre's known header ids, sorted by id, with canonical and compact
 * names.  The unit test checks every name hashes to its id. */
static const struct {
	enum sip_hdrid id;
	const char *name;
	char compact;
} hdrtab[] = {
	{SIP_HDR_ERROR_INFO, "Error-Info", 0},
	{SIP_HDR_P_CHARGING_VECTOR, "P-Charging-Vector", 0},
	{SIP_HDR_P_ANSWER_STATE, "P-Answer-State", 0},
	{SIP_HDR_ALLOW_EVENTS, "Allow-Events", 'u'},
	{SIP_HDR_PROXY_AUTHENTICATE, "Proxy-Authenticate", 0},
	{SIP_HDR_SUPPORTED, "Supported", 'k'},
	{SIP_HDR_CONTACT, "Contact", 'm'},
	{SIP_HDR_ACCEPT_CONTACT, "Accept-Contact", 'a'},
	{SIP_HDR_ALERT_INFO, "Alert-Info", 0},
	{SIP_HDR_RECORD_ROUTE, "Record-Route", 0},
	{SIP_HDR_HIDE, "Hide", 0},
	{SIP_HDR_REJECT_CONTACT, "Reject-Contact", 'j'},
	{SIP_HDR_RETRY_AFTER, "Retry-After", 0},
	{SIP_HDR_RSEQ, "RSeq", 0},
	{SIP_HDR_SECURITY_VERIFY, "Security-Verify", 0},
	{SIP_HDR_CONTENT_ENCODING, "Content-Encoding", 'e'},
	{SIP_HDR_FLOW_TIMER, "Flow-Timer", 0},
	{SIP_HDR_CALL_INFO, "Call-Info", 0},
	{SIP_HDR_ROUTE, "Route", 0},
	{SIP_HDR_P_DCS_LAES, "P-DCS-LAES", 0},
	{SIP_HDR_ACCEPT_ENCODING, "Accept-Encoding", 0},
	{SIP_HDR_CSEQ, "CSeq", 0},
	{SIP_HDR_CONTENT_TYPE, "Content-Type", 'c'},
	{SIP_HDR_SECURITY_SERVER, "Security-Server", 0},
	{SIP_HDR_P_ASSOCIATED_URI, "P-Associated-URI", 0},
	{SIP_HDR_TIMESTAMP, "Timestamp", 0},
	{SIP_HDR_SERVER, "Server", 0},
	{SIP_HDR_IDENTITY_INFO, "Identity-Info", 'n'},
	{SIP_HDR_UNSUPPORTED, "Unsupported", 0},
	{SIP_HDR_DATE, "Date", 0},
	{SIP_HDR_P_MEDIA_AUTHORIZATION, "P-Media-Authorization", 0},
	{SIP_HDR_SUBJECT, "Subject", 's'},
	{SIP_HDR_P_REFUSED_URI_LIST, "P-Refused-URI-List", 0},
	{SIP_HDR_MIN_EXPIRES, "Min-Expires", 0},
	{SIP_HDR_P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0},
	{SIP_HDR_P_PREFERRED_IDENTITY, "P-Preferred-Identity", 0},
	{SIP_HDR_SECURITY_CLIENT, "Security-Client", 0},
	{SIP_HDR_PERMISSION_MISSING, "Permission-Missing", 0},
	{SIP_HDR_CONTENT_DISPOSITION, "Content-Disposition", 0},
	{SIP_HDR_TO, "To", 't'},
	{SIP_HDR_REFER_TO, "Refer-To", 'r'},
	{SIP_HDR_RESPONSE_KEY, "Response-Key", 0},
	{SIP_HDR_IN_REPLY_TO, "In-Reply-To", 0},
	{SIP_HDR_P_SERVED_USER, "P-Served-User", 0},
	{SIP_HDR_RESOURCE_PRIORITY, "Resource-Priority", 0},
	{SIP_HDR_SERVICE_ROUTE, "Service-Route", 0},
	{SIP_HDR_P_ACCESS_NETWORK_INFO, "P-Access-Network-Info", 0},
	{SIP_HDR_P_DCS_OSPS, "P-DCS-OSPS", 0},
	{SIP_HDR_ACCEPT_RESOURCE_PRIORITY, "Accept-Resource-Priority", 0},
	{SIP_HDR_P_DCS_REDIRECT, "P-DCS-Redirect", 0},
	{SIP_HDR_P_PROFILE_KEY, "P-Profile-Key", 0},
	{SIP_HDR_FROM, "From", 'f'},
	{SIP_HDR_SESSION_EXPIRES, "Session-Expires", 'x'},
	{SIP_HDR_EXPIRES, "Expires", 0},
	{SIP_HDR_SIP_ETAG, "SIP-ETag", 0},
	{SIP_HDR_P_DCS_BILLING_INFO, "P-DCS-Billing-Info", 0},
	{SIP_HDR_WARNING, "Warning", 0},
	{SIP_HDR_P_CHARGING_FUNCTION_ADDRESSES, "P-Charging-Function-Addresses", 0},
	{SIP_HDR_IDENTITY, "Identity", 'y'},
	{SIP_HDR_PROXY_AUTHORIZATION, "Proxy-Authorization", 0},
	{SIP_HDR_REPLY_TO, "Reply-To", 0},
	{SIP_HDR_ALLOW, "Allow", 0},
	{SIP_HDR_REFER_SUB, "Refer-Sub", 0},
	{SIP_HDR_PRIV_ANSWER_MODE, "Priv-Answer-Mode", 0},
	{SIP_HDR_AUTHORIZATION, "Authorization", 0},
	{SIP_HDR_RACK, "RAck", 0},
	{SIP_HDR_REPLACES, "Replaces", 0},
	{SIP_HDR_HISTORY_INFO, "History-Info", 0},
	{SIP_HDR_P_EARLY_MEDIA, "P-Early-Media", 0},
	{SIP_HDR_PATH, "Path", 0},
	{SIP_HDR_WWW_AUTHENTICATE, "WWW-Authenticate", 0},
	{SIP_HDR_P_USER_DATABASE, "P-User-Database", 0},
	{SIP_HDR_MIN_SE, "Min-SE", 0},
	{SIP_HDR_ACCEPT_LANGUAGE, "Accept-Language", 0},
	{SIP_HDR_SUBSCRIPTION_STATE, "Subscription-State", 0},
	{SIP_HDR_ANSWER_MODE, "Answer-Mode", 0},
	{SIP_HDR_P_DCS_TRACE_PARTY_ID, "P-DCS-Trace-Party-ID", 0},
	{SIP_HDR_SIP_IF_MATCH, "SIP-If-Match", 0},
	{SIP_HDR_CALL_ID, "Call-ID", 'i'},
	{SIP_HDR_ENCRYPTION, "Encryption", 0},
	{SIP_HDR_AUTHENTICATION_INFO, "Authentication-Info", 0},
	{SIP_HDR_PRIVACY, "Privacy", 0},
	{SIP_HDR_TRIGGER_CONSENT, "Trigger-Consent", 0},
	{SIP_HDR_ACCEPT, "Accept", 0},
	{SIP_HDR_ORGANIZATION, "Organization", 0},
	{SIP_HDR_EVENT, "Event", 'o'},
	{SIP_HDR_P_CALLED_PARTY_ID, "P-Called-Party-ID", 0},
	{SIP_HDR_CONTENT_LANGUAGE, "Content-Language", 0},
	{SIP_HDR_TARGET_DIALOG, "Target-Dialog", 0},
	{SIP_HDR_REFERRED_BY, "Referred-By", 'b'},
	{SIP_HDR_JOIN, "Join", 0},
	{SIP_HDR_PRIORITY, "Priority", 0},
	{SIP_HDR_MAX_FORWARDS, "Max-Forwards", 0},
	{SIP_HDR_PROXY_REQUIRE, "Proxy-Require", 0},
	{SIP_HDR_MIME_VERSION, "MIME-Version", 0},
	{SIP_HDR_MAX_BREADTH, "Max-Breadth", 0},
	{SIP_HDR_REQUEST_DISPOSITION, "Request-Disposition", 'd'},
	{SIP_HDR_REASON, "Reason", 0},
	{SIP_HDR_CONTENT_LENGTH, "Content-Length", 'l'},
	{SIP_HDR_P_VISITED_NETWORK_ID, "P-Visited-Network-ID", 0},
	{SIP_HDR_REQUIRE, "Require", 0},
	{SIP_HDR_VIA, "Via", 'v'},
	{SIP_HDR_USER_AGENT, "User-Agent", 0},
};

static const struct {
	const char *name;
	uint16_t status;
	const char *phrase;
} reasons[SST_R_COUNT] = {
	[SST_R_OK]             = {"ok", 0, NULL},
	[SST_R_EMPTY]          = {"empty", 0, NULL},
	[SST_R_KEEPALIVE]      = {"keepalive", 0, NULL},
	[SST_R_NOMEM]          = {"nomem", 0, NULL},
	[SST_R_TOO_BIG]        = {"too-big", 513, "Message Too Large"},
	[SST_R_HDR_TOO_BIG]    = {"hdr-too-big", 513, "Message Too Large"},
	[SST_R_LINE_TOO_LONG]  = {"line-too-long", 400,
				  "Header line too long"},
	[SST_R_TOO_MANY_HDRS]  = {"too-many-hdrs", 400, "Too many headers"},
	[SST_R_BODY_TOO_BIG]   = {"body-too-big", 413,
				  "Request Entity Too Large"},
	[SST_R_NUL_BYTE]       = {"nul-byte", 400, "NUL byte in header"},
	[SST_R_BARE_CR]        = {"bare-cr", 400, "Bare CR in header"},
	[SST_R_TRUNCATED]      = {"truncated", 400, "Incomplete header"},
	[SST_R_BAD_START_LINE] = {"bad-start-line", 400,
				  "Malformed start line"},
	[SST_R_BAD_METHOD]     = {"bad-method", 400, "Malformed method"},
	[SST_R_BAD_RURI]       = {"bad-ruri", 400, "Malformed Request-URI"},
	[SST_R_BAD_VERSION]    = {"bad-version", 505,
				  "Version Not Supported"},
	[SST_R_BAD_STATUS]     = {"bad-status", 400, "Malformed status code"},
	[SST_R_BAD_HDR_LINE]   = {"bad-hdr-line", 400,
				  "Malformed header line"},
	[SST_R_HDR_NAME_COLLISION] = {"hdr-name-collision", 400,
				  "Unacceptable header name"},
	[SST_R_BAD_VIA]        = {"bad-via", 400, "Malformed Via header"},
	[SST_R_BAD_FROM]       = {"bad-from", 400, "Malformed From header"},
	[SST_R_BAD_TO]         = {"bad-to", 400, "Malformed To header"},
	[SST_R_BAD_CALLID]     = {"bad-callid", 400,
				  "Malformed Call-ID header"},
	[SST_R_BAD_CSEQ]       = {"bad-cseq", 400, "Malformed CSeq header"},
	[SST_R_BAD_MAXFWD]     = {"bad-maxfwd", 400,
				  "Malformed Max-Forwards header"},
	[SST_R_BAD_CLEN]       = {"bad-clen", 400,
				  "Malformed Content-Length header"},
	[SST_R_BAD_CTYPE]      = {"bad-ctype", 400,
				  "Malformed Content-Type header"},
	[SST_R_BAD_HDR]        = {"bad-hdr", 400, "Malformed header"},
	[SST_R_MISSING_VIA]    = {"missing-via", 400, "Missing Via header"},
	[SST_R_MISSING_FROM]   = {"missing-from", 400, "Missing From header"},
	[SST_R_MISSING_TO]     = {"missing-to", 400, "Missing To header"},
	[SST_R_MISSING_CALLID] = {"missing-callid", 400,
				  "Missing Call-ID header"},
	[SST_R_MISSING_CSEQ]   = {"missing-cseq", 400, "Missing CSeq header"},
	[SST_R_MISSING_MAXFWD] = {"missing-maxfwd", 400,
				  "Missing Max-Forwards header"},
	[SST_R_MISSING_CLEN]   = {"missing-clen", 400,
				  "Missing Content-Length header"},
	[SST_R_DUP_FROM]       = {"dup-from", 400, "Duplicate From header"},
	[SST_R_DUP_TO]         = {"dup-to", 400, "Duplicate To header"},
	[SST_R_DUP_CALLID]     = {"dup-callid", 400,
				  "Duplicate Call-ID header"},
	[SST_R_DUP_CSEQ]       = {"dup-cseq", 400, "Duplicate CSeq header"},
	[SST_R_DUP_MAXFWD]     = {"dup-maxfwd", 400,
				  "Duplicate Max-Forwards header"},
	[SST_R_DUP_CLEN]       = {"dup-clen", 400,
				  "Duplicate Content-Length header"},
	[SST_R_DUP_CTYPE]      = {"dup-ctype", 400,
				  "Duplicate Content-Type header"},
	[SST_R_DUP_EXPIRES]    = {"dup-expires", 400,
				  "Duplicate Expires header"},
	[SST_R_CSEQ_METHOD]    = {"cseq-method", 400,
				  "CSeq method does not match"},
	[SST_R_CLEN_MISMATCH]  = {"clen-mismatch", 400,
				  "Content-Length does not match body"},
};

/* What the scan before decoding learnt. */
struct scan {
	const char *p;        /* message start */
	size_t n;             /* bytes from p to mb->end */
	size_t hdr_len;       /* start line through the blank line */
	size_t nhdr;          /* header lines, continuations aside */
	struct pl sl;         /* start line without its line end */
	struct pl tok1, tok2, tok3;
	bool req;
	enum sst_reason defer; /* first problem that still allows decoding */
};

/* Header counts from one walk over the decoded message. */
struct counts {
	unsigned via, from, to, callid, cseq, maxfwd, clen, ctype, expires;
};


const char *sst_reason_name(enum sst_reason r)
{
	return ((unsigned)r < SST_R_COUNT) ? reasons[r].name : "?";
}


uint16_t sst_reason_status(enum sst_reason r)
{
	return ((unsigned)r < SST_R_COUNT) ? reasons[r].status : 0;
}


const char *sst_reason_phrase(enum sst_reason r)
{
	return ((unsigned)r < SST_R_COUNT) ? reasons[r].phrase : NULL;
}


int sst_msg_uint(uint32_t *vp, const struct pl *val, uint32_t max)
{
	uint32_t n = 0;
	size_t i;

	if (!vp || !val)
		return EINVAL;
	if (!val->p || !val->l)
		return EBADMSG;

	for (i = 0; i < val->l; i++) {
		const char c = val->p[i];

		if (c < '0' || c > '9')
			return EBADMSG;
	}

	for (i = 0; i < val->l; i++) {
		uint32_t d = (uint32_t)(val->p[i] - '0');

		if (d > max || n > (max - d) / 10)
			return EMSGSIZE;

		n = n * 10 + d;
	}

	*vp = n;
	return 0;
}


/* RFC 3261 token characters. */
static bool is_token(const struct pl *pl)
{
	size_t i;

	if (!pl->l)
		return false;

	for (i = 0; i < pl->l; i++) {
		const char c = pl->p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (!strchr("-.!%*_+`'~", c) || c == '\0')
			return false;
	}

	return true;
}


static int hdrtab_find(uint32_t id)
{
	size_t lo = 0, hi = ARRAY_SIZE(hdrtab);

	while (lo < hi) {
		const size_t mid = (lo + hi) / 2;

		if ((uint32_t)hdrtab[mid].id == id)
			return (int)mid;
		if ((uint32_t)hdrtab[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}

	return -1;
}


/* The id libre gives a header name (src/sip/msg.c, hdr_hash). */
static enum sip_hdrid name_id(const struct pl *name)
{
	size_t i;
	int c;

	if (!name->l)
		return SIP_HDR_NONE;

	if (name->l > 1) {
		if ((name->p[0] == 'x' || name->p[0] == 'X') &&
		    name->p[1] == '-')
			return SIP_HDR_NONE;

		return (enum sip_hdrid)(hash_joaat_ci(name->p, name->l) &
					0xfff);
	}

	c = name->p[0];
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';

	for (i = 0; i < ARRAY_SIZE(hdrtab); i++) {
		if (hdrtab[i].compact == c)
			return hdrtab[i].id;
	}

	return SIP_HDR_NONE;
}


bool sst_msg_name_collides(const struct pl *name)
{
	int i;

	/* One-letter names are compact forms, mapped by letter. */
	if (!name || name->l < 2)
		return false;

	i = hdrtab_find((uint32_t)name_id(name));
	if (i < 0)
		return false;

	return pl_strcasecmp(name, hdrtab[i].name) != 0;
}


static void defer(struct scan *s, enum sst_reason r)
{
	if (!s->defer)
		s->defer = r;
}


static enum sst_reason scan_start(struct scan *s);


/*
 * Bounded scan of the start line and headers: finds the blank line,
 * enforces the limits and the shape of every line.  Returns a fatal
 * reason (no decoding attempted) or SST_R_OK; problems that still allow
 * decoding go to s->defer.
 */
static enum sst_reason scan_head(struct scan *s,
				 const struct sst_limits *lim)
{
	const size_t avail = min(s->n, lim->hdr_max);
	bool first = true;
	bool have_hdr = false;
	size_t off = 0;

	for (;;) {
		const char *l = s->p + off;
		const char *nl = memchr(l, '\n', avail - off);
		const char *colon;
		struct pl name;
		size_t ll;

		if (!nl)
			return (s->n > lim->hdr_max) ? SST_R_HDR_TOO_BIG :
				SST_R_TRUNCATED;

		ll = (size_t)(nl - l);
		off = (size_t)(nl - s->p) + 1;
		if (ll && l[ll - 1] == '\r')
			--ll;

		if (ll > lim->line_max)
			return SST_R_LINE_TOO_LONG;
		if (memchr(l, '\r', ll))
			return SST_R_BARE_CR;
		if (memchr(l, '\0', ll))
			defer(s, SST_R_NUL_BYTE);

		if (first) {
			enum sst_reason r;

			s->sl.p = l;
			s->sl.l = ll;
			first = false;

			r = scan_start(s);
			if (r == SST_R_BAD_VERSION && s->req)
				defer(s, r);
			else if (r)
				return r;
			continue;
		}

		if (!ll) {
			s->hdr_len = off;
			return SST_R_OK;
		}

		if (l[0] == ' ' || l[0] == '\t') {
			if (!have_hdr)
				return SST_R_BAD_HDR_LINE;
			continue;
		}

		colon = memchr(l, ':', ll);
		if (!colon)
			return SST_R_BAD_HDR_LINE;

		name.p = l;
		name.l = (size_t)(colon - l);
		while (name.l && (name.p[name.l - 1] == ' ' ||
				  name.p[name.l - 1] == '\t'))
			--name.l;
		if (!is_token(&name))
			return SST_R_BAD_HDR_LINE;

		if (++s->nhdr > lim->hdr_count_max)
			return SST_R_TOO_MANY_HDRS;

		if (sst_msg_name_collides(&name))
			defer(s, SST_R_HDR_NAME_COLLISION);

		have_hdr = true;
	}
}


/* Start line: "METHOD SP URI SP SIP/2.0" or "SIP/2.0 SP ddd SP text". */
static enum sst_reason scan_start(struct scan *s)
{
	const char *sp1, *sp2;
	const struct pl *sl = &s->sl;

	sp1 = memchr(sl->p, ' ', sl->l);
	if (!sp1)
		return SST_R_BAD_START_LINE;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(sl->p + sl->l - sp1 - 1));
	if (!sp2)
		return SST_R_BAD_START_LINE;

	s->tok1.p = sl->p;
	s->tok1.l = (size_t)(sp1 - sl->p);
	s->tok2.p = sp1 + 1;
	s->tok2.l = (size_t)(sp2 - sp1 - 1);
	s->tok3.p = sp2 + 1;
	s->tok3.l = (size_t)(sl->p + sl->l - sp2 - 1);

	if (!s->tok1.l || !s->tok2.l)
		return SST_R_BAD_START_LINE;

	if (memchr(s->tok1.p, '/', s->tok1.l)) {
		const char *c = s->tok2.p;

		s->req = false;
		if (pl_strcmp(&s->tok1, "SIP/2.0"))
			return SST_R_BAD_VERSION;
		if (s->tok2.l != 3 || c[0] < '1' || c[0] > '6' ||
		    c[1] < '0' || c[1] > '9' || c[2] < '0' || c[2] > '9')
			return SST_R_BAD_STATUS;
		return SST_R_OK;
	}

	s->req = true;
	if (!is_token(&s->tok1))
		return SST_R_BAD_METHOD;
	if (memchr(s->tok2.p, '\t', s->tok2.l) ||
	    memchr(s->tok3.p, ' ', s->tok3.l) ||
	    memchr(s->tok3.p, '\t', s->tok3.l))
		return SST_R_BAD_START_LINE;
	if (!pl_strcmp(&s->tok3, "SIP/2.0"))
		return SST_R_OK;
	if (s->tok3.l > 4 && !strncasecmp(s->tok3.p, "SIP/", 4))
		return SST_R_BAD_VERSION;

	return SST_R_BAD_START_LINE;
}


/* A copy of the request with "SIP/2.0" as version, so that a 505 can be
 * built from it. */
static int patch_version(struct mbuf **mbp, const struct scan *s)
{
	const char *rest = s->sl.p + s->sl.l;
	const size_t restl = s->n - (size_t)(rest - s->p);
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(s->n + 8);
	if (!mb)
		return ENOMEM;

	err  = mbuf_write_pl(mb, &s->tok1);
	err |= mbuf_write_u8(mb, ' ');
	err |= mbuf_write_pl(mb, &s->tok2);
	err |= mbuf_write_str(mb, " SIP/2.0");
	err |= mbuf_write_mem(mb, (const uint8_t *)rest, restl);
	if (err) {
		mem_deref(mb);
		return ENOMEM;
	}

	mb->pos = 0;
	*mbp = mb;
	return 0;
}


/* Next logical header in [*pos, end): name and value as libre sees
 * them (value trimmed, continuations kept inside). */
static bool hdr_next(const char **pos, const char *end, struct pl *name,
		     struct pl *val)
{
	const char *p = *pos;
	const char *colon, *ve;

	for (;;) {
		const char *nl;

		if (p >= end)
			return false;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return false;

		if (*p == '\r' || *p == '\n')
			return false;   /* blank line */

		if (*p != ' ' && *p != '\t')
			break;

		p = nl + 1;
	}

	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return false;

	name->p = p;
	name->l = (size_t)(colon - p);
	while (name->l && (p[name->l - 1] == ' ' || p[name->l - 1] == '\t'))
		--name->l;

	/* the value ends at the first line end not followed by WSP */
	ve = colon + 1;
	for (;;) {
		const char *nl = memchr(ve, '\n', (size_t)(end - ve));

		if (!nl) {
			ve = end;
			break;
		}
		ve = nl + 1;
		if (ve >= end || (*ve != ' ' && *ve != '\t'))
			break;
	}
	*pos = ve;

	p = colon + 1;
	while (p < ve && (*p == ' ' || *p == '\t'))
		++p;
	while (ve > p && (ve[-1] == ' ' || ve[-1] == '\t' ||
			  ve[-1] == '\r' || ve[-1] == '\n'))
		--ve;

	val->p = p;
	val->l = (size_t)(ve - p);
	return true;
}


/* libre refused the headers: find the value at fault. */
static enum sst_reason blame_value(const struct scan *s)
{
	const char *pos = s->sl.p + s->sl.l;
	const char *end = s->p + s->hdr_len;
	struct pl name, val;
	bool first_via = true;

	/* skip the start line's end */
	pos = memchr(pos, '\n', (size_t)(end - pos));
	if (!pos)
		return SST_R_BAD_HDR;
	++pos;

	while (hdr_next(&pos, end, &name, &val)) {
		union {
			struct sip_via via;
			struct sip_addr addr;
			struct sip_cseq cseq;
			struct msg_ctype ctype;
		} u;

		switch (name_id(&name)) {

		case SIP_HDR_VIA:
			if (!first_via)
				break;
			first_via = false;
			{
				const char *c = memchr(val.p, ',', val.l);

				if (c)
					val.l = (size_t)(c - val.p);
			}
			if (sip_via_decode(&u.via, &val))
				return SST_R_BAD_VIA;
			break;

		case SIP_HDR_FROM:
			if (sip_addr_decode(&u.addr, &val))
				return SST_R_BAD_FROM;
			break;

		case SIP_HDR_TO:
			if (sip_addr_decode(&u.addr, &val))
				return SST_R_BAD_TO;
			break;

		case SIP_HDR_CSEQ:
			if (sip_cseq_decode(&u.cseq, &val))
				return SST_R_BAD_CSEQ;
			break;

		case SIP_HDR_CONTENT_TYPE:
			if (msg_ctype_decode(&u.ctype, &val))
				return SST_R_BAD_CTYPE;
			break;

		default:
			break;
		}
	}

	return SST_R_BAD_HDR;
}


static enum sst_reason blame(const struct scan *s, int err)
{
	enum sst_reason r;
	struct uri uri;

	if (err == ENOMEM)
		return SST_R_NOMEM;
	if (err == ENODATA)
		return SST_R_TRUNCATED;

	if (err == EBADMSG && s->req && uri_decode(&uri, &s->tok2))
		return SST_R_BAD_RURI;

	r = blame_value(s);
	if (r == SST_R_BAD_HDR && err == EBADMSG)
		return SST_R_BAD_HDR_LINE;

	return r;
}


static void count_hdrs(const struct sip_msg *msg, struct counts *c)
{
	struct le *le;

	memset(c, 0, sizeof(*c));

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:            ++c->via;     break;
		case SIP_HDR_FROM:           ++c->from;    break;
		case SIP_HDR_TO:             ++c->to;      break;
		case SIP_HDR_CALL_ID:        ++c->callid;  break;
		case SIP_HDR_CSEQ:           ++c->cseq;    break;
		case SIP_HDR_MAX_FORWARDS:   ++c->maxfwd;  break;
		case SIP_HDR_CONTENT_LENGTH: ++c->clen;    break;
		case SIP_HDR_CONTENT_TYPE:   ++c->ctype;   break;
		case SIP_HDR_EXPIRES:        ++c->expires; break;
		default: break;
		}
	}
}


static bool callid_ok(const struct pl *id)
{
	size_t i;

	if (!id->l)
		return false;

	for (i = 0; i < id->l; i++) {
		const char c = id->p[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			return false;
	}

	return true;
}


static enum sst_reason check_cseq(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	struct pl num;
	uint32_t n;

	if (!hdr)
		return SST_R_MISSING_CSEQ;

	num.p = hdr->val.p;
	num.l = 0;
	while (num.l < hdr->val.l && num.p[num.l] >= '0' &&
	       num.p[num.l] <= '9')
		++num.l;

	if (sst_msg_uint(&n, &num, SST_CSEQ_MAX))
		return SST_R_BAD_CSEQ;

	/* nothing after the method */
	if (!is_token(&msg->cseq.met) ||
	    msg->cseq.met.p + msg->cseq.met.l != hdr->val.p + hdr->val.l)
		return SST_R_BAD_CSEQ;

	if (msg->req && pl_cmp(&msg->cseq.met, &msg->met))
		return SST_R_CSEQ_METHOD;

	return SST_R_OK;
}


#define ONE(n, missing, dup)				\
	do {						\
		if ((n) == 0)				\
			return (missing);		\
		if ((n) > 1)				\
			return (dup);			\
	} while (0)


static enum sst_reason validate(struct sip_msg *msg, const struct counts *c,
				bool stream,
				const struct sst_limits *lim)
{
	enum sst_reason r;
	uint32_t v;
	size_t left;
	int err;

	if (!c->via)
		return SST_R_MISSING_VIA;
	ONE(c->from, SST_R_MISSING_FROM, SST_R_DUP_FROM);
	ONE(c->to, SST_R_MISSING_TO, SST_R_DUP_TO);
	ONE(c->callid, SST_R_MISSING_CALLID, SST_R_DUP_CALLID);
	ONE(c->cseq, SST_R_MISSING_CSEQ, SST_R_DUP_CSEQ);
	if (msg->req && !c->maxfwd)
		return SST_R_MISSING_MAXFWD;
	if (c->maxfwd > 1)
		return SST_R_DUP_MAXFWD;
	if (c->clen > 1)
		return SST_R_DUP_CLEN;
	if (c->ctype > 1)
		return SST_R_DUP_CTYPE;
	if (c->expires > 1)
		return SST_R_DUP_EXPIRES;

	if (!callid_ok(&msg->callid))
		return SST_R_BAD_CALLID;

	r = check_cseq(msg);
	if (r)
		return r;

	if (c->maxfwd && sst_msg_uint(&v, &msg->maxfwd, INT32_MAX))
		return SST_R_BAD_MAXFWD;

	left = mbuf_get_left(msg->mb);

	if (!c->clen) {
		if (stream)
			return SST_R_MISSING_CLEN;
		if (left > lim->body_max)
			return SST_R_BODY_TOO_BIG;
		return SST_R_OK;
	}

	err = sst_msg_uint(&v, &msg->clen, (uint32_t)min(lim->body_max,
							  (size_t)UINT32_MAX));
	if (err == EMSGSIZE)
		return SST_R_BODY_TOO_BIG;
	if (err)
		return SST_R_BAD_CLEN;

	if (v > left || (stream && v != left))
		return SST_R_CLEN_MISMATCH;

	/* RFC 3261 18.3: bytes beyond Content-Length are discarded */
	msg->mb->end = msg->mb->pos + v;

	return SST_R_OK;
}


static bool can_reply(const struct sip_msg *msg, const struct counts *c)
{
	return msg->req && pl_strcmp(&msg->met, "ACK") &&
		c->via >= 1 && c->from == 1 && c->to == 1 &&
		c->callid == 1 && c->cseq == 1 && callid_ok(&msg->callid) &&
		check_cseq(msg) != SST_R_BAD_CSEQ;
}


static int reason_err(enum sst_reason r)
{
	switch (r) {

	case SST_R_OK:           return 0;
	case SST_R_EMPTY:
	case SST_R_KEEPALIVE:    return ENODATA;
	case SST_R_NOMEM:        return ENOMEM;
	case SST_R_TOO_BIG:
	case SST_R_HDR_TOO_BIG:
	case SST_R_BODY_TOO_BIG: return EMSGSIZE;
	default:                 return EBADMSG;
	}
}


void sst_verdict_reset(struct sst_verdict *v)
{
	if (!v)
		return;

	mem_deref(v->msg);
	memset(v, 0, sizeof(*v));
}


int sst_msg_decode(struct sip_msg **msgp, struct mbuf *mb, bool stream,
		   const struct sst_limits *lim, struct sst_verdict *v)
{
	const struct sst_limits l = sst_limits_of(lim);
	struct sip_msg *msg = NULL;
	struct mbuf *dmb = NULL;
	struct counts c;
	struct scan s;
	enum sst_reason r;
	bool had_bytes;
	int err;

	if (!v)
		return EINVAL;
	memset(v, 0, sizeof(*v));
	if (!msgp || !mb) {
		v->reason = SST_R_EMPTY;
		return EINVAL;
	}

	memset(&s, 0, sizeof(s));

	had_bytes = mbuf_get_left(mb) > 0;
	while (mbuf_get_left(mb) && (mb->buf[mb->pos] == '\r' ||
				     mb->buf[mb->pos] == '\n'))
		++mb->pos;

	s.p = (const char *)mbuf_buf(mb);
	s.n = mbuf_get_left(mb);
	if (!s.n) {
		r = had_bytes ? SST_R_KEEPALIVE : SST_R_EMPTY;
		goto out;
	}

	if (s.n > l.msg_max)
		defer(&s, SST_R_TOO_BIG);

	r = scan_head(&s, &l);
	if (r)
		goto out;

	if (s.req && pl_strcmp(&s.tok3, "SIP/2.0")) {
		err = patch_version(&dmb, &s);
		if (err) {
			r = SST_R_NOMEM;
			goto out;
		}
	}
	else {
		dmb = mem_ref(mb);
	}

	/* libre waits for more forever on a header-less message */
	if (!s.nhdr) {
		r = SST_R_MISSING_VIA;
		goto out;
	}

	err = sip_msg_decode(&msg, dmb);
	if (err) {
		r = blame(&s, err);
		goto out;
	}

	count_hdrs(msg, &c);

	/* libre and the scan must agree on where the headers end */
	if (dmb == mb && msg->mb->pos != (size_t)(s.p - (const char *)mb->buf)
	    + s.hdr_len) {
		r = SST_R_BAD_HDR_LINE;
		goto out;
	}

	r = validate(msg, &c, stream, &l);

 out:
	if (s.defer && r != SST_R_NOMEM)
		r = s.defer;

	v->reason = r;
	v->status = sst_reason_status(r);
	v->phrase = sst_reason_phrase(r);

	if (!r) {
		*msgp = msg;
	}
	else if (msg && can_reply(msg, &c)) {
		v->reply = true;
		v->msg = msg;
	}
	else {
		mem_deref(msg);
	}

	mem_deref(dmb);

	return reason_err(r);
}


int sst_msg_decode_head(struct mbuf *mb, const struct sst_limits *lim,
			struct sst_verdict *v)
{
	struct sip_msg *msg = NULL;
	int err;

	if (!v)
		return EINVAL;

	/* as a datagram: the body that never came is no error here */
	err = sst_msg_decode(&msg, mb, false, lim, v);
	if (err == ENODATA || err == EINVAL || err == ENOMEM)
		return err;

	switch (v->reason) {

	case SST_R_OK:
		v->reply = msg->req && pl_strcmp(&msg->met, "ACK");
		v->msg = v->reply ? msg : mem_deref(msg);
		/* fall through */
	case SST_R_BODY_TOO_BIG:
	case SST_R_CLEN_MISMATCH:
		v->reason = SST_R_TOO_BIG;
		v->status = sst_reason_status(SST_R_TOO_BIG);
		v->phrase = sst_reason_phrase(SST_R_TOO_BIG);
		return EMSGSIZE;

	default:
		return err;  /* the headers themselves are wrong: say so */
	}
}
