#include "config.h"
#include "process.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/resource.h>

int
crt_rlimits_apply (const crt_process *proc, crt_error **err)
{
  for (size_t i = 0; i < proc->n_rlimits; i++)
    {
      const crt_rlimit *rl = &proc->rlimits[i];
      struct rlimit limit = { .rlim_cur = rl->soft, .rlim_max = rl->hard };

      if (rl->resource < 0 || rl->resource >= RLIM_NLIMITS)
        return crt_error_set (err, 0, "process.rlimits[%zu]: unknown type \"%s\"", i,
                              rl->type ? rl->type : "");
      if (rl->soft > rl->hard)
        return crt_error_set (err, 0, "process.rlimits[%zu]: soft limit %" PRIu64
                              " is above the hard limit %" PRIu64, i, rl->soft, rl->hard);
      if (setrlimit (rl->resource, &limit) < 0)
        return crt_error_errno (err, "setrlimit %s (soft %" PRIu64 ", hard %" PRIu64 ")",
                                rl->type, rl->soft, rl->hard);
    }
  return 0;
}
