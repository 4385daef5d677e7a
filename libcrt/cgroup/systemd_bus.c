/* The systemd driver's side of D-Bus: StartTransientUnit for the scope,
 * StopUnit, SetUnitProperties, each waiting for systemd's job to finish
 * (the JobRemoved signal), over crt's own D-Bus client (libcrt/dbus). */
#include "config.h"
#include "systemd.h"
#include "../crt.h"
#include "../dbus/bus.h"
#include "../util/clock.h"
#include "../util/util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* sd-bus's default for a method call; systemd's jobs get a little more. */
#define CALL_TIMEOUT_MS (25 * 1000)
#define JOB_TIMEOUT_MS (30 * 1000)
/* JobRemoved signals kept (of every job systemd ends, not only crt's):
 * the job crt waits for is among the last few. */
#define JOBS_KEPT 32

struct crt_sd_bus
{
  crt_dbus *conn;
  unsigned version;             /* systemd's, 0 when unknown */
  char *systemd;                /* systemd's unique name on the bus */
  /* The latest JobRemoved signals: job path and systemd's word for the
   * result ("done", "failed", "timeout", ...). */
  struct
  {
    char *job, *result;
  } jobs[JOBS_KEPT];
  size_t next_job;
};

static bool
str_eq (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

/* JobRemoved(uoss id, job, unit, result), from systemd only: anyone on
 * the bus may send crt a signal. */
static void
on_signal (void *data, const uint8_t *msg, const crt_dbus_header *h)
{
  crt_sd_bus *b = data;
  const char *job, *unit, *result;
  crt_dbus_reader r;
  uint32_t id;
  size_t i = b->next_job;

  if (!str_eq (h->member, "JobRemoved") || !str_eq (h->interface, SD_MANAGER)
      || !str_eq (h->path, SD_PATH) || !str_eq (h->signature, "uoss")
      || (b->systemd && !str_eq (h->sender, b->systemd)))
    return;
  crt_dbus_reader_init (&r, msg, h);
  if (crt_dbus_get_u32 (&r, &id) < 0 || crt_dbus_get_str (&r, &job) < 0
      || crt_dbus_get_str (&r, &unit) < 0 || crt_dbus_get_str (&r, &result) < 0)
    return;
  free (b->jobs[i].job);
  free (b->jobs[i].result);
  b->jobs[i].job = crt_xstrdup (job);
  b->jobs[i].result = crt_xstrdup (result);
  b->next_job = (i + 1) % JOBS_KEPT;
}

static void
manager_call (crt_sd_bus *b, crt_dbus_msg *m, uint8_t flags, const char *member, const char *sig)
{
  crt_dbus_msg_begin (m, flags, crt_dbus_next_serial (b->conn), SD_DEST, SD_PATH, SD_MANAGER,
                      member, sig);
}

/* Send m; its reply in *reply (which may be an error reply). The
 * error, when there is none, says what failed (what NULL: only why). */
static int
call (crt_sd_bus *b, crt_dbus_msg *m, crt_dbus_reply *reply, const char *what, crt_error **err)
{
  crt_dbus_msg_end (m);
  if (crt_dbus_call (b->conn, m, CALL_TIMEOUT_MS, reply, err) < 0)
    return what ? crt_error_prefix (err, "--systemd-cgroup: %s", what) : -1;
  return 0;
}

/* A message whose reply (and error) does not matter (its flags say
 * CRT_DBUS_NO_REPLY_EXPECTED), sent without waiting: the bus keeps the
 * order of one connection's messages. */
static int
call_no_reply (crt_sd_bus *b, crt_dbus_msg *m, const char *what, crt_error **err)
{
  crt_dbus_reply none;
  return call (b, m, &none, what, err);
}

static int
call_failed (const crt_dbus_reply *reply, const char *what, crt_error **err)
{
  return crt_error_set (err, 0, "--systemd-cgroup: %s: %s", what,
                        reply->error_message ? reply->error_message : reply->h.error_name);
}

/* The object path a reply of signature "o" holds, copied. */
static int
reply_path (const crt_dbus_reply *reply, char **path, const char *what, crt_error **err)
{
  crt_dbus_reader r;
  const char *p;

  crt_dbus_reader_init (&r, reply->msg, &reply->h);
  if (!str_eq (reply->h.signature, "o") || crt_dbus_get_str (&r, &p) < 0)
    return crt_error_set (err, 0, "--systemd-cgroup: %s: systemd's reply is not an object path",
                          what);
  *path = crt_xstrdup (p);
  return 0;
}

int
crt_sd_bus_open (bool user_manager, crt_sd_bus **out, crt_error **err)
{
  cleanup_free char *address = crt_dbus_default_address (user_manager);
  cleanup_free char *label = crt_dbus_address_label (address);
  cleanup_dbus_msg crt_dbus_msg m = { 0 };
  cleanup_dbus_reply crt_dbus_reply reply = { 0 };
  cleanup_free char *match = NULL;
  const char *which = user_manager ? "user" : "system";
  const char *sig, *version;
  crt_dbus_reader r;
  crt_sd_bus *b = crt_xmalloc0 (sizeof (*b));

  *out = NULL;
  /* Rootless: the user's manager makes (and delegates) the scope. */
  if (crt_dbus_open (address, on_signal, b, &b->conn, err) < 0)
    goto unreachable;
  /* At once, without waiting between them: JobRemoved from systemd to
   * crt (the match, then Subscribe: systemd sends job signals only while
   * a client is subscribed), and the first question, which tells
   * whether anyone, and systemd, is there. */
  match = crt_fmt ("type='signal',sender='%s',path='%s',interface='%s',member='JobRemoved'",
                   SD_DEST, SD_PATH, SD_MANAGER);
  crt_dbus_msg_begin (&m, CRT_DBUS_NO_REPLY_EXPECTED, crt_dbus_next_serial (b->conn),
                      "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      "AddMatch", "s");
  crt_dbus_put_str (&m, match);
  if (call_no_reply (b, &m, NULL, err) < 0)
    goto unreachable;
  crt_dbus_msg_clear (&m);
  manager_call (b, &m, CRT_DBUS_NO_REPLY_EXPECTED, "Subscribe", "");
  if (call_no_reply (b, &m, NULL, err) < 0)
    goto unreachable;
  crt_dbus_msg_clear (&m);
  crt_dbus_msg_begin (&m, 0, crt_dbus_next_serial (b->conn), SD_DEST, SD_PATH,
                      "org.freedesktop.DBus.Properties", "Get", "ss");
  crt_dbus_put_str (&m, SD_MANAGER);
  crt_dbus_put_str (&m, "Version");
  if (call (b, &m, &reply, NULL, err) < 0)
    goto unreachable;
  if (reply.h.error_name)
    {
      const char *why = reply.error_message ? reply.error_message : reply.h.error_name;
      if (!str_eq (reply.h.error_name, "org.freedesktop.DBus.Error.ServiceUnknown")
          && !str_eq (reply.h.error_name, "org.freedesktop.DBus.Error.NameHasNoOwner"))
        {
          crt_error_set (err, 0, "%s", why);
          goto unreachable;
        }
      crt_error_set (err, 0,
                     "--systemd-cgroup: systemd (org.freedesktop.systemd1) is not on the %s "
                     "bus (%s): %s",
                     which, label, why);
      goto fail;
    }
  crt_dbus_reader_init (&r, reply.msg, &reply.h);
  if (!str_eq (reply.h.signature, "v") || crt_dbus_get_sig (&r, &sig) < 0 || !str_eq (sig, "s")
      || crt_dbus_get_str (&r, &version) < 0)
    {
      crt_error_set (err, 0, "--systemd-cgroup: systemd's Version is not a string");
      goto fail;
    }
  /* "252.39-1~deb12u2", "v245.4-1.fc32": the leading number. */
  b->version = (unsigned) strtoul (version + (version[0] == 'v'), NULL, 10);
  /* Its unique name on a bus (none on a direct connection). */
  if (reply.h.sender)
    b->systemd = crt_xstrdup (reply.h.sender);
  *out = b;
  return 0;

unreachable:
  crt_error_prefix (err, "--systemd-cgroup: cannot reach systemd on the %s bus (%s)", which,
                    label);
fail:
  crt_sd_bus_close (b);
  return -1;
}

void
crt_sd_bus_close (crt_sd_bus *b)
{
  if (b == NULL)
    return;
  crt_dbus_close (b->conn);
  for (size_t i = 0; i < JOBS_KEPT; i++)
    {
      free (b->jobs[i].job);
      free (b->jobs[i].result);
    }
  free (b->systemd);
  free (b);
}

/* One property, a (sv) of a{sv}-like array. */
static void
put_prop_head (crt_dbus_msg *m, const char *name, const char *sig)
{
  crt_dbus_struct_begin (m);
  crt_dbus_put_str (m, name);
  crt_dbus_put_sig (m, sig);
}

static void
put_bool_prop (crt_dbus_msg *m, const char *name, bool v)
{
  put_prop_head (m, name, "b");
  crt_dbus_put_bool (m, v);
}

static void
put_str_prop (crt_dbus_msg *m, const char *name, const char *v)
{
  put_prop_head (m, name, "s");
  crt_dbus_put_str (m, v);
}

static void
put_u32_array (crt_dbus_msg *m, uint32_t v)
{
  crt_dbus_array a = crt_dbus_array_begin (m, 4);
  crt_dbus_put_u32 (m, v);
  crt_dbus_array_end (m, a);
}

int
crt_sd_put_prop (crt_dbus_msg *m, const crt_sd_prop *p)
{
  put_prop_head (m, p->name, p->sig);
  if (strcmp (p->sig, "ay") == 0)
    {
      crt_dbus_array a = crt_dbus_array_begin (m, 1);
      for (size_t i = 0; i < p->n_bytes; i++)
        crt_dbus_put_byte (m, p->bytes[i]);
      crt_dbus_array_end (m, a);
      return 0;
    }
  if (strcmp (p->sig, "au") == 0)
    {
      put_u32_array (m, (uint32_t) p->u64);
      return 0;
    }
  /* The unsigned types and b hold their value in u64, the signed ones
   * in i64 (systemd.h). */
  switch (p->sig[0])
    {
    case 't': crt_dbus_put_u64 (m, p->u64); break;
    case 'x': crt_dbus_put_u64 (m, (uint64_t) p->i64); break;
    case 'u': crt_dbus_put_u32 (m, (uint32_t) p->u64); break;
    case 'i': crt_dbus_put_u32 (m, (uint32_t) (int32_t) p->i64); break;
    case 'q': crt_dbus_put_u16 (m, (uint16_t) p->u64); break;
    case 'n': crt_dbus_put_u16 (m, (uint16_t) (int16_t) p->i64); break;
    case 'y': crt_dbus_put_byte (m, (uint8_t) p->u64); break;
    case 'b': crt_dbus_put_bool (m, p->u64 != 0); break;
    case 'd': crt_dbus_put_double (m, p->dbl); break;
    case 's': crt_dbus_put_str (m, p->str); break;
    default: return -1;
    }
  return 0;
}

static int
put_props (crt_sd_bus *b, crt_dbus_msg *m, const crt_sd_props *props, crt_error **err)
{
  for (size_t i = 0; props && i < props->n; i++)
    {
      /* What this systemd does not know still goes to the files. */
      if (props->v[i].min_version && b->version && b->version < props->v[i].min_version)
        continue;
      if (crt_sd_put_prop (m, &props->v[i]) < 0)
        return crt_error_set (err, 0, "--systemd-cgroup: property %s: no D-Bus type `%s`",
                              props->v[i].name, props->v[i].sig);
    }
  return 0;
}

/* Wait for JobRemoved of job; *result is systemd's word. */
static int
wait_job (crt_sd_bus *b, const char *job, const char **result, const char *what, crt_error **err)
{
  int64_t deadline = crt_monotonic_ms () + JOB_TIMEOUT_MS;

  for (;;)
    {
      int64_t left;
      int r;
      for (size_t i = 0; i < JOBS_KEPT; i++)
        if (str_eq (b->jobs[i].job, job))
          {
            *result = b->jobs[i].result;
            return 0;
          }
      left = deadline - crt_monotonic_ms ();
      if (left <= 0 || (r = crt_dbus_wait (b->conn, (int) left, err)) > 0)
        return crt_error_set (err, ETIMEDOUT, "--systemd-cgroup: %s: no answer from systemd",
                              what);
      if (r < 0)
        return crt_error_prefix (err, "--systemd-cgroup: %s: lost the bus", what);
    }
}

static void
reset_failed (crt_sd_bus *b, const char *unit)
{
  cleanup_dbus_msg crt_dbus_msg m = { 0 };

  manager_call (b, &m, CRT_DBUS_NO_REPLY_EXPECTED, "ResetFailedUnit", "s");
  crt_dbus_put_str (&m, unit);
  call_no_reply (b, &m, "reset-failed", NULL);
}

/* StartTransientUnit(ssa(sv)a(sa(sv))): the name, the mode, the
 * properties (crt's, then the config's), no auxiliary units. */
static int
start_request (crt_sd_bus *b, crt_dbus_msg *m, const crt_sd_unit *u, const char *description,
               pid_t pid, const crt_sd_props *props, crt_error **err)
{
  crt_dbus_array array;

  manager_call (b, m, 0, "StartTransientUnit", "ssa(sv)a(sa(sv))");
  crt_dbus_put_str (m, u->unit);
  crt_dbus_put_str (m, "replace");
  array = crt_dbus_array_begin (m, 8);
  put_str_prop (m, "Description", description);
  put_str_prop (m, "Slice", u->slice);
  put_bool_prop (m, "Delegate", true);
  put_prop_head (m, "PIDs", "au");
  put_u32_array (m, (uint32_t) pid);
  put_bool_prop (m, "MemoryAccounting", true);
  put_bool_prop (m, "CPUAccounting", true);
  put_bool_prop (m, "IOAccounting", true);
  put_bool_prop (m, "TasksAccounting", true);
  put_bool_prop (m, "DefaultDependencies", false);
  if (put_props (b, m, props, err) < 0)
    return -1;
  crt_dbus_array_end (m, array);
  array = crt_dbus_array_begin (m, 8);
  crt_dbus_array_end (m, array);
  return 0;
}

int
crt_sd_start_scope (crt_sd_bus *b, const crt_sd_unit *u, const char *description, pid_t pid,
                    const crt_sd_props *props, crt_error **err)
{
  cleanup_free char *what = crt_fmt ("start `%s`", u->unit);

  for (int attempt = 0;; attempt++)
    {
      cleanup_dbus_msg crt_dbus_msg m = { 0 };
      cleanup_dbus_reply crt_dbus_reply reply = { 0 };
      cleanup_free char *job = NULL;
      const char *result;

      if (start_request (b, &m, u, description, pid, props, err) < 0
          || call (b, &m, &reply, what, err) < 0)
        return -1;
      if (reply.h.error_name)
        {
          /* A failed unit of that name stays until reset: once. */
          if (attempt == 0 && str_eq (reply.h.error_name, "org.freedesktop.systemd1.UnitExists"))
            {
              reset_failed (b, u->unit);
              continue;
            }
          return call_failed (&reply, what, err);
        }
      if (reply_path (&reply, &job, what, err) < 0)
        return -1;
      if (wait_job (b, job, &result, what, err) < 0)
        {
          reset_failed (b, u->unit);
          return -1;
        }
      if (strcmp (result, "done") != 0)
        {
          crt_error_set (err, 0, "--systemd-cgroup: %s: the job ended with `%s`", what, result);
          reset_failed (b, u->unit);
          return -1;
        }
      return 0;
    }
}

/* Whether systemd still knows the unit (GetUnit answers NoSuchUnit once
 * it forgot it); true when it cannot tell. */
static bool
unit_exists (crt_sd_bus *b, const char *unit)
{
  cleanup_dbus_msg crt_dbus_msg m = { 0 };
  cleanup_dbus_reply crt_dbus_reply reply = { 0 };

  manager_call (b, &m, 0, "GetUnit", "s");
  crt_dbus_put_str (&m, unit);
  if (call (b, &m, &reply, "GetUnit", NULL) < 0)
    return true;
  return !str_eq (reply.h.error_name, "org.freedesktop.systemd1.NoSuchUnit");
}

int
crt_sd_stop_unit (crt_sd_bus *b, const char *unit, crt_error **err)
{
  cleanup_dbus_msg crt_dbus_msg kill_msg = { 0 };
  cleanup_dbus_msg crt_dbus_msg m = { 0 };
  cleanup_dbus_reply crt_dbus_reply reply = { 0 };
  cleanup_free char *what = crt_fmt ("stop `%s`", unit);
  cleanup_free char *job = NULL;
  const char *result;

  /* Stopping a scope with processes is SIGTERM and a wait (90 s by
   * default): they get SIGKILL first, as a container without systemd. */
  manager_call (b, &kill_msg, CRT_DBUS_NO_REPLY_EXPECTED, "KillUnit", "ssi");
  crt_dbus_put_str (&kill_msg, unit);
  crt_dbus_put_str (&kill_msg, "all");
  crt_dbus_put_u32 (&kill_msg, SIGKILL);
  if (call_no_reply (b, &kill_msg, what, err) < 0)
    return -1;
  manager_call (b, &m, 0, "StopUnit", "ss");
  crt_dbus_put_str (&m, unit);
  crt_dbus_put_str (&m, "replace");
  if (call (b, &m, &reply, what, err) < 0)
    return -1;
  if (reply.h.error_name)
    {
      if (!str_eq (reply.h.error_name, "org.freedesktop.systemd1.NoSuchUnit"))
        return call_failed (&reply, what, err);
    }
  else if (reply_path (&reply, &job, what, err) < 0 || wait_job (b, job, &result, what, err) < 0)
    return -1;
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
  cleanup_dbus_msg crt_dbus_msg m = { 0 };
  cleanup_dbus_reply crt_dbus_reply reply = { 0 };
  cleanup_free char *what = crt_fmt ("set properties of `%s`", unit);
  crt_dbus_array array;

  if (props == NULL || props->n == 0)
    return 0;
  /* SetUnitProperties(sba(sv)): runtime, not persisted. */
  manager_call (b, &m, 0, "SetUnitProperties", "sba(sv)");
  crt_dbus_put_str (&m, unit);
  crt_dbus_put_bool (&m, true);
  array = crt_dbus_array_begin (&m, 8);
  if (put_props (b, &m, props, err) < 0)
    return -1;
  crt_dbus_array_end (&m, array);
  if (call (b, &m, &reply, what, err) < 0)
    return -1;
  if (reply.h.error_name)
    return call_failed (&reply, what, err);
  return 0;
}

void
crt_sd_bus_closep (crt_sd_bus **b)
{
  crt_sd_bus_close (*b);
  *b = NULL;
}
