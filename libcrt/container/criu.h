/* Talking to CRIU in swrk mode: crt starts `criu swrk FD` with one end
 * of a SOCK_SEQPACKET pair; each message on it is one protobuf criu_req
 * or criu_resp (criu_rpc.h). While it works, criu may send notify
 * messages (action scripts) that crt answers before the final response. */
#ifndef CRT_CRIU_H
#define CRT_CRIU_H

#include <stdbool.h>
#include <sys/types.h>

#include "criu_rpc.h"

typedef struct crt_criu
{
  pid_t pid;
  int sock;
} crt_criu;

/* The criu binary in PATH (checked before anything is made, so that a
 * missing criu leaves nothing behind). */
int crt_criu_find (char **path, crt_error **err);

/* Start criu (found in PATH) with the fds keep (criu_opts names them by
 * number) left open across its exec. */
int crt_criu_start (crt_criu *c, const int *keep, size_t n_keep, crt_error **err);

/* Called for each notify message (script name, its pid field, and in
 * *fd the descriptor criu sent with it, e.g. the new pty master of
 * "orphan-pts-master", or -1). The callback may take *fd (and set it to
 * -1); what it leaves is closed. A negative return fails the call (criu
 * is told the script failed). */
typedef int (*crt_criu_notify_fn) (const char *script, int pid, int *fd, void *data,
                                   crt_error **err);

/* Send one request and read responses until the final one, answering
 * notify messages through fn (may be NULL). *resp is the final one,
 * successful or not (see crt_criu_explain). */
int crt_criu_call (crt_criu *c, crt_criu_req_type type, const crt_criu_opts *opts,
                   crt_criu_notify_fn fn, void *data, crt_criu_resp *resp, crt_error **err);

/* Close the socket and reap criu. */
void crt_criu_finish (crt_criu *c);

/* The error of a failed request: what failed, criu's own message (its
 * cr_errmsg, or else the error lines of its log log_name in the work
 * directory work_dirfd) and where the log is. Returns -1. */
int crt_criu_explain (const crt_criu_resp *resp, const char *what, int work_dirfd,
                      const char *work_dir, const char *log_name, crt_error **err);

/* criu's version as MAJOR*10000 + MINOR*100 + SUBLEVEL, asked over RPC
 * (a VERSION request: no kernel check). Fails when criu is missing or
 * does not answer. */
int crt_criu_version (int *version, crt_error **err);

#endif

/* ---- what checkpoint and restore share (criu_shared.c) ---- */
#include "../crt.h"
#include "../spec/spec.h"

/* The log files criu writes in the work directory. */
#define CRT_CRIU_DUMP_LOG "dump.log"
#define CRT_CRIU_RESTORE_LOG "restore.log"
/* Written by checkpoint into the image directory: what the init's fds
 * 0, 1 and 2 were (a JSON array of their /proc/PID/fd link targets), so
 * that restore hands its own stdio to the pipes among them. */
#define CRT_CRIU_DESCRIPTORS "descriptors.json"
/* The key of a joined network namespace in criu's external list. */
#define CRT_CRIU_NETNS_KEY "crt-netns"

/* "soft", "full", "strict", "ignore" (runc's names) -> criu_cg_mode;
 * NULL -> CRT_CRIU_CG_UNSET. */
int crt_criu_cg_mode_parse (const char *name, crt_criu_cg_mode *out, crt_error **err);

/* --empty-ns values (namespace types as config.json names them) as the
 * CLONE_NEW* mask criu takes; only "network", as runc. */
int crt_criu_empty_ns_parse (char *const *names, uint32_t *mask, crt_error **err);

/* The switches checkpoint and restore share: checked before anything is
 * made, then set in o (manage_cgroups_mode and empty_ns parsed). */
int crt_criu_switches_check (const crt_criu_switches *s, crt_error **err);
int crt_criu_switches_apply (const crt_criu_switches *s, crt_criu_opts *o, crt_error **err);

/* --image-path, ./checkpoint when not given; --work-path, the image
 * path when not given. */
const char *crt_criu_image_path (const crt_criu_switches *s);
const char *crt_criu_work_path (const crt_criu_switches *s);

/* Open (making it when mkdir) the directory dir as O_DIRECTORY; what
 * names the flag in errors ("--image-path"). 1 when it was made now. */
int crt_criu_open_dir (const char *dir, bool mkdir, const char *what, int *fd, crt_error **err);

/* The bind mounts of the spec as criu's external mounts: at dump, the
 * destination names itself; at restore (bundle given) it maps to the
 * source (relative ones resolved against the bundle). The strings are
 * malloc'ed into *owned (free with crt_strv_free). */
int crt_criu_ext_mounts (const crt_spec *spec, const char *bundle, crt_criu_opts *o,
                         char ***owned, crt_error **err);

/* criu's restored tasks open their images after they entered a new user
 * namespace, as its root: an image directory crt has just made (made)
 * gets that root's group and mode 0710; an existing one must let it
 * search it, or restore fails here, saying how to give it access. */
int crt_criu_images_for_userns (const crt_spec *spec, int image_fd, const char *path, bool made,
                                crt_error **err);

/* A bind mount's source as a host path (relative ones against the
 * bundle; NULL without a source). */
char *crt_criu_bind_source (const crt_mount *m, const char *bundle);

/* What checkpoint and restore refuse: settings crt cannot carry over. */
int crt_criu_check_spec (const crt_spec *spec, const char *what, crt_error **err);
