/* Libraries loaded on first use; see dl.h. */
#include "config.h"
#include "dl.h"

#include <dlfcn.h>
#include <string.h>

int
crt_dl_load (const char *library, const char *user, const crt_dl_symbol *symbols, size_t n,
             void *table, crt_error **err)
{
  void *lib = dlopen (library, RTLD_NOW | RTLD_LOCAL);

  if (lib == NULL)
    return crt_error_set (err, 0, "%s: load %s: %s", user, library, dlerror ());
  for (size_t i = 0; i < n; i++)
    {
      void *sym = dlsym (lib, symbols[i].name);
      if (sym == NULL)
        return crt_error_set (err, 0, "%s: %s has no %s", user, library, symbols[i].name);
      /* (a data pointer into a function pointer: memcpy, as POSIX allows) */
      memcpy ((char *) table + symbols[i].offset, &sym, sizeof (sym));
    }
  return 0;
}
