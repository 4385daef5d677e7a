/* linux.resources, the rest: blockIO (io.weight / io.bfq.weight, io.max),
 * hugepageLimits, rdma, network (refused: v1 only) and unified. */
#include "config.h"
#include "resources.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t
cg_blkio_to_io_weight (uint32_t w)
{
  return 1 + ((uint64_t) w - 10) * 9999 / 990;
}

static int
check_weight (uint32_t w, const char *field, crt_error **err)
{
  if (w < 10 || w > 1000)
    return crt_error_set (err, 0, "blockIO.%s: %" PRIu32 " is outside 10..1000", field, w);
  return 0;
}

static int
check_device (int64_t major, int64_t minor, const char *field, crt_error **err)
{
  if (major < 0 || major > UINT32_MAX || minor < 0 || minor > UINT32_MAX)
    return crt_error_set (err, 0, "blockIO.%s: bad device %" PRId64 ":%" PRId64, field, major,
                          minor);
  return 0;
}

static int
apply_weights (const cg_target *t, const crt_block_io *b, crt_error **err)
{
  /* BFQ takes the spec's scale directly; without it io.weight is used. */
  bool bfq = faccessat (t->dirfd, "io.bfq.weight", F_OK, 0) == 0;
  const char *file = bfq ? "io.bfq.weight" : "io.weight";

  if (b->weight.set && b->weight.value != 0)
    {
      cleanup_free char *v = NULL;
      if (check_weight (b->weight.value, "weight", err) < 0)
        return -1;
      v = bfq ? crt_fmt ("%" PRIu32, b->weight.value)
              : crt_fmt ("default %" PRIu64, cg_blkio_to_io_weight (b->weight.value));
      if (cg_write (t->dirfd, file, v, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const crt_weight_device *d = &b->weight_device[i];
      cleanup_free char *v = NULL;
      if (d->leaf_weight.set && d->leaf_weight.value != 0)
        return crt_error_set (err, 0, "blockIO.weightDevice[%zu].leafWeight: not supported on "
                                      "cgroup v2", i);
      if (!d->weight.set || d->weight.value == 0)
        continue;
      if (check_device (d->major, d->minor, "weightDevice", err) < 0
          || check_weight (d->weight.value, "weightDevice.weight", err) < 0)
        return -1;
      v = bfq ? crt_fmt ("%" PRId64 ":%" PRId64 " %" PRIu32, d->major, d->minor, d->weight.value)
              : crt_fmt ("%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                         cg_blkio_to_io_weight (d->weight.value));
      if (cg_write (t->dirfd, file, v, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_throttle (const cg_target *t, const crt_throttle_device *d, size_t n, const char *key,
                const char *field, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *v = NULL;
      if (check_device (d[i].major, d[i].minor, field, err) < 0)
        return -1;
      /* A rate of 0 lifts the limit, as it did on v1. */
      v = d[i].rate == 0 ? crt_fmt ("%" PRId64 ":%" PRId64 " %s=max", d[i].major, d[i].minor, key)
                         : crt_fmt ("%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major,
                                    d[i].minor, key, d[i].rate);
      if (cg_write (t->dirfd, "io.max", v, err) < 0)
        return -1;
    }
  return 0;
}

int
cg_apply_block_io (const cg_target *t, const crt_block_io *b, crt_error **err)
{
  bool weights = (b->weight.set && b->weight.value != 0) || b->n_weight_device > 0;
  bool throttles = b->n_throttle_read_bps || b->n_throttle_write_bps || b->n_throttle_read_iops
                   || b->n_throttle_write_iops;

  if (b->leaf_weight.set && b->leaf_weight.value != 0)
    return crt_error_set (err, 0, "blockIO.leafWeight: not supported on cgroup v2");
  if (!weights && !throttles)
    return 0;
  if (cg_need (t, "io", err) < 0)
    return -1;
  if (apply_weights (t, b, err) < 0)
    return -1;
  return apply_throttle (t, b->throttle_read_bps, b->n_throttle_read_bps, "rbps",
                         "throttleReadBpsDevice", err) < 0
             || apply_throttle (t, b->throttle_write_bps, b->n_throttle_write_bps, "wbps",
                                "throttleWriteBpsDevice", err) < 0
             || apply_throttle (t, b->throttle_read_iops, b->n_throttle_read_iops, "riops",
                                "throttleReadIOPSDevice", err) < 0
             || apply_throttle (t, b->throttle_write_iops, b->n_throttle_write_iops, "wiops",
                                "throttleWriteIOPSDevice", err) < 0
             ? -1
             : 0;
}

/* Page sizes name files: "2MB", "1GB" and nothing that could leave the cgroup. */
static bool
page_size_ok (const char *s)
{
  if (s == NULL || s[0] == '\0' || strlen (s) > 16)
    return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
      return false;
  return true;
}

int
cg_apply_hugetlb (const cg_target *t, const crt_hugepage_limit *h, size_t n, crt_error **err)
{
  if (n > 0 && cg_need (t, "hugetlb", err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *file = NULL, *rsvd = NULL;
      cleanup_free char *v = crt_fmt ("%" PRIu64, h[i].limit);
      int r;

      if (!page_size_ok (h[i].page_size))
        return crt_error_set (err, 0, "hugepageLimits[%zu].pageSize: bad page size `%s`", i,
                              h[i].page_size ? h[i].page_size : "");
      file = crt_fmt ("hugetlb.%s.max", h[i].page_size);
      rsvd = crt_fmt ("hugetlb.%s.rsvd.max", h[i].page_size);
      r = cg_write_if_exists (t->dirfd, file, v, err);
      if (r == -ENOENT)
        return crt_error_set (err, 0,
                              "hugepageLimits[%zu]: the kernel has no %s huge pages (no `%s`)", i,
                              h[i].page_size, file);
      if (r < 0)
        return -1;
      /* Reservations count too where the kernel tracks them (5.7+). */
      r = cg_write_if_exists (t->dirfd, rsvd, v, err);
      if (r < 0 && r != -ENOENT)
        return -1;
    }
  return 0;
}

static bool
rdma_device_ok (const char *s)
{
  if (s == NULL || s[0] == '\0')
    return false;
  for (const char *c = s; *c; c++)
    if (*c <= ' ' || *c == '=' || *c == '/')
      return false;
  return true;
}

int
cg_apply_rdma (const cg_target *t, const crt_rdma *r, size_t n, crt_error **err)
{
  if (n > 0 && cg_need (t, "rdma", err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *line = NULL;
      if (!rdma_device_ok (r[i].device))
        return crt_error_set (err, 0, "rdma: bad device name `%s`",
                              r[i].device ? r[i].device : "");
      if (!r[i].hca_handles.set && !r[i].hca_objects.set)
        continue;
      line = crt_fmt ("%s", r[i].device);
      if (r[i].hca_handles.set)
        {
          char *more = crt_fmt ("%s hca_handle=%" PRIu32, line, r[i].hca_handles.value);
          free (line);
          line = more;
        }
      if (r[i].hca_objects.set)
        {
          char *more = crt_fmt ("%s hca_object=%" PRIu32, line, r[i].hca_objects.value);
          free (line);
          line = more;
        }
      if (cg_write (t->dirfd, "rdma.max", line, err) < 0)
        return -1;
    }
  return 0;
}

int
cg_apply_network (const crt_network *net, crt_error **err)
{
  if (net->class_id.set || net->n_priorities > 0)
    return crt_error_set (err, 0, "network: classID and priorities need the net_cls and net_prio "
                                  "controllers, which cgroup v2 does not have");
  return 0;
}

/* A unified key names one file of this cgroup: "<controller>.<file>"
 * with an available controller, or a "cgroup.*" core file. */
static int
check_unified_key (const cg_target *t, const char *key, crt_error **err)
{
  cleanup_free char *controller = NULL;
  const char *dot = key ? strchr (key, '.') : NULL;

  if (key == NULL || dot == NULL || dot == key || dot[1] == '\0' || strchr (key, '/') != NULL)
    return crt_error_set (err, 0, "unified: bad key `%s`: want <controller>.<file>",
                          key ? key : "");
  controller = strndup (key, (size_t) (dot - key));
  if (controller == NULL)
    return crt_error_errno (err, "unified");
  if (strcmp (controller, "cgroup") == 0)
    return 0;
  if (cg_need (t, controller, err) < 0)
    return crt_error_prefix (err, "unified: key `%s`", key);
  return 0;
}

int
cg_apply_unified (const cg_target *t, const crt_kv *kv, size_t n, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      int r;
      if (check_unified_key (t, kv[i].key, err) < 0)
        return -1;
      r = cg_write_if_exists (t->dirfd, kv[i].key, kv[i].value ? kv[i].value : "", err);
      if (r == -ENOENT)
        return crt_error_set (err, ENOENT, "unified: key `%s`: no such cgroup file", kv[i].key);
      if (r < 0)
        return crt_error_prefix (err, "unified");
    }
  return 0;
}
