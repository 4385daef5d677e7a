#include "config.h"
#include "state.h"
#include "../cgroup/cgroup.h"
#include "../util/json_gen.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

void
crt_state_record_clear (crt_state_record *rec)
{
  free (rec->oci_version);
  free (rec->id);
  free (rec->bundle);
  free (rec->rootfs);
  free (rec->created);
  free (rec->cgroup_path);
  free (rec->notify_socket);
  for (size_t i = 0; i < rec->n_annotations; i++)
    {
      free (rec->annotations[i].key);
      free (rec->annotations[i].value);
    }
  free (rec->annotations);
  memset (rec, 0, sizeof (*rec));
}

void
crt_state_record_free (crt_state_record *rec)
{
  if (rec)
    crt_state_record_clear (rec);
  free (rec);
}

/* runc (libcontainer's validateID) takes [A-Za-z0-9_+.-] but not "." or
 * "..", of any length; crun (validate_id) takes the same letters but no
 * leading "." at all. crt follows the stricter: a leading "." would also
 * hide the container from `crt list`. The id names the state directory,
 * so it can be at most NAME_MAX long: refused here, not by mkdir. */
int
crt_id_validate (const char *id, crt_error **err)
{
  size_t n = id ? strlen (id) : 0;

  if (n == 0 || n > NAME_MAX)
    return crt_error_set (err, 0, "invalid container id `%.*s%s`: must be 1 to %d characters",
                          n > 64 ? 64 : (int) n, id ? id : "", n > 64 ? "..." : "", NAME_MAX);
  if (id[0] == '.')
    return crt_error_set (err, 0, "invalid container id `%s`: must not start with \".\"", id);
  for (const char *p = id; *p; p++)
    {
      char c = *p;
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-' || c == '.' || c == '+'))
        return crt_error_set (err, 0,
                              "invalid container id `%s`: only letters, digits and _ - . + are allowed",
                              id);
    }
  return 0;
}

