#include "config.h"
#include "commands.h"

static int
run_create (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_create_options opts = { 0 };
  const cli_flag flags[] = { CLI_CREATE_FLAGS (&opts), { NULL } };
  const char *id;
  int first;

  first = cli_parse_command (&cli_create, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_create (ctx, id, &opts, err) < 0)
    return crt_error_prefix (err, "create %s", id);
  return 0;
}

const cli_command cli_create = {
  .name = "create",
  .args = "ID",
  .summary = "create a container (its process waits for `crt start`)",
  .description = "Create the container ID from a bundle: a directory with a config.json and a\n"
                 "root filesystem. The container's process is set up and then waits before\n"
                 "running process.args until `crt start ID`.",
  .run = run_create,
};
