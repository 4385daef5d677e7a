/* start: release a created container's init, which then execs. */
#include "config.h"
#include "container.h"
#include "hooks.h"
#include "notify.h"
#include "sync.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* sun_path is short and ids are long: reach the state dir through our
 * fd of it. */
static int
start_socket_addr (int dirfd, struct sockaddr_un *addr)
{
  memset (addr, 0, sizeof (*addr));
  addr->sun_family = AF_UNIX;
  snprintf (addr->sun_path, sizeof (addr->sun_path), "/proc/self/fd/%d/%s", dirfd,
            CRT_START_SOCKET);
  return 0;
}

int
crt_start_socket_listen (int dirfd, int *fd, crt_error **err)
{
  cleanup_close int s = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;

  if (s < 0)
    return crt_error_errno (err, "socket");
  start_socket_addr (dirfd, &addr);
  if (bind (s, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return crt_error_errno (err, "bind the start socket");
  if (listen (s, 1) < 0)
    return crt_error_errno (err, "listen on the start socket");
  *fd = crt_steal_fd (&s);
  return 0;
}

/* START sent on s: EOF means the init's end closed on exec; a message
 * says why it did not exec. */
static int
await_exec (int s, const crt_state_record *rec, crt_error **err)
{
  crt_sync_type type;
  int passed = -1;

  if (crt_sync_recv (s, &type, &passed, err) == 0)
    {
      crt_closep (&passed);
      return crt_error_set (err, EPROTO, "sync: unexpected message %d", type);
    }
  if ((*err)->errnum == EPIPE)
    {
      crt_error_free (err);
      return 0;
    }
  /* It could not exec and exits now: once we say so, the container must
   * read as stopped, not as running for the moment it takes. */
  crt_kill_and_wait (rec, SIGKILL, NULL);
  return -1;
}

int
crt_release_init (int dirfd, int sync_fd, bool start_sent, const crt_state_record *rec,
                  crt_error **err)
{
  const char *id = rec->id;
  cleanup_close int s = -1;
  struct sockaddr_un addr;

  /* `run`: the init waits on the sync channel, there is no socket (the
   * state dir stays locked until it has exec'd, so nobody sees it as
   * running before). */
  if (sync_fd >= 0)
    {
      if (!start_sent && crt_sync_send_release (sync_fd, CRT_SYNC_START, err) < 0)
        return -1;
      return await_exec (sync_fd, rec, err);
    }
  s = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0)
    return crt_error_errno (err, "socket");
  start_socket_addr (dirfd, &addr);
  while (connect (s, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    {
      if (errno == EINTR)
        continue;
      /* Nobody listening: the init is gone. */
      if (errno == ECONNREFUSED)
        return crt_error_with_code (err, ESRCH,
                                    "container `%s`: its init is not waiting for start", id);
      return crt_error_errno (err, "connect to the start socket");
    }
  if (crt_sync_send (s, CRT_SYNC_START, err) < 0)
    return -1;
  /* Without the socket the container reads as running from now on. */
  if (unlinkat (dirfd, CRT_START_SOCKET, 0) < 0)
    return crt_error_errno (err, "remove the start socket");
  return await_exec (s, rec, err);
}

int
crt_start_and_notify (crt_context *ctx, int dirfd, int sync_fd, bool start_sent,
                      const crt_spec *spec, const crt_state_record *rec, int *notify_fd,
                      crt_error **err)
{
  cleanup_free char *state_dir = crt_state_dir_path (ctx, rec->id);
  cleanup_free char *config_text = NULL;
  cleanup_spec crt_spec *copy = NULL;

  *notify_fd = -1;
  /* The socket must exist before the program can say READY=1. */
  if (rec->notify_socket && rec->notify_socket[0]
      && crt_notify_listen (dirfd, state_dir, notify_fd, err) < 0)
    return -1;
  if (crt_release_init (dirfd, sync_fd, start_sent, rec, err) < 0)
    {
      crt_closep (notify_fd);
      return -1;
    }
  /* `start`: the hooks are those of the config.json copy create saved. */
  if (spec == NULL && crt_read_file_at (dirfd, CRT_CONFIG_COPY, &config_text, NULL, NULL) == 0
      && crt_spec_parse (config_text, "config.json", &copy, NULL) == 0)
    spec = copy;
  /* poststart: the program runs. runtime-spec 1.3 runtime.md step 9: a
   * failing hook is an error, the container is stopped and the
   * lifecycle goes on at step 12 (destroy, then the poststop hooks).
   * crun does exactly that; runc 1.1 kills the container but leaves its
   * state for `delete` (its `run` then deletes it). The spec's text wins. */
  if (spec && spec->hooks && spec->hooks->n_hooks[CRT_HOOK_POSTSTART])
    {
      cleanup_free char *state = crt_hook_state_for (spec, rec->id, "running", rec->pid,
                                                     rec->bundle);
      if (crt_hooks_run (spec->hooks, CRT_HOOK_POSTSTART, state, err) < 0)
        {
          crt_closep (notify_fd);
          crt_kill_and_wait (rec, SIGKILL, NULL);
          crt_destroy (ctx, rec->id, dirfd, NULL);
          return -1;
        }
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
  /* runc's words (start.go). */
  if (status == CRT_STATUS_RUNNING)
    return crt_error_set (err, 0, "cannot start an already running container");
  if (status == CRT_STATUS_STOPPED)
    return crt_error_set (err, 0, "cannot start a container that has stopped");
  if (status != CRT_STATUS_CREATED)
    return crt_error_set (err, 0, "cannot start a container in the %s state",
                          crt_status_name (status));
  if (crt_start_and_notify (ctx, dirfd, -1, false, NULL, &rec, &notify_fd, err) < 0)
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
