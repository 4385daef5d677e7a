/* The systemd cgroup driver (--systemd-cgroup, --cgroup-manager=systemd):
 * a container's cgroup is a transient scope unit that systemd makes for
 * its init, with Delegate=yes, and the resources systemd manages are unit
 * properties. systemd_unit.c names the unit from linux.cgroupsPath,
 * systemd_props.c turns linux.resources and org.systemd.property.*
 * annotations into properties (neither needs systemd), systemd_bus.c
 * talks to systemd over D-Bus (crt's own client, libcrt/dbus). */
#ifndef CRT_CGROUP_SYSTEMD_H
#define CRT_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../error.h"
#include "../spec/spec.h"

/* ---- the unit (systemd_unit.c) ---- */
typedef struct crt_sd_unit
{
  char *slice;          /* "system.slice" */
  char *unit;           /* "crt-<id>.scope" */
  char *cgroup;         /* where systemd puts it: "/system.slice/crt-<id>.scope" */
} crt_sd_unit;

/* linux.cgroupsPath in systemd's form "slice:prefix:name" (runc's and
 * crun's): the scope "prefix-name.scope" in slice (an empty slice is
 * system.slice, an empty prefix gives "name.scope"). An empty path is
 * "system.slice:crt:<id>". */
int crt_sd_unit_from_path (const char *cgroups_path, const char *id, crt_sd_unit *out,
                           crt_error **err);
void crt_sd_unit_clear (crt_sd_unit *u);

/* A slice's place in the hierarchy, as systemd makes it: "a-b.slice" is
 * "/a.slice/a-b.slice", "-.slice" the root "/". */
int crt_sd_expand_slice (const char *slice, char **out, crt_error **err);

/* ---- properties (systemd_props.c) ---- */
typedef struct crt_sd_prop
{
  char *name;
  /* The D-Bus signature of the value: one of "t x u i q n y b d s" (the
   * unsigned types and b in u64, the signed ones in i64, d in dbl, s in
   * str), "ay" (bytes) or "au" (one uint32, in u64). */
  char sig[3];
  uint64_t u64;
  int64_t i64;
  double dbl;
  char *str;
  uint8_t *bytes;
  size_t n_bytes;
  unsigned min_version;  /* the oldest systemd that knows it; 0 any */
} crt_sd_prop;

typedef struct crt_sd_props
{
  crt_sd_prop *v;
  size_t n;
} crt_sd_props;

void crt_sd_props_clear (crt_sd_props *p);
#define cleanup_sd_props __attribute__ ((cleanup (crt_sd_props_clear)))
void crt_sd_props_add_u64 (crt_sd_props *p, const char *name, uint64_t v);
void crt_sd_props_add_bool (crt_sd_props *p, const char *name, bool v);
void crt_sd_props_add_str (crt_sd_props *p, const char *name, const char *v);
/* The last property with that name, or NULL. */
const crt_sd_prop *crt_sd_props_find (const crt_sd_props *p, const char *name);

/* What systemd manages of r, converted as runc's systemd driver does:
 * MemoryMax, MemoryLow, MemorySwapMax, CPUWeight, CPUQuotaPerSecUSec,
 * CPUQuotaPeriodUSec, AllowedCPUs, AllowedMemoryNodes, TasksMax,
 * IOWeight, and the unified keys systemd knows. Only what r sets.
 * systemd keeps CPU quotas in 10 ms steps per second: a quota that is
 * not is rounded up, in r too, so the cgroup file gets the same value.
 * memory_limit is the limit in force (for a swap change alone, on
 * update; 0 when unknown). */
int crt_sd_props_from_resources (crt_resources *r, int64_t memory_limit, crt_sd_props *out,
                                 crt_error **err);

/* The annotations org.systemd.property.NAME=VALUE (runc's convention):
 * NAME is letters only (3 or more); VALUE a D-Bus value in GVariant
 * text: "uint64 5" (also byte, int16, uint16, int32, uint32, int64,
 * double, boolean, string), a bare integer (int32, int64 when larger),
 * a decimal (double), true/false or a quoted string. NAMEs ending in a
 * lowercase letter and "Sec" become "USec" with the value in
 * microseconds. */
int crt_sd_props_from_annotations (const crt_kv *kv, size_t n, crt_sd_props *out,
                                   crt_error **err);

/* "0-3,7" as systemd's CPU set bytes (bit i in byte i/8, lowest first). */
int crt_sd_cpuset_bits (const char *list, uint8_t **bytes, size_t *n);

/* ---- the bus (systemd_bus.c) ---- */
typedef struct crt_sd_bus crt_sd_bus;
struct crt_dbus_msg;

/* One property as the (sv) of a property array: 0, or -1 for a
 * signature crt has no encoding for. */
int crt_sd_put_prop (struct crt_dbus_msg *m, const crt_sd_prop *p);

/* Connect to systemd on the system bus, or (user_manager: rootless) to
 * the user's own manager on the user (session) bus; the error names the
 * socket. */
int crt_sd_bus_open (bool user_manager, crt_sd_bus **out, crt_error **err);
void crt_sd_bus_close (crt_sd_bus *bus);
#define cleanup_sd_bus __attribute__ ((cleanup (crt_sd_bus_closep)))
void crt_sd_bus_closep (crt_sd_bus **bus);

/* StartTransientUnit: the scope u->unit in u->slice holding pid, with
 * Delegate=yes, accounting on, the props (those the running systemd
 * knows), and waiting until the job is done. A failed job leaves no
 * unit (reset-failed). */
int crt_sd_start_scope (crt_sd_bus *bus, const crt_sd_unit *u, const char *description,
                        pid_t pid, const crt_sd_props *props, crt_error **err);

/* SIGKILL to the unit's processes, StopUnit, waiting for the job and
 * then until systemd forgot the unit (a failed one is reset). A unit
 * that does not exist is not an error. */
int crt_sd_stop_unit (crt_sd_bus *bus, const char *unit, crt_error **err);

/* SetUnitProperties (runtime), the props the running systemd knows. */
int crt_sd_set_properties (crt_sd_bus *bus, const char *unit, const crt_sd_props *props,
                           crt_error **err);

#endif
