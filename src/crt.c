/* crt: the command line. Global flags, then one command from the table
 * below; the error of a failed command is printed here, once. */
#include "config.h"
#include "src/crt_commit.h"
#include "commands.h"
#include "libcrt/linux/seccomp.h"
#include "libcrt/util/util.h"
#include "libcrt/util/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Adding a command: its file, its declaration in commands.h, one line
 * here (in alphabetical order: `crt --help` lists them as they are). */
static const cli_command *const commands[] = {
  &cli_checkpoint,
  &cli_create,
  &cli_delete,
  &cli_events,
  &cli_exec,
  &cli_features,
  &cli_kill,
  &cli_list,
  &cli_pause,
  &cli_ps,
  &cli_restore,
  &cli_resume,
  &cli_run,
  &cli_spec,
  &cli_start,
  &cli_state,
  &cli_update,
};

typedef struct global_flags
{
  const char *root;
  const char *log;
  const char *log_format;
  const char *cgroup_manager;
  const char *rootless;
  bool debug;
  bool systemd_cgroup;
  bool help;
  bool version;
} global_flags;

static void
print_usage (const cli_flag *flags)
{
  size_t width = 0;

  printf ("Usage: crt [global flags] COMMAND [flags] [ARGS]\n\n"
          "crt runs containers from OCI bundles: a directory holding a config.json\n"
          "and a root filesystem.\n\nCommands:\n");
  for (size_t i = 0; i < CRT_ARRAY_SIZE (commands); i++)
    if (strlen (commands[i]->name) > width)
      width = strlen (commands[i]->name);
  for (size_t i = 0; i < CRT_ARRAY_SIZE (commands); i++)
    printf ("  %-*s  %s\n", (int) width, commands[i]->name, commands[i]->summary);
  printf ("\nGlobal flags:\n");
  cli_flags_print (stdout, flags);
  printf ("\nRun 'crt COMMAND --help' for the flags of a command.\n");
}

static void
print_version (void)
{
  const char *scmp_version = crt_seccomp_lib_version ();

  printf ("crt version %s\ncommit: %s\nspec: %s\n", PACKAGE_VERSION, CRT_COMMIT, CRT_OCI_VERSION);
  /* What this build has, in crun's words. SYSTEMD: the systemd cgroup
   * driver (every build: crt speaks D-Bus itself, libcrt/dbus). SELINUX and APPARMOR: process labels and profiles are
   * applied where the host enables the module (refused elsewhere).
   * CRIU: checkpoint/restore, when a criu answers its version (not
   * whether the kernel lets it work: that is `criu check`). */
  printf ("+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL %cCRIU\n",
          crt_criu_usable (NULL) ? '+' : '-');
  if (scmp_version != NULL)
    printf ("libseccomp: %s\n", scmp_version);
}

static const cli_command *
find_command (const char *name)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (commands); i++)
    if (strcmp (commands[i]->name, name) == 0)
      return commands[i];
  return NULL;
}

/* Turn the parsed global flags into the library's context. Returns 0,
 * CLI_USAGE for a bad flag value or CLI_ERROR. */
static int
setup_context (const global_flags *g, crt_context *ctx, crt_error **err)
{
  ctx->root = g->root;
  ctx->debug = g->debug;

  if (strcmp (g->log_format, "json") == 0)
    ctx->log_json = true;
  else if (strcmp (g->log_format, "text") != 0)
    {
      crt_error_set (err, 0, "invalid --log-format \"%s\": want text or json", g->log_format);
      return CLI_USAGE;
    }

  if (crt_context_set_rootless (ctx, g->rootless, err) < 0)
    return CLI_USAGE;

  ctx->cgroup_manager
      = g->systemd_cgroup ? CRT_CGROUP_MANAGER_SYSTEMD : CRT_CGROUP_MANAGER_CGROUPFS;
  if (g->cgroup_manager != NULL)
    {
      if (strcmp (g->cgroup_manager, "cgroupfs") == 0)
        ctx->cgroup_manager = CRT_CGROUP_MANAGER_CGROUPFS;
      else if (strcmp (g->cgroup_manager, "systemd") == 0)
        ctx->cgroup_manager = CRT_CGROUP_MANAGER_SYSTEMD;
      else if (strcmp (g->cgroup_manager, "disabled") == 0)
        ctx->cgroup_manager = CRT_CGROUP_MANAGER_DISABLED;
      else
        {
          crt_error_set (err, 0,
                         "invalid --cgroup-manager \"%s\": want cgroupfs, systemd or disabled",
                         g->cgroup_manager);
          return CLI_USAGE;
        }
    }

  if (g->log != NULL)
    {
      /* "e": the log must not leak into the container. */
      ctx->log = fopen (g->log, "ae");
      if (ctx->log == NULL)
        {
          crt_error_errno (err, "open log file `%s`", g->log);
          return CLI_ERROR;
        }
    }
  return 0;
}

