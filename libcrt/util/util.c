#include "config.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
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

bool
crt_str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

void
crt_strv_append (char ***list, size_t *n, char *s)
{
  *list = realloc (*list, (*n + 2) * sizeof (char *));
  if (*list == NULL)
    abort ();
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

int
crt_read_file_at (int dirfd, const char *path, char **out, size_t *len, crt_error **err)
{
  cleanup_close int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  size_t cap = 0, used = 0;

  if (fd < 0)
    return crt_error_errno (err, "open `%s`", path);
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
  cleanup_free char *copy = crt_xstrdup (path);
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

void
crt_reset_signals (void)
{
  /* The kernel's struct sigaction layout for rt_sigaction on x86_64 and
   * the other 64-bit arches: handler, flags, restorer, mask. */
  struct
  {
    void (*handler) (int);
    unsigned long flags;
    void (*restorer) (void);
    unsigned long mask;
  } act = { .handler = SIG_DFL };
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      syscall (SYS_rt_sigaction, sig, &act, NULL, sizeof (act.mask));
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
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
