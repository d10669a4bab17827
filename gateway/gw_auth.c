/*
 * gw_auth.c -- digest authentication of local users against the
 * directory (the request context and its parking: gw_req.c).
 *
 * Policy (why, in gw.h): REGISTER 401, everything else 407; SHA-256
 * offered before MD5; the digest username must be the From user (and
 * the To user of a REGISTER), in a local domain.
 *
 * Outcomes, each counted for status:
 *	no credentials for our realm       challenge (auth_challenges)
 *	expired nonce, or nc replayed      challenge with stale=true
 *	nonce not ours (restart, forged)   fresh challenge
 *	wrong password                     403 (auth_bad_password)
 *	user not in the directory          403 (auth_unknown_user)
 *	identity or uri mismatch, no usable secret   403 (auth_other)
 *	directory down or slow             503 Retry-After
 * Neither the password nor the response is ever logged: a refusal logs
 * the user name and the reason only.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_auth.h"
#include "gateway/gw_shared.h"
#include "gateway/gw_digest.h"
#include "gateway/gw_req.h"

/*
 * Clients that fail on a challenge set with an algorithm they do not
 * know instead of skipping it: libre 1.1.0 (baresip 1.x) stops at the
 * SHA-256 header with ENOSYS, sipp 3.6 refuses it.  They get MD5 alone,
 * everybody else SHA-256 then MD5 (RFC 8760: best first).
 */
static const char *const md5_only_agents[] = {"baresip", "sipp"};

static bool agent_md5_only(const struct sip_msg *msg)
{
	const struct sip_hdr *ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	size_t i;

	if (!ua)
		return false;
	for (i = 0; i < ARRAY_SIZE(md5_only_agents); i++) {
		const size_t n = strlen(md5_only_agents[i]);

		if (ua->val.l >= n &&
		    !strncasecmp(ua->val.p, md5_only_agents[i], n))
			return true;
	}
	return false;
}

static void challenge(struct gw_req *rq, bool stale, bool md5_only)
{
	struct gw *gw = rq->gw;
	const char *hname = rq->proxy ? "Proxy-Authenticate" :
		"WWW-Authenticate";
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb) {
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}
	if (md5_only || agent_md5_only(rq->msg)) {
		err  = mbuf_printf(mb, "%s: ", hname);
		err |= gw_digest_challenge(mb, gw->dg, GW_DIGEST_MD5,
					   gw->realm, gw_now(), stale);
		err |= mbuf_write_str(mb, "\r\n");
	}
	else {
		err = gw_digest_challenges(mb, gw->dg, hname, gw->realm,
					   gw_now(), stale);
	}
	err |= mbuf_write_u8(mb, 0);
	if (err) {
		mem_deref(mb);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
		return;
	}

	gw->c.auth_challenges++;
	if (stale)
		gw->c.auth_stale++;
	gw_req_answer(rq, rq->proxy ? 407 : 401, rq->proxy ?
		      "Proxy Authentication Required" : "Unauthorized",
		      (const char *)mb->buf);
	mem_deref(mb);
}

static void refuse(struct gw_req *rq, uint64_t *counter, const char *why)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);

	(*counter)++;
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: auth refused user=%s method=%.*s "
		   "reason=%s", rq->user, (int)rq->msg->met.l,
		   rq->msg->met.p, why);
	rq->user[0] = '\0';
	gw_req_answer(rq, 403, "Forbidden", NULL);
}

/* The real verification, with the method as a C string. */
static int verify(struct gw_req *rq, const struct gw_digest_cred *cred,
		  const struct gw_digest_secret *sec)
{
	char met[32];

	if (pl_strcpy(&rq->msg->met, met, sizeof(met)))
		return EINVAL;
	return gw_digest_verify(rq->gw->dg, cred, rq->gw->realm, met,
				&rq->msg->ruri, sec, gw_now());
}

static void verify_h(const struct dir_result *res, void *arg);

