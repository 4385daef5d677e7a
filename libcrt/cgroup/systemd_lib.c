/* libsystemd loaded with dlopen on first use (see systemd_lib.h). */
#include "config.h"

#ifdef HAVE_LIBSYSTEMD
#include "systemd_lib.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <stdbool.h>

#define LIBSYSTEMD "libsystemd.so.0"

int
crt_sd_api_load (const crt_sd_api **out, crt_error **err)
{
#define CRT_SD_SYMBOL(f) CRT_DL_SYMBOL (crt_sd_api, f)
  static const crt_dl_symbol symbols[] = { CRT_SD_BUS_FUNCTIONS (CRT_SD_SYMBOL) };
#undef CRT_SD_SYMBOL
  static crt_sd_api api;
  static bool loaded;

  /* sd-bus objects live until the process ends: loaded once. */
  if (!loaded
      && crt_dl_load (LIBSYSTEMD, "--systemd-cgroup (sd-bus, the systemd cgroup driver)",
                      symbols, CRT_ARRAY_SIZE (symbols), &api, err) < 0)
    return -1;
  loaded = true;
  *out = &api;
  return 0;
}

#endif /* HAVE_LIBSYSTEMD */
