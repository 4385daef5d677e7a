/* update: change a live container's resources (runc's flags, or a
 * linux.resources JSON) in its cgroup, then record them in the state
 * directory's copy of config.json, which later commands read. */
#include "config.h"
#include "cgroup_ops.h"
#include "../cgroup/cgroup.h"
#include "../cgroup/resources.h"
#include "systemd_scope.h"
#include "../spec/json.h"
#include "../util/json_gen.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
parse_size (const char *flag, const char *s, int64_t *out, crt_error **err)
{
  if (crt_parse_size (s, out) < 0)
    return crt_error_set (err, 0, "--%s: invalid size `%s`", flag, s);
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

/* ---- recording what was applied in the stored config.json ---- */

static void
tree_freep (yajl_val *v)
{
  yajl_tree_free (*v);
}
#define cleanup_tree __attribute__ ((cleanup (tree_freep)))

static void
gen_key_num (yajl_gen g, const char *key, const char *number)
{
  crt_gen_str (g, key);
  yajl_gen_number (g, number, strlen (number));
}

static void
gen_key_i64 (yajl_gen g, const char *key, int64_t v)
{
  cleanup_free char *n = crt_fmt ("%" PRId64, v);
  gen_key_num (g, key, n);
}

static void
gen_key_u64 (yajl_gen g, const char *key, uint64_t v)
{
  cleanup_free char *n = crt_fmt ("%" PRIu64, v);
  gen_key_num (g, key, n);
}

/* The flags' values as a linux.resources JSON object, to merge after the
 * --resources one (the flags win, as when they were applied). */
static char *
flags_as_json (const crt_update_options *o, const crt_resources *r)
{
  yajl_gen g = crt_gen_new (NULL);

  yajl_gen_map_open (g);
  if (o->memory || o->memory_reservation || o->memory_swap)
    {
      crt_gen_str (g, "memory");
      yajl_gen_map_open (g);
      if (o->memory)
        gen_key_i64 (g, "limit", r->memory->limit.value);
      if (o->memory_reservation)
        gen_key_i64 (g, "reservation", r->memory->reservation.value);
      if (o->memory_swap)
        gen_key_i64 (g, "swap", r->memory->swap.value);
      yajl_gen_map_close (g);
    }
  if (o->cpu_shares || o->cpu_quota || o->cpu_period || o->cpuset_cpus || o->cpuset_mems)
    {
      crt_gen_str (g, "cpu");
      yajl_gen_map_open (g);
      if (o->cpu_shares)
        gen_key_u64 (g, "shares", r->cpu->shares.value);
      if (o->cpu_quota)
        gen_key_i64 (g, "quota", r->cpu->quota.value);
      if (o->cpu_period)
        gen_key_u64 (g, "period", r->cpu->period.value);
      if (o->cpuset_cpus)
        crt_gen_key_str (g, "cpus", r->cpu->cpus);
      if (o->cpuset_mems)
        crt_gen_key_str (g, "mems", r->cpu->mems);
      yajl_gen_map_close (g);
    }
  if (o->pids_limit)
    {
      crt_gen_str (g, "pids");
      yajl_gen_map_open (g);
      gen_key_i64 (g, "limit", r->pids_limit.value);
      yajl_gen_map_close (g);
    }
  if (o->blkio_weight)
    {
      crt_gen_str (g, "blockIO");
      yajl_gen_map_open (g);
      gen_key_u64 (g, "weight", r->block_io->weight.value);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
  return crt_gen_finish (g);
}

static yajl_val
new_object (void)
{
  yajl_val v = crt_xmalloc0 (sizeof (*v));
  v->type = yajl_t_object;
  return v;
}

/* The slot of key in object o that the parser reads (jmember); with add,
 * when it has none, its last null occurrence or else a new empty slot. */
static yajl_val *
object_slot (yajl_val o, const char *key, bool add)
{
  size_t n = o->u.object.len;
  yajl_val *slot = jmember (o, key);

  if (slot != NULL || !add)
    return slot;
  for (size_t i = n; i-- > 0;)
    if (strcmp (o->u.object.keys[i], key) == 0)
      return &o->u.object.values[i];
  o->u.object.keys = crt_xreallocarray (o->u.object.keys, n + 1, sizeof (*o->u.object.keys));
  o->u.object.values = crt_xreallocarray (o->u.object.values, n + 1,
                                          sizeof (*o->u.object.values));
  o->u.object.keys[n] = crt_xstrdup (key);
  o->u.object.values[n] = NULL;
  o->u.object.len = n + 1;
  return &o->u.object.values[n];
}

/* Arrays whose entries stand for one thing each (a page size, a block
 * device): an update changes the entries it names and keeps the others,
 * as the kernel does with the files they become. */
static const char *const *
entry_identity (const char *key)
{
  static const char *const page_size[] = { "pageSize", NULL };
  static const char *const device[] = { "major", "minor", NULL };
  static const char *const name[] = { "name", NULL };

  if (strcmp (key, "hugepageLimits") == 0)
    return page_size;
  if (strcmp (key, "weightDevice") == 0 || strcmp (key, "throttleReadBpsDevice") == 0
      || strcmp (key, "throttleWriteBpsDevice") == 0
      || strcmp (key, "throttleReadIOPSDevice") == 0
      || strcmp (key, "throttleWriteIOPSDevice") == 0)
    return device;
  if (strcmp (key, "priorities") == 0)
    return name;
  return NULL;
}

static bool
same_scalar (yajl_val a, yajl_val b)
{
  if (a == NULL || b == NULL || a->type != b->type)
    return false;
  if (YAJL_IS_STRING (a))
    return strcmp (a->u.string, b->u.string) == 0;
  if (YAJL_IS_INTEGER (a) && YAJL_IS_INTEGER (b))
    return a->u.number.i == b->u.number.i;
  return false;
}

static bool
same_entry (yajl_val a, yajl_val b, const char *const *identity)
{
  if (!YAJL_IS_OBJECT (a) || !YAJL_IS_OBJECT (b))
    return false;
  for (; *identity; identity++)
    {
      yajl_val *x = object_slot (a, *identity, false), *y = object_slot (b, *identity, false);
      if (x == NULL || y == NULL || !same_scalar (*x, *y))
        return false;
    }
  return true;
}

static void merge_value (yajl_val *dst, yajl_val *src, const char *key);

/* Whether src under key changes anything: a null sets nothing, and an
 * empty device list keeps the rules in force, as the update itself does. */
static bool
sets_something (yajl_val src, const char *key)
{
  if (src == NULL || YAJL_IS_NULL (src))
    return false;
  return !(key && strcmp (key, "devices") == 0 && YAJL_IS_ARRAY (src) && src->u.array.len == 0);
}

static void
merge_object (yajl_val dst, yajl_val src)
{
  for (size_t i = 0; i < src->u.object.len; i++)
    {
      const char *key = src->u.object.keys[i];
      if (sets_something (src->u.object.values[i], key))
        merge_value (object_slot (dst, key, true), &src->u.object.values[i], key);
    }
}

static void
merge_entries (yajl_val dst, yajl_val src, const char *const *identity)
{
  for (size_t i = 0; i < src->u.array.len; i++)
    {
      yajl_val *slot = NULL;
      size_t n = dst->u.array.len;

      if (!sets_something (src->u.array.values[i], NULL))
        continue;
      for (size_t j = 0; j < n && slot == NULL; j++)
        if (same_entry (dst->u.array.values[j], src->u.array.values[i], identity))
          slot = &dst->u.array.values[j];
      if (slot == NULL)
        {
          dst->u.array.values = crt_xreallocarray (dst->u.array.values, n + 1,
                                                   sizeof (*dst->u.array.values));
          dst->u.array.values[n] = NULL;
          dst->u.array.len = n + 1;
          slot = &dst->u.array.values[n];
        }
      merge_value (slot, &src->u.array.values[i], NULL);
    }
}

/* Merge *src into *dst, moving src's nodes over: objects key by key,
 * identified entries one by one, anything else replaced. */
static void
merge_value (yajl_val *dst, yajl_val *src, const char *key)
{
  const char *const *identity = key ? entry_identity (key) : NULL;

  if (*dst != NULL && YAJL_IS_OBJECT (*dst) && YAJL_IS_OBJECT (*src))
    {
      merge_object (*dst, *src);
      return;
    }
  if (*dst != NULL && YAJL_IS_ARRAY (*dst) && YAJL_IS_ARRAY (*src) && identity)
    {
      merge_entries (*dst, *src, identity);
      return;
    }
  yajl_tree_free (*dst);
  *dst = *src;
  *src = NULL;
}

/* Merge the resources JSON text into the record's linux.resources. */
static int
merge_resources_text (yajl_val resources, const char *text, const char *origin,
                      crt_error **err)
{
  cleanup_tree yajl_val patch = NULL;

  if (jparse_text (text, strlen (text), origin, &patch, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (patch))
    return crt_error_set (err, 0, "%s: not a JSON object", origin);
  merge_object (resources, patch);
  return 0;
}

/* The state directory's config.json, with linux.resources now carrying
 * what this update applied; replaced by rename so readers see either
 * the old or the new file. The caller holds the state lock. */
static int
record_resources (int dirfd, const crt_update_options *o, const crt_resources *r,
                  crt_error **err)
{
  static const char tmp_name[] = CRT_CONFIG_COPY ".update";
  cleanup_free char *text = NULL, *flags = NULL, *out = NULL;
  cleanup_tree yajl_val config = NULL;
  cleanup_close int fd = -1;
  yajl_val *linux_slot, *resources_slot;
  yajl_gen g;

  if (crt_read_file_at (dirfd, CRT_CONFIG_COPY, &text, NULL, err) < 0
      || jparse_text (text, strlen (text), CRT_CONFIG_COPY, &config, err) < 0)
    return -1;
  if (!YAJL_IS_OBJECT (config))
    return crt_error_set (err, 0, "%s: not a JSON object", CRT_CONFIG_COPY);
  linux_slot = object_slot (config, "linux", true);
  if (*linux_slot == NULL)
    *linux_slot = new_object ();
  if (!YAJL_IS_OBJECT (*linux_slot))
    return crt_error_set (err, 0, "%s: linux: not a JSON object", CRT_CONFIG_COPY);
  resources_slot = object_slot (*linux_slot, "resources", true);
  if (*resources_slot == NULL || YAJL_IS_NULL (*resources_slot))
    {
      yajl_tree_free (*resources_slot);
      *resources_slot = new_object ();
    }
  if (!YAJL_IS_OBJECT (*resources_slot))
    return crt_error_set (err, 0, "%s: linux.resources: not a JSON object", CRT_CONFIG_COPY);

  flags = flags_as_json (o, r);
  if ((o->resources_json
       && merge_resources_text (*resources_slot, o->resources_json,
                                o->resources_origin ? o->resources_origin : "--resources", err)
              < 0)
      || merge_resources_text (*resources_slot, flags, "update flags", err) < 0)
    return -1;

  g = crt_gen_new (NULL);
  crt_gen_value (g, config);
  out = crt_gen_finish (g);

  fd = openat (dirfd, tmp_name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return crt_error_errno (err, "open `%s`", tmp_name);
  if (crt_write_all (fd, out, strlen (out)) < 0 || fsync (fd) < 0
      || renameat (dirfd, tmp_name, dirfd, CRT_CONFIG_COPY) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp_name, 0);
      return crt_error_set (err, saved, "write `%s`", CRT_CONFIG_COPY);
    }
  return 0;
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
  /* systemd's properties first: they may round the CPU quota. */
  if (crt_scope_update (dirfd, cgroup_fd, r, ctx->rootless, err) < 0
      || crt_cgroup_update_resources (cgroup_fd, r, err) < 0)
    return -1;
  if (record_resources (dirfd, opts, r, err) < 0)
    return crt_error_prefix (err, "the new resources are in force, but recording them failed");
  return 0;
}
