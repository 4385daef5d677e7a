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
