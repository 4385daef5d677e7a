/* linux.resources alone: crt_resources_parse, as `crt update --resources
 * FILE` (or -) reads it. */
#include "config.h"
#include "fuzz.h"
#include "spec/spec.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  crt_resources *r = NULL;
  crt_error *err = NULL;
  int rc;

  rc = crt_resources_parse (text, "resources.json", &r, &err);
  fuzz_check_error (rc, &err, "crt_resources_parse");
  if (rc < 0 && r != NULL)
    abort ();
  crt_resources_free (r);
  return 0;
}
