/* The commands of the crt CLI: one file each, listed in crt.c's table. */
#ifndef CRT_CLI_COMMANDS_H
#define CRT_CLI_COMMANDS_H

#include "flags.h"
#include "libcrt/crt.h"

/* What a command's run() returns besides an exit status >= 0. */
#define CLI_ERROR (-1)          /* *err set: print it, exit 1 */
#define CLI_USAGE (-2)          /* *err set: print it and a --help hint, exit 1 */
#define CLI_HELP (-3)           /* --help was printed: exit 0 */

typedef struct cli_command
{
  const char *name;
  const char *args;             /* synopsis after "[flags]": "ID", "ID [SIGNAL]", "" */
  const char *summary;          /* one line for `crt --help` */
  const char *description;      /* the paragraph of `crt NAME --help` */
  bool flags_before_args;       /* flags end at the first argument (exec: the
                                   command's own flags follow the id) */
  /* argv[0] is the command's name; argv[1..] its flags and arguments. */
  int (*run) (crt_context *ctx, int argc, char **argv, crt_error **err);
} cli_command;

/* Parse a command's flags (and --help) and check it got min_args to
 * max_args arguments (max_args < 0: no upper bound). Returns the index in
 * argv of the first argument, CLI_HELP once the usage is printed, or
 * CLI_USAGE with *err set. */
int cli_parse_command (const cli_command *cmd, const cli_flag *flags, int argc, char **argv,
                       int min_args, int max_args, crt_error **err);

/* Print an error once on stderr, and in the --log file where callers
 * such as containerd and podman look for it. As runc: with --log, only
 * the file gets the --log-format (JSON for engines) and stderr the plain
 * text a person reads; without one, stderr gets the --log-format. For
 * the failures a command reports before its last (delete of several
 * ids); main prints the one run() returns. */
void cli_print_error (const crt_context *ctx, const crt_error *err);

/* The flags `create` and `run` share, bound to a crt_create_options. */
#define CLI_CREATE_FLAGS(o)                                                                   \
  { "bundle", 'b', CLI_FLAG_STRING, &(o)->bundle, "DIR",                                      \
    "the bundle directory (default: the current one)" },                       \
  { "console-socket", 0, CLI_FLAG_STRING, &(o)->console_socket, "PATH",                       \
    "AF_UNIX socket to send the console's pseudoterminal master to" },         \
  { "pid-file", 0, CLI_FLAG_STRING, &(o)->pid_file, "PATH",                                   \
    "write the pid of the container's process to PATH" },                                    \
  { "no-pivot", 0, CLI_FLAG_BOOL, &(o)->no_pivot, NULL,                                       \
    "move the rootfs onto / and chroot, not pivot_root (rootfs on a ramdisk)" }, \
  { "no-new-keyring", 0, CLI_FLAG_BOOL, &(o)->no_new_keyring, NULL,                           \
    "keep the caller's session keyring" },                            \
  { "preserve-fds", 0, CLI_FLAG_UINT, &(o)->preserve_fds, "N",                                \
    "pass fds 3 to 3+N-1 on to the container" }

extern const cli_command cli_checkpoint;
extern const cli_command cli_create;
extern const cli_command cli_delete;
extern const cli_command cli_exec;
extern const cli_command cli_features;
extern const cli_command cli_kill;
extern const cli_command cli_list;
extern const cli_command cli_restore;
extern const cli_command cli_run;
extern const cli_command cli_spec;
extern const cli_command cli_start;
extern const cli_command cli_state;
extern const cli_command cli_events, cli_pause, cli_ps, cli_resume, cli_update; /* cgroup-commands.am */

#endif
