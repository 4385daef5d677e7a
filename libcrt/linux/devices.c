/* Device nodes and /dev links; see devices.h. */
#include "config.h"
#include "devices.h"
#include "namespaces.h"
#include "paths.h"
#include "util/util.h"
#include "mount_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef struct
{
  const char *display;  /* the container path, for messages */
  const char *host;     /* the host node to bind when mknod is not allowed */
  mode_t type;          /* S_IFCHR, S_IFBLK or S_IFIFO */
  dev_t rdev;
  mode_t perm;
  uid_t uid;
  gid_t gid;
  bool strict;          /* an existing different file is an error */
} node_spec;

static bool
node_matches (const struct stat *st, const node_spec *n)
{
  if ((st->st_mode & S_IFMT) != n->type)
    return false;
  return n->type == S_IFIFO || st->st_rdev == n->rdev;
}

/* Give a node its mode and owner, through an fd so a symlink swapped in
 * meanwhile is not followed. A node already bound from the host in a
 * user namespace cannot be changed, and is left as it is. */
static int
adjust_node (int dirfd, const char *name, const node_spec *n, bool userns, crt_error **err)
{
  char buf[CRT_FD_PATH_MAX];
  cleanup_close int fd = -1;
  struct stat st;

  /* Usually it was made as wanted: one look by name is enough, as
   * nothing is changed through it. */
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && node_matches (&st, n)
      && (st.st_mode & 07777) == n->perm && st.st_uid == n->uid && st.st_gid == n->gid)
    return 0;
  fd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return crt_error_errno (err, "device `%s`", n->display);
  if (!node_matches (&st, n))
    return crt_error_set (err, 0, "device `%s`: replaced while being created", n->display);
  if ((st.st_mode & 07777) == n->perm && st.st_uid == n->uid && st.st_gid == n->gid)
    return 0;
  if (userns && n->type != S_IFIFO)
    return 0;
  if (chmod (crt_fd_path (fd, buf), n->perm) < 0)
    return crt_error_errno (err, "device `%s`: chmod", n->display);
  if (fchownat (fd, "", n->uid, n->gid, AT_EMPTY_PATH) < 0)
    return crt_error_errno (err, "device `%s`: chown", n->display);
  return 0;
}

/* Where a node is bound in a user namespace (mknod is not allowed
 * there): an empty file at name in dirfd, made if missing; what is there
 * already must be such a file or the node itself. Returns an O_PATH fd. */
static int
node_mount_point (int dirfd, const char *name, const node_spec *n, crt_error **err)
{
  cleanup_close int file = -1, target = -1;
  struct stat st;

  file = openat (dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0000);
  if (file < 0 && errno != EEXIST)
    return crt_error_errno (err, "device `%s`: create the mount point", n->display);
  target = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0 || fstat (target, &st) < 0)
    return crt_error_errno (err, "device `%s`", n->display);
  if (!S_ISREG (st.st_mode) && !node_matches (&st, n))
    return crt_error_set (err, 0, "device `%s`: a different file exists there", n->display);
  return crt_steal_fd (&target);
}

/* In a user namespace: an empty file with the host's node mounted on it. */
static int
bind_host_node (int dirfd, const char *name, const node_spec *n, crt_error **err)
{
  cleanup_close int target = node_mount_point (dirfd, name, n, err), tree = -1;
  struct stat st;

  if (target < 0)
    return -1;
  tree = open_tree (AT_FDCWD, n->host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0 || fstat (tree, &st) < 0)
    return crt_error_errno (err, "device `%s`: bind host `%s`", n->display, n->host);
  if (!node_matches (&st, n))
    return crt_error_set (err, 0, "device `%s`: host `%s` is not device %u:%u", n->display,
                          n->host, major (n->rdev), minor (n->rdev));
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return crt_error_errno (err, "device `%s`: bind host `%s`", n->display, n->host);
  return 0;
}

static int
make_node (int dirfd, const char *name, const node_spec *n, bool userns, crt_error **err)
{
  struct stat st;

  /* A FIFO needs no privilege, so it is made even in a user namespace. */
  if (!userns || n->type == S_IFIFO)
    {
      /* The umask is 0 here (crt_devices_setup): the node has its mode
       * at once, and when its owner is ours too adjust_node changes
       * nothing. */
      int r = mknodat (dirfd, name, n->type | n->perm, n->rdev);

      if (r == 0)
        return adjust_node (dirfd, name, n, userns, err);
      if (errno != EEXIST && errno != EPERM)
        return crt_error_errno (err, "device `%s`: mknod", n->display);
      if (errno == EPERM && n->type == S_IFIFO)
        return crt_error_errno (err, "device `%s`: mknod", n->display);
    }
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (node_matches (&st, n))
        return adjust_node (dirfd, name, n, userns, err);
      if (n->strict && !(userns && S_ISREG (st.st_mode) && st.st_size == 0))
        return crt_error_set (err, 0, "device `%s`: a different file exists there", n->display);
      if (S_ISLNK (st.st_mode) || S_ISDIR (st.st_mode))
        return crt_error_set (err, 0, "device `%s`: a %s exists there", n->display,
                              S_ISLNK (st.st_mode) ? "symlink" : "directory");
    }
  return bind_host_node (dirfd, name, n, err);
}

