/* The compiled filter, shared by the compiler (seccomp.c) and its cache
 * (seccomp_cache.c) only. */
#ifndef CRT_LINUX_SECCOMP_FILTER_H
#define CRT_LINUX_SECCOMP_FILTER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

struct crt_seccomp_filter
{
  struct sock_filter *insns;
  size_t n_insns;
  unsigned int flags;           /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool uses_notify;
  char **skipped;               /* unknown syscall names, NULL-terminated */
  size_t n_skipped;
};

/* The kernel refuses longer programs (BPF_MAXINSNS). */
#define CRT_SECCOMP_MAX_INSNS 4096

#endif
