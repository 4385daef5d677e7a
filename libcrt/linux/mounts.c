/* One entry of config.json "mounts", mounted inside the rootfs.
 *
 * The destination is resolved (and created) inside the rootfs as an fd;
 * nothing is ever mounted on a path string that could be a symlink.
 * Bind mounts are cloned with open_tree, given their attributes while
 * still detached (mount_setattr only touches the bits that were asked
 * for, so flags the kernel locks in a user namespace are kept), and
 * attached with move_mount. New filesystems go through mount(2) on
 * /proc/self/fd/N: before pivot_root the init still sees the host /proc. */
#include "config.h"
#include "lsm.h"
#include "mounts.h"
#include "paths.h"
#include "util/util.h"
#include "mount_api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* What a mount entry is, once its type and options are looked at. */
typedef struct
{
  const crt_mount *m;
  size_t index;
  const char *dest;             /* cleaned, relative to the root */
  const char *fstype;           /* for mount(2); NULL for binds */
  char *bind_source;            /* host path for binds */
  bool recursive_bind;
  bool no_symlinks;             /* proc and sysfs: no symlink in dest */
  bool userns;                  /* the init is in a new user namespace */
  int crt_cwd;                  /* crt's cwd (O_PATH) to go back to, or -1 */
  const char *rootfs;           /* host path of the rootfs, for dest "" */
  crt_mount_opts o;
} mount_plan;

static void
plan_free (mount_plan *p)
{
  free (p->bind_source);
  crt_mount_opts_free (&p->o);
}

static const char *
display_source (const crt_mount *m)
{
  if (m->source)
    return m->source;
  return m->type ? m->type : "none";
}

static int
mount_fail (const mount_plan *p, int errnum, const char *what, crt_error **err)
{
  if (what)
    return crt_error_set (err, errnum, "mount `%s` on `%s`: %s", display_source (p->m),
                          p->m->destination, what);
  return crt_error_set (err, errnum, "mount `%s` on `%s`", display_source (p->m),
                        p->m->destination);
}

int
crt_mount_setattr (int fd, unsigned int flags, uint64_t set, uint64_t clr, uint64_t propagation)
{
  struct mount_attr attr = { 0 };
  attr.attr_set = set;
  attr.attr_clr = clr;
  attr.propagation = propagation;
  return mount_setattr (fd, "", AT_EMPTY_PATH | flags, &attr, sizeof (attr));
}

/* In a user namespace the flags of the source mount are locked: asking
 * to clear one fails with EPERM. Keep those (as runc does) and retry. */
static int
set_attr_keeping_locked (int fd, unsigned int flags, uint64_t set, uint64_t clr)
{
  static const struct { unsigned long st; uint64_t attr; } lockable[] = {
    { ST_RDONLY, MOUNT_ATTR_RDONLY },  { ST_NOSUID, MOUNT_ATTR_NOSUID },
    { ST_NODEV, MOUNT_ATTR_NODEV },    { ST_NOEXEC, MOUNT_ATTR_NOEXEC },
    { ST_NODIRATIME, MOUNT_ATTR_NODIRATIME },
  };
  struct statvfs sv;

  if (set == 0 && clr == 0)
    return 0;
  if (crt_mount_setattr (fd, flags, set, clr, 0) == 0)
    return 0;
  if (errno != EPERM)
    return -1;
  if (fstatvfs (fd, &sv) < 0)
    return -1;
  for (size_t i = 0; i < CRT_ARRAY_SIZE (lockable); i++)
    if (sv.f_flag & lockable[i].st)
      clr &= ~lockable[i].attr;
  /* The atime mode is locked as a whole. */
  set &= ~(uint64_t) MOUNT_ATTR__ATIME;
  clr &= ~(uint64_t) MOUNT_ATTR__ATIME;
  return crt_mount_setattr (fd, flags, set, clr, 0);
}

