/* restore: make a container again from its bundle and a checkpoint.
 * crt makes what create makes (the state directory, the config copy,
 * the cgroup from the bundle's config.json), bind-mounts the rootfs
 * where criu is told the root is, puts criu into the cgroup (with the
 * systemd driver: has systemd make the scope for criu, as runc does) and
 * asks it to restore with rst_sibling, so that the restored init is
 * crt's child, not criu's. criu's notifications run the prestart and
 * createRuntime hooks once the namespaces exist ("setup-namespaces", as
 * runc), and hand over the new pty master of a terminal
 * ("orphan-pts-master"). The container is then running with that pid;
 * in the foreground crt supervises it as `run` does. */
#include "config.h"
#include "container.h"
#include "criu.h"
#include "supervise.h"
#include "systemd_scope.h"
#include "../linux/mounts.h"
#include "../linux/paths.h"
#include "../linux/terminal.h"
#include "../cgroup/cgroup.h"
#include "../spec/json.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* criu's root: a bind of the rootfs in the state directory, as runc
 * does, so that criu mounts a tree of its own and not the rootfs that
 * other mounts may share. */
#define CRIU_ROOT "criu-root"

/* What restore has made so far, to undo on failure. */
typedef struct restore_undo
{
  crt_context *ctx;
  const char *id;
  int dirfd;
  char *cgroup_path;            /* made by crt (cgroupfs) */
  crt_scope *scope;             /* the systemd driver's (unit maybe started) */
  char *scope_cgroup;           /* systemd's, for the scope */
  char *criu_root;              /* mounted */
  pid_t pid;                    /* restored */
  int pty_master;               /* kept for a foreground proxy */
} restore_undo;

static void
unmount_criu_root (restore_undo *u)
{
  if (u->criu_root == NULL)
    return;
  umount2 (u->criu_root, MNT_DETACH);
  rmdir (u->criu_root);
  free (u->criu_root);
  u->criu_root = NULL;
}

static void
undo_restore (restore_undo *u)
{
  unmount_criu_root (u);
  if (u->pid > 0)
    crt_kill_and_reap (u->pid, NULL);
  crt_closep (&u->pty_master);
  if (u->scope)
    {
      crt_scope_abandon (u->scope);
      free (u->scope);
      u->scope = NULL;
    }
  if (u->cgroup_path)
    crt_cgroup_destroy (u->cgroup_path, NULL);
  if (u->dirfd >= 0)
    crt_state_dir_remove (u->ctx, u->id, u->dirfd, NULL);
  free (u->cgroup_path);
  u->cgroup_path = NULL;
}

static void
release_restore (restore_undo *u)
{
  free (u->cgroup_path);
  free (u->scope_cgroup);
  u->cgroup_path = u->scope_cgroup = NULL;
  if (u->scope)
    crt_scope_release (u->scope);
  free (u->scope);
  u->scope = NULL;
}

/* Hooks: prestart and createRuntime run when criu has made the
 * namespaces (the restored tree is their pid), poststop at delete, as
 * runc. createContainer, startContainer and poststart are not run
 * again: the restored process went past those points in its first life
 * (runc does not run them at restore either). */
static int
check_restorable (const crt_spec *spec, const crt_restore_options *opts, crt_error **err)
{
  bool terminal = spec->process && spec->process->terminal;

  if (crt_criu_check_spec (spec, "restore", err) < 0)
    return -1;
  if (opts->console_socket && !terminal)
    return crt_error_set (err, 0, "--console-socket: the container has no terminal "
                                  "(process.terminal is false)");
  if (terminal && opts->console_socket == NULL && opts->detach)
    return crt_error_set (err, 0, "config.json: process.terminal: a detached restore needs "
                                  "--console-socket to hand the new terminal to");
  return 0;
}

/* What criu's notifications need. */
typedef struct restore_notify
{
  const crt_spec *spec;
  const char *id;
  const char *bundle;
  const char *console_socket;
  int *pty_master;
  bool got_pty;
} restore_notify;

