#!/usr/bin/python3
"""crt benchmark driver, started by bench/run.sh inside a private mount
namespace with a private tmpfs on --work (see run.sh for the why).

Every command is started with os.posix_spawn and reaped with os.wait4, so
the harness costs the same for every runtime and the rusage of the wait
gives the peak RSS.  See run.sh -h for what is measured.
"""
import argparse
import ctypes
import datetime
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

import segments
import tracephases
from report import PATHS, log, pct, report

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36



class Runner:
    """posix_spawn + wait4, stdin and stdout /dev/null, stderr to a file."""

    def __init__(self, work):
        self.null_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        self.null_w = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
        self.err_path = os.path.join(work, "stderr")
        self.err = os.open(self.err_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def spawn(self, argv, stdout=None, stderr=None):
        actions = [(os.POSIX_SPAWN_DUP2, self.null_r, 0),
                   (os.POSIX_SPAWN_DUP2, self.null_w if stdout is None else stdout, 1),
                   (os.POSIX_SPAWN_DUP2, self.err if stderr is None else stderr, 2)]
        return os.posix_spawn(argv[0], argv, ENV, file_actions=actions)

    def timed(self, argv, stdout=None):
        """(ms, ok, maxrss KiB, stderr text if it failed)"""
        os.ftruncate(self.err, 0)
        os.lseek(self.err, 0, os.SEEK_SET)
        t0 = time.perf_counter_ns()
        pid = self.spawn(argv, stdout)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
        ok = os.waitstatus_to_exitcode(status) == 0
        err = ""
        if not ok:
            os.lseek(self.err, 0, os.SEEK_SET)
            err = os.read(self.err, 4096).decode(errors="replace").strip()
        return (t1 - t0) / 1e6, ok, ru.ru_maxrss, err

    def output(self, argv):
        r = subprocess.run(argv, capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL)
        return r.returncode, r.stdout, r.stderr


def reap_init(pid, timeout=10.0):
    """Wait for a container's init to exit.  As the subreaper we inherit
    the inits that `create` left behind; otherwise poll /proc."""
    try:
        os.waitpid(pid, 0)
        return True
    except ChildProcessError:
        pass
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.001)
    return False


def reap_strays():
    n = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return n
        if pid == 0:
            return n
        n += 1



# --------------------------------------------------------------------------
# bundles

def make_bundles(work, seccomp):
    rootfs = os.path.join(work, "rootfs")
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for tool in ("true", "sh", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", tool))
    os.chmod(work, 0o755)

    def config(args, net):
        ns = ["pid", "ipc", "uts", "mount"] + (["network"] if net else [])
        caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
        c = {
            # crun 1.8.1 only accepts ociVersion 1.0.x; the one bundle serves all
            "ociVersion": "1.0.2",
            "process": {
                "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                "env": ["PATH=/bin"], "cwd": "/",
                "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": True,
            },
            "root": {"path": rootfs, "readonly": True},
            "hostname": "bench",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                 "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                 "options": ["nosuid", "noexec", "nodev", "ro"]},
            ],
            "linux": {"namespaces": [{"type": t} for t in ns],
                      "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
                      "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]},
        }
        if seccomp:
            # A small profile (allow by default, refuse a few): enough to make
            # every runtime build and load a filter.
            c["linux"]["seccomp"] = {
                "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["kexec_load", "open_by_handle_at", "init_module",
                                        "finit_module", "delete_module", "reboot", "swapon",
                                        "swapoff", "acct", "add_key", "keyctl", "bpf"],
                              "action": "SCMP_ACT_ERRNO"}]}
        return c

    bundles = {}
    for name, args, net in (("true", ["/bin/true"], False), ("net", ["/bin/true"], True),
                            ("sleep", ["/bin/sleep", "1000000"], False)):
        d = os.path.join(work, "bundle-" + name)
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config(args, net), f, indent=1)
        bundles[name] = d
    return rootfs, bundles


# --------------------------------------------------------------------------
# runtimes

class RT:
    def __init__(self, key, name, binary, flags, mode, note=""):
        self.key, self.name, self.binary, self.mode, self.note = key, name, binary, mode, note
        self.root = None
        self.flags = flags
        self.argv = None

    def setup(self, work):
        self.root = os.path.join(work, "state", self.key)
        self.argv = [self.binary, "--root", self.root] + self.flags

    def cmd(self, *a):
        return self.argv + list(a)


