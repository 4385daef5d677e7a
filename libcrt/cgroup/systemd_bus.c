/* The systemd driver's side of D-Bus: StartTransientUnit for the scope,
 * StopUnit, SetUnitProperties, each waiting for systemd's job to finish
 * (the JobRemoved signal). With sd-bus from libsystemd, loaded on the
 * first open (systemd_lib.c); in a build without it every call is
 * refused, naming what the build lacks. */
#include "config.h"
#include "systemd.h"
#include "../crt.h"
#include "../util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include "systemd_lib.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_USEC (30ULL * 1000 * 1000)

/* libsystemd's functions, loaded by the first crt_sd_bus_open; every
 * other function here runs on a bus it opened. */
static const crt_sd_api *sd;

struct crt_sd_bus
{
  sd_bus *bus;
  unsigned version;             /* systemd's, 0 when unknown */
  /* The job being waited for, and what JobRemoved said of it. */
  const char *job;
  char *result;
};

bool
crt_systemd_built_in (void)
{
  return true;
}

/* Where sd-bus looks for the bus, for the error message. */
static const char *
bus_address (bool user_manager)
{
  static char user_bus[4200];
  const char *a = getenv (user_manager ? "DBUS_SESSION_BUS_ADDRESS" : "DBUS_SYSTEM_BUS_ADDRESS");
  const char *xdg = getenv ("XDG_RUNTIME_DIR");

  if (a && crt_str_has_prefix (a, "unix:path="))
    return a + strlen ("unix:path=");
  if (a && a[0])
    return a;
  if (!user_manager)
    return "/run/dbus/system_bus_socket";
  snprintf (user_bus, sizeof (user_bus), "%s/bus", xdg ? xdg : "$XDG_RUNTIME_DIR (not set)");
  return user_bus;
}

static int
unreachable (bool user_manager, crt_error **err, const char *why)
{
  return crt_error_set (err, 0, "--systemd-cgroup: cannot reach systemd on the %s bus (%s): %s",
                        user_manager ? "user" : "system", bus_address (user_manager), why);
}

static int
on_job_removed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  crt_sd_bus *b = userdata;
  const char *path, *unit, *result;
  uint32_t id;

  if (sd->sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (b->job && strcmp (path, b->job) == 0 && b->result == NULL)
    b->result = crt_xstrdup (result);
  return 0;
}

int
crt_sd_bus_open (bool user_manager, crt_sd_bus **out, crt_error **err)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  const char *version = NULL;
  crt_sd_bus *b = crt_xmalloc0 (sizeof (*b));
  int r;

  *out = NULL;
  if (crt_sd_api_load (&sd, err) < 0)
    {
      free (b);
      return -1;
    }
  /* Rootless: the user's manager makes (and delegates) the scope. */
  r = user_manager ? sd->sd_bus_open_user (&b->bus) : sd->sd_bus_open_system (&b->bus);
  if (r < 0)
    {
      free (b);
      return unreachable (user_manager, err, crt_strerror (-r));
    }
  /* The first call tells whether anyone (and systemd) is there. */
  r = sd->sd_bus_get_property (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "Version", &e, &reply, "s");
  if (r >= 0)
    r = sd->sd_bus_message_read (reply, "s", &version);
  if (r < 0)
    {
      cleanup_free char *why = crt_xstrdup (sd->sd_bus_error_is_set (&e) ? e.message : crt_strerror (-r));
      bool no_systemd = sd->sd_bus_error_has_name (&e, SD_BUS_ERROR_SERVICE_UNKNOWN)
                        || sd->sd_bus_error_has_name (&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
      sd->sd_bus_error_free (&e);
      sd->sd_bus_message_unref (reply);
      crt_sd_bus_close (b);
      if (no_systemd)
        return crt_error_set (err, 0,
                              "--systemd-cgroup: systemd (org.freedesktop.systemd1) is not on "
                              "the %s bus (%s): %s",
                              user_manager ? "user" : "system", bus_address (user_manager), why);
      return unreachable (user_manager, err, why);
    }
  /* "252.39-1~deb12u2", "v245.4-1.fc32": the leading number. */
  b->version = (unsigned) strtoul (version + (version[0] == 'v'), NULL, 10);
  sd->sd_bus_message_unref (reply);
  r = sd->sd_bus_match_signal (b->bus, NULL, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                           on_job_removed, b);
  if (r < 0)
    {
      crt_sd_bus_close (b);
      return crt_error_set (err, -r, "--systemd-cgroup: watch systemd's jobs");
    }
  /* systemd sends job signals to subscribed clients. */
  sd->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
  *out = b;
  return 0;
}