static int
on_criu_notify (const char *script, int pid, int *fd, void *data, crt_error **err)
{
  restore_notify *n = data;

  if (strcmp (script, "setup-namespaces") == 0)
    return crt_run_create_runtime_hooks (n->spec, n->id, pid, n->bundle, err);
  if (strcmp (script, "orphan-pts-master") == 0)
    {
      if (*fd < 0)
        return crt_error_set (err, EPROTO, "criu: orphan-pts-master came without a descriptor");
      n->got_pty = true;
      return crt_terminal_take_master (crt_steal_fd (fd), n->console_socket, n->pty_master, err);
    }
  return 0;
}

/* An image directory: exists, and holds a dump (criu's inventory). */
static int
open_images (const char *path, int *fd, crt_error **err)
{
  struct stat st;

  if (crt_criu_open_dir (path, false, "--image-path", fd, err) < 0)
    return -1;
  if (fstatat (*fd, "inventory.img", &st, 0) < 0)
    return crt_error_errno (err, "--image-path `%s`: not a checkpoint (no inventory.img)", path);
  return 0;
}

/* runc's inheritance of stdio: the init's pipes at checkpoint time
 * become ours (fds 0..2) at restore. */
static int
inherit_stdio (int image_fd, crt_criu_opts *o, char ***owned, crt_error **err)
{
  cleanup_free char *text = NULL;
  size_t n_owned = crt_strv_len (*owned), len;
  yajl_val v = NULL;

  if (crt_read_file_at (image_fd, CRT_CRIU_DESCRIPTORS, &text, &len, NULL) < 0)
    return 0;                   /* a checkpoint of another tool: nothing to map */
  if (jparse_text (text, len, CRT_CRIU_DESCRIPTORS, &v, err) < 0)
    return -1;
  if (!YAJL_IS_ARRAY (v))
    {
      yajl_tree_free (v);
      return crt_error_set (err, 0, "%s: not a JSON array", CRT_CRIU_DESCRIPTORS);
    }
  for (size_t i = 0; i < v->u.array.len && i < 3; i++)
    {
      yajl_val s = v->u.array.values[i];
      if (!YAJL_IS_STRING (s) || !crt_str_has_prefix (s->u.string, "pipe:"))
        continue;
      crt_strv_append (owned, &n_owned, crt_xstrdup (s->u.string));
      o->inherit_fd[o->n_inherit_fd].key = (*owned)[n_owned - 1];
      o->inherit_fd[o->n_inherit_fd].fd = (int) i;
      o->n_inherit_fd++;
    }
  yajl_tree_free (v);
  return 0;
}

/* A joined network namespace, named external at checkpoint, is handed
 * back by the path config.json gives. */
static int
inherit_netns (const crt_spec *spec, crt_criu_opts *o, int *fd, crt_error **err)
{
  const crt_namespace *ns = crt_spec_namespace (spec, CRT_NS_NETWORK);

  if (ns == NULL || ns->path == NULL)
    return 0;
  *fd = open (ns->path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0)
    return crt_error_errno (err, "config.json: linux.namespaces: network `%s`", ns->path);
  o->inherit_fd[o->n_inherit_fd].key = CRT_CRIU_NETNS_KEY;
  o->inherit_fd[o->n_inherit_fd].fd = *fd;
  o->n_inherit_fd++;
  return 0;
}

/* Below another mount of config.json (a tmpfs, whose content criu
 * restores with its mount points, or another bind's source)? */
static bool
below_other_mount (const crt_spec *spec, size_t index)
{
  cleanup_free char *dest = crt_path_clean (spec->mounts[index].destination);

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      cleanup_free char *other = NULL;
      size_t n;

      if (i == index || spec->mounts[i].destination == NULL)
        continue;
      other = crt_path_clean (spec->mounts[i].destination);
      n = strlen (other);
      if (n == 0 || (strncmp (dest, other, n) == 0 && dest[n] == '/'))
        return true;
    }
  return false;
}

/* As runc: the destination of a mount that the rootfs no longer has (a
 * fresh copy of the image, say: containerd's restore) is made again as
 * create made it, so that criu can mount there: a directory, or for a
 * bind of a file, a file. Through the fd resolver: a symlink in the
 * rootfs cannot lead out of it. */
