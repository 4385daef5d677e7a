/* Unit tests of libcrt/container/hooks.c with real programs (/bin/sh
 * scripts): the state arrives on stdin, args and env are passed exactly,
 * failures name the hook and the reason, timeouts kill, and nothing (fd,
 * zombie) is left behind. */
#include "config.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/hooks.h"
#include "util/util.h"

int tap_count;
int tap_failures;

static char tmpdir[] = "/tmp/crt-test-hooks-XXXXXX";

/* A hook of one "/bin/sh -c SCRIPT" (argv[0] "hook-sh"), with env. */
typedef struct
{
  crt_hook hook;
  char *args[5];
  char *env[4];
} sh_hook;

static void
sh_hook_init (sh_hook *h, const char *script, long long timeout)
{
  memset (h, 0, sizeof (*h));
  h->args[0] = (char *) "hook-sh";
  h->args[1] = (char *) "-c";
  h->args[2] = (char *) script;
  h->args[3] = (char *) "arg one"; /* $0 of the script: spaces kept */
  h->env[0] = (char *) "HOOK_A=1";
  h->env[1] = (char *) "HOOK_B=two words";
  h->hook.path = (char *) "/bin/sh";
  h->hook.args = h->args;
  h->hook.n_args = 4;
  h->hook.env = h->env;
  h->hook.n_env = 2;
  if (timeout > 0)
    {
      h->hook.timeout.set = true;
      h->hook.timeout.value = timeout;
    }
}

static crt_hooks
one_kind (crt_hook_kind kind, crt_hook *list, size_t n)
{
  crt_hooks hooks;

  memset (&hooks, 0, sizeof (hooks));
  hooks.hooks[kind] = list;
  hooks.n_hooks[kind] = n;
  return hooks;
}

static char *
slurp (const char *name)
{
  cleanup_free char *path = crt_fmt ("%s/%s", tmpdir, name);
  char *buf = NULL;
  size_t len;

  if (crt_read_file_at (AT_FDCWD, path, &buf, &len, NULL) < 0)
    return NULL;
  return buf;
}

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

/* True when this process has a child left (zombie or not). */
static bool
has_children (void)
{
  siginfo_t si;

  memset (&si, 0, sizeof (si));
  return waitid (P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

static double
seconds_since (const struct timespec *t0)
{
  struct timespec t1;

  clock_gettime (CLOCK_MONOTONIC, &t1);
  return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_names (void)
{
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_PRESTART), "prestart", "name of prestart");
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_CREATE_RUNTIME), "createRuntime",
              "name of createRuntime");
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_CREATE_CONTAINER), "createContainer",
              "name of createContainer");
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_START_CONTAINER), "startContainer",
              "name of startContainer");
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_POSTSTART), "poststart", "name of poststart");
  tap_str_eq (crt_hook_kind_name (CRT_HOOK_POSTSTOP), "poststop", "name of poststop");
}

static void
test_state_json (void)
{
  crt_kv ann[] = { { (char *) "k\"1", (char *) "v 1" }, { (char *) "k2", (char *) "" } };
  cleanup_free char *full = crt_hook_state_json ("1.2.0", "c1", "created", 42, "/b", ann, 2);
  cleanup_free char *stopped = crt_hook_state_json ("1.2.0", "c1", "stopped", 0, "/b", NULL, 0);

  tap_str_eq (full,
              "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,"
              "\"bundle\":\"/b\",\"annotations\":{\"k\\\"1\":\"v 1\",\"k2\":\"\"}}",
              "state JSON with pid and annotations");
  tap_str_eq (stopped,
              "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"stopped\",\"bundle\":\"/b\"}",
              "state JSON without pid or annotations");
}

