/* linux.sysctl: writing the keys (which keys a container may set is
 * config.json validation, libcrt/spec/validate.c), and the one check only
 * the host can answer. */
#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* A network namespace joined by path is the container's own unless it is
 * the one crt itself runs in (e.g. /proc/1/ns/net on the host). When in
 * doubt, refuse: this check is what keeps the host's settings intact. */
static int
is_current_netns (const char *path, bool *current, crt_error **err)
{
  struct stat joined, self;

  if (stat (path, &joined) < 0)
    return crt_error_errno (err, "linux.sysctl: check network namespace `%s`", path);
  if (stat ("/proc/self/ns/net", &self) < 0)
    return crt_error_errno (err, "linux.sysctl: check network namespace `/proc/self/ns/net`");
  *current = joined.st_dev == self.st_dev && joined.st_ino == self.st_ino;
  return 0;
}

/* The rules on keys are config.json's (crt_spec_validate); this is the
 * part only the host can answer: a network namespace joined by path for
 * net.* keys must not be crt's own. */
int
crt_sysctl_validate (const crt_spec *spec, crt_error **err)
{
  const crt_namespace *ns = crt_spec_namespace (spec, CRT_NS_NETWORK);

  if (spec->linux_ == NULL || ns == NULL || ns->path == NULL)
    return 0;
  for (size_t i = 0; i < spec->linux_->n_sysctl; i++)
    {
      const char *key = spec->linux_->sysctl[i].key;
      cleanup_free char *dotted = crt_sysctl_key_dotted (key);
      bool current = false;

      if (crt_sysctl_namespace (dotted) != CRT_NS_NETWORK)
        continue;
      if (is_current_netns (ns->path, &current, err) < 0)
        return -1;
      if (current)
        return crt_error_set (err, 0, "linux.sysctl: \"%s\" needs the container's own network "
                              "namespace, refusing to set it on the host", key);
    }
  return 0;
}

/* One name of a dotted key, '/' back to the '.' it stands for; false
 * for a name that could leave its directory (validation refused those
 * already: this only makes sure). */
static bool
take_name (char *name)
{
  for (char *c = name; *c; c++)
    if (*c == '/')
      *c = '.';
  return name[0] != '\0' && strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

/* Open /proc/sys/<key with dots as slashes> for writing, one name at a
 * time and never through a symlink. */
static int
open_sysctl (int proc_sys, const char *key, crt_error **err)
{
  cleanup_free char *copy = crt_sysctl_key_dotted (key);
  cleanup_close int dir = -1;
  int parent = proc_sys;
  char *component = copy;
  int fd;

  for (char *dot; (dot = strchr (component, '.')) != NULL; component = dot + 1)
    {
      int next;

      *dot = '\0';
      if (!take_name (component))
        return crt_error_set (err, 0, "linux.sysctl: invalid key \"%s\"", key);
      next = openat (parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return crt_error_errno (err, "linux.sysctl: \"%s\"", key);
      crt_closep (&dir);
      dir = next;
      parent = dir;
    }
  if (!take_name (component))
    return crt_error_set (err, 0, "linux.sysctl: invalid key \"%s\"", key);
  fd = openat (parent, component, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return crt_error_errno (err, "linux.sysctl: \"%s\"", key);
  return fd;
}

int
crt_sysctl_apply (const crt_linux *linux_, crt_error **err)
{
  cleanup_close int proc_sys = -1;
  struct statfs fs;

  if (linux_ == NULL || linux_->n_sysctl == 0)
    return 0;
  proc_sys = open ("/proc/sys", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (proc_sys < 0)
    return crt_error_errno (err, "open `/proc/sys`");
  /* The container's mounts could have put anything at /proc. */
  if (fstatfs (proc_sys, &fs) < 0)
    return crt_error_errno (err, "statfs `/proc/sys`");
  if (fs.f_type != PROC_SUPER_MAGIC)
    return crt_error_set (err, 0, "linux.sysctl: `/proc/sys` is not procfs");

  for (size_t i = 0; i < linux_->n_sysctl; i++)
    {
      const crt_kv *kv = &linux_->sysctl[i];
      const char *value = kv->value ? kv->value : "";
      cleanup_close int fd = -1;

      fd = open_sysctl (proc_sys, kv->key, err);
      if (fd < 0)
        return -1;
      if (crt_write_all (fd, value, strlen (value)) < 0)
        return crt_error_errno (err, "linux.sysctl: write \"%s\" to \"%s\"", value, kv->key);
    }
  return 0;
}
