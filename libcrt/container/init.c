/* The container's init, from the clone to the exec of process.args.
 *
 * It runs crt's code inside the new namespaces, so it must not touch
 * anything of the host it does not need, and it reports every failure to
 * the parent instead of printing: the parent prints once and cleans up. */
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "sync.h"
#include "../linux/netdev.h"
#include "../linux/process.h"
#include "../linux/rootfs.h"
#include "../linux/seccomp.h"
#include "../linux/terminal.h"
#include "../util/util.h"
#include "../util/trace.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__ ((noreturn)) static void
die (const crt_init_args *a, crt_error **err)
{
  crt_sync_send_error (a->sync_fd, *err);
  crt_error_free (err);
  _exit (1);
}

static int
become_root_in_new_userns (const crt_init_args *a, crt_error **err)
{
  /* Unprivileged, crt cannot open the /proc files of a non-dumpable
   * init (they belong to root), nor can newuidmap: we are dumpable until
   * our id maps exist, and not before we act as root (as runc's nsexec).
   * Nothing runs in our namespaces yet to look at us. */
  if (a->plan->dumpable_until_maps)
    {
      /* The time offsets too can be written by crt only now: later our
       * /proc files are root's. The time namespace is made here, owned
       * by our user namespace, which the user owns (crt may set them). */
      if (a->plan->new_timens && crt_ns_unshare_time (err) < 0)
        return -1;
      if (prctl (PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
        return crt_error_errno (err, "prctl PR_SET_DUMPABLE");
      if (crt_sync_send (a->sync_fd, CRT_SYNC_DUMPABLE, err) < 0)
        return -1;
    }
  if (crt_sync_expect (a->sync_fd, CRT_SYNC_ID_MAPS_DONE, err) < 0)
    return -1;
  if (a->plan->dumpable_until_maps && prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return crt_error_errno (err, "prctl PR_SET_DUMPABLE");
  /* Our ids were the host's until the maps existed; take root's now. */
  if (setresgid (0, 0, 0) < 0)
    return crt_error_errno (err, "setresgid(0) in the user namespace");
  if (setresuid (0, 0, 0) < 0)
    return crt_error_errno (err, "setresuid(0) in the user namespace");
  return 0;
}

static int
set_names (const crt_spec *spec, crt_error **err)
{
  if (spec->hostname && spec->hostname[0]
      && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return crt_error_errno (err, "hostname `%s`", spec->hostname);
  if (spec->domainname && spec->domainname[0]
      && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return crt_error_errno (err, "domainname `%s`", spec->domainname);
  return 0;
}

static int
join_new_session_keyring (const char *id, crt_error **err)
{
  /* A keyring of its own so the container cannot read the host's keys.
   * Kernels without keyrings (or with them blocked by seccomp in a nested
   * container) simply do not get one, as with runc. */
  if (syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, id) < 0 && errno != ENOSYS
      && errno != EACCES && errno != EPERM)
    return crt_error_errno (err, "join a new session keyring");
  return 0;
}

/* Block until `start` connects and says so; returns the connection,
 * over which a failure to exec is reported (it closes on exec). */
static int
wait_for_start (int start_fd, int *conn, crt_error **err)
{
  for (;;)
    {
      cleanup_close int c = accept4 (start_fd, NULL, NULL, SOCK_CLOEXEC);
      crt_error *ignored = NULL;

      if (c < 0)
        {
          if (errno == EINTR)
            continue;
          return crt_error_errno (err, "wait for start");
        }
      if (crt_sync_expect (c, CRT_SYNC_START, &ignored) == 0)
        {
          *conn = crt_steal_fd (&c);
          return 0;
        }
      /* Not `start` (or it died before asking): keep waiting. */
      crt_error_free (&ignored);
    }
}

/* The pid namespace made in a joined user namespace holds our children
 * only: the init is a child, and we, its first parent, go away once the
 * crt parent knows its pid (crt is the subreaper that adopts it). */
static void
fork_into_new_pid_namespace (const crt_init_args *a)
{
  crt_error *err = NULL;
  pid_t child = fork ();

  if (child < 0)
    {
      crt_error_errno (&err, "fork into the new pid namespace");
      die (a, &err);
    }
  if (child == 0)
    return;
  if (crt_sync_send_value (a->sync_fd, CRT_SYNC_INIT_PID, (int32_t) child, &err) < 0)
    {
      kill (child, SIGKILL);
      die (a, &err);
    }
  _exit (0);
}

static bool
has_hooks (const crt_spec *spec, crt_hook_kind kind)
{
  return spec->hooks && spec->hooks->n_hooks[kind] > 0;
}

/* Hooks that run in the container's namespaces, from the init. */
static int
run_hooks_here (const crt_init_args *a, crt_hook_kind kind, const char *status, crt_error **err)
{
  cleanup_free char *state = NULL;

  if (!has_hooks (a->spec, kind))
    return 0;
  state = crt_hook_state_for (a->spec, a->id, status, getpid (), a->bundle);
  return crt_hooks_run (a->spec->hooks, kind, state, err);
}

void
crt_init_run (const crt_init_args *a)
{
  const crt_spec *spec = a->spec;
  crt_rootfs_options ro = { 0 };
  cleanup_free char *exe = NULL;
  crt_error *err = NULL;
  bool nnp, notify;
  int conn = -1;
  /* The signals we inherited ignored, as the parent reads them. */
  int32_t ignored_signals = 0;

  /* The state dir's flock belongs to the open file we inherited: keep it
   * and `start` would wait for the lock as long as we wait for `start`. */
  close (a->state_dirfd);
  if (a->wait_cgroup && crt_sync_expect (a->sync_fd, CRT_SYNC_CGROUP_READY, &err) < 0)
    _exit (1);
  if (a->unshare_cgroupns && unshare (CLONE_NEWCGROUP) < 0)
    {
      crt_error_errno (&err, "create the cgroup namespace");
      die (a, &err);
    }
  if (a->plan->new_userns && become_root_in_new_userns (a, &err) < 0)
    die (a, &err);
  if (crt_ns_join_paths (a->plan, &err) < 0)
    die (a, &err);
  if (a->plan->pid_after_join)
    fork_into_new_pid_namespace (a);
  if ((a->plan->clone_flags & CLONE_NEWNET) && !a->loopback_by_parent
      && crt_netdev_loopback_up (&err) < 0)
    die (a, &err);
  /* (Unprivileged crt: unshared and its offsets written in the window.) */
  if (a->plan->new_timens && !a->plan->dumpable_until_maps
      && (crt_ns_unshare_time (&err) < 0
          || crt_sync_send (a->sync_fd, CRT_SYNC_TIME_UNSHARED, &err) < 0
          || crt_sync_expect (a->sync_fd, CRT_SYNC_TIME_OFFSETS_DONE, &err) < 0))
    die (a, &err);
  if (a->plan->new_timens && crt_ns_enter_unshared_time (&err) < 0)
    die (a, &err);
  if (spec->linux_ && spec->linux_->n_net_devices
      && crt_sync_send (a->sync_fd, CRT_SYNC_NAMESPACES_READY, &err) < 0)
    die (a, &err);
  CRT_TRACE_POINT ("init: namespaces joined");
  if (set_names (spec, &err) < 0)
    die (a, &err);
  if (!a->no_new_keyring && join_new_session_keyring (a->id, &err) < 0)
    die (a, &err);

  CRT_TRACE_POINT ("init: hostname, keyring");
  ro.rootfs = a->rootfs;
  ro.bundle = a->bundle;
  ro.no_pivot = a->no_pivot;
  ro.userns = a->plan->userns;
  ro.private_netns = a->plan->private_netns;
  ro.devices_fd = a->devices_fd;
  ro.no_cgroup = a->no_cgroup;
  ro.host_mountns = crt_spec_namespace (spec, CRT_NS_MOUNT) == NULL;
  if (crt_rootfs_mount_all (spec, &ro, &err) < 0)
    die (a, &err);
  CRT_TRACE_POINT ("init: devices");
  if (a->devices_fd >= 0)
    close (a->devices_fd);
  /* Namespaces and mounts exist: the runtime's hooks run now (in the
   * parent), then the container's own, still before pivot_root. */
  if (has_hooks (spec, CRT_HOOK_PRESTART) || has_hooks (spec, CRT_HOOK_CREATE_RUNTIME))
    {
      if (crt_sync_send (a->sync_fd, CRT_SYNC_RUN_CREATE_HOOKS, &err) < 0
          || crt_sync_expect (a->sync_fd, CRT_SYNC_HOOKS_DONE, &err) < 0)
        _exit (1);
    }
  if (run_hooks_here (a, CRT_HOOK_CREATE_CONTAINER, "creating", &err) < 0)
    die (a, &err);
  if (crt_rootfs_pivot (spec, &ro, &err) < 0)
    die (a, &err);
  CRT_TRACE_POINT ("init: root entered");
  /* In the container's root now: from here on paths are resolved there,
   * so nothing that is not the container's may stay open (inherited fds,
   * the cgroup dir crt cloned us into: CVE-2024-21626). */
  {
    const int keep[] = { a->sync_fd, a->start_fd };
    if (crt_close_fds_except (3 + a->preserve_fds, keep, CRT_ARRAY_SIZE (keep), &err) < 0)
      die (a, &err);
  }
  CRT_TRACE_POINT ("init: fds closed");
  if (spec->linux_ && (crt_sysctl_apply (spec->linux_, &err) < 0
                       || crt_memory_policy_apply (spec->linux_->memory_policy, &err) < 0))
    die (a, &err);
  if (spec->process->terminal
      && crt_child_setup_console (a->sync_fd, spec->process, true, &err) < 0)
    die (a, &err);
  /* Before the root may become read-only (runc and crun do the same). */
  if (crt_process_make_cwd (spec->process, &err) < 0)
    die (a, &err);
  if (crt_rootfs_finalize (spec, &err) < 0)
    die (a, &err);
  CRT_TRACE_POINT ("init: cwd, masked and read-only paths");
  /* Look the program up now, so that `create` fails for a missing one. */
  if (crt_process_find_executable (spec->process, &exe, &err) < 0)
    die (a, &err);
  /* seccomp(2) takes a filter from a process with CAP_SYS_ADMIN or
   * no_new_privs. Without noNewPrivileges: load now, while we are still
   * root (runc's order). With it: after the setup sets it, as late as
   * possible, but before READY when the agent must get a listener. */
  nnp = spec->process->no_new_privileges;
  notify = crt_seccomp_filter_uses_notify (a->seccomp);
  if (!nnp && crt_child_load_seccomp (a->sync_fd, a->seccomp, &err) < 0)
    die (a, &err);
  if (crt_process_setup (spec->process, spec->linux_, &err) < 0)
    die (a, &err);
  if (nnp && notify && crt_child_load_seccomp (a->sync_fd, a->seccomp, &err) < 0)
    die (a, &err);

  CRT_TRACE_POINT ("init: capabilities, user, rlimits");
  if (crt_sync_send (a->sync_fd, CRT_SYNC_READY, &err) < 0)
    die (a, &err);
  if (a->start_fd < 0)
    {
      /* `run`: the parent starts us itself, over the sync channel (EOF:
       * it died, and nobody else can start us). */
      if (crt_sync_expect_value (a->sync_fd, CRT_SYNC_START, &ignored_signals, &err) < 0)
        _exit (1);
      conn = a->sync_fd;
    }
  else
    {
      /* EOF here means the parent died before saving the state: nobody
       * could ever start us, so go away. */
      if (crt_sync_expect_value (a->sync_fd, CRT_SYNC_DETACH, &ignored_signals, &err) < 0)
        _exit (1);
      close (a->sync_fd);
      if (wait_for_start (a->start_fd, &conn, &err) < 0)
        _exit (1);
      close (a->start_fd);
    }

  CRT_TRACE_POINT ("init: READY sent, START received");
  /* From here `start` listens on conn for why the program did not run. */
  if (run_hooks_here (a, CRT_HOOK_START_CONTAINER, "created", &err) == 0
      && (!nnp || notify || crt_seccomp_load (a->seccomp, NULL, &err) == 0))
    {
      /* crt run blocked what it forwards; the program starts clean. */
      crt_reset_ignored_signals ((uint32_t) ignored_signals);
      CRT_TRACE_POINT ("init: seccomp, signals");
      CRT_TRACE_DUMP ();
      crt_process_exec (spec->process, exe, a->preserve_fds, &err);
    }
  crt_sync_send_error (conn, err);
  _exit (127);
}
