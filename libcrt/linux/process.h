/* The container process's attributes: everything of runtime-spec
 * `process` that is applied to the calling process just before execve.
 * Used both by the container's init and by `crt exec`. */
#ifndef CRT_PROCESS_H
#define CRT_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "../spec/spec.h"

/* Find args[0] like execvp, but with PATH taken from proc->env (the
 * container's environment), in the container's filesystem. Called before
 * the init reports "ready", so `create` fails for a missing program.
 * *out is malloc'ed. */
int crt_process_find_executable (const crt_process *proc, char **out, crt_error **err);

/* Create process.cwd inside the container's root if it is missing (the
 * init does, before the root may become read-only; `exec` does not: its
 * cwd must exist, as with runc and crun). */
int crt_process_make_cwd (const crt_process *proc, crt_error **err);

/* Apply, in this order: rlimits, personality (from linux_,
 * may be NULL), scheduler, ioPriority, cwd (resolved inside the root
 * with no magic link, entered as root when root may, and refused if the
 * kernel places it outside the root), bounding set, user (additionalGids, gid, uid,
 * keeping capabilities across the switch), cwd again as the user if root
 * was refused, the other capability sets, umask, noNewPrivileges.
 * Called after pivot_root; the environment is left to crt_process_exec. */
int crt_process_setup (const crt_process *proc, const crt_linux *linux_, crt_error **err);

/* Mark every fd >= 3 + preserve_fds close-on-exec, then execve(exe,
 * args, env): process.env as given, plus HOME from the container's
 * /etc/passwd (or "/") when it has none, as runc and crun do. Returns
 * only on failure. */
int crt_process_exec (const crt_process *proc, const char *exe, int preserve_fds,
                      crt_error **err);

/* linux.sysctl, written under /proc/sys (after pivot_root). */
int crt_sysctl_apply (const crt_linux *linux_, crt_error **err);

/* Refuse linux.sysctl keys that are malformed or would change the host:
 * a key is only allowed when the namespace it belongs to is the
 * container's own (ipc, network or uts); anything else is refused. */
int crt_sysctl_validate (const crt_spec *spec, crt_error **err);

/* ---- the steps of crt_process_setup, one file each ---- */

/* rlimits.c: process.rlimits, resources already resolved by the parser. */
int crt_rlimits_apply (const crt_process *proc, crt_error **err);

/* sched.c: process.oomScoreAdj (untouched when unset), of pid (0: the
 * caller). Not part of crt_process_setup: in a user namespace the
 * process's /proc files belong to the host's root (it is non-dumpable,
 * see crt_ns_clone), so the init's value is written by crt, and an exec
 * child writes its own before it joins the container's user namespace. */
int crt_oom_score_adj_apply (pid_t pid, const crt_process *proc, crt_error **err);
/* sched.c: linux.personality (NULL = nothing to do). */
int crt_personality_apply (const crt_personality *pers, crt_error **err);
/* sched.c: process.scheduler via sched_setattr (NULL = nothing to do). */
int crt_scheduler_apply (const crt_scheduler *sched, crt_error **err);
/* sched.c: process.ioPriority via ioprio_set (NULL = nothing to do). */
int crt_io_priority_apply (const crt_io_priority *prio, crt_error **err);
/* linux.memoryPolicy on the calling thread (set_mempolicy); NULL: nothing. */
int crt_memory_policy_apply (const crt_memory_policy *m, crt_error **err);
/* A CPU list ("0-3,7") as the affinity of pid (0: the caller); NULL or
 * empty: nothing. field names the JSON field in errors. */
int crt_cpu_affinity_apply (pid_t pid, const char *list, const char *field, crt_error **err);
/* Reset pid's affinity to every CPU its cgroup cpuset allows (a full
 * mask: the kernel keeps the CPUs of the cpuset that are online), so a
 * container does not inherit crt's (Linux >= 6.2 keeps a caller's mask
 * even where the cpuset allows more; runc #4858). Best effort, as runc:
 * a failure leaves the inherited mask. */
void crt_cpu_affinity_reset (pid_t pid);
/* A child just cloned starts on its parent's CPU, and (seen on 2-vCPU
 * VMs, the other vCPU idle) waits there until the parent blocks: what
 * the parent does meanwhile does not overlap the child's work. Give pid
 * every CPU we may use but ours (none left: nothing changes);
 * crt_cpu_affinity_reset widens its mask afterwards. */
void crt_cpu_move_off_ours (pid_t pid);

/* user.c: supplementary groups, gid, then uid. Capabilities in the
 * permitted set survive the uid change (PR_SET_KEEPCAPS); the effective
 * set is emptied by the kernel when leaving uid 0. */
int crt_user_switch (const crt_user *user, crt_error **err);

#endif
