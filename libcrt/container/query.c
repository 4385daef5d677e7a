/* state and list: what a container is doing, in runc's JSON layout. */
#include "config.h"
#include "container.h"
#include "../util/json_gen.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
crt_container_state_free (crt_container_state *st)
{
  if (st == NULL)
    return;
  free (st->id);
  free (st->oci_version);
  free (st->bundle);
  free (st->rootfs);
  free (st->created);
  free (st->owner);
  for (size_t i = 0; i < st->n_annotations; i++)
    {
      free (st->annotation_keys[i]);
      free (st->annotation_values[i]);
    }
  free (st->annotation_keys);
  free (st->annotation_values);
  free (st);
}

/* The name of uid. A static crt reads /etc/passwd itself, as a static
 * runc does: NSS would dlopen its modules (and a second libc). */
static char *
user_name (uid_t uid)
{
#ifdef CRT_STATIC_BINARY
  FILE *f = fopen ("/etc/passwd", "re");
  struct passwd *pw;
  char *name = NULL;

  while (f && name == NULL && (pw = fgetpwent (f)) != NULL)
    if (pw->pw_uid == uid)
      name = crt_xstrdup (pw->pw_name);
  if (f)
    fclose (f);
  return name;
#else
  struct passwd *pw = getpwuid (uid);
  return pw ? crt_xstrdup (pw->pw_name) : NULL;
#endif
}

static char *
owner_of (int dirfd)
{
  struct stat st;
  char *name;

  if (fstat (dirfd, &st) < 0)
    return crt_xstrdup ("");
  name = user_name (st.st_uid);
  return name ? name : crt_fmt ("#%u", (unsigned) st.st_uid);
}

/* `state` prints owner "" and `list` the user name, as runc does. */
static crt_container_state *
state_from_record (int dirfd, crt_state_record *rec, bool with_owner)
{
  crt_container_state *st = crt_xmalloc0 (sizeof (*st));

  st->status = crt_state_status (dirfd, rec);
  st->pid = st->status == CRT_STATUS_STOPPED ? 0 : rec->pid;
  st->id = crt_steal_ptr (&rec->id);
  st->oci_version = crt_steal_ptr (&rec->oci_version);
  st->bundle = crt_steal_ptr (&rec->bundle);
  st->rootfs = crt_steal_ptr (&rec->rootfs);
  st->created = crt_steal_ptr (&rec->created);
  st->owner = with_owner ? owner_of (dirfd) : crt_xstrdup ("");
  st->n_annotations = rec->n_annotations;
  st->annotation_keys = crt_xmalloc0 ((rec->n_annotations + 1) * sizeof (char *));
  st->annotation_values = crt_xmalloc0 ((rec->n_annotations + 1) * sizeof (char *));
  for (size_t i = 0; i < rec->n_annotations; i++)
    {
      st->annotation_keys[i] = crt_steal_ptr (&rec->annotations[i].key);
      st->annotation_values[i] = crt_steal_ptr (&rec->annotations[i].value);
    }
  return st;
}

int
crt_container_state_get (crt_context *ctx, const char *id, crt_container_state **out,
                         crt_error **err)
{
  cleanup_close int dirfd = -1;
  cleanup_state_record crt_state_record rec = { 0 };

  if (crt_state_dir_open (ctx, id, false, &dirfd, err) < 0 || crt_state_read (dirfd, &rec, err) < 0)
    return -1;
  *out = state_from_record (dirfd, &rec, false);
  return 0;
}

static void
gen_state (yajl_gen g, const crt_container_state *st)
{
  yajl_gen_map_open (g);
  crt_gen_key_str (g, "ociVersion", st->oci_version);
  crt_gen_key_str (g, "id", st->id);
  crt_gen_str (g, "pid"); yajl_gen_integer (g, st->pid);
  crt_gen_key_str (g, "status", crt_status_name (st->status));
  crt_gen_key_str (g, "bundle", st->bundle);
  crt_gen_key_str (g, "rootfs", st->rootfs);
  crt_gen_key_str (g, "created", st->created);
  crt_gen_key_str (g, "owner", st->owner);
  if (st->n_annotations)
    {
      crt_gen_str (g, "annotations");
      yajl_gen_map_open (g);
      for (size_t i = 0; i < st->n_annotations; i++)
        {
          crt_gen_str (g, st->annotation_keys[i]);
          crt_gen_str (g, st->annotation_values[i]);
        }
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

char *
crt_container_state_to_json (const crt_container_state *st)
{
  yajl_gen g = crt_gen_new ("  ");
  gen_state (g, st);
  return crt_gen_finish (g);
}

char *
crt_container_list_to_json (crt_container_state *const *list, size_t n)
{
  yajl_gen g = crt_gen_new (NULL);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    gen_state (g, list[i]);
  yajl_gen_array_close (g);
  return crt_gen_finish (g);
}

static int
compare_ids (const void *a, const void *b)
{
  const crt_container_state *const *x = a, *const *y = b;
  return strcmp ((*x)->id, (*y)->id);
}

int
crt_container_list (crt_context *ctx, crt_container_state ***out, size_t *n, crt_error **err)
{
  DIR *d = opendir (ctx->root);
  struct dirent *de;
  crt_container_state **list = NULL;
  size_t count = 0, cap = 0;

  *out = NULL;
  *n = 0;
  if (d == NULL)
    return errno == ENOENT ? 0 : crt_error_errno (err, "open `%s`", ctx->root);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_close int cdirfd = -1;
      cleanup_state_record crt_state_record rec = { 0 };

      if (de->d_name[0] == '.' || crt_id_validate (de->d_name, NULL) < 0)
        continue;
      /* No lock: state.json is replaced atomically, and a container
       * being created (no state yet) is simply not listed. */
      cdirfd = openat (dirfd (d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (cdirfd < 0 || crt_state_read (cdirfd, &rec, NULL) < 0)
        continue;
      if (count == cap)
        {
          cap = cap ? cap * 2 : 16;
          list = crt_xreallocarray (list, cap, sizeof (*list));
        }
      list[count++] = state_from_record (cdirfd, &rec, true);
    }
  closedir (d);
  if (count > 1)
    qsort (list, count, sizeof (*list), compare_ids);
  *out = list;
  *n = count;
  return 0;
}

void
crt_container_list_free (crt_container_state **list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    crt_container_state_free (list[i]);
  free (list);
}
