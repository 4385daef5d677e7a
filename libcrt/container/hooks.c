/* Running OCI hooks: fork, exec the hook with the state on stdin, wait
 * for it with an optional deadline (a pidfd, so nothing busy-waits). */
#include "config.h"
#include "hooks.h"
#include "../util/clock.h"
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

static int
above_stdio (int fd)
{
  return fd > STDERR_FILENO ? fd : fcntl (fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
}

/* Between fork and exec: only async-signal-safe calls. Any failure is
 * reported to the parent as an errno over err_fd, which exec closes.
 * out_fd and errout_fd become the hook's stdout and stderr. */
static void __attribute__ ((noreturn))
exec_hook (const crt_hook *hook, char *const *argv, char *const *envp, int stdin_fd, int out_fd,
           int errout_fd, int err_fd)
{
  static char *const no_env[] = { NULL };
  int saved;

  /* crt run blocks and catches signals; a hook starts like any program. */
  crt_reset_signals ();
  /* crt started with 0, 1 or 2 closed has pipes there: lift them out
   * of the way first, so that each dup2 makes a copy (without
   * close-on-exec) and none overwrites another. */
  stdin_fd = above_stdio (stdin_fd);
  out_fd = above_stdio (out_fd);
  errout_fd = above_stdio (errout_fd);
  if (stdin_fd < 0 || out_fd < 0 || errout_fd < 0 || dup2 (stdin_fd, STDIN_FILENO) < 0
      || dup2 (out_fd, STDOUT_FILENO) < 0 || dup2 (errout_fd, STDERR_FILENO) < 0)
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

/* What a hook writes to stdout or stderr: kept (the first
 * HOOK_OUTPUT_MAX bytes) for the error message when it fails, as runc
 * does; never mixed into crt's own output. (crun sends it to /dev/null
 * unless annotations name files.) */
#define HOOK_OUTPUT_MAX 4096

typedef struct
{
  int fd;
  size_t len;
  char buf[HOOK_OUTPUT_MAX + 1];
} hook_output;

static void
hook_output_close (hook_output *o)
{
  crt_closep (&o->fd);
}

#define cleanup_hook_output __attribute__ ((cleanup (hook_output_close)))

/* Read what is there without blocking; EOF or an error closes fd. */
static void
drain_output (hook_output *o)
{
  while (o->fd >= 0)
    {
      char scratch[1024];
      char *into = o->len < HOOK_OUTPUT_MAX ? o->buf + o->len : scratch;
      size_t room = o->len < HOOK_OUTPUT_MAX ? HOOK_OUTPUT_MAX - o->len : sizeof (scratch);
      ssize_t n = read (o->fd, into, room);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          crt_closep (&o->fd);
          return;
        }
      if (into != scratch)
        o->len += (size_t) n;
    }
}

/* ", stdout: ..., stderr: ..." for what was captured, or "". */
static char *
output_suffix (hook_output *out, hook_output *errout)
{
  hook_output *both[] = { out, errout };
  const char *names[] = { "stdout", "stderr" };
  char *suffix = crt_xstrdup ("");

  for (int i = 0; i < 2; i++)
    {
      hook_output *o = both[i];
      char *next;

      while (o->len > 0 && o->buf[o->len - 1] == '\n')
        o->len--;
      if (o->len == 0)
        continue;
      o->buf[o->len] = '\0';
      next = crt_fmt ("%s, %s: %s", suffix, names[i], o->buf);
      free (suffix);
      suffix = next;
    }
  return suffix;
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
wait_hook (const hook_child *child, int *stdin_fd, hook_output *out, hook_output *errout,
           const char *state_json, int64_t timeout_s, int *status, crt_error **err)
{
  const char *data = state_json ? state_json : "";
  size_t left = strlen (data);
  int64_t deadline = timeout_s > 0 ? crt_monotonic_ms () + timeout_s * 1000 : -1;
  bool timed_out = false, failed = false;

  feed_stdin (stdin_fd, &data, &left);
  for (;;)
    {
      /* A closed fd is -1, which poll skips. */
      struct pollfd fds[4] = {
        { .fd = child->pidfd, .events = POLLIN },
        { .fd = *stdin_fd, .events = POLLOUT },
        { .fd = out->fd, .events = POLLIN },
        { .fd = errout->fd, .events = POLLIN },
      };
      int wait_ms = -1, n;

      if (deadline >= 0)
        {
          int64_t rest = deadline - crt_monotonic_ms ();
          if (rest <= 0)
            {
              timed_out = true;
              break;
            }
          wait_ms = rest > INT32_MAX ? INT32_MAX : (int) rest;
        }
      n = poll (fds, CRT_ARRAY_SIZE (fds), wait_ms);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          crt_error_errno (err, "poll");
          failed = true;        /* still kill and reap: no zombie, whatever happens */
          break;
        }
      if (fds[2].revents)
        drain_output (out);
      if (fds[3].revents)
        drain_output (errout);
      if (fds[0].revents & POLLIN)
        break;
      if (*stdin_fd >= 0 && fds[1].revents)
        feed_stdin (stdin_fd, &data, &left);
    }
  /* What it wrote before it exited; a child of the hook that keeps the
   * pipes open is not waited for. */
  drain_output (out);
  drain_output (errout);

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
  cleanup_close int out_w = -1, errout_w = -1;
  cleanup_hook_output hook_output out = { .fd = -1 }, errout = { .fd = -1 };
  cleanup_free char *suffix = NULL;
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
  if (pipe2 (p, O_CLOEXEC | O_NONBLOCK) < 0)
    return crt_error_errno (err, "%s: pipe", what);
  out.fd = p[0], out_w = p[1];
  if (pipe2 (p, O_CLOEXEC | O_NONBLOCK) < 0)
    return crt_error_errno (err, "%s: pipe", what);
  errout.fd = p[0], errout_w = p[1];

  pid = fork ();
  if (pid < 0)
    return crt_error_errno (err, "%s: fork", what);
  if (pid == 0)
    exec_hook (hook, argv, hook->env, stdin_r, out_w, errout_w, err_w);

  crt_closep (&stdin_r);
  crt_closep (&err_w);
  crt_closep (&out_w);
  crt_closep (&errout_w);
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
    rc = wait_hook (&child, &stdin_w, &out, &errout, state_json,
                    hook->timeout.set ? hook->timeout.value : 0, &status, err);
  }
  restore_sigpipe (&old_mask, pipe_was_pending);

  if (rc < 0)
    return crt_error_prefix (err, "%s", what);
  suffix = output_suffix (&out, &errout);
  if (rc == 1)
    return crt_error_set (err, 0, "%s: `%s` timed out after %llds%s", what, hook->path,
                          (long long) hook->timeout.value, suffix);
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    return crt_error_set (err, 0, "%s: `%s` exited with status %d%s", what, hook->path,
                          WEXITSTATUS (status), suffix);
  if (WIFSIGNALED (status))
    return crt_error_set (err, 0, "%s: `%s` killed by signal %d%s", what, hook->path,
                          WTERMSIG (status), suffix);
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

char *
crt_hook_state_for (const crt_spec *spec, const char *id, const char *status, pid_t pid,
                    const char *bundle)
{
  return crt_hook_state_json (spec->oci_version, id, status, pid, bundle, spec->annotations,
                              spec->n_annotations);
}
