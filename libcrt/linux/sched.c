/* Kernel scheduling attributes of the container process: oom score,
 * execution domain, CPU scheduler and I/O priority. */
#include "config.h"
#include "process.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>


int
crt_oom_score_adj_apply (pid_t pid, const crt_process *proc, crt_error **err)
{
  cleanup_free char *path = pid ? crt_fmt ("/proc/%d/oom_score_adj", (int) pid)
                                : crt_xstrdup ("/proc/self/oom_score_adj");
  cleanup_close int fd = -1;
  char buf[32];
  int len;

  if (!proc->oom_score_adj.set)
    return 0;
  if (proc->oom_score_adj.value < -1000 || proc->oom_score_adj.value > 1000)
    return crt_error_set (err, 0, "process.oomScoreAdj: %" PRId64 " is not within [-1000, 1000]",
                          proc->oom_score_adj.value);
  len = snprintf (buf, sizeof (buf), "%" PRId64, proc->oom_score_adj.value);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return crt_error_errno (err, "open `%s`", path);
  if (crt_write_all (fd, buf, (size_t) len) < 0)
    return crt_error_errno (err, "set oomScoreAdj to %s", buf);
  return 0;
}

int
crt_personality_apply (const crt_personality *pers, crt_error **err)
{
  static const crt_named_value domains[] = {
    { "LINUX", PER_LINUX },
    { "LINUX32", PER_LINUX32 },
  };
  unsigned long domain;

  if (pers == NULL)
    return 0;
  if (crt_lookup_name (domains, CRT_ARRAY_SIZE (domains), pers->domain, &domain) < 0)
    return crt_error_set (err, 0, "linux.personality.domain: unknown domain \"%s\"",
                          pers->domain ? pers->domain : "");
  /* runtime-spec 1.2 defines no flag yet. */
  if (pers->n_flags > 0)
    return crt_error_set (err, 0, "linux.personality.flags[0]: unsupported flag \"%s\"",
                          pers->flags[0]);
  if (personality (domain) < 0)
    return crt_error_errno (err, "personality %s", pers->domain);
  return 0;
}

static uint64_t
read_u64 (const char *path)
{
  cleanup_free char *text = NULL;

  if (crt_read_file_at (AT_FDCWD, path, &text, NULL, NULL) < 0)
    return 0;
  return strtoull (text, NULL, 10);
}

/* config.json's rules were checked (validate.c): what is left is the
 * host's. EINVAL: the period (the deadline when none) is outside
 * kernel.sched_deadline_period_{min,max}_us; EBUSY: admission control
 * has no bandwidth left for runtime/period. */
static int
deadline_failure (const crt_scheduler *sched, int errnum, crt_error **err)
{
  uint64_t period = sched->period ? sched->period : sched->deadline;
  uint64_t min_us = read_u64 ("/proc/sys/kernel/sched_deadline_period_min_us");
  uint64_t max_us = read_u64 ("/proc/sys/kernel/sched_deadline_period_max_us");

  if (errnum == EINVAL && max_us > 0 && (period < min_us * 1000 || period > max_us * 1000))
    return crt_error_set (err, errnum, "process.scheduler.%s: %" PRIu64 " ns is not within this "
                          "host's [%" PRIu64 ", %" PRIu64 "] ns (kernel.sched_deadline_period_min_us, "
                          "_max_us)", sched->period ? "period" : "deadline", period,
                          min_us * 1000, max_us * 1000);
  if (errnum == EBUSY)
    return crt_error_set (err, errnum, "process.scheduler: SCHED_DEADLINE runtime %" PRIu64
                          " in period %" PRIu64 " does not fit in the bandwidth left for deadline "
                          "tasks", sched->runtime, period);
  return crt_error_set (err, errnum, "sched_setattr (SCHED_DEADLINE, runtime %" PRIu64
                        ", deadline %" PRIu64 ", period %" PRIu64 ")", sched->runtime,
                        sched->deadline, sched->period);
}

int
crt_scheduler_apply (const crt_scheduler *sched, crt_error **err)
{
  static const crt_named_value policies[] = {
    { "SCHED_OTHER", SCHED_NORMAL },
    { "SCHED_FIFO", SCHED_FIFO },
    { "SCHED_RR", SCHED_RR },
    { "SCHED_BATCH", SCHED_BATCH },
    { "SCHED_ISO", 4 },   /* reserved by Linux, never implemented: EINVAL */
    { "SCHED_IDLE", SCHED_IDLE },
    { "SCHED_DEADLINE", SCHED_DEADLINE },
  };
  static const crt_named_value flags[] = {
    { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
    { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
    { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
    { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
    { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
    { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
    { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
  };
  struct sched_attr attr;
  unsigned long policy;

  if (sched == NULL)
    return 0;
  memset (&attr, 0, sizeof (attr));
  attr.size = sizeof (attr);
  if (crt_lookup_name (policies, CRT_ARRAY_SIZE (policies), sched->policy, &policy) < 0)
    return crt_error_set (err, 0, "process.scheduler.policy: unknown policy \"%s\"",
                          sched->policy ? sched->policy : "");
  attr.sched_policy = (uint32_t) policy;
  for (size_t i = 0; i < sched->n_flags; i++)
    {
      unsigned long flag;
      if (crt_lookup_name (flags, CRT_ARRAY_SIZE (flags), sched->flags[i], &flag) < 0)
        return crt_error_set (err, 0, "process.scheduler.flags[%zu]: unknown flag \"%s\"", i,
                              sched->flags[i]);
      attr.sched_flags |= flag;
    }
  if (sched->priority < 0)
    return crt_error_set (err, 0, "process.scheduler.priority: %" PRId32 " is negative",
                          sched->priority);
  attr.sched_nice = sched->nice;
  attr.sched_priority = (uint32_t) sched->priority;
  attr.sched_runtime = sched->runtime;
  attr.sched_deadline = sched->deadline;
  attr.sched_period = sched->period;
  /* glibc has no wrapper; pid 0 is the calling thread. */
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    {
      if (policy == SCHED_DEADLINE)
        return deadline_failure (sched, errno, err);
      return crt_error_errno (err, "sched_setattr (policy %s, nice %" PRId32 ", priority %" PRId32
                              ")", sched->policy, sched->nice, sched->priority);
    }
  return 0;
}

int
crt_io_priority_apply (const crt_io_priority *prio, crt_error **err)
{
  static const crt_named_value classes[] = {
    { "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
    { "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
    { "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
  };
  unsigned long class_, level;

  if (prio == NULL)
    return 0;
  if (crt_lookup_name (classes, CRT_ARRAY_SIZE (classes), prio->class_, &class_) < 0)
    return crt_error_set (err, 0, "process.ioPriority.class: unknown class \"%s\"",
                          prio->class_ ? prio->class_ : "");
  if (prio->priority < 0 || prio->priority > 7)
    return crt_error_set (err, 0, "process.ioPriority.priority: %d is not within [0, 7]",
                          prio->priority);
  level = (unsigned long) prio->priority;
  /* The idle class has no levels: the priority is checked like the
   * others' (runc does) but not passed on, so no kernel can refuse it. */
  if (class_ == IOPRIO_CLASS_IDLE)
    level = 0;
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int) IOPRIO_PRIO_VALUE (class_, level)) < 0)
    return crt_error_errno (err, "ioprio_set (class %s, priority %d)", prio->class_,
                            prio->priority);
  return 0;
}
