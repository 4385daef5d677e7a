/* create: make the container and leave its init waiting for `start`.
 *
 * Process model: the parent (crt) parses and validates everything, makes
 * the state directory and the start socket, then clones the init straight
 * into its new namespaces. The two talk over a SOCK_SEQPACKET pair: the
 * parent writes the user namespace id maps, the init sets up the rootfs
 * and the process and reports READY (or an error, which undoes
 * everything). No re-exec of crt, no helper process. */
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "notify.h"
#include "sync.h"
#include "systemd_scope.h"
#include "../cgroup/cgroup.h"
#include "../linux/devices.h"
#include "../linux/lsm.h"
#include "../linux/netdev.h"
#include "../linux/process.h"
#include "../linux/seccomp.h"
#include "../linux/terminal.h"
#include "../util/clock.h"
#include "../util/util.h"
#include "../util/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void
crt_launch_release (crt_launched *l)
{
  crt_spec_free (l->spec);
  l->spec = NULL;
  crt_state_record_clear (&l->rec);
  crt_closep (&l->dirfd);
  crt_closep (&l->pidfd);
  crt_closep (&l->pty_master);
  crt_closep (&l->sync_fd);
}

/* What the kernel or crt cannot do, refused before anything is made. */
static int
check_supported (const crt_spec *spec, const crt_create_options *opts, bool foreground,
                 crt_error **err)
{
  if (spec->process == NULL)
    return crt_error_set (err, 0, "config.json: process: required to create a container");
  if (spec->root == NULL || spec->root->path == NULL)
    return crt_error_set (err, 0, "config.json: root.path: required");
  if (spec->process->terminal && opts->console_socket == NULL && !foreground)
    return crt_error_set (err, 0,
                          "config.json: process.terminal: a detached container needs "
                          "--console-socket to hand its terminal to");
  /* config-linux.md: an error without a mounted resctrl; with one, crt
   * would have to manage it, and does not (yet): an error too, rather
   * than a container running without the cache/bandwidth split asked. */
  if (spec->linux_ && spec->linux_->intel_rdt)
    return crt_error_set (err, 0, "config.json: linux.intelRdt: not supported by crt (%s)",
                          access ("/sys/fs/resctrl/schemata", F_OK) == 0
                              ? "it does not manage resctrl"
                              : "and no resctrl filesystem is mounted at /sys/fs/resctrl");
  if (crt_sysctl_validate (spec, err) < 0 || crt_netdev_validate (spec->linux_, err) < 0
      || crt_lsm_validate (spec, err) < 0)
    return -1;
  return 0;
}

int
crt_resolve_rootfs (const char *bundle, const crt_spec *spec, char **rootfs, crt_error **err)
{
  cleanup_free char *joined = spec->root->path[0] == '/'
                                  ? crt_xstrdup (spec->root->path)
                                  : crt_fmt ("%s/%s", bundle, spec->root->path);
  cleanup_free char *r = realpath (joined, NULL);
  struct stat st;

  if (r == NULL)
    return crt_error_errno (err, "config.json: root.path: `%s`", spec->root->path);
  if (stat (r, &st) < 0 || !S_ISDIR (st.st_mode))
    return crt_error_set (err, ENOTDIR, "config.json: root.path: `%s`", spec->root->path);
  *rootfs = crt_steal_ptr (&r);
  return 0;
}

int
crt_load_config (const char *config_path, const char *bundle, char **text, crt_spec **spec,
             crt_error **err)
{
  cleanup_free char *path = config_path ? crt_xstrdup (config_path)
                                         : crt_fmt ("%s/config.json", bundle);
  if (crt_spec_read (path, "config.json", text, spec, err) < 0)
    return -1;
  CRT_TRACE_POINT ("config.json read and parsed");
  return crt_spec_validate (*spec, err);
}

