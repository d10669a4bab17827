/*
 * gw_sipv.c -- the AOR form and Expires of a request (see gw_sipv.h).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <re.h>

#include "conf/cfg.h"
#include "directory/dir.h"
#include "sipstack/sst_msg.h"
#include "gateway/gw_sipv.h"

/* "sip:user@host" with the host in lower case: the AOR form that the
 * registration table and presence compare byte for byte. */
int gw_aor_of(char *buf, size_t sz, const struct uri *uri)
{
	size_t i, n;

	if (!buf || !uri || !uri->user.l || !uri->host.l)
		return EINVAL;
	if (uri->user.l > DIR_KEY_MAX || uri->host.l > CFG_DOMAIN_MAX)
		return EMSGSIZE;
	if (re_snprintf(buf, sz, "sip:%r@%r", &uri->user, &uri->host) < 0)
		return EMSGSIZE;
	n = strlen(buf);
	for (i = n - uri->host.l; i < n; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return 0;
}

uint32_t gw_expires_of(const struct sip_msg *msg, uint32_t dflt)
{
	uint32_t v;

	if (!msg || !pl_isset(&msg->expires))
		return dflt;
	if (sst_msg_uint(&v, &msg->expires, UINT32_MAX))
		return dflt;
	return v;
}
