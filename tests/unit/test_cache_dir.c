/* Unit tests of util/cache_dir.c: which entries a trim removes. */
#include "config.h"
#include "tap.h"
#include "../../libcrt/util/cache_dir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int tap_count, tap_failures;

static void
make (int dirfd, const char *name, time_t mtime)
{
  struct timespec t[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
  int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd >= 0)
    close (fd);
  utimensat (dirfd, name, t, 0);
}

static bool
exists (int dirfd, const char *name)
{
  struct stat st;
  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
main (void)
{
  char dir[] = "/tmp/crt-test-cache-dir-XXXXXX";
  int dirfd;
  struct stat st;

  if (!tap_ok (mkdtemp (dir) != NULL, "mkdtemp"))
    return tap_done ();
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  make (dirfd, "a", 1000);
  make (dirfd, "b", 3000);
  make (dirfd, "c", 2000);
  make (dirfd, "d", 4000);
  make (dirfd, "new", 500); /* the one just added: kept whatever its time */
  make (dirfd, ".tmp", 1);  /* being written: never touched */
  mkdirat (dirfd, "sub", 0700);
  utimensat (dirfd, "sub", (struct timespec[2]){ { .tv_sec = 1 }, { .tv_sec = 1 } }, 0);

  crt_cache_dir_trim (dirfd, 3, "new");
  tap_ok (exists (dirfd, "new"), "the added entry stays");
  tap_ok (exists (dirfd, "d") && exists (dirfd, "b"), "the two used last stay");
  tap_ok (!exists (dirfd, "a") && !exists (dirfd, "c"), "the older ones go");
  tap_ok (exists (dirfd, ".tmp"), "a dot file is not an entry");
  tap_ok (exists (dirfd, "sub"), "nor is a directory");

  crt_cache_dir_trim (dirfd, 3, "new");
  tap_ok (exists (dirfd, "new") && exists (dirfd, "d") && exists (dirfd, "b"),
          "within the limit, nothing goes");

  /* b made the oldest, then used: it outlives new (500), which goes. */
  utimensat (dirfd, "b", (struct timespec[2]){ { .tv_sec = 100 }, { .tv_sec = 100 } }, 0);
  crt_cache_dir_touch (dirfd, "b");
  tap_ok (fstatat (dirfd, "b", &st, 0) == 0 && st.st_mtim.tv_sec > 4000, "touch marks it used now");
  make (dirfd, "newer", 5000);
  crt_cache_dir_trim (dirfd, 3, "newer");
  tap_ok (exists (dirfd, "b") && !exists (dirfd, "new") && exists (dirfd, "d"),
          "the entry used last outlives one made later but not used since");

  crt_cache_dir_trim (dirfd, 0, NULL);
  tap_ok (!exists (dirfd, "b") && !exists (dirfd, "d") && !exists (dirfd, "newer"),
          "keep 0 removes every entry");

  unlinkat (dirfd, ".tmp", 0);
  unlinkat (dirfd, "sub", AT_REMOVEDIR);
  close (dirfd);
  tap_ok (rmdir (dir) == 0, "nothing else was left in the dir");
  return tap_done ();
}
