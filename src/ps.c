#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Run ps(1) with args and return its whole output. */
static int
run_ps (char **args, char **out, crt_error **err)
{
  int fds[2];
  pid_t pid;
  int status, rc;
  posix_spawn_file_actions_t actions;
  size_t len = 0, cap = 4096;
  cleanup_free char *buf = crt_xmalloc0 (cap);
  ssize_t n;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return crt_error_errno (err, "pipe");
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, fds[1], STDOUT_FILENO);
  rc = posix_spawnp (&pid, "ps", &actions, NULL, args, environ);
  posix_spawn_file_actions_destroy (&actions);
  close (fds[1]);
  if (rc != 0)
    {
      close (fds[0]);
      return crt_error_set (err, rc, "run ps");
    }
  while ((n = read (fds[0], buf + len, cap - len - 1)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      len += (size_t) n;
      if (cap - len < 2)
        {
          buf = realloc (buf, cap *= 2);
          if (buf == NULL)
            abort ();
        }
    }
  close (fds[0]);
  buf[len] = '\0';
  crt_waitpid (pid, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return crt_error_set (err, 0, "ps failed (exit status %d)",
                          WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  *out = crt_steal_ptr (&buf);
  return 0;
}

/* The column of the header that says PID. */
static int
pid_column (const char *header)
{
  cleanup_free char *copy = crt_xstrdup (header);
  char *save = NULL;
  int i = 0;

  for (char *f = strtok_r (copy, " \t", &save); f; f = strtok_r (NULL, " \t", &save), i++)
    if (strcmp (f, "PID") == 0)
      return i;
  return -1;
}

static bool
line_has_pid (const char *line, int column, const pid_t *pids, size_t n)
{
  cleanup_free char *copy = crt_xstrdup (line);
  char *save = NULL, *f = strtok_r (copy, " \t", &save);

  for (int i = 0; f && i < column; i++)
    f = strtok_r (NULL, " \t", &save);
  if (f == NULL)
    return false;
  for (size_t i = 0; i < n; i++)
    if (atoi (f) == pids[i])
      return true;
  return false;
}

/* runc's table: run `ps ARGS` (default -ef) and keep the header and the
 * lines of the container's pids. */
static int
print_table (char **ps_args, int n_args, const pid_t *pids, size_t n, crt_error **err)
{
  /* "ps", the arguments (or "-ef"), NULL. */
  cleanup_free char **args = crt_xmalloc0 ((size_t) (n_args + 3) * sizeof (char *));
  cleanup_free char *output = NULL;
  char *line, *next;
  int column;

  args[0] = (char *) "ps";
  if (n_args == 0)
    args[1] = (char *) "-ef";
  for (int i = 0; i < n_args; i++)
    args[i + 1] = ps_args[i];
  if (run_ps (args, &output, err) < 0)
    return -1;
  next = strchr (output, '\n');
  if (next)
    *next++ = '\0';
  column = pid_column (output);
  if (column < 0)
    return crt_error_set (err, 0, "ps: no PID column in `%s`", output);
  printf ("%s\n", output);
  for (line = next; line && *line; line = next)
    {
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (line_has_pid (line, column, pids, n))
        printf ("%s\n", line);
    }
  return 0;
}

static int
run_ps_command (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  const char *format = "table";
  const cli_flag flags[] = {
    { "format", 'f', CLI_FLAG_STRING, &format, "FORMAT", "table (default) or json" },
    { NULL },
  };
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  const char *id;
  int first, rest;

  first = cli_parse_command (&cli_ps, flags, argc, argv, 1, -1, err);
  if (first < 0)
    return first;
  id = argv[first];
  rest = first + 1;
  if (rest < argc && strcmp (argv[rest], "--") == 0)
    rest++;
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    {
      crt_error_set (err, 0, "ps: invalid --format \"%s\": want table or json", format);
      return CLI_USAGE;
    }
  if (crt_container_pids (ctx, id, &pids, &n, err) < 0)
    return crt_error_prefix (err, "ps %s", id);
  if (strcmp (format, "json") == 0)
    {
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      printf ("]\n");
      return 0;
    }
  if (print_table (argv + rest, argc - rest, pids, n, err) < 0)
    return crt_error_prefix (err, "ps %s", id);
  return 0;
}

const cli_command cli_ps = {
  .name = "ps",
  .args = "ID [PS ARGS...]",
  .summary = "list the processes of a container",
  .description = "List the processes in the cgroup of the container ID. As a table (the\n"
                 "default), run ps(1) with PS ARGS (default: -ef) and print its header and\n"
                 "the lines of the container's processes; with --format json, print a JSON\n"
                 "array of their pids.",
  .flags_before_args = true,
  .run = run_ps_command,
};
