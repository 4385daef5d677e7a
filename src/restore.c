#include "config.h"
#include "commands.h"

static int
run_restore (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_restore_options opts = { 0 };
  const cli_flag flags[] = {
    { "image-path", 0, CLI_FLAG_STRING, &opts.image_path, "DIR",
      "the checkpoint's images (default: ./checkpoint)" },
    { "work-path", 0, CLI_FLAG_STRING, &opts.work_path, "DIR",
      "where criu writes its log (default: the image path)" },
    { "bundle", 'b', CLI_FLAG_STRING, &opts.bundle, "DIR",
      "the bundle directory (default: the current one)" },
    { "detach", 'd', CLI_FLAG_BOOL, &opts.detach, NULL,
      "do not wait for the container: exit once it is restored" },
    { "pid-file", 0, CLI_FLAG_STRING, &opts.pid_file, "PATH",
      "write the pid of the container's process to PATH" },
    { "console-socket", 0, CLI_FLAG_STRING, &opts.console_socket, "PATH",
      "AF_UNIX socket to send the restored terminal's new pty master to" },
    { "tcp-established", 0, CLI_FLAG_BOOL, &opts.tcp_established, NULL,
      "restore established TCP connections" },
    { "file-locks", 0, CLI_FLAG_BOOL, &opts.file_locks, NULL, "restore file locks" },
    { "manage-cgroups-mode", 0, CLI_FLAG_STRING, &opts.manage_cgroups_mode, "MODE",
      "cgroups mode: soft (criu's default), full, strict or ignore" },
    { NULL },
  };
  const char *id;
  int first, exit_code = 0;

  first = cli_parse_command (&cli_restore, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_restore (ctx, id, &opts, &exit_code, err) < 0)
    return crt_error_prefix (err, "restore %s", id);
  return opts.detach ? 0 : exit_code;
}

const cli_command cli_restore = {
  .name = "restore",
  .args = "ID",
  .summary = "restore a container from a CRIU checkpoint",
  .description = "Make the container ID again from a bundle and a checkpoint of `crt\n"
                 "checkpoint`: its state, its cgroup and, through criu, its processes.\n"
                 "Without --detach, crt then waits for it as `run` does: it forwards\n"
                 "signals, deletes the container when it exits and exits with its status.",
  .run = run_restore,
};
