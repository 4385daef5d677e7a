/* Namespaces: creating them with one clone, joining them by path, and the
 * user namespace id maps. */
#ifndef CRT_NAMESPACES_H
#define CRT_NAMESPACES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../spec/spec.h"

/* The namespace plan of a container, made by the parent before clone. */
typedef struct crt_ns_plan
{
  int clone_flags;              /* CLONE_NEW* to create in the clone */
  int join_fd[CRT_NS__COUNT];   /* fds of namespaces to join, -1 if none */
  bool userns;                  /* the container has a user ns (new or joined) */
  bool new_userns;              /* ... created by the clone */
  bool new_timens;              /* a new time ns: made by the init itself */
  bool private_netns;           /* a network ns of its own (new or joined) */
  bool pid_after_join;          /* a new pid ns in a user ns joined by path: the
                                   init makes it after joining, then forks */
  bool dumpable_until_maps;     /* unprivileged crt writes the maps: the init
                                   is dumpable until then (CRT_SYNC_DUMPABLE) */
} crt_ns_plan;

/* Open and type-check every namespace path of the spec, compute the
 * clone flags. Fails with a message naming linux.namespaces[i].path when
 * a path is not a namespace of that type. */
int crt_ns_plan_make (const crt_spec *spec, crt_ns_plan *plan, crt_error **err);
void crt_ns_plan_release (crt_ns_plan *plan);

/* Whether we may setns back into our own pid namespace once we joined
 * another for our children: only with CAP_SYS_ADMIN over the user
 * namespace that owns it, i.e. when that one is ours (not so for root
 * in a user namespace, as crt under rootless podman). */
bool crt_ns_own_pid_ns_reenterable (void);

/* clone3 (fork-like: returns 0 in the child, the pid in the parent) with
 * plan->clone_flags, straight into the cgroup cgroup_fd (unless -1). pid
 * and time namespaces given by path are entered for the child only: the
 * caller's own namespaces are unchanged on return. *pidfd gets a pidfd
 * of the child (or -1 when not available). *in_cgroup tells whether the
 * kernel put the child into the cgroup (else the caller must). */
pid_t crt_ns_clone (const crt_ns_plan *plan, int cgroup_fd, int *pidfd, bool *in_cgroup,
                    crt_error **err);

/* The host id that container id `id` maps to through `maps` (without
 * mappings, crt's default map: 0 is `own`), or -1 when it is unmapped. */
int64_t crt_id_map_host (const crt_id_mapping *maps, size_t n, uint32_t own, uint32_t id);

/* Parent: write uid_map and gid_map of the child's new user namespace
 * (id_maps.c: directly, or through newuidmap/newgidmap when crt is
 * unprivileged and the maps are more than its own ids). */
int crt_ns_write_id_maps (pid_t pid, const crt_linux *linux_, crt_error **err);

/* Child: join the namespaces given by path (user first, then the others;
 * a pid ns given by path was entered at clone). After joining a user
 * namespace, the new ones are created there so it owns them; a new pid
 * namespace then applies to our children (plan->pid_after_join: fork). */
int crt_ns_join_paths (const crt_ns_plan *plan, crt_error **err);

/* A new time namespace in three steps: the init unshares one (for its
 * children), crt writes linux.timeOffsets into /proc/PID/timens_offsets
 * (the init's /proc files belong to the host's root once it is in a new
 * user namespace: it is non-dumpable), then the init enters it; offsets
 * can only be set before any process is in it. Unprivileged crt can
 * write them only while the init is dumpable: the init unshares time
 * first thing in that window and crt writes them with the id maps. */
int crt_ns_unshare_time (crt_error **err);
int crt_ns_write_time_offsets (pid_t pid, const crt_linux *linux_, crt_error **err);
int crt_ns_enter_unshared_time (crt_error **err);

#endif
