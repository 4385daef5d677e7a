/* config.json "linux.resources" (also `crt update --resources`). */
#include "config.h"
#include "spec.h"
#include "parse.h"

#include <string.h>

/* type 'a' stands for "all" when absent; access is a subset of "rwm". */
static int
check_device_cgroup (jctx *c, yajl_val v, void *base)
{
  crt_device_cgroup *d = base;

  if (d->type == '\0')
    d->type = 'a';
  if (d->access && strspn (d->access, "rwm") != strlen (d->access))
    return jctx_fail_at (c, "access", "expected a combination of \"r\", \"w\" and \"m\", got \"%s\"",
                         d->access);
  return 0;
}

static const jfield device_cgroup_fields[] = {
  JF (crt_device_cgroup, "allow", J_BOOL, allow, .required = true),
  JF (crt_device_cgroup, "type", J_CHAR, type, .chars = "acb", .noun = "device type"),
  JF (crt_device_cgroup, "major", J_OPT_I64, major),
  JF (crt_device_cgroup, "minor", J_OPT_I64, minor),
  JF (crt_device_cgroup, "access", J_STR, access),
  JEND,
};
static const jtype device_cgroup_type = { device_cgroup_fields, sizeof (crt_device_cgroup),
                                          check_device_cgroup };

static const jfield memory_fields[] = {
  JF (crt_memory, "limit", J_OPT_I64, limit),
  JF (crt_memory, "reservation", J_OPT_I64, reservation),
  JF (crt_memory, "swap", J_OPT_I64, swap),
  JF (crt_memory, "kernel", J_OPT_I64, kernel),
  JF (crt_memory, "kernelTCP", J_OPT_I64, kernel_tcp),
  JF (crt_memory, "swappiness", J_OPT_U64, swappiness),
  JF (crt_memory, "disableOOMKiller", J_OPT_BOOL, disable_oom_killer),
  JF (crt_memory, "useHierarchy", J_OPT_BOOL, use_hierarchy),
  JF (crt_memory, "checkBeforeUpdate", J_OPT_BOOL, check_before_update),
  JEND,
};
static const jtype memory_type = { memory_fields, sizeof (crt_memory), NULL };

static const jfield cpu_fields[] = {
  JF (crt_cpu, "shares", J_OPT_U64, shares),
  JF (crt_cpu, "quota", J_OPT_I64, quota),
  JF (crt_cpu, "burst", J_OPT_U64, burst),
  JF (crt_cpu, "period", J_OPT_U64, period),
  JF (crt_cpu, "realtimeRuntime", J_OPT_I64, realtime_runtime),
  JF (crt_cpu, "realtimePeriod", J_OPT_U64, realtime_period),
  JF (crt_cpu, "cpus", J_STR, cpus),
  JF (crt_cpu, "mems", J_STR, mems),
  JF (crt_cpu, "idle", J_OPT_I64, idle),
  JEND,
};
static const jtype cpu_type = { cpu_fields, sizeof (crt_cpu), NULL };

/* pids {limit} lands in flat members of crt_resources. */
static const jfield pids_fields[] = {
  JF (crt_resources, "limit", J_OPT_I64, pids_limit),
  JEND,
};
static const jtype pids_type = { pids_fields, sizeof (crt_resources), NULL };

static int
check_weight_device (jctx *c, yajl_val v, void *base)
{
  crt_weight_device *w = base;

  if (!w->weight.set && !w->leaf_weight.set)
    return jctx_fail (c, "needs at least one of weight and leafWeight");
  return 0;
}

static const jfield weight_device_fields[] = {
  JF (crt_weight_device, "major", J_I64, major, .required = true),
  JF (crt_weight_device, "minor", J_I64, minor, .required = true),
  JF (crt_weight_device, "weight", J_OPT_U16, weight),
  JF (crt_weight_device, "leafWeight", J_OPT_U16, leaf_weight),
  JEND,
};
static const jtype weight_device_type = { weight_device_fields, sizeof (crt_weight_device),
                                          check_weight_device };

