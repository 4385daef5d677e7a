"""What the container can see of the host and of crt: nothing of crt's
state directory, the bundle, another container's state, the host's mount
namespace or a host fd, from the init and from an exec'd process.

A runtime that bind-mounted its state dir or bundle into the container,
left a host fd open, or forgot the mount namespace fails one of these
(crt 05a0bc6 passed them; the cwd escapes are in test_cwd_escape.py)."""

import os

import pytest

PROBE = (
    "cat /proc/self/mountinfo; echo ===; ls -l /proc/self/fd; echo ===; "
    "readlink /proc/self/ns/mnt; readlink /proc/self/root; echo ===; "
    "ls /proc/1/fd; echo ===; ls / ; echo ===; "
    "find / -xdev -name state.json -o -xdev -name config.json 2>/dev/null; echo ==="
)


@pytest.fixture
def two(crt, bundle_factory):
    a = bundle_factory(("sleep", "1000"))
    b = bundle_factory(("sleep", "1000"))
    crt("run", "--detach", "--bundle", a.path, "iso-a", check=True)
    crt("run", "--detach", "--bundle", b.path, "iso-b", check=True)
    yield a, b
    crt("delete", "--force", "iso-a")
    crt("delete", "--force", "iso-b")


def sections(out):
    return out.split("===\n")


@pytest.mark.parametrize("how", ["init", "exec"])
def test_nothing_of_crt_or_the_host_is_visible(crt, two, test_dirs, how):
    a, b = two
    if how == "init":
        r = crt("exec", "iso-a", "sh", "-c", PROBE)
    else:
        r = crt("exec", "-u", "1001:1001", "iso-a", "sh", "-c", PROBE)
    assert r.returncode == 0, r
    mountinfo, fds, ns, init_fds, root_ls, found, _ = sections(r.stdout)
    for line in mountinfo.splitlines():
        f = line.split()
        mount_root, mount_point = f[3], f[4]
        # The rootfs mount shows its path in its filesystem as its root
        # (runc's and crun's too); nothing else of the host may appear.
        if mount_point == "/":
            assert mount_root == a.rootfs, line
            continue
        for host_path in (test_dirs.root, test_dirs.tmp, "/run/crt"):
            assert not mount_point.startswith(host_path), line
            assert not mount_root.startswith(host_path), line
    # Beyond stdio (the caller's, handed over on purpose) only the fd ls
    # reads /proc/self/fd with, which has no target by then.
    extra = [line for line in fds.splitlines()
             if "->" in line and line.split("->")[0].split()[-1] not in ("0", "1", "2")]
    assert extra == [], fds
    mnt_ns, root_link = ns.split()
    assert mnt_ns != os.readlink("/proc/self/ns/mnt")
    assert root_link == "/"
    assert init_fds.split() in (["0", "1", "2"], []), init_fds
    assert "state.json" not in found and "config.json" not in found, found


def test_state_dir_and_bundle_are_not_reachable_by_path(crt, two, test_dirs):
    a, b = two
    paths = [test_dirs.root, os.path.join(test_dirs.root, "iso-b"), b.path, b.rootfs,
             "/proc/1/root" + b.rootfs]
    script = "; ".join(f"ls -d {p} 2>/dev/null && echo REACHED {p}" for p in paths)
    r = crt("exec", "iso-a", "sh", "-c", script + "; true")
    assert r.returncode == 0, r
    assert "REACHED" not in r.stdout, r.stdout


def test_other_container_processes_are_invisible(crt, two):
    """Separate pid namespaces: container A sees only its own processes."""
    r = crt("exec", "iso-a", "sh", "-c", "ls /proc | grep -E '^[0-9]+$' | wc -l")
    assert r.returncode == 0, r
    # sleep (1), the shell, ls, grep, wc: a handful, not the host's.
    assert int(r.stdout) < 8, r.stdout
