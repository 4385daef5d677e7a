/* NOTIFY_SOCKET: systemd's readiness protocol through the container.
 * When crt runs with NOTIFY_SOCKET set, the container gets a socket of
 * its own at /run/notify/notify.sock (a bind mount of the state dir's
 * notify/), and crt relays the program's READY=1 to the host socket, as
 * runc and crun do: `start` (or `run`) returns once the program is ready. */
#ifndef CRT_NOTIFY_H
#define CRT_NOTIFY_H

#include <stdbool.h>

#include "../spec/spec.h"

#define CRT_NOTIFY_DIR "notify"
#define CRT_NOTIFY_CONTAINER_DIR "/run/notify"
#define CRT_NOTIFY_CONTAINER_SOCKET "/run/notify/notify.sock"

/* create: when NOTIFY_SOCKET is set, make <state_dir>/notify, add its
 * bind mount and the NOTIFY_SOCKET variable to spec, and return the host
 * socket in *host_socket (NULL when there is none). */
int crt_notify_prepare (crt_spec *spec, int state_dirfd, const char *state_dir,
                        char **host_socket, crt_error **err);

/* start/run: bind the container's socket, before the program runs. */
int crt_notify_listen (int state_dirfd, const char *state_dir, int *fd, crt_error **err);

/* Read one message from fd; forward it to host_socket if it says
 * READY=1. Returns 1 when it was forwarded, 0 for other messages. */
int crt_notify_relay (int fd, const char *host_socket, crt_error **err);

/* Relay what is queued on fd already, without waiting, up to a READY=1
 * and at most CRT_NOTIFY_DRAIN_MAX messages: the program may have said
 * READY=1 and exited before crt looked. Returns 1 when READY=1 was
 * forwarded, 0 otherwise. */
#define CRT_NOTIFY_DRAIN_MAX 1024
int crt_notify_relay_queued (int fd, const char *host_socket, crt_error **err);

/* Relay until READY=1, or until the process behind pidfd exits. */
int crt_notify_wait_ready (int fd, int pidfd, const char *host_socket, crt_error **err);

#endif
