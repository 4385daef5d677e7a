#include "config.h"
#include "commands.h"

#include <stdlib.h>
#include <string.h>

static int
run_restore (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_restore_options opts = { 0 };
  bool no_subreaper = false, no_pivot = false;
  const cli_flag flags[] = {
    { "image-path", 0, CLI_FLAG_STRING, &opts.criu.image_path, "DIR",
      "the checkpoint's images (default: ./checkpoint)" },
    { "work-path", 0, CLI_FLAG_STRING, &opts.criu.work_path, "DIR",
      "where criu writes its log (default: the image path)" },
    { "bundle", 'b', CLI_FLAG_STRING, &opts.bundle, "DIR",
      "the bundle directory (default: the current one)" },
    { "detach", 'd', CLI_FLAG_BOOL, &opts.detach, NULL,
      "do not wait for the container: exit once it is restored" },
    { "pid-file", 0, CLI_FLAG_STRING, &opts.pid_file, "PATH",
      "write the pid of the container's process to PATH" },
    { "console-socket", 0, CLI_FLAG_STRING, &opts.console_socket, "PATH",
      "AF_UNIX socket to send the restored terminal's new pty master to" },
    { "tcp-established", 0, CLI_FLAG_BOOL, &opts.criu.tcp_established, NULL,
      "restore established TCP connections" },
    { "file-locks", 0, CLI_FLAG_BOOL, &opts.criu.file_locks, NULL, "restore file locks" },
    { "manage-cgroups-mode", 0, CLI_FLAG_STRING, &opts.criu.manage_cgroups_mode, "MODE",
      "cgroups mode: soft (criu's default), full, strict or ignore" },
    { "ext-unix-sk", 0, CLI_FLAG_BOOL, &opts.criu.ext_unix_sk, NULL,
      "allow unix sockets connected outside the container" },
    { "shell-job", 0, CLI_FLAG_BOOL, &opts.criu.shell_job, NULL,
      "allow a session and terminal shared with the caller" },
    { "auto-dedup", 0, CLI_FLAG_BOOL, &opts.criu.auto_dedup, NULL,
      "free the memory images as they are restored" },
    { "empty-ns", 0, CLI_FLAG_STRV, &opts.criu.empty_ns, "NS",
      "make the namespace empty, not restored (network only; repeatable)" },
    /* runc's, for containerd's shim (which passes both): crt restore
     * never becomes a subreaper, and criu mounts the root itself. */
    { "no-subreaper", 0, CLI_FLAG_BOOL, &no_subreaper, NULL,
      "accepted for runc's command line: crt restore is no subreaper" },
    { "no-pivot", 0, CLI_FLAG_BOOL, &no_pivot, NULL,
      "accepted for runc's command line: criu sets up the root" },
    { NULL },
  };
  const char *id;
  int first, exit_code = 0, ret;

  /* go-runc writes it with one dash (containerd's restore), which runc's
   * flag library takes as a long flag. */
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], "-no-subreaper") == 0)
      argv[i] = (char *) "--no-subreaper";
  first = cli_parse_command (&cli_restore, flags, argc, argv, 1, 1, err);
  if (first < 0)
    ret = first;
  else
    {
      id = argv[first];
      ret = crt_container_restore (ctx, id, &opts, &exit_code, err) < 0
                ? crt_error_prefix (err, "restore %s", id)
                : (opts.detach ? 0 : exit_code);
    }
  free (opts.criu.empty_ns);
  return ret;
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
