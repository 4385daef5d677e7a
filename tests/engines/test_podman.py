"""podman (through conmon) driving crt: `podman --runtime crt run/exec/stop/
pause/rm`, exit codes, a terminal through --console-socket.

A private podman for the module with the cgroupfs manager and a
containers.conf of its own (tests/engines/podmanlib.py says what it sets
and why); tests/engines/test_engines_systemd_vm.py runs podman in its
default (systemd) configuration in the VM.
"""

import json
import os
import subprocess
import time

import pytest

from enginelib import CRT, rootfs_tar  # noqa: F401
from podmanlib import IMAGE, cgroup2_mount, podman_session


@pytest.fixture(scope="module")
def podman(rootfs_tar):  # noqa: F811
    with podman_session(rootfs_tar) as p:
        yield p


@pytest.fixture
def pm(podman):
    """podman for one test; afterwards no container may be left."""
    yield podman
    left = podman.container_ids()
    if left:
        podman("rm", "-af", "-t", "0")
        pytest.fail(f"test left podman containers: {left}")


def test_run_rm_prints_output(pm):
    cidfile = os.path.join(pm.base, "cid-run")
    r = pm.run("--rm", "--cidfile", cidfile, IMAGE, "sh", "-c", "echo hi; id; echo $$")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "hi", r
    assert lines[1].startswith("uid=0(root) gid=0(root)"), r
    assert lines[2] == "1", r
    with open(cidfile) as f:
        cid = f.read().strip()
    os.unlink(cidfile)
    # --rm: podman deleted it through `crt delete`, crt keeps no state.
    assert subprocess.run([CRT, "state", cid], capture_output=True).returncode != 0
    assert not os.path.exists(os.path.join(cgroup2_mount(), pm.cgroup_parent.lstrip("/"),
                                           f"libpod-{cid}"))


@pytest.mark.parametrize("code", [0, 7, 130])
def test_exit_code_passes_through(pm, code):
    r = pm.run("--rm", IMAGE, "sh", "-c", f"exit {code}")
    assert r.returncode == code, r


def test_missing_program_is_an_error(pm):
    r = pm.run("--rm", IMAGE, "/no/such/program")
    assert r.returncode in (126, 127), r
    assert "/no/such/program" in r.stderr, r


def test_detached_exec_stop_rm(pm):
    r = pm.run("-d", "--name", "trap", IMAGE, "sh", "-c",
               'trap "echo got-term; exit 0" TERM; echo ready; '
               "while :; do sleep 0.1; done")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    try:
        pm.wait_log("trap", "ready")
        assert pm.inspect("trap", "{{.State.Status}}") == "running"
        st = json.loads(subprocess.run([CRT, "state", cid], capture_output=True, text=True,
                                       check=True).stdout)
        assert st["status"] == "running"
        assert st["pid"] == int(pm.inspect("trap", "{{.State.Pid}}"))

        r = pm("exec", "trap", "sh", "-c", "echo in-exec; cat /proc/1/cmdline | tr '\\0' ' '")
        assert r.returncode == 0, r
        assert r.stdout.startswith("in-exec\nsh -c trap"), r
        r = pm("exec", "trap", "sh", "-c", "exit 3")
        assert r.returncode == 3, r

        t0 = time.monotonic()
        r = pm("stop", "-t", "20", "trap")
        took = time.monotonic() - t0
        assert r.returncode == 0, r
        # SIGTERM reached the trapping PID 1: it exited 0, no SIGKILL after 20s.
        assert took < 15, f"podman stop took {took:.1f}s"
        assert pm.inspect("trap", "{{.State.Status}}") == "exited"
        assert pm.inspect("trap", "{{.State.ExitCode}}") == "0"
        assert "got-term" in pm("logs", "trap").stdout
    finally:
        r = pm("rm", "-f", "trap")
    assert r.returncode == 0, r
    assert subprocess.run([CRT, "state", cid], capture_output=True).returncode != 0


def test_pause_unpause(pm):
    r = pm.run("-d", "--name", "sleeper", IMAGE, "sleep", "1000")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    events = os.path.join(cgroup2_mount(), pm.cgroup_parent.lstrip("/"), f"libpod-{cid}",
                          "cgroup.events")
    try:
        assert pm("pause", "sleeper").returncode == 0
        assert pm.inspect("sleeper", "{{.State.Status}}") == "paused"
        with open(events) as f:
            assert "frozen 1" in f.read()
        assert pm("unpause", "sleeper").returncode == 0
        assert pm.inspect("sleeper", "{{.State.Status}}") == "running"
        with open(events) as f:
            assert "frozen 0" in f.read()
        r = pm("kill", "sleeper")
        assert r.returncode == 0, r
        assert pm("wait", "sleeper").stdout.strip() == "137"
    finally:
        pm("rm", "-f", "sleeper")


def test_terminal(pm):
    # -t: conmon passes --console-socket and receives the pty master from crt.
    r = pm.run("--rm", "-t", IMAGE, "sh", "-c", "tty; echo ok; exit 5")
    assert r.returncode == 5, r
    assert r.stdout.replace("\r\n", "\n").startswith("/dev/pts/0\nok\n"), r
