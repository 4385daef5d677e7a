#include "config.h"
#include "commands.h"
#include "libcrt/spec/spec.h"
#include "libcrt/util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "UID" or "UID:GID", numbers only: the runtime reads no /etc/passwd. */
static int
parse_user (const char *s, crt_exec_options *o, crt_error **err)
{
  char *end;
  unsigned long v;

  errno = 0;
  v = strtoul (s, &end, 10);
  if (errno || end == s || !crt_unix_id_valid (v) || (*end != '\0' && *end != ':'))
    return crt_error_set (err, 0, "exec: --user `%s`: want UID[:GID] as numbers", s);
  o->has_user = true;
  o->uid = (uint32_t) v;
  if (*end == ':')
    {
      const char *g = end + 1;
      errno = 0;
      v = strtoul (g, &end, 10);
      if (errno || end == g || *end != '\0' || !crt_unix_id_valid (v))
        return crt_error_set (err, 0, "exec: --user `%s`: want UID[:GID] as numbers", s);
      o->has_gid = true;
      o->gid = (uint32_t) v;
    }
  return 0;
}

/* --additional-gids may be repeated and each may be "1,2,3". */
static int
parse_gids (char **values, crt_exec_options *o, crt_error **err)
{
  for (char **v = values; v && *v; v++)
    {
      cleanup_free char *copy = crt_xstrdup (*v);
      char *save = NULL;
      for (char *g = strtok_r (copy, ",", &save); g; g = strtok_r (NULL, ",", &save))
        {
          char *end;
          unsigned long n;
          errno = 0;
          n = strtoul (g, &end, 10);
          if (errno || end == g || *end != '\0' || !crt_unix_id_valid (n))
            return crt_error_set (err, 0, "exec: --additional-gids `%s`: not a number", g);
          o->additional_gids = realloc (o->additional_gids,
                                        (o->n_additional_gids + 1) * sizeof (uint32_t));
          if (o->additional_gids == NULL)
            abort ();
          o->additional_gids[o->n_additional_gids++] = (uint32_t) n;
        }
    }
  return 0;
}

typedef struct exec_cli
{
  crt_exec_options o;
  char **gids;
  const char *user;
  const char *apparmor;
  const char *process_label;
} exec_cli;

static void
exec_cli_free (exec_cli *c)
{
  free (c->o.env);
  free (c->o.caps);
  free (c->o.additional_gids);
  free (c->gids);
}

static int
run_exec (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  __attribute__ ((cleanup (exec_cli_free))) exec_cli c = { 0 };
  crt_exec_options *o = &c.o;
  const cli_flag flags[] = {
    { "process", 'p', CLI_FLAG_STRING, &o->process_path, "FILE",
      "the process to run, as a runtime-spec process JSON" },
    { "env", 'e', CLI_FLAG_STRV, &o->env, "K=V", "set an environment variable (repeatable)" },
    { "cwd", 0, CLI_FLAG_STRING, &o->cwd, "DIR", "working directory in the container" },
    { "user", 'u', CLI_FLAG_STRING, &c.user, "UID[:GID]", "run as this user (numeric ids)" },
    { "additional-gids", 'g', CLI_FLAG_STRV, &c.gids, "GID", "supplementary group (repeatable)" },
    { "cap", 'c', CLI_FLAG_STRV, &o->caps, "CAP", "add a capability (repeatable)" },
    { "tty", 't', CLI_FLAG_BOOL, &o->tty, NULL, "allocate a pseudo-terminal" },
    { "detach", 'd', CLI_FLAG_BOOL, &o->detach, NULL, "do not wait for the process" },
    { "pid-file", 0, CLI_FLAG_STRING, &o->pid_file, "PATH", "write the process's pid to PATH" },
    { "console-socket", 0, CLI_FLAG_STRING, &o->console_socket, "PATH",
      "AF_UNIX socket to send the pseudoterminal master to" },
    { "preserve-fds", 0, CLI_FLAG_UINT, &o->preserve_fds, "N",
      "pass fds 3 to 3+N-1 on to the process" },
    { "no-new-privs", 0, CLI_FLAG_BOOL, &o->no_new_privs, NULL, "set no_new_privs" },
    { "cgroup", 0, CLI_FLAG_STRING, &o->cgroup, "SUB",
      "run in this sub-cgroup of the container's cgroup" },
    { "ignore-paused", 0, CLI_FLAG_BOOL, &o->ignore_paused, NULL,
      "exec even if the container is paused" },
    { "apparmor", 0, CLI_FLAG_STRING, &c.apparmor, "PROFILE", "AppArmor profile" },
    { "process-label", 0, CLI_FLAG_STRING, &c.process_label, "LABEL", "SELinux label" },
    { NULL },
  };
  const char *id;
  int first, exit_code = 0;

  first = cli_parse_command (&cli_exec, flags, argc, argv, 1, -1, err);
  if (first < 0)
    return first;
  id = argv[first];
  o->args = argv + first + 1;
  if (c.user && parse_user (c.user, o, err) < 0)
    return CLI_USAGE;
  if (parse_gids (c.gids, o, err) < 0)
    return CLI_USAGE;
  if ((c.apparmor && c.apparmor[0]) || (c.process_label && c.process_label[0]))
    return crt_error_set (err, ENOTSUP, "exec %s: %s: not enabled on this host", id,
                          c.apparmor ? "AppArmor" : "SELinux");
  if (o->process_path == NULL && o->args[0] == NULL)
    {
      crt_error_set (err, 0, "exec: requires a command (or --process)");
      return CLI_USAGE;
    }
  if (crt_container_exec (ctx, id, o, &exit_code, err) < 0)
    return crt_error_prefix (err, "exec %s", id);
  return o->detach ? 0 : exit_code;
}

const cli_command cli_exec = {
  .name = "exec",
  .args = "ID COMMAND [ARG...]",
  .summary = "run a new process inside a running container",
  .description = "Run COMMAND (or the process of --process) in the running container ID:\n"
                 "in all of its namespaces and its cgroup, with the container's process\n"
                 "settings unless flags override them. In the foreground crt forwards\n"
                 "signals and exits with the process's status (128+N for signal N).",
  .flags_before_args = true,
  .run = run_exec,
};
