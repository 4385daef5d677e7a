"""Helpers shared by the engine tests: real container engines (podman,
containerd) driving crt as their OCI runtime.

No registry is reachable, so every image is built locally from
busybox-static. Each engine gets private storage under a temporary
directory and a cgroup parent of its own; teardown removes containers,
mounts, storage and the cgroup directories the engine created.

The tests import the rootfs_tar fixture from here.

Environment:
  CRT_BINARY  the runtime under test (default: <repo>/build/src/crt)
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRT = os.path.abspath(os.environ.get("CRT_BINARY", os.path.join(REPO, "build", "src", "crt")))
BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin:/sbin:/usr/sbin")
CGROUP_ROOT = "/sys/fs/cgroup"


def require(*programs):
    """Skip unless we are root, crt is built, busybox and PROGRAMS exist."""
    if os.geteuid() != 0:
        pytest.skip("engine tests need root (run: sudo ./tests/run.sh)")
    if not (os.path.isfile(CRT) and os.access(CRT, os.X_OK)):
        pytest.fail(f"crt binary not found at {CRT}: build it (tests/run.sh) or set CRT_BINARY")
    if BUSYBOX is None:
        pytest.skip("busybox not found (apt-get install busybox-static)")
    for p in programs:
        if shutil.which(p) is None:
            pytest.skip(f"{p} not installed (apt-get install {p})")


def build_rootfs_tar(path):
    """A busybox-static root filesystem as an uncompressed tarball."""
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True,
                             text=True, check=True).stdout.split()

    def add_dir(tar, name, mode=0o755):
        info = tarfile.TarInfo(name)
        info.type = tarfile.DIRTYPE
        info.mode = mode
        tar.addfile(info)

    def add_text(tar, name, text):
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(path, "w") as tar:
        for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys",
                  "dev", "root", "var"):
            add_dir(tar, d)
        add_dir(tar, "tmp", 0o1777)
        add_dir(tar, "var/tmp", 0o1777)
        info = tar.gettarinfo(BUSYBOX, "bin/busybox")
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        with open(BUSYBOX, "rb") as f:
            tar.addfile(info, f)
        seen = {"bin/busybox"}
        for applet in applets:
            name = applet.lstrip("/")
            if name in seen:
                continue
            seen.add(name)
            link = tarfile.TarInfo(name)
            link.type = tarfile.SYMTYPE
            link.linkname = "/bin/busybox"
            tar.addfile(link)
        add_text(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        add_text(tar, "etc/group", "root:x:0:\n")
    return path


def remove_cgroup_tree(name):
    """rmdir /sys/fs/cgroup/*/NAME bottom-up in every hierarchy (v1 and v2).

    Only empty directories go: rmdir(2) refuses a cgroup with tasks, so a
    leaked process shows up as a leftover instead of being hidden."""
    left = []
    for hier in sorted(os.listdir(CGROUP_ROOT)):
        top = os.path.join(CGROUP_ROOT, hier, name.strip("/"))
        if not os.path.isdir(top) or os.path.islink(os.path.join(CGROUP_ROOT, hier)):
            continue
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(dirpath)
            except OSError as e:
                left.append(f"{dirpath}: {e.strerror}")
    return left


def mounts_under(path):
    """Mount points at or below PATH, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4].replace("\\040", " ")
            if mnt == path or mnt.startswith(path.rstrip("/") + "/"):
                found.append(mnt)
    return sorted(found, key=len, reverse=True)


def unmount_under(path):
    left = mounts_under(path)
    for mnt in left:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
    return left


class HostPaths:
    """Remembers which host paths an engine may create outside its private
    directories, so teardown removes only those this session created."""

    def __init__(self, paths):
        self.created = [p for p in paths if not os.path.lexists(p)]

    def cleanup(self):
        for p in self.created:
            shutil.rmtree(p, ignore_errors=True)


def build_oci_archive(rootfs_tar, path, name):
    """An OCI image layout (oci-layout, index.json, blobs/sha256/...) in a
    tarball, for `ctr image import`: one uncompressed layer ROOTFS_TAR,
    tagged NAME through the io.containerd.image.name annotation."""
    blobs = {}

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    with open(rootfs_tar, "rb") as f:
        layer = blob(f.read())
    config = blob(json.dumps({
        "architecture": "amd64" if os.uname().machine == "x86_64" else os.uname().machine,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
    }).encode())
    manifest = blob(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")],
    }).encode())
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
                           annotations={"io.containerd.image.name": name,
                                        "org.opencontainers.image.ref.name":
                                            name.rsplit(":", 1)[-1]})],
    }).encode()

    def add(tar, member, data):
        info = tarfile.TarInfo(member)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(path, "w") as tar:
        add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add(tar, "index.json", index)
        for digest, data in blobs.items():
            add(tar, "blobs/sha256/" + digest.split(":", 1)[1], data)
    return path


@pytest.fixture(scope="session")
def rootfs_tar(tmp_path_factory):
    """The busybox-static image every engine imports, built once.

    A fixture here, not in a conftest.py: tests/integration imports its
    own conftest by name, and a second conftest module would shadow it
    when both directories run in one pytest session."""
    if BUSYBOX is None:
        pytest.skip("busybox not found (apt-get install busybox-static)")
    return build_rootfs_tar(str(tmp_path_factory.mktemp("engine-image") / "rootfs.tar"))


def systemd_units(*patterns):
    """Units matching PATTERNS that systemd still knows, in any state
    (a transient scope that ended cleanly is gone from the list). Empty
    where systemd is not running."""
    r = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", *patterns],
                       capture_output=True, text=True)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def unit_properties(unit, *props):
    """PROPS of a systemd unit as `systemctl show` gives them: {name: value}."""
    out = subprocess.run(["systemctl", "show", unit, *[f"-p{p}" for p in props]],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def cgroups_left(systemd, unit_pattern, cgroup_parent):
    """What an engine session left of its cgroups: systemd scopes matching
    UNIT_PATTERN, or (cgroupfs) the directories under CGROUP_PARENT, which
    are removed when empty."""
    if systemd:
        units = systemd_units(unit_pattern)
        return [f"systemd units left: {units}"] if units else []
    return remove_cgroup_tree(cgroup_parent)


def remove_base(base):
    """Unmount what is left under an engine's private BASE directory and
    remove it; the mounts that were left, as problems."""
    mounts = unmount_under(base)
    subprocess.run(["rm", "-rf", "--one-file-system", base])
    return [f"mounts left under {base}: {mounts}"] if mounts else []


def wait_until(what, probe, timeout=30):
    """PROBE's first true value, polled every 0.2 s; fails naming WHAT."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(0.2)


def systemd_is_pid1():
    try:
        with open("/proc/1/comm") as f:
            return f.read().strip() == "systemd"
    except OSError:
        return False


# pytestmark of a module for the VM booted with systemd (-s).
SYSTEMD_VM_MARKS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(not systemd_is_pid1(),
                       reason="needs systemd as PID 1 (run in ../shared/vm with -s)"),
]
