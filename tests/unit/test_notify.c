/* Unit tests of container/notify.c against a flood: the notify socket is
 * the container's to write, and its processes may outlive the init (no
 * pid namespace of its own), so neither the drain after the init's exit
 * nor the wait for READY=1 may follow the flood for as long as it goes.
 * A flood is made deterministic by queueing more messages than the drain
 * takes (in a network namespace of the test's own, whose
 * net.unix.max_dgram_qlen allows it): what is left over shows where crt
 * stopped. Needs root (the namespace); skipped otherwise. */
#include "config.h"
#include "tap.h"
#include "../../libcrt/container/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int tap_count, tap_failures;

#define FLOOD 3000

static int
bound_socket (const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  strncpy (a.sun_path, path, sizeof (a.sun_path) - 1);
  unlink (path);
  if (s < 0 || bind (s, (struct sockaddr *) &a, sizeof (a)) < 0)
    return -1;
  return s;
}

/* Queue n messages on the socket at path; the last one is `last` (when
 * given) instead of a status line. Returns how many were queued. */
static int
queue (const char *path, int n, const char *last)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int s = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 64 << 20, sent = 0;

  strncpy (a.sun_path, path, sizeof (a.sun_path) - 1);
  if (s < 0)
    return 0;
  setsockopt (s, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof (big));
  for (int i = 0; i < n; i++)
    {
      const char *m = (last && i == n - 1) ? last : "STATUS=busy";
      if (sendto (s, m, strlen (m), MSG_DONTWAIT, (struct sockaddr *) &a, sizeof (a)) < 0)
        break;
      sent++;
    }
  close (s);
  return sent;
}

static int
left_on (int s)
{
  char buf[64];
  int n = 0;

  while (recv (s, buf, sizeof (buf), MSG_DONTWAIT) >= 0)
    n++;
  return n;
}

/* A pidfd of a child that has exited (not reaped: the pidfd polls
 * readable, as the init's does once it is a zombie). */
static int
exited_child (pid_t *pid)
{
  siginfo_t si;
  int fd;

  *pid = fork ();
  if (*pid == 0)
    _exit (0);
  fd = (int) syscall (SYS_pidfd_open, *pid, 0);
  memset (&si, 0, sizeof (si));
  waitid (P_PID, (id_t) *pid, &si, WEXITED | WNOWAIT);
  return fd;
}

int
main (void)
{
  char dir[] = "/tmp/crt-test-notify-XXXXXX", sock[128], host[128];
  crt_error *err = NULL;
  int fd, hostfd, pidfd, n, fdq;
  pid_t child;
  char buf[64];

  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP needs root (a network namespace of its own)\n");
      return 77;
    }
  if (!tap_ok (unshare (CLONE_NEWNET) == 0, "a network namespace of the test's own"))
    return tap_done ();
  fdq = open ("/proc/sys/net/unix/max_dgram_qlen", O_WRONLY | O_CLOEXEC);
  tap_ok (fdq >= 0 && write (fdq, "10000", 5) == 5, "its max_dgram_qlen raised");
  if (fdq >= 0)
    close (fdq);
  if (!tap_ok (mkdtemp (dir) != NULL, "mkdtemp"))
    return tap_done ();
  snprintf (sock, sizeof (sock), "%s/notify.sock", dir);
  snprintf (host, sizeof (host), "%s/host.sock", dir);
  fd = bound_socket (sock);
  hostfd = bound_socket (host);
  if (!tap_ok (fd >= 0 && hostfd >= 0, "sockets"))
    return tap_done ();

  /* The drain stops after CRT_NOTIFY_DRAIN_MAX messages. */
  n = queue (sock, FLOOD, NULL);
  tap_ok (n == FLOOD, "%d messages queued", n);
  tap_ok (crt_notify_relay_queued (fd, host, &err) == 0 && err == NULL,
          "drain of a flood: nothing relayed, no error");
  n = left_on (fd);
  tap_ok (n == FLOOD - CRT_NOTIFY_DRAIN_MAX, "the drain took %d messages (left %d)",
          FLOOD - n, n);

  /* The wait for READY=1 sees the exit during a flood: it does not read
   * the socket dry first. */
  pidfd = exited_child (&child);
  tap_ok (pidfd >= 0, "pidfd of an exited child");
  n = queue (sock, FLOOD, NULL);
  tap_ok (crt_notify_wait_ready (fd, pidfd, host, &err) < 0 && err && err->errnum == ECHILD,
          "wait_ready during a flood: the exit is reported");
  crt_error_free (&err);
  n = left_on (fd);
  tap_ok (n > 0 && n >= FLOOD - 1 - CRT_NOTIFY_DRAIN_MAX,
          "... after at most one message and one drain (left %d of %d)", n, FLOOD);

  /* READY=1 sent before the exit, behind other messages, still counts. */
  n = queue (sock, 20, "READY=1");
  tap_ok (crt_notify_wait_ready (fd, pidfd, host, &err) == 0 && err == NULL,
          "READY=1 queued before the exit is relayed");
  tap_ok (recv (hostfd, buf, sizeof (buf), MSG_DONTWAIT) == 7 && memcmp (buf, "READY=1", 7) == 0,
          "... to the host's socket");
  close (pidfd);
  waitpid (child, NULL, 0);
  unlink (sock);
  unlink (host);
  rmdir (dir);
  return tap_done ();
}
