/* Foreground supervision shared by `run` and `exec`: crt stays the
 * parent, forwards the signals it gets, and hands back the exit status. */
#ifndef CRT_SUPERVISE_H
#define CRT_SUPERVISE_H

#include <signal.h>
#include <sys/types.h>

#include "../error.h"

/* Block every forwardable signal and open a signalfd for them (plus
 * SIGCHLD). *saved gets the previous mask, for the child's exec. */
int crt_supervise_begin (sigset_t *saved, int *sigfd, crt_error **err);

typedef struct crt_supervision
{
  pid_t pid;                    /* our child: the container's init or an exec'd process */
  int pidfd;
  int sigfd;                    /* from crt_supervise_begin */
  int pty_master;               /* a console to proxy, or -1 */
  int notify_fd;                /* the container's NOTIFY_SOCKET to relay, or -1 */
  const char *notify_host;      /* ... to this host socket */
} crt_supervision;

/* Forward signals to the process until it exits; *status is its wait
 * status. With a pty master, also copy our stdin to it and it to our
 * stdout (in raw mode when stdin is a terminal) and pass window size
 * changes on. With a notify socket, relay READY=1 to the host. */
int crt_supervise (const crt_supervision *s, int *status, crt_error **err);

/* exit code, or 128+N for a process killed by signal N (like a shell). */
int crt_exit_code_of (int status);

#endif