static int
make_mount_targets (const crt_spec *spec, const char *bundle, const char *rootfs,
                    crt_error **err)
{
  cleanup_close int rootfd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (rootfd < 0)
    return crt_error_errno (err, "root.path `%s`", rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const crt_mount *m = &spec->mounts[i];
      cleanup_free char *source = NULL, *dest = NULL;
      cleanup_close int fd = -1;
      bool directory = true;

      if (m->destination == NULL || below_other_mount (spec, i))
        continue;
      if (crt_mount_is_bind (m))
        {
          source = crt_criu_bind_source (m, bundle);
          directory = source == NULL || crt_mount_source_is_directory (source, false);
        }
      dest = crt_path_clean (m->destination);
      fd = crt_path_create (rootfd, dest, directory, directory ? 0755 : 0644, 0);
      if (fd < 0)
        return crt_error_errno (err, "config.json: mounts[%zu].destination `%s`", i,
                                m->destination);
    }
  return 0;
}

static int
mount_criu_root (int dirfd, const char *id, crt_context *ctx, const char *rootfs,
                 restore_undo *u, crt_error **err)
{
  cleanup_free char *state_dir = crt_state_dir_path (ctx, id);
  cleanup_free char *root = crt_fmt ("%s/%s", state_dir, CRIU_ROOT);

  if (mkdirat (dirfd, CRIU_ROOT, 0700) < 0)
    return crt_error_errno (err, "create `%s`", root);
  if (mount (rootfs, root, NULL, MS_BIND | MS_REC, NULL) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, CRIU_ROOT, AT_REMOVEDIR);
      return crt_error_set (err, saved, "bind the rootfs onto `%s`", root);
    }
  u->criu_root = crt_steal_ptr (&root);
  return 0;
}

typedef struct restore_job
{
  crt_criu_opts o;
  char **owned;
  int netns_fd;
  int image_fd, work_fd;
  const char *work_path;
  const crt_resources *resources;
  bool rootless;
  restore_notify notify;
} restore_job;

/* criu forks the restored tasks: they start in its cgroup. With the
 * systemd driver, systemd makes the scope for criu (runc's way) and the
 * rest of linux.resources goes to its files, as at create; criu is told
 * that cgroup is the root to restore into. With a new user namespace
 * the cgroup is delegated to its root, as at create. */
static int
enter_cgroup (restore_job *j, pid_t criu_pid, int cgroup_fd, restore_undo *u, crt_error **err)
{
  const crt_namespace *userns = crt_spec_namespace (j->notify.spec, CRT_NS_USER);
  cleanup_close int fd = -1;

  if (u->scope == NULL)
    {
      if (cgroup_fd >= 0 && crt_cgroup_enter (cgroup_fd, criu_pid, err) < 0)
        return -1;
    }
  else
    {
      if (crt_scope_start (u->scope, u->dirfd, u->id, criu_pid, &u->scope_cgroup, err) < 0
          || crt_cgroup_open (u->scope_cgroup, &fd, err) < 0)
        return -1;
      if (crt_cgroup_apply_resources (fd, j->resources, j->rootless, err) < 0)
        return crt_error_prefix (err, "config.json: linux.resources");
      j->o.cg_root[0].val = u->scope_cgroup;
      j->o.n_cg_root = 1;
    }
  if (userns && userns->path == NULL
      && crt_delegate_cgroup (j->notify.spec, cgroup_fd, u->scope_cgroup, err) < 0)
    return -1;
  return 0;
}

/* Run criu's restore; the restored init's pid in u->pid. */
static int
run_criu (restore_job *j, int cgroup_fd, restore_undo *u, crt_error **err)
{
  int keep[3 + CRT_CRIU_MAX_LIST];
  size_t n_keep = 0;
  crt_criu_resp resp = { 0 };
  crt_criu criu;
  int ret;

  keep[n_keep++] = j->image_fd;
  keep[n_keep++] = j->work_fd;
  keep[n_keep++] = j->netns_fd;
  if (crt_criu_start (&criu, keep, n_keep, err) < 0)
    return -1;
  if (enter_cgroup (j, criu.pid, cgroup_fd, u, err) < 0)
    {
      crt_kill_and_reap (criu.pid, NULL);
      crt_closep (&criu.sock);
      return -1;
    }
  ret = crt_criu_call (&criu, CRT_CRIU_REQ_RESTORE, &j->o, on_criu_notify, &j->notify, &resp,
                       err);
  crt_criu_finish (&criu);
  if (ret == 0 && resp.restore_pid > 0)
    u->pid = resp.restore_pid;
  if (ret == 0 && !resp.success)
    ret = crt_criu_explain (&resp, "restore", j->work_fd, j->work_path, CRT_CRIU_RESTORE_LOG,
                            err);
  else if (ret == 0 && resp.restore_pid <= 0)
    ret = crt_error_set (err, EPROTO, "criu restore: no pid in its answer");
  else if (ret == 0 && j->o.orphan_pts_master && !j->notify.got_pty)
    ret = crt_error_set (err, EPROTO, "config.json: process.terminal: criu restored no "
                                      "terminal (the checkpoint has none to hand over)");
  crt_criu_resp_clear (&resp);
  return ret;
}

