/* update: change a live container's resources (runc's flags, or a
 * linux.resources JSON) in its cgroup. */
#include "config.h"
#include "cgroup_ops.h"
#include "../cgroup/cgroup.h"
#include "../cgroup/resources.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "-1", or a size like Docker's: 512, 64k, 1.5g, 2GiB (powers of 1024). */
static int
parse_size (const char *flag, const char *s, int64_t *out, crt_error **err)
{
  static const char units[] = "kmgtp";
  char *end;
  double v;
  const char *u;

  if (strcmp (s, "-1") == 0)
    {
      *out = -1;
      return 0;
    }
  errno = 0;
  v = strtod (s, &end);
  if (errno != 0 || end == s || !isdigit ((unsigned char) s[0]) || !isfinite (v))
    return crt_error_set (err, 0, "--%s: invalid size `%s`", flag, s);
  if (*end == ' ')
    end++;
  if (*end && (u = strchr (units, tolower ((unsigned char) *end))) != NULL)
    {
      for (const char *k = units; k <= u; k++)
        v *= 1024;
      end++;
      if (*end == 'i' || *end == 'I')
        end++;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v >= 9.2e18)
    return crt_error_set (err, 0, "--%s: invalid size `%s`", flag, s);
  *out = (int64_t) v;
  return 0;
}

static int
parse_i64 (const char *flag, const char *s, int64_t *out, crt_error **err)
{
  char *end;
  errno = 0;
  *out = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return crt_error_set (err, 0, "--%s: invalid number `%s`", flag, s);
  return 0;
}

static int
parse_u64 (const char *flag, const char *s, uint64_t max, uint64_t *out, crt_error **err)
{
  char *end;
  errno = 0;
  *out = strtoull (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || *out > max)
    return crt_error_set (err, 0, "--%s: invalid number `%s`", flag, s);
  return 0;
}

static crt_memory *
memory_of (crt_resources *r)
{
  if (r->memory == NULL)
    r->memory = crt_xmalloc0 (sizeof (*r->memory));
  return r->memory;
}

static crt_cpu *
cpu_of (crt_resources *r)
{
  if (r->cpu == NULL)
    r->cpu = crt_xmalloc0 (sizeof (*r->cpu));
  return r->cpu;
}

static int
set_size (const char *flag, const char *s, crt_opt_i64 *field, crt_error **err)
{
  if (parse_size (flag, s, &field->value, err) < 0)
    return -1;
  field->set = true;
  return 0;
}

static void
set_string (char **field, const char *s)
{
  free (*field);
  *field = crt_xstrdup (s);
}

/* The flags win over the JSON, as in runc. */
static int
apply_flags (const crt_update_options *o, crt_resources *r, crt_error **err)
{
  uint64_t u;

  if ((o->memory && set_size ("memory", o->memory, &memory_of (r)->limit, err) < 0)
      || (o->memory_reservation
          && set_size ("memory-reservation", o->memory_reservation,
                       &memory_of (r)->reservation, err) < 0)
      || (o->memory_swap && set_size ("memory-swap", o->memory_swap, &memory_of (r)->swap, err) < 0))
    return -1;
  if (o->cpu_shares)
    {
      if (parse_u64 ("cpu-shares", o->cpu_shares, UINT64_MAX, &u, err) < 0)
        return -1;
      cpu_of (r)->shares = (crt_opt_u64){ true, u };
    }
  if (o->cpu_quota)
    {
      if (parse_i64 ("cpu-quota", o->cpu_quota, &cpu_of (r)->quota.value, err) < 0)
        return -1;
      r->cpu->quota.set = true;
    }
  if (o->cpu_period)
    {
      if (parse_u64 ("cpu-period", o->cpu_period, UINT64_MAX, &u, err) < 0)
        return -1;
      cpu_of (r)->period = (crt_opt_u64){ true, u };
    }
  if (o->cpuset_cpus)
    set_string (&cpu_of (r)->cpus, o->cpuset_cpus);
  if (o->cpuset_mems)
    set_string (&cpu_of (r)->mems, o->cpuset_mems);
  if (o->pids_limit)
    {
      if (parse_i64 ("pids-limit", o->pids_limit, &r->pids_limit.value, err) < 0)
        return -1;
      r->pids_limit.set = r->has_pids = true;
    }
  if (o->blkio_weight)
    {
      if (parse_u64 ("blkio-weight", o->blkio_weight, UINT16_MAX, &u, err) < 0)
        return -1;
      if (r->block_io == NULL)
        r->block_io = crt_xmalloc0 (sizeof (*r->block_io));
      r->block_io->weight = (crt_opt_u32){ true, (uint32_t) u };
    }
  return 0;
}

static void
resources_freep (crt_resources **r)
{
  crt_resources_free (*r);
}

int
crt_container_update (crt_context *ctx, const char *id, const crt_update_options *opts,
                      crt_error **err)
{
  cleanup_close int dirfd = -1, cgroup_fd = -1;
  cleanup_state_record crt_state_record rec = { 0 };
  __attribute__ ((cleanup (resources_freep))) crt_resources *r = NULL;
  cleanup_free char *path = NULL;
  const char *mnt;

  if (crt_resources_parse (opts->resources_json ? opts->resources_json : "{}",
                           opts->resources_origin ? opts->resources_origin : "--resources", &r,
                           err) < 0
      || apply_flags (opts, r, err) < 0)
    return -1;
  if (crt_open_container_cgroup (ctx, id, true, &dirfd, &rec, err) < 0)
    return -1;
  if (crt_state_status (dirfd, &rec) == CRT_STATUS_STOPPED)
    return crt_error_set (err, 0, "container `%s` is not running", id);
  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  path = crt_fmt ("%s%s", mnt, rec.cgroup_path);
  cgroup_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0)
    return crt_error_errno (err, "open cgroup `%s`", rec.cgroup_path);
  return crt_cgroup_update_resources (cgroup_fd, r, err);
}
