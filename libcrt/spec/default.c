/* `crt spec`: the default config.json, laid out like `runc spec`'s
 * (same keys, order and tab indentation) so diffs against runc stay small. */
#include "config.h"
#include "crt.h"
#include "spec.h"
#include "../util/json_gen.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

static const char *const default_caps[] = {
  "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL,
};

static const char *const default_env[] = {
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "TERM=xterm",
  NULL,
};

static const char *const masked_paths[] = {
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
  "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
  "/proc/sched_debug", "/sys/firmware", "/proc/scsi", NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

typedef struct
{
  const char *destination, *type, *source;
  const char *options[8];
} default_mount;

/* As runc; rootless drops "gid=5" (gid 5 is unmapped) and bind-mounts
 * /sys because a fresh sysfs needs a network namespace we do not own. */
static const default_mount mounts[] = {
  { "/proc", "proc", "proc", { NULL } },
  { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
  { "/dev/pts", "devpts", "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
  { "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
  { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
  { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
  { "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro" } },
};
static const default_mount rootless_sys = {
  "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro" },
};

static void
key_int (yajl_gen g, const char *k, long long v)
{
  crt_gen_str (g, k);
  yajl_gen_integer (g, v);
}

static void
key_bool (yajl_gen g, const char *k, bool v)
{
  crt_gen_str (g, k);
  yajl_gen_bool (g, v);
}

static void
key_strv (yajl_gen g, const char *k, const char *const *v)
{
  crt_gen_str (g, k);
  yajl_gen_array_open (g);
  for (; *v; v++)
    crt_gen_str (g, *v);
  yajl_gen_array_close (g);
}

static void
gen_process (yajl_gen g)
{
  crt_gen_str (g, "process");
  yajl_gen_map_open (g);
  key_bool (g, "terminal", true);
  crt_gen_str (g, "user");
  yajl_gen_map_open (g);
  key_int (g, "uid", 0);
  key_int (g, "gid", 0);
  yajl_gen_map_close (g);
  key_strv (g, "args", (const char *const[]) { "sh", NULL });
  key_strv (g, "env", default_env);
  crt_gen_key_str (g, "cwd", "/");
  crt_gen_str (g, "capabilities");
  yajl_gen_map_open (g);
  key_strv (g, "bounding", default_caps);
  key_strv (g, "effective", default_caps);
  key_strv (g, "permitted", default_caps);
  yajl_gen_map_close (g);
  crt_gen_str (g, "rlimits");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  crt_gen_key_str (g, "type", "RLIMIT_NOFILE");
  key_int (g, "hard", 1024);
  key_int (g, "soft", 1024);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  key_bool (g, "noNewPrivileges", true);
  yajl_gen_map_close (g);
}

static void
gen_mount (yajl_gen g, const default_mount *m, bool rootless)
{
  yajl_gen_map_open (g);
  crt_gen_key_str (g, "destination", m->destination);
  crt_gen_key_str (g, "type", m->type);
  crt_gen_key_str (g, "source", m->source);
  if (m->options[0])
    {
      crt_gen_str (g, "options");
      yajl_gen_array_open (g);
      for (const char *const *o = m->options; *o; o++)
        if (!rootless || (!crt_str_has_prefix (*o, "gid=") && !crt_str_has_prefix (*o, "uid=")))
          crt_gen_str (g, *o);
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}

static void
gen_mapping (yajl_gen g, const char *key, unsigned id)
{
  crt_gen_str (g, key);
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  key_int (g, "containerID", 0);
  key_int (g, "hostID", id);
  key_int (g, "size", 1);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
}

static void
gen_linux (yajl_gen g, bool rootless)
{
  static const char *const ns_root[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
  static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };

  crt_gen_str (g, "linux");
  yajl_gen_map_open (g);
  if (rootless)
    {
      gen_mapping (g, "uidMappings", geteuid ());
      gen_mapping (g, "gidMappings", getegid ());
    }
  else
    {
      /* Deny every device; the runtime allows its default set on top. */
      crt_gen_str (g, "resources");
      yajl_gen_map_open (g);
      crt_gen_str (g, "devices");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      key_bool (g, "allow", false);
      crt_gen_key_str (g, "access", "rwm");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
      yajl_gen_map_close (g);
    }
  crt_gen_str (g, "namespaces");
  yajl_gen_array_open (g);
  for (const char *const *ns = rootless ? ns_rootless : ns_root; *ns; ns++)
    {
      yajl_gen_map_open (g);
      crt_gen_key_str (g, "type", *ns);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  key_strv (g, "maskedPaths", masked_paths);
  key_strv (g, "readonlyPaths", readonly_paths);
  yajl_gen_map_close (g);
}

char *
crt_spec_default_json (bool rootless)
{
  yajl_gen g = crt_gen_new ("\t");
  size_t len;
  char *out;

  yajl_gen_map_open (g);
  crt_gen_key_str (g, "ociVersion", CRT_OCI_VERSION);
  gen_process (g);
  crt_gen_str (g, "root");
  yajl_gen_map_open (g);
  crt_gen_key_str (g, "path", "rootfs");
  key_bool (g, "readonly", true);
  yajl_gen_map_close (g);
  crt_gen_key_str (g, "hostname", "crt");
  crt_gen_str (g, "mounts");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < CRT_ARRAY_SIZE (mounts); i++)
    {
      bool is_sys = strcmp (mounts[i].destination, "/sys") == 0;
      gen_mount (g, rootless && is_sys ? &rootless_sys : &mounts[i], rootless);
    }
  yajl_gen_array_close (g);
  gen_linux (g, rootless);
  yajl_gen_map_close (g);

  out = crt_gen_finish (g);
  /* yajl ends the beautified text with a newline; runc does not. */
  len = strlen (out);
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  return out;
}

int
crt_spec_write_default (const char *bundle, bool rootless, crt_error **err)
{
  cleanup_free char *path = bundle ? crt_fmt ("%s/config.json", bundle)
                                   : crt_xstrdup ("config.json");
  cleanup_free char *json = crt_spec_default_json (rootless);
  cleanup_close int fd = -1;

  /* O_EXCL: never clobber a config the user wrote. */
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST)
    return crt_error_set (err, 0, "%s: file exists; remove it first", path);
  if (fd < 0)
    return crt_error_errno (err, "create `%s`", path);
  if (crt_write_all (fd, json, strlen (json)) < 0)
    return crt_error_errno (err, "write `%s`", path);
  if (close (crt_steal_fd (&fd)) < 0)
    return crt_error_errno (err, "close `%s`", path);
  return 0;
}
