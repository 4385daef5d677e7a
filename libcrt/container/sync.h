/* The parent <-> container init protocol over a SOCK_SEQPACKET pair: one
 * message per send, so a message is never split or merged. */
#ifndef CRT_SYNC_H
#define CRT_SYNC_H

#include <stdint.h>

#include "../error.h"

typedef enum
{
  CRT_SYNC_ID_MAPS_DONE = 1,    /* parent -> init: uid/gid maps written */
  CRT_SYNC_READY,               /* init -> parent: set up, waiting for start */
  CRT_SYNC_DETACH,              /* parent -> init: state saved; I may exit now (value:
                                   the parent's ignored signals, crt_ignored_signals) */
  CRT_SYNC_ERROR,               /* init -> parent: errnum + message; init exits */
  CRT_SYNC_PTY_MASTER,          /* init -> parent: the console's pty master (SCM_RIGHTS) */
  CRT_SYNC_INIT_PID,            /* first child -> parent: the pid of the init it forked
                                   into a new pid namespace (value); it then exits */
  CRT_SYNC_NAMESPACES_READY,    /* init -> parent: all its namespaces exist (sent only
                                   when linux.netDevices needs them) */
  CRT_SYNC_RUN_CREATE_HOOKS,    /* init -> parent: namespaces and mounts are ready: run
                                   prestart and createRuntime hooks now */
  CRT_SYNC_HOOKS_DONE,          /* parent -> init: they succeeded, go on */
  CRT_SYNC_SECCOMP_FD,          /* init -> parent: the seccomp notify listener (SCM_RIGHTS),
                                   for linux.seccomp.listenerPath */
  CRT_SYNC_START,               /* start -> init (start socket): exec the program (from
                                   `run`'s parent, on the sync channel: value as DETACH's) */
  CRT_SYNC_TIME_UNSHARED,       /* init -> parent: write the time offsets now */
  CRT_SYNC_TIME_OFFSETS_DONE,   /* parent -> init: written, enter the time namespace */
  CRT_SYNC_PLACED,              /* parent -> exec child: in the cgroup, affinity set: go on */
  CRT_SYNC_CGROUP_READY,        /* parent -> init: systemd's scope holds you now (the
                                   systemd driver only; the init's first message) */
  CRT_SYNC_DUMPABLE,            /* init -> parent: dumpable now, write my id maps
                                   (unprivileged crt only: plan.dumpable_until_maps) */
} crt_sync_type;

int crt_sync_send (int fd, crt_sync_type type, crt_error **err);
/* Send an error object (the init's last words). Never fails loudly. */
void crt_sync_send_error (int fd, const crt_error *e);
/* A message that carries a number, and waiting for one. */
int crt_sync_send_value (int fd, crt_sync_type type, int32_t value, crt_error **err);
int crt_sync_expect_value (int fd, crt_sync_type expect, int32_t *value, crt_error **err);

/* START or DETACH, the parent's last word to the init: it carries the
 * signals we ignore (crt_ignored_signals), which the init, a fork of
 * ours, inherited and resets before its exec. */
int crt_sync_send_release (int fd, crt_sync_type type, crt_error **err);
/* A message that carries one fd. */
int crt_sync_send_fd (int fd, crt_sync_type type, int payload_fd, crt_error **err);
/* Wait for any message; *type gets its type, *payload_fd a passed fd
 * (or -1). An ERROR message becomes *err. */
int crt_sync_recv (int fd, crt_sync_type *type, int *payload_fd, crt_error **err);
/* Wait for a message of type `expect`. An ERROR message from the init
 * becomes *err as it was made there; EOF means the other side died. */
int crt_sync_expect (int fd, crt_sync_type expect, crt_error **err);

#endif
