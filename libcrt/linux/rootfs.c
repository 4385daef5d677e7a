/* Step 1 of the container's filesystem: propagation, the rootfs bind,
 * config mounts and /dev (see rootfs.h). */
#include "config.h"
#include "devices.h"
#include "mounts.h"
#include "paths.h"
#include "rootfs.h"
#include "util/util.h"
#include "../util/trace.h"
#include "mount_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Undo mountinfo's octal escapes (\040 for a space...) in place. */
static void
unescape_octal (char *s)
{
  char *out = s;
  while (*s)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7'
          && s[3] >= '0' && s[3] <= '7')
        {
          *out++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
          s += 4;
        }
      else
        *out++ = *s++;
    }
  *out = '\0';
}

/* The mount point of the mount that holds `path`. */
static char *
mount_point_of (const char *path, crt_error **err)
{
  cleanup_free char *text = NULL;
  struct statx stx;
  char *line, *save = NULL;
  size_t len;

  if (statx (AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0)
    {
      crt_error_errno (err, "statx `%s`", path);
      return NULL;
    }
  if (crt_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &text, &len, err) < 0)
    return NULL;
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      const char *mnt;
      char *mnt_point;
      size_t mnt_len;

      /* id parent major:minor root mount-point ... */
      if (strtoull (line, NULL, 10) != stx.stx_mnt_id
          || (mnt = crt_word (line, 4, &mnt_len)) == NULL)
        continue;
      mnt_point = crt_xstrndup (mnt, mnt_len);
      unescape_octal (mnt_point);
      return mnt_point;
    }
  crt_error_set (err, 0, "mount of `%s` not found in /proc/self/mountinfo", path);
  return NULL;
}

/* pivot_root refuses a new root whose parent mount is shared, and a
 * shared parent would also propagate the rootfs bind to the host. */
static int
make_parent_private (const char *rootfs, crt_error **err)
{
  cleanup_free char *parent = mount_point_of (rootfs, err);

  if (parent == NULL)
    return -1;
  if (mount (NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
    return crt_error_errno (err, "make `%s` private", parent);
  return 0;
}

/* Default devices are made unless /dev is a mount of something else
 * than a tmpfs (typically a bind of a prepared /dev). */
static bool
wants_default_devices (const crt_spec *spec)
{
  bool wanted = true;

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const crt_mount *m = &spec->mounts[i];
      cleanup_free char *dest = m->destination ? crt_path_clean (m->destination) : NULL;

      if (dest == NULL || strcmp (dest, "dev") != 0)
        continue;
      wanted = !crt_mount_is_bind (m) && m->type && strcmp (m->type, "tmpfs") == 0;
    }
  return wanted;
}

int
crt_rootfs_propagation (const crt_spec *spec, unsigned long *flags, crt_error **err)
{
  const char *name = spec->linux_ ? spec->linux_->rootfs_propagation : NULL;

  *flags = MS_PRIVATE | MS_REC;
  if (name == NULL)
    return 0;
  *flags = crt_propagation_from_name (name);
  if (*flags == 0)
    return crt_error_set (err, 0, "linux.rootfsPropagation: unknown value `%s`", name);
  return 0;
}

int
crt_rootfs_mount_all (const crt_spec *spec, const crt_rootfs_options *opts, crt_error **err)
{
  cleanup_close int rootfd = -1, crt_cwd = -1;
  unsigned long propagation;

  if (opts->rootfs == NULL || opts->rootfs[0] != '/')
    return crt_error_set (err, 0, "rootfs: an absolute path is required");
  if (crt_rootfs_propagation (spec, &propagation, err) < 0)
    return -1;
  if (opts->host_mountns)
    goto mounts;
  if (mount (NULL, "/", NULL, propagation, NULL) < 0)
    return crt_error_errno (err, "set the propagation of `/`");
  /* A slave rootfs must keep its master, to receive the host's mounts.
   * After a recursive private `/` (the default) the parent is private
   * already: no need to look it up in mountinfo. */
  if ((propagation & ~MS_REC) != MS_SLAVE && propagation != (MS_PRIVATE | MS_REC)
      && make_parent_private (opts->rootfs, err) < 0)
    return -1;
  CRT_TRACE_POINT ("init: propagation");
  /* The rootfs must be a mount point of its own for pivot_root. */
  if (mount (opts->rootfs, opts->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return crt_error_errno (err, "bind the rootfs `%s` onto itself", opts->rootfs);

mounts:
  CRT_TRACE_POINT ("init: rootfs bind");
  /* Host root only (see mount_on_fd); without it the mounts take the
   * /proc/self/fd way. */
  if (!opts->userns)
    crt_cwd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  rootfd = open (opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return crt_error_errno (err, "open the rootfs `%s`", opts->rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      cleanup_free char *dest = NULL;

      if (crt_mount_one (rootfd, crt_cwd, spec, i, opts, err) < 0)
        return -1;
      CRT_TRACE_POINT (spec->mounts[i].destination);
      /* A mount on "/" covers the rootfs: what follows goes on top. */
      dest = spec->mounts[i].destination ? crt_path_clean (spec->mounts[i].destination) : NULL;
      if (dest && dest[0] == '\0')
        {
          close (rootfd);
          rootfd = open (opts->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (rootfd < 0)
            return crt_error_errno (err, "open the rootfs `%s`", opts->rootfs);
        }
    }
  return crt_devices_setup (rootfd, spec, opts, wants_default_devices (spec), err);
}