static void
test_stdin_args_env (void)
{
  const char *state = "{\"id\":\"c1\",\"status\":\"creating\"}";
  cleanup_free char *script = crt_fmt ("cat > %s/stdin; echo \"$0|$HOOK_A|$HOOK_B\" > %s/args; "
                                       "env | grep -v '^PWD=' | sort > %s/env",
                                       tmpdir, tmpdir, tmpdir);
  cleanup_free char *got_stdin = NULL, *got_args = NULL, *got_env = NULL;
  cleanup_error crt_error *err = NULL;
  sh_hook h;
  crt_hooks hooks;
  int rc;

  sh_hook_init (&h, script, 5);
  hooks = one_kind (CRT_HOOK_CREATE_RUNTIME, &h.hook, 1);
  rc = crt_hooks_run (&hooks, CRT_HOOK_CREATE_RUNTIME, state, &err);
  if (!tap_ok (rc == 0, "a succeeding hook returns 0"))
    printf ("#   %s\n", err ? err->msg : "(no error)");
  got_stdin = slurp ("stdin");
  got_args = slurp ("args");
  got_env = slurp ("env");
  tap_str_eq (got_stdin, state, "the hook reads the state on stdin");
  tap_str_eq (got_args, "arg one|1|two words\n", "args and env reach the hook");
  /* sh adds PWD (filtered out) and may add SHLVL or _: only ours else. */
  tap_ok (got_env != NULL && strstr (got_env, "HOOK_A=1\nHOOK_B=two words\n") != NULL
              && strstr (got_env, "PATH=") == NULL && strstr (got_env, "HOME=") == NULL,
          "the environment is exactly hook.env (none of crt's)");
}

static void
test_order_and_first_failure (void)
{
  cleanup_free char *s1 = crt_fmt ("echo one >> %s/order", tmpdir);
  cleanup_free char *s3 = crt_fmt ("echo three >> %s/order", tmpdir);
  cleanup_free char *order = NULL;
  cleanup_error crt_error *err = NULL;
  sh_hook h[3];
  crt_hook list[3];
  crt_hooks hooks;
  int rc;

  sh_hook_init (&h[0], s1, 0);
  sh_hook_init (&h[1], "exit 3", 0);
  sh_hook_init (&h[2], s3, 0);
  for (int i = 0; i < 3; i++)
    list[i] = h[i].hook;
  hooks = one_kind (CRT_HOOK_PRESTART, list, 3);
  rc = crt_hooks_run (&hooks, CRT_HOOK_PRESTART, "{}", &err);
  TAP_INT_EQ (rc, -1, "a hook exiting 3 fails the run");
  tap_str_eq (err ? err->msg : NULL, "hooks.prestart[1]: `/bin/sh` exited with status 3",
              "the message names the hook and its status");
  order = slurp ("order");
  tap_str_eq (order, "one\n", "hooks run in order and stop at the first failure");

  /* The logged variant runs them all and counts the failures. */
  {
    crt_context ctx = { 0 };
    cleanup_free char *path = crt_fmt ("%s/order", tmpdir);
    cleanup_free char *logpath = crt_fmt ("%s/log", tmpdir);
    cleanup_free char *log = NULL;
    FILE *logf = fopen (logpath, "we");

    unlink (path);
    ctx.log = logf;
    TAP_INT_EQ (crt_hooks_run_logged (&ctx, &hooks, CRT_HOOK_PRESTART, "{}"), 1,
                "run_logged counts one failure");
    if (logf)
      fclose (logf);
    free (order);
    order = slurp ("order");
    tap_str_eq (order, "one\nthree\n", "run_logged goes on after a failure");
    log = slurp ("log");
    tap_ok (log != NULL && strstr (log, "warning: hooks.prestart[1]: `/bin/sh` exited with status 3"),
            "run_logged logs the failure as a warning");
  }
}

static void
test_signal (void)
{
  cleanup_error crt_error *err = NULL;
  sh_hook h;
  crt_hooks hooks;

  sh_hook_init (&h, "kill -9 $$", 0);
  hooks = one_kind (CRT_HOOK_POSTSTOP, &h.hook, 1);
  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_POSTSTOP, "{}", &err), -1,
              "a hook killed by a signal fails");
  tap_str_eq (err ? err->msg : NULL, "hooks.poststop[0]: `/bin/sh` killed by signal 9",
              "the message names the signal");
}

static void
test_timeout (void)
{
  cleanup_error crt_error *err = NULL;
  struct timespec t0;
  double took;
  sh_hook h;
  crt_hooks hooks;

  /* exec: the shell becomes sleep, so the kill hits the sleeper itself. */
  sh_hook_init (&h, "exec sleep 10", 1);
  hooks = one_kind (CRT_HOOK_CREATE_CONTAINER, &h.hook, 1);
  clock_gettime (CLOCK_MONOTONIC, &t0);
  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_CREATE_CONTAINER, "{}", &err), -1,
              "a hook past its timeout fails");
  took = seconds_since (&t0);
  tap_str_eq (err ? err->msg : NULL, "hooks.createContainer[0]: `/bin/sh` timed out after 1s",
              "the message says it timed out");
  if (!tap_ok (took >= 0.9 && took < 3.0, "it is killed after about 1 s"))
    printf ("#   took %.2f s\n", took);
}