void
crt_sd_bus_close (crt_sd_bus *b)
{
  if (b == NULL)
    return;
  sd->sd_bus_flush_close_unref (b->bus);
  free (b->result);
  free (b);
}

static int
append_prop (sd_bus_message *m, const crt_sd_prop *p)
{
  int r;

  if ((r = sd->sd_bus_message_open_container (m, 'r', "sv")) < 0
      || (r = sd->sd_bus_message_append (m, "s", p->name)) < 0
      || (r = sd->sd_bus_message_open_container (m, 'v', p->sig)) < 0)
    return r;
  if (strcmp (p->sig, "ay") == 0)
    r = sd->sd_bus_message_append_array (m, 'y', p->bytes, p->n_bytes);
  else if (strcmp (p->sig, "au") == 0)
    r = sd->sd_bus_message_append (m, "au", 1, (uint32_t) p->u64);
  else
    switch (p->sig[0])
      {
      case 't': r = sd->sd_bus_message_append (m, "t", p->u64); break;
      case 'x': r = sd->sd_bus_message_append (m, "x", p->i64); break;
      case 'u': r = sd->sd_bus_message_append (m, "u", (uint32_t) p->u64); break;
      case 'i': r = sd->sd_bus_message_append (m, "i", (int32_t) p->i64); break;
      case 'q': case 'n': case 'y': case 'b':
        r = sd->sd_bus_message_append (m, p->sig, (int) p->i64);
        break;
      case 'd': r = sd->sd_bus_message_append (m, "d", p->dbl); break;
      case 's': r = sd->sd_bus_message_append (m, "s", p->str); break;
      default: r = -EINVAL;
      }
  if (r < 0 || (r = sd->sd_bus_message_close_container (m)) < 0)
    return r;
  return sd->sd_bus_message_close_container (m);
}

static int
append_props (crt_sd_bus *b, sd_bus_message *m, const crt_sd_props *props)
{
  for (size_t i = 0; props && i < props->n; i++)
    {
      int r;
      /* What this systemd does not know still goes to the files. */
      if (props->v[i].min_version && b->version && b->version < props->v[i].min_version)
        continue;
      if ((r = append_prop (m, &props->v[i])) < 0)
        return r;
    }
  return 0;
}

/* Wait for JobRemoved of job; *result is systemd's word ("done",
 * "failed", "timeout", ...). */
static int
wait_job (crt_sd_bus *b, const char *job, const char *what, crt_error **err)
{
  struct timespec now;
  uint64_t deadline;
  int r;

  free (b->result);
  b->result = NULL;
  b->job = job;
  clock_gettime (CLOCK_MONOTONIC, &now);
  deadline = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000 + JOB_TIMEOUT_USEC;
  while (b->result == NULL)
    {
      uint64_t t;
      r = sd->sd_bus_process (b->bus, NULL);
      if (r < 0)
        {
          b->job = NULL;
          return crt_error_set (err, -r, "--systemd-cgroup: %s: lost the bus", what);
        }
      if (r > 0)
        continue;
      clock_gettime (CLOCK_MONOTONIC, &now);
      t = (uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000;
      if (t >= deadline)
        {
          b->job = NULL;
          return crt_error_set (err, ETIMEDOUT, "--systemd-cgroup: %s: no answer from systemd",
                                what);
        }
      r = sd->sd_bus_wait (b->bus, deadline - t);
      if (r < 0 && r != -EINTR)
        {
          b->job = NULL;
          return crt_error_set (err, -r, "--systemd-cgroup: %s: lost the bus", what);
        }
    }
  b->job = NULL;
  return 0;
}

static void
reset_failed (crt_sd_bus *b, const char *unit)
{
  sd->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s",
                      unit);
}

