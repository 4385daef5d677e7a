/* linux.resources onto cgroup v2 files: memory, cpu, cpuset and pids
 * here; block I/O, hugetlb, rdma and unified in resources_io.c; device
 * rules as an eBPF program in devices_bpf.c.
 *
 * Conversions follow runc so a config means the same under both:
 * memory.swap is memory+swap (memory.swap.max gets swap - limit), cpu
 * shares map onto cpu.weight, 0 means "not set" for most numbers. Fields
 * cgroup v2 has no file for are ignored as runc does (kernel,
 * kernelTCP, swappiness, disableOOMKiller, useHierarchy) or refused when
 * ignoring them would change what the container gets (realtime, network,
 * leafWeight). */
#include "config.h"
#include "cgroup.h"
#include "devices_bpf.h"
#include "resources.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool
cg_has (const cg_target *t, const char *controller)
{
  size_t len = strlen (controller);
  for (const char *p = t->controllers; (p = strstr (p, controller)) != NULL; p += len)
    if (p[-1] == ' ' && p[len] == ' ')
      return true;
  return false;
}

/* The v1 name of a v2 controller, for /proc/cgroups. */
static const char *
v1_name (const char *controller)
{
  return strcmp (controller, "io") == 0 ? "blkio" : controller;
}

/* Why the cgroup lacks controller: delegation, a v1 binding, or the kernel. */
static const char *
missing_reason (const char *mnt, const char *controller)
{
  cleanup_free char *root_file = crt_fmt ("%s/cgroup.controllers", mnt);
  cleanup_free char *root = NULL;
  cleanup_free char *cgroups = NULL;
  const char *wanted = v1_name (controller);

  if (crt_read_file_at (AT_FDCWD, root_file, &root, NULL, NULL) == 0)
    {
      cleanup_free char *padded = crt_fmt (" %s ", root);
      cg_target root_target = { .controllers = padded };
      for (char *c = padded; *c; c++)
        if (*c == '\n')
          *c = ' ';
      if (cg_has (&root_target, controller))
        return "a parent cgroup does not enable it in its cgroup.subtree_control";
    }
  /* "#subsys_name hierarchy num_cgroups enabled", a line each. */
  if (crt_read_file_at (AT_FDCWD, "/proc/cgroups", &cgroups, NULL, NULL) == 0)
    for (const char *line = cgroups; line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
      {
        size_t len, hierarchy_len, enabled_len;
        const char *name = crt_word (line, 0, &len);
        const char *hierarchy = crt_word (line, 1, &hierarchy_len);
        const char *enabled = crt_word (line, 3, &enabled_len);
        if (name == NULL || enabled == NULL || len != strlen (wanted)
            || strncmp (name, wanted, len) != 0)
          continue;
        if (enabled[0] == '0')
          return "the kernel has it disabled (cgroup_disable=)";
        if (!(hierarchy_len == 1 && hierarchy[0] == '0'))
          return "the host binds it to cgroup v1";
      }
  return "the kernel does not provide it";
}

int
cg_need (const cg_target *t, const char *controller, crt_error **err)
{
  const char *mnt;

  if (cg_has (t, controller))
    return 0;
  if (crt_cgroup_mountpoint (&mnt, err) < 0)
    return -1;
  return crt_error_set (err, 0,
                        "cgroup controller \"%s\" is not available in the cgroup v2 hierarchy "
                        "at %s (%s)",
                        controller, mnt, missing_reason (mnt, controller));
}

int
cg_write_if_exists (int dirfd, const char *name, const char *value, crt_error **err)
{
  /* No O_CREAT: a missing file is a missing feature, never a new file. */
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CLOEXEC);
  size_t len = strlen (value);
  ssize_t n;

  if (fd < 0 && errno == ENOENT)
    return -ENOENT;
  if (fd < 0)
    return crt_error_errno (err, "open cgroup file `%s`", name);
  /* The kernel parses each write(2) on its own: no partial writes. */
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return crt_error_errno (err, "write `%s` to `%s`", value, name);
  if ((size_t) n != len)
    return crt_error_set (err, EIO, "write `%s` to `%s`: short write", value, name);
  return 0;
}

