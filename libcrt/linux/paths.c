/* Resolution of container paths inside the rootfs; see paths.h. */
#include "config.h"
#include "paths.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
# include <linux/openat2.h>
#endif

/* The kernel's own limit on symlinks followed during one lookup. */
#define MAX_SYMLINKS 40
/* Upper bound of the create loop: each round creates one component. */
#define MAX_CREATE_ROUNDS 512

const char *
crt_fd_path (int fd, char buf[CRT_FD_PATH_MAX])
{
  snprintf (buf, CRT_FD_PATH_MAX, "/proc/self/fd/%d", fd);
  return buf;
}

char *
crt_path_clean (const char *path)
{
  size_t len = strlen (path);
  char *out = crt_xmalloc0 (len + 1);
  size_t n = 0;
  const char *p = path;

  while (*p)
    {
      const char *end;
      size_t clen;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      end = strchrnul (p, '/');
      clen = (size_t) (end - p);
      if (clen == 1 && p[0] == '.')
        ;
      else if (clen == 2 && p[0] == '.' && p[1] == '.')
        {
          /* Drop the last component; at the root, ".." is the root. */
          while (n > 0 && out[n - 1] != '/')
            n--;
          if (n > 0)
            n--;
        }
      else
        {
          if (n > 0)
            out[n++] = '/';
          memcpy (out + n, p, clen);
          n += clen;
        }
      p = end;
    }
  out[n] = '\0';
  return out;
}

/* ---- the userspace walk ---- */

/* The fd of `resolved` (a symlink-free path relative to the root),
 * opened again one component at a time so that a component replaced by a
 * symlink in the meantime fails instead of being followed. */
static int
reopen_resolved (int rootfd, const char *resolved)
{
  cleanup_free char *copy = crt_xstrdup (resolved);
  int fd = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL;

  if (fd < 0)
    return -1;
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      int next = openat (fd, c, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
      int saved = errno;
      close (fd);
      if (next < 0)
        {
          errno = saved;
          return -1;
        }
      fd = next;
    }
  return fd;
}

static bool
only_slashes (const char *s)
{
  while (*s == '/')
    s++;
  return *s == '\0';
}

/* Walk `path` from rootfd, resolving symlinks ourselves relative to the
 * root and clamping "..". When `missing` is given and a component does
 * not exist, return the fd of the deepest directory reached and put the
 * missing name in *missing (*missing_last: nothing follows it). */
static int
walk (int rootfd, const char *path, int open_flags, int resolve, char **missing,
      bool *missing_last)
{
  cleanup_free char *todo = crt_xstrdup (path);
  cleanup_free char *resolved = crt_xstrdup ("");
  cleanup_close int cur = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int links = 0;
  char *p;

  if (cur < 0)
    return -1;
  p = todo;
  for (;;)
    {
      cleanup_close int next = -1;
      struct stat st;
      char *comp, *rest;
      bool last;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      comp = p;
      rest = strchrnul (p, '/');
      if (*rest)
        *rest++ = '\0';
      p = rest;
      last = only_slashes (rest);

      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          char *slash = strrchr (resolved, '/');
          if (resolved[0] == '\0')
            continue;
          if (slash)
            *slash = '\0';
          else
            resolved[0] = '\0';
          crt_closep (&cur);
          cur = reopen_resolved (rootfd, resolved);
          if (cur < 0)
            return -1;
          continue;
        }

      next = openat (cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        {
          if (errno == ENOENT && missing)
            {
              *missing = crt_xstrdup (comp);
              *missing_last = last;
              return crt_steal_fd (&cur);
            }
          return -1;
        }
      if (fstat (next, &st) < 0)
        return -1;

      if (S_ISLNK (st.st_mode) && !(last && (open_flags & O_NOFOLLOW)))
        {
          char target[PATH_MAX];
          ssize_t n;
          char *joined;

          if ((resolve & CRT_PATH_NO_SYMLINKS) || ++links > MAX_SYMLINKS)
            {
              errno = ELOOP;
              return -1;
            }
          n = readlinkat (next, "", target, sizeof (target) - 1);
          if (n < 0)
            return -1;
          target[n] = '\0';
          if (target[0] == '/')
            {
              /* Absolute targets start again from the container's root. */
              resolved[0] = '\0';
              crt_closep (&cur);
              cur = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
              if (cur < 0)
                return -1;
            }
          joined = crt_fmt ("%s/%s", target, rest);
          free (todo);
          todo = joined;
          p = todo;
          continue;
        }
      if (!last && !S_ISDIR (st.st_mode))
        {
          errno = ENOTDIR;
          return -1;
        }
      if (S_ISLNK (st.st_mode) && (resolve & CRT_PATH_NO_SYMLINKS))
        {
          errno = ELOOP;
          return -1;
        }
      {
        char *longer = resolved[0] ? crt_fmt ("%s/%s", resolved, comp) : crt_xstrdup (comp);
        free (resolved);
        resolved = longer;
      }
      crt_closep (&cur);
      cur = crt_steal_fd (&next);
    }

  if (open_flags & O_DIRECTORY)
    {
      struct stat st;
      if (fstat (cur, &st) < 0)
        return -1;
      if (!S_ISDIR (st.st_mode))
        {
          errno = ENOTDIR;
          return -1;
        }
    }
  return crt_steal_fd (&cur);
}

