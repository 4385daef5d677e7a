#include "config.h"
#include "commands.h"

static int
run_run (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_create_options opts = { 0 };
  const cli_flag flags[] = {
    CLI_CREATE_FLAGS (&opts),
    { "detach", 'd', CLI_FLAG_BOOL, &opts.detach, NULL,
      "do not wait for the container: exit once it is started" },
    { "keep", 0, CLI_FLAG_BOOL, &opts.keep, NULL, "do not delete the container after it exits" },
    { NULL },
  };
  const char *id;
  int first, exit_code = 0;

  first = cli_parse_command (&cli_run, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_run (ctx, id, &opts, &exit_code, err) < 0)
    return crt_error_prefix (err, "run %s", id);
  return opts.detach ? 0 : exit_code;
}

const cli_command cli_run = {
  .name = "run",
  .args = "ID",
  .summary = "create and start a container, and wait for it unless detached",
  .description = "Create the container ID from a bundle and start it. Without --detach, crt\n"
                 "waits for the container's process, forwards signals to it, deletes the\n"
                 "container (unless --keep) and exits with the process's exit status, or\n"
                 "128+N if a signal N killed it.",
  .run = run_run,
};
