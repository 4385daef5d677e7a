/* The new mount API (open_tree, move_mount, fsopen, fsconfig, fsmount,
 * mount_setattr) and statx, wherever crt uses them include this.
 * glibc (2.36 and later) declares them in <sys/mount.h> and <sys/stat.h>;
 * musl (1.2.3, for contrib/musl-build.sh) has neither, so there the
 * constants and structs come from the kernel's headers and the calls are
 * raw syscalls. */
#ifndef CRT_LINUX_MOUNT_API_H
#define CRT_LINUX_MOUNT_API_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>

#ifndef __GLIBC__
# include <linux/mount.h>
# include <sys/syscall.h>
# include <unistd.h>

static inline int
open_tree (int dfd, const char *path, unsigned int flags)
{
  return (int) syscall (SYS_open_tree, dfd, path, flags);
}

static inline int
move_mount (int from_dfd, const char *from_path, int to_dfd, const char *to_path,
            unsigned int flags)
{
  return (int) syscall (SYS_move_mount, from_dfd, from_path, to_dfd, to_path, flags);
}

static inline int
fsopen (const char *fsname, unsigned int flags)
{
  return (int) syscall (SYS_fsopen, fsname, flags);
}

static inline int
fsconfig (int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
  return (int) syscall (SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int
fsmount (int fd, unsigned int flags, unsigned int attr_flags)
{
  return (int) syscall (SYS_fsmount, fd, flags, attr_flags);
}

static inline int
mount_setattr (int dfd, const char *path, unsigned int flags, struct mount_attr *attr,
               size_t size)
{
  return (int) syscall (SYS_mount_setattr, dfd, path, flags, attr, size);
}

/* <linux/stat.h> would redefine musl's S_IF* macros: struct statx is
 * spelled out up to stx_mnt_id (the field crt reads), the rest padding
 * to the kernel's size. */
# ifndef STATX_MNT_ID
#  define STATX_MNT_ID 0x00001000U
# endif
struct statx
{
  uint32_t stx_mask;
  uint32_t stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink;
  uint32_t stx_uid;
  uint32_t stx_gid;
  uint16_t stx_mode;
  uint16_t stx_spare0;
  uint64_t stx_ino;
  uint64_t stx_size;
  uint64_t stx_blocks;
  uint64_t stx_attributes_mask;
  struct { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; } stx_atime, stx_btime,
      stx_ctime, stx_mtime;
  uint32_t stx_rdev_major;
  uint32_t stx_rdev_minor;
  uint32_t stx_dev_major;
  uint32_t stx_dev_minor;
  uint64_t stx_mnt_id;
  uint64_t stx_spare[13];
};

_Static_assert (offsetof (struct statx, stx_mnt_id) == 144 && sizeof (struct statx) == 256,
                "struct statx as the kernel lays it out");

static inline int
statx (int dfd, const char *path, int flags, unsigned int mask, struct statx *buf)
{
  return (int) syscall (SYS_statx, dfd, path, flags, mask, buf);
}
#endif

#endif
