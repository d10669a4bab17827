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
 * lines, counted and logged.  syslog gets each line as one datagram
 * on the local socket (CN_AUDIT_SYSLOG_PATH, /dev/log), in the format
 * the C library's syslog() writes (RFC 3164: "<PRI>Mmm dd hh:mm:ss
 * stconnector[PID]: LINE") with the configured facility (local0..7),
 * priority info; but sent non-blocking, where syslog() would wait for
 * a syslog daemon that stopped reading: a full socket drops the line
 * (counted), a socket that refuses it (no daemon) is an error
 * (counted, and the socket opened again at most once a second).  The
 * file and the socket are (re)opened at start and on every reload, so
 * that logrotate can move the file away and then reload the connector
 * (conf/stconnector-audit.logrotate); the counters survive reloads.
 * Status shows them (cn_audit_status).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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
	CN_AUDIT_RECONNECT_MS = 1000,
};

static const char CN_AUDIT_SYSLOG_PATH[] = "/dev/log";

/* What status shows; kept across reloads. */
struct audit_counts {
	uint64_t lines;         /* events recorded */
	uint64_t file_lines;    /* lines written to the file */
	uint64_t file_dropped;  /* lost: the buffer was full */
	uint64_t file_errors;   /* write() failures */
	uint64_t syslog_sent;
	uint64_t syslog_dropped; /* the socket was full */
	uint64_t syslog_errors; /* no socket, or it refused the line */
};

struct cn_audit {
	int fd;                 /* -1: no file */
	int facility;           /* -1: no syslog */
	int sock;               /* the syslog socket, -1: none (yet) */
	uint64_t sock_tried;    /* tmr_jiffies() of the last connect */
	bool bodies;
	struct mbuf *buf;
	struct tmr tmr;
	struct audit_counts n;
};

static void audit_flush(struct cn_audit *a)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);

	while (a->fd >= 0 && a->buf->end > 0) {
		ssize_t n = write(a->fd, a->buf->buf, a->buf->end);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				a->n.file_errors++;
				dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit write "
					   "failed: %m");
			}
			return;
		}
		{
			const uint8_t *p = a->buf->buf, *e = p + n;

			while ((p = memchr(p, '\n', (size_t)(e - p)))) {
				a->n.file_lines++;
				p++;
			}
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
	if (a->sock >= 0)
		(void)close(a->sock);
	mem_deref(a->buf);
}

/* The syslog socket, connected; false (counted) when there is none. */
static bool syslog_connect(struct cn_audit *a)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);
	struct sockaddr_un ua;
	const uint64_t now = tmr_jiffies();

	if (a->sock >= 0)
		return true;
	if (a->sock_tried && now - a->sock_tried < CN_AUDIT_RECONNECT_MS)
		return false;
	a->sock_tried = now;
	memset(&ua, 0, sizeof(ua));
	ua.sun_family = AF_UNIX;
	str_ncpy(ua.sun_path, CN_AUDIT_SYSLOG_PATH, sizeof(ua.sun_path));
	a->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (a->sock >= 0 &&
	    connect(a->sock, (struct sockaddr *)&ua, sizeof(ua)) == 0)
		return true;
	dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit syslog %s: %m",
		   CN_AUDIT_SYSLOG_PATH);
	if (a->sock >= 0)
		(void)close(a->sock);
	a->sock = -1;
	return false;
}

