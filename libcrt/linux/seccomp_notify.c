/* SCMP_ACT_NOTIFY: hand the listener fd to the seccomp agent listening on
 * linux.seccomp.listenerPath, with the "container process state" of
 * runtime-spec config-linux.md as the payload. */
#include "config.h"
#include "seccomp.h"
#include "../crt.h"
#include "../util/util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *
process_state_json (const crt_seccomp *s, const char *state_json, pid_t pid)
{
  cleanup_free char *metadata = NULL;

  if (s->listener_metadata)
    {
      cleanup_free char *quoted = crt_json_quote (s->listener_metadata);

      if (quoted == NULL)
        return NULL;
      metadata = crt_fmt (",\"metadata\":%s", quoted);
    }
  return crt_fmt ("{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d%s,\"state\":%s}",
                  CRT_OCI_VERSION, (int) pid, metadata ? metadata : "", state_json);
}

static int
connect_listener (const char *path, crt_error **err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;

  if (strlen (path) >= sizeof (addr.sun_path))
    return crt_error_set (err, 0, "linux.seccomp.listenerPath: `%s` is longer than %zu bytes",
                          path, sizeof (addr.sun_path) - 1);
  memcpy (addr.sun_path, path, strlen (path) + 1);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return crt_error_errno (err, "seccomp listener: socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return crt_error_errno (err, "connect to the seccomp listener `%s`", path);
  return crt_steal_fd (&fd);
}

/* The fd goes with the first bytes; the spec allows the rest of the
 * payload to follow in more sends, without fds. */
static int
send_with_fd (int sock, int fd, const char *buf, size_t len, const char *path, crt_error **err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof (control.buf) };
  struct cmsghdr *cmsg;
  size_t done = 0;
  ssize_t n;

  memset (&control, 0, sizeof (control));
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));

  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return crt_error_errno (err, "send the seccomp fd to `%s`", path);
  for (done = (size_t) n; done < len; done += (size_t) n)
    {
      n = send (sock, buf + done, len - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        {
          n = 0;
          continue;
        }
      if (n < 0)
        return crt_error_errno (err, "send the container state to `%s`", path);
    }
  return 0;
}

int
crt_seccomp_send_notify_fd (const crt_seccomp *s, int notify_fd, const char *state_json,
                            pid_t pid, crt_error **err)
{
  cleanup_free char *payload = NULL;
  cleanup_close int sock = -1;

  if (s == NULL || s->listener_path == NULL || s->listener_path[0] == '\0')
    return crt_error_set (err, 0,
                          "linux.seccomp.listenerPath: not set, nowhere to send the seccomp fd");
  if (notify_fd < 0 || state_json == NULL)
    return crt_error_set (err, EINVAL, "send the seccomp fd");
  payload = process_state_json (s, state_json, pid);
  if (payload == NULL)
    return crt_error_set (err, ENOMEM, "seccomp listener payload");
  sock = connect_listener (s->listener_path, err);
  if (sock < 0)
    return -1;
  if (send_with_fd (sock, notify_fd, payload, strlen (payload), s->listener_path, err) < 0)
    return -1;
  /* "The connection MUST NOT be reused and it MUST be closed after
   * sending a seccomp state": cleanup_close does it. */
  return 0;
}
