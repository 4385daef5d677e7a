"""Load: many containers at once, races on one container, long runs,
and containers that are stuck.

  * 20 containers created, started and deleted in parallel;
  * 10 `create` of one id racing: one wins, the others are told it
    exists, and the winner is intact;
  * `delete --force` racing `kill` and `state`;
  * a soak of sequential `run` cycles (CRT_SOAK_RUNS, 200 by default)
    and of 500 `exec` into one container: nothing leaks, and crt's peak
    RSS (wait4's rusage) and the host's mount count stay flat;
  * a frozen cgroup, a stopped process in it, and a process blocked in
    D state on a FUSE mount that never answers: `delete --force` still
    removes everything within 10 s.
"""

import ctypes
import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

DEFAULT_TIMEOUT = 30

SOAK_RUNS = int(os.environ.get("CRT_SOAK_RUNS", "200"))
EXEC_CHECKS = int(os.environ.get("CRT_SOAK_EXECS", "500"))
CGROUP_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")
libc = ctypes.CDLL(None, use_errno=True)


class Res:
    def __init__(self, argv, rc, out, err, maxrss=0):
        self.argv, self.returncode, self.stdout, self.stderr = argv, rc, out, err
        self.maxrss = maxrss

    def __repr__(self):
        return f"<{' '.join(self.argv[3:])}: exit {self.returncode}: {self.stderr.strip()!r}>"


def run(crt, *args, timeout=DEFAULT_TIMEOUT):
    """crt, safe to call from many threads (Crt() numbers its output
    files without a lock); output through unnamed temporary files, since
    a created init keeps crt's stdio. maxrss: crt's peak RSS in KiB."""
    argv = crt.argv(args)
    crt._remember_id(args)
    with tempfile.TemporaryFile("w+", dir=crt.tmp) as out, \
            tempfile.TemporaryFile("w+", dir=crt.tmp) as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                p.returncode = -9
                pytest.fail(f"timed out: {argv}")
            time.sleep(0.002)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Res(argv, p.returncode, out.read(), err.read(), ru.ru_maxrss)


PR_SET_CHILD_SUBREAPER = 36


class measured:
    """crt's own peak RSS, from os.wait4: a child forked from Python
    would report Python's (exec keeps the old mm's high-water mark), so
    a small process forks crt and exits, and crt, orphaned, comes to us:
    we are its subreaper while this context lasts."""

    def __enter__(self):
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            pytest.skip("cannot become a subreaper")
        return self

    def __exit__(self, *exc):
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)

    @staticmethod
    def run(crt, *args, timeout=DEFAULT_TIMEOUT):
        """setsid --fork forks crt and exits without waiting for it (a
        shell would reap a quick background job itself)."""
        argv = crt.argv(args)
        with tempfile.TemporaryFile("w+", dir=crt.tmp) as out, \
                tempfile.TemporaryFile("w+", dir=crt.tmp) as err:
            subprocess.run(["setsid", "--fork", *argv], stdin=subprocess.DEVNULL,
                           stdout=out, stderr=err, check=True, timeout=timeout)
            # crt is our only child now (the soak tests start no other).
            deadline = time.monotonic() + timeout
            while True:
                got, status, ru = os.wait4(-1, os.WNOHANG)
                if got:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"timed out: {argv}")
                time.sleep(0.002)
            out.seek(0)
            err.seek(0)
            return Res(argv, os.waitstatus_to_exitcode(status), out.read(), err.read(),
                       ru.ru_maxrss)


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return sum(1 for _ in f)


def cgroup_dirs(bundle):
    path = bundle.config["linux"]["cgroupsPath"]
    return [r + path for r in CGROUP_ROOTS if os.path.isdir(r + path)]


def container_procs(*bundles):
    want = {(st.st_dev, st.st_ino) for st in (os.stat(b.rootfs) for b in bundles)}
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{name}/root")
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in want and state != "Z":
            pids.append(int(name))
    return pids


