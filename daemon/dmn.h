/*
 * dmn.h -- daemon plumbing shared by stconnector and stgateway.
 *
 * Owns: logging (syslog, or stderr in the foreground), the PID file,
 *	dropping root after binding, signal delivery into the libre loop,
 *	the UNIX control socket (server and client) with its command table,
 *	and the status tree printed for people or as JSON.
 * Not here: SIP, configuration, directory.  Uses libre and libc only.
 * Memory: every object below is a libre mem object; mem_deref() it to
 *	close (its destructor removes files it created, stops listening).
 * Threads: everything runs on the thread that runs re_main().
 *
 * Start-up order for a daemon:
 *	dmn_log_open() -> dmn_pidfile_open() -> bind listeners and
 *	dmn_ctl_listen() -> dmn_priv_drop() -> dmn_sig_alloc() ->
 *	re_main(NULL).  re_main must get NULL: a non-NULL handler makes
 *	libre install its own SIGINT/SIGTERM handlers over ours.
 */
#ifndef STC_DMN_H
#define STC_DMN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct sa;

struct re_printf;
struct pl;

/* ------------------------------------------------------------------ */
/* Logging (dmn_log.c)
 *
 * One line per event: "module: event key=value key=value", written by
 * the caller as a printf format, e.g.
 *	dmn_log_info("ctl: listening path=%s", path);
 * Every string argument (%s, %.*s) is escaped on the way out: a value
 * that is empty or holds a space, '"', '=', '\\', a control character
 * or a byte >= 0x7f is written in double quotes with \" \\ \n \r \t
 * and \xNN escapes, so a peer string can never start a new line or
 * fake a key.  Numbers are formatted as printf does.  Lines longer
 * than DMN_LOG_LINE_MAX are cut and end in "...".
 *
 * dmn_log_warn/_err append " error=<strerror(errno)>" (OpenSMTPD's
 * log_warn); the _x forms do not.  dmn_log_code() takes the errno
 * value explicitly, for the int error returns used everywhere else.
 * All log functions preserve errno.
 */
enum { DMN_LOG_LINE_MAX = 1024 };

enum dmn_log_level {
	DMN_LOG_DEBUG = 0,
	DMN_LOG_INFO,
	DMN_LOG_WARN,
	DMN_LOG_ERR,
};

/* Where finished lines go instead of syslog/stderr (tests, traces). */
typedef void (dmn_log_sink_h)(enum dmn_log_level lvl, const char *line,
			      void *arg);

/*
 * Start logging as ident: to syslog (LOG_DAEMON, LOG_PID) unless
 * foreground, then to stderr as "TIMESTAMP LEVEL line".  Lines below
 * min are dropped.  Also routes libre's own diagnostics (dbg_*) into
 * this log as "re: diag text=...", rate-limited.  Safe to call again.
 */
void dmn_log_open(const char *ident, bool foreground,
		  enum dmn_log_level min);
void dmn_log_close(void);
void dmn_log_level_set(enum dmn_log_level min);
/* NULL restores syslog/stderr output. */
void dmn_log_sink_set(dmn_log_sink_h *sinkh, void *arg);
/* Where lines go now, for people: "stderr", "syslog (daemon facility,
 * ident stconnector)". */
const char *dmn_log_dest(char *buf, size_t sz);
enum dmn_log_level dmn_log_level_get(void);
/* "error", "warning" (or "warn"), "info", "debug": 0, or EINVAL. */
int  dmn_log_level_parse(const char *word, enum dmn_log_level *lvlp);
const char *dmn_log_level_name(enum dmn_log_level lvl);
/* Error lines are also written to fd, one per line (the background
 * start's pipe to the waiting parent, dmn_detach.c); -1 stops it. */
void dmn_log_tee_set(int fd);

#define DMN_PRINTF(a, b) __attribute__((format(printf, a, b)))

