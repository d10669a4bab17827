/*
 * dmn_trace.c -- the Trace record: every SIP message in and out, to a
 * file, with credentials masked.
 *
 * One record per message:
 *
 *	=== 2026-11-21T07:29:46.484Z in udp 127.0.0.20:5060 -> 127.0.0.10:5060 711 bytes
 *	MESSAGE sip:bob@acme.test SIP/2.0
 *	...headers...
 *	(body: 321 bytes)		level 1
 *	...body...			level 2
 *
 * Level 1 (the default) writes start line and headers and only the size
 * of the body: instant messages are people's words, and a trace left on
 * for debugging should not keep them.  Level 2 writes bodies too.  The
 * values of Authorization and Proxy-Authorization are always masked
 * (dmn_mask_value), so a trace never holds a digest response.  Control
 * characters other than CR LF TAB are written as \xNN, so a peer cannot
 * forge a record separator.
 *
 * The file is created mode 0600 and opened for appending; reopening it
 * (dmn_trace_open again after a reload) lets an administrator rotate it.
 * Writes are buffered and flushed once per message: tracing costs a
 * write() per message and is meant for diagnosis, not for the hot path
 * of a loaded server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

struct dmn_trace {
	FILE *f;
	unsigned level;
	uint64_t records;
	uint64_t errors;
	bool scoped;              /* dmn_trace_scope() was given a scope */
	char **domains;
	size_t ndomains;
	char *user;
};

static void scope_free(struct dmn_trace *tr)
{
	size_t i;

	for (i = 0; i < tr->ndomains; i++)
		mem_deref(tr->domains[i]);
	tr->domains = mem_deref(tr->domains);
	tr->ndomains = 0;
	tr->user = mem_deref(tr->user);
	tr->scoped = false;
}

static void destructor(void *arg)
{
	struct dmn_trace *tr = arg;

	if (tr->f)
		fclose(tr->f);
	scope_free(tr);
}

int dmn_trace_scope(struct dmn_trace *tr, const char *const *domains,
		    size_t n, const char *user)
{
	size_t i;
	int err = 0;

	if (!tr)
		return EINVAL;
	scope_free(tr);
	if (!n && !user)
		return 0;
	tr->scoped = true;
	if (user)
		err = str_dup(&tr->user, user);
	if (!err && n) {
		tr->domains = mem_zalloc(n * sizeof(*tr->domains), NULL);
		if (!tr->domains)
			err = ENOMEM;
		for (i = 0; !err && i < n; i++) {
			err = str_dup(&tr->domains[i], domains[i]);
			if (!err)
				tr->ndomains = i + 1;
		}
	}
	return err;
}

int dmn_trace_open(struct dmn_trace **trp, const char *path, unsigned level)
{
	struct dmn_trace *tr;
	int fd, err = 0;

	if (!trp || !path || !*path)
		return EINVAL;

	tr = mem_zalloc(sizeof(*tr), destructor);
	if (!tr)
		return ENOMEM;
	tr->level = level ? level : 1;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	tr->f = fdopen(fd, "a");
	if (!tr->f) {
		err = errno;
		close(fd);
		goto out;
	}

 out:
	if (err)
		mem_deref(tr);
	else
		*trp = tr;
	return err;
}

/* Write p..p+len escaped: CR, LF and TAB as they are, other control
 * bytes and DEL as \xNN. */
