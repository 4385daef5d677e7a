/* How long one CPUID instruction takes here: glibc runs a few dozen at
 * every program's start (CPU features, cache sizes), and under a
 * hypervisor each one traps. bench/segments.py prints it next to the
 * start-up segment. Built by bench/run.sh with gcc -O2 (--segments). */
#include <cpuid.h>
#include <stdio.h>
#include <time.h>

int
main (void)
{
  unsigned int a, b, c, d;
  struct timespec t0, t1;
  const int n = 2000;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++)
    __cpuid_count (7, 0, a, b, c, d);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  printf ("%.0f\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
  return 0;
}