/* r* options and propagation, on the mount now at the destination. */
static int
finish_mount (const mount_plan *p, int mnt, crt_error **err)
{
  if ((p->o.rattr_set || p->o.rattr_clr)
      && set_attr_keeping_locked (mnt, AT_RECURSIVE, p->o.rattr_set, p->o.rattr_clr) < 0)
    return mount_fail (p, errno, "recursive mount attributes", err);
  for (size_t i = 0; i < p->o.n_propagation; i++)
    {
      unsigned long prop = p->o.propagation[i];
      if (crt_mount_setattr (mnt, (prop & MS_REC) ? AT_RECURSIVE : 0, 0, 0, prop & ~MS_REC) < 0)
        return mount_fail (p, errno, "set propagation", err);
    }
  return 0;
}

/* Only a detached mount can be idmapped, hence before move_mount. */
static int
apply_idmap (const mount_plan *p, int tree, crt_error **err)
{
  cleanup_close int nsfd = -1;
  struct mount_attr attr = { 0 };

  /* The mapping must be set up from the host's user namespace, which
   * the init has left by now. */
  if (p->userns)
    return mount_fail (p, EOPNOTSUPP, "idmap together with a user namespace", err);
  nsfd = crt_idmap_userns (p->m->uid_mappings, p->m->n_uid_mappings, p->m->gid_mappings,
                           p->m->n_gid_mappings, err);
  if (nsfd < 0)
    return crt_error_prefix (err, "mount `%s` on `%s`", display_source (p->m),
                             p->m->destination);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t) nsfd;
  if (mount_setattr (tree, "", AT_EMPTY_PATH | (p->o.ridmap ? AT_RECURSIVE : 0), &attr,
                     sizeof (attr)) < 0)
    return mount_fail (p, errno, "idmap", err);
  return 0;
}

static int
do_bind (const mount_plan *p, int target, crt_error **err)
{
  cleanup_close int tree = -1;
  unsigned int clone = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;

  if (p->recursive_bind)
    clone |= AT_RECURSIVE;
  if (p->o.src_nofollow)
    clone |= AT_SYMLINK_NOFOLLOW;
  tree = open_tree (AT_FDCWD, p->bind_source, clone);
  if (tree < 0)
    return mount_fail (p, errno, NULL, err);
  if (p->o.idmap && apply_idmap (p, tree, err) < 0)
    return -1;
  if (set_attr_keeping_locked (tree, 0, p->o.attr_set, p->o.attr_clr) < 0)
    return mount_fail (p, errno, "set mount attributes", err);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mount_fail (p, errno, NULL, err);
  /* Once attached, the tree fd is the new mount itself. */
  return finish_mount (p, tree, err);
}

/* The filesystem made detached (fsopen, fsconfig, fsmount) and moved onto
 * the target. For a cgroup2 whose destination already is a mount of the
 * same superblock: with a user namespace but no network namespace, /sys
 * is the host's /sys bound recursively, /sys/fs/cgroup in it the host's
 * cgroup2, and mount(2) refuses the same superblock on the root of a
 * mount of it (EBUSY); move_mount has no such rule. The new mount's root
 * still is the container's cgroup namespace root. */
