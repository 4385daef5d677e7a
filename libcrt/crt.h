/* libcrt: the public API the crt CLI (and tests) use.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative value on failure, with *err filled once. Nothing here prints or
 * exits; logging goes through the context's log stream.
 */
#ifndef CRT_H
#define CRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

#define CRT_DEFAULT_ROOT "/run/crt"
#define CRT_OCI_VERSION "1.3.0"

typedef enum
{
  CRT_CGROUP_MANAGER_CGROUPFS = 0,
  CRT_CGROUP_MANAGER_SYSTEMD,
  CRT_CGROUP_MANAGER_DISABLED,
} crt_cgroup_manager;

typedef enum
{
  CRT_LOG_ERROR = 0,
  CRT_LOG_WARNING,
  CRT_LOG_INFO,
  CRT_LOG_DEBUG,
} crt_log_level;

/* Global options, from the CLI's global flags. */
typedef struct crt_context
{
  const char *root;             /* state directory root (--root) */
  FILE *log;                    /* --log stream, or NULL for stderr */
  bool log_json;                /* --log-format=json */
  bool debug;                   /* --debug */
  bool rootless;                /* --rootless, resolved (crt_context_set_rootless) */
  crt_cgroup_manager cgroup_manager;
} crt_context;

/* Resolve --rootless (NULL, "auto", "true" or "false") into ctx->rootless
 * and, when ctx->root is NULL, pick the default state root: for an
 * unprivileged user $XDG_RUNTIME_DIR/crt, else /run/user/UID/crt; for
 * root CRT_DEFAULT_ROOT. auto (as runc): rootless when crt is not uid 0
 * or runs in a user namespace. */
int crt_context_set_rootless (crt_context *ctx, const char *rootless_flag, crt_error **err);
/* Whether crt runs in a user namespace other than the host's. */
bool crt_in_user_namespace (void);
/* crt runs as a uid other than 0 of its own user namespace, so it holds
 * no capabilities there (no id maps beyond its own id, no chown, no
 * joining the pid namespace back). Not the same as ctx->rootless, which
 * is also true for uid 0 inside a user namespace (rootless podman). */
bool crt_unprivileged (void);

/* Log a line to ctx->log (or stderr), as text or JSON. DEBUG lines only
 * with ctx->debug. Safe to call with ctx == NULL (then: nothing). */