/* What the parent needs to answer the init's requests during setup. */
typedef struct setup_peer
{
  crt_context *ctx;
  const crt_spec *spec;
  const crt_create_options *opts;
  const char *id;
  const char *bundle;
  pid_t pid;
  int sync_fd;
  int *pty_master;
  /* `run` without anything between READY and START for the parent to
   * do: START goes out at once (lo is up by then), not after
   * READY. */
  bool start_early;
  bool start_sent;
} setup_peer;

/* Send START ahead of READY when the parent has nothing left to do
 * for the init: it is the last message the init reads on the channel
 * (after READY), so it only saves the round trip. */
static int
start_early_if_due (setup_peer *p, crt_error **err)
{
  if (!p->start_early || p->start_sent)
    return 0;
  p->start_sent = true;
  if (crt_sync_send_release (p->sync_fd, CRT_SYNC_START, err) == 0)
    return 0;
  /* The init is gone already: why is queued for the next read. */
  if ((*err)->errnum != EPIPE && (*err)->errnum != ECONNRESET)
    return -1;
  crt_error_free (err);
  return 0;
}

/* Can START go out before READY? Only when nothing the parent sends the
 * init after the clone (id maps, the cgroup, time offsets, hook
 * results) can follow it, and nothing of the program's start waits on
 * the parent after READY (the notify socket's listener). The one
 * request the program depends on that is allowed is the loopback
 * brought up here (a->loopback_by_parent): START follows it. */
static bool
can_start_early (const crt_spec *spec, const crt_ns_plan *plan, const crt_init_args *a,
                 const char *notify_host)
{
  const crt_hooks *h = spec->hooks;

  if (a->start_fd >= 0 || notify_host || spec->process->terminal || a->wait_cgroup)
    return false;
  if (spec->linux_ && spec->linux_->n_net_devices)
    return false;
  if (plan->new_timens && !plan->dumpable_until_maps)
    return false;
  if (h && (h->n_hooks[CRT_HOOK_PRESTART] || h->n_hooks[CRT_HOOK_CREATE_RUNTIME]))
    return false;
  return !crt_seccomp_filter_uses_notify (a->seccomp);
}

/* prestart hooks were written for a state of "created" (runtime-tools'
 * hooks_stdin checks it); createRuntime is part of creating. */
int
crt_run_create_runtime_hooks (const crt_spec *spec, const char *id, pid_t pid,
                              const char *bundle, crt_error **err)
{
  cleanup_free char *prestart = crt_hook_state_for (spec, id, "created", pid, bundle);
  cleanup_free char *creating = crt_hook_state_for (spec, id, "creating", pid, bundle);

  if (crt_hooks_run (spec->hooks, CRT_HOOK_PRESTART, prestart, err) < 0
      || crt_hooks_run (spec->hooks, CRT_HOOK_CREATE_RUNTIME, creating, err) < 0)
    return -1;
  return 0;
}

static int
run_create_runtime_hooks (const setup_peer *p, crt_error **err)
{
  if (crt_run_create_runtime_hooks (p->spec, p->id, p->pid, p->bundle, err) < 0)
    return -1;
  return crt_sync_send (p->sync_fd, CRT_SYNC_HOOKS_DONE, err);
}

/* The seccomp agent gets the listener fd with the container's state. */
static int
send_seccomp_fd (const setup_peer *p, int notify_fd, crt_error **err)
{
  cleanup_close int fd = notify_fd;
  cleanup_free char *state = crt_hook_state_for (p->spec, p->id, "creating", p->pid, p->bundle);

  return crt_seccomp_send_notify_fd (p->spec->linux_->seccomp, fd, state, p->pid, err);
}

/* The parent's half of the setup, once the init exists: first what the
 * init waits for at once (its id maps)... */
