/*
 * dmn_ctl.c -- the control socket: one request line in, an answer and
 * ".exit N" out, without ever blocking the loop.
 *
 * SECURITY: the socket is created 0600 by whoever binds it (root, before
 * dropping privileges), so the file system already keeps others out;
 * the command table's privilege column is checked again against the
 * peer's SO_PEERCRED uid.  Requests are bounded (DMN_CTL_LINE_MAX,
 * DMN_CTL_ARGS_MAX), answers too (DMN_CTL_OUT_MAX), so are clients at
 * once (DMN_CTL_CLIENTS_MAX) and the time each may hold a slot
 * (DMN_CTL_IDLE_MS).  Refusals are answered, logged rate-limited, and
 * the connection is closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

struct dmn_ctl {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
	const struct dmn_ctl_cmd *cmdv;
	size_t cmdc;
	void *arg;
	struct list conns;
};

struct ctl_conn {
	struct le le;
	struct dmn_ctl *ctl;	/* owner; no reference */
	int fd;
	struct dmn_ctl_peer peer;
	char in[DMN_CTL_LINE_MAX];
	size_t inlen;
	struct mbuf *out;	/* answer; NULL while reading */
	bool outfull;		/* handler output hit DMN_CTL_OUT_MAX */
	struct tmr tmr;
};

static struct dmn_ratelim rl_refuse = DMN_RATELIM_INIT(10, 60000);

static void conn_destructor(void *arg)
{
	struct ctl_conn *c = arg;

	tmr_cancel(&c->tmr);
	list_unlink(&c->le);
	if (c->fd >= 0) {
		fd_close(c->fd);
		(void)close(c->fd);
	}
	mem_deref(c->out);
}

static void ctl_destructor(void *arg)
{
	struct dmn_ctl *ctl = arg;
	struct stat st;

	list_flush(&ctl->conns);
	if (ctl->fd >= 0) {
		fd_close(ctl->fd);
		(void)close(ctl->fd);
		/* remove the socket only if it is still ours; after a
		 * privilege drop the directory may not let us */
		if (ctl->path && lstat(ctl->path, &st) == 0 &&
		    st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
		    unlink(ctl->path) != 0)
			dmn_log_debug("ctl: cannot remove path=%s error=%s",
				      ctl->path, strerror(errno));
	}
	mem_deref(ctl->path);
}

/* ------------------------------------------------------------------ */
/* Answer */

static int out_vph(const char *p, size_t size, void *arg)
{
	struct ctl_conn *c = arg;

	if (c->outfull)
		return 0;
	if (c->out->end + size > DMN_CTL_OUT_MAX) {
		c->outfull = true;
		return 0;	/* keep the handler going; we say so below */
	}
	return mbuf_write_mem(c->out, (const uint8_t *)p, size);
}

/*
 * Turn the handler's raw text into the wire answer: dot-stuff lines
 * that begin with '.', end with a newline, then ".exit N".
 */
static int frame_answer(struct ctl_conn *c, int status)
{
	struct mbuf *raw = c->out;
	struct mbuf *mb;
	bool bol = true;
	size_t i;
	int err = 0;

	mb = mbuf_alloc(raw->end + 64);
	if (!mb)
		return ENOMEM;

	for (i = 0; i < raw->end && !err; i++) {
		if (bol && raw->buf[i] == '.')
			err = mbuf_write_u8(mb, '.');
		err |= mbuf_write_u8(mb, raw->buf[i]);
		bol = raw->buf[i] == '\n';
	}
	if (!err && !bol)
		err = mbuf_write_u8(mb, '\n');
	if (!err && c->outfull)
		err = mbuf_printf(mb, "error: answer cut at %u bytes\n",
				  (unsigned)DMN_CTL_OUT_MAX);
	if (!err)
		err = mbuf_printf(mb, ".exit %d\n", status);
	if (err) {
		mem_deref(mb);
		return err;
	}

	mb->pos = 0;
	mem_deref(c->out);
	c->out = mb;
	return 0;
}

static void conn_write_h(int flags, void *arg);

