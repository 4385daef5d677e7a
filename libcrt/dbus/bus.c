/* A D-Bus client connection: see bus.h. */
#include "config.h"
#include "bus.h"
#include "../util/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* An authentication answer longer than this is no answer. */
#define MAX_AUTH_LINE 4096
#define READ_CHUNK 4096

struct crt_dbus
{
  int fd;
  uint32_t serial;
  uint32_t hello_serial;
  bool authenticated;           /* the server's OK read */
  crt_buf in;                   /* bytes read, from in_at on not yet handled */
  size_t in_at;
  crt_dbus_signal_fn *on_signal;
  void *data;
};

/* ---- addresses ---- */

char *
crt_dbus_default_address (bool user_bus)
{
  const char *a = getenv (user_bus ? "DBUS_SESSION_BUS_ADDRESS" : "DBUS_SYSTEM_BUS_ADDRESS");
  const char *xdg = getenv ("XDG_RUNTIME_DIR");

  if (a && a[0])
    return crt_xstrdup (a);
  if (!user_bus)
    return crt_xstrdup ("unix:path=/run/dbus/system_bus_socket");
  /* What sd-bus does too; an unset XDG_RUNTIME_DIR says so in the path. */
  return crt_fmt ("unix:path=%s/bus", xdg && xdg[0] ? xdg : "$XDG_RUNTIME_DIR (not set)");
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The value of key in one address entry ("unix:path=/x,guid=..."),
 * %-escapes decoded, or NULL. */
static char *
entry_value (const char *entry, size_t len, const char *key)
{
  const char *colon = memchr (entry, ':', len);
  size_t klen = strlen (key);

  if (colon == NULL)
    return NULL;
  for (const char *p = colon + 1; p < entry + len;)
    {
      const char *comma = memchr (p, ',', (size_t) (entry + len - p));
      const char *end = comma ? comma : entry + len;
      if ((size_t) (end - p) > klen && strncmp (p, key, klen) == 0 && p[klen] == '=')
        {
          char *v = crt_xmalloc0 ((size_t) (end - p) + 1), *o = v;
          for (const char *c = p + klen + 1; c < end; c++)
            if (*c == '%' && end - c >= 3 && hex_value (c[1]) >= 0 && hex_value (c[2]) >= 0)
              {
                *o++ = (char) (hex_value (c[1]) * 16 + hex_value (c[2]));
                c += 2;
              }
            else
              *o++ = *c;
          return v;
        }
      p = end + 1;
    }
  return NULL;
}

/* The entries of an address, one at a time: the unix socket of the next
 * "unix:" entry with path= or abstract= (*abstract says which), or NULL
 * at the end. */
static char *
next_unix_socket (const char **cursor, bool *abstract)
{
  while (**cursor)
    {
      const char *entry = *cursor;
      size_t len = strcspn (entry, ";");
      char *v = NULL;

      *cursor = entry[len] ? entry + len + 1 : entry + len;
      if (len < 5 || strncmp (entry, "unix:", 5) != 0)
        continue;
      if ((v = entry_value (entry, len, "path")))
        *abstract = false;
      else if ((v = entry_value (entry, len, "abstract")))
        *abstract = true;
      if (v && v[0])
        return v;
      free (v);
    }
  return NULL;
}

char *
crt_dbus_address_label (const char *address)
{
  const char *cursor = address;
  bool abstract = false;
  cleanup_free char *socket_path = next_unix_socket (&cursor, &abstract);

  if (socket_path == NULL)
    return crt_xstrdup (address);
  return abstract ? crt_fmt ("@%s", socket_path) : crt_steal_ptr (&socket_path);
}

static int
connect_unix (const char *path, bool abstract)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t len = strlen (path), off = abstract ? 1 : 0;
  int fd, saved;

  if (len + off >= sizeof (sa.sun_path))
    return -ENAMETOOLONG;
  memcpy (sa.sun_path + off, path, len);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect (fd, (struct sockaddr *) &sa,
               (socklen_t) (offsetof (struct sockaddr_un, sun_path) + off + len + !abstract))
      == 0)
    return fd;
  saved = errno;
  close (fd);
  return -saved;
}

/* ---- sending ---- */

static int peer_closed (crt_dbus *b, crt_error **err);

