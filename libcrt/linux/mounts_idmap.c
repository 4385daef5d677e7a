/* idmap/ridmap: a user namespace holding a mount's uidMappings and
 * gidMappings, for mount_setattr(MOUNT_ATTR_IDMAP).
 *
 * The namespace is made by a short-lived child that unshares it and
 * waits while we write its maps. Before pivot_root the init sees the
 * host /proc, where the child's pid differs from the one fork returns
 * in a pid namespace, so the child tells us its /proc/self. */
#include "config.h"
#include "mounts.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
format_map (const crt_id_mapping *map, size_t n)
{
  char *text = crt_xstrdup ("");
  for (size_t i = 0; i < n; i++)
    {
      char *longer = crt_fmt ("%s%u %u %u\n", text, map[i].container_id, map[i].host_id,
                              map[i].size);
      free (text);
      text = longer;
    }
  return text;
}

static int
write_maps (const char *proc_dir, const crt_id_mapping *uids, size_t n_uids,
            const crt_id_mapping *gids, size_t n_gids, crt_error **err)
{
  cleanup_free char *uid_map = format_map (uids, n_uids);
  cleanup_free char *gid_map = format_map (gids, n_gids);
  cleanup_free char *uid_path = crt_fmt ("%s/uid_map", proc_dir);
  cleanup_free char *gid_path = crt_fmt ("%s/gid_map", proc_dir);

  if (crt_write_file_at (AT_FDCWD, uid_path, uid_map, strlen (uid_map), 0, err) < 0
      || crt_write_file_at (AT_FDCWD, gid_path, gid_map, strlen (gid_map), 0, err) < 0)
    return crt_error_prefix (err, "write the idmap mappings");
  return 0;
}

static void
child_main (int report, int hold)
{
  char self[64] = "";
  ssize_t n;

  if (unshare (CLONE_NEWUSER) < 0)
    _exit (1);
  n = readlink ("/proc/self", self, sizeof (self) - 1);
  if (n <= 0 || crt_write_all (report, self, (size_t) n) < 0)
    _exit (1);
  close (report);
  /* Stay until the parent has the namespace (it closes `hold`). */
  while (read (hold, self, 1) < 0 && errno == EINTR)
    ;
  _exit (0);
}

int
crt_idmap_userns (const crt_id_mapping *uids, size_t n_uids, const crt_id_mapping *gids,
                  size_t n_gids, crt_error **err)
{
  int report[2], hold[2];
  char host_pid[64] = "";
  cleanup_free char *proc_dir = NULL, *ns_path = NULL;
  int nsfd = -1, status;
  ssize_t n;
  pid_t pid;

  if (n_uids == 0 || n_gids == 0)
    return crt_error_set (err, 0, "idmap needs both uidMappings and gidMappings");
  if (pipe2 (report, O_CLOEXEC) < 0)
    return crt_error_errno (err, "pipe");
  if (pipe2 (hold, O_CLOEXEC) < 0)
    {
      close (report[0]);
      close (report[1]);
      return crt_error_errno (err, "pipe");
    }
  pid = fork ();
  if (pid == 0)
    {
      close (report[0]);
      close (hold[1]);
      child_main (report[1], hold[0]);
    }
  close (report[1]);
  close (hold[0]);
  if (pid < 0)
    {
      close (report[0]);
      close (hold[1]);
      return crt_error_errno (err, "fork");
    }

  n = crt_read_all (report[0], host_pid, sizeof (host_pid) - 1);
  close (report[0]);
  if (n <= 0)
    crt_error_set (err, 0, "idmap: the helper process could not make a user namespace");
  else
    {
      proc_dir = crt_fmt ("/proc/%s", host_pid);
      ns_path = crt_fmt ("%s/ns/user", proc_dir);
      if (write_maps (proc_dir, uids, n_uids, gids, n_gids, err) == 0)
        {
          nsfd = open (ns_path, O_RDONLY | O_CLOEXEC);
          if (nsfd < 0)
            crt_error_errno (err, "open `%s`", ns_path);
        }
    }
  close (hold[1]);
  crt_waitpid (pid, &status, 0);
  return nsfd;
}