void dmn_log(enum dmn_log_level lvl, const char *fmt, ...) DMN_PRINTF(2, 3);
void dmn_vlog(enum dmn_log_level lvl, int err, const char *fmt,
	      va_list ap) DMN_PRINTF(3, 0);
void dmn_log_code(enum dmn_log_level lvl, int err, const char *fmt, ...)
	DMN_PRINTF(3, 4);
void dmn_log_debug(const char *fmt, ...) DMN_PRINTF(1, 2);
void dmn_log_info(const char *fmt, ...) DMN_PRINTF(1, 2);
void dmn_log_warn(const char *fmt, ...) DMN_PRINTF(1, 2);
void dmn_log_warnx(const char *fmt, ...) DMN_PRINTF(1, 2);
void dmn_log_err(const char *fmt, ...) DMN_PRINTF(1, 2);
void dmn_log_errx(const char *fmt, ...) DMN_PRINTF(1, 2);

/*
 * Format one line exactly as the logger would (escaping included) into
 * buf; err != 0 appends error=...  Returns the line length.
 */
size_t dmn_log_format(char *buf, size_t size, int err, const char *fmt,
		      ...) DMN_PRINTF(4, 5);

/*
 * Rate limit for per-peer events: a token bucket per call site holding
 * at most burst tokens, refilled at burst tokens per interval_ms.  A
 * line costs one token; without one it is counted, not written.  The
 * next line that gets a token is preceded by one line
 * "module: event suppressed=K" (module and event are the first two
 * words of the format).  Declare one static bucket per call site:
 *	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
 *	dmn_log_rl(&rl, DMN_LOG_INFO, "cn: rejected peer=%s", peer);
 */
struct dmn_ratelim {
	unsigned burst;
	unsigned interval_ms;
	uint64_t tokens_milli;	/* tokens * 1000, for fractional refill */
	uint64_t last_ms;
	unsigned suppressed;
	bool started;
	char what[64];		/* "module: event" of the last line */
};

#define DMN_RATELIM_INIT(n, ms) { .burst = (n), .interval_ms = (ms) }

/*
 * The bucket alone, time given by the caller: true if a line may be
 * written at now_ms.  *reportp gets the number of lines suppressed
 * since the last allowed one (0 if none); the caller reports it.
 */
bool dmn_ratelim_take(struct dmn_ratelim *rl, uint64_t now_ms,
		      unsigned *reportp);
void dmn_log_rl(struct dmn_ratelim *rl, enum dmn_log_level lvl,
		const char *fmt, ...) DMN_PRINTF(3, 4);
/* Write the pending "suppressed=K" line now, if any (shutdown, timer). */
void dmn_ratelim_flush(struct dmn_ratelim *rl, enum dmn_log_level lvl);

/*
 * Secrets never reach a log or trace.  dmn_secret_header() is true for
 * header names whose values are credentials (Authorization,
 * Proxy-Authorization; case-insensitive).  dmn_mask_value() writes the
 * value with everything after the scheme word replaced, e.g.
 * "Digest username=..." -> "Digest ***", into buf (always
 * NUL-terminated); returns the length written.
 */
bool dmn_secret_header(const char *name, size_t len);
size_t dmn_mask_value(char *buf, size_t size, const char *val, size_t len);

/* ------------------------------------------------------------------ */
/* PID file (dmn_pidfile.c)
 *
 * The file is opened (created 0644 if missing) and flock()ed
 * exclusively for the life of the object; the lock, not the file's
 * existence, says "running", so a file left by a dead process is
 * taken over.  Open it after any fork: the PID written is getpid().
 */
struct dmn_pidfile;

/*
 * Returns 0, or EEXIST when a live process holds the lock: *holderp
 * (if given) gets that process's PID from the file (0 if unreadable)
 * and a line "pidfile: already running pid=N path=P" is logged.
 * Other errno values for I/O failures (also logged).
 * mem_deref() removes the file and releases the lock.
 */
int dmn_pidfile_open(struct dmn_pidfile **pfp, const char *path,
		     pid_t *holderp);

