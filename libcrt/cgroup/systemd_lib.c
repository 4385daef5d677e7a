/* libsystemd loaded with dlopen on first use (see systemd_lib.h). */
#include "config.h"

#ifdef HAVE_LIBSYSTEMD
#include "systemd_lib.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#define LIBSYSTEMD "libsystemd.so.0"

int
crt_sd_api_load (const crt_sd_api **out, crt_error **err)
{
  static crt_sd_api api;
  static bool loaded;
  void *lib;

  if (loaded)
    {
      *out = &api;
      return 0;
    }
  /* Never closed: sd-bus objects live until the process ends. */
  lib = dlopen (LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    return crt_error_set (err, 0, "--systemd-cgroup: load %s (sd-bus, the systemd cgroup driver): %s",
                          LIBSYSTEMD, dlerror ());
#define CRT_SD_LOAD(f)                                                                   \
  {                                                                                      \
    void *sym = dlsym (lib, #f);                                                         \
    if (sym == NULL)                                                                     \
      return crt_error_set (err, 0, "--systemd-cgroup: %s has no %s", LIBSYSTEMD, #f);   \
    /* (a data pointer to a function pointer: memcpy, as POSIX allows) */                \
    memcpy (&api.f, &sym, sizeof (sym));                                                 \
  }
  CRT_SD_BUS_FUNCTIONS (CRT_SD_LOAD)
#undef CRT_SD_LOAD
  loaded = true;
  *out = &api;
  return 0;
}

#endif /* HAVE_LIBSYSTEMD */
