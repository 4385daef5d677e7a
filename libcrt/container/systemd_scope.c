#include "config.h"
#include "systemd_scope.h"
#include "../cgroup/cgroup.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int
crt_scope_prepare (crt_spec *spec, const char *id, bool user_manager, crt_scope *s,
                   crt_error **err)
{
  crt_linux *l = spec->linux_;

  memset (s, 0, sizeof (*s));
  if (crt_sd_unit_from_path (l ? l->cgroups_path : NULL, id, &s->unit, err) < 0)
    return -1;
  if (l && crt_sd_props_from_resources (l->resources, 0, &s->props, err) < 0)
    {
      crt_scope_release (s);
      return crt_error_prefix (err, "config.json");
    }
  if (crt_sd_props_from_annotations (spec->annotations, spec->n_annotations, &s->props, err) < 0
      || crt_sd_bus_open (user_manager, &s->bus, err) < 0)
    {
      crt_scope_release (s);
      return -1;
    }
  return 0;
}

int
crt_scope_start (crt_scope *s, int state_dirfd, const char *id, pid_t pid, char **cgroup_path,
                 crt_error **err)
{
  cleanup_free char *description = crt_fmt ("crt container %s", id);
  cleanup_free char *where = NULL;
  const char *last;

  *cgroup_path = NULL;
  if (crt_write_file_at (state_dirfd, CRT_SYSTEMD_UNIT_FILE, s->unit.unit, strlen (s->unit.unit),
                         0600, err) < 0)
    return -1;
  if (crt_sd_start_scope (s->bus, &s->unit, description, pid, &s->props, err) < 0)
    return -1;
  s->started = true;
  /* Where systemd put it (the slice's own place may differ from what
   * its name says, e.g. in a nested systemd), which must be the unit's
   * own cgroup: crt limits, freezes, kills and removes that cgroup, so
   * it never takes another for it (a confused or impostor "systemd"). */
  if (crt_cgroup_of_pid (pid, &where, err) < 0)
    return crt_error_prefix (err, "the container's cgroup in `%s`", s->unit.unit);
  last = strrchr (where, '/');
  if (last == NULL || strcmp (last + 1, s->unit.unit) != 0)
    return crt_error_set (err, 0,
                          "--systemd-cgroup: systemd said `%s` started, but the container's "
                          "init is in the cgroup `%s`, not in that unit's",
                          s->unit.unit, where);
  *cgroup_path = crt_steal_ptr (&where);
  return 0;
}

void
crt_scope_abandon (crt_scope *s)
{
  if (s->started && s->bus)
    crt_sd_stop_unit (s->bus, s->unit.unit, NULL);
  s->started = false;
  crt_scope_release (s);
}

void
crt_scope_release (crt_scope *s)
{
  crt_sd_bus_closep (&s->bus);
  crt_sd_props_clear (&s->props);
  crt_sd_unit_clear (&s->unit);
}

/* The unit the state directory names: 1 and *unit, or 0 when none. */
static int
recorded_unit (int state_dirfd, char **unit)
{
  if (crt_read_file_at (state_dirfd, CRT_SYSTEMD_UNIT_FILE, unit, NULL, NULL) < 0)
    return 0;
  (*unit)[strcspn (*unit, "\n")] = '\0';
  return 1;
}

int
crt_scope_remove (int state_dirfd, const char *cgroup_path, bool user_manager, crt_error **err)
{
  cleanup_free char *unit = NULL;
  cleanup_sd_bus crt_sd_bus *bus = NULL;

  if (!recorded_unit (state_dirfd, &unit))
    return 0;
  if (crt_sd_bus_open (user_manager, &bus, err) < 0)
    return crt_error_prefix (err, "stop unit `%s`", unit);
  /* Sub-cgroups the container made too (systemd kills the unit's). */
  if (cgroup_path && cgroup_path[0])
    crt_cgroup_kill (cgroup_path, SIGKILL, NULL);
  return crt_sd_stop_unit (bus, unit, err);
}

int
crt_scope_update (int state_dirfd, int cgroup_fd, crt_resources *r, bool user_manager,
                  crt_error **err)
{
  cleanup_free char *unit = NULL;
  cleanup_free char *current = NULL;
  cleanup_sd_bus crt_sd_bus *bus = NULL;
  cleanup_sd_props crt_sd_props props = { 0 };
  int64_t limit = 0;

  if (!recorded_unit (state_dirfd, &unit))
    return 0;
  /* A swap change alone is relative to the limit in force. */
  if (crt_read_file_at (cgroup_fd, "memory.max", &current, NULL, NULL) == 0)
    limit = strncmp (current, "max", 3) == 0 ? -1 : strtoll (current, NULL, 10);
  if (crt_sd_props_from_resources (r, limit, &props, err) < 0)
    return -1;
  if (props.n == 0)
    return 0;
  if (crt_sd_bus_open (user_manager, &bus, err) < 0)
    return -1;
  return crt_sd_set_properties (bus, unit, &props, err);
}
