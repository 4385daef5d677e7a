/* libseccomp, loaded on first use. It only generates BPF, which crt
 * caches under its root dir (seccomp_cache.c): a `run` or `exec` whose
 * profile was compiled before never needs it, so linking it would cost
 * every command its loading, relocation and the memory it maps. */
#ifndef CRT_LINUX_SECCOMP_LIB_H
#define CRT_LINUX_SECCOMP_LIB_H

#include <seccomp.h>

#include "../error.h"

/* Every libseccomp function crt calls: one list, for the table and its
 * loader. */
#define CRT_SCMP_FUNCTIONS(X)                                                            \
  X (seccomp_init)                                                                       \
  X (seccomp_release)                                                                    \
  X (seccomp_arch_resolve_name)                                                          \
  X (seccomp_arch_add)                                                                   \
  X (seccomp_attr_set)                                                                   \
  X (seccomp_syscall_resolve_name)                                                       \
  X (seccomp_rule_add_array)                                                             \
  X (seccomp_export_bpf)                                                                 \
  X (seccomp_version)

/* The functions, each member named as the function it points to. */
typedef struct crt_scmp_api
{
#define CRT_SCMP_MEMBER(f) __typeof__ (f) *f;
  CRT_SCMP_FUNCTIONS (CRT_SCMP_MEMBER)
#undef CRT_SCMP_MEMBER
} crt_scmp_api;

/* libseccomp.so.2 and all of the functions above, loaded once per
 * process; the error names the library and what the loader said. In a
 * static crt (configure --enable-static-binary) libseccomp is linked in
 * and nothing is loaded. */
int crt_scmp_api_load (const crt_scmp_api **out, crt_error **err);

/* The file that holds the loaded libseccomp, which the seccomp cache
 * records to see an upgrade (NULL when unknown): the shared library, or
 * in a static crt, crt itself. */
const char *crt_scmp_api_file (const crt_scmp_api *api);

#endif
