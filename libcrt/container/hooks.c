/* Running OCI hooks: fork, exec the hook with the state on stdin, wait
 * for it with an optional deadline (a pidfd, so nothing busy-waits). */
#include "config.h"
#include "hooks.h"
#include "../util/json_gen.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the child ---- */

/* Between fork and exec: only async-signal-safe calls. Any failure is
 * reported to the parent as an errno over err_fd, which exec closes. */
static void __attribute__ ((noreturn))
exec_hook (const crt_hook *hook, char *const *argv, char *const *envp, int stdin_fd, int err_fd)
{
  static char *const no_env[] = { NULL };
  int saved;

  /* crt run blocks and catches signals; a hook starts like any program. */
  crt_reset_signals ();
  /* dup2 onto itself would keep close-on-exec: clear it by hand then. */
  if (stdin_fd == STDIN_FILENO ? fcntl (stdin_fd, F_SETFD, 0) < 0
                               : dup2 (stdin_fd, STDIN_FILENO) < 0)
    goto fail;
  /* Everything else of crt (state dirfds, sync sockets, the log) stays
   * out of the hook; err_fd is already close-on-exec. */
  if (crt_cloexec_fds_from (3, NULL) < 0)
    goto fail;
  execve (hook->path, argv, envp ? envp : no_env);

fail:
  saved = errno;
  (void) !write (err_fd, &saved, sizeof (saved));
  _exit (127);
}

/* ---- the parent ---- */

typedef struct
{
  pid_t pid;
  int pidfd;
} hook_child;

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write what fits of the state into the hook's stdin. A hook that exits
 * or closes stdin without reading is fine: EPIPE ends the writing (with
 * SIGPIPE blocked, so crt is not killed by it). */
static void
feed_stdin (int *fd, const char **data, size_t *left)
{
  while (*left > 0)
    {
      ssize_t n = write (*fd, *data, *left);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        break;
      *data += n;
      *left -= (size_t) n;
    }
  /* All written (or the reader is gone): EOF for the hook. */
  crt_closep (fd);
}

/* Wait for the hook to exit, feeding its stdin meanwhile. timeout_s <= 0:
 * no deadline. Returns 0 with the wait status, 1 when the deadline passed
 * or -1 when waiting failed (either way the hook is killed and reaped). */
static int
wait_hook (const hook_child *child, int *stdin_fd, const char *state_json, int64_t timeout_s,
           int *status, crt_error **err)
{
  const char *data = state_json ? state_json : "";
  size_t left = strlen (data);
  int64_t deadline = timeout_s > 0 ? now_ms () + timeout_s * 1000 : -1;
  bool timed_out = false, failed = false;

  feed_stdin (stdin_fd, &data, &left);
  for (;;)
    {
      struct pollfd fds[2] = {
        { .fd = child->pidfd, .events = POLLIN },
        { .fd = *stdin_fd, .events = POLLOUT },
      };
      int wait_ms = -1, n;

      if (deadline >= 0)
        {
          int64_t rest = deadline - now_ms ();
          if (rest <= 0)
            {
              timed_out = true;
              break;
            }
          wait_ms = rest > INT32_MAX ? INT32_MAX : (int) rest;
        }
      n = poll (fds, *stdin_fd >= 0 ? 2 : 1, wait_ms);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          crt_error_errno (err, "poll");
          failed = true;        /* still kill and reap: no zombie, whatever happens */
          break;
        }
      if (fds[0].revents & POLLIN)
        break;
      if (*stdin_fd >= 0 && fds[1].revents)
        feed_stdin (stdin_fd, &data, &left);
    }

  crt_closep (stdin_fd);
  if (timed_out || failed)
    kill (child->pid, SIGKILL);     /* not reaped yet: the pid is still ours */
  if (crt_waitpid (child->pid, status, 0) < 0)
    return crt_error_errno (err, "wait for pid %d", (int) child->pid);
  if (failed)
    return -1;
  return timed_out ? 1 : 0;
}

/* The hook's argv: args as given (args[0] is argv[0]), or just the path
 * when config.json has no args. */
static char *const *
hook_argv (const crt_hook *hook, char **fallback)
{
  if (hook->args != NULL && hook->n_args > 0)
    return hook->args;
  fallback[0] = hook->path;
  fallback[1] = NULL;
  return fallback;
}

static void
restore_sigpipe (const sigset_t *old, bool was_pending)
{
  sigset_t pipe_only, pending;
  struct timespec zero = { 0, 0 };

  /* Swallow the SIGPIPE our own write raised before unblocking it. */
  sigemptyset (&pipe_only);
  sigaddset (&pipe_only, SIGPIPE);
  if (!was_pending && sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE))
    sigtimedwait (&pipe_only, NULL, &zero);
  sigprocmask (SIG_SETMASK, old, NULL);
}

