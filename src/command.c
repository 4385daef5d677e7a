#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <string.h>

static void
print_command_usage (const cli_command *cmd, const cli_flag *flags)
{
  printf ("Usage: crt [global flags] %s [flags]%s%s\n\n%s\n\nFlags:\n", cmd->name,
          cmd->args[0] ? " " : "", cmd->args, cmd->description);
  cli_flags_print (stdout, flags);
}

static int
check_arg_count (const cli_command *cmd, int n, int min_args, int max_args, crt_error **err)
{
  if (max_args == 0 && n > 0)
    return crt_error_set (err, 0, "%s: takes no arguments", cmd->name);
  if (min_args == max_args && n != min_args)
    return crt_error_set (err, 0, "%s: requires exactly %d argument(s)", cmd->name, min_args);
  if (n < min_args)
    return crt_error_set (err, 0, "%s: requires a minimum of %d argument(s)", cmd->name,
                          min_args);
  if (max_args >= 0 && n > max_args)
    return crt_error_set (err, 0, "%s: requires a maximum of %d argument(s)", cmd->name,
                          max_args);
  return 0;
}

int
cli_parse_command (const cli_command *cmd, const cli_flag *flags, int argc, char **argv,
                   int min_args, int max_args, crt_error **err)
{
  size_t n = 0;
  bool help = false;
  cleanup_free cli_flag *all = NULL;
  int first;

  /* Every command takes --help: append it to the command's own table. */
  while (flags[n].name != NULL)
    n++;
  all = crt_xmalloc0 ((n + 2) * sizeof (*all));
  memcpy (all, flags, n * sizeof (*all));
  all[n] = (cli_flag){ "help", 'h', CLI_FLAG_BOOL, &help, NULL, "show this help" };

  first = cli_flags_parse (cmd->name, all, cmd->flags_before_args, argc, argv, err);
  if (first < 0)
    return CLI_USAGE;
  if (help)
    {
      print_command_usage (cmd, all);
      return CLI_HELP;
    }
  if (check_arg_count (cmd, argc - first, min_args, max_args, err) < 0)
    return CLI_USAGE;
  return first;
}

void
cli_print_error (const crt_context *ctx, const crt_error *err)
{
  crt_error_print (err, stderr, ctx->log_json && ctx->log == NULL);
  if (ctx->log != NULL)
    crt_error_print (err, ctx->log, ctx->log_json);
}
