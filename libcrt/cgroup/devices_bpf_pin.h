/* Device programs kept pinned in the host's bpffs, so that the next
 * container with the same rules attaches the program the kernel has
 * verified already instead of loading it again: that verification is
 * most of what a cgroup costs crt (0.7 ms for runc's default rules on
 * the development machine, more than the mkdir, attach and rmdir
 * together).
 *
 * Under /sys/fs/bpf/crt (made 0700 root), one object per program, named
 * by the hash and length of its instructions. Only where a bpffs is
 * mounted at /sys/fs/bpf (systemd mounts one) and crt runs as root;
 * elsewhere every container loads its own, as before. Nothing is ever
 * unpinned (a few KiB of kernel memory per distinct rule set, like the
 * seccomp cache's files): `rm -r /sys/fs/bpf/crt` empties it. */
#ifndef CRT_CGROUP_DEVICES_BPF_PIN_H
#define CRT_CGROUP_DEVICES_BPF_PIN_H

#include <stddef.h>
#include <stdint.h>

/* The pinned program with these instructions: an fd of it, or -1 (none
 * pinned, no bpffs, not root, or what is there is not such a program). */
int crt_devices_bpf_pinned (const void *insns, size_t size);

/* Pin the program prog_fd, loaded from these instructions, for the next
 * ones. Best effort: a failure only means the next container loads its
 * own again. */
void crt_devices_bpf_pin (int prog_fd, const void *insns, size_t size);

/* The kernel's id of a loaded program, 0 if it cannot tell. */
uint32_t crt_bpf_prog_id (int prog_fd);

#endif
