"""podman, Docker and containerd driving crt in their systemd
configuration, on a systemd + pure cgroup v2 host: the VM of ../shared/vm
booted with systemd as PID 1 (-s), the same boot as
tests/cgroup/test_systemd_vm.py (tests/run.sh, session "vm-systemd"):

  ../shared/vm/run-in-vm.sh -s -t 900 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/engines/test_engines_systemd_vm.py

  * podman in its default configuration (no containers.conf: cgroup_manager
    systemd), only `--runtime <crt>`: machine.slice:libpod:<id>;
  * dockerd with `--exec-opt native.cgroupdriver=systemd`, crt its
    default runtime: system.slice:docker:<id>;
  * containerd's io.containerd.runc.v2 shim with BinaryName = crt and
    SystemdCgroup (`ctr run --runc-binary --runc-systemd-cgroup`), in
    kubelet's cgroupsPath form kubepods-besteffort.slice:cri-containerd:<id>.

Each engine passes --systemd-cgroup to crt, crt asks systemd for the
scope; the tests read the scope's properties back from systemd, its
cgroup files, and the limits' effect inside the container. Every test
is a whole story on one container: each container start costs seconds
under TCG.
"""

import json
import os
import time

import pytest

from containerdlib import containerd_session
from dockerlib import IMAGE as DOCKER_IMAGE
from dockerlib import docker_session
from enginelib import unit_properties as show
from enginelib import (rootfs_tar, systemd_is_pid1,  # noqa: F401
                       systemd_units, wait_until)
from podmanlib import IMAGE as PODMAN_IMAGE
from podmanlib import podman_session

MiB = 2 ** 20


def pure_cgroup2():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not systemd_is_pid1() or not pure_cgroup2(),
                       reason="needs systemd as PID 1 on pure cgroup v2 "
                              "(run in ../shared/vm with -s)"),
]


def read(path):
    with open(path) as f:
        return f.read().strip()


def wait_gone(unit):
    """A stopped transient scope leaves systemd's list: delete waited for it."""
    wait_until(f"{unit} gone", lambda: systemd_units(unit) == [], timeout=20)


# PID 1 traps TERM and exits 0; "ready" once it runs. It forks nothing
# after the start, so a test that fills pids.max does not kill it.
TRAP = ('trap "echo got-term; exit 0" TERM; echo ready; sleep 1000 & wait')
# 40 background sleeps: with pids.max 32 the shell's forks fail (and it
# gives up); the sleeps that did start end by themselves.
FORK_40 = "for i in $(seq 40); do sleep 4 & done; echo all-forked"


# --- podman ------------------------------------------------------------------

@pytest.fixture(scope="module")
def podman(rootfs_tar):  # noqa: F811
    with podman_session(rootfs_tar, systemd=True) as p:
        yield p


