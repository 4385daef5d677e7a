/* A tiny TAP producer for the C unit tests: one "ok N - what" line per
 * check, "1..N" at the end, and a non-zero exit when anything failed. */
#ifndef CRT_TAP_H
#define CRT_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int tap_count;
extern int tap_failures;

static inline bool __attribute__ ((format (printf, 2, 3)))
tap_ok (bool cond, const char *fmt, ...)
{
  va_list ap;

  tap_count++;
  if (!cond)
    tap_failures++;
  printf ("%sok %d - ", cond ? "" : "not ", tap_count);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  return cond;
}

/* Strings equal (NULL equals NULL only); shows both when not. */
static inline bool
tap_str_eq (const char *got, const char *want, const char *what)
{
  bool same = (got == NULL || want == NULL) ? got == want : strcmp (got, want) == 0;

  if (!tap_ok (same, "%s", what))
    printf ("#   got:  %s\n#   want: %s\n", got ? got : "(null)", want ? want : "(null)");
  return same;
}

#define TAP_INT_EQ(got, want, what)                                          \
  do                                                                         \
    {                                                                        \
      long long tap_g = (long long) (got), tap_w = (long long) (want);       \
      if (!tap_ok (tap_g == tap_w, "%s", what))                              \
        printf ("#   got:  %lld\n#   want: %lld\n", tap_g, tap_w);           \
    }                                                                        \
  while (0)

static inline int
tap_done (void)
{
  printf ("1..%d\n", tap_count);
  if (tap_failures)
    printf ("# %d of %d failed\n", tap_failures, tap_count);
  return tap_failures ? 1 : 0;
}

#endif
