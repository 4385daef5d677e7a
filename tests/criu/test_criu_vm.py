"""checkpoint/restore through CRIU for real, in the VM of ../shared/vm (its
Debian 6.1 kernel passes `criu check`; this host's does not):

  ../shared/vm/run-in-vm.sh -t 900 -e CRT_BINARY=$PWD/build/src/crt $PWD -- \\
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/criu/test_criu_vm.py

A counter loop is checkpointed, killed by the dump, restored, and counts
on from where it was; --leave-running; a restored container is exec'd
into, killed and deleted; --pre-dump then a dump on top of it; stdio
pipes handed over; a foreground restore supervised like `run`. Skipped
where `criu check` fails. The fixtures check after each test that
nothing is left (state, mounts, processes, cgroups). Then what was
lifted of issue #13's refusals: hooks at restore, terminals, paused
containers, missing mount points, user namespaces, each compared with
runc 1.1.5 on the same bundle. The engines' checkpoint/restore:
test_criu_engines_vm.py; the systemd driver: test_criu_systemd_vm.py."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from crt_integration_conftest import read_line

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from criulib import (COUNTER, RUNC, checkpoint, counter, counting, runc_at,  # noqa: E402
                     why_no_criu)

_WHY = why_no_criu()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")


def cgroup_procs(b):
    path = "/sys/fs/cgroup" + b.config["linux"]["cgroupsPath"] + "/cgroup.procs"
    with open(path) as f:
        return [int(x) for x in f.read().split()]


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


# ---- hooks at restore -------------------------------------------------------

# Each hook appends the state it got on stdin as one line, to the host's
# HOOKS dir; startContainer runs in the container after pivot_root: it
# writes into its root. (createContainer runs in the container's mount
# namespace before pivot_root, where the host's paths still resolve.)
RUNTIME_HOOKS = ("prestart", "createRuntime", "createContainer", "poststart", "poststop")
CONTAINER_HOOKS = ("startContainer",)


def _hooks_config(hooks_dir):
    def hook(target):
        return {"path": "/bin/sh", "args": ["sh", "-c", f"cat >> {target}; echo >> {target}"]}
    hooks = {k: [hook(f"{hooks_dir}/{k}")] for k in RUNTIME_HOOKS}
    hooks.update({k: [hook(f"/hook-{k}")] for k in CONTAINER_HOOKS})
    return hooks


def _hook_states(b, hooks_dir):
    out = {}
    for k in RUNTIME_HOOKS + CONTAINER_HOOKS:
        path = os.path.join(hooks_dir, k) if k in RUNTIME_HOOKS else b.in_rootfs(f"/hook-{k}")
        try:
            with open(path) as f:
                out[k] = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            out[k] = []
    return out


def _ran_at(before, after):
    return sorted(k for k in after if len(after[k]) > len(before[k]))


def _hooks_story(rt, b, hooks_dir, images, cid, delete_after_dump=True):
    """run, checkpoint, delete, restore, delete with runtime RT (a
    callable taking argv): the hook states after each restore step, and
    the restored init's pid. (runc removes the container itself after a
    dump: no delete then.)"""
    def ok(*args):
        r = rt(*args)
        assert r.returncode == 0, r
    ok("run", "-d", "-b", b.path, cid)
    counting(b, 3)
    ok("checkpoint", "--image-path", str(images), cid)
    if delete_after_dump:
        ok("delete", cid)
    before = _hook_states(b, hooks_dir)
    ok("restore", "-d", "-b", b.path, "--image-path", str(images), cid)
    counting(b, counter(b))
    restored = _hook_states(b, hooks_dir)
    pid = json.loads(rt("state", cid).stdout)["pid"]
    ok("delete", "-f", cid)
    return before, restored, _hook_states(b, hooks_dir), pid


def test_hooks_at_restore(crt, bundle_factory, tmp_path):
    """prestart and createRuntime run again at restore, once criu has
    made the namespaces, with the restored init's pid; createContainer,
    startContainer and poststart are not run again (the process went past
    them in its first life); poststop runs at delete. A failing prestart
    hook fails the restore, and nothing is left."""
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    b = bundle_factory(("sh", "-c", COUNTER))
    b.config["hooks"] = _hooks_config(hooks_dir)
    b.save()
    images = tmp_path / "img"
    before, restored, deleted, pid = _hooks_story(
        lambda *a: crt(*a, timeout=120), b, hooks_dir, images, "c1")
    assert [len(before[k]) for k in RUNTIME_HOOKS + CONTAINER_HOOKS] == [1, 1, 1, 1, 1, 1], before
    assert _ran_at(before, restored) == ["createRuntime", "prestart"], restored
    assert _ran_at(restored, deleted) == ["poststop"], deleted
    pre, cr = restored["prestart"][-1], restored["createRuntime"][-1]
    # The restored init's pid (not criu's, not the first life's).
    assert pre["pid"] == cr["pid"] == pid != before["prestart"][0]["pid"], (pre, cr, pid)
    assert (pre["status"], cr["status"]) == ("created", "creating")
    assert pre["id"] == "c1" and pre["bundle"] == b.path
    last_pid = pre["pid"]
    assert not pid_alive(last_pid)

    # The same images, a bundle whose prestart hook fails.
    b.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    b.save()
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(images), "c1", timeout=120)
    assert r.returncode == 1, r
    assert "hooks.prestart[0]: `/bin/sh` exited with status 3" in r.stderr, r
    assert crt("state", "c1").returncode == 1
    assert not os.path.exists("/sys/fs/cgroup" + b.config["linux"]["cgroupsPath"])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False




@pytest.mark.skipif(RUNC is None, reason="runc not installed (apt-get install runc)")
def test_hooks_at_restore_as_runc(crt, bundle_factory, tmp_path):
    """runc (1.1.5 here) on the same bundle: the same hooks run at
    restore and at delete, prestart/createRuntime with the restored pid.
    (A documented difference: runc's state says "stopped" there, its
    container's state while criu works; crt gives them what create does,
    "created" and "creating".)"""
    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    b = bundle_factory(("sh", "-c", COUNTER))
    b.config["hooks"] = _hooks_config(hooks_dir)
    b.save()
    root = tmp_path / "runc-root"

    runc = runc_at(root, check=False)
    try:
        before, restored, deleted, pid = _hooks_story(runc, b, hooks_dir, tmp_path / "img",
                                                      "r1", delete_after_dump=False)
    finally:
        runc("delete", "-f", "r1")
    print("runc hook states before restore:", json.dumps(before))
    print("runc hook states at restore:", restored["prestart"][-1:], restored["createRuntime"][-1:])
    # runc's dump ends the container: poststop ran then, as crt's delete does.
    assert [len(before[k]) for k in RUNTIME_HOOKS + CONTAINER_HOOKS] == [1, 1, 1, 1, 1, 1], before
    assert _ran_at(before, restored) == ["createRuntime", "prestart"], restored
    assert _ran_at(restored, deleted) == ["poststop"], deleted
    assert restored["prestart"][-1]["pid"] == restored["createRuntime"][-1]["pid"] == pid


# ---- terminals ---------------------------------------------------------------

def _console_socket(path):
    import socket
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    srv.settimeout(60)
    return srv


def _recv_master(srv, name=b"/dev/"):
    import array
    import socket
    conn, _ = srv.accept()
    with conn:
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    assert len(fds) == 1 and msg.startswith(name), (msg, anc)
    return fds[0]


def _read_numbers(fd, until=None, timeout=30):
    """The n<i> lines read from fd until one is above UNTIL (or, UNTIL
    None, until nothing more comes for a moment)."""
    import re
    import select
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            if until is None:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:                 # EIO: no slave any more
            break
        if not chunk:
            break
        buf += chunk
        nums = [int(x) for x in re.findall(rb"n(\d+)\r?\n", buf)]
        if until is not None and nums and nums[-1] > until:
            return nums
    return [int(x) for x in re.findall(rb"n(\d+)\r?\n", buf)]


TTY_COUNTER = "i=0; while true; do i=$((i+1)); echo n$i; sleep 0.1; done"


def test_terminal_restore(crt, bundle_factory, tmp_path):
    """A process.terminal container: checkpointed with its pty master
    held outside (the console socket's receiver), restored with a new pty
    whose master criu hands over (orphan-pts-master) and crt sends to
    --console-socket; then once more in the foreground without one, crt
    proxying the new terminal to its stdout as `run` does."""
    b = bundle_factory(("sh", "-c", TTY_COUNTER))
    b.config["process"]["terminal"] = True
    b.save()
    srv = _console_socket(tmp_path / "c1.sock")
    try:
        r = crt("run", "-d", "--console-socket", str(tmp_path / "c1.sock"), "-b", b.path, "c1")
        assert r.returncode == 0, r
        master = _recv_master(srv)
        try:
            assert _read_numbers(master, until=3)
            checkpoint(crt, "c1", tmp_path / "img")
            last = _read_numbers(master)[-1]
        finally:
            os.close(master)
        assert crt("delete", "c1").returncode == 0

        r = crt("restore", "-d", "--console-socket", str(tmp_path / "c1.sock"), "-b", b.path,
                "--image-path", str(tmp_path / "img"), "c1", timeout=120)
        assert r.returncode == 0, r
        master = _recv_master(srv)
        try:
            nums = _read_numbers(master, until=last + 2)
            assert last < nums[0] < last + 50 and nums[-1] > last + 2, (last, nums)
            # Its stdio is a pty of the container's devpts again.
            r = crt("exec", "c1", "readlink", "/proc/1/fd/1")
            assert r.returncode == 0 and r.stdout.strip().startswith("/dev/pts/"), r
            checkpoint(crt, "c1", tmp_path / "img2")
            last = _read_numbers(master)[-1]
        finally:
            os.close(master)
        assert crt("delete", "c1").returncode == 0
    finally:
        srv.close()

    # The master crt keeps for the proxy is close-on-exec: a hook it runs
    # (poststop, when it deletes the container) does not get it.
    fds = tmp_path / "poststop-fds"
    b.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": [
        "sh", "-c", f"ls -l /proc/$$/fd > {fds}"]}]}
    b.save()
    p = crt.popen("restore", "-b", b.path, "--image-path", str(tmp_path / "img2"), "c1")
    try:
        nums = _read_numbers(p.stdout.fileno(), until=last + 2, timeout=60)
        assert nums and last < nums[0] < last + 50, (last, nums)
        assert crt("kill", "c1", "KILL").returncode == 0
        assert p.wait(timeout=20) == 137
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
    assert crt("state", "c1").returncode == 1
    listing = fds.read_text()
    assert "pipe:" in listing and "ptmx" not in listing and "/dev/pts" not in listing, listing


# ---- paused containers, missing mount points ---------------------------------

def test_checkpoint_paused(crt, bundle_factory, tmp_path):
    """A paused container is checkpointed as runc allows: with
    --leave-running it stays paused (criu leaves its cgroup frozen, as it
    found it), without, criu kills it and the images restore a running
    one."""
    b = bundle_factory(("sh", "-c", COUNTER))
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    counting(b, 3)
    assert crt("pause", "c1").returncode == 0
    assert crt.status("c1") == "paused"
    frozen = counter(b)
    checkpoint(crt, "c1", tmp_path / "img1", "--leave-running")
    assert crt.status("c1") == "paused"
    time.sleep(0.3)
    assert counter(b) == frozen
    assert crt("resume", "c1").returncode == 0
    counting(b, frozen + 2)
    assert crt("pause", "c1").returncode == 0
    checkpoint(crt, "c1", tmp_path / "img2")
    assert crt.status("c1") == "stopped"
    at_dump = counter(b)
    assert crt("delete", "c1").returncode == 0
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img2"), "c1",
            timeout=120)
    assert r.returncode == 0, r
    assert crt.status("c1") == "running"
    counting(b, at_dump)
    assert crt("delete", "-f", "c1").returncode == 0


@pytest.mark.skipif(RUNC is None, reason="runc not installed (apt-get install runc)")
def test_checkpoint_paused_as_runc(bundle_factory, tmp_path):
    b = bundle_factory(("sh", "-c", COUNTER))
    root = tmp_path / "runc-root"

    runc = runc_at(root)
    try:
        runc("run", "-d", "-b", b.path, "r1")
        counting(b, 3)
        runc("pause", "r1")
        runc("checkpoint", "--image-path", str(tmp_path / "img"), "--leave-running", "r1")
        assert json.loads(runc("state", "r1").stdout)["status"] == "paused"
    finally:
        runc("delete", "-f", "r1", check=False)


def test_restore_remakes_missing_bind_target(crt, bundle_factory, tmp_path):
    """A rootfs without the bind mount's destination (a fresh copy of the
    image): restore makes it again, as create did, and criu mounts the
    source there."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello").write_text("hi\n")
    b = bundle_factory(("sh", "-c", COUNTER))
    b.config["mounts"].append({"destination": "/data/in", "type": "bind", "source": str(src),
                               "options": ["rbind"]})
    b.save()
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    counting(b, 3)
    checkpoint(crt, "c1", tmp_path / "img")
    assert crt("delete", "c1").returncode == 0
    shutil.rmtree(b.in_rootfs("/data"))
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "c1",
            timeout=120)
    assert r.returncode == 0, r
    counting(b, counter(b))
    r = crt("exec", "c1", "cat", "/data/in/hello")
    assert r.returncode == 0 and r.stdout == "hi\n", r
    assert crt("delete", "-f", "c1").returncode == 0