void gw_auth(struct gw_req *rq, bool proxy, gw_req_h *next)
{
	struct gw *gw = rq->gw;
	const struct gw_digest_cred *cred;
	struct pl user;
	int err;

	rq->proxy = proxy;
	rq->next = next;

	/* a MESSAGE another gateway of the shared store forwarded: it
	 * authenticated the sender (nothing else is taken unchallenged) */
	if (!pl_strcmp(&rq->msg->met, "MESSAGE") &&
	    gw_shared_peer(gw, rq->fl)) {
		next(rq);
		return;
	}

	/* a local user, speaking as herself */
	if (!gw_domain_is_local(gw, &rq->msg->from.uri.host) ||
	    (!proxy && !gw_domain_is_local(gw, &rq->msg->to.uri.host))) {
		gw->c.auth_other++;
		gw_req_answer(rq, 403, "Not a local domain", NULL);
		return;
	}

	cred = gw_req_cred(rq, gw->realm, &err);
	if (!cred) {
		if (err && err != ENOTSUP && err != EPROTONOSUPPORT) {
			gw->c.auth_other++;
			gw_req_answer(rq, 400, "Bad Authorization header",
				      NULL);
			return;
		}
		challenge(rq, false, false);
		return;
	}

	pl_set_str(&user, cred->username);
	(void)pl_strcpy(&user, rq->user, sizeof(rq->user));
	if (pl_cmp(&user, &rq->msg->from.uri.user) ||
	    (!proxy && pl_cmp(&user, &rq->msg->to.uri.user))) {
		refuse(rq, &gw->c.auth_other, "identity-mismatch");
		return;
	}

	gw_req_park(rq);
	err = dir_secret_of(gw->dir, &user, verify_h, rq);
	if (err) {
		list_unlink(&rq->le);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
	}
}

static void verify_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	struct gw *gw = rq->gw;
	struct gw_digest_secret sec = {0};
	const struct gw_digest_cred *cred;
	int err;

	list_unlink(&rq->le);

	if (res->err == ENOENT) {
		refuse(rq, &gw->c.auth_unknown_user, "unknown-user");
		return;
	}
	if (res->err == ENODATA || res->err == EPROTONOSUPPORT) {
		refuse(rq, &gw->c.auth_other, "no-usable-secret");
		return;
	}
	if (res->err) {
		static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);

		gw->c.dir_unavailable++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "gw: directory unavailable "
			   "error=%s reason=%s", dir_err_name(res->err),
			   res->reason);
		gw_req_answer(rq, 503, "Directory Unavailable",
			      "Retry-After: 5\r\n");
		return;
	}

	if (res->secret == DIR_SECRET_HA1)
		sec.ha1[GW_DIGEST_MD5] = res->value;
	else
		sec.password = res->value;

	cred = gw_req_cred(rq, gw->realm, NULL);
	if (!cred) {
		challenge(rq, false, false);
		return;
	}

	err = verify(rq, cred, &sec);
	switch (err) {

	case 0:
		gw->c.auth_ok++;
		/* a local user's connection: admission keeps it */
		if (rq->fl)
			sst_conn_trust(rq->fl->conn);
		rq->next(rq);
		return;

	case ESTALE:
	case EALREADY:
		challenge(rq, true, res->secret == DIR_SECRET_HA1);
		return;

	case EPERM:
	case EXDEV:
		challenge(rq, false, res->secret == DIR_SECRET_HA1);
		return;

	case ENOTSUP:
		/* an HA1 is stored for MD5 only: ask for MD5 */
		if (res->secret == DIR_SECRET_HA1 &&
		    cred->alg != GW_DIGEST_MD5) {
			challenge(rq, false, true);
			return;
		}
		refuse(rq, &gw->c.auth_other, gw_digest_reason(err));
		return;

	case EACCES:
		refuse(rq, &gw->c.auth_bad_password, "wrong-password");
		return;

	default:
		refuse(rq, &gw->c.auth_other, gw_digest_reason(err));
		return;
	}
}

static void target_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	gw_req_h *next = rq->next;

	list_unlink(&rq->le);
	if (res->err == 0 || res->err == ENODATA) {
		next(rq);
		return;
	}
	if (res->err == ENOENT || res->err == EINVAL) {
		if (!pl_strcmp(&rq->msg->met, "MESSAGE"))
			rq->gw->c.msg_unknown++;
		gw_req_answer(rq, 404, "Not Found", NULL);
		return;
	}
	if (gw_req_ambiguous(rq, res, rq->target))
		return;
	rq->gw->c.dir_unavailable++;
	gw_req_answer(rq, 503, "Directory Unavailable", "Retry-After: 5\r\n");
}

/* The target exists when the directory knows its ID (with or without
 * an email address: ENODATA is a local-only user). */
void gw_target_check(struct gw_req *rq, gw_req_h *next)
{
	struct pl t;
	int err;

	rq->next = next;
	pl_set_str(&t, rq->target);
	gw_req_park(rq);
	err = dir_email_of(rq->gw->dir, &t, target_h, rq);
	if (err) {
		list_unlink(&rq->le);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
	}
}
