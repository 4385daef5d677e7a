/* config.json as C structs: the whole of runtime-spec 1.2 (Linux).
 *
 * Conventions:
 *  - strings are NULL when absent; string lists are NULL-terminated
 *    arrays (char **) with a count beside them;
 *  - optional numbers and booleans are a crt_opt_* with .set;
 *  - arrays of structs are pointer + count;
 *  - maps are arrays of crt_kv (key order preserved).
 *  - absent vs empty: an absent list has pointer NULL and count 0; a
 *    present but empty one ([] or {}) has a non-NULL pointer and count 0
 *    (a string list is then { NULL }). Plain (non-opt) numbers and bools
 *    are 0/false when absent. A JSON null is the same as an absent key.
 *  - unknown keys (and the windows/solaris/vm/zos/freebsd sections) are
 *    ignored; when a key is repeated the last one wins (as in Go).
 * The parser (spec/parse*.c) validates types and ranges and reports the
 * JSON path of any bad value; spec/validate.c checks the cross-field MUSTs.
 * After a successful parse, users may rely on (besides types and ranges):
 *  - every enumerated string (namespace, rlimit, seccomp action/op/arch/
 *    flag, scheduler policy/flags, ioPriority class, memoryPolicy mode/
 *    flags, personality domain, rootfsPropagation, timeOffsets clock,
 *    device type) is one the spec lists; capability names are NOT checked;
 *  - the REQUIRED fields are there: ociVersion (a "1.x.y" SemVer),
 *    root.path, process.cwd (absolute), process.args (>= 1 entry),
 *    mounts[].destination, hooks path, namespace type, devices path/type
 *    (and major/minor unless 'p'), id mapping fields, seccomp
 *    defaultAction, syscalls[].names (>= 1)/action, args index (0..5)/
 *    value/op, rlimit type/hard/soft, ...;
 *  - mount destinations are absolute: a relative one (deprecated, "relative
 *    to /") is stored with "/" in front.
 */
#ifndef CRT_SPEC_H
#define CRT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../error.h"

typedef struct { bool set; int64_t value; } crt_opt_i64;
typedef struct { bool set; uint64_t value; } crt_opt_u64;
typedef struct { bool set; uint32_t value; } crt_opt_u32;
typedef struct { bool set; bool value; } crt_opt_bool;

typedef struct
{
  char *key;
  char *value;
} crt_kv;

/* ---- process ---- */
typedef struct
{
  char *type;           /* "RLIMIT_NOFILE" as written */
  int resource;         /* RLIMIT_* value, resolved by the parser (always valid) */
  uint64_t hard;
  uint64_t soft;
} crt_rlimit;

typedef struct
{
  char **bounding;      size_t n_bounding;
  char **effective;     size_t n_effective;
  char **inheritable;   size_t n_inheritable;
  char **permitted;     size_t n_permitted;
  char **ambient;       size_t n_ambient;
  /* Which lists were present at all (absent differs from empty). */
  bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
} crt_capabilities;

typedef struct
{
  char *policy;         /* SCHED_OTHER, SCHED_FIFO, ... */
  int32_t nice;
  int32_t priority;
  char **flags;         size_t n_flags;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
} crt_scheduler;

typedef struct
{
  char *class_;         /* IOPRIO_CLASS_RT | _BE | _IDLE */
  int priority;
} crt_io_priority;

typedef struct
{
  char *initial;
  char *final;
} crt_cpu_affinity;

typedef struct
{
  uint32_t uid;
  uint32_t gid;
  crt_opt_u32 umask;
  uint32_t *additional_gids;  size_t n_additional_gids;
  char *username;       /* windows only; kept for completeness */
} crt_user;

typedef struct
{
  bool terminal;
  bool has_console_size;        /* consoleSize present (then both members set) */
  uint32_t console_height;
  uint32_t console_width;
  crt_user user;
  char **args;          size_t n_args;
  char *command_line;   /* windows only */
  char **env;           size_t n_env;
  char *cwd;
  crt_capabilities *capabilities;   /* NULL when absent */
  crt_rlimit *rlimits;  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  crt_opt_i64 oom_score_adj;        /* in [-1000, 1000] when set */
  crt_scheduler *scheduler;
  char *selinux_label;
  crt_io_priority *io_priority;
  crt_cpu_affinity *exec_cpu_affinity;
} crt_process;

