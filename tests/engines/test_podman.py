"""podman (through conmon) driving crt: `podman --runtime crt run/exec/stop/
pause/rm`, exit codes, a terminal through --console-socket.

Podman runs with private storage (--root/--runroot/--tmpdir under one
temporary directory, vfs driver: no overlay mounts), no network, and a
containers.conf of its own (CONTAINERS_CONF) that:

  * names crt as the runtime and lists it in runtime_supports_json, so
    podman passes `--log-format=json --log FILE` and reads crt's errors;
  * sets pids_limit = 0: podman's default limit (2048) puts
    linux.resources.pids in config.json, and on a host whose pids
    controller is bound to cgroup v1 crt refuses it (crt manages only the
    v2 tree). `--pids-limit=0` on the command line is not enough: podman
    still writes {"pids": {"limit": 0}};
  * lowers default_ulimits: as root podman asks for RLIMIT_NOFILE and
    RLIMIT_NPROC 1048576, which no runtime can set without
    CAP_SYS_RESOURCE above the current hard limit (setrlimit: EPERM).

Containers go under a cgroup parent named after this session, removed at
the end (podman's cgroupfs manager puts conmon in <parent>/conmon of every
v1 hierarchy, crt the container in <parent>/libpod-ID of the v2 tree).
"""

import json
import os
import subprocess
import tempfile
import time

import pytest

from enginelib import (CRT, HostPaths, remove_cgroup_tree, require,  # noqa: F401
                       rootfs_tar, unmount_under)

TIMEOUT = 60
IMAGE = "localhost/crt-busybox:latest"

# Where podman (as root) writes outside its --root/--runroot/--tmpdir.
PODMAN_HOST_PATHS = ["/run/libpod", "/run/containers", "/var/lib/containers"]


def cgroup2_mount():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return "/sys/fs/cgroup/unified"


class Podman:
    def __init__(self, base):
        self.base = base
        self.cgroup_parent = f"/crt-engines-{os.getpid()}"
        self.conf = os.path.join(base, "containers.conf")
        with open(self.conf, "w") as f:
            f.write(f"""\
[containers]
pids_limit = 0
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
cgroups = "enabled"

[engine]
runtime = "crt"
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime_supports_json = ["crt"]

[engine.runtimes]
crt = [{json.dumps(CRT)}]

[network]
network_config_dir = {json.dumps(os.path.join(base, "networks"))}
""")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        self.global_args = [
            "podman", "--root", os.path.join(base, "storage"),
            "--runroot", os.path.join(base, "run"),
            "--tmpdir", os.path.join(base, "tmp"),
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
        ]
        # For run/create: no network, our own cgroup parent.
        self.run_args = ["--network", "none", f"--cgroup-parent={self.cgroup_parent}"]

    def __call__(self, *args, check=False, timeout=TIMEOUT, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        r = subprocess.run(self.global_args + list(args), env=self.env, capture_output=True,
                           text=True, timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def run(self, *args, **kw):
        return self("run", *self.run_args, *args, **kw)

    def container_ids(self):
        return self("ps", "-aq", "--no-trunc", check=True).stdout.split()

    def inspect(self, name, fmt):
        return self("inspect", name, "--format", fmt, check=True).stdout.strip()

    def wait_log(self, name, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self("logs", name)
            if text in r.stdout:
                return
            time.sleep(0.1)
        raise AssertionError(f"{name}: `{text}` not in its log after {timeout}s")


def crt_containers_in(base):
    """IDs crt (default --root) still knows whose bundle is under BASE."""
    r = subprocess.run([CRT, "list", "--format", "json"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    if r.returncode != 0 or not r.stdout.strip():
        return []
    return [c["id"] for c in json.loads(r.stdout) or []
            if c.get("bundle", "").startswith(base)]


@pytest.fixture(scope="module")
def podman(rootfs_tar):
    require("podman", "conmon")
    host_paths = HostPaths(PODMAN_HOST_PATHS)
    base = tempfile.mkdtemp(prefix="crt-eng-podman-", dir="/tmp")
    p = Podman(base)
    problems = []
    try:
        p("import", "-q", rootfs_tar, IMAGE, check=True)
        yield p
    finally:
        leftover = p.container_ids()
        if leftover:
            problems.append(f"podman containers left: {leftover}")
            p("rm", "-af", "-t", "0")
        p("rmi", "-af")
        for cid in crt_containers_in(base):
            problems.append(f"crt still has container {cid}")
            subprocess.run([CRT, "delete", "--force", cid], capture_output=True, timeout=TIMEOUT)
        mounts = unmount_under(base)
        if mounts:
            problems.append(f"mounts left under {base}: {mounts}")
        subprocess.run(["rm", "-rf", "--one-file-system", base])
        problems += remove_cgroup_tree(p.cgroup_parent)
        host_paths.cleanup()
    assert not problems, "podman session left things behind:\n" + "\n".join(problems)


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