static int
parent_setup_begin (const crt_ns_plan *plan, const setup_peer *p, crt_error **err)
{
  if (crt_oom_score_adj_apply (p->pid, p->spec->process, err) < 0)
    return -1;
  if (plan->new_userns)
    {
      if (plan->dumpable_until_maps && crt_sync_expect (p->sync_fd, CRT_SYNC_DUMPABLE, err) < 0)
        return -1;
      if (crt_ns_write_id_maps (p->pid, p->spec->linux_, err) < 0)
        return -1;
      /* Still dumpable: the init's /proc files are ours to write. */
      if (plan->dumpable_until_maps && plan->new_timens
          && crt_ns_write_time_offsets (p->pid, p->spec->linux_, err) < 0)
        return -1;
      if (crt_sync_send (p->sync_fd, CRT_SYNC_ID_MAPS_DONE, err) < 0)
        return -1;
    }
  return 0;
}

/* ... then answer its requests until it is READY. */
static int
parent_setup_wait (setup_peer *p, crt_error **err)
{
  for (;;)
    {
      crt_sync_type type;
      int passed;
      int r;

      if (crt_sync_recv (p->sync_fd, &type, &passed, err) < 0)
        return -1;
      switch (type)
        {
        case CRT_SYNC_READY:
          crt_closep (&passed);
          return 0;
        case CRT_SYNC_NAMESPACES_READY:
          /* The init's network namespace exists now (it may have made it
           * itself, in a joined user namespace): move the interfaces in,
           * before READY, so the program finds them at start. */
          crt_closep (&passed);
          r = crt_netdev_move_all (p->spec->linux_, p->pid, err);
          break;
        case CRT_SYNC_TIME_UNSHARED:
          crt_closep (&passed);
          r = crt_ns_write_time_offsets (p->pid, p->spec->linux_, err);
          if (r == 0)
            r = crt_sync_send (p->sync_fd, CRT_SYNC_TIME_OFFSETS_DONE, err);
          break;
        case CRT_SYNC_RUN_CREATE_HOOKS:
          crt_closep (&passed);
          r = run_create_runtime_hooks (p, err);
          break;
        case CRT_SYNC_PTY_MASTER:
          r = passed < 0 ? crt_error_set (err, EPROTO, "sync: no pty master")
                         : crt_terminal_take_master (passed, p->opts->console_socket,
                                                     p->pty_master, err);
          break;
        case CRT_SYNC_SECCOMP_FD:
          r = passed < 0 ? crt_error_set (err, EPROTO, "sync: no seccomp fd")
                         : send_seccomp_fd (p, passed, err);
          break;
        default:
          crt_closep (&passed);
          r = crt_error_set (err, EPROTO, "sync: unexpected message %d", type);
        }
      if (r < 0)
        return -1;
    }
}

void
crt_fill_record (crt_state_record *rec, const char *id, const crt_spec *spec, const char *bundle,
             const char *rootfs, pid_t pid, const char *cgroup_path)
{
  char created[CRT_UTC_STAMP_MAX];

  rec->oci_version = crt_xstrdup (spec->oci_version);
  rec->id = crt_xstrdup (id);
  rec->pid = pid;
  rec->pid_start_time = pid > 0 ? crt_proc_start_time (pid) : 0;
  rec->bundle = crt_xstrdup (bundle);
  rec->rootfs = crt_xstrdup (rootfs);
  crt_utc_now (created, true);
  rec->created = crt_xstrdup (created);
  rec->cgroup_path = crt_xstrdup (cgroup_path ? cgroup_path : "");
  rec->private_pidns = crt_spec_namespace (spec, CRT_NS_PID) != NULL;
  if (spec->n_annotations)
    {
      rec->annotations = crt_xmalloc0 (spec->n_annotations * sizeof (crt_kv));
      for (size_t i = 0; i < spec->n_annotations; i++)
        {
          rec->annotations[i].key = crt_xstrdup (spec->annotations[i].key);
          rec->annotations[i].value = crt_xstrdup (spec->annotations[i].value);
        }
      rec->n_annotations = spec->n_annotations;
    }
}

/* What crt_launch has made so far, to undo on failure. */
typedef struct launch_undo
{
  const crt_context *ctx;
  const crt_spec *spec;         /* for poststop hooks once the init existed */
  const char *bundle;
  const char *id;
  int dirfd;                    /* state dir made and locked */
  char *cgroup_path;            /* cgroup made */
  crt_scope *scope;             /* the systemd driver's (unit maybe started) */
  pid_t pid;                    /* init cloned */
} launch_undo;

