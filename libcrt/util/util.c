#include "config.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
crt_freep (void *p)
{
  free (*(void **) p);
}

void
crt_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

void
crt_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
  *f = NULL;
}

void
crt_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

void
crt_strv_freep (char ***v)
{
  crt_strv_free (*v);
  *v = NULL;
}

size_t
crt_strv_len (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

const char *
crt_word (const char *line, unsigned n, size_t *len)
{
  const char *p = line;

  for (unsigned i = 0;; i++)
    {
      const char *start;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0' || *p == '\n')
        return NULL;
      start = p;
      while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
      if (i == n)
        {
          *len = (size_t) (p - start);
          return start;
        }
    }
}

bool
crt_str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

void
crt_strv_append (char ***list, size_t *n, char *s)
{
  *list = crt_xreallocarray (*list, *n + 2, sizeof (char *));
  (*list)[(*n)++] = s;
  (*list)[*n] = NULL;
}

void
crt_env_set (char ***env, size_t *n, const char *kv)
{
  size_t klen = strcspn (kv, "=");

  for (size_t i = 0; i < *n; i++)
    if (strncmp ((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = crt_xstrdup (kv);
        return;
      }
  crt_strv_append (env, n, crt_xstrdup (kv));
}

char *
crt_fmt (const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return s;
}

void *
crt_xmalloc0 (size_t n)
{
  void *p = calloc (1, n ? n : 1);
  if (p == NULL)
    abort ();
  return p;
}

void *
crt_xreallocarray (void *p, size_t nmemb, size_t size)
{
  void *r;

  if (size && nmemb > SIZE_MAX / size)
    abort ();
  r = realloc (p, nmemb * size != 0 ? nmemb * size : 1);
  if (r == NULL)
    abort ();
  return r;
}

char *
crt_xstrndup (const char *s, size_t n)
{
  char *r = strndup (s, n);
  if (r == NULL)
    abort ();
  return r;
}

void
crt_buf_put (crt_buf *b, const void *p, size_t n)
{
  if (n > SIZE_MAX - b->len)
    abort ();
  if (b->len + n > b->cap)
    {
      size_t cap = b->cap ? b->cap : 256;
      while (cap < b->len + n)
        cap *= 2;
      b->data = crt_xreallocarray (b->data, cap, 1);
      b->cap = cap;
    }
  if (n)
    memcpy (b->data + b->len, p, n);
  b->len += n;
}

void
crt_buf_put_u64 (crt_buf *b, uint64_t v)
{
  crt_buf_put (b, &v, sizeof (v));
}

char *
crt_xstrdup (const char *s)
{
  char *r;
  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    abort ();
  return r;
}

int
crt_lookup_name (const crt_named_value *table, size_t n, const char *name, unsigned long *out)
{
  for (size_t i = 0; name != NULL && i < n; i++)
    if (strcmp (table[i].name, name) == 0)
      {
        *out = table[i].value;
        return 0;
      }
  return -1;
}

int
crt_parse_decimal (const char *s, int max)
{
  char *end;
  long v;

  if (!isdigit ((unsigned char) s[0]))
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max)
    return -1;
  return (int) v;
}

/* "-1", or a size like Docker's: 512, 64k, 1.5g, 2GiB (powers of 1024). */
int
crt_parse_size (const char *s, int64_t *out)
{
  static const char units[] = "kmgtp";
  char *end;
  double v;
  const char *u;

  if (strcmp (s, "-1") == 0)
    {
      *out = -1;
      return 0;
    }
  errno = 0;
  v = strtod (s, &end);
  if (errno != 0 || end == s || !isdigit ((unsigned char) s[0]) || !isfinite (v))
    return -1;
  if (*end == ' ')
    end++;
  if (*end && (u = strchr (units, tolower ((unsigned char) *end))) != NULL)
    {
      for (const char *k = units; k <= u; k++)
        v *= 1024;
      end++;
      if (*end == 'i' || *end == 'I')
        end++;
    }
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0' || v >= 9.2e18)
    return -1;
  *out = (int64_t) v;
  return 0;
}

char *
crt_json_quote (const char *s)
{
  size_t n = strlen (s), o = 0;
  char *out = malloc (n * 6 + 3);
  if (out == NULL)
    return NULL;
  out[o++] = '"';
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      switch (*p)
        {
        case '"': out[o++] = '\\'; out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
        case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
        case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
        case '\t': out[o++] = '\\'; out[o++] = 't'; break;
        default:
          if (*p < 0x20)
            o += sprintf (out + o, "\\u%04x", *p);
          else
            out[o++] = (char) *p;
        }
    }
  out[o++] = '"';
  out[o] = '\0';
  return out;
}

ssize_t
crt_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t w = write (fd, p + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      done += (size_t) w;
    }
  return (ssize_t) done;
}

