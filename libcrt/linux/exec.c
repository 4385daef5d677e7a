/* Finding and executing the container's program. */
#include "config.h"
#include "lsm.h"
#include "process.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* PATH of the container's environment; the last entry wins, as when the
 * list is applied with setenv one by one. */
static const char *
env_path (const crt_process *proc)
{
  const char *path = NULL;

  for (size_t i = 0; i < proc->n_env; i++)
    if (crt_str_has_prefix (proc->env[i], "PATH="))
      path = proc->env[i] + strlen ("PATH=");
  return path ? path : DEFAULT_PATH;
}

/* Where `path` is as seen after the chdir to process.cwd, which has not
 * happened yet. */
static char *
as_seen_from_cwd (const crt_process *proc, const char *path)
{
  if (path[0] == '/' || proc->cwd == NULL)
    return crt_xstrdup (path);
  return crt_fmt ("%s/%s", proc->cwd, path);
}

/* strerror(errnum) as runc spells it (Go's syscall.Errno texts are
 * glibc's with a lower-case first letter): "no such file or directory",
 * "permission denied". The engines read these texts, case-sensitively:
 * the docker CLI turns a failed start whose message holds "no such file
 * or directory" into exit 127 and "permission denied" into 126, any
 * other into 125. */
static char *
errno_text (int errnum)
{
  char *s = crt_xstrdup (crt_strerror (errnum));
  s[0] = (char) tolower ((unsigned char) s[0]);
  return s;
}

/* 0 if `path` is an executable regular file, else -1 with errno. We run
 * as root here, so access(X_OK) would accept any single x bit anyway. */
static int
check_executable (const char *path)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return -1;
  if (!S_ISREG (st.st_mode) || (st.st_mode & 0111) == 0)
    {
      errno = EACCES;
      return -1;
    }
  return 0;
}

int
crt_process_find_executable (const crt_process *proc, char **out, crt_error **err)
{
  const char *name = proc->n_args > 0 ? proc->args[0] : NULL;
  cleanup_free char *dirs = NULL;
  char *saveptr = NULL;

  if (name == NULL)
    return crt_error_set (err, 0, "process.args: at least one entry is required");

  if (strchr (name, '/') != NULL)
    {
      cleanup_free char *seen = as_seen_from_cwd (proc, name);

      if (check_executable (seen) < 0)
        {
          int errnum = errno;
          cleanup_free char *why = errno_text (errnum);
          if (errnum == EACCES)
            return crt_error_with_code (err, EACCES, "exec: \"%s\": %s", name, why);
          return crt_error_with_code (err, errnum, "exec: \"%s\": stat %s: %s", name, name,
                                      why);
        }
      *out = crt_xstrdup (name);
      return 0;
    }

  if (name[0] != '\0')
    {
      dirs = crt_xstrdup (env_path (proc));
      /* strtok_r would merge "::", but an empty entry means the cwd. */
      for (char *dir = dirs; dir != NULL; dir = saveptr)
        {
          cleanup_free char *candidate = NULL;
          cleanup_free char *seen = NULL;

          saveptr = strchr (dir, ':');
          if (saveptr != NULL)
            *saveptr++ = '\0';
          candidate = crt_fmt ("%s/%s", dir[0] ? dir : ".", name);
          seen = as_seen_from_cwd (proc, candidate);
          if (check_executable (seen) == 0)
            {
              *out = crt_steal_ptr (&candidate);
              return 0;
            }
        }
    }
  return crt_error_set (err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

/* The home directory of uid in the container's /etc/passwd, "/" when
 * there is none: what runc and crun give a process without HOME. */
static char *
home_of (uid_t uid)
{
  cleanup_fclose FILE *f = fopen ("/etc/passwd", "re");
  char *line = NULL, *home = NULL;
  size_t cap = 0;

  while (f && home == NULL && getline (&line, &cap, f) > 0)
    {
      /* name:passwd:uid:gid:gecos:home:shell */
      char *field[7] = { 0 }, *p = line;
      int n = 0;
      for (char *tok; n < 7 && (tok = strsep (&p, ":\n")) != NULL;)
        field[n++] = tok;
      if (n >= 6 && field[2][0] && strtoul (field[2], NULL, 10) == (unsigned long) uid
          && field[5][0] == '/')
        home = crt_xstrdup (field[5]);
    }
  free (line);
  return home ? home : crt_xstrdup ("/");
}

/* proc->env, plus HOME when it has none. */
static char **
env_with_home (const crt_process *proc, char **extra)
{
  size_t n = proc->n_env;
  char **env;

  for (size_t i = 0; i < n; i++)
    if (crt_str_has_prefix (proc->env[i], "HOME="))
      return proc->env;
  {
    cleanup_free char *home = home_of (getuid ());
    *extra = crt_fmt ("HOME=%s", home);
  }
  env = crt_xmalloc0 ((n + 2) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    env[i] = proc->env[i];
  env[n] = *extra;
  return env;
}

int
crt_process_exec (const crt_process *proc, const char *exe, int preserve_fds,
                  crt_error **err)
{
  cleanup_free char *home = NULL;
  char **env;

  if (proc->n_args == 0 || proc->args == NULL)
    return crt_error_set (err, 0, "process.args: at least one entry is required");
  if (exe == NULL)
    exe = proc->args[0];
  if (preserve_fds < 0)
    preserve_fds = 0;
  if (crt_cloexec_fds_from (3 + preserve_fds, err) < 0)
    return -1;
  if (crt_lsm_set_exec_labels (proc, err) < 0)
    return -1;
  env = env_with_home (proc, &home);
  execve (exe, proc->args, env);
  {
    int errnum = errno;
    cleanup_free char *why = errno_text (errnum);
    if (env != proc->env)
      free (env);
    return crt_error_with_code (err, errnum, "exec \"%s\": %s", proc->args[0], why);
  }
}
