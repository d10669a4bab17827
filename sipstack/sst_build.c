/*
 * sst_build.c -- build SIP requests, responses and forwarded copies
 * into fresh mbufs.  See sst_build.h.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sst_msg.h"
#include "sst_build.h"

static const char alnum[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";


static void rand_alnum(char *buf, size_t n)
{
	uint8_t rnd[32];
	size_t i;

	while (n) {
		const size_t k = min(n, sizeof(rnd));

		rand_bytes(rnd, k);
		for (i = 0; i < k; i++)
			*buf++ = alnum[rnd[i] % (sizeof(alnum) - 1)];
		n -= k;
	}
}


void sst_branch_gen(char *buf, size_t size)
{
	if (!buf || !size)
		return;
	if (size < SST_BRANCH_SIZE) {
		buf[0] = '\0';
		return;
	}

	memcpy(buf, "z9hG4bK", 7);
	rand_alnum(buf + 7, SST_BRANCH_SIZE - 8);
	buf[SST_BRANCH_SIZE - 1] = '\0';
}


void sst_tag_gen(char *buf, size_t size)
{
	if (!buf || !size)
		return;
	if (size < SST_TAG_SIZE) {
		buf[0] = '\0';
		return;
	}

	rand_alnum(buf, SST_TAG_SIZE - 1);
	buf[SST_TAG_SIZE - 1] = '\0';
}


static bool via_spec_ok(const struct sst_via_spec *via)
{
	return via->sentby && *via->sentby && via->branch &&
		!strncmp(via->branch, "z9hG4bK", 7) &&
		sip_transp_name((enum sip_transp)via->tp) &&
		strcmp(sip_transp_name((enum sip_transp)via->tp), "???");
}


static int via_print(struct mbuf *mb, const struct sst_via_spec *via)
{
	return mbuf_printf(mb, "Via: SIP/2.0/%s %s;branch=%s\r\n",
			   sip_transp_name((enum sip_transp)via->tp),
			   via->sentby, via->branch);
}


static int hdr_print(struct mbuf *mb, const struct sip_hdr *hdr)
{
	return mbuf_printf(mb, "%r: %r\r\n", &hdr->name, &hdr->val);
}


/* An "rport" parameter without a value in a Via's params: where its
 * name ends.  NULL when absent or already valued. */
static const char *rport_empty(const struct pl *params)
{
	const char *p = params->p;
	const char *e = params->p + params->l;

	while (p < e) {
		const char *semi, *eq;
		struct pl name;

		if (*p != ';') {
			++p;
			continue;
		}
		++p;
		semi = memchr(p, ';', (size_t)(e - p));
		if (!semi)
			semi = e;
		eq = memchr(p, '=', (size_t)(semi - p));

		name.p = p;
		name.l = (size_t)((eq ? eq : semi) - p);
		while (name.l && (*name.p == ' ' || *name.p == '\t')) {
			++name.p;
			--name.l;
		}
		while (name.l && (name.p[name.l - 1] == ' ' ||
				  name.p[name.l - 1] == '\t'))
			--name.l;

		if (!eq && !pl_strcasecmp(&name, "rport"))
			return name.p + name.l;

		p = semi;
	}

	return NULL;
}


/*
 * The received request's top Via, with received= and rport values for
 * the address it really came from (RFC 3261 18.2.1, RFC 3581).
 */
static int top_via_print(struct mbuf *mb, const struct sip_msg *msg,
			 const struct sip_hdr *hdr, const struct sa *src)
{
	const char *rp;
	struct pl head, tail;
	int err;

	if (!src || !sa_isset(src, SA_ADDR))
		return hdr_print(mb, hdr);

	rp = rport_empty(&msg->via.params);
	if (rp && (rp < hdr->val.p || rp > hdr->val.p + hdr->val.l))
		rp = NULL;

	head = hdr->val;
	tail.p = NULL;
	tail.l = 0;
	if (rp) {
		head.l = (size_t)(rp - hdr->val.p);
		tail.p = rp;
		tail.l = hdr->val.l - head.l;
	}

	err = mbuf_printf(mb, "%r: %r", &hdr->name, &head);
	if (rp)
		err |= mbuf_printf(mb, "=%u%r", sa_port(src), &tail);

	if (!sa_isset(&msg->via.addr, SA_ADDR) ||
	    !sa_cmp(&msg->via.addr, src, SA_ADDR))
		err |= mbuf_printf(mb, ";received=%j", src);

	err |= mbuf_write_str(mb, "\r\n");

	return err;
}


