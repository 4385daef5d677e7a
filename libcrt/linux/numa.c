/* Where the container's processes run and allocate: linux.memoryPolicy
 * (set_mempolicy) and process.execCPUAffinity (sched_setaffinity). Kept
 * apart from sched.c: <sched.h> and <linux/sched/types.h> clash. */
#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>


/* Linux 6.9; older headers lack it. */
#ifndef MPOL_WEIGHTED_INTERLEAVE
# define MPOL_WEIGHTED_INTERLEAVE 6
#endif

/* Why set_mempolicy refused, in the host's terms: config.json's rules
 * were checked (validate.c). */
static int
mempolicy_failure (const crt_memory_policy *m, int errnum, crt_error **err)
{
  cleanup_free char *online = NULL;
  unsigned long want[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];
  unsigned long have[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];

  if (errnum == ENOSYS)
    return crt_error_set (err, errnum, "linux.memoryPolicy: this kernel has no NUMA support");
  if (errnum == EINVAL && m->nodes && m->nodes[0]
      && crt_read_file_at (AT_FDCWD, "/sys/devices/system/node/has_memory", &online, NULL,
                           NULL) == 0)
    {
      online[strcspn (online, "\n")] = '\0';
      if (crt_parse_id_list (m->nodes, want, CRT_ID_LIST_BITS, NULL) == 0
          && crt_parse_id_list (online, have, CRT_ID_LIST_BITS, NULL) == 0)
        for (size_t i = 0; i < CRT_ARRAY_SIZE (want); i++)
          if (want[i] & ~have[i])
            return crt_error_set (err, errnum, "linux.memoryPolicy.nodes: \"%s\" names nodes "
                                  "this host does not have (nodes with memory: %s)", m->nodes,
                                  online);
    }
  return crt_error_set (err, errnum, "linux.memoryPolicy: set_mempolicy (%s, nodes \"%s\")",
                        m->mode, m->nodes ? m->nodes : "");
}

int
crt_memory_policy_apply (const crt_memory_policy *m, crt_error **err)
{
  static const crt_named_value modes[] = {
    { "MPOL_DEFAULT", MPOL_DEFAULT },
    { "MPOL_PREFERRED", MPOL_PREFERRED },
    { "MPOL_BIND", MPOL_BIND },
    { "MPOL_INTERLEAVE", MPOL_INTERLEAVE },
    { "MPOL_LOCAL", MPOL_LOCAL },
    { "MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY },
    { "MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE },
  };
  static const crt_named_value flags[] = {
    { "MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES },
    { "MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES },
    { "MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING },
  };
  unsigned long mask[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];
  unsigned long mode, flag;
  int highest = -1;

  if (m == NULL)
    return 0;
  if (crt_lookup_name (modes, CRT_ARRAY_SIZE (modes), m->mode, &mode) < 0)
    return crt_error_set (err, 0, "linux.memoryPolicy.mode: unknown mode \"%s\"",
                          m->mode ? m->mode : "");
  for (size_t i = 0; i < m->n_flags; i++)
    {
      if (crt_lookup_name (flags, CRT_ARRAY_SIZE (flags), m->flags[i], &flag) < 0)
        return crt_error_set (err, 0, "linux.memoryPolicy.flags[%zu]: unknown flag \"%s\"", i,
                              m->flags[i]);
      mode |= flag;
    }
  if (crt_parse_id_list (m->nodes ? m->nodes : "", mask, CRT_ID_LIST_BITS, &highest) < 0)
    return crt_error_set (err, 0, "linux.memoryPolicy.nodes: invalid list \"%s\"", m->nodes);
  /* maxnode counts one past the highest bit (the kernel reads
   * maxnode - 1 bits, as libnuma knows). */
  if (syscall (SYS_set_mempolicy, (int) mode, highest >= 0 ? mask : NULL,
               highest >= 0 ? (unsigned long) highest + 2 : 0UL) < 0)
    return mempolicy_failure (m, errno, err);
  return 0;
}

void
crt_cpu_affinity_reset (pid_t pid)
{
  /* Far more CPUs than any kernel supports; it clamps the mask. */
  const int ncpus = 8192;
  size_t size = CPU_ALLOC_SIZE (ncpus);
  cpu_set_t *set = CPU_ALLOC (ncpus);

  if (set == NULL)
    return;
  memset (set, 0xff, size);
  (void) sched_setaffinity (pid, size, set);
  CPU_FREE (set);
}

void
crt_cpu_move_off_ours (pid_t pid)
{
  int here = sched_getcpu ();
  cpu_set_t cpus;

  if (here < 0 || sched_getaffinity (0, sizeof (cpus), &cpus) < 0)
    return;
  CPU_CLR (here, &cpus);
  if (CPU_COUNT (&cpus) > 0)
    (void) sched_setaffinity (pid, sizeof (cpus), &cpus); /* (a cpuset may refuse it: fine) */
}

int
crt_cpu_affinity_apply (pid_t pid, const char *list, const char *field, crt_error **err)
{
  cpu_set_t set;
  unsigned long mask[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];
  int highest = -1;

  if (list == NULL || list[0] == '\0')
    return 0;
  if (crt_parse_id_list (list, mask, CRT_ID_LIST_BITS, &highest) < 0)
    return crt_error_set (err, 0, "%s: invalid list \"%s\"", field, list);
  CPU_ZERO (&set);
  for (int i = 0; i <= highest && i < CPU_SETSIZE; i++)
    if (mask[i / (8 * sizeof (unsigned long))] >> (i % (8 * sizeof (unsigned long))) & 1)
      CPU_SET (i, &set);
  if (sched_setaffinity (pid, sizeof (set), &set) < 0)
    return crt_error_errno (err, "%s: set the CPU affinity to \"%s\"", field, list);
  return 0;
}
