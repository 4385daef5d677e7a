/* libseccomp loaded with dlopen on first use, or linked in a static crt
 * (see seccomp_lib.h). */
#include "config.h"
#include "seccomp_lib.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <dlfcn.h>
#include <stdbool.h>

#ifdef CRT_STATIC_BINARY

int
crt_scmp_api_load (const crt_scmp_api **out, crt_error **err)
{
#define CRT_SCMP_LINKED(f) .f = f,
  static const crt_scmp_api api = { CRT_SCMP_FUNCTIONS (CRT_SCMP_LINKED) };
#undef CRT_SCMP_LINKED

  *out = &api;
  return 0;
}

const char *
crt_scmp_api_file (const crt_scmp_api *api)
{
  /* Read again at every use of a cache entry: the crt running then. */
  return "/proc/self/exe";
}

#else

#define LIBSECCOMP "libseccomp.so.2"

int
crt_scmp_api_load (const crt_scmp_api **out, crt_error **err)
{
#define CRT_SCMP_SYMBOL(f) CRT_DL_SYMBOL (crt_scmp_api, f)
  static const crt_dl_symbol symbols[] = { CRT_SCMP_FUNCTIONS (CRT_SCMP_SYMBOL) };
#undef CRT_SCMP_SYMBOL
  static crt_scmp_api api;
  static bool loaded;

  /* Filters may be compiled again: loaded once per process. */
  if (!loaded
      && crt_dl_load (LIBSECCOMP, "linux.seccomp", symbols, CRT_ARRAY_SIZE (symbols), &api,
                      err) < 0)
    return -1;
  loaded = true;
  *out = &api;
  return 0;
}

const char *
crt_scmp_api_file (const crt_scmp_api *api)
{
  Dl_info info;

  if (dladdr ((const void *) api->seccomp_init, &info) == 0 || info.dli_fname == NULL
      || info.dli_fname[0] != '/')
    return NULL;
  return info.dli_fname;
}

#endif