def test_podman_default_config(podman):
    pm = podman
    # Exit codes of run --rm; the scope is gone afterwards.
    r = pm.run("--rm", PODMAN_IMAGE, "sh", "-c", "echo hi; exit 7")
    assert r.returncode == 7 and r.stdout == "hi\n", r

    r = pm.run("-d", "--name", "lim", "--memory", "64m", "--pids-limit", "32", PODMAN_IMAGE,
               "sh", "-c", TRAP)
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    unit = f"libpod-{cid}.scope"
    try:
        pm.wait_log("lim", "ready")
        props = show(unit, "MemoryMax", "TasksMax", "Delegate", "Slice", "ActiveState")
        assert props == {"MemoryMax": str(64 * MiB), "TasksMax": "32", "Delegate": "yes",
                         "Slice": "machine.slice", "ActiveState": "active"}, props
        cg = pm.cgroup_dir(cid)
        assert read(f"{cg}/memory.max") == str(64 * MiB)
        assert read(f"{cg}/pids.max") == "32"
        # crt knows it under podman's root, with the scope's cgroup.
        st = json.loads(pm.crt("state", cid).stdout)
        assert st["status"] == "running" and st["pid"] == int(pm.inspect("lim", "{{.State.Pid}}"))
        with open(f"/proc/{st['pid']}/cgroup") as f:
            assert f.read().strip() == f"0::/machine.slice/{unit}"

        # The limits hold inside: a 96 MiB buffer is OOM-killed, 16 MiB is
        # fine; 40 forks stop at 32 tasks.
        r = pm("exec", "lim", "dd", "if=/dev/zero", "of=/dev/null", "bs=16M", "count=1")
        assert r.returncode == 0, r
        r = pm("exec", "lim", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1")
        assert r.returncode == 137, r
        assert "oom_kill 1" in read(f"{cg}/memory.events")
        r = pm("exec", "lim", "sh", "-c", FORK_40)
        assert r.returncode != 0 and "all-forked" not in r.stdout, r
        assert int(read(f"{cg}/pids.current")) <= 32
        assert int(read(f"{cg}/pids.events").split()[-1]) > 0  # "max N": forks refused
        wait_until("the sleeps ended", lambda: int(read(f"{cg}/pids.current")) <= 2)

        # pause/unpause freeze the scope's cgroup.
        assert pm("pause", "lim").returncode == 0
        assert pm.inspect("lim", "{{.State.Status}}") == "paused"
        assert "frozen 1" in read(f"{cg}/cgroup.events")
        assert pm("unpause", "lim").returncode == 0
        assert "frozen 0" in read(f"{cg}/cgroup.events")

        # stop: SIGTERM reaches the trapping PID 1, which exits 0 at once.
        t0 = time.monotonic()
        r = pm("stop", "-t", "30", "lim")
        assert r.returncode == 0, r
        assert time.monotonic() - t0 < 20
        assert pm.inspect("lim", "{{.State.ExitCode}}") == "0"
        assert "got-term" in pm("logs", "lim").stdout
    finally:
        pm("rm", "-f", "lim")
    wait_gone(unit)
    assert pm.crt("state", cid).returncode != 0


def test_podman_init(podman):
    # --init: podman binds catatonit in as PID 1, the command is its child.
    r = podman.run("--rm", "--init", PODMAN_IMAGE, "sh", "-c",
                   "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$; exit 4")
    assert r.returncode == 4, r
    first, pid = r.stdout.splitlines()
    assert first.startswith("/run/podman-init -- sh -c"), r
    assert pid != "1", r


# --- Docker --------------------------------------------------------------------

@pytest.fixture(scope="module")
def docker(rootfs_tar):  # noqa: F811
    with docker_session(rootfs_tar, systemd=True) as d:
        yield d


def test_docker_systemd_driver(docker):
    dk = docker
    # The volume, made by a root container for the app's uid 1001.
    r = dk.run("--rm", "-v", "crtvol:/data", DOCKER_IMAGE, "chown", "1001", "/data")
    assert r.returncode == 0, r
    r = dk.run("-d", "--name", "web", "--memory", "64m", "--pids-limit", "32",
               "--cpus", "0.5", "-e", "GREETING=hello", "-u", "1001", "-v", "crtvol:/data",
               "--health-cmd", "test -f /data/up", "--health-interval", "1s",
               "--health-retries", "60", DOCKER_IMAGE, "sh", "-c",
               'echo "$GREETING $(id -u)" > /data/up; ' + TRAP)
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    unit = f"docker-{cid}.scope"
    try:
        dk.wait_for("web ready", lambda: "ready" in dk("logs", "web").stdout)
        props = show(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec", "Delegate", "Slice")
        assert props == {"MemoryMax": str(64 * MiB), "TasksMax": "32",
                         "CPUQuotaPerSecUSec": "500ms", "Delegate": "yes",
                         "Slice": "system.slice"}, props
        cg = dk.cgroup_dir(cid)
        assert read(f"{cg}/memory.max") == str(64 * MiB)
        assert read(f"{cg}/pids.max") == "32"
        assert read(f"{cg}/cpu.max").split() == ["50000", "100000"]
        # The health check runs through `crt exec` every second.
        try:
            dk.wait_for("web healthy",
                        lambda: dk.inspect("web", "{{.State.Health.Status}}") == "healthy",
                        timeout=60)
        finally:
            print("health:", dk.inspect("web", "{{json .State.Health}}"))
        r = dk("exec", "web", "sh", "-c", "cat /data/up; id -u; echo $GREETING; exit 3")
        assert r.returncode == 3 and r.stdout == "hello 1001\n1001\nhello\n", r
        r = dk("exec", "web", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1")
        assert r.returncode == 137, r
        # Where AppArmor is on (the VM's kernel), dockerd asks for its
        # profile and crt applies it to the init and to exec'd processes.
        if os.path.exists("/sys/kernel/security/apparmor"):
            r = dk("exec", "web", "cat", "/proc/1/attr/current", "/proc/self/attr/current")
            assert r.stdout.splitlines() == ["docker-default (enforce)"] * 2, r

        t0 = time.monotonic()
        r = dk("stop", "-t", "30", "web")
        assert r.returncode == 0, r
        assert time.monotonic() - t0 < 20
        assert dk.inspect("web", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
        assert "got-term" in dk("logs", "web").stdout
        wait_gone(unit)
        assert not os.path.exists(cg)
    finally:
        dk("rm", "-f", "web")
    # The volume outlives the container, written by uid 1001.
    r = dk.run("--rm", "-v", "crtvol:/data", DOCKER_IMAGE, "stat", "-c", "%u %n", "/data/up")
    assert r.returncode == 0 and r.stdout == "1001 /data/up\n", r
    assert dk("volume", "rm", "crtvol").returncode == 0


def test_docker_build_default_runtime(docker):
    ctx = os.path.join(docker.base, "build")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"""\
FROM {DOCKER_IMAGE}
RUN echo built > /built && echo app:x:1001:1001::/home/app:/bin/sh >> /etc/passwd \\
    && mkdir -p /home/app && chown 1001 /home/app
USER 1001
RUN id -u > /home/app/whoami
CMD ["sh", "-c", "cat /built /home/app/whoami"]
""")
    r = docker("build", "--rm=false", "-t", "crt-built", ctx, timeout=300)
    try:
        assert r.returncode == 0, r
        steps = docker("ps", "-aq", "--no-trunc", "--filter", "status=exited").stdout.split()
        assert len(steps) == 2, (steps, r.stdout)
        for cid in steps:
            assert docker.inspect(cid, "{{.HostConfig.Runtime}} {{.State.ExitCode}}") == "crt 0"
        r = docker.run("--rm", "crt-built")
        assert r.returncode == 0 and r.stdout == "built\n1001\n", r
    finally:
        steps = docker("ps", "-aq", "--no-trunc").stdout.split()
        if steps:
            docker("rm", "-f", *steps)
        docker("rmi", "-f", "crt-built")


# --- containerd ----------------------------------------------------------------

@pytest.fixture(scope="module")
def ctd(rootfs_tar):  # noqa: F811
    with containerd_session(rootfs_tar, systemd=True) as c:
        yield c


def test_containerd_systemd_cgroup(ctd):
    cid = "sdweb"
    unit = f"cri-containerd-{cid}.scope"
    r = ctd.run(cid, "sh", "-c", TRAP, flags=("-d", "--memory-limit", str(64 * MiB)))
    assert r.returncode == 0, r
    try:
        wait_until("task running", lambda: ctd.tasks().get(cid) == "RUNNING")
        props = show(unit, "MemoryMax", "Delegate", "Slice", "ControlGroup")
        assert props == {"MemoryMax": str(64 * MiB), "Delegate": "yes",
                         "Slice": "kubepods-besteffort.slice",
                         "ControlGroup": f"/kubepods.slice/kubepods-besteffort.slice/{unit}"}, props
        assert read(f"{ctd.cgroup_dir(cid)}/memory.max") == str(64 * MiB)

        r = ctd("task", "exec", "--exec-id", "e1", cid, "sh", "-c",
                "cat /proc/1/cmdline | tr '\\0' ' '; exit 3")
        assert r.returncode == 3 and r.stdout.startswith("sh -c trap"), r
        # The shim reads the metrics from the scope's cgroup.
        r = ctd("task", "metrics", "--format", "json", cid)
        assert r.returncode == 0, r
        print("metrics:", r.stdout)
        m = json.loads(r.stdout)
        data = m.get("Data", m.get("data", m))
        assert data["memory"]["usage_limit"] == 64 * MiB, m
        assert data["pids"]["current"] >= 1, m

        assert ctd("task", "kill", "-s", "SIGTERM", cid).returncode == 0
        wait_until("task stopped", lambda: ctd.tasks().get(cid) == "STOPPED")
        r = ctd("task", "rm", cid)
        assert r.returncode == 0, r
        wait_gone(unit)
    finally:
        if ctd.tasks().get(cid):
            ctd("task", "kill", "-s", "SIGKILL", cid)
            ctd("task", "rm", "-f", cid)
        ctd("container", "rm", cid)
    assert ctd.crt("state", cid).returncode != 0
