/* A cgroup's usage counters in runc's stats layout (`crt events`). */
#ifndef CRT_CGROUP_STATS_H
#define CRT_CGROUP_STATS_H

#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "../error.h"

/* Generate the "data" object of a stats event for the cgroup at path
 * (relative to the hierarchy root): cpu (cpu.stat), memory (memory.*),
 * pids, blkio (io.stat) and hugetlb. Counters of controllers the cgroup
 * lacks are left out or zero, as runc does. */
int crt_cgroup_stats_gen (yajl_gen g, const char *path, crt_error **err);

/* How many times the kernel OOM-killed a process of the cgroup
 * (oom_kill in memory.events); 0 without the memory controller. */
uint64_t crt_cgroup_oom_kills (int cgroup_dirfd);

#endif
