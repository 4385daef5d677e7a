/* Unit tests of libcrt/spec: real configs (runc's `spec` output, a
 * podman-style config) land in the right struct members, the default
 * config parses back, name helpers, and (in test_spec_errors.c) every
 * error message. Run under ASan too: every parse is freed. */
#include "config.h"
#include "test_spec.h"
#include "tap.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crt.h"
#include "spec/spec.h"
#include "util/util.h"

#ifndef FIXTURES_DIR
# define FIXTURES_DIR "tests/unit/fixtures"
#endif

int tap_count;
int tap_failures;

static crt_spec *
load_fixture (const char *name)
{
  cleanup_free char *path = crt_fmt ("%s/%s", FIXTURES_DIR, name);
  crt_spec *spec = NULL;
  crt_error *err = NULL;

  if (!tap_ok (crt_spec_load (path, &spec, &err) == 0, "load %s", name))
    printf ("#   %s\n", err->msg);
  crt_error_free (&err);
  if (spec && !tap_ok (crt_spec_validate (spec, &err) == 0, "validate %s", name))
    printf ("#   %s\n", err->msg);
  crt_error_free (&err);
  return spec;
}

static bool
strv_is (char **got, size_t n, const char *const *want)
{
  size_t i;
  for (i = 0; want[i]; i++)
    if (i >= n || got[i] == NULL || strcmp (got[i], want[i]) != 0)
      return false;
  return i == n && got[n] == NULL;
}

static void
test_runc_spec (void)
{
  static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
  cleanup_spec crt_spec *s = load_fixture ("runc-spec.json");
  const crt_process *p;
  const crt_linux *l;

  if (s == NULL)
    return;
  p = s->process;
  l = s->linux_;
  tap_str_eq (s->oci_version, "1.0.2-dev", "runc: ociVersion");
  tap_ok (p && p->terminal && p->no_new_privileges, "runc: terminal, noNewPrivileges");
  tap_ok (strv_is (p->args, p->n_args, (const char *const[]) { "sh", NULL }), "runc: args");
  TAP_INT_EQ (p->n_env, 2, "runc: env count");
  tap_str_eq (p->cwd, "/", "runc: cwd");
  tap_ok (p->capabilities && strv_is (p->capabilities->bounding, p->capabilities->n_bounding, caps)
          && p->capabilities->has_bounding && !p->capabilities->has_inheritable,
          "runc: bounding caps, inheritable absent");
  tap_ok (p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE
          && p->rlimits[0].hard == 1024 && p->rlimits[0].soft == 1024, "runc: rlimits");
  tap_ok (!p->oom_score_adj.set && p->scheduler == NULL && p->io_priority == NULL,
          "runc: absent optionals stay unset");
  tap_ok (s->root && s->root->readonly && strcmp (s->root->path, "rootfs") == 0, "runc: root");
  tap_str_eq (s->hostname, "runc", "runc: hostname");
  TAP_INT_EQ (s->n_mounts, 7, "runc: mount count");
  tap_str_eq (s->mounts[0].destination, "/proc", "runc: first mount");
  tap_ok (s->mounts[0].options == NULL && s->mounts[0].n_options == 0, "runc: proc has no options");
  tap_str_eq (s->mounts[2].options[5], "gid=5", "runc: devpts gid option");
  tap_ok (l && l->resources && l->resources->n_devices == 1 && !l->resources->devices[0].allow
          && l->resources->devices[0].type == 'a' && !l->resources->devices[0].major.set
          && strcmp (l->resources->devices[0].access, "rwm") == 0, "runc: deny-all devices");
  TAP_INT_EQ (l->n_namespaces, 5, "runc: namespace count");
  tap_ok (l->namespaces[1].type == CRT_NS_NETWORK && l->namespaces[1].path == NULL,
          "runc: network namespace");
  tap_ok (crt_spec_namespace (s, CRT_NS_USER) == NULL, "runc: no user namespace");
  TAP_INT_EQ (l->n_masked_paths, 10, "runc: maskedPaths");
  tap_str_eq (l->readonly_paths[4], "/proc/sysrq-trigger", "runc: readonlyPaths");
  tap_ok (s->hooks == NULL && s->n_annotations == 0 && l->seccomp == NULL, "runc: no hooks, seccomp");
}

