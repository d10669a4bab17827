/*
 * dmn_pidfile.c -- one running instance per PID file.
 *
 * "Running" means "holds an exclusive flock() on the file", not "the
 * file exists": the kernel drops the lock when the holder dies, so a
 * file left behind by a crash is simply taken over.  flock() locks
 * belong to the open file description, so a second open in the same
 * process conflicts too (fcntl locks would not).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

enum { PIDFILE_RETRIES = 8 };

struct dmn_pidfile {
	int fd;
	char *path;
};

static void destructor(void *arg)
{
	struct dmn_pidfile *pf = arg;
	struct stat a, b;

	/* remove only the file we hold, not one a successor made */
	if (pf->fd >= 0) {
		if (fstat(pf->fd, &a) == 0 && stat(pf->path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
		    unlink(pf->path) != 0)
			dmn_log_warn("pidfile: cannot remove path=%s",
				     pf->path);
		(void)close(pf->fd);
	}
	mem_deref(pf->path);
}

/* The PID written in the file, 0 if none can be read. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 0 || v > INT32_MAX)
		return 0;
	return (pid_t)v;
}

int dmn_pidfile_open(struct dmn_pidfile **pfp, const char *path,
		     pid_t *holderp)
{
	struct dmn_pidfile *pf;
	char buf[32];
	int i, n, err;

	if (!pfp || !path || !*path)
		return EINVAL;

	pf = mem_zalloc(sizeof(*pf), destructor);
	if (!pf)
		return ENOMEM;
	pf->fd = -1;

	err = str_dup(&pf->path, path);
	if (err)
		goto out;

	for (i = 0; i < PIDFILE_RETRIES; i++) {
		struct stat a, b;

		pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			      0644);
		if (pf->fd < 0) {
			err = errno;
			dmn_log_warn("pidfile: cannot open path=%s", path);
			goto out;
		}

		if (flock(pf->fd, LOCK_EX | LOCK_NB) != 0) {
			pid_t holder;

			err = errno == EWOULDBLOCK ? EEXIST : errno;
			holder = read_pid(pf->fd);
			if (err == EEXIST) {
				if (holder)
					dmn_log_warnx("pidfile: already "
						      "running pid=%ld path=%s",
						      (long)holder, path);
				else
					dmn_log_warnx("pidfile: already "
						      "running pid=unknown "
						      "path=%s", path);
				if (holderp)
					*holderp = holder;
			}
			else {
				dmn_log_code(DMN_LOG_WARN, err,
					     "pidfile: cannot lock path=%s",
					     path);
			}
			goto out;
		}

		/* the holder we raced with may have unlinked the file
		 * between our open and our lock: then we hold a lock
		 * on a name nobody sees, so start over */
		if (fstat(pf->fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			break;

		(void)close(pf->fd);
		pf->fd = -1;
	}
	if (pf->fd < 0) {
		err = EAGAIN;
		dmn_log_warnx("pidfile: file keeps changing path=%s", path);
		goto out;
	}

	errno = 0;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) != 0 ||
	    pwrite(pf->fd, buf, (size_t)n, 0) != n) {
		err = errno ? errno : EIO;
		dmn_log_warn("pidfile: cannot write path=%s", path);
		goto out;
	}

	err = 0;

 out:
	if (err) {
		/* not ours: close without removing */
		if (pf->fd >= 0)
			(void)close(pf->fd);
		pf->fd = -1;
		mem_deref(pf);
	}
	else {
		*pfp = pf;
	}
	return err;
}
