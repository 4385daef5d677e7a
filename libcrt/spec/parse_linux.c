/* config.json "linux" (resources and seccomp have their own files). */
#include "config.h"
#include "spec.h"
#include "names.h"
#include "parse.h"

static const jfield id_mapping_fields[] = {
  JF (crt_id_mapping, "containerID", J_U32, container_id, .required = true),
  JF (crt_id_mapping, "hostID", J_U32, host_id, .required = true),
  JF (crt_id_mapping, "size", J_U32, size, .required = true),
  JEND,
};
const jtype crt_jt_id_mapping = { id_mapping_fields, sizeof (crt_id_mapping), NULL };

static const jfield namespace_fields[] = {
  JF (crt_namespace, "type", J_ENUM, type, .required = true,
      .names = crt_ns_type_names, .noun = "namespace"),
  JF (crt_namespace, "path", J_STR, path),
  JEND,
};
static const jtype namespace_type = { namespace_fields, sizeof (crt_namespace), NULL };

/* major and minor are REQUIRED unless the device is a FIFO. */
static int
check_device (jctx *c, yajl_val v, void *base)
{
  crt_device *d = base;

  if (d->type == 'p')
    return 0;
  if (!jhas (v, "major"))
    return jctx_fail_at (c, "major", "required field is missing");
  if (!jhas (v, "minor"))
    return jctx_fail_at (c, "minor", "required field is missing");
  return 0;
}

static const jfield device_fields[] = {
  JF (crt_device, "path", J_STR, path, .required = true),
  JF (crt_device, "type", J_CHAR, type, .required = true, .chars = "cbup",
      .noun = "device type"),
  JF (crt_device, "major", J_I64, major),
  JF (crt_device, "minor", J_I64, minor),
  JF (crt_device, "fileMode", J_OPT_U32, file_mode),
  JF (crt_device, "uid", J_OPT_U32, uid),
  JF (crt_device, "gid", J_OPT_U32, gid),
  JEND,
};
static const jtype device_type = { device_fields, sizeof (crt_device), check_device };

static const jfield net_device_fields[] = {
  JF (crt_net_device, "name", J_STR, name),
  JEND,
};
static const jtype net_device_type = { net_device_fields, sizeof (crt_net_device), NULL };

static const jfield intel_rdt_fields[] = {
  JF (crt_intel_rdt, "closID", J_STR, clos_id),
  JL (crt_intel_rdt, "schemata", J_STRV, schemata),
  JF (crt_intel_rdt, "l3CacheSchema", J_STR, l3_cache_schema),
  JF (crt_intel_rdt, "memBwSchema", J_STR, mem_bw_schema),
  JF (crt_intel_rdt, "enableMonitoring", J_BOOL, enable_monitoring),
  JEND,
};
static const jtype intel_rdt_type = { intel_rdt_fields, sizeof (crt_intel_rdt), NULL };

static const jfield memory_policy_fields[] = {
  JF (crt_memory_policy, "mode", J_STR, mode, .required = true,
      .names = crt_mempolicy_mode_names, .noun = "memory policy mode"),
  JF (crt_memory_policy, "nodes", J_STR, nodes),
  JL (crt_memory_policy, "flags", J_STRV, flags, .names = crt_mempolicy_flag_names,
      .noun = "memory policy flag"),
  JEND,
};
static const jtype memory_policy_type = { memory_policy_fields, sizeof (crt_memory_policy),
                                          NULL };

static const jfield personality_fields[] = {
  JF (crt_personality, "domain", J_STR, domain, .required = true,
      .names = crt_personality_domain_names, .noun = "personality domain"),
  JL (crt_personality, "flags", J_STRV, flags),
  JEND,
};
static const jtype personality_type = { personality_fields, sizeof (crt_personality), NULL };

static const jfield time_offset_fields[] = {
  JF (crt_time_offset, "secs", J_I64, secs),
  JF (crt_time_offset, "nanosecs", J_U32, nanosecs),
  JEND,
};
static const jtype time_offset_type = { time_offset_fields, sizeof (crt_time_offset), NULL };

static const jfield linux_fields[] = {
  JL (crt_linux, "uidMappings", J_ARRAY, uid_mappings, .type = &crt_jt_id_mapping),
  JL (crt_linux, "gidMappings", J_ARRAY, gid_mappings, .type = &crt_jt_id_mapping),
  JL (crt_linux, "sysctl", J_MAP_STR, sysctl),
  JF (crt_linux, "resources", J_OBJ, resources, .type = &crt_jt_resources),
  JF (crt_linux, "cgroupsPath", J_STR, cgroups_path),
  JL (crt_linux, "namespaces", J_ARRAY, namespaces, .type = &namespace_type),
  JL (crt_linux, "devices", J_ARRAY, devices, .type = &device_type),
  JL (crt_linux, "netDevices", J_MAP_OBJ, net_devices, .type = &net_device_type,
      .key_off = offsetof (crt_net_device, host_name)),
  JF (crt_linux, "seccomp", J_OBJ, seccomp, .type = &crt_jt_seccomp),
  JF (crt_linux, "rootfsPropagation", J_STR, rootfs_propagation,
      .names = crt_propagation_names, .noun = "rootfs propagation"),
  JL (crt_linux, "maskedPaths", J_STRV, masked_paths),
  JL (crt_linux, "readonlyPaths", J_STRV, readonly_paths),
  JF (crt_linux, "mountLabel", J_STR, mount_label),
  JF (crt_linux, "intelRdt", J_OBJ, intel_rdt, .type = &intel_rdt_type),
  JF (crt_linux, "memoryPolicy", J_OBJ, memory_policy, .type = &memory_policy_type),
  JF (crt_linux, "personality", J_OBJ, personality, .type = &personality_type),
  JL (crt_linux, "timeOffsets", J_MAP_OBJ, time_offsets, .type = &time_offset_type,
      .key_off = offsetof (crt_time_offset, clock), .names = crt_time_clock_names,
      .noun = "clock"),
  JEND,
};
const jtype crt_jt_linux = { linux_fields, sizeof (crt_linux), NULL };
