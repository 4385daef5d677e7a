/* state.json of a container's state directory: crt_state_parse, the
 * text half of crt_state_read (state, list, kill, delete... read it). */
#include "config.h"
#include "fuzz.h"
#include "container/state.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  crt_state_record rec;
  crt_error *err = NULL;
  int rc;

  rc = crt_state_parse (text, &rec, &err);
  fuzz_check_error (rc, &err, "crt_state_parse");
  if (rc == 0)
    {
      /* Callers use these strings without a NULL check. */
      if (!rec.oci_version || !rec.id || !rec.bundle || !rec.rootfs || !rec.created
          || !rec.cgroup_path || !rec.notify_socket)
        abort ();
      for (size_t i = 0; i < rec.n_annotations; i++)
        if (!rec.annotations[i].key || !rec.annotations[i].value)
          abort ();
      (void) crt_status_name (rec.pid > 0 ? CRT_STATUS_RUNNING : CRT_STATUS_STOPPED);
    }
  crt_state_record_clear (&rec);
  return 0;
}
