/* pause and resume: freeze and thaw the container's cgroup. */
#include "config.h"
#include "cgroup_ops.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"

#include <unistd.h>

int
crt_container_pause (crt_context *ctx, const char *id, crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  if (crt_open_container_cgroup (ctx, id, true, &dirfd, &rec, err) < 0)
    return -1;
  /* As runc: only a running container pauses (a created one has not
   * started its program yet, a paused one already is). */
  if (crt_state_status (dirfd, &rec) != CRT_STATUS_RUNNING)
    return crt_error_set (err, 0, "container `%s` is not running", id);
  return crt_cgroup_freeze (rec.cgroup_path, true, err);
}

int
crt_container_resume (crt_context *ctx, const char *id, crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  if (crt_open_container_cgroup (ctx, id, true, &dirfd, &rec, err) < 0)
    return -1;
  if (crt_state_status (dirfd, &rec) != CRT_STATUS_PAUSED)
    return crt_error_set (err, 0, "container `%s` is not paused", id);
  return crt_cgroup_freeze (rec.cgroup_path, false, err);
}
