"""`crt features`: the runtime-spec Features structure (features.md)."""

import json
import os
import re
import shutil
import subprocess

import pytest


HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop"]
NAMESPACES = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}
ACTIONS = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
           "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
           "SCMP_ACT_TRAP"}
OPERATORS = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
             "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}
# Keys spec 1.3 defines (features.md, features-linux.md): the document must
# not carry others.
TOP_KEYS = {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations",
            "potentiallyUnsafeConfigAnnotations"}
LINUX_KEYS = {"namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux",
              "intelRdt", "mountExtensions", "memoryPolicy", "netDevices"}
MPOL_MODES = ["MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
              "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL"]
MPOL_FLAGS = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]


@pytest.fixture
def features(crt):
    r = crt("features")
    assert r.returncode == 0, r
    assert r.stderr == "", r
    return r


def test_parses_and_has_the_spec_keys(features):
    doc = features.json()
    assert doc["ociVersionMin"] == "1.0.0"
    assert doc["ociVersionMax"] == "1.3.0"
    # Field for field: every key of 1.3 is there, and nothing else.
    assert set(doc) == TOP_KEYS, set(doc) ^ TOP_KEYS
    assert set(doc["linux"]) == LINUX_KEYS, set(doc["linux"]) ^ LINUX_KEYS
    for key in ("hooks", "mountOptions", "linux", "annotations"):
        assert key in doc, key


def test_pretty_printed_like_runc(features):
    lines = features.stdout.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert lines[1] == '    "ociVersionMin": "1.0.0",', lines[1]
    assert features.stdout.endswith("}\n")


def test_hooks_and_mount_options(features):
    doc = features.json()
    assert doc["hooks"] == HOOKS
    opts = doc["mountOptions"]
    for o in ("bind", "rbind", "ro", "rro", "nosuid", "rnosuid", "rprivate", "tmpcopyup",
              "idmap", "nosymfollow", "strictatime", "remount", "defaults"):
        assert o in opts, o
    assert len(opts) == len(set(opts)), "duplicate mount options"
    # File-system specific data options are not mount options of the spec.
    for o in ("mode=755", "size=65536k", "newinstance"):
        assert o not in opts


def test_namespaces_and_capabilities(features):
    lx = features.json()["linux"]
    assert set(lx["namespaces"]) == NAMESPACES
    caps = lx["capabilities"]
    for c in ("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_AUDIT_READ"):
        assert c in caps, c
    assert all(c.startswith("CAP_") and c == c.upper() for c in caps), caps
    # Every capability up to the running kernel's last one, in order.
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    assert len(caps) == last + 1, (len(caps), last)
    assert caps[0] == "CAP_CHOWN" and caps[21] == "CAP_SYS_ADMIN"


def test_cgroup_seccomp_and_lsm(crt, features):
    lx = features.json()["linux"]
    # The systemd driver, for the system manager and (rootless) the
    # user's, is in every build (crt speaks D-Bus itself), as runc says.
    assert lx["cgroup"] == {"v1": False, "v2": True, "systemd": True,
                            "systemdUser": True, "rdma": True}
    sc = lx["seccomp"]
    assert sc["enabled"] is True
    assert set(sc["actions"]) == ACTIONS
    assert set(sc["operators"]) == OPERATORS
    for a in ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"):
        assert a in sc["archs"], a
    assert "SECCOMP_FILTER_FLAG_LOG" in sc["knownFlags"]
    assert "SECCOMP_FILTER_FLAG_SPEC_ALLOW" in sc["knownFlags"]
    assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    assert "SECCOMP_FILTER_FLAG_LOG" in sc["supportedFlags"]  # kernel >= 4.14
    assert lx["apparmor"] == {"enabled": apparmor_enabled()}
    assert lx["selinux"] == {"enabled": os.path.exists("/sys/fs/selinux/enforce")}
    assert lx["mountExtensions"] == {"idmap": {"enabled": True}}


def apparmor_enabled():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return os.path.exists("/sys/kernel/security/apparmor") and f.read().startswith("Y")
    except OSError:
        return False


def test_spec_1_3_linux_features(features):
    """What crt applies, no more: linux.intelRdt is refused (with or
    without resctrl), so never enabled; network devices are moved; the
    memory policy names are the parser's; crt acts on no annotation."""
    doc = features.json()
    lx = doc["linux"]
    assert lx["intelRdt"] == {"enabled": False, "schemata": False, "monitoring": False}
    assert lx["netDevices"] == {"enabled": True}
    assert lx["memoryPolicy"] == {"modes": MPOL_MODES, "flags": MPOL_FLAGS}
    assert doc["potentiallyUnsafeConfigAnnotations"] == []


def test_annotations(features, crt):
    ann = features.json()["annotations"]
    version = crt("--version").stdout.split()[2]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    assert ann["io.github.crt.version"] == version
    assert all(isinstance(v, str) for v in ann.values())


def test_same_seccomp_names_as_runc(features):
    """runc (Debian's) is a reference for the names; crt may know more."""
    runc = shutil.which("runc")
    if runc is None:
        pytest.skip("runc not installed")
    ref = json.loads(subprocess.run([runc, "features"], capture_output=True, text=True,
                                    check=True).stdout)
    mine = features.json()
    assert set(ref["linux"]["seccomp"]["actions"]) <= set(mine["linux"]["seccomp"]["actions"])
    assert set(ref["linux"]["seccomp"]["operators"]) <= set(
        mine["linux"]["seccomp"]["operators"])
    assert set(ref["linux"]["capabilities"]) <= set(mine["linux"]["capabilities"])
    assert set(ref["linux"]["namespaces"]) <= set(mine["linux"]["namespaces"])


def test_takes_no_arguments(crt):
    r = crt("features", "extra")
    assert r.returncode != 0
    assert r.stdout == ""


def test_version_lines(crt):
    """As crun's: version, commit, spec, the features built in."""
    r = crt("--version")
    assert r.returncode == 0 and r.stderr == "", r
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"crt version \d+\.\d+\.\d+", lines[0]), lines
    assert re.fullmatch(r"commit: (unknown|\S+)", lines[1]), lines
    assert lines[2] == "spec: 1.3.0", lines
    # CRIU: + only with a criu that answers (test_checkpoint.py checks both ways).
    assert re.fullmatch(r"\+SYSTEMD \+SELINUX \+APPARMOR \+CAP \+SECCOMP \+EBPF \+YAJL [+-]CRIU",
                        lines[3]), lines
    # Built in a git checkout (build/src/crt of it): the commit is known.
    if os.path.exists(os.path.join(os.path.dirname(crt.binary), "..", "..", ".git")):
        assert lines[1] != "commit: unknown", lines
