#include "config.h"
#include "commands.h"

static int
run_start (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const cli_flag flags[] = { { NULL } };
  const char *id;
  int first;

  first = cli_parse_command (&cli_start, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_start (ctx, id, err) < 0)
    return crt_error_prefix (err, "start %s", id);
  return 0;
}

const cli_command cli_start = {
  .name = "start",
  .args = "ID",
  .summary = "run the user program of a created container",
  .description = "Let the process of the created container ID run the program of process.args.",
  .run = run_start,
};
