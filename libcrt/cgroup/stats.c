/* cgroup v2 counters mapped onto runc's types/events.go layout, so tools
 * reading `runc events` read ours: times in nanoseconds, "max" as the
 * largest uint64, memory+swap for "swap" (v1's meaning), zero values
 * left out where runc's fields are omitempty. */
#include "config.h"
#include "stats.h"
#include "cgroup.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY(g, s) yajl_gen_string ((g), (const unsigned char *) (s), strlen (s))

static void
gen_u64 (yajl_gen g, const char *key, uint64_t v)
{
  char buf[32];
  int n = snprintf (buf, sizeof (buf), "%" PRIu64, v);
  KEY (g, key);
  yajl_gen_number (g, buf, (size_t) n);
}

/* runc's `json:",omitempty"` fields. */
static void
gen_u64_nonzero (yajl_gen g, const char *key, uint64_t v)
{
  if (v != 0)
    gen_u64 (g, key, v);
}

/* The text of a cgroup file, or NULL when the cgroup has no such file. */
static char *
read_text (int dirfd, const char *name)
{
  char *text = NULL;
  if (crt_read_file_at (dirfd, name, &text, NULL, NULL) < 0)
    return NULL;
  return text;
}

/* A single-value file: a number, "max" (UINT64_MAX), or 0 when absent. */
static uint64_t
read_u64 (int dirfd, const char *name)
{
  cleanup_free char *text = read_text (dirfd, name);
  if (text == NULL)
    return 0;
  if (crt_str_has_prefix (text, "max"))
    return UINT64_MAX;
  return strtoull (text, NULL, 10);
}