int
cg_write (int dirfd, const char *name, const char *value, crt_error **err)
{
  int r = cg_write_if_exists (dirfd, name, value, err);
  if (r == -ENOENT)
    return crt_error_set (err, ENOENT, "write `%s` to `%s`", value, name);
  return r;
}

char *
cg_num_or_max (int64_t v)
{
  return v < 0 ? crt_xstrdup ("max") : crt_fmt ("%" PRId64, v);
}

/* A cgroup file's first number; "max" is -1. */
static int
read_value (int dirfd, const char *name, int64_t *out, crt_error **err)
{
  cleanup_free char *text = NULL;
  char *end;

  if (crt_read_file_at (dirfd, name, &text, NULL, err) < 0)
    return -1;
  if (crt_str_has_prefix (text, "max"))
    {
      *out = -1;
      return 0;
    }
  errno = 0;
  *out = strtoll (text, &end, 10);
  if (errno != 0 || end == text)
    return crt_error_set (err, 0, "`%s`: unexpected content `%s`", name, text);
  return 0;
}

/* A memory byte count: -1 is unlimited, 0 not set (runc's reading). */
static int
memory_bytes (int64_t v, const char *field, crt_error **err)
{
  if (v < -1)
    return crt_error_set (err, 0, "memory.%s: %" PRId64 " is negative (use -1 for unlimited)",
                          field, v);
  return 0;
}

int
cg_swap_value (int64_t swap, bool swap_set, int64_t limit, int64_t *out, bool *skip,
            crt_error **err)
{
  *skip = false;
  if (!swap_set || swap == 0)
    {
      /* An unlimited memory also lifts the swap limit, as in runc. */
      *out = -1;
      *skip = limit != -1;
      return 0;
    }
  if (swap == -1)
    {
      *out = -1;
      return 0;
    }
  if (swap < -1)
    return crt_error_set (err, 0, "memory.swap: %" PRId64 " is negative (use -1 for unlimited)",
                          swap);
  if (limit <= 0)
    return crt_error_set (err, 0, "memory.swap: a swap limit needs a memory limit");
  if (swap < limit)
    return crt_error_set (err, 0,
                          "memory.swap: %" PRId64 " (memory+swap) is below memory.limit %" PRId64,
                          swap, limit);
  *out = swap - limit;
  return 0;
}

static int
apply_memory (const cg_target *t, const crt_memory *m, crt_error **err)
{
  int64_t limit = m->limit.set ? m->limit.value : 0, swap;
  bool skip_swap;
  int r;

  if (!(m->limit.set && m->limit.value != 0) && !(m->reservation.set && m->reservation.value != 0)
      && !(m->swap.set && m->swap.value != 0))
    return 0;
  if (cg_need (t, "memory", err) < 0)
    return -1;
  if ((m->limit.set && memory_bytes (m->limit.value, "limit", err) < 0)
      || (m->reservation.set && memory_bytes (m->reservation.value, "reservation", err) < 0))
    return -1;
  /* update --memory-swap alone: the swap is relative to the current limit. */
  if (limit == 0 && t->update && m->swap.set && read_value (t->dirfd, "memory.max", &limit, err) < 0)
    return -1;
  if (cg_swap_value (m->swap.value, m->swap.set, limit, &swap, &skip_swap, err) < 0)
    return -1;
  if (!skip_swap)
    {
      cleanup_free char *v = cg_num_or_max (swap);
      r = cg_write_if_exists (t->dirfd, "memory.swap.max", v, err);
      /* No swap accounting: only a real limit needs the file. */
      if (r == -ENOENT && swap > 0)
        return crt_error_set (err, ENOENT,
                              "memory.swap: the kernel has no swap accounting (memory.swap.max)");
      if (r < 0 && r != -ENOENT)
        return -1;
    }
  if (m->limit.set && m->limit.value != 0)
    {
      cleanup_free char *v = cg_num_or_max (m->limit.value);
      if (t->update && m->check_before_update.set && m->check_before_update.value
          && m->limit.value > 0)
        {
          int64_t usage;
          if (read_value (t->dirfd, "memory.current", &usage, err) < 0)
            return -1;
          if (m->limit.value < usage)
            return crt_error_set (err, 0,
                                  "memory.limit: %" PRId64 " is below the current usage %" PRId64
                                  " (checkBeforeUpdate)",
                                  m->limit.value, usage);
        }
      if (cg_write (t->dirfd, "memory.max", v, err) < 0)
        return -1;
    }
  if (m->reservation.set && m->reservation.value != 0)
    {
      cleanup_free char *v = cg_num_or_max (m->reservation.value);
      if (cg_write (t->dirfd, "memory.low", v, err) < 0)
        return -1;
    }
  return 0;
}