static int
new_fs_moved (const mount_plan *p, int target, crt_error **err)
{
  cleanup_close int fs = -1, mnt = -1;
  cleanup_free char *data = p->o.data ? crt_xstrdup (p->o.data) : NULL;
  char *opt, *save = NULL;

  fs = fsopen (p->fstype, FSOPEN_CLOEXEC);
  if (fs < 0)
    return mount_fail (p, errno, "fsopen", err);
  for (opt = data ? strtok_r (data, ",", &save) : NULL; opt; opt = strtok_r (NULL, ",", &save))
    {
      char *value = strchr (opt, '=');
      if (value)
        *value++ = '\0';
      if (fsconfig (fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opt, value, 0) < 0)
        return mount_fail (p, errno, "fsconfig", err);
    }
  if (fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return mount_fail (p, errno, NULL, err);
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, (unsigned int) p->o.attr_set);
  if (mnt < 0)
    return mount_fail (p, errno, "fsmount", err);
  if (move_mount (mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mount_fail (p, errno, NULL, err);
  return finish_mount (p, mnt, err);
}

/* mount(2) onto the directory that target holds, through "." once it is
 * our cwd: the same place as /proc/self/fd/N, without that walk through
 * procfs, whose first run in a new process makes its /proc/<pid>, fd/
 * and fd/N entries (about 20 us of the init's setup, then some us per
 * mount). The cwd is given back (p->crt_cwd, opened once for all the
 * mounts by crt_rootfs_mount_all), which only host root is sure to be let into again
 * (in a user namespace, crt's cwd may belong to an unmapped owner):
 * there, and where fchdir is refused, the fd path. */
static int
mount_on_fd (const mount_plan *p, const char *source, int target, unsigned long flags)
{
  char buf[CRT_FD_PATH_MAX];
  int r, saved;

  if (p->crt_cwd < 0 || fchdir (target) < 0)
    return mount (source, crt_fd_path (target, buf), p->fstype, flags, p->o.data);
  r = mount (source, ".", p->fstype, flags, p->o.data);
  saved = errno;
  if (fchdir (p->crt_cwd) < 0)
    return -1;
  errno = saved;
  return r;
}

static int
do_new_fs (const mount_plan *p, int rootfd, int target, crt_error **err)
{
  cleanup_close int lower = -1, mnt = -1;
  unsigned long flags = p->o.flags;
  bool late_rdonly = false;

  if (p->o.idmap)
    return mount_fail (p, EOPNOTSUPP, "idmap is only supported on bind mounts", err);
  if (p->o.tmpcopyup)
    {
      /* The directory as it is before the tmpfs hides it. */
      lower = openat (target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (lower < 0)
        return mount_fail (p, errno, "tmpcopyup: open the destination", err);
    }
  /* A read-only tmpfs keeps a writable superblock and gets a read-only
   * mount once filled (as runc and crun: mountinfo shows "ro" for the
   * mount, "rw" for the filesystem). */
  if ((p->o.tmpcopyup || strcmp (p->fstype, "tmpfs") == 0) && (flags & MS_RDONLY))
    {
      late_rdonly = true;
      flags &= ~(unsigned long) MS_RDONLY;
    }
  if (mount_on_fd (p, display_source (p->m), target, flags) < 0)
    {
      if (errno == EBUSY && strcmp (p->fstype, "cgroup2") == 0)
        return new_fs_moved (p, target, err);
      return mount_fail (p, errno, NULL, err);
    }

  /* Nothing more to do on the new mount (the usual case): no need to
   * look it up. */
  if (lower < 0 && !late_rdonly && !p->o.rattr_set && !p->o.rattr_clr && p->o.n_propagation == 0)
    return 0;
  /* On the root itself, rootfd still is the covered directory: the new
   * mount is found from the rootfs path (a host path, not inside it). */
  if (p->dest[0] == '\0')
    mnt = open (p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  else
    mnt = crt_path_open (rootfd, p->dest, O_PATH, p->no_symlinks ? CRT_PATH_NO_SYMLINKS : 0);
  if (mnt < 0)
    return mount_fail (p, errno, "open the new mount", err);
  if (lower >= 0)
    {
      cleanup_close int upper = openat (mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (upper < 0)
        return mount_fail (p, errno, "tmpcopyup", err);
      if (crt_copy_tree (lower, upper, err) < 0)
        return crt_error_prefix (err, "mount `%s` on `%s`: tmpcopyup", display_source (p->m),
                                 p->m->destination);
    }
  if (late_rdonly && crt_mount_setattr (mnt, 0, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return mount_fail (p, errno, "make read-only", err);
  return finish_mount (p, mnt, err);
}

static bool
is_fs (const char *path, long magic)
{
  struct statfs sfs;
  /* f_type is a long in glibc, an unsigned long in musl. */
  return statfs (path, &sfs) == 0 && (unsigned long) sfs.f_type == (unsigned long) magic;
}

/* The host directory of this process's cgroup in the cgroup2 tree at
 * `unified` (from the "0::" line of /proc/self/cgroup), if it exists. */
static char *
own_cgroup2_dir (const char *unified)
{
  cleanup_free char *text = NULL;
  size_t len;
  char *line, *save = NULL;

  if (crt_read_file_at (AT_FDCWD, "/proc/self/cgroup", &text, &len, NULL) < 0)
    return crt_xstrdup (unified);
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (crt_str_has_prefix (line, "0::/"))
      {
        char *dir = crt_fmt ("%s%s", unified, line + 3);
        struct stat st;
        if (stat (dir, &st) == 0 && S_ISDIR (st.st_mode))
          return dir;
        free (dir);
        break;
      }
  return crt_xstrdup (unified);
}

/* Decide how to mount the entry: bind or new filesystem, and of what.
 *
 * cgroup: with a cgroup namespace, a fresh cgroup2 (its root is then the
 * container's own cgroup). Without one, the container must not get a
 * new view of the whole hierarchy, so, as runc does on cgroup v2 hosts,
 * the host's cgroup2 directory of the container is bind-mounted (with
 * the entry's options, "ro" in the default config). This also holds on
 * hybrid hosts (cgroup2 at /sys/fs/cgroup/unified); the v1 controller
 * hierarchies are not offered to the container.
 *
 * sysfs: a user namespace without a network namespace of its own may
 * not mount sysfs, so the host /sys is bind-mounted instead (runc too). */
static int
plan_mount (const crt_spec *spec, size_t index, const crt_rootfs_options *opts,
            mount_plan *p, crt_error **err)
{
  const crt_mount *m = &spec->mounts[index];
  const char *type = m->type;

  p->m = m;
  p->index = index;
  p->userns = opts->userns;
  p->rootfs = opts->rootfs;
  if (m->destination == NULL || m->destination[0] == '\0')
    return crt_error_set (err, 0, "mounts[%zu].destination: missing", index);
  if (crt_mount_opts_parse (m->options, m->n_options, &p->o, err) < 0)
    return crt_error_prefix (err, "mounts[%zu].options", index);

  if (type && strcmp (type, "bind") == 0)
    p->o.bind = true;
  if (p->o.bind)
    {
      if (m->source == NULL)
        return crt_error_set (err, 0, "mounts[%zu].source: required for a bind mount", index);
      p->recursive_bind = p->o.rbind;
      if (m->source[0] == '/' || opts->bundle == NULL)
        p->bind_source = crt_xstrdup (m->source);
      else
        p->bind_source = crt_fmt ("%s/%s", opts->bundle, m->source);
      return 0;
    }
  if (type == NULL || type[0] == '\0')
    return crt_error_set (err, 0, "mounts[%zu].type: required unless the mount is a bind", index);

  if (strcmp (type, "proc") == 0 || strcmp (type, "sysfs") == 0)
    p->no_symlinks = true;

  if (strcmp (type, "sysfs") == 0 && opts->userns && !opts->private_netns)
    {
      p->bind_source = crt_xstrdup ("/sys");
      p->recursive_bind = true;
      return 0;
    }
  if ((strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0) && opts->no_cgroup)
    {
      /* Rootless without a cgroup of its own: its cgroup namespace (or a
       * bind) would show the tree of the cgroup crt was started in,
       * which is not the container's. runc mounts an empty read-only
       * tmpfs there then: so does crt (crun 1.8.1 its cgroup2). */
      free (p->o.data);
      p->o.data = NULL;
      p->o.flags |= MS_RDONLY;
      p->fstype = "tmpfs";
      return 0;
    }
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    {
      const char *unified = NULL;

      if (is_fs ("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
        unified = "/sys/fs/cgroup";
      else if (is_fs ("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
        unified = "/sys/fs/cgroup/unified";
      if (crt_spec_namespace (spec, CRT_NS_CGROUP) != NULL || unified == NULL)
        {
          /* v1 options (controller names) mean nothing to cgroup2. */
          if (strcmp (type, "cgroup") == 0 && unified != NULL)
            {
              free (p->o.data);
              p->o.data = NULL;
            }
          p->fstype = unified ? "cgroup2" : type;
          return 0;
        }
      p->bind_source = own_cgroup2_dir (unified);
      return 0;
    }
  p->fstype = type;
  return 0;
}

bool
crt_mount_source_is_directory (const char *path, bool nofollow)
{
  struct stat st;
  /* A missing source gets a directory; open_tree reports the error. */
  return (nofollow ? lstat (path, &st) : stat (path, &st)) < 0 || S_ISDIR (st.st_mode);
}

/* copy-symlink with a symlink source: the same symlink at the
 * destination instead of a mount (crun's option). One already there
 * with the same target is fine; anything else there is an error. */
static int
copy_symlink (int rootfd, const mount_plan *p, crt_error **err)
{
  cleanup_free char *name = NULL, *parent = NULL;
  cleanup_close int dirfd = -1;
  char target[PATH_MAX], there[PATH_MAX];
  int resolved_as;
  ssize_t n, m;
  char *slash;

  n = readlink (p->bind_source, target, sizeof (target) - 1);
  if (n < 0)
    return mount_fail (p, errno, "copy-symlink: readlink", err);
  target[n] = '\0';
  dirfd = crt_path_create_parent (rootfd, p->dest, &name, &resolved_as);
  if (dirfd < 0)
    return mount_fail (p, errno, "copy-symlink: the parent of the destination", err);
  parent = crt_xstrdup (p->dest);
  slash = strrchr (parent, '/');
  if (slash)
    *slash = '\0';
  else
    parent[0] = '\0';
  if (crt_path_check_mount_target (rootfd, dirfd, parent, resolved_as, false, err) < 0)
    return crt_error_prefix (err, "mounts[%zu].destination `%s`", p->index, p->m->destination);
  if (symlinkat (target, dirfd, name) == 0)
    return 0;
  if (errno != EEXIST)
    return mount_fail (p, errno, "copy-symlink", err);
  m = readlinkat (dirfd, name, there, sizeof (there) - 1);
  if (m < 0 || m != n || memcmp (there, target, (size_t) n) != 0)
    return mount_fail (p, EEXIST, "copy-symlink: a different file exists at the destination",
                       err);
  return 0;
}

int
crt_mount_one (int rootfd, int crt_cwd, const crt_spec *spec, size_t index,
               const crt_rootfs_options *opts, crt_error **err)
{
  __attribute__ ((cleanup (plan_free))) mount_plan p = { 0 };
  cleanup_free char *dest = NULL;
  cleanup_close int target = -1;
  int resolved_as;
  bool directory;
  struct stat st;

  if (plan_mount (spec, index, opts, &p, err) < 0)
    return -1;
  p.crt_cwd = crt_cwd;
  dest = crt_path_clean (p.m->destination);
  p.dest = dest;

  if (p.o.bind && (p.o.copy_symlink || p.o.src_nofollow)
      && (lstat (p.bind_source, &st) < 0 || !S_ISLNK (st.st_mode)))
    p.o.copy_symlink = p.o.src_nofollow = false;
  if (p.o.copy_symlink)
    return copy_symlink (rootfd, &p, err);
  directory = p.bind_source == NULL || crt_mount_source_is_directory (p.bind_source, p.o.src_nofollow);
  target = crt_path_create_target (rootfd, dest, directory, directory ? 0755 : 0644,
                                   p.no_symlinks ? CRT_PATH_NO_SYMLINKS : 0, &resolved_as);
  if (target < 0)
    {
      if (errno == ELOOP && p.no_symlinks)
        return crt_error_set (err, 0, "mounts[%zu].destination `%s`: %s may not be mounted "
                              "on or through a symlink", index, p.m->destination, p.m->type);
      return crt_error_errno (err, "mounts[%zu].destination `%s`", index, p.m->destination);
    }
  /* (Only proc and sysfs must go on a directory.) */
  if (p.no_symlinks)
    {
      if (fstat (target, &st) < 0)
        return crt_error_errno (err, "mounts[%zu].destination `%s`", index, p.m->destination);
      if (!S_ISDIR (st.st_mode))
        return crt_error_set (err, ENOTDIR, "mounts[%zu].destination `%s`", index,
                              p.m->destination);
    }
  if (crt_path_check_mount_target (rootfd, target, dest, resolved_as,
                                   p.fstype && strcmp (p.fstype, "proc") == 0, err) < 0)
    return crt_error_prefix (err, "mounts[%zu].destination `%s`", index, p.m->destination);

  if (p.bind_source)
    return do_bind (&p, target, err);
  if (spec->linux_)
    {
      char *labelled = crt_lsm_mount_data (p.fstype, p.o.data, spec->linux_->mount_label);
      if (labelled)
        {
          free (p.o.data);
          p.o.data = labelled;
        }
    }
  return do_new_fs (&p, rootfd, target, err);
}
