/* `crt features`: the runtime-spec Features structure (features.md,
 * features-linux.md of spec 1.3), from what this build recognizes: the
 * parser's and the seccomp module's name tables, libcap, libseccomp. Laid out like
 * `runc features` (4-space indentation) so the two diff cleanly. */
#include "config.h"
#include "crt.h"
#include "linux/lsm.h"
#include "linux/mounts.h"
#include "linux/seccomp.h"
#include "spec/names.h"
#include "util/json_gen.h"
#include "util/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#define CRT_OCI_VERSION_MIN "1.0.0"

static void
key_bool (yajl_gen g, const char *k, bool v)
{
  crt_gen_str (g, k);
  yajl_gen_bool (g, v);
}

static int
compare_str (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A NULL-terminated list as a JSON array, sorted when asked (runc sorts
 * names that have no natural order). */
static void
key_names (yajl_gen g, const char *k, const char *const *names, bool sorted)
{
  size_t n = 0;
  cleanup_free const char **copy = NULL;

  while (names[n] != NULL)
    n++;
  copy = crt_xmalloc0 ((n + 1) * sizeof (*copy));
  memcpy (copy, names, n * sizeof (*copy));
  if (sorted)
    qsort (copy, n, sizeof (*copy), compare_str);
  crt_gen_str (g, k);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    crt_gen_str (g, copy[i]);
  yajl_gen_array_close (g);
}

/* Every capability libcap can name, up to the running kernel's last one,
 * as "CAP_SYS_ADMIN" (the spelling config.json uses). */
static void
gen_capabilities (yajl_gen g)
{
  int max = cap_max_bits ();

  crt_gen_str (g, "capabilities");
  yajl_gen_array_open (g);
  for (int i = 0; i < max; i++)
    {
      char *name = cap_to_name ((cap_value_t) i);
      cleanup_free char *upper = NULL;

      /* For a number it has no name for, libcap answers the number. */
      if (name == NULL)
        continue;
      if (strncmp (name, "cap_", 4) == 0)
        {
          upper = crt_xstrdup (name);
          for (char *p = upper; *p; p++)
            *p = (char) toupper ((unsigned char) *p);
          crt_gen_str (g, upper);
        }
      cap_free (name);
    }
  yajl_gen_array_close (g);
}

/* The architectures the seccomp module knows that the linked
 * libseccomp also resolves. */
static void
gen_seccomp_archs (yajl_gen g)
{
  const char *const prefix = "SCMP_ARCH_";

  crt_gen_str (g, "archs");
  yajl_gen_array_open (g);
  for (const char *const *a = crt_seccomp_known_archs (); *a; a++)
    {
      cleanup_free char *lower = crt_xstrdup (*a + strlen (prefix));

      for (char *p = lower; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
      if (crt_seccomp_arch_known (lower))
        crt_gen_str (g, *a);
    }
  yajl_gen_array_close (g);
}

static void
gen_seccomp (yajl_gen g)
{
  crt_gen_str (g, "seccomp");
  yajl_gen_map_open (g);
  key_bool (g, "enabled", true);
  key_names (g, "actions", crt_seccomp_known_actions (), true);
  key_names (g, "operators", crt_seccomp_known_operators (), true);
  gen_seccomp_archs (g);
  key_names (g, "knownFlags", crt_seccomp_known_flags (), false);
  /* Known flags the running kernel has (crt loads the filter itself, so
   * libseccomp's version does not limit them). */
  crt_gen_str (g, "supportedFlags");
  yajl_gen_array_open (g);
  for (const char *const *f = crt_seccomp_known_flags (); *f; f++)
    if (crt_seccomp_flag_supported (*f))
      crt_gen_str (g, *f);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
}

static void
gen_enabled (yajl_gen g, const char *k, bool enabled)
{
  crt_gen_str (g, k);
  yajl_gen_map_open (g);
  key_bool (g, "enabled", enabled);
  yajl_gen_map_close (g);
}

static void
gen_linux (yajl_gen g)
{
  crt_gen_str (g, "linux");
  yajl_gen_map_open (g);
  key_names (g, "namespaces", crt_ns_type_names, true);
  gen_capabilities (g);

  /* The cgroup module drives the unified hierarchy, through cgroupfs or
   * systemd (the system instance, or the user's for rootless crt); it
   * has an rdma controller but no v1. */
  crt_gen_str (g, "cgroup");
  yajl_gen_map_open (g);
  key_bool (g, "v1", false);
  key_bool (g, "v2", true);
  key_bool (g, "systemd", true);
  key_bool (g, "systemdUser", true);
  key_bool (g, "rdma", true);
  yajl_gen_map_close (g);

  gen_seccomp (g);
  /* Where the module is enabled, crt applies profiles and labels. */
  gen_enabled (g, "apparmor", crt_lsm_apparmor_enabled ());
  gen_enabled (g, "selinux", crt_lsm_selinux_enabled ());

  /* Recognized names (the parser's tables); what the host lacks is
   * refused when the container is made. */
  crt_gen_str (g, "memoryPolicy");
  yajl_gen_map_open (g);
  key_names (g, "modes", crt_mempolicy_mode_names, false);
  key_names (g, "flags", crt_mempolicy_flag_names, false);
  yajl_gen_map_close (g);

  /* crt refuses linux.intelRdt, whether or not resctrl is mounted: it
   * claims nothing it does not apply. */
  crt_gen_str (g, "intelRdt");
  yajl_gen_map_open (g);
  key_bool (g, "enabled", false);
  key_bool (g, "schemata", false);
  key_bool (g, "monitoring", false);
  yajl_gen_map_close (g);

  crt_gen_str (g, "mountExtensions");
  yajl_gen_map_open (g);
  gen_enabled (g, "idmap", true);
  yajl_gen_map_close (g);
  gen_enabled (g, "netDevices", true);
  yajl_gen_map_close (g);
}

char *
crt_features_json (void)
{
  const char *hook_names[CRT_HOOK__COUNT + 1] = { NULL };
  const char *scmp_version = crt_seccomp_lib_version ();
  yajl_gen g = crt_gen_new ("    ");

  yajl_gen_map_open (g);
  crt_gen_str (g, "ociVersionMin");
  crt_gen_str (g, CRT_OCI_VERSION_MIN);
  crt_gen_str (g, "ociVersionMax");
  crt_gen_str (g, CRT_OCI_VERSION);
  for (int k = 0; k < CRT_HOOK__COUNT; k++)
    hook_names[k] = crt_hook_kind_name ((crt_hook_kind) k);
  key_names (g, "hooks", hook_names, false);
  key_names (g, "mountOptions", crt_mount_option_names (), true);
  gen_linux (g);
  /* crt acts on no annotation of config.json. */
  crt_gen_str (g, "potentiallyUnsafeConfigAnnotations");
  yajl_gen_array_open (g);
  yajl_gen_array_close (g);

  crt_gen_str (g, "annotations");
  yajl_gen_map_open (g);
  crt_gen_str (g, "io.github.crt.version");
  crt_gen_str (g, PACKAGE_VERSION);
  if (scmp_version != NULL)
    {
      crt_gen_str (g, "io.github.seccomp.libseccomp.version");
      crt_gen_str (g, scmp_version);
    }
  /* runc's key has crt's prefix: checkpoint/restore work only with a
   * criu that answers (no kernel check here: `criu check` is slow). */
  if (crt_criu_usable (NULL))
    {
      crt_gen_str (g, "io.github.crt.checkpoint.enabled");
      crt_gen_str (g, "true");
    }
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
  return crt_gen_finish (g);
}