static void
undo_launch (launch_undo *u)
{
  if (u->pid > 0)
    crt_kill_and_reap (u->pid, NULL);
  if (u->scope)
    crt_scope_abandon (u->scope);
  if (u->cgroup_path)
    crt_cgroup_destroy (u->cgroup_path, NULL);
  if (u->dirfd >= 0)
    crt_state_dir_remove (u->ctx, u->id, u->dirfd, NULL);
  /* A failed create goes on to the end of the lifecycle: poststop. */
  if (u->pid > 0 && u->spec && u->spec->hooks && u->spec->hooks->n_hooks[CRT_HOOK_POSTSTOP])
    {
      cleanup_free char *state = crt_hook_state_for (u->spec, u->id, "stopped", 0, u->bundle);
      crt_hooks_run_logged (u->ctx, u->spec->hooks, CRT_HOOK_POSTSTOP, state);
    }
}

int
crt_make_cgroup (crt_context *ctx, const crt_spec *spec, const char *id, const char *bundle,
                 const char *rootfs, int dirfd, char **made, int *cgroup_fd, crt_error **err)
{
  cleanup_free char *path = NULL;

  if (crt_cgroup_path_for (ctx, spec, id, &path, err) < 0)
    return -1;
  if (path == NULL)
    return 0;
  /* A first state (no init yet: "stopped") names the cgroup before it
   * exists, so that whatever a crt killed from here on leaves, `delete`
   * finds and removes. */
  {
    cleanup_state_record crt_state_record rec = { 0 };
    crt_fill_record (&rec, id, spec, bundle, rootfs, 0, path);
    if (crt_state_write (dirfd, &rec, err) < 0)
      return -1;
  }
  if (crt_cgroup_create (path, cgroup_fd, err) < 0)
    {
      const char *limit = crt_resources_first_limit (spec->linux_ ? spec->linux_->resources : NULL);
      int cause = *err ? (*err)->errnum : 0;

      /* Rootless, as runc: a cgroup the user cannot write (the host's
       * tree is root's unless delegated) is skipped when no limit needs
       * it, and refused, naming the limit, when one does. */
      if (!ctx->rootless || (cause != EACCES && cause != EPERM && cause != EROFS))
        return -1;
      if (limit != NULL)
        return crt_error_prefix (err, "config.json: %s: a rootless container needs a cgroup it "
                                 "can write (a delegated one) for its limits", limit);
      crt_log (ctx, CRT_LOG_DEBUG, "rootless: running without a cgroup: %s", (*err)->msg);
      crt_error_free (err);
      return 0;
    }
  *made = crt_steal_ptr (&path);
  /* Even without linux.resources: the device program (deny all but the
   * default devices) is installed, as runc does (not rootless). */
  if (crt_cgroup_apply_resources (*cgroup_fd, spec->linux_ ? spec->linux_->resources : NULL,
                                  ctx->rootless, err) < 0)
    return crt_error_prefix (err, "config.json: linux.resources");
  return 0;
}

/* With a new user namespace whose root is mapped, the container's root
 * gets its cgroup delegated (crt_cgroup_delegate). Rootless, the cgroup
 * already is the user's, and no other owner is the user's to give. */
int
crt_delegate_cgroup (const crt_spec *spec, int cgroup_fd, const char *scope_cgroup,
                     crt_error **err)
{
  cleanup_close int fd = -1;
  const crt_linux *lx = spec->linux_;
  int64_t uid, gid;

  if (crt_unprivileged () || lx == NULL)
    return 0;
  uid = crt_id_map_host (lx->uid_mappings, lx->n_uid_mappings, geteuid (), 0);
  gid = crt_id_map_host (lx->gid_mappings, lx->n_gid_mappings, getegid (), 0);
  if (uid < 0 || gid < 0)
    return 0;
  if (cgroup_fd < 0)
    {
      if (scope_cgroup == NULL)
        return 0;
      if (crt_cgroup_open (scope_cgroup, &fd, err) < 0)
        return -1;
      cgroup_fd = fd;
    }
  return crt_cgroup_delegate (cgroup_fd, (uid_t) uid, (gid_t) gid, err);
}

