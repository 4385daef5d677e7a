#include "config.h"
#include "commands.h"

#include <stdlib.h>

static int
run_checkpoint (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_checkpoint_options opts = { 0 };
  const cli_flag flags[] = {
    { "image-path", 0, CLI_FLAG_STRING, &opts.criu.image_path, "DIR",
      "where criu writes the images (default: ./checkpoint, made if missing)" },
    { "work-path", 0, CLI_FLAG_STRING, &opts.criu.work_path, "DIR",
      "where criu writes its log (default: the image path)" },
    { "leave-running", 0, CLI_FLAG_BOOL, &opts.leave_running, NULL,
      "leave the container running after the checkpoint" },
    { "tcp-established", 0, CLI_FLAG_BOOL, &opts.criu.tcp_established, NULL,
      "checkpoint established TCP connections" },
    { "file-locks", 0, CLI_FLAG_BOOL, &opts.criu.file_locks, NULL, "checkpoint file locks" },
    { "pre-dump", 0, CLI_FLAG_BOOL, &opts.pre_dump, NULL,
      "dump memory only and leave the container running (for a later --parent-path)" },
    { "parent-path", 0, CLI_FLAG_STRING, &opts.parent_path, "DIR",
      "a previous pre-dump, relative to the image path (e.g. ../pre)" },
    { "manage-cgroups-mode", 0, CLI_FLAG_STRING, &opts.criu.manage_cgroups_mode, "MODE",
      "cgroups mode: soft (criu's default), full, strict or ignore" },
    { "ext-unix-sk", 0, CLI_FLAG_BOOL, &opts.criu.ext_unix_sk, NULL,
      "allow unix sockets connected outside the container" },
    { "shell-job", 0, CLI_FLAG_BOOL, &opts.criu.shell_job, NULL,
      "allow a session and terminal shared with the caller" },
    { "auto-dedup", 0, CLI_FLAG_BOOL, &opts.criu.auto_dedup, NULL,
      "deduplicate the memory of the parent images" },
    { "link-remap", 0, CLI_FLAG_BOOL, &opts.link_remap, NULL,
      "link open but deleted files back where possible" },
    { "tcp-skip-in-flight", 0, CLI_FLAG_BOOL, &opts.tcp_skip_in_flight, NULL,
      "skip TCP connections not yet accepted" },
    { "empty-ns", 0, CLI_FLAG_STRV, &opts.criu.empty_ns, "NS",
      "dump the namespace without its contents (network only; repeatable)" },
    { NULL },
  };
  const char *id;
  int first, ret = 0;

  first = cli_parse_command (&cli_checkpoint, flags, argc, argv, 1, 1, err);
  if (first < 0)
    ret = first;
  else
    {
      id = argv[first];
      if (crt_container_checkpoint (ctx, id, &opts, err) < 0)
        ret = crt_error_prefix (err, "checkpoint %s", id);
    }
  free (opts.criu.empty_ns);
  return ret;
}

const cli_command cli_checkpoint = {
  .name = "checkpoint",
  .args = "ID",
  .summary = "checkpoint a running container with CRIU",
  .description = "Dump the processes of the running container ID with criu into an image\n"
                 "directory. Unless --leave-running (or --pre-dump), criu kills them and the\n"
                 "container is stopped: `crt delete ID` removes it, `crt restore` brings it\n"
                 "back.",
  .run = run_checkpoint,
};
