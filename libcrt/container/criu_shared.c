/* What checkpoint and restore share: the names of criu's cgroup modes,
 * the image directories, the bind mounts as criu's external mounts and
 * the settings neither can carry over. */
#include "config.h"
#include "criu.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
crt_criu_cg_mode_parse (const char *name, crt_criu_cg_mode *out, crt_error **err)
{
  static const crt_named_value modes[] = {
    { "soft", CRT_CRIU_CG_SOFT },
    { "full", CRT_CRIU_CG_FULL },
    { "strict", CRT_CRIU_CG_STRICT },
    { "ignore", CRT_CRIU_CG_IGNORE },
  };
  unsigned long v;

  *out = CRT_CRIU_CG_UNSET;
  if (name == NULL)
    return 0;
  if (crt_lookup_name (modes, CRT_ARRAY_SIZE (modes), name, &v) < 0)
    return crt_error_set (err, 0,
                          "--manage-cgroups-mode: invalid value \"%s\": want soft, full, "
                          "strict or ignore", name);
  *out = (crt_criu_cg_mode) v;
  return 0;
}

int
crt_criu_open_dir (const char *dir, bool make, const char *what, int *fd, crt_error **err)
{
  if (make && mkdir (dir, 0700) < 0 && errno != EEXIST)
    return crt_error_errno (err, "%s `%s`: create", what, dir);
  *fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0)
    return crt_error_errno (err, "%s `%s`", what, dir);
  return 0;
}

bool
crt_criu_is_bind_mount (const crt_mount *m)
{
  if (m->type && strcmp (m->type, "bind") == 0)
    return true;
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp (m->options[i], "bind") == 0 || strcmp (m->options[i], "rbind") == 0)
      return true;
  return false;
}

char *
crt_criu_bind_source (const crt_mount *m, const char *bundle)
{
  if (m->source == NULL)
    return NULL;
  if (m->source[0] == '/')
    return crt_xstrdup (m->source);
  return crt_fmt ("%s/%s", bundle, m->source);
}

int
crt_criu_ext_mounts (const crt_spec *spec, const char *bundle, crt_criu_opts *o, char ***owned,
                     crt_error **err)
{
  size_t n_owned = crt_strv_len (*owned);

  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const crt_mount *m = &spec->mounts[i];
      char *val;

      if (!crt_criu_is_bind_mount (m))
        continue;
      if (o->n_ext_mnt == CRT_CRIU_MAX_LIST)
        return crt_error_set (err, 0, "config.json: mounts: more than %d bind mounts",
                              CRT_CRIU_MAX_LIST);
      if (bundle == NULL || m->source == NULL)
        val = crt_xstrdup (m->destination);
      else
        val = crt_criu_bind_source (m, bundle);
      crt_strv_append (owned, &n_owned, val);
      o->ext_mnt[o->n_ext_mnt].key = m->destination;
      o->ext_mnt[o->n_ext_mnt].val = val;
      o->n_ext_mnt++;
    }
  return 0;
}

int
crt_criu_check_spec (const crt_spec *spec, const char *what, crt_error **err)
{
  if (crt_spec_namespace (spec, CRT_NS_USER) != NULL)
    return crt_error_set (err, 0,
                          "config.json: linux.namespaces: %s of a container with a user "
                          "namespace is not supported by crt", what);
  if (crt_spec_namespace (spec, CRT_NS_MOUNT) == NULL)
    return crt_error_set (err, 0,
                          "config.json: linux.namespaces: %s needs a mount namespace (criu "
                          "restores the container's mounts in a new one)", what);
  /* criu recreates the namespaces it dumps: a joined one (but the
   * network namespace, which is handed over as external) would come
   * back as a new copy, no longer shared. */
  for (int t = 0; t < CRT_NS__COUNT; t++)
    {
      const crt_namespace *ns = crt_spec_namespace (spec, (crt_ns_type) t);
      if (ns && ns->path && t != CRT_NS_NETWORK)
        return crt_error_set (err, 0,
                              "config.json: linux.namespaces: %s of a container that joins "
                              "the namespace `%s` is not supported (criu would make a new one)",
                              what, ns->path);
    }
  return 0;
}
