/*
 * sst_trans.c -- non-INVITE client and server transactions on the
 * sst_timer queue.  See sst_trans.h for the contract.
 *
 * Client (17.1.2):  Trying --1xx--> Proceeding --final--> Completed
 *   Timer E: retransmit over unreliable transports at T1, 2T1, 4T1 ...
 *     capped at T2; once Proceeding, every T2.  Deadlines are counted
 *     from the previous deadline, not from when the loop got round to
 *     it, so a busy loop does not stretch the schedule.
 *   Timer F: 64*T1 after the first send -> local 408, Terminated.
 *   Timer K: T4 in Completed over unreliable transports (absorbs
 *     retransmitted responses), 0 over reliable ones.
 * Server (17.2.2):  Trying --1xx--> Proceeding --final--> Completed
 *   A retransmitted request is absorbed; in Proceeding and Completed the
 *   last response is sent again.  Timer J: 64*T1 in Completed over
 *   unreliable transports, 0 over reliable ones.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sst_timer.h"
#include "sst_trans.h"

#define SST_COOKIE "z9hG4bK"

enum sst_tstate {
	SST_TS_TRYING = 0,
	SST_TS_PROCEEDING,
	SST_TS_COMPLETED,
	SST_TS_TERMINATED,
};

struct sst_tstack {
	struct sst_trans_conf conf;
	struct sst_tmrq *tmrq;
	struct hash *ct;	/* client transactions by key */
	struct hash *st;	/* server transactions by key */
	struct sst_trans_stats stats;
};

struct sst_ctrans {
	struct le he;
	struct sst_tmr tmr;	/* E, then K; or the deferred 503 */
	struct sst_tmr tmrf;	/* F */
	struct sst_tstack *stk;
	struct mbuf *mb;	/* request, unreliable and unanswered only */
	sst_trans_send_h *sendh;
	void *sendarg;
	sst_ctrans_resp_h *resph; /* NULL once the final answer is given */
	void *arg;
	size_t pos;		/* request start in mb */
	uint32_t ivl;		/* next Timer E interval */
	int senderr;		/* first send failed with this */
	uint16_t klen;
	uint8_t state;
	bool reliable;
	char key[];		/* "METHOD branch" */
};

/*
 * A finished server transaction over an unreliable transport waits 32 s
 * (Timer J), so what it keeps is multiplied by 32 s of traffic.  It is
 * moved then into one allocation holding only the key and the final
 * response's bytes (rlen); a retransmitted request gets them through
 * its own send context, so none is kept.
 */
struct sst_strans {
	struct le he;
	struct sst_tmr tmr;	/* J */
	struct sst_tstack *stk;
	struct mbuf *mb;	/* last provisional response, unreliable */
	sst_trans_send_h *sendh;
	void *sendarg;		/* NULL once finished */
	size_t pos;		/* response start in mb */
	uint32_t rlen;		/* finished: response bytes after the key */
	uint16_t klen;
	uint8_t state;
	bool reliable;
	char key[];		/* see key_server(); then the response */
};

/* A matching key built on the stack. */
struct tkey {
	char buf[SST_TRANS_KEY_MAX];
	size_t len;
	bool over;
};

static void key_add(struct tkey *k, const char *p, size_t l)
{
	if (!l)
		return;
	if (k->over || l > sizeof(k->buf) - k->len) {
		k->over = true;
		return;
	}

	memcpy(k->buf + k->len, p, l);
	k->len += l;
}

static void key_pl(struct tkey *k, const struct pl *pl)
{
	key_add(k, pl->p, pl->l);
}

static void key_sep(struct tkey *k)
{
	key_add(k, "\x1f", 1);	/* cannot occur inside a header value */
}

static uint32_t key_hash(const char *p, size_t l)
{
	return hash_joaat((const uint8_t *)p, l);
}

static bool has_cookie(const char *p, size_t l)
{
	return l >= sizeof(SST_COOKIE) - 1 &&
		0 == memcmp(p, SST_COOKIE, sizeof(SST_COOKIE) - 1);
}

/* Methods with their own transaction rules, out of scope here. */
static bool method_refused(const char *p, size_t l)
{
	static const char *const refused[] = {"INVITE", "ACK", "CANCEL"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		if (l == strlen(refused[i]) && 0 == memcmp(p, refused[i], l))
			return true;
	}

	return false;
}

