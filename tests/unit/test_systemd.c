/* Unit tests of the systemd driver's pure parts (no bus needed): the
 * unit and slice from linux.cgroupsPath, and the conversion of
 * linux.resources and org.systemd.property.* annotations into unit
 * properties. The VM test tests/cgroup/test_systemd_vm.py shows them
 * through a real systemd. */
#include "config.h"
#include "tap.h"

#include <stdlib.h>

#include "cgroup/systemd.h"
#include "util/util.h"

int tap_count;
int tap_failures;

static void
test_expand_slice (void)
{
  static const struct { const char *slice, *want; } cases[] = {
    { "system.slice", "/system.slice" },
    { "-.slice", "/" },
    { "a-b.slice", "/a.slice/a-b.slice" },
    { "kubepods-burstable-pod123.slice",
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod123.slice" },
    { "machine.slice", "/machine.slice" },
    /* refused */
    { "system", NULL }, { ".slice", NULL }, { "a--b.slice", NULL }, { "-a.slice", NULL },
    { "a-.slice", NULL }, { "a/b.slice", NULL },
  };

  for (size_t i = 0; i < CRT_ARRAY_SIZE (cases); i++)
    {
      cleanup_error crt_error *err = NULL;
      cleanup_free char *got = NULL;
      cleanup_free char *what = crt_fmt ("expand %s -> %s", cases[i].slice,
                                         cases[i].want ? cases[i].want : "error");
      int r = crt_sd_expand_slice (cases[i].slice, &got, &err);
      if (cases[i].want)
        tap_str_eq (r == 0 ? got : NULL, cases[i].want, what);
      else
        tap_ok (r < 0 && err && strstr (err->msg, "invalid slice name"), "%s", what);
    }
}

static void
test_unit_from_path (void)
{
  static const struct { const char *path, *slice, *unit, *cgroup, *error; } cases[] = {
    { NULL, "system.slice", "crt-c1.scope", "/system.slice/crt-c1.scope", NULL },
    { "", "system.slice", "crt-c1.scope", "/system.slice/crt-c1.scope", NULL },
    { "system.slice:docker:abc", "system.slice", "docker-abc.scope",
      "/system.slice/docker-abc.scope", NULL },
    { "machine.slice:libpod:abc", "machine.slice", "libpod-abc.scope",
      "/machine.slice/libpod-abc.scope", NULL },
    { "kubepods-burstable-pod1a2b.slice:cri-containerd:abc", "kubepods-burstable-pod1a2b.slice",
      "cri-containerd-abc.scope",
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice/"
      "cri-containerd-abc.scope",
      NULL },
    { ":crt:x", "system.slice", "crt-x.scope", "/system.slice/crt-x.scope", NULL },
    { "user.slice::x", "user.slice", "x.scope", "/user.slice/x.scope", NULL },
    { "-.slice:p:x", "-.slice", "p-x.scope", "/p-x.scope", NULL },
    /* refused */
    { "/crt/c1", NULL, NULL, NULL, "wants \"slice:prefix:name\"" },
    { "a:b", NULL, NULL, NULL, "wants \"slice:prefix:name\"" },
    { "a.slice:b:c:d", NULL, NULL, NULL, "wants \"slice:prefix:name\"" },
    { "system.slice:crt:", NULL, NULL, NULL, "non-empty unit name parts" },
    { "system.slice:c/t:x", NULL, NULL, NULL, "non-empty unit name parts" },
    { "system.slice:crt:x+y", NULL, NULL, NULL, "non-empty unit name parts" },
    { "system:crt:x", NULL, NULL, NULL, "invalid slice name `system`" },
    { "system.slice:crt:x.slice", NULL, NULL, NULL, "a slice as the container's unit" },
  };

  for (size_t i = 0; i < CRT_ARRAY_SIZE (cases); i++)
    {
      cleanup_error crt_error *err = NULL;
      crt_sd_unit u;
      const char *p = cases[i].path ? cases[i].path : "(unset)";
      int r = crt_sd_unit_from_path (cases[i].path, "c1", &u, &err);
      if (cases[i].error)
        {
          if (!tap_ok (r < 0 && err && strstr (err->msg, cases[i].error)
                           && strstr (err->msg, "linux.cgroupsPath"),
                       "cgroupsPath %s refused (%s)", p, cases[i].error))
            printf ("#   got: %s\n", err ? err->msg : "success");
          continue;
        }
      if (!tap_ok (r == 0, "cgroupsPath %s accepted", p))
        {
          printf ("#   got: %s\n", err ? err->msg : "?");
          continue;
        }
      tap_str_eq (u.slice, cases[i].slice, "  its slice");
      tap_str_eq (u.unit, cases[i].unit, "  its unit");
      tap_str_eq (u.cgroup, cases[i].cgroup, "  its cgroup");
      crt_sd_unit_clear (&u);
    }
}

static const crt_sd_prop *
find (const crt_sd_props *p, const char *name)
{
  return crt_sd_props_find (p, name);
}

static void
expect_u64 (const crt_sd_props *p, const char *name, uint64_t want, const char *what)
{
  const crt_sd_prop *prop = find (p, name);
  if (!tap_ok (prop && strcmp (prop->sig, "t") == 0 && prop->u64 == want, "%s: %s=%llu", what,
               name, (unsigned long long) want))
    printf ("#   got: %s %llu\n", prop ? prop->sig : "(none)",
            prop ? (unsigned long long) prop->u64 : 0ULL);
}

static void
expect_bytes (const crt_sd_props *p, const char *name, const uint8_t *want, size_t n,
              const char *what)
{
  const crt_sd_prop *prop = find (p, name);
  tap_ok (prop && strcmp (prop->sig, "ay") == 0 && prop->n_bytes == n
              && memcmp (prop->bytes, want, n) == 0,
          "%s: %s (%zu bytes)", what, name, n);
}

/* props of a linux.resources JSON text; *r kept for the caller to look at. */
static int
props_of (const char *json, crt_sd_props *out, crt_resources **r, crt_error **err)
{
  memset (out, 0, sizeof (*out));
  if (crt_resources_parse (json, "test", r, err) < 0)
    return -1;
  return crt_sd_props_from_resources (*r, 0, out, err);
}

static void
test_resources (void)
{
  cleanup_error crt_error *err = NULL;
  crt_resources *r = NULL;
  crt_sd_props p;

  /* The usual limits, converted as runc does. */
  tap_ok (props_of ("{\"memory\":{\"limit\":33554432,\"reservation\":16777216,"
                    "\"swap\":67108864},\"cpu\":{\"shares\":1024,\"quota\":50000,"
                    "\"period\":100000,\"cpus\":\"0-2,9\",\"mems\":\"0\"},"
                    "\"pids\":{\"limit\":42},\"blockIO\":{\"weight\":500}}",
                    &p, &r, &err) == 0, "resources convert");
  expect_u64 (&p, "MemoryMax", 33554432, "memory.limit");
  expect_u64 (&p, "MemoryLow", 16777216, "memory.reservation");
  expect_u64 (&p, "MemorySwapMax", 33554432, "memory.swap (memory+swap)");
  expect_u64 (&p, "CPUWeight", 39, "cpu.shares 1024");
  expect_u64 (&p, "CPUQuotaPerSecUSec", 500000, "cpu.quota 50000/100000");
  expect_u64 (&p, "CPUQuotaPeriodUSec", 100000, "cpu.period");
  expect_u64 (&p, "TasksMax", 42, "pids.limit");
  expect_u64 (&p, "IOWeight", 4950, "blockIO.weight 500 (1 + 490 * 9999 / 990)");
  {
    const uint8_t cpus[] = { 0x07, 0x02 }, mems[] = { 0x01 };
    expect_bytes (&p, "AllowedCPUs", cpus, sizeof (cpus), "cpu.cpus 0-2,9");
    expect_bytes (&p, "AllowedMemoryNodes", mems, sizeof (mems), "cpu.mems 0");
    tap_ok (find (&p, "AllowedCPUs")->min_version == 244, "AllowedCPUs needs systemd 244");
  }
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  /* Quota rounding (runc: to 10 ms per second, the quota follows). */
  tap_ok (props_of ("{\"cpu\":{\"quota\":33333,\"period\":100000}}", &p, &r, &err) == 0,
          "odd quota converts");
  expect_u64 (&p, "CPUQuotaPerSecUSec", 340000, "quota 33333 rounds up to 34%");
  TAP_INT_EQ (r->cpu->quota.value, 34000, "  and the quota for cpu.max with it");
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  /* Unlimited, zero and absent. */
  tap_ok (props_of ("{\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":-1},\"pids\":{\"limit\":0}}",
                    &p, &r, &err) == 0, "unlimited values convert");
  expect_u64 (&p, "MemoryMax", UINT64_MAX, "memory.limit -1 is infinity");
  expect_u64 (&p, "MemorySwapMax", UINT64_MAX, "  and lifts swap too");
  expect_u64 (&p, "CPUQuotaPerSecUSec", UINT64_MAX, "cpu.quota -1 is infinity");
  tap_ok (find (&p, "CPUQuotaPeriodUSec") == NULL, "  no period without one");
  expect_u64 (&p, "TasksMax", 1, "pids.limit 0 is TasksMax 1 (systemd refuses 0)");
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  tap_ok (props_of ("{\"pids\":{\"limit\":-1},\"cpu\":{\"period\":50000}}", &p, &r, &err) == 0
              && p.n == 2,
          "pids -1 and a period alone: two properties");
  expect_u64 (&p, "TasksMax", UINT64_MAX, "pids.limit -1 is infinity");
  expect_u64 (&p, "CPUQuotaPeriodUSec", 50000, "a period alone");
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  tap_ok (props_of ("{}", &p, &r, &err) == 0 && p.n == 0, "no resources, no properties");
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  /* unified */
  tap_ok (props_of ("{\"unified\":{\"memory.high\":\"1048576\",\"memory.max\":\"max\","
                    "\"pids.max\":\"0\",\"cpu.weight\":\"150\",\"cpu.max\":\"25000 50000\","
                    "\"cpuset.cpus\":\"1\",\"io.max\":\"8:0 rbps=1\"}}",
                    &p, &r, &err) == 0, "unified converts");
  expect_u64 (&p, "MemoryHigh", 1048576, "unified memory.high");
  expect_u64 (&p, "MemoryMax", UINT64_MAX, "unified memory.max max");
  expect_u64 (&p, "TasksMax", 1, "unified pids.max 0");
  expect_u64 (&p, "CPUWeight", 150, "unified cpu.weight");
  expect_u64 (&p, "CPUQuotaPerSecUSec", 500000, "unified cpu.max 25000 50000");
  expect_u64 (&p, "CPUQuotaPeriodUSec", 50000, "  its period");
  {
    const uint8_t one[] = { 0x02 };
    expect_bytes (&p, "AllowedCPUs", one, 1, "unified cpuset.cpus 1");
  }
  crt_sd_props_clear (&p);
  crt_resources_free (r);

  /* errors name the field */
  crt_error_free (&err);
  tap_ok (props_of ("{\"memory\":{\"swap\":1048576}}", &p, &r, &err) < 0 && err
              && strstr (err->msg, "memory.swap: a swap limit needs a memory limit"),
          "swap without a limit refused");
  crt_sd_props_clear (&p);
  crt_resources_free (r);
  crt_error_free (&err);
  tap_ok (props_of ("{\"cpu\":{\"cpus\":\"0-x\"}}", &p, &r, &err) < 0 && err
              && strstr (err->msg, "cpu.cpus: `0-x`"),
          "bad cpu list refused");
  crt_sd_props_clear (&p);
  crt_resources_free (r);
  crt_error_free (&err);
  tap_ok (props_of ("{\"unified\":{\"memory.max\":\"lots\"}}", &p, &r, &err) < 0 && err
              && strstr (err->msg, "unified: memory.max: `lots`"),
          "bad unified value refused");
  crt_sd_props_clear (&p);
  crt_resources_free (r);
}

