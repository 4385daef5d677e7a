#include "config.h"
#include "notify.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void
add_notify_mount (crt_spec *spec, const char *source)
{
  crt_mount *m;
  static const char *const opts[] = { "bind", "nosuid", "nodev", "noexec" };

  spec->mounts = crt_xreallocarray (spec->mounts, spec->n_mounts + 1, sizeof (crt_mount));
  m = &spec->mounts[spec->n_mounts++];
  memset (m, 0, sizeof (*m));
  m->destination = crt_xstrdup (CRT_NOTIFY_CONTAINER_DIR);
  m->type = crt_xstrdup ("bind");
  m->source = crt_xstrdup (source);
  m->options = crt_xmalloc0 ((CRT_ARRAY_SIZE (opts) + 1) * sizeof (char *));
  for (size_t i = 0; i < CRT_ARRAY_SIZE (opts); i++)
    m->options[i] = crt_xstrdup (opts[i]);
  m->n_options = CRT_ARRAY_SIZE (opts);
}

int
crt_notify_prepare (crt_spec *spec, int state_dirfd, const char *state_dir, char **host_socket,
                    crt_error **err)
{
  const char *host = getenv ("NOTIFY_SOCKET");
  crt_process *p = spec->process;

  *host_socket = NULL;
  if (host == NULL || host[0] == '\0')
    return 0;
  /* Abstract sockets ("@...") live in crt's network namespace and are
   * reached as they are; a path must be absolute to mean anything. */
  if (host[0] != '/' && host[0] != '@')
    return crt_error_set (err, 0, "NOTIFY_SOCKET `%s`: must be an absolute path", host);
  if (mkdirat (state_dirfd, CRT_NOTIFY_DIR, 0755) < 0 && errno != EEXIST)
    return crt_error_errno (err, "make the notify socket directory");
  /* The program may run as any user: it must be able to connect. */
  if (fchmodat (state_dirfd, CRT_NOTIFY_DIR, 0755, 0) < 0)
    return crt_error_errno (err, "chmod the notify socket directory");
  {
    cleanup_free char *source = crt_fmt ("%s/%s", state_dir, CRT_NOTIFY_DIR);
    add_notify_mount (spec, source);
  }
  crt_env_set (&p->env, &p->n_env, "NOTIFY_SOCKET=" CRT_NOTIFY_CONTAINER_SOCKET);
  *host_socket = crt_xstrdup (host);
  return 0;
}

static int
fill_addr (struct sockaddr_un *addr, socklen_t *len, const char *path, crt_error **err)
{
  size_t n = strlen (path);

  memset (addr, 0, sizeof (*addr));
  addr->sun_family = AF_UNIX;
  if (n >= sizeof (addr->sun_path))
    return crt_error_set (err, ENAMETOOLONG, "socket path `%s`", path);
  memcpy (addr->sun_path, path, n);
  if (path[0] == '@')
    addr->sun_path[0] = '\0';
  *len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
  return 0;
}

int
crt_notify_listen (int state_dirfd, const char *state_dir, int *fd, crt_error **err)
{
  cleanup_free char *path = crt_fmt ("%s/%s/notify.sock", state_dir, CRT_NOTIFY_DIR);
  cleanup_close int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  socklen_t len;
  int one = 1;

  if (s < 0)
    return crt_error_errno (err, "socket");
  if (fill_addr (&addr, &len, path, err) < 0)
    return -1;
  unlinkat (state_dirfd, CRT_NOTIFY_DIR "/notify.sock", 0);
  if (bind (s, (struct sockaddr *) &addr, len) < 0)
    return crt_error_errno (err, "bind `%s`", path);
  if (fchmodat (state_dirfd, CRT_NOTIFY_DIR "/notify.sock", 0777, 0) < 0)
    return crt_error_errno (err, "chmod `%s`", path);
  /* Credentials let systemd attribute the message; harmless otherwise. */
  setsockopt (s, SOL_SOCKET, SO_PASSCRED, &one, sizeof (one));
  *fd = crt_steal_fd (&s);
  return 0;
}

int
crt_notify_relay (int fd, const char *host_socket, crt_error **err)
{
  char buf[4096];
  ssize_t r = recv (fd, buf, sizeof (buf) - 1, MSG_DONTWAIT);
  cleanup_close int out = -1;
  struct sockaddr_un addr;
  socklen_t len;

  if (r < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : crt_error_errno (err, "read notify socket");
  buf[r] = '\0';
  /* Only readiness is relayed: the host's manager knows crt's pid, not
   * the program's, so MAINPID and the like would be wrong there. */
  if (strstr (buf, "READY=1") == NULL)
    return 0;
  out = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (out < 0)
    return crt_error_errno (err, "socket");
  if (fill_addr (&addr, &len, host_socket, err) < 0)
    return -1;
  if (sendto (out, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *) &addr, len) < 0)
    return crt_error_errno (err, "notify `%s`", host_socket);
  return 1;
}

int
crt_notify_relay_queued (int fd, const char *host_socket, crt_error **err)
{
  /* Bounded: the container's processes may outlive its init (without a
   * pid namespace of its own) and keep the socket full; what it queued
   * before the init exited is far less. */
  for (int i = 0; i < CRT_NOTIFY_DRAIN_MAX; i++)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      int r = poll (&p, 1, 0);

      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0 || !(p.revents & POLLIN))
        return 0;
      r = crt_notify_relay (fd, host_socket, err);
      if (r != 0)
        return r;
    }
  return 0;
}

int
crt_notify_wait_ready (int fd, int pidfd, const char *host_socket, crt_error **err)
{
  for (;;)
    {
      struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      int r;

      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return crt_error_errno (err, "wait for READY=1");
        }
      if (p[0].revents & POLLIN)
        {
          r = crt_notify_relay (fd, host_socket, err);
          if (r != 0)
            return r < 0 ? -1 : 0;
        }
      /* Every round, not only when the socket is quiet: a flood of other
       * messages must not hide the exit. A READY=1 it sent before
       * exiting still counts. */
      if (p[1].revents & POLLIN)
        {
          r = crt_notify_relay_queued (fd, host_socket, err);
          if (r != 0)
            return r < 0 ? -1 : 0;
          return crt_error_set (err, ECHILD, "the container exited before it was ready");
        }
    }
}
