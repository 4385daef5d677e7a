/* Time: see clock.h. */
#include "config.h"
#include "clock.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

void
crt_utc_now (char stamp[CRT_UTC_STAMP_MAX], bool nanoseconds)
{
  struct timespec ts;
  int64_t days, secs, era, doe, yoe, doy, mp, year, month, day;
  int n;

  /* The civil date by hand (H. Hinnant's civil_from_days), not gmtime_r
   * and strftime: those would load the time zone (/etc/localtime) on
   * first use, for UTC, and in the musl build bring ~10 KB of time zone
   * and format code. */
  clock_gettime (CLOCK_REALTIME, &ts);
  days = ts.tv_sec / 86400;
  secs = ts.tv_sec % 86400;
  if (secs < 0)
    {
      secs += 86400;
      days--;
    }
  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = yoe + era * 400 + (month <= 2);
  n = snprintf (stamp, CRT_UTC_STAMP_MAX, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                (long long) year, (long long) month, (long long) day, (long long) (secs / 3600),
                (long long) (secs / 60 % 60), (long long) (secs % 60));
  if (n > 0 && n < CRT_UTC_STAMP_MAX)
    snprintf (stamp + n, (size_t) (CRT_UTC_STAMP_MAX - n), nanoseconds ? ".%09ldZ" : "Z",
              ts.tv_nsec);
}

int64_t
crt_monotonic_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
