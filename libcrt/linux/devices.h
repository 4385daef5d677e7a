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
 * bind mounts onto empty files: of the nodes in opts->devices_fd for
 * linux.devices, of the host's for the default devices. */
int crt_devices_setup (int rootfd, const crt_spec *spec, const crt_rootfs_options *opts,
                       bool defaults, crt_error **err);

/* The name under /dev of default device i ("null", ...), NULL past the
 * last. */
const char *crt_default_device_name (size_t i);

/* For a new user namespace, in the parent (still privileged, before
 * the clone): a detached tmpfs holding linux.devices[i] as node "<i>"
 * with its mode and owner (mapped to host ids), which the init binds
 * into the rootfs, as crun does: mknod is not allowed in the user
 * namespace, and the host may have no such node to bind. Returns the
 * mount fd (O_CLOEXEC), or -1: with *err set on failure, without when
 * no device node is asked for. */
int crt_devices_prepare (const crt_spec *spec, crt_error **err);

#endif