/* Client key and response key: CSeq method and top Via branch. */
static void key_client(struct tkey *k, const struct pl *met,
		       const struct pl *branch)
{
	k->len = 0;
	k->over = false;
	key_pl(k, met);
	key_sep(k);
	key_pl(k, branch);
}

/*
 * Server key.  Cookie branch (17.2.3): method, sent-by, branch.
 * Otherwise the RFC 2543 fields: method, Request-URI, From tag, To tag,
 * Call-ID, CSeq number, whole top Via value (which holds the branch).
 */
static void key_server(struct tkey *k, const struct sip_msg *msg)
{
	k->len = 0;
	k->over = false;

	key_pl(k, &msg->met);
	key_sep(k);

	if (has_cookie(msg->via.branch.p, msg->via.branch.l)) {
		key_pl(k, &msg->via.sentby);
		key_sep(k);
		key_pl(k, &msg->via.branch);
		return;
	}

	key_add(k, "2543", 4);
	key_sep(k);
	key_pl(k, &msg->ruri);
	key_sep(k);
	key_pl(k, &msg->from.tag);
	key_sep(k);
	key_pl(k, &msg->to.tag);
	key_sep(k);
	key_pl(k, &msg->callid);
	key_sep(k);
	key_add(k, (const char *)&msg->cseq.num, sizeof(msg->cseq.num));
	key_sep(k);
	key_pl(k, &msg->via.val);
}

struct kcmp {
	const char *p;
	size_t l;
};

static bool ct_cmp(struct le *le, void *arg)
{
	const struct sst_ctrans *ct = le->data;
	const struct kcmp *kc = arg;

	return ct->klen == kc->l && 0 == memcmp(ct->key, kc->p, kc->l);
}

static bool st_cmp(struct le *le, void *arg)
{
	const struct sst_strans *stx = le->data;
	const struct kcmp *kc = arg;

	return stx->klen == kc->l && 0 == memcmp(stx->key, kc->p, kc->l);
}

static struct sst_ctrans *ct_find(const struct sst_tstack *st,
				  const struct tkey *k)
{
	struct kcmp kc = {k->buf, k->len};
	struct le *le;

	le = hash_lookup(st->ct, key_hash(k->buf, k->len), ct_cmp, &kc);

	return le ? le->data : NULL;
}

static struct sst_strans *st_find(const struct sst_tstack *st,
				  const struct tkey *k)
{
	struct kcmp kc = {k->buf, k->len};
	struct le *le;

	le = hash_lookup(st->st, key_hash(k->buf, k->len), st_cmp, &kc);

	return le ? le->data : NULL;
}

/* Send from the saved start, whatever the callback did to mb->pos. */
static int tsend(sst_trans_send_h *sendh, void *sendarg, struct mbuf *mb,
		 size_t pos)
{
	mb->pos = pos;

	return sendh(mb, sendarg);
}

/* ---- client ---- */

static void ct_destructor(void *data)
{
	struct sst_ctrans *ct = data;

	sst_tmr_cancel(&ct->tmr);
	sst_tmr_cancel(&ct->tmrf);
	hash_unlink(&ct->he);
	if (ct->stk)
		--ct->stk->stats.ct_active;
	mem_deref(ct->mb);
	mem_deref(ct->sendarg);
}

/* End ct: it leaves the table and the stack drops its reference. */
static void ct_terminate(struct sst_ctrans *ct)
{
	if (ct->state == SST_TS_TERMINATED)
		return;

	ct->state = SST_TS_TERMINATED;
	ct->resph = NULL;
	mem_deref(ct);
}

static void ct_k_h(void *arg)
{
	ct_terminate(arg);
}

