/*
 * dmn_log.c -- one-line key=value logging to syslog or stderr.
 *
 * The format string is trusted (it is ours); the arguments are not.
 * Every string argument is escaped here, so callers never have to
 * remember which value came from a peer.  See dmn.h for the rules.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <re.h>
#define DEBUG_MODULE "dmn"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

#include "dmn.h"

static struct {
	char ident[64];
	bool foreground;
	bool syslog_open;
	enum dmn_log_level min;
	dmn_log_sink_h *sinkh;
	void *sinkarg;
	int tee_fd;		/* start-up errors also go here, or -1 */
} lg = {"stconnector", true, false, DMN_LOG_INFO, NULL, NULL, -1};

static const char *level_name[] = {"debug", "info", "warning", "error"};

/* A bounded output buffer; overflow marks the line as cut. */
struct obuf {
	char *p;
	size_t size;	/* > 0; one byte kept for NUL */
	size_t len;
	bool cut;
};

static void ob_putc(struct obuf *ob, char c)
{
	if (ob->len + 1 >= ob->size) {
		ob->cut = true;
		return;
	}
	ob->p[ob->len++] = c;
}

static void ob_puts(struct obuf *ob, const char *s)
{
	while (*s)
		ob_putc(ob, *s++);
}

static bool needs_quote(const unsigned char *s, size_t len)
{
	size_t i;

	if (!len)
		return true;
	for (i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '=' || s[i] == '\\')
			return true;
	}
	return false;
}

/* A value as one token: bare if harmless, else quoted and escaped. */
static void ob_value(struct obuf *ob, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i;

	if (!needs_quote(s, len)) {
		for (i = 0; i < len; i++)
			ob_putc(ob, (char)s[i]);
		return;
	}

	ob_putc(ob, '"');
	for (i = 0; i < len; i++) {
		const unsigned char c = s[i];

		switch (c) {
		case '"':  ob_puts(ob, "\\\""); break;
		case '\\': ob_puts(ob, "\\\\"); break;
		case '\n': ob_puts(ob, "\\n"); break;
		case '\r': ob_puts(ob, "\\r"); break;
		case '\t': ob_puts(ob, "\\t"); break;
		default:
			if (c < ' ' || c >= 0x7f) {
				ob_putc(ob, '\\');
				ob_putc(ob, 'x');
				ob_putc(ob, hex[c >> 4]);
				ob_putc(ob, hex[c & 0xf]);
			}
			else {
				ob_putc(ob, (char)c);
			}
			break;
		}
	}
	ob_putc(ob, '"');
}

/*
 * printf with escaped strings.  Supports flags, width and precision
 * (also '*'), the length modifiers hh h l ll z j t L, and the
 * conversions d i u o x X c s p f F e E g G m %.  Format checking by
 * the compiler guarantees the argument types.
 */
static void ob_vformat(struct obuf *ob, int err, const char *fmt,
		       va_list ap)
{
	while (*fmt) {
		char spec[32];
		char tmp[128];
		size_t sl = 0;
		int prec = -1;
		char lenmod[3] = "";
		char conv;

		if (*fmt != '%') {
			ob_putc(ob, *fmt++);
			continue;
		}
		spec[sl++] = *fmt++;

		while (*fmt && strchr("-+ #0", *fmt) && sl < 8)
			spec[sl++] = *fmt++;
		if (*fmt == '*') {
			sl += (size_t)snprintf(spec + sl, 12, "%d",
					       va_arg(ap, int));
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9' && sl < 16)
			spec[sl++] = *fmt++;
		if (*fmt == '.') {
			spec[sl++] = *fmt++;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			else {
				prec = 0;
				while (*fmt >= '0' && *fmt <= '9') {
					if (prec < 100000)
						prec = prec * 10 + (*fmt - '0');
					fmt++;
				}
			}
			sl += (size_t)snprintf(spec + sl, 8, "%d",
					       prec < 0 ? 0 : min(prec, 999));
		}
		while (*fmt && strchr("hlzjtL", *fmt)) {
			if (strlen(lenmod) < 2) {
				lenmod[strlen(lenmod)] = *fmt;
				spec[sl++] = *fmt;
			}
			fmt++;
		}
		conv = *fmt;
		if (!conv)
			break;
		fmt++;
		spec[sl++] = conv;
		spec[sl] = '\0';
		tmp[0] = '\0';

		switch (conv) {

		case '%':
			ob_putc(ob, '%');
			continue;

		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			ob_value(ob, s, n);
			continue;
		}

		case 'c': {
			char c = (char)va_arg(ap, int);

			ob_value(ob, &c, 1);
			continue;
		}

		case 'm':
			ob_value(ob, strerror(err), strlen(strerror(err)));
			continue;

		case 'd':
		case 'i':
			if (!strcmp(lenmod, "l"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, long));
			else if (!strcmp(lenmod, "ll"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, long long));
			else if (!strcmp(lenmod, "z"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, ssize_t));
			else if (!strcmp(lenmod, "j"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, intmax_t));
			else if (!strcmp(lenmod, "t"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, ptrdiff_t));
			else
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, int));
			break;

		case 'u':
		case 'o':
		case 'x':
		case 'X':
			if (!strcmp(lenmod, "l"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, unsigned long));
			else if (!strcmp(lenmod, "ll"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, unsigned long long));
			else if (!strcmp(lenmod, "z"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, size_t));
			else if (!strcmp(lenmod, "j"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, uintmax_t));
			else if (!strcmp(lenmod, "t"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, ptrdiff_t));
			else
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, unsigned));
			break;

		case 'p':
			snprintf(tmp, sizeof(tmp), spec, va_arg(ap, void *));
			break;

		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
			if (!strcmp(lenmod, "L"))
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, long double));
			else
				snprintf(tmp, sizeof(tmp), spec,
					 va_arg(ap, double));
			break;

		default:
			/* unknown conversion: the arguments cannot be
			 * trusted any further */
			ob_puts(ob, "%?");
			return;
		}

		ob_puts(ob, tmp);
	}

	if (err) {
		ob_puts(ob, " error=");
		ob_value(ob, strerror(err), strlen(strerror(err)));
	}
}