/* An O_PATH fd opened again with real access flags. */
static int
reopen_with_flags (int fd, int open_flags)
{
  char buf[CRT_FD_PATH_MAX];
  return open (crt_fd_path (fd, buf), (open_flags & ~O_NOFOLLOW) | O_CLOEXEC);
}

int
crt_path_open_walk (int rootfd, const char *path, int open_flags, int resolve)
{
  cleanup_close int fd = walk (rootfd, path, open_flags, resolve, NULL, NULL);
  if (fd < 0)
    return -1;
  if (open_flags & O_PATH)
    return crt_steal_fd (&fd);
  return reopen_with_flags (fd, open_flags);
}

/* ---- openat2 ---- */

#ifdef SYS_openat2
static int openat2_missing;   /* set once the kernel said ENOSYS */

static int
open_kernel (int rootfd, const char *path, int open_flags, int resolve)
{
  struct open_how how = { 0 };
  const char *rel = path;
  int fd = -1;

  how.flags = (uint64_t) (open_flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (resolve & CRT_PATH_NO_SYMLINKS)
    how.resolve |= RESOLVE_NO_SYMLINKS;
  while (*rel == '/')
    rel++;
  if (*rel == '\0')
    rel = ".";
  /* EAGAIN: a concurrent rename made the kernel unsure; try again. */
  for (int i = 0; i < 16; i++)
    {
      fd = (int) syscall (SYS_openat2, rootfd, rel, &how, sizeof (how));
      if (fd >= 0 || errno != EAGAIN)
        break;
    }
  return fd;
}
#endif

int
crt_path_open (int rootfd, const char *path, int open_flags, int resolve)
{
  if (open_flags & O_CREAT)
    {
      errno = EINVAL;
      return -1;
    }
#ifdef SYS_openat2
  if (!openat2_missing)
    {
      int fd = open_kernel (rootfd, path, open_flags, resolve);
      if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return fd;
      /* ENOSYS: an old kernel. EPERM: a seccomp filter that does not know
       * openat2 (the container's own, loaded before its cwd is entered,
       * or one around crt in a nested container); the kernel itself
       * never refuses an O_PATH lookup with EPERM. */
      if (errno == ENOSYS)
        openat2_missing = 1;
    }
#endif
  return crt_path_open_walk (rootfd, path, open_flags, resolve);
}

/* ---- creation ---- */

/* name in dirfd: a directory with mode, or an empty file with mode; 0
 * when it is there now (made, or made meanwhile by someone else). */
static int
make_entry (int dirfd, const char *name, bool directory, mode_t mode)
{
  int fd;

  if (directory)
    return mkdirat (dirfd, name, mode) == 0 || errno == EEXIST ? 0 : -1;
  fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd >= 0)
    close (fd);
  return fd >= 0 || errno == EEXIST ? 0 : -1;
}

/* Make the last component of path in its parent, found by the same
 * resolver; 0 when it is there now (made, or made meanwhile), -1 when
 * the parent is missing too (or anything else failed: the walk finds out
 * which). Mostly only the last one is missing: /dev/pts in a new /dev. */
static int
make_in_parent (int rootfd, const char *path, bool directory, mode_t mode, int resolve)
{
  cleanup_free char *clean = crt_path_clean (path);
  cleanup_close int parent = -1;
  char *slash = strrchr (clean, '/');
  const char *name = slash ? slash + 1 : clean;

  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return -1;
  if (slash)
    {
      *slash = '\0';
      parent = crt_path_open (rootfd, clean, O_PATH | O_DIRECTORY, resolve);
      if (parent < 0)
        return -1;
    }
  return make_entry (slash ? parent : rootfd, name, directory, mode);
}

int
crt_path_create (int rootfd, const char *path, bool directory, mode_t mode, int resolve)
{
  for (int round = 0; round < MAX_CREATE_ROUNDS; round++)
    {
      cleanup_free char *missing = NULL;
      cleanup_close int dirfd = -1;
      bool missing_last = false;
      int fd;

      fd = crt_path_open (rootfd, path, O_PATH, resolve);
      if (fd >= 0 || errno != ENOENT)
        return fd;
      if (round == 0 && make_in_parent (rootfd, path, directory, mode, resolve) == 0)
        continue;

      dirfd = walk (rootfd, path, 0, resolve, &missing, &missing_last);
      if (dirfd < 0)
        return -1;
      if (missing == NULL)
        continue;       /* it appeared meanwhile */

      /* What leads to the last component is a directory. */
      if (make_entry (dirfd, missing, directory || !missing_last, missing_last ? mode : 0755) < 0)
        return -1;
    }
  errno = ELOOP;
  return -1;
}

