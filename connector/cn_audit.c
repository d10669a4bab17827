/*
 * cn_audit.c -- the Audit record: one JSON line per federated event.
 *
 * Written by the connector because it is the one place that sees every
 * federated request in both directions together with its final answer
 * (relayed from the far side, or made here: policy refusals, 503s), and
 * every link to an external community going up or down.  The gateway
 * would miss what the connector refuses.
 *
 * Events (the "event" member):
 *	message       a MESSAGE, "direction" in/out, with time, from, to,
 *	              community, size (body bytes), call_id, result (the
 *	              final status code) and reason (its phrase); "body"
 *	              only with bodies="true"
 *	subscription  "state" accepted (a new SUBSCRIBE answered 2xx),
 *	              refused (answered >= 300, reason the phrase), ended
 *	              (an un-SUBSCRIBE, Expires: 0, whatever its answer:
 *	              reason "unsubscribed"; or a NOTIFY with
 *	              Subscription-State: terminated, reason its reason=
 *	              parameter or "terminated")
 *	link          "state" up or down for an external community, with
 *	              the link's last error as reason
 * Other requests (OPTIONS keepalives, NOTIFYs of a running
 * subscription, refreshes) are not audited.
 *
 * Never blocking the loop: lines go to a memory buffer that a timer
 * writes out every CN_AUDIT_FLUSH_MS (or as soon as it holds
 * CN_AUDIT_FLUSH_BYTES); the file is opened O_APPEND | O_NONBLOCK.  A
 * buffer that reaches CN_AUDIT_BUF_MAX (the disk is gone) drops further
 * lines, counted and logged.  syslog goes through the C library with the
 * configured facility (LOG_LOCAL0..7), priority info.  The file is
 * (re)opened at start and on every reload, so that logrotate can move
 * it away and then reload the connector (conf/stconnector-audit.logrotate).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "connector/cn.h"
#include "connector/cn_audit.h"
#include "connector/cn_px.h"

enum {
	CN_AUDIT_FLUSH_MS    = 1000,
	CN_AUDIT_FLUSH_BYTES = 64 * 1024,
	CN_AUDIT_BUF_MAX     = 4 * 1024 * 1024,
	CN_AUDIT_BODY_MAX    = 64 * 1024,
};

struct cn_audit {
	int fd;                 /* -1: no file */
	int facility;           /* -1: no syslog */
	bool bodies;
	struct mbuf *buf;
	struct tmr tmr;
	uint64_t lines;
	uint64_t dropped;
};

static void audit_flush(struct cn_audit *a)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);

	while (a->fd >= 0 && a->buf->end > 0) {
		ssize_t n = write(a->fd, a->buf->buf, a->buf->end);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit write "
					   "failed: %m");
			return;
		}
		memmove(a->buf->buf, a->buf->buf + n, a->buf->end - (size_t)n);
		a->buf->end -= (size_t)n;
		a->buf->pos = a->buf->end;
	}
	if (a->fd < 0)
		mbuf_reset(a->buf);
}

static void flush_tick(void *arg)
{
	struct cn_audit *a = arg;

	audit_flush(a);
	tmr_start(&a->tmr, CN_AUDIT_FLUSH_MS, flush_tick, a);
}

static void audit_destructor(void *arg)
{
	struct cn_audit *a = arg;

	tmr_cancel(&a->tmr);
	audit_flush(a);
	if (a->fd >= 0)
		(void)close(a->fd);
	mem_deref(a->buf);
}

void cn_audit_open(struct cn *cn)
{
	const struct cfg_audit *c = &cn->cfg->audit;
	struct cn_audit *a;

	cn->audit = mem_deref(cn->audit);   /* flushes and closes */
	if (!c->enable)
		return;
	a = mem_zalloc(sizeof(*a), audit_destructor);
	if (!a)
		return;
	a->fd = -1;
	a->facility = c->facility >= 0 && c->facility <= 7 ? c->facility : -1;
	a->bodies = c->bodies;
	a->buf = mbuf_alloc(8192);
	if (!a->buf) {
		mem_deref(a);
		return;
	}
	if (c->file) {
		a->fd = open(c->file, O_WRONLY | O_APPEND | O_CREAT |
			     O_NONBLOCK | O_CLOEXEC, 0600);
		if (a->fd < 0)
			dmn_log_warn("cn: audit file %s: %m: file audit off",
				     c->file);
	}
	tmr_start(&a->tmr, CN_AUDIT_FLUSH_MS, flush_tick, a);
	cn->audit = a;
}

/* ---- JSON ---- */

static void put_str(struct mbuf *mb, const char *p, size_t l)
{
	size_t i;

	(void)mbuf_write_u8(mb, '"');
	for (i = 0; i < l; i++) {
		const unsigned char ch = (unsigned char)p[i];

		if (ch == '"' || ch == '\\')
			(void)mbuf_printf(mb, "\\%c", ch);
		else if (ch == '\n')
			(void)mbuf_write_str(mb, "\\n");
		else if (ch == '\r')
			(void)mbuf_write_str(mb, "\\r");
		else if (ch == '\t')
			(void)mbuf_write_str(mb, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			(void)mbuf_printf(mb, "\\u%04x", ch);
		else
			(void)mbuf_write_u8(mb, ch);
	}
	(void)mbuf_write_u8(mb, '"');
}

static void member(struct mbuf *mb, const char *name, const char *v)
{
	(void)mbuf_printf(mb, ",\"%s\":", name);
	if (v)
		put_str(mb, v, strlen(v));
	else
		(void)mbuf_write_str(mb, "null");
}

static void member_pl(struct mbuf *mb, const char *name, const struct pl *v)
{
	(void)mbuf_printf(mb, ",\"%s\":", name);
	if (pl_isset(v))
		put_str(mb, v->p, v->l);
	else
		(void)mbuf_write_str(mb, "null");
}

static void line_start(struct mbuf *mb, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)mbuf_printf(mb, "{\"time\":\"%s.%03ldZ\",\"event\":\"%s\"", t,
			  ts.tv_nsec / 1000000, event);
}