/* The one final answer: peer's final response, local 408 or 503. */
static void ct_final(struct sst_ctrans *ct, int err, uint16_t scode,
		     const struct sip_msg *msg)
{
	sst_ctrans_resp_h *h = ct->resph;
	void *arg = ct->arg;

	ct->resph = NULL;
	sst_tmr_cancel(&ct->tmr);
	sst_tmr_cancel(&ct->tmrf);
	ct->mb = mem_deref(ct->mb);
	ct->sendarg = mem_deref(ct->sendarg);

	if (err || ct->reliable) {
		ct_terminate(ct);	/* ct may be gone from here */
	}
	else {
		ct->state = SST_TS_COMPLETED;
		if (sst_tmr_start(ct->stk->tmrq, &ct->tmr,
				  ct->stk->conf.t4, ct_k_h, ct))
			ct_terminate(ct);
	}

	if (h)
		h(err, scode, msg, arg);
}

static void ct_senderr_h(void *arg)
{
	struct sst_ctrans *ct = arg;

	++ct->stk->stats.tperrors;
	ct_final(ct, ct->senderr, 503, NULL);
}

static void ct_f_h(void *arg)
{
	struct sst_ctrans *ct = arg;

	++ct->stk->stats.timeouts;
	ct_final(ct, ETIMEDOUT, 408, NULL);
}

static void ct_e_h(void *arg)
{
	struct sst_ctrans *ct = arg;
	const struct sst_trans_conf *cf = &ct->stk->conf;
	uint64_t due;
	int err;

	/* In Proceeding the interval is T2, whatever it had grown to. */
	if (ct->state != SST_TS_TRYING)
		ct->ivl = cf->t2;
	due = ct->tmr.due + ct->ivl;

	++ct->stk->stats.retrans;
	err = tsend(ct->sendh, ct->sendarg, ct->mb, ct->pos);
	if (err) {
		++ct->stk->stats.tperrors;
		ct_final(ct, err, 503, NULL);
		return;
	}

	if (ct->state == SST_TS_TRYING)
		ct->ivl = min(2 * ct->ivl, cf->t2);

	/* E only ever precedes F, so a failure here leaves F in charge. */
	(void)sst_tmr_start_at(ct->stk->tmrq, &ct->tmr, due, ct_e_h, ct);
}

int sst_ctrans_start(struct sst_ctrans **ctp, struct sst_tstack *st,
		     const char *method, const char *branch,
		     struct mbuf *mb, bool reliable,
		     sst_trans_send_h *sendh, void *sendarg,
		     sst_ctrans_resp_h *resph, void *arg)
{
	struct sst_ctrans *ct;
	struct pl met, br;
	struct tkey k;
	uint64_t now;
	int err;

	if (!st || !method || !branch || !mb || !sendh || !resph)
		return EINVAL;

	pl_set_str(&met, method);
	pl_set_str(&br, branch);
	if (!met.l || !br.l || !mbuf_get_left(mb))
		return EINVAL;
	if (method_refused(met.p, met.l))
		return ENOTSUP;
	if (!has_cookie(br.p, br.l))
		return EPROTO;

	key_client(&k, &met, &br);
	if (k.over || k.len > UINT16_MAX)
		return EMSGSIZE;
	if (ct_find(st, &k))
		return EEXIST;

	ct = mem_zalloc(sizeof(*ct) + k.len, ct_destructor);
	if (!ct)
		return ENOMEM;

	memcpy(ct->key, k.buf, k.len);
	ct->klen = (uint16_t)k.len;
	ct->stk = st;
	ct->reliable = reliable;
	ct->sendh = sendh;
	ct->sendarg = mem_ref(sendarg);
	ct->resph = resph;
	ct->arg = arg;
	ct->pos = mb->pos;
	ct->ivl = st->conf.t1;
	ct->state = SST_TS_TRYING;
	hash_append(st->ct, key_hash(k.buf, k.len), &ct->he, ct);
	++st->stats.ct_created;
	++st->stats.ct_active;

	now = sst_tmrq_now(st->tmrq);
	err = sst_tmr_start_at(st->tmrq, &ct->tmrf,
			       now + 64 * (uint64_t)st->conf.t1, ct_f_h, ct);
	if (err)
		goto out;

	ct->senderr = tsend(sendh, sendarg, mb, ct->pos);
	if (ct->senderr) {
		/* Reported from the loop, never from inside this call. */
		err = sst_tmr_start_at(st->tmrq, &ct->tmr, now, ct_senderr_h,
				       ct);
		goto out;
	}

	if (!reliable) {
		ct->mb = mem_ref(mb);
		err = sst_tmr_start_at(st->tmrq, &ct->tmr, now + ct->ivl,
				       ct_e_h, ct);
		ct->ivl = min(2 * ct->ivl, st->conf.t2);
	}

 out:
	if (err) {
		ct->resph = NULL;
		ct_terminate(ct);
	}
	else if (ctp) {
		*ctp = ct;
	}

	return err;
}

