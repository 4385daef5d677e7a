/* Internals shared by the lifecycle operations. */
#ifndef CRT_CONTAINER_H
#define CRT_CONTAINER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../crt.h"
#include "../linux/namespaces.h"
#include "../spec/spec.h"
#include "state.h"

/* A container just made by crt_launch(): its init is set up and blocked
 * on the start socket (or, for `run`, on sync_fd); the state directory is
 * still locked (dirfd). */
typedef struct crt_launched
{
  crt_spec *spec;
  crt_state_record rec;
  int dirfd;
  pid_t pid;
  int pidfd;
  int pty_master;               /* the console for a foreground run, or -1 */
  int sync_fd;                  /* start_here: the init waits for START on it; else -1 */
  bool start_sent;              /* start_here: START is on sync_fd already (sent early) */
} crt_launched;

void crt_launch_release (crt_launched *l);

struct crt_seccomp_filter;

/* What the container's init needs, prepared by the parent before clone. */
typedef struct crt_init_args
{
  const struct crt_seccomp_filter *seccomp;  /* compiled linux.seccomp, or NULL */
  const char *id;
  const crt_spec *spec;
  const crt_ns_plan *plan;
  const char *rootfs;
  const char *bundle;           /* relative bind sources are relative to it */
  int sync_fd;
  int start_fd;                 /* listening: `start` connects here; -1: START comes
                                   over sync_fd (run: the parent releases the init) */
  int state_dirfd;              /* the parent's locked state dir: closed at once */
  int devices_fd;               /* userns device nodes (crt_devices_prepare), or -1 */
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  /* The systemd driver: wait for CGROUP_READY before anything else, and
   * make the cgroup namespace only then (rooted in the scope). */
  bool wait_cgroup;
  bool unshare_cgroupns;
  bool no_cgroup;               /* rootless, running without a cgroup of its own */
  /* The parent sets lo up in the new network namespace meanwhile. */
  bool loopback_by_parent;
} crt_init_args;

/* The container's init: sets everything up, reports READY, waits for
 * start, execs. Never returns. */
__attribute__ ((noreturn)) void crt_init_run (const crt_init_args *a);

/* In a container process (init or exec'd), before the user switch: a
 * pty of the container's devpts becomes our console; its master goes to
 * the parent over sync_fd. The init also binds it onto /dev/console. */
int crt_child_setup_console (int sync_fd, const crt_process *proc, bool bind_dev_console,
                             crt_error **err);

/* Load the seccomp filter; a notify listener goes to the parent over
 * sync_fd, which hands it to the seccomp agent. */
int crt_child_load_seccomp (int sync_fd, const struct crt_seccomp_filter *filter,
                            crt_error **err);

/* Create the container (the body of `create`, and the first half of
 * `run`). foreground: crt stays to proxy a terminal (so process.terminal
 * needs no console socket). start_here: this process starts it too
 * (`run`): no start socket, the init waits for START on out->sync_fd. */
int crt_launch (crt_context *ctx, const char *id, const crt_create_options *opts, bool foreground,
                bool start_here, crt_launched *out, crt_error **err);

/* Release the init of a created container, through its start socket
 * (sync_fd < 0) or over the sync channel crt_launch kept (sync_fd; START
 * is not sent again when start_sent), and wait until it has exec'd its
 * program (or failed to). */
int crt_release_init (int dirfd, int sync_fd, bool start_sent, const crt_state_record *rec,
                      crt_error **err);

/* Bind and listen on the start socket in the state directory. */
int crt_start_socket_listen (int dirfd, int *fd, crt_error **err);

/* prestart (deprecated, same moment) then createRuntime, in crt's own
 * namespaces, for the init pid whose namespaces and mounts exist: at
 * create, and at restore when criu has set up the namespaces. */
int crt_run_create_runtime_hooks (const crt_spec *spec, const char *id, pid_t pid,
                                  const char *bundle, crt_error **err);

/* Release it (as crt_release_init), first binding the container's
 * notify socket when NOTIFY_SOCKET is relayed (*notify_fd, else -1),
 * then run the poststart hooks of spec (NULL: of the state dir's copy of
 * config.json). When one fails the container is killed and destroyed
 * (its poststop hooks run) before -1 is returned. */
int crt_start_and_notify (crt_context *ctx, int dirfd, int sync_fd, bool start_sent,
                          const crt_spec *spec, const crt_state_record *rec, int *notify_fd,
                          crt_error **err);

/* Kill the container's processes with sig and wait until the init is gone. */
int crt_kill_and_wait (const crt_state_record *rec, int sig, crt_error **err);

/* Remove a stopped container's state (and, later, its cgroup). */
int crt_destroy (crt_context *ctx, const char *id, int dirfd, crt_error **err);
/* The same with the spec and state record the caller has already (each
 * NULL: read from the state dir), as `run` has them in memory. */
int crt_destroy_known (crt_context *ctx, const char *id, int dirfd, const crt_spec *spec,
                       const crt_state_record *rec, crt_error **err);

/* Pieces of create that restore uses too (create.c). */
/* config_path (NULL: <bundle>/config.json) read, parsed and validated. */
int crt_load_config (const char *config_path, const char *bundle, char **text, crt_spec **spec,
                     crt_error **err);
/* root.path, resolved against the bundle: an existing directory. */
int crt_resolve_rootfs (const char *bundle, const crt_spec *spec, char **rootfs,
                        crt_error **err);
/* The state record of a container whose init is pid (0: none yet). */
void crt_fill_record (crt_state_record *rec, const char *id, const crt_spec *spec,
                      const char *bundle, const char *rootfs, pid_t pid, const char *cgroup_path);
/* The container's cgroup (none with --cgroup-manager=disabled: *made
 * stays NULL), named first in a state record in dirfd so that `delete`
 * finds it whatever happens next, with linux.resources applied. */
int crt_make_cgroup (crt_context *ctx, const crt_spec *spec, const char *id, const char *bundle,
                     const char *rootfs, int dirfd, char **made, int *cgroup_fd, crt_error **err);
int crt_write_pid_file (const char *path, pid_t pid, crt_error **err);
/* With a new user namespace whose root is mapped: the container's cgroup
 * (cgroup_fd, or the scope's cgroup path) delegated to that root. */
int crt_delegate_cgroup (const crt_spec *spec, int cgroup_fd, const char *scope_cgroup,
                         crt_error **err);

#endif