static int
call_failed (crt_error **err, int r, sd_bus_error *e, const char *what)
{
  crt_error_set (err, 0, "--systemd-cgroup: %s: %s", what,
                 sd->sd_bus_error_is_set (e) ? e->message : crt_strerror (-r));
  sd->sd_bus_error_free (e);
  return -1;
}

int
crt_sd_start_scope (crt_sd_bus *b, const crt_sd_unit *u, const char *description, pid_t pid,
                    const crt_sd_props *props, crt_error **err)
{
  for (int attempt = 0;; attempt++)
    {
      sd_bus_message *m = NULL, *reply = NULL;
      sd_bus_error e = SD_BUS_ERROR_NULL;
      cleanup_free char *job = NULL;
      cleanup_free char *what = crt_fmt ("start `%s`", u->unit);
      const char *path;
      int r;

      r = sd->sd_bus_message_new_method_call (b->bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                          "StartTransientUnit");
      if (r >= 0)
        r = sd->sd_bus_message_append (m, "ss", u->unit, "replace");
      if (r >= 0)
        r = sd->sd_bus_message_open_container (m, 'a', "(sv)");
      if (r >= 0)
        r = sd->sd_bus_message_append (
            m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s", description, "Slice",
            "s", u->slice, "Delegate", "b", 1, "PIDs", "au", 1, (uint32_t) pid,
            "MemoryAccounting", "b", 1, "CPUAccounting", "b", 1, "IOAccounting", "b", 1,
            "TasksAccounting", "b", 1, "DefaultDependencies", "b", 0);
      if (r >= 0)
        r = append_props (b, m, props);
      if (r >= 0)
        r = sd->sd_bus_message_close_container (m);
      if (r >= 0)
        r = sd->sd_bus_message_append (m, "a(sa(sv))", 0);
      if (r < 0)
        {
          sd->sd_bus_message_unref (m);
          return crt_error_set (err, -r, "--systemd-cgroup: %s: build the request", what);
        }
      r = sd->sd_bus_call (b->bus, m, 0, &e, &reply);
      sd->sd_bus_message_unref (m);
      if (r < 0)
        {
          /* A failed unit of that name stays until reset: once. */
          if (attempt == 0 && sd->sd_bus_error_has_name (&e, "org.freedesktop.systemd1.UnitExists"))
            {
              sd->sd_bus_error_free (&e);
              reset_failed (b, u->unit);
              continue;
            }
          return call_failed (err, r, &e, what);
        }
      r = sd->sd_bus_message_read (reply, "o", &path);
      if (r >= 0)
        job = crt_xstrdup (path);
      sd->sd_bus_message_unref (reply);
      if (r < 0)
        return crt_error_set (err, -r, "--systemd-cgroup: %s: bad reply", what);
      if (wait_job (b, job, what, err) < 0)
        {
          reset_failed (b, u->unit);
          return -1;
        }
      if (strcmp (b->result, "done") != 0)
        {
          reset_failed (b, u->unit);
          return crt_error_set (err, 0, "--systemd-cgroup: %s: the job ended with `%s`",
                                what, b->result);
        }
      return 0;
    }
}

static bool
unit_exists (crt_sd_bus *b, const char *unit)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  int r = sd->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s",
                              unit);
  bool gone = r < 0 && sd->sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit");
  sd->sd_bus_error_free (&e);
  sd->sd_bus_message_unref (reply);
  return !gone;
}

