"""The systemd cgroup driver against a real systemd: run in the VM of
../shared/vm booted with systemd as PID 1 (-s), one boot for the module:

  ../shared/vm/run-in-vm.sh -s -t 600 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cgroup/test_systemd_vm.py

The scope systemd makes is read back with systemctl (its properties) and
through its cgroup (the limits hold: an OOM kill, a fork loop stopped).
Skipped where systemd is not PID 1.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "engines"))
import cgutil  # noqa: E402
from enginelib import SYSTEMD_VM_MARKS  # noqa: E402
from enginelib import unit_properties as show  # noqa: E402
from cgutil import ALLOCATOR, CRT, allocate, read, wait_for  # noqa: E402


pytestmark = SYSTEMD_VM_MARKS

MiB = 2 ** 20
# As in test_cgroup_vm.py: a 48 MiB dd each time /tmp/go appears.


class SystemdCrt(cgutil.Crt):
    """crt --systemd-cgroup for every command."""

    def cmd(self, *args, **kw):
        return super().cmd("--systemd-cgroup", *args, **kw)

    def argv(self, *args):
        return [CRT, "--root", self.root, "--systemd-cgroup", *args]

    def run_detached(self, bundle, cid=None):
        cid = cid or self.new_id("sd")
        out = os.path.join(self.workdir, cid + ".out")
        with open(out, "w") as log:
            r = subprocess.run(self.argv("run", "-d", "--bundle", bundle, cid),
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=60)
        assert r.returncode == 0, read(out)
        return cid


def crt_units():
    """Every scope systemd knows of crt's prefixes here, in any state (the
    slices made for them stay, as with runc)."""
    out = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend",
                          "crt-*.scope", "crttest-*.scope"], capture_output=True,
                         text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not os.access(CRT, os.X_OK):
        pytest.fail(f"no crt binary at {CRT}: set CRT_BINARY")
    # systemd is still starting units when the test begins; dbus is up.
    c = SystemdCrt(str(tmp_path_factory.mktemp("sdvm")))
    yield c
    c.cleanup()


@pytest.fixture
def crt(env):
    yield env
    env.cleanup()
    env.ids.clear()
    assert crt_units() == []


def test_scope_properties_limits_update_delete(crt):
    """One container for the whole story (each boot second counts): a
    nested slice, the properties systemd shows, the limits holding,
    update changing both, and delete removing the unit."""
    cid = crt.new_id("sd")
    unit = f"crttest-{cid}.scope"
    res = {"memory": {"limit": 32 * MiB, "swap": 32 * MiB},
           "pids": {"limit": 10},
           "cpu": {"shares": 512, "quota": 33333, "period": 100000, "cpus": "0"}}
    # A boolean, against its default (until crt's own D-Bus client, a
    # boolean annotation always went out as false).
    ann = {"org.systemd.property.TimeoutStopSec": "7",
           "org.systemd.property.CollectMode": "'inactive-or-failed'",
           "org.systemd.property.SendSIGHUP": "true"}

    def mutate(c):
        c["annotations"] = ann

    b = crt.bundle(ALLOCATOR, resources=res, cgroups_path=f"crt-test.slice:crttest:{cid}",
                   mutate=mutate)
    crt.run_detached(b, cid)
    pid = crt.state(cid)["pid"]

    props = show(unit, "MemoryMax", "MemorySwapMax", "TasksMax", "CPUWeight", "AllowedCPUs",
                 "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "Delegate", "Slice",
                 "ControlGroup", "TimeoutStopUSec", "CollectMode", "SendSIGHUP", "ActiveState")
    print("properties:", json.dumps(props, sort_keys=True))
    # a-b.slice lives in a.slice/a-b.slice.
    cgroup = "/crt.slice/crt-test.slice/" + unit
    assert props["ControlGroup"] == cgroup
    assert props["Slice"] == "crt-test.slice"
    assert props["ActiveState"] == "active" and props["Delegate"] == "yes"
    assert props["MemoryMax"] == str(32 * MiB)
    assert props["MemorySwapMax"] == "0"
    assert props["TasksMax"] == "10"
    assert props["CPUWeight"] == "20"              # runc's map of 512 shares
    assert props["AllowedCPUs"] == "0"
    # 33.333 % rounded up to systemd's whole percent, cpu.max with it.
    assert props["CPUQuotaPerSecUSec"] == "340ms"
    assert props["CPUQuotaPeriodUSec"] == "100ms"
    assert props["TimeoutStopUSec"] == "7s" and props["CollectMode"] == "inactive-or-failed"
    assert props["SendSIGHUP"] == "yes"
    assert read(f"/proc/{pid}/cgroup").strip() == "0::" + cgroup
    d = cgutil.cgroup_dir(cgroup)
    assert read(d + "/cpu.max").split() == ["34000", "100000"]
    assert read(d + "/memory.max").strip() == str(32 * MiB)
    # The cgroup namespace is rooted in the scope.
    r = crt.cmd("exec", cid, "cat", "/proc/self/cgroup")
    assert r.stdout.strip() == "0::/"

    # The limits hold: the 48 MiB allocation is OOM-killed...
    assert allocate(pid, 1) == 137
    assert "oom_kill 1" in read(d + "/memory.events")
    # ...and a fork loop stops at pids.max.
    # (the sleeps must not hold crt exec's output open)
    loop = ("i=0; while [ $i -lt 40 ]; do sleep 1000 </dev/null >/dev/null 2>&1 & "
            "i=$((i+1)); done")
    crt.cmd("exec", cid, "sh", "-c", loop + " 2>/dev/null; true", check=False)
    n = len(read(d + "/cgroup.procs").split())
    print(f"processes under TasksMax=10 after a 40-fork loop: {n}")
    assert 8 <= n <= 10
    assert int(read(d + "/pids.events").split()[1]) > 0

    # update: live, on the unit and in the files.
    crt.cmd("update", "--memory", "128m", "--memory-swap", "128m", "--pids-limit", "20",
            "--cpu-quota", "50000", cid)
    props = show(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec")
    print("after update:", json.dumps(props, sort_keys=True))
    assert props == {"MemoryMax": str(128 * MiB), "TasksMax": "20", "CPUQuotaPerSecUSec": "500ms"}
    assert read(d + "/memory.max").strip() == str(128 * MiB)
    assert read(d + "/pids.max").strip() == "20"
    assert allocate(pid, 2) == 0
    stats = json.loads(crt.cmd("events", "--stats", cid).stdout)["data"]
    assert stats["memory"]["usage"]["limit"] == 128 * MiB and stats["pids"]["limit"] == 20

    # pause, ps, kill --all work on the scope's cgroup.
    crt.cmd("pause", cid)
    assert crt.state(cid)["status"] == "paused"
    crt.cmd("resume", cid)
    ps = crt.cmd("ps", "--format", "json", cid)
    assert pid in json.loads(ps.stdout)

    start = time.monotonic()
    crt.cmd("delete", "--force", cid)
    print(f"delete --force: {time.monotonic() - start:.2f}s")
    assert crt_units() == []
    assert not os.path.exists(d)


def test_failed_create_leaves_no_unit(crt):
    """The init fails after systemd made the scope: the unit goes too."""
    cid = crt.new_id("sd")
    b = crt.bundle(["/no/such/program"], resources={"pids": {"limit": 5}})
    r = subprocess.run(crt.argv("create", "--bundle", b, cid), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "/no/such/program" in r.stderr, r
    assert crt_units() == []
    assert not os.path.exists(os.path.join(crt.root, cid))
    # A resource the files refuse, after the unit exists: the same.
    b = crt.bundle(["true"], resources={"unified": {"no.such": "1"}})
    r = subprocess.run(crt.argv("create", "--bundle", b, cid), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "no.such" in r.stderr, r
    assert crt_units() == []
    # A foreground run deletes its container, and the unit with it.
    b = crt.bundle(["sh", "-c", "cat /proc/self/cgroup; exit 3"], resources={"pids": {"limit": 5}})
    r = subprocess.run(crt.argv("run", "--bundle", b, cid), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 3 and r.stdout == "0::/\n", r
    assert crt_units() == []
    assert not os.path.exists(os.path.join(crt.root, cid))


def test_kill_9_during_create_then_delete_force(crt, tmp_path):
    """crt dies while its hook runs (the scope exists, the state is not
    written): delete --force still finds and removes the unit. The
    default cgroupsPath is system.slice:crt:<id>."""
    cid = crt.new_id("sd")
    unit = f"crt-{cid}.scope"
    hook_pid = tmp_path / "hook.pid"

    def mutate(c):
        c["linux"].pop("cgroupsPath", None)
        c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
            "sh", "-c", f"echo $$ > {hook_pid}; exec sleep 60"]}]}

    b = crt.bundle(["true"], mutate=mutate)
    p = subprocess.Popen(crt.argv("create", "--bundle", b, cid), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: hook_pid.exists() and read(str(hook_pid)).strip(), timeout=60)
        assert show(unit, "ActiveState")["ActiveState"] == "active"
        assert show(unit, "ControlGroup")["ControlGroup"] == f"/system.slice/{unit}"
        p.send_signal(signal.SIGKILL)
        p.wait()
    finally:
        if hook_pid.exists():
            try:
                os.kill(int(read(str(hook_pid))), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        if p.poll() is None:
            p.kill()
            p.wait()
    assert os.path.isdir(os.path.join(crt.root, cid))
    r = subprocess.run(crt.argv("delete", "--force", cid), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert crt_units() == []
    assert not os.path.exists(os.path.join(crt.root, cid))
