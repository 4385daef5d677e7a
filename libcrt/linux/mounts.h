/* Internal pieces of the rootfs module: mount options, single mounts,
 * device nodes. The entry points are in rootfs.h. */
#ifndef CRT_MOUNTS_H
#define CRT_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../spec/spec.h"
#include "rootfs.h"

/* runtime-spec mount options, sorted by how they are applied. */
typedef struct crt_mount_opts
{
  unsigned long flags;          /* MS_* for mount(2) of a new filesystem */
  /* Per-mount attributes for bind mounts (mount_setattr, top mount
   * only): set and explicitly cleared MOUNT_ATTR_* bits. */
  uint64_t attr_set, attr_clr;
  /* The r* options: mount_setattr with AT_RECURSIVE. */
  uint64_t rattr_set, rattr_clr;
  unsigned long propagation[8]; /* MS_SHARED... (| MS_REC), in order */
  size_t n_propagation;
  bool bind, rbind, tmpcopyup, idmap, ridmap;
  bool src_nofollow;            /* a symlink source is bound itself */
  bool copy_symlink;            /* a symlink source is re-created */
  char *data;                   /* unknown options, "a,b=c", or NULL */
} crt_mount_opts;

/* Parse mounts[].options; unknown options go to ->data. */
int crt_mount_opts_parse (char *const *options, size_t n, crt_mount_opts *out, crt_error **err);
void crt_mount_opts_free (crt_mount_opts *o);

/* Every mount option name the parser knows (NULL-terminated), for
 * `crt features`. */
const char *const *crt_mount_option_names (void);

/* rootfsPropagation ("rshared", "slave", ...) -> MS_* | MS_REC; 0 when
 * the name is unknown. */
unsigned long crt_propagation_from_name (const char *name);

/* linux.rootfsPropagation as MS_* | MS_REC (MS_PRIVATE | MS_REC when
 * absent). */
int crt_rootfs_propagation (const crt_spec *spec, unsigned long *flags, crt_error **err);

/* mount_setattr(fd, "", AT_EMPTY_PATH | flags) with these attributes. */
int crt_mount_setattr (int fd, unsigned int flags, uint64_t set, uint64_t clr,
                       uint64_t propagation);

/* Is a bind source (a host path) a directory, so that its target is
 * made as one? A missing source counts as one. */
bool crt_mount_source_is_directory (const char *path, bool nofollow);

/* Mount spec->mounts[index] inside rootfd. crt_cwd: crt's cwd (O_PATH),
 * where a mount through "." comes back to, or -1 for the /proc/self/fd
 * way (mounts.c). */
int crt_mount_one (int rootfd, int crt_cwd, const crt_spec *spec, size_t index,
                   const crt_rootfs_options *opts, crt_error **err);

/* A user namespace fd with these mappings (idmapped mounts). */
int crt_idmap_userns (const crt_id_mapping *uids, size_t n_uids, const crt_id_mapping *gids,
                      size_t n_gids, crt_error **err);

/* Copy the contents of directory srcfd into directory dstfd (tmpcopyup). */
int crt_copy_tree (int srcfd, int dstfd, crt_error **err);

#endif
