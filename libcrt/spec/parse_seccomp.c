/* config.json "linux.seccomp". */
#include "config.h"
#include "spec.h"
#include "names.h"
#include "parse.h"

static const jfield seccomp_arg_fields[] = {
  /* seccomp filters see the six syscall arguments only. */
  JF (crt_seccomp_arg, "index", J_U32, index, .required = true,
      .ranged = true, .min = 0, .max = 5),
  JF (crt_seccomp_arg, "value", J_U64, value, .required = true),
  JF (crt_seccomp_arg, "valueTwo", J_U64, value_two),
  JF (crt_seccomp_arg, "op", J_STR, op, .required = true,
      .names = crt_seccomp_operator_names, .noun = "seccomp operator"),
  JEND,
};
static const jtype seccomp_arg_type = { seccomp_arg_fields, sizeof (crt_seccomp_arg), NULL };

static int
check_syscall (jctx *c, yajl_val v, void *base)
{
  crt_syscall *s = base;

  if (s->n_names == 0)
    return jctx_fail_at (c, "names", "must contain at least one entry");
  return 0;
}

static const jfield syscall_fields[] = {
  JL (crt_syscall, "names", J_STRV, names, .required = true),
  JF (crt_syscall, "action", J_STR, action, .required = true,
      .names = crt_seccomp_action_names, .noun = "seccomp action"),
  JF (crt_syscall, "errnoRet", J_OPT_U32, errno_ret),
  JL (crt_syscall, "args", J_ARRAY, args, .type = &seccomp_arg_type),
  JEND,
};
static const jtype syscall_type = { syscall_fields, sizeof (crt_syscall), check_syscall };

static const jfield seccomp_fields[] = {
  JF (crt_seccomp, "defaultAction", J_STR, default_action, .required = true,
      .names = crt_seccomp_action_names, .noun = "seccomp action"),
  JF (crt_seccomp, "defaultErrnoRet", J_OPT_U32, default_errno_ret),
  JL (crt_seccomp, "architectures", J_STRV, architectures,
      .names = crt_seccomp_arch_names, .noun = "seccomp architecture"),
  JL (crt_seccomp, "flags", J_STRV, flags, .names = crt_seccomp_flag_names,
      .noun = "seccomp flag"),
  JF (crt_seccomp, "listenerPath", J_STR, listener_path),
  JF (crt_seccomp, "listenerMetadata", J_STR, listener_metadata),
  JL (crt_seccomp, "syscalls", J_ARRAY, syscalls, .type = &syscall_type),
  JEND,
};
const jtype crt_jt_seccomp = { seccomp_fields, sizeof (crt_seccomp), NULL };