def nothing_left(crt, *bundles, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        left = crt.state_entries()
        left += [d for b in bundles for d in cgroup_dirs(b)]
        left += [f"pid {p}" for p in container_procs(*bundles)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# --------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------

def test_twenty_containers_in_parallel(crt, bundle_factory):
    bundles = [bundle_factory(["sleep", "1000"]) for _ in range(20)]

    def lifecycle(i):
        cid, b = f"p{i}", bundles[i]
        steps = [run(crt, "create", "--bundle", b.path, cid), run(crt, "start", cid)]
        st = run(crt, "state", cid)
        steps += [st, run(crt, "exec", cid, "true"), run(crt, "delete", "--force", cid)]
        bad = [s for s in steps if s.returncode != 0]
        if not bad and json.loads(st.stdout)["status"] != "running":
            bad.append(st)
        return bad

    with ThreadPoolExecutor(max_workers=20) as pool:
        failures = [f for fs in pool.map(lifecycle, range(20)) for f in fs]
    assert failures == []
    assert nothing_left(crt, *bundles) == []


def test_ten_creates_of_one_id(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.save()
    start = threading.Barrier(10)

    def create(_):
        start.wait()
        return run(crt, "create", "--bundle", bundle.path, "c1")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(create, range(10)))
    winners = [r for r in results if r.returncode == 0]
    losers = [r for r in results if r.returncode != 0]
    assert len(winners) == 1, results
    for r in losers:
        assert r.returncode == 1, r
        assert r.stderr == "crt: create c1: container with given ID already exists\n", r
    # The winner's container is whole: its state, its start, its delete.
    state = crt.state("c1")
    assert state["status"] == "created" and state["pid"] > 0
    assert len(cgroup_dirs(bundle)) == 1
    r = run(crt, "start", "c1")
    assert r.returncode == 0, r
    assert crt.status("c1") == "running"
    r = run(crt, "delete", "--force", "c1")
    assert r.returncode == 0, r
    assert nothing_left(crt, bundle) == []


def test_delete_races_kill_and_state(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.save()
    for round_ in range(8):
        r = run(crt, "run", "-d", "--bundle", bundle.path, "c1")
        assert r.returncode == 0, r
        start = threading.Barrier(6)

        def go(what):
            start.wait()
            if what == "delete":
                return what, run(crt, "delete", "--force", "c1")
            if what == "kill":
                return what, run(crt, "kill", "c1", "KILL")
            return what, run(crt, "state", "c1")

        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(go, ["delete", "kill", "kill", "state", "state", "state"]))
        for what, r in results:
            if what == "delete":
                assert r.returncode == 0, (round_, r)
            elif r.returncode == 0:
                if what == "state":
                    assert json.loads(r.stdout)["status"] in ("running", "stopped"), r
            else:
                # Lost the race: told so in one line.
                assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, (round_, r)
                assert ("does not exist" in r.stderr or "not running" in r.stderr), (round_, r)
        assert nothing_left(crt, bundle) == [], round_


# --------------------------------------------------------------------------
# soak
# --------------------------------------------------------------------------

def test_soak_run_cycles(crt, bundle):
    bundle.config["process"]["args"] = ["true"]
    bundle.save()
    rss, mounts = [], []
    fds_before = open_fds(os.getpid())
    t0 = time.monotonic()
    with measured() as m:
        for i in range(SOAK_RUNS):
            r = m.run(crt, "run", "--bundle", bundle.path, "c1")
            assert r.returncode == 0, (i, r)
            rss.append(r.maxrss)
            mounts.append(host_mounts())
            if i % 50 == 49:
                assert nothing_left(crt, bundle, timeout=2) == [], i
    elapsed = time.monotonic() - t0
    print(f"soak: {SOAK_RUNS} runs in {elapsed:.1f}s; crt maxrss first {rss[0]} KiB, "
          f"last {rss[-1]} KiB, max {max(rss)} KiB; host mounts first {mounts[0]}, "
          f"last {mounts[-1]}")
    assert nothing_left(crt, bundle) == []
    assert open_fds(os.getpid()) == fds_before
    # Each run is a new process: the peak RSS of the last ones is that of
    # the first ones (page-granular noise aside).
    assert max(rss[-10:]) <= max(rss[:10]) + 256, rss
    # The container's mounts live and die with its namespace. Other
    # users of the machine mount too: only a steady climb is ours.
    assert mounts[-1] - mounts[0] < SOAK_RUNS // 4, mounts


def test_soak_exec_health_checks(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "100000"]
    bundle.save()
    r = run(crt, "run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    init = crt.state("c1")["pid"]
    fds0, mounts0 = open_fds(init), host_mounts()
    with open(f"/proc/{init}/mountinfo") as f:
        ns_mounts0 = sum(1 for _ in f)
    rss = []
    t0 = time.monotonic()
    with measured() as m:
        for i in range(EXEC_CHECKS):
            r = m.run(crt, "exec", "c1", "sh", "-c", "test -d /proc/1")
            assert r.returncode == 0, (i, r)
            rss.append(r.maxrss)
    elapsed = time.monotonic() - t0
    with open(f"/proc/{init}/mountinfo") as f:
        ns_mounts = sum(1 for _ in f)
    print(f"exec soak: {EXEC_CHECKS} execs in {elapsed:.1f}s; crt maxrss first {rss[0]} KiB, "
          f"last {rss[-1]} KiB; host mounts {mounts0} -> {host_mounts()}; "
          f"container mounts {ns_mounts0} -> {ns_mounts}")
    # Only the init is left in the container: every exec'd process was reaped.
    assert container_procs(bundle) == [init]
    assert open_fds(init) == fds0
    assert ns_mounts == ns_mounts0
    assert max(rss[-10:]) <= max(rss[:10]) + 256, rss
    r = run(crt, "delete", "--force", "c1")
    assert r.returncode == 0, r
    assert nothing_left(crt, bundle) == []


# --------------------------------------------------------------------------
# stuck containers
# --------------------------------------------------------------------------

def timed_delete(crt, bundle, limit=10):
    t0 = time.monotonic()
    r = run(crt, "delete", "--force", "c1", timeout=limit + 20)
    took = time.monotonic() - t0
    assert r.returncode == 0, r
    assert took < limit, took
    assert nothing_left(crt, bundle) == []
    return took


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_delete_frozen_container(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "sleep 1000 & sleep 1000"]
    bundle.save()
    r = run(crt, "run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    r = run(crt, "pause", "c1")
    assert r.returncode == 0, r
    assert crt.status("c1") == "paused"
    timed_delete(crt, bundle)


def test_delete_frozen_with_stopped_process(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "sleep 1000 & sleep 1000"]
    bundle.save()
    r = run(crt, "run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    for pid in container_procs(bundle):
        os.kill(pid, 19)  # SIGSTOP
    r = run(crt, "pause", "c1")
    assert r.returncode == 0, r
    timed_delete(crt, bundle)


def mount_dead_fuse(init_pid, target):
    """A FUSE file system at `target` in the container's mount namespace
    whose daemon never answers, not even FUSE_INIT: every access to it
    waits, killable only, in D state. Returns the /dev/fuse fd."""
    fuse = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    root = os.open(f"/proc/{init_pid}/root", os.O_RDONLY | os.O_DIRECTORY)
    ns = os.open(f"/proc/{init_pid}/ns/mnt", os.O_RDONLY)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if libc.setns(ns, 0x00020000) == 0:  # CLONE_NEWNS
                os.fchdir(root)
                os.chroot(".")
                opts = f"fd={fuse},rootmode=40000,user_id=0,group_id=0".encode()
                if libc.mount(b"deadfuse", target.encode(), b"fuse", 0, opts) == 0:
                    code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    os.close(root)
    os.close(ns)
    if os.waitstatus_to_exitcode(status) != 0:
        os.close(fuse)
        pytest.skip("cannot mount a FUSE file system here")
    return fuse


@pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse")
def test_delete_with_process_in_d_state(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.save()
    r = run(crt, "run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    init = crt.state("c1")["pid"]
    r = run(crt, "exec", "c1", "mkdir", "-p", "/tmp/fuse")
    assert r.returncode == 0, r
    fuse = mount_dead_fuse(init, "/tmp/fuse")
    try:
        r = run(crt, "exec", "--detach", "c1", "ls", "/tmp/fuse/")
        assert r.returncode == 0, r
        deadline = time.monotonic() + 10
        stuck = []
        while not stuck and time.monotonic() < deadline:
            stuck = [p for p in container_procs(bundle) if p != init and proc_state(p) == "D"]
            time.sleep(0.05)
        assert stuck, "no process of the container got stuck in D state"
        took = timed_delete(crt, bundle)
        print(f"D state: delete --force took {took:.2f}s")
    finally:
        os.close(fuse)
