/* The floor for `RUNTIME run`: the least a runtime must do to run
 * /bin/true in a container, with no config parsing, no state, no cgroups,
 * no sync protocol.  clone3 into new pid, ipc, uts and mount namespaces
 * (plus a network namespace with -n), make the mounts private, bind the
 * rootfs, pivot_root into it, mount /proc, exec /bin/true; the parent
 * waits.  Built by bench/run.sh with gcc -O2.
 *
 * Usage: floor [-n] ROOTFS */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void
die (const char *what)
{
  fprintf (stderr, "floor: %s: %s\n", what, strerror (errno));
  _exit (127);
}

int
main (int argc, char **argv)
{
  uint64_t flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
  struct clone_args ca;
  const char *rootfs;
  int status;
  pid_t pid;

  if (argc == 3 && strcmp (argv[1], "-n") == 0)
    flags |= CLONE_NEWNET;
  else if (argc != 2)
    {
      fprintf (stderr, "usage: floor [-n] ROOTFS\n");
      return 2;
    }
  rootfs = argv[argc - 1];
  memset (&ca, 0, sizeof ca);
  ca.flags = flags;
  ca.exit_signal = SIGCHLD;
  pid = syscall (SYS_clone3, &ca, sizeof ca);
  if (pid < 0)
    die ("clone3");
  if (pid == 0)
    {
      char *const args[] = { "/bin/true", NULL };
      char *const env[] = { "PATH=/bin", NULL };
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die ("make / private");
      if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        die ("bind rootfs");
      if (chdir (rootfs) < 0)
        die ("chdir rootfs");
      if (syscall (SYS_pivot_root, ".", ".") < 0)
        die ("pivot_root");
      if (umount2 (".", MNT_DETACH) < 0)
        die ("detach old root");
      if (chdir ("/") < 0)
        die ("chdir /");
      if (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        die ("mount /proc");
      if (sethostname ("bench", 5) < 0)
        die ("sethostname");
      execve (args[0], args, env);
      die ("execve");
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      die ("waitpid");
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
