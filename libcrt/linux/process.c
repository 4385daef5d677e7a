/* crt_process_setup: the order in which the process attributes are
 * applied. Everything that needs privilege comes before the user
 * switch; the capabilities the process keeps are set after it. */
#include "config.h"
#include "process.h"
#include "caps.h"
#include "paths.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* runc's umask when process.user.umask is unset. */
#define DEFAULT_UMASK 0022

/* Open `cwd` as a directory through the one resolver: relative to "/"
 * (the container's root, after pivot_root or the mount namespace join),
 * with no magic link: /proc/self/fd/N and /proc/PID/cwd lead out of the
 * root, which is exactly CVE-2024-21626. */
static int
open_cwd (const char *cwd)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root < 0)
    return -1;
  return crt_path_open (root, cwd, O_PATH | O_DIRECTORY, 0);
}

int
crt_process_make_cwd (const crt_process *proc, crt_error **err)
{
  cleanup_close int root = -1, fd = -1;

  if (proc->cwd == NULL || proc->cwd[0] != '/')
    return crt_error_set (err, 0, "process.cwd: must be an absolute path");
  fd = open_cwd (proc->cwd);
  /* Present, or not even root may look: chdir reports it later. */
  if (fd >= 0 || errno == EACCES)
    return 0;
  if (errno != ENOENT)
    return crt_error_errno (err, "process.cwd `%s`", proc->cwd);
  root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return crt_error_errno (err, "open `/`");
  fd = crt_path_create (root, proc->cwd, true, 0755, 0);
  if (fd < 0)
    return crt_error_errno (err, "process.cwd: create `%s`", proc->cwd);
  return 0;
}

/* fchdir into the resolved cwd, then make sure the kernel agrees that it
 * is inside our root: the raw getcwd(2) answer starts with
 * "(unreachable)" for a directory outside it. */
static int
enter_cwd (const char *cwd)
{
  cleanup_close int fd = open_cwd (cwd);
  char buf[PATH_MAX];
  long n;

  if (fd < 0 || fchdir (fd) < 0)
    return -1;
  n = syscall (SYS_getcwd, buf, sizeof (buf));
  /* The resolver already kept the lookup inside the root; this is the
   * second opinion, and a container's seccomp filter may deny getcwd
   * itself (runtime-tools' linux_seccomp does). A cwd too deep for the
   * buffer cannot be judged either. */
  if (n < 0 && errno != ENAMETOOLONG && errno != EPERM && errno != ENOSYS && errno != EACCES)
    return -1;
  if (n > 0 && buf[0] != '/')
    {
      errno = EXDEV;
      return -1;
    }
  return 0;
}

static int
cwd_error (const char *cwd, crt_error **err)
{
  if (errno == EXDEV)
    return crt_error_set (err, 0, "process.cwd `%s`: outside the container's root", cwd);
  if (errno == ELOOP)
    return crt_error_set (err, ELOOP, "chdir to process.cwd `%s` (a magic link or a symlink "
                          "loop)", cwd);
  return crt_error_errno (err, "chdir to process.cwd `%s`", cwd);
}

int
crt_process_setup (const crt_process *proc, const crt_linux *linux_, crt_error **err)
{
  crt_cap_sets caps;
  bool in_cwd;

  /* Every name first: a typo must fail before anything changed (the
   * values were checked by crt_process_validate). */
  if (crt_caps_resolve (proc->capabilities, &caps, err) < 0)
    return -1;

  /* A session of its own, as runc gives the init and exec'd processes
   * (crun the init only): otherwise it shares crt's process group on the
   * host, and a Ctrl-C at crt's terminal reaches it twice, from the tty
   * and forwarded by crt. With a terminal the console step made one. */
  if (getsid (0) != getpid () && setsid () < 0)
    return crt_error_errno (err, "setsid");

  if (crt_rlimits_apply (proc, err) < 0
      || crt_personality_apply (linux_ ? linux_->personality : NULL, err) < 0
      || crt_scheduler_apply (proc->scheduler, err) < 0
      || crt_io_priority_apply (proc->io_priority, err) < 0)
    return -1;

  /* As root first, like runc: a user may be given a cwd only root can
   * enter (lookups from it are still checked against the user). */
  in_cwd = enter_cwd (proc->cwd) == 0;
  if (!in_cwd && errno != EACCES && errno != EPERM)
    return cwd_error (proc->cwd, err);

  /* Needs CAP_SETPCAP, which a non-root uid no longer has in effect. */
  if (crt_caps_drop_bounding (&caps, err) < 0)
    return -1;
  if (crt_user_switch (&proc->user, err) < 0)
    return -1;
  /* Root was refused (e.g. a root-squashing or unmapped directory): the
   * user may still be allowed, with its own permissions only, since the
   * capabilities are not raised again yet. */
  if (!in_cwd && enter_cwd (proc->cwd) < 0)
    return cwd_error (proc->cwd, err);
  if (crt_caps_apply (&caps, err) < 0)
    return -1;

  umask (proc->user.umask.set ? (mode_t) proc->user.umask.value : DEFAULT_UMASK);
  if (proc->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_NO_NEW_PRIVS (process.noNewPrivileges)");
  return 0;
}