/* ------------------------------------------------------------------ */
/* Privilege drop (dmn_priv.c)
 *
 * Call after binding every privileged socket and reading the keys.
 *  - root, user given: setgroups(1, gid), setresgid, setresuid, then
 *    verify real/effective/saved uid and gid equal the target, the
 *    group list is only gid, and setuid(0)/setgid(0) fail.  Any step
 *    failing returns EPERM: the daemon must exit, never run as root.
 *  - root, no user: 0, with a warning that the daemon keeps root.
 *  - not root, no user (or user == current uid): 0, info line.
 *  - not root, another user: EPERM (cannot switch without root).
 *  - unknown user: ENOENT; user "root" or uid 0: EINVAL.
 * Every refusal is logged with the reason.
 */
int dmn_priv_drop(const char *user);

/* ------------------------------------------------------------------ */
/* Signals (dmn_sig.c)
 *
 * SIGHUP, SIGTERM and SIGINT are caught by a handler that only writes
 * the signal number to a non-blocking self-pipe; the pipe's read end is
 * registered with fd_listen(), so handlers run inside the libre loop
 * where any work is safe.  SIGPIPE is ignored (control socket writes
 * then fail with EPIPE instead).  One instance per process.
 */
typedef void (dmn_sig_h)(int sig, void *arg);

struct dmn_sig;

/* reloadh gets SIGHUP, stoph SIGTERM/SIGINT.  EALREADY if one exists. */
int dmn_sig_alloc(struct dmn_sig **sigp, dmn_sig_h *reloadh,
		  dmn_sig_h *stoph, void *arg);

/* ------------------------------------------------------------------ */
/* Control socket (dmn_ctl.c server, dmn_ctlc.c client)
 *
 * Protocol: the client connects to the UNIX stream socket and sends one
 * line of at most DMN_CTL_LINE_MAX bytes including the '\n':
 * words separated by blanks, no control characters ("status --json",
 * "reset chicago").  The server answers with text lines, then a last
 * line ".exit N" (N in 0..255, chosen by the command), and closes.
 * Answer lines that begin with '.' are sent with one more '.' in
 * front (SMTP dot-stuffing) so that ".exit" cannot be forged by
 * output; the client removes it.  The client's program exits with N.
 *
 * Exit statuses (DMN_EXIT_*): 0 ok, 1 degraded (commands choose it),
 * 2 usage (unknown command, bad arguments, line too long or malformed),
 * 3 not running, 4 permission denied, 5 no usable answer (timeout,
 * protocol error, too many clients, I/O error).
 */
enum {
	DMN_CTL_LINE_MAX = 512,		/* request line incl. '\n' */
	DMN_CTL_ARGS_MAX = 16,		/* words per request */
	DMN_CTL_CLIENTS_MAX = 16,	/* simultaneous control clients */
	DMN_CTL_OUT_MAX = 1 << 20,	/* answer bytes per request */
	DMN_CTL_IDLE_MS = 10000,	/* time to send the request line */
};

enum {
	DMN_EXIT_OK = 0,
	DMN_EXIT_DEGRADED = 1,
	DMN_EXIT_USAGE = 2,
	DMN_EXIT_NOTRUNNING = 3,
	DMN_EXIT_DENIED = 4,
	DMN_EXIT_FAIL = 5,
};

/* Who may run a command: anyone who can open the socket, or only root
 * and the daemon's own (effective) uid. */
enum dmn_ctl_priv {
	DMN_CTL_ANY = 0,
	DMN_CTL_OWNER,
};

/* The peer, from SO_PEERCRED. */
struct dmn_ctl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * A command handler prints its answer with re_hprintf(pf, ...) and
 * returns the exit status the client will exit with (DMN_EXIT_*).
 * argv[0] is the command name; strings live until the handler returns.
 */
typedef int (dmn_ctl_h)(struct re_printf *pf, int argc, char *argv[],
			const struct dmn_ctl_peer *peer, void *arg);