static int
send_all (crt_dbus *b, const void *p, size_t len, crt_error **err)
{
  const uint8_t *c = p;

  while (len > 0)
    {
      ssize_t n = send (b->fd, c, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno == EPIPE || errno == ECONNRESET ? peer_closed (b, err)
                                                     : crt_error_errno (err, "write to the bus");
      c += n;
      len -= (size_t) n;
    }
  return 0;
}

uint32_t
crt_dbus_next_serial (crt_dbus *b)
{
  if (++b->serial == 0)
    b->serial = 1;
  return b->serial;
}

/* ---- receiving ---- */

/* One recv of what the socket has into the buffer, without waiting:
 * what recv returned (-1 and errno, EAGAIN when there was nothing). */
static ssize_t
read_some (crt_dbus *b)
{
  ssize_t n;

  /* Keep what is not handled yet at the front, and room for a chunk. */
  if (b->in_at > 0)
    {
      memmove (b->in.data, b->in.data + b->in_at, b->in.len - b->in_at);
      b->in.len -= b->in_at;
      b->in_at = 0;
    }
  if (b->in.cap - b->in.len < READ_CHUNK)
    {
      b->in.cap = b->in.len + READ_CHUNK * 4;
      b->in.data = crt_xreallocarray (b->in.data, b->in.cap, 1);
    }
  do
    n = recv (b->fd, b->in.data + b->in.len, b->in.cap - b->in.len, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    b->in.len += (size_t) n;
  return n;
}

static int read_auth (crt_dbus *b, crt_error **err);

/* The peer hung up while crt wrote: what it said before (a bus that
 * refuses crt's authentication answers REJECTED, then closes), or that
 * it closed. */
static int
peer_closed (crt_dbus *b, crt_error **err)
{
  while (read_some (b) > 0)
    ;
  if (read_auth (b, err) < 0)
    return -1;
  return crt_error_set (err, 0, "the bus closed the connection");
}

/* Read what the socket has, waiting until deadline (ms of CLOCK_MONOTONIC):
 * 0, 1 at the deadline, -1 when the connection failed. */
static int
fill (crt_dbus *b, int64_t deadline, crt_error **err)
{
  struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
  ssize_t n;

  for (;;)
    {
      int64_t left = deadline - crt_monotonic_ms ();
      int r;
      if (left <= 0)
        return 1;
      r = poll (&pfd, 1, left > 60000 ? 60000 : (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return crt_error_errno (err, "wait for the bus");
      if (r > 0)
        break;
    }
  n = read_some (b);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (n < 0 && errno != ECONNRESET)
    return crt_error_errno (err, "read from the bus");
  if (n <= 0)
    return peer_closed (b, err);
  return 0;
}

/* The server's answer to AUTH: 0 once OK was read (or earlier), 1 when
 * more bytes are needed, -1 for anything but DATA (its challenge to an
 * AUTH without credentials, which crt's empty DATA answers) and OK. */
static int
read_auth (crt_dbus *b, crt_error **err)
{
  while (!b->authenticated)
    {
      size_t avail = b->in.len - b->in_at;
      const char *line = avail ? (const char *) b->in.data + b->in_at : "";
      const char *eol = avail ? memmem (line, avail, "\r\n", 2) : NULL;

      if (eol == NULL)
        return avail > MAX_AUTH_LINE
                   ? crt_error_set (err, 0, "the bus's answer to AUTH is too long")
                   : 1;
      if (strncmp (line, "DATA", 4) != 0 && strncmp (line, "OK ", 3) != 0)
        {
          size_t n = (size_t) (eol - line);
          /* What it said, printable only (it is no string of ours). */
          cleanup_free char *said = crt_xstrndup (line, n > 200 ? 200 : n);
          for (char *c = said; *c; c++)
            if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
              *c = '?';
          return crt_error_set (err, EACCES,
                                "the bus refused to authenticate crt (it said `%s`)", said);
        }
      b->authenticated = line[0] == 'O';
      b->in_at += (size_t) (eol - line) + 2;
    }
  return 0;
}

/* The next whole message in the buffer: 0 and *msg, *h (pointing into
 * the buffer until the next fill), 1 when more bytes are needed, -1 for
 * a malformed message (the stream cannot be trusted after it). */
static int
next_message (crt_dbus *b, const uint8_t **msg, crt_dbus_header *h, crt_error **err)
{
  size_t avail, len;
  const char *why;
  int r;

  if ((r = read_auth (b, err)) != 0)
    return r;
  avail = b->in.len - b->in_at;
  if (avail < 16)
    return 1;
  if (crt_dbus_msg_length (b->in.data + b->in_at, &len) < 0)
    return crt_error_set (err, EBADMSG, "the bus sent no D-Bus message, or one over %u bytes",
                          CRT_DBUS_MAX_MESSAGE);
  if (avail < len)
    return 1;
  *msg = b->in.data + b->in_at;
  if (crt_dbus_parse_header (*msg, len, h, &why) < 0)
    return crt_error_set (err, EBADMSG, "the bus sent a malformed message: %s", why);
  b->in_at += len;
  return 0;
}

/* A copy of the reply msg (its header h) that outlives the buffer. */
static void
take_reply (crt_dbus_reply *reply, const uint8_t *msg, const crt_dbus_header *h)
{
  size_t len = h->body_at + h->body_len;
  const char *why;

  reply->msg = crt_xmalloc0 (len);
  memcpy (reply->msg, msg, len);
  /* The header again, its strings pointing into the copy: the same
   * bytes, so it parses as it did. */
  crt_dbus_parse_header (reply->msg, len, &reply->h, &why);
  if (h->type == CRT_DBUS_ERROR && reply->h.signature[0] == 's')
    {
      crt_dbus_reader rd;
      crt_dbus_reader_init (&rd, reply->msg, &reply->h);
      if (crt_dbus_get_str (&rd, &reply->error_message) < 0)
        reply->error_message = NULL;
    }
}

/* Handle every whole message in the buffer: signals to the handler; the
 * reply to serial (when not 0) copied to *reply and 0 returned at once;
 * 1 when it has not come; -1 when the connection failed (the bus
 * refused Hello, or sent something malformed). */
static int
dispatch (crt_dbus *b, uint32_t serial, crt_dbus_reply *reply, bool *got_any, crt_error **err)
{
  for (;;)
    {
      const uint8_t *msg = NULL;
      crt_dbus_header h;
      int r = next_message (b, &msg, &h, err);

      if (r != 0)
        return r;
      *got_any = true;
      if (h.type == CRT_DBUS_SIGNAL)
        {
          if (b->on_signal)
            b->on_signal (b->data, msg, &h);
          continue;
        }
      if (h.type != CRT_DBUS_METHOD_RETURN && h.type != CRT_DBUS_ERROR)
        continue;               /* crt serves no methods */
      if (h.reply_serial == b->hello_serial && h.type == CRT_DBUS_ERROR)
        return crt_error_set (err, 0, "the bus refused Hello (%s)", h.error_name);
      if (serial != 0 && h.reply_serial == serial)
        {
          take_reply (reply, msg, &h);
          return 0;
        }
    }
}

void
crt_dbus_reply_clear (crt_dbus_reply *r)
{
  free (r->msg);
  memset (r, 0, sizeof (*r));
}

int
crt_dbus_call (crt_dbus *b, crt_dbus_msg *m, int timeout_ms, crt_dbus_reply *reply,
               crt_error **err)
{
  int64_t deadline = crt_monotonic_ms () + timeout_ms;

  memset (reply, 0, sizeof (*reply));
  if (m->bad)
    return crt_error_set (err, EINVAL, "cannot send the message: %s", m->bad);
  if (send_all (b, m->buf.data, m->buf.len, err) < 0)
    return -1;
  if (m->flags & CRT_DBUS_NO_REPLY_EXPECTED)
    return 0;
  for (;;)
    {
      bool got_any = false;
      int r = dispatch (b, m->serial, reply, &got_any, err);
      if (r <= 0)
        return r;
      r = fill (b, deadline, err);
      if (r < 0)
        return -1;
      if (r > 0)
        return crt_error_set (err, ETIMEDOUT, "no reply from the bus in %d s", timeout_ms / 1000);
    }
}

int
crt_dbus_wait (crt_dbus *b, int timeout_ms, crt_error **err)
{
  crt_dbus_reply none = { 0 };
  bool got_any = false;
  int r;

  if ((r = dispatch (b, 0, &none, &got_any, err)) < 0)
    return -1;
  if (got_any)
    return 0;
  if ((r = fill (b, crt_monotonic_ms () + timeout_ms, err)) != 0)
    return r;
  return dispatch (b, 0, &none, &got_any, err) < 0 ? -1 : 0;
}

/* ---- the connection ---- */

int
crt_dbus_open (const char *address, crt_dbus_signal_fn *on_signal, void *data, crt_dbus **out,
               crt_error **err)
{
  /* SASL EXTERNAL without credentials in AUTH, and an empty DATA for the
   * server's challenge: "the uid the socket says" (SO_PEERCRED), which
   * is the right one in a user namespace too, where geteuid() is not
   * the uid the bus sees (podman runs crt in its rootless one). Then
   * BEGIN, and Hello, at once, without waiting for OK: the server reads
   * them in order (sd-bus sends the first three together as well). */
  static const char auth[] = "\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n";
  cleanup_dbus_msg crt_dbus_msg hello = { 0 };
  const char *cursor = address;
  int fd = -ENOENT;
  bool abstract = false;
  crt_dbus *b;

  *out = NULL;
  for (char *path; (path = next_unix_socket (&cursor, &abstract)) != NULL;)
    {
      fd = connect_unix (path, abstract);
      free (path);
      if (fd >= 0)
        break;
    }
  if (fd < 0)
    return crt_error_with_code (err, -fd, "%s", crt_strerror (-fd));
  b = crt_xmalloc0 (sizeof (*b));
  b->fd = fd;
  b->on_signal = on_signal;
  b->data = data;
  b->hello_serial = crt_dbus_next_serial (b);
  crt_dbus_msg_begin (&hello, 0, b->hello_serial, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                      "org.freedesktop.DBus", "Hello", "");
  crt_dbus_msg_end (&hello);
  if (send_all (b, auth, sizeof (auth) - 1, err) < 0
      || send_all (b, hello.buf.data, hello.buf.len, err) < 0)
    {
      crt_dbus_close (b);
      return -1;
    }
  *out = b;
  return 0;
}

void
crt_dbus_close (crt_dbus *b)
{
  if (b == NULL)
    return;
  if (b->fd >= 0)
    close (b->fd);
  free (b->in.data);
  free (b);
}

void
crt_dbus_closep (crt_dbus **b)
{
  crt_dbus_close (*b);
  *b = NULL;
}