void crt_log (const crt_context *ctx, crt_log_level level, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* ---- create / run ---- */
typedef struct crt_create_options
{
  const char *bundle;           /* default: cwd */
  const char *config_path;      /* default: <bundle>/config.json */
  const char *pid_file;         /* written (atomically) with the init pid */
  const char *console_socket;   /* AF_UNIX path to receive the pty master */
  int preserve_fds;             /* fds 3..3+N-1 passed to the container */
  bool no_pivot;
  bool no_new_keyring;
  /* run only */
  bool detach;
  bool keep;
} crt_create_options;

/* Create the container and leave its init blocked before the user
 * program until crt_container_start(). */
int crt_container_create (crt_context *ctx, const char *id, const crt_create_options *opts,
                          crt_error **err);

/* Release a created container's init: it execs process.args. */
int crt_container_start (crt_context *ctx, const char *id, crt_error **err);

/* create + start. In the foreground (!opts->detach) this waits for the
 * container, forwarding signals to its init, deletes it unless
 * opts->keep, and stores the exit status in *exit_code: the process's
 * exit code, or 128+N if it was killed by signal N. */
int crt_container_run (crt_context *ctx, const char *id, const crt_create_options *opts,
                       int *exit_code, crt_error **err);

/* ---- exec ---- */
typedef struct crt_exec_options
{
  const char *process_path;     /* --process: a runtime-spec process JSON */
  char **args;                  /* COMMAND [ARGS...] (NULL-terminated) */
  char **env;                   /* --env K=V, added (replacing the same K) */
  const char *cwd;              /* --cwd */
  bool has_user;                /* --user UID[:GID] */
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
  uint32_t *additional_gids;    /* --additional-gids */
  size_t n_additional_gids;
  char **caps;                  /* --cap: added to every capability set */
  bool tty;
  bool detach;
  bool no_new_privs;
  bool ignore_paused;
  const char *pid_file;
  const char *console_socket;
  const char *cgroup;           /* --cgroup: a sub-cgroup of the container's */
  int preserve_fds;
} crt_exec_options;

/* Run a new process in a running container: all of its namespaces, its
 * cgroup, the container's process settings overridden by opts. In the
 * foreground (!detach) it waits, forwarding signals, and stores the
 * process's exit code (128+N for signal N) in *exit_code. */
int crt_container_exec (crt_context *ctx, const char *id, const crt_exec_options *opts,
                        int *exit_code, crt_error **err);

/* ---- query ---- */
typedef enum
{
  CRT_STATUS_CREATING = 0,
  CRT_STATUS_CREATED,
  CRT_STATUS_RUNNING,
  CRT_STATUS_STOPPED,
  CRT_STATUS_PAUSED,
} crt_status;

const char *crt_status_name (crt_status s);

typedef struct crt_container_state
{
  char *id;
  char *oci_version;
  crt_status status;
  pid_t pid;                    /* 0 when stopped */
  char *bundle;
  char *rootfs;
  char *created;                /* RFC 3339, UTC, nanoseconds */
  char *owner;                  /* "" in state, the user name in list (as runc) */
  char **annotation_keys;       /* parallel arrays, n_annotations long */
  char **annotation_values;
  size_t n_annotations;
} crt_container_state;

int crt_container_state_get (crt_context *ctx, const char *id, crt_container_state **out,
                             crt_error **err);
/* The runtime-spec state JSON that `crt state` prints (runc's layout). */
char *crt_container_state_to_json (const crt_container_state *st);
void crt_container_state_free (crt_container_state *st);

/* All containers under ctx->root (sorted by id). */
int crt_container_list (crt_context *ctx, crt_container_state ***out, size_t *n, crt_error **err);
void crt_container_list_free (crt_container_state **list, size_t n);
/* The JSON array `crt list --format json` prints (compact, one line). */
char *crt_container_list_to_json (crt_container_state *const *list, size_t n);

/* ---- act ---- */
/* Send sig to the init (or, with all, to every process of the container). */
int crt_container_kill (crt_context *ctx, const char *id, int sig, bool all, crt_error **err);

/* Remove a stopped (or created) container; force kills a running one first. */
int crt_container_delete (crt_context *ctx, const char *id, bool force, crt_error **err);

/* ---- checkpoint / restore (through CRIU) ---- */
/* What checkpoint and restore both take, as runc's flags of the same
 * names: the image and work directories and criu's switches, passed on
 * as criu's options of the same names (crt_criu_switches_apply). */
typedef struct crt_criu_switches
{
  const char *image_path;       /* default: ./checkpoint (checkpoint makes it) */
  const char *work_path;        /* criu's log and work files; default: image_path */
  const char *manage_cgroups_mode;  /* soft, full, strict, ignore; NULL: criu's (soft) */
  bool tcp_established;
  bool file_locks;
  bool ext_unix_sk;
  bool shell_job;
  bool auto_dedup;
  char **empty_ns;              /* namespace types ("network"): made empty at restore */
} crt_criu_switches;

typedef struct crt_checkpoint_options
{
  crt_criu_switches criu;
  const char *parent_path;      /* a previous pre-dump, relative to image_path */
  bool leave_running;
  bool pre_dump;
  bool link_remap;
  bool tcp_skip_in_flight;
} crt_checkpoint_options;

/* Dump a running container into opts->criu.image_path; unless leave_running
 * (or pre_dump) its processes are killed, and it is then stopped. */
int crt_container_checkpoint (crt_context *ctx, const char *id,
                              const crt_checkpoint_options *opts, crt_error **err);

typedef struct crt_restore_options
{
  crt_criu_switches criu;
  const char *bundle;           /* default: cwd */
  const char *pid_file;
  const char *console_socket;
  bool detach;
} crt_restore_options;

/* Make container id again from its bundle and a checkpoint: state, cgroup
 * and the processes criu restores (children of crt). In the foreground
 * (!detach) this then waits for it as `run` does (forwarding signals,
 * deleting it after) and stores its exit code in *exit_code. */
int crt_container_restore (crt_context *ctx, const char *id, const crt_restore_options *opts,
                           int *exit_code, crt_error **err);

/* Whether a usable criu is installed (found in PATH, answers a VERSION
 * request); *version as MAJOR*10000+MINOR*100+SUBLEVEL when it is. For
 * `crt --version` and `crt features`: no kernel check is made. */
bool crt_criu_usable (int *version);

/* ---- cgroup: pause, resume, update, ps, events ---- */
/* Freeze every process of a running container (cgroup.freeze), waiting
 * until the kernel reports it frozen; resume thaws a paused one. */
int crt_container_pause (crt_context *ctx, const char *id, crt_error **err);
int crt_container_resume (crt_context *ctx, const char *id, crt_error **err);

/* What `update` changes: a linux.resources JSON text and runc's flags as
 * given on the command line (NULL when absent), the flags taking
 * precedence. Sizes take k, m, g, t suffixes (powers of 1024); -1 is
 * unlimited. */
typedef struct crt_update_options
{
  const char *resources_json;
  const char *resources_origin;         /* its file name, for errors */
  const char *memory;
  const char *memory_reservation;
  const char *memory_swap;
  const char *cpu_shares;
  const char *cpu_quota;
  const char *cpu_period;
  const char *cpuset_cpus;
  const char *cpuset_mems;
  const char *pids_limit;
  const char *blkio_weight;
} crt_update_options;

/* Apply the update to a created, running or paused container: only what
 * it sets changes; device rules, when given, replace the container's
 * device program. */
int crt_container_update (crt_context *ctx, const char *id, const crt_update_options *opts,
                          crt_error **err);

/* The pids (in crt's pid namespace) of every process of the container. */
int crt_container_pids (crt_context *ctx, const char *id, pid_t **out, size_t *n,
                        crt_error **err);

/* runc's stats event, one line of JSON:
 * {"type":"stats","id":ID,"data":{"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":..}} */
int crt_container_stats (crt_context *ctx, const char *id, char **json, crt_error **err);

/* Watch a container until it stops: a stats event every interval_ms and
 * {"type":"oom","id":ID} whenever the kernel OOM-kills one of its
 * processes. Each event goes to emit as one line of JSON; a negative
 * return from emit stops the watch with that error. */
typedef int (*crt_event_fn) (const char *json, void *data, crt_error **err);
int crt_container_events (crt_context *ctx, const char *id, unsigned interval_ms,
                          crt_event_fn emit, void *data, crt_error **err);

/* ---- helpers for the CLI ---- */
/* "TERM", "SIGTERM", "15", "sigterm" -> 15. */
int crt_signal_parse (const char *s, int *sig, crt_error **err);
/* Ids: 1..1024 chars of [A-Za-z0-9_+.-], not "." or "..". */
int crt_id_validate (const char *id, crt_error **err);
/* Write the default config.json into bundle (refuses to overwrite). */
int crt_spec_write_default (const char *bundle, bool rootless, crt_error **err);
/* The runtime-spec Features structure `crt features` prints (pretty,
 * runc's layout, ending in a newline). The caller frees it. */
char *crt_features_json (void);

#endif