/* Send what we can now; the rest when the socket is writable. */
static void conn_flush(struct ctl_conn *c)
{
	while (c->out->pos < c->out->end) {
		ssize_t n = send(c->fd, c->out->buf + c->out->pos,
				 c->out->end - c->out->pos, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (fd_listen(c->fd, FD_WRITE, conn_write_h, c))
				mem_deref(c);
			return;
		}
		if (n <= 0) {
			dmn_log_debug("ctl: client went away pid=%ld",
				      (long)c->peer.pid);
			mem_deref(c);
			return;
		}
		c->out->pos += (size_t)n;
	}

	mem_deref(c);	/* all sent: closing ends the answer */
}

static void conn_write_h(int flags, void *arg)
{
	struct ctl_conn *c = arg;

	if (flags & (FD_WRITE | FD_EXCEPT))
		conn_flush(c);
}

static void conn_timeout(void *arg)
{
	struct ctl_conn *c = arg;

	dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
		   "ctl: client timed out pid=%ld uid=%u stage=%s",
		   (long)c->peer.pid, (unsigned)c->peer.uid,
		   c->out ? "answer" : "request");
	mem_deref(c);
}

/* Answer with status; text is what the handler printed (or NULL). */
static void conn_answer(struct ctl_conn *c, int status)
{
	int err;

	if (status < 0 || status > 255)
		status = DMN_EXIT_FAIL;

	err = frame_answer(c, status);
	if (err) {
		dmn_log_code(DMN_LOG_WARN, err, "ctl: cannot build answer");
		mem_deref(c);
		return;
	}

	/* stop reading; the answer gets the idle time to drain */
	fd_close(c->fd);
	tmr_start(&c->tmr, DMN_CTL_IDLE_MS, conn_timeout, c);
	conn_flush(c);
}

static int refuse(struct ctl_conn *c, int status, const char *reason,
		  const char *detail)
{
	struct re_printf pf = {out_vph, c};

	dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
		   "ctl: refused reason=%s pid=%ld uid=%u", reason,
		   (long)c->peer.pid, (unsigned)c->peer.uid);
	(void)re_hprintf(&pf, "error: %s\n", detail);
	return status;
}

/* ------------------------------------------------------------------ */
/* Request */

static int builtin_help(struct re_printf *pf, const struct dmn_ctl *ctl)
{
	size_t i, w = 4;
	int err = 0;

	for (i = 0; i < ctl->cmdc; i++) {
		const struct dmn_ctl_cmd *cmd = &ctl->cmdv[i];
		size_t l = strlen(cmd->name) +
			(cmd->usage ? 1 + strlen(cmd->usage) : 0);

		w = max(w, min(l, (size_t)40));
	}

	{
		char row[128];

		snprintf(row, sizeof(row), "help%*s  list the commands",
			 (int)(w - 4), "");
		err |= re_hprintf(pf, "%s\n", row);
	}
	for (i = 0; i < ctl->cmdc; i++) {
		const struct dmn_ctl_cmd *cmd = &ctl->cmdv[i];
		char row[256];

		snprintf(row, sizeof(row), "%s%s%s", cmd->name,
			 cmd->usage ? " " : "", cmd->usage ? cmd->usage : "");
		snprintf(row + strlen(row), sizeof(row) - strlen(row),
			 "%*s  %s%s", (int)(w - min(w, strlen(row))), "",
			 cmd->help ? cmd->help : "",
			 cmd->priv == DMN_CTL_OWNER ? " (root only)" : "");
		err |= re_hprintf(pf, "%s\n", row);
	}
	return err ? DMN_EXIT_FAIL : DMN_EXIT_OK;
}

