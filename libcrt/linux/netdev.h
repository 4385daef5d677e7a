/* linux.netDevices (runtime-spec 1.2): host network interfaces moved
 * into the container's network namespace, optionally renamed. */
#ifndef CRT_NETDEV_H
#define CRT_NETDEV_H

#include <sys/types.h>

#include "../spec/spec.h"

/* Before anything is made: the container has a network namespace that
 * is not the host's, every interface exists on the host, every new name
 * is valid and none is given twice. Errors name the field. */
int crt_netdev_validate (const crt_linux *linux_, crt_error **err);

/* Parent, once the init (pid) exists in its network namespace: move
 * every interface of linux_->net_devices there (renamed to .name when
 * given), set it up and give it back its permanent global addresses.
 * Validates first. Errors name the field: linux.netDevices["eth1"]: ... */
int crt_netdev_move_all (const crt_linux *linux_, pid_t pid, crt_error **err);

/* In a network namespace of the container's making, from the init: set
 * `lo` up, as runc and crun do (a new namespace has it down). */
int crt_netdev_loopback_up (crt_error **err);
/* The same from the parent, in the network namespace of the init
 * (pidfd), while the init mounts: joined and left again (host root,
 * no user namespace: crt_init_args.loopback_by_parent). */
int crt_netdev_loopback_up_in (int pidfd, crt_error **err);
#endif
