/* config.json "process": the tables, and the checks the spec puts on
 * single objects (cwd absolute, args non-empty, known rlimits). */
#include "config.h"
#include "spec.h"
#include "names.h"
#include "parse.h"

#include <limits.h>

static int
check_rlimit (jctx *c, yajl_val v, void *base)
{
  crt_rlimit *r = base;

  r->resource = crt_rlimit_from_name (r->type);
  if (r->resource < 0)
    return jctx_fail_at (c, "type", "unknown rlimit \"%s\"", r->type);
  return 0;
}

static const jfield rlimit_fields[] = {
  JF (crt_rlimit, "type", J_STR, type, .required = true),
  JF (crt_rlimit, "hard", J_U64, hard, .required = true),
  JF (crt_rlimit, "soft", J_U64, soft, .required = true),
  JEND,
};
static const jtype rlimit_type = { rlimit_fields, sizeof (crt_rlimit), check_rlimit };

#define CAPS(k, m) \
  JL (crt_capabilities, k, J_STRV, m, .track = true, \
      .has_off = offsetof (crt_capabilities, has_##m))
static const jfield capabilities_fields[] = {
  CAPS ("bounding", bounding),
  CAPS ("effective", effective),
  CAPS ("inheritable", inheritable),
  CAPS ("permitted", permitted),
  CAPS ("ambient", ambient),
  JEND,
};
static const jtype capabilities_type = { capabilities_fields, sizeof (crt_capabilities), NULL };

static const jfield scheduler_fields[] = {
  JF (crt_scheduler, "policy", J_STR, policy, .required = true,
      .names = crt_sched_policy_names, .noun = "scheduler policy"),
  JF (crt_scheduler, "nice", J_I32, nice),
  JF (crt_scheduler, "priority", J_I32, priority),
  JL (crt_scheduler, "flags", J_STRV, flags, .names = crt_sched_flag_names,
      .noun = "scheduler flag"),
  JF (crt_scheduler, "runtime", J_U64, runtime),
  JF (crt_scheduler, "deadline", J_U64, deadline),
  JF (crt_scheduler, "period", J_U64, period),
  JEND,
};
static const jtype scheduler_type = { scheduler_fields, sizeof (crt_scheduler), NULL };

static const jfield io_priority_fields[] = {
  JF (crt_io_priority, "class", J_STR, class_, .required = true,
      .names = crt_ioprio_class_names, .noun = "I/O priority class"),
  JF (crt_io_priority, "priority", J_INT, priority, .required = true,
      .ranged = true, .min = 0, .max = 7),
  JEND,
};
static const jtype io_priority_type = { io_priority_fields, sizeof (crt_io_priority), NULL };

static const jfield cpu_affinity_fields[] = {
  JF (crt_cpu_affinity, "initial", J_STR, initial),
  JF (crt_cpu_affinity, "final", J_STR, final),
  JEND,
};
static const jtype cpu_affinity_type = { cpu_affinity_fields, sizeof (crt_cpu_affinity), NULL };

static const jfield user_fields[] = {
  JF (crt_user, "uid", J_U32, uid),
  JF (crt_user, "gid", J_U32, gid),
  JF (crt_user, "umask", J_OPT_U32, umask),
  JL (crt_user, "additionalGids", J_U32V, additional_gids),
  JF (crt_user, "username", J_STR, username),
  JEND,
};
static const jtype user_type = { user_fields, sizeof (crt_user), NULL };

/* consoleSize {height, width} lands in flat members of crt_process. */
static const jfield console_size_fields[] = {
  JF (crt_process, "height", J_U32, console_height, .required = true),
  JF (crt_process, "width", J_U32, console_width, .required = true),
  JEND,
};
static const jtype console_size_type = { console_size_fields, sizeof (crt_process), NULL };

static int
check_process (jctx *c, yajl_val v, void *base)
{
  crt_process *p = base;

  if (p->args == NULL)
    return jctx_fail_at (c, "args", "required field is missing");
  if (p->n_args == 0)
    return jctx_fail_at (c, "args", "must contain at least one entry");
  if (p->cwd[0] != '/')
    return jctx_fail_at (c, "cwd", "must be an absolute path, got \"%s\"", p->cwd);
  return 0;
}

static const jfield process_fields[] = {
  JF (crt_process, "terminal", J_BOOL, terminal),
  JF (crt_process, "consoleSize", J_INLINE, console_height, .type = &console_size_type,
      .track = true, .has_off = offsetof (crt_process, has_console_size)),
  JF (crt_process, "user", J_EMBED, user, .type = &user_type),
  JL (crt_process, "args", J_STRV, args),
  JF (crt_process, "commandLine", J_STR, command_line),
  JL (crt_process, "env", J_STRV, env),
  JF (crt_process, "cwd", J_STR, cwd, .required = true),
  JF (crt_process, "capabilities", J_OBJ, capabilities, .type = &capabilities_type),
  JL (crt_process, "rlimits", J_ARRAY, rlimits, .type = &rlimit_type),
  JF (crt_process, "noNewPrivileges", J_BOOL, no_new_privileges),
  JF (crt_process, "apparmorProfile", J_STR, apparmor_profile),
  JF (crt_process, "oomScoreAdj", J_OPT_I64, oom_score_adj,
      .ranged = true, .min = -1000, .max = 1000),
  JF (crt_process, "scheduler", J_OBJ, scheduler, .type = &scheduler_type),
  JF (crt_process, "selinuxLabel", J_STR, selinux_label),
  JF (crt_process, "ioPriority", J_OBJ, io_priority, .type = &io_priority_type),
  JF (crt_process, "execCPUAffinity", J_OBJ, exec_cpu_affinity, .type = &cpu_affinity_type),
  JEND,
};
const jtype crt_jt_process = { process_fields, sizeof (crt_process), check_process };
