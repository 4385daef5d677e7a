/* Unit tests of libcrt/linux/seccomp: profiles parsed from JSON compile,
 * every bad value fails with its JSON path, and compiled filters do what
 * they say once loaded in a forked child (errno, argument conditions,
 * KILL_PROCESS, and a NOTIFY round trip through a listener socket). */
#include "config.h"
#include "tap.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/seccomp.h"
#include "spec/spec.h"
#include "util/util.h"

int tap_count;
int tap_failures;

/* A config.json around a linux.seccomp object. */
static crt_spec *
parse_seccomp (const char *seccomp_json)
{
  cleanup_free char *json = crt_fmt ("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                                     "\"linux\":{\"seccomp\":%s}}", seccomp_json);
  crt_spec *spec = NULL;
  crt_error *err = NULL;

  if (crt_spec_parse (json, "config.json", &spec, &err) < 0)
    {
      printf ("#   parse: %s\n", err->msg);
      crt_error_free (&err);
      return NULL;
    }
  return spec;
}

/* Compile; return the error message (malloc'ed) or NULL on success. */
static char *
compile_error (const crt_seccomp *s, crt_seccomp_filter **out)
{
  crt_seccomp_filter *f = NULL;
  crt_error *err = NULL;
  char *msg = NULL;

  if (crt_seccomp_compile (s, &f, &err) < 0)
    {
      msg = crt_xstrdup (err ? err->msg : "(no message)");
      crt_error_free (&err);
    }
  if (out)
    *out = f;
  else
    crt_seccomp_filter_free (f);
  return msg;
}

static void
test_compile_from_json (void)
{
  cleanup_spec crt_spec *spec = parse_seccomp (
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
    "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\","
    "\"SECCOMP_FILTER_FLAG_TSYNC\"],\"syscalls\":["
    "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
    "{\"names\":[\"crt_no_such_syscall\",\"getcwd\"],\"action\":\"SCMP_ACT_LOG\"},"
    "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
    "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_NE\"},"
    "{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_NE\"}]},"
    "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_TRACE\",\"errnoRet\":7,\"args\":["
    "{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"},"
    "{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}");
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  cleanup_free char *msg = NULL;
  char *const *skipped;

  if (!tap_ok (spec && spec->linux_ && spec->linux_->seccomp, "parse a full profile"))
    return;
  msg = compile_error (spec->linux_->seccomp, &f);
  if (!tap_ok (msg == NULL && f != NULL, "compile a full profile"))
    printf ("#   %s\n", msg);
  skipped = crt_seccomp_filter_skipped (f);
  tap_ok (skipped[0] && strcmp (skipped[0], "crt_no_such_syscall") == 0 && skipped[1] == NULL,
          "unknown syscall name skipped and reported");
  tap_ok (!crt_seccomp_filter_uses_notify (f), "no notify without a NOTIFY rule");
}

static void
test_no_seccomp (void)
{
  crt_seccomp_filter *f = (crt_seccomp_filter *) 1;
  crt_error *err = NULL;
  int fd = 5;

  tap_ok (crt_seccomp_compile (NULL, &f, &err) == 0 && f == NULL, "no linux.seccomp: no filter");
  tap_ok (crt_seccomp_load (NULL, &fd, &err) == 0 && fd == -1, "loading no filter does nothing");
  tap_ok (crt_seccomp_filter_skipped (NULL)[0] == NULL, "no filter: nothing skipped");
}

/* A hand-built profile with one syscalls[] entry, edited per case. */
typedef struct
{
  crt_seccomp s;
  crt_syscall sc[2];
  crt_seccomp_arg args[2];
  char *names[3];
  char *arches[2];
  char *flags[2];
} profile;

static void
profile_init (profile *p)
{
  memset (p, 0, sizeof (*p));
  p->s.default_action = "SCMP_ACT_ALLOW";
  p->names[0] = "getcwd";
  p->sc[0] = (crt_syscall) { .names = p->names, .n_names = 1, .action = "SCMP_ACT_ERRNO" };
  p->sc[1] = (crt_syscall) { .names = p->names, .n_names = 1, .action = "SCMP_ACT_LOG" };
  p->args[0] = (crt_seccomp_arg) { .index = 0, .value = 1, .op = "SCMP_CMP_EQ" };
  p->args[1] = (crt_seccomp_arg) { .index = 1, .value = 2, .op = "SCMP_CMP_EQ" };
  p->s.syscalls = p->sc;
  p->s.n_syscalls = 1;
}

