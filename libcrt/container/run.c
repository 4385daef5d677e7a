/* run: create + start, and in the foreground stay the container's parent:
 * forward every signal crt gets to the init, wait, clean up, and hand
 * back the init's exit status. */
#include "config.h"
#include "container.h"
#include "notify.h"
#include "supervise.h"
#include "../util/util.h"
#include "../util/trace.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int
run_foreground (crt_context *ctx, const char *id, const crt_create_options *opts, int *exit_code,
                crt_error **err)
{
  sigset_t saved;
  cleanup_close int sigfd = -1, notify_fd = -1;
  crt_launched l;
  int status = 0, ret;

  if (crt_supervise_begin (&saved, &sigfd, err) < 0)
    return -1;
  ret = crt_launch (ctx, id, opts, true, true, &l, err);
  if (ret < 0)
    goto out_mask;
  ret = crt_start_and_notify (ctx, l.dirfd, l.sync_fd, l.start_sent, l.spec, &l.rec,
                              &notify_fd, err);
  if (ret == 0)
    {
      crt_supervision sv = { .pid = l.pid, .pidfd = l.pidfd, .sigfd = sigfd,
                             .pty_master = l.pty_master, .notify_fd = notify_fd,
                             .notify_host = l.rec.notify_socket };
      /* Let state/kill/exec from other crt processes in while we wait. */
      crt_closep (&l.dirfd);
      CRT_TRACE_POINT ("parent: program started");
      ret = crt_supervise (&sv, &status, err);
      CRT_TRACE_POINT ("parent: program exited");
    }
  else
    crt_kill_and_reap (l.pid, &status);
  *exit_code = crt_exit_code_of (status);
  if (!opts->keep || ret < 0)
    {
      /* Still ours (and locked) when start failed: opening the state
       * dir again would wait for our own lock for ever. */
      cleanup_close int dirfd = crt_steal_fd (&l.dirfd);
      crt_error *derr = NULL;
      /* What it would read back is what this process wrote: state.json
       * and the config.json copy (nothing rewrites either). */
      if (dirfd >= 0 || crt_state_dir_open (ctx, id, true, &dirfd, &derr) == 0)
        crt_destroy_known (ctx, id, dirfd, l.spec, &l.rec, ret < 0 ? NULL : &derr);
      if (ret == 0 && derr)
        {
          *err = derr;
          ret = -1;
        }
      else
        crt_error_free (&derr);
    }
  CRT_TRACE_POINT ("parent: destroyed");
  CRT_TRACE_DUMP ();
  crt_launch_release (&l);
out_mask:
  sigprocmask (SIG_SETMASK, &saved, NULL);
  return ret;
}

int
crt_container_run (crt_context *ctx, const char *id, const crt_create_options *opts,
                   int *exit_code, crt_error **err)
{
  cleanup_close int notify_fd = -1;
  crt_launched l;
  int ret;

  *exit_code = 0;
  if (!opts->detach)
    return run_foreground (ctx, id, opts, exit_code, err);
  if (crt_launch (ctx, id, opts, false, true, &l, err) < 0)
    return -1;
  ret = crt_start_and_notify (ctx, l.dirfd, l.sync_fd, l.start_sent, l.spec, &l.rec,
                              &notify_fd, err);
  if (ret < 0)
    {
      cleanup_close int dirfd = -1;

      crt_kill_and_wait (&l.rec, SIGKILL, NULL);
      /* Unless a failing poststart hook has destroyed it already. */
      crt_closep (&l.dirfd);
      if (crt_state_dir_open (ctx, id, true, &dirfd, NULL) == 0)
        crt_destroy (ctx, id, dirfd, NULL);
    }
  else if (notify_fd >= 0)
    {
      crt_closep (&l.dirfd);
      ret = crt_notify_wait_ready (notify_fd, l.pidfd, l.rec.notify_socket, err);
    }
  crt_launch_release (&l);
  return ret;
}
