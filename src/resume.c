#include "config.h"
#include "commands.h"

static int
run_resume (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const cli_flag flags[] = { { NULL } };
  int first = cli_parse_command (&cli_resume, flags, argc, argv, 1, 1, err);

  if (first < 0)
    return first;
  if (crt_container_resume (ctx, argv[first], err) < 0)
    return crt_error_prefix (err, "resume %s", argv[first]);
  return 0;
}

const cli_command cli_resume = {
  .name = "resume",
  .args = "ID",
  .summary = "resume the processes of a paused container",
  .description = "Thaw every process of the paused container ID (see `crt pause`). The\n"
                 "command returns once the kernel reports the cgroup thawed.",
  .run = run_resume,
};