/* One row of the command table. */
struct dmn_ctl_cmd {
	const char *name;	/* first word of the request */
	const char *usage;	/* arguments, e.g. "[--json]", or NULL */
	const char *help;	/* one line */
	enum dmn_ctl_priv priv;
	dmn_ctl_h *h;
};

struct dmn_ctl;

/*
 * Listen on path with mode 0600 (umask around bind).  An existing
 * socket file is replaced only if nobody answers on it (EADDRINUSE if
 * a daemon does); a path that exists and is not a socket: EEXIST.
 * cmdv[cmdc] is the command table, kept by pointer (make it static);
 * a built-in "help" lists it.  arg goes to every handler.
 * ENAMETOOLONG if path does not fit sun_path.
 */
int dmn_ctl_listen(struct dmn_ctl **ctlp, const char *path,
		   const struct dmn_ctl_cmd *cmdv, size_t cmdc, void *arg);
/* Clients connected right now. */
unsigned dmn_ctl_clients(const struct dmn_ctl *ctl);
/*
 * The "log LEVEL" command both daemons list (DMN_CTL_OWNER): lines
 * below LEVEL are dropped from now on; the answer says the level and
 * the one before ("log level: debug (was info)"), and a log line
 * "log: level-changed from=... to=..." records it.
 */
struct dmn_ctl_peer;
int dmn_ctl_log(struct re_printf *pf, int argc, char *argv[],
		const struct dmn_ctl_peer *peer, void *arg);
/*
 * Before the privilege drop: give the socket at path to user (uid and,
 * unless group is given, the user's primary group) and/or group, mode
 * 0660, so that the daemon's user and the group's members (monitoring)
 * can connect after root is gone.  Nothing to do when both are NULL.
 * Commands marked DMN_CTL_OWNER stay for root and the daemon's uid.
 * ENOENT for an unknown user or group; errno of chown/chmod.
 */
int dmn_ctl_share(const char *path, const char *user, const char *group);

/*
 * Client: send line (no '\n'; one is added) to the daemon at path and
 * copy the answer to out, waiting at most timeout_ms in total.
 * Returns 0 and *statusp = the daemon's exit status, or
 *	ENOTCONN   not running (no socket file, or connection refused)
 *	EACCES     the socket exists but we may not connect
 *	ETIMEDOUT  no complete answer in time
 *	EPROTO     answer without a valid ".exit N" line
 *	EMSGSIZE   line too long; EINVAL bad line (control characters)
 *	other      errno of a failed system call
 */
int dmn_ctl_request(const char *path, const char *line, FILE *out,
		    unsigned timeout_ms, int *statusp);
/* The CLI's exit code for dmn_ctl_request's result. */
int dmn_ctl_exit_code(int err, int status);

/* ------------------------------------------------------------------ */
/* Status tree (dmn_status.c)
 *
 * An ordered tree of objects.  Objects hold scalar pairs (string,
 * integer, boolean, duration), nested objects (sections) and lists of
 * objects, printed in insertion order.  Adders never fail loudly:
 * errors (ENOMEM, EINVAL) stick to the tree and the printers return
 * the first one, so builders check once at the end.  Adding to a NULL
 * object is a no-op (the error was already recorded).
 *
 * For people (dmn_st_print), in the style of Redis INFO:
 *	top-level scalars first as "key: value" lines, then each
 *	top-level section as "# name" heading; nested objects as "key:"
 *	with their contents indented two spaces; list items start with
 *	"- "; values of one object are aligned; booleans "yes"/"no";
 *	durations "1d 2h 3m 4s" (under a second "250ms"); an empty list
 *	is "key: (none)"; control characters in strings print as \xNN.
 * As JSON (dmn_st_json): one line, RFC 8259: objects, arrays, strings
 *	with '"' '\\' and every control character escaped, valid UTF-8
 *	passed through (invalid bytes become U+FFFD), integers and
 *	durations (in seconds, with milliseconds as a fraction) as
 *	numbers, decimals (dmn_st_milli) as numbers with up to three
 *	fraction digits, booleans as true/false.
 */
