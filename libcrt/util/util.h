/* Small helpers shared by all of libcrt: cleanup attributes, files,
 * strings. Functions here return -1 and fill an error, or return NULL on
 * allocation failure; none print. */
#ifndef CRT_UTIL_H
#define CRT_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../error.h"

/* ---- cleanup attributes: every early return is leak-free ---- */
void crt_freep (void *p);
void crt_closep (int *fd);
void crt_fclosep (FILE **f);
void crt_strv_freep (char ***v);

#define cleanup_free __attribute__ ((cleanup (crt_freep)))
#define cleanup_close __attribute__ ((cleanup (crt_closep)))
#define cleanup_fclose __attribute__ ((cleanup (crt_fclosep)))
#define cleanup_strv __attribute__ ((cleanup (crt_strv_freep)))

/* Hand ownership out of a cleanup variable. */
static inline void *
crt_steal_ptr (void *pp)
{
  void **p = (void **) pp;
  void *v = *p;
  *p = NULL;
  return v;
}
static inline int
crt_steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

#define CRT_ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* ---- strings ---- */
/* JSON string literal with quotes; caller frees. NULL on ENOMEM. */
char *crt_json_quote (const char *s);
void crt_strv_free (char **v);
size_t crt_strv_len (char *const *v);
bool crt_str_has_prefix (const char *s, const char *prefix);
/* Word n (from 0) of the blank-separated words of line, up to its end
 * or newline: its start and *len, or NULL when there are fewer. (What
 * /proc and cgroup files need of sscanf, without its code.) */
const char *crt_word (const char *line, unsigned n, size_t *len);
/* Append s (taken) to a NULL-terminated list of *n strings. */
void crt_strv_append (char ***list, size_t *n, char *s);
/* Set "K=V" in an environment list: replace the entry of K, or append. */
void crt_env_set (char ***env, size_t *n, const char *kv);
/* asprintf that aborts on ENOMEM (allocation failure is not recoverable
 * in a short-lived runtime and checking every call hides the logic). */
char *crt_fmt (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void *crt_xmalloc0 (size_t n);
/* realloc of nmemb * size bytes (checked for overflow) that aborts on
 * ENOMEM; the one place, with the two above, where allocation fails. */
void *crt_xreallocarray (void *p, size_t nmemb, size_t size);
char *crt_xstrdup (const char *s);
char *crt_xstrndup (const char *s, size_t n);

/* A growable byte buffer (encoders: the seccomp cache entry and its key,
 * criu's protobuf). */
typedef struct crt_buf
{
  unsigned char *data;
  size_t len, cap;
} crt_buf;
void crt_buf_put (crt_buf *b, const void *p, size_t n);
void crt_buf_put_u64 (crt_buf *b, uint64_t v);

/* A table from names to the kernel's numbers, and the lookup in it: 0
 * and *out set, or -1 for an unknown (or NULL) name. */
typedef struct crt_named_value
{
  const char *name;
  unsigned long value;
} crt_named_value;
int crt_lookup_name (const crt_named_value *table, size_t n, const char *name,
                     unsigned long *out);

/* A plain decimal 0..max (no sign, no spaces: strtol alone would take
 * " 7", "+7" and "-7"); -1 for anything else. */
int crt_parse_decimal (const char *s, int max);
/* A byte count as `crt update` takes it: "-1" (no limit), or a number
 * with an optional k, m, g, t, p (powers of 1024, "KiB", "kb" and "k"
 * alike); -1 for anything else. */
int crt_parse_size (const char *s, int64_t *out);

/* ---- files ---- */
/* Read a whole file (at dirfd, or AT_FDCWD) into a NUL-terminated buffer. */
/* A stream of the entries of the directory dirfd (closedir it), read
 * from its start: a new open of the directory, not a dup, which would
 * share the caller's read position. NULL and errno on failure. */
DIR *crt_dir_list (int dirfd);

int crt_read_file_at (int dirfd, const char *path, char **out, size_t *len, crt_error **err);
/* The same for a file that must be a regular one: a directory, FIFO,
 * device or socket is refused before anything is read from it. */
int crt_read_regular_file_at (int dirfd, const char *path, char **out, size_t *len,
                              crt_error **err);
/* Write buf to path, truncating. */
int crt_write_file_at (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                       crt_error **err);
/* Write via a temporary file + rename, so readers never see half a file. */
int crt_write_file_atomic (const char *path, const void *buf, size_t len, mode_t mode,
                           crt_error **err);
/* mkdir -p; existing directories are fine. */
int crt_mkdir_p (const char *path, mode_t mode, crt_error **err);
/* write(2) the whole buffer, retrying on EINTR and short writes. */
ssize_t crt_write_all (int fd, const void *buf, size_t len);
/* read(2) exactly len bytes unless EOF; returns bytes read or -1. */
ssize_t crt_read_all (int fd, void *buf, size_t len);

/* 64-bit FNV-1a of n bytes: the key of crt's caches (not a defence:
 * each cache lives in a directory only its owner can write). */
uint64_t crt_hash64 (const void *p, size_t n);

/* ---- processes ---- */
/* Fields of /proc/PID/stat: start time (22) and run state ('R', 'S',
 * 'Z'...). Either pointer may be NULL. -1 if the process is gone. */
int crt_proc_stat (pid_t pid, unsigned long long *start_time, char *run_state);
/* waitpid(2), retried on EINTR. */
pid_t crt_waitpid (pid_t pid, int *status, int flags);
/* SIGKILL a child of ours and reap it (it is a zombie at worst until
 * then, so the pid cannot have been reused). status may be NULL. */
void crt_kill_and_reap (pid_t pid, int *status);
/* Start time of a process (field 22 of /proc/PID/stat), 0 if it is gone. */
unsigned long long crt_proc_start_time (pid_t pid);
/* Every signal back to SIG_DFL and unblocked, as a freshly started
 * program expects. By raw syscall: glibc refuses to touch the signals it
 * reserves (32, 33), and a caller such as make may have them ignored,
 * which exec would pass on. */
void crt_reset_signals (void);
/* The signals this process ignores, as crt_reset_ignored_signals takes
 * them: bit s for signal s below 32, bit 0 for any from 32 on. */
uint32_t crt_ignored_signals (void);
/* crt_reset_signals for a process that set no handler of its own (the
 * container's init, a fork of crt, which uses none): exec resets caught
 * signals itself, so only the ignored ones need a call. The mask comes
 * from crt_ignored_signals in the parent, off the init's critical path
 * (62 calls there: about 20 us). */
void crt_reset_ignored_signals (uint32_t mask);

/* Mark every fd >= first close-on-exec, so nothing of crt or of its
 * caller leaks into the container's program (CVE-2024-21626 class). */
int crt_cloexec_fds_from (int first, crt_error **err);

/* Close every fd >= first except the n_keep (at most 16) in keep: before
 * the container's process resolves its cwd or any path, no fd that is
 * not the container's may be open, or /proc/self/fd/N leads to the host
 * (CVE-2024-21626). Negative entries of keep are ignored. */
int crt_close_fds_except (int first, const int *keep, size_t n_keep, crt_error **err);

/* A list of CPUs or memory nodes as the kernel prints them ("0-3,7"):
 * sets its bits in mask (nbits of them, cleared first; NULL: only
 * check). -1 for a malformed list or a number >= nbits; *highest (when
 * given) is the largest number in it, -1 for an empty list. */
#define CRT_ID_LIST_BITS 1024
int crt_parse_id_list (const char *list, unsigned long *mask, size_t nbits, int *highest);

#endif