static int extra_print(struct mbuf *mb, const struct sst_extra *x)
{
	size_t blen = 0;
	int err = 0;

	if (x && x->hdrs)
		err |= mbuf_write_str(mb, x->hdrs);
	if (x && x->ctype && x->body) {
		blen = x->blen;
		err |= mbuf_printf(mb, "Content-Type: %s\r\n", x->ctype);
	}
	err |= mbuf_printf(mb, "Content-Length: %zu\r\n\r\n", blen);
	if (blen)
		err |= mbuf_write_mem(mb, x->body, blen);

	return err;
}


static int finish(struct mbuf **mbp, struct mbuf *mb, int err)
{
	if (err) {
		mem_deref(mb);
		return err;
	}

	mb->pos = 0;
	*mbp = mb;
	return 0;
}


int sst_build_response(struct mbuf **mbp, const struct sip_msg *req,
		       uint16_t scode, const char *reason, const char *totag,
		       const struct sa *src, const struct sst_extra *x)
{
	char tag[SST_TAG_SIZE];
	bool first_via = true;
	struct mbuf *mb;
	struct le *le;
	int err;

	if (!mbp || !req || !req->req || scode < 100 || scode > 699 ||
	    !reason)
		return EINVAL;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	err = mbuf_printf(mb, "SIP/2.0 %u %s\r\n", scode, reason);

	for (le = req->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:
			if (first_via)
				err = top_via_print(mb, req, hdr, src);
			else
				err = hdr_print(mb, hdr);
			first_via = false;
			break;

		case SIP_HDR_RECORD_ROUTE:
			if (scode > 100 && scode < 300)
				err = hdr_print(mb, hdr);
			break;

		case SIP_HDR_TO:
			err = mbuf_printf(mb, "%r: %r", &hdr->name,
					  &hdr->val);
			if (scode > 100 && !pl_isset(&req->to.tag)) {
				if (!totag) {
					sst_tag_gen(tag, sizeof(tag));
					totag = tag;
				}
				err |= mbuf_printf(mb, ";tag=%s", totag);
			}
			err |= mbuf_write_str(mb, "\r\n");
			break;

		case SIP_HDR_FROM:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
			err = hdr_print(mb, hdr);
			break;

		default:
			break;
		}
	}

	if (!err)
		err = extra_print(mb, x);

	return finish(mbp, mb, err);
}


int sst_build_request(struct mbuf **mbp, const struct sst_req_spec *r)
{
	struct mbuf *mb;
	int err;

	if (!mbp || !r || !r->method || !r->ruri || !r->from || !r->to ||
	    !r->callid || !via_spec_ok(&r->via))
		return EINVAL;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	err  = mbuf_printf(mb, "%s %s SIP/2.0\r\n", r->method, r->ruri);
	err |= via_print(mb, &r->via);
	err |= mbuf_printf(mb, "Max-Forwards: %u\r\n",
			   r->maxfwd ? r->maxfwd : SST_MAXFWD_DEFAULT);
	err |= mbuf_printf(mb, "From: %s\r\n", r->from);
	err |= mbuf_printf(mb, "To: %s\r\n", r->to);
	err |= mbuf_printf(mb, "Call-ID: %s\r\n", r->callid);
	err |= mbuf_printf(mb, "CSeq: %u %s\r\n", r->cseq, r->method);
	if (r->contact)
		err |= mbuf_printf(mb, "Contact: %s\r\n", r->contact);
	if (!err)
		err = extra_print(mb, &r->x);

	return finish(mbp, mb, err);
}


