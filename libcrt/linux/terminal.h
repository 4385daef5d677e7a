/* Terminals: the console of a container whose process.terminal is true.
 * The pty is allocated inside the container (its own devpts), its master
 * goes to the --console-socket (as runc and crun do, for conmon and
 * containerd) or to a foreground crt that copies it to its own terminal. */
#ifndef CRT_TERMINAL_H
#define CRT_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "../spec/spec.h"

/* In the container, after pivot_root: a new pty from /dev/ptmx. */
int crt_terminal_open (int *master, int *slave, crt_error **err);

/* Bind the pty slave onto the container's /dev/console, as runc does,
 * so programs that write to the console reach the terminal. */
int crt_terminal_bind_console (int slave, crt_error **err);

/* Make slave the session's controlling terminal and the stdio of the
 * process, owned by the process's user, with process.consoleSize. */
int crt_terminal_become_console (int slave, const crt_process *proc, crt_error **err);

/* Send master to the AF_UNIX socket at path (SCM_RIGHTS), runc's way:
 * one message whose data is the pty's name. */
int crt_terminal_send_master (const char *path, int master, crt_error **err);

/* Parent: the master the container sent. With a console socket it goes
 * there and is closed; otherwise it is kept in *kept for a foreground
 * proxy. Takes ownership of master. */
int crt_terminal_take_master (int master, const char *console_socket, int *kept, crt_error **err);

/* Put our own terminal (fd) in raw mode; *saved restores it. Returns 1
 * when fd is a terminal and was changed, 0 when it is not a terminal. */
int crt_terminal_make_raw (int fd, struct termios *saved, crt_error **err);

/* Copy our terminal's window size to the pty master. */
void crt_terminal_copy_size (int from_fd, int master);

#endif