def make_runtimes(args, work):
    rts = [RT("crt-off", "crt", args.crt, ["--cgroup-manager=disabled"], "off"),
           RT("crt-on", "crt", args.crt, ["--cgroup-manager=cgroupfs"], "on")]
    # Other builds of crt, in the same loop: --enable-static-binary (glibc)
    # and contrib/musl-build.sh (musl).
    for key, name, binary in (("crts", "crt-static", args.static), ("crtm", "crt-musl", args.musl)):
        if binary:
            rts += [RT(f"{key}-off", name, binary, ["--cgroup-manager=disabled"], "off"),
                    RT(f"{key}-on", name, binary, ["--cgroup-manager=cgroupfs"], "on")]
    crun, runc = shutil.which("crun"), shutil.which("runc")
    if crun:
        rts += [RT("crun-off", "crun", crun, ["--cgroup-manager=disabled"], "off"),
                RT("crun-on", "crun", crun, ["--cgroup-manager=cgroupfs"], "on")]
    if runc and args.runc:
        # runc has no way to run without cgroups: the same runc serves as
        # the "cgroups on" column of both tables.
        rts.append(RT("runc", "runc", runc, [], "on", "cgroups on: runc cannot turn them off"))
    for rt in rts:
        rt.setup(work)
    return rts



# --------------------------------------------------------------------------
# the interleaved loop

