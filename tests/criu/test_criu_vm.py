"""checkpoint/restore through CRIU for real, in the VM of ../shared/vm (its
Debian 6.1 kernel passes `criu check`; this host's does not):

  ../shared/vm/run-in-vm.sh -t 600 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/criu/test_criu_vm.py

A counter loop is checkpointed, killed by the dump, restored, and counts
on from where it was; --leave-running; a restored container is exec'd
into, killed and deleted; --pre-dump then a dump on top of it; stdio
pipes handed over; a foreground restore supervised like `run`. Skipped
where `criu check` fails. The fixtures check after each test that
nothing is left (state, mounts, processes, cgroups)."""

import os
import shutil
import subprocess
import time

import pytest

from crt_integration_conftest import read_line, wait_for

CRIU = shutil.which("criu") or shutil.which("criu", path="/usr/sbin:/sbin")


def _criu_check():
    if CRIU is None:
        return "criu not installed (apt-get install criu)"
    r = subprocess.run([CRIU, "check"], capture_output=True, text=True)
    if r.returncode != 0:
        return "criu check fails here (run in ../shared/vm): " + (r.stderr or r.stdout).strip()[-300:]
    return None


_WHY = _criu_check()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")

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


def counting(b, above, timeout=20):
    wait_for(lambda: counter(b) > above, timeout=timeout, what=f"counter above {above}")
    return counter(b)


def cgroup_procs(b):
    path = "/sys/fs/cgroup" + b.config["linux"]["cgroupsPath"] + "/cgroup.procs"
    with open(path) as f:
        return [int(x) for x in f.read().split()]


def checkpoint(crt, cid, images, *flags):
    r = crt("checkpoint", "--image-path", str(images), *flags, cid, timeout=120)
    assert r.returncode == 0, r
    return r


def test_counter_continues_after_restore(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sh", "-c", COUNTER))
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    counting(b, 5)
    images = tmp_path / "img"
    checkpoint(crt, "c1", images)
    # The dump killed it: stopped, and the counter stands still.
    assert crt.status("c1") == "stopped"
    frozen = counter(b)
    time.sleep(0.3)
    assert counter(b) == frozen
    assert (images / "inventory.img").exists() and (images / "dump.log").exists()
    assert crt("delete", "c1").returncode == 0

    pid_file = tmp_path / "pid"
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(images),
            "--pid-file", str(pid_file), "c1", timeout=120)
    assert r.returncode == 0, r
    st = crt.state("c1")
    assert st["status"] == "running" and st["pid"] > 0
    assert int(pid_file.read_text()) == st["pid"]
    # From where it was, not from 1.
    after = counting(b, frozen)
    assert frozen < after < frozen + 200, (frozen, after)
    # In its cgroup, made from the bundle again.
    assert st["pid"] in cgroup_procs(b)
    # exec joins the restored namespaces.
    r = crt("exec", "c1", "cat", "/tmp/counter")
    assert r.returncode == 0 and int(r.stdout) >= after, r
    r = crt("exec", "c1", "hostname")
    assert r.stdout.strip() == "crt-test", r
    assert crt("kill", "c1", "KILL").returncode == 0
    crt.wait_status("c1", "stopped")
    assert crt("delete", "c1").returncode == 0


def test_leave_running_and_predump(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sh", "-c", COUNTER))
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    pid = crt.state("c1")["pid"]
    counting(b, 3)
    # A pre-dump (memory only) and then a dump on top of it that leaves
    # the container running.
    checkpoint(crt, "c1", tmp_path / "pre", "--pre-dump")
    assert crt.status("c1") == "running"
    checkpoint(crt, "c1", tmp_path / "img", "--leave-running", "--parent-path", "../pre")
    assert crt.state("c1")["pid"] == pid and crt.status("c1") == "running"
    at_dump = counter(b)
    counting(b, at_dump + 3)               # still counting
    assert os.path.islink(tmp_path / "img" / "parent")
    assert crt("kill", "c1", "KILL").returncode == 0
    crt.wait_status("c1", "stopped")
    assert crt("delete", "c1").returncode == 0
    # The image restores (pages from the parent too).
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "c1",
            timeout=120)
    assert r.returncode == 0, r
    counting(b, at_dump)
    assert crt("delete", "-f", "c1").returncode == 0


