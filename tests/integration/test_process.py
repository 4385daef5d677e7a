"""The container's process: user, groups, env, cwd, hostname, limits,
capabilities, namespaces — each read from inside the container."""

import os
import socket

import pytest

from conftest import APP_GID, APP_UID


def run_sh(crt, bundle, script, **process):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.config["process"].update(process)
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    return r.stdout


def test_pid_is_1(crt, bundle):
    assert run_sh(crt, bundle, "echo $$") == "1\n"


def test_user_and_groups(crt, bundle):
    out = run_sh(crt, bundle, "id -u; id -g; id -G; id -un",
                 user={"uid": APP_UID, "gid": APP_GID, "additionalGids": [2000, 2001]})
    uid, gid, groups, name = out.splitlines()
    assert int(uid) == APP_UID
    assert int(gid) == APP_GID
    assert {2000, 2001} <= {int(g) for g in groups.split()}
    assert 0 not in {int(g) for g in groups.split()}, "root's groups must be dropped"
    assert name == "app"


def test_user_ids_all_set(crt, bundle):
    # Real, effective, saved and filesystem ids all switched.
    out = run_sh(crt, bundle, "grep -E '^(Uid|Gid|Groups):' /proc/self/status",
                 user={"uid": APP_UID, "gid": APP_GID})
    fields = {line.split(":")[0]: line.split()[1:] for line in out.splitlines()}
    assert fields["Uid"] == [str(APP_UID)] * 4
    assert fields["Gid"] == [str(APP_GID)] * 4
    assert fields["Groups"] == []


def test_env(crt, bundle):
    env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY=", "WITH_EQ=a=b"]
    out = run_sh(crt, bundle, "env", env=env)
    lines = set(out.splitlines())
    for e in env:
        assert e in lines, out


