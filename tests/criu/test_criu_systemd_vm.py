"""checkpoint/restore with the systemd cgroup driver, in the VM of
../shared/vm booted with systemd as PID 1 (-s; tests/run.sh session
"vm-systemd"):

  ../shared/vm/run-in-vm.sh -s -t 900 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/criu/test_criu_systemd_vm.py

`crt --systemd-cgroup restore` has systemd make the transient scope for
criu (as runc does), so the restored tree starts in it; the config's
limits are on the scope (its properties) and in its cgroup files. Then
podman in its default (systemd) configuration: `podman container
checkpoint` / `restore` with --runtime crt. Skipped where systemd is not
PID 1, crt has no systemd driver or `criu check` fails."""

import json
import os
import re
import sys

import pytest

ENGINES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engines")
sys.path.insert(0, ENGINES)
from enginelib import unit_properties as show  # noqa: E402
from enginelib import (rootfs_tar, systemd_is_pid1,  # noqa: E402,F401
                       systemd_units, wait_until)
from podmanlib import IMAGE as PODMAN_IMAGE  # noqa: E402
from podmanlib import podman_session  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from criulib import COUNTER, counter, counting, why_no_criu  # noqa: E402

MiB = 2 ** 20
_WHY = why_no_criu()
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not systemd_is_pid1() or not os.path.exists(
        "/sys/fs/cgroup/cgroup.controllers"),
        reason="needs systemd as PID 1 on pure cgroup v2 (run in ../shared/vm with -s)"),
    pytest.mark.skipif(_WHY is not None, reason=_WHY or ""),
]

SD = ("--systemd-cgroup",)


def read(path):
    with open(path) as f:
        return f.read().strip()


def cgroup_of(pid):
    return read(f"/proc/{pid}/cgroup")


def test_systemd_cgroup_checkpoint_restore(crt, bundle_factory, tmp_path):
    """The restored init is in the scope systemd made again, with the
    config's limits on the unit and in its cgroup; the counter goes on;
    delete stops the unit."""
    b = bundle_factory(("sh", "-c", COUNTER))
    cid = f"cr{os.getpid()}"
    unit = f"crtcriu-{cid}.scope"
    b.config["linux"]["cgroupsPath"] = f"system.slice:crtcriu:{cid}"
    b.config["linux"]["resources"] = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 40}}
    b.save()
    cg = f"/sys/fs/cgroup/system.slice/{unit}"
    try:
        r = crt("run", "-d", "-b", b.path, cid, global_args=SD)
        assert r.returncode == 0, r
        counting(b, 3)
        r = crt("checkpoint", "--image-path", str(tmp_path / "img"), cid, timeout=120,
                global_args=SD)
        assert r.returncode == 0, r
        frozen = counter(b)
        assert crt("delete", cid, global_args=SD).returncode == 0
        wait_until(f"{unit} gone", lambda: systemd_units(unit) == [], timeout=20)

        r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), cid,
                timeout=120, global_args=SD)
        assert r.returncode == 0, r
        st = crt.state(cid)
        assert st["status"] == "running"
        after = counting(b, frozen)
        assert frozen < after < frozen + 200, (frozen, after)
        # In the new scope (criu, whose pid systemd got, has exited).
        assert cgroup_of(st["pid"]) == f"0::/system.slice/{unit}"
        props = show(unit, "MemoryMax", "TasksMax", "Delegate", "ActiveState")
        assert props == {"MemoryMax": str(64 * MiB), "TasksMax": "40", "Delegate": "yes",
                         "ActiveState": "active"}, props
        assert read(f"{cg}/memory.max") == str(64 * MiB)
        assert read(f"{cg}/pids.max") == "40"
        procs = [int(x) for x in read(f"{cg}/cgroup.procs").split()]
        assert st["pid"] in procs
        r = crt("exec", cid, "cat", "/tmp/counter", global_args=SD)
        assert r.returncode == 0 and int(r.stdout) >= after, r
        assert crt("delete", "-f", cid, global_args=SD).returncode == 0
        wait_until(f"{unit} gone", lambda: systemd_units(unit) == [], timeout=20)
    finally:
        crt("delete", "-f", cid, global_args=SD)


