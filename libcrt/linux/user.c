#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/prctl.h>
#include <unistd.h>

/* In a user namespace whose gid map was written without CAP_SETGID
 * (rootless), /proc/self/setgroups is "deny" and setgroups always fails. */
static bool
setgroups_denied (void)
{
  char buf[16] = "";
  cleanup_close int fd = open ("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);

  if (fd < 0 || read (fd, buf, sizeof (buf) - 1) < 0)
    return false;
  return crt_str_has_prefix (buf, "deny");
}

static int
set_groups (const crt_user *user, crt_error **err)
{
  cleanup_free gid_t *gids = NULL;

  /* An empty list still matters: it drops the groups crt ran with. */
  gids = crt_xmalloc0 (user->n_additional_gids * sizeof (gid_t));
  for (size_t i = 0; i < user->n_additional_gids; i++)
    gids[i] = user->additional_gids[i];
  if (setgroups (user->n_additional_gids, gids) < 0)
    {
      int e = errno;

      /* Asked only on failure: /proc/self/setgroups costs three calls. */
      if (e == EPERM && user->n_additional_gids == 0 && setgroups_denied ())
        return 0;
      errno = e;
      return crt_error_errno (err, "setgroups (process.user.additionalGids, %zu groups)",
                              user->n_additional_gids);
    }
  return 0;
}

/* The kernel treats (uid_t) -1 as "leave unchanged": a process must
 * never go on as root because a switch silently did nothing (crun
 * CVE-2026-30892), so read back all four ids. The parser refuses -1; this
 * is the proof at the point of use. */
static int
check_switched (const crt_user *user, crt_error **err)
{
  uid_t r, e, s;
  gid_t rg, eg, sg;

  if (getresuid (&r, &e, &s) < 0 || getresgid (&rg, &eg, &sg) < 0)
    return crt_error_errno (err, "read back the process ids");
  if (r != user->uid || e != user->uid || s != user->uid || setfsuid ((uid_t) -1) != (int) user->uid)
    return crt_error_set (err, 0, "process.user.uid: the switch to %u did not take effect",
                          user->uid);
  if (rg != user->gid || eg != user->gid || sg != user->gid
      || setfsgid ((gid_t) -1) != (int) user->gid)
    return crt_error_set (err, 0, "process.user.gid: the switch to %u did not take effect",
                          user->gid);
  return 0;
}

/* stdio the caller gave us (conmon's log pipes, a shell's redirection)
 * usually belong to root; a process of another user could then not
 * reopen /dev/stdout (nginx and many images log there). runc and crun
 * chown them to the process's uid, keeping the group, unless one is
 * already that user's or is /dev/null; an owner not mapped into our
 * user namespace (EPERM, EINVAL) or a read-only fs stays as it is. */
static int
chown_stdio (uid_t uid, crt_error **err)
{
  for (int fd = 0; fd <= 2; fd++)
    {
      struct stat st;

      if (fstat (fd, &st) < 0)
        {
          if (errno == EBADF)
            continue;
          return crt_error_errno (err, "stat stdio fd %d", fd);
        }
      if (st.st_uid == uid || (S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3)))
        continue;
      if (fchown (fd, uid, (gid_t) -1) < 0 && errno != EPERM && errno != EINVAL
          && errno != EROFS)
        return crt_error_errno (err, "chown stdio fd %d to uid %u", fd, (unsigned) uid);
    }
  return 0;
}

int
crt_user_switch (const crt_user *user, crt_error **err)
{
  if (chown_stdio (user->uid, err) < 0)
    return -1;
  if (set_groups (user, err) < 0)
    return -1;
  if (setresgid (user->gid, user->gid, user->gid) < 0)
    return crt_error_errno (err, "setresgid %u (process.user.gid)", user->gid);

  /* Leaving uid 0 would otherwise empty the permitted set, leaving
   * nothing for the capabilities step to keep. (Staying uid 0 clears
   * nothing: no need for the two calls, each of which the LSMs see.) */
  if (user->uid != 0 && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_KEEPCAPS");
  if (setresuid (user->uid, user->uid, user->uid) < 0)
    return crt_error_errno (err, "setresuid %u (process.user.uid)", user->uid);
  if (user->uid != 0 && prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_KEEPCAPS");
  return check_switched (user, err);
}
