/* criu's answers on the swrk socket: crt_criu_decode_resp (the protobuf
 * criu_resp that checkpoint, restore and `crt --version` read). */
#include "config.h"
#include "fuzz.h"
#include "container/criu_rpc.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  crt_criu_resp resp;
  crt_error *err = NULL;
  int rc;

  rc = crt_criu_decode_resp (data, size, &resp, &err);
  fuzz_check_error (rc, &err, "crt_criu_decode_resp");
  if (rc == 0)
    {
      /* The strings are C strings no longer than the input. */
      const char *strings[] = { resp.notify_script, resp.cr_errmsg, resp.version_gitid };
      for (size_t i = 0; i < CRT_ARRAY_SIZE (strings); i++)
        if (strings[i] && strlen (strings[i]) > size)
          abort ();
    }
  else
    {
      /* A failed decode leaves nothing to free. */
      if (resp.notify_script || resp.cr_errmsg || resp.version_gitid)
        abort ();
    }
  crt_criu_resp_clear (&resp);
  return 0;
}
