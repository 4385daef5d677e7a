#include "config.h"
#include "commands.h"

#include <signal.h>

static int
run_kill (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  bool all = false;
  const cli_flag flags[] = {
    { "all", 'a', CLI_FLAG_BOOL, &all, NULL,
      "send the signal to every process of the container, not only its init" },
    { NULL },
  };
  const char *id;
  int first, sig = SIGTERM;

  first = cli_parse_command (&cli_kill, flags, argc, argv, 1, 2, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (first + 1 < argc && crt_signal_parse (argv[first + 1], &sig, err) < 0)
    return crt_error_prefix (err, "kill %s", id);
  if (crt_container_kill (ctx, id, sig, all, err) < 0)
    return crt_error_prefix (err, "kill %s", id);
  return 0;
}

const cli_command cli_kill = {
  .name = "kill",
  .args = "ID [SIGNAL]",
  .summary = "send a signal (default: SIGTERM) to a container's init process",
  .description = "Send SIGNAL to the init process of the container ID. SIGNAL is a name with\n"
                 "or without SIG (KILL, SIGKILL, case does not matter), a number from 1 to 64,\n"
                 "or RTMIN+N / RTMAX-N. The default is SIGTERM.",
  .run = run_kill,
};
