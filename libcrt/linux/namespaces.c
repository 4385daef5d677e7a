#include "config.h"
#include "namespaces.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int
crt_ns_plan_make (const crt_spec *spec, crt_ns_plan *plan, crt_error **err)
{
  memset (plan, 0, sizeof (*plan));
  for (int t = 0; t < CRT_NS__COUNT; t++)
    plan->join_fd[t] = -1;
  if (spec->linux_ == NULL)
    return 0;

  for (size_t i = 0; i < spec->linux_->n_namespaces; i++)
    {
      const crt_namespace *ns = &spec->linux_->namespaces[i];
      int fd, kind;

      if (ns->path == NULL || ns->path[0] == '\0')
        {
          if (ns->type == CRT_NS_TIME)
            plan->new_timens = true;
          else
            plan->clone_flags |= crt_ns_clone_flag (ns->type);
          if (ns->type == CRT_NS_USER)
            plan->userns = plan->new_userns = true;
          if (ns->type == CRT_NS_NETWORK)
            plan->private_netns = true;
          continue;
        }
      fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          crt_ns_plan_release (plan);
          return crt_error_errno (err, "linux.namespaces[%zu].path: open `%s`", i, ns->path);
        }
      plan->join_fd[ns->type] = fd;
      kind = ioctl (fd, NS_GET_NSTYPE);
      if (kind < 0 || kind != crt_ns_clone_flag (ns->type))
        {
          crt_ns_plan_release (plan);
          return crt_error_set (err, 0, "linux.namespaces[%zu].path: `%s` is not a %s namespace",
                                i, ns->path, crt_ns_type_name (ns->type));
        }
      if (ns->type == CRT_NS_USER)
        plan->userns = true;
      if (ns->type == CRT_NS_NETWORK)
        plan->private_netns = true;
    }
  plan->pid_after_join = plan->join_fd[CRT_NS_USER] >= 0 && (plan->clone_flags & CLONE_NEWPID);
  return 0;
}

void
crt_ns_plan_release (crt_ns_plan *plan)
{
  for (int t = 0; t < CRT_NS__COUNT; t++)
    crt_closep (&plan->join_fd[t]);
}

static bool
own_pid_ns_reenterable (void)
{
  cleanup_close int pidns = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  cleanup_close int owner = -1;
  struct stat ours, its;

  if (pidns < 0 || stat ("/proc/self/ns/user", &ours) < 0)
    return true;
  owner = ioctl (pidns, NS_GET_USERNS);
  /* EPERM: its owner is above our user namespace, not ours. Without
   * nsfs ioctls (before 4.9) there is no way to tell: assume we may. */
  if (owner < 0)
    return errno != EPERM;
  if (fstat (owner, &its) < 0)
    return true;
  return its.st_dev == ours.st_dev && its.st_ino == ours.st_ino;
}

bool
crt_ns_own_pid_ns_reenterable (void)
{
  /* Our pid namespace never changes (setns moves our children's only);
   * the answer could only change with our user namespace, and nobody
   * asks again after crt has joined one. */
  static int answer = -1;

  if (answer < 0)
    answer = own_pid_ns_reenterable ();
  return answer;
}

/* setns for children only (pid, time), remembering how to go back. */
static int
enter_for_children (int target_fd, int nstype, const char *proc_name, int *saved_fd,
                    crt_error **err)
{
  cleanup_free char *self = crt_fmt ("/proc/self/ns/%s", proc_name);

  *saved_fd = open (self, O_RDONLY | O_CLOEXEC);
  if (*saved_fd < 0)
    return crt_error_errno (err, "open `%s`", self);
  if (setns (target_fd, nstype) < 0)
    return crt_error_errno (err, "join %s namespace", proc_name);
  return 0;
}

static void
leave_for_children (int *saved_fd, int nstype)
{
  if (*saved_fd >= 0)
    {
      /* Going back to our own active namespace is always allowed: only a
       * transient failure (ENOMEM) is possible, and worth waiting out,
       * since every child we made afterwards would be born in the
       * container's namespace. */
      for (int attempt = 0; setns (*saved_fd, nstype) < 0; attempt++)
        {
          if (attempt == 1000)
            abort ();
          nanosleep (&(struct timespec){ 0, 1000 * 1000 }, NULL);
        }
      crt_closep (saved_fd);
    }
}