# ---- user namespaces ---------------------------------------------------------

USERNS_MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def _userns_bundle(bundle_factory):
    b = bundle_factory(("sh", "-c", COUNTER))
    b.config["linux"]["namespaces"].append({"type": "user"})
    b.config["linux"]["uidMappings"] = USERNS_MAP
    b.config["linux"]["gidMappings"] = USERNS_MAP
    b.save()
    # Its root (host uid 100000) writes the counter into the rootfs.
    subprocess.run(["chown", "-R", "100000:100000", b.rootfs], check=True)
    return b


def _maps(pid):
    with open(f"/proc/{pid}/uid_map") as f, open(f"/proc/{pid}/gid_map") as g:
        return f.read().split(), g.read().split()


def test_user_namespace_checkpoint_restore(crt, bundle_factory, tmp_path):
    """criu dumps the user namespace with its maps and makes it again: the
    restored init has the same maps, its root is root inside, the cgroup
    is delegated to it again (as create does), and it counts on. The
    image directory crt made is the container root's group (0710): the
    restored tasks open their images as that root."""
    b = _userns_bundle(bundle_factory)
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    counting(b, 3)
    maps = _maps(crt.state("c1")["pid"])
    assert maps[0] == ["0", "100000", "65536"], maps
    checkpoint(crt, "c1", tmp_path / "img")
    st = os.stat(tmp_path / "img")
    assert (st.st_gid, st.st_mode & 0o777) == (100000, 0o710)
    frozen = counter(b)
    assert crt("delete", "c1").returncode == 0
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "c1",
            timeout=120)
    assert r.returncode == 0, r
    pid = crt.state("c1")["pid"]
    assert _maps(pid) == maps
    counting(b, frozen)
    r = crt("exec", "c1", "id", "-u")
    assert r.returncode == 0 and r.stdout.strip() == "0", r
    cg = "/sys/fs/cgroup" + b.config["linux"]["cgroupsPath"]
    assert os.stat(cg).st_uid == 100000 and os.stat(cg + "/cgroup.procs").st_uid == 100000
    assert pid in cgroup_procs(b)
    assert crt("delete", "-f", "c1").returncode == 0