static int
plan_restore (const crt_restore_options *opts, const crt_spec *spec, const char *bundle,
              const restore_undo *u, restore_job *j, crt_error **err)
{
  crt_criu_opts *o = &j->o;

  o->images_dir_fd = j->image_fd;
  o->work_dir_fd = j->work_fd;
  o->log_level = 4;
  o->log_file = CRT_CRIU_RESTORE_LOG;
  o->root = u->criu_root;
  o->rst_sibling = true;
  if (crt_criu_switches_apply (&opts->criu, o, err) < 0)
    return -1;
  o->notify_scripts = true;
  /* criu makes a new pty pair for the restored terminal and sends its
   * master (on_criu_notify). */
  o->orphan_pts_master = spec->process && spec->process->terminal;
  o->manage_cgroups = true;
  if (u->cgroup_path)
    {
      o->cg_root[0].val = u->cgroup_path;
      o->n_cg_root = 1;
    }
  else if (u->scope == NULL && o->manage_cgroups_mode == CRT_CRIU_CG_UNSET)
    /* --cgroup-manager=disabled: no cgroup of crt's for criu to make
     * (it would recreate the dumped one, which nothing removes). */
    o->manage_cgroups_mode = CRT_CRIU_CG_IGNORE;
  if (crt_criu_ext_mounts (spec, bundle, o, &j->owned, err) < 0
      || inherit_stdio (j->image_fd, o, &j->owned, err) < 0
      || inherit_netns (spec, o, &j->netns_fd, err) < 0)
    return -1;
  return 0;
}

/* Everything up to the running container: its record written, the
 * pid file too; *pid and *pidfd its init. */
