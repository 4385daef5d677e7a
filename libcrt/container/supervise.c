#include "config.h"
#include "supervise.h"
#include "../linux/terminal.h"
#include "notify.h"
#include "../util/util.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>

#include <errno.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every signal a person or an engine may send that can be caught. */
static void
forwardable_signals (sigset_t *set)
{
  sigfillset (set);
  sigdelset (set, SIGKILL);
  sigdelset (set, SIGSTOP);
  /* Faults are crt's own, not requests to forward. */
  sigdelset (set, SIGSEGV);
  sigdelset (set, SIGBUS);
  sigdelset (set, SIGILL);
  sigdelset (set, SIGFPE);
  sigdelset (set, SIGSYS);
  sigdelset (set, SIGTRAP);
  sigdelset (set, SIGABRT);
}

int
crt_supervise_begin (sigset_t *saved, int *sigfd, crt_error **err)
{
  sigset_t forward;

  /* Blocked before the child exists, so no signal is lost between its
   * birth and the loop; the child's program starts with *saved. */
  forwardable_signals (&forward);
  if (sigprocmask (SIG_BLOCK, &forward, saved) < 0)
    return crt_error_errno (err, "block signals");
  *sigfd = signalfd (-1, &forward, SFD_CLOEXEC);
  if (*sigfd < 0)
    {
      int saved_errno = errno;
      sigprocmask (SIG_SETMASK, saved, NULL);
      return crt_error_set (err, saved_errno, "signalfd");
    }
  return 0;
}

int
crt_exit_code_of (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 255;
}

/* Copy what is readable on `from` to `to`; 0 at EOF (or EIO: the pty's
 * other side is closed), 1 otherwise. */
static int
pump (int from, int to)
{
  char buf[8192];
  ssize_t r = read (from, buf, sizeof (buf));

  if (r < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (r <= 0)
    return 0;
  /* A reader that went away (stdout closed) must not stop the
   * container; what it cannot take is dropped. */
  crt_write_all (to, buf, (size_t) r);
  return 1;
}

static void
drain (int master)
{
  int flags = fcntl (master, F_GETFL);
  if (flags >= 0 && fcntl (master, F_SETFL, flags | O_NONBLOCK) == 0)
    while (pump (master, STDOUT_FILENO) == 1)
      {
        struct pollfd p = { .fd = master, .events = POLLIN };
        if (poll (&p, 1, 0) <= 0)
          break;
      }
}

int
crt_supervise (const crt_supervision *s, int *status, crt_error **err)
{
  struct termios saved_tty;
  int raw = 0, ret = -1, master = s->pty_master, notify_fd = s->notify_fd;
  bool stdin_open = master >= 0;

  if (master >= 0)
    {
      raw = crt_terminal_make_raw (STDIN_FILENO, &saved_tty, err);
      if (raw < 0)
        return -1;
      crt_terminal_copy_size (STDIN_FILENO, master);
    }
  for (;;)
    {
      struct pollfd p[4] = { { .fd = s->sigfd, .events = POLLIN },
                             { .fd = master, .events = POLLIN },
                             { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                             { .fd = notify_fd, .events = POLLIN } };
      struct signalfd_siginfo si;
      pid_t w;

      /* The child may be gone already (SIGCHLD was merged or came before
       * the signalfd was read): look before blocking. */
      w = crt_waitpid (s->pid, status, WNOHANG);
      if (w == s->pid)
        {
          if (master >= 0)
            drain (master);
          /* A program that says READY=1 and exits while crt is still
           * busy before this loop (poststart hooks, a slow machine) is
           * found exited here with its message unread. */
          if (notify_fd >= 0)
            crt_notify_relay_queued (notify_fd, s->notify_host, NULL);
          ret = 0;
          break;
        }
      if (w < 0)
        {
          crt_error_errno (err, "wait for process %d", (int) s->pid);
          break;
        }
      if (poll (p, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          crt_error_errno (err, "poll");
          break;
        }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
        if (pump (master, STDOUT_FILENO) == 0)
          master = -1, p[1].fd = -1;
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        if (pump (STDIN_FILENO, master) == 0)
          stdin_open = false;
      /* Ready once is enough: the host's manager waits for one READY. */
      if ((p[3].revents & POLLIN) && crt_notify_relay (notify_fd, s->notify_host, NULL) != 0)
        notify_fd = -1;
      if (!(p[0].revents & POLLIN))
        continue;
      if (read (s->sigfd, &si, sizeof (si)) != sizeof (si))
        continue;
      if (si.ssi_signo == SIGCHLD)
        continue;
      if (si.ssi_signo == SIGWINCH && master >= 0)
        {
          crt_terminal_copy_size (STDIN_FILENO, master);
          continue;
        }
      /* ESRCH: the process is exiting; its SIGCHLD is on the way. */
      if (syscall (SYS_pidfd_send_signal, s->pidfd, (int) si.ssi_signo, NULL, 0) < 0
          && errno != ESRCH)
        {
          crt_error_errno (err, "forward signal %u", si.ssi_signo);
          break;
        }
    }
  if (raw > 0)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved_tty);
  return ret;
}