/* The systemd driver, once the init exists (and waits): systemd makes
 * the scope for it, the rest of linux.resources goes to the scope's
 * files, then the init may go on. */
static int
enter_scope (crt_scope *s, int dirfd, const char *id, pid_t pid, const crt_spec *spec,
             bool rootless, int sync_fd, char **path, crt_error **err)
{
  cleanup_close int fd = -1;

  if (crt_scope_start (s, dirfd, id, pid, path, err) < 0 || crt_cgroup_open (*path, &fd, err) < 0)
    return -1;
  if (crt_cgroup_apply_resources (fd, spec->linux_ ? spec->linux_->resources : NULL, rootless,
                                  err) < 0)
    return crt_error_prefix (err, "config.json: linux.resources");
  return crt_sync_send (sync_fd, CRT_SYNC_CGROUP_READY, err);
}

/* Socket activation, as runc: fds 3..3+LISTEN_FDS-1 that systemd gave
 * us go on to the program, ahead of --preserve-fds, and it is told
 * LISTEN_FDS=N and LISTEN_PID=1 (it is pid 1 of its namespace). */
static int
socket_activation_fds (crt_process *proc)
{
  const char *fds = getenv ("LISTEN_FDS"), *for_pid = getenv ("LISTEN_PID");
  char *end;
  long n;

  if (fds == NULL || for_pid == NULL || strtol (for_pid, NULL, 10) != (long) getpid ())
    return 0;
  n = strtol (fds, &end, 10);
  if (*end != '\0' || n <= 0 || n > 1024)
    return 0;
  crt_strv_append (&proc->env, &proc->n_env, crt_fmt ("LISTEN_FDS=%ld", n));
  crt_strv_append (&proc->env, &proc->n_env, crt_xstrdup ("LISTEN_PID=1"));
  return (int) n;
}

/* The first child forked the init into its new pid namespace and exits:
 * from now on the init is the container's process (and our child). */
static int
adopt_init (int sync_fd, pid_t *pid, int *pidfd, crt_error **err)
{
  int32_t init_pid;

  if (crt_sync_expect_value (sync_fd, CRT_SYNC_INIT_PID, &init_pid, err) < 0)
    return -1;
  crt_waitpid (*pid, NULL, 0);
  *pid = (pid_t) init_pid;
  crt_closep (pidfd);
  *pidfd = (int) syscall (SYS_pidfd_open, *pid, 0);
  if (*pidfd < 0)
    return crt_error_errno (err, "pidfd_open %d", (int) *pid);
  return 0;
}

/* The init hung up without a word (it reports every failure it sees):
 * it was killed. Say so rather than "the other side went away". Its
 * status is only peeked at (WNOWAIT): the undo reaps it. */
static void
explain_silent_init (int pidfd, crt_error **err)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  siginfo_t si;

  if (pidfd < 0 || *err == NULL || (*err)->errnum != EPIPE)
    return;
  /* Its end of the socket closes a moment before it is a zombie. */
  if (poll (&p, 1, 1000) <= 0)
    return;
  memset (&si, 0, sizeof (si));
  if (waitid ((idtype_t) P_PIDFD, (id_t) pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0
      || si.si_pid == 0)
    return;
  crt_error_free (err);
  if (si.si_code == CLD_EXITED)
    crt_error_set (err, 0, "the container process exited with status %d during its setup",
                   si.si_status);
  else
    crt_error_set (err, 0, "the container process was killed by signal %d (%s) during its setup",
                   si.si_status, strsignal (si.si_status));
}