static void
expect_error (const crt_seccomp *s, const char *want, const char *what)
{
  cleanup_free char *msg = compile_error (s, NULL);

  tap_str_eq (msg, want, what);
}

static void
test_errors (void)
{
  profile p;

  profile_init (&p);
  p.s.default_action = "SCMP_ACT_BOGUS";
  expect_error (&p.s, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BOGUS\"",
                "unknown default action");

  profile_init (&p);
  p.s.n_syscalls = 2;
  p.sc[1].action = "SCMP_ACT_FOO";
  expect_error (&p.s, "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"",
                "unknown rule action names its index");

  profile_init (&p);
  p.arches[0] = "SCMP_ARCH_X86_64";
  p.arches[1] = "SCMP_ARCH_VAX";
  p.s.architectures = p.arches;
  p.s.n_architectures = 2;
  expect_error (&p.s, "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"",
                "unknown architecture");

  profile_init (&p);
  p.flags[0] = "SECCOMP_FILTER_FLAG_BOGUS";
  p.s.flags = p.flags;
  p.s.n_flags = 1;
  expect_error (&p.s, "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"",
                "unknown flag");

  profile_init (&p);
  p.sc[0].args = p.args;
  p.sc[0].n_args = 2;
  p.args[1].op = "SCMP_CMP_ALMOST";
  expect_error (&p.s, "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_ALMOST\"",
                "unknown operator");

  profile_init (&p);
  p.sc[0].args = p.args;
  p.sc[0].n_args = 1;
  p.args[0].index = 6;
  expect_error (&p.s, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0..5)",
                "argument index out of range");

  profile_init (&p);
  p.s.n_syscalls = 2;
  p.sc[1].errno_ret = (crt_opt_u32) { true, 5 };
  expect_error (&p.s, "linux.seccomp.syscalls[1].errnoRet: not allowed with action SCMP_ACT_LOG",
                "errnoRet with an action that takes none");

  profile_init (&p);
  p.s.default_action = "SCMP_ACT_KILL";
  p.s.default_errno_ret = (crt_opt_u32) { true, 1 };
  expect_error (&p.s, "linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_KILL",
                "defaultErrnoRet with KILL");

  profile_init (&p);
  p.sc[0].errno_ret = (crt_opt_u32) { true, 70000 };
  expect_error (&p.s, "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range (0..65535)",
                "errnoRet wider than the filter's 16 bits");

  profile_init (&p);
  p.s.default_action = "SCMP_ACT_NOTIFY";
  p.s.listener_path = "/tmp/x.sock";
  expect_error (&p.s, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
                "NOTIFY as default action");

  profile_init (&p);
  p.sc[0].action = "SCMP_ACT_NOTIFY";
  expect_error (&p.s, "linux.seccomp.listenerPath: required by the SCMP_ACT_NOTIFY rule of syscalls[0]",
                "NOTIFY without listenerPath");

  profile_init (&p);
  p.sc[0].action = "SCMP_ACT_NOTIFY";
  p.s.listener_path = "/tmp/x.sock";
  p.names[1] = "sendmsg";
  p.sc[0].n_names = 2;
  expect_error (&p.s, "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for sendmsg (the runtime needs it to pass the listener fd on)",
                "NOTIFY on sendmsg");
}

static void
test_accepted (void)
{
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  cleanup_free char *msg = NULL;
  profile p;

  /* A rule with the default action is dropped, not refused. */
  profile_init (&p);
  p.sc[0].action = "SCMP_ACT_ALLOW";
  msg = compile_error (&p.s, NULL);
  tap_ok (msg == NULL, "rule with the default action is skipped");
  free (msg);

  /* ERRNO with the default EPERM equals ERRNO with errnoRet 1 (EPERM). */
  profile_init (&p);
  p.s.default_action = "SCMP_ACT_ERRNO";
  p.sc[0].errno_ret = (crt_opt_u32) { true, EPERM };
  msg = compile_error (&p.s, NULL);
  tap_ok (msg == NULL, "ERRNO rule equal to the ERRNO default is skipped");
  free (msg);

  profile_init (&p);
  p.sc[0].action = "SCMP_ACT_NOTIFY";
  p.s.listener_path = "/tmp/x.sock";
  msg = compile_error (&p.s, &f);
  tap_ok (msg == NULL && crt_seccomp_filter_uses_notify (f), "NOTIFY rule: filter uses notify");
}