class Bench:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.r = Runner(work)
        self.rng = random.Random(args.seed)
        self.prefix = f"cb{os.getpid()}"
        self.seq = 0
        self.ms = {}      # (key, path) -> [ms]
        self.rss = {}     # (key, path) -> [KiB]
        self.fails = {}   # (key, path) -> count
        self.failmsg = {}

    def new_id(self, tag):
        self.seq += 1
        return f"{self.prefix}-{tag}-{self.seq}"

    def record(self, key, path, res):
        ms, ok, rss, err = res
        if ok:
            self.ms.setdefault((key, path), []).append(ms)
            self.rss.setdefault((key, path), []).append(rss)
        else:
            self.fails[(key, path)] = self.fails.get((key, path), 0) + 1
            if (key, path) not in self.failmsg:
                self.failmsg[(key, path)] = err
                log(f"{key} {path} failed: {err}")
        return ok

    def check_runtimes(self, rts, bundles):
        """Warm up (page cache, first-run effects) and keep the runtimes that work."""
        working = []
        for rt in rts:
            cid = self.new_id("warm")
            ms, ok, _, err = self.r.timed(rt.cmd("run", "--bundle", bundles["true"], cid))
            if ok:
                ms, ok, _, err = self.r.timed(rt.cmd("run", "--bundle", bundles["net"], cid + "n"))
            if ok:
                working.append(rt)
            else:
                log(f"{rt.key} does not work here, left out: {err}")
                self.r.timed(rt.cmd("delete", "--force", cid))
        return working

    def start_targets(self, rts, bundles):
        """One running container per runtime for exec and state."""
        self.targets = {}
        for rt in rts:
            cid = self.new_id("target")
            pidfile = os.path.join(self.work, cid + ".pid")
            _, ok, _, err = self.r.timed(rt.cmd("create", "--pid-file", pidfile,
                                                "--bundle", bundles["sleep"], cid))
            if ok:
                _, ok, _, err = self.r.timed(rt.cmd("start", cid))
            if not ok:
                raise SystemExit(f"bench: {rt.key}: cannot start the exec target: {err}")
            self.targets[rt.key] = (cid, int(open(pidfile).read()))

    def stop_targets(self, rts):
        for rt in rts:
            cid, pid = self.targets.pop(rt.key)
            self.r.timed(rt.cmd("kill", cid, "KILL"))
            reap_init(pid)
            _, ok, _, err = self.r.timed(rt.cmd("delete", cid))
            if not ok:
                self.r.timed(rt.cmd("delete", "--force", cid))

    def iteration(self, rts, bundles, floor, rootfs):
        rng = self.rng
        for path in ("run", "run-net"):
            order = list(rts) + ["floor"]
            rng.shuffle(order)
            for rt in order:
                if rt == "floor":
                    argv = [floor] + (["-n"] if path == "run-net" else []) + [rootfs]
                    self.record("floor", path, self.r.timed(argv))
                    continue
                b = bundles["true" if path == "run" else "net"]
                cid = self.new_id("run")
                if not self.record(rt.key, path, self.r.timed(rt.cmd("run", "--bundle", b, cid))):
                    self.r.timed(rt.cmd("delete", "--force", cid))
        # create, start, delete: one container per runtime through its life
        life = {}
        order = list(rts)
        rng.shuffle(order)
        for rt in order:
            cid = self.new_id("life")
            pidfile = os.path.join(self.work, cid + ".pid")
            if self.record(rt.key, "create", self.r.timed(
                    rt.cmd("create", "--pid-file", pidfile, "--bundle", bundles["true"], cid))):
                life[rt.key] = (cid, int(open(pidfile).read()))
                os.unlink(pidfile)
            else:
                self.r.timed(rt.cmd("delete", "--force", cid))
        rng.shuffle(order)
        started = {}
        for rt in order:
            if rt.key in life:
                cid, pid = life[rt.key]
                started[rt.key] = self.record(rt.key, "start", self.r.timed(rt.cmd("start", cid)))
        for rt in order:   # untimed: let /bin/true finish
            if rt.key in life and started[rt.key]:
                reap_init(life[rt.key][1])
        rng.shuffle(order)
        for rt in order:
            if rt.key in life:
                cid, pid = life[rt.key]
                if not started[rt.key] or not self.record(rt.key, "delete",
                                                          self.r.timed(rt.cmd("delete", cid))):
                    self.r.timed(rt.cmd("delete", "--force", cid))
                    reap_init(pid, 2)
        for path in ("exec", "state"):
            rng.shuffle(order)
            for rt in order:
                cid = self.targets[rt.key][0]
                argv = rt.cmd("exec", cid, "/bin/true") if path == "exec" else rt.cmd("state", cid)
                self.record(rt.key, path, self.r.timed(argv))
        reap_strays()

    def rss_pass(self, rts, bundles, helper, reps=5):
        """Peak RSS through bench/rss.c (see there): run, exec, create."""
        self.rss = {}
        for i in range(reps):
            for path in ("run", "exec", "create"):
                order = list(rts)
                self.rng.shuffle(order)
                for rt in order:
                    cid = self.new_id("rss")
                    if path == "run":
                        argv = rt.cmd("run", "--bundle", bundles["true"], cid)
                    elif path == "exec":
                        argv = rt.cmd("exec", self.targets[rt.key][0], "/bin/true")
                    else:
                        argv = rt.cmd("create", "--bundle", bundles["true"], cid)
                    # stdout a pipe read after the helper exits, stderr a
                    # file: a created init keeps the runtime's stderr open
                    rfd, wfd = os.pipe2(os.O_CLOEXEC)
                    _, ok, _, err = self.r.timed([helper] + argv, stdout=wfd)
                    os.close(wfd)
                    f = os.read(rfd, 100).decode().split()
                    os.close(rfd)
                    if ok and len(f) == 2 and f[1] == "0":
                        self.rss.setdefault((rt.key, path), []).append(int(f[0]))
                    else:
                        log(f"rss: {rt.key} {path} failed: {f} {err}")
                    if path != "exec":
                        self.r.timed(rt.cmd("delete", "--force", cid))
            reap_strays()

    def stats(self, key, path):
        v = self.ms.get((key, path))
        if not v:
            return None
        return min(v), statistics.median(v), pct(v, 90)

    def ratio_interval(self, key, other, path, resamples=2000):
        """95% bootstrap interval of median(key) / median(other) on path:
        each runtime's runs resampled with replacement, the ratio of the
        medians taken each time, its 2.5th and 97.5th percentiles. How far
        the one run's ratio could be off from run-to-run noise alone."""
        a, b = self.ms.get((key, path)), self.ms.get((other, path))
        if not a or not b:
            return None
        rng = random.Random(self.args.seed)
        ratios = sorted(statistics.median(rng.choices(a, k=len(a)))
                        / statistics.median(rng.choices(b, k=len(b)))
                        for _ in range(resamples))
        return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]


# --------------------------------------------------------------------------
# strace: per-phase breakdown of crt create, syscall counts of `run`

LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
DUR = re.compile(r"<(\d+\.\d+)>\s*$")
MOUNTS = ("mount", "umount2", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
          "mount_setattr", "fspick")