static int
report_failure (const crt_context *ctx, int rc, const char *hint_command, crt_error *err)
{
  cli_print_error (ctx, err);
  if (rc == CLI_USAGE && !(ctx->log_json && ctx->log == NULL))
    fprintf (stderr, "Try 'crt %s%s--help' for more information.\n",
             hint_command ? hint_command : "", hint_command ? " " : "");
  return EXIT_FAILURE;
}

int
main (int argc, char **argv)
{
  cleanup_error crt_error *err = NULL;
  cleanup_fclose FILE *log = NULL;
  crt_context ctx = { 0 };
  global_flags g = { .log_format = "text" };
  const cli_flag flags[] = {
    { "root", 0, CLI_FLAG_STRING, &g.root, "DIR",
      "directory of the containers' state (default: " CRT_DEFAULT_ROOT
      "; unprivileged: $XDG_RUNTIME_DIR/crt, else /run/user/UID/crt)" },
    { "log", 0, CLI_FLAG_STRING, &g.log, "FILE", "append log messages and errors to FILE" },
    { "log-format", 0, CLI_FLAG_STRING, &g.log_format, "FORMAT",
      "format of log messages and errors: text (default) or json" },
    { "debug", 0, CLI_FLAG_BOOL, &g.debug, NULL, "log debug messages" },
    { "systemd-cgroup", 0, CLI_FLAG_BOOL, &g.systemd_cgroup, NULL,
      "manage cgroups through systemd (same as --cgroup-manager=systemd)" },
    { "cgroup-manager", 0, CLI_FLAG_STRING, &g.cgroup_manager, "MANAGER",
      "cgroupfs (default), systemd or disabled" },
    { "rootless", 0, CLI_FLAG_STRING, &g.rootless, "VALUE",
      "true, false or auto (default): run without root privileges (auto: when "
      "not uid 0 or in a user namespace)" },
    { "help", 'h', CLI_FLAG_BOOL, &g.help, NULL, "show this help" },
    { "version", 'v', CLI_FLAG_BOOL, &g.version, NULL, "print the version" },
    { NULL },
  };
  const cli_command *cmd;
  int first, rc;

  CRT_TRACE_POINT ("main");
  first = cli_flags_parse (NULL, flags, true, argc, argv, &err);
  if (first < 0)
    return report_failure (&ctx, CLI_USAGE, NULL, err);
  if (g.help)
    {
      print_usage (flags);
      return EXIT_SUCCESS;
    }
  if (g.version)
    {
      print_version ();
      return EXIT_SUCCESS;
    }
  rc = setup_context (&g, &ctx, &err);
  log = ctx.log;                /* closed on every return from here */
  CRT_TRACE_POINT ("flags, context (rootless?)");
  if (rc < 0)
    return report_failure (&ctx, rc, NULL, err);

  if (first >= argc)
    {
      crt_error_set (&err, 0, "no command given");
      return report_failure (&ctx, CLI_USAGE, NULL, err);
    }
  cmd = find_command (argv[first]);
  if (cmd == NULL)
    {
      crt_error_set (&err, 0, "unknown command \"%s\"", argv[first]);
      return report_failure (&ctx, CLI_USAGE, NULL, err);
    }

  crt_log (&ctx, CRT_LOG_DEBUG, "command %s, root %s", cmd->name, ctx.root);
  rc = cmd->run (&ctx, argc - first, argv + first, &err);
  if (rc == CLI_HELP)
    return EXIT_SUCCESS;
  if (rc < 0)
    return report_failure (&ctx, rc, cmd->name, err);
  /* `crt state > full-disk` must not report success. */
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      crt_error_errno (&err, "%s: write to stdout", cmd->name);
      return report_failure (&ctx, CLI_ERROR, cmd->name, err);
    }
  return rc;
}
