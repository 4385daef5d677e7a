/* delete: remove a stopped container; --force kills a running one first. */
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "systemd_scope.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>

/* A container without a mount namespace of its own had its mounts made
 * in crt's (under its rootfs, as runc does); they go with it. */
static void
unmount_under_rootfs (const char *rootfs)
{
  cleanup_free char *text = NULL;
  char *points[512];
  size_t n = 0, len, rlen = strlen (rootfs);
  char *line, *save = NULL;

  if (crt_read_file_at (AT_FDCWD, "/proc/self/mountinfo", &text, &len, NULL) < 0)
    return;
  for (line = strtok_r (text, "\n", &save); line && n < CRT_ARRAY_SIZE (points);
       line = strtok_r (NULL, "\n", &save))
    {
      char *f = line;
      /* id parent major:minor root mount-point */
      for (int i = 0; i < 4 && f; i++)
        f = strchr (f, ' ') ? strchr (f, ' ') + 1 : NULL;
      if (f == NULL || strchr (f, ' ') == NULL)
        continue;
      *strchr (f, ' ') = '\0';
      if (strncmp (f, rootfs, rlen) == 0 && f[rlen] == '/')
        points[n++] = f;
    }
  /* The deepest first (mountinfo lists parents before children). */
  while (n > 0)
    umount2 (points[--n], MNT_DETACH);
}

int
crt_destroy (crt_context *ctx, const char *id, int dirfd, crt_error **err)
{
  return crt_destroy_known (ctx, id, dirfd, NULL, NULL, err);
}

int
crt_destroy_known (crt_context *ctx, const char *id, int dirfd, const crt_spec *known_spec,
                   const crt_state_record *known_rec, crt_error **err)
{
  cleanup_state_record crt_state_record read_rec = { 0 };
  cleanup_free char *config_text = NULL;
  cleanup_spec crt_spec *read_spec = NULL;
  const crt_state_record *r = known_rec;
  const crt_spec *spec = known_spec;
  bool have_rec = r != NULL;

  if (r == NULL && crt_state_read (dirfd, &read_rec, NULL) == 0)
    {
      r = &read_rec;
      have_rec = true;
    }
  /* The hooks to run come from the config as it was at create. */
  if (spec == NULL && crt_read_file_at (dirfd, CRT_CONFIG_COPY, &config_text, NULL, NULL) == 0
      && crt_spec_parse (config_text, "config.json", &read_spec, NULL) == 0)
    spec = read_spec;
  /* The cgroup goes first: while it exists, so does the state that
   * names it, and a failed delete can be retried. With the systemd
   * driver, systemd removes it with the unit (also after a create that
   * died before writing the state). */
  if (crt_scope_remove (dirfd, have_rec ? r->cgroup_path : NULL, ctx->rootless, err) < 0)
    return -1;
  if (have_rec && r->cgroup_path && r->cgroup_path[0]
      && crt_cgroup_destroy (r->cgroup_path, err) < 0)
    return -1;
  if (crt_state_dir_remove (ctx, id, dirfd, err) < 0)
    return -1;
  if (spec && have_rec && r->rootfs && r->rootfs[0] == '/'
      && crt_spec_namespace (spec, CRT_NS_MOUNT) == NULL)
    unmount_under_rootfs (r->rootfs);
  /* poststop: after everything is gone; a failure is only a warning. */
  if (spec && spec->hooks && spec->hooks->n_hooks[CRT_HOOK_POSTSTOP])
    {
      cleanup_free char *state
          = crt_hook_state_for (spec, id, "stopped", 0, have_rec ? r->bundle : "");
      crt_hooks_run_logged (ctx, spec->hooks, CRT_HOOK_POSTSTOP, state);
    }
  return 0;
}

int
crt_container_delete (crt_context *ctx, const char *id, bool force, crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  crt_status status;

  if (crt_state_dir_open (ctx, id, true, &dirfd, err) < 0)
    {
      /* As runc: forcing away what is not there is not an error. */
      if (force && (*err)->errnum == ENOENT)
        {
          crt_error_free (err);
          return 0;
        }
      return -1;
    }
  if (crt_state_read (dirfd, &rec, err) < 0)
    {
      /* A directory without state is what a crashed create leaves. */
      if ((*err)->errnum != ENOENT)
        return -1;
      crt_error_free (err);
      return crt_destroy (ctx, id, dirfd, err);
    }
  status = crt_state_status (dirfd, &rec);
  if ((status == CRT_STATUS_RUNNING || status == CRT_STATUS_PAUSED) && !force)
    /* runc's words (delete.go). */
    return crt_error_set (err, 0, "cannot delete container %s that is not stopped: %s", id,
                          crt_status_name (status));
  /* A created container was never started: it goes like runc's does. */
  if (status != CRT_STATUS_STOPPED && crt_kill_and_wait (&rec, SIGKILL, err) < 0)
    return -1;
  return crt_destroy (ctx, id, dirfd, err);
}
