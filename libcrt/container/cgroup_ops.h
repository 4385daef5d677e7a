/* What the cgroup commands (pause, resume, update, ps, events) share:
 * finding a container's cgroup through its state. */
#ifndef CRT_CGROUP_OPS_H
#define CRT_CGROUP_OPS_H

#include <stdbool.h>

#include "state.h"

/* Open and lock the state of container id (exclusive: for commands that
 * change it), read its record into *rec and check that crt manages a
 * cgroup for it. The lock lasts while *dirfd is open. */
int crt_open_container_cgroup (const crt_context *ctx, const char *id, bool exclusive, int *dirfd,
                               crt_state_record *rec, crt_error **err);

#endif
