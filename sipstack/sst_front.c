/*
 * sst_front.c -- one receive path for both daemons (see sst_front.h).
 *
 * The order of the checks is the answer a peer sees: decoding first
 * (a message that cannot be read has no method), then responses, then
 * the methods this stack never holds a transaction for, then the
 * server transaction, which absorbs retransmissions before the daemon
 * sees them again.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_build.h"
#include "sipstack/sst_flow.h"
#include "sipstack/sst_front.h"
#include "sipstack/sst_trans.h"

static void report(const struct sst_front *f, enum sst_front_ev ev,
		   const struct sst_rx *rx, const struct sip_msg *msg,
		   enum sst_reason reason, uint16_t status, int err)
{
	struct sst_front_report rep;

	if (!f->reporth)
		return;
	rep.ev = ev;
	rep.reason = reason;
	rep.status = status;
	rep.err = err;
	rep.rx = rx;
	rep.msg = msg;
	f->reporth(&rep, f->arg);
}

/* An answer outside any transaction, back the way req came. */
static int answer(const struct sst_front *f, const struct sst_rx *rx,
		  const struct sip_msg *req, uint16_t scode,
		  const char *phrase, const char *hdrs)
{
	struct sst_extra x = {hdrs, NULL, NULL, 0};
	struct sst_flow fl;
	struct mbuf *mb = NULL;
	int err;

	err = sst_build_response(&mb, req, scode, phrase, NULL, rx->src,
				 hdrs ? &x : NULL);
	if (err)
		return err;
	sst_flow_borrow(&fl, f->tp, rx, req);
	err = sst_flow_respond(mb, &fl);
	mem_deref(mb);
	return err;
}

static void malformed(const struct sst_front *f, const struct sst_rx *rx,
		      const struct sst_verdict *v)
{
	uint16_t status = 0;

	if (v->reply && v->msg && v->status &&
	    !answer(f, rx, v->msg, v->status, v->phrase, NULL))
		status = v->status;
	if (rx->conn && !rx->oversize)
		sst_conn_garbage(rx->conn);
	report(f, SST_FRONT_MALFORMED, rx, v->msg, v->reason, status, 0);
}

/* ACK, INVITE, CANCEL: no transaction here (sst_trans.h); true when
 * msg was one of them and has been dealt with. */
static bool not_served(const struct sst_front *f, const struct sst_rx *rx,
		       const struct sip_msg *msg)
{
	uint16_t status;

	if (!pl_strcmp(&msg->met, "ACK")) {
		status = 0;
	}
	else if (!pl_strcmp(&msg->met, "INVITE")) {
		status = 501;
		if (answer(f, rx, msg, status, "Not Implemented", f->allow))
			status = 0;
	}
	else if (!pl_strcmp(&msg->met, "CANCEL")) {
		status = 481;
		if (answer(f, rx, msg, status, "Call/Transaction Does Not "
			   "Exist", NULL))
			status = 0;
	}
	else {
		return false;
	}
	report(f, SST_FRONT_NOT_SERVED, rx, msg, SST_R_OK, status, 0);
	return true;
}

static void request(const struct sst_front *f, const struct sst_rx *rx,
		    struct sip_msg *msg)
{
	struct sst_strans *stx = NULL;
	struct sst_flow *fl = NULL;
	uint16_t status = 0;
	int err;

	if (not_served(f, rx, msg))
		return;

	err = sst_flow_alloc(&fl, f->tp, rx, msg);
	if (!err)
		err = sst_tstack_recv_req(f->ts, &stx, msg,
					  rx->tp != SST_TP_UDP,
					  sst_flow_respond, fl);
	if (err == EALREADY) {
		report(f, SST_FRONT_RETRANS, rx, msg, SST_R_OK, 0, 0);
	}
	else if (err) {
		if (!answer(f, rx, msg, 500, "Server Internal Error", NULL))
			status = 500;
		report(f, SST_FRONT_NO_TRANS, rx, msg, SST_R_OK, status, err);
	}
	else if (f->reqh) {
		f->reqh(msg, stx, fl, f->arg);
	}
	else {
		sst_strans_abandon(stx);
	}
	mem_deref(fl);
}

void sst_front_recv(const struct sst_front *f, const struct sst_rx *rx,
		    struct mbuf *mb)
{
	struct sip_msg *msg = NULL;
	struct sst_verdict v;
	int err;

	if (!f || !rx || !rx->src || !mb)
		return;

	/* over the size limit on a stream: only the header block came,
	 * to answer 513 before the transport closes the connection */
	if (rx->oversize)
		err = sst_msg_decode_head(mb, f->lim, &v);
	else
		err = sst_msg_decode(&msg, mb, rx->tp != SST_TP_UDP, f->lim,
				     &v);
	if (err) {
		if (err != ENODATA)
			malformed(f, rx, &v);
		sst_verdict_reset(&v);
		return;
	}
	sst_verdict_reset(&v);

	if (f->msgh)
		f->msgh(msg, rx, f->arg);

	if (!msg->req) {
		if (sst_tstack_recv_resp(f->ts, msg) == ENOENT)
			report(f, SST_FRONT_RESP_UNMATCHED, rx, msg, SST_R_OK,
			       0, 0);
	}
	else {
		request(f, rx, msg);
	}
	mem_deref(msg);
}

const char *sst_front_ev_name(enum sst_front_ev ev)
{
	switch (ev) {
	case SST_FRONT_MALFORMED:      return "malformed";
	case SST_FRONT_RETRANS:        return "retransmission";
	case SST_FRONT_NOT_SERVED:     return "not-served";
	case SST_FRONT_NO_TRANS:       return "no-transaction";
	case SST_FRONT_RESP_UNMATCHED: return "unmatched-response";
	default:                       return "?";
	}
}
