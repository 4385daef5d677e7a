#include "config.h"
#include "commands.h"

static int
run_spec (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const char *bundle = ".";
  bool rootless = false;
  const cli_flag flags[] = {
    { "bundle", 'b', CLI_FLAG_STRING, &bundle, "DIR",
      "write DIR/config.json (default: the current directory)" },
    { "rootless", 0, CLI_FLAG_BOOL, &rootless, NULL,
      "write a configuration for a container run by an unprivileged user" },
    { NULL },
  };
  int first;

  first = cli_parse_command (&cli_spec, flags, argc, argv, 0, 0, err);
  if (first < 0)
    return first;
  if (crt_spec_write_default (bundle, rootless, err) < 0)
    return crt_error_prefix (err, "spec");
  return 0;
}

const cli_command cli_spec = {
  .name = "spec",
  .args = "",
  .summary = "write a starter config.json",
  .description = "Write a default config.json into the bundle directory; an existing one is\n"
                 "not overwritten. The starter runs \"sh\" in the container: edit process.args\n"
                 "and the rest to suit.",
  .run = run_spec,
};
