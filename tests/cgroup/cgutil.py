"""Helpers for the cgroup tests (host and VM): a busybox bundle, running
the real crt binary, and reading the cgroup v2 tree.

CRT_BINARY names the crt under test (default: <repo>/build/src/crt).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRT = os.path.abspath(os.environ.get("CRT_BINARY", os.path.join(REPO, "build", "src", "crt")))
BUSYBOX = "/bin/busybox"


def cgroup_mount():
    """The cgroup2 mountpoint, as crt finds it."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split() for line in f]
    for m in mounts:
        if m[4] == "/sys/fs/cgroup" and m[m.index("-") + 1] == "cgroup2":
            return m[4]
    for m in mounts:
        if m[m.index("-") + 1] == "cgroup2":
            return m[4]
    raise RuntimeError("no cgroup2 mount")


def make_rootfs(parent):
    root = os.path.join(parent, "rootfs")
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(root, "bin", a))
    return root


class Crt:
    """Runs crt against its own state root; remembers containers to clean up."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.root = os.path.join(workdir, "state")
        self.rootfs = make_rootfs(workdir)
        self.ids = []
        self.cgroups = []

    def bundle(self, args, resources=None, cgroups_path=None, cgroupns=True, devices=None,
               mutate=None):
        """A bundle directory sharing the read-only rootfs; /tmp is a tmpfs."""
        b = tempfile.mkdtemp(dir=self.workdir, prefix="bundle-")
        subprocess.run([CRT, "spec", "--bundle", b], check=True)
        with open(os.path.join(b, "config.json")) as f:
            c = json.load(f)
        c["root"] = {"path": self.rootfs, "readonly": True}
        c["process"]["terminal"] = False
        c["process"]["args"] = args
        c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "mode=1777"]})
        lin = c["linux"]
        if resources is not None:
            lin["resources"] = resources
        if cgroups_path is not None:
            lin["cgroupsPath"] = cgroups_path
        if not cgroupns:
            lin["namespaces"] = [n for n in lin["namespaces"] if n["type"] != "cgroup"]
        if devices is not None:
            lin["devices"] = devices
        if mutate:
            mutate(c)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(c, f)
        return b

    def cmd(self, *args, check=True, timeout=60, input=None):
        r = subprocess.run([CRT, "--root", self.root, *args], capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"crt {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def new_id(self, prefix="cg"):
        cid = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.ids.append(cid)
        return cid

    def run_detached(self, bundle, cid=None):
        cid = cid or self.new_id()
        # Files, not pipes: the container keeps its stdio open after crt exits.
        out = os.path.join(self.workdir, cid + ".out")
        with open(out, "w") as log:
            r = subprocess.run([CRT, "--root", self.root, "run", "-d", "--bundle", bundle, cid],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=60)
        assert r.returncode == 0, read(out)
        return cid

    def run_fg(self, bundle, cid=None, timeout=60):
        cid = cid or self.new_id()
        return subprocess.run([CRT, "--root", self.root, "run", "--bundle", bundle, cid],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)

    def state(self, cid):
        return json.loads(self.cmd("state", cid).stdout)

    def cleanup(self):
        for cid in self.ids:
            subprocess.run([CRT, "--root", self.root, "delete", "--force", cid],
                           capture_output=True, timeout=60)
        mnt = cgroup_mount()
        for path in reversed(self.cgroups):
            try:
                os.rmdir(mnt + path)
            except OSError:
                pass


def cgroup_dir(path):
    return cgroup_mount() + path


def read(path):
    with open(path) as f:
        return f.read()


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def procs(path):
    return [int(p) for p in read(cgroup_dir(path) + "/cgroup.procs").split()]


def counter(pid):
    """The value the counter container writes to its /tmp/count."""
    try:
        return int(read(f"/proc/{pid}/root/tmp/count").strip() or 0)
    except (OSError, ValueError):
        return None


COUNTER = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done"]

# A container that allocates 48 MiB each time /tmp/go appears and writes
# dd's status to /tmp/rN: the memory-limit tests of both VM sessions.
ALLOCATOR = ["sh", "-c",
             "n=0; while :; do if [ -e /tmp/go ]; then rm /tmp/go; n=$((n+1)); "
             "dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo $? > /tmp/r$n; "
             "fi; usleep 20000; done"]


def allocate(pid, n):
    """Ask the ALLOCATOR container for its n-th allocation; dd's status."""
    with open(f"/proc/{pid}/root/tmp/go", "w"):
        pass
    result = f"/proc/{pid}/root/tmp/r{n}"
    assert wait_for(lambda: os.path.exists(result) and read(result).strip(), timeout=60)
    return int(read(result))
