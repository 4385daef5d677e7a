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
#define CRT_OCI_VERSION "1.2.0"

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
  crt_cgroup_manager cgroup_manager;
} crt_context;

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
  char *owner;                  /* user name of the creator, "" for root like runc */
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

/* ---- act ---- */
/* Send sig to the init (or, with all, to every process of the container). */
int crt_container_kill (crt_context *ctx, const char *id, int sig, bool all, crt_error **err);

/* Remove a stopped (or created) container; force kills a running one first. */
int crt_container_delete (crt_context *ctx, const char *id, bool force, crt_error **err);

/* ---- helpers for the CLI ---- */
/* "TERM", "SIGTERM", "15", "sigterm" -> 15. */
int crt_signal_parse (const char *s, int *sig, crt_error **err);
/* Ids: 1..1024 chars of [A-Za-z0-9_+.-], not "." or "..". */
int crt_id_validate (const char *id, crt_error **err);
/* Write the default config.json into bundle (refuses to overwrite). */
int crt_spec_write_default (const char *bundle, bool rootless, crt_error **err);

#endif