/* Finish a line: cut marker, NUL, and no control character at all. */
static size_t ob_finish(struct obuf *ob)
{
	size_t i;

	if (ob->cut && ob->size > 4) {
		ob->len = min(ob->len, ob->size - 4);
		memcpy(ob->p + ob->len, "...", 3);
		ob->len += 3;
	}
	ob->p[ob->len] = '\0';

	for (i = 0; i < ob->len; i++) {
		if ((unsigned char)ob->p[i] < ' ' || ob->p[i] == 0x7f)
			ob->p[i] = '?';
	}
	return ob->len;
}

static size_t vformat(char *buf, size_t size, int err, const char *fmt,
		      va_list ap)
{
	struct obuf ob = {buf, size, 0, false};

	if (!buf || !size)
		return 0;
	ob_vformat(&ob, err, fmt ? fmt : "", ap);
	return ob_finish(&ob);
}

size_t dmn_log_format(char *buf, size_t size, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vformat(buf, size, err, fmt, ap);
	va_end(ap);
	return n;
}

static void emit(enum dmn_log_level lvl, const char *line)
{
	static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING,
				   LOG_ERR};
	struct timespec ts;
	struct tm tm;

	if (lg.tee_fd >= 0 && lvl >= DMN_LOG_ERR) {
		struct iovec iov[2];

		iov[0].iov_base = (void *)line;
		iov[0].iov_len = strlen(line);
		iov[1].iov_base = (void *)"\n";
		iov[1].iov_len = 1;
		if (writev(lg.tee_fd, iov, 2) < 0) {
			/* the waiting parent is gone: syslog still has it */
		}
	}
	if (lg.sinkh) {
		lg.sinkh(lvl, line, lg.sinkarg);
		return;
	}
	if (!lg.foreground && lg.syslog_open) {
		syslog(prio[lvl], "%s", line);
		return;
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		level_name[lvl], line);
}

void dmn_vlog(enum dmn_log_level lvl, int err, const char *fmt, va_list ap)
{
	char line[DMN_LOG_LINE_MAX];
	const int saved = errno;

	if (lvl > DMN_LOG_ERR)
		lvl = DMN_LOG_ERR;
	if (lvl < lg.min)
		return;

	vformat(line, sizeof(line), err, fmt, ap);
	emit(lvl, line);
	errno = saved;
}

#define LOGF(lvl, err)			\
	va_list ap;			\
	va_start(ap, fmt);		\
	dmn_vlog((lvl), (err), fmt, ap);\
	va_end(ap)

void dmn_log(enum dmn_log_level lvl, const char *fmt, ...)
{
	LOGF(lvl, 0);
}

void dmn_log_code(enum dmn_log_level lvl, int err, const char *fmt, ...)
{
	LOGF(lvl, err);
}

