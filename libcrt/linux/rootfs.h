/* The container's filesystem: rootfs, config mounts, /dev, pivot_root,
 * masked and read-only paths. Runs in the container's init, inside its
 * new mount namespace, as root of its user namespace (if any). */
#ifndef CRT_ROOTFS_H
#define CRT_ROOTFS_H

#include <stdbool.h>

#include "../spec/spec.h"

typedef struct crt_rootfs_options
{
  const char *rootfs;       /* absolute host path of root.path */
  const char *bundle;       /* relative bind sources are taken from here;
                               NULL: from the current directory */
  bool no_pivot;            /* --no-pivot: MS_MOVE + chroot */
  bool userns;              /* in a new user namespace: mknod is not allowed */
  bool private_netns;       /* a network namespace of its own (sysfs rule) */
  bool host_mountns;        /* no mount namespace: mounts are made in crt's
                               own (they stay until `delete`), no
                               propagation change, chroot, no pivot_root */
  int devices_fd;           /* userns: crt_devices_prepare's tmpfs, or -1 */
  bool no_cgroup;           /* rootless without a cgroup: a cgroup mount is an
                               empty read-only tmpfs */
} crt_rootfs_options;

/* Step 1, before pivot_root: make / private (or rootfsPropagation), bind
 * the rootfs onto itself, mount every config mount resolved safely inside
 * it, build /dev (default devices, links, linux.devices). After this the
 * createContainer hooks run. */
int crt_rootfs_mount_all (const crt_spec *spec, const crt_rootfs_options *opts, crt_error **err);

/* Step 2: pivot_root into the rootfs (or move + chroot), detach the old
 * root, give / the requested propagation and chdir("/"). After this the
 * sysctls are written and the console made. */
int crt_rootfs_pivot (const crt_spec *spec, const crt_rootfs_options *opts, crt_error **err);

/* Step 3: maskedPaths and readonlyPaths, then / read-only when
 * root.readonly. Last, because /proc/sys must still be writable for
 * linux.sysctl. */
int crt_rootfs_finalize (const crt_spec *spec, crt_error **err);

#endif
