/*
 * dmn_priv.c -- give up root after binding, for good.
 *
 * SECURITY: the daemon binds its SIP ports, control socket and reads
 * its TLS key as root, then calls dmn_priv_drop().  After it returns 0
 * with a user configured, real, effective and saved ids are the
 * user's, the supplementary groups are only the user's group, and the
 * kernel has been asked to give root back and refused.  Any doubt is
 * EPERM, and the caller exits rather than run as root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <re.h>

#include "dmn.h"

enum { PW_BUF = 16384 };

/* Ids as the kernel has them now equal the target, and root is gone. */
static int verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t groups[2];
	int n;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return errno;
	if (ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid) {
		dmn_log_errx("priv: ids after drop do not match "
			     "uid=%u/%u/%u gid=%u/%u/%u want=%u:%u",
			     (unsigned)ru, (unsigned)eu, (unsigned)su,
			     (unsigned)rg, (unsigned)eg, (unsigned)sg,
			     (unsigned)uid, (unsigned)gid);
		return EPERM;
	}

	n = getgroups(2, groups);
	if (n < 0 || n > 1 || (n == 1 && groups[0] != gid)) {
		dmn_log_errx("priv: supplementary groups remain count=%d", n);
		return EPERM;
	}

	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1) {
		dmn_log_errx("priv: root could be regained after drop");
		return EPERM;
	}

	return 0;
}

int dmn_priv_drop(const char *user)
{
	struct passwd pw, *pwp = NULL;
	char *buf;
	int err;

	if (!user || !*user) {
		if (geteuid() == 0)
			dmn_log_warnx("priv: no user configured, "
				      "keeping root");
		else
			dmn_log_info("priv: not root, nothing to drop "
				     "uid=%u", (unsigned)geteuid());
		return 0;
	}

	buf = mem_alloc(PW_BUF, NULL);
	if (!buf)
		return ENOMEM;

	err = getpwnam_r(user, &pw, buf, PW_BUF, &pwp);
	if (err || !pwp) {
		if (err)
			dmn_log_code(DMN_LOG_ERR, err,
				     "priv: cannot look up user=%s", user);
		else
			dmn_log_errx("priv: unknown user=%s", user);
		err = err ? err : ENOENT;
		goto out;
	}

	if (pw.pw_uid == 0) {
		dmn_log_errx("priv: refusing to run as user=%s uid=0", user);
		err = EINVAL;
		goto out;
	}

	if (geteuid() != 0) {
		uid_t ru, eu, su;

		if (getresuid(&ru, &eu, &su) == 0 && ru == pw.pw_uid &&
		    eu == pw.pw_uid && su == pw.pw_uid) {
			dmn_log_info("priv: already running as user=%s "
				     "uid=%u", user, (unsigned)pw.pw_uid);
			err = 0;
		}
		else {
			dmn_log_errx("priv: not root, cannot switch to "
				     "user=%s uid=%u", user,
				     (unsigned)geteuid());
			err = EPERM;
		}
		goto out;
	}

	if (setgroups(1, &pw.pw_gid) != 0) {
		err = errno;
		dmn_log_err("priv: setgroups failed user=%s", user);
		goto out;
	}
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0) {
		err = errno;
		dmn_log_err("priv: setresgid failed user=%s", user);
		goto out;
	}
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) {
		err = errno;
		dmn_log_err("priv: setresuid failed user=%s", user);
		goto out;
	}

	err = verify(pw.pw_uid, pw.pw_gid);
	if (err) {
		err = EPERM;
		goto out;
	}

	dmn_log_info("priv: dropped user=%s uid=%u gid=%u", user,
		     (unsigned)pw.pw_uid, (unsigned)pw.pw_gid);

 out:
	if (err && err != ENOENT && err != EINVAL)
		err = EPERM;
	mem_deref(buf);
	return err;
}
