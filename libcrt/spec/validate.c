/* The cross-field MUSTs of runtime-spec 1.2 that no single value shows:
 * duplicates, pairs that go together, absolute paths. Single values were
 * already checked by the parser. */
#include "config.h"
#include "spec.h"
#include "util/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Lengths the kernel refuses later, with an error that names no field:
 * execve's E2BIG for one argument or environment string (MAX_ARG_STRLEN,
 * 32 pages with the terminating NUL), sethostname's EINVAL. */
#define HOST_NAME_MAX_LEN 64
/* Annotations only go to the state file and the hooks' stdin, but each
 * hook gets them all: a 10 MB one is a mistake, or an attack. 1 MiB
 * leaves room for the large ones in use (CRI-O copies all of a pod's
 * annotations, at most 256 KiB in Kubernetes, into one value). */
#define ANNOTATION_MAX_LEN (1024 * 1024)

static int __attribute__ ((format (printf, 2, 3)))
fail (crt_error **err, const char *fmt, ...)
{
  cleanup_free char *what = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&what, fmt, ap) < 0)
    what = NULL;
  va_end (ap);
  return crt_error_set (err, 0, "config.json: %s", what ? what : "invalid");
}

static bool
absolute (const char *p)
{
  return p && p[0] == '/';
}

static int
check_mappings (const char *where, const crt_id_mapping *m, size_t n, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (m[i].size == 0)
        return fail (err, "%s[%zu].size: must be greater than 0", where, i);
      if ((uint64_t) m[i].container_id + m[i].size - 1 > UINT32_MAX
          || (uint64_t) m[i].host_id + m[i].size - 1 > UINT32_MAX)
        return fail (err, "%s[%zu]: range exceeds the 32-bit id space", where, i);
    }
  return 0;
}

static int
validate_cpu_affinity (const crt_cpu_affinity *a, crt_error **err)
{
  if (a->initial && crt_parse_id_list (a->initial, NULL, CRT_ID_LIST_BITS, NULL) < 0)
    return fail (err, "process.execCPUAffinity.initial: \"%s\" is not a list of CPU numbers "
                 "below %d like \"0-3,7\"", a->initial, CRT_ID_LIST_BITS);
  if (a->final && crt_parse_id_list (a->final, NULL, CRT_ID_LIST_BITS, NULL) < 0)
    return fail (err, "process.execCPUAffinity.final: \"%s\" is not a list of CPU numbers "
                 "below %d like \"0-3,7\"", a->final, CRT_ID_LIST_BITS);
  return 0;
}

/* sched(7): "all of the parameter values must be at least 1024 ... and
 * less than 2^63" (the kernel's __checkparam_dl). */
#define DL_MIN 1024ULL
#define DL_LIMIT (1ULL << 63)

static int
check_dl_value (const char *name, uint64_t v, crt_error **err)
{
  if (v < DL_MIN || v >= DL_LIMIT)
    return fail (err, "process.scheduler.%s: %" PRIu64 " is not within [%llu, 2^63) "
                 "nanoseconds", name, v, DL_MIN);
  return 0;
}

/* What sched_setattr(2) would refuse with a bare EINVAL, said with the
 * field's name: the kernel's rules for SCHED_DEADLINE (as crun explains
 * them after the fact), runc's for which fields go with which policy. A
 * period of 0 (or none: the spec's default) means "the deadline", as in
 * the kernel; the host's period bounds (kernel.sched_deadline_period_*)
 * are checked when it is applied. */