static void
test_known_names (void)
{
  const char *const *v;
  bool has_x86_64 = false, has_kill_process = false;

  for (v = crt_seccomp_known_archs (); *v; v++)
    has_x86_64 |= strcmp (*v, "SCMP_ARCH_X86_64") == 0;
  for (v = crt_seccomp_known_actions (); *v; v++)
    has_kill_process |= strcmp (*v, "SCMP_ACT_KILL_PROCESS") == 0;
  tap_ok (has_x86_64 && has_kill_process, "known archs and actions");
  tap_ok (crt_seccomp_known_operators ()[6] != NULL && crt_seccomp_known_flags ()[3] != NULL,
          "known operators and flags");
  tap_ok (crt_seccomp_flag_supported ("SECCOMP_FILTER_FLAG_LOG"), "kernel supports the LOG flag");
  tap_ok (!crt_seccomp_flag_supported ("SECCOMP_FILTER_FLAG_NOPE"), "unknown flag unsupported");
}

/* ---- filters at work, in forked children ---- */

static crt_seccomp_filter *
compile_json (const char *json)
{
  cleanup_spec crt_spec *spec = parse_seccomp (json);
  crt_seccomp_filter *f = NULL;
  cleanup_free char *msg = NULL;

  if (spec == NULL)
    return NULL;
  msg = compile_error (spec->linux_->seccomp, &f);
  if (msg)
    printf ("#   compile: %s\n", msg);
  return f;
}

static int
load_in_child (crt_seccomp_filter *f)
{
  crt_error *err = NULL;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || crt_seccomp_load (f, NULL, &err) < 0)
    {
      printf ("#   load: %s\n", err ? err->msg : strerror (errno));
      _exit (100);
    }
  return 0;
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

