#include "config.h"
#include "spec.h"
#include "names.h"
#include "util/util.h"

#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
# define CLONE_NEWTIME 0x00000080 /* Linux 5.6; older headers lack it */
#endif
#ifndef CLONE_NEWCGROUP
# define CLONE_NEWCGROUP 0x02000000
#endif

const char *const crt_ns_type_names[] = {
  [CRT_NS_PID] = "pid", [CRT_NS_NETWORK] = "network", [CRT_NS_MOUNT] = "mount",
  [CRT_NS_IPC] = "ipc", [CRT_NS_UTS] = "uts", [CRT_NS_USER] = "user",
  [CRT_NS_CGROUP] = "cgroup", [CRT_NS_TIME] = "time", [CRT_NS__COUNT] = NULL,
};

static const char *const ns_proc_names[CRT_NS__COUNT] = {
  [CRT_NS_PID] = "pid", [CRT_NS_NETWORK] = "net", [CRT_NS_MOUNT] = "mnt",
  [CRT_NS_IPC] = "ipc", [CRT_NS_UTS] = "uts", [CRT_NS_USER] = "user",
  [CRT_NS_CGROUP] = "cgroup", [CRT_NS_TIME] = "time",
};

static const int ns_clone_flags[CRT_NS__COUNT] = {
  [CRT_NS_PID] = CLONE_NEWPID, [CRT_NS_NETWORK] = CLONE_NEWNET,
  [CRT_NS_MOUNT] = CLONE_NEWNS, [CRT_NS_IPC] = CLONE_NEWIPC,
  [CRT_NS_UTS] = CLONE_NEWUTS, [CRT_NS_USER] = CLONE_NEWUSER,
  [CRT_NS_CGROUP] = CLONE_NEWCGROUP, [CRT_NS_TIME] = CLONE_NEWTIME,
};

static const struct
{
  const char *name;
  int resource;
} rlimits[] = {
  { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_CORE", RLIMIT_CORE },
  { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_STACK", RLIMIT_STACK },
};

const char *const crt_ioprio_class_names[] = {
  "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL,
};

const char *const crt_sched_policy_names[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO",
  "SCHED_IDLE", "SCHED_DEADLINE", NULL,
};

const char *const crt_sched_flag_names[] = {
  "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX", NULL,
};

const char *const crt_personality_domain_names[] = { "LINUX", "LINUX32", NULL };

const char *const crt_time_clock_names[] = { "monotonic", "boottime", NULL };

const char *const crt_seccomp_action_names[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",
  "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", NULL,
};

const char *const crt_seccomp_operator_names[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
  "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

const char *const crt_seccomp_arch_names[] = {
  "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB", NULL,
};

const char *const crt_seccomp_flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};

const char *const crt_mempolicy_mode_names[] = {
  "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
  "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL", NULL,
};

const char *const crt_mempolicy_flag_names[] = {
  "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES", NULL,
};

const char *const crt_propagation_names[] = {
  "private", "rprivate", "slave", "rslave", "shared", "rshared",
  "unbindable", "runbindable", NULL,
};

const char *
crt_ns_type_name (crt_ns_type t)
{
  return (unsigned) t < CRT_NS__COUNT ? crt_ns_type_names[t] : NULL;
}

int
crt_ns_type_from_name (const char *name)
{
  for (int i = 0; i < CRT_NS__COUNT; i++)
    if (strcmp (crt_ns_type_names[i], name) == 0)
      return i;
  return -1;
}

int
crt_ns_clone_flag (crt_ns_type t)
{
  return (unsigned) t < CRT_NS__COUNT ? ns_clone_flags[t] : 0;
}

const char *
crt_ns_proc_name (crt_ns_type t)
{
  return (unsigned) t < CRT_NS__COUNT ? ns_proc_names[t] : NULL;
}

const crt_namespace *
crt_spec_namespace (const crt_spec *spec, crt_ns_type t)
{
  if (spec == NULL || spec->linux_ == NULL)
    return NULL;
  for (size_t i = 0; i < spec->linux_->n_namespaces; i++)
    if (spec->linux_->namespaces[i].type == t)
      return &spec->linux_->namespaces[i];
  return NULL;
}

bool
crt_mount_is_bind (const crt_mount *m)
{
  if (m->type && strcmp (m->type, "bind") == 0)
    return true;
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp (m->options[i], "bind") == 0 || strcmp (m->options[i], "rbind") == 0)
      return true;
  return false;
}

int
crt_rlimit_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof (rlimits) / sizeof (rlimits[0]); i++)
    if (strcmp (rlimits[i].name, name) == 0)
      return rlimits[i].resource;
  return -1;
}

static const char *const hook_kind_names[CRT_HOOK__COUNT] = {
  [CRT_HOOK_PRESTART] = "prestart",
  [CRT_HOOK_CREATE_RUNTIME] = "createRuntime",
  [CRT_HOOK_CREATE_CONTAINER] = "createContainer",
  [CRT_HOOK_START_CONTAINER] = "startContainer",
  [CRT_HOOK_POSTSTART] = "poststart",
  [CRT_HOOK_POSTSTOP] = "poststop",
};

const char *
crt_hook_kind_name (crt_hook_kind kind)
{
  if ((unsigned) kind >= CRT_HOOK__COUNT)
    return "unknown";
  return hook_kind_names[kind];
}

/* The System V IPC keys of the ipc namespace that runc and crun let a
 * container set (fs.mqueue.* goes with them). The kernel has a few more
 * (kernel.*_next_id), which neither allows: nor does crt. */
static const char *const sysctl_ipc_keys[] = {
  "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

int
crt_sysctl_namespace (const char *key)
{
  for (size_t i = 0; i < sizeof (sysctl_ipc_keys) / sizeof (sysctl_ipc_keys[0]); i++)
    if (strcmp (key, sysctl_ipc_keys[i]) == 0)
      return CRT_NS_IPC;
  if (strncmp (key, "fs.mqueue.", 10) == 0)
    return CRT_NS_IPC;
  if (strncmp (key, "net.", 4) == 0)
    return CRT_NS_NETWORK;
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    return CRT_NS_UTS;
  if (strncmp (key, "user.", 5) == 0)
    return CRT_NS_USER;
  return -1;
}

char *
crt_sysctl_key_dotted (const char *key)
{
  size_t sep = strcspn (key, "./");
  char *out = crt_xstrdup (key);

  if (key[sep] == '/')
    for (char *c = out; *c; c++)
      *c = *c == '/' ? '.' : *c == '.' ? '/' : *c;
  return out;
}