static int
run_hook (const crt_hook *hook, const char *what, const char *state_json, crt_error **err)
{
  cleanup_close int stdin_r = -1, stdin_w = -1, err_r = -1, err_w = -1, pidfd = -1;
  char *fallback_argv[2];
  char *const *argv = hook_argv (hook, fallback_argv);
  sigset_t pipe_only, old_mask, pending;
  bool pipe_was_pending;
  int p[2], child_errno = 0, status = 0, rc;
  ssize_t n;
  pid_t pid;

  if (hook->path == NULL || hook->path[0] != '/')
    return crt_error_set (err, 0, "%s: path `%s` is not absolute", what,
                          hook->path ? hook->path : "");
  if (pipe2 (p, O_CLOEXEC) < 0)
    return crt_error_errno (err, "%s: pipe", what);
  stdin_r = p[0], stdin_w = p[1];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return crt_error_errno (err, "%s: pipe", what);
  err_r = p[0], err_w = p[1];

  pid = fork ();
  if (pid < 0)
    return crt_error_errno (err, "%s: fork", what);
  if (pid == 0)
    exec_hook (hook, argv, hook->env, stdin_r, err_w);

  crt_closep (&stdin_r);
  crt_closep (&err_w);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      int saved = errno;
      crt_kill_and_reap (pid, NULL);
      return crt_error_set (err, saved, "%s: pidfd_open", what);
    }

  /* EOF here means the exec succeeded; an errno means it did not. */
  do
    n = read (err_r, &child_errno, sizeof (child_errno));
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t) sizeof (child_errno))
    {
      crt_waitpid (pid, NULL, 0);
      return crt_error_set (err, child_errno, "%s: exec `%s`", what, hook->path);
    }

  if (fcntl (stdin_w, F_SETFL, O_NONBLOCK) < 0)
    {
      int saved = errno;
      crt_kill_and_reap (pid, NULL);
      return crt_error_set (err, saved, "%s: set the stdin pipe non-blocking", what);
    }

  sigemptyset (&pipe_only);
  sigaddset (&pipe_only, SIGPIPE);
  pipe_was_pending = sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE);
  sigprocmask (SIG_BLOCK, &pipe_only, &old_mask);
  {
    hook_child child = { .pid = pid, .pidfd = pidfd };
    rc = wait_hook (&child, &stdin_w, state_json,
                    hook->timeout.set ? hook->timeout.value : 0, &status, err);
  }
  restore_sigpipe (&old_mask, pipe_was_pending);

  if (rc < 0)
    return crt_error_prefix (err, "%s", what);
  if (rc == 1)
    return crt_error_set (err, 0, "%s: `%s` timed out after %llds", what, hook->path,
                          (long long) hook->timeout.value);
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    return crt_error_set (err, 0, "%s: `%s` exited with status %d", what, hook->path,
                          WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return crt_error_set (err, 0, "%s: `%s` killed by signal %d", what, hook->path,
                          WTERMSIG (status));
  return 0;
}

int
crt_hooks_run (const crt_hooks *hooks, crt_hook_kind kind, const char *state_json,
               crt_error **err)
{
  if (hooks == NULL || (unsigned) kind >= CRT_HOOK__COUNT)
    return 0;
  for (size_t i = 0; i < hooks->n_hooks[kind]; i++)
    {
      cleanup_free char *what = crt_fmt ("hooks.%s[%zu]", crt_hook_kind_name (kind), i);

      if (run_hook (&hooks->hooks[kind][i], what, state_json, err) < 0)
        return -1;
    }
  return 0;
}

size_t
crt_hooks_run_logged (const crt_context *ctx, const crt_hooks *hooks, crt_hook_kind kind,
                      const char *state_json)
{
  size_t failed = 0;

  if (hooks == NULL || (unsigned) kind >= CRT_HOOK__COUNT)
    return 0;
  for (size_t i = 0; i < hooks->n_hooks[kind]; i++)
    {
      cleanup_free char *what = crt_fmt ("hooks.%s[%zu]", crt_hook_kind_name (kind), i);
      cleanup_error crt_error *err = NULL;

      if (run_hook (&hooks->hooks[kind][i], what, state_json, &err) < 0)
        {
          failed++;
          crt_log (ctx, CRT_LOG_WARNING, "%s", err ? err->msg : what);
        }
    }
  return failed;
}

/* ---- the state on stdin ---- */

char *
crt_hook_state_json (const char *oci_version, const char *id, const char *status, pid_t pid,
                     const char *bundle, const crt_kv *annotations, size_t n)
{
  yajl_gen g = crt_gen_new (NULL);

  yajl_gen_map_open (g);
  crt_gen_str (g, "ociVersion");
  crt_gen_str (g, oci_version ? oci_version : CRT_OCI_VERSION);
  crt_gen_str (g, "id");
  crt_gen_str (g, id);
  crt_gen_str (g, "status");
  crt_gen_str (g, status);
  if (pid > 0)
    {
      crt_gen_str (g, "pid");
      yajl_gen_integer (g, pid);
    }
  crt_gen_str (g, "bundle");
  crt_gen_str (g, bundle);
  if (annotations != NULL)
    {
      crt_gen_str (g, "annotations");
      yajl_gen_map_open (g);
      for (size_t i = 0; i < n; i++)
        {
          crt_gen_str (g, annotations[i].key);
          crt_gen_str (g, annotations[i].value);
        }
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return crt_gen_finish (g);
}