void dmn_log_debug(const char *fmt, ...) { LOGF(DMN_LOG_DEBUG, 0); }
void dmn_log_info(const char *fmt, ...) { LOGF(DMN_LOG_INFO, 0); }
void dmn_log_warnx(const char *fmt, ...) { LOGF(DMN_LOG_WARN, 0); }
void dmn_log_errx(const char *fmt, ...) { LOGF(DMN_LOG_ERR, 0); }

void dmn_log_warn(const char *fmt, ...)
{
	const int err = errno;

	LOGF(DMN_LOG_WARN, err);
}

void dmn_log_err(const char *fmt, ...)
{
	const int err = errno;

	LOGF(DMN_LOG_ERR, err);
}

/* ------------------------------------------------------------------ */
/* Rate limiting */

bool dmn_ratelim_take(struct dmn_ratelim *rl, uint64_t now_ms,
		      unsigned *reportp)
{
	const uint64_t full = (uint64_t)rl->burst * 1000;

	*reportp = 0;
	if (!rl->interval_ms)
		return true;

	if (!rl->started) {
		rl->started = true;
		rl->tokens_milli = full;
		rl->last_ms = now_ms;
	}
	else if (now_ms > rl->last_ms) {
		const uint64_t dt = min(now_ms - rl->last_ms,
					(uint64_t)rl->interval_ms);
		const uint64_t add = dt * full / rl->interval_ms;

		/* keep last_ms if nothing was earned, so that many
		 * short gaps still add up */
		if (add) {
			rl->tokens_milli = min(rl->tokens_milli + add, full);
			rl->last_ms = now_ms;
		}
	}

	if (rl->tokens_milli >= 1000) {
		rl->tokens_milli -= 1000;
		*reportp = rl->suppressed;
		rl->suppressed = 0;
		return true;
	}

	if (rl->suppressed < UINT32_MAX)
		rl->suppressed++;
	return false;
}

/* "module: event" of a format: its first two words, up to any '%'. */
static void rl_what(struct dmn_ratelim *rl, const char *fmt)
{
	size_t i, words = 0;

	for (i = 0; fmt[i] && i + 1 < sizeof(rl->what); i++) {
		if (fmt[i] == '%' || (unsigned char)fmt[i] < ' ')
			break;
		if (fmt[i] == ' ' && ++words == 2)
			break;
		rl->what[i] = fmt[i];
	}
	while (i > 0 && rl->what[i - 1] == ' ')
		i--;
	rl->what[i] = '\0';
}

