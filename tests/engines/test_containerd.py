"""containerd driving crt through the io.containerd.runc.v2 shim, with crt
as the shim's runc binary (`ctr run --runc-binary`, the BinaryName of the
runc options): run, exit codes, exec, kill, pause/resume, a terminal.

A private containerd (root, state, sockets, opt dir under one temporary
directory; CRI and the aufs/btrfs/zfs/devmapper snapshotters disabled) is
started for the module. The image is an OCI layout built by hand from the
busybox-static tarball and imported with `ctr image import`; containers
use the native snapshotter (no overlay mounts) and `--runc-root` keeps
crt's state under the temporary directory too.

`--cpu-shares 0`: ctr puts linux.resources.cpu.shares = 1024 in every
config.json by default, and on a host whose cpu controller is bound to
cgroup v1 crt refuses it (crt manages only the v2 tree).

The shim keeps its sockets in /run/containerd/s (hard-wired in
containerd 1.6): that directory is removed at the end when this module
created it.
"""

import json
import os
import select
import shutil
import subprocess
import tempfile
import time

import pytest

from enginelib import (CRT, HostPaths, build_oci_archive, remove_cgroup_tree,  # noqa: F401
                       require, rootfs_tar, unmount_under)

TIMEOUT = 60
IMAGE = "localhost/crt-busybox:latest"
NAMESPACE = "crt-test"


def cgroup2_mount():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return "/sys/fs/cgroup/unified"


class Containerd:
    def __init__(self, base):
        self.base = base
        self.sock = os.path.join(base, "containerd.sock")
        self.runc_root = os.path.join(base, "runc")
        self.cgroup_parent = f"/crt-engines-ctd-{os.getpid()}"
        self.config = os.path.join(base, "config.toml")
        disabled = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp",
                    "io.containerd.internal.v1.tracing"]
        with open(self.config, "w") as f:
            f.write(f"""\
version = 2
root = {json.dumps(os.path.join(base, "root"))}
state = {json.dumps(os.path.join(base, "state"))}
disabled_plugins = {json.dumps(disabled)}

[grpc]
  address = {json.dumps(self.sock)}

[ttrpc]
  address = {json.dumps(self.sock + ".ttrpc")}

[debug]
  address = {json.dumps(os.path.join(base, "debug.sock"))}
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = {json.dumps(os.path.join(base, "opt"))}
""")
        self.log = open(os.path.join(base, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self("version").returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"containerd did not start: {self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self):
        with open(os.path.join(self.base, "containerd.log")) as f:
            return "".join(f.readlines()[-20:])

    def argv(self, *args):
        return ["ctr", "--address", self.sock, "--namespace", NAMESPACE, *args]

    def __call__(self, *args, check=False, timeout=TIMEOUT, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        r = subprocess.run(self.argv(*args), capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)}: exit {r.returncode}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def run_args(self, cid, *flags):
        """`ctr run` with crt as the shim's runc binary."""
        return ["run", "--snapshotter", "native", "--runc-binary", CRT,
                "--runc-root", self.runc_root, "--cpu-shares", "0",
                "--fifo-dir", os.path.join(self.base, "fifo"),
                "--cgroup", f"{self.cgroup_parent}/{cid}", *flags, IMAGE, cid]

    def run(self, cid, *cmd, flags=(), **kw):
        return self(*self.run_args(cid, *flags), *cmd, **kw)

    def crt(self, *args):
        return subprocess.run([CRT, "--root", os.path.join(self.runc_root, NAMESPACE), *args],
                              capture_output=True, text=True, timeout=TIMEOUT)

    def tasks(self):
        """{id: status} of the tasks containerd knows."""
        lines = self("task", "ls", check=True).stdout.splitlines()[1:]
        return {f[0]: f[-1] for f in (line.split() for line in lines) if f}

    def containers(self):
        return self("container", "ls", "-q", check=True).stdout.split()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def ctd(rootfs_tar):
    require("containerd", "ctr", "containerd-shim-runc-v2")
    host_paths = HostPaths(["/run/containerd"])
    base = tempfile.mkdtemp(prefix="crt-eng-ctd-", dir="/tmp")
    problems = []
    c = None
    try:
        c = Containerd(base)
        archive = build_oci_archive(rootfs_tar, os.path.join(base, "image.tar"), IMAGE)
        c("image", "import", "--snapshotter", "native", archive, check=True)
        yield c
    finally:
        if c is not None:
            for cid in c.tasks():
                problems.append(f"containerd task left: {cid}")
                c("task", "kill", "-s", "SIGKILL", cid)
                c("task", "rm", "-f", cid)
            for cid in c.containers():
                problems.append(f"containerd container left: {cid}")
                c("container", "rm", cid)
            r = c.crt("list", "--format", "json")
            for st in (json.loads(r.stdout) or []) if r.returncode == 0 and r.stdout.strip() else []:
                problems.append(f"crt still has container {st['id']}")
                c.crt("delete", "--force", st["id"])
            c("image", "rm", IMAGE)
            c.stop()
            problems += remove_cgroup_tree(c.cgroup_parent)
        mounts = unmount_under(base)
        if mounts:
            problems.append(f"mounts left under {base}: {mounts}")
        subprocess.run(["rm", "-rf", "--one-file-system", base])
        host_paths.cleanup()
    assert not problems, "containerd session left things behind:\n" + "\n".join(problems)


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