uint64_t
cg_shares_to_weight (uint64_t shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int
apply_cpu_max (const cg_target *t, const crt_cpu *c, crt_error **err)
{
  bool quota = c->quota.set && c->quota.value != 0;
  bool period = c->period.set && c->period.value != 0;
  cleanup_free char *value = NULL;
  cleanup_free char *current = NULL;

  if (!quota && !period)
    return 0;
  if (quota)
    value = cg_num_or_max (c->quota.value);
  else
    {
      /* A new period alone keeps the quota in force (update --cpu-period). */
      if (crt_read_file_at (t->dirfd, "cpu.max", &current, NULL, err) < 0)
        return -1;
      current[strcspn (current, " \n")] = '\0';
      value = crt_steal_ptr (&current);
    }
  if (period)
    {
      char *with_period = crt_fmt ("%s %" PRIu64, value, c->period.value);
      free (value);
      value = with_period;
    }
  /* A lower quota may be refused while the old burst exceeds it: set the
   * burst on both sides of cpu.max. */
  if (c->burst.set)
    {
      cleanup_free char *burst = crt_fmt ("%" PRIu64, c->burst.value);
      cg_write (t->dirfd, "cpu.max.burst", burst, NULL);
    }
  return cg_write (t->dirfd, "cpu.max", value, err);
}

static int
apply_cpu (const cg_target *t, const crt_cpu *c, crt_error **err)
{
  bool idle = c->idle.set && c->idle.value != 0;

  if ((c->realtime_runtime.set && c->realtime_runtime.value != 0)
      || (c->realtime_period.set && c->realtime_period.value != 0))
    return crt_error_set (err, 0, "cpu.realtimeRuntime, cpu.realtimePeriod: real-time CPU "
                                  "bandwidth is not supported on cgroup v2");
  if ((c->shares.set && c->shares.value != 0) || c->idle.set || (c->quota.set && c->quota.value)
      || (c->period.set && c->period.value) || c->burst.set)
    {
      if (cg_need (t, "cpu", err) < 0)
        return -1;
      if (c->idle.set)
        {
          cleanup_free char *v = crt_fmt ("%" PRId64, c->idle.value);
          if (cg_write (t->dirfd, "cpu.idle", v, err) < 0)
            return -1;
        }
      /* An idle group has no weight: the kernel refuses one. */
      if (c->shares.set && c->shares.value != 0 && !idle)
        {
          cleanup_free char *v = crt_fmt ("%" PRIu64, cg_shares_to_weight (c->shares.value));
          if (cg_write (t->dirfd, "cpu.weight", v, err) < 0)
            return -1;
        }
      if (apply_cpu_max (t, c, err) < 0)
        return -1;
      if (c->burst.set)
        {
          cleanup_free char *v = crt_fmt ("%" PRIu64, c->burst.value);
          if (cg_write (t->dirfd, "cpu.max.burst", v, err) < 0)
            return -1;
        }
    }
  if ((c->cpus && c->cpus[0]) || (c->mems && c->mems[0]))
    {
      if (cg_need (t, "cpuset", err) < 0)
        return -1;
      if (c->cpus && c->cpus[0] && cg_write (t->dirfd, "cpuset.cpus", c->cpus, err) < 0)
        return -1;
      if (c->mems && c->mems[0] && cg_write (t->dirfd, "cpuset.mems", c->mems, err) < 0)
        return -1;
    }
  return 0;
}

char *
crt_cgroup_pids_max (int64_t limit)
{
  /* runtime-spec 1.3: -1 (any negative value) is no limit, and 0 "is a
   * valid limit value ... and SHOULD be treated as such": no new task
   * at all. runc up to 1.3 and crt before took 0 as "no limit"; runc 1.4
   * follows the spec, and so does crt. */
  return cg_num_or_max (limit);
}

static int
apply_pids (const cg_target *t, const crt_resources *r, crt_error **err)
{
  cleanup_free char *v = NULL;

  if (!r->has_pids || !r->pids_limit.set)
    return 0;
  /* "No limit" on a new cgroup is what it has already: asking for it
   * needs no pids controller. */
  if (r->pids_limit.value < 0 && !t->update)
    return 0;
  if (cg_need (t, "pids", err) < 0)
    return -1;
  v = crt_cgroup_pids_max (r->pids_limit.value);
  return cg_write (t->dirfd, "pids.max", v, err);
}

static int
apply (int dirfd, const crt_resources *r, bool update, bool rootless, crt_error **err)
{
  cleanup_free char *controllers = NULL;
  cleanup_free char *padded = NULL;
  cg_target t = { .dirfd = dirfd, .update = update };

  if (crt_read_file_at (dirfd, "cgroup.controllers", &controllers, NULL, err) < 0)
    return -1;
  padded = crt_fmt (" %s ", controllers);
  for (char *c = padded; *c; c++)
    if (*c == '\n')
      *c = ' ';
  t.controllers = padded;

  if (r != NULL)
    {
      if ((r->network && cg_apply_network (r->network, err) < 0)
          || (r->memory && apply_memory (&t, r->memory, err) < 0)
          || (r->cpu && apply_cpu (&t, r->cpu, err) < 0)
          || apply_pids (&t, r, err) < 0
          || (r->block_io && cg_apply_block_io (&t, r->block_io, err) < 0)
          || cg_apply_hugetlb (&t, r->hugepage_limits, r->n_hugepage_limits, err) < 0
          || cg_apply_rdma (&t, r->rdma, r->n_rdma, err) < 0
          || cg_apply_unified (&t, r->unified, r->n_unified, err) < 0)
        return -1;
    }
  /* On update, no rules means "keep the program"; at create it means the
   * defaults only (every container gets a device program, as in runc). */
  if (update && (r == NULL || r->n_devices == 0))
    return 0;
  /* Rootless, as runc: no device program (attaching one needs
   * CAP_SYS_ADMIN on the host); the user namespace already refuses
   * mknod, and a bound host node keeps the host's permissions. */
  if (rootless)
    return 0;
  if (crt_devices_bpf_apply (dirfd, r ? r->devices : NULL, r ? r->n_devices : 0, err) < 0)
    return crt_error_prefix (err, "devices");
  return 0;
}

int
crt_cgroup_apply_resources (int dirfd, const crt_resources *r, bool rootless, crt_error **err)
{
  return apply (dirfd, r, false, rootless, err);
}

const char *
crt_resources_first_limit (const crt_resources *r)
{
  if (r == NULL)
    return NULL;
  if (r->memory)
    return "linux.resources.memory";
  if (r->cpu)
    return "linux.resources.cpu";
  if (r->has_pids)
    return "linux.resources.pids";
  if (r->block_io)
    return "linux.resources.blockIO";
  if (r->n_hugepage_limits)
    return "linux.resources.hugepageLimits";
  if (r->network)
    return "linux.resources.network";
  if (r->n_rdma)
    return "linux.resources.rdma";
  if (r->n_unified)
    return "linux.resources.unified";
  return NULL;
}

int
crt_cgroup_update_resources (int dirfd, const crt_resources *r, crt_error **err)
{
  return apply (dirfd, r, true, false, err);
}