static int
validate_scheduler (const crt_scheduler *s, crt_error **err)
{
  bool deadline = s->policy && strcmp (s->policy, "SCHED_DEADLINE") == 0;
  bool realtime = s->policy && (strcmp (s->policy, "SCHED_FIFO") == 0
                                || strcmp (s->policy, "SCHED_RR") == 0);

  if (s->nice < -20 || s->nice > 19)
    return fail (err, "process.scheduler.nice: %" PRId32 " is not within [-20, 19]", s->nice);
  if (s->priority != 0 && !realtime)
    return fail (err, "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take one, "
                 "not %s", s->policy);
  if (realtime && (s->priority < 1 || s->priority > 99))
    return fail (err, "process.scheduler.priority: %" PRId32 " is not within [1, 99] (%s)",
                 s->priority, s->policy);
  if (!deadline)
    {
      const char *set = s->runtime ? "runtime" : s->deadline ? "deadline" : s->period ? "period"
                                                                                   : NULL;
      if (set)
        return fail (err, "process.scheduler.%s: only SCHED_DEADLINE takes one, not %s", set,
                     s->policy);
      return 0;
    }
  if (s->runtime == 0)
    return fail (err, "process.scheduler.runtime: SCHED_DEADLINE needs one greater than 0");
  if (s->deadline == 0)
    return fail (err, "process.scheduler.deadline: SCHED_DEADLINE needs one greater than 0");
  if (check_dl_value ("runtime", s->runtime, err) < 0
      || check_dl_value ("deadline", s->deadline, err) < 0
      || (s->period != 0 && check_dl_value ("period", s->period, err) < 0))
    return -1;
  if (s->runtime > s->deadline)
    return fail (err, "process.scheduler.runtime: %" PRIu64 " is greater than deadline %" PRIu64,
                 s->runtime, s->deadline);
  if (s->period != 0 && s->deadline > s->period)
    return fail (err, "process.scheduler.deadline: %" PRIu64 " is greater than period %" PRIu64,
                 s->deadline, s->period);
  return 0;
}

static size_t
arg_max_len (void)
{
  long page = sysconf (_SC_PAGESIZE);
  return (size_t) (page > 0 ? page : 4096) * 32 - 1;
}

static int
check_strings (const char *file, const char *prefix, const char *key, char *const *v, size_t n,
               size_t max, const char *why, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    if (strlen (v[i]) > max)
      return crt_error_set (err, 0, "%s: %s%s[%zu]: longer than %zu bytes, %s", file, prefix,
                            key, i, max, why);
  return 0;
}

/* (uid_t) -1 is "unchanged" to setresuid/setgroups: a process asking
 * for it would silently stay root (crun CVE-2026-30892). */
static int
check_id (const char *file, const char *prefix, const char *field, uint32_t id,
          crt_error **err)
{
  if (crt_unix_id_valid (id))
    return 0;
  return crt_error_set (err, 0, "%s: %s%s: %" PRIu32 " is not a valid id", file, prefix, field,
                        id);
}