struct dmn_st;

/* A new empty root object. */
int dmn_st_alloc(struct dmn_st **stp);
/* Nested object / list of objects / new object appended to a list. */
struct dmn_st *dmn_st_section(struct dmn_st *obj, const char *key);
struct dmn_st *dmn_st_list(struct dmn_st *obj, const char *key);
struct dmn_st *dmn_st_item(struct dmn_st *list);

int dmn_st_str(struct dmn_st *obj, const char *key, const char *val);
int dmn_st_strn(struct dmn_st *obj, const char *key, const char *p,
		size_t len);
int dmn_st_int(struct dmn_st *obj, const char *key, int64_t val);
int dmn_st_bool(struct dmn_st *obj, const char *key, bool val);
int dmn_st_dur(struct dmn_st *obj, const char *key, uint64_t ms);
/* A decimal number given in thousandths (a rate: 4900 is "4.9"); JSON
 * and metrics get the same number. */
int dmn_st_milli(struct dmn_st *obj, const char *key, int64_t milli);
/* A list of words: "key: a, b" ("(none)" when empty) for people, a JSON
 * array of strings for machines. */
/* Append word to the ", "-separated list in buf (size sz, NUL-ended),
 * cut at sz: the reload answer's "pending restart: ..." list. */
void dmn_words_add(char *buf, size_t sz, const char *word);
int dmn_st_words(struct dmn_st *obj, const char *key,
		 const char *const *v, size_t n);

/*
 * `status SECTION...`: keep the top-level scalars (who, health) and only
 * the top-level sections and lists named in keys; ENOENT (with *badp
 * the first key that names none) leaves the tree whole.
 * dmn_st_sections prints the names there are, ", "-separated.
 */
int dmn_st_pick(struct dmn_st *st, const char *const *keys, size_t n,
		const char **badp);
int dmn_st_sections(struct re_printf *pf, const struct dmn_st *st);
/*
 * The one-screen summary of a status tree: sumh builds it as a tree of
 * its own (short "key: text" lines, nested objects for one line per
 * item) from st and arg; it prints with dmn_st_print_brief.
 */
typedef int (dmn_st_sum_h)(struct dmn_st **sump, const struct dmn_st *st,
			   void *arg);
/*
 * A status command's answer from its words (argv[0] is "status"):
 * no word: the summary sumh builds (the whole tree if sumh is NULL);
 * --all: the whole tree; SECTION names: those parts (dmn_st_pick);
 * --json: the whole tree (or the SECTIONs) as JSON, never the summary.
 * DMN_EXIT_OK once printed, DMN_EXIT_USAGE for an unknown option or
 * section (the answer lists the sections), DMN_EXIT_FAIL.
 */
int dmn_st_answer(struct re_printf *pf, struct dmn_st *st, int argc,
		  char *argv[], dmn_st_sum_h *sumh, void *arg);

/*
 * Reading a tree back, for summaries.  path is dotted ("config.file",
 * "totals.rejections"); a missing node is NULL, "" or 0.  dmn_st_geti
 * gives integers, booleans as 0/1 and durations in ms (path NULL: obj
 * itself's).  dmn_st_next
 * walks a list's items (item NULL: the first) or an object's members.
 * dmn_st_key is a member's key (NULL for a list item).
 */
const struct dmn_st *dmn_st_get(const struct dmn_st *obj, const char *path);
const char *dmn_st_gets(const struct dmn_st *obj, const char *path);
int64_t dmn_st_geti(const struct dmn_st *obj, const char *path);
const struct dmn_st *dmn_st_next(const struct dmn_st *obj,
				 const struct dmn_st *item);
const char *dmn_st_key(const struct dmn_st *st);
bool dmn_st_isint(const struct dmn_st *st);
/* A value as people read it (re_printf_h, arg a const struct dmn_st *):
 * "5s", "yes", the string. */
