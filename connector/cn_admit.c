/*
 * cn_admit.c -- connection admission for the proxy core: the
 * descriptor budget, the inbound connection cap, and what is counted,
 * logged and shown when the cap is reached.
 *
 * The budget (sst_budget_calc) comes from the descriptor limit the
 * daemon got at start-up (the soft RLIMIT_NOFILE raised to the hard
 * one): a fixed reserve for the process's own sockets -- the control
 * socket among them, so that `stconnector status` answers however
 * many peers connect --, a reserve for the connections we open to
 * gateways and external communities, and the inbound cap, which
 * CommunityConnector maxConnections may lower but never raise.
 *
 * A connection that carried a request from a configured gateway, or
 * from a community's proxy that passed the trust check, is marked
 * trusted (cn_proxy.c).  At the cap the transport closes the oldest
 * connection never trusted, or refuses the new one when every
 * connection is trusted; both are counted here as conn-limit, per
 * source for the noisiest, and logged (rate-limited).
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_transp.h"
#include "connector/cn.h"
#include "connector/cn_proxy.h"
#include "connector/cn_px.h"

/* Remember one more for ip among the noisiest sources: its own slot,
 * a free one, or the smallest one's (which it inherits and passes by
 * one), so that a steady flood always surfaces. */
static void noisy_note(struct px_admit *a, const struct sa *ip)
{
	struct px_noisy *min = NULL;
	size_t i;

	for (i = 0; i < CN_PX_NOISY_MAX; i++) {
		struct px_noisy *e = &a->noisy[i];

		if (e->n && sa_cmp(&e->ip, ip, SA_ADDR)) {
			e->n++;
			return;
		}
		if (!e->n) {
			e->ip = *ip;
			sa_set_port(&e->ip, 0);
			e->n = 1;
			return;
		}
		if (!min || e->n < min->n)
			min = e;
	}

	min->ip = *ip;
	sa_set_port(&min->ip, 0);
	min->n++;
}

static void admit_handler(enum sst_admit ev, enum sst_tp kind,
			  const struct sa *peer, void *arg)
{
	struct cn_px *px = arg;
	struct px_admit *a = &px->admit;
	struct sst_admission s;
	char src[CN_ADDR_MAX];

	if (ev == SST_ADMIT_EVICTED)
		a->evicted++;
	else
		a->refused++;
	noisy_note(a, peer);

	sst_transp_admission(px->tp, &s);
	re_snprintf(src, sizeof(src), "%j", peer);
	cn_count_reject(px->cn, NULL, CN_R_CONN_LIMIT, src,
			"%s transport=%s inbound=%u/%u untrusted=%u",
			sst_admit_name(ev), sst_tp_name(kind), s.in,
			s.max_in, s.untrusted);
}

/**
 * Fill the transport's connection caps from the descriptor budget and
 * the record's maxConnections.  ENOSPC (logged) when the descriptor
 * limit leaves no room for inbound connections.
 */
int px_admit_conf(struct cn_px *px, struct sst_transp_conf *conf)
{
	struct px_admit *a = &px->admit;
	int err;

	a->configured = px->cn->self->max_conns;
	err = sst_budget_calc(&a->budget, sst_fd_limit(), a->configured);
	if (err == ENOSPC) {
		dmn_log_code(DMN_LOG_ERR, err, "cn: admission fds=%u "
			     "reserve=%u (raise the descriptor limit, "
			     "ulimit -n / LimitNOFILE)", a->budget.fds,
			     a->budget.fixed + a->budget.out);
		return err;
	}
	if (err == ERANGE)
		dmn_log_warnx("cn: admission maxConnections=%u above "
			      "budget=%u fds=%u: the cap is %u (raise the "
			      "descriptor limit for more)", a->configured,
			      a->budget.allowed, a->budget.fds, a->budget.in);

	conf->max_conns = a->budget.conns;
	conf->max_in = a->budget.in;
	return 0;
}

/** Once the transport exists: hear its refusals, log the budget. */
void px_admit_start(struct cn_px *px)
{
	const struct sst_budget *b = &px->admit.budget;

	sst_transp_admit(px->tp, admit_handler, px);
	dmn_log_info("cn: admission fds=%u reserve=%u outbound_reserve=%u "
		     "max_connections=%u", b->fds, b->fixed, b->out, b->in);
}

/** The admission section of `stconnector status`. */
void px_admit_status(const struct cn_px *px, struct dmn_st *root)
{
	const struct px_admit *a = &px->admit;
	const struct px_noisy *sorted[CN_PX_NOISY_MAX];
	struct sst_admission s;
	struct dmn_st *o, *l;
	size_t i, j, n = 0;

	sst_transp_admission(px->tp, &s);
	o = dmn_st_section(root, "admission");
	dmn_st_int(o, "fd_limit", a->budget.fds);
	dmn_st_int(o, "reserve", a->budget.fixed);
	dmn_st_int(o, "outbound_reserve", a->budget.out);
	dmn_st_int(o, "max_connections", s.max_in);
	dmn_st_int(o, "max_connections_configured", a->configured);
	dmn_st_int(o, "connections", s.conns);
	dmn_st_int(o, "inbound", s.in);
	dmn_st_int(o, "untrusted", s.untrusted);
	dmn_st_int(o, "refused", (int64_t)a->refused);
	dmn_st_int(o, "evicted", (int64_t)a->evicted);

	for (i = 0; i < CN_PX_NOISY_MAX; i++) {
		if (!a->noisy[i].n)
			continue;
		for (j = n; j > 0 && sorted[j - 1]->n < a->noisy[i].n; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = &a->noisy[i];
		n++;
	}

	l = dmn_st_list(o, "noisiest");
	for (i = 0; i < n; i++) {
		struct dmn_st *it = dmn_st_item(l);
		char src[CN_ADDR_MAX];

		re_snprintf(src, sizeof(src), "%j", &sorted[i]->ip);
		dmn_st_str(it, "source", src);
		dmn_st_int(it, "conn_limit", (int64_t)sorted[i]->n);
	}
}
