/*
 * gw_req.h -- the request context: one request a client or a connector
 * sent the gateway, from the front door to its final answer.
 *
 * Owns: struct gw_req (the message, its server transaction and flow,
 *	what authentication and the services learn on the way), parking a
 *	request while the directory answers and its deadline (503 when the
 *	directory is slow), the 485 for an ambiguous directory entry, and
 *	the request's digest credentials, decoded once and kept on the
 *	request for every step that reads them.
 * Not here: authentication itself (gw_auth.c), the services.
 * Memory: a gw_req is a libre mem object; it references its message
 *	and flow and abandons its server transaction if freed unanswered.
 *	gw_req_answer() answers and frees it.
 */
#ifndef STC_GW_REQ_H
#define STC_GW_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <re.h>

#include "directory/dir.h"
#include "gateway/gw_digest.h"

struct gw;
struct sip_msg;
struct sst_flow;
struct sst_strans;

enum { GW_URI_MAX = 512 };  /* a URI the gateway writes or keeps */

struct gw_req;
typedef void (gw_req_h)(struct gw_req *rq);
struct gw_req {
	struct le le;
	struct gw *gw;
	struct sip_msg *msg;       /* referenced */
	struct sst_strans *stx;
	struct sst_flow *fl;        /* referenced */
	gw_req_h *next;            /* after authentication */
	char user[DIR_KEY_MAX + 1];   /* authenticated local ID */
	char target[DIR_KEY_MAX + 1]; /* Request-URI user, for lookups */
	bool proxy;                /* 407 (true) or 401 */
	bool fed;                  /* arrived from a connector */
	char email[DIR_KEY_MAX + 1];  /* the sender's federation address */
	char entity[GW_URI_MAX];   /* how outsiders name the target */
	uint64_t deadline;         /* ms: answered 503 by then if parked */
	gw_req_h *allow_next;      /* gw_allow.c: after the group check */
	size_t allow_i;            /* the AllowGroup being asked */
	bool allow_in;             /* checking the reached user */
	/* gw_req_cred(): the credentials for our realm, decoded once */
	struct gw_digest_cred cred;
	bool cred_done, cred_found;
	int cred_err;
};

int  gw_req_alloc(struct gw_req **rqp, struct gw *gw, struct sip_msg *msg,
		  struct sst_strans *stx, struct sst_flow *fl);
void gw_req_answer(struct gw_req *rq, uint16_t scode, const char *reason,
		   const char *hdrs);
void gw_req_cancel_all(struct gw *gw);
/* Park rq in gw->pending while the directory answers: by the deadline
 * set at arrival (Directory answerTimeout) it gets 503 with Retry-After
 * if the directory has not answered, so that no request waits until the
 * sender's Timer F and the connector never takes a slow directory for
 * a dead gateway. */
void gw_req_park(struct gw_req *rq);
/* A directory answer ENOTUNIQ (two entries for one key: a data error,
 * not a temporary one): 485 Ambiguous, no Retry-After, counted, logged
 * once per key per cache period.  True when rq was answered. */
bool gw_req_ambiguous(struct gw_req *rq, const struct dir_result *res,
		      const char *key);
/*
 * rq's digest credentials for realm: the Proxy-Authorization (rq->proxy)
 * or Authorization header whose realm is ours, decoded at the first
 * call and kept on rq for the later ones (the directory's answer comes
 * back to the same request).  NULL when there is none; *errp (may be
 * NULL) then says why: 0 no header, else the decoding error of the
 * last one refused (gw_digest_cred_decode).
 */
const struct gw_digest_cred *gw_req_cred(struct gw_req *rq,
					 const char *realm, int *errp);

#endif /* STC_GW_REQ_H */