def test_stdio_pipes_and_foreground_restore(crt, bundle_factory, tmp_path):
    """Pipes as the init's stdio (as an engine gives them) are handed over
    to the restoring crt's stdio; restore without --detach supervises it
    like `run`: exits with its status and deletes it."""
    script = "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done"
    b = bundle_factory(("sh", "-c", script))
    p = crt.popen("run", "-d", "-b", b.path, "c1", stdin=subprocess.PIPE)
    try:
        first = int(read_line(p))
        assert p.wait(timeout=20) == 0
        checkpoint(crt, "c1", tmp_path / "img")
        last = first
        for line in p.stdout:           # what it wrote until the dump
            last = int(line)
    finally:
        p.stdout.close()
        p.stdin.close()
        p.stderr.close()
    assert crt("delete", "c1").returncode == 0
    r = crt.popen("restore", "-b", b.path, "--image-path", str(tmp_path / "img"), "c1",
                  stdin=subprocess.PIPE)
    try:
        n = int(read_line(r, timeout=60))
        assert last < n < last + 50, (last, n)
        assert crt.status("c1") == "running"
        assert crt("kill", "c1", "KILL").returncode == 0
        assert r.wait(timeout=20) == 137
    finally:
        r.kill()
        r.wait()
        r.stdout.close()
        r.stdin.close()
        r.stderr.close()
    assert crt("state", "c1").returncode == 1       # deleted, as after `run`


# ---- podman `container checkpoint` / `container restore` with crt ----------

ENGINES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "engines")
PODMAN_CGROUP = "/crt-criu-podman"


def _remove_cgroup(path):
    top = "/sys/fs/cgroup" + path
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


@pytest.fixture
def podman(crt_path):
    if shutil.which("podman") is None or shutil.which("conmon") is None:
        pytest.skip("podman and conmon not installed (apt-get install podman conmon)")
    import sys
    sys.path.insert(0, ENGINES)
    import enginelib                    # noqa: E402 (the busybox image tarball)
    import tempfile
    base = tempfile.mkdtemp(prefix="crt-criu-pm-", dir="/tmp")   # podman: runroot < 50 chars
    conf = os.path.join(base, "containers.conf")
    with open(conf, "w") as f:
        f.write(f"""\
[containers]
pids_limit = 0
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "crt"
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime_supports_json = ["crt"]
[engine.runtimes]
crt = ["{crt_path}"]
""")
    argv = ["podman", "--root", base + "/storage", "--runroot", base + "/run",
            "--tmpdir", base + "/tmp", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"]
    env = dict(os.environ, CONTAINERS_CONF=conf)

    def pm(*args, check=True):
        r = subprocess.run(argv + list(args), env=env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert not check or r.returncode == 0, (args, r.stdout, r.stderr)
        return r
    tar = os.path.join(base, "rootfs.tar")
    enginelib.build_rootfs_tar(tar)
    pm("import", "-q", tar, "localhost/crt-busybox:latest")
    try:
        yield pm
    finally:
        pm("rm", "-af", "-t", "0", check=False)
        pm("rmi", "-af", check=False)
        enginelib.unmount_under(base)
        subprocess.run(["rm", "-rf", "--one-file-system", base])
        _remove_cgroup(PODMAN_CGROUP)
    left = subprocess.run([crt_path, "list", "-q"], capture_output=True, text=True).stdout
    assert left.strip() == "", f"crt containers left by podman: {left}"


def _numbers(pm, name):
    return [int(x) for x in pm("logs", name).stdout.split()]


def test_podman_checkpoint_restore(podman):
    pm = podman
    pm("run", "-d", "--name", "cr", "--network", "none", f"--cgroup-parent={PODMAN_CGROUP}",
       "localhost/crt-busybox:latest", "sh", "-c",
       "i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done")
    wait_for(lambda: len(_numbers(pm, "cr")) >= 3, timeout=30, what="podman container output")
    pm("container", "checkpoint", "cr")
    assert pm("inspect", "cr", "--format", "{{.State.Status}}").stdout.strip() == "exited"
    before = _numbers(pm, "cr")
    pm("container", "restore", "cr")
    assert pm("inspect", "cr", "--format", "{{.State.Status}}").stdout.strip() == "running"
    wait_for(lambda: len(_numbers(pm, "cr")) > len(before) + 2, timeout=30,
             what="output after restore")
    after = _numbers(pm, "cr")
    # One count on: no restart from 1, nothing lost or repeated.
    assert after == list(range(1, len(after) + 1)), after
    # (--leave-running and exec are the crt tests' above: podman is slow
    # under TCG, and the VM budget is tight.)
    pm("rm", "-f", "-t", "0", "cr")


def test_joined_netns_is_handed_back(crt, bundle_factory, tmp_path):
    """A network namespace joined by path is external to the dump (criu
    does not copy it) and the restored container is in that same one."""
    if shutil.which("ip") is None:
        pytest.skip("ip not installed (apt-get install iproute2)")
    name = f"crt-criu-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        path = f"/run/netns/{name}"
        b = bundle_factory(("sh", "-c", COUNTER))
        b.config["linux"]["namespaces"] = [
            {"type": t} for t in ("pid", "ipc", "uts", "mount")] + [
            {"type": "network", "path": path}]
        b.save()
        assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
        counting(b, 3)
        checkpoint(crt, "c1", tmp_path / "img")
        assert crt("delete", "c1").returncode == 0
        r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "c1",
                timeout=120)
        assert r.returncode == 0, r
        pid = crt.state("c1")["pid"]
        assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(path).st_ino
        counting(b, counter(b))
        assert crt("delete", "-f", "c1").returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", name])