static void rl_report(const struct dmn_ratelim *rl, enum dmn_log_level lvl,
		      unsigned n)
{
	char line[128];

	snprintf(line, sizeof(line), "%s suppressed=%u",
		 rl->what[0] ? rl->what : "log:", n);
	emit(lvl, line);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void dmn_log_rl(struct dmn_ratelim *rl, enum dmn_log_level lvl,
		const char *fmt, ...)
{
	const int saved = errno;
	unsigned report;
	va_list ap;

	if (!rl || !fmt || lvl < lg.min)
		return;

	if (!dmn_ratelim_take(rl, now_ms(), &report))
		return;

	if (report)
		rl_report(rl, lvl, report);
	rl_what(rl, fmt);

	va_start(ap, fmt);
	dmn_vlog(lvl, 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void dmn_ratelim_flush(struct dmn_ratelim *rl, enum dmn_log_level lvl)
{
	if (!rl || !rl->suppressed)
		return;
	if (lvl >= lg.min)
		rl_report(rl, lvl, rl->suppressed);
	rl->suppressed = 0;
}

/* ------------------------------------------------------------------ */
/* Secrets */

bool dmn_secret_header(const char *name, size_t len)
{
	static const char *secret[] = {
		"Authorization", "Proxy-Authorization",
	};
	size_t i;

	if (!name)
		return false;
	for (i = 0; i < ARRAY_SIZE(secret); i++) {
		if (strlen(secret[i]) == len &&
		    !strncasecmp(name, secret[i], len))
			return true;
	}
	return false;
}

size_t dmn_mask_value(char *buf, size_t size, const char *val, size_t len)
{
	struct obuf ob = {buf, size, 0, false};
	size_t i = 0, w;

	if (!buf || !size)
		return 0;
	if (!val)
		len = 0;

	while (i < len && (val[i] == ' ' || val[i] == '\t'))
		i++;
	w = i;
	while (w < len && (isalnum((unsigned char)val[w]) || val[w] == '-'))
		w++;

	/* a scheme word followed by blank and credentials */
	if (w > i && w < len && (val[w] == ' ' || val[w] == '\t')) {
		for (; i < w; i++)
			ob_putc(&ob, val[i]);
		ob_putc(&ob, ' ');
	}
	if (len)
		ob_puts(&ob, "***");

	buf[min(ob.len, size - 1)] = '\0';
	return ob.cut ? size - 1 : ob.len;
}

/* ------------------------------------------------------------------ */
/* Setup, and libre's diagnostics */

static void re_dbg_handler(int level, const char *p, size_t len, void *arg)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(20, 60000);
	enum dmn_log_level lvl;
	(void)arg;

	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (!len)
		return;

	if (level <= DBG_ERR)
		lvl = DMN_LOG_ERR;
	else if (level == DBG_WARNING)
		lvl = DMN_LOG_WARN;
	else if (level <= DBG_INFO)
		lvl = DMN_LOG_INFO;
	else
		lvl = DMN_LOG_DEBUG;

	dmn_log_rl(&rl, lvl, "re: diag text=%.*s",
		   (int)min(len, (size_t)INT_MAX), p);
}

void dmn_log_open(const char *ident, bool foreground,
		  enum dmn_log_level min)
{
	if (lg.syslog_open) {
		closelog();
		lg.syslog_open = false;
	}
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident ? ident : "stc");
	lg.foreground = foreground;
	lg.min = min;

	if (!foreground) {
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = true;
	}

	dbg_init(min == DMN_LOG_DEBUG ? DBG_DEBUG : DBG_NOTICE, DBG_NONE);
	dbg_handler_set(re_dbg_handler, NULL);
}

void dmn_log_close(void)
{
	dbg_handler_set(NULL, NULL);
	if (lg.syslog_open) {
		closelog();
		lg.syslog_open = false;
	}
	lg.foreground = true;
}

void dmn_log_level_set(enum dmn_log_level min)
{
	lg.min = min;
	dbg_init(min == DMN_LOG_DEBUG ? DBG_DEBUG : DBG_NOTICE, DBG_NONE);
}

enum dmn_log_level dmn_log_level_get(void)
{
	return lg.min;
}

int dmn_log_level_parse(const char *word, enum dmn_log_level *lvlp)
{
	static const char *const words[] = {"debug", "info", "warning",
					    "error"};
	size_t i;

	for (i = 0; word && i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcasecmp(word, words[i]) ||
		    (i == DMN_LOG_WARN && !strcasecmp(word, "warn")) ||
		    (i == DMN_LOG_ERR && !strcasecmp(word, "err"))) {
			*lvlp = (enum dmn_log_level)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *dmn_log_level_name(enum dmn_log_level lvl)
{
	return lvl <= DMN_LOG_ERR ? level_name[lvl] : "?";
}

int dmn_ctl_log(struct re_printf *pf, int argc, char *argv[],
		const struct dmn_ctl_peer *peer, void *arg)
{
	enum dmn_log_level was = lg.min, lvl;

	(void)peer;
	(void)arg;
	if (argc != 2 || dmn_log_level_parse(argv[1], &lvl)) {
		(void)re_hprintf(pf, "error: log: give one of error, warning, "
				 "info, debug (now: %s)\n", level_name[was]);
		return DMN_EXIT_USAGE;
	}
	dmn_log_level_set(lvl);
	dmn_log(lvl > DMN_LOG_INFO ? lvl : DMN_LOG_INFO,
		"log: level-changed from=%s to=%s", level_name[was],
		level_name[lvl]);
	(void)re_hprintf(pf, "log level: %s (was %s)\n", level_name[lvl],
			 level_name[was]);
	return DMN_EXIT_OK;
}

void dmn_log_tee_set(int fd)
{
	lg.tee_fd = fd;
}

void dmn_log_sink_set(dmn_log_sink_h *sinkh, void *arg)
{
	lg.sinkh = sinkh;
	lg.sinkarg = arg;
}

const char *dmn_log_dest(char *buf, size_t sz)
{
	char path[256];
	ssize_t n;

	if (!buf || !sz)
		return "";
	if (lg.sinkh) {
		snprintf(buf, sz, "a sink inside the program");
		return buf;
	}
	if (!lg.foreground && lg.syslog_open) {
		snprintf(buf, sz, "syslog (daemon facility, ident %s)",
			 lg.ident);
		return buf;
	}
	/* stderr: say which file it is, when it is one */
	n = readlink("/proc/self/fd/2", path, sizeof(path) - 1);
	if (n > 0 && path[0] == '/') {
		path[n] = '\0';
		snprintf(buf, sz, "stderr (%s)", path);
	}
	else if (getenv("JOURNAL_STREAM")) {
		snprintf(buf, sz, "stderr (the journal)");
	}
	else {
		snprintf(buf, sz, "stderr");
	}
	return buf;
}
