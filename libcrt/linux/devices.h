/* The container's /dev: the default device nodes and links of
 * config-linux.md "Default Devices", and linux.devices. */
#ifndef CRT_DEVICES_H
#define CRT_DEVICES_H

#include <stdbool.h>

#include "../spec/spec.h"
#include "rootfs.h"

/* Create, inside rootfd (before pivot_root): when `defaults`, /dev/null,
 * zero, full, random, urandom, tty and the links fd, stdin, stdout,
 * stderr, ptmx (-> pts/ptmx) and core (when the host has /proc/kcore);
 * then every linux.devices entry. In a user namespace device nodes are
 * bind mounts of the host's nodes onto empty files. */
int crt_devices_setup (int rootfd, const crt_spec *spec, const crt_rootfs_options *opts,
                       bool defaults, crt_error **err);

#endif