int sst_build_forward(struct mbuf **mbp, const struct sip_msg *req,
		      const struct sst_fwd_spec *f)
{
	const struct sip_hdr *self[SST_FWD_SELF_MAX];
	size_t nself = 0, i;
	bool first_via = true, skip, contact_done = false;
	uint32_t maxfwd = SST_MAXFWD_DEFAULT + 1;
	struct mbuf *mb;
	struct le *le;
	int err;

	if (!mbp || !req || !req->req || !f || !via_spec_ok(&f->via))
		return EINVAL;

	if (pl_isset(&req->maxfwd)) {
		err = sst_msg_uint(&maxfwd, &req->maxfwd, INT32_MAX);
		if (err)
			return EBADMSG;
		if (maxfwd == 0)
			return ELOOP;
	}

	/* the leading Route values naming us: one, or two after double
	 * record-routing (RFC 5658) */
	for (le = req->hdrl.head; le && f->selfh && nself < SST_FWD_SELF_MAX;
	     le = le->next) {
		const struct sip_hdr *hdr = le->data;
		struct sip_addr addr;

		if (hdr->id != SIP_HDR_ROUTE)
			continue;
		if (sip_addr_decode(&addr, &hdr->val) ||
		    !f->selfh(&addr.uri, f->arg))
			break;
		self[nself++] = hdr;
	}

	mb = mbuf_alloc(req->mb ? req->mb->end + 256 : 512);
	if (!mb)
		return ENOMEM;

	if (f->ruri)
		err = mbuf_printf(mb, "%r %s SIP/2.0\r\n", &req->met, f->ruri);
	else
		err = mbuf_printf(mb, "%r %r SIP/2.0\r\n", &req->met,
				  &req->ruri);
	err |= via_print(mb, &f->via);
	if (f->rr)
		err |= mbuf_printf(mb, "Record-Route: %s\r\n", f->rr);
	if (!pl_isset(&req->maxfwd))
		err |= mbuf_printf(mb, "Max-Forwards: %u\r\n",
				   SST_MAXFWD_DEFAULT);

	for (le = req->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		for (skip = false, i = 0; i < nself && !skip; i++)
			skip = hdr == self[i];
		if (skip)
			continue;

		switch (hdr->id) {

		case SIP_HDR_VIA:
			if (f->hide_vias)
				break;
			if (first_via)
				err = top_via_print(mb, req, hdr, f->src);
			else
				err = hdr_print(mb, hdr);
			first_via = false;
			break;

		case SIP_HDR_MAX_FORWARDS:
			err = mbuf_printf(mb, "%r: %u\r\n", &hdr->name,
					  maxfwd - 1);
			break;

		case SIP_HDR_CONTENT_LENGTH:
			break;

		case SIP_HDR_RECORD_ROUTE:
			if (!f->hide_vias)
				err = hdr_print(mb, hdr);
			break;

		case SIP_HDR_CONTACT:
			if (!f->contact)
				err = hdr_print(mb, hdr);
			else if (!contact_done)
				err = mbuf_printf(mb, "Contact: %s\r\n",
						  f->contact);
			contact_done = true;
			break;

		default:
			err = hdr_print(mb, hdr);
			break;
		}
	}

	if (!err) {
		const size_t blen = req->mb ? mbuf_get_left(req->mb) : 0;

		err = mbuf_printf(mb, "Content-Length: %zu\r\n\r\n", blen);
		if (blen)
			err |= mbuf_write_mem(mb, mbuf_buf(req->mb), blen);
	}

	return finish(mbp, mb, err);
}


int sst_build_fwd_response(struct mbuf **mbp, const struct sip_msg *resp)
{
	bool first_via = true;
	struct mbuf *mb;
	struct le *le;
	size_t blen;
	int err;

	if (!mbp || !resp || resp->req)
		return EINVAL;

	if (sip_msg_hdr_count(resp, SIP_HDR_VIA) < 2)
		return ENOENT;

	mb = mbuf_alloc(resp->mb ? resp->mb->end + 64 : 512);
	if (!mb)
		return ENOMEM;

	err = mbuf_printf(mb, "SIP/2.0 %u %r\r\n", resp->scode,
			  &resp->reason);

	for (le = resp->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id == SIP_HDR_VIA && first_via) {
			first_via = false;
			continue;
		}
		if (hdr->id == SIP_HDR_CONTENT_LENGTH)
			continue;

		err = hdr_print(mb, hdr);
	}

	blen = resp->mb ? mbuf_get_left(resp->mb) : 0;
	if (!err) {
		err = mbuf_printf(mb, "Content-Length: %zu\r\n\r\n", blen);
		if (blen)
			err |= mbuf_write_mem(mb, mbuf_buf(resp->mb), blen);
	}

	return finish(mbp, mb, err);
}


enum { RR_MAX = 32 };

/* The Record-Route values of msg, one by one (a header may hold a
 * comma-separated list): n of them, at most RR_MAX. */
static size_t rr_values(const struct sip_msg *msg, struct pl *v, size_t n)
{
	size_t k = 0;
	struct le *le;

	for (le = msg ? msg->hdrl.head : NULL; le && k < n; le = le->next) {
		const struct sip_hdr *hdr = le->data;
		const char *p, *e, *start;
		bool quoted = false, angle = false;

		if (hdr->id != SIP_HDR_RECORD_ROUTE)
			continue;
		p = start = hdr->val.p;
		e = p + hdr->val.l;
		for (; p <= e && k < n; p++) {
			if (p < e && *p == '"')
				quoted = !quoted;
			else if (p < e && !quoted && *p == '<')
				angle = true;
			else if (p < e && !quoted && *p == '>')
				angle = false;
			if (p < e && (quoted || angle || *p != ','))
				continue;
			while (start < p && (*start == ' ' || *start == '\t'))
				start++;
			v[k].p = start;
			v[k].l = (size_t)(p - start);
			while (v[k].l && (v[k].p[v[k].l - 1] == ' ' ||
					  v[k].p[v[k].l - 1] == '\t'))
				v[k].l--;
			if (v[k].l)
				k++;
			start = p + 1;
		}
	}
	return k;
}

