#include "config.h"
#include "sync.h"
#include "../util/util.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

struct sync_msg
{
  uint32_t type;
  int32_t errnum;
  char text[4000];
};

/* sendmsg, retried on EINTR (a SEQPACKET message goes whole or not). */
static ssize_t
send_retry (int fd, const struct msghdr *mh)
{
  ssize_t r;

  do
    r = sendmsg (fd, mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r;
}

static ssize_t
send_plain (int fd, const void *buf, size_t len)
{
  struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

  return send_retry (fd, &mh);
}

/* recvmsg, retried on EINTR, and once on ECONNRESET: the other side
 * closed with a message of ours unread (`run` sends START before the
 * init is READY, and it may fail first). The kernel reports that reset
 * once, before what the other side sent: its error is still queued. */
static ssize_t
recv_retry (int fd, struct msghdr *mh, int flags)
{
  bool reset_seen = false;
  ssize_t r;

  for (;;)
    {
      r = recvmsg (fd, mh, flags);
      if (r >= 0 || (errno != EINTR && (errno != ECONNRESET || reset_seen)))
        return r;
      reset_seen |= errno == ECONNRESET;
    }
}

int
crt_sync_send (int fd, crt_sync_type type, crt_error **err)
{
  struct sync_msg m = { .type = type };
  if (send_plain (fd, &m, offsetof (struct sync_msg, text)) < 0)
    return crt_error_errno (err, "sync with the container process");
  return 0;
}

int
crt_sync_send_value (int fd, crt_sync_type type, int32_t value, crt_error **err)
{
  /* errnum carries the value: an ERROR is the only message with one. */
  struct sync_msg m = { .type = type, .errnum = value };
  if (send_plain (fd, &m, offsetof (struct sync_msg, text)) < 0)
    return crt_error_errno (err, "sync with the container process");
  return 0;
}

int
crt_sync_send_release (int fd, crt_sync_type type, crt_error **err)
{
  return crt_sync_send_value (fd, type, (int32_t) crt_ignored_signals (), err);
}

int
crt_sync_expect_value (int fd, crt_sync_type expect, int32_t *value, crt_error **err)
{
  struct sync_msg m;
  struct iovec iov = { .iov_base = &m, .iov_len = sizeof (m) - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t r = recv_retry (fd, &mh, 0);

  if (r < 0)
    return crt_error_errno (err, "sync with the container process");
  if (r == 0)
    return crt_error_set (err, EPIPE, "the other side of the container setup went away");
  if ((size_t) r < offsetof (struct sync_msg, text))
    return crt_error_set (err, EPROTO, "sync: short message");
  if (m.type == CRT_SYNC_ERROR)
    {
      ((char *) &m)[r] = '\0';
      crt_error_set (err, 0, "%s", m.text);
      (*err)->errnum = m.errnum;
      return -1;
    }
  if (m.type != (uint32_t) expect)
    return crt_error_set (err, EPROTO, "sync: expected message %d, got %u", expect, m.type);
  *value = m.errnum;
  return 0;
}

/* Copy msg into buf (of size cap, NUL included), returning its length.
 * A message that does not fit (it may quote a 100 KiB argument) keeps
 * its start and its end, which says why: "exec \"/aaa...aaa\": File
 * name too long". */
static size_t
shorten (const char *msg, char *buf, size_t cap)
{
  static const char cut[] = "[...]";
  size_t len = strlen (msg), tail = 256;

  if (len < cap)
    {
      memcpy (buf, msg, len + 1);
      return len;
    }
  len = cap - 1;
  memcpy (buf, msg, len - tail - strlen (cut));
  memcpy (buf + len - tail - strlen (cut), cut, strlen (cut));
  memcpy (buf + len - tail, msg + strlen (msg) - tail, tail);
  buf[len] = '\0';
  return len;
}

void
crt_sync_send_error (int fd, const crt_error *e)
{
  struct sync_msg m = { .type = CRT_SYNC_ERROR };
  size_t len = 0;

  if (e)
    {
      m.errnum = e->errnum;
      if (e->msg)
        len = shorten (e->msg, m.text, sizeof (m.text));
    }
  m.text[len] = '\0';
  (void) send_plain (fd, &m, offsetof (struct sync_msg, text) + len + 1);
}

int
crt_sync_send_fd (int fd, crt_sync_type type, int payload_fd, crt_error **err)
{
  struct sync_msg m = { .type = type };
  char control[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = &m, .iov_len = offsetof (struct sync_msg, text) };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control, .msg_controllen = sizeof (control) };
  struct cmsghdr *c;

  memset (control, 0, sizeof (control));
  c = CMSG_FIRSTHDR (&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &payload_fd, sizeof (int));
  if (send_retry (fd, &mh) < 0)
    return crt_error_errno (err, "pass an fd to the other side");
  return 0;
}

int
crt_sync_recv (int fd, crt_sync_type *type, int *payload_fd, crt_error **err)
{
  struct sync_msg m;
  char control[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = &m, .iov_len = sizeof (m) - 1 };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control, .msg_controllen = sizeof (control) };
  struct cmsghdr *c;
  ssize_t r;

  *payload_fd = -1;
  r = recv_retry (fd, &mh, MSG_CMSG_CLOEXEC);
  if (r < 0)
    return crt_error_errno (err, "sync with the container process");
  if (r == 0)
    return crt_error_set (err, EPIPE, "the other side of the container setup went away");
  for (c = CMSG_FIRSTHDR (&mh); c; c = CMSG_NXTHDR (&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (payload_fd, CMSG_DATA (c), sizeof (int));
  if ((size_t) r < offsetof (struct sync_msg, text))
    return crt_error_set (err, EPROTO, "sync: short message");
  if (m.type == CRT_SYNC_ERROR)
    {
      ((char *) &m)[r] = '\0';
      crt_closep (payload_fd);
      crt_error_set (err, 0, "%s", m.text);
      (*err)->errnum = m.errnum;
      return -1;
    }
  *type = (crt_sync_type) m.type;
  return 0;
}

int
crt_sync_expect (int fd, crt_sync_type expect, crt_error **err)
{
  crt_sync_type type;
  int passed = -1;

  if (crt_sync_recv (fd, &type, &passed, err) < 0)
    return -1;
  crt_closep (&passed);
  if (type != expect)
    return crt_error_set (err, EPROTO, "sync: expected message %d, got %d", expect, type);
  return 0;
}