static void
test_annotations (void)
{
  static const struct { const char *key, *value, *name, *sig; uint64_t u; const char *str; } ok[] = {
    { "org.systemd.property.TimeoutStopUSec", "uint64 123456789", "TimeoutStopUSec", "t",
      123456789, NULL },
    { "org.systemd.property.TimeoutStopSec", "456", "TimeoutStopUSec", "t", 456000000, NULL },
    { "org.systemd.property.TimeoutStopSec", "byte 234", "TimeoutStopUSec", "t", 234000000, NULL },
    { "org.systemd.property.TimeoutStopSec", "int16 234", "TimeoutStopUSec", "t", 234000000, NULL },
    { "org.systemd.property.TimeoutStopSec", "uint32 234", "TimeoutStopUSec", "t", 234000000, NULL },
    { "org.systemd.property.TimeoutStopSec", "234.789", "TimeoutStopUSec", "t", 234789000, NULL },
    { "org.systemd.property.FOOSec", "123", "FOOSec", "i", 123, NULL },
    { "org.systemd.property.Sec", "123", "Sec", "i", 123, NULL },
    { "org.systemd.property.TasksMax", "uint64 7", "TasksMax", "t", 7, NULL },
    { "org.systemd.property.CPUWeight", "int64 5000000000", "CPUWeight", "x", 5000000000ULL, NULL },
    { "org.systemd.property.Big", "5000000000", "Big", "x", 5000000000ULL, NULL },
    { "org.systemd.property.MemoryAccounting", "false", "MemoryAccounting", "b", 0, NULL },
    { "org.systemd.property.SendSIGKILL", "boolean true", "SendSIGKILL", "b", 1, NULL },
    { "org.systemd.property.CollectMode", "'inactive-or-failed'", "CollectMode", "s", 0,
      "inactive-or-failed" },
    { "org.systemd.property.Description", "\"a \\\"b\\\"\"", "Description", "s", 0, "a \"b\"" },
  };
  static const struct { const char *key, *value, *error; } bad[] = {
    { "org.systemd.property.TimeoutStopSec", "false", "not a number of seconds" },
    { "org.systemd.property.TimeoutStopSec", "'covfefe'", "not a number of seconds" },
    { "org.systemd.property.Xo", "1", "3 or more letters" },
    { "org.systemd.property.Number1", "1", "3 or more letters" },
    { "org.systemd.property.ValidName", "invalid-value", "is not a D-Bus value" },
    { "org.systemd.property.ValidName", "byte 256", "is not a D-Bus value" },
    { "org.systemd.property.ValidName", "uint64 -1", "is not a D-Bus value" },
  };

  for (size_t i = 0; i < CRT_ARRAY_SIZE (ok); i++)
    {
      cleanup_error crt_error *err = NULL;
      cleanup_sd_props crt_sd_props p = { 0 };
      crt_kv kv = { (char *) ok[i].key, (char *) ok[i].value };
      const crt_sd_prop *prop;
      int r = crt_sd_props_from_annotations (&kv, 1, &p, &err);
      prop = r == 0 && p.n == 1 ? &p.v[0] : NULL;
      if (!tap_ok (prop && strcmp (prop->name, ok[i].name) == 0
                       && strcmp (prop->sig, ok[i].sig) == 0
                       && (ok[i].str ? prop->str && strcmp (prop->str, ok[i].str) == 0
                                     : prop->u64 == ok[i].u),
                   "annotation %s=%s -> %s (%s)", ok[i].key + 21, ok[i].value, ok[i].name,
                   ok[i].sig))
        printf ("#   got: %s %s %llu %s\n", prop ? prop->name : (err ? err->msg : "?"),
                prop ? prop->sig : "", prop ? (unsigned long long) prop->u64 : 0ULL,
                prop && prop->str ? prop->str : "");
    }
  for (size_t i = 0; i < CRT_ARRAY_SIZE (bad); i++)
    {
      cleanup_error crt_error *err = NULL;
      cleanup_sd_props crt_sd_props p = { 0 };
      crt_kv kv = { (char *) bad[i].key, (char *) bad[i].value };
      int r = crt_sd_props_from_annotations (&kv, 1, &p, &err);
      if (!tap_ok (r < 0 && err && strstr (err->msg, bad[i].error) && strstr (err->msg, bad[i].key),
                   "annotation %s=%s refused (%s)", bad[i].key + 21, bad[i].value, bad[i].error))
        printf ("#   got: %s\n", err ? err->msg : "success");
    }
  {
    cleanup_error crt_error *err = NULL;
    cleanup_sd_props crt_sd_props p = { 0 };
    crt_kv kv[] = { { (char *) "some.other.annotation", (char *) "0" },
                    { (char *) "org.systemd.propertyX", (char *) "0" } };
    tap_ok (crt_sd_props_from_annotations (kv, 2, &p, &err) == 0 && p.n == 0,
            "other annotations are not properties");
  }
}

int
main (void)
{
  test_expand_slice ();
  test_unit_from_path ();
  test_resources ();
  test_annotations ();
  return tap_done ();
}