static const jfield throttle_device_fields[] = {
  JF (crt_throttle_device, "major", J_I64, major, .required = true),
  JF (crt_throttle_device, "minor", J_I64, minor, .required = true),
  JF (crt_throttle_device, "rate", J_U64, rate, .required = true),
  JEND,
};
static const jtype throttle_device_type = { throttle_device_fields,
                                            sizeof (crt_throttle_device), NULL };

#define THROTTLE(k, m) JL (crt_block_io, k, J_ARRAY, m, .type = &throttle_device_type)
static const jfield block_io_fields[] = {
  JF (crt_block_io, "weight", J_OPT_U16, weight),
  JF (crt_block_io, "leafWeight", J_OPT_U16, leaf_weight),
  JL (crt_block_io, "weightDevice", J_ARRAY, weight_device, .type = &weight_device_type),
  THROTTLE ("throttleReadBpsDevice", throttle_read_bps),
  THROTTLE ("throttleWriteBpsDevice", throttle_write_bps),
  THROTTLE ("throttleReadIOPSDevice", throttle_read_iops),
  THROTTLE ("throttleWriteIOPSDevice", throttle_write_iops),
  JEND,
};
static const jtype block_io_type = { block_io_fields, sizeof (crt_block_io), NULL };

static const jfield hugepage_limit_fields[] = {
  JF (crt_hugepage_limit, "pageSize", J_STR, page_size, .required = true),
  JF (crt_hugepage_limit, "limit", J_U64, limit, .required = true),
  JEND,
};
static const jtype hugepage_limit_type = { hugepage_limit_fields, sizeof (crt_hugepage_limit),
                                           NULL };

static const jfield interface_priority_fields[] = {
  JF (crt_interface_priority, "name", J_STR, name, .required = true),
  JF (crt_interface_priority, "priority", J_U32, priority, .required = true),
  JEND,
};
static const jtype interface_priority_type = { interface_priority_fields,
                                               sizeof (crt_interface_priority), NULL };

static const jfield network_fields[] = {
  JF (crt_network, "classID", J_OPT_U32, class_id),
  JL (crt_network, "priorities", J_ARRAY, priorities, .type = &interface_priority_type),
  JEND,
};
static const jtype network_type = { network_fields, sizeof (crt_network), NULL };

static int
check_rdma (jctx *c, yajl_val v, void *base)
{
  crt_rdma *r = base;

  if (!r->hca_handles.set && !r->hca_objects.set)
    return jctx_fail (c, "needs at least one of hcaHandles and hcaObjects");
  return 0;
}

static const jfield rdma_fields[] = {
  JF (crt_rdma, "hcaHandles", J_OPT_U32, hca_handles),
  JF (crt_rdma, "hcaObjects", J_OPT_U32, hca_objects),
  JEND,
};
static const jtype rdma_type = { rdma_fields, sizeof (crt_rdma), check_rdma };

static const jfield resources_fields[] = {
  JL (crt_resources, "devices", J_ARRAY, devices, .type = &device_cgroup_type),
  JF (crt_resources, "memory", J_OBJ, memory, .type = &memory_type),
  JF (crt_resources, "cpu", J_OBJ, cpu, .type = &cpu_type),
  JF (crt_resources, "pids", J_INLINE, pids_limit, .type = &pids_type, .track = true,
      .has_off = offsetof (crt_resources, has_pids)),
  JF (crt_resources, "blockIO", J_OBJ, block_io, .type = &block_io_type),
  JL (crt_resources, "hugepageLimits", J_ARRAY, hugepage_limits, .type = &hugepage_limit_type),
  JF (crt_resources, "network", J_OBJ, network, .type = &network_type),
  JL (crt_resources, "rdma", J_MAP_OBJ, rdma, .type = &rdma_type,
      .key_off = offsetof (crt_rdma, device)),
  JL (crt_resources, "unified", J_MAP_STR, unified),
  JEND,
};
const jtype crt_jt_resources = { resources_fields, sizeof (crt_resources), NULL };