/* ---- root and mounts ---- */
typedef struct
{
  char *path;
  bool readonly;
} crt_root;

typedef struct
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
} crt_id_mapping;

typedef struct
{
  char *destination;
  char *type;
  char *source;
  char **options;       size_t n_options;
  crt_id_mapping *uid_mappings; size_t n_uid_mappings;
  crt_id_mapping *gid_mappings; size_t n_gid_mappings;
} crt_mount;

/* ---- hooks ---- */
typedef struct
{
  char *path;
  char **args;          size_t n_args;
  char **env;           size_t n_env;
  crt_opt_i64 timeout;  /* seconds, in [1, INT32_MAX] when set */
} crt_hook;

typedef enum
{
  CRT_HOOK_PRESTART = 0,
  CRT_HOOK_CREATE_RUNTIME,
  CRT_HOOK_CREATE_CONTAINER,
  CRT_HOOK_START_CONTAINER,
  CRT_HOOK_POSTSTART,
  CRT_HOOK_POSTSTOP,
  CRT_HOOK__COUNT
} crt_hook_kind;

typedef struct
{
  crt_hook *hooks[CRT_HOOK__COUNT];
  size_t n_hooks[CRT_HOOK__COUNT];
} crt_hooks;

/* ---- linux.namespaces ---- */
typedef enum
{
  CRT_NS_PID = 0,
  CRT_NS_NETWORK,
  CRT_NS_MOUNT,
  CRT_NS_IPC,
  CRT_NS_UTS,
  CRT_NS_USER,
  CRT_NS_CGROUP,
  CRT_NS_TIME,
  CRT_NS__COUNT
} crt_ns_type;

typedef struct
{
  crt_ns_type type;
  char *path;           /* join this namespace instead of creating one;
                           NULL: create a new one */
} crt_namespace;

/* ---- linux.devices ---- */
typedef struct
{
  char *path;
  char type;            /* 'c', 'b', 'u' or 'p' */
  int64_t major;
  int64_t minor;
  crt_opt_u32 file_mode;
  crt_opt_u32 uid;
  crt_opt_u32 gid;
} crt_device;

/* ---- linux.resources ---- */
typedef struct
{
  bool allow;
  char type;            /* 'a', 'c', 'b'; 'a' when absent (the parser sets it) */
  crt_opt_i64 major;    /* unset = wildcard */
  crt_opt_i64 minor;
  char *access;         /* subset of "rwm"; NULL = all */
} crt_device_cgroup;

typedef struct
{
  crt_opt_i64 limit;
  crt_opt_i64 reservation;
  crt_opt_i64 swap;
  crt_opt_i64 kernel;
  crt_opt_i64 kernel_tcp;
  crt_opt_u64 swappiness;
  crt_opt_bool disable_oom_killer;
  crt_opt_bool use_hierarchy;
  crt_opt_bool check_before_update;
} crt_memory;

typedef struct
{
  crt_opt_u64 shares;
  crt_opt_i64 quota;
  crt_opt_u64 burst;
  crt_opt_u64 period;
  crt_opt_i64 realtime_runtime;
  crt_opt_u64 realtime_period;
  char *cpus;
  char *mems;
  crt_opt_i64 idle;
} crt_cpu;

typedef struct
{
  int64_t major;
  int64_t minor;
  crt_opt_u32 weight;       /* uint16 range checked */
  crt_opt_u32 leaf_weight;
} crt_weight_device;

typedef struct
{
  int64_t major;
  int64_t minor;
  uint64_t rate;
} crt_throttle_device;

typedef struct
{
  crt_opt_u32 weight;
  crt_opt_u32 leaf_weight;
  crt_weight_device *weight_device;             size_t n_weight_device;
  crt_throttle_device *throttle_read_bps;       size_t n_throttle_read_bps;
  crt_throttle_device *throttle_write_bps;      size_t n_throttle_write_bps;
  crt_throttle_device *throttle_read_iops;      size_t n_throttle_read_iops;
  crt_throttle_device *throttle_write_iops;     size_t n_throttle_write_iops;
} crt_block_io;

