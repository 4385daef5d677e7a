/* config.json: top level, root, mounts, hooks, annotations; the public
 * parse, load and free entry points. */
#include "config.h"
#include "spec.h"
#include "parse.h"
#include "util/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static const jfield root_fields[] = {
  JF (crt_root, "path", J_STR, path, .required = true),
  JF (crt_root, "readonly", J_BOOL, readonly),
  JEND,
};
static const jtype root_type = { root_fields, sizeof (crt_root), NULL };

/* Relative destinations are deprecated but allowed: the spec says they
 * are relative to "/", so they are stored made absolute here and users of
 * crt_mount never see a relative one. */
static int
check_mount (jctx *c, yajl_val v, void *base)
{
  crt_mount *m = base;

  if (m->destination[0] == '\0')
    return jctx_fail_at (c, "destination", "must not be empty");
  if (m->destination[0] != '/')
    {
      char *abs = crt_fmt ("/%s", m->destination);
      free (m->destination);
      m->destination = abs;
    }
  return 0;
}

static const jfield mount_fields[] = {
  JF (crt_mount, "destination", J_STR, destination, .required = true),
  JF (crt_mount, "type", J_STR, type),
  JF (crt_mount, "source", J_STR, source),
  JL (crt_mount, "options", J_STRV, options),
  JL (crt_mount, "uidMappings", J_ARRAY, uid_mappings, .type = &crt_jt_id_mapping),
  JL (crt_mount, "gidMappings", J_ARRAY, gid_mappings, .type = &crt_jt_id_mapping),
  JEND,
};
static const jtype mount_type = { mount_fields, sizeof (crt_mount), check_mount };

static const jfield hook_fields[] = {
  JF (crt_hook, "path", J_STR, path, .required = true),
  JL (crt_hook, "args", J_STRV, args),
  JL (crt_hook, "env", J_STRV, env),
  /* "If set, timeout MUST be greater than zero." */
  JF (crt_hook, "timeout", J_OPT_I64, timeout, .ranged = true, .min = 1, .max = INT32_MAX),
  JEND,
};
static const jtype hook_type = { hook_fields, sizeof (crt_hook), NULL };

#define HOOKS(k, kind) JL (crt_hooks, k, J_ARRAY, hooks[kind], .type = &hook_type)
static const jfield hooks_fields[] = {
  HOOKS ("prestart", CRT_HOOK_PRESTART),
  HOOKS ("createRuntime", CRT_HOOK_CREATE_RUNTIME),
  HOOKS ("createContainer", CRT_HOOK_CREATE_CONTAINER),
  HOOKS ("startContainer", CRT_HOOK_START_CONTAINER),
  HOOKS ("poststart", CRT_HOOK_POSTSTART),
  HOOKS ("poststop", CRT_HOOK_POSTSTOP),
  JEND,
};
static const jtype hooks_type = { hooks_fields, sizeof (crt_hooks), NULL };

/* SemVer with major 1: "1.2.0", "1.0.2-dev", "1.3.0+git". */
static bool
version_1x (const char *v)
{
  const char *p = v;

  for (int part = 0; part < 3; part++)
    {
      const char *start = p;
      while (isdigit ((unsigned char) *p))
        p++;
      if (p == start)
        return false;
      if (part == 0 && (p - start != 1 || *start != '1'))
        return false;
      if (part < 2 && *p++ != '.')
        return false;
    }
  return *p == '\0' || *p == '-' || *p == '+';
}

static int
check_spec (jctx *c, yajl_val v, void *base)
{
  crt_spec *s = base;

  if (!version_1x (s->oci_version))
    return jctx_fail_at (c, "ociVersion", "unsupported version \"%s\"", s->oci_version);
  return 0;
}

static const jfield spec_fields[] = {
  JF (crt_spec, "ociVersion", J_STR, oci_version, .required = true),
  JF (crt_spec, "process", J_OBJ, process, .type = &crt_jt_process),
  JF (crt_spec, "root", J_OBJ, root, .type = &root_type),
  JF (crt_spec, "hostname", J_STR, hostname),
  JF (crt_spec, "domainname", J_STR, domainname),
  JL (crt_spec, "mounts", J_ARRAY, mounts, .type = &mount_type),
  JF (crt_spec, "hooks", J_OBJ, hooks, .type = &hooks_type),
  JL (crt_spec, "annotations", J_MAP_STR, annotations),
  JF (crt_spec, "linux", J_OBJ, linux_, .type = &crt_jt_linux),
  JEND,
};
static const jtype spec_type = { spec_fields, sizeof (crt_spec), check_spec };

/* Parse text as one object of type t into a new struct. */
static int
parse_as (const jtype *t, const char *json, size_t len, const char *origin, void **out,
          crt_error **err)
{
  jctx c = { .origin = origin ? origin : "config.json", .err = err };
  jarena arena = { 0 };
  yajl_val tree = NULL;
  void *obj;
  int rc;

  *out = NULL;
  if (jparse_text_arena (json, len, c.origin, &tree, &arena, err) < 0)
    {
      jarena_free (&arena);
      return -1;
    }
  obj = crt_xmalloc0 (t->size);
  rc = jparse_object (&c, tree, t, obj);
  jarena_free (&arena);
  if (rc < 0)
    {
      jfree_object (t, obj);
      free (obj);
      return -1;
    }
  *out = obj;
  return 0;
}

int
crt_spec_parse (const char *json, const char *origin, crt_spec **out, crt_error **err)
{
  return parse_as (&spec_type, json, strlen (json), origin, (void **) out, err);
}

int
crt_process_parse (const char *json, const char *origin, crt_process **out, crt_error **err)
{
  return parse_as (&crt_jt_process, json, strlen (json), origin, (void **) out, err);
}

int
crt_resources_parse (const char *json, const char *origin, crt_resources **out,
                     crt_error **err)
{
  return parse_as (&crt_jt_resources, json, strlen (json), origin, (void **) out, err);
}

int
crt_spec_read (const char *path, const char *origin, char **text_out, crt_spec **out,
               crt_error **err)
{
  cleanup_free char *text = NULL;
  const char *base;
  size_t len;

  *out = NULL;
  /* Not crt_read_file_at: a FIFO there would block crt, /dev/zero would
   * fill its memory. */
  if (crt_read_regular_file_at (AT_FDCWD, path, &text, &len, err) < 0)
    return -1;
  /* Messages name the file as users know it: "config.json: ...". The
   * whole buffer is parsed: a NUL byte in it is an error at its place. */
  base = strrchr (path, '/');
  if (parse_as (&spec_type, text, len, origin ? origin : base ? base + 1 : path, (void **) out,
                err) < 0)
    return -1;
  if (text_out)
    *text_out = crt_steal_ptr (&text);
  return 0;
}

int
crt_spec_load (const char *path, crt_spec **out, crt_error **err)
{
  return crt_spec_read (path, NULL, NULL, out, err);
}

void
crt_spec_free (crt_spec *spec)
{
  if (spec == NULL)
    return;
  jfree_object (&spec_type, spec);
  free (spec);
}

void
crt_spec_freep (crt_spec **spec)
{
  crt_spec_free (*spec);
  *spec = NULL;
}

void
crt_process_free (crt_process *p)
{
  if (p == NULL)
    return;
  jfree_object (&crt_jt_process, p);
  free (p);
}

void
crt_resources_free (crt_resources *r)
{
  if (r == NULL)
    return;
  jfree_object (&crt_jt_resources, r);
  free (r);
}
