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
  crt_error *pending = NULL;
  int first;

  first = cli_parse_command (&cli_delete, flags, argc, argv, 1, -1, err);
  if (first < 0)
    return first;
  /* Every id is tried; each failure is printed once (the last one by
   * main), and the exit status says whether any failed. */
  for (int i = first; i < argc; i++)
    {
      crt_error *e = NULL;

      if (crt_container_delete (ctx, argv[i], force, &e) == 0)
        continue;
      crt_error_prefix (&e, "delete %s", argv[i]);
      if (pending)
        cli_print_error (ctx, pending);
      crt_error_free (&pending);
      pending = e;
    }
  if (pending == NULL)
    return 0;
  *err = pending;
  return CLI_ERROR;
}

const cli_command cli_delete = {
  .name = "delete",
  .args = "ID...",
  .summary = "remove stopped or created containers and their resources",
  .description = "Remove each container ID: its state, its cgroup and whatever else it holds.\n"
                 "A container must be stopped or created, unless --force is given. Every ID\n"
                 "is tried; the exit status is 1 if any of them could not be removed.",
  .run = run_delete,
};