typedef struct
{
  char *page_size;      /* "2MB", "1GB", ... */
  uint64_t limit;
} crt_hugepage_limit;

typedef struct
{
  char *name;
  uint32_t priority;
} crt_interface_priority;

typedef struct
{
  crt_opt_u32 class_id;
  crt_interface_priority *priorities; size_t n_priorities;
} crt_network;

typedef struct
{
  char *device;
  crt_opt_u32 hca_handles;
  crt_opt_u32 hca_objects;
} crt_rdma;

typedef struct
{
  crt_device_cgroup *devices;   size_t n_devices;
  crt_memory *memory;
  crt_cpu *cpu;
  crt_opt_i64 pids_limit;       /* pids.limit */
  bool has_pids;                /* "pids" object present */
  crt_block_io *block_io;
  crt_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
  crt_network *network;
  crt_rdma *rdma;               size_t n_rdma;
  crt_kv *unified;              size_t n_unified;
} crt_resources;

/* ---- linux.seccomp ---- */
typedef struct
{
  uint32_t index;
  uint64_t value;
  uint64_t value_two;
  char *op;             /* SCMP_CMP_* as written; checked by the parser */
} crt_seccomp_arg;

typedef struct
{
  char **names;         size_t n_names;
  char *action;
  crt_opt_u32 errno_ret;
  crt_seccomp_arg *args; size_t n_args;
} crt_syscall;

typedef struct
{
  char *default_action;
  crt_opt_u32 default_errno_ret;
  char **architectures; size_t n_architectures;
  char **flags;         size_t n_flags;
  char *listener_path;
  char *listener_metadata;
  crt_syscall *syscalls; size_t n_syscalls;
} crt_seccomp;

/* ---- linux, misc ---- */
typedef struct
{
  char *clos_id;
  char **schemata;      size_t n_schemata;
  char *l3_cache_schema;
  char *mem_bw_schema;
  bool enable_monitoring;
} crt_intel_rdt;

typedef struct
{
  char *mode;
  char *nodes;
  char **flags;         size_t n_flags;
} crt_memory_policy;

typedef struct
{
  char *domain;         /* LINUX | LINUX32 */
  char **flags;         size_t n_flags;
} crt_personality;

typedef struct
{
  char *clock;          /* "monotonic" | "boottime" */
  int64_t secs;
  uint32_t nanosecs;
} crt_time_offset;

typedef struct
{
  char *host_name;      /* the map key: the interface on the host */
  char *name;           /* its name in the container; NULL = keep */
} crt_net_device;

typedef struct
{
  crt_id_mapping *uid_mappings; size_t n_uid_mappings;
  crt_id_mapping *gid_mappings; size_t n_gid_mappings;
  crt_kv *sysctl;               size_t n_sysctl;
  crt_resources *resources;
  char *cgroups_path;
  crt_namespace *namespaces;    size_t n_namespaces;
  crt_device *devices;          size_t n_devices;
  crt_net_device *net_devices;  size_t n_net_devices;
  crt_seccomp *seccomp;
  char *rootfs_propagation;
  char **masked_paths;          size_t n_masked_paths;
  char **readonly_paths;        size_t n_readonly_paths;
  char *mount_label;
  crt_intel_rdt *intel_rdt;
  crt_memory_policy *memory_policy;
  crt_personality *personality;
  crt_time_offset *time_offsets; size_t n_time_offsets;
} crt_linux;

typedef struct crt_spec
{
  char *oci_version;
  crt_process *process;         /* NULL when absent (allowed for create) */
  crt_root *root;
  char *hostname;
  char *domainname;
  crt_mount *mounts;            size_t n_mounts;
  crt_hooks *hooks;
  crt_kv *annotations;          size_t n_annotations;
  crt_linux *linux_;            /* NULL when absent */
} crt_spec;