/* One line to syslog, as syslog(3) would write it, never waiting. */
static void syslog_send(struct cn_audit *a, const struct mbuf *line)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);
	struct mbuf *mb;
	struct tm tm;
	time_t t = time(NULL);
	char stamp[32];

	if (!syslog_connect(a)) {
		a->n.syslog_errors++;
		return;
	}
	mb = mbuf_alloc(line->end + 64);
	if (!mb)
		return;
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	(void)mbuf_printf(mb, "<%d>%s stconnector[%d]: ",
			  LOG_MAKEPRI((16 + a->facility) << 3, LOG_INFO),
			  stamp, (int)getpid());
	(void)mbuf_write_mem(mb, line->buf, line->end);
	if (send(a->sock, mb->buf, mb->end, MSG_DONTWAIT | MSG_NOSIGNAL) >=
	    0) {
		a->n.syslog_sent++;
	}
	else if (errno == EAGAIN || errno == EWOULDBLOCK ||
		 errno == ENOBUFS) {
		a->n.syslog_dropped++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit syslog socket full, "
			   "line dropped (dropped=%llu)",
			   (unsigned long long)a->n.syslog_dropped);
	}
	else {
		a->n.syslog_errors++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit syslog send "
			   "failed: %m");
		(void)close(a->sock);	/* open it again for the next one */
		a->sock = -1;
	}
	mem_deref(mb);
}

void cn_audit_open(struct cn *cn)
{
	const struct cfg_audit *c = &cn->cfg->audit;
	struct audit_counts n;
	struct cn_audit *a;

	memset(&n, 0, sizeof(n));
	if (cn->audit)
		n = cn->audit->n;
	cn->audit = mem_deref(cn->audit);   /* flushes and closes */
	if (!c->enable)
		return;
	a = mem_zalloc(sizeof(*a), audit_destructor);
	if (!a)
		return;
	a->n = n;
	a->fd = -1;
	a->sock = -1;
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

/* A JSON string as the status tree writes them (valid UTF-8 always). */
static void put_str(struct mbuf *mb, const char *p, size_t l)
{
	const struct pl pl = {p, l};

	(void)mbuf_printf(mb, "%H", dmn_json_pl, &pl);
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
	a->n.lines++;
	if (a->facility >= 0)
		syslog_send(a, mb);
	if (a->fd >= 0) {
		if (a->buf->end + mb->end + 1 > CN_AUDIT_BUF_MAX) {
			a->n.file_dropped++;
			dmn_log_rl(&rl, DMN_LOG_WARN, "cn: audit buffer full, "
				   "line dropped (dropped=%llu)",
				   (unsigned long long)a->n.file_dropped);
			return;
		}
		a->buf->pos = a->buf->end;
		(void)mbuf_write_mem(a->buf, mb->buf, mb->end);
		(void)mbuf_write_u8(a->buf, '\n');
		if (a->buf->end >= CN_AUDIT_FLUSH_BYTES)
			audit_flush(a);
	}
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

/* audit: the record's settings and counters. */
void cn_audit_status(struct cn *cn, struct dmn_st *root)
{
	static const char *const fac[] = {
		"local0", "local1", "local2", "local3", "local4", "local5",
		"local6", "local7",
	};
	const struct cfg_audit *c = &cn->cfg->audit;
	const struct cn_audit *a = cn->audit;
	struct dmn_st *o = dmn_st_section(root, "audit");

	dmn_st_bool(o, "enabled", c->enable && a);
	dmn_st_str(o, "file", c->enable && c->file ? c->file : "");
	dmn_st_bool(o, "file_open", a && a->fd >= 0);
	dmn_st_str(o, "syslog_facility", c->enable && c->facility >= 0 &&
		   c->facility <= 7 ? fac[c->facility] : "none");
	dmn_st_bool(o, "bodies", c->enable && c->bodies);
	dmn_st_int(o, "lines", a ? (int64_t)a->n.lines : 0);
	dmn_st_int(o, "file_lines_written", a ? (int64_t)a->n.file_lines : 0);
	dmn_st_int(o, "file_pending_bytes", a ? (int64_t)a->buf->end : 0);
	dmn_st_int(o, "file_dropped", a ? (int64_t)a->n.file_dropped : 0);
	dmn_st_int(o, "file_write_errors", a ? (int64_t)a->n.file_errors :
		   0);
	dmn_st_int(o, "syslog_sent", a ? (int64_t)a->n.syslog_sent : 0);
	dmn_st_int(o, "syslog_dropped", a ? (int64_t)a->n.syslog_dropped :
		   0);
	dmn_st_int(o, "syslog_errors", a ? (int64_t)a->n.syslog_errors : 0);
}