int
crt_process_validate (const crt_process *p, const char *file, const char *prefix,
                      crt_error **err)
{
  size_t max = arg_max_len ();
  char field[64];

  /* Also for `exec --cwd`, which no parser saw. */
  if (p->cwd == NULL || p->cwd[0] != '/')
    return crt_error_set (err, 0, "%s: %scwd: must be an absolute path", file, prefix);
  if (check_strings (file, prefix, "args", p->args, p->n_args, max,
                     "the kernel's limit for one argument", err) < 0
      || check_strings (file, prefix, "env", p->env, p->n_env, max,
                        "the kernel's limit for one variable", err) < 0)
    return -1;
  /* umask(2) would silently drop the bits above 0777. */
  if (p->user.umask.set && p->user.umask.value > 0777)
    return crt_error_set (err, 0, "%s: %suser.umask: must be at most 0777 (511), got %" PRIu32,
                          file, prefix, p->user.umask.value);
  if (check_id (file, prefix, "user.uid", p->user.uid, err) < 0
      || check_id (file, prefix, "user.gid", p->user.gid, err) < 0)
    return -1;
  for (size_t i = 0; i < p->user.n_additional_gids; i++)
    {
      snprintf (field, sizeof (field), "user.additionalGids[%zu]", i);
      if (check_id (file, prefix, field, p->user.additional_gids[i], err) < 0)
        return -1;
    }
  if (p->scheduler && validate_scheduler (p->scheduler, err) < 0)
    return -1;
  if (p->exec_cpu_affinity && validate_cpu_affinity (p->exec_cpu_affinity, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const crt_rlimit *r = &p->rlimits[i];
      if (r->soft > r->hard)
        return crt_error_set (err, 0, "%s: %srlimits[%zu]: soft limit %" PRIu64
                              " is greater than hard limit %" PRIu64, file, prefix, i, r->soft,
                              r->hard);
      for (size_t j = 0; j < i; j++)
        if (p->rlimits[j].resource == r->resource)
          return crt_error_set (err, 0, "%s: %srlimits[%zu]: duplicate rlimit \"%s\"", file,
                                prefix, i, r->type);
    }
  return 0;
}

static bool
has_str (char *const *v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static int
validate_mounts (const crt_spec *spec, crt_error **err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const crt_mount *m = &spec->mounts[i];
      char where[64];

      if ((m->n_uid_mappings == 0) != (m->n_gid_mappings == 0))
        return fail (err, "mounts[%zu]: uidMappings and gidMappings must be given together", i);
      if (has_str (m->options, m->n_options, "copy-symlink")
          && has_str (m->options, m->n_options, "src-nofollow"))
        return fail (err, "mounts[%zu].options: copy-symlink and src-nofollow exclude each other",
                     i);
      snprintf (where, sizeof (where), "mounts[%zu].uidMappings", i);
      if (check_mappings (where, m->uid_mappings, m->n_uid_mappings, err) < 0)
        return -1;
      snprintf (where, sizeof (where), "mounts[%zu].gidMappings", i);
      if (check_mappings (where, m->gid_mappings, m->n_gid_mappings, err) < 0)
        return -1;
    }
  return 0;
}

static int
validate_hooks (const crt_hooks *h, crt_error **err)
{
  for (int k = 0; k < CRT_HOOK__COUNT; k++)
    for (size_t i = 0; i < h->n_hooks[k]; i++)
      if (!absolute (h->hooks[k][i].path))
        return fail (err, "hooks.%s[%zu].path: must be an absolute path, got \"%s\"",
                     crt_hook_kind_name (k), i, h->hooks[k][i].path);
  return 0;
}

static int
validate_namespaces (const crt_linux *l, crt_error **err)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    {
      const crt_namespace *ns = &l->namespaces[i];
      const char *name = crt_ns_type_name (ns->type);

      for (size_t j = 0; j < i; j++)
        if (l->namespaces[j].type == ns->type)
          return fail (err, "linux.namespaces[%zu]: duplicate namespace \"%s\"", i, name);
      if (ns->path && !absolute (ns->path))
        return fail (err, "linux.namespaces[%zu].path: must be an absolute path, got \"%s\"",
                     i, ns->path);
    }
  return 0;
}

/* Mappings without a user namespace would be silently ignored. A new
 * user namespace without uidMappings (gidMappings) gets the single
 * mapping "0 <crt's uid> 1" (as with crun), so the process's ids must be
 * 0: any other id cannot be taken there (EINVAL from setresuid). */
