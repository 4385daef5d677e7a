/* Shared by the libFuzzer harnesses of tests/fuzz: the input as a C
 * string, and a check of libcrt's error contract. */
#ifndef CRT_FUZZ_H
#define CRT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input up to its first NUL, NUL-terminated (the parsers take C
 * strings; crt_spec_load refuses a file with a NUL in it). */
static inline char *
fuzz_cstr (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);

  if (s == NULL)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* Every libcrt function that fails fills *err with a message, and one
 * that succeeds leaves it empty: anything else is a bug worth a crash. */
static inline void
fuzz_check_error (int rc, crt_error **err, const char *what)
{
  if (rc < 0 && (*err == NULL || (*err)->msg == NULL || (*err)->msg[0] == '\0'))
    {
      fprintf (stderr, "%s failed without an error message\n", what);
      abort ();
    }
  if (rc >= 0 && *err != NULL)
    {
      fprintf (stderr, "%s succeeded but set an error: %s\n", what, (*err)->msg);
      abort ();
    }
  crt_error_free (err);
}

#endif
