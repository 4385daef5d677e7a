#include "config.h"
#include "cgroup_ops.h"
#include "../util/util.h"

#include <unistd.h>

int
crt_open_container_cgroup (const crt_context *ctx, const char *id, bool exclusive, int *dirfd,
                           crt_state_record *rec, crt_error **err)
{
  cleanup_close int fd = -1;

  if (crt_state_dir_open (ctx, id, exclusive, &fd, err) < 0 || crt_state_read (fd, rec, err) < 0)
    return -1;
  if (rec->cgroup_path == NULL || rec->cgroup_path[0] == '\0')
    return crt_error_set (err, 0,
                          "container `%s` has no cgroup (--cgroup-manager=disabled, or rootless "
                          "without a writable one)",
                          id);
  *dirfd = crt_steal_fd (&fd);
  return 0;
}
