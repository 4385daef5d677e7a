"""Rootless crt with the systemd driver against a real user manager: run
in the VM of ../shared/vm booted with systemd as PID 1 (-s):

  ../shared/vm/run-in-vm.sh -s -t 600 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cgroup/test_rootless_systemd_vm.py

A user made for the module gets a lingering user manager (loginctl
enable-linger); crt runs as that user inside the manager's tree (systemd-run
--user), so the manager may move the container into the scope it makes.
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
from enginelib import systemd_is_pid1  # noqa: E402

CRT = os.path.abspath(os.environ.get("CRT_BINARY", "build/src/crt"))
BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin")
MiB = 2 ** 20


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not systemd_is_pid1(),
                       reason="needs systemd as PID 1 (run in ../shared/vm with -s)"),
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

    def run(self, argv, timeout=60):
        """argv as the user, in a transient service of the user's manager."""
        env = ["env", f"XDG_RUNTIME_DIR={self.xdg}",
               f"DBUS_SESSION_BUS_ADDRESS=unix:path={self.xdg}/bus"]
        cmd = (["runuser", "-u", self.name, "--"] + env
               + ["systemd-run", "--user", "--quiet", "--wait", "--pipe", "--collect",
                  "-p", f"Environment=XDG_RUNTIME_DIR={self.xdg}"] + list(argv))
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def run_detached(self, argv, log, timeout=60):
        """As run, with the container's stdio (crt's, for run -d) on the
        file LOG instead of systemd-run's pipe, which the container would
        keep open and systemd-run --pipe wait for."""
        r = self.run(["/bin/sh", "-c", 'exec "$0" "$@" >"$LOG" 2>&1 </dev/null'.replace(
            "$LOG", log), *argv], timeout=timeout)
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
