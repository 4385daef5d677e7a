/* start: release a created container's init, which then execs. */
#include "config.h"
#include "container.h"
#include "notify.h"
#include "../util/util.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int
crt_release_init (int dirfd, const char *id, crt_error **err)
{
  /* Non-blocking: with no reader (the init is gone) open fails with
   * ENXIO at once instead of hanging. */
  cleanup_close int fd = openat (dirfd, CRT_EXEC_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    {
      if (errno == ENXIO)
        return crt_error_set (err, ESRCH, "container `%s`: its init is not waiting for start", id);
      return crt_error_errno (err, "open exec fifo");
    }
  if (crt_write_all (fd, "0", 1) < 0)
    return crt_error_errno (err, "write exec fifo");
  /* Without the fifo the container reads as running from now on. */
  if (unlinkat (dirfd, CRT_EXEC_FIFO, 0) < 0)
    return crt_error_errno (err, "remove exec fifo");
  return 0;
}

int
crt_start_and_notify (crt_context *ctx, int dirfd, const crt_state_record *rec, int *notify_fd,
                      crt_error **err)
{
  cleanup_free char *state_dir = crt_state_dir_path (ctx, rec->id);

  *notify_fd = -1;
  /* The socket must exist before the program can say READY=1. */
  if (rec->notify_socket && rec->notify_socket[0]
      && crt_notify_listen (dirfd, state_dir, notify_fd, err) < 0)
    return -1;
  if (crt_release_init (dirfd, rec->id, err) < 0)
    {
      crt_closep (notify_fd);
      return -1;
    }
  return 0;
}

int
crt_container_start (crt_context *ctx, const char *id, crt_error **err)
{
  cleanup_close int dirfd = -1, notify_fd = -1, pidfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  crt_status status;

  if (crt_state_dir_open (ctx, id, true, &dirfd, err) < 0 || crt_state_read (dirfd, &rec, err) < 0)
    return -1;
  status = crt_state_status (dirfd, &rec);
  if (status != CRT_STATUS_CREATED)
    return crt_error_set (err, 0, "cannot start container `%s`: it is %s, not created", id,
                          crt_status_name (status));
  if (crt_start_and_notify (ctx, dirfd, &rec, &notify_fd, err) < 0)
    return -1;
  if (notify_fd < 0)
    return 0;
  /* Like runc: start returns once the program is ready, so the host's
   * manager sees READY=1 from the process it started (us). */
  pidfd = (int) syscall (SYS_pidfd_open, rec.pid, 0);
  if (pidfd < 0)
    return crt_error_errno (err, "pidfd_open %d", (int) rec.pid);
  crt_closep (&dirfd);
  return crt_notify_wait_ready (notify_fd, pidfd, rec.notify_socket, err);
}
