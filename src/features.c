#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <string.h>

static int
run_features (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const cli_flag flags[] = { { NULL } };
  cleanup_free char *json = NULL;
  int first;

  (void) ctx;
  first = cli_parse_command (&cli_features, flags, argc, argv, 0, 0, err);
  if (first < 0)
    return first;
  json = crt_features_json ();
  fputs (json, stdout);
  if (json[0] == '\0' || json[strlen (json) - 1] != '\n')
    putchar ('\n');
  return 0;
}

const cli_command cli_features = {
  .name = "features",
  .args = "",
  .summary = "print the features this runtime supports as JSON",
  .description = "Print the Features structure of the OCI runtime specification: the spec\n"
                 "versions, hooks, mount options, namespaces, capabilities, cgroup managers,\n"
                 "seccomp actions, operators, architectures and flags this build of crt\n"
                 "recognizes, and whether AppArmor, SELinux and Intel RDT are available.",
  .run = run_features,
};
