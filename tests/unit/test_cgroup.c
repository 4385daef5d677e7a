/* Unit tests of the pure conversions of libcrt/cgroup and libcrt/util
 * that no host here can show through a real controller (the pids
 * controller is bound to cgroup v1 on these machines; the VM test
 * tests/cgroup/test_cgroup_vm.py reads pids.max itself). */
#include "config.h"
#include "tap.h"

#include <stdlib.h>

#include "cgroup/resources.h"
#include "util/util.h"

int tap_count;
int tap_failures;

static void
test_pids_max (void)
{
  static const struct
  {
    int64_t limit;
    const char *want;
  } cases[] = {
    /* runtime-spec 1.3: 0 is a real limit, negative is none */
    { 0, "0" },
    { 1, "1" },
    { 2048, "2048" },
    { -1, "max" },
    { -42, "max" },
    { INT64_MAX, "9223372036854775807" },
  };

  for (size_t i = 0; i < CRT_ARRAY_SIZE (cases); i++)
    {
      cleanup_free char *got = crt_cgroup_pids_max (cases[i].limit);
      cleanup_free char *what = crt_fmt ("pids.limit %lld -> pids.max %s",
                                         (long long) cases[i].limit, cases[i].want);
      tap_str_eq (got, cases[i].want, what);
    }
}

static void
test_id_list (void)
{
  unsigned long mask[CRT_ID_LIST_BITS / (8 * sizeof (unsigned long))];
  int highest = 0;

  tap_ok (crt_parse_id_list ("0-3,7", mask, CRT_ID_LIST_BITS, &highest) == 0
              && mask[0] == 0x8fUL && highest == 7, "\"0-3,7\" is 0x8f, highest 7");
  tap_ok (crt_parse_id_list ("", mask, CRT_ID_LIST_BITS, &highest) == 0 && highest == -1
              && mask[0] == 0, "an empty list is empty");
  tap_ok (crt_parse_id_list ("1023", mask, CRT_ID_LIST_BITS, &highest) == 0 && highest == 1023,
          "the last bit fits");
  for (const char *const *bad = (const char *const[]) { "1024", "3-1", "1,", ",1", "1-", "a",
                                                        "1 2", "-1", "1--2", NULL };
       *bad; bad++)
    tap_ok (crt_parse_id_list (*bad, NULL, CRT_ID_LIST_BITS, NULL) < 0, "\"%s\" is refused",
            *bad);
}

int
main (void)
{
  test_pids_max ();
  test_id_list ();
  return tap_done ();
}
