/* Finding and executing the container's program. */
#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
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
          if (errno == EACCES)
            return crt_error_set (err, EACCES, "exec: \"%s\"", name);
          return crt_error_errno (err, "exec: \"%s\": stat %s", name, name);
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

int
crt_process_exec (const crt_process *proc, const char *exe, int preserve_fds,
                  crt_error **err)
{
  static char *const no_env[] = { NULL };

  if (proc->n_args == 0 || proc->args == NULL)
    return crt_error_set (err, 0, "process.args: at least one entry is required");
  if (exe == NULL)
    exe = proc->args[0];
  if (preserve_fds < 0)
    preserve_fds = 0;
  if (crt_cloexec_fds_from (3 + preserve_fds, err) < 0)
    return -1;
  execve (exe, proc->args, proc->env ? proc->env : no_env);
  return crt_error_errno (err, "exec \"%s\"", proc->args[0]);
}
