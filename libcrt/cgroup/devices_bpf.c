/* The device allowlist as a cgroup v2 eBPF program, written instruction
 * by instruction (no libbpf, no compiler at run time).
 *
 * cgroup v1's devices controller kept a list where each rule grants or
 * takes away some of m, r, w, and a request for several (open O_RDWR
 * asks r and w at once) needs all of them. The program decides each
 * requested access bit on its own: the last rule that names the device
 * and that bit wins, no rule means deny. */
#include "config.h"
#include "devices_bpf.h"
#include "../util/cache_dir.h"
#include "../util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i)                                                                     \
  ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
/* dst = *(u32 *) (src + off) */
#define LDX_W(dst, src, off) INSN (BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN (BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_IMM(dst, imm) INSN (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
/* 32-bit compares: majors and minors are u32 and imm is a signed s32. */
#define JMP32_IMM(op, dst, imm, off) INSN (BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define JA(off) INSN (BPF_JMP | BPF_JA, 0, 0, off, 0)
#define EXIT() INSN (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: R0 the verdict, R1 the context, R_TMP the one field being
 * compared. Every compare reads its field from the context afresh: a
 * register that kept a value known on some paths (the one they matched)
 * would make the verifier's states differ where the paths join, and it
 * would walk every combination of rules of the three access bits (a
 * quarter of crt run's CPU time with cgroups on). With R_TMP dead at
 * every join, the paths are pruned there. */
enum { R0 = 0, R1 = 1, R_TMP = 2 };

/* struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor */
enum { CTX_ACCESS_TYPE = 0, CTX_MAJOR = 4, CTX_MINOR = 8 };

#define WILDCARD (-1)

/* One rule, checked and normalised. */
typedef struct dev_rule
{
  bool allow;
  int type;             /* BPF_DEVCG_DEV_*, 0 for all */
  int64_t major;        /* WILDCARD or 0..UINT32_MAX */
  int64_t minor;
  int access;           /* BPF_DEVCG_ACC_* bits */
} dev_rule;

/* runc's AllowedDevices: what a container's default /dev needs, and
 * mknod of any node (opening it still needs a rule). Appended after the
 * config's rules, so they hold under a "deny all" rule. */
#define RWM (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
static const dev_rule default_rules[] = {
  { true, BPF_DEVCG_DEV_CHAR, WILDCARD, WILDCARD, BPF_DEVCG_ACC_MKNOD },
  { true, BPF_DEVCG_DEV_BLOCK, WILDCARD, WILDCARD, BPF_DEVCG_ACC_MKNOD },
  { true, BPF_DEVCG_DEV_CHAR, 1, 3, RWM },     /* null */
  { true, BPF_DEVCG_DEV_CHAR, 1, 8, RWM },     /* random */
  { true, BPF_DEVCG_DEV_CHAR, 1, 7, RWM },     /* full */
  { true, BPF_DEVCG_DEV_CHAR, 5, 0, RWM },     /* tty */
  { true, BPF_DEVCG_DEV_CHAR, 1, 5, RWM },     /* zero */
  { true, BPF_DEVCG_DEV_CHAR, 1, 9, RWM },     /* urandom */
  { true, BPF_DEVCG_DEV_CHAR, 136, WILDCARD, RWM }, /* pts, and the console on one */
  { true, BPF_DEVCG_DEV_CHAR, 5, 2, RWM },     /* ptmx */
  { true, BPF_DEVCG_DEV_CHAR, 10, 200, RWM },  /* net/tun */
};

static int
normalise (const crt_device_cgroup *d, size_t i, dev_rule *out, crt_error **err)
{
  const char *access = d->access ? d->access : "rwm";

  out->allow = d->allow;
  switch (d->type ? d->type : 'a')
    {
    case 'a': out->type = 0; break;
    case 'c': out->type = BPF_DEVCG_DEV_CHAR; break;
    case 'b': out->type = BPF_DEVCG_DEV_BLOCK; break;
    default:
      return crt_error_set (err, 0, "[%zu].type: `%c` is not a, b or c", i, d->type);
    }
  out->major = d->major.set ? d->major.value : WILDCARD;
  out->minor = d->minor.set ? d->minor.value : WILDCARD;
  if (out->major < WILDCARD || out->major > UINT32_MAX || out->minor < WILDCARD
      || out->minor > UINT32_MAX)
    return crt_error_set (err, 0, "[%zu]: bad device number %" PRId64 ":%" PRId64, i,
                          out->major, out->minor);
  /* "a" covers every device, whatever numbers come with it (as in v1). */
  if (out->type == 0)
    out->major = out->minor = WILDCARD;
  out->access = 0;
  for (const char *c = access; *c; c++)
    switch (*c)
      {
      case 'm': out->access |= BPF_DEVCG_ACC_MKNOD; break;
      case 'r': out->access |= BPF_DEVCG_ACC_READ; break;
      case 'w': out->access |= BPF_DEVCG_ACC_WRITE; break;
      default:
        return crt_error_set (err, 0, "[%zu].access: `%s` is not a subset of rwm", i, access);
      }
  return 0;
}

typedef struct program
{
  struct bpf_insn *insns;
  size_t n, cap;
} program;

static size_t
emit (program *p, struct bpf_insn insn)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 256;
      p->insns = crt_xreallocarray (p->insns, p->cap, sizeof (*p->insns));
    }
  p->insns[p->n] = insn;
  return p->n++;
}

