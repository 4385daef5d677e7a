/* kill: signal the container's init, or all of its processes. */
#include "config.h"
#include "container.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A pidfd for rec->pid that is known to be our init: the start time is
 * checked after the pidfd exists, so a reused pid cannot slip in. */
static int
open_init_pidfd (const crt_state_record *rec, crt_error **err)
{
  int fd = rec->pid > 0 ? (int) syscall (SYS_pidfd_open, rec->pid, 0) : -1;

  if (rec->pid <= 0)
    return crt_error_with_code (err, ESRCH, "container `%s` is not running", rec->id);
  if (fd < 0)
    {
      if (errno == ESRCH)
        return crt_error_with_code (err, ESRCH, "container `%s` is not running", rec->id);
      return crt_error_errno (err, "pidfd_open %d", (int) rec->pid);
    }
  if (!crt_state_init_alive (rec))
    {
      close (fd);
      return crt_error_with_code (err, ESRCH, "container `%s` is not running", rec->id);
    }
  return fd;
}

/* Every process in the init's pid namespace (the container has its own). */
static int
signal_pid_namespace (const crt_state_record *rec, int sig, crt_error **err)
{
  cleanup_free char *ns_path = crt_fmt ("/proc/%d/ns/pid", (int) rec->pid);
  struct stat target;
  DIR *proc;
  struct dirent *de;

  if (stat (ns_path, &target) < 0)
    return crt_error_errno (err, "stat `%s`", ns_path);
  proc = opendir ("/proc");
  if (proc == NULL)
    return crt_error_errno (err, "open /proc");
  while ((de = readdir (proc)) != NULL)
    {
      char path[64];
      struct stat st;
      pid_t pid = (pid_t) atoi (de->d_name);
      if (pid <= 0)
        continue;
      snprintf (path, sizeof (path), "/proc/%d/ns/pid", (int) pid);
      if (stat (path, &st) == 0 && st.st_ino == target.st_ino && st.st_dev == target.st_dev)
        kill (pid, sig);
    }
  closedir (proc);
  return 0;
}

/* sig to the init behind pidfd, or (all) to every process of the
 * container: its cgroup, else its pid namespace. */
static int
signal_container (const crt_state_record *rec, int pidfd, int sig, bool all, crt_error **err)
{
  if (all && rec->cgroup_path && rec->cgroup_path[0])
    return crt_cgroup_kill (rec->cgroup_path, sig, err);
  if (all && rec->private_pidns && signal_pid_namespace (rec, sig, err) < 0)
    return -1;
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
    return crt_error_errno (err, "signal container `%s`", rec->id);
  return 0;
}

int
crt_kill_and_wait (const crt_state_record *rec, int sig, crt_error **err)
{
  cleanup_close int pidfd = -1;
  crt_error *gone = NULL;
  struct pollfd p;
  int r;

  pidfd = open_init_pidfd (rec, &gone);
  if (pidfd < 0)
    {
      /* Already gone is what we want. */
      if (gone && gone->errnum == ESRCH)
        {
          crt_error_free (&gone);
          return 0;
        }
      if (err)
        *err = gone;
      else
        crt_error_free (&gone);
      return -1;
    }
  /* Everything of the container, best effort; then the init, whose end
   * is what we wait for. The init of a pid namespace dying by SIGKILL
   * takes every process in it along before it counts as exited, so the
   * namespace needs no scan of /proc then (a scan per delete made
   * `delete --force` of N containers cost N^2 stats). */
  if (rec->cgroup_path && rec->cgroup_path[0])
    crt_cgroup_kill (rec->cgroup_path, sig, NULL);
  else if (rec->private_pidns && sig != SIGKILL)
    signal_pid_namespace (rec, sig, NULL);
  if (signal_container (rec, pidfd, sig, false, err) < 0)
    return -1;
  /* A pidfd polls readable once the process has exited. */
  p.fd = pidfd;
  p.events = POLLIN;
  do
    r = poll (&p, 1, 10000);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return crt_error_set (err, ETIMEDOUT, "container `%s` did not exit after signal %d", rec->id,
                          sig);
  return r < 0 ? crt_error_errno (err, "wait for container `%s`", rec->id) : 0;
}

int
crt_container_kill (crt_context *ctx, const char *id, int sig, bool all, crt_error **err)
{
  cleanup_close int dirfd = -1, pidfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  if (crt_state_dir_open (ctx, id, false, &dirfd, err) < 0 || crt_state_read (dirfd, &rec, err) < 0)
    return -1;
  pidfd = open_init_pidfd (&rec, err);
  if (pidfd < 0)
    return -1;
  return signal_container (&rec, pidfd, sig, all, err);
}
