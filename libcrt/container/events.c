/* events: stats snapshots and OOM notices of a container, in runc's JSON. */
#include "config.h"
#include "cgroup_ops.h"
#include "../cgroup/cgroup.h"
#include "../cgroup/stats.h"
#include "../util/clock.h"
#include "../util/json_gen.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

/* How often the watch looks whether the container is still there. */
#define ALIVE_CHECK_MS 250

/* {"type":TYPE,"id":ID[,"data":<stats of path>]} */
static char *
event_json (const char *type, const char *id, const char *stats_path, crt_error **err)
{
  yajl_gen g = crt_gen_new (NULL);

  yajl_gen_map_open (g);
  crt_gen_key_str (g, "type", type);
  crt_gen_key_str (g, "id", id);
  if (stats_path)
    crt_gen_str (g, "data");
  if (stats_path == NULL || crt_cgroup_stats_gen (g, stats_path, err) == 0)
    {
      yajl_gen_map_close (g);
      return crt_gen_finish (g);
    }
  yajl_gen_free (g);
  return NULL;
}

int
crt_container_stats (crt_context *ctx, const char *id, char **json, crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  if (crt_open_container_cgroup (ctx, id, false, &dirfd, &rec, err) < 0)
    return -1;
  if (crt_state_status (dirfd, &rec) == CRT_STATUS_STOPPED)
    return crt_error_set (err, 0, "container `%s` is not running", id);
  *json = event_json ("stats", id, rec.cgroup_path, err);
  return *json ? 0 : -1;
}

static int
emit_event (const char *type, const char *id, const char *stats_path, crt_event_fn emit,
            void *data, crt_error **err)
{
  cleanup_free char *json = event_json (type, id, stats_path, err);
  if (json == NULL)
    return -1;
  return emit (json, data, err);
}

int
crt_container_events (crt_context *ctx, const char *id, unsigned interval_ms, crt_event_fn emit,
                      void *data, crt_error **err)
{
  cleanup_state_record crt_state_record rec = { 0 };
  cleanup_close int inotify_fd = -1, cgroup_fd = -1;
  cleanup_free char *dir = NULL;
  const char *mnt;
  uint64_t ooms;
  long long next_stats;

  {
    /* The lock is only for reading the state: `delete` must not wait
     * for a watch that lasts as long as the container. */
    cleanup_close int dirfd = -1;
    if (crt_open_container_cgroup (ctx, id, false, &dirfd, &rec, err) < 0)
      return -1;
    if (crt_state_status (dirfd, &rec) == CRT_STATUS_STOPPED)
      return crt_error_set (err, 0, "container `%s` is not running", id);
  }
  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  dir = crt_fmt ("%s%s", mnt, rec.cgroup_path);
  cgroup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0)
    return crt_error_errno (err, "open cgroup `%s`", rec.cgroup_path);
  /* The kernel signals a change of memory.events through inotify; the
   * counter is read again on every wakeup anyway. */
  inotify_fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd >= 0)
    {
      cleanup_free char *events = crt_fmt ("%s/memory.events", dir);
      inotify_add_watch (inotify_fd, events, IN_MODIFY);
    }
  ooms = crt_cgroup_oom_kills (cgroup_fd);
  next_stats = crt_monotonic_ms () + interval_ms;

  for (;;)
    {
      long long now = crt_monotonic_ms ();
      long long wait = next_stats - now;
      struct pollfd p = { .fd = inotify_fd, .events = POLLIN };
      uint64_t count;
      bool alive;

      if (wait > ALIVE_CHECK_MS)
        wait = ALIVE_CHECK_MS;
      if (wait < 0)
        wait = 0;
      if (poll (&p, inotify_fd >= 0 ? 1 : 0, (int) wait) < 0 && errno != EINTR)
        return crt_error_errno (err, "poll");
      if (p.revents & POLLIN)
        {
          char buf[4096];
          while (read (inotify_fd, buf, sizeof (buf)) > 0)
            ;
        }
      /* Read before looking at the init: an OOM kill of the init itself
       * must still be reported. */
      alive = crt_state_init_alive (&rec);
      count = crt_cgroup_oom_kills (cgroup_fd);
      if (count > ooms && emit_event ("oom", id, NULL, emit, data, err) < 0)
        return -1;
      ooms = count;
      if (!alive)
        return 0;
      if (crt_monotonic_ms () >= next_stats)
        {
          if (emit_event ("stats", id, rec.cgroup_path, emit, data, err) < 0)
            return crt_state_init_alive (&rec) ? -1 : 0;
          next_stats += interval_ms;
        }
    }
}