ssize_t
crt_read_all (int fd, void *buf, size_t len)
{
  char *p = buf;
  size_t done = 0;
  while (done < len)
    {
      ssize_t r = read (fd, p + done, len - done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -1;
      if (r == 0)
        break;
      done += (size_t) r;
    }
  return (ssize_t) done;
}

static int
read_fd (int fd, const char *path, char **out, size_t *len, crt_error **err)
{
  cleanup_free char *buf = NULL;
  size_t cap = 0, used = 0;

  for (;;)
    {
      ssize_t r;
      if (used + 1 >= cap)
        {
          char *nbuf;
          cap = cap ? cap * 2 : 4096;
          nbuf = realloc (buf, cap);
          if (nbuf == NULL)
            return crt_error_set (err, ENOMEM, "read `%s`", path);
          buf = nbuf;
        }
      r = read (fd, buf + used, cap - used - 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return crt_error_errno (err, "read `%s`", path);
      if (r == 0)
        break;
      used += (size_t) r;
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = crt_steal_ptr (&buf);
  return 0;
}

int
crt_read_file_at (int dirfd, const char *path, char **out, size_t *len, crt_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return crt_error_errno (err, "open `%s`", path);
  return read_fd (fd, path, out, len, err);
}

int
crt_read_regular_file_at (int dirfd, const char *path, char **out, size_t *len,
                          crt_error **err)
{
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  int flags;

  if (fd < 0)
    return crt_error_errno (err, "open `%s`", path);
  if (fstat (fd, &st) < 0)
    return crt_error_errno (err, "stat `%s`", path);
  if (S_ISDIR (st.st_mode))
    return crt_error_set (err, EISDIR, "open `%s`", path);
  if (!S_ISREG (st.st_mode))
    return crt_error_with_code (err, EINVAL, "open `%s`: not a regular file", path);
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return crt_error_errno (err, "fcntl `%s`", path);
  return read_fd (fd, path, out, len, err);
}

int
crt_write_file_at (int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
                   crt_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return crt_error_errno (err, "open `%s`", path);
  if (crt_write_all (fd, buf, len) < 0)
    return crt_error_errno (err, "write `%s`", path);
  return 0;
}

int
crt_write_file_atomic (const char *path, const void *buf, size_t len, mode_t mode,
                       crt_error **err)
{
  cleanup_free char *tmp = crt_fmt ("%s.tmp.%d", path, (int) getpid ());
  cleanup_close int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  if (fd < 0)
    return crt_error_errno (err, "open `%s`", tmp);
  if (crt_write_all (fd, buf, len) < 0 || fsync (fd) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return crt_error_set (err, saved, "write `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return crt_error_set (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

int
crt_mkdir_p (const char *path, mode_t mode, crt_error **err)
{
  cleanup_free char *copy = NULL;

  /* Nearly always there already: one mkdir, not one per component. */
  if (mkdir (path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return crt_error_errno (err, "mkdir `%s`", path);
  copy = crt_xstrdup (path);
  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return crt_error_errno (err, "mkdir `%s`", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return crt_error_errno (err, "mkdir `%s`", copy);
  return 0;
}

int
crt_proc_stat (pid_t pid, unsigned long long *start_time, char *run_state)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  ssize_t r;
  char *p;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  r = crt_read_all (fd, buf, sizeof (buf) - 1);
  if (r <= 0)
    return -1;
  buf[r] = '\0';
  /* comm may contain spaces and parens: fields restart after the last ')'. */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return -1;
  if (run_state)
    *run_state = p[2];
  /* p + 1 is the space before field 3; starttime is field 22. */
  for (int field = 2; field < 22 && p; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL)
    return -1;
  if (start_time)
    *start_time = strtoull (p + 1, NULL, 10);
  return 0;
}

pid_t
crt_waitpid (pid_t pid, int *status, int flags)
{
  pid_t r;

  do
    r = waitpid (pid, status, flags);
  while (r < 0 && errno == EINTR);
  return r;
}

void
crt_kill_and_reap (pid_t pid, int *status)
{
  if (pid <= 0)
    return;
  kill (pid, SIGKILL);
  crt_waitpid (pid, status, 0);
}

unsigned long long
crt_proc_start_time (pid_t pid)
{
  unsigned long long start = 0;
  if (crt_proc_stat (pid, &start, NULL) < 0)
    return 0;
  return start;
}

/* The kernel's struct sigaction layout for rt_sigaction on x86_64 and
 * the other 64-bit arches: handler, flags, restorer, mask. By raw
 * syscall: glibc refuses to touch the signals it reserves (32, 33). */
struct kernel_sigaction
{
  void (*handler) (int);
  unsigned long flags;
  void (*restorer) (void);
  unsigned long mask;
};

static void
signal_to_default (int sig)
{
  struct kernel_sigaction act = { .handler = SIG_DFL };

  syscall (SYS_rt_sigaction, sig, &act, NULL, sizeof (act.mask));
}

/* Where sig is in the mask of crt_ignored_signals: bit sig below 32,
 * bit 0 for every signal from 32 on. */
static uint32_t
signal_bit (int sig)
{
  return sig < 32 ? UINT32_C (1) << sig : 1;
}

uint32_t
crt_ignored_signals (void)
{
  uint32_t mask = 0;

  for (int sig = 1; sig < NSIG; sig++)
    {
      struct kernel_sigaction old;

      /* Unreadable: count it as ignored, so that it is reset. */
      if (syscall (SYS_rt_sigaction, sig, NULL, &old, sizeof (old.mask)) == 0
          && old.handler != SIG_IGN)
        continue;
      mask |= signal_bit (sig);
    }
  return mask;
}

void
crt_reset_ignored_signals (uint32_t mask)
{
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP && (mask & signal_bit (sig)))
      signal_to_default (sig);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

void
crt_reset_signals (void)
{
  /* Every bit: every signal. */
  crt_reset_ignored_signals (UINT32_MAX);
}

int
crt_cloexec_fds_from (int first, crt_error **err)
{
  DIR *d;
  struct dirent *de;

  /* Mark rather than close: the fds must survive until exec so that an
   * exec failure can still be reported over the sync socket. */
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (syscall (SYS_close_range, (unsigned) first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
#endif
  d = opendir ("/proc/self/fd");
  if (d == NULL)
    return crt_error_errno (err, "open /proc/self/fd");
  while ((de = readdir (d)) != NULL)
    {
      int fd;
      if (de->d_name[0] == '.')
        continue;
      fd = atoi (de->d_name);
      if (fd < first || fd == dirfd (d))
        continue;
      if (fcntl (fd, F_SETFD, FD_CLOEXEC) < 0)
        {
          int saved = errno;
          closedir (d);
          return crt_error_set (err, saved, "set close-on-exec on fd %d", fd);
        }
    }
  closedir (d);
  return 0;
}

/* close_range(first, last), or one close per open fd where the kernel
 * lacks it. */
static int
close_fd_range (unsigned int first, unsigned int last)
{
  DIR *d;
  struct dirent *de;

  if (first > last)
    return 0;
#ifdef SYS_close_range
  if (syscall (SYS_close_range, first, last, 0) == 0)
    return 0;
  if (errno != ENOSYS && errno != EINVAL)
    return -1;
#endif
  d = opendir ("/proc/self/fd");
  if (d == NULL)
    return -1;
  while ((de = readdir (d)) != NULL)
    {
      long fd;
      if (de->d_name[0] == '.')
        continue;
      fd = strtol (de->d_name, NULL, 10);
      if (fd >= (long) first && fd <= (long) last && fd != dirfd (d))
        close ((int) fd);
    }
  closedir (d);
  return 0;
}

static int
compare_ints (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

int
crt_close_fds_except (int first, const int *keep, size_t n_keep, crt_error **err)
{
  int sorted[16];
  unsigned int next = (unsigned int) first;

  if (n_keep > CRT_ARRAY_SIZE (sorted))
    return crt_error_set (err, EINVAL, "close fds: too many fds to keep");
  memcpy (sorted, keep, n_keep * sizeof (int));
  qsort (sorted, n_keep, sizeof (int), compare_ints);
  for (size_t i = 0; i < n_keep; i++)
    {
      if (sorted[i] < first)
        continue;
      if (close_fd_range (next, (unsigned int) sorted[i] - 1) < 0)
        return crt_error_errno (err, "close fds %u-%d", next, sorted[i] - 1);
      next = (unsigned int) sorted[i] + 1;
    }
  if (close_fd_range (next, ~0U) < 0)
    return crt_error_errno (err, "close fds from %u", next);
  return 0;
}

int
crt_parse_id_list (const char *list, unsigned long *mask, size_t nbits, int *highest)
{
  const size_t word = 8 * sizeof (unsigned long);
  const char *p = list;
  int top = -1;

  if (mask)
    memset (mask, 0, (nbits + word - 1) / word * sizeof (unsigned long));
  while (p && *p)
    {
      unsigned long lo, hi;
      char *end;

      if (*p < '0' || *p > '9')
        return -1;
      lo = hi = strtoul (p, &end, 10);
      if (*end == '-')
        {
          if (end[1] < '0' || end[1] > '9')
            return -1;
          hi = strtoul (end + 1, &end, 10);
        }
      if (lo > hi || hi >= nbits || (*end != ',' && *end != '\0') || (*end == ',' && !end[1]))
        return -1;
      for (unsigned long i = lo; mask && i <= hi; i++)
        mask[i / word] |= 1UL << (i % word);
      if ((int) hi > top)
        top = (int) hi;
      p = *end ? end + 1 : end;
    }
  if (highest)
    *highest = top;
  return 0;
}

uint64_t
crt_hash64 (const void *p, size_t n)
{
  const unsigned char *c = p;
  uint64_t h = 0xcbf29ce484222325ULL;

  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * 0x100000001b3ULL;
  return h;
}

DIR *
crt_dir_list (int dirfd)
{
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;

  if (fd < 0)
    return NULL;
  d = fdopendir (fd);
  if (d == NULL)
    {
      int saved = errno;
      close (fd);
      errno = saved;
    }
  return d;
}
