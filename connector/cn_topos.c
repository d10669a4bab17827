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
 *    the connector, <sip:thTOKEN@HOST:PORT;transport=T>.  TOKEN is the
 *    inside contact itself, sealed (sipstack/sst_seal.h: encrypted and
 *    authenticated, URL-safe base64) under the connector's key: a
 *    request that comes back with such a Request-URI (the partner's
 *    in-dialog requests) gets the inside contact back, with no table
 *    to fill or lose.  The key is read from the CommunityConnector's
 *    toposKey file, made (64 random bytes, mode 0600) at the first
 *    start when absent, so that tokens handed out before a restart,
 *    even a crash, still work after it: dialogs survive.  Without
 *    toposKey the key is made for the process and dies with it.  A
 *    partner can name only what the connector handed out and learns
 *    nothing of the inside from it: a token it did not get from us
 *    (altered, another key) is left as it is, and the request goes,
 *    as every inbound request does, to one of the community's
 *    gateways and nowhere else, so no token can make the connector
 *    relay to an inside address of the partner's choosing.  An inside
 *    contact longer than PX_TOPOS_INSIDE_MAX is not sent either: the
 *    Contact is then ours, without a token.
 *
 *  - Record-Route, Via sent-by and Contact host: the advertised host of
 *    the CommunityConnector (advertise=, static NAT) when set, else its
 *    public address (advertiseIp=), else its bound ip.  The Record-Route entry that faces the gateway (the
 *    second one of a double record-route, RFC 5658) keeps the bound ip:
 *    the gateway reaches the connector there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <re.h>

#include "connector/cn.h"
#include "connector/cn_px.h"

/* The key from path, or a new one written there (mode 0600) when the
 * file does not exist; with no path, a key for this process. */
static int key_load(uint8_t key[SST_SEAL_KEY], const char *path)
{
	uint8_t buf[SST_SEAL_KEY + 1];
	ssize_t n;
	int fd, err;

	if (!path)
		return sst_seal_keygen(key);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		(void)close(fd);
		if (n != SST_SEAL_KEY) {
			dmn_log_errx("cn: toposKey file=%s is not a key "
				     "(%zd bytes, want %u): remove it to "
				     "make a new one", path, n,
				     (unsigned)SST_SEAL_KEY);
			return EINVAL;
		}
		memcpy(key, buf, SST_SEAL_KEY);
		return 0;
	}
	if (errno != ENOENT) {
		err = errno;
		dmn_log_code(DMN_LOG_ERR, err, "cn: toposKey file=%s", path);
		return err;
	}
	err = sst_seal_keygen(key);
	if (err)
		return err;
	errno = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write(fd, key, SST_SEAL_KEY) != SST_SEAL_KEY ||
	    fsync(fd)) {
		err = errno ? errno : EIO;
		dmn_log_code(DMN_LOG_ERR, err, "cn: toposKey file=%s cannot "
			     "be written", path);
		if (fd >= 0) {
			(void)close(fd);
			(void)unlink(path);
		}
		return err;
	}
	(void)close(fd);
	dmn_log_info("cn: toposKey created file=%s", path);
	return 0;
}

/*
 * Format the host the connector writes: advertise or ip; at the first
 * call, the key of the tokens (a reload keeps it: a new toposKey needs
 * a restart).
 */
int px_topos_init(struct cn_px *px, const struct cfg_connector *self)
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
	if (px->topos_keyed)
		return 0;
	if (key_load(px->topos_key, self->topos_key))
		return EINVAL;
	px->topos_keyed = true;
	return 0;
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
	char tok[SST_SEAL_LEN(PX_TOPOS_INSIDE_MAX) + 1];
	struct sip_addr a;
	int n;

	if (!h)
		return ENOENT;
	if (sip_addr_decode(&a, &h->val) || a.auri.l > PX_TOPOS_INSIDE_MAX ||
	    sst_seal(px->topos_key, a.auri.p, a.auri.l, tok, sizeof(tok)))
		goto bare;
	n = re_snprintf(buf, size, "<sip:th%s@%s:%u;transport=%s>%r", tok,
			px->host, px_port(px, k), tp, &a.params);
	if (n > 0 && (size_t)n < size)
		return 0;
 bare:
	re_snprintf(buf, size, "<sip:%s:%u;transport=%s>", px->host,
		    px_port(px, k), tp);
	return EOVERFLOW;
}

/* The inside target of a request whose Request-URI is one of our
 * tokens: true and buf set, else false (the Request-URI stays). */
bool px_topos_ruri(const struct cn_px *px, const struct sip_msg *msg,
		   char *buf, size_t size)
{
	const struct pl *u = &msg->uri.user;

	if (u->l < 3 || u->p[0] != 't' || u->p[1] != 'h')
		return false;
	return !sst_unseal(px->topos_key, u->p + 2, u->l - 2, buf, size);
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
