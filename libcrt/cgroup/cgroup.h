/* cgroup v2: where a container's cgroup lives, making and removing it,
 * and acting on all of its processes (kill, freeze, list). crt manages
 * the unified hierarchy only; on a hybrid host that is the cgroup2 mount
 * beside the v1 controllers. */
#ifndef CRT_CGROUP_H
#define CRT_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "../crt.h"
#include "../spec/spec.h"

/* Where the cgroup2 hierarchy is mounted ("/sys/fs/cgroup" on a pure v2
 * host, "/sys/fs/cgroup/unified" on a hybrid one). Cached. */
int crt_cgroup_mountpoint (const char **out, crt_error **err);

/* The container's cgroup, relative to the hierarchy root, starting with
 * '/': linux.cgroupsPath when absolute; under crt's own cgroup when
 * relative; "/crt/<id>" when unset. NULL (and 0) when cgroups are
 * disabled by --cgroup-manager=disabled, and with the systemd driver
 * (systemd makes the cgroup: cgroup/systemd.h). */
int crt_cgroup_path_for (const crt_context *ctx, const crt_spec *spec, const char *id,
                         char **out, crt_error **err);

/* The cgroup pid is in (0: crt itself), from the "0::" line of
 * /proc/PID/cgroup. */
int crt_cgroup_of_pid (pid_t pid, char **out, crt_error **err);

/* Make the cgroup (and its parents), enable the available controllers
 * in the parents, and return an O_DIRECTORY fd of it for
 * CLONE_INTO_CGROUP. Fails if the cgroup already holds processes. */
int crt_cgroup_create (const char *path, int *dirfd, crt_error **err);

/* Write linux.resources into the cgroup's files (cgroup/resources.c),
 * and the device rules as an eBPF program (cgroup/devices_bpf.c). Fails
 * naming the controller when the hierarchy lacks it. Used by create and
 * by update. */
int crt_cgroup_apply_resources (int dirfd, const crt_resources *r, bool rootless,
                                crt_error **err);
/* The JSON path of the first limit r asks for ("linux.resources.memory"),
 * or NULL when it asks none (device rules are not limits): a rootless
 * container without a cgroup it can write may run only then. */
const char *crt_resources_first_limit (const crt_resources *r);

/* An O_DIRECTORY fd of an existing cgroup (for CLONE_INTO_CGROUP). */
int crt_cgroup_open (const char *path, int *dirfd, crt_error **err);

/* Put pid into the cgroup (when the clone could not). */
int crt_cgroup_enter (int dirfd, pid_t pid, crt_error **err);
/* chown of the cgroup and its delegatable files to uid:gid. */
int crt_cgroup_delegate (int dirfd, uid_t uid, gid_t gid, crt_error **err);

/* Remove the cgroup once its processes are gone, killing stragglers
 * first; retries briefly while the kernel finishes their exit. */
int crt_cgroup_destroy (const char *path, crt_error **err);

/* Signal every process in the cgroup (SIGKILL through cgroup.kill; any
 * other signal with the cgroup frozen, so nothing forks past it). */
int crt_cgroup_kill (const char *path, int sig, crt_error **err);

/* cgroup.freeze, waiting until cgroup.events reports the new state. */
int crt_cgroup_freeze (const char *path, bool frozen, crt_error **err);
/* 1 frozen, 0 not, -1 no such cgroup. */
int crt_cgroup_is_frozen (const char *path);

/* The pids in cgroup.procs (of the cgroup and its descendants). */
int crt_cgroup_pids (const char *path, pid_t **out, size_t *n, crt_error **err);

#endif
