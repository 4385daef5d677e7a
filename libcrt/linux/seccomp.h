/* linux.seccomp: compile the filter of config.json with libseccomp, load
 * it with seccomp(2), and hand the notify listener fd to a seccomp agent.
 *
 * The filter is compiled to BPF early (in the parent, before any
 * privilege drop) so a bad profile fails `create` with the JSON path in
 * the message; loading it is then one system call, which the init does as
 * late as possible so crt's own setup is not filtered.
 *
 * Order the caller must respect when loading: seccomp(2) accepts a filter
 * only from a process with no_new_privs set or with CAP_SYS_ADMIN in its
 * user namespace. With process.noNewPrivileges, load after it is set (the
 * last step before execve); without it, load while the init still has
 * CAP_SYS_ADMIN, i.e. before the user switch and the capability drop
 * (runc does the same). */
#ifndef CRT_SECCOMP_H
#define CRT_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../spec/spec.h"

typedef struct crt_seccomp_filter crt_seccomp_filter;

/* Build the BPF program of `s` without loading it. s == NULL means no
 * seccomp: *out is set to NULL and 0 returned. Errors name the JSON path,
 * e.g. "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"".
 * Syscall names this libseccomp does not know are skipped (so a profile
 * written for a newer kernel still loads); see crt_seccomp_filter_skipped. */
int crt_seccomp_compile (const crt_seccomp *s, crt_seccomp_filter **out, crt_error **err);

/* The same through the cache under root (seccomp_cache.h): libseccomp
 * is loaded and the profile compiled only on a miss. root NULL: no cache. */
int crt_seccomp_compile_cached (const char *root, const crt_seccomp *s, crt_seccomp_filter **out,
                                crt_error **err);

/* libseccomp's version ("2.5.4"), or NULL when it cannot be loaded. */
const char *crt_seccomp_lib_version (void);
/* Does libseccomp know the architecture ("x86_64", its lower-case name)? */
bool crt_seccomp_arch_known (const char *name);

/* Load the filter into the calling thread with seccomp(2) and the flags of
 * linux.seccomp.flags. When the filter has SCMP_ACT_NOTIFY rules, the
 * listener fd (close-on-exec) is returned in *notify_fd, else -1 is. f ==
 * NULL loads nothing. Uses no allocation and no libseccomp call, so it is
 * safe in a freshly forked child. */
int crt_seccomp_load (const crt_seccomp_filter *f, int *notify_fd, crt_error **err);

void crt_seccomp_filter_free (crt_seccomp_filter *f);
void crt_seccomp_filter_freep (crt_seccomp_filter **f);
#define cleanup_seccomp_filter __attribute__ ((cleanup (crt_seccomp_filter_freep)))

/* True when loading f yields a notify listener fd (an SCMP_ACT_NOTIFY
 * rule survived compilation). */
bool crt_seccomp_filter_uses_notify (const crt_seccomp_filter *f);

/* The syscall names that were skipped as unknown (NULL-terminated, owned
 * by f), for a debug log line at create. */
char *const *crt_seccomp_filter_skipped (const crt_seccomp_filter *f);

/* Connect to s->listenerPath (AF_UNIX, SOCK_STREAM) and send, in one
 * connection that is then closed, the container process state of
 * runtime-spec config-linux.md: {"ociVersion", "fds": ["seccompFd"],
 * "pid", "metadata" (listenerMetadata, when set), "state": state_json}
 * with notify_fd as SCM_RIGHTS. state_json is the state object (as `crt
 * state` prints it). notify_fd stays open: the caller closes it. */
int crt_seccomp_send_notify_fd (const crt_seccomp *s, int notify_fd, const char *state_json,
                                pid_t pid, crt_error **err);

/* For `crt features`: the names this build recognizes (NULL-terminated,
 * static). Flags: every known flag is accepted; supported tells whether
 * the running kernel has it. */
const char *const *crt_seccomp_known_actions (void);
const char *const *crt_seccomp_known_operators (void);
const char *const *crt_seccomp_known_archs (void);
const char *const *crt_seccomp_known_flags (void);
bool crt_seccomp_flag_supported (const char *flag);

#endif