static bool rr_self(const struct pl *v, const struct sst_fwdr_spec *s)
{
	struct sip_addr a;

	return s->selfh && !sip_addr_decode(&a, v) && s->selfh(&a.uri, s->arg);
}

/* The Record-Route of a response relayed with hiding, as one header. */
static int rr_print(struct mbuf *mb, const struct sip_msg *resp,
		    const struct sst_fwdr_spec *s)
{
	struct pl v[RR_MAX], q[RR_MAX];
	size_t n = rr_values(resp, v, RR_MAX), nq = 0, i, from = 0, upto;
	bool self_seen = false, sep = false, tail = false;
	int err;

	if (s->rr_out) {
		/* the last of our leading values: keep from there on */
		for (i = 0; i < n; i++) {
			if (rr_self(&v[i], s)) {
				from = i;
				self_seen = true;
			}
			else if (self_seen)
				break;
		}
	}
	upto = n;
	if (s->req) {
		/* the response's values up to our first, then the one of
		 * ours for the gateway side, then the request's own */
		for (i = from; i < n && !rr_self(&v[i], s); i++)
			;
		if (i < n) {
			upto = i + 1;
			tail = true;
			nq = rr_values(s->req, q, RR_MAX);
		}
	}
	if (from >= upto)
		return 0;

	err = mbuf_printf(mb, "Record-Route: ");
	for (i = from; i < upto && !err; i++, sep = true)
		err = mbuf_printf(mb, "%s%r", sep ? ", " : "", &v[i]);
	if (tail && s->rr_in && !err)
		err = mbuf_printf(mb, ", %s", s->rr_in);
	for (i = 0; tail && i < nq && !err; i++)
		err = mbuf_printf(mb, ", %r", &q[i]);
	return err ? err : mbuf_printf(mb, "\r\n");
}

int sst_build_fwd_response_th(struct mbuf **mbp, const struct sip_msg *resp,
			      const struct sst_fwdr_spec *s)
{
	const struct sip_msg *req = s ? s->req : NULL;
	bool first_via = true, vias_done = false, contact_done = false;
	bool rr_done = false;
	struct mbuf *mb;
	struct le *le, *lr;
	size_t blen;
	int err;

	if (!mbp || !resp || !s || resp->req || (req && !req->req))
		return EINVAL;
	if (!req && sip_msg_hdr_count(resp, SIP_HDR_VIA) < 2)
		return ENOENT;

	mb = mbuf_alloc(resp->mb ? resp->mb->end + 256 : 512);
	if (!mb)
		return ENOMEM;

	err = mbuf_printf(mb, "SIP/2.0 %u %r\r\n", resp->scode,
			  &resp->reason);

	for (le = resp->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id == SIP_HDR_VIA) {
			if (!req) {
				if (!first_via)
					err = hdr_print(mb, hdr);
				first_via = false;
				continue;
			}
			if (vias_done)
				continue;
			vias_done = true;
			for (lr = req->hdrl.head; lr && !err; lr = lr->next) {
				const struct sip_hdr *rh = lr->data;

				if (rh->id != SIP_HDR_VIA)
					continue;
				if (first_via)
					err = top_via_print(mb, req, rh,
							    s->src);
				else
					err = hdr_print(mb, rh);
				first_via = false;
			}
			continue;
		}
		if (hdr->id == SIP_HDR_RECORD_ROUTE) {
			if (!rr_done)
				err = rr_print(mb, resp, s);
			rr_done = true;
			continue;
		}
		if (hdr->id == SIP_HDR_CONTENT_LENGTH)
			continue;
		if (hdr->id == SIP_HDR_CONTACT && s->contact) {
			if (!contact_done)
				err = mbuf_printf(mb, "Contact: %s\r\n",
						  s->contact);
			contact_done = true;
			continue;
		}
		err = hdr_print(mb, hdr);
	}

	blen = resp->mb ? mbuf_get_left(resp->mb) : 0;
	if (!err) {
		err = mbuf_printf(mb, "Content-Length: %zu\r\n\r\n", blen);
		if (blen)
			err |= mbuf_write_mem(mb, mbuf_buf(resp->mb), blen);
	}

	return finish(mbp, mb, err);
}