/* lo of the init's network namespace, set up from here, before START.
 * When that fails because the init failed first (gone, its namespace
 * with it: ESRCH), the init's own error says why: it is the next
 * message, or the socket's end. */
static int
loopback_up_for (int pidfd, int sync_fd, crt_error **err)
{
  crt_error *why = NULL;
  crt_sync_type type;
  int passed = -1;

  if (crt_netdev_loopback_up_in (pidfd, err) == 0)
    return 0;
  if (crt_sync_recv (sync_fd, &type, &passed, &why) == 0)
    {
      crt_closep (&passed);
      return -1;
    }
  crt_error_free (err);
  *err = why;
  explain_silent_init (pidfd, err);
  return -1;
}

int
crt_write_pid_file (const char *path, pid_t pid, crt_error **err)
{
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
  return crt_write_file_atomic (path, buf, (size_t) n, 0644, err);
}

int
crt_launch (crt_context *ctx, const char *id, const crt_create_options *opts, bool foreground,
            bool start_here, crt_launched *out, crt_error **err)
{
  cleanup_free char *bundle = NULL, *rootfs = NULL, *config_text = NULL;
  cleanup_free char *state_dir = NULL, *notify_host = NULL, *scope_cgroup = NULL;
  cleanup_spec crt_spec *spec = NULL;
  cleanup_close int dirfd = -1, start_fd = -1, pidfd = -1, cgroup_fd = -1;
  cleanup_seccomp_filter crt_seccomp_filter *seccomp = NULL;
  cleanup_close int sync_parent = -1, sync_child = -1, devices_fd = -1;
  launch_undo undo = { .ctx = ctx, .id = id, .dirfd = -1 };
  bool use_systemd = ctx->cgroup_manager == CRT_CGROUP_MANAGER_SYSTEMD;
  crt_scope scope;
  crt_ns_plan plan;
  crt_init_args args;
  struct stat bundle_st;
  bool in_cgroup;
  int sync_fds[2];
  pid_t pid;

  memset (out, 0, sizeof (*out));
  out->dirfd = out->pidfd = out->pty_master = out->sync_fd = -1;
  if (crt_id_validate (id, err) < 0)
    return -1;
  bundle = realpath (opts->bundle ? opts->bundle : ".", NULL);
  if (bundle == NULL)
    return crt_error_errno (err, "bundle `%s`", opts->bundle ? opts->bundle : ".");
  if (stat (bundle, &bundle_st) < 0 || !S_ISDIR (bundle_st.st_mode))
    return crt_error_set (err, ENOTDIR, "bundle `%s`", opts->bundle ? opts->bundle : ".");
  if (crt_load_config (opts->config_path, bundle, &config_text, &spec, err) < 0
      || check_supported (spec, opts, foreground, err) < 0 || crt_resolve_rootfs (bundle, spec, &rootfs, err) < 0)
    return -1;
  CRT_TRACE_POINT ("config validated, rootfs resolved");
  /* A bad profile fails here, naming its JSON path, before anything
   * exists; the init only loads the compiled program. */
  if (spec->linux_
      && crt_seccomp_compile_cached (ctx->root, spec->linux_->seccomp, &seccomp, err) < 0)
    return -1;
  for (char *const *name = crt_seccomp_filter_skipped (seccomp); name && *name; name++)
    crt_log (ctx, CRT_LOG_DEBUG, "seccomp: syscall `%s` unknown here, skipped", *name);
  CRT_TRACE_POINT ("seccomp program (from the cache)");
  /* systemd reachable, the unit named and its properties valid, before
   * anything exists. */
  if (use_systemd && crt_scope_prepare (spec, id, ctx->rootless, &scope, err) < 0)
    return -1;
  if (crt_ns_plan_make (spec, &plan, err) < 0)
    {
      if (use_systemd)
        crt_scope_release (&scope);
      return -1;
    }
  undo.scope = use_systemd ? &scope : NULL;
  CRT_TRACE_POINT ("namespace plan");
  /* Root's /proc files stay root's: only an unprivileged crt needs it. */
  plan.dumpable_until_maps = plan.new_userns && crt_unprivileged ();

  /* From here on, every failure undoes what was made. */
  if (crt_state_dir_create (ctx, id, &dirfd, err) < 0)
    goto fail;
  undo.dirfd = dirfd;
  state_dir = crt_state_dir_path (ctx, id);
  if (crt_notify_prepare (spec, dirfd, state_dir, &notify_host, err) < 0
      || crt_make_cgroup (ctx, spec, id, bundle, rootfs, dirfd, &undo.cgroup_path, &cgroup_fd, err) < 0)
    goto fail;
  CRT_TRACE_POINT ("state dir, notify, cgroup");
  /* Made here, before the clone, so the init holds it whatever user it
   * becomes and wherever its root is. `run` releases the init itself,
   * over the sync channel, and needs none. */
  if (!start_here && crt_start_socket_listen (dirfd, &start_fd, err) < 0)
    goto fail;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_fds) < 0)
    {
      crt_error_errno (err, "socketpair");
      goto fail;
    }
  sync_parent = sync_fds[0];
  sync_child = sync_fds[1];

  memset (&args, 0, sizeof (args));
  args.id = id;
  args.spec = spec;
  args.plan = &plan;
  args.rootfs = rootfs;
  args.bundle = bundle;
  args.sync_fd = sync_child;
  args.start_fd = start_fd;
  args.seccomp = seccomp;
  args.state_dirfd = dirfd;
  args.preserve_fds = opts->preserve_fds + socket_activation_fds (spec->process);
  args.no_pivot = opts->no_pivot;
  args.no_new_keyring = opts->no_new_keyring;
  args.no_cgroup = cgroup_fd < 0 && !use_systemd;
  /* systemd moves the init into its scope after the clone: the cgroup
   * namespace it would be born with would be rooted in crt's cgroup. */
  args.wait_cgroup = use_systemd;
  if (use_systemd && plan.join_fd[CRT_NS_USER] < 0 && (plan.clone_flags & CLONE_NEWCGROUP))
    {
      plan.clone_flags &= ~CLONE_NEWCGROUP;
      args.unshare_cgroupns = true;
    }
  /* Host root, a network namespace the clone makes and no user
   * namespace: the parent, which only waits for READY, sets its lo up
   * (joining the namespace through the pidfd for a netlink socket: 30 us
   * less on the init's path than the init making one and handing it
   * over) while the init mounts. A createContainer hook, run by the
   * init, may want it up already: then the init does it first. */
  args.loopback_by_parent = (plan.clone_flags & CLONE_NEWNET) && !plan.userns
                            && !plan.pid_after_join && !ctx->rootless && !crt_unprivileged ()
                            && !(spec->hooks && spec->hooks->n_hooks[CRT_HOOK_CREATE_CONTAINER]);
  args.devices_fd = -1;
  /* Unprivileged, crt cannot mknod: the init binds the host's nodes. */
  if (plan.new_userns && !ctx->rootless)
    {
      crt_error *prep = NULL;
      devices_fd = crt_devices_prepare (spec, &prep);
      if (prep)
        {
          *err = prep;
          goto fail;
        }
      args.devices_fd = devices_fd;
    }

  /* The init may be a grandchild (pid_after_join): adopt it when its
   * parent exits, so we can wait for it like any child. */
  if (plan.pid_after_join && prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    {
      crt_error_errno (err, "become a subreaper");
      goto fail;
    }
  CRT_TRACE_POINT ("sync socket, init args");
  pid = crt_ns_clone (&plan, cgroup_fd, &pidfd, &in_cgroup, err);
  if (pid < 0)
    goto fail;
  if (pid == 0)
    {
      close (sync_parent);
      CRT_TRACE_POINT ("init: clone3 returned");
      crt_init_run (&args);
    }
  CRT_TRACE_POINT ("parent: clone3 returned");
  /* Our work until READY (the state staged, START) then overlaps the
   * init's setup: 5% of `run` here (reset below, in its cgroup). */
  crt_cpu_move_off_ours (pid);
  undo.pid = pid;
  if (use_systemd
      && enter_scope (&scope, dirfd, id, pid, spec, ctx->rootless, sync_parent, &scope_cgroup, err) < 0)
    goto fail;
  if (plan.pid_after_join && adopt_init (sync_parent, &pid, &pidfd, err) < 0)
    goto fail;
  undo.pid = pid;
  undo.spec = spec;
  undo.bundle = bundle;
  crt_closep (&sync_child);
  crt_closep (&devices_fd);

  {
    setup_peer peer = { .ctx = ctx, .spec = spec, .opts = opts, .id = id, .bundle = bundle,
                        .pid = pid, .sync_fd = sync_parent, .pty_master = &out->pty_master };
    /* (Not with a pid file: written after READY, it could fail when the
     * program runs already.) */
    peer.start_early = start_here && !opts->pid_file
                       && can_start_early (spec, &plan, &args, notify_host);
    if ((cgroup_fd >= 0 && !in_cgroup && crt_cgroup_enter (cgroup_fd, pid, err) < 0)
        || (plan.new_userns && crt_delegate_cgroup (spec, cgroup_fd, scope_cgroup, err) < 0)
        || parent_setup_begin (&plan, &peer, err) < 0)
      {
        explain_silent_init (pidfd, err);
        goto fail;
      }
    /* In its cgroup now: not crt's affinity but all its cpuset allows,
     * before the program can start. */
    crt_cpu_affinity_reset (pid);
    if ((args.loopback_by_parent && loopback_up_for (pidfd, sync_parent, err) < 0)
        || start_early_if_due (&peer, err) < 0)
      goto fail;
    /* The state is written aside while the init sets itself up (we would
     * only wait), and put in place once it is READY; so is the copy of
     * config.json the other commands read (the init needs none). */
    crt_fill_record (&out->rec, id, spec, bundle, rootfs, pid,
                     undo.cgroup_path ? undo.cgroup_path : scope_cgroup);
    out->rec.notify_socket = crt_steal_ptr (&notify_host);
    if (crt_state_stage (dirfd, &out->rec, err) < 0
        || crt_write_file_at (dirfd, CRT_CONFIG_COPY, config_text, strlen (config_text), 0600,
                              err) < 0)
      goto fail;
    CRT_TRACE_POINT ("parent: START early, state staged");
    if (parent_setup_wait (&peer, err) < 0)
      {
        explain_silent_init (pidfd, err);
        goto fail;
      }
    out->start_sent = peer.start_sent;
    CRT_TRACE_POINT ("parent: init READY");
  }
  if (crt_state_commit (dirfd, err) < 0
      || (opts->pid_file && crt_write_pid_file (opts->pid_file, pid, err) < 0)
      || (!start_here && crt_sync_send_release (sync_parent, CRT_SYNC_DETACH, err) < 0))
    goto fail;
  free (undo.cgroup_path);
  if (use_systemd)
    crt_scope_release (&scope);
  crt_ns_plan_release (&plan);
  out->spec = crt_steal_ptr (&spec);
  out->dirfd = crt_steal_fd (&dirfd);
  out->pidfd = crt_steal_fd (&pidfd);
  if (start_here)
    out->sync_fd = crt_steal_fd (&sync_parent);
  out->pid = pid;
  return 0;

fail:
  crt_state_record_clear (&out->rec);
  crt_closep (&out->pty_master);
  undo_launch (&undo);
  free (undo.cgroup_path);
  crt_ns_plan_release (&plan);
  return -1;
}

int
crt_container_create (crt_context *ctx, const char *id, const crt_create_options *opts,
                      crt_error **err)
{
  crt_launched l;
  if (crt_launch (ctx, id, opts, false, false, &l, err) < 0)
    return -1;
  CRT_TRACE_POINT ("parent: state committed");
  CRT_TRACE_DUMP ();
  crt_launch_release (&l);
  return 0;
}
