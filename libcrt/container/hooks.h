/* OCI hooks (config.md "POSIX-platform Hooks"): run the programs of one
 * hook kind, in order, each with the container's state JSON on stdin.
 *
 * The caller picks the moment and the namespace (runtime.md "Lifecycle");
 * this module only runs the programs in whatever namespaces the calling
 * process is in. A hook's path is absolute and is executed as given, with
 * exactly its own args and env, never a PATH search or crt's environment.
 * Its stdout and stderr are captured, as runc does, and end up in the
 * error when it fails ("..., stdout: ..., stderr: ..."), never in crt's
 * own output. */
#ifndef CRT_HOOKS_H
#define CRT_HOOKS_H

#include <stddef.h>
#include <sys/types.h>

#include "../crt.h"
#include "../spec/spec.h"


/* Run every hook of `kind` in order with state_json on stdin, stopping
 * at the first failure: -1 with *err naming the hook, e.g.
 * "hooks.createRuntime[1]: `/usr/bin/x` exited with status 3" (or
 * "killed by signal 9", "timed out after 2s", "exec `/usr/bin/x`: No such
 * file or directory"). hooks may be NULL (no hooks in config.json). */
int crt_hooks_run (const crt_hooks *hooks, crt_hook_kind kind, const char *state_json,
                   crt_error **err);

/* Run every hook of `kind` even when some fail, logging each failure as a
 * warning through ctx: for poststop, whose failures must not stop the
 * lifecycle (runtime.md step 13). Returns the number of hooks that failed. */
size_t crt_hooks_run_logged (const crt_context *ctx, const crt_hooks *hooks, crt_hook_kind kind,
                             const char *state_json);

/* The runtime-spec state object hooks get on stdin, as compact JSON:
 * {"ociVersion","id","status","pid","bundle","annotations"}. pid <= 0 is
 * left out (a stopped container has none). annotations may be NULL. The
 * caller frees the result. */
char *crt_hook_state_json (const char *oci_version, const char *id, const char *status, pid_t pid,
                           const char *bundle, const crt_kv *annotations, size_t n);

/* That object for a container of this spec (its ociVersion and
 * annotations). */
char *crt_hook_state_for (const crt_spec *spec, const char *id, const char *status, pid_t pid,
                          const char *bundle);

#endif
