/* Step 2 of the container's filesystem: enter the rootfs, then masked
 * paths, read-only paths and a read-only root (see rootfs.h). Paths are
 * resolved inside the new root as fds and mounts are attached with
 * move_mount, so this needs no /proc in the container. */
#include "config.h"
#include "mounts.h"
#include "paths.h"
#include "rootfs.h"
#include "util/util.h"
#include "../util/trace.h"
#include "mount_api.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* old_root_private: every mount of the old root is private already (the
 * default rootfsPropagation made `/` so, recursively): nothing of the
 * detach below can reach the host, no rslave needed. */
static int
enter_with_pivot_root (int newroot, bool old_root_private, crt_error **err)
{
  cleanup_close int oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);

  if (oldroot < 0)
    return crt_error_errno (err, "open `/`");
  if (fchdir (newroot) < 0)
    return crt_error_errno (err, "chdir to the rootfs");
  /* pivot_root(".", "."): the old root ends up stacked on the new one,
   * with no need for a directory to put it in. */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return crt_error_errno (err, "pivot_root");
  CRT_TRACE_POINT ("init: pivot_root");
  if (fchdir (oldroot) < 0)
    return crt_error_errno (err, "chdir to the old root");
  /* Slave first, so the detach below cannot propagate to the host. */
  if (!old_root_private && mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return crt_error_errno (err, "make the old root rslave");
  if (umount2 (".", MNT_DETACH) < 0)
    return crt_error_errno (err, "detach the old root");
  CRT_TRACE_POINT ("init: old root detached");
  return 0;
}

/* --no-pivot, for roots pivot_root cannot leave (e.g. an initramfs). */
static int
enter_with_move (int newroot, crt_error **err)
{
  if (fchdir (newroot) < 0)
    return crt_error_errno (err, "chdir to the rootfs");
  if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
    return crt_error_errno (err, "move the rootfs onto `/`");
  if (chroot (".") < 0)
    return crt_error_errno (err, "chroot into the rootfs");
  return 0;
}