/* Point the jump at index `from` to the next instruction to be emitted. */
static int
land_here (program *p, size_t from, crt_error **err)
{
  size_t off = p->n - from - 1;
  if (off > INT16_MAX)
    return crt_error_set (err, E2BIG, "too many device rules for one program");
  p->insns[from].off = (int16_t) off;
  return 0;
}

/* The code deciding one access bit: rules from last to first. */
static int
emit_bit (program *p, const dev_rule *rules, size_t n, int bit, crt_error **err)
{
  cleanup_free size_t *to_done = crt_xmalloc0 ((n + 1) * sizeof (size_t));
  size_t n_done = 0;
  bool decided = false;

  emit (p, LDX_W (R_TMP, R1, CTX_ACCESS_TYPE));
  emit (p, ALU32_IMM (BPF_RSH, R_TMP, 16));
  emit (p, ALU32_IMM (BPF_AND, R_TMP, bit));
  to_done[n_done++] = emit (p, JMP32_IMM (BPF_JEQ, R_TMP, 0, 0));
  for (size_t i = n; i-- > 0 && !decided;)
    {
      const dev_rule *r = &rules[i];
      size_t to_next[3];
      size_t n_next = 0;

      if (!(r->access & bit))
        continue;
      if (r->type != 0)
        {
          emit (p, LDX_W (R_TMP, R1, CTX_ACCESS_TYPE));
          emit (p, ALU32_IMM (BPF_AND, R_TMP, 0xffff));
          to_next[n_next++] = emit (p, JMP32_IMM (BPF_JNE, R_TMP, r->type, 0));
        }
      if (r->major != WILDCARD)
        {
          emit (p, LDX_W (R_TMP, R1, CTX_MAJOR));
          to_next[n_next++] = emit (p, JMP32_IMM (BPF_JNE, R_TMP, (int32_t) (uint32_t) r->major, 0));
        }
      if (r->minor != WILDCARD)
        {
          emit (p, LDX_W (R_TMP, R1, CTX_MINOR));
          to_next[n_next++] = emit (p, JMP32_IMM (BPF_JNE, R_TMP, (int32_t) (uint32_t) r->minor, 0));
        }
      /* A rule for every device ends the walk: earlier rules never count. */
      decided = n_next == 0;
      if (r->allow && !decided)
        to_done[n_done++] = emit (p, JA (0));
      else if (!r->allow)
        {
          emit (p, MOV64_IMM (R0, 0));
          emit (p, EXIT ());
        }
      for (size_t j = 0; j < n_next; j++)
        if (land_here (p, to_next[j], err) < 0)
          return -1;
    }
  if (!decided)
    {
      emit (p, MOV64_IMM (R0, 0));
      emit (p, EXIT ());
    }
  for (size_t j = 0; j < n_done; j++)
    if (land_here (p, to_done[j], err) < 0)
      return -1;
  return 0;
}

