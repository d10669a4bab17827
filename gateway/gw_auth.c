/*
 * gw_auth.c -- digest authentication of local users against the
 * directory, and requests parked while the directory answers.
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

#include "sipstack/sst_timer.h"
#include "sipstack/sst_trans.h"
#include "gateway/gw.h"
#include "gateway/gw_digest.h"

static unsigned answer_ms(const struct gw *gw)
{
	const unsigned v = gw->cfg->directory.answer_ms ?
		gw->cfg->directory.answer_ms : (unsigned)CFG_DIR_ANSWER_MS;

	return min(max(v, (unsigned)GW_DIR_ANSWER_MIN_MS),
		   (unsigned)GW_DIR_ANSWER_MAX_MS);
}

static void req_destructor(void *arg)
{
	struct gw_req *rq = arg;

	list_unlink(&rq->le);
	if (rq->gw && rq->gw->dir)
		dir_cancel(rq->gw->dir, rq);
	if (rq->stx)
		sst_strans_abandon(rq->stx);
	rq->msg = mem_deref(rq->msg);
	rq->fl = mem_deref(rq->fl);
}

int gw_req_alloc(struct gw_req **rqp, struct gw *gw, struct sip_msg *msg,
		 struct sst_strans *stx, struct sst_flow *fl)
{
	struct gw_req *rq;

	if (!rqp || !gw || !msg || !fl)
		return EINVAL;
	if (list_count(&gw->pending) >= GW_PENDING_MAX)
		return EAGAIN;
	rq = mem_zalloc(sizeof(*rq), req_destructor);
	if (!rq)
		return ENOMEM;
	rq->gw = gw;
	rq->msg = mem_ref(msg);
	rq->stx = stx;
	rq->fl = mem_ref(fl);
	rq->deadline = sst_tmr_now() + answer_ms(gw);
	*rqp = rq;
	return 0;
}

/* Every parked request past its deadline gets 503: the directory is
 * down or slow, and the sender must hear so well before its Timer F. */
static void pending_tick(void *arg)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	struct gw *gw = arg;
	const uint64_t now = sst_tmr_now();
	struct le *le = gw->pending.head;
	char ra[32];

	re_snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", GW_RETRY_AFTER);
	while (le) {
		struct gw_req *rq = le->data;

		le = le->next;
		if (now < rq->deadline)
			continue;
		list_unlink(&rq->le);
		if (gw->dir)
			dir_cancel(gw->dir, rq);
		gw->c.dir_unavailable++;
		gw->c.dir_slow++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "gw: directory too slow "
			   "method=%.*s waited_ms=%u", (int)rq->msg->met.l,
			   rq->msg->met.p, answer_ms(gw));
		gw_req_answer(rq, 503, "Directory Unavailable", ra);
	}
	if (!list_isempty(&gw->pending))
		tmr_start(&gw->pendt, GW_PENDING_TICK_MS, pending_tick, gw);
}

void gw_req_park(struct gw_req *rq)
{
	struct gw *gw = rq->gw;

	list_append(&gw->pending, &rq->le, rq);
	if (!tmr_isrunning(&gw->pendt))
		tmr_start(&gw->pendt, GW_PENDING_TICK_MS, pending_tick, gw);
}

struct gw_ambig {
	struct le le;
	char key[DIR_KEY_MAX + 1];
	uint64_t until;              /* seconds, gw_now(): quiet until */
};

bool gw_req_ambiguous(struct gw_req *rq, const struct dir_result *res,
		      const char *key)
{
	struct gw *gw = rq->gw;
	const uint64_t now = gw_now();
	struct gw_ambig *a = NULL;
	struct le *le;

	if (res->err != ENOTUNIQ)
		return false;
	gw->c.dir_ambiguous++;
	for (le = gw->ambig.head; le; le = le->next) {
		struct gw_ambig *x = le->data;

		if (!str_casecmp(x->key, key)) {
			a = x;
			break;
		}
	}
	if (!a || now >= a->until) {
		/* once per key per cache period: the entry is cached that
		 * long, and the administrator needs one line, not one per
		 * request */
		dmn_log_warnx("gw: ambiguous directory key=%s reason=%s",
			      key, res->reason && res->reason[0] ?
			      res->reason : dir_err_name(res->err));
		if (!a) {
			if (list_count(&gw->ambig) >= GW_AMBIG_MAX)
				mem_deref(list_head(&gw->ambig)->data);
			a = mem_zalloc(sizeof(*a), NULL);
			if (a) {
				str_ncpy(a->key, key, sizeof(a->key));
				list_append(&gw->ambig, &a->le, a);
			}
		}
		if (a)
			a->until = now + (gw->cfg->directory.cache_ttl ?
					  gw->cfg->directory.cache_ttl : 60);
	}
	/* RFC 3261 21.4.23: the address names several users; asking
	 * again will not help, so no Retry-After */
	gw_req_answer(rq, 485, "Ambiguous", NULL);
	return true;
}

/* Answer and free rq. */
void gw_req_answer(struct gw_req *rq, uint16_t scode, const char *reason,
		   const char *hdrs)
{
	if (!rq)
		return;
	(void)gw_reply(rq->gw, rq->stx, rq->msg, rq->fl, scode, reason, NULL,
		       hdrs, NULL, NULL);
	rq->stx = NULL;
	mem_deref(rq);
}

/* Every parked request gets 503 (shutdown, or a directory swap). */
void gw_req_cancel_all(struct gw *gw)
{
	struct le *le;

	while ((le = list_head(&gw->pending)) != NULL) {
		struct gw_req *rq = le->data;

		list_unlink(&rq->le);
		if (gw->dir)
			dir_cancel(gw->dir, rq);
		gw_req_answer(rq, 503, "Service Unavailable",
			      "Retry-After: 5\r\n");
	}
}

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

struct cred_find {
	const char *realm;
	struct gw_digest_cred cred;
	bool found;
	int err;
};

static bool cred_apply(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct cred_find *cf = arg;
	struct gw_digest_cred c;
	int err;

	(void)msg;
	err = gw_digest_cred_decode(&c, &hdr->val);
	if (err) {
		cf->err = err;
		return false;
	}
	if (strcmp(c.realm, cf->realm))
		return false;   /* another realm's credentials: not ours */
	cf->cred = c;
	cf->found = true;
	return true;
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
	struct cred_find cf = {0};
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

	cf.realm = gw->realm;
	(void)sip_msg_hdr_apply(rq->msg, true, proxy ?
				SIP_HDR_PROXY_AUTHORIZATION :
				SIP_HDR_AUTHORIZATION, cred_apply, &cf);
	if (!cf.found) {
		if (cf.err && cf.err != ENOTSUP && cf.err != EPROTONOSUPPORT) {
			gw->c.auth_other++;
			gw_req_answer(rq, 400, "Bad Authorization header",
				      NULL);
			return;
		}
		challenge(rq, false, false);
		return;
	}

	pl_set_str(&user, cf.cred.username);
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
	struct cred_find cf = {0};
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

	cf.realm = gw->realm;
	(void)sip_msg_hdr_apply(rq->msg, true, rq->proxy ?
				SIP_HDR_PROXY_AUTHORIZATION :
				SIP_HDR_AUTHORIZATION, cred_apply, &cf);
	if (!cf.found) {
		challenge(rq, false, false);
		return;
	}

	err = verify(rq, &cf.cred, &sec);
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
		    cf.cred.alg != GW_DIGEST_MD5) {
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