static int
attach (int tree, int target)
{
  return move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* The empty read-only tmpfs that covers masked directories (one
 * superblock for all, as runc and crun do now: issue #15), into *out. */
static int
empty_tmpfs (int *out, const char *path, crt_error **err)
{
  cleanup_close int fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);

  if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "size", "0", 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "nr_inodes", "1", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return crt_error_errno (err, "maskedPaths `%s`: create a tmpfs", path);
  *out = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID
                  | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (*out < 0)
    return crt_error_errno (err, "maskedPaths `%s`: create a tmpfs", path);
  return 0;
}

/* What maskedPaths are covered with: the empty tmpfs for directories,
 * a read-only bind of the container's /dev/null for anything else. Each
 * is made once, attached to the first path, and cloned from there onto
 * the others (kernels before 6.15, Debian 12's 6.1, refuse to clone a
 * detached mount); a clone keeps the read-only flag. */
typedef struct mask_sources
{
  int dir;
  int file;
} mask_sources;

static void
mask_sources_close (mask_sources *m)
{
  crt_closep (&m->dir);
  crt_closep (&m->file);
}

/* A read-only bind of /dev/null, once it was checked to be the null
 * device (a rootfs may bring its own /dev), into *out. */
static int
null_bind (int rootfd, int *out, const char *path, crt_error **err)
{
  cleanup_close int null = crt_path_open (rootfd, "/dev/null", O_PATH, 0), tree = -1;
  struct stat nst;

  if (null < 0 || fstat (null, &nst) < 0)
    return crt_error_errno (err, "maskedPaths `%s`: open /dev/null", path);
  if (!S_ISCHR (nst.st_mode) || nst.st_rdev != makedev (1, 3))
    return crt_error_set (err, 0, "maskedPaths `%s`: /dev/null is not the null device", path);
  tree = open_tree (null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 || crt_mount_setattr (tree, 0, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return crt_error_errno (err, "maskedPaths `%s`: bind /dev/null", path);
  *out = crt_steal_fd (&tree);
  return 0;
}

static int
mask_path (int rootfd, const char *path, mask_sources *m, crt_error **err)
{
  cleanup_close int target = crt_path_open (rootfd, path, O_PATH, 0);
  cleanup_close int tree = -1;
  struct stat st;
  int *source;

  if (target < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return crt_error_errno (err, "maskedPaths `%s`", path);
    }
  if (fstat (target, &st) < 0)
    return crt_error_errno (err, "maskedPaths `%s`", path);

  source = S_ISDIR (st.st_mode) ? &m->dir : &m->file;
  if (*source >= 0)
    {
      tree = open_tree (*source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (tree < 0)
        return crt_error_errno (err, "maskedPaths `%s`: clone the mask", path);
    }
  else if ((S_ISDIR (st.st_mode) ? empty_tmpfs (&tree, path, err)
                                 : null_bind (rootfd, &tree, path, err)) < 0)
    return -1;
  if (attach (tree, target) < 0)
    return crt_error_errno (err, "maskedPaths `%s`", path);
  /* The first: attached now, the others are cloned from it. */
  if (*source < 0)
    *source = crt_steal_fd (&tree);
  return 0;
}

/* A recursive read-only bind of the path onto itself; mount_setattr
 * sets only MOUNT_ATTR_RDONLY, so nosuid, nodev, noexec... stay. */
static int
readonly_path (int rootfd, const char *path, crt_error **err)
{
  cleanup_close int target = crt_path_open (rootfd, path, O_PATH, 0);
  cleanup_close int tree = -1;

  if (target < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return crt_error_errno (err, "readonlyPaths `%s`", path);
    }
  tree = open_tree (target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE
                    | AT_EMPTY_PATH);
  if (tree < 0)
    return crt_error_errno (err, "readonlyPaths `%s`: bind", path);
  if (crt_mount_setattr (tree, AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return crt_error_errno (err, "readonlyPaths `%s`: make read-only", path);
  if (attach (tree, target) < 0)
    return crt_error_errno (err, "readonlyPaths `%s`", path);
  return 0;
}

/* Standard streams that are the host's /dev/null (an engine's stdin)
 * become the container's own /dev/null, as runc does: an open file of a
 * mount outside the container is what criu cannot checkpoint. A
 * container without a null device keeps what it has. */
static int
reopen_dev_null_stdio (crt_error **err)
{
  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int null = -1;
  struct stat nst, st;

  if (rootfd < 0)
    return crt_error_errno (err, "open `/`");
  null = crt_path_open (rootfd, "/dev/null", O_RDWR | O_NOCTTY, 0);
  if (null < 0 || fstat (null, &nst) < 0 || !S_ISCHR (nst.st_mode)
      || nst.st_rdev != makedev (1, 3))
    return 0;
  for (int fd = 0; fd < 3; fd++)
    if (fstat (fd, &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == nst.st_rdev)
      {
        /* The same access mode as the stream had. */
        int flags = fcntl (fd, F_GETFL);
        cleanup_close int mine = crt_path_open (rootfd, "/dev/null",
                                                (flags & O_ACCMODE) | O_NOCTTY, 0);
        if (mine < 0 || dup3 (mine, fd, 0) < 0)
          return crt_error_errno (err, "reopen /dev/null as fd %d", fd);
      }
  return 0;
}

int
crt_rootfs_pivot (const crt_spec *spec, const crt_rootfs_options *opts, crt_error **err)
{
  cleanup_close int newroot = -1;
  unsigned long propagation;

  if (crt_rootfs_propagation (spec, &propagation, err) < 0)
    return -1;
  newroot = open (opts->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return crt_error_errno (err, "open the rootfs `%s`", opts->rootfs);
  if (opts->host_mountns)
    {
      /* crt's mount namespace is the host's: only chroot (as runc). */
      if (fchdir (newroot) < 0 || chroot (".") < 0 || chdir ("/") < 0)
        return crt_error_errno (err, "chroot into the rootfs");
      return 0;
    }
  if (opts->no_pivot ? enter_with_move (newroot, err) < 0
                     : enter_with_pivot_root (newroot, propagation == (MS_PRIVATE | MS_REC), err) < 0)
    return -1;
  if (chdir ("/") < 0)
    return crt_error_errno (err, "chdir `/`");

  /* The rootfs bind was made from a private parent; now give it the
   * requested kind (a new peer group for shared). */
  if ((propagation & ~MS_REC) != MS_PRIVATE && (propagation & ~MS_REC) != MS_SLAVE
      && mount (NULL, "/", NULL, propagation, NULL) < 0)
    return crt_error_errno (err, "set the propagation of the rootfs");
  return reopen_dev_null_stdio (err);
}

int
crt_rootfs_finalize (const crt_spec *spec, crt_error **err)
{
  __attribute__ ((cleanup (mask_sources_close))) mask_sources masks = { -1, -1 };
  cleanup_close int rootfd = -1;
  const crt_linux *lx = spec->linux_;

  rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return crt_error_errno (err, "open `/`");
  for (size_t i = 0; lx && i < lx->n_masked_paths; i++)
    if (mask_path (rootfd, lx->masked_paths[i], &masks, err) < 0)
      return -1;
  for (size_t i = 0; lx && i < lx->n_readonly_paths; i++)
    if (readonly_path (rootfd, lx->readonly_paths[i], err) < 0)
      return -1;
  if (spec->root && spec->root->readonly
      && crt_mount_setattr (rootfd, 0, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return crt_error_errno (err, "make the root read-only");
  return 0;
}