int
crt_path_create_target (int rootfd, const char *path, bool directory, mode_t mode, int resolve,
                        int *resolved_as)
{
  int fd;

  /* Most targets have no symlink on the way: resolved without any, the
   * fd's place in the root is the path itself (no readlink needed to
   * check it). A symlink (ELOOP) sends us the usual way. */
  *resolved_as = resolve | CRT_PATH_NO_SYMLINKS;
  fd = crt_path_create (rootfd, path, directory, mode, *resolved_as);
  if (fd >= 0 || errno != ELOOP || (resolve & CRT_PATH_NO_SYMLINKS))
    return fd;
  *resolved_as = resolve;
  return crt_path_create (rootfd, path, directory, mode, resolve);
}

int
crt_path_create_parent (int rootfd, const char *path, char **name, int *resolved_as)
{
  cleanup_free char *clean = crt_path_clean (path);
  char *slash;
  int fd;

  if (clean[0] == '\0')
    {
      errno = EINVAL;
      return -1;
    }
  slash = strrchr (clean, '/');
  if (slash == NULL)
    {
      fd = openat (rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0)
        *name = crt_xstrdup (clean);
      *resolved_as = CRT_PATH_NO_SYMLINKS;
      return fd;
    }
  *slash = '\0';
  fd = crt_path_create_target (rootfd, clean, true, 0755, 0, resolved_as);
  if (fd < 0)
    return -1;
  *name = crt_xstrdup (slash + 1);
  return fd;
}

/* ---- mount targets ---- */

/* Entries of /proc that may be mounted over (lxcfs emulates these);
 * anything else inside the container's /proc is refused, as runc does:
 * a mount there could hide the LSM interface (/proc/self/attr) or
 * /proc/sys files the kernel locks down. */
static const char *const proc_mount_allowed[] = {
  "proc/cpuinfo", "proc/diskstats", "proc/meminfo", "proc/stat", "proc/swaps",
  "proc/uptime", "proc/loadavg", "proc/slabinfo", "proc/net/dev",
  "proc/sys/kernel/ns_last_pid",
};

/* Where fd is inside the tree of rootfd ("" for the root itself), or NULL
 * when it is not below it. */
static char *
path_below_root (int rootfd, int fd)
{
  char buf[CRT_FD_PATH_MAX], root[PATH_MAX], at[PATH_MAX];
  ssize_t rn, an;
  size_t len;

  rn = readlink (crt_fd_path (rootfd, buf), root, sizeof (root) - 1);
  an = readlink (crt_fd_path (fd, buf), at, sizeof (at) - 1);
  if (rn < 0 || an < 0)
    return NULL;
  root[rn] = at[an] = '\0';
  len = strcmp (root, "/") == 0 ? 0 : (size_t) rn;
  if (strncmp (at, root, len) != 0 || (at[len] != '/' && at[len] != '\0'))
    return NULL;
  return crt_path_clean (at + len);
}

static bool
below (const char *path, const char *dir)
{
  size_t n = strlen (dir);
  return strncmp (path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int
crt_path_check_mount_target (int rootfd, int fd, const char *dest, int resolved_as,
                             bool proc_mount, crt_error **err)
{
  cleanup_free char *clean = crt_path_clean (dest);
  /* Resolved without symlinks (both resolvers clamp ".." at the root),
   * fd is at dest itself; else ask the kernel where it ended up. */
  cleanup_free char *at = (resolved_as & CRT_PATH_NO_SYMLINKS) ? crt_xstrdup (clean)
                                                               : path_below_root (rootfd, fd);
  struct statfs sfs;
  bool allowed = false;

  if (at == NULL)
    return crt_error_set (err, EXDEV, "resolves outside the rootfs");
  if (fstatfs (fd, &sfs) < 0)
    return crt_error_errno (err, "statfs");
  if (strcmp (at, "proc") == 0)
    allowed = proc_mount;
  else if (below (at, "proc"))
    for (size_t i = 0; i < CRT_ARRAY_SIZE (proc_mount_allowed) && !allowed; i++)
      allowed = strcmp (at, proc_mount_allowed[i]) == 0;
  else
    allowed = sfs.f_type != PROC_SUPER_MAGIC;
  if (!allowed && strcmp (at, "proc") == 0)
    return crt_error_set (err, EPERM, "only a proc mount may go onto /proc");
  if (!allowed)
    return crt_error_set (err, EPERM, "resolves to `/%s`, inside /proc", at);
  /* The config may ask for a place in /sys (a cgroup mount at
   * /sys/fs/cgroup); a symlink of the image may not lead there. */
  if (sfs.f_type == SYSFS_MAGIC && strcmp (at, clean) != 0)
    return crt_error_set (err, EPERM, "resolves through a symlink to `/%s`, inside /sys", at);
  return 0;
}
