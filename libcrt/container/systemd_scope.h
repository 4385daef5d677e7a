/* The systemd driver in the container lifecycle: the scope made for the
 * init at create, its properties on update, its end at delete. The
 * unit's name is kept in the state directory (CRT_SYSTEMD_UNIT_FILE)
 * from before systemd is asked for it, so a create that died half-way
 * still names what `delete` has to stop. */
#ifndef CRT_SYSTEMD_SCOPE_H
#define CRT_SYSTEMD_SCOPE_H

#include <sys/types.h>

#include "../cgroup/systemd.h"

#define CRT_SYSTEMD_UNIT_FILE "systemd.unit"

typedef struct crt_scope
{
  crt_sd_unit unit;
  crt_sd_props props;           /* resources, then annotations */
  crt_sd_bus *bus;
  bool started;
} crt_scope;

/* user_manager (rootless): the user's systemd, on the user bus; else the
 * system's. */
/* Before anything is made: the unit from linux.cgroupsPath, its
 * properties (rounding spec's CPU quota as systemd will) and the bus.
 * Fails, with nothing to undo, when systemd cannot be reached. */
int crt_scope_prepare (crt_spec *spec, const char *id, bool user_manager, crt_scope *s,
                       crt_error **err);

/* Record the unit's name in the state directory, have systemd make the
 * scope for pid (waiting for its job) and return the cgroup pid is in
 * now. */
int crt_scope_start (crt_scope *s, int state_dirfd, const char *id, pid_t pid,
                     char **cgroup_path, crt_error **err);

/* Undo of a failed create: stop the unit (if started), close the bus. */
void crt_scope_abandon (crt_scope *s);
void crt_scope_release (crt_scope *s);

/* delete: when the state names a unit, kill what is left in
 * cgroup_path (if any), stop the unit and wait until it is gone.
 * Returns 0 also when there is no unit. */
int crt_scope_remove (int state_dirfd, const char *cgroup_path, bool user_manager,
                      crt_error **err);

/* update: when the state names a unit, set what systemd manages of r on
 * it (SetUnitProperties); cgroup_fd is the container's cgroup. */
int crt_scope_update (int state_dirfd, int cgroup_fd, crt_resources *r, bool user_manager,
                      crt_error **err);

#endif
