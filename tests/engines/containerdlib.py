"""A private containerd driving crt through the io.containerd.runc.v2
shim, with crt as the shim's runc binary (`ctr run --runc-binary`, the
BinaryName of the runc options), for the host engine tests
(tests/engines/test_containerd.py, cgroupfs) and the systemd ones in the
VM (tests/engines/test_engines_systemd_vm.py: `--runc-systemd-cgroup`,
what SystemdCgroup = true sets, and kubelet's cgroupsPath form).

The containerd has its root, state, sockets and opt dir under one
temporary directory; CRI and the aufs/btrfs/zfs/devmapper snapshotters
disabled. The image is an OCI layout built by hand from the
busybox-static tarball and imported with `ctr image import`; containers
use the native snapshotter (no overlay mounts) and `--runc-root` keeps
crt's state under the temporary directory too.

cgroupfs: `--cpu-shares 0`: ctr puts linux.resources.cpu.shares = 1024
in every config.json by default, and on a host whose cpu controller is
bound to cgroup v1 crt refuses it (crt manages only the v2 tree).

The shim keeps its sockets in /run/containerd/s (hard-wired in
containerd 1.6): that directory is removed at the end when this session
created it.
"""

import contextlib
import json
import os
import subprocess
import tempfile
import time

from enginelib import (CRT, HostPaths, build_oci_archive, cgroups_left, remove_base, require)

TIMEOUT = 60
IMAGE = "localhost/crt-busybox:latest"
NAMESPACE = "crt-test"
SYSTEMD_SLICE = "kubepods-besteffort.slice"


def cgroup2_mount():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return "/sys/fs/cgroup/unified"


class Containerd:
    def __init__(self, base, systemd=False):
        self.base = base
        self.systemd = systemd
        self.sock = os.path.join(base, "containerd.sock")
        self.runc_root = os.path.join(base, "runc")
        # cgroupfs: a parent of this session's; systemd: kubelet's slice for
        # best-effort pods (kubepods-besteffort.slice lives in kubepods.slice).
        self.cgroup_parent = (None if systemd else f"/crt-engines-ctd-{os.getpid()}")
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

    def cgroups_path(self, cid):
        if self.systemd:
            return f"{SYSTEMD_SLICE}:cri-containerd:{cid}"
        return f"{self.cgroup_parent}/{cid}"

    def cgroup_dir(self, cid):
        if self.systemd:
            return os.path.join(cgroup2_mount(), "kubepods.slice", SYSTEMD_SLICE,
                                f"cri-containerd-{cid}.scope")
        return os.path.join(cgroup2_mount(), self.cgroup_parent.lstrip("/"), cid)

    def run_args(self, cid, *flags):
        """`ctr run` with crt as the shim's runc binary: BinaryName, and
        SystemdCgroup = true with systemd."""
        if self.systemd:
            cgroups = ["--runc-systemd-cgroup"]
        else:
            cgroups = ["--cpu-shares", "0"]
        return ["run", "--snapshotter", "native", "--runc-binary", CRT,
                "--runc-root", self.runc_root, *cgroups,
                "--fifo-dir", os.path.join(self.base, "fifo"),
                "--cgroup", self.cgroups_path(cid), *flags, IMAGE, cid]

    def run(self, cid, *cmd, flags=(), **kw):
        return self(*self.run_args(cid, *flags), *cmd, **kw)

    def crt(self, *args):
        extra = ["--systemd-cgroup"] if self.systemd else []
        return subprocess.run([CRT, "--root", os.path.join(self.runc_root, NAMESPACE), *extra,
                               *args],
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


@contextlib.contextmanager
def containerd_session(rootfs_tar, systemd=False):
    """A started containerd with the busybox image imported; on exit every
    task, container, crt state, mount, cgroup (or unit) and host path it
    made is checked for and removed, and a leftover fails the session."""
    require("containerd", "ctr", "containerd-shim-runc-v2")
    host_paths = HostPaths(["/run/containerd"])
    base = tempfile.mkdtemp(prefix="crt-eng-ctd-", dir="/tmp")
    problems = []
    c = None
    try:
        c = Containerd(base, systemd=systemd)
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
            problems += cgroups_left(systemd, "cri-containerd-*.scope", c.cgroup_parent)
        problems += remove_base(base)
        host_paths.cleanup()
    assert not problems, "containerd session left things behind:\n" + "\n".join(problems)