def parse_strace(path):
    """[(pid, ts, name, args, dur)], merging unfinished/resumed halves."""
    events, pending = [], {}
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.startswith("+++") or rest.startswith("---"):
            events.append((pid, ts, "+++" if rest.startswith("+++") else "---", rest, 0.0))
            continue
        r = RESUMED.match(rest)
        if r:
            idx = pending.pop((pid, r.group(1)), None)
            d = DUR.search(rest)
            if idx is not None:
                p, t, n, a, _ = events[idx]
                events[idx] = (p, t, n, a + r.group(2), float(d.group(1)) if d else 0.0)
            continue
        c = CALL.match(rest)
        if not c:
            continue
        d = DUR.search(rest)
        events.append((pid, ts, c.group(1), c.group(2), float(d.group(1)) if d else 0.0))
        if rest.endswith("<unfinished ...>"):
            pending[(pid, c.group(1))] = len(events) - 1
    return events


def create_phases(events, root, cid):
    """Landmarks of a crt create, first occurrence of each, in time order."""
    main = events[0][0]
    child = None
    for p, t, n, a, d in events:
        if p != main and n not in ("+++", "---"):
            child = p
            break
    marks = []

    def first(label, pred, pid=None, after=0.0):
        for p, t, n, a, d in events:
            if t >= after and (pid is None or p == pid) and pred(n, a):
                marks.append((t, label))
                return t
        return None

    t_exec = first("exec, ld.so, libc init, argument parsing", lambda n, a: n == "execve", main)
    first("read and parse config.json, resolve the bundle",
          lambda n, a: n == "openat" and "config.json" in a and "O_WRONLY" not in a, main)
    first("state dir: mkdir, lock, copy config.json",
          lambda n, a: n in ("mkdir", "mkdirat") and root in a, main)
    t_cg = first("cgroup: find the v2 mount, mkdir, enable controllers",
                 lambda n, a: "/sys/fs/cgroup" in a or "/proc/self/mountinfo" in a, main)
    first("cgroup: device filter (bpf load + attach)", lambda n, a: n == "bpf", main)
    first("sync sockets (start.sock, socketpair)",
          lambda n, a: n in ("socket", "socketpair"), main, t_cg or 0.0)
    t_clone = first("clone3 into the namespaces", lambda n, a: n in ("clone3", "clone"), main)
    if child:
        first("init: starts, sethostname, keyring, fds", lambda n, a: True, child)
        first("init: mounts (rootfs bind, proc, dev, sysfs, masks)",
              lambda n, a: n in MOUNTS, child)
        first("init: pivot_root, detach old root", lambda n, a: n == "pivot_root", child)
        first("init: capabilities, uid/gid, no_new_privs",
              lambda n, a: n in ("prctl", "capset", "setgroups") , child,
              next((t for t, l in marks if l.startswith("init: pivot")), 0.0))
        first("init: seccomp filter",
              lambda n, a: n == "seccomp" or (n == "prctl" and "PR_SET_SECCOMP" in a), child)
        first("init: ready message; parent wakes",
              lambda n, a: n in ("sendto", "sendmsg", "write"), child, t_clone or 0.0)
    first("parent: write state.json, tell the init",
          lambda n, a: n == "openat" and "state.json" in a, main)
    t_end = next((t for p, t, n, a, d in events if p == main and n == "exit_group"),
                 events[-1][1])
    late = [label for t, label in marks if t >= t_end]
    marks = sorted((t, label) for t, label in marks if t < t_end)
    phases = []
    for i, (t, label) in enumerate(marks):
        t2 = marks[i + 1][0] if i + 1 < len(marks) else t_end
        inside = [(n, d) for p, tt, n, a, d in events if t <= tt < t2 and n not in ("+++", "---")]
        by = {}
        for n, d in inside:
            c, s = by.get(n, (0, 0.0))
            by[n] = (c + 1, s + d)
        top = sorted(by.items(), key=lambda kv: -kv[1][1])[:3]
        top = [kv for kv in top if kv[1][1] <= t2 - t]   # not the waits that span phases
        phases.append((label, (t - t_exec) * 1000, (t2 - t) * 1000, len(inside),
                       ", ".join(f"{n}×{c} {s * 1000:.2f}ms" for n, (c, s) in top)))
    # the parent's blocking waits on the sync socket
    waits = sum(d for p, t, n, a, d in events
                if p == main and n in ("recvmsg", "recvfrom", "read", "poll", "ppoll", "accept4")
                and t > (t_clone or 0) and d > 0.0002)
    return phases, (t_end - t_exec) * 1000, waits * 1000, late


