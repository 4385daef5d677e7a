/* A shared library's functions, loaded with dlopen on first use: crt
 * does not link libseccomp, so that only the commands that compile a
 * seccomp profile pay for loading it (see linux/seccomp_lib.h). */
#ifndef CRT_UTIL_DL_H
#define CRT_UTIL_DL_H

#include <stddef.h>

#include "../error.h"

/* One function: its name, and where its pointer goes in the table. */
typedef struct
{
  const char *name;
  size_t offset;
} crt_dl_symbol;

/* A crt_dl_symbol for the member f of the table type T (for the lists
 * of functions written as X-macros). */
#define CRT_DL_SYMBOL(T, f) { #f, offsetof (T, f) },

/* dlopen library (never closed: what it made may live until crt exits)
 * and fill table with the n symbols; a failure names what needed it
 * (`user`, e.g. "linux.seccomp") and what is missing. */
int crt_dl_load (const char *library, const char *user, const crt_dl_symbol *symbols, size_t n,
                 void *table, crt_error **err);

#endif
