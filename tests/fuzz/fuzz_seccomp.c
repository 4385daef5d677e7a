/* linux.seccomp: a config.json parsed, then its seccomp profile compiled
 * to BPF with crt_seccomp_compile (what `crt create` does before it
 * forks; nothing is loaded). */
#include "config.h"
#include "fuzz.h"
#include "linux/seccomp.h"
#include "spec/spec.h"

/* libseccomp 2.5.4 (Debian 12) leaks rule nodes inside
 * seccomp_rule_add_array when several socket syscalls with argument
 * conditions are added for x86, where they are multiplexed through
 * socketcall: e.g. setsockopt, shutdown and socketcall with the same
 * args[1] test on SCMP_ARCH_X86 (corpus/seccomp/regress-*). A plain
 * libseccomp program leaks the same way; crt releases the filter context.
 * Suppressed by module: libseccomp has no frame pointers, so with the
 * fast unwinder a leak's stack ends in it (the slow one, which would let
 * us name seccomp_rule_add_array, costs 10x the speed). crt's own
 * allocations are still checked. */
const char *__lsan_default_suppressions (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:libseccomp.so\n";
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  cleanup_free char *text = fuzz_cstr (data, size);
  cleanup_spec crt_spec *spec = NULL;
  cleanup_seccomp_filter crt_seccomp_filter *f = NULL;
  crt_error *err = NULL;
  int rc;

  rc = crt_spec_parse (text, "config.json", &spec, &err);
  crt_error_free (&err);
  if (rc < 0 || spec->linux_ == NULL || spec->linux_->seccomp == NULL)
    return 0;
  rc = crt_seccomp_compile (spec->linux_->seccomp, &f, &err);
  fuzz_check_error (rc, &err, "crt_seccomp_compile");
  if (rc < 0 && f != NULL)
    abort ();
  if (f != NULL)
    {
      /* What create logs at debug level. */
      char *const *skipped = crt_seccomp_filter_skipped (f);
      size_t total = 0;
      for (size_t i = 0; skipped && skipped[i]; i++)
        total += strlen (skipped[i]);
      (void) total;
      (void) crt_seccomp_filter_uses_notify (f);
    }
  return 0;
}
