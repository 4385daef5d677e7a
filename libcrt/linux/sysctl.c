/* linux.sysctl: which keys a container may set, and writing them. */
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

/* A key is dot-separated names: no "/", no empty component (so no "."
 * or ".." either once split), nothing that could leave /proc/sys. */
static int
check_key (const char *key, crt_error **err)
{
  bool empty_component = key[0] == '\0' || key[0] == '.';

  for (const char *p = key; *p && !empty_component; p++)
    if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
      empty_component = true;
  if (empty_component || strchr (key, '/') != NULL)
    return crt_error_set (err, 0, "linux.sysctl: invalid key \"%s\"", key);
  return 0;
}

/* The namespace a key belongs to, or -1 when it is host-wide. Mirrors
 * the kernel: System V IPC and POSIX message queue limits are per ipc
 * namespace, net.* per network namespace, the names per uts namespace. */
static int
key_namespace (const char *key)
{
  if (crt_str_has_prefix (key, "kernel.msg") || crt_str_has_prefix (key, "kernel.sem")
      || crt_str_has_prefix (key, "kernel.shm") || crt_str_has_prefix (key, "fs.mqueue."))
    return CRT_NS_IPC;
  if (crt_str_has_prefix (key, "net."))
    return CRT_NS_NETWORK;
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    return CRT_NS_UTS;
  return -1;
}

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

int
crt_sysctl_validate (const crt_spec *spec, crt_error **err)
{
  if (spec->linux_ == NULL)
    return 0;
  for (size_t i = 0; i < spec->linux_->n_sysctl; i++)
    {
      const char *key = spec->linux_->sysctl[i].key;
      const crt_namespace *ns;
      int type;

      if (check_key (key, err) < 0)
        return -1;
      type = key_namespace (key);
      if (type < 0)
        return crt_error_set (err, 0, "linux.sysctl: \"%s\" is not namespaced, refusing to set it",
                              key);
      ns = crt_spec_namespace (spec, (crt_ns_type) type);
      if (ns != NULL && type == CRT_NS_NETWORK && ns->path != NULL)
        {
          bool current = false;
          if (is_current_netns (ns->path, &current, err) < 0)
            return -1;
          if (current)
            ns = NULL;
        }
      if (ns == NULL)
        return crt_error_set (err, 0, "linux.sysctl: \"%s\" needs the container's own %s "
                              "namespace, refusing to set it on the host", key,
                              crt_ns_type_name ((crt_ns_type) type));
    }
  return 0;
}

/* Open /proc/sys/<key with dots as slashes> for writing, one component
 * at a time and never through a symlink. */
static int
open_sysctl (int proc_sys, const char *key, crt_error **err)
{
  cleanup_free char *copy = crt_xstrdup (key);
  cleanup_close int dir = -1;
  int parent = proc_sys;
  char *component = copy;
  int fd;

  for (char *dot; (dot = strchr (component, '.')) != NULL; component = dot + 1)
    {
      int next;

      *dot = '\0';
      next = openat (parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return crt_error_errno (err, "linux.sysctl: \"%s\"", key);
      crt_closep (&dir);
      dir = next;
      parent = dir;
    }
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

      if (check_key (kv->key, err) < 0)
        return -1;
      fd = open_sysctl (proc_sys, kv->key, err);
      if (fd < 0)
        return -1;
      if (crt_write_all (fd, value, strlen (value)) < 0)
        return crt_error_errno (err, "linux.sysctl: write \"%s\" to \"%s\"", value, kv->key);
    }
  return 0;
}