static const struct
{
  const char *name;
  unsigned int major, minor;
} default_devices[] = {
  { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

const char *
crt_default_device_name (size_t i)
{
  return i < CRT_ARRAY_SIZE (default_devices) ? default_devices[i].name : NULL;
}

static const struct
{
  const char *name;
  const char *target;
} default_links[] = {
  { "fd", "/proc/self/fd" },      { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};

static int
default_dev (int devfd, bool userns, crt_error **err)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (default_devices); i++)
    {
      cleanup_free char *display = crt_fmt ("/dev/%s", default_devices[i].name);
      node_spec n = {
        .display = display, .host = display, .type = S_IFCHR,
        .rdev = makedev (default_devices[i].major, default_devices[i].minor),
        .perm = 0666, .uid = 0, .gid = 0, .strict = false,
      };
      if (make_node (devfd, default_devices[i].name, &n, userns, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < CRT_ARRAY_SIZE (default_links); i++)
    if (symlinkat (default_links[i].target, devfd, default_links[i].name) < 0 && errno != EEXIST)
      return crt_error_errno (err, "symlink `/dev/%s`", default_links[i].name);
  if (access ("/proc/kcore", F_OK) == 0
      && symlinkat ("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
    return crt_error_errno (err, "symlink `/dev/core`");

  /* /dev/ptmx must be the one of the container's devpts instance. */
  if (unlinkat (devfd, "ptmx", 0) < 0 && errno != ENOENT)
    return crt_error_errno (err, "remove `/dev/ptmx`");
  if (symlinkat ("pts/ptmx", devfd, "ptmx") < 0)
    return crt_error_errno (err, "symlink `/dev/ptmx`");
  return 0;
}

/* In a user namespace: the node crt made for linux.devices[index] in
 * its detached tmpfs (crt_devices_prepare), bound onto an empty file. */
static int
bind_prepared_node (int dirfd, const char *name, int nodes_fd, size_t index,
                    const node_spec *n, crt_error **err)
{
  char node[32];
  cleanup_close int target = node_mount_point (dirfd, name, n, err), tree = -1;

  if (target < 0)
    return -1;
  snprintf (node, sizeof (node), "%zu", index);
  tree = open_tree (nodes_fd, node, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
  if (tree < 0)
    return crt_error_errno (err, "device `%s`: bind the node made for it", n->display);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return crt_error_errno (err, "device `%s`: bind the node made for it", n->display);
  return 0;
}

static int
spec_device (int rootfd, const crt_device *d, size_t index, bool userns, int nodes_fd,
             crt_error **err)
{
  cleanup_free char *name = NULL;
  cleanup_close int dirfd = -1;
  int resolved_as;
  node_spec n = { 0 };

  if (d->path == NULL || d->path[0] != '/')
    return crt_error_set (err, 0, "linux.devices[%zu].path: must be an absolute path", index);
  switch (d->type)
    {
    case 'c':
    case 'u':
      n.type = S_IFCHR;
      break;
    case 'b':
      n.type = S_IFBLK;
      break;
    case 'p':
      n.type = S_IFIFO;
      break;
    default:
      return crt_error_set (err, 0, "linux.devices[%zu].type: `%c` is not c, b, u or p", index,
                            d->type);
    }
  if (n.type != S_IFIFO
      && (d->major < 0 || d->major > UINT32_MAX || d->minor < 0 || d->minor > UINT32_MAX))
    return crt_error_set (err, 0, "linux.devices[%zu]: major/minor out of range", index);
  n.display = d->path;
  n.host = d->path;
  n.rdev = n.type == S_IFIFO ? 0 : makedev ((unsigned int) d->major, (unsigned int) d->minor);
  /* The spec gives no default; 0666 is what runc and crun use. */
  n.perm = d->file_mode.set ? (d->file_mode.value & 07777) : 0666;
  n.uid = d->uid.set ? d->uid.value : 0;
  n.gid = d->gid.set ? d->gid.value : 0;
  n.strict = true;

  dirfd = crt_path_create_parent (rootfd, d->path, &name, &resolved_as);
  if (dirfd < 0)
    return crt_error_errno (err, "linux.devices[%zu].path `%s`", index, d->path);
  {
    cleanup_free char *parent = crt_path_clean (d->path);
    char *slash = strrchr (parent, '/');
    if (slash)
      *slash = '\0';
    else
      parent[0] = '\0';
    if (crt_path_check_mount_target (rootfd, dirfd, parent, resolved_as, false, err) < 0)
      return crt_error_prefix (err, "linux.devices[%zu].path `%s`", index, d->path);
  }
  if (userns && nodes_fd >= 0 && n.type != S_IFIFO)
    return bind_prepared_node (dirfd, name, nodes_fd, index, &n, err);
  return make_node (dirfd, name, &n, userns, err);
}

static void
umask_restore (mode_t *mask)
{
  umask (*mask);
}

int
crt_devices_setup (int rootfd, const crt_spec *spec, const crt_rootfs_options *opts,
                   bool defaults, crt_error **err)
{
  /* One umask for every node (two calls, not two per node); the
   * directories made on the way get 0755 either way. */
  __attribute__ ((cleanup (umask_restore), unused)) mode_t mask = umask (0);

  if (defaults)
    {
      int resolved_as;
      cleanup_close int devfd = crt_path_create_target (rootfd, "dev", true, 0755, 0,
                                                        &resolved_as);
      if (devfd < 0)
        return crt_error_errno (err, "open `/dev` in the rootfs");
      if (crt_path_check_mount_target (rootfd, devfd, "dev", resolved_as, false, err) < 0)
        return crt_error_prefix (err, "`/dev` in the rootfs");
      if (default_dev (devfd, opts->userns, err) < 0)
        return -1;
    }
  if (spec->linux_ == NULL)
    return 0;
  for (size_t i = 0; i < spec->linux_->n_devices; i++)
    {
      const crt_device *d = &spec->linux_->devices[i];

      /* With the default /dev, /dev/ptmx is the symlink to pts/ptmx
       * made above, and stays it: an engine that lists every host device
       * (docker run --privileged) lists the host's ptmx (5:2) too, whose
       * node would bypass the container's devpts instance. runc skips
       * it the same way. */
      if (defaults && d->path != NULL && d->path[0] == '/')
        {
          cleanup_free char *clean = crt_path_clean (d->path);
          if (strcmp (clean, "dev/ptmx") == 0)
            continue;
        }
      if (spec_device (rootfd, d, i, opts->userns, opts->devices_fd, err) < 0)
        return -1;
    }
  return 0;
}

int
crt_devices_prepare (const crt_spec *spec, crt_error **err)
{
  const crt_linux *lx = spec->linux_;
  cleanup_close int fs = -1, mnt = -1;
  bool any = false;

  for (size_t i = 0; lx && i < lx->n_devices; i++)
    any |= lx->devices[i].type != 'p';
  if (!any)
    return -1;
  fs = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0 || fsconfig (fs, FSCONFIG_SET_STRING, "mode", "0711", 0) < 0
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return crt_error_errno (err, "linux.devices: create a tmpfs for the device nodes");
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (mnt < 0)
    return crt_error_errno (err, "linux.devices: create a tmpfs for the device nodes");
  for (size_t i = 0; i < lx->n_devices; i++)
    {
      const crt_device *d = &lx->devices[i];
      mode_t type = d->type == 'b' ? S_IFBLK : S_IFCHR;
      mode_t perm = d->file_mode.set ? (d->file_mode.value & 07777) : 0666;
      int64_t uid = crt_id_map_host (lx->uid_mappings, lx->n_uid_mappings, geteuid (),
                             d->uid.set ? d->uid.value : 0);
      int64_t gid = crt_id_map_host (lx->gid_mappings, lx->n_gid_mappings, getegid (),
                             d->gid.set ? d->gid.value : 0);
      char name[32];

      if (d->type == 'p' || d->major < 0 || d->major > UINT32_MAX || d->minor < 0
          || d->minor > UINT32_MAX)
        continue;  /* FIFOs are made inside; bad numbers are reported there */
      snprintf (name, sizeof (name), "%zu", i);
      if (mknodat (mnt, name, type | perm,
                   makedev ((unsigned int) d->major, (unsigned int) d->minor)) < 0
          || fchmodat (mnt, name, perm, 0) < 0)
        return crt_error_errno (err, "linux.devices[%zu] `%s`: mknod", i, d->path);
      /* An id the user namespace does not map stays the host's root
       * (the container sees the overflow id). */
      if (fchownat (mnt, name, uid < 0 ? 0 : (uid_t) uid, gid < 0 ? 0 : (gid_t) gid,
                    AT_SYMLINK_NOFOLLOW) < 0)
        return crt_error_errno (err, "linux.devices[%zu] `%s`: chown", i, d->path);
    }
  return crt_steal_fd (&mnt);
}