/* Parse config.json text. `origin` names the source in messages
 * ("config.json"). On failure *err reads "config.json: <path>: <reason>"
 * or "config.json: line L, column C: <reason>" for malformed JSON. */
int crt_spec_parse (const char *json, const char *origin, crt_spec **out, crt_error **err);
/* Read and parse a file; messages name it by its base name ("config.json: ..."). */
int crt_spec_load (const char *path, crt_spec **out, crt_error **err);
/* The same, naming it `origin` in messages (NULL: its base name), and
 * giving its text in *text (when text is not NULL; the caller frees it).
 * Anything but a regular file is refused, unread. */
int crt_spec_read (const char *path, const char *origin, char **text, crt_spec **out,
                   crt_error **err);
/* The spec's cross-field MUSTs (duplicate namespaces/rlimits, rlimit
 * soft <= hard, mapping sizes > 0, uid/gidMappings iff a new user
 * namespace, timeOffsets only with a new time namespace, absolute hook,
 * device, namespace, masked and readonly paths, seccomp errnoRet only
 * with ERRNO/TRACE, hostname only with a uts namespace...). Messages read
 * "config.json: <path>: <reason>". */
int crt_spec_validate (const crt_spec *spec, crt_error **err);
/* A linux.sysctl key in the dotted form of sysctl(8): "net/ipv4/x" (the
 * other form, which runc and crun take too) becomes "net.ipv4.x", and a
 * '.' inside one of its names ("eth0.100") becomes '/', as runc maps it.
 * Caller frees. */
char *crt_sysctl_key_dotted (const char *key);
/* The namespace (CRT_NS_*) a dotted sysctl key belongs to, as runc and
 * crun classify them, or -1 for a host-wide key. */
int crt_sysctl_namespace (const char *key);
void crt_spec_free (crt_spec *spec);
void crt_spec_freep (crt_spec **spec);
#define cleanup_spec __attribute__ ((cleanup (crt_spec_freep)))

/* The rules of a process object alone (ids, rlimits), for config.json's
 * process and for the process `crt exec` builds. Messages read
 * "<file>: <prefix><field>: <reason>" (prefix "process." in config.json). */
int crt_process_validate (const crt_process *p, const char *file, const char *prefix,
                          crt_error **err);

/* A uid or gid a process may be given: anything but (uint32_t) -1, which
 * setresuid/setresgid/setgroups read as "leave unchanged". */
static inline bool
crt_unix_id_valid (uint64_t id)
{
  return id < UINT32_MAX;
}

/* Parse a runtime-spec "process" object alone (crt exec --process). */
int crt_process_parse (const char *json, const char *origin, crt_process **out, crt_error **err);
void crt_process_free (crt_process *p);
/* linux.seccomp as bytes that differ whenever the profiles differ in
 * anything config.json can say (the seccomp cache's key; caller frees). */
char *crt_seccomp_key (const crt_seccomp *s, size_t *len);
/* Parse a "linux.resources" object alone (crt update --resources). */
int crt_resources_parse (const char *json, const char *origin, crt_resources **out, crt_error **err);
void crt_resources_free (crt_resources *r);

/* Names <-> enums. */
const char *crt_ns_type_name (crt_ns_type t);      /* "pid", "network", ... */
int crt_ns_type_from_name (const char *name);      /* -1 if unknown */
int crt_ns_clone_flag (crt_ns_type t);             /* CLONE_NEWPID, ... */
const char *crt_ns_proc_name (crt_ns_type t);      /* "pid", "net", "mnt", ... in /proc/PID/ns */
/* The namespace entry of that type, or NULL. */
const crt_namespace *crt_spec_namespace (const crt_spec *spec, crt_ns_type t);
/* A bind (or rbind) mount: type "bind" or a bind/rbind option. */
bool crt_mount_is_bind (const crt_mount *m);
/* "prestart", "createRuntime", ... as the keys of config.json's hooks. */
const char *crt_hook_kind_name (crt_hook_kind kind);
/* RLIMIT_* by name, -1 if unknown. */
int crt_rlimit_from_name (const char *name);

/* The default config.json of `crt spec`, as JSON text (caller frees). */
char *crt_spec_default_json (bool rootless);

#endif
