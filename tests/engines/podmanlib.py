"""A private podman (Debian's, through conmon) driving crt, for the host
engine tests (tests/engines/test_podman.py, cgroupfs manager) and the
systemd ones in the VM (tests/engines/test_engines_systemd_vm.py).

Podman runs with private storage (--root/--runroot/--tmpdir under one
temporary directory, vfs driver: no overlay mounts) and no network.

cgroupfs (systemd=False) takes a containers.conf of its own
(CONTAINERS_CONF) that:

  * names crt as the runtime and lists it in runtime_supports_json, so
    podman passes `--log-format=json --log FILE` and reads crt's errors;
  * sets pids_limit = 0: podman's default limit (2048) puts
    linux.resources.pids in config.json, and on a host whose pids
    controller is bound to cgroup v1 crt refuses it (crt manages only the
    v2 tree). `--pids-limit=0` on the command line is not enough: podman
    still writes {"pids": {"limit": 0}};
  * lowers default_ulimits: as root podman asks for RLIMIT_NOFILE and
    RLIMIT_NPROC 1048576, which no runtime can set without
    CAP_SYS_RESOURCE above the current hard limit (setrlimit: EPERM);

and puts containers under a cgroup parent named after this session,
removed at the end (podman's cgroupfs manager puts conmon in
<parent>/conmon of every v1 hierarchy, crt the container in
<parent>/libpod-ID of the v2 tree).

systemd (systemd=True) is podman's default configuration: no
containers.conf of ours (cgroup_manager systemd, the default pids limit,
ulimits and events logger), only `--runtime <crt>`. Containers are
machine.slice:libpod:<id>, conmon goes to libpod-conmon-<id>.scope.
"""

import contextlib
import json
import os
import subprocess
import tempfile
import time

from enginelib import (CGROUP_ROOT, CRT, HostPaths, cgroups_left, remove_base, require)

TIMEOUT = 60
IMAGE = "localhost/crt-busybox:latest"

# Where podman (as root) writes outside its --root/--runroot/--tmpdir.
PODMAN_HOST_PATHS = ["/run/libpod", "/run/containers", "/var/lib/containers"]


def cgroup2_mount():
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return CGROUP_ROOT
    return os.path.join(CGROUP_ROOT, "unified")


class Podman:
    def __init__(self, base, systemd=False):
        self.base = base
        self.systemd = systemd
        storage = [
            "--root", os.path.join(base, "storage"),
            "--runroot", os.path.join(base, "run"),
            "--tmpdir", os.path.join(base, "tmp"),
            "--storage-driver", "vfs",
        ]
        if systemd:
            self.cgroup_parent = None
            self.env = dict(os.environ)
            self.env.pop("CONTAINERS_CONF", None)
            self.global_args = ["podman", *storage, "--runtime", CRT]
            self.run_args = ["--network", "none"]
            return
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
        self.global_args = ["podman", *storage, "--cgroup-manager", "cgroupfs"]
        # For run/create: no network, our own cgroup parent.
        self.run_args = ["--network", "none", f"--cgroup-parent={self.cgroup_parent}"]

    def __call__(self, *args, check=False, timeout=TIMEOUT, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        # conmon writes a file "oom" into its working directory when an
        # exec'd process is OOM-killed: podman's, never the repo's.
        kw.setdefault("cwd", self.base)
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

    def cgroup_dir(self, cid):
        if self.systemd:
            return os.path.join(cgroup2_mount(), "machine.slice", f"libpod-{cid}.scope")
        return os.path.join(cgroup2_mount(), self.cgroup_parent.lstrip("/"), f"libpod-{cid}")

    def crt(self, *args):
        """crt on podman's state directory (crt's default --root)."""
        extra = ["--systemd-cgroup"] if self.systemd else []
        return subprocess.run([CRT, *extra, *args], capture_output=True, text=True,
                              timeout=TIMEOUT)

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


@contextlib.contextmanager
def podman_session(rootfs_tar, systemd=False):
    """podman with the busybox image imported; on exit every container,
    crt state, mount, cgroup (or unit) and host path it made is checked
    for and removed, and a leftover fails the session."""
    require("podman", "conmon")
    host_paths = HostPaths(PODMAN_HOST_PATHS)
    base = tempfile.mkdtemp(prefix="crt-eng-podman-", dir="/tmp")
    p = Podman(base, systemd=systemd)
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
            p.crt("delete", "--force", cid)
        problems += remove_base(base)
        problems += cgroups_left(systemd, "libpod-*.scope", p.cgroup_parent)
        host_paths.cleanup()
    assert not problems, "podman session left things behind:\n" + "\n".join(problems)
