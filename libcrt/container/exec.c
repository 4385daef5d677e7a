/* exec: start a new process inside a running container.
 *
 * crt forks once: the child is born in the container's pid namespace and
 * cgroup (the parent joins pid_for_children around a clone3 with
 * CLONE_INTO_CGROUP), joins the other namespaces itself (user first),
 * applies the process settings and execs. A CLOEXEC socket tells the
 * parent: a message is an error, EOF is a successful exec. */
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "supervise.h"
#include "sync.h"
#include "../cgroup/cgroup.h"
#include "../linux/process.h"
#include "../linux/seccomp.h"
#include "../linux/terminal.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Replace a list of strings by a copy of src. */
static void
set_strv (char ***dst, size_t *n, char *const *src)
{
  size_t len = crt_strv_len (src);
  crt_strv_free (*dst);
  *dst = crt_xmalloc0 ((len + 1) * sizeof (char *));
  for (size_t i = 0; i < len; i++)
    (*dst)[i] = crt_xstrdup (src[i]);
  *n = len;
}

/* Add s to a list unless it is there. */
static void
add_str (char ***list, size_t *n, const char *s)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp ((*list)[i], s) == 0)
      return;
  crt_strv_append (list, n, crt_xstrdup (s));
}

/* The process to run: --process, or the container's own process with
 * the command line's overrides (runc's rules). */
static int
build_process (crt_spec *spec, const crt_exec_options *o, crt_error **err)
{
  crt_process *p;

  if (o->process_path)
    {
      cleanup_free char *text = NULL;
      crt_process *given = NULL;
      if (crt_read_file_at (AT_FDCWD, o->process_path, &text, NULL, err) < 0
          || crt_process_parse (text, o->process_path, &given, err) < 0)
        return -1;
      crt_process_free (spec->process);
      spec->process = given;
      return crt_process_validate (given, o->process_path, "", err);
    }
  p = spec->process;
  if (p == NULL)
    return crt_error_set (err, 0, "the container's config.json has no process to start from");
  if (o->args == NULL || o->args[0] == NULL)
    return crt_error_set (err, 0, "exec: a command (or --process) is required");
  set_strv (&p->args, &p->n_args, o->args);
  /* --env K=V replaces an existing K, so the process sees one value. */
  for (char **e = o->env; e && *e; e++)
    crt_env_set (&p->env, &p->n_env, *e);
  if (o->cwd)
    {
      free (p->cwd);
      p->cwd = crt_xstrdup (o->cwd);
    }
  if (o->has_user)
    {
      p->user.uid = o->uid;
      p->user.gid = o->has_gid ? o->gid : 0;
    }
  if (o->n_additional_gids)
    {
      free (p->user.additional_gids);
      p->user.additional_gids = crt_xmalloc0 (o->n_additional_gids * sizeof (uint32_t));
      memcpy (p->user.additional_gids, o->additional_gids, o->n_additional_gids * sizeof (uint32_t));
      p->user.n_additional_gids = o->n_additional_gids;
    }
  for (char **c = o->caps; c && *c; c++)
    {
      if (p->capabilities == NULL)
        p->capabilities = crt_xmalloc0 (sizeof (*p->capabilities));
      add_str (&p->capabilities->bounding, &p->capabilities->n_bounding, *c);
      add_str (&p->capabilities->effective, &p->capabilities->n_effective, *c);
      add_str (&p->capabilities->permitted, &p->capabilities->n_permitted, *c);
      /* Not inheritable (CVE-2022-29162): that set stays as the config
       * has it. Ambient as runc: it only takes when inheritable has the
       * capability too (crt_caps_resolve drops it otherwise). */
      add_str (&p->capabilities->ambient, &p->capabilities->n_ambient, *c);
      p->capabilities->has_bounding = p->capabilities->has_effective = true;
      p->capabilities->has_permitted = p->capabilities->has_ambient = true;
    }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->tty)
    p->terminal = true;
  return crt_process_validate (p, "exec", "process.", err);
}

