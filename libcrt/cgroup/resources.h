/* Internals of cgroup/resources*.c: writing one cgroup file and checking
 * that the hierarchy offers a controller before a resource needs it. */
#ifndef CRT_CGROUP_RESOURCES_H
#define CRT_CGROUP_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "../error.h"
#include "../spec/spec.h"

/* What the container's cgroup offers, read once per apply. */
typedef struct cg_target
{
  int dirfd;                    /* the container's cgroup */
  char *controllers;            /* its cgroup.controllers, " name name " */
  bool update;                  /* crt update, not create */
} cg_target;

/* Fail, naming the controller and why it is missing, unless the cgroup
 * has it. */
int cg_need (const cg_target *t, const char *controller, crt_error **err);
bool cg_has (const cg_target *t, const char *controller);

/* Write value to the cgroup file name in one write(2), as the kernel
 * wants. The error names the file and the value. */
int cg_write (int dirfd, const char *name, const char *value, crt_error **err);
/* The same, but a missing file is reported as -ENOENT with no error. */
int cg_write_if_exists (int dirfd, const char *name, const char *value, crt_error **err);
/* "max" for negative values, the number otherwise. */
char *cg_num_or_max (int64_t v);
/* linux.resources.pids.limit as pids.max: "max" for a negative limit,
 * the number otherwise (0 included: runtime-spec 1.3). */
char *crt_cgroup_pids_max (int64_t limit);

/* The conversions the cgroup files and the systemd driver's unit
 * properties share. memory.swap in the spec is memory+swap, v2's
 * memory.swap.max is swap alone: *out gets -1 (max) or bytes, *skip is
 * set when there is nothing to write. */
int cg_swap_value (int64_t swap, bool swap_set, int64_t limit, int64_t *out, bool *skip,
                   crt_error **err);
/* runc's and crun's map of cpu.shares (2..262144, default 1024) onto
 * cpu.weight (1..10000, default 100). */
uint64_t cg_shares_to_weight (uint64_t shares);
/* The spec's 10..1000 blkio weight onto io.weight's 1..10000, as runc. */
uint64_t cg_blkio_to_io_weight (uint32_t w);

/* crt update: like crt_cgroup_apply_resources, but only what r sets
 * changes (a new period keeps the quota, no device rules keep the
 * program) and memory.checkBeforeUpdate is honoured. */
int crt_cgroup_update_resources (int dirfd, const crt_resources *r, crt_error **err);

/* resources_io.c: blockIO, hugepageLimits, rdma, network, unified. */
int cg_apply_block_io (const cg_target *t, const crt_block_io *b, crt_error **err);
int cg_apply_hugetlb (const cg_target *t, const crt_hugepage_limit *h, size_t n, crt_error **err);
int cg_apply_rdma (const cg_target *t, const crt_rdma *r, size_t n, crt_error **err);
int cg_apply_network (const crt_network *net, crt_error **err);
int cg_apply_unified (const cg_target *t, const crt_kv *kv, size_t n, crt_error **err);

#endif