def strace_create(b, crt_rt, bundles, reps):
    """`strace -f -ttt -T` of `crt create`, reps times; median per phase."""
    strace = shutil.which("strace")
    if not strace:
        return None
    runs = []
    for i in range(reps):
        cid = b.new_id("strace")
        out = os.path.join(b.work, cid + ".strace")
        pidfile = os.path.join(b.work, cid + ".pid")
        # strace follows the init too, so it returns only when the init
        # exits: run it in the background and wait for the pid file.
        spid = b.r.spawn([strace, "-f", "-ttt", "-T", "-s", "120", "-o", out]
                         + crt_rt.cmd("create", "--pid-file", pidfile, "--bundle",
                                      bundles["true"], cid))
        end = time.monotonic() + 20
        while not os.path.exists(pidfile) and time.monotonic() < end:
            time.sleep(0.005)
        time.sleep(0.05)
        b.r.timed(crt_rt.cmd("start", cid))
        os.waitpid(spid, 0)
        b.r.timed(crt_rt.cmd("delete", cid))
        b.r.timed(crt_rt.cmd("delete", "--force", cid))
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        ev = parse_strace(out)
        runs.append(create_phases(ev, crt_rt.root, cid))
        keep = os.path.join(b.work, "create.strace")
        os.replace(out, keep)
    # the run with the median total, and per phase the median over all runs
    mid = sorted(runs, key=lambda r: r[1])[len(runs) // 2]
    rows = []
    for lab, st, d, nc, top in mid[0]:
        ds = [p[2] for r in runs for p in r[0] if p[0] == lab]
        rows.append((lab, st, d, statistics.median(ds), nc, top))
    return rows, mid[1], mid[2], len(runs), mid[3]


def strace_counts(b, rts, bundles):
    """`strace -f -c` of one `run` per runtime: calls, total syscall time, top."""
    strace = shutil.which("strace")
    if not strace:
        return None
    res = {}
    for rt in rts:
        cid = b.new_id("count")
        out = os.path.join(b.work, cid + ".count")
        b.r.timed([strace, "-f", "-c", "-o", out] + rt.cmd("run", "--bundle", bundles["true"], cid))
        calls, secs, rows = 0, 0.0, []
        for line in open(out):
            f = line.split()
            if len(f) >= 5 and f[-1] == "total":
                secs, calls = float(f[1]), int(f[3])
            elif len(f) >= 5 and re.match(r"^\d", f[0]) and f[-1] != "total":
                rows.append((f[-1], int(f[3]), float(f[1])))
        rows.sort(key=lambda r: -r[1])
        res[rt.key] = (calls, secs, rows)
    return res


# --------------------------------------------------------------------------
# sizes

def binary_info(path, work):
    cp = os.path.join(work, "strip-" + os.path.basename(path))
    shutil.copy(path, cp)
    subprocess.run(["strip", cp], capture_output=True)
    size = os.path.getsize(cp)
    os.unlink(cp)
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    libs = [l for l in r.stdout.splitlines()
            if ("=>" in l or l.strip().startswith("/")) and "vdso" not in l]
    static = any(t in r.stdout + r.stderr for t in ("not a dynamic", "statically linked"))
    return os.path.getsize(path), size, 0 if static else len(libs), "static" if static else ""


# --------------------------------------------------------------------------
# scale (crt only, cgroups disabled)

def scale(b, crt_rt, bundles, levels, par, nexec, reps):
    r = b.r
    out = {"levels": levels}
    made = []
    lst, st, mk = {}, {}, {}

    def create_many(ids, conc=4):
        """create ids, conc at a time; returns create ms list"""
        running, times, todo = {}, [], list(ids)
        while todo or running:
            while todo and len(running) < conc:
                cid = todo.pop()
                argv = crt_rt.cmd("create", "--bundle", bundles["sleep"], cid)
                running[r.spawn(argv)] = (cid, time.perf_counter_ns())
            pid, status, _ = os.wait4(-1, 0)
            if pid in running:
                cid, t0 = running.pop(pid)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise SystemExit(f"bench: scale: crt create {cid} failed")
                times.append((time.perf_counter_ns() - t0) / 1e6)
        return times

    for lvl in levels:
        new = [f"{b.prefix}-scale-{i}" for i in range(len(made), lvl)]
        t0 = time.perf_counter()
        mk[lvl] = (create_many(new), time.perf_counter() - t0, len(new))
        made += new
        lv, sv = [], []
        for i in range(reps):
            lv.append(r.timed(crt_rt.cmd("list"))[0])
            sv.append(r.timed(crt_rt.cmd("state", b.rng.choice(made)))[0])
        lst[lvl], st[lvl] = statistics.median(lv), statistics.median(sv)
        rc, text, _ = r.output(crt_rt.cmd("list", "-q"))
        if len(text.split()) != len(made):
            log(f"scale: crt list shows {len(text.split())} containers, expected {len(made)}")
    out["list"], out["state"], out["make"] = lst, st, mk
    # tear down: delete --force, 4 at a time
    t0 = time.perf_counter()
    running, todo = set(), list(made)
    while todo or running:
        while todo and len(running) < 4:
            running.add(r.spawn(crt_rt.cmd("delete", "--force", todo.pop())))
        pid, _ = os.waitpid(-1, 0)
        running.discard(pid)
    reap_strays()
    out["teardown"] = time.perf_counter() - t0

    # par containers created and started at once
    ids = [f"{b.prefix}-par-{i}" for i in range(par)]
    phase, begin, done = {}, {}, {}
    t0 = time.perf_counter_ns()
    for cid in ids:
        pid = r.spawn(crt_rt.cmd("create", "--bundle", bundles["true"], cid))
        phase[pid], begin[cid] = (cid, "create"), time.perf_counter_ns()
    failed = 0
    while phase:
        pid, status, _ = os.wait4(-1, 0)
        if pid not in phase:
            continue     # an init that ran /bin/true and exited
        cid, what = phase.pop(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            failed += 1
            continue
        if what == "create":
            phase[r.spawn(crt_rt.cmd("start", cid))] = (cid, "start")
        else:
            done[cid] = (time.perf_counter_ns() - begin[cid]) / 1e6
    wall = (time.perf_counter_ns() - t0) / 1e9
    time.sleep(0.2)
    reap_strays()
    for cid in ids:
        r.timed(crt_rt.cmd("delete", "--force", cid))
    reap_strays()
    lat = list(done.values())
    out["par"] = (par, wall, par / wall if wall else 0, max(lat) if lat else None,
                  statistics.median(lat) if lat else None, failed)

    # nexec execs into one container, one after another
    cid = f"{b.prefix}-execs"
    pidfile = os.path.join(b.work, "execs.pid")
    r.timed(crt_rt.cmd("create", "--pid-file", pidfile, "--bundle", bundles["sleep"], cid))
    r.timed(crt_rt.cmd("start", cid))
    ev, bad = [], 0
    t0 = time.perf_counter()
    for i in range(nexec):
        ms, ok, _, _ = r.timed(crt_rt.cmd("exec", cid, "/bin/true"))
        ev.append(ms)
        bad += not ok
    wall = time.perf_counter() - t0
    r.timed(crt_rt.cmd("kill", cid, "KILL"))
    reap_init(int(open(pidfile).read()))
    r.timed(crt_rt.cmd("delete", cid))
    r.timed(crt_rt.cmd("delete", "--force", cid))
    k = max(1, nexec // 10)
    out["exec"] = (nexec, wall, nexec / wall, statistics.median(ev[:k]), statistics.median(ev[-k:]), bad)
    return out


# --------------------------------------------------------------------------
# leftovers

def leftovers(b, rts, work):
    found = []
    for rt in rts + [getattr(b, "scale_rt", None)]:
        if rt and os.path.isdir(rt.root):
            # crt's seccomp cache (.seccomp) outlives containers by design
            left = [e for e in os.listdir(rt.root) if e != ".seccomp"]
            if left:
                found.append(f"{rt.key}: state left in {rt.root}: {left[:5]}")
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        depth = dirpath.count("/") - 3
        for d in dirnames:
            if d.startswith(b.prefix):
                found.append(f"cgroup left: {os.path.join(dirpath, d)}")
        if depth >= 4:
            dirnames[:] = []
        else:
            dirnames[:] = [d for d in dirnames if not d.startswith(b.prefix)]
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        if f[4].startswith(work) and f[4] != work:
            found.append(f"mount left: {f[4]}")
    if reap_strays():
        pass
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                st = open(f"/proc/{p}/stat").read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(f"process left: {p} {st.split(')')[0]})")
    return found


# --------------------------------------------------------------------------
# main (the report is written by report.py)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--rss", required=True)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("-w", dest="write", default="")
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--no-strace", action="store_true")
    ap.add_argument("--segments", action="store_true")
    ap.add_argument("--no-seccomp", dest="seccomp", action="store_false")
    ap.add_argument("--no-runc", dest="runc", action="store_false")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--info", default="")
    ap.add_argument("--footprint", default="")
    ap.add_argument("--systemd", default="")
    ap.add_argument("--static", default="")
    ap.add_argument("--musl", default="")
    ap.add_argument("--phases", default="")
    ap.add_argument("crt")
    args = ap.parse_args()
    t_start = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    load = os.getloadavg()
    print(f"bench: load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" +
          (" (loaded machine)" if load[0] > 0.5 else ""), file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *a: sys.exit(129))
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("bench: cannot become a subreaper")
    work = args.work
    rootfs, bundles = make_bundles(work, args.seccomp)
    b = Bench(args, work)
    rts = make_runtimes(args, work)
    rts = b.check_runtimes(rts, bundles)
    keys = [rt.key for rt in rts]
    if "crt-off" not in keys or "crt-on" not in keys:
        raise SystemExit("bench: crt does not work")
    left = []
    try:
        b.start_targets(rts, bundles)
        log(f"main loop: {args.n} iterations of {len(PATHS)} paths × {', '.join(keys)}, floor")
        for i in range(args.n):
            b.iteration(rts, bundles, args.floor, rootfs)
            if (i + 1) % 10 == 0 or i + 1 == args.n:
                log(f"  {i + 1}/{args.n} ({time.monotonic() - t0:.0f} s)")
        log("peak RSS")
        b.rss_pass(rts, bundles, args.rss)
        b.stop_targets(rts)
        crt_off = next(rt for rt in rts if rt.key == "crt-off")
        crt_on = next(rt for rt in rts if rt.key == "crt-on")
        phases = counts = None
        if not args.no_strace:
            log("strace")
            phases = strace_create(b, crt_on, bundles, 5)
            counts = strace_counts(b, [rt for rt in rts], bundles)
        segs = None
        if args.segments:
            log("segments (bpftrace)")
            segs = segments.run(b, crt_off, bundles, args.floor, rootfs)
            segs["startup"] = segments.startup(b, rts)
        trace = None
        if args.phases:
            log("phases (the trace build)")
            trace = tracephases.run(b, args.phases, args.crt, bundles, 60)
        bins = {}
        for rt in rts:
            if rt.name not in bins:
                bins[rt.name] = binary_info(rt.binary, work)
        sc = None
        if not args.no_scale:
            levels, par, nexec = ([1, 100, 1000], 100, 1000) if args.scale else ([1, 10, 100], 20, 100)
            log(f"scale: list/state with {levels} containers, {par} in parallel, {nexec} execs")
            srt = RT("crt-scale", "crt", args.crt, ["--cgroup-manager=disabled"], "off")
            srt.setup(work)
            b.scale_rt = srt
            sc = scale(b, srt, bundles, levels, par, nexec, 15)
    finally:
        for rt in rts + [getattr(b, "scale_rt", None)]:
            # anything a failure left behind
            if rt and os.path.isdir(rt.root):
                for cid in os.listdir(rt.root):
                    if cid.startswith(b.prefix):
                        subprocess.run(rt.cmd("delete", "--force", cid), capture_output=True)
        time.sleep(0.1)
        reap_strays()
        left = leftovers(b, rts, work)
    footprint = open(args.footprint).read() if args.footprint else None
    systemd = open(args.systemd).read() if args.systemd else None
    text = report(b, args, rts, args.info, t_start, load, phases, counts, bins, sc, left,
                  time.monotonic() - t0, footprint, segs, trace, systemd)
    print(text)
    if args.write:
        cmd = "bench/run.sh" + (f" -n {args.n}") + (" --scale" if args.scale else "") + \
            (" --footprint" if args.footprint else "") + (" --systemd" if args.systemd else "") + \
            (" --segments" if args.segments else "") + \
            (" --phases" if args.phases else "") + \
            (" --static build-static/src/crt" if args.static else "") + \
            (" --musl build-musl/src/crt" if args.musl else "") + \
            " -w " + os.path.relpath(args.write, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(args.write, "w") as f:
            f.write(f"# Benchmark results\n\nProduced by `{cmd}` (as root). bench/run.sh -h "
                    "says what is measured and how.\n\n" + text + "\n")
    if left:
        sys.exit(1)


if __name__ == "__main__":
    main()
