/* Pinned device programs; see devices_bpf_pin.h. */
#include "config.h"
#include "devices_bpf_pin.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BPFFS "/sys/fs/bpf"
#define PIN_DIR BPFFS "/crt"

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

/* PIN_DIR, made if missing, when it is a bpffs directory only root can
 * write: what is pinned there is what crt pinned. */
static bool
pin_dir_ready (void)
{
  struct statfs fs;
  struct stat st;

  if (geteuid () != 0 || statfs (BPFFS, &fs) < 0 || fs.f_type != BPF_FS_MAGIC)
    return false;
  if (mkdir (PIN_DIR, 0700) < 0 && errno != EEXIST)
    return false;
  return lstat (PIN_DIR, &st) == 0 && S_ISDIR (st.st_mode) && st.st_uid == 0
         && (st.st_mode & 077) == 0;
}

static void
pin_path (const void *insns, size_t size, char path[64])
{
  snprintf (path, 64, PIN_DIR "/dev-%016llx-%zu",
            (unsigned long long) crt_hash64 (insns, size), size);
}

static bool
prog_info (int prog_fd, struct bpf_prog_info *info)
{
  union bpf_attr attr;

  memset (info, 0, sizeof (*info));
  memset (&attr, 0, sizeof (attr));
  attr.info.bpf_fd = (uint32_t) prog_fd;
  attr.info.info_len = sizeof (*info);
  attr.info.info = (uint64_t) (uintptr_t) info;
  return bpf (BPF_OBJ_GET_INFO_BY_FD, &attr) == 0;
}

uint32_t
crt_bpf_prog_id (int prog_fd)
{
  struct bpf_prog_info info;
  return prog_info (prog_fd, &info) ? info.id : 0;
}

int
crt_devices_bpf_pinned (const void *insns, size_t size)
{
  struct bpf_prog_info info;
  union bpf_attr attr;
  char path[64];
  struct stat st;
  int fd;

  if (!pin_dir_ready ())
    return -1;
  pin_path (insns, size, path);
  /* Ours: a file root made, no link swapped in. */
  if (lstat (path, &st) < 0 || !S_ISREG (st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
    return -1;
  memset (&attr, 0, sizeof (attr));
  attr.pathname = (uint64_t) (uintptr_t) path;
  fd = bpf (BPF_OBJ_GET, &attr);
  if (fd < 0)
    return -1;
  /* And what the kernel holds there is a device program (with no maps,
   * as crt's are). */
  if (!prog_info (fd, &info) || info.type != BPF_PROG_TYPE_CGROUP_DEVICE || info.nr_map_ids != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

void
crt_devices_bpf_pin (int prog_fd, const void *insns, size_t size)
{
  union bpf_attr attr;
  char path[64];

  if (!pin_dir_ready ())
    return;
  pin_path (insns, size, path);
  memset (&attr, 0, sizeof (attr));
  attr.pathname = (uint64_t) (uintptr_t) path;
  attr.bpf_fd = (uint32_t) prog_fd;
  /* EEXIST: another crt pinned the same program meanwhile. */
  if (bpf (BPF_OBJ_PIN, &attr) == 0)
    (void) chmod (path, 0600);
}