static int
restore_container (crt_context *ctx, const char *id, const crt_restore_options *opts,
                   restore_undo *u, crt_spec **spec_out, pid_t *pid, int *pidfd,
                   crt_error **err)
{
  cleanup_free char *bundle = NULL, *rootfs = NULL, *config_text = NULL, *criu_path = NULL;
  cleanup_spec crt_spec *spec = NULL;
  cleanup_close int image_fd = -1, work_fd = -1, cgroup_fd = -1, netns_fd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  const char *image_path = crt_criu_image_path (&opts->criu);
  restore_job j = { .netns_fd = -1 };
  int ret;

  if (crt_id_validate (id, err) < 0)
    return -1;
  bundle = realpath (opts->bundle ? opts->bundle : ".", NULL);
  if (bundle == NULL)
    return crt_error_errno (err, "bundle `%s`", opts->bundle ? opts->bundle : ".");
  if (crt_load_config (NULL, bundle, &config_text, &spec, err) < 0
      || check_restorable (spec, opts, err) < 0
      || crt_resolve_rootfs (bundle, spec, &rootfs, err) < 0
      || crt_criu_switches_check (&opts->criu, err) < 0
      || crt_criu_find (&criu_path, err) < 0
      || open_images (image_path, &image_fd, err) < 0
      || crt_criu_images_for_userns (spec, image_fd, image_path, false, err) < 0
      || crt_criu_open_dir (crt_criu_work_path (&opts->criu), true,
                            "--work-path", &work_fd, err) < 0)
    return -1;
  /* systemd reachable, the unit named and its properties valid, before
   * anything exists. */
  if (ctx->cgroup_manager == CRT_CGROUP_MANAGER_SYSTEMD)
    {
      u->scope = crt_xmalloc0 (sizeof (*u->scope));
      if (crt_scope_prepare (spec, id, ctx->rootless, u->scope, err) < 0)
        {
          free (u->scope);
          u->scope = NULL;
          return -1;
        }
    }

  if (crt_state_dir_create (ctx, id, &u->dirfd, err) < 0)
    return -1;
  if (crt_write_file_at (u->dirfd, CRT_CONFIG_COPY, config_text, strlen (config_text), 0600,
                         err) < 0
      || crt_make_cgroup (ctx, spec, id, bundle, rootfs, u->dirfd, &u->cgroup_path, &cgroup_fd,
                          err) < 0
      || make_mount_targets (spec, bundle, rootfs, err) < 0
      || mount_criu_root (u->dirfd, id, ctx, rootfs, u, err) < 0)
    return -1;
  j.image_fd = image_fd;
  j.work_fd = work_fd;
  j.work_path = crt_criu_work_path (&opts->criu);
  j.resources = spec->linux_ ? spec->linux_->resources : NULL;
  j.rootless = ctx->rootless;
  j.notify = (restore_notify){ .spec = spec, .id = id, .bundle = bundle,
                               .console_socket = opts->console_socket,
                               .pty_master = &u->pty_master };
  ret = plan_restore (opts, spec, bundle, u, &j, err);
  netns_fd = j.netns_fd;
  if (ret == 0)
    ret = run_criu (&j, cgroup_fd, u, err);
  crt_strv_free (j.owned);
  unmount_criu_root (u);
  if (ret < 0)
    return -1;

  *pidfd = (int) syscall (SYS_pidfd_open, u->pid, 0);
  if (*pidfd < 0)
    return crt_error_errno (err, "pidfd_open %d", (int) u->pid);
  crt_fill_record (&rec, id, spec, bundle, rootfs, u->pid,
                   u->cgroup_path ? u->cgroup_path : u->scope_cgroup);
  if (crt_state_write (u->dirfd, &rec, err) < 0
      || (opts->pid_file && crt_write_pid_file (opts->pid_file, u->pid, err) < 0))
    return -1;
  *pid = u->pid;
  *spec_out = crt_steal_ptr (&spec);
  return 0;
}

int
crt_container_restore (crt_context *ctx, const char *id, const crt_restore_options *opts,
                       int *exit_code, crt_error **err)
{
  restore_undo u = { .ctx = ctx, .id = id, .dirfd = -1, .pty_master = -1 };
  cleanup_close int sigfd = -1, pidfd = -1;
  cleanup_spec crt_spec *spec = NULL;
  sigset_t saved;
  pid_t pid = -1;
  int status = 0, ret;

  *exit_code = 0;
  /* Blocked before the init exists, so no signal meant for it is lost. */
  if (!opts->detach && crt_supervise_begin (&saved, &sigfd, err) < 0)
    return -1;
  ret = restore_container (ctx, id, opts, &u, &spec, &pid, &pidfd, err);
  if (ret < 0)
    undo_restore (&u);
  else if (opts->detach)
    crt_closep (&u.dirfd);
  else
    {
      crt_supervision sv = { .pid = pid, .pidfd = pidfd, .sigfd = sigfd,
                             .pty_master = u.pty_master, .notify_fd = -1 };
      cleanup_close int dirfd = -1;
      crt_error *derr = NULL;

      /* Let state/kill/exec from other crt processes in while we wait. */
      crt_closep (&u.dirfd);
      ret = crt_supervise (&sv, &status, err);
      if (ret < 0)
        crt_kill_and_reap (pid, &status);
      *exit_code = crt_exit_code_of (status);
      /* Gone when it exits, as after `run` (unless someone deleted it). */
      if (crt_state_dir_open (ctx, id, true, &dirfd, &derr) == 0)
        crt_destroy (ctx, id, dirfd, ret < 0 ? NULL : &derr);
      if (ret == 0 && derr && derr->errnum != ENOENT)
        {
          *err = derr;
          ret = -1;
        }
      else
        crt_error_free (&derr);
    }
  crt_closep (&u.pty_master);
  release_restore (&u);
  if (!opts->detach)
    sigprocmask (SIG_SETMASK, &saved, NULL);
  return ret;
}
