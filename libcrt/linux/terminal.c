#include "config.h"
#include "terminal.h"
#include "paths.h"
#include "../util/util.h"
#include "mount_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The container's root ("/" after pivot_root or the mount namespace
 * join): every path below goes through the one resolver from it. */
static int
open_root (crt_error **err)
{
  int fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    crt_error_errno (err, "open `/`");
  return fd;
}

int
crt_terminal_open (int *master, int *slave, crt_error **err)
{
  cleanup_close int root = open_root (err), m = -1;
  struct stat st;
  int unlock = 0;

  if (root < 0)
    return -1;
  /* /dev/ptmx is the container's (pts/ptmx of its own devpts), so the
   * slave lives in the container's /dev/pts. The image decides what the
   * path leads to, so check that it is a pty multiplexer before using
   * it: anything else (a symlink to /proc/sysrq-trigger) is refused. */
  m = crt_path_open (root, "/dev/ptmx", O_RDWR | O_NOCTTY, 0);
  if (m < 0)
    return crt_error_errno (err, "open /dev/ptmx in the container");
  if (fstat (m, &st) < 0)
    return crt_error_errno (err, "stat /dev/ptmx in the container");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (5, 2))
    return crt_error_set (err, 0, "/dev/ptmx in the container is not the pty multiplexer");
  if (ioctl (m, TIOCSPTLCK, &unlock) < 0)
    return crt_error_errno (err, "unlock the pty");
  /* TIOCGPTPEER opens the slave through the master: no path lookup
   * that a container could redirect. */
  *slave = ioctl (m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0)
    return crt_error_errno (err, "open the pty slave");
  *master = crt_steal_fd (&m);
  return 0;
}

int
crt_terminal_bind_console (int slave, crt_error **err)
{
  cleanup_close int root = open_root (err), target = -1, tree = -1;
  int resolved_as;
  struct stat st;

  if (root < 0)
    return -1;
  /* Created if missing, inside the root; a symlink is followed there
   * and what it leads to must be a plain file or a device node outside
   * /proc and /sys. */
  target = crt_path_create_target (root, "/dev/console", false, 0666, 0, &resolved_as);
  if (target < 0 || fstat (target, &st) < 0)
    return crt_error_errno (err, "create /dev/console");
  if (!S_ISREG (st.st_mode) && !S_ISCHR (st.st_mode))
    return crt_error_set (err, EINVAL, "/dev/console in the container is not a file");
  if (crt_path_check_mount_target (root, target, "/dev/console", resolved_as, false, err) < 0)
    return crt_error_prefix (err, "/dev/console");
  /* The slave itself is the bind source: no path to its pts entry. */
  tree = open_tree (slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0)
    return crt_error_errno (err, "clone the pty slave for /dev/console");
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return crt_error_errno (err, "bind the pty slave onto /dev/console");
  return 0;
}

int
crt_terminal_become_console (int slave, const crt_process *proc, crt_error **err)
{
  if (proc->has_console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short) proc->console_height,
                            .ws_col = (unsigned short) proc->console_width };
      if (ioctl (slave, TIOCSWINSZ, &ws) < 0)
        return crt_error_errno (err, "process.consoleSize");
    }
  if (fchown (slave, proc->user.uid, proc->user.gid) < 0)
    return crt_error_errno (err, "chown the console");
  if (setsid () < 0)
    return crt_error_errno (err, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return crt_error_errno (err, "make the pty the controlling terminal");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2 (slave, fd) < 0)
      return crt_error_errno (err, "dup the console onto fd %d", fd);
  return 0;
}

int
crt_terminal_send_master (const char *path, int master, crt_error **err)
{
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char name[64] = "/dev/ptmx";
  char control[CMSG_SPACE (sizeof (int))];
  struct iovec iov;
  struct msghdr mh = { 0 };
  struct cmsghdr *c;
  unsigned int ptn;

  if (sock < 0)
    return crt_error_errno (err, "socket");
  if (strlen (path) >= sizeof (addr.sun_path))
    return crt_error_set (err, ENAMETOOLONG, "console socket `%s`", path);
  strcpy (addr.sun_path, path);
  if (connect (sock, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return crt_error_errno (err, "connect to console socket `%s`", path);
  if (ioctl (master, TIOCGPTN, &ptn) == 0)
    snprintf (name, sizeof (name), "/dev/pts/%u", ptn);

  iov.iov_base = name;
  iov.iov_len = strlen (name);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  memset (control, 0, sizeof (control));
  mh.msg_control = control;
  mh.msg_controllen = sizeof (control);
  c = CMSG_FIRSTHDR (&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &master, sizeof (int));
  if (sendmsg (sock, &mh, MSG_NOSIGNAL) < 0)
    return crt_error_errno (err, "send the console to `%s`", path);
  return 0;
}

int
crt_terminal_take_master (int master, const char *console_socket, int *kept, crt_error **err)
{
  cleanup_close int m = master;

  if (console_socket == NULL)
    {
      *kept = crt_steal_fd (&m);
      return 0;
    }
  return crt_terminal_send_master (console_socket, m, err);
}

int
crt_terminal_make_raw (int fd, struct termios *saved, crt_error **err)
{
  struct termios raw;

  if (!isatty (fd))
    return 0;
  if (tcgetattr (fd, saved) < 0)
    return crt_error_errno (err, "read terminal settings");
  raw = *saved;
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSANOW, &raw) < 0)
    return crt_error_errno (err, "set terminal raw mode");
  return 1;
}

void
crt_terminal_copy_size (int from_fd, int master)
{
  struct winsize ws;
  if (ioctl (from_fd, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}