def test_env_path_used_for_lookup(crt, bundle):
    # args[0] without a slash is looked up in the container's PATH.
    os.makedirs(bundle.in_rootfs("/opt/tools"))
    with open(bundle.in_rootfs("/opt/tools/hello"), "w") as f:
        f.write("#!/bin/sh\necho hello-from-tools\n")
    os.chmod(bundle.in_rootfs("/opt/tools/hello"), 0o755)
    bundle.config["process"]["args"] = ["hello"]
    bundle.config["process"]["env"] = ["PATH=/opt/tools:/bin"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "hello-from-tools\n"


def test_home_set_from_passwd_when_missing(crt, bundle):
    out = run_sh(crt, bundle, "echo HOME=$HOME", user={"uid": APP_UID, "gid": APP_GID},
                 env=["PATH=/bin"])
    assert out == "HOME=/home/app\n"


def test_cwd(crt, bundle):
    out = run_sh(crt, bundle, "pwd", cwd="/home/app")
    assert out == "/home/app\n"


def test_cwd_created_if_missing(crt, bundle):
    out = run_sh(crt, bundle, "pwd", cwd="/does/not/exist")
    assert out == "/does/not/exist\n"


def test_hostname(crt, bundle):
    bundle.config["hostname"] = "box-1"
    out = run_sh(crt, bundle, "hostname; cat /proc/sys/kernel/hostname")
    assert out == "box-1\nbox-1\n"
    assert socket.gethostname() != "box-1"


def test_domainname(crt, bundle):
    bundle.config["domainname"] = "example.org"
    out = run_sh(crt, bundle, "cat /proc/sys/kernel/domainname")
    assert out == "example.org\n"


def test_rlimits(crt, bundle):
    out = run_sh(crt, bundle, "ulimit -Sn; ulimit -Hn; ulimit -Sc",
                 rlimits=[{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
                          {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}])
    assert out.split() == ["123", "456", "0"]


def test_rlimit_invalid_name(crt, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode != 0
    assert "RLIMIT_BOGUS" in r.stderr, r


def test_capabilities(crt, bundle):
    caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]  # bits 10 and 5
    out = run_sh(crt, bundle, "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status",
                 capabilities={"bounding": caps, "effective": caps, "permitted": caps})
    fields = {line.split(":")[0]: int(line.split()[1], 16) for line in out.splitlines()}
    want = (1 << 10) | (1 << 5)
    assert fields["CapEff"] == want, out
    assert fields["CapPrm"] == want, out
    assert fields["CapBnd"] == want, out
    assert fields["CapInh"] == 0 and fields["CapAmb"] == 0, out


def test_capabilities_for_non_root_user(crt, bundle):
    caps = ["CAP_NET_BIND_SERVICE"]
    out = run_sh(crt, bundle, "grep -E '^Cap(Prm|Eff|Bnd|Amb):' /proc/self/status",
                 user={"uid": APP_UID, "gid": APP_GID},
                 capabilities={"bounding": caps, "effective": caps, "permitted": caps,
                               "ambient": caps, "inheritable": caps})
    fields = {line.split(":")[0]: int(line.split()[1], 16) for line in out.splitlines()}
    assert fields["CapEff"] == 1 << 10, out
    assert fields["CapAmb"] == 1 << 10, out


def test_no_capabilities_root_cannot_chown(crt, bundle):
    out = run_sh(crt, bundle, "touch /tmp/f; chown 1001 /tmp/f 2>/dev/null && echo chowned || echo denied",
                 capabilities={"bounding": [], "effective": [], "permitted": []})
    assert out == "denied\n"


def test_unknown_capability(crt, bundle):
    # Refused, or (runc's choice, for configs written for newer kernels)
    # ignored with a warning: never silently.
    bundle.config["process"]["capabilities"]["bounding"].append("CAP_BOGUS")
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert "CAP_BOGUS" in r.stderr, r


@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(crt, bundle, nnp):
    out = run_sh(crt, bundle, "grep NoNewPrivs /proc/self/status", noNewPrivileges=nnp)
    assert out.split() == ["NoNewPrivs:", "1" if nnp else "0"]


def test_oom_score_adj(crt, bundle):
    out = run_sh(crt, bundle, "cat /proc/self/oom_score_adj", oomScoreAdj=123)
    assert out == "123\n"


def test_umask(crt, bundle):
    out = run_sh(crt, bundle, "umask", user={"uid": 0, "gid": 0, "umask": 0o077})
    assert out.strip() in ("0077", "077")


NS = ["pid", "ipc", "uts", "mnt", "net"]
SPEC_NAME = {"mnt": "mount", "net": "network"}


def test_namespaces_are_new(crt, bundle):
    out = run_sh(crt, bundle, " ; ".join(f"readlink /proc/self/ns/{n}" for n in NS))
    inside = out.split()
    for n, link in zip(NS, inside):
        assert link != os.readlink(f"/proc/self/ns/{n}"), f"{n} namespace shared with host"


@pytest.mark.parametrize("ns", ["ipc", "uts", "net"])
def test_namespace_omitted_is_shared(crt, bundle, ns):
    bundle.drop_namespace(SPEC_NAME.get(ns, ns))
    if ns == "uts":
        del bundle.config["hostname"]  # a hostname needs its own uts namespace
    out = run_sh(crt, bundle, f"readlink /proc/self/ns/{ns}")
    assert out.strip() == os.readlink(f"/proc/self/ns/{ns}")


def test_namespace_joined_by_path(crt, bundle_factory):
    # A second container joins the first one's uts namespace by path.
    b1 = bundle_factory(["sh", "-c", "touch /started; while :; do sleep 0.1; done"])
    b1.config["hostname"] = "shared-uts"
    b1.save()
    assert crt("run", "-d", "--bundle", b1.path, "first").returncode == 0
    try:
        pid = crt.state("first")["pid"]
        b2 = bundle_factory(["hostname"])
        b2.config.pop("hostname")
        b2.config["linux"]["namespaces"] = [
            n if n["type"] != "uts" else {"type": "uts", "path": f"/proc/{pid}/ns/uts"}
            for n in b2.config["linux"]["namespaces"]]
        b2.save()
        r = crt("run", "--bundle", b2.path, "second")
        assert r.returncode == 0, r
        assert r.stdout == "shared-uts\n"
    finally:
        assert crt("delete", "--force", "first").returncode == 0


def test_hostname_in_joined_uts_namespace(crt, bundle_factory):
    # hostname with a uts namespace joined by path: set in that namespace
    # (runc does; runtime-tools linux_ns_path expects it).
    b1 = bundle_factory(["sh", "-c", "while :; do sleep 0.1; done"])
    assert crt("run", "-d", "--bundle", b1.path, "first").returncode == 0
    try:
        pid = crt.state("first")["pid"]
        b2 = bundle_factory(["sh", "-c", "hostname; readlink /proc/self/ns/uts"])
        b2.config["hostname"] = "joined"
        b2.config["linux"]["namespaces"] = [
            n if n["type"] != "uts" else {"type": "uts", "path": f"/proc/{pid}/ns/uts"}
            for n in b2.config["linux"]["namespaces"]]
        b2.save()
        r = crt("run", "--bundle", b2.path, "second")
        assert r.returncode == 0, r
        assert r.stdout == f"joined\n{os.readlink(f'/proc/{pid}/ns/uts')}\n"
    finally:
        assert crt("delete", "--force", "first").returncode == 0


def test_network_namespace_has_only_loopback(crt, bundle):
    out = run_sh(crt, bundle, "ls /sys/class/net")
    assert out.split() == ["lo"]


def test_sysctl(crt, bundle):
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1",
                                        "kernel.shmmni": "1234"}
    out = run_sh(crt, bundle, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni")
    assert out.split() == ["1", "1234"]
