/* mounts[].options: crt_mount_opts_parse on the input's lines (one
 * option a line, as the strings of the JSON array), and
 * crt_propagation_from_name (linux.rootfsPropagation) on each. */
#include "config.h"
#include "fuzz.h"
#include "linux/mounts.h"

#include <sys/mount.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  cleanup_free char **opts = NULL;
  crt_mount_opts mo;
  crt_error *err = NULL;
  size_t n = 0, cap = 1;
  char *save = NULL;
  int rc;

  for (const char *p = text; *p; p++)
    cap += *p == '\n';
  opts = crt_xmalloc0 ((cap + 1) * sizeof (char *));
  /* strsep, not strtok: empty lines are empty options. */
  for (char *line = text; (save = strsep (&line, "\n")) != NULL && n < cap;)
    opts[n++] = save;

  rc = crt_mount_opts_parse (opts, n, &mo, &err);
  fuzz_check_error (rc, &err, "crt_mount_opts_parse");
  if (rc == 0)
    {
      if (mo.n_propagation > CRT_ARRAY_SIZE (mo.propagation))
        abort ();
      if (mo.rbind && !mo.bind)
        abort ();
      crt_mount_opts_free (&mo);
    }
  for (size_t i = 0; i < n; i++)
    {
      unsigned long f = crt_propagation_from_name (opts[i]);
      if (f != 0 && !(f & MS_REC))
        abort ();
    }
  return 0;
}