static int dispatch(struct ctl_conn *c, char *line)
{
	struct re_printf pf = {out_vph, c};
	const struct dmn_ctl *ctl = c->ctl;
	const struct dmn_ctl_cmd *cmd = NULL;
	char *argv[DMN_CTL_ARGS_MAX + 1];
	int argc = 0;
	size_t i;
	char *p;
	int status;

	for (p = line; *p; p++) {
		if ((unsigned char)*p < ' ' && *p != '\t')
			return refuse(c, DMN_EXIT_USAGE, "control-char",
				      "control characters in request");
		if (*p == 0x7f)
			return refuse(c, DMN_EXIT_USAGE, "control-char",
				      "control characters in request");
	}

	for (p = line; *p; ) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == DMN_CTL_ARGS_MAX)
			return refuse(c, DMN_EXIT_USAGE, "too-many-words",
				      "too many words in request");
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	argv[argc] = NULL;

	if (!argc)
		return refuse(c, DMN_EXIT_USAGE, "empty",
			      "empty request (try: help)");

	for (i = 0; i < ctl->cmdc; i++) {
		if (!strcmp(ctl->cmdv[i].name, argv[0])) {
			cmd = &ctl->cmdv[i];
			break;
		}
	}

	if (!cmd && !strcmp(argv[0], "help"))
		return builtin_help(&pf, ctl);

	if (!cmd) {
		dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
			   "ctl: refused reason=unknown-command command=%s "
			   "pid=%ld uid=%u", argv[0], (long)c->peer.pid,
			   (unsigned)c->peer.uid);
		(void)re_hprintf(&pf, "error: unknown command: %s "
				 "(try: help)\n", argv[0]);
		return DMN_EXIT_USAGE;
	}

	if (cmd->priv == DMN_CTL_OWNER && c->peer.uid != 0 &&
	    c->peer.uid != geteuid()) {
		dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
			   "ctl: refused reason=permission command=%s "
			   "pid=%ld uid=%u", cmd->name, (long)c->peer.pid,
			   (unsigned)c->peer.uid);
		(void)re_hprintf(&pf, "error: permission denied: %s is for "
				 "root only\n", cmd->name);
		return DMN_EXIT_DENIED;
	}

	status = cmd->h ? cmd->h(&pf, argc, argv, &c->peer, ctl->arg)
			: DMN_EXIT_FAIL;

	dmn_log(cmd->priv == DMN_CTL_OWNER ? DMN_LOG_INFO : DMN_LOG_DEBUG,
		"ctl: command name=%s pid=%ld uid=%u exit=%d", cmd->name,
		(long)c->peer.pid, (unsigned)c->peer.uid, status);
	return status;
}

static void conn_read_h(int flags, void *arg)
{
	struct ctl_conn *c = arg;
	char *nl;
	ssize_t n;

	if (!(flags & (FD_READ | FD_EXCEPT)))
		return;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* gone before a whole line: nothing to answer */
		mem_deref(c);
		return;
	}

	nl = memchr(c->in + c->inlen, '\n', (size_t)n);
	c->inlen += (size_t)n;
	if (!nl && c->inlen < sizeof(c->in))
		return;		/* wait for the rest of the line */

	c->out = mbuf_alloc(512);
	if (!c->out) {
		mem_deref(c);
		return;
	}

	if (nl) {
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		if (memchr(c->in, '\0', (size_t)(nl - c->in))) {
			conn_answer(c, refuse(c, DMN_EXIT_USAGE, "nul",
					      "NUL byte in request"));
			return;
		}
		conn_answer(c, dispatch(c, c->in));
		return;
	}

	if (c->inlen == sizeof(c->in)) {
		char detail[64];

		re_snprintf(detail, sizeof(detail),
			    "request line too long (max %u bytes)",
			    (unsigned)DMN_CTL_LINE_MAX);
		conn_answer(c, refuse(c, DMN_EXIT_USAGE, "line-too-long",
				      detail));
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Listening */

static void accept_h(int flags, void *arg)
{
	struct dmn_ctl *ctl = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_conn *c;
	int fd, err;

	if (!(flags & FD_READ))
		return;

	fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
				   "ctl: accept failed error=%s",
				   strerror(errno));
		return;
	}

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
		dmn_log_warn("ctl: no peer credentials");
		(void)close(fd);
		return;
	}

	if (list_count(&ctl->conns) >= DMN_CTL_CLIENTS_MAX) {
		static const char busy[] =
			"error: too many control clients\n.exit 5\n";

		dmn_log_rl(&rl_refuse, DMN_LOG_WARN,
			   "ctl: refused reason=too-many-clients pid=%ld "
			   "uid=%u", (long)cred.pid, (unsigned)cred.uid);
		(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
		(void)close(fd);
		return;
	}

	c = mem_zalloc(sizeof(*c), conn_destructor);
	if (!c) {
		(void)close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	tmr_init(&c->tmr);
	list_append(&ctl->conns, &c->le, c);

	err = fd_listen(fd, FD_READ, conn_read_h, c);
	if (err) {
		dmn_log_code(DMN_LOG_WARN, err, "ctl: cannot watch client");
		mem_deref(c);
		return;
	}
	tmr_start(&c->tmr, DMN_CTL_IDLE_MS, conn_timeout, c);
}

/* Does a live process answer on the socket at sun? */
static int probe(const struct sockaddr_un *sun)
{
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) != 0)
		err = errno;
	(void)close(fd);
	return err;
}