static void
test_missing_binary (void)
{
  cleanup_error crt_error *err = NULL;
  crt_hook hook = { .path = (char *) "/nonexistent/hook" };
  crt_hooks hooks = one_kind (CRT_HOOK_START_CONTAINER, &hook, 1);

  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_START_CONTAINER, "{}", &err), -1,
              "a missing hook binary fails");
  tap_str_eq (err ? err->msg : NULL,
              "hooks.startContainer[0]: exec `/nonexistent/hook`: No such file or directory",
              "the message names the path and the reason");
}

static void
test_no_args_no_stdin_reader (void)
{
  cleanup_error crt_error *err = NULL;
  /* A big state a hook that never reads: EPIPE must not kill us. */
  size_t big = 1 << 20;
  cleanup_free char *state = crt_xmalloc0 (big + 1);
  crt_hook hook = { .path = (char *) "/bin/true" };
  crt_hooks hooks = one_kind (CRT_HOOK_POSTSTART, &hook, 1);

  memset (state, 'x', big);
  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_POSTSTART, state, &err), 0,
              "a hook without args that ignores a 1 MiB stdin succeeds");
  if (err)
    printf ("#   %s\n", err->msg);
}

static void
test_relative_path (void)
{
  cleanup_error crt_error *err = NULL;
  crt_hook hook = { .path = (char *) "sh" };
  crt_hooks hooks = one_kind (CRT_HOOK_POSTSTART, &hook, 1);

  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_POSTSTART, "{}", &err), -1,
              "a relative hook path is refused (no PATH search)");
}

static void
test_signals_reset (void)
{
  cleanup_free char *script = crt_fmt ("grep -E '^Sig(Blk|Ign)' /proc/self/status > %s/sig",
                                       tmpdir);
  cleanup_free char *got = NULL;
  cleanup_error crt_error *err = NULL;
  sigset_t block, old;
  sh_hook h;
  crt_hooks hooks;

  /* As crt run does: block and ignore signals around the hook. */
  sigemptyset (&block);
  sigaddset (&block, SIGTERM);
  sigaddset (&block, SIGINT);
  sigprocmask (SIG_BLOCK, &block, &old);
  signal (SIGHUP, SIG_IGN);
  sh_hook_init (&h, script, 5);
  hooks = one_kind (CRT_HOOK_POSTSTART, &h.hook, 1);
  TAP_INT_EQ (crt_hooks_run (&hooks, CRT_HOOK_POSTSTART, "{}", &err), 0,
              "a hook runs with signals blocked in the caller");
  sigprocmask (SIG_SETMASK, &old, NULL);
  signal (SIGHUP, SIG_DFL);
  got = slurp ("sig");
  /* grep execs with the mask and ignored set it inherited from sh. */
  tap_ok (got != NULL && strstr (got, "SigBlk:\t0000000000000000") != NULL
              && strstr (got, "SigIgn:\t0000000000000000") != NULL,
          "the hook starts with no blocked or ignored signals");
}

int
main (void)
{
  int fds_before, fds_after;

  if (mkdtemp (tmpdir) == NULL)
    {
      perror ("mkdtemp");
      return 1;
    }
  fds_before = count_fds ();

  test_names ();
  test_state_json ();
  test_stdin_args_env ();
  test_order_and_first_failure ();
  test_signal ();
  test_timeout ();
  test_missing_binary ();
  test_no_args_no_stdin_reader ();
  test_relative_path ();
  test_signals_reset ();

  fds_after = count_fds ();
  TAP_INT_EQ (fds_after, fds_before, "no fd is left open");
  tap_ok (!has_children (), "no child (zombie) is left");

  {
    cleanup_free char *cmd = crt_fmt ("rm -rf '%s'", tmpdir);
    if (system (cmd) != 0)
      printf ("# could not remove %s\n", tmpdir);
  }
  return tap_done ();
}
