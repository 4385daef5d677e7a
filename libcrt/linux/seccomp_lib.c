/* libseccomp loaded with dlopen on first use (see seccomp_lib.h). */
#include "config.h"
#include "seccomp_lib.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#define LIBSECCOMP "libseccomp.so.2"

int
crt_scmp_api_load (const crt_scmp_api **out, crt_error **err)
{
  static crt_scmp_api api;
  static bool loaded;
  void *lib;

  if (loaded)
    {
      *out = &api;
      return 0;
    }
  /* Never closed: cheap to keep, and filters may be compiled again. */
  lib = dlopen (LIBSECCOMP, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    return crt_error_set (err, 0, "linux.seccomp: load %s: %s", LIBSECCOMP, dlerror ());
#define CRT_SCMP_LOAD(f)                                                                 \
  {                                                                                      \
    void *sym = dlsym (lib, #f);                                                         \
    if (sym == NULL)                                                                     \
      return crt_error_set (err, 0, "linux.seccomp: %s has no %s", LIBSECCOMP, #f);      \
    /* (a data pointer to a function pointer: memcpy, as POSIX allows) */                \
    memcpy (&api.f, &sym, sizeof (sym));                                                 \
  }
  CRT_SCMP_FUNCTIONS (CRT_SCMP_LOAD)
#undef CRT_SCMP_LOAD
  loaded = true;
  *out = &api;
  return 0;
}