static int
lock_dir (int dirfd, bool exclusive, const char *id, crt_error **err)
{
  struct stat st;

  while (flock (dirfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return crt_error_errno (err, "lock container `%s`", id);
  /* The directory may have been removed while we waited for the lock. */
  if (fstat (dirfd, &st) < 0)
    return crt_error_errno (err, "stat container `%s`", id);
  if (st.st_nlink == 0)
    return crt_error_with_code (err, ENOENT, "container `%s` does not exist", id);
  return 0;
}

char *
crt_state_dir_path (const crt_context *ctx, const char *id)
{
  return crt_fmt ("%s/%s", ctx->root, id);
}

/* A symlink planted as <root>/<id> is never followed: it would let a
 * command act on another container (tests/security/test_state_dir_links.py). */
static int
open_state_dir (const char *path)
{
  return open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

int
crt_state_dir_create (const crt_context *ctx, const char *id, int *dirfd, crt_error **err)
{
  cleanup_free char *path = crt_state_dir_path (ctx, id);
  cleanup_close int fd = -1;
  int made;

  /* The root exists nearly always: made only when this says it is
   * missing. */
  made = mkdir (path, 0700);
  if (made < 0 && errno == ENOENT)
    {
      if (crt_mkdir_p (ctx->root, 0700, err) < 0)
        return crt_error_prefix (err, "state root");
      made = mkdir (path, 0700);
    }
  if (made < 0)
    {
      if (errno == EEXIST)
        /* runc's words (libcontainer.ErrExist): engines know them. */
        return crt_error_with_code (err, EEXIST, "container with given ID already exists");
      return crt_error_errno (err, "mkdir `%s`", path);
    }
  fd = open_state_dir (path);
  if (fd < 0)
    {
      int saved = errno;
      rmdir (path);
      return crt_error_set (err, saved, "open `%s`", path);
    }
  if (lock_dir (fd, true, id, err) < 0)
    {
      rmdir (path);
      return -1;
    }
  *dirfd = crt_steal_fd (&fd);
  return 0;
}

int
crt_state_dir_open (const crt_context *ctx, const char *id, bool exclusive, int *dirfd,
                    crt_error **err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;

  if (crt_id_validate (id, err) < 0)
    return -1;
  path = crt_fmt ("%s/%s", ctx->root, id);
  fd = open_state_dir (path);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return crt_error_with_code (err, ENOENT, "container `%s` does not exist", id);
      return crt_error_errno (err, "open `%s`", path);
    }
  if (lock_dir (fd, exclusive, id, err) < 0)
    return -1;
  *dirfd = crt_steal_fd (&fd);
  return 0;
}

/* Remove the entries of an open directory: plain files, and
 * directories of plain files (notify/). Nothing in a state dir is deeper. */
static int
remove_entries (int dirfd, const char *path, int depth, crt_error **err)
{
  DIR *d = crt_dir_list (dirfd);
  struct dirent *de;
  int ret = 0;

  if (d == NULL)
    return crt_error_errno (err, "read `%s`", path);
  while (ret == 0 && (de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (dirfd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno == EISDIR && depth > 0)
        {
          cleanup_free char *sub = crt_fmt ("%s/%s", path, de->d_name);
          cleanup_close int subfd
              = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (subfd < 0)
            ret = crt_error_errno (err, "open `%s`", sub);
          else if (remove_entries (subfd, sub, depth - 1, err) == 0
                   && unlinkat (dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ret = crt_error_errno (err, "remove `%s`", sub);
          continue;
        }
      ret = crt_error_errno (err, "remove `%s/%s`", path, de->d_name);
    }
  closedir (d);
  return ret;
}

int
crt_state_dir_remove (const crt_context *ctx, const char *id, int dirfd, crt_error **err)
{
  /* What a container's state dir usually holds: removed by name, the
   * dir is empty for rmdir without reading it (the end of every `run`).
   * Anything else (a start socket, the notify dir) is found by the list. */
  static const char *const usual[] = { CRT_STATE_FILE, CRT_CONFIG_COPY };
  cleanup_free char *path = crt_state_dir_path (ctx, id);

  for (size_t i = 0; i < CRT_ARRAY_SIZE (usual); i++)
    if (unlinkat (dirfd, usual[i], 0) < 0 && errno != ENOENT)
      return crt_error_errno (err, "remove `%s/%s`", path, usual[i]);
  if (rmdir (path) == 0 || errno == ENOENT)
    return 0;
  if (errno != ENOTEMPTY && errno != EEXIST)
    return crt_error_errno (err, "remove `%s`", path);
  if (remove_entries (dirfd, path, 1, err) < 0)
    return -1;
  if (rmdir (path) < 0 && errno != ENOENT)
    return crt_error_errno (err, "remove `%s`", path);
  return 0;
}

int
crt_state_write (int dirfd, const crt_state_record *rec, crt_error **err)
{
  if (crt_state_stage (dirfd, rec, err) < 0)
    return -1;
  return crt_state_commit (dirfd, err);
}

int
crt_state_commit (int dirfd, crt_error **err)
{
  cleanup_free char *tmp = crt_fmt ("%s.tmp", CRT_STATE_FILE);

  /* Readers (list takes no lock) see the old file or the new one. */
  if (renameat (dirfd, tmp, dirfd, CRT_STATE_FILE) < 0)
    return crt_error_errno (err, "rename state file");
  return 0;
}

int
crt_state_stage (int dirfd, const crt_state_record *rec, crt_error **err)
{
  yajl_gen g = crt_gen_new (NULL);
  cleanup_free char *text = NULL;
  cleanup_free char *tmp = crt_fmt ("%s.tmp", CRT_STATE_FILE);

  yajl_gen_map_open (g);
  crt_gen_key_str (g, "ociVersion", rec->oci_version);
  crt_gen_key_str (g, "id", rec->id);
  crt_gen_str (g, "pid"); yajl_gen_integer (g, rec->pid);
  crt_gen_str (g, "pidStartTime"); yajl_gen_integer (g, (long long) rec->pid_start_time);
  crt_gen_key_str (g, "bundle", rec->bundle);
  crt_gen_key_str (g, "rootfs", rec->rootfs);
  crt_gen_key_str (g, "created", rec->created);
  crt_gen_key_str (g, "cgroupPath", rec->cgroup_path ? rec->cgroup_path : "");
  crt_gen_str (g, "privatePidNamespace"); yajl_gen_bool (g, rec->private_pidns);
  crt_gen_key_str (g, "notifySocket", rec->notify_socket ? rec->notify_socket : "");
  crt_gen_str (g, "annotations");
  yajl_gen_map_open (g);
  for (size_t i = 0; i < rec->n_annotations; i++)
    {
      crt_gen_str (g, rec->annotations[i].key);
      crt_gen_str (g, rec->annotations[i].value);
    }
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  text = crt_gen_finish (g);

  return crt_write_file_at (dirfd, tmp, text, strlen (text), 0600, err);
}

static char *
tree_str (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_string);
  return crt_xstrdup (v ? YAJL_GET_STRING (v) : "");
}

static long long
tree_int (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : 0;
}

int
crt_state_parse (const char *text, crt_state_record *rec, crt_error **err)
{
  char errbuf[256];
  yajl_val root, ann;
  const char *ann_path[] = { "annotations", NULL };
  const char *pidns_path[] = { "privatePidNamespace", NULL };

  memset (rec, 0, sizeof (*rec));
  root = yajl_tree_parse (text, errbuf, sizeof (errbuf));
  if (root == NULL)
    return crt_error_set (err, 0, "state file is corrupt: %s", errbuf);
  rec->oci_version = tree_str (root, "ociVersion");
  rec->id = tree_str (root, "id");
  rec->pid = (pid_t) tree_int (root, "pid");
  rec->pid_start_time = (unsigned long long) tree_int (root, "pidStartTime");
  rec->bundle = tree_str (root, "bundle");
  rec->rootfs = tree_str (root, "rootfs");
  rec->created = tree_str (root, "created");
  rec->cgroup_path = tree_str (root, "cgroupPath");
  rec->notify_socket = tree_str (root, "notifySocket");
  rec->private_pidns = YAJL_IS_TRUE (yajl_tree_get (root, pidns_path, yajl_t_true));
  ann = yajl_tree_get (root, ann_path, yajl_t_object);
  if (ann && YAJL_GET_OBJECT (ann)->len > 0)
    {
      size_t n = YAJL_GET_OBJECT (ann)->len;
      rec->annotations = crt_xmalloc0 (n * sizeof (crt_kv));
      for (size_t i = 0; i < n; i++)
        {
          yajl_val v = YAJL_GET_OBJECT (ann)->values[i];
          rec->annotations[i].key = crt_xstrdup (YAJL_GET_OBJECT (ann)->keys[i]);
          rec->annotations[i].value = crt_xstrdup (YAJL_IS_STRING (v) ? YAJL_GET_STRING (v) : "");
        }
      rec->n_annotations = n;
    }
  yajl_tree_free (root);
  return 0;
}

int
crt_state_read (int dirfd, crt_state_record *rec, crt_error **err)
{
  cleanup_free char *text = NULL;

  memset (rec, 0, sizeof (*rec));
  if (crt_read_file_at (dirfd, CRT_STATE_FILE, &text, NULL, NULL) < 0)
    {
      /* Only a crt killed in its first steps of create leaves that. */
      if (errno == ENOENT)
        return crt_error_with_code (err, ENOENT,
                                    "the container has no state: its create did not finish "
                                    "(delete removes it)");
      return crt_error_errno (err, "read `%s`", CRT_STATE_FILE);
    }
  return crt_state_parse (text, rec, err);
}

bool
crt_state_init_alive (const crt_state_record *rec)
{
  unsigned long long start;
  char run_state;

  if (rec->pid <= 0)
    return false;
  if (crt_proc_stat (rec->pid, &start, &run_state) < 0)
    return false;
  return start == rec->pid_start_time && run_state != 'Z' && run_state != 'X';
}

crt_status
crt_state_status (int dirfd, const crt_state_record *rec)
{
  struct stat st;

  if (!crt_state_init_alive (rec))
    return CRT_STATUS_STOPPED;
  /* `start` unlinks the socket once it has released the init, so its
   * presence means "not started". */
  if (fstatat (dirfd, CRT_START_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return CRT_STATUS_CREATED;
  if (rec->cgroup_path && rec->cgroup_path[0] && crt_cgroup_is_frozen (rec->cgroup_path) == 1)
    return CRT_STATUS_PAUSED;
  return CRT_STATUS_RUNNING;
}

const char *
crt_status_name (crt_status s)
{
  static const char *const names[] = { "creating", "created", "running", "stopped", "paused" };
  return (unsigned) s < CRT_ARRAY_SIZE (names) ? names[s] : "unknown";
}
