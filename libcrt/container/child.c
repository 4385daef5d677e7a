/* Steps shared by the two kinds of process crt starts in a container:
 * its init (init.c) and the processes of `exec` (exec.c). Both talk to
 * their crt parent over a sync socket. */
#include "config.h"
#include "container.h"
#include "sync.h"
#include "../linux/seccomp.h"
#include "../linux/terminal.h"
#include "../util/util.h"

int
crt_child_setup_console (int sync_fd, const crt_process *proc, bool bind_dev_console,
                         crt_error **err)
{
  cleanup_close int master = -1, slave = -1;

  if (crt_terminal_open (&master, &slave, err) < 0
      || (bind_dev_console && crt_terminal_bind_console (slave, err) < 0)
      || crt_sync_send_fd (sync_fd, CRT_SYNC_PTY_MASTER, master, err) < 0)
    return -1;
  return crt_terminal_become_console (slave, proc, err);
}

int
crt_child_load_seccomp (int sync_fd, const struct crt_seccomp_filter *filter, crt_error **err)
{
  cleanup_close int notify_fd = -1;

  if (crt_seccomp_load (filter, &notify_fd, err) < 0)
    return -1;
  if (notify_fd >= 0)
    return crt_sync_send_fd (sync_fd, CRT_SYNC_SECCOMP_FD, notify_fd, err);
  return 0;
}
