#include "config.h"
#include "lsm.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
nonempty (const char *s)
{
  return s != NULL && s[0] != '\0';
}

bool
crt_lsm_apparmor_enabled (void)
{
  cleanup_free char *v = NULL;
  struct stat st;

  if (stat ("/sys/kernel/security/apparmor", &st) < 0)
    return false;
  return crt_read_file_at (AT_FDCWD, "/sys/module/apparmor/parameters/enabled", &v, NULL, NULL)
             == 0
         && v[0] == 'Y';
}

bool
crt_lsm_selinux_enabled (void)
{
  struct stat st;
  return stat ("/sys/fs/selinux/enforce", &st) == 0;
}

int
crt_lsm_validate (const crt_spec *spec, crt_error **err)
{
  const crt_process *p = spec->process;

  if (p && nonempty (p->apparmor_profile) && !crt_lsm_apparmor_enabled ())
    return crt_error_with_code (err, ENOTSUP,
                          "config.json: process.apparmorProfile: AppArmor is not enabled on "
                          "this host");
  if (p && nonempty (p->selinux_label) && !crt_lsm_selinux_enabled ())
    return crt_error_with_code (err, ENOTSUP,
                          "config.json: process.selinuxLabel: SELinux is not enabled on this host");
  if (spec->linux_ && nonempty (spec->linux_->mount_label) && !crt_lsm_selinux_enabled ())
    return crt_error_with_code (err, ENOTSUP,
                          "config.json: linux.mountLabel: SELinux is not enabled on this host");
  return 0;
}

/* Write to an attribute of our own task; the module applies it at exec. */
static int
write_attr (const char *path, const char *value, crt_error **err)
{
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  if (crt_write_all (fd, value, strlen (value)) < 0)
    return crt_error_errno (err, "write `%s` to `%s`", value, path);
  return 0;
}

int
crt_lsm_set_exec_labels (const crt_process *proc, crt_error **err)
{
  if (nonempty (proc->apparmor_profile))
    {
      cleanup_free char *cmd = crt_fmt ("exec %s", proc->apparmor_profile);
      /* Newer kernels keep AppArmor's attributes apart from the others. */
      if (write_attr ("/proc/self/attr/apparmor/exec", cmd, err) < 0
          && (*err != NULL || write_attr ("/proc/self/attr/exec", cmd, err) < 0))
        return *err ? -1
                    : crt_error_errno (err, "process.apparmorProfile `%s`",
                                       proc->apparmor_profile);
    }
  if (nonempty (proc->selinux_label) && write_attr ("/proc/self/attr/exec", proc->selinux_label,
                                                    err) < 0)
    return *err ? -1 : crt_error_errno (err, "process.selinuxLabel `%s`", proc->selinux_label);
  return 0;
}

char *
crt_lsm_mount_data (const char *fstype, const char *data, const char *mount_label)
{
  static const char *const labelled[] = { "tmpfs", "devpts", "mqueue", "shm", "ramfs" };
  bool takes_label = false;

  if (!nonempty (mount_label) || fstype == NULL)
    return NULL;
  for (size_t i = 0; i < CRT_ARRAY_SIZE (labelled); i++)
    takes_label = takes_label || strcmp (fstype, labelled[i]) == 0;
  if (!takes_label)
    return NULL;
  if (nonempty (data))
    return crt_fmt ("%s,context=\"%s\"", data, mount_label);
  return crt_fmt ("context=\"%s\"", mount_label);
}