static void
test_errno_and_args (void)
{
  cleanup_seccomp_filter crt_seccomp_filter *f = compile_json (
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
    "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
    "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"},"
    /* args on distinct indexes: ANDed */
    "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":55,\"args\":["
    "{\"index\":0,\"value\":999999,\"op\":\"SCMP_CMP_EQ\"},"
    "{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
    /* args on the same index: one rule each, ORed */
    "{\"names\":[\"umask\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":56,\"args\":["
    "{\"index\":0,\"value\":511,\"op\":\"SCMP_CMP_EQ\"},"
    "{\"index\":0,\"value\":448,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}");
  pid_t pid;
  int status;

  if (!tap_ok (f != NULL, "compile the errno profile"))
    return;
  pid = fork ();
  if (pid == 0)
    {
      char buf[256];
      int bad = 0;

      load_in_child (f);
      /* Each failed check sets its own bit of the exit code. */
      if (!(mkdir ("/nonexistent-dir/x", 0755) < 0 && errno == 38))
        bad |= 1;
      if (!(getcwd (buf, sizeof (buf)) == NULL && errno == EPERM))
        bad |= 2;
      if (!(syscall (SYS_kill, 999999, 0) < 0 && errno == 55))
        bad |= 4;
      if (!(syscall (SYS_kill, 999998, 0) < 0 && errno == ESRCH))
        bad |= 8;
      if (!(syscall (SYS_umask, 0777) < 0 && errno == 56 && syscall (SYS_umask, 0700) < 0
            && errno == 56))
        bad |= 16;
      if (syscall (SYS_umask, 022) < 0)
        bad |= 32;
      if (bad)
        _exit (bad);
      syscall (SYS_getppid);
      _exit (99);
    }
  status = wait_child (pid);
  if (!tap_ok (WIFSIGNALED (status) && WTERMSIG (status) == SIGSYS,
               "errno, ANDed and ORed args all behave; KILL_PROCESS kills with SIGSYS"))
    printf ("#   status %#x (exit %d)\n", status, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static void
test_errno_default_allow_list (void)
{
  cleanup_seccomp_filter crt_seccomp_filter *f = compile_json (
    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":["
    "{\"names\":[\"exit_group\",\"exit\",\"write\",\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
  pid_t pid;
  int status;

  if (!tap_ok (f != NULL, "compile an allow list"))
    return;
  pid = fork ();
  if (pid == 0)
    {
      load_in_child (f);
      /* exit_group directly: a sanitizer's _exit would make calls the
       * allow list does not have. */
      if (syscall (SYS_getppid) < 0 && errno == 38 && syscall (SYS_getpid) > 0)
        syscall (SYS_exit_group, 0);
      syscall (SYS_exit_group, 1);
    }
  status = wait_child (pid);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0,
          "ERRNO default with defaultErrnoRet, allow-listed syscalls pass");
}

/* The child loads a NOTIFY filter on getcwd, sends the listener fd with
 * crt_seccomp_send_notify_fd, then calls getcwd: we answer 4242. */
static void
test_notify (void)
{
  char sock_path[] = "/tmp/crt-test-seccomp-XXXXXX";
  cleanup_free char *listener = NULL, *json = NULL;
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int srv = -1, conn = -1, nfd = -1;
  char payload[4096] = "";
  union { char buf[CMSG_SPACE (sizeof (int))]; struct cmsghdr align; } control;
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof (payload) - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                        .msg_controllen = sizeof (control.buf) };
  struct seccomp_notif *req = NULL;
  struct seccomp_notif_resp *resp = NULL;
  struct cmsghdr *cmsg;
  cleanup_spec crt_spec *spec = NULL;
  pid_t pid;
  int status;

  if (mkdtemp (sock_path) == NULL)
    {
      tap_ok (false, "notify: mkdtemp");
      return;
    }
  listener = crt_fmt ("%s/agent.sock", sock_path);
  json = crt_fmt ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
                  "\"listenerMetadata\":\"meta\\\"data\",\"flags\":"
                  "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":["
                  "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}", listener);
  spec = parse_seccomp (json);
  if (spec)
    f = compile_json (json);
  srv = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  strcpy (addr.sun_path, listener);
  if (!tap_ok (f && srv >= 0 && bind (srv, (struct sockaddr *) &addr, sizeof (addr)) == 0
               && listen (srv, 1) == 0, "notify: filter and agent socket ready"))
    goto out;

  pid = fork ();
  if (pid == 0)
    {
      crt_error *err = NULL;
      int fd = -1;
      char buf[64];
      long r;

      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || crt_seccomp_load (f, &fd, &err) < 0
          || fd < 0
          || crt_seccomp_send_notify_fd (spec->linux_->seccomp, fd, "{\"status\":\"creating\"}",
                                         getpid (), &err) < 0)
        {
          printf ("#   child: %s\n", err ? err->msg : "no listener fd");
          _exit (100);
        }
      close (fd);
      r = syscall (SYS_getcwd, buf, sizeof (buf));
      _exit (r == 4242 ? 0 : 1);
    }

  conn = accept4 (srv, NULL, NULL, SOCK_CLOEXEC);
  memset (&control, 0, sizeof (control));
  if (conn >= 0 && recvmsg (conn, &msg, MSG_CMSG_CLOEXEC) > 0
      && (cmsg = CMSG_FIRSTHDR (&msg)) != NULL && cmsg->cmsg_type == SCM_RIGHTS)
    memcpy (&nfd, CMSG_DATA (cmsg), sizeof (int));
  {
    cleanup_free char *want = crt_fmt ("{\"ociVersion\":\"1.3.0\",\"fds\":[\"seccompFd\"],"
                                       "\"pid\":%d,\"metadata\":\"meta\\\"data\","
                                       "\"state\":{\"status\":\"creating\"}}", (int) pid);
    tap_ok (nfd >= 0, "notify: agent received the listener fd");
    tap_str_eq (payload, want, "notify: container process state payload");
  }
  if (nfd >= 0 && seccomp_notify_alloc (&req, &resp) == 0 && seccomp_notify_receive (nfd, req) == 0)
    {
      resp->id = req->id;
      resp->val = 4242;
      resp->error = 0;
      resp->flags = 0;
      tap_ok (req->pid == (uint32_t) pid && seccomp_notify_respond (nfd, resp) == 0,
              "notify: agent answered the child's getcwd");
    }
  else
    {
      tap_ok (false, "notify: agent answered the child's getcwd");
      kill (pid, SIGKILL);
    }
  status = wait_child (pid);
  tap_ok (WIFEXITED (status) && WEXITSTATUS (status) == 0, "notify: child got the agent's answer");
  seccomp_notify_free (req, resp);
out:
  unlink (listener);
  rmdir (sock_path);
}

int
main (void)
{
  test_no_seccomp ();
  test_compile_from_json ();
  test_errors ();
  test_accepted ();
  test_known_names ();
  test_errno_and_args ();
  test_errno_default_allow_list ();
  test_notify ();
  return tap_done ();
}