pid_t
crt_ns_clone (const crt_ns_plan *plan, int cgroup_fd, int *pidfd, bool *in_cgroup,
              crt_error **err)
{
  cleanup_close int saved_pidns = -1;
  struct clone_args args;
  pid_t pid;
  int flags = plan->clone_flags;

  *pidfd = -1;
  /* Until it execs the user's program the child is a copy of crt, and
   * the container can see it (its pid namespace, its credentials): a
   * dumpable one would hand out /proc/PID/exe, the host's crt binary, to
   * be reopened for writing once crt exits (CVE-2019-5736), and its
   * /proc/PID/fd, mem and environ. Non-dumpable, those need
   * CAP_SYS_PTRACE over the host's user namespace. Set here, before the
   * clone, so the child is never dumpable, not even for an instruction;
   * execve makes the user's program dumpable again. crt itself stays
   * non-dumpable too: a container without a pid namespace sees it. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_DUMPABLE");
  /* Going back (below) would fail for good here, and our later children
   * (hooks) would be born in the container's pid namespace. (exec, which
   * makes no other child, enters it for good before calling us.) */
  if (plan->join_fd[CRT_NS_PID] >= 0 && !crt_ns_own_pid_ns_reenterable ())
    return crt_error_set (err, EPERM,
                          "linux.namespaces: join a pid namespace by path: crt runs in a user "
                          "namespace that does not own its own pid namespace, and could not "
                          "return to it for the hooks");
  /* A pid namespace joined by path applies to children only: join it
   * around the clone, then return to ours. Same for time. */
  if (plan->join_fd[CRT_NS_PID] >= 0
      && enter_for_children (plan->join_fd[CRT_NS_PID], CLONE_NEWPID, "pid_for_children",
                             &saved_pidns, err) < 0)
    return -1;
  /* With a user namespace joined by path, the namespaces we create must
   * be owned by it, so the init creates them itself after joining. */
  if (plan->join_fd[CRT_NS_USER] >= 0)
    flags = 0;

  memset (&args, 0, sizeof (args));
  args.flags = (uint64_t) flags | CLONE_PIDFD;
  args.pidfd = (uint64_t) (uintptr_t) pidfd;
  args.exit_signal = SIGCHLD;
  *in_cgroup = false;
  if (cgroup_fd >= 0)
    {
      /* Born in its cgroup: limits hold from the first instruction. */
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cgroup_fd;
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid >= 0)
        *in_cgroup = true;
      else
        args.flags &= ~(uint64_t) CLONE_INTO_CGROUP;
    }
  if (!*in_cgroup)
    pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
  if (pid < 0 && errno == ENOSYS)
    pid = (pid_t) syscall (SYS_clone, (unsigned long) (flags | SIGCHLD), NULL, NULL, NULL, 0);
  if (pid < 0)
    {
      int saved = errno;
      leave_for_children (&saved_pidns, CLONE_NEWPID);
      return crt_error_set (err, saved, "clone the container process");
    }
  if (pid == 0)
    return 0;
  leave_for_children (&saved_pidns, CLONE_NEWPID);
  return pid;
}

int
crt_ns_join_paths (const crt_ns_plan *plan, crt_error **err)
{
  /* user first: it decides what we may join next; mount last, since the
   * others' fds were opened before and do not depend on the mount ns. */
  static const crt_ns_type order[] = { CRT_NS_USER, CRT_NS_IPC, CRT_NS_UTS, CRT_NS_NETWORK,
                                       CRT_NS_CGROUP, CRT_NS_TIME, CRT_NS_MOUNT };

  for (size_t i = 0; i < CRT_ARRAY_SIZE (order); i++)
    {
      crt_ns_type t = order[i];
      if (plan->join_fd[t] < 0)
        continue;
      if (setns (plan->join_fd[t], crt_ns_clone_flag (t)) < 0)
        {
          /* Rootless, the usual cause: joining needs CAP_SYS_ADMIN over
           * the namespace, i.e. a namespace the user's own (or the
           * container's) user namespace owns. */
          if (errno == EPERM)
            return crt_error_errno (err,
                                    "linux.namespaces: join %s namespace: not owned by a user "
                                    "namespace crt may act in (rootless: one the user made)",
                                    crt_ns_type_name (t));
          return crt_error_errno (err, "join %s namespace", crt_ns_type_name (t));
        }
      if (t == CRT_NS_USER)
        {
          int others = plan->clone_flags & ~CLONE_NEWUSER;
          if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
            return crt_error_errno (err, "become root in the joined user namespace");
          /* Namespaces created now are owned by the joined user ns. */
          if (others && unshare (others) < 0)
            return crt_error_errno (err, "create namespaces in the joined user namespace");
        }
    }
  return 0;
}

/* "monotonic 864000 0\n..." for /proc/PID/timens_offsets. */
static int
format_time_offsets (const crt_linux *linux_, char *buf, size_t size, size_t *used,
                     crt_error **err)
{
  *used = 0;
  for (size_t i = 0; linux_ && i < linux_->n_time_offsets; i++)
    {
      const crt_time_offset *o = &linux_->time_offsets[i];
      int w = snprintf (buf + *used, size - *used, "%s %lld %u\n", o->clock,
                        (long long) o->secs, o->nanosecs);
      if (w < 0 || (size_t) w >= size - *used)
        return crt_error_set (err, E2BIG, "linux.timeOffsets");
      *used += (size_t) w;
    }
  return 0;
}

int
crt_ns_unshare_time (crt_error **err)
{
  if (unshare (CLONE_NEWTIME) < 0)
    return crt_error_errno (err, "create time namespace");
  return 0;
}

int
crt_ns_write_time_offsets (pid_t pid, const crt_linux *linux_, crt_error **err)
{
  cleanup_free char *path = crt_fmt ("/proc/%d/timens_offsets", (int) pid);
  char buf[256];
  size_t used;

  if (format_time_offsets (linux_, buf, sizeof (buf), &used, err) < 0)
    return -1;
  if (used > 0 && crt_write_file_at (AT_FDCWD, path, buf, used, 0, err) < 0)
    return crt_error_prefix (err, "linux.timeOffsets");
  return 0;
}

int
crt_ns_enter_unshared_time (crt_error **err)
{
  cleanup_close int fd = open ("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return crt_error_errno (err, "open /proc/self/ns/time_for_children");
  if (setns (fd, CLONE_NEWTIME) < 0)
    return crt_error_errno (err, "enter time namespace");
  return 0;
}
