/* linux.resources.devices on cgroup v2: an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. */
#ifndef CRT_CGROUP_DEVICES_BPF_H
#define CRT_CGROUP_DEVICES_BPF_H

#include <stddef.h>

#include "../error.h"
#include "../spec/spec.h"

/* Build the program from rules (in order, the last matching rule
 * decides, unmatched accesses are denied), followed by runc's default
 * allowed devices (null, zero, full, random, urandom, tty, ptmx, pts,
 * net/tun, and mknod of any node); load it (or take the one pinned for
 * the same instructions, see devices_bpf.c), attach it to cgroup_dirfd
 * and detach the programs attached there before. */
int crt_devices_bpf_apply (int cgroup_dirfd, const crt_device_cgroup *rules, size_t n,
                           crt_error **err);

#endif