@pytest.mark.skipif(RUNC is None, reason="runc not installed (apt-get install runc)")
def test_user_namespace_as_runc(bundle_factory, tmp_path):
    """runc 1.1.5 leaves its image directory 0700: its restore then fails
    in criu, as crt's check says it would; with the directory given to
    the container's root (what crt does when it makes it) it works."""
    b = _userns_bundle(bundle_factory)
    root = tmp_path / "runc-root"

    runc = runc_at(root)
    try:
        runc("run", "-d", "-b", b.path, "r1")
        counting(b, 3)
        maps = _maps(json.loads(runc("state", "r1").stdout)["pid"])
        runc("checkpoint", "--image-path", str(tmp_path / "img"), "r1")
        frozen = counter(b)
        r = runc("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "r1",
                 check=False)
        log = (tmp_path / "img" / "restore.log").read_text()
        said = [line for line in log.splitlines() if "Error (" in line]
        print("runc restore, image dir 0700:", r.returncode, said)
        assert r.returncode != 0 and any("Permission denied" in line for line in said), (r, said)
        os.chown(tmp_path / "img", 0, 100000)
        os.chmod(tmp_path / "img", 0o710)
        runc("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "img"), "r1")
        assert _maps(json.loads(runc("state", "r1").stdout)["pid"]) == maps
        counting(b, frozen)
    finally:
        runc("delete", "-f", "r1", check=False)


@pytest.mark.skipif(RUNC is None, reason="runc not installed (apt-get install runc)")
def test_terminal_restore_as_runc(bundle_factory, tmp_path):
    """runc on the same terminal bundle: checkpoint with the master held
    by the console socket's receiver, restore with a new one sent there.
    (runc 1.1.5 names it "orphan-pts-master" in the message, crt
    "/dev/pts/N" as at create: the engines read only the fd.)"""
    b = bundle_factory(("sh", "-c", TTY_COUNTER))
    b.config["process"]["terminal"] = True
    b.save()
    root = tmp_path / "runc-root"

    runc = runc_at(root)
    srv = _console_socket(tmp_path / "r.sock")
    try:
        runc("run", "-d", "--console-socket", str(tmp_path / "r.sock"), "-b", b.path, "r1")
        master = _recv_master(srv)
        try:
            assert _read_numbers(master, until=3)
            runc("checkpoint", "--image-path", str(tmp_path / "img"), "r1")
            last = _read_numbers(master)[-1]
        finally:
            os.close(master)
        runc("restore", "-d", "--console-socket", str(tmp_path / "r.sock"), "-b", b.path,
             "--image-path", str(tmp_path / "img"), "r1")
        master = _recv_master(srv, name=b"orphan-pts-master")
        try:
            nums = _read_numbers(master, until=last + 2)
            assert last < nums[0] < last + 50 and nums[-1] > last + 2, (last, nums)
        finally:
            os.close(master)
    finally:
        srv.close()
        runc("delete", "-f", "r1", check=False)
