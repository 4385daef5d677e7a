/* Peak RSS of a command: fork, exec CMD (stdin and stdout /dev/null),
 * wait4, print "MAXRSS_KIB EXIT_STATUS".  The harness needs this
 * intermediary because a child's ru_maxrss also counts the memory of the
 * process it was exec'd from (Linux keeps the pre-exec mm's high-water
 * mark), so a command spawned straight from Python would report Python's
 * size.  Built by bench/run.sh with gcc -O2. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct rusage ru;
  int status, null;
  pid_t pid;

  if (argc < 2)
    return 2;
  pid = fork ();
  if (pid == 0)
    {
      null = open ("/dev/null", O_RDWR);
      dup2 (null, 0);
      dup2 (null, 1);
      execvp (argv[1], argv + 1);
      _exit (127);
    }
  if (pid < 0 || wait4 (pid, &status, 0, &ru) < 0)
    return 1;
  printf ("%ld %d\n", ru.ru_maxrss, WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  return 0;
}