void sst_ctrans_tperror(struct sst_ctrans *ct, int err)
{
	if (!ct || !ct->resph)
		return;

	++ct->stk->stats.tperrors;
	ct_final(ct, err ? err : EIO, 503, NULL);
}

void sst_ctrans_abandon(struct sst_ctrans *ct)
{
	if (ct)
		ct_terminate(ct);
}

int sst_tstack_recv_resp(struct sst_tstack *st, const struct sip_msg *msg)
{
	struct sst_ctrans *ct;
	struct tkey k;

	if (!st || !msg || msg->req)
		return EINVAL;

	key_client(&k, &msg->cseq.met, &msg->via.branch);
	ct = k.over ? NULL : ct_find(st, &k);
	if (!ct) {
		++st->stats.resp_unmatched;
		return ENOENT;
	}

	if (ct->state == SST_TS_COMPLETED) {
		++st->stats.resp_absorbed;
		return 0;
	}

	if (msg->scode < 200) {
		ct->state = SST_TS_PROCEEDING;
		if (ct->resph)
			ct->resph(0, msg->scode, msg, ct->arg);
		return 0;
	}

	ct_final(ct, 0, msg->scode, msg);

	return 0;
}

/* ---- server ---- */

static void st_destructor(void *data)
{
	struct sst_strans *stx = data;

	sst_tmr_cancel(&stx->tmr);
	hash_unlink(&stx->he);
	if (stx->stk)
		--stx->stk->stats.st_active;
	mem_deref(stx->mb);
	mem_deref(stx->sendarg);
}

static void st_terminate(struct sst_strans *stx)
{
	if (stx->state == SST_TS_TERMINATED)
		return;

	stx->state = SST_TS_TERMINATED;
	mem_deref(stx);
}

static void st_j_h(void *arg)
{
	st_terminate(arg);
}

int sst_tstack_recv_req(struct sst_tstack *st, struct sst_strans **stp,
			const struct sip_msg *msg, bool reliable,
			sst_trans_send_h *sendh, void *sendarg)
{
	struct sst_strans *stx;
	struct tkey k;

	if (!st || !stp || !msg || !msg->req || !sendh)
		return EINVAL;
	if (!msg->met.l)
		return EINVAL;
	if (method_refused(msg->met.p, msg->met.l))
		return ENOTSUP;

	key_server(&k, msg);
	if (k.over || k.len > UINT16_MAX)
		return EMSGSIZE;

	stx = st_find(st, &k);
	if (stx) {
		++st->stats.req_absorbed;

		if (stx->state == SST_TS_TERMINATED)
			return EALREADY;

		if (stx->rlen) {
			/* finished: to where this copy came from */
			struct mbuf *mb = mbuf_alloc(stx->rlen);

			if (mb && !mbuf_write_mem(mb, (uint8_t *)stx->key +
						  stx->klen, stx->rlen)) {
				++st->stats.resp_resent;
				(void)tsend(sendh, sendarg, mb, 0);
			}
			mem_deref(mb);
		}
		else if (stx->mb) {
			++st->stats.resp_resent;
			(void)tsend(stx->sendh, stx->sendarg, stx->mb,
				    stx->pos);
		}

		return EALREADY;
	}

	stx = mem_zalloc(sizeof(*stx) + k.len, st_destructor);
	if (!stx)
		return ENOMEM;

	memcpy(stx->key, k.buf, k.len);
	stx->klen = (uint16_t)k.len;
	stx->stk = st;
	stx->reliable = reliable;
	stx->sendh = sendh;
	stx->sendarg = mem_ref(sendarg);
	stx->state = SST_TS_TRYING;
	hash_append(st->st, key_hash(k.buf, k.len), &stx->he, stx);
	++st->stats.st_created;
	++st->stats.st_active;

	*stp = stx;

	return 0;
}