@pytest.fixture(scope="module")
def podman(rootfs_tar):  # noqa: F811
    with podman_session(rootfs_tar, systemd=True) as p:
        yield p


def _numbers(pm, name):
    return [int(x) for x in pm("logs", name, check=True).stdout.split()]


def test_podman_systemd_checkpoint_restore(podman):
    """podman's default configuration (cgroup_manager systemd):
    machine.slice:libpod:<id>; the restored container is in its
    libpod-<id>.scope again, with its memory limit, and counts on."""
    pm = podman
    r = pm.run("-d", "--name", "cr", "--memory", "64m", PODMAN_IMAGE, "sh", "-c",
               "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    unit = f"libpod-{cid}.scope"
    try:
        wait_until("output", lambda: len(_numbers(pm, "cr")) >= 3)
        r = pm("container", "checkpoint", "cr", timeout=180)
        assert r.returncode == 0, r
        assert pm.inspect("cr", "{{.State.Status}}") == "exited"
        before = _numbers(pm, "cr")
        r = pm("container", "restore", "cr", timeout=180)
        assert r.returncode == 0, r
        assert pm.inspect("cr", "{{.State.Status}}") == "running"
        wait_until("output after restore", lambda: len(_numbers(pm, "cr")) > len(before) + 2)
        after = _numbers(pm, "cr")
        assert after == list(range(1, len(after) + 1)), after
        pid = int(pm.inspect("cr", "{{.State.Pid}}"))
        assert cgroup_of(pid) == f"0::/machine.slice/{unit}"
        assert show(unit, "MemoryMax", "ActiveState") == {"MemoryMax": str(64 * MiB),
                                                          "ActiveState": "active"}
        assert read(f"{pm.cgroup_dir(cid)}/memory.max") == str(64 * MiB)
        st = json.loads(pm.crt("state", cid).stdout)
        assert st["status"] == "running" and st["pid"] == pid
    finally:
        pm("rm", "-f", "-t", "0", "cr")
    wait_until(f"{unit} gone", lambda: systemd_units(unit) == [], timeout=20)


def test_podman_systemd_terminal_checkpoint_restore(podman):
    """podman run -t: conmon holds the pty master; the restored container
    gets a new pty whose master crt sends to conmon's console socket, and
    its output goes on in podman's log."""
    pm = podman
    r = pm.run("-d", "-t", "--name", "crt-tty", PODMAN_IMAGE, "sh", "-c",
               "i=0; while true; do i=$((i+1)); echo n$i; sleep 0.1; done")
    assert r.returncode == 0, r
    cid = r.stdout.strip()

    def nums():
        out = pm("logs", "crt-tty", check=True).stdout
        return [int(x) for x in re.findall(r"n(\d+)", out)]
    try:
        wait_until("output", lambda: len(nums()) >= 3)
        r = pm("container", "checkpoint", "crt-tty", timeout=180)
        assert r.returncode == 0, r
        last = nums()[-1]
        r = pm("container", "restore", "crt-tty", timeout=180)
        assert r.returncode == 0, r
        assert pm.inspect("crt-tty", "{{.State.Status}}") == "running"
        wait_until("output after restore", lambda: nums()[-1] > last + 2)
        after = nums()
        first_new = after[after.index(last) + 1] if last in after else None
        assert first_new == last + 1, (last, after[-20:])
        r = pm("exec", "crt-tty", "readlink", "/proc/1/fd/1")
        assert r.returncode == 0 and r.stdout.strip().startswith("/dev/pts/"), r
    finally:
        pm("rm", "-f", "-t", "0", "crt-tty")
    wait_until(f"libpod-{cid}.scope gone", lambda: systemd_units(f"libpod-{cid}.scope") == [],
               timeout=20)
