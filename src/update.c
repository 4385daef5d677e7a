#include "config.h"
#include "commands.h"
#include "libcrt/util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The --resources file, or stdin for "-". */
static int
read_resources (const char *path, char **out, crt_error **err)
{
  size_t len = 0, cap = 4096;
  cleanup_free char *buf = NULL;
  ssize_t n;

  if (strcmp (path, "-") != 0)
    return crt_read_file_at (AT_FDCWD, path, out, NULL, err);
  buf = crt_xmalloc0 (cap);
  while ((n = read (STDIN_FILENO, buf + len, cap - len - 1)) > 0)
    {
      len += (size_t) n;
      if (cap - len < 2)
        {
          buf = realloc (buf, cap *= 2);
          if (buf == NULL)
            abort ();
        }
    }
  if (n < 0)
    return crt_error_errno (err, "read the resources from stdin");
  buf[len] = '\0';
  *out = crt_steal_ptr (&buf);
  return 0;
}

static int
run_update (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_update_options o = { 0 };
  const char *resources = NULL;
  const cli_flag flags[] = {
    { "resources", 'r', CLI_FLAG_STRING, &resources, "FILE",
      "a linux.resources JSON object from FILE, or from stdin for -" },
    { "memory", 0, CLI_FLAG_STRING, &o.memory, "BYTES", "memory limit (memory.max); -1: none" },
    { "memory-reservation", 0, CLI_FLAG_STRING, &o.memory_reservation, "BYTES",
      "memory soft limit (memory.low)" },
    { "memory-swap", 0, CLI_FLAG_STRING, &o.memory_swap, "BYTES",
      "memory plus swap limit; -1: unlimited swap" },
    { "cpu-shares", 0, CLI_FLAG_STRING, &o.cpu_shares, "N",
      "relative CPU weight, 2 to 262144 (cpu.weight)" },
    { "cpu-quota", 0, CLI_FLAG_STRING, &o.cpu_quota, "USEC",
      "CPU time allowed per period (cpu.max); -1: none" },
    { "cpu-period", 0, CLI_FLAG_STRING, &o.cpu_period, "USEC", "CPU quota period (cpu.max)" },
    { "cpuset-cpus", 0, CLI_FLAG_STRING, &o.cpuset_cpus, "LIST", "CPUs allowed (0-3, 0,1)" },
    { "cpuset-mems", 0, CLI_FLAG_STRING, &o.cpuset_mems, "LIST", "memory nodes allowed" },
    { "pids-limit", 0, CLI_FLAG_STRING, &o.pids_limit, "N",
      "maximum number of tasks (pids.max); -1: none, 0: no new task" },
    { "blkio-weight", 0, CLI_FLAG_STRING, &o.blkio_weight, "N",
      "relative block I/O weight, 10 to 1000" },
    { NULL },
  };
  cleanup_free char *json = NULL;
  const char *id;
  int first;

  first = cli_parse_command (&cli_update, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (resources != NULL)
    {
      if (read_resources (resources, &json, err) < 0)
        return crt_error_prefix (err, "update %s", id);
      o.resources_json = json;
      o.resources_origin = strcmp (resources, "-") == 0 ? "stdin" : resources;
    }
  if (crt_container_update (ctx, id, &o, err) < 0)
    return crt_error_prefix (err, "update %s", id);
  return 0;
}

const cli_command cli_update = {
  .name = "update",
  .args = "ID",
  .summary = "change the resource limits of a container",
  .description = "Change the cgroup resource limits of the container ID while it runs. Give\n"
                 "runc's flags, or a linux.resources JSON object with --resources (the flags\n"
                 "win over it). Only what is given changes; device rules in --resources\n"
                 "replace the container's device program. Sizes take k, m, g suffixes.",
  .run = run_update,
};
