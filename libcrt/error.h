/* The error object threaded through every libcrt call.
 *
 * A failing function fills *err once, where the failure happens, and
 * returns a negative value. Callers up the stack may add context in front
 * ("create c1: ") with crt_error_prefix(). Only the CLI prints it.
 */
#ifndef CRT_ERROR_H
#define CRT_ERROR_H

#include <stdio.h>

typedef struct crt_error
{
  int errnum;   /* errno of the cause, 0 when the cause is not a syscall */
  char *msg;    /* "what failed: reason" (no trailing newline) */
} crt_error;

/* strerror(errnum), in glibc's words whatever the libc (see error.c). */
const char *crt_strerror (int errnum);

/* Fill *err (if err and *err is still empty) and return -1. When errnum is
 * not 0, ": crt_strerror(errnum)" is appended. */
int crt_error_set (crt_error **err, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Like crt_error_set, but the message is complete as it is: errnum is
 * recorded for callers to test (ENOENT: "does not exist") and not
 * spelled out. */
int crt_error_with_code (crt_error **err, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* The same, taking errno as the cause. */
#define crt_error_errno(err, ...) crt_error_set ((err), errno, __VA_ARGS__)

/* Put "context: " in front of an existing message. Returns -1. */
int crt_error_prefix (crt_error **err, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

void crt_error_free (crt_error **err);

/* "crt: <msg>" as text, or one JSON line {"level":"error","msg":..,"time":..}. */
void crt_error_print (const crt_error *err, FILE *out, int json);

#define cleanup_error __attribute__ ((cleanup (crt_error_free)))

#endif
