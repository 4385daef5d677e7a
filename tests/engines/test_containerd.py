"""containerd driving crt through the io.containerd.runc.v2 shim, with crt
as the shim's runc binary (`ctr run --runc-binary`, the BinaryName of the
runc options): run, exit codes, exec, kill, pause/resume, a terminal.

A private containerd for the module with cgroupfs cgroups
(tests/engines/containerdlib.py says how it is isolated);
tests/engines/test_engines_systemd_vm.py runs it with SystemdCgroup in
the VM.
"""

import json
import os
import select
import shutil
import subprocess
import time

import pytest

from containerdlib import IMAGE, TIMEOUT, cgroup2_mount, containerd_session  # noqa: F401
from enginelib import rootfs_tar  # noqa: F401


@pytest.fixture(scope="module")
def ctd(rootfs_tar):  # noqa: F811
    with containerd_session(rootfs_tar) as c:
        yield c


@pytest.fixture
def ctr(ctd):
    """ctr for one test; afterwards no task or container may be left."""
    yield ctd
    left = list(ctd.tasks()) + ctd.containers()
    for cid in ctd.tasks():
        ctd("task", "kill", "-s", "SIGKILL", cid)
        ctd("task", "rm", "-f", cid)
    for cid in ctd.containers():
        ctd("container", "rm", cid)
    if left:
        pytest.fail(f"test left containerd tasks/containers: {left}")


def read_until(proc, text, timeout=20):
    """Read PROC's stdout until TEXT shows up; return what was read."""
    out = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in out:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            raise AssertionError(f"`{text}` not printed after {timeout}s: {out!r}")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise AssertionError(f"output ended before `{text}`: {out!r}")
        out += chunk
    return out.decode()


def test_run_rm_prints_output(ctr):
    r = ctr.run("hello", "sh", "-c", "echo hi; id; echo $$", flags=("--rm",))
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "hi", r
    assert lines[1].startswith("uid=0(root) gid=0(root)"), r
    assert lines[2] == "1", r
    assert ctr.crt("state", "hello").returncode != 0
    assert not os.path.exists(os.path.join(cgroup2_mount(), ctr.cgroup_parent.lstrip("/"),
                                           "hello"))


@pytest.mark.parametrize("code", [0, 7])
def test_exit_code_passes_through(ctr, code):
    r = ctr.run(f"exit{code}", "sh", "-c", f"exit {code}", flags=("--rm",))
    assert r.returncode == code, r


def test_exec_and_sigterm(ctr):
    proc = subprocess.Popen(
        ctr.argv(*ctr.run_args("trap", "--rm"), "sh", "-c",
                 'trap "echo got-term; exit 0" TERM; echo ready; '
                 "while :; do sleep 0.1; done"),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(proc, "ready")
        assert ctr.tasks() == {"trap": "RUNNING"}
        st = json.loads(ctr.crt("state", "trap").stdout)
        assert st["status"] == "running"

        r = ctr("task", "exec", "--exec-id", "e1", "trap", "sh", "-c",
                "echo in-exec; cat /proc/1/cmdline | tr '\\0' ' '; exit 3")
        assert r.returncode == 3, r
        assert r.stdout.startswith("in-exec\nsh -c trap"), r

        assert ctr("task", "kill", "-s", "SIGTERM", "trap").returncode == 0
        # SIGTERM reached the trapping PID 1, which exits 0; ctr run
        # returns the container's exit status.
        assert proc.wait(timeout=30) == 0
        assert "got-term" in proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            ctr("task", "kill", "-s", "SIGKILL", "trap")
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert ctr.crt("state", "trap").returncode != 0


def test_pause_resume(ctr):
    r = ctr.run("sleeper", "sleep", "1000", flags=("-d",))
    assert r.returncode == 0, r
    events = os.path.join(cgroup2_mount(), ctr.cgroup_parent.lstrip("/"), "sleeper",
                          "cgroup.events")
    try:
        assert ctr("task", "pause", "sleeper").returncode == 0
        assert ctr.tasks() == {"sleeper": "PAUSED"}
        with open(events) as f:
            assert "frozen 1" in f.read()
        assert ctr("task", "resume", "sleeper").returncode == 0
        assert ctr.tasks() == {"sleeper": "RUNNING"}
        with open(events) as f:
            assert "frozen 0" in f.read()
    finally:
        ctr("task", "kill", "-s", "SIGKILL", "sleeper")
        deadline = time.monotonic() + 20
        while ctr.tasks().get("sleeper") not in (None, "STOPPED") and time.monotonic() < deadline:
            time.sleep(0.1)
        ctr("task", "rm", "-f", "sleeper")
        ctr("container", "rm", "sleeper")


def test_terminal(ctr):
    # -t: the shim passes --console-socket and receives the pty master
    # from crt. ctr wants a terminal of its own: script(1) provides one.
    if shutil.which("script") is None:
        pytest.skip("script not installed (apt-get install bsdutils)")
    cmd = " ".join(ctr.argv(*ctr.run_args("tty", "--rm", "-t"), "sh", "-c", "'tty; exit 5'"))
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 5, r
    assert b"/dev/pts/0" in r.stdout, r
