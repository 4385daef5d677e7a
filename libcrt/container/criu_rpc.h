/* The few messages of CRIU's RPC (criu's rpc.proto, proto2) crt sends and
 * reads in swrk mode, encoded and decoded by hand: varints and
 * length-delimited fields are all they use, and a protobuf library for
 * five messages would be a dependency Debian ships without the .c of
 * the schema anyway. Field numbers are those of rpc.proto. */
#ifndef CRT_CRIU_RPC_H
#define CRT_CRIU_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../error.h"

/* criu_req_type */
typedef enum
{
  CRT_CRIU_REQ_DUMP = 1,
  CRT_CRIU_REQ_RESTORE = 2,
  CRT_CRIU_REQ_PRE_DUMP = 4,
  CRT_CRIU_REQ_NOTIFY = 6,
  CRT_CRIU_REQ_VERSION = 10,
} crt_criu_req_type;

/* criu_cg_mode; CRT_CRIU_CG_UNSET leaves criu's default (soft). */
typedef enum
{
  CRT_CRIU_CG_UNSET = -1,
  CRT_CRIU_CG_IGNORE = 0,
  CRT_CRIU_CG_SOFT = 3,
  CRT_CRIU_CG_FULL = 4,
  CRT_CRIU_CG_STRICT = 5,
} crt_criu_cg_mode;

typedef struct crt_criu_pair
{
  const char *key;              /* ext_mount_map.key, inherit_fd.key, cgroup_root.ctrl (or NULL) */
  const char *val;              /* ext_mount_map.val, cgroup_root.path */
  int fd;                       /* inherit_fd.fd */
} crt_criu_pair;

#define CRT_CRIU_MAX_LIST 64

/* criu_opts: the fields crt sets. fds are numbers in criu's process
 * (crt passes them on unchanged); -1 or NULL or 0 leaves a field out. */
typedef struct crt_criu_opts
{
  int images_dir_fd;            /* required */
  int work_dir_fd;
  int pid;
  int log_level;
  const char *log_file;
  const char *root;
  const char *parent_img;
  const char *freeze_cgroup;
  bool leave_running;
  bool tcp_established;
  bool shell_job;
  bool file_locks;
  bool track_mem;
  bool manage_cgroups;
  bool rst_sibling;
  bool notify_scripts;
  bool orphan_pts_master;
  bool ext_unix_sk;
  bool auto_dedup;
  bool link_remap;
  bool tcp_skip_in_flight;
  uint32_t empty_ns;            /* CLONE_NEW* bits */
  crt_criu_cg_mode manage_cgroups_mode;
  crt_criu_pair ext_mnt[CRT_CRIU_MAX_LIST];
  size_t n_ext_mnt;
  crt_criu_pair inherit_fd[CRT_CRIU_MAX_LIST];
  size_t n_inherit_fd;
  crt_criu_pair cg_root[CRT_CRIU_MAX_LIST];
  size_t n_cg_root;
  const char *external[CRT_CRIU_MAX_LIST];
  size_t n_external;
} crt_criu_opts;

/* criu_req {type, opts (when given), notify_success}. Returns the
 * encoded bytes (the caller frees them) and their length in *len. */
uint8_t *crt_criu_encode_req (crt_criu_req_type type, const crt_criu_opts *opts,
                              bool notify_success, size_t *len);

/* criu_resp, the parts crt reads. */
typedef struct crt_criu_resp
{
  int type;
  bool success;
  bool has_restored;
  bool restored;                /* dump.restored */
  int restore_pid;              /* restore.pid, 0 if absent */
  char *notify_script;          /* notify.script, or NULL */
  int notify_pid;
  bool has_cr_errno;
  int cr_errno;
  char *cr_errmsg;              /* or NULL */
  bool has_version;
  int version_major, version_minor, version_sublevel;
  char *version_gitid;          /* or NULL */
} crt_criu_resp;

/* Decode one criu_resp. Unknown fields are skipped, as protobuf does;
 * truncated or malformed input and a missing required field (type,
 * success) are errors. *out owns its strings on success (clear it). */
int crt_criu_decode_resp (const uint8_t *buf, size_t len, crt_criu_resp *out, crt_error **err);
void crt_criu_resp_clear (crt_criu_resp *r);

#endif
