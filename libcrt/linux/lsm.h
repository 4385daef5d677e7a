/* Linux security modules: process.apparmorProfile, process.selinuxLabel
 * and linux.mountLabel. Applied where the host has the module enabled;
 * requested on a host without it, they are an error, not a silent no-op. */
#ifndef CRT_LSM_H
#define CRT_LSM_H

#include <stdbool.h>

#include "../spec/spec.h"

bool crt_lsm_apparmor_enabled (void);
bool crt_lsm_selinux_enabled (void);

/* At create, before anything is made: each requested label needs its
 * module ("config.json: process.apparmorProfile: AppArmor is not
 * enabled on this host"). Empty strings request nothing. */
int crt_lsm_validate (const crt_spec *spec, crt_error **err);

/* Just before execve: the profile and label the program starts under. */
int crt_lsm_set_exec_labels (const crt_process *proc, crt_error **err);

/* data options of a new filesystem with the mount label added as
 * context="...", for the filesystems that take one (tmpfs, devpts,
 * mqueue...). Returns a new string, or NULL when nothing is to be added. */
char *crt_lsm_mount_data (const char *fstype, const char *data, const char *mount_label);

#endif
