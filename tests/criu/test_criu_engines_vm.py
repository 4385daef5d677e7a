"""The engines' checkpoint/restore with crt as their runtime, in the VM of
../shared/vm (cgroupfs, no systemd; tests/run.sh session "vm"):

  ../shared/vm/run-in-vm.sh -t 900 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/criu/test_criu_engines_vm.py

podman (`container checkpoint` / `restore`, through conmon), containerd
(`ctr container checkpoint --task` / `restore --live`, through its runc
shim) and Docker (experimental `docker checkpoint create` / `start
--checkpoint`, whose libnetwork-setkey prestart hook runs at restore).
Skipped where `criu check` fails."""

import json
import os
import sys
import time

import pytest

from crt_integration_conftest import wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from criulib import COUNTER, why_no_criu  # noqa: E402

_WHY = why_no_criu()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")


# ---- podman `container checkpoint` / `container restore` with crt ----------

ENGINES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engines")
sys.path.insert(0, ENGINES)
from enginelib import rootfs_tar  # noqa: E402,F401  (a fixture)
from podmanlib import IMAGE as PODMAN_IMAGE  # noqa: E402
from podmanlib import podman_session  # noqa: E402


@pytest.fixture
def podman(rootfs_tar):  # noqa: F811
    """podman (cgroupfs) with crt as its runtime; the session fails on
    any container, crt state, mount, cgroup or host path left behind."""
    with podman_session(rootfs_tar) as p:
        yield p


def _numbers(pm, name):
    return [int(x) for x in pm("logs", name, check=True).stdout.split()]


def test_podman_checkpoint_restore(podman):
    pm = podman
    pm.run("-d", "--name", "cr", PODMAN_IMAGE, "sh", "-c",
           "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done", check=True)
    wait_for(lambda: len(_numbers(pm, "cr")) >= 3, timeout=30, what="podman container output")
    pm("container", "checkpoint", "cr", check=True)
    assert pm.inspect("cr", "{{.State.Status}}") == "exited"
    before = _numbers(pm, "cr")
    pm("container", "restore", "cr", check=True)
    assert pm.inspect("cr", "{{.State.Status}}") == "running"
    wait_for(lambda: len(_numbers(pm, "cr")) > len(before) + 2, timeout=30,
             what="output after restore")
    after = _numbers(pm, "cr")
    # One count on: no restart from 1, nothing lost or repeated.
    assert after == list(range(1, len(after) + 1)), after
    # (--leave-running and exec are the crt tests' above: podman is slow
    # under TCG, and the VM budget is tight.)
    pm("rm", "-f", "-t", "0", "cr", check=True)


# ---- containerd (io.containerd.runc.v2 shim, crt as its runc binary) --------

@pytest.fixture
def ctd(tmp_path_factory):
    import sys
    sys.path.insert(0, ENGINES)
    import enginelib                    # noqa: E402
    from containerdlib import containerd_session
    tar = str(tmp_path_factory.mktemp("ctd-image") / "rootfs.tar")
    enginelib.build_rootfs_tar(tar)
    with containerd_session(tar) as c:
        yield c


def test_containerd_checkpoint_restore(ctd):
    """`ctr container checkpoint --task` (the shim: crt checkpoint
    --leave-running --file-locks --work-path ...) and `ctr container
    restore --live` (crt restore --detach -no-subreaper ... on a fresh
    snapshot of the image): the restored task counts on from its memory,
    not from 1."""
    c = ctd
    ref = "localhost/crt-ckpt:1"

    def count():
        r = c("task", "exec", "--exec-id", f"cat{time.monotonic_ns()}", "cr", "cat",
              "/tmp/counter")
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip() else 0
    try:
        r = c.run("cr", "sh", "-c", COUNTER, flags=("-d",))
        assert r.returncode == 0, r
        wait_for(lambda: count() >= 20, timeout=60, what="counter at 20")
        before = count()
        r = c("container", "checkpoint", "--task", "cr", ref, timeout=180)
        assert r.returncode == 0, (r.stdout, r.stderr, c.log_tail())
        assert c.tasks().get("cr") == "RUNNING"
        c("task", "kill", "-s", "SIGKILL", "cr", check=True)
        wait_for(lambda: c.tasks().get("cr") == "STOPPED", timeout=30, what="task stopped")
        c("task", "rm", "cr", check=True)
        c("container", "rm", "cr", check=True)
        r = c("container", "restore", "--live", "cr", ref, timeout=180)
        assert r.returncode == 0, (r.stdout, r.stderr, c.log_tail())
        assert c.tasks().get("cr") == "RUNNING"
        wait_for(lambda: count() > before, timeout=60, what=f"counter above {before}")
    finally:
        if "cr" in c.tasks():
            c("task", "kill", "-s", "SIGKILL", "cr")
            wait_for(lambda: c.tasks().get("cr") != "RUNNING", timeout=30, what="task stopped")
            c("task", "rm", "-f", "cr")
        if "cr" in c.containers():
            c("container", "rm", "cr")
        c("image", "rm", ref)


# ---- Docker (experimental `docker checkpoint`) --------------------------------

@pytest.fixture
def docker(tmp_path_factory):
    import sys
    sys.path.insert(0, ENGINES)
    import enginelib                    # noqa: E402
    from dockerlib import docker_session
    tar = str(tmp_path_factory.mktemp("docker-image") / "rootfs.tar")
    enginelib.build_rootfs_tar(tar)
    with docker_session(tar, experimental=True) as d:
        yield d


def test_docker_checkpoint_start(docker):
    """`docker checkpoint create` (crt checkpoint through containerd's
    shim) and `docker start --checkpoint`: dockerd's libnetwork hook runs
    again at restore (prestart/createRuntime at criu's setup-namespaces)
    and the counter goes on from its memory."""
    from dockerlib import IMAGE
    d = docker

    def count():
        r = d("exec", "cr", "cat", "/tmp/counter")
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip() else 0
    try:
        r = d.run("-d", "--name", "cr", "--network", "none", IMAGE, "sh", "-c", COUNTER)
        assert r.returncode == 0, r
        st = d.crt("state", d.inspect("cr", "{{.Id}}"))
        assert st.returncode == 0, st
        with open(os.path.join(json.loads(st.stdout)["bundle"], "config.json")) as f:
            hooks = json.load(f).get("hooks", {})
        print("dockerd's hooks:", hooks)
        # libnetwork-setkey: a prestart (or createRuntime) hook of dockerd's.
        assert any("libnetwork-setkey" in h.get("args", []) for k in ("prestart", "createRuntime")
                   for h in hooks.get(k, [])), hooks
        wait_for(lambda: count() >= 20, timeout=60, what="counter at 20")
        before = count()
        r = d("checkpoint", "create", "cr", "cp1", timeout=180)
        assert r.returncode == 0, (r, d.log_tail())
        assert d.inspect("cr", "{{.State.Status}}") == "exited"
        r = d("start", "--checkpoint", "cp1", "cr", timeout=180)
        assert r.returncode == 0, (r, d.log_tail())
        assert d.inspect("cr", "{{.State.Status}}") == "running"
        wait_for(lambda: count() > before, timeout=60, what=f"counter above {before}")
    finally:
        d("rm", "-f", "cr")