int
crt_sd_stop_unit (crt_sd_bus *b, const char *unit, crt_error **err)
{
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  cleanup_free char *what = crt_fmt ("stop `%s`", unit);
  cleanup_free char *job = NULL;
  const char *path;
  int r;

  /* Stopping a scope with processes is SIGTERM and a wait (90 s by
   * default): they get SIGKILL first, as a container without systemd. */
  sd->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit", NULL, NULL, "ssi", unit,
                      "all", (int32_t) SIGKILL);
  r = sd->sd_bus_call_method (b->bus, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit", &e, &reply, "ss",
                          unit, "replace");
  if (r < 0)
    {
      if (!sd->sd_bus_error_has_name (&e, "org.freedesktop.systemd1.NoSuchUnit"))
        return call_failed (err, r, &e, what);
      sd->sd_bus_error_free (&e);
    }
  else
    {
      r = sd->sd_bus_message_read (reply, "o", &path);
      if (r >= 0)
        job = crt_xstrdup (path);
      sd->sd_bus_message_unref (reply);
      if (job && wait_job (b, job, what, err) < 0)
        return -1;
    }
  /* Until systemd forgets it: a failed unit stays until reset. */
  for (int i = 0; i < 500; i++)
    {
      reset_failed (b, unit);
      if (!unit_exists (b, unit))
        return 0;
      nanosleep (&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    }
  return crt_error_set (err, EBUSY, "--systemd-cgroup: %s: the unit is still there after 5s",
                        what);
}

int
crt_sd_set_properties (crt_sd_bus *b, const char *unit, const crt_sd_props *props,
                       crt_error **err)
{
  sd_bus_message *m = NULL, *reply = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r;

  if (props == NULL || props->n == 0)
    return 0;
  r = sd->sd_bus_message_new_method_call (b->bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                      "SetUnitProperties");
  if (r >= 0)
    r = sd->sd_bus_message_append (m, "sb", unit, 1);
  if (r >= 0)
    r = sd->sd_bus_message_open_container (m, 'a', "(sv)");
  if (r >= 0)
    r = append_props (b, m, props);
  if (r >= 0)
    r = sd->sd_bus_message_close_container (m);
  if (r < 0)
    {
      sd->sd_bus_message_unref (m);
      return crt_error_set (err, -r, "--systemd-cgroup: set properties of `%s`", unit);
    }
  r = sd->sd_bus_call (b->bus, m, 0, &e, &reply);
  sd->sd_bus_message_unref (m);
  sd->sd_bus_message_unref (reply);
  if (r < 0)
    {
      cleanup_free char *what = crt_fmt ("set properties of `%s`", unit);
      return call_failed (err, r, &e, what);
    }
  return 0;
}

#else /* !HAVE_LIBSYSTEMD */

struct crt_sd_bus
{
  int unused;
};

bool
crt_systemd_built_in (void)
{
  return false;
}

int
crt_sd_bus_open (bool user_manager, crt_sd_bus **out, crt_error **err)
{
  (void) user_manager;
  *out = NULL;
  return crt_error_with_code (err, ENOTSUP,
                              "--systemd-cgroup: this crt was built without libsystemd (sd-bus), so "
                        "it has no systemd cgroup driver; rebuild it with libsystemd-dev "
                        "installed, or use --cgroup-manager=cgroupfs");
}

void
crt_sd_bus_close (crt_sd_bus *b)
{
  free (b);
}

int
crt_sd_start_scope (crt_sd_bus *b, const crt_sd_unit *u, const char *description, pid_t pid,
                    const crt_sd_props *props, crt_error **err)
{
  return crt_sd_bus_open (false, &b, err);
}

int
crt_sd_stop_unit (crt_sd_bus *b, const char *unit, crt_error **err)
{
  return crt_sd_bus_open (false, &b, err);
}

int
crt_sd_set_properties (crt_sd_bus *b, const char *unit, const crt_sd_props *props,
                       crt_error **err)
{
  return crt_sd_bus_open (false, &b, err);
}

#endif

void
crt_sd_bus_closep (crt_sd_bus **b)
{
  crt_sd_bus_close (*b);
  *b = NULL;
}
