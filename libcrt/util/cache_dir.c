/* Bounded cache directories (see cache_dir.h). */
#include "config.h"
#include "cache_dir.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct cache_entry
{
  char *name;
  struct timespec used;
} cache_entry;

/* Oldest first. */
static int
by_use (const void *pa, const void *pb)
{
  const cache_entry *a = pa, *b = pb;

  if (a->used.tv_sec != b->used.tv_sec)
    return a->used.tv_sec < b->used.tv_sec ? -1 : 1;
  if (a->used.tv_nsec != b->used.tv_nsec)
    return a->used.tv_nsec < b->used.tv_nsec ? -1 : 1;
  return strcmp (a->name, b->name);
}

void
crt_cache_dir_trim (int dirfd, size_t keep, const char *added)
{
  cache_entry *entries = NULL;
  size_t n = 0;
  DIR *d = crt_dir_list (dirfd);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;

      if (de->d_name[0] == '.' || (added && strcmp (de->d_name, added) == 0))
        continue;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        continue;
      entries = crt_xreallocarray (entries, n + 1, sizeof (*entries));
      entries[n].name = crt_xstrdup (de->d_name);
      entries[n].used = st.st_mtim;
      n++;
    }
  closedir (d);
  /* `added` counts among the kept. */
  if (added && keep > 0)
    keep--;
  if (n > keep)
    {
      qsort (entries, n, sizeof (*entries), by_use);
      for (size_t i = 0; i < n - keep; i++)
        /* ENOENT: another crt trimmed it first. */
        (void) unlinkat (dirfd, entries[i].name, 0);
    }
  for (size_t i = 0; i < n; i++)
    free (entries[i].name);
  free (entries);
}

void
crt_cache_dir_touch (int dirfd, const char *name)
{
  (void) utimensat (dirfd, name, NULL, AT_SYMLINK_NOFOLLOW);
}