/* Move a finished unreliable transaction into its compact form: key
 * and response bytes only.  On ENOMEM the original stays, with a
 * reference on its response. */
static struct sst_strans *st_finish(struct sst_strans *stx, struct mbuf *mb)
{
	const size_t len = mb->end > stx->pos ? mb->end - stx->pos : 0;
	struct sst_strans *done;

	if (!len || len > UINT32_MAX)
		goto keep;

	done = mem_zalloc(sizeof(*done) + stx->klen + len, st_destructor);
	if (!done)
		goto keep;

	memcpy(done->key, stx->key, stx->klen);
	memcpy(done->key + stx->klen, mb->buf + stx->pos, len);
	done->klen = stx->klen;
	done->rlen = (uint32_t)len;
	done->stk = stx->stk;
	done->sendh = stx->sendh;
	hash_append(stx->stk->st, key_hash(done->key, done->klen), &done->he,
		    done);
	++stx->stk->stats.st_active;

	stx->state = SST_TS_TERMINATED;
	mem_deref(stx);  /* unlinks it, drops its response and context */

	return done;

 keep:
	mem_deref(stx->mb);
	stx->mb = mem_ref(mb);
	return stx;
}

int sst_strans_reply(struct sst_strans *stx, uint16_t scode,
		     struct mbuf *mb)
{
	struct sst_tstack *st;
	int err;

	if (!stx || !mb || scode < 100 || scode > 699)
		return EINVAL;
	if (stx->state >= SST_TS_COMPLETED)
		return EPROTO;

	st = stx->stk;
	stx->pos = mb->pos;
	err = tsend(stx->sendh, stx->sendarg, mb, stx->pos);

	if (scode < 200) {
		if (!stx->reliable) {
			struct mbuf *old = stx->mb;

			stx->mb = mem_ref(mb);
			mem_deref(old);
		}
		stx->state = SST_TS_PROCEEDING;
		return err;
	}

	if (!stx->reliable)
		stx = st_finish(stx, mb);

	stx->state = SST_TS_COMPLETED;
	if (stx->reliable ||
	    sst_tmr_start(st->tmrq, &stx->tmr, 64 * (uint64_t)st->conf.t1,
			  st_j_h, stx))
		st_terminate(stx);

	return err;
}

void sst_strans_abandon(struct sst_strans *stx)
{
	if (stx)
		st_terminate(stx);
}

/* ---- stack ---- */

static void stack_destructor(void *data)
{
	struct sst_tstack *st = data;

	/* hash_flush() drops the stack's reference on each transaction. */
	hash_flush(st->ct);
	hash_flush(st->st);
	mem_deref(st->ct);
	mem_deref(st->st);
	mem_deref(st->tmrq);
}

int sst_tstack_alloc(struct sst_tstack **stp,
		     const struct sst_trans_conf *conf,
		     struct sst_tmrq *tmrq)
{
	struct sst_tstack *st;
	int err;

	if (!stp)
		return EINVAL;

	st = mem_zalloc(sizeof(*st), stack_destructor);
	if (!st)
		return ENOMEM;

	if (conf)
		st->conf = *conf;
	if (!st->conf.t1)
		st->conf.t1 = SST_TRANS_T1;
	if (!st->conf.t2)
		st->conf.t2 = SST_TRANS_T2;
	if (!st->conf.t4)
		st->conf.t4 = SST_TRANS_T4;
	if (!st->conf.hashsize)
		st->conf.hashsize = SST_TRANS_HASHSIZE;
	if (st->conf.t2 < st->conf.t1) {
		err = EINVAL;
		goto out;
	}

	if (tmrq)
		st->tmrq = mem_ref(tmrq);
	else if ((err = sst_tmrq_alloc(&st->tmrq, NULL, NULL)))
		goto out;

	err = hash_alloc(&st->ct, st->conf.hashsize);
	if (err)
		goto out;
	err = hash_alloc(&st->st, st->conf.hashsize);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}

void sst_tstack_stats(const struct sst_tstack *st,
		      struct sst_trans_stats *stats)
{
	if (st && stats)
		*stats = st->stats;
}

struct sst_tmrq *sst_tstack_tmrq(const struct sst_tstack *st)
{
	return st ? st->tmrq : NULL;
}