int dmn_st_pvalue(struct re_printf *pf, void *arg);
/* obj.key = printf text (libre's re_printf conversions). */
int dmn_st_strf(struct dmn_st *obj, const char *key, const char *fmt, ...);
/* Every member in insertion order, nested objects as "key:" with their
 * members indented, values aligned per object: the summary layout. */
int dmn_st_print_brief(struct re_printf *pf, const struct dmn_st *st);
/*
 * Summary lines both daemons print alike:
 * dmn_sum_refused: key = "none", or "TOTAL: REASON N, REASON N, REASON N
 *	(+K more reasons)", the largest first, from n (name, count) pairs.
 * dmn_sum_where: "log" (where lines go and the level), "trace" (off, or
 *	the file and its records or error, from st's "trace" section),
 *	"metrics" (http://ADDR/metrics, or off).
 * dmn_sum_more: "more" = how to see the rest: --all and st's sections.
 */
void dmn_sum_refused(struct dmn_st *sum, const char *key,
		     const char *const *names, const int64_t *counts,
		     size_t n);
void dmn_sum_where(struct dmn_st *sum, const struct dmn_st *st,
		   const char *metrics);
void dmn_sum_more(struct dmn_st *sum, const struct dmn_st *st);

/*
 * The tree in the Prometheus text exposition format (version 0.0.4):
 * every integer, boolean (0/1) and duration (seconds) becomes a gauge
 * named prefix_PATH (sections and lists joined by '_', other characters
 * '_'); a list item's identifying strings become labels (name as the
 * list's singular: community, gateway; transport, address, aor, ...;
 * else index), a "rejections" section one metric labelled by reason.
 * Strings are not exported.  Samples of one name are printed together
 * under one TYPE line.
 */
int dmn_st_metrics(struct re_printf *pf, const struct dmn_st *st,
		   const char *prefix);

/* The first error recorded while building (0 if none). */
int dmn_st_err(const struct dmn_st *st);
int dmn_st_print(struct re_printf *pf, const struct dmn_st *st);
int dmn_st_json(struct re_printf *pf, const struct dmn_st *st);
/* One JSON string (quotes included) of len bytes, as dmn_st_json writes
 * them: RFC 8259 escapes, each byte that is not valid UTF-8 as U+FFFD.
 * dmn_json_pl takes a struct pl, for "%H". */
int dmn_json_str(struct re_printf *pf, const char *str, size_t len);
int dmn_json_pl(struct re_printf *pf, const struct pl *pl);

/* ------------------------------------------------------------------ */
/* Metrics (dmn_metrics.c)
 *
 * An HTTP listener at addr ("ip:port", "[v6]:port") answering GET
 * /metrics with the tree buildh makes for each scrape, in Prometheus
 * text format under prefix (dmn_st_metrics).  mem_deref() stops it.
 */
typedef int (dmn_metrics_build_h)(struct dmn_st **stp, void *arg);
struct dmn_metrics;
int dmn_metrics_listen(struct dmn_metrics **mp, const char *addr,
		       const char *prefix, dmn_metrics_build_h *buildh,
		       void *arg);

/* ------------------------------------------------------------------ */
/* Background start (dmn_detach.c)
 *
 * dmn_detach(prog): fork; the parent waits for the child's start-up
 * result and exits with it; the child calls setsid(), chdir("/"),
 * points stdio at /dev/null and gets the pipe's write end back (-1 on
 * failure, after a message on stderr).  Until the result is sent, the
 * child's error log lines also go through the pipe (dmn_log_tee_set),
 * and the parent prints them on its stderr as "PROG: LINE": an
 * administrator at the terminal sees why a background start failed,
 * not only "see the system log".  The result is a NUL byte and the
 * status byte after those lines.  dmn_detach_report(&fd, DMN_EXIT_*)
 * sends it, once; later calls are no-ops.  Open the PID file after
 * dmn_detach().
 */