static void
test_podman_process (const crt_process *p)
{
  tap_ok (!p->terminal && p->has_console_size && p->console_height == 24 && p->console_width == 80,
          "podman: consoleSize");
  tap_ok (p->user.uid == 1000 && p->user.gid == 1000 && p->user.umask.set
          && p->user.umask.value == 18, "podman: user");
  tap_ok (p->user.n_additional_gids == 3 && p->user.additional_gids[2] == UINT32_MAX - 1,
          "podman: additionalGids up to the largest valid id");
  tap_str_eq (p->args[2], "echo hello; sleep 100", "podman: args");
  tap_str_eq (p->env[4], "HOSTNAME=6f1c2d3e4b5a", "podman: env");
  tap_str_eq (p->cwd, "/home/app", "podman: cwd");
  tap_ok (p->capabilities->has_inheritable && p->capabilities->n_inheritable == 0
          && p->capabilities->inheritable && p->capabilities->inheritable[0] == NULL,
          "podman: empty inheritable is present and empty");
  tap_ok (!p->capabilities->has_ambient && p->capabilities->ambient == NULL,
          "podman: ambient absent");
  TAP_INT_EQ (p->capabilities->n_effective, 11, "podman: effective caps");
  tap_ok (p->n_rlimits == 3 && p->rlimits[2].resource == RLIMIT_CORE
          && p->rlimits[2].hard == UINT64_MAX && p->rlimits[1].resource == RLIMIT_NPROC,
          "podman: rlimits incl. unlimited");
  tap_ok (p->oom_score_adj.set && p->oom_score_adj.value == -500, "podman: oomScoreAdj");
  tap_str_eq (p->apparmor_profile, "containers-default-0.50.1", "podman: apparmor");
  tap_str_eq (p->selinux_label, "system_u:system_r:container_t:s0:c123,c456", "podman: selinux");
}

static void
test_podman_resources (const crt_resources *r)
{
  tap_ok (r->n_devices == 3 && r->devices[1].allow && r->devices[1].type == 'c'
          && r->devices[1].major.value == 10 && r->devices[1].minor.value == 200
          && r->devices[2].major.set && !r->devices[2].minor.set, "podman: device rules");
  tap_ok (r->memory->limit.set && r->memory->limit.value == 536870912
          && r->memory->swappiness.value == 60 && r->memory->disable_oom_killer.set
          && !r->memory->disable_oom_killer.value && !r->memory->kernel.set, "podman: memory");
  tap_ok (r->cpu->shares.value == 1024 && r->cpu->quota.value == 150000
          && r->cpu->period.value == 100000 && strcmp (r->cpu->cpus, "0-1") == 0
          && !r->cpu->idle.set, "podman: cpu");
  tap_ok (r->has_pids && r->pids_limit.set && r->pids_limit.value == 2048, "podman: pids");
  tap_ok (r->block_io->weight.value == 500 && r->block_io->n_weight_device == 1
          && r->block_io->weight_device[0].weight.value == 600
          && !r->block_io->weight_device[0].leaf_weight.set
          && r->block_io->throttle_read_bps[0].rate == 10485760
          && r->block_io->n_throttle_write_bps == 0
          && r->block_io->throttle_write_iops[0].minor == 16, "podman: blockIO");
  tap_ok (r->n_hugepage_limits == 1 && strcmp (r->hugepage_limits[0].page_size, "2MB") == 0,
          "podman: hugepageLimits");
  tap_ok (r->network->class_id.value == 1048577 && r->network->n_priorities == 1
          && r->network->priorities[0].priority == 5, "podman: network");
  tap_ok (r->n_rdma == 1 && strcmp (r->rdma[0].device, "mlx5_1") == 0
          && r->rdma[0].hca_objects.value == 10000, "podman: rdma");
  tap_ok (r->n_unified == 2 && strcmp (r->unified[1].key, "io.max") == 0
          && strcmp (r->unified[1].value, "8:0 rbps=1048576") == 0, "podman: unified in order");
}