/* The value of `key` in a "key value" per line file (cpu.stat, memory.stat). */
static uint64_t
flat_get (const char *text, const char *key)
{
  size_t len = strlen (key);
  for (const char *line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    if (strncmp (line, key, len) == 0 && line[len] == ' ')
      return strtoull (line + len + 1, NULL, 10);
  return 0;
}

static void
gen_cpu (yajl_gen g, int dirfd)
{
  cleanup_free char *stat = read_text (dirfd, "cpu.stat");
  const char *s = stat ? stat : "";

  KEY (g, "cpu");
  yajl_gen_map_open (g);
  KEY (g, "usage");
  yajl_gen_map_open (g);
  gen_u64_nonzero (g, "total", flat_get (s, "usage_usec") * 1000);
  gen_u64 (g, "kernel", flat_get (s, "system_usec") * 1000);
  gen_u64 (g, "user", flat_get (s, "user_usec") * 1000);
  yajl_gen_map_close (g);
  KEY (g, "throttling");
  yajl_gen_map_open (g);
  gen_u64_nonzero (g, "periods", flat_get (s, "nr_periods"));
  gen_u64_nonzero (g, "throttledPeriods", flat_get (s, "nr_throttled"));
  gen_u64_nonzero (g, "throttledTime", flat_get (s, "throttled_usec") * 1000);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
}

static void
gen_memory_entry (yajl_gen g, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
                  uint64_t failcnt)
{
  KEY (g, key);
  yajl_gen_map_open (g);
  gen_u64 (g, "limit", limit);
  gen_u64_nonzero (g, "usage", usage);
  gen_u64_nonzero (g, "max", max);
  gen_u64 (g, "failcnt", failcnt);
  yajl_gen_map_close (g);
}

static void
gen_memory (yajl_gen g, int dirfd)
{
  cleanup_free char *stat = read_text (dirfd, "memory.stat");
  cleanup_free char *events = read_text (dirfd, "memory.events");
  uint64_t usage = read_u64 (dirfd, "memory.current");
  uint64_t limit = read_u64 (dirfd, "memory.max");
  uint64_t swap = read_u64 (dirfd, "memory.swap.current");
  uint64_t swap_limit = read_u64 (dirfd, "memory.swap.max");

  KEY (g, "memory");
  yajl_gen_map_open (g);
  if (stat == NULL)
    {
      yajl_gen_map_close (g);
      return;
    }
  gen_u64_nonzero (g, "cache", flat_get (stat, "file"));
  gen_memory_entry (g, "usage", limit, usage, read_u64 (dirfd, "memory.peak"),
                    events ? flat_get (events, "max") : 0);
  /* v1 reported memory+swap here; runc keeps that meaning on v2. */
  gen_memory_entry (g, "swap", swap_limit == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX
                                                                                : swap_limit + limit,
                    swap + usage, 0, 0);
  KEY (g, "raw");
  yajl_gen_map_open (g);
  for (char *line = stat, *next; line && *line; line = next)
    {
      char *sp = strchr (line, ' ');
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (sp == NULL)
        continue;
      *sp = '\0';
      gen_u64 (g, line, strtoull (sp + 1, NULL, 10));
    }
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
}

static void
gen_pids (yajl_gen g, int dirfd)
{
  uint64_t limit = read_u64 (dirfd, "pids.max");

  KEY (g, "pids");
  yajl_gen_map_open (g);
  gen_u64_nonzero (g, "current", read_u64 (dirfd, "pids.current"));
  gen_u64_nonzero (g, "limit", limit == UINT64_MAX ? 0 : limit);
  yajl_gen_map_close (g);
}

static void
gen_blkio_entry (yajl_gen g, unsigned major, unsigned minor, const char *op, uint64_t value)
{
  yajl_gen_map_open (g);
  gen_u64_nonzero (g, "major", major);
  gen_u64_nonzero (g, "minor", minor);
  KEY (g, "op");
  KEY (g, op);
  gen_u64_nonzero (g, "value", value);
  yajl_gen_map_close (g);
}

/* io.stat: "maj:min rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static void
gen_blkio_list (yajl_gen g, const char *text, const char *key, const char *read_key,
                const char *write_key)
{
  bool opened = false;

  for (const char *line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      const char *r = strstr (line, read_key), *w = strstr (line, write_key);
      const char *eol = strchr (line, '\n');
      unsigned major, minor;
      char *end;

      if (*line < '0' || *line > '9')
        continue;
      major = (unsigned) strtoul (line, &end, 10);
      if (*end != ':' || end[1] < '0' || end[1] > '9')
        continue;
      minor = (unsigned) strtoul (end + 1, NULL, 10);
      if (!opened)
        {
          KEY (g, key);
          yajl_gen_array_open (g);
          opened = true;
        }
      if (r && (!eol || r < eol))
        gen_blkio_entry (g, major, minor, "Read", strtoull (r + strlen (read_key), NULL, 10));
      if (w && (!eol || w < eol))
        gen_blkio_entry (g, major, minor, "Write", strtoull (w + strlen (write_key), NULL, 10));
    }
  if (opened)
    yajl_gen_array_close (g);
}

static void
gen_blkio (yajl_gen g, int dirfd)
{
  cleanup_free char *stat = read_text (dirfd, "io.stat");

  KEY (g, "blkio");
  yajl_gen_map_open (g);
  if (stat)
    {
      gen_blkio_list (g, stat, "ioServiceBytesRecursive", " rbytes=", " wbytes=");
      gen_blkio_list (g, stat, "ioServicedRecursive", " rios=", " wios=");
    }
  yajl_gen_map_close (g);
}

/* One entry per hugetlb.<size>.current file. */
static void
gen_hugetlb (yajl_gen g, int dirfd)
{
  DIR *d = crt_dir_list (dirfd);
  struct dirent *de;

  KEY (g, "hugetlb");
  yajl_gen_map_open (g);
  while (d && (de = readdir (d)) != NULL)
    {
      const char *name = de->d_name, *end;
      cleanup_free char *size = NULL, *events_file = NULL, *events = NULL;
      if (!crt_str_has_prefix (name, "hugetlb.") || strstr (name, ".rsvd.")
          || (end = strstr (name, ".current")) == NULL || end[8] != '\0')
        continue;
      size = crt_xstrndup (name + 8, (size_t) (end - name - 8));
      events_file = crt_fmt ("hugetlb.%s.events", size);
      events = read_text (dirfd, events_file);
      KEY (g, size);
      yajl_gen_map_open (g);
      gen_u64_nonzero (g, "usage", read_u64 (dirfd, name));
      gen_u64 (g, "failcnt", events ? flat_get (events, "max") : 0);
      yajl_gen_map_close (g);
    }
  if (d)
    closedir (d);
  yajl_gen_map_close (g);
}

int
crt_cgroup_stats_gen (yajl_gen g, const char *path, crt_error **err)
{
  const char *mnt;
  cleanup_free char *dir = NULL;
  cleanup_close int dirfd = -1;

  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  dir = crt_fmt ("%s%s", mnt, path);
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return crt_error_errno (err, "open cgroup `%s`", path);
  yajl_gen_map_open (g);
  gen_cpu (g, dirfd);
  gen_memory (g, dirfd);
  gen_pids (g, dirfd);
  gen_blkio (g, dirfd);
  gen_hugetlb (g, dirfd);
  yajl_gen_map_close (g);
  return 0;
}

uint64_t
crt_cgroup_oom_kills (int cgroup_dirfd)
{
  cleanup_free char *events = read_text (cgroup_dirfd, "memory.events");
  return events ? flat_get (events, "oom_kill") : 0;
}