int  dmn_detach(const char *prog);
void dmn_detach_report(int *fdp, int status);

/* ------------------------------------------------------------------ */
/* Trace (dmn_trace.c)
 *
 * The Trace record's file: every SIP message in and out, one record
 * each ("=== TIME in|out TRANSPORT FROM -> TO N bytes", then the
 * message).  Authorization and Proxy-Authorization values are always
 * masked.  Level 1 writes the body's size only (messages are people's
 * words), level 2 the body too.  The file is created 0600.
 */
struct dmn_trace;

int  dmn_trace_open(struct dmn_trace **trp, const char *path,
		    unsigned level);
void dmn_trace_msg(struct dmn_trace *tr, bool in, const char *tp,
		   const struct sa *peer, const struct sa *local,
		   const uint8_t *p, size_t len);
uint64_t dmn_trace_records(const struct dmn_trace *tr);
/*
 * Scope a trace (after each open): only messages whose From, To or
 * Request-URI is in one of domains (exact or "*." pattern), or is the
 * address user ("user@host", "sip:" optional), are written.  n 0 and
 * user NULL: every message.  dmn_trace_in_scope (dmn_trace_scope.c) is
 * the test on one raw message.
 */
int  dmn_trace_scope(struct dmn_trace *tr, const char *const *domains,
		     size_t n, const char *user);
bool dmn_trace_in_scope(const char *const *domains, size_t n,
			const char *user, const uint8_t *p, size_t len);

/*
 * The daemons' use of it, one piece for both.  dmn_trace_reopen closes
 * *trp and, when enable is set, opens path again (start-up and every
 * reload, so the file can be rotated); a failure is logged and its
 * reason left in errbuf ("" otherwise): traffic goes on untraced.
 * dmn_trace_tap has the shape of the transport's tap (sst_tap_h) with
 * arg = the struct dmn_trace ** it writes through.  dmn_trace_status
 * adds a "trace" section to a status tree.
 */
struct dmn_st;
void dmn_trace_reopen(struct dmn_trace **trp, bool enable, const char *path,
		      unsigned level, char *errbuf, size_t errsz);
void dmn_trace_tap(bool in, const char *tpname, const struct sa *peer,
		   const struct sa *local, const uint8_t *p, size_t len,
		   void *arg);
void dmn_trace_status(struct dmn_st *root, const struct dmn_trace *tr,
		      bool enable, const char *path, unsigned level,
		      const char *err);
uint64_t dmn_trace_errors(const struct dmn_trace *tr);

/* ------------------------------------------------------------------ */
/* A daemon's life (dmn_run.c)
 *
 * dmn_run_main() runs `PROG [-c FILE] [-n NAME] [-f]` from the command
 * line to the exit status: load and pick the record (ops->load), refuse
 * when the PID file is held ("PROG: already running (pid N, FILE)"),
 * detach unless -f, start libre, set the fd limit, open the log, take
 * the PID file, build the context (ops->alloc), open the control socket
 * (ops->cmdv), ops->start, drop root, catch signals, run the loop; then
 * ops->stop and free everything.  Returns 0 after a clean stop,
 * DMN_RUN_FAIL when start-up failed, DMN_EXIT_USAGE for bad arguments.
 * Log lines are "MOD: start failed step=...", "MOD: stopped KIND=NAME",
 * "MOD: reload requested-by=signal signal=N".
 */
enum { DMN_RUN_FAIL = 1 };

/* The record's settings the sequence needs; strings live in the
 * loaded configuration (NULL when unset). */
struct dmn_run_self {
	const char *name;
	const char *pidfile;
	const char *control;
	const char *user;
	const char *group;	/* controlGroup: may use the socket */
	const char *metrics;	/* metrics: "ip:port" of /metrics, or NULL */
};

