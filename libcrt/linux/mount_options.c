/* runtime-spec mount options ("Linux mount options" in config.md). */
#include "config.h"
#include "mounts.h"
#include "util/util.h"
#include "mount_api.h"

#include <stdlib.h>
#include <string.h>

typedef enum
{
  OPT_FLAG,          /* MS_* and the matching per-mount attribute */
  OPT_RECURSIVE,     /* r*: mount_setattr(AT_RECURSIVE) */
  OPT_PROPAGATION,
  OPT_BIND,
  OPT_RBIND,
  OPT_TMPCOPYUP,
  OPT_IDMAP,
  OPT_RIDMAP,
  OPT_SRC_NOFOLLOW,
  OPT_COPY_SYMLINK,
  OPT_NOTHING,
} opt_kind;

typedef struct
{
  const char *name;
  opt_kind kind;
  unsigned long ms_set, ms_clr;
  uint64_t attr_set, attr_clr;
} opt_entry;

/* Changing the atime mode with mount_setattr means clearing the whole
 * MOUNT_ATTR__ATIME field and setting one value in it. */
#define ATIME(v) (v), MOUNT_ATTR__ATIME
#define ATIME_MS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static const opt_entry table[] = {
  { "defaults", OPT_NOTHING, 0, 0, 0, 0 },
  { "ro", OPT_FLAG, MS_RDONLY, 0, MOUNT_ATTR_RDONLY, 0 },
  { "rw", OPT_FLAG, 0, MS_RDONLY, 0, MOUNT_ATTR_RDONLY },
  { "nosuid", OPT_FLAG, MS_NOSUID, 0, MOUNT_ATTR_NOSUID, 0 },
  { "suid", OPT_FLAG, 0, MS_NOSUID, 0, MOUNT_ATTR_NOSUID },
  { "nodev", OPT_FLAG, MS_NODEV, 0, MOUNT_ATTR_NODEV, 0 },
  { "dev", OPT_FLAG, 0, MS_NODEV, 0, MOUNT_ATTR_NODEV },
  { "noexec", OPT_FLAG, MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC, 0 },
  { "exec", OPT_FLAG, 0, MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC },
  { "sync", OPT_FLAG, MS_SYNCHRONOUS, 0, 0, 0 },
  { "async", OPT_FLAG, 0, MS_SYNCHRONOUS, 0, 0 },
  { "dirsync", OPT_FLAG, MS_DIRSYNC, 0, 0, 0 },
  { "remount", OPT_FLAG, MS_REMOUNT, 0, 0, 0 },
  { "mand", OPT_FLAG, MS_MANDLOCK, 0, 0, 0 },
  { "nomand", OPT_FLAG, 0, MS_MANDLOCK, 0, 0 },
  { "noatime", OPT_FLAG, MS_NOATIME, ATIME_MS, ATIME (MOUNT_ATTR_NOATIME) },
  { "atime", OPT_FLAG, 0, MS_NOATIME, ATIME (MOUNT_ATTR_RELATIME) },
  { "relatime", OPT_FLAG, MS_RELATIME, ATIME_MS, ATIME (MOUNT_ATTR_RELATIME) },
  { "norelatime", OPT_FLAG, 0, MS_RELATIME, ATIME (MOUNT_ATTR_STRICTATIME) },
  { "strictatime", OPT_FLAG, MS_STRICTATIME, ATIME_MS, ATIME (MOUNT_ATTR_STRICTATIME) },
  { "nostrictatime", OPT_FLAG, 0, MS_STRICTATIME, ATIME (MOUNT_ATTR_RELATIME) },
  { "nodiratime", OPT_FLAG, MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME, 0 },
  { "diratime", OPT_FLAG, 0, MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME },
  { "iversion", OPT_FLAG, MS_I_VERSION, 0, 0, 0 },
  { "noiversion", OPT_FLAG, 0, MS_I_VERSION, 0, 0 },
  { "lazytime", OPT_FLAG, MS_LAZYTIME, 0, 0, 0 },
  { "nolazytime", OPT_FLAG, 0, MS_LAZYTIME, 0, 0 },
  { "silent", OPT_FLAG, MS_SILENT, 0, 0, 0 },
  { "loud", OPT_FLAG, 0, MS_SILENT, 0, 0 },
  { "nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW, 0, MOUNT_ATTR_NOSYMFOLLOW, 0 },
  { "symfollow", OPT_FLAG, 0, MS_NOSYMFOLLOW, 0, MOUNT_ATTR_NOSYMFOLLOW },

  { "rro", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_RDONLY, 0 },
  { "rrw", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_RDONLY },
  { "rnosuid", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_NOSUID, 0 },
  { "rsuid", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_NOSUID },
  { "rnodev", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_NODEV, 0 },
  { "rdev", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_NODEV },
  { "rnoexec", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_NOEXEC, 0 },
  { "rexec", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_NOEXEC },
  { "rnoatime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_NOATIME) },
  { "ratime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_RELATIME) },
  { "rrelatime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_RELATIME) },
  { "rnorelatime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_STRICTATIME) },
  { "rstrictatime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_STRICTATIME) },
  { "rnostrictatime", OPT_RECURSIVE, 0, 0, ATIME (MOUNT_ATTR_RELATIME) },
  { "rnodiratime", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_NODIRATIME, 0 },
  { "rdiratime", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", OPT_RECURSIVE, 0, 0, MOUNT_ATTR_NOSYMFOLLOW, 0 },
  { "rsymfollow", OPT_RECURSIVE, 0, 0, 0, MOUNT_ATTR_NOSYMFOLLOW },

  { "private", OPT_PROPAGATION, MS_PRIVATE, 0, 0, 0 },
  { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC, 0, 0, 0 },
  { "shared", OPT_PROPAGATION, MS_SHARED, 0, 0, 0 },
  { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC, 0, 0, 0 },
  { "slave", OPT_PROPAGATION, MS_SLAVE, 0, 0, 0 },
  { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC, 0, 0, 0 },
  { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE, 0, 0, 0 },
  { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC, 0, 0, 0 },

  { "bind", OPT_BIND, 0, 0, 0, 0 },
  { "rbind", OPT_RBIND, 0, 0, 0, 0 },
  { "tmpcopyup", OPT_TMPCOPYUP, 0, 0, 0, 0 },
  { "idmap", OPT_IDMAP, 0, 0, 0, 0 },
  { "ridmap", OPT_RIDMAP, 0, 0, 0, 0 },
  /* crun's: bind a symlink source itself, or copy it (see mounts.c). */
  { "src-nofollow", OPT_SRC_NOFOLLOW, 0, 0, 0, 0 },
  { "copy-symlink", OPT_COPY_SYMLINK, 0, 0, 0, 0 },
};

const char *const *
crt_mount_option_names (void)
{
  /* Filled once from the table, so the list cannot drift from it. */
  static const char *names[CRT_ARRAY_SIZE (table) + 1];

  if (names[0] == NULL)
    for (size_t i = 0; i < CRT_ARRAY_SIZE (table); i++)
      names[i] = table[i].name;
  return names;
}

static const opt_entry *
lookup (const char *name)
{
  for (size_t i = 0; i < CRT_ARRAY_SIZE (table); i++)
    if (strcmp (table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static void
add_attr (uint64_t *set, uint64_t *clr, const opt_entry *e)
{
  *set = (*set & ~e->attr_clr) | e->attr_set;
  *clr |= e->attr_clr;
}

static void
append_data (char **data, const char *opt)
{
  char *longer = *data ? crt_fmt ("%s,%s", *data, opt) : crt_xstrdup (opt);
  free (*data);
  *data = longer;
}

int
crt_mount_opts_parse (char *const *options, size_t n, crt_mount_opts *out, crt_error **err)
{
  memset (out, 0, sizeof (*out));
  for (size_t i = 0; i < n; i++)
    {
      const opt_entry *e = lookup (options[i]);

      if (e == NULL)
        {
          if (options[i][0] == '\0')
            continue;
          append_data (&out->data, options[i]);
          continue;
        }
      switch (e->kind)
        {
        case OPT_FLAG:
          out->flags = (out->flags & ~e->ms_clr) | e->ms_set;
          add_attr (&out->attr_set, &out->attr_clr, e);
          break;
        case OPT_RECURSIVE:
          add_attr (&out->rattr_set, &out->rattr_clr, e);
          break;
        case OPT_PROPAGATION:
          if (out->n_propagation == CRT_ARRAY_SIZE (out->propagation))
            {
              crt_mount_opts_free (out);
              return crt_error_set (err, 0, "too many propagation options");
            }
          out->propagation[out->n_propagation++] = e->ms_set;
          break;
        case OPT_BIND:
          out->bind = true;
          break;
        case OPT_RBIND:
          out->bind = out->rbind = true;
          break;
        case OPT_TMPCOPYUP:
          out->tmpcopyup = true;
          break;
        case OPT_IDMAP:
          out->idmap = true;
          break;
        case OPT_RIDMAP:
          out->idmap = out->ridmap = true;
          break;
        case OPT_SRC_NOFOLLOW:
          out->src_nofollow = true;
          break;
        case OPT_COPY_SYMLINK:
          out->copy_symlink = true;
          break;
        case OPT_NOTHING:
          break;
        }
    }
  return 0;
}

void
crt_mount_opts_free (crt_mount_opts *o)
{
  free (o->data);
  o->data = NULL;
}

unsigned long
crt_propagation_from_name (const char *name)
{
  const opt_entry *e = lookup (name);

  /* The spec names the plain forms; like runc we also take the r* forms.
   * Either way it is applied to the whole tree. */
  if (e == NULL || e->kind != OPT_PROPAGATION)
    return 0;
  return e->ms_set | MS_REC;
}
