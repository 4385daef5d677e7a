/* The id maps of a new user namespace, written by crt (the parent) for
 * its init.
 *
 * Privileged (CAP_SETUID / CAP_SETGID where crt runs), crt writes
 * /proc/PID/uid_map and gid_map itself. Unprivileged (rootless), the
 * kernel lets a process map only its own id, and a gid map only once
 * setgroups is denied; any other map (the ranges of /etc/subuid and
 * /etc/subgid) goes through the setuid helpers newuidmap and newgidmap,
 * which check it against those files, as runc and crun do. Either way
 * the init must be dumpable until its maps exist, or its /proc files
 * belong to root (see crt_ns_clone). */
#include "config.h"
#include "namespaces.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int64_t
crt_id_map_host (const crt_id_mapping *maps, size_t n, uint32_t own, uint32_t id)
{
  if (n == 0)
    return id == 0 ? (int64_t) own : -1;
  for (size_t i = 0; i < n; i++)
    if (id >= maps[i].container_id && id - maps[i].container_id < maps[i].size)
      return (int64_t) maps[i].host_id + (id - maps[i].container_id);
  return -1;
}

typedef struct id_kind
{
  const char *map_file;         /* uid_map, gid_map */
  const char *helper;           /* newuidmap, newgidmap */
  const char *sub_file;         /* /etc/subuid, /etc/subgid */
  cap_value_t cap;              /* CAP_SETUID, CAP_SETGID */
  unsigned own_id;              /* crt's euid, egid */
} id_kind;

static bool
has_effective_cap (cap_value_t cap)
{
  cap_t caps = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;

  if (caps == NULL)
    return false;
  if (cap_get_flag (caps, cap, CAP_EFFECTIVE, &v) < 0)
    v = CAP_CLEAR;
  cap_free (caps);
  return v == CAP_SET;
}

static int
write_map_file (pid_t pid, const char *file, const crt_id_mapping *maps, size_t n,
                crt_error **err)
{
  cleanup_free char *path = crt_fmt ("/proc/%d/%s", (int) pid, file);
  char buf[4096];
  size_t used = 0;

  for (size_t i = 0; i < n; i++)
    {
      int w = snprintf (buf + used, sizeof (buf) - used, "%u %u %u\n", maps[i].container_id,
                        maps[i].host_id, maps[i].size);
      if (w < 0 || (size_t) w >= sizeof (buf) - used)
        return crt_error_set (err, E2BIG, "write `%s`", path);
      used += (size_t) w;
    }
  /* The kernel takes the whole map in one write or not at all. */
  return crt_write_file_at (AT_FDCWD, path, buf, used, 0, err);
}

/* newuidmap PID INSIDE OUTSIDE COUNT...; what it says on stderr is the
 * reason of a refusal ("uid range [..) -> [..) not allowed"). */
static int
run_helper (pid_t pid, const id_kind *k, const crt_id_mapping *maps, size_t n, crt_error **err)
{
  cleanup_strv char **argv = crt_xmalloc0 ((3 * n + 3) * sizeof (char *));
  cleanup_close int out_r = -1, out_w = -1;
  posix_spawn_file_actions_t fa;
  char said[1024];
  ssize_t got;
  pid_t helper;
  int fds[2], status = 0, rc;

  argv[0] = crt_xstrdup (k->helper);
  argv[1] = crt_fmt ("%d", (int) pid);
  for (size_t i = 0; i < n; i++)
    {
      argv[2 + 3 * i] = crt_fmt ("%u", maps[i].container_id);
      argv[3 + 3 * i] = crt_fmt ("%u", maps[i].host_id);
      argv[4 + 3 * i] = crt_fmt ("%u", maps[i].size);
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return crt_error_errno (err, "pipe");
  out_r = fds[0];
  out_w = fds[1];
  if (posix_spawn_file_actions_init (&fa) != 0)
    return crt_error_set (err, ENOMEM, "run %s", k->helper);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, out_w, 1);
  posix_spawn_file_actions_adddup2 (&fa, out_w, 2);
  rc = posix_spawnp (&helper, k->helper, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (rc != 0)
    return crt_error_set (err, rc,
                          "%s: several ranges (or ids other than crt's own) need %s "
                          "(Debian's uidmap package)",
                          k->helper, k->helper);
  crt_closep (&out_w);
  got = crt_read_all (out_r, said, sizeof (said) - 1);
  said[got > 0 ? got : 0] = '\0';
  crt_waitpid (helper, &status, 0);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  /* One line: the helper's own words, without the trailing newline. */
  said[strcspn (said, "\n")] = '\0';
  return crt_error_set (err, 0, "%s refused the map (%s): %s", k->helper,
                        k->sub_file, said[0] ? said : "no reason given");
}

/* Only crt's own id, which the kernel lets any process map. */
static bool
maps_own_id_only (const crt_id_mapping *maps, size_t n, unsigned own_id)
{
  return n == 1 && maps[0].size == 1 && maps[0].host_id == own_id;
}

static int
write_one (pid_t pid, const id_kind *k, const crt_id_mapping *maps, size_t n, crt_error **err)
{
  if (has_effective_cap (k->cap))
    return write_map_file (pid, k->map_file, maps, n, err);
  if (!maps_own_id_only (maps, n, k->own_id))
    return run_helper (pid, k, maps, n, err);
  /* The kernel's rule for an unprivileged gid map: the process must give
   * up setgroups first, or it could drop a group that denies it access.
   * (newgidmap writes maps that need no such rule: not there.) */
  if (k->cap == CAP_SETGID)
    {
      cleanup_free char *path = crt_fmt ("/proc/%d/setgroups", (int) pid);
      if (crt_write_file_at (AT_FDCWD, path, "deny", 4, 0, err) < 0)
        return -1;
    }
  return write_map_file (pid, k->map_file, maps, n, err);
}

/* Without linux.uidMappings (or gidMappings) the container's root is
 * crt's own uid (gid), and no other id is mapped: "0 <euid> 1", what
 * crun writes for a caller that has no /etc/subuid range. Every other
 * id, in files or for process.user, is the overflow id (65534). */
int
crt_ns_write_id_maps (pid_t pid, const crt_linux *linux_, crt_error **err)
{
  const id_kind uid = { "uid_map", "newuidmap", "/etc/subuid", CAP_SETUID, geteuid () };
  const id_kind gid = { "gid_map", "newgidmap", "/etc/subgid", CAP_SETGID, getegid () };
  crt_id_mapping own_uid = { .container_id = 0, .host_id = uid.own_id, .size = 1 };
  crt_id_mapping own_gid = { .container_id = 0, .host_id = gid.own_id, .size = 1 };
  bool uids = linux_->n_uid_mappings > 0, gids = linux_->n_gid_mappings > 0;

  if (write_one (pid, &uid, uids ? linux_->uid_mappings : &own_uid,
                 uids ? linux_->n_uid_mappings : 1, err) < 0)
    return crt_error_prefix (err, uids ? "linux.uidMappings" : "default uid map");
  if (write_one (pid, &gid, gids ? linux_->gid_mappings : &own_gid,
                 gids ? linux_->n_gid_mappings : 1, err) < 0)
    return crt_error_prefix (err, gids ? "linux.gidMappings" : "default gid map");
  return 0;
}
