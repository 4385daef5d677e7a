"""The container's mounts and /dev next to runc's and crun's, on the same
bundle: every mount in mountinfo's order (the order they were made, which
must be the entries' order: runtime-tools checks it too), with its type,
source, mount and superblock options; every entry of /dev with its type,
mode, owner and device numbers; the fds of PID 1."""

import os
import subprocess

import pytest

from conftest import other_runtime

# Per mount, in mountinfo's order: point, type, source, mount options,
# superblock options; then /dev's entries (symlinks with their target);
# then the shell's fds.
PROBE = r"""
awk '{ for (i = 7; $i != "-"; i++) ; print $5, $(i+1), $(i+2), $6, $(i+3) }' /proc/self/mountinfo
for f in /dev/* /dev/.[a-z]*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
  else stat -c '%n %F %a %u:%g %t:%T' "$f"; fi
done
ls /proc/1/fd
"""

CGROUP_CONTROLLERS = "/sys/fs/cgroup/unified/cgroup.controllers"

# Mounts beside the default /proc, /dev, /dev/pts, /dev/shm, /sys: the
# options that go to the filesystem (uid, gid, nr_inodes, huge...) and the
# per-mount flags, as each runtime passes them on. (Not nosymfollow:
# crun 1.8.1 hands it to the filesystem, which refuses it.)
EXTRA = {
    "default": [],
    "tmpfs-options": [
        {"destination": "/run", "type": "tmpfs", "source": "run",
         "options": ["noatime", "nodiratime", "uid=1000", "gid=1000", "nr_inodes=100",
                     "mode=0700"]},
        {"destination": "/run/a", "type": "tmpfs", "source": "a",
         "options": ["strictatime", "size=1m", "huge=never"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
    ],
}


def run_other(name, bundle, test_dirs, cid):
    """runc or crun on the same bundle, in a mount namespace of its own
    where the hybrid host's cgroup2 controller list is hidden (crun 1.8.1
    refuses to start otherwise; nothing of the host is changed)."""
    path = other_runtime(name)
    flags = ["--cgroup-manager=disabled"] if name == "crun" else []
    root = os.path.join(test_dirs.tmp, f"state-{name}")
    script = (f'if [ -n "$(cat {CGROUP_CONTROLLERS} 2>/dev/null)" ]; then '
              f'mount --bind /dev/null {CGROUP_CONTROLLERS} || exit 125; fi; exec "$@"')
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                        path, "--root", root, *flags, "run", "--bundle", bundle.path, cid],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0 and "hybrid mode not supported" in r.stderr:
        pytest.skip(f"{name} does not run on this host: {r.stderr.strip()}")
    assert r.returncode == 0, (name, r.stdout, r.stderr)
    return r.stdout


@pytest.mark.parametrize("extra", list(EXTRA))
@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_mounts_and_dev_as_runc_and_crun(crt, bundle_factory, test_dirs, runtime, extra):
    b = bundle_factory(("sh", "-c", PROBE))
    b.config["ociVersion"] = "1.0.2"  # crun 1.8.1 takes runtime-spec 1.0.x only
    b.config["mounts"] += EXTRA[extra]
    b.save()
    r = crt("run", "--bundle", b.path, "c1")
    assert r.returncode == 0, r
    theirs = run_other(runtime, b, test_dirs, "o1")
    if runtime == "crun":
        # Two differences, crt as runc: crun 1.8.1 links /dev/core to
        # /proc/kcore even where the host has no /proc/kcore (a dangling
        # link; crt and runc only where it has), and mounts sysfs writable
        # and makes only the mount read-only ("rw" in the superblock's
        # options; crt and runc mount it read-only: "ro").
        theirs = "".join(l for l in theirs.splitlines(True)
                         if l != "/dev/core -> /proc/kcore\n" or os.path.exists("/proc/kcore"))
        theirs = theirs.replace("/sys sysfs sysfs ro,nosuid,nodev,noexec,relatime rw\n",
                                "/sys sysfs sysfs ro,nosuid,nodev,noexec,relatime ro\n")
    assert r.stdout == theirs
