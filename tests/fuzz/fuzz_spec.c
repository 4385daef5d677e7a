/* config.json: crt_spec_parse, then crt_spec_validate on what parsed
 * (what `crt create` does with the bundle's config). */
#include "config.h"
#include "fuzz.h"
#include "spec/spec.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  cleanup_spec crt_spec *spec = NULL;
  crt_error *err = NULL;
  int rc;

  rc = crt_spec_parse (text, "config.json", &spec, &err);
  fuzz_check_error (rc, &err, "crt_spec_parse");
  if (rc < 0)
    {
      if (spec != NULL)
        abort ();
      return 0;
    }
  rc = crt_spec_validate (spec, &err);
  fuzz_check_error (rc, &err, "crt_spec_validate");
  return 0;
}
