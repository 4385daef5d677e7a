/* The swrk transport to CRIU: start it, exchange criu_req/criu_resp
 * messages, reap it, and explain its failures in its own words. */
#include "config.h"
#include "criu.h"
#include "../crt.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* criu's responses are small; a notify or an answer with an error
 * message fits many times over. */
#define CRIU_MSG_MAX 65536

/* criu in PATH (it is in /usr/sbin on Debian: root's PATH). */
int
crt_criu_find (char **out, crt_error **err)
{
  const char *path = getenv ("PATH");
  cleanup_free char *copy = crt_xstrdup (path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  char *save = NULL;

  for (char *dir = strtok_r (copy, ":", &save); dir; dir = strtok_r (NULL, ":", &save))
    {
      cleanup_free char *candidate = crt_fmt ("%s/criu", *dir ? dir : ".");
      struct stat st;
      if (stat (candidate, &st) == 0 && S_ISREG (st.st_mode) && access (candidate, X_OK) == 0)
        {
          *out = crt_steal_ptr (&candidate);
          return 0;
        }
    }
  return crt_error_set (err, ENOENT,
                        "criu not found in PATH (checkpoint and restore need CRIU: the "
                        "Debian package criu)");
}

int
crt_criu_start (crt_criu *c, const int *keep, size_t n_keep, crt_error **err)
{
  cleanup_free char *criu = NULL;
  int fds[2];
  pid_t pid;

  c->pid = -1;
  c->sock = -1;
  if (crt_criu_find (&criu, err) < 0)
    return -1;
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return crt_error_errno (err, "socketpair for criu");
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return crt_error_errno (err, "fork criu");
    }
  if (pid == 0)
    {
      char fdnum[16];
      char *argv[] = { criu, (char *) "swrk", fdnum, NULL };

      crt_reset_signals ();
      snprintf (fdnum, sizeof (fdnum), "%d", fds[1]);
      /* Only these survive the exec: everything else of crt is
       * close-on-exec. */
      if (fcntl (fds[1], F_SETFD, 0) < 0)
        _exit (127);
      for (size_t i = 0; i < n_keep; i++)
        if (keep[i] >= 0 && fcntl (keep[i], F_SETFD, 0) < 0)
          _exit (127);
      execv (criu, argv);
      _exit (127);
    }
  close (fds[1]);
  c->pid = pid;
  c->sock = fds[0];
  return 0;
}

void
crt_criu_finish (crt_criu *c)
{
  crt_closep (&c->sock);
  if (c->pid > 0)
    crt_waitpid (c->pid, NULL, 0);
  c->pid = -1;
}

/* criu hung up without an answer: say how it ended. */
static int
criu_gone (crt_criu *c, crt_error **err)
{
  int status = 0;

  crt_closep (&c->sock);
  if (c->pid > 0 && crt_waitpid (c->pid, &status, 0) == c->pid)
    {
      c->pid = -1;
      if (WIFEXITED (status))
        return crt_error_set (err, EPIPE, "criu exited with status %d without an answer%s",
                              WEXITSTATUS (status),
                              WEXITSTATUS (status) == 127 ? " (could not exec it)" : "");
      if (WIFSIGNALED (status))
        return crt_error_set (err, EPIPE, "criu was killed by signal %d without an answer",
                              WTERMSIG (status));
    }
  return crt_error_set (err, EPIPE, "criu closed its socket without an answer");
}

