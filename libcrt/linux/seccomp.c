/* linux.seccomp: config.json -> BPF (libseccomp) -> seccomp(2).
 *
 * libseccomp only generates the program (seccomp_export_bpf); crt loads it
 * with the raw system call. That way every flag of the spec can be passed
 * whatever the libseccomp version (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
 * needs libseccomp 2.6 through its API, Debian 12 has 2.5.4), and the load
 * in the container's init is a single syscall on memory compiled in the
 * parent. Because we never call seccomp_load, libseccomp's own
 * no_new_privs handling (SCMP_FLTATR_CTL_NNP) does not apply: the runtime
 * sets NNP itself from process.noNewPrivileges. */
#include "config.h"
#include "seccomp.h"
#include "seccomp_cache.h"
#include "seccomp_filter.h"
#include "seccomp_lib.h"
#include "../spec/names.h"
#include "../util/util.h"

#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif


/* Above this many rules libseccomp's binary tree is faster than its
 * linear list; below it, libseccomp <= 2.5.4 may misbehave with it. */
#define OPTIMIZE_MIN_RULES 32

/* libseccomp, once crt_seccomp_compile has loaded it. */
static const crt_scmp_api *scmp;

/* ---- names ---- */

typedef struct
{
  const char *name;
  uint32_t action;              /* for ERRNO/TRACE: without the data */
  bool takes_errno;
} action_name;

