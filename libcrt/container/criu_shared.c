/* What checkpoint and restore share: the names of criu's cgroup modes,
 * the image directories, the bind mounts as criu's external mounts and
 * the settings neither can carry over. */
#include "config.h"
#include "criu.h"
#include "../linux/devices.h"
#include "../linux/namespaces.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool
new_userns (const crt_spec *spec)
{
  const crt_namespace *ns = crt_spec_namespace (spec, CRT_NS_USER);
  return ns != NULL && ns->path == NULL;
}

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
crt_criu_empty_ns_parse (char *const *names, uint32_t *mask, crt_error **err)
{
  *mask = 0;
  for (size_t i = 0; names && names[i]; i++)
    {
      /* As runc: criu can leave only the network namespace empty (the
       * engine sets it up again). */
      if (strcmp (names[i], "network") != 0)
        return crt_error_set (err, 0, "--empty-ns: `%s`: only network is supported", names[i]);
      *mask |= CLONE_NEWNET;
    }
  return 0;
}

/* What apply would refuse, refused into options nobody reads: one list
 * of the switches that are parsed. */
int
crt_criu_switches_check (const crt_criu_switches *s, crt_error **err)
{
  crt_criu_opts scratch;

  return crt_criu_switches_apply (s, &scratch, err);
}

int
crt_criu_switches_apply (const crt_criu_switches *s, crt_criu_opts *o, crt_error **err)
{
  o->tcp_established = s->tcp_established;
  o->file_locks = s->file_locks;
  o->ext_unix_sk = s->ext_unix_sk;
  o->shell_job = s->shell_job;
  o->auto_dedup = s->auto_dedup;
  if (crt_criu_empty_ns_parse (s->empty_ns, &o->empty_ns, err) < 0
      || crt_criu_cg_mode_parse (s->manage_cgroups_mode, &o->manage_cgroups_mode, err) < 0)
    return -1;
  return 0;
}

const char *
crt_criu_image_path (const crt_criu_switches *s)
{
  return s->image_path ? s->image_path : "checkpoint";
}

const char *
crt_criu_work_path (const crt_criu_switches *s)
{
  return s->work_path ? s->work_path : crt_criu_image_path (s);
}

int
crt_criu_open_dir (const char *dir, bool make, const char *what, int *fd, crt_error **err)
{
  bool made = false;

  if (make)
    {
      if (mkdir (dir, 0700) == 0)
        made = true;
      else if (errno != EEXIST)
        return crt_error_errno (err, "%s `%s`: create", what, dir);
    }
  *fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0)
    return crt_error_errno (err, "%s `%s`", what, dir);
  return made ? 1 : 0;
}

/* The host ids of a new user namespace's root: false when there is no
 * new one, or its root is unmapped. */
static bool
userns_root (const crt_spec *spec, uid_t *uid, gid_t *gid)
{
  const crt_linux *lx = spec->linux_;
  int64_t u, g;

  if (!new_userns (spec) || lx == NULL)
    return false;
  u = crt_id_map_host (lx->uid_mappings, lx->n_uid_mappings, geteuid (), 0);
  g = crt_id_map_host (lx->gid_mappings, lx->n_gid_mappings, getegid (), 0);
  if (u < 0 || g < 0)
    return false;
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return true;
}

int
crt_criu_images_for_userns (const crt_spec *spec, int image_fd, const char *path, bool made,
                            crt_error **err)
{
  struct stat st;
  uid_t uid;
  gid_t gid;

  if (!userns_root (spec, &uid, &gid))
    return 0;
  if (made)
    {
      /* Its group: the container's root, which may search it (and read
       * its own dump), nobody else. */
      if (fchown (image_fd, (uid_t) -1, gid) < 0 || fchmod (image_fd, 0710) < 0)
        return crt_error_errno (err, "--image-path `%s`: give the container's root (gid %u) "
                                "access", path, (unsigned) gid);
      return 0;
    }
  if (fstat (image_fd, &st) < 0)
    return crt_error_errno (err, "--image-path `%s`", path);
  if ((st.st_mode & S_IXOTH) || (st.st_gid == gid && (st.st_mode & S_IXGRP))
      || (st.st_uid == uid && (st.st_mode & S_IXUSR)))
    return 0;
  return crt_error_set (err, EACCES,
                        "--image-path `%s`: criu's restored tasks open their images as the "
                        "root of the container's user namespace (host uid %u, gid %u), which "
                        "cannot search this directory (criu would fail with \"Unable to open "
                        "...img: Permission denied\"): give it access, e.g. chgrp %u and "
                        "chmod g+x", path, (unsigned) uid, (unsigned) gid, (unsigned) gid);
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

      if (!crt_mount_is_bind (m))
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
  /* In a new user namespace the default devices are binds of the host's
   * nodes (linux/devices.c), external mounts as runc names them: the
   * same host node at restore. */
  if (new_userns (spec))
    for (size_t i = 0; crt_default_device_name (i); i++)
      {
        char *path = crt_fmt ("/dev/%s", crt_default_device_name (i));

        if (o->n_ext_mnt == CRT_CRIU_MAX_LIST)
          {
            free (path);
            return crt_error_set (err, 0, "config.json: mounts: more than %d bind mounts",
                                  CRT_CRIU_MAX_LIST);
          }
        crt_strv_append (owned, &n_owned, path);
        o->ext_mnt[o->n_ext_mnt].key = path;
        o->ext_mnt[o->n_ext_mnt].val = path;
        o->n_ext_mnt++;
      }
  return 0;
}

int
crt_criu_check_spec (const crt_spec *spec, const char *what, crt_error **err)
{
  /* Their nodes are binds of a detached tmpfs crt made at create
   * (linux/devices.c), not paths criu could mount again. */
  if (new_userns (spec) && spec->linux_ && spec->linux_->n_devices > 0)
    return crt_error_set (err, 0,
                          "config.json: linux.devices: %s of a container with a user namespace "
                          "and devices is not supported by crt", what);
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
