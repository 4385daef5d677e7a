/* ps: the processes of a container, from its cgroup. */
#include "config.h"
#include "cgroup_ops.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"

#include <unistd.h>

int
crt_container_pids (crt_context *ctx, const char *id, pid_t **out, size_t *n, crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  *out = NULL;
  *n = 0;
  if (crt_open_container_cgroup (ctx, id, false, &dirfd, &rec, err) < 0)
    return -1;
  /* A stopped container's cgroup may still exist until delete: it is empty. */
  if (crt_state_status (dirfd, &rec) == CRT_STATUS_STOPPED)
    return 0;
  return crt_cgroup_pids (rec.cgroup_path, out, n, err);
}
