"""Rootless crt with the systemd driver against a real user manager: run
in the VM of ../shared/vm booted with systemd as PID 1 (-s):

  ../shared/vm/run-in-vm.sh -s -t 600 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cgroup/test_rootless_systemd_vm.py

A user made for the module gets a lingering user manager (loginctl
enable-linger); crt runs as that user inside the manager's tree (systemd-run
--user), so the manager may move the container into the scope it makes.
Then rootless podman (its default configuration, vfs storage, no network)
runs crt as its runtime the same way: podman runs crt as root in its own
user namespace, and crt asks the user's manager for libpod-ID.scope.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "engines"))
from enginelib import SYSTEMD_VM_MARKS, build_rootfs_tar  # noqa: E402

CRT = os.path.abspath(os.environ.get("CRT_BINARY", "build/src/crt"))
BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin")
MiB = 2 ** 20


pytestmark = SYSTEMD_VM_MARKS + [
    pytest.mark.skipif(BUSYBOX is None, reason="needs busybox-static"),
]


class User:
    def __init__(self, name):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, pw.pw_uid, pw.pw_gid
        self.xdg = f"/run/user/{self.uid}"
        self.dir = tempfile.mkdtemp(prefix="crt-rlsd-")
        os.chmod(self.dir, 0o755)
        os.chown(self.dir, self.uid, self.gid)

    def run(self, argv, timeout=60, props=()):
        """argv as the user, in a transient service of the user's manager
        (PROPS: more unit properties)."""
        env = ["env", f"XDG_RUNTIME_DIR={self.xdg}",
               f"DBUS_SESSION_BUS_ADDRESS=unix:path={self.xdg}/bus"]
        cmd = (["runuser", "-u", self.name, "--"] + env
               + ["systemd-run", "--user", "--quiet", "--wait", "--pipe", "--collect",
                  "-p", f"Environment=XDG_RUNTIME_DIR={self.xdg}"]
               + [a for p in props for a in ("-p", p)] + list(argv))
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def run_detached(self, argv, log, timeout=60, props=()):
        """As run, with the container's stdio (crt's, for run -d) on the
        file LOG instead of systemd-run's pipe, which the container would
        keep open and systemd-run --pipe wait for."""
        r = self.run(["/bin/sh", "-c", 'exec "$0" "$@" >"$LOG" 2>&1 </dev/null'.replace(
            "$LOG", log), *argv], timeout=timeout, props=props)
        with open(log) as f:
            r.stderr += f.read()
        return r


@pytest.fixture(scope="module")
def user():
    name = "crtsd" + uuid.uuid4().hex[:6]
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    u = User(name)
    try:
        subprocess.run(["loginctl", "enable-linger", name], check=True, capture_output=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            active = subprocess.run(["systemctl", "is-active", f"user@{u.uid}.service"],
                                    capture_output=True, text=True).stdout.strip()
            if active == "active" and os.path.exists(f"{u.xdg}/bus"):
                break
            time.sleep(0.5)
        else:
            pytest.skip("the user manager (user@UID.service) did not come up")
        yield u
    finally:
        subprocess.run(["loginctl", "disable-linger", name], capture_output=True)
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
        shutil.rmtree(u.dir, ignore_errors=True)


def make_bundle(u, cid, args, resources=None):
    path = os.path.join(u.dir, cid)
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp"):
        os.mkdir(os.path.join(rootfs, d))
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    for a in ("sh", "dd", "cat", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", a))
    subprocess.run(["chown", "-R", f"{u.uid}:{u.gid}", path], check=True)
    r = subprocess.run(["runuser", "-u", u.name, "--", CRT, "spec", "--rootless", "-b", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = list(args)
    config["linux"]["cgroupsPath"] = f"user.slice:crt:{cid}"
    if resources:
        config["linux"]["resources"] = resources
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    return path


def crt_argv(u, *args):
    return [CRT, "--root", f"{u.xdg}/crt-test", "--systemd-cgroup", *args]


def test_scope_in_the_user_manager(user):
    b = make_bundle(user, "rl1", ["sleep", "1000"], {"memory": {"limit": 64 * MiB}})
    r = user.run_detached(crt_argv(user, "run", "-d", "--bundle", b, "rl1"),
                          os.path.join(b, "rl1.log"))
    assert r.returncode == 0, r.stderr
    try:
        st = user.run(crt_argv(user, "state", "rl1"))
        assert st.returncode == 0, st.stderr
        pid = json.loads(st.stdout)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            cg = f.read().strip().split("::", 1)[1]
        assert cg.startswith(f"/user.slice/user-{user.uid}.slice/user@{user.uid}.service/"), cg
        assert cg.endswith("/crt-rl1.scope"), cg
        assert os.stat(f"/sys/fs/cgroup{cg}").st_uid == user.uid  # delegated
        with open(f"/sys/fs/cgroup{cg}/memory.max") as f:
            assert int(f.read()) == 64 * MiB
        shown = subprocess.run(["runuser", "-u", user.name, "--", "env",
                                f"XDG_RUNTIME_DIR={user.xdg}", "systemctl", "--user", "show",
                                "-p", "MemoryMax", "crt-rl1.scope"],
                               capture_output=True, text=True).stdout.strip()
        assert shown == f"MemoryMax={64 * MiB}"
    finally:
        d = user.run(crt_argv(user, "delete", "-f", "rl1"))
    assert d.returncode == 0, d.stderr
    assert not os.path.exists(f"/sys/fs/cgroup{cg}")


def test_memory_limit_enforced(user):
    """A 48 MiB buffer under a 32 MiB limit (no swap): the OOM killer."""
    b = make_bundle(user, "rl2", ["dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1"],
                    {"memory": {"limit": 32 * MiB, "swap": 32 * MiB}})
    r = user.run(crt_argv(user, "run", "--bundle", b, "rl2"), timeout=120)
    assert r.returncode == 137, (r.stdout, r.stderr)  # SIGKILL of the OOM killer
    # The same container without the limit runs to its end.
    b = make_bundle(user, "rl3", ["dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1"])
    r = user.run(crt_argv(user, "run", "--bundle", b, "rl3"), timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)


# --------------------------------------------------------------------------
# rootless podman (Debian's 4.3, through conmon) with crt as its runtime
# --------------------------------------------------------------------------

PODMAN_IMAGE = "localhost/crt-busybox:latest"
# PID 1 traps TERM and exits 0; "ready" once it runs.
TRAP = 'trap "echo got-term; exit 0" TERM; echo ready; sleep 1000 & wait'
# podman 4.3 leaves conmon in the cgroup of the unit podman ran in (in a
# login session: the session's scope, which lives on). A transient
# service's stop would kill it with podman: only podman itself is
# stopped, conmon stays until its container ends.
KEEP_CONMON = ("KillMode=process",)


class RootlessPodman:
    """podman as the user in its default rootless configuration (its
    storage in ~/.local/share/containers, cgroup_manager systemd on the
    user bus) with `--runtime <crt>`; vfs storage (no fuse-overlayfs
    here), no network (no slirp4netns: --network none)."""

    def __init__(self, u):
        self.user = u
        self.argv = ["podman", "--storage-driver", "vfs", "--runtime", CRT]

    def __call__(self, *args, timeout=120, props=()):
        return self.user.run(self.argv + list(args), timeout=timeout, props=props)

    def run(self, *args, **kw):
        return self("run", "--network", "none", *args, **kw)

    def detached(self, *args, log):
        return self.user.run_detached(self.argv + ["run", "--network", "none", "-d", *args],
                                      log, timeout=120, props=KEEP_CONMON)

    def inspect(self, name, fmt):
        r = self("inspect", name, "--format", fmt)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def units(self):
        r = subprocess.run(["runuser", "-u", self.user.name, "--", "env",
                            f"XDG_RUNTIME_DIR={self.user.xdg}", "systemctl", "--user",
                            "list-units", "--all", "--plain", "--no-legend", "libpod-*"],
                           capture_output=True, text=True)
        return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def user_processes(u, name):
    r = subprocess.run(["pgrep", "-u", str(u.uid), "-x", name], capture_output=True, text=True)
    return r.stdout.split()


@pytest.fixture(scope="module")
def podman(user):
    for prog in ("podman", "conmon"):
        if shutil.which(prog) is None:
            pytest.skip(f"{prog} not installed")
    if subprocess.run(["grep", "-q", f"^{user.name}:", "/etc/subuid"]).returncode != 0:
        pytest.skip("useradd gave the user no /etc/subuid range")
    tar = build_rootfs_tar(os.path.join(user.dir, "rootfs.tar"))
    os.chmod(tar, 0o644)
    p = RootlessPodman(user)
    r = p("import", "-q", tar, PODMAN_IMAGE)
    assert r.returncode == 0, r.stderr
    yield p
    problems = []
    left = p("ps", "-aq").stdout.split()
    if left:
        problems.append(f"podman containers left: {left}")
        p("rm", "-af", "-t", "0")
    p("rmi", "-af")
    if p.units():
        problems.append(f"units left in the user manager: {p.units()}")
    if user_processes(user, "conmon"):
        problems.append("conmon still running")
    crt_root = f"{user.xdg}/crt"
    # (.seccomp, crt's seccomp filter cache, outlives containers by design)
    left = [e for e in os.listdir(crt_root) if e != ".seccomp"] if os.path.isdir(crt_root) else []
    if left:
        problems.append(f"crt state left: {left}")
    assert not problems, problems


def test_podman_rootless_run(podman, user):
    """Limits through the delegated cgroup, exit codes through conmon."""
    r = podman.run("--rm", "--memory", "64m", PODMAN_IMAGE, "sh", "-c",
                   "cat /sys/fs/cgroup/memory.max; cat /proc/self/uid_map; id -u; exit 7")
    assert r.returncode == 7, (r.stdout, r.stderr)
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    assert lines[0] == str(64 * MiB), lines
    # podman's own user namespace: root is the user, 1.. its subuids.
    assert lines[1] == f"0 {user.uid} 1" and lines[2].startswith("1 "), lines
    assert lines[-1] == "0"
    # A 48 MiB buffer under 32 MiB (no swap): the OOM killer, 137.
    r = podman.run("--rm", "--memory", "32m", "--memory-swap", "32m", PODMAN_IMAGE,
                   "dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1")
    assert r.returncode == 137, (r.stdout, r.stderr)
    r = podman.run("--rm", PODMAN_IMAGE, "dd", "if=/dev/zero", "of=/dev/null", "bs=48M",
                   "count=1")
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_podman_rootless_exec_stop_rm(podman, user):
    log = os.path.join(user.dir, "podman-d.log")
    r = podman.detached("--name", "lim", "--memory", "64m", PODMAN_IMAGE, "sh", "-c", TRAP,
                        log=log)
    assert r.returncode == 0, r.stderr
    try:
        cid = podman.inspect("lim", "{{.Id}}")
        pid = int(podman.inspect("lim", "{{.State.Pid}}"))
        with open(f"/proc/{pid}/cgroup") as f:
            cg = f.read().strip().split("::", 1)[1]
        assert cg == (f"/user.slice/user-{user.uid}.slice/user@{user.uid}.service/user.slice/"
                      f"libpod-{cid}.scope"), cg
        with open(f"/sys/fs/cgroup{cg}/memory.max") as f:
            assert int(f.read()) == 64 * MiB
        # crt keeps the state in the user's runtime dir.
        assert os.path.isdir(f"{user.xdg}/crt/{cid}")
        r = podman("exec", "lim", "sh", "-c", "cat /sys/fs/cgroup/memory.max; exit 3")
        assert r.returncode == 3 and r.stdout.strip() == str(64 * MiB), (r.stdout, r.stderr)
        r = podman("exec", "lim", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1")
        assert r.returncode == 137, (r.stdout, r.stderr)
        with open(f"/sys/fs/cgroup{cg}/memory.events") as f:
            assert "oom_kill 1" in f.read()
        # stop: SIGTERM reaches the trapping PID 1, which exits 0 at once.
        t0 = time.monotonic()
        r = podman("stop", "-t", "30", "lim")
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - t0 < 25
        assert podman.inspect("lim", "{{.State.ExitCode}}") == "0"
        assert "got-term" in podman("logs", "lim").stdout
    finally:
        r = podman("rm", "-f", "lim")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(f"/sys/fs/cgroup{cg}")
    assert not os.path.exists(f"{user.xdg}/crt/{cid}")
    deadline = time.monotonic() + 20
    while user_processes(user, "conmon") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not user_processes(user, "conmon")
