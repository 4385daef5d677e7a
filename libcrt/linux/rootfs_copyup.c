/* tmpcopyup: the contents of a directory copied into the tmpfs that is
 * mounted over it, so the image's files stay visible (and writable). */
#include "config.h"
#include "mounts.h"
#include "paths.h"
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

static int
copy_data (int in, int out)
{
  char buf[65536];
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof (buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return (int) n;
      if (crt_write_all (out, buf, (size_t) n) < 0)
        return -1;
    }
}

/* Mode and owner of a copied entry. An id not mapped in the user
 * namespace cannot be given (EINVAL); the entry then stays root's. */
static int
copy_attrs (int dstdir, const char *name, const struct stat *st)
{
  char buf[CRT_FD_PATH_MAX];
  cleanup_close int fd = openat (dstdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return -1;
  if (fchownat (fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) < 0 && errno != EINVAL)
    return -1;
  if (!S_ISLNK (st->st_mode) && chmod (crt_fd_path (fd, buf), st->st_mode & 07777) < 0)
    return -1;
  return 0;
}

static int
copy_entry (int srcdir, int dstdir, const char *name, const struct stat *st, crt_error **err)
{
  switch (st->st_mode & S_IFMT)
    {
    case S_IFDIR:
      {
        cleanup_close int sub_src = -1, sub_dst = -1;
        struct stat dst;
        /* A directory already there (the tmpfs got entries before the
         * copy) is merged into, not an error. */
        if (mkdirat (dstdir, name, 0700) < 0
            && !(errno == EEXIST && fstatat (dstdir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0
                 && S_ISDIR (dst.st_mode)))
          return crt_error_errno (err, "mkdir `%s`", name);
        sub_src = openat (srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        sub_dst = openat (dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub_src < 0 || sub_dst < 0)
          return crt_error_errno (err, "open `%s`", name);
        if (crt_copy_tree (sub_src, sub_dst, err) < 0)
          return crt_error_prefix (err, "%s", name);
        break;
      }
    case S_IFREG:
      {
        cleanup_close int in = openat (srcdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        cleanup_close int out = -1;
        if (in < 0)
          return crt_error_errno (err, "open `%s`", name);
        out = openat (dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0 || copy_data (in, out) < 0)
          return crt_error_errno (err, "copy `%s`", name);
        break;
      }
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (srcdir, name, target, sizeof (target) - 1);
        if (n < 0)
          return crt_error_errno (err, "readlink `%s`", name);
        target[n] = '\0';
        if (symlinkat (target, dstdir, name) < 0)
          return crt_error_errno (err, "symlink `%s`", name);
        break;
      }
    default:
      if (mknodat (dstdir, name, st->st_mode, st->st_rdev) < 0)
        return crt_error_errno (err, "mknod `%s`", name);
      break;
    }
  if (copy_attrs (dstdir, name, st) < 0)
    return crt_error_errno (err, "set the owner and mode of `%s`", name);
  return 0;
}

int
crt_copy_tree (int srcfd, int dstfd, crt_error **err)
{
  __attribute__ ((cleanup (closedirp))) DIR *dir = NULL;
  int listfd = openat (srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;
  struct stat st;

  struct stat dst;

  if (listfd < 0)
    return crt_error_errno (err, "open the directory to copy");
  if (fstat (listfd, &st) < 0 || fstat (dstfd, &dst) < 0)
    {
      close (listfd);
      return crt_error_errno (err, "stat the directories of the copy");
    }
  if (st.st_dev == dst.st_dev && st.st_ino == dst.st_ino)
    {
      close (listfd);
      return crt_error_set (err, EINVAL, "the copy would be made onto its own source");
    }
  dir = fdopendir (listfd);
  if (dir == NULL)
    {
      close (listfd);
      return crt_error_errno (err, "read the directory to copy");
    }
  while ((errno = 0, de = readdir (dir)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (srcfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return crt_error_errno (err, "stat `%s`", de->d_name);
      if (copy_entry (srcfd, dstfd, de->d_name, &st, err) < 0)
        return -1;
    }
  if (errno != 0)
    return crt_error_errno (err, "read the directory to copy");
  /* The top directory takes the mode and owner of the one it covers. */
  if (fstat (srcfd, &st) < 0 || fchmod (dstfd, st.st_mode & 07777) < 0
      || (fchown (dstfd, st.st_uid, st.st_gid) < 0 && errno != EINVAL))
    return crt_error_errno (err, "set the owner and mode of the copy");
  return 0;
}
