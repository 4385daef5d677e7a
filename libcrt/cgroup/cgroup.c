#include "config.h"
#include "cgroup.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

static char *cached_mountpoint;

int
crt_cgroup_mountpoint (const char **out, crt_error **err)
{
  cleanup_free char *text = NULL;
  struct statfs sfs;

  if (cached_mountpoint)
    {
      *out = cached_mountpoint;
      return 0;
    }
  /* The usual place first; otherwise the first cgroup2 mount we see. */
  if (statfs ("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
    cached_mountpoint = crt_xstrdup ("/sys/fs/cgroup");
  /* Read whole (an EINTR is retried; stdio would end the file there). */
  else if (crt_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &text, NULL, err) == 0)
    {
      char *next;
      for (char *line = text; cached_mountpoint == NULL && line && *line; line = next)
        {
          /* id parent maj:min root mountpoint options... - fstype source opts */
          const char *mnt;
          size_t mnt_len;
          char *sep;
          next = strchr (line, '\n');
          if (next)
            *next++ = '\0';
          sep = strstr (line, " - ");
          if (sep == NULL || strncmp (sep + 3, "cgroup2 ", 8) != 0)
            continue;
          if ((mnt = crt_word (line, 4, &mnt_len)) != NULL)
            cached_mountpoint = crt_xstrndup (mnt, mnt_len);
        }
    }
  else
    return -1;
  if (cached_mountpoint == NULL)
    return crt_error_set (err, ENOENT, "no cgroup2 hierarchy is mounted");
  *out = cached_mountpoint;
  return 0;
}

int
crt_cgroup_of_pid (pid_t pid, char **out, crt_error **err)
{
  cleanup_free char *file = pid ? crt_fmt ("/proc/%d/cgroup", (int) pid)
                                : crt_xstrdup ("/proc/self/cgroup");
  cleanup_free char *text = NULL;
  char *line;

  if (crt_read_file_at (AT_FDCWD, file, &text, NULL, err) < 0)
    return -1;
  for (line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (crt_str_has_prefix (line, "0::"))
      {
        char *end = strchr (line, '\n');
        if (end)
          *end = '\0';
        *out = crt_xstrdup (line + 3);
        return 0;
      }
  return crt_error_set (err, ENOENT, "%s: not in the cgroup v2 hierarchy", file);
}

static bool
path_is_clean (const char *p)
{
  /* No "..": a container's cgroup stays where the config says. */
  for (const char *c = p; (c = strstr (c, "..")) != NULL; c += 2)
    if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
      return false;
  return true;
}

int
crt_cgroup_path_for (const crt_context *ctx, const crt_spec *spec, const char *id, char **out,
                     crt_error **err)
{
  const char *want = spec->linux_ ? spec->linux_->cgroups_path : NULL;
  cleanup_free char *base = NULL;

  *out = NULL;
  /* systemd makes the cgroup, for the init (container/systemd_scope.c). */
  if (ctx->cgroup_manager == CRT_CGROUP_MANAGER_DISABLED
      || ctx->cgroup_manager == CRT_CGROUP_MANAGER_SYSTEMD)
    return 0;
  if (want == NULL || want[0] == '\0')
    {
      cleanup_free char *own = NULL;
      /* Rootless: below crt's own cgroup, the one a user may have been
       * delegated (systemd's user@UID.service tree); it is skipped when
       * not writable (create.c). */
      if (!ctx->rootless)
        *out = crt_fmt ("/crt/%s", id);
      else if (crt_cgroup_of_pid (0, &own, err) < 0)
        return -1;
      else
        *out = crt_fmt ("%s%scrt-%s", own, strcmp (own, "/") == 0 ? "" : "/", id);
      return 0;
    }
  if (!path_is_clean (want))
    return crt_error_set (err, 0, "config.json: linux.cgroupsPath: `%s` must not contain ..", want);
  if (want[0] == '/')
    {
      *out = crt_xstrdup (want);
      return 0;
    }
  if (crt_cgroup_of_pid (0, &base, err) < 0)
    return -1;
  *out = crt_fmt ("%s%s%s", base, strcmp (base, "/") == 0 ? "" : "/", want);
  return 0;
}

/* Enable in dirfd's subtree_control every controller it has. A cgroup
 * with processes of its own refuses (no internal processes): that only
 * leaves those controllers unavailable below, which is reported when a
 * resource needs one. Such a cgroup (not the root, which may) is left
 * alone: it would take the threaded controllers (cpu, cpuset, pids) one
 * by one and become a thread root, and a process then cannot enter its
 * new child (EOPNOTSUPP: not a valid domain); rootless crt started in
 * its delegated cgroup is in one. */
static void
enable_controllers (int dirfd, bool is_root)
{
  cleanup_free char *avail = NULL, *procs = NULL;
  char *save = NULL;

  if (!is_root
      && (crt_read_file_at (dirfd, "cgroup.procs", &procs, NULL, NULL) < 0 || procs[0] != '\0'))
    return;
  if (crt_read_file_at (dirfd, "cgroup.controllers", &avail, NULL, NULL) < 0)
    return;
  for (char *c = strtok_r (avail, " \n", &save); c; c = strtok_r (NULL, " \n", &save))
    {
      cleanup_free char *op = crt_fmt ("+%s", c);
      crt_write_file_at (dirfd, "cgroup.subtree_control", op, strlen (op), 0, NULL);
    }
}

int
crt_cgroup_create (const char *path, int *dirfd, crt_error **err)
{
  const char *mnt;
  cleanup_free char *copy = crt_xstrdup (path);
  cleanup_close int fd = -1;
  char *save = NULL;
  bool made = false, first = true;

  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  fd = open (mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return crt_error_errno (err, "open `%s`", mnt);
  /* Walk down by fd: each level's controllers are enabled for the next. */
  for (char *comp = strtok_r (copy, "/", &save); comp; comp = strtok_r (NULL, "/", &save))
    {
      int next;
      enable_controllers (fd, first);
      first = false;
      made = mkdirat (fd, comp, 0755) == 0;
      if (!made && errno != EEXIST)
        return crt_error_errno (err, "create cgroup `%s`", path);
      next = openat (fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        {
          crt_error_errno (err, "open cgroup `%s`", path);
          goto fail;
        }
      close (fd);
      fd = next;
    }
  {
    cleanup_free char *procs = NULL;
    if (crt_read_file_at (fd, "cgroup.procs", &procs, NULL, err) < 0)
      {
        crt_error_prefix (err, "cgroup `%s`", path);
        goto fail;
      }
    if (procs[0] != '\0')
      return crt_error_set (err, EBUSY, "cgroup `%s` is already in use by other processes", path);
  }
  *dirfd = crt_steal_fd (&fd);
  return 0;

fail:
  /* The caller undoes only a cgroup it got: one we made goes now (an
   * rmdir, which a cgroup in use refuses). */
  if (made)
    {
      cleanup_free char *dir = crt_fmt ("%s%s", mnt, path);
      rmdir (dir);
    }
  return -1;
}

int
crt_cgroup_enter (int dirfd, pid_t pid, crt_error **err)
{
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%d", (int) pid);
  if (crt_write_file_at (dirfd, "cgroup.procs", buf, (size_t) n, 0, err) < 0)
    return crt_error_prefix (err, "move the container into its cgroup");
  return 0;
}

/* Hands the cgroup to the container's root (a new user namespace whose 0
 * is host uid:gid): the directory and the files the kernel lists as safe
 * to delegate (/sys/kernel/cgroup/delegate: cgroup.procs, .threads,
 * .subtree_control, memory.oom.group, ...), as systemd's Delegate=yes,
 * crun and runc (cgroup v2, user namespace) do. The container can then
 * make sub-cgroups and move its processes among them; the limits on this
 * cgroup itself stay root's. */
int
crt_cgroup_delegate (int dirfd, uid_t uid, gid_t gid, crt_error **err)
{
  cleanup_free char *names = NULL;
  char *name, *save = NULL;

  if (fchown (dirfd, uid, gid) < 0)
    return crt_error_errno (err, "delegate the cgroup to %u:%u", (unsigned) uid, (unsigned) gid);
  if (crt_read_file_at (AT_FDCWD, "/sys/kernel/cgroup/delegate", &names, NULL, NULL) < 0)
    names = crt_xstrdup ("cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
  for (name = strtok_r (names, "\n", &save); name; name = strtok_r (NULL, "\n", &save))
    if (fchownat (dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
      return crt_error_errno (err, "delegate the cgroup to %u:%u: %s", (unsigned) uid,
                              (unsigned) gid, name);
  return 0;
}

static char *
full_path (const char *path, crt_error **err)
{
  const char *mnt;
  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return NULL;
  return crt_fmt ("%s%s", mnt, path);
}

int
crt_cgroup_open (const char *path, int *dirfd, crt_error **err)
{
  cleanup_free char *dir = full_path (path, err);

  if (dir == NULL)
    return -1;
  *dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return crt_error_errno (err, "open cgroup `%s`", path);
  return 0;
}

int
crt_cgroup_pids (const char *path, pid_t **out, size_t *n, crt_error **err)
{
  cleanup_free char *dir = full_path (path, err);
  cleanup_free char *text = NULL;
  cleanup_free pid_t *pids = NULL;
  size_t count = 0, cap = 0;
  DIR *d;
  struct dirent *de;

  *out = NULL;
  *n = 0;
  if (dir == NULL)
    return -1;
  {
    cleanup_free char *procs = crt_fmt ("%s/cgroup.procs", dir);
    if (crt_read_file_at (AT_FDCWD, procs, &text, NULL, err) < 0)
      return -1;
  }
  for (char *p = text; *p;)
    {
      char *end;
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (count == cap)
        {
          cap = cap ? cap * 2 : 32;
          pids = crt_xreallocarray (pids, cap, sizeof (pid_t));
        }
      pids[count++] = (pid_t) v;
      p = end;
      while (*p == '\n')
        p++;
    }
  /* Sub-cgroups (exec --cgroup) hold container processes too. */
  d = opendir (dir);
  if (d)
    {
      while ((de = readdir (d)) != NULL)
        {
          cleanup_free char *sub = NULL;
          cleanup_free pid_t *more = NULL;
          size_t nmore = 0;
          if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
          sub = crt_fmt ("%s/%s", path, de->d_name);
          if (crt_cgroup_pids (sub, &more, &nmore, NULL) < 0 || nmore == 0)
            continue;
          pids = crt_xreallocarray (pids, count + nmore, sizeof (pid_t));
          memcpy (pids + count, more, nmore * sizeof (pid_t));
          count += nmore;
          cap = count;
        }
      closedir (d);
    }
  *out = crt_steal_ptr (&pids);
  *n = count;
  return 0;
}

static int
read_events_frozen (const char *dir)
{
  cleanup_free char *events = crt_fmt ("%s/cgroup.events", dir);
  cleanup_free char *text = NULL;
  char *p;

  if (crt_read_file_at (AT_FDCWD, events, &text, NULL, NULL) < 0)
    return -1;
  p = strstr (text, "frozen ");
  return p ? p[7] == '1' : -1;
}

int
crt_cgroup_is_frozen (const char *path)
{
  cleanup_free char *dir = full_path (path, NULL);
  return dir ? read_events_frozen (dir) : -1;
}

int
crt_cgroup_freeze (const char *path, bool frozen, crt_error **err)
{
  cleanup_free char *dir = full_path (path, err);
  cleanup_free char *file = NULL;

  if (dir == NULL)
    return -1;
  file = crt_fmt ("%s/cgroup.freeze", dir);
  if (crt_write_file_at (AT_FDCWD, file, frozen ? "1" : "0", 1, 0, err) < 0)
    return -1;
  /* The kernel freezes asynchronously; cgroup.events says when it is done. */
  for (int i = 0; i < 2000; i++)
    {
      int state = read_events_frozen (dir);
      if (state == (frozen ? 1 : 0))
        return 0;
      if (state < 0)
        return crt_error_set (err, ENOENT, "cgroup `%s` is gone", path);
      nanosleep (&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
    }
  return crt_error_set (err, ETIMEDOUT, "cgroup `%s` did not %s in 10s", path,
                        frozen ? "freeze" : "thaw");
}

int
crt_cgroup_kill (const char *path, int sig, crt_error **err)
{
  cleanup_free char *dir = full_path (path, err);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  bool was_frozen;
  int ret = 0;

  if (dir == NULL)
    return -1;
  if (sig == SIGKILL)
    {
      cleanup_free char *killfile = crt_fmt ("%s/cgroup.kill", dir);
      if (crt_write_file_at (AT_FDCWD, killfile, "1", 1, 0, NULL) == 0)
        return 0;
    }
  /* Frozen, no process can fork a child we would miss. */
  was_frozen = read_events_frozen (dir) == 1;
  if (!was_frozen && crt_cgroup_freeze (path, true, err) < 0)
    return -1;
  if (crt_cgroup_pids (path, &pids, &n, err) < 0)
    ret = -1;
  for (size_t i = 0; ret == 0 && i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      ret = crt_error_errno (err, "kill %d", (int) pids[i]);
  if (!was_frozen && crt_cgroup_freeze (path, false, ret < 0 ? NULL : err) < 0)
    ret = -1;
  return ret;
}

/* Remove the cgroups below dirfd, deepest first (exec --cgroup SUB and
 * the container itself may have made some); the kernel refuses to
 * remove a cgroup that has children. Best effort: the caller retries. */
static void
remove_children (int dirfd, int depth)
{
  DIR *d = crt_dir_list (dirfd);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_close int child = -1;
      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0
          || strcmp (de->d_name, "..") == 0)
        continue;
      child = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0 && depth < 64)
        remove_children (child, depth + 1);
      unlinkat (dirfd, de->d_name, AT_REMOVEDIR);
    }
  closedir (d);
}

int
crt_cgroup_destroy (const char *path, crt_error **err)
{
  cleanup_free char *dir = full_path (path, err);

  if (dir == NULL)
    return -1;
  for (int attempt = 0; attempt < 200; attempt++)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        return crt_error_errno (err, "remove cgroup `%s`", path);
      /* Processes left (a shared pid namespace) or still exiting, or
       * child cgroups. */
      if (attempt == 0)
        crt_cgroup_kill (path, SIGKILL, NULL);
      {
        cleanup_close int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
          remove_children (fd, 0);
      }
      nanosleep (&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
  return crt_error_set (err, EBUSY, "remove cgroup `%s`: still busy after 2s", path);
}
