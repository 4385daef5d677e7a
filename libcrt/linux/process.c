/* crt_process_setup: the order in which the process attributes are
 * applied. Everything that needs privilege comes before the user
 * switch; the capabilities the process keeps are set after it. */
#include "config.h"
#include "process.h"
#include "caps.h"
#include "util/util.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* runc's umask when process.user.umask is unset. */
#define DEFAULT_UMASK 0022

/* Create process.cwd if missing, as root, so the user need not be able
 * to. We are past pivot_root: "/" is the container's root and neither
 * ".." nor an absolute symlink can lead out of it. */
static int
make_cwd (const char *cwd, crt_error **err)
{
  struct stat st;

  /* Not even root may look: leave the report to chdir. */
  if (stat (cwd, &st) == 0 || errno == EACCES)
    return 0;
  if (errno != ENOENT)
    return crt_error_errno (err, "process.cwd: stat `%s`", cwd);
  if (crt_mkdir_p (cwd, 0755, err) < 0)
    return crt_error_prefix (err, "process.cwd");
  return 0;
}

static int
check_process (const crt_process *proc, crt_error **err)
{
  if (proc->cwd == NULL || proc->cwd[0] != '/')
    return crt_error_set (err, 0, "process.cwd: must be an absolute path");
  if (proc->user.umask.set && proc->user.umask.value > 0777)
    return crt_error_set (err, 0, "process.user.umask: %#o is not a file mode",
                          proc->user.umask.value);
  return 0;
}

int
crt_process_setup (const crt_process *proc, const crt_linux *linux_, crt_error **err)
{
  crt_cap_sets caps;
  bool in_cwd;

  /* Every name and value first: a typo must fail before anything changed. */
  if (check_process (proc, err) < 0 || crt_caps_resolve (proc->capabilities, &caps, err) < 0)
    return -1;

  if (crt_rlimits_apply (proc, err) < 0
      || crt_oom_score_adj_apply (proc, err) < 0
      || crt_personality_apply (linux_ ? linux_->personality : NULL, err) < 0
      || crt_scheduler_apply (proc->scheduler, err) < 0
      || crt_io_priority_apply (proc->io_priority, err) < 0
      || make_cwd (proc->cwd, err) < 0)
    return -1;

  /* As root first, like runc: a user may be given a cwd only root can
   * enter (lookups from it are still checked against the user). */
  in_cwd = chdir (proc->cwd) == 0;
  if (!in_cwd && errno != EACCES && errno != EPERM)
    return crt_error_errno (err, "chdir to process.cwd `%s`", proc->cwd);

  /* Needs CAP_SETPCAP, which a non-root uid no longer has in effect. */
  if (crt_caps_drop_bounding (&caps, err) < 0)
    return -1;
  if (crt_user_switch (&proc->user, err) < 0)
    return -1;
  /* Root was refused (e.g. a root-squashing or unmapped directory): the
   * user may still be allowed, with its own permissions only, since the
   * capabilities are not raised again yet. */
  if (!in_cwd && chdir (proc->cwd) < 0)
    return crt_error_errno (err, "chdir to process.cwd `%s`", proc->cwd);
  if (crt_caps_apply (&caps, err) < 0)
    return -1;

  umask (proc->user.umask.set ? (mode_t) proc->user.umask.value : DEFAULT_UMASK);
  if (proc->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_NO_NEW_PRIVS (process.noNewPrivileges)");
  return 0;
}
