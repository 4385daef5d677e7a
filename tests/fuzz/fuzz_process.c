/* process.json: crt_process_parse, as `crt exec --process FILE` reads it. */
#include "config.h"
#include "fuzz.h"
#include "spec/spec.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  crt_process *p = NULL;
  crt_error *err = NULL;
  int rc;

  rc = crt_process_parse (text, "process.json", &p, &err);
  fuzz_check_error (rc, &err, "crt_process_parse");
  if (rc < 0 && p != NULL)
    abort ();
  crt_process_free (p);
  return 0;
}
