#include "config.h"
#include "commands.h"

static int
run_delete (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  bool force = false;
  const cli_flag flags[] = {
    { "force", 'f', CLI_FLAG_BOOL, &force, NULL,
      "kill the container with SIGKILL first if it is still running" },
    { NULL },
  };
  const char *id;
  int first;

  first = cli_parse_command (&cli_delete, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_delete (ctx, id, force, err) < 0)
    return crt_error_prefix (err, "delete %s", id);
  return 0;
}

const cli_command cli_delete = {
  .name = "delete",
  .args = "ID",
  .summary = "remove a stopped or created container and its resources",
  .description = "Remove the container ID: its state, its cgroup and whatever else it holds.\n"
                 "The container must be stopped or created, unless --force is given.",
  .run = run_delete,
};
