/* The wall-clock time as text, in one place: state.json's "created"
 * and the "time" of --log-format=json lines. */
#ifndef CRT_UTIL_CLOCK_H
#define CRT_UTIL_CLOCK_H

#include <stdbool.h>

/* "2026-12-07T11:00:58.123456789Z" and its NUL fit. */
#define CRT_UTC_STAMP_MAX 40

/* Now, in UTC, as RFC 3339: with nanoseconds (state.json, as runc and
 * crun write "created") or to the second ("time" of a JSON log line). */
void crt_utc_now (char stamp[CRT_UTC_STAMP_MAX], bool nanoseconds);

#endif