static int
validate_user_namespace (const crt_spec *spec, const crt_linux *l, crt_error **err)
{
  const crt_namespace *user = crt_spec_namespace (spec, CRT_NS_USER);

  if (check_mappings ("linux.uidMappings", l->uid_mappings, l->n_uid_mappings, err) < 0
      || check_mappings ("linux.gidMappings", l->gid_mappings, l->n_gid_mappings, err) < 0)
    return -1;
  if (user == NULL && (l->n_uid_mappings > 0 || l->n_gid_mappings > 0))
    return fail (err, "linux.%s: set without a user namespace",
                 l->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
  if (user && user->path == NULL && spec->process)
    {
      const crt_user *u = &spec->process->user;

      if (l->n_uid_mappings == 0 && u->uid != 0)
        return fail (err, "process.user.uid: %u is not mapped in the new user namespace "
                     "(without linux.uidMappings only 0 is)", u->uid);
      if (l->n_gid_mappings == 0 && u->gid != 0)
        return fail (err, "process.user.gid: %u is not mapped in the new user namespace "
                     "(without linux.gidMappings only 0 is)", u->gid);
      for (size_t i = 0; l->n_gid_mappings == 0 && i < u->n_additional_gids; i++)
        if (u->additional_gids[i] != 0)
          return fail (err, "process.user.additionalGids[%zu]: %u is not mapped in the new "
                       "user namespace (without linux.gidMappings only 0 is)", i,
                       u->additional_gids[i]);
    }
  return 0;
}

static int
validate_paths (const char *key, char *const *paths, size_t n, crt_error **err)
{
  for (size_t i = 0; i < n; i++)
    if (!absolute (paths[i]))
      return fail (err, "linux.%s[%zu]: must be an absolute path, got \"%s\"", key, i, paths[i]);
  return 0;
}

/* "When the action doesn't support an errno, the runtime MUST ... fail." */
static bool
takes_errno (const char *action)
{
  return strcmp (action, "SCMP_ACT_ERRNO") == 0 || strcmp (action, "SCMP_ACT_TRACE") == 0;
}

static int
validate_seccomp (const crt_seccomp *s, crt_error **err)
{
  if (s->default_errno_ret.set && !takes_errno (s->default_action))
    return fail (err, "linux.seccomp.defaultErrnoRet: not allowed with action %s",
                 s->default_action);
  if (s->listener_metadata && s->listener_path == NULL)
    return fail (err, "linux.seccomp.listenerMetadata: set without listenerPath");
  for (size_t i = 0; i < s->n_syscalls; i++)
    if (s->syscalls[i].errno_ret.set && !takes_errno (s->syscalls[i].action))
      return fail (err, "linux.seccomp.syscalls[%zu].errnoRet: not allowed with action %s",
                   i, s->syscalls[i].action);
  return 0;
}

static int
validate_intel_rdt (const crt_intel_rdt *r, crt_error **err)
{
  if (r->mem_bw_schema
      && (!crt_str_has_prefix (r->mem_bw_schema, "MB:") || strchr (r->mem_bw_schema, '\n')))
    return fail (err, "linux.intelRdt.memBwSchema: must start with \"MB:\" and be one line");
  if (r->l3_cache_schema && strchr (r->l3_cache_schema, '\n'))
    return fail (err, "linux.intelRdt.l3CacheSchema: must be one line");
  for (size_t i = 0; i < r->n_schemata; i++)
    if (strchr (r->schemata[i], '\n'))
      return fail (err, "linux.intelRdt.schemata[%zu]: must be one line", i);
  return 0;
}

/* -1 is "unlimited"; the kernel takes no other negative value. */
static int
check_memory_value (const char *key, const crt_opt_i64 *v, crt_error **err)
{
  if (v->set && v->value < -1)
    return fail (err, "linux.resources.memory.%s: must be -1 (unlimited) or at least 0, "
                 "got %" PRId64, key, v->value);
  return 0;
}

static int
validate_resources (const crt_resources *r, crt_error **err)
{
  if (r->memory
      && (check_memory_value ("limit", &r->memory->limit, err) < 0
          || check_memory_value ("reservation", &r->memory->reservation, err) < 0
          || check_memory_value ("swap", &r->memory->swap, err) < 0))
    return -1;
  return 0;
}

/* A key names a file under /proc/sys: names separated by dots, none
 * empty, "." or ".." (a '/' in the dotted form stands for a '.' in a
 * name), so nothing can leave /proc/sys. */
static bool
valid_sysctl_key (const char *dotted)
{
  const char *name = dotted;

  for (;;)
    {
      size_t len = strcspn (name, ".");

      if (len == 0 || (name[0] == '/' && (len == 1 || (len == 2 && name[1] == '/'))))
        return false;
      if (name[len] == '\0')
        return true;
      name += len + 1;
    }
}

/* A name the sysctl sets that a field of its own sets too: they must
 * agree (crun refuses a kernel.domainname that differs from domainname;
 * runc and crun refuse kernel.hostname whatever its value, crt only one
 * that differs from hostname: the same name set twice is harmless). */
static int
check_uts_sysctl (const char *key, const char *value, const char *field, const char *set,
                  crt_error **err)
{
  if (set && set[0] && strcmp (set, value ? value : "") != 0)
    return fail (err, "linux.sysctl: \"%s\" is \"%s\", which conflicts with %s \"%s\"", key,
                 value ? value : "", field, set);
  return 0;
}

/* Which keys a container may set: only those of a namespace of its own
 * (runc's rules, libcontainer/configs/validate: ipc keys and
 * fs.mqueue.* with an ipc namespace, net.* with a network namespace,
 * kernel.hostname and kernel.domainname with a uts namespace, user.*
 * with a user namespace). That a network namespace joined by path is
 * not the host's is checked at create (crt_sysctl_validate). */
static int
validate_sysctl (const crt_spec *spec, const crt_linux *l, crt_error **err)
{
  for (size_t i = 0; i < l->n_sysctl; i++)
    {
      const char *key = l->sysctl[i].key, *value = l->sysctl[i].value;
      cleanup_free char *dotted = crt_sysctl_key_dotted (key);
      int type;

      if (!valid_sysctl_key (dotted))
        return fail (err, "linux.sysctl: invalid key \"%s\"", key);
      type = crt_sysctl_namespace (dotted);
      if (type < 0)
        return fail (err, "linux.sysctl: \"%s\" is not namespaced, refusing to set it", key);
      if (crt_spec_namespace (spec, (crt_ns_type) type) == NULL)
        return fail (err, "linux.sysctl: \"%s\" needs the container's own %s namespace, "
                     "refusing to set it on the host", key, crt_ns_type_name ((crt_ns_type) type));
      if (strcmp (dotted, "kernel.hostname") == 0
          && check_uts_sysctl (key, value, "hostname", spec->hostname, err) < 0)
        return -1;
      if (strcmp (dotted, "kernel.domainname") == 0
          && check_uts_sysctl (key, value, "domainname", spec->domainname, err) < 0)
        return -1;
    }
  return 0;
}

/* set_mempolicy(2)'s rules, which config-linux.md points to. */
static int
validate_memory_policy (const crt_memory_policy *m, crt_error **err)
{
  const char *mode = m->mode;
  bool no_nodes = strcmp (mode, "MPOL_DEFAULT") == 0 || strcmp (mode, "MPOL_LOCAL") == 0;
  bool optional_nodes = strcmp (mode, "MPOL_PREFERRED") == 0;
  int highest = -1;

  if (m->nodes && crt_parse_id_list (m->nodes, NULL, CRT_ID_LIST_BITS, &highest) < 0)
    return fail (err, "linux.memoryPolicy.nodes: \"%s\" is not a list of node numbers below %d "
                 "like \"0-3,7\"", m->nodes, CRT_ID_LIST_BITS);
  if (no_nodes && highest >= 0)
    return fail (err, "linux.memoryPolicy.nodes: %s takes no nodes", mode);
  if (!no_nodes && !optional_nodes && highest < 0)
    return fail (err, "linux.memoryPolicy.nodes: %s needs at least one node", mode);
  if (no_nodes && m->n_flags > 0)
    return fail (err, "linux.memoryPolicy.flags[0]: %s takes no flags", mode);
  if (has_str (m->flags, m->n_flags, "MPOL_F_STATIC_NODES")
      && has_str (m->flags, m->n_flags, "MPOL_F_RELATIVE_NODES"))
    return fail (err, "linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES "
                 "exclude each other");
  if (has_str (m->flags, m->n_flags, "MPOL_F_NUMA_BALANCING")
      && strcmp (mode, "MPOL_BIND") != 0 && strcmp (mode, "MPOL_PREFERRED_MANY") != 0)
    return fail (err, "linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING goes with MPOL_BIND or "
                 "MPOL_PREFERRED_MANY only, not %s", mode);
  return 0;
}

static int
validate_linux (const crt_spec *spec, const crt_linux *l, crt_error **err)
{
  const crt_namespace *time_ns = crt_spec_namespace (spec, CRT_NS_TIME);

  if (validate_namespaces (l, err) < 0 || validate_user_namespace (spec, l, err) < 0)
    return -1;
  /* Offsets can only be written into a namespace before anything runs in it. */
  if (l->n_time_offsets > 0 && (time_ns == NULL || time_ns->path != NULL))
    return fail (err, "linux.timeOffsets: set without a new time namespace");
  for (size_t i = 0; i < l->n_devices; i++)
    if (!absolute (l->devices[i].path))
      return fail (err, "linux.devices[%zu].path: must be an absolute path, got \"%s\"",
                   i, l->devices[i].path);
  if (validate_paths ("maskedPaths", l->masked_paths, l->n_masked_paths, err) < 0
      || validate_paths ("readonlyPaths", l->readonly_paths, l->n_readonly_paths, err) < 0)
    return -1;
  /* Without a mount namespace of its own the container shares crt's:
   * masking, read-only paths and a read-only root would change the
   * host's mounts (runc refuses the first two as well). */
  if (crt_spec_namespace (spec, CRT_NS_MOUNT) == NULL)
    {
      if (l->n_masked_paths > 0)
        return fail (err, "linux.maskedPaths: needs a mount namespace of the container's own");
      if (l->n_readonly_paths > 0)
        return fail (err, "linux.readonlyPaths: needs a mount namespace of the container's own");
      if (spec->root && spec->root->readonly)
        return fail (err, "root.readonly: needs a mount namespace of the container's own");
    }
  if (l->resources && validate_resources (l->resources, err) < 0)
    return -1;
  if (l->seccomp && validate_seccomp (l->seccomp, err) < 0)
    return -1;
  if (l->intel_rdt && validate_intel_rdt (l->intel_rdt, err) < 0)
    return -1;
  if (validate_sysctl (spec, l, err) < 0)
    return -1;
  if (l->memory_policy && validate_memory_policy (l->memory_policy, err) < 0)
    return -1;
  return 0;
}

int
crt_spec_validate (const crt_spec *spec, crt_error **err)
{
  if (spec->process && crt_process_validate (spec->process, "config.json", "process.", err) < 0)
    return -1;
  if (validate_mounts (spec, err) < 0)
    return -1;
  if (spec->hooks && validate_hooks (spec->hooks, err) < 0)
    return -1;
  if (spec->linux_ && validate_linux (spec, spec->linux_, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (strlen (spec->annotations[i].key) > ANNOTATION_MAX_LEN
        || strlen (spec->annotations[i].value) > ANNOTATION_MAX_LEN)
      return fail (err, "annotations.%.64s: longer than %d bytes", spec->annotations[i].key,
                   ANNOTATION_MAX_LEN);
  if (spec->hostname && strlen (spec->hostname) > HOST_NAME_MAX_LEN)
    return fail (err, "hostname: longer than %d bytes", HOST_NAME_MAX_LEN);
  if (spec->domainname && strlen (spec->domainname) > HOST_NAME_MAX_LEN)
    return fail (err, "domainname: longer than %d bytes", HOST_NAME_MAX_LEN);
  /* Setting them without a uts namespace would rename the host. Joining
   * one by path is fine (pods share the infra container's). */
  if (((spec->hostname && spec->hostname[0]) || (spec->domainname && spec->domainname[0]))
      && crt_spec_namespace (spec, CRT_NS_UTS) == NULL)
    return fail (err, "%s: set without a uts namespace",
                 spec->hostname && spec->hostname[0] ? "hostname" : "domainname");
  return 0;
}
