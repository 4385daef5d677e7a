/* What a D-Bus peer sends crt (libcrt/dbus): the input is the byte
 * stream of the bus's side of a connection, authentication answer
 * included. Two ways in: the message parser on the input as one message
 * (header, then every value of the body by its signature), and a real
 * connection over a socket whose other end writes the input, read by
 * crt_dbus_call as it reads a bus (auth lines, message framing, replies
 * and signals). */
#include "config.h"
#include "fuzz.h"
#include "dbus/bus.h"
#include "dbus/message.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void
walk_body (const uint8_t *p, const crt_dbus_header *h)
{
  crt_dbus_reader r;
  const char *sig = h->signature;

  crt_dbus_reader_init (&r, p, h);
  while (*sig)
    if (crt_dbus_skip (&r, &sig) < 0)
      {
        if (!r.failed)
          abort ();             /* a failure is sticky */
        return;
      }
  if (r.pos > r.end)
    abort ();
}

static void
on_signal (void *data, const uint8_t *msg, const crt_dbus_header *h)
{
  (*(int *) data)++;
  walk_body (msg, h);
}

/* A listening socket in the abstract namespace, once per process. */
static int
listener (char *address, size_t n)
{
  static int fd = -1;
  static char name[64];
  struct sockaddr_un sa = { .sun_family = AF_UNIX };

  if (fd < 0)
    {
      snprintf (name, sizeof (name), "crt-fuzz-dbus-%d", (int) getpid ());
      memcpy (sa.sun_path + 1, name, strlen (name));
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0
          || bind (fd, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + strlen (name))) < 0
          || listen (fd, 4) < 0)
        abort ();
    }
  snprintf (address, n, "unix:abstract=%s", name);
  return fd;
}

static void
through_a_connection (const uint8_t *data, size_t size)
{
  cleanup_dbus crt_dbus *bus = NULL;
  cleanup_dbus_msg crt_dbus_msg m;
  cleanup_dbus_reply crt_dbus_reply reply = { 0 };
  crt_error *err = NULL;
  char address[128];
  int listen_fd = listener (address, sizeof (address)), peer, signals = 0, rc;

  if (crt_dbus_open (address, on_signal, &signals, &bus, &err) < 0)
    abort ();
  peer = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (peer < 0)
    abort ();
  /* What crt wrote (auth, Hello) is left unread; the input is the answer. */
  if (size && crt_write_all (peer, data, size) < 0)
    abort ();
  shutdown (peer, SHUT_WR);
  /* Serial 2 (Hello had 1): a reply to it may be in the input. */
  crt_dbus_msg_begin (&m, 0, crt_dbus_next_serial (bus), "org.freedesktop.systemd1",
                      "/org/freedesktop/systemd1", "org.freedesktop.DBus.Properties", "Get", "ss");
  crt_dbus_put_str (&m, "org.freedesktop.systemd1.Manager");
  crt_dbus_put_str (&m, "Version");
  crt_dbus_msg_end (&m);
  rc = crt_dbus_call (bus, &m, 5000, &reply, &err);
  fuzz_check_error (rc, &err, "crt_dbus_call");
  if (rc == 0)
    {
      if (reply.msg == NULL || reply.h.reply_serial != 2)
        abort ();
      walk_body (reply.msg, &reply.h);
    }
  crt_error_free (&err);
  close (peer);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  crt_dbus_header h;
  const char *why = NULL;
  size_t len;

  if (size >= 16 && crt_dbus_msg_length (data, &len) == 0 && len <= size)
    {
      /* The message as it lies in a buffer of its own (the parser's
       * bounds are len, the bytes after it unreachable). */
      uint8_t *copy = malloc (len);
      if (copy == NULL)
        abort ();
      memcpy (copy, data, len);
      if (crt_dbus_parse_header (copy, len, &h, &why) == 0)
        {
          if (h.body_at + h.body_len != len)
            abort ();
          walk_body (copy, &h);
        }
      else if (why == NULL)
        abort ();
      free (copy);
    }
  through_a_connection (data, size);
  return 0;
}