/* The init's namespaces that are not ours: those are the container's. */
static int
open_container_namespaces (const crt_spec *spec, pid_t pid, int fds[CRT_NS__COUNT],
                           crt_error **err)
{
  for (int t = 0; t < CRT_NS__COUNT; t++)
    {
      cleanup_free char *theirs = crt_fmt ("/proc/%d/ns/%s", (int) pid, crt_ns_proc_name (t));
      cleanup_free char *ours = crt_fmt ("/proc/self/ns/%s", crt_ns_proc_name (t));
      const crt_namespace *ns = crt_spec_namespace (spec, (crt_ns_type) t);
      struct stat a, b;

      fds[t] = -1;
      /* One the init was cloned into is its own: no need to compare
       * (but a user namespace of ours could not be joined again). */
      if (ns && ns->path == NULL && t != CRT_NS_USER)
        {
          fds[t] = open (theirs, O_RDONLY | O_CLOEXEC);
          if (fds[t] < 0)
            return crt_error_errno (err, "open `%s`", theirs);
          continue;
        }
      if (stat (theirs, &a) < 0)
        {
          if (errno == ENOENT)
            continue; /* a kernel without this namespace type */
          return crt_error_errno (err, "stat `%s`", theirs);
        }
      if (stat (ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue;
      fds[t] = open (theirs, O_RDONLY | O_CLOEXEC);
      if (fds[t] < 0)
        return crt_error_errno (err, "open `%s`", theirs);
    }
  return 0;
}

typedef struct exec_child
{
  const crt_spec *spec;
  const char *id;
  const crt_seccomp_filter *seccomp;
  crt_ns_plan plan;
  int sync_fd;
  int preserve_fds;
  int root_fd;                  /* no mount namespace: the init's root, or -1 */
} exec_child;

__attribute__ ((noreturn)) static void
exec_child_run (exec_child *c)
{
  const crt_process *p = c->spec->process;
  cleanup_free char *exe = NULL;
  crt_error *err = NULL;

  const int keep[] = { c->sync_fd };

  /* Once in the container's namespaces nothing that is not the
   * container's may stay open: the namespace fds, the cgroup dir, what
   * our caller leaked (CVE-2024-21626). */
  if (crt_sync_expect (c->sync_fd, CRT_SYNC_PLACED, &err) < 0
      || crt_oom_score_adj_apply (0, p, &err) < 0
      || crt_ns_join_paths (&c->plan, &err) < 0
      || (c->plan.join_fd[CRT_NS_MOUNT] >= 0 && chdir ("/") < 0
          && crt_error_errno (&err, "chdir /") < 0)
      || (c->root_fd >= 0 && (fchdir (c->root_fd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
          && crt_error_errno (&err, "chroot into the container's root") < 0)
      || crt_close_fds_except (3 + c->preserve_fds, keep, CRT_ARRAY_SIZE (keep), &err) < 0
      || (p->terminal && crt_child_setup_console (c->sync_fd, p, false, &err) < 0)
      || (c->spec->linux_
          && crt_memory_policy_apply (c->spec->linux_->memory_policy, &err) < 0)
      || crt_process_find_executable (p, &exe, &err) < 0)
    goto fail;
  /* The container's filter, in the init's order (see init.c). */
  if (!p->no_new_privileges && crt_child_load_seccomp (c->sync_fd, c->seccomp, &err) < 0)
    goto fail;
  if (crt_process_setup (p, c->spec->linux_, &err) < 0)
    goto fail;
  if (p->no_new_privileges && crt_child_load_seccomp (c->sync_fd, c->seccomp, &err) < 0)
    goto fail;
  crt_reset_signals ();
  crt_process_exec (p, exe, c->preserve_fds, &err);
fail:
  crt_sync_send_error (c->sync_fd, err);
  _exit (127);
}

/* 0 once the child has exec'd (EOF: its end of the socket was
 * close-on-exec), its error otherwise. A pty master and a seccomp
 * listener may come first. */
static int
wait_for_exec (const exec_child *c, pid_t pid, int sync_fd, const char *console_socket,
               int *pty_master, crt_error **err)
{
  for (;;)
    {
      crt_sync_type type;
      int passed;
      char buf[1];
      ssize_t r;

      do
        r = recv (sync_fd, buf, sizeof (buf), MSG_PEEK);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        return 0;
      if (crt_sync_recv (sync_fd, &type, &passed, err) < 0)
        return -1;
      if (passed < 0 || (type != CRT_SYNC_PTY_MASTER && type != CRT_SYNC_SECCOMP_FD))
        {
          crt_closep (&passed);
          return crt_error_set (err, EPROTO, "sync: unexpected message %d", type);
        }
      if (type == CRT_SYNC_SECCOMP_FD)
        {
          cleanup_close int fd = passed;
          cleanup_free char *state = crt_hook_state_for (c->spec, c->id, "running", pid, "");
          if (crt_seccomp_send_notify_fd (c->spec->linux_->seccomp, fd, state, pid, err) < 0)
            return -1;
          continue;
        }
      if (crt_terminal_take_master (passed, console_socket, pty_master, err) < 0)
        return -1;
    }
}

static int
spawn (exec_child *c, int cgroup_fd, const char *console_socket, pid_t *out_pid, int *out_pidfd,
       int *pty_master, crt_error **err)
{
  int sync_fds[2];
  const crt_cpu_affinity *affinity = c->spec->process->exec_cpu_affinity;
  bool in_cgroup, entered;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_fds) < 0)
    return crt_error_errno (err, "socketpair");
  c->sync_fd = sync_fds[1];
  /* The user namespace is joined by the child; it must not be
   * created, so no clone flags at all. */
  c->plan.clone_flags = 0;
  /* Unprivileged, joining the container's pid namespace (for the
   * clone) needs CAP_SYS_ADMIN in the user namespace we are in: we join
   * the container's user namespace first, which we own. We stay
   * non-dumpable, so nothing in it can ptrace us. From there we cannot
   * go back to our own pid namespace for children, so we enter the
   * container's for good: the process is the only child we make. */
  if (crt_unprivileged () && c->plan.join_fd[CRT_NS_USER] >= 0)
    {
      if (setns (c->plan.join_fd[CRT_NS_USER], CLONE_NEWUSER) < 0
          || (c->plan.join_fd[CRT_NS_PID] >= 0 && setns (c->plan.join_fd[CRT_NS_PID], CLONE_NEWPID) < 0))
        {
          close (sync_fds[0]);
          close (sync_fds[1]);
          return crt_error_errno (err, "join the container's user and pid namespaces");
        }
      crt_closep (&c->plan.join_fd[CRT_NS_USER]);
      crt_closep (&c->plan.join_fd[CRT_NS_PID]);
    }
  /* Root in a user namespace that does not own our pid namespace
   * (rootless podman runs crt so, and shares its user namespace with the
   * container): same, we could not come back. */
  else if (c->plan.join_fd[CRT_NS_PID] >= 0 && !crt_ns_own_pid_ns_reenterable ())
    {
      if (setns (c->plan.join_fd[CRT_NS_PID], CLONE_NEWPID) < 0)
        {
          close (sync_fds[0]);
          close (sync_fds[1]);
          return crt_error_errno (err, "join the container's pid namespace");
        }
      crt_closep (&c->plan.join_fd[CRT_NS_PID]);
    }
  /* process.execCPUAffinity (config.md): `initial` is ours, the
   * child's until it is in the container's cgroup; `final` its own once
   * there (set by us: a cpuset cgroup would reset one set before). */
  if (affinity && crt_cpu_affinity_apply (0, affinity->initial, "process.execCPUAffinity.initial",
                                          err) < 0)
    return -1;
  pid = crt_ns_clone (&c->plan, cgroup_fd, out_pidfd, &in_cgroup, err);
  if (pid < 0)
    {
      close (sync_fds[0]);
      close (sync_fds[1]);
      return -1;
    }
  if (pid == 0)
    {
      close (sync_fds[0]);
      exec_child_run (c);
    }
  close (sync_fds[1]);
  /* Without execCPUAffinity, the process gets all its cpuset allows,
   * not crt's mask (runc: only `initial` given keeps `initial`). */
  entered = cgroup_fd < 0 || in_cgroup || crt_cgroup_enter (cgroup_fd, pid, err) == 0;
  if (entered && (affinity == NULL || (affinity->initial == NULL && affinity->final == NULL)))
    crt_cpu_affinity_reset (pid);
  /* The child waits for this: without CLONE_INTO_CGROUP (older kernels)
   * it must not run the program before it is in the container's cgroup,
   * nor with the wrong affinity. */
  if (!entered
      || (affinity && crt_cpu_affinity_apply (pid, affinity->final, "process.execCPUAffinity.final",
                                              err) < 0)
      || crt_sync_send (sync_fds[0], CRT_SYNC_PLACED, err) < 0
      || wait_for_exec (c, pid, sync_fds[0], console_socket, pty_master, err) < 0)
    {
      close (sync_fds[0]);
      crt_kill_and_reap (pid, NULL);
      return -1;
    }
  close (sync_fds[0]);
  *out_pid = pid;
  return 0;
}

static int
open_exec_cgroup (const crt_state_record *rec, const char *sub, int *fd, crt_error **err)
{
  cleanup_free char *path = NULL;

  *fd = -1;
  if (rec->cgroup_path == NULL || rec->cgroup_path[0] == '\0')
    return sub ? crt_error_set (err, 0, "--cgroup: the container has no cgroup") : 0;
  if (sub && (strstr (sub, "..") || sub[0] == '/'))
    return crt_error_set (err, 0, "--cgroup `%s`: must be a relative path without ..", sub);
  path = sub ? crt_fmt ("%s/%s", rec->cgroup_path, sub) : crt_xstrdup (rec->cgroup_path);
  return crt_cgroup_open (path, fd, err);
}

int
crt_container_exec (crt_context *ctx, const char *id, const crt_exec_options *o, int *exit_code,
                    crt_error **err)
{
  cleanup_close int dirfd = -1, cgroup_fd = -1, pidfd = -1, sigfd = -1, pty_master = -1;
  cleanup_close int root_fd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  cleanup_free char *config_text = NULL;
  cleanup_spec crt_spec *spec = NULL;
  cleanup_seccomp_filter crt_seccomp_filter *seccomp = NULL;
  exec_child c;
  sigset_t saved_mask;
  crt_status status;
  pid_t pid = -1;
  int ret, wstatus = 0;

  *exit_code = 0;
  if (crt_state_dir_open (ctx, id, false, &dirfd, err) < 0 || crt_state_read (dirfd, &rec, err) < 0)
    return -1;
  status = crt_state_status (dirfd, &rec);
  if (status == CRT_STATUS_STOPPED || (status == CRT_STATUS_PAUSED && !o->ignore_paused))
    return crt_error_set (err, 0, "cannot exec in container `%s`: it is %s", id,
                          crt_status_name (status));
  if (crt_read_file_at (dirfd, CRT_CONFIG_COPY, &config_text, NULL, err) < 0
      || crt_spec_parse (config_text, "config.json", &spec, err) < 0
      || build_process (spec, o, err) < 0)
    return -1;
  if (spec->process->terminal && o->detach && o->console_socket == NULL)
    return crt_error_set (err, 0, "exec: a detached process with a terminal needs --console-socket");
  /* Nothing from the container's state dir may reach the process. */
  crt_closep (&dirfd);

  if (spec->linux_
      && crt_seccomp_compile_cached (ctx->root, spec->linux_->seccomp, &seccomp, err) < 0)
    return -1;
  memset (&c, 0, sizeof (c));
  c.spec = spec;
  c.id = id;
  c.seccomp = seccomp;
  c.preserve_fds = o->preserve_fds;
  c.root_fd = -1;
  for (int t = 0; t < CRT_NS__COUNT; t++)
    c.plan.join_fd[t] = -1;
  /* Sharing crt's mount namespace, the container is a chroot. */
  if (crt_spec_namespace (spec, CRT_NS_MOUNT) == NULL)
    {
      cleanup_free char *root = crt_fmt ("/proc/%d/root", (int) rec.pid);
      root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root_fd < 0)
        return crt_error_errno (err, "open `%s`", root);
      c.root_fd = root_fd;
    }
  if (open_container_namespaces (spec, rec.pid, c.plan.join_fd, err) < 0
      || open_exec_cgroup (&rec, o->cgroup, &cgroup_fd, err) < 0)
    {
      crt_ns_plan_release (&c.plan);
      return -1;
    }
  /* The init may have died while we opened its namespaces. */
  if (!crt_state_init_alive (&rec))
    {
      crt_ns_plan_release (&c.plan);
      return crt_error_with_code (err, ESRCH, "cannot exec in container `%s`: it is stopped", id);
    }

  if (!o->detach && crt_supervise_begin (&saved_mask, &sigfd, err) < 0)
    {
      crt_ns_plan_release (&c.plan);
      return -1;
    }
  ret = spawn (&c, cgroup_fd, o->console_socket, &pid, &pidfd, &pty_master, err);
  crt_ns_plan_release (&c.plan);
  if (ret == 0 && o->pid_file)
    {
      char buf[32];
      int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
      ret = crt_write_file_atomic (o->pid_file, buf, (size_t) n, 0644, err);
    }
  if (ret == 0 && !o->detach)
    {
      crt_supervision sv = { .pid = pid, .pidfd = pidfd, .sigfd = sigfd,
                             .pty_master = pty_master, .notify_fd = -1 };
      ret = crt_supervise (&sv, &wstatus, err);
      *exit_code = crt_exit_code_of (wstatus);
    }
  if (!o->detach)
    sigprocmask (SIG_SETMASK, &saved_mask, NULL);
  return ret;
}