static void
test_podman_linux (const crt_linux *l)
{
  const crt_seccomp *sc = l->seccomp;

  tap_ok (l->n_uid_mappings == 1 && l->uid_mappings[0].host_id == 100000
          && l->gid_mappings[0].size == 65536, "podman: id mappings");
  tap_ok (l->n_sysctl == 2 && strcmp (l->sysctl[0].key, "net.ipv4.ping_group_range") == 0,
          "podman: sysctl");
  tap_str_eq (l->cgroups_path, "machine.slice:libpod:6f1c2d3e4b5a", "podman: cgroupsPath");
  tap_ok (l->n_namespaces == 7 && l->namespaces[6].type == CRT_NS_USER
          && strcmp (l->namespaces[1].path, "/run/netns/netns-1234abcd") == 0,
          "podman: namespaces");
  tap_ok (l->n_devices == 3 && l->devices[0].file_mode.value == 438 && l->devices[0].uid.set
          && l->devices[1].type == 'b' && !l->devices[1].file_mode.set
          && l->devices[2].type == 'p', "podman: devices");
  tap_ok (sc && strcmp (sc->default_action, "SCMP_ACT_ERRNO") == 0
          && sc->default_errno_ret.value == 38 && sc->n_architectures == 3
          && sc->n_flags == 1 && sc->n_syscalls == 6, "podman: seccomp top");
  tap_ok (sc->syscalls[0].n_names == 28 && sc->syscalls[0].errno_ret.value == 1
          && !sc->syscalls[1].errno_ret.set, "podman: seccomp rules");
  tap_ok (sc->syscalls[3].args[0].value == 4294967295u
          && strcmp (sc->syscalls[4].args[0].op, "SCMP_CMP_MASKED_EQ") == 0
          && sc->syscalls[5].n_args == 2 && sc->syscalls[5].args[1].index == 2,
          "podman: seccomp args");
  tap_str_eq (l->rootfs_propagation, "rslave", "podman: rootfsPropagation");
  TAP_INT_EQ (l->n_masked_paths, 11, "podman: maskedPaths");
  tap_str_eq (l->mount_label, "system_u:object_r:container_file_t:s0:c123,c456", "podman: mountLabel");
  tap_ok (l->intel_rdt == NULL && l->personality == NULL && l->n_time_offsets == 0,
          "podman: absent linux parts");
}

static void
test_podman_config (void)
{
  cleanup_spec crt_spec *s = load_fixture ("podman-config.json");
  const crt_hooks *h;

  if (s == NULL)
    return;
  test_podman_process (s->process);
  tap_ok (s->root && !s->root->readonly, "podman: root not readonly");
  TAP_INT_EQ (s->n_mounts, 12, "podman: mount count");
  tap_ok (strcmp (s->mounts[10].destination, "/data") == 0 && s->mounts[10].n_uid_mappings == 1
          && s->mounts[10].gid_mappings[0].host_id == 100000, "podman: idmapped mount");
  h = s->hooks;
  tap_ok (h && h->n_hooks[CRT_HOOK_PRESTART] == 1 && h->n_hooks[CRT_HOOK_CREATE_RUNTIME] == 1
          && h->n_hooks[CRT_HOOK_CREATE_CONTAINER] == 0 && h->n_hooks[CRT_HOOK_POSTSTOP] == 1,
          "podman: hook counts");
  tap_ok (h->hooks[CRT_HOOK_CREATE_RUNTIME][0].timeout.set
          && h->hooks[CRT_HOOK_CREATE_RUNTIME][0].timeout.value == 10
          && !h->hooks[CRT_HOOK_PRESTART][0].timeout.set
          && strcmp (h->hooks[CRT_HOOK_POSTSTOP][0].args[5], "6f1c2d3e4b5a") == 0,
          "podman: hook fields");
  tap_ok (s->n_annotations == 8 && strcmp (s->annotations[0].key, "io.container.manager") == 0
          && strcmp (s->annotations[0].value, "libpod") == 0, "podman: annotations");
  test_podman_resources (s->linux_->resources);
  test_podman_linux (s->linux_);
}

