#include "config.h"
#include "caps.h"
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* Capabilities the running kernel knows: numbers below this. libcap
 * probes the kernel once, which also works before /proc is mounted. */
static int
kernel_cap_count (void)
{
  int n = cap_max_bits ();
  return n > 64 ? 64 : n;
}

/* libcap's cap_from_name is lenient (it takes "12" and "cap_kill,foo"),
 * so accept only a name whose canonical spelling it is. */
static int
cap_from_config_name (const char *name, cap_value_t *out)
{
  cap_value_t v;
  char *canonical;
  bool same;

  if (!crt_str_has_prefix (name, "CAP_") || cap_from_name (name, &v) < 0)
    return -1;
  canonical = cap_to_name (v);
  if (canonical == NULL)
    return -1;
  same = strlen (canonical) == strlen (name);
  for (size_t i = 0; same && name[i]; i++)
    same = toupper ((unsigned char) canonical[i]) == name[i];
  cap_free (canonical);
  if (!same)
    return -1;
  *out = v;
  return 0;
}

static int
resolve_list (char *const *names, size_t n, const char *field, uint64_t *out,
              crt_error **err)
{
  int count = kernel_cap_count ();

  *out = 0;
  for (size_t i = 0; i < n; i++)
    {
      cap_value_t v;

      if (cap_from_config_name (names[i], &v) < 0)
        return crt_error_set (err, 0, "process.capabilities.%s[%zu]: unknown capability \"%s\"",
                              field, i, names[i]);
      /* Known to libcap but newer than this kernel: nothing to grant. */
      if (v >= count)
        continue;
      *out |= UINT64_C (1) << v;
    }
  return 0;
}

static const char *
cap_display_name (int v, char *buf, size_t len)
{
  char *name = cap_to_name (v);
  size_t i = 0;

  if (name != NULL)
    {
      for (; name[i] && i + 1 < len; i++)
        buf[i] = (char) toupper ((unsigned char) name[i]);
      cap_free (name);
    }
  buf[i] = '\0';
  return buf;
}

static int
check_subset (uint64_t set, uint64_t within, const char *set_name, const char *within_name,
              crt_error **err)
{
  uint64_t extra = set & ~within;
  char name[64];

  if (extra == 0)
    return 0;
  return crt_error_set (err, 0, "process.capabilities.%s: %s must also be in %s", set_name,
                        cap_display_name (__builtin_ctzll (extra), name, sizeof (name)),
                        within_name);
}

int
crt_caps_resolve (const crt_capabilities *caps, crt_cap_sets *out, crt_error **err)
{
  memset (out, 0, sizeof (*out));
  if (caps == NULL)
    return 0;
  if (resolve_list (caps->bounding, caps->n_bounding, "bounding", &out->bounding, err) < 0
      || resolve_list (caps->effective, caps->n_effective, "effective", &out->effective, err) < 0
      || resolve_list (caps->permitted, caps->n_permitted, "permitted", &out->permitted, err) < 0
      || resolve_list (caps->inheritable, caps->n_inheritable, "inheritable",
                       &out->inheritable, err) < 0
      || resolve_list (caps->ambient, caps->n_ambient, "ambient", &out->ambient, err) < 0)
    return -1;
  /* The kernel refuses this with a bare EPERM; name the culprit. */
  if (check_subset (out->effective, out->permitted, "effective", "permitted", err) < 0)
    return -1;
  /* The kernel only lets an ambient capability in when it is permitted
   * and inheritable. `runc spec` lists ambient ones without inheritable,
   * and runc and crun skip what cannot be raised, so skip it too. */
  out->ambient &= out->permitted & out->inheritable;
  return 0;
}

/* Whether CAP_SETPCAP is in our effective set: then dropping a
 * capability that is gone already succeeds too. */
static bool
have_setpcap (void)
{
  cap_t caps = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;

  if (caps != NULL)
    {
      cap_get_flag (caps, CAP_SETPCAP, CAP_EFFECTIVE, &v);
      cap_free (caps);
    }
  return v == CAP_SET;
}

int
crt_caps_drop_bounding (const crt_cap_sets *sets, crt_error **err)
{
  int count = kernel_cap_count ();
  /* With CAP_SETPCAP (the usual root init) each drop is one prctl; a
   * read before each would double them. */
  bool check_first = !have_setpcap ();

  for (int v = 0; v < count; v++)
    {
      char name[64];

      if (sets->bounding & (UINT64_C (1) << v))
        continue;
      /* Already gone (e.g. `crt exec` into a container): dropping again
       * would needlessly require CAP_SETPCAP. */
      if (check_first && cap_get_bound (v) == 0)
        continue;
      if (cap_drop_bound (v) < 0)
        return crt_error_errno (err, "drop %s from the bounding set",
                                cap_display_name (v, name, sizeof (name)));
    }
  return 0;
}

static void
cap_state_freep (cap_t *caps)
{
  if (*caps != NULL)
    cap_free (*caps);
}

static int
add_flags (cap_t caps, cap_flag_t flag, uint64_t bits, int count)
{
  for (int v = 0; v < count; v++)
    {
      cap_value_t value = v;

      if (!(bits & (UINT64_C (1) << v)))
        continue;
      if (cap_set_flag (caps, flag, 1, &value, CAP_SET) < 0)
        return -1;
    }
  return 0;
}

int
crt_caps_apply (const crt_cap_sets *sets, crt_error **err)
{
  __attribute__ ((cleanup (cap_state_freep))) cap_t caps = cap_init ();
  int count = kernel_cap_count ();

  if (caps == NULL)
    return crt_error_errno (err, "allocate capability state");
  if (add_flags (caps, CAP_EFFECTIVE, sets->effective, count) < 0
      || add_flags (caps, CAP_PERMITTED, sets->permitted, count) < 0
      || add_flags (caps, CAP_INHERITABLE, sets->inheritable, count) < 0)
    return crt_error_errno (err, "build capability state");
  /* EPERM here means effective is not within permitted, or inheritable
   * not within bounding. */
  if (cap_set_proc (caps) < 0)
    return crt_error_errno (err, "set effective, permitted and inheritable capabilities");

  /* The ambient set is what survives execve for a non-root user; start it
   * empty so it holds exactly what was asked. */
  /* One prctl (libcap's cap_reset_ambient reads every capability first).
   * A kernel without ambient capabilities (before 4.3) has none to clear. */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && !(errno == EINVAL && sets->ambient == 0))
    return crt_error_errno (err, "clear the ambient capability set");
  for (int v = 0; v < count; v++)
    {
      char name[64];

      if (!(sets->ambient & (UINT64_C (1) << v)))
        continue;
      if (cap_set_ambient (v, CAP_SET) < 0)
        return crt_error_errno (err, "raise ambient capability %s (it must be permitted and "
                                "inheritable)", cap_display_name (v, name, sizeof (name)));
    }
  return 0;
}
