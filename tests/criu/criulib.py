"""What the CRIU tests share: whether criu works here, the counter loop
they checkpoint, and a checkpoint that must succeed."""

import shutil
import subprocess

from crt_integration_conftest import wait_for

CRIU = shutil.which("criu") or shutil.which("criu", path="/usr/sbin:/sbin")


def why_no_criu():
    """None where `criu check` passes, else why the tests are skipped."""
    if CRIU is None:
        return "criu not installed (apt-get install criu)"
    r = subprocess.run([CRIU, "check"], capture_output=True, text=True)
    if r.returncode != 0:
        return "criu check fails here (run in ../shared/vm): " + (r.stderr or r.stdout).strip()[-300:]
    return None


# Counts in /tmp/counter (of the rootfs: the host reads it there). Its
# stdio is the container's own /dev/null: a host file would be outside
# the container's mounts, which criu cannot dump.
COUNTER = ("exec </dev/null >/dev/null 2>&1; i=0; "
           "while true; do i=$((i+1)); echo $i > /tmp/counter.new; "
           "mv /tmp/counter.new /tmp/counter; sleep 0.05; done")


def counter(b):
    try:
        with open(b.in_rootfs("/tmp/counter")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def counting(b, above, timeout=30):
    wait_for(lambda: counter(b) > above, timeout=timeout, what=f"counter above {above}")
    return counter(b)


def checkpoint(crt, cid, images, *flags):
    r = crt("checkpoint", "--image-path", str(images), *flags, cid, timeout=120)
    assert r.returncode == 0, r
    return r


RUNC = shutil.which("runc")


def runc_at(root, check=True):
    """runc with its own --root, for the comparisons: runc(*args) gives
    the CompletedProcess, asserting exit 0 unless check is false."""
    def runc(*args, check=check):
        r = subprocess.run([RUNC, "--root", str(root), *args], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert not check or r.returncode == 0, r
        return r
    return runc