static int
build (const dev_rule *rules, size_t n, program *p, crt_error **err)
{
  static const int bits[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };

  for (size_t b = 0; b < CRT_ARRAY_SIZE (bits); b++)
    if (emit_bit (p, rules, n, bits[b], err) < 0)
      return -1;
  emit (p, MOV64_IMM (R0, 1));
  emit (p, EXIT ());
  return 0;
}

static int
bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof (*attr));
}

static int
load (const program *p, crt_error **err)
{
  static char log[16384];
  union bpf_attr attr;
  int fd;

  memset (&attr, 0, sizeof (attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) p->insns;
  attr.insn_cnt = (uint32_t) p->n;
  attr.license = (uint64_t) (uintptr_t) "GPL";
  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0 || errno != EINVAL)
    return fd >= 0 ? fd : crt_error_errno (err, "load the eBPF device program");
  /* Rejected by the verifier: load again for its reasons. */
  attr.log_buf = (uint64_t) (uintptr_t) log;
  attr.log_size = sizeof (log);
  attr.log_level = 1;
  log[0] = '\0';
  fd = bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  return crt_error_errno (err, "load the eBPF device program (%s)", log);
}

/* ---- programs pinned in bpffs ----
 *
 * Kept pinned in the host's bpffs, the program the kernel has verified
 * already is attached to the next container with the same rules instead
 * of being loaded again: that verification is most of what a cgroup
 * costs crt (0.7 ms for runc's default rules on the development machine,
 * more than the mkdir, attach and rmdir together). Under PIN_DIR (made
 * 0700 root), one object per program, named by the hash and length of
 * its instructions. Only where a bpffs is mounted at /sys/fs/bpf
 * (systemd mounts one) and crt runs as root; elsewhere every container
 * loads its own. The CRT_CACHE_DIR_KEEP pins used last are kept, older
 * ones unpinned when a new one is made (util/cache_dir.h), as in the
 * seccomp cache; `rm -r /sys/fs/bpf/crt` empties it (crt(8)
 * FILES). */

#define BPFFS "/sys/fs/bpf"
#define PIN_DIR BPFFS "/crt"

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