/* Queue one finished line (mb holds it, without the newline). */
static void line_end(struct cn_audit *a, struct mbuf *mb)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);

	(void)mbuf_write_str(mb, "}");
	if (a->facility >= 0)
		syslog(LOG_MAKEPRI((16 + a->facility) << 3, LOG_INFO), "%.*s",
		       (int)mb->end, (const char *)mb->buf);
	if (a->fd >= 0) {
		if (a->buf->end + mb->end + 1 > CN_AUDIT_BUF_MAX) {
			a->dropped++;
			dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit buffer full, "
				   "line dropped (dropped=%llu)",
				   (unsigned long long)a->dropped);
			return;
		}
		a->buf->pos = a->buf->end;
		(void)mbuf_write_mem(a->buf, mb->buf, mb->end);
		(void)mbuf_write_u8(a->buf, '\n');
		if (a->buf->end >= CN_AUDIT_FLUSH_BYTES)
			audit_flush(a);
	}
	a->lines++;
}

/* ---- events ---- */

static bool sub_terminated(const struct sip_msg *msg, struct pl *reason)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_SUBSCRIPTION_STATE);
	struct pl st;

	if (!h || re_regex(h->val.p, h->val.l, "[a-z]+", &st) ||
	    pl_strcasecmp(&st, "terminated"))
		return false;
	if (re_regex(h->val.p, h->val.l, "reason=[^;]+", reason))
		pl_set_str(reason, "terminated");
	return true;
}

void cn_audit_req(struct cn *cn, const struct px_req *r, uint16_t scode,
		  const struct pl *phrase)
{
	struct cn_audit *a = cn->audit;
	const struct sip_msg *msg;
	struct mbuf *mb;
	struct pl why = PL_INIT;
	const char *event, *state = NULL;
	uint32_t size;
	bool sub;

	if (!a || !r || !r->msg)
		return;
	msg = r->msg;
	sub = !pl_strcmp(&msg->met, "SUBSCRIBE");
	if (!pl_strcmp(&msg->met, "MESSAGE")) {
		event = "message";
	}
	else if (sub && !r->in_dialog) {
		event = "subscription";
		state = scode < 300 ? "accepted" : "refused";
	}
	else if (sub && r->in_dialog && msg->expires.l &&
		 pl_u32(&msg->expires) == 0) {
		event = "subscription";
		state = "ended";
		pl_set_str(&why, "unsubscribed");
	}
	else if (!pl_strcmp(&msg->met, "NOTIFY") && sub_terminated(msg, &why)) {
		event = "subscription";
		state = "ended";
	}
	else {
		return;
	}

	mb = mbuf_alloc(512);
	if (!mb)
		return;
	line_start(mb, event);
	member(mb, "direction", r->dir == CN_DIR_OUTBOUND ? "out" : "in");
	if (state)
		member(mb, "state", state);
	member(mb, "community", r->comm[0] ? r->comm : NULL);
	member_pl(mb, "from", &msg->from.auri);
	member_pl(mb, "to", &msg->to.auri);
	member_pl(mb, "call_id", &msg->callid);
	size = pl_isset(&msg->clen) ? pl_u32(&msg->clen) : 0;
	(void)mbuf_printf(mb, ",\"size\":%u,\"result\":%u", size,
			  (unsigned)scode);
	if (state && !strcmp(state, "ended"))
		member_pl(mb, "reason", &why);
	else
		member_pl(mb, "reason", phrase);
	if (a->bodies && !strcmp(event, "message")) {
		size_t l = min((size_t)size, mbuf_get_left(msg->mb));

		l = min(l, (size_t)CN_AUDIT_BODY_MAX);
		(void)mbuf_write_str(mb, ",\"body\":");
		put_str(mb, (const char *)mbuf_buf(msg->mb), l);
	}
	line_end(a, mb);
	mem_deref(mb);
}

void cn_audit_req_str(struct cn *cn, const struct px_req *r, uint16_t scode,
		      const char *phrase)
{
	struct pl pl = PL_INIT;

	if (!cn->audit)
		return;
	if (phrase)
		pl_set_str(&pl, phrase);
	cn_audit_req(cn, r, scode, &pl);
}

void cn_audit_link(struct cn *cn, const char *community, bool up,
		   const char *reason)
{
	struct cn_audit *a = cn->audit;
	struct mbuf *mb;

	if (!a)
		return;
	mb = mbuf_alloc(256);
	if (!mb)
		return;
	line_start(mb, "link");
	member(mb, "community", community);
	member(mb, "state", up ? "up" : "down");
	member(mb, "reason", reason && reason[0] ? reason : NULL);
	line_end(a, mb);
	mem_deref(mb);
}
