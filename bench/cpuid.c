/* How long one CPUID instruction takes here: glibc runs a few dozen at
 * every program's start (CPU features, cache sizes), and under a
 * hypervisor each one traps. bench/segments.py prints it next to the
 * start-up segment. With "fault": how long one first write to a fresh
 * anonymous page takes instead (the fault that, with the refaults of
 * code pages, a forked init pays for every page it touches). Built by
 * bench/run.sh with gcc -O2 (--segments). */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double
elapsed_ns (const struct timespec *t0, const struct timespec *t1)
{
  return (t1->tv_sec - t0->tv_sec) * 1e9 + (t1->tv_nsec - t0->tv_nsec);
}

int
main (int argc, char **argv)
{
  unsigned int a, b, c, d;
  struct timespec t0, t1;
  const int n = 2000;

  if (argc > 1 && strcmp (argv[1], "fault") == 0)
    {
      volatile char *p = mmap (NULL, (size_t) n * 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

      if (p == MAP_FAILED)
        return 1;
      clock_gettime (CLOCK_MONOTONIC, &t0);
      for (int i = 0; i < n; i++)
        p[(size_t) i * 4096] = 1;
      clock_gettime (CLOCK_MONOTONIC, &t1);
      printf ("%.0f\n", elapsed_ns (&t0, &t1) / n);
      return 0;
    }
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++)
    __cpuid_count (7, 0, a, b, c, d);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  printf ("%.0f\n", elapsed_ns (&t0, &t1) / n);
  return 0;
}
