/* The container process's attributes: everything of runtime-spec
 * `process` that is applied to the calling process just before execve.
 * Used both by the container's init and by `crt exec`. */
#ifndef CRT_PROCESS_H
#define CRT_PROCESS_H

#include <stdbool.h>

#include "../spec/spec.h"

/* Find args[0] like execvp, but with PATH taken from proc->env (the
 * container's environment), in the container's filesystem. Called before
 * the init reports "ready", so `create` fails for a missing program.
 * *out is malloc'ed. */
int crt_process_find_executable (const crt_process *proc, char **out, crt_error **err);

/* Apply, in this order: rlimits, oomScoreAdj, personality (from linux_,
 * may be NULL), scheduler, ioPriority, user (additionalGids, gid, uid,
 * keeping capabilities across the switch), capabilities, cwd, umask,
 * noNewPrivileges. */
int crt_process_setup (const crt_process *proc, const crt_linux *linux_, crt_error **err);

/* Mark every fd >= 3 + preserve_fds close-on-exec, then execve(exe,
 * args, env). Returns only on failure. */
int crt_process_exec (const crt_process *proc, const char *exe, int preserve_fds,
                      crt_error **err);

/* linux.sysctl, written under /proc/sys (after pivot_root). */
int crt_sysctl_apply (const crt_linux *linux_, crt_error **err);

#endif