int dmn_ctl_listen(struct dmn_ctl **ctlp, const char *path,
		   const struct dmn_ctl_cmd *cmdv, size_t cmdc, void *arg)
{
	struct sockaddr_un sun;
	struct dmn_ctl *ctl;
	struct stat st;
	mode_t omask;
	int err;

	if (!ctlp || !path || !*path || (cmdc && !cmdv))
		return EINVAL;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		dmn_log_errx("ctl: socket path too long path=%s max=%zu",
			     path, sizeof(sun.sun_path) - 1);
		return ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path));

	ctl = mem_zalloc(sizeof(*ctl), ctl_destructor);
	if (!ctl)
		return ENOMEM;
	ctl->fd = -1;
	ctl->cmdv = cmdv;
	ctl->cmdc = cmdc;
	ctl->arg = arg;
	list_init(&ctl->conns);

	err = str_dup(&ctl->path, path);
	if (err)
		goto out;

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			dmn_log_errx("ctl: path exists and is not a socket, "
				     "not touching it path=%s", path);
			err = EEXIST;
			goto out;
		}
		err = probe(&sun);
		if (!err) {
			dmn_log_errx("ctl: another daemon answers on "
				     "path=%s", path);
			err = EADDRINUSE;
			goto out;
		}
		if (err != ECONNREFUSED) {
			dmn_log_code(DMN_LOG_ERR, err, "ctl: cannot probe "
				     "existing socket path=%s", path);
			goto out;
		}
		if (unlink(path) != 0) {
			err = errno;
			dmn_log_err("ctl: cannot remove stale socket path=%s",
				    path);
			goto out;
		}
		dmn_log_info("ctl: replaced stale socket path=%s", path);
	}

	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			 0);
	if (ctl->fd < 0) {
		err = errno;
		goto out;
	}

	omask = umask(0177);
	err = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) ? errno : 0;
	(void)umask(omask);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "ctl: cannot bind path=%s",
			     path);
		goto out;
	}

	if (lstat(path, &st) == 0) {
		ctl->dev = st.st_dev;
		ctl->ino = st.st_ino;
	}

	if (listen(ctl->fd, DMN_CTL_CLIENTS_MAX) != 0) {
		err = errno;
		goto out;
	}

	err = fd_listen(ctl->fd, FD_READ, accept_h, ctl);
	if (err)
		goto out;

	dmn_log_info("ctl: listening path=%s", path);

 out:
	if (err) {
		if (ctl->fd >= 0 && !ctl->ino) {
			(void)close(ctl->fd);	/* bind failed: no file */
			ctl->fd = -1;
		}
		mem_deref(ctl);
	}
	else {
		*ctlp = ctl;
	}
	return err;
}

unsigned dmn_ctl_clients(const struct dmn_ctl *ctl)
{
	return ctl ? list_count(&ctl->conns) : 0;
}

int dmn_ctl_share(const char *path, const char *user, const char *group)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	const struct passwd *pw = NULL;
	const struct group *gr;

	if (!path)
		return EINVAL;
	if (!user && !group)
		return 0;

	if (user) {
		pw = getpwnam(user);
		if (!pw) {
			dmn_log_errx("ctl: no such user user=%s", user);
			return ENOENT;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			dmn_log_errx("ctl: no such group controlGroup=%s",
				     group);
			return ENOENT;
		}
		gid = gr->gr_gid;
	}
	/* mode first, while we still own it: then only CAP_CHOWN is needed */
	if (chmod(path, 0660) < 0) {
		dmn_log_err("ctl: chmod failed path=%s", path);
		return errno;
	}
	if (chown(path, uid, gid) < 0) {
		dmn_log_err("ctl: cannot hand the socket over path=%s", path);
		return errno;
	}
	dmn_log_info("ctl: socket shared path=%s user=%s group=%s mode=0660",
		     path, user ? user : "(unchanged)",
		     group ? group : user ? "(the user's)" : "(unchanged)");
	return 0;
}
