#include "config.h"
#include "commands.h"

static int
run_checkpoint (crt_context *ctx, int argc, char **argv, crt_error **err)
{
  crt_checkpoint_options opts = { 0 };
  const cli_flag flags[] = {
    { "image-path", 0, CLI_FLAG_STRING, &opts.image_path, "DIR",
      "where criu writes the images (default: ./checkpoint, made if missing)" },
    { "work-path", 0, CLI_FLAG_STRING, &opts.work_path, "DIR",
      "where criu writes its log (default: the image path)" },
    { "leave-running", 0, CLI_FLAG_BOOL, &opts.leave_running, NULL,
      "leave the container running after the checkpoint" },
    { "tcp-established", 0, CLI_FLAG_BOOL, &opts.tcp_established, NULL,
      "checkpoint established TCP connections" },
    { "file-locks", 0, CLI_FLAG_BOOL, &opts.file_locks, NULL, "checkpoint file locks" },
    { "pre-dump", 0, CLI_FLAG_BOOL, &opts.pre_dump, NULL,
      "dump memory only and leave the container running (for a later --parent-path)" },
    { "parent-path", 0, CLI_FLAG_STRING, &opts.parent_path, "DIR",
      "a previous pre-dump, relative to the image path (e.g. ../pre)" },
    { "manage-cgroups-mode", 0, CLI_FLAG_STRING, &opts.manage_cgroups_mode, "MODE",
      "cgroups mode: soft (criu's default), full, strict or ignore" },
    { NULL },
  };
  const char *id;
  int first;

  first = cli_parse_command (&cli_checkpoint, flags, argc, argv, 1, 1, err);
  if (first < 0)
    return first;
  id = argv[first];
  if (crt_container_checkpoint (ctx, id, &opts, err) < 0)
    return crt_error_prefix (err, "checkpoint %s", id);
  return 0;
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