static void
test_default_spec (bool rootless)
{
  cleanup_free char *json = crt_spec_default_json (rootless);
  cleanup_spec crt_spec *s = NULL;
  crt_error *err = NULL;
  const char *mode = rootless ? "rootless" : "root";

  if (!tap_ok (crt_spec_parse (json, NULL, &s, &err) == 0, "default %s parses", mode)
      || !tap_ok (crt_spec_validate (s, &err) == 0, "default %s validates", mode))
    {
      printf ("#   %s\n", err->msg);
      crt_error_free (&err);
      return;
    }
  tap_ok (strncmp (json, "{\n\t\"ociVersion\": \"1.3.0\",\n\t\"process\": {\n\t\t\"terminal\": true,", 57)
          == 0, "default %s: runc's layout", mode);
  tap_ok (json[strlen (json) - 1] == '}', "default %s: no trailing newline", mode);
  tap_str_eq (s->hostname, "crt", "default hostname");
  tap_ok (s->process->capabilities->n_permitted == 3 && !s->process->capabilities->has_ambient
          && !s->process->capabilities->has_inheritable, "default caps");
  tap_ok (s->root->readonly && strcmp (s->root->path, "rootfs") == 0, "default root");
  TAP_INT_EQ (s->n_mounts, 7, "default mounts");
  TAP_INT_EQ (s->linux_->n_namespaces, 6, "default namespaces");
  tap_ok ((crt_spec_namespace (s, CRT_NS_CGROUP) != NULL)
          && (crt_spec_namespace (s, CRT_NS_NETWORK) == NULL) == rootless
          && (crt_spec_namespace (s, CRT_NS_USER) != NULL) == rootless,
          "default %s namespaces", mode);
  if (rootless)
    {
      tap_ok (s->linux_->n_uid_mappings == 1 && s->linux_->uid_mappings[0].host_id == geteuid ()
              && s->linux_->gid_mappings[0].host_id == getegid ()
              && s->linux_->uid_mappings[0].size == 1, "rootless maps the current user");
      tap_ok (strcmp (s->mounts[5].type, "none") == 0 && strcmp (s->mounts[5].options[0], "rbind") == 0,
              "rootless binds /sys");
      TAP_INT_EQ (s->mounts[2].n_options, 5, "rootless devpts without gid=5");
      tap_ok (s->linux_->resources == NULL, "rootless has no resources");
    }
  else
    tap_ok (s->linux_->resources->n_devices == 1 && !s->linux_->resources->devices[0].allow,
            "default denies devices");
}

static void
test_write_default (void)
{
  char dir[] = "/tmp/crt-test-spec-XXXXXX";
  cleanup_free char *path = NULL;
  crt_spec *s = NULL;
  crt_error *err = NULL;

  if (!tap_ok (mkdtemp (dir) != NULL, "mkdtemp"))
    return;
  path = crt_fmt ("%s/config.json", dir);
  tap_ok (crt_spec_write_default (dir, false, &err) == 0, "write default config.json");
  tap_ok (crt_spec_load (path, &s, &err) == 0, "written config.json loads");
  crt_spec_free (s);
  crt_error_free (&err);
  tap_ok (crt_spec_write_default (dir, true, &err) < 0, "refuses to overwrite");
  {
    cleanup_free char *want = crt_fmt ("%s: file exists; remove it first", path);
    tap_str_eq (err ? err->msg : NULL, want, "overwrite message");
  }
  crt_error_free (&err);
  unlink (path);
  rmdir (dir);
}