static int
send_req (crt_criu *c, crt_criu_req_type type, const crt_criu_opts *opts, bool ok,
          crt_error **err)
{
  size_t len;
  cleanup_free uint8_t *msg = crt_criu_encode_req (type, opts, ok, &len);
  ssize_t n;

  do
    n = send (c->sock, msg, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EPIPE ? criu_gone (c, err) : crt_error_errno (err, "send to criu");
  return 0;
}

/* The descriptors of an SCM_RIGHTS message: the first in *fd, any more
 * closed (criu sends one at most). */
static void
take_passed_fd (struct msghdr *mh, int *fd)
{
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (mh); cm; cm = CMSG_NXTHDR (mh, cm))
    {
      size_t n;
      int *fds;

      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
        continue;
      n = (cm->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      fds = (int *) CMSG_DATA (cm);
      for (size_t i = 0; i < n; i++)
        {
          int one;
          memcpy (&one, &fds[i], sizeof (one));
          if (*fd < 0)
            *fd = one;
          else
            close (one);
        }
    }
}

static int
recv_resp (crt_criu *c, crt_criu_resp *resp, int *fd, crt_error **err)
{
  cleanup_free uint8_t *buf = crt_xmalloc0 (CRIU_MSG_MAX);
  union
  {
    char buf[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = CRIU_MSG_MAX };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof (control.buf) };
  ssize_t n;

  *fd = -1;
  do
    n = recvmsg (c->sock, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == ECONNRESET ? criu_gone (c, err) : crt_error_errno (err, "read from criu");
  take_passed_fd (&mh, fd);
  if (n == 0 || n > CRIU_MSG_MAX || (mh.msg_flags & MSG_CTRUNC))
    crt_closep (fd);
  if (n == 0)
    return criu_gone (c, err);
  if (n > CRIU_MSG_MAX)
    return crt_error_set (err, EMSGSIZE, "criu response of %zd bytes: too long", n);
  if (mh.msg_flags & MSG_CTRUNC)
    return crt_error_set (err, EPROTO, "criu sent more descriptors than expected");
  if (crt_criu_decode_resp (buf, (size_t) n, resp, err) < 0)
    {
      crt_closep (fd);
      return -1;
    }
  return 0;
}

int
crt_criu_call (crt_criu *c, crt_criu_req_type type, const crt_criu_opts *opts,
               crt_criu_notify_fn fn, void *data, crt_criu_resp *resp, crt_error **err)
{
  memset (resp, 0, sizeof (*resp));
  if (send_req (c, type, opts, false, err) < 0)
    return -1;
  for (;;)
    {
      crt_error *fn_err = NULL;
      cleanup_close int fd = -1;
      bool ok;

      if (recv_resp (c, resp, &fd, err) < 0)
        return -1;
      if (resp->type != CRT_CRIU_REQ_NOTIFY)
        break;
      ok = fn == NULL || fn (resp->notify_script ? resp->notify_script : "", resp->notify_pid,
                             &fd, data, &fn_err) == 0;
      crt_criu_resp_clear (resp);
      if (send_req (c, CRT_CRIU_REQ_NOTIFY, NULL, ok, err) < 0)
        {
          crt_error_free (&fn_err);
          return -1;
        }
      if (!ok)
        {
          /* criu gives up on a failed script: our reason is the one. */
          *err = fn_err;
          return -1;
        }
    }
  if (resp->type != (int) type)
    {
      int got = resp->type;
      crt_criu_resp_clear (resp);
      return crt_error_set (err, EPROTO, "criu answered a request of type %d with type %d",
                            (int) type, got);
    }
  return 0;
}

/* The "Error (file:line): ..." lines of criu's log, at most the last
 * few, joined with "; ". NULL when there are none (or no log). */
static char *
log_errors (int dirfd, const char *name)
{
  cleanup_free char *text = NULL;
  const char *lines[4];
  size_t n = 0, total = 0;
  char *save = NULL, *out;

  if (dirfd < 0 || crt_read_file_at (dirfd, name, &text, NULL, NULL) < 0)
    return NULL;
  for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
    {
      char *e = strstr (l, "Error (");
      if (e == NULL)
        continue;
      if (n == CRT_ARRAY_SIZE (lines))
        {
          memmove (lines, lines + 1, sizeof (lines) - sizeof (lines[0]));
          n--;
        }
      lines[n++] = e;
    }
  if (n == 0)
    return NULL;
  for (size_t i = 0; i < n; i++)
    total += strlen (lines[i]) + 2;
  out = crt_xmalloc0 (total + 1);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        strcat (out, "; ");
      strcat (out, lines[i]);
    }
  return out;
}

int
crt_criu_explain (const crt_criu_resp *resp, const char *what, int work_dirfd,
                  const char *work_dir, const char *log_name, crt_error **err)
{
  cleanup_free char *from_log = log_errors (work_dirfd, log_name);
  const char *said = resp->cr_errmsg ? resp->cr_errmsg : from_log;

  return crt_error_set (err, resp->has_cr_errno ? resp->cr_errno : 0,
                        "criu %s failed: %s (log: %s/%s)", what,
                        said ? said : "no error message from criu", work_dir, log_name);
}

int
crt_criu_version (int *version, crt_error **err)
{
  crt_criu c;
  crt_criu_resp resp;
  int ret;

  if (crt_criu_start (&c, NULL, 0, err) < 0)
    return -1;
  ret = crt_criu_call (&c, CRT_CRIU_REQ_VERSION, NULL, NULL, NULL, &resp, err);
  crt_criu_finish (&c);
  if (ret < 0)
    return -1;
  if (!resp.success || !resp.has_version)
    ret = crt_error_set (err, 0, "criu did not tell its version");
  else
    *version = resp.version_major * 10000 + resp.version_minor * 100 + resp.version_sublevel;
  crt_criu_resp_clear (&resp);
  return ret;
}

bool
crt_criu_usable (int *version)
{
  int v = 0;

  if (crt_criu_version (&v, NULL) < 0)
    return false;
  if (version)
    *version = v;
  return true;
}