static void put_escaped(FILE *f, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			continue;  /* records use LF only */
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* One header line, its value masked when it carries credentials. */
static void put_header(FILE *f, const char *p, size_t len)
{
	const char *colon = memchr(p, ':', len);
	size_t nlen;

	if (!colon) {
		put_escaped(f, p, len);
		fputc('\n', f);
		return;
	}

	nlen = (size_t)(colon - p);
	while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--;

	if (dmn_secret_header(p, nlen)) {
		const char *v = colon + 1;
		size_t vlen = len - (size_t)(v - p);
		char masked[128];
		size_t mlen;

		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		mlen = dmn_mask_value(masked, sizeof(masked), v, vlen);
		put_escaped(f, p, nlen);
		fputs(": ", f);
		put_escaped(f, masked, mlen);
		fputc('\n', f);
		return;
	}

	put_escaped(f, p, len);
	fputc('\n', f);
}

static void put_stamp(FILE *f)
{
	struct timeval tv;
	struct tm tm;
	char buf[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03ldZ", buf, (long)(tv.tv_usec / 1000));
}

void dmn_trace_msg(struct dmn_trace *tr, bool in, const char *tp,
		   const struct sa *peer, const struct sa *local,
		   const uint8_t *p, size_t len)
{
	const char *s = (const char *)p;
	const char *end = s + len;
	const char *body = NULL;
	char from[64] = "-", to[64] = "-";

	if (!tr || !tr->f || !p)
		return;
	if (tr->scoped &&
	    !dmn_trace_in_scope((const char *const *)tr->domains,
				tr->ndomains, tr->user, p, len))
		return;

	if (peer)
		re_snprintf(in ? from : to, sizeof(from), "%J", peer);
	if (local)
		re_snprintf(in ? to : from, sizeof(to), "%J", local);

	fputs("=== ", tr->f);
	put_stamp(tr->f);
	fprintf(tr->f, " %s %s %s -> %s %zu bytes\n", in ? "in" : "out",
		tp ? tp : "-", from, to, len);

	/* Head: one line at a time, up to the blank line. */
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t l = (size_t)(eol - s);

		if (l && s[l - 1] == '\r')
			l--;
		if (l == 0) {
			body = nl ? nl + 1 : end;
			break;
		}
		put_header(tr->f, s, l);
		s = nl ? nl + 1 : end;
	}

	if (body && body < end) {
		size_t blen = (size_t)(end - body);

		fputc('\n', tr->f);
		if (tr->level >= 2) {
			put_escaped(tr->f, body, blen);
			if (end[-1] != '\n')
				fputc('\n', tr->f);
		}
		else {
			fprintf(tr->f, "(body: %zu bytes)\n", blen);
		}
	}

	if (fflush(tr->f) != 0)
		tr->errors++;
	else
		tr->records++;
}

uint64_t dmn_trace_records(const struct dmn_trace *tr)
{
	return tr ? tr->records : 0;
}

uint64_t dmn_trace_errors(const struct dmn_trace *tr)
{
	return tr ? tr->errors : 0;
}

void dmn_trace_reopen(struct dmn_trace **trp, bool enable, const char *path,
		      unsigned level, char *errbuf, size_t errsz)
{
	int err;

	if (!trp)
		return;
	*trp = mem_deref(*trp);
	if (errbuf && errsz)
		errbuf[0] = '\0';
	if (!enable || !path)
		return;

	err = dmn_trace_open(trp, path, level);
	if (err) {
		if (errbuf && errsz)
			snprintf(errbuf, errsz, "%s: %s", path, strerror(err));
		dmn_log_code(DMN_LOG_ERR, err, "trace: open-failed file=%s",
			     path);
	}
}

void dmn_trace_tap(bool in, const char *tpname, const struct sa *peer,
		   const struct sa *local, const uint8_t *p, size_t len,
		   void *arg)
{
	struct dmn_trace **trp = arg;

	if (trp && *trp)
		dmn_trace_msg(*trp, in, tpname, peer, local, p, len);
}

void dmn_trace_status(struct dmn_st *root, const struct dmn_trace *tr,
		      bool enable, const char *path, unsigned level,
		      const char *err)
{
	struct dmn_st *o = dmn_st_section(root, "trace");

	dmn_st_bool(o, "enabled", enable);
	if (!enable)
		return;
	dmn_st_str(o, "file", path ? path : "");
	dmn_st_int(o, "level", level ? level : 1);
	dmn_st_int(o, "records", (int64_t)dmn_trace_records(tr));
	dmn_st_str(o, "error", err && err[0] ? err : "none");
}