static void
test_standalone (void)
{
  crt_process *p = NULL;
  crt_resources *r = NULL;
  crt_error *err = NULL;

  tap_ok (crt_process_parse ("{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/tmp\",\"env\":[\"A=1\"],"
                             "\"user\":{\"uid\":5,\"gid\":6}}", "process.json", &p, &err) == 0
          && p->n_args == 2 && p->user.gid == 6, "crt_process_parse");
  crt_process_free (p);
  tap_ok (crt_process_parse ("{\"args\":[\"ls\"],\"cwd\":\"/\",\"user\":{\"uid\":-5}}",
                             "process.json", &p, &err) < 0 && p == NULL, "process error");
  tap_str_eq (err ? err->msg : NULL,
              "process.json: user.uid: expected an unsigned 32-bit integer", "process error message");
  crt_error_free (&err);
  /* A repeated key whose last occurrence is null: the earlier value wins
   * (the fuzzer found cwd NULL here, past the required-field check). */
  tap_ok (crt_process_parse ("{\"args\":[\"ls\"],\"cwd\":\"/w\",\"cwd\":null}", "-", &p, &err)
          == 0 && strcmp (p->cwd, "/w") == 0, "repeated key, then null: earlier value kept");
  crt_process_free (p);
  p = NULL;
  tap_ok (crt_process_parse ("{\"args\":[\"ls\"],\"cwd\":null,\"cwd\":null}", "-", &p, &err) < 0,
          "repeated key, null each time: missing");
  tap_str_eq (err ? err->msg : NULL, "-: cwd: required field is missing", "null each time message");
  crt_error_free (&err);
  tap_ok (crt_resources_parse ("{\"memory\":{\"limit\":-1},\"pids\":{\"limit\":10}}", "-", &r, &err)
          == 0 && r->memory->limit.value == -1 && r->pids_limit.value == 10, "crt_resources_parse");
  crt_resources_free (r);
  tap_ok (crt_resources_parse ("{\"cpu\":{\"shares\":-2}}", "resources", &r, &err) < 0,
          "resources error");
  tap_str_eq (err ? err->msg : NULL,
              "resources: cpu.shares: expected an unsigned 64-bit integer", "resources message");
  crt_error_free (&err);
}

static void
test_details (void)
{
  cleanup_spec crt_spec *s = NULL;
  crt_error *err = NULL;
  /* Unknown keys ignored, null as absent, repeated keys: last wins (no leak),
   * relative mount destination made absolute, windows/vm ignored. */
  static const char json[] =
    "{\"ociVersion\":\"1.3.0\",\"hostname\":\"a\",\"hostname\":\"b\",\"x-ext\":{\"y\":[1]},"
    "\"windows\":{\"layerFolders\":7},\"vm\":3,\"process\":null,"
    "\"mounts\":[{\"destination\":\"tmp\",\"options\":[\"a\"],\"options\":[\"b\",\"c\"]}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"uts\"}],\"personality\":{\"domain\":\"LINUX32\"},"
    "\"netDevices\":{\"eth1\":{\"name\":\"ceth\"},\"eth2\":{}},"
    "\"memoryPolicy\":{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\",\"flags\":[\"MPOL_F_STATIC_NODES\"]},"
    "\"intelRdt\":{\"closID\":\"g\",\"schemata\":[\"L3:0=f\"],\"enableMonitoring\":true}}}";

  if (!tap_ok (crt_spec_parse (json, NULL, &s, &err) == 0, "details parse"))
    {
      printf ("#   %s\n", err->msg);
      crt_error_free (&err);
      return;
    }
  tap_str_eq (s->hostname, "b", "repeated key: last wins");
  tap_ok (s->process == NULL, "null process is absent");
  tap_ok (s->n_mounts == 1 && strcmp (s->mounts[0].destination, "/tmp") == 0
          && s->mounts[0].n_options == 2, "relative destination made absolute");
  tap_ok (s->linux_->n_net_devices == 2 && strcmp (s->linux_->net_devices[0].host_name, "eth1") == 0
          && strcmp (s->linux_->net_devices[0].name, "ceth") == 0
          && s->linux_->net_devices[1].name == NULL, "netDevices");
  tap_ok (strcmp (s->linux_->personality->domain, "LINUX32") == 0
          && s->linux_->memory_policy->n_flags == 1 && s->linux_->intel_rdt->enable_monitoring
          && s->linux_->intel_rdt->n_schemata == 1, "personality, memoryPolicy, intelRdt");
  tap_ok (crt_spec_validate (s, &err) == 0, "details validate");
  crt_error_free (&err);
}