/* The program pinned at path, or -1 (none, or not one crt pinned). */
static int
pinned (const char *path)
{
  struct bpf_prog_info info;
  union bpf_attr attr;
  struct stat st;
  int fd;

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

/* The program of p: the one pinned for its instructions, or loaded now
 * and pinned (best effort: a failure only means the next container
 * loads its own; EEXIST, another crt pinned it meanwhile). */
static int
load_or_reuse (const program *p, crt_error **err)
{
  size_t size = p->n * sizeof (*p->insns);
  bool pinning = pin_dir_ready ();
  union bpf_attr attr;
  char path[64];
  int fd;

  snprintf (path, sizeof (path), PIN_DIR "/dev-%016llx-%zu",
            (unsigned long long) crt_hash64 (p->insns, size), size);
  fd = pinning ? pinned (path) : -1;
  if (fd >= 0)
    {
      crt_cache_dir_touch (AT_FDCWD, path);
      return fd;
    }
  fd = load (p, err);
  if (fd < 0 || !pinning)
    return fd;
  memset (&attr, 0, sizeof (attr));
  attr.pathname = (uint64_t) (uintptr_t) path;
  attr.bpf_fd = (uint32_t) fd;
  if (bpf (BPF_OBJ_PIN, &attr) == 0)
    {
      cleanup_close int dirfd = open (PIN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

      (void) chmod (path, 0600);
      /* Unpinning leaves a program attached to a cgroup alive there. */
      if (dirfd >= 0)
        crt_cache_dir_trim (dirfd, CRT_CACHE_DIR_KEEP, path + sizeof (PIN_DIR));
    }
  return fd;
}

/* The kernel's id of a loaded program, 0 if it cannot tell. */
static uint32_t
prog_id (int prog_fd)
{
  struct bpf_prog_info info;
  return prog_info (prog_fd, &info) ? info.id : 0;
}

/* Ids of the device programs attached to the cgroup itself. */
static int
query (int cgroup_fd, uint32_t *ids, uint32_t *n, crt_error **err)
{
  union bpf_attr attr;

  memset (&attr, 0, sizeof (attr));
  attr.query.target_fd = (uint32_t) cgroup_fd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t) (uintptr_t) ids;
  attr.query.prog_cnt = *n;
  if (bpf (BPF_PROG_QUERY, &attr) < 0)
    return crt_error_errno (err, "query the cgroup's device programs");
  *n = attr.query.prog_cnt;
  return 0;
}

static int
detach (int cgroup_fd, uint32_t id, crt_error **err)
{
  union bpf_attr attr;
  cleanup_close int prog_fd = -1;

  memset (&attr, 0, sizeof (attr));
  attr.prog_id = id;
  prog_fd = bpf (BPF_PROG_GET_FD_BY_ID, &attr);
  if (prog_fd < 0)
    return errno == ENOENT ? 0 : crt_error_errno (err, "open device program %" PRIu32, id);
  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t) cgroup_fd;
  attr.attach_bpf_fd = (uint32_t) prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (bpf (BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
    return crt_error_errno (err, "detach the previous device program %" PRIu32, id);
  return 0;
}

int
crt_devices_bpf_apply (int cgroup_dirfd, const crt_device_cgroup *rules, size_t n,
                       crt_error **err)
{
  size_t n_all = n + CRT_ARRAY_SIZE (default_rules);
  cleanup_free dev_rule *all = crt_xmalloc0 (n_all * sizeof (dev_rule));
  cleanup_free struct bpf_insn *insns = NULL;
  cleanup_close int prog_fd = -1;
  program p = { 0 };
  uint32_t old[64];
  uint32_t n_old = CRT_ARRAY_SIZE (old), id;
  bool attached = false;
  union bpf_attr attr;
  int r;

  for (size_t i = 0; i < n; i++)
    if (normalise (&rules[i], i, &all[i], err) < 0)
      return -1;
  memcpy (all + n, default_rules, sizeof (default_rules));
  r = build (all, n_all, &p, err);
  insns = p.insns;
  if (r < 0)
    return -1;
  prog_fd = load_or_reuse (&p, err);
  if (prog_fd < 0)
    return -1;
  id = prog_id (prog_fd);
  if (query (cgroup_dirfd, old, &n_old, err) < 0)
    return -1;
  for (uint32_t i = 0; i < n_old; i++)
    attached |= id != 0 && old[i] == id;
  /* The new program goes on before the old ones come off, so no device
   * is ever open to the container in between. (The same rules again, at
   * `update`, is the same pinned program: attached already, it stays.) */
  memset (&attr, 0, sizeof (attr));
  attr.target_fd = (uint32_t) cgroup_dirfd;
  attr.attach_bpf_fd = (uint32_t) prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (!attached && bpf (BPF_PROG_ATTACH, &attr) < 0)
    return crt_error_errno (err, "attach the eBPF device program");
  for (uint32_t i = 0; i < n_old; i++)
    if (old[i] != id && detach (cgroup_dirfd, old[i], err) < 0)
      return -1;
  return 0;
}
