/* The compiled seccomp filter cache (see seccomp_cache.h). */
#include "config.h"
#include "seccomp_cache.h"
#include "seccomp_filter.h"
#include "../util/cache_dir.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CACHE_DIR ".seccomp"
#define MAGIC "CRTSCMP1"
/* Far above any real entry (Docker's profile: ~10 KB of key, the largest
 * program 32 KB), far below what would hurt to read. */
#define MAX_ENTRY (1024 * 1024)

char *
crt_seccomp_cache_key (const crt_seccomp *s, size_t *len)
{
  cleanup_free char *profile = NULL, *head = NULL;
  struct stat exe;
  struct utsname u;
  size_t plen, hlen;
  char *key;

  /* A rebuilt or upgraded crt may compile differently, a new kernel
   * may make libseccomp do so. */
  if (stat ("/proc/self/exe", &exe) < 0 || uname (&u) < 0)
    return NULL;
  head = crt_fmt ("crt seccomp cache 1\n%ju %ju %jd %jd.%09ld\n%s\n%s\n%s\n%zu\n",
                  (uintmax_t) exe.st_dev, (uintmax_t) exe.st_ino, (intmax_t) exe.st_size,
                  (intmax_t) exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec, u.release, u.version,
                  u.machine, sizeof (long));
  profile = crt_seccomp_key (s, &plen);
  hlen = strlen (head);
  key = crt_xmalloc0 (hlen + plen + 1);
  memcpy (key, head, hlen);
  memcpy (key + hlen, profile, plen);
  *len = hlen + plen;
  return key;
}

static char *
entry_name (const char *key, size_t key_len)
{
  return crt_fmt ("%016llx", (unsigned long long) crt_hash64 (key, key_len));
}

/* The cache dir, only when it is ours alone. */
static int
open_dir (const char *root, bool create)
{
  cleanup_free char *path = crt_fmt ("%s/" CACHE_DIR, root);
  cleanup_close int fd = -1;
  struct stat st;

  if (create && (crt_mkdir_p (root, 0700, NULL) < 0 || (mkdir (path, 0700) < 0 && errno != EEXIST)))
    return -1;
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 07777) != 0700)
    return -1;
  return crt_steal_fd (&fd);
}

/* ---- the entry's bytes ---- */

static void
put_bytes (crt_buf *b, const void *p, size_t n)
{
  crt_buf_put_u64 (b, n);
  crt_buf_put (b, p, n);
}

typedef struct rbuf
{
  const char *p;
  size_t left;
} rbuf;

static bool
rget (rbuf *r, void *out, size_t n)
{
  if (n > r->left)
    return false;
  memcpy (out, r->p, n);
  r->p += n;
  r->left -= n;
  return true;
}

static bool
rget_u64 (rbuf *r, uint64_t *v)
{
  return rget (r, v, sizeof (*v));
}

/* A length-prefixed run of bytes of at most max, pointing into r. */
static bool
rget_bytes (rbuf *r, const char **p, size_t *n, size_t max)
{
  uint64_t len;

  if (!rget_u64 (r, &len) || len > max || len > r->left)
    return false;
  *p = r->p;
  *n = (size_t) len;
  r->p += len;
  r->left -= len;
  return true;
}

static bool
same_file (const struct stat *st, uint64_t dev, uint64_t ino, int64_t size, int64_t sec,
           int64_t nsec)
{
  return (uint64_t) st->st_dev == dev && (uint64_t) st->st_ino == ino
         && (int64_t) st->st_size == size && (int64_t) st->st_mtim.tv_sec == sec
         && (int64_t) st->st_mtim.tv_nsec == nsec;
}

/* The filter in data, if data is an entry for key from a libseccomp
 * that is still the one installed. */