/* Repeated keys in objects too big to compare pairwise (over 32 keys:
 * json.c sorts their keys instead) follow the same rule as small ones. */
static void
test_repeated_keys_big_objects (void)
{
  cleanup_spec crt_spec *s = NULL;
  crt_process *p = NULL;
  crt_error *err = NULL;
  char *json = NULL, *proc = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&json, &len);
  bool ok = true;

  /* 40 annotations, a0..a39, then "a7" once more and "a20" twice: the
   * last value wins, in the place of the last occurrence. */
  fputs ("{\"ociVersion\":\"1.3.0\",\"annotations\":{", f);
  for (int i = 0; i < 40; i++)
    fprintf (f, "%s\"a%d\":\"v%d\"", i ? "," : "", i, i);
  fputs (",\"a7\":\"late\",\"a20\":\"x\",\"a20\":\"y\"}}", f);
  fclose (f);
  if (!tap_ok (crt_spec_parse (json, NULL, &s, &err) == 0, "big map with repeated keys parses"))
    {
      printf ("#   %s\n", err->msg);
      crt_error_free (&err);
    }
  else
    {
      ok = s->n_annotations == 40;
      for (size_t i = 0; ok && i < s->n_annotations; i++)
        {
          const crt_kv *kv = &s->annotations[i];
          if (strcmp (kv->key, "a7") == 0)
            ok = strcmp (kv->value, "late") == 0 && i == 38;
          else if (strcmp (kv->key, "a20") == 0)
            ok = strcmp (kv->value, "y") == 0 && i == 39;
        }
      tap_ok (ok, "big map: each repeated key once, its last value, at its last place");
    }
  free (json);

  /* A process object with 40 unknown keys: cwd given, then repeated with
   * null (kept), args repeated (the last wins). */
  f = open_memstream (&proc, &len);
  fputs ("{\"cwd\":\"/w\",\"args\":[\"a\"]", f);
  for (int i = 0; i < 40; i++)
    fprintf (f, ",\"x-%d\":%d", i, i);
  fputs (",\"cwd\":null,\"args\":[\"b\",\"c\"]}", f);
  fclose (f);
  tap_ok (crt_process_parse (proc, "-", &p, &err) == 0 && strcmp (p->cwd, "/w") == 0
          && p->n_args == 2 && strcmp (p->args[0], "b") == 0,
          "big object: the last non-null occurrence of a field wins");
  crt_error_free (&err);
  crt_process_free (p);
  free (proc);
}

static void
test_names (void)
{
  tap_str_eq (crt_ns_type_name (CRT_NS_NETWORK), "network", "ns name");
  TAP_INT_EQ (crt_ns_type_from_name ("cgroup"), CRT_NS_CGROUP, "ns from name");
  TAP_INT_EQ (crt_ns_type_from_name ("net"), -1, "ns from /proc name is unknown");
  tap_str_eq (crt_ns_proc_name (CRT_NS_MOUNT), "mnt", "ns proc name");
  tap_str_eq (crt_ns_proc_name (CRT_NS_NETWORK), "net", "ns proc name net");
  TAP_INT_EQ (crt_ns_clone_flag (CRT_NS_PID), CLONE_NEWPID, "clone flag pid");
  TAP_INT_EQ (crt_ns_clone_flag (CRT_NS_TIME), 0x80, "clone flag time");
  TAP_INT_EQ (crt_ns_clone_flag (CRT_NS_USER), CLONE_NEWUSER, "clone flag user");
  TAP_INT_EQ (crt_rlimit_from_name ("RLIMIT_RTTIME"), RLIMIT_RTTIME, "rlimit by name");
  TAP_INT_EQ (crt_rlimit_from_name ("NOFILE"), -1, "rlimit needs the prefix");
}

int
main (void)
{
  test_spec_parse_errors ();
  test_spec_validate_cases ();
  test_error_texts ();
  test_runc_spec ();
  test_podman_config ();
  test_default_spec (false);
  test_default_spec (true);
  test_write_default ();
  test_standalone ();
  test_details ();
  test_repeated_keys_big_objects ();
  test_names ();
  return tap_done ();
}