static const action_name actions[] = {
  /* SCMP_ACT_KILL is the historical name of KILL_THREAD. */
  { "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
  { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
  { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
  { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO (0), true },
  { "SCMP_ACT_TRACE", SCMP_ACT_TRACE (0), true },
  { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
  { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
  { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static const char *const action_names[] = {
  "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
  NULL,
};

typedef struct
{
  const char *name;
  enum scmp_compare op;
} operator_name;

static const operator_name operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const char *const operator_names[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
  "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

/* Only the architectures the libseccomp we are built with can generate
 * code for (the newer ones came with 2.6). */
static const char *const arch_names[] = {
  "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
#ifdef SCMP_ARCH_LOONGARCH64
  "SCMP_ARCH_LOONGARCH64",
#endif
#ifdef SCMP_ARCH_M68K
  "SCMP_ARCH_M68K",
#endif
#ifdef SCMP_ARCH_SH
  "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
#endif
  NULL,
};

typedef struct
{
  const char *name;
  unsigned int flag;            /* what crt passes to seccomp(2) */
  unsigned int kernel_flag;     /* the kernel's bit, to probe support */
} flag_name;

static const flag_name flags[] = {
  /* TSYNC is accepted and ignored, as runc does: the init is single
   * threaded, and the kernel refuses TSYNC together with NEW_LISTENER. */
  { "SECCOMP_FILTER_FLAG_TSYNC", 0, SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  /* Only valid along with NEW_LISTENER. */
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER },
};

static const char *const flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

const char *const *
crt_seccomp_known_actions (void)
{
  return action_names;
}

const char *const *
crt_seccomp_known_operators (void)
{
  return operator_names;
}

const char *const *
crt_seccomp_known_archs (void)
{
  return arch_names;
}

const char *const *
crt_seccomp_known_flags (void)
{
  return flag_names;
}

static int
seccomp_syscall (unsigned int op, unsigned int flag_bits, void *args)
{
  return (int) syscall (SYS_seccomp, op, flag_bits, args);
}

bool
crt_seccomp_flag_supported (const char *flag)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (flags); i++)
    if (strcmp (flags[i].name, flag) == 0)
      /* The kernel checks the flags before reading the program: with a
       * NULL program a known flag gives EFAULT, an unknown one EINVAL. */
      return seccomp_syscall (SECCOMP_SET_MODE_FILTER, flags[i].kernel_flag, NULL) < 0
             && errno == EFAULT;
  return false;
}

/* ---- compile ---- */

void
crt_seccomp_filter_free (crt_seccomp_filter *f)
{
  if (f == NULL)
    return;
  free (f->insns);
  crt_strv_free (f->skipped);
  free (f);
}

void
crt_seccomp_filter_freep (crt_seccomp_filter **f)
{
  crt_seccomp_filter_free (*f);
}

bool
crt_seccomp_filter_uses_notify (const crt_seccomp_filter *f)
{
  return f != NULL && f->uses_notify;
}

char *const *
crt_seccomp_filter_skipped (const crt_seccomp_filter *f)
{
  static char *const none[] = { NULL };

  return f != NULL && f->skipped != NULL ? f->skipped : none;
}

static void
release_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx != NULL)
    scmp->seccomp_release (*ctx);
}

static void
add_skipped (crt_seccomp_filter *f, const char *name)
{
  crt_strv_append (&f->skipped, &f->n_skipped, crt_xstrdup (name));
}

/* `path` names the action field, `errno_path` the errnoRet field. */
static int
resolve_action (const char *name, const crt_opt_u32 *errno_ret, const char *path,
                const char *errno_path, uint32_t *out, crt_error **err)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (actions); i++)
    {
      if (strcmp (actions[i].name, name) != 0)
        continue;
      if (!actions[i].takes_errno)
        {
          /* "When the action doesn't support an errno, the runtime MUST
           * print an error and fail." */
          if (errno_ret->set)
            return crt_error_set (err, 0, "%s: not allowed with action %s", errno_path, name);
          *out = actions[i].action;
          return 0;
        }
      /* The filter's return value has 16 bits of data. */
      if (errno_ret->set && errno_ret->value > 0xffff)
        return crt_error_set (err, 0, "%s: %u is out of range (0..65535)", errno_path,
                              errno_ret->value);
      *out = actions[i].action | (errno_ret->set ? errno_ret->value : EPERM);
      return 0;
    }
  return crt_error_set (err, 0, "%s: unknown action \"%s\"", path, name);
}

static int
add_arches (scmp_filter_ctx ctx, const crt_seccomp *s, crt_error **err)
{
  for (size_t i = 0; i < s->n_architectures; i++)
    {
      const char *name = s->architectures[i];
      char token[32];
      size_t n = 0;
      uint32_t arch = 0;
      int ret;

      /* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
      if (crt_str_has_prefix (name, "SCMP_ARCH_") && strlen (name) - 10 < sizeof (token))
        {
          for (const char *p = name + 10; *p; p++)
            token[n++] = (char) tolower ((unsigned char) *p);
          token[n] = '\0';
          arch = scmp->seccomp_arch_resolve_name (token);
        }
      if (arch == 0)
        return crt_error_set (err, 0,
                              "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"", i,
                              name);
      /* The native architecture is always in the filter: EEXIST. */
      ret = scmp->seccomp_arch_add (ctx, arch);
      if (ret < 0 && ret != -EEXIST)
        return crt_error_set (err, -ret, "linux.seccomp.architectures[%zu]: add %s", i, name);
    }
  return 0;
}

static int
resolve_flags (const crt_seccomp *s, unsigned int *out, crt_error **err)
{
  *out = 0;
  for (size_t i = 0; i < s->n_flags; i++)
    {
      size_t j;

      for (j = 0; j < CRT_ARRAY_SIZE (flags); j++)
        if (strcmp (flags[j].name, s->flags[i]) == 0)
          break;
      if (j == CRT_ARRAY_SIZE (flags))
        return crt_error_set (err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i,
                              s->flags[i]);
      *out |= flags[j].flag;
    }
  return 0;
}

static int
resolve_args (const crt_syscall *sc, size_t idx, struct scmp_arg_cmp *cmps, bool *same_index,
              crt_error **err)
{
  unsigned int count[6] = { 0 };

  *same_index = false;
  for (size_t k = 0; k < sc->n_args; k++)
    {
      const crt_seccomp_arg *a = &sc->args[k];
      size_t o;

      if (a->index >= CRT_ARRAY_SIZE (count))
        return crt_error_set (err, 0,
                              "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of range (0..5)",
                              idx, k, a->index);
      for (o = 0; o < CRT_ARRAY_SIZE (operators); o++)
        if (a->op && strcmp (operators[o].name, a->op) == 0)
          break;
      if (o == CRT_ARRAY_SIZE (operators))
        return crt_error_set (err, 0,
                              "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"",
                              idx, k, a->op ? a->op : "");
      /* For MASKED_EQ, value is the mask and valueTwo the expected value. */
      cmps[k] = (struct scmp_arg_cmp) { .arg = a->index, .op = operators[o].op,
                                        .datum_a = a->value, .datum_b = a->value_two };
      if (++count[a->index] > 1)
        *same_index = true;
    }
  return 0;
}

/* One syscalls[] entry. Conditions on distinct arguments are ANDed in one
 * rule. When several conditions test the same argument, each becomes a
 * rule of its own (so they are ORed), as runc and crun do: that is what
 * existing profiles (e.g. Docker's for personality(2)) are written for. */
static int
add_syscall_rules (scmp_filter_ctx ctx, crt_seccomp_filter *f, const crt_syscall *sc, size_t idx,
                   uint32_t action, crt_error **err)
{
  cleanup_free struct scmp_arg_cmp *cmps = crt_xmalloc0 ((sc->n_args + 1) * sizeof (*cmps));
  bool same_index;

  if (resolve_args (sc, idx, cmps, &same_index, err) < 0)
    return -1;
  for (size_t j = 0; j < sc->n_names; j++)
    {
      const char *name = sc->names[j];
      int nr = scmp->seccomp_syscall_resolve_name (name);
      int ret = 0;

      if (nr == __NR_SCMP_ERROR)
        {
          add_skipped (f, name);
          continue;
        }
      if (sc->n_args == 0 || !same_index)
        ret = scmp->seccomp_rule_add_array (ctx, action, nr, (unsigned int) sc->n_args, cmps);
      else
        for (size_t k = 0; k < sc->n_args && ret == 0; k++)
          ret = scmp->seccomp_rule_add_array (ctx, action, nr, 1, &cmps[k]);
      if (ret < 0)
        return crt_error_set (err, -ret, "linux.seccomp.syscalls[%zu]: add rule for `%s`", idx,
                              name);
    }
  return 0;
}

static int
add_syscalls (scmp_filter_ctx ctx, crt_seccomp_filter *f, const crt_seccomp *s,
              uint32_t default_action, crt_error **err)
{
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const crt_syscall *sc = &s->syscalls[i];
      cleanup_free char *path = crt_fmt ("linux.seccomp.syscalls[%zu].action", i);
      cleanup_free char *errno_path = crt_fmt ("linux.seccomp.syscalls[%zu].errnoRet", i);
      uint32_t action;

      if (sc->n_names == 0)
        return crt_error_set (err, 0,
                              "linux.seccomp.syscalls[%zu].names: must contain at least one entry", i);
      if (sc->action == NULL)
        return crt_error_set (err, 0, "%s: missing", path);
      if (resolve_action (sc->action, &sc->errno_ret, path, errno_path, &action, err) < 0)
        return -1;
      /* libseccomp refuses a rule with the default action; it would
       * change nothing anyway. */
      if (action == default_action)
        continue;
      if (action == SCMP_ACT_NOTIFY)
        {
          /* The init passes the listener fd on with sendmsg after the
           * filter is loaded; a notification there would wait forever for
           * an agent that has not got the fd yet (runc has the same rule
           * for write). */
          for (size_t j = 0; j < sc->n_names; j++)
            if (strcmp (sc->names[j], "sendmsg") == 0)
              return crt_error_set (err, 0,
                                    "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot be used for "
                                    "sendmsg (the runtime needs it to pass the listener fd on)", i);
          /* Without an agent, a notified syscall would block forever. */
          if (s->listener_path == NULL || s->listener_path[0] == '\0')
            return crt_error_set (err, 0,
                                  "linux.seccomp.listenerPath: required by the SCMP_ACT_NOTIFY rule "
                                  "of syscalls[%zu]", i);
          f->uses_notify = true;
        }
      if (add_syscall_rules (ctx, f, sc, i, action, err) < 0)
        return -1;
    }
  return 0;
}

/* libseccomp 2.5 exports to an fd only: go through a memfd. */
static int
export_bpf (scmp_filter_ctx ctx, crt_seccomp_filter *f, crt_error **err)
{
  cleanup_close int fd = memfd_create ("crt-seccomp-bpf", MFD_CLOEXEC);
  struct stat st;
  int ret;

  if (fd < 0)
    return crt_error_errno (err, "seccomp: memfd_create");
  ret = scmp->seccomp_export_bpf (ctx, fd);
  if (ret < 0)
    return crt_error_set (err, -ret, "seccomp: generate the BPF program");
  if (fstat (fd, &st) < 0)
    return crt_error_errno (err, "seccomp: fstat the BPF program");
  if (st.st_size <= 0 || st.st_size % sizeof (struct sock_filter) != 0)
    return crt_error_set (err, 0, "seccomp: libseccomp produced a BPF program of %lld bytes",
                          (long long) st.st_size);
  f->n_insns = (size_t) st.st_size / sizeof (struct sock_filter);
  if (f->n_insns > CRT_SECCOMP_MAX_INSNS)
    return crt_error_set (err, 0,
                          "linux.seccomp: the filter has %zu instructions, more than the "
                          "kernel's limit of %d", f->n_insns, CRT_SECCOMP_MAX_INSNS);
  f->insns = crt_xmalloc0 ((size_t) st.st_size);
  if (pread (fd, f->insns, (size_t) st.st_size, 0) != st.st_size)
    return crt_error_errno (err, "seccomp: read the BPF program back");
  return 0;
}

int
crt_seccomp_compile (const crt_seccomp *s, crt_seccomp_filter **out, crt_error **err)
{
  __attribute__ ((cleanup (release_ctx))) scmp_filter_ctx ctx = NULL;
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  uint32_t default_action;

  *out = NULL;
  if (s == NULL)
    return 0;
  if (s->default_action == NULL)
    return crt_error_set (err, 0, "linux.seccomp.defaultAction: missing");
  if (resolve_action (s->default_action, &s->default_errno_ret, "linux.seccomp.defaultAction",
                      "linux.seccomp.defaultErrnoRet", &default_action, err) < 0)
    return -1;
  /* Every syscall of the init after the load would wait for an agent that
   * cannot have the fd yet. */
  if (default_action == SCMP_ACT_NOTIFY)
    return crt_error_set (err, 0,
                          "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

  f = crt_xmalloc0 (sizeof (*f));
  if (resolve_flags (s, &f->flags, err) < 0 || crt_scmp_api_load (&scmp, err) < 0)
    return -1;
  ctx = scmp->seccomp_init (default_action);
  if (ctx == NULL)
    return crt_error_set (err, 0, "seccomp: cannot create a filter with default action %s",
                          s->default_action);
  if (add_arches (ctx, s, err) < 0)
    return -1;
  if (s->n_syscalls > OPTIMIZE_MIN_RULES)
    (void) scmp->seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (add_syscalls (ctx, f, s, default_action, err) < 0)
    return -1;
  if (export_bpf (ctx, f, err) < 0)
    return -1;

  if (f->uses_notify)
    f->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else
    /* Without a listener the flag means nothing, and the kernel refuses
     * it alone (EINVAL): drop it rather than fail a harmless profile. */
    f->flags &= ~(unsigned int) SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  *out = crt_steal_ptr (&f);
  return 0;
}

int
crt_seccomp_compile_cached (const char *root, const crt_seccomp *s, crt_seccomp_filter **out,
                            crt_error **err)
{
  cleanup_free char *key = NULL;
  size_t key_len = 0;

  *out = NULL;
  if (s == NULL)
    return 0;
  key = crt_seccomp_cache_key (s, &key_len);
  if (crt_seccomp_cache_get (root, key, key_len, out) == 1)
    return 0;
  if (crt_seccomp_compile (s, out, err) < 0)
    return -1;
  crt_seccomp_cache_put (root, key, key_len, *out, crt_scmp_api_file (scmp));
  return 0;
}

const char *
crt_seccomp_lib_version (void)
{
  static char buf[48];
  const struct scmp_version *v;

  if (crt_scmp_api_load (&scmp, NULL) < 0 || (v = scmp->seccomp_version ()) == NULL)
    return NULL;
  snprintf (buf, sizeof (buf), "%u.%u.%u", v->major, v->minor, v->micro);
  return buf;
}

bool
crt_seccomp_arch_known (const char *name)
{
  return crt_scmp_api_load (&scmp, NULL) == 0 && scmp->seccomp_arch_resolve_name (name) != 0;
}

/* ---- load ---- */

static const char *
load_hint (int errnum)
{
  switch (errnum)
    {
    case EACCES:
      return "the process needs no_new_privs or CAP_SYS_ADMIN: "
             "load before dropping capabilities";
    case EINVAL:
      return "a flag of linux.seccomp.flags may be unknown to this kernel";
    default:
      return NULL;
    }
}

int
crt_seccomp_load (const crt_seccomp_filter *f, int *notify_fd, crt_error **err)
{
  struct sock_fprog prog;
  int ret;

  if (notify_fd)
    *notify_fd = -1;
  if (f == NULL)
    return 0;
  prog.len = (unsigned short) f->n_insns;
  prog.filter = f->insns;
  ret = seccomp_syscall (SECCOMP_SET_MODE_FILTER, f->flags, &prog);
  if (ret < 0)
    {
      int e = errno;
      const char *hint = load_hint (e);
      bool fresh = err != NULL && *err == NULL;

      if (hint == NULL)
        return crt_error_set (err, e, "load the seccomp filter");
      /* The hint reads better after the reason than before it. */
      crt_error_set (err, 0, "load the seccomp filter: %s (%s)", crt_strerror (e), hint);
      if (fresh && *err)
        (*err)->errnum = e;
      return -1;
    }
  /* With NEW_LISTENER the result is the listener fd (close-on-exec). */
  if (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
    {
      if (notify_fd)
        *notify_fd = ret;
      else
        close (ret);
    }
  return 0;
}