static crt_seccomp_filter *
decode (const char *data, size_t len, const char *key, size_t key_len)
{
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  rbuf r = { data, len };
  const char *k, *lib, *s;
  size_t klen, liblen, slen;
  uint64_t dev, ino, size, sec, nsec, flags, notify, n, sum;
  char magic[sizeof (MAGIC) - 1];
  struct stat st;

  /* Last, the checksum of all before it. */
  if (len < sizeof (sum))
    return NULL;
  r.left -= sizeof (sum);
  memcpy (&sum, data + r.left, sizeof (sum));
  if (crt_hash64 (data, r.left) != sum)
    return NULL;
  if (!rget (&r, magic, sizeof (magic)) || memcmp (magic, MAGIC, sizeof (magic)) != 0
      || !rget_bytes (&r, &k, &klen, MAX_ENTRY) || klen != key_len || memcmp (k, key, klen) != 0
      || !rget_bytes (&r, &lib, &liblen, 4096) || liblen == 0 || !rget_u64 (&r, &dev)
      || !rget_u64 (&r, &ino) || !rget_u64 (&r, &size) || !rget_u64 (&r, &sec)
      || !rget_u64 (&r, &nsec) || !rget_u64 (&r, &flags) || flags > UINT32_MAX
      || !rget_u64 (&r, &notify) || notify > 1 || !rget_u64 (&r, &n) || n > 4096)
    return NULL;
  {
    cleanup_free char *path = crt_xmalloc0 (liblen + 1);
    memcpy (path, lib, liblen);
    if (stat (path, &st) < 0
        || !same_file (&st, dev, ino, (int64_t) size, (int64_t) sec, (int64_t) nsec))
      return NULL;
  }
  f = crt_xmalloc0 (sizeof (*f));
  f->flags = (unsigned int) flags;
  f->uses_notify = notify != 0;
  for (uint64_t i = 0; i < n; i++)
    {
      if (!rget_bytes (&r, &s, &slen, 4096))
        return NULL;
      crt_strv_append (&f->skipped, &f->n_skipped, crt_xstrndup (s, slen));
    }
  if (!rget_u64 (&r, &n) || n == 0 || n > CRT_SECCOMP_MAX_INSNS
      || r.left != n * sizeof (struct sock_filter))
    return NULL;
  f->n_insns = (size_t) n;
  f->insns = crt_xmalloc0 (r.left);
  memcpy (f->insns, r.p, r.left);
  return crt_steal_ptr (&f);
}

int
crt_seccomp_cache_get (const char *root, const char *key, size_t key_len,
                       crt_seccomp_filter **out)
{
  cleanup_close int dirfd = -1, fd = -1;
  cleanup_free char *name = NULL, *data = NULL;
  struct stat st;

  *out = NULL;
  if (root == NULL || key == NULL || (dirfd = open_dir (root, false)) < 0)
    return 0;
  name = entry_name (key, key_len);
  fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    return 0;
  if (!S_ISREG (st.st_mode) || st.st_uid != geteuid () || (st.st_mode & 022) != 0
      || st.st_nlink != 1 || st.st_size <= 0 || st.st_size > MAX_ENTRY)
    return 0;
  data = crt_xmalloc0 ((size_t) st.st_size);
  if (crt_read_all (fd, data, (size_t) st.st_size) != st.st_size)
    return 0;
  *out = decode (data, (size_t) st.st_size, key, key_len);
  if (*out == NULL)
    return 0;
  crt_cache_dir_touch (dirfd, name);
  return 1;
}

void
crt_seccomp_cache_put (const char *root, const char *key, size_t key_len,
                       const crt_seccomp_filter *f, const char *lib_file)
{
  cleanup_close int dirfd = -1, fd = -1;
  cleanup_free char *name = NULL, *tmp = NULL;
  crt_buf b = { 0 };
  struct stat st;
  uint64_t sum;

  if (root == NULL || key == NULL || f == NULL || lib_file == NULL || stat (lib_file, &st) < 0
      || (dirfd = open_dir (root, true)) < 0)
    return;
  crt_buf_put (&b, MAGIC, sizeof (MAGIC) - 1);
  put_bytes (&b, key, key_len);
  put_bytes (&b, lib_file, strlen (lib_file));
  crt_buf_put_u64 (&b, (uint64_t) st.st_dev);
  crt_buf_put_u64 (&b, (uint64_t) st.st_ino);
  crt_buf_put_u64 (&b, (uint64_t) st.st_size);
  crt_buf_put_u64 (&b, (uint64_t) st.st_mtim.tv_sec);
  crt_buf_put_u64 (&b, (uint64_t) st.st_mtim.tv_nsec);
  crt_buf_put_u64 (&b, f->flags);
  crt_buf_put_u64 (&b, f->uses_notify);
  crt_buf_put_u64 (&b, f->n_skipped);
  for (size_t i = 0; i < f->n_skipped; i++)
    put_bytes (&b, f->skipped[i], strlen (f->skipped[i]));
  crt_buf_put_u64 (&b, f->n_insns);
  crt_buf_put (&b, f->insns, f->n_insns * sizeof (struct sock_filter));
  sum = crt_hash64 (b.data, b.len);
  crt_buf_put (&b, &sum, sizeof (sum));

  /* Written aside, then renamed over: a reader sees a whole entry or
   * none (a torn one fails its checksum anyway). */
  name = entry_name (key, key_len);
  tmp = crt_fmt (".%s.%d", name, (int) getpid ());
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      if (crt_write_all (fd, b.data, b.len) != (ssize_t) b.len
          || renameat (dirfd, tmp, dirfd, name) < 0)
        unlinkat (dirfd, tmp, 0);
      else
        crt_cache_dir_trim (dirfd, CRT_CACHE_DIR_KEEP, name);
    }
  free (b.data);
}
