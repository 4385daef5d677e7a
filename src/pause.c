#include "config.h"
#include "commands.h"

static int
run_pause (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const cli_flag flags[] = { { NULL } };
  int first = cli_parse_command (&cli_pause, flags, argc, argv, 1, 1, err);

  if (first < 0)
    return first;
  if (crt_container_pause (ctx, argv[first], err) < 0)
    return crt_error_prefix (err, "pause %s", argv[first]);
  return 0;
}

const cli_command cli_pause = {
  .name = "pause",
  .args = "ID",
  .summary = "suspend every process of a container",
  .description = "Freeze every process of the running container ID through its cgroup\n"
                 "(cgroup.freeze). The command returns once the kernel reports the cgroup\n"
                 "frozen; the container's status is then \"paused\" until `crt resume ID`.",
  .run = run_pause,
};
