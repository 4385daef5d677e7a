/* Time in one place: the wall clock as text (state.json's "created", the
 * "time" of --log-format=json lines), and the monotonic clock in ms for
 * deadlines and intervals. */
#ifndef CRT_UTIL_CLOCK_H
#define CRT_UTIL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* "2026-12-07T11:00:58.123456789Z" and its NUL fit. */
#define CRT_UTC_STAMP_MAX 40

/* Now, in UTC, as RFC 3339: with nanoseconds (state.json, as runc and
 * crun write "created") or to the second ("time" of a JSON log line). */
void crt_utc_now (char stamp[CRT_UTC_STAMP_MAX], bool nanoseconds);

/* CLOCK_MONOTONIC in milliseconds: deadlines (hooks' timeouts, D-Bus
 * calls, systemd's jobs) and the interval of `events`. */
int64_t crt_monotonic_ms (void);

#endif
