/* The trace build's recorder (trace.h). */
#include "config.h"
#include "trace.h"

#ifdef CRT_TRACE
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define MAX_POINTS 128

static struct
{
  unsigned long long ns;
  const char *what;
} points[MAX_POINTS];
static int n_points;

void
crt_trace_point (const char *what)
{
  struct timespec t;

  if (n_points == MAX_POINTS || clock_gettime (CLOCK_MONOTONIC, &t) < 0)
    return;
  points[n_points].ns = (unsigned long long) t.tv_sec * 1000000000ULL
                        + (unsigned long long) t.tv_nsec;
  points[n_points++].what = what;
}

void
crt_trace_dump (void)
{
  static char buf[MAX_POINTS * 96];
  size_t len = 0;

  for (int i = 0; i < n_points && len < sizeof (buf); i++)
    {
      int r = snprintf (buf + len, sizeof (buf) - len, "crt-trace %d %llu %s\n", (int) getpid (),
                        points[i].ns, points[i].what);
      if (r < 0)
        return;
      len += (size_t) r;
    }
  if (len > sizeof (buf))
    len = sizeof (buf);
  (void) !write (STDERR_FILENO, buf, len);
}
#else
typedef int crt_trace_off;      /* (ISO C wants something in a file) */
#endif
