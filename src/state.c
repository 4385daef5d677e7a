#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <string.h>

static void
state_freep (crt_container_state **st)
{
  crt_container_state_free (*st);
}

static int
run_state (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const cli_flag flags[] = { { NULL } };
  __attribute__ ((cleanup (state_freep))) crt_container_state *st = NULL;
  cleanup_free char *json = NULL;
  const char *id;
  int first;

  first = cli_parse_command (&cli_state, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_state_get (ctx, id, &st, err) < 0)
    return crt_error_prefix (err, "state %s", id);
  json = crt_container_state_to_json (st);
  if (json == NULL)
    return crt_error_set (err, 0, "state %s: cannot format the state", id);
  fputs (json, stdout);
  if (json[0] == '\0' || json[strlen (json) - 1] != '\n')
    putchar ('\n');
  return 0;
}

const cli_command cli_state = {
  .name = "state",
  .args = "ID",
  .summary = "print the state of a container as JSON",
  .description = "Print the state of the container ID as the JSON object of the OCI runtime\n"
                 "specification: ociVersion, id, status, pid, bundle, rootfs, created, owner\n"
                 "and annotations.",
  .run = run_state,
};