struct dmn_run_ops {
	const char *prog;	/* "stconnector": stderr, syslog ident */
	const char *mod;	/* "cn": first word of log lines */
	const char *kind;	/* "connector": key naming the record */
	const char *start_step;	/* step= when ops->start fails */
	const char *defpath;	/* FILE without -c */
	unsigned fd_max;
	/* Raise the fd limit to max; NULL: libre's fd_setsize(). */
	int  (*fd_init)(unsigned max);
	/* Load path, pick the record named name (or the only one), print
	 * every problem on stderr: 0 with *cfgp and *self, or an exit
	 * status. */
	int  (*load)(void **cfgp, struct dmn_run_self *self,
		     const char *path, const char *name);
	void (*cfg_free)(void *cfg);
	/* Build the context (a mem object) from cfg, which it takes in
	 * every case; a failure may leave its reason in why. */
	int  (*alloc)(void **ctxp, void *cfg, const char *name,
		      const char *path, char *why, size_t whysz,
		      const void *arg);
	/* Optional: bind the listeners; stop runs at shutdown if it ran. */
	int  (*start)(void *ctx);
	void (*stop)(void *ctx);
	void (*reload)(void *ctx);	/* SIGHUP */
	void (*started)(void *ctx, const char *path);	/* the "started" line */
	const struct dmn_ctl_cmd *cmdv;	/* control commands, arg = ctx */
	size_t cmdc;
	/* The status tree of ctx, for the metrics endpoint (optional). */
	int  (*status)(struct dmn_st **stp, void *ctx);
	const void *arg;		/* given to ops->alloc */
};

int dmn_run_main(int argc, char **argv, const struct dmn_run_ops *ops);

/* ------------------------------------------------------------------ */
/* Command line (dmn_cli.c)
 *
 * dmn_cli_main: `PROG --version`, `PROG --help` (usage on stdout, exit
 * 0), `PROG SUBCOMMAND ...` (the row's run gets the words after it),
 * `PROG [-...]` (cli->daemon), anything else "PROG: unknown command"
 * and the usage on stderr, exit DMN_EXIT_USAGE.
 */
struct dmn_cli_cmd {
	const char *name;
	int (*run)(const char *name, int argc, char **argv);
	const char *usage;	/* "status [--json] [-c FILE] ..." */
	const char *help;	/* one line */
};

struct dmn_cli {
	const char *prog;	/* "stconnector" */
	const char *version;
	const char *kind;	/* "connector", in the usage text */
	const char *record;	/* "CommunityConnector" */
	const char *defpath;	/* FILE without -c */
	const struct dmn_cli_cmd *cmdv;
	size_t cmdc;
	int (*daemon)(int argc, char **argv, const void *arg);
	const void *arg;	/* for daemon */
};

int dmn_cli_main(const struct dmn_cli *cli, int argc, char **argv);

/*
 * dmn_cli_ctl: `PROG CMD [WORD] [-c FILE] [-n NAME] [-s SOCKET]`: check
 * the words against the daemon's table row for CMD, find the socket
 * (-s, or c->find in FILE), send the line, copy the answer to stdout,
 * say on stderr when the daemon does not answer ("PROG: not running
 * (no answer on SOCK)"), and return the exit status (DMN_EXIT_*).
 * find returns 0 with the path in buf or an exit status, having said
 * why on stderr; hold is set for "reload", whose answer carries the
 * file's problems, so find may keep them back; done then learns
 * whether the daemon answered.
 */
enum { DMN_CLI_SOCK_MAX = 1024 };

struct dmn_cli_ctl {
	const char *prog;
	const char *defpath;
	const struct dmn_ctl_cmd *cmdv;	/* the daemon's own table */
	size_t cmdc;
	unsigned timeout_ms;
	int  (*find)(char *buf, size_t size, const char *path,
		     const char *name, bool hold, void *arg);
	void (*done)(bool answered, void *arg);	/* optional */
	void *arg;
};

int dmn_cli_ctl(const struct dmn_cli_ctl *c, const char *cmd, int argc,
		char **argv);

#endif
