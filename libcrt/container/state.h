/* A container's state directory <root>/<id>/: the lock that serialises
 * commands on one id, state.json (what crt knows about the container),
 * the start socket and the copy of config.json taken at create. */
#ifndef CRT_STATE_H
#define CRT_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../crt.h"
#include "../spec/spec.h"

#define CRT_STATE_FILE "state.json"
/* The created init listens here; `start` connects, and the init answers
 * with an error or execs (its end is close-on-exec: EOF means exec'd). */
#define CRT_START_SOCKET "start.sock"
#define CRT_CONFIG_COPY "config.json"

typedef struct crt_state_record
{
  char *oci_version;
  char *id;
  pid_t pid;
  unsigned long long pid_start_time;  /* tells our init from a reused pid */
  char *bundle;
  char *rootfs;
  char *created;
  char *cgroup_path;                  /* "" until cgroups are managed */
  bool private_pidns;
  char *notify_socket;                /* host NOTIFY_SOCKET to relay READY=1 to, or "" */
  crt_kv *annotations;
  size_t n_annotations;
} crt_state_record;

void crt_state_record_free (crt_state_record *rec);
#define cleanup_state_record __attribute__ ((cleanup (crt_state_record_clear)))
void crt_state_record_clear (crt_state_record *rec);

/* Create <root>/<id> (refusing an existing id) and lock it. */
int crt_state_dir_create (const crt_context *ctx, const char *id, int *dirfd, crt_error **err);
/* Open and lock an existing container's directory. */
int crt_state_dir_open (const crt_context *ctx, const char *id, bool exclusive, int *dirfd,
                        crt_error **err);
/* Remove everything in the directory and the directory itself. */
int crt_state_dir_remove (const crt_context *ctx, const char *id, int dirfd, crt_error **err);

int crt_state_write (int dirfd, const crt_state_record *rec, crt_error **err);
/* The same in two steps: stage writes it aside (state.json.tmp), commit
 * puts it in place (one rename), so the writing can overlap other work
 * and the state still appears only when it is true. */
int crt_state_stage (int dirfd, const crt_state_record *rec, crt_error **err);
int crt_state_commit (int dirfd, crt_error **err);
int crt_state_read (int dirfd, crt_state_record *rec, crt_error **err);
/* The state.json text alone (what crt_state_read does once it has read
 * the file); rec is zeroed first and owns the strings on success. */
int crt_state_parse (const char *text, crt_state_record *rec, crt_error **err);

/* created / running / stopped, from the record and the live process. */
crt_status crt_state_status (int dirfd, const crt_state_record *rec);

/* True while rec->pid is still our container's init (not a reused pid,
 * not a zombie). */
bool crt_state_init_alive (const crt_state_record *rec);

/* <root>/<id>: the state directory's path. */
char *crt_state_dir_path (const crt_context *ctx, const char *id);

#endif
