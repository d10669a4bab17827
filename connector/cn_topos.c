/*
 * cn_topos.c -- topology hiding and static NAT at the connector.
 *
 * What a partner sees of the community is the connector alone:
 *
 *  - Via: a request leaving the community carries only the connector's
 *    Via.  The inside ones are not lost: the server transaction holds
 *    the request as it came from the gateway, and its response is sent
 *    back with those Vias in place of the one the partner answered
 *    (so the inside Vias are kept per transaction, never on the wire).
 *
 *  - Contact: the gateway's Contact, in a request leaving the community
 *    or in a response to a partner's request, is replaced by a URI of
 *    the connector, <sip:thN.HASH@HOST:PORT;transport=T>.  N is a slot
 *    of a table of the inside contacts seen (PX_TOPOS_SLOTS, one per
 *    distinct inside Contact, kept while the process runs), HASH the
 *    first 32 bits of the contact's hash; a request that comes back
 *    with such a Request-URI (the partner's in-dialog requests) gets
 *    the inside contact back.  A partner can name only what the
 *    connector handed out: a token it did not issue (wrong slot or
 *    hash, or issued before a restart) is left as it is, and the
 *    request goes, as every inbound request does, to one of the
 *    community's gateways and nowhere else, so no token can make the
 *    connector relay to an inside address of the partner's choosing.
 *
 *  - Record-Route, Via sent-by and Contact host: the advertised host of
 *    the CommunityConnector (advertise=, static NAT) when set, else its
 *    public address (advertiseIp=), else its bound ip.  The Record-Route entry that faces the gateway (the
 *    second one of a double record-route, RFC 5658) keeps the bound ip:
 *    the gateway reaches the connector there.
 */
#include "config.h"

#include <string.h>

#include <re.h>

#include "connector/cn.h"
#include "connector/cn_px.h"

/* Format the host the connector writes: advertise or ip. */
void px_topos_init(struct cn_px *px, const struct cfg_connector *self)
{
	const char *h = self->advertise ? self->advertise :
		self->advertise_ip ? self->advertise_ip : self->ip;

	if (strchr(h, ':'))
		re_snprintf(px->host, sizeof(px->host), "[%s]", h);
	else
		str_ncpy(px->host, h, sizeof(px->host));
	str_ncpy(px->adv, self->advertise ? self->advertise :
		 self->advertise_ip ? self->advertise_ip : "",
		 sizeof(px->adv));
	sa_init(&px->adv_ip, AF_UNSPEC);
	if (self->advertise_ip)
		(void)sa_set_str(&px->adv_ip, self->advertise_ip, 0);
}

/* Is host the advertised name or address? */
bool px_topos_is_adv(const struct cn_px *px, const struct pl *host)
{
	struct sa sa;

	if (px->adv[0] && !pl_strcasecmp(host, px->adv))
		return true;
	return sa_isset(&px->adv_ip, SA_ADDR) && !sa_set(&sa, host, 0) &&
		sa_cmp(&sa, &px->adv_ip, SA_ADDR);
}

static uint32_t contact_slot(struct cn_px *px, const struct pl *uri)
{
	const uint32_t h = hash_joaat_ci(uri->p, uri->l);
	const uint32_t slot = h % PX_TOPOS_SLOTS;
	struct px_topos_slot *s = &px->topos[slot];

	if (s->hash != h || pl_strcmp(uri, s->uri)) {
		s->hash = h;
		(void)pl_strcpy(uri, s->uri, sizeof(s->uri));
	}
	return slot;
}

/*
 * The Contact value to write in place of msg's (the inside one), for
 * transport k: 0 and buf set, or ENOENT when msg has no Contact (then
 * nothing is replaced), EOVERFLOW when the inside one is too long to
 * be kept (then it is not sent either: the Contact is ours, without a
 * token).
 */
int px_topos_contact(struct cn_px *px, const struct sip_msg *msg,
		     enum sst_tp k, char *buf, size_t size)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	const char *tp = k == SST_TP_TLS ? "tls" :
		k == SST_TP_TCP ? "tcp" : "udp";
	struct sip_addr a;
	uint32_t slot;

	if (!h)
		return ENOENT;
	if (sip_addr_decode(&a, &h->val) || a.auri.l >= PX_TOPOS_URI_MAX) {
		re_snprintf(buf, size, "<sip:%s:%u;transport=%s>", px->host,
			    px_port(px, k), tp);
		return EOVERFLOW;
	}
	slot = contact_slot(px, &a.auri);
	re_snprintf(buf, size, "<sip:th%u.%08x@%s:%u;transport=%s>%r",
		    slot, px->topos[slot].hash, px->host, px_port(px, k), tp,
		    &a.params);
	return 0;
}

/* The inside target of a request whose Request-URI is one of our
 * tokens: true and buf set, else false (the Request-URI stays). */
bool px_topos_ruri(const struct cn_px *px, const struct sip_msg *msg,
		   char *buf, size_t size)
{
	struct pl n, hx;
	uint32_t slot, h;

	if (re_regex(msg->uri.user.p, msg->uri.user.l,
		     "th[0-9]+.[0-9a-f]+", &n, &hx) ||
	    msg->uri.user.l != n.l + hx.l + 3)
		return false;
	slot = pl_u32(&n);
	h = pl_x32(&hx);
	if (slot >= PX_TOPOS_SLOTS || !px->topos[slot].uri[0] ||
	    px->topos[slot].hash != h)
		return false;
	str_ncpy(buf, px->topos[slot].uri, size);
	return true;
}

/* The same decoded into u (pointing into buf). */
bool px_topos_uri(const struct cn_px *px, const struct sip_msg *msg,
		  struct uri *u, char *buf, size_t size)
{
	struct pl pl;

	if (!px_topos_ruri(px, msg, buf, size))
		return false;
	pl_set_str(&pl, buf);
	return !uri_decode(u, &pl);
}
