/* The systemd driver's unit: its name and slice from linux.cgroupsPath,
 * and where systemd puts it in the hierarchy. */
#include "config.h"
#include "systemd.h"
#include "../util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLICE_SUFFIX ".slice"

void
crt_sd_unit_clear (crt_sd_unit *u)
{
  free (u->slice);
  free (u->unit);
  free (u->cgroup);
  memset (u, 0, sizeof (*u));
}

int
crt_sd_expand_slice (const char *slice, char **out, crt_error **err)
{
  size_t len = strlen (slice), slen = strlen (SLICE_SUFFIX);
  cleanup_free char *name = NULL;
  cleanup_free char *path = NULL;
  size_t start = 0;

  *out = NULL;
  if (len <= slen || strcmp (slice + len - slen, SLICE_SUFFIX) != 0 || strchr (slice, '/'))
    return crt_error_set (err, 0, "invalid slice name `%s`", slice);
  name = crt_xstrndup (slice, len - slen);
  if (strcmp (name, "-") == 0)
    {
      *out = crt_xstrdup ("/");
      return 0;
    }
  /* Each dash-separated component is one level: "a-b" is a.slice/a-b.slice. */
  path = crt_xstrdup ("");
  for (size_t i = 0;; i++)
    if (name[i] == '-' || name[i] == '\0')
      {
        char *next;
        if (i == start)
          return crt_error_set (err, 0, "invalid slice name `%s`", slice);
        next = crt_fmt ("%s/%.*s" SLICE_SUFFIX, path, (int) i, name);
        free (path);
        path = next;
        if (name[i] == '\0')
          break;
        start = i + 1;
      }
  *out = crt_steal_ptr (&path);
  return 0;
}

/* What systemd accepts in a unit name (unit-name.c: VALID_CHARS). */
static bool
valid_unit_part (const char *s)
{
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
          || strchr ("_.-\\@", *c)))
      return false;
  return true;
}

int
crt_sd_unit_from_path (const char *cgroups_path, const char *id, crt_sd_unit *out,
                       crt_error **err)
{
  cleanup_free char *copy = NULL;
  cleanup_free char *slice_dir = NULL;
  const char *slice, *prefix, *name;
  char *c1, *c2;

  memset (out, 0, sizeof (*out));
  if (cgroups_path == NULL || cgroups_path[0] == '\0')
    copy = crt_fmt ("system.slice:crt:%s", id);
  else
    copy = crt_xstrdup (cgroups_path);
  c1 = strchr (copy, ':');
  c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  if (c1 == NULL || c2 == NULL || strchr (c2 + 1, ':'))
    return crt_error_set (err, 0,
                          "config.json: linux.cgroupsPath: `%s`: the systemd cgroup driver "
                          "wants \"slice:prefix:name\" (e.g. system.slice:crt:%s)",
                          cgroups_path, id);
  *c1 = *c2 = '\0';
  slice = copy[0] ? copy : "system.slice";
  prefix = c1 + 1;
  name = c2 + 1;
  if (name[0] == '\0' || !valid_unit_part (name) || !valid_unit_part (prefix))
    return crt_error_set (err, 0,
                          "config.json: linux.cgroupsPath: `%s`: prefix and name must be "
                          "non-empty unit name parts ([A-Za-z0-9_.-])",
                          cgroups_path);
  if (strlen (name) > strlen (SLICE_SUFFIX)
      && strcmp (name + strlen (name) - strlen (SLICE_SUFFIX), SLICE_SUFFIX) == 0)
    return crt_error_set (err, 0,
                          "config.json: linux.cgroupsPath: `%s`: a slice as the container's "
                          "unit is not supported (crt makes a scope)",
                          cgroups_path);
  if (crt_sd_expand_slice (slice, &slice_dir, err) < 0)
    return crt_error_prefix (err, "config.json: linux.cgroupsPath: `%s`", cgroups_path);
  out->slice = crt_xstrdup (slice);
  out->unit = prefix[0] ? crt_fmt ("%s-%s.scope", prefix, name) : crt_fmt ("%s.scope", name);
  out->cgroup = crt_fmt ("%s%s%s", slice_dir, strcmp (slice_dir, "/") == 0 ? "" : "/", out->unit);
  if (strlen (out->unit) > 255)
    {
      crt_sd_unit_clear (out);
      return crt_error_set (err, 0,
                            "config.json: linux.cgroupsPath: `%s`: the unit name is longer "
                            "than systemd's 255 characters",
                            cgroups_path);
    }
  return 0;
}
