"""Where `run` with a network namespace spends its time: crt next to the
floor (bench/floor.c), cut at the same kernel events, from tracepoints
read by bpftrace (no kprobes, nothing that slows every syscall down in
the first pass), and which syscalls take the kernel's time in crt's
parent and init (a second pass that does trace every syscall, so its
times are inflated by about a microsecond each).

Both passes run crt (cgroups off, the bench's run-net bundle) and the
floor interleaved, one command at a time, so the bpftrace programs can
keep the state of the one run in flight in global variables."""

import collections
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import time

# (number, label, what crt does there, what the floor does there)
SEGMENTS = [
    (1, "exec → clone3", "ld.so and libc start, flags, config.json parsed and validated, "
     "seccomp program from the cache, state dir, sync socket", "ld.so and libc start"),
    (2, "clone3 (in the parent)", "the kernel makes the namespaces (the network one is most of "
     "it) and copies the process", "the same"),
    (3, "init: → pivot_root", "propagation, rootfs bind, /proc, /dev tmpfs, /dev/pts, /dev/shm, "
     "/sys, device nodes and links (the parent sets lo up meanwhile)", "propagation, rootfs bind"),
    (4, "init: pivot_root → umount2", "pivot_root (no rslave of the old root: the default rootfsPropagation made it private)", "pivot_root"),
    (5, "init: umount2 of the old root", "MNT_DETACH: waits for an expedited RCU grace period",
     "the same"),
    (6, "init: → execve", "fds closed, masked and read-only paths, read-only root, "
     "capabilities (38 bounding-set drops), user, rlimits, READY/START, seccomp, signals",
     "/proc, sethostname"),
    (7, "execve of /bin/true", "the kernel loads busybox and drops the init's copy of crt's "
     "memory", "the same, with the floor's (smaller) memory"),
    (8, "/bin/true runs", "", ""),
    (9, "its exit → SIGCHLD", "the container's mounts and namespaces are torn down",
     "the same, with /proc only"),
    (10, "parent: SIGCHLD → exit_group", "exit status read, state dir removed", "waitpid returns"),
    (11, "parent: exit_group → its SIGCHLD", "crt's exit (its memory, its fds)", "the floor's exit"),
]

SEGMENTS_BT = r"""
tracepoint:sched:sched_process_exec /comm == "@CRT@" || comm == "@FLOOR@"/ {
  @t0 = nsecs; @root = pid; @last = nsecs; @c = 0; @rt = comm == "@CRT@" ? 1 : 2;
  @pf = 0; @pfc = 0; }
tracepoint:syscalls:sys_enter_clone3 /@t0 && pid == @root/ {
  printf("S %d 1 %d\n", @rt, (nsecs - @last) / 1000); @last = nsecs;
  printf("F %d 0 %d\n", @rt, @pf); @pf = 0; }
tracepoint:syscalls:sys_exit_clone3 /@t0 && pid == @root && args->ret > 0/ {
  printf("S %d 2 %d\n", @rt, (nsecs - @last) / 1000); }
tracepoint:syscalls:sys_exit_clone3 /@t0 && pid != @root && args->ret == 0/ { @c = nsecs; }
tracepoint:syscalls:sys_enter_pivot_root /@c && pid != @root/ {
  printf("S %d 3 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs; }
tracepoint:syscalls:sys_enter_umount /@c && pid != @root/ {
  printf("S %d 4 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs; }
tracepoint:syscalls:sys_exit_umount /@c && pid != @root/ {
  printf("S %d 5 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs; }
tracepoint:syscalls:sys_enter_execve /@c && pid != @root/ {
  printf("S %d 6 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs;
  printf("F %d 1 %d\n", @rt, @pfc); @pfc = 0; }
tracepoint:sched:sched_process_exec /@c && pid != @root/ {
  printf("S %d 7 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs; }
tracepoint:syscalls:sys_enter_exit_group /@c && pid != @root/ {
  printf("S %d 8 %d\n", @rt, (nsecs - @c) / 1000); @c = nsecs; }
tracepoint:signal:signal_generate /@c && pid != @root && args->sig == 17/ {
  printf("S %d 9 %d\n", @rt, (nsecs - @c) / 1000); @c = 0; @last = nsecs; }
tracepoint:syscalls:sys_enter_exit_group /@t0 && pid == @root/ {
  printf("S %d 10 %d\n", @rt, (nsecs - @last) / 1000); @last = nsecs; }
tracepoint:signal:signal_generate /@t0 && pid == @root && args->sig == 17/ {
  printf("S %d 11 %d\nT %d %d\n", @rt, (nsecs - @last) / 1000, @rt, (nsecs - @t0) / 1000);
  @t0 = 0; }
"""

# Page faults of the runtime's process until its clone3 and of its init
# until its execve (appended where the kernel has the tracepoint).
FAULTS_BT = r"""
tracepoint:exceptions:page_fault_user /@t0 && pid == @root/ { @pf++; }
tracepoint:exceptions:page_fault_user /@c && pid != @root/ { @pfc++; }
"""
FAULTS_EVENT = "/sys/kernel/tracing/events/exceptions/page_fault_user"

# Kernel time per syscall of crt's two processes (the init until it execs).
SYSCALLS_BT = r"""
tracepoint:sched:sched_process_exec /comm == "@CRT@"/ { @root = pid; @runs = count(); }
tracepoint:raw_syscalls:sys_enter /comm == "@CRT@"/ { @s[tid] = nsecs; @id[tid] = args->id; }
tracepoint:raw_syscalls:sys_exit /@s[tid]/ {
  @ns[@id[tid], pid == @root ? 0 : 1] = sum(nsecs - @s[tid]);
  @n[@id[tid], pid == @root ? 0 : 1] = count(); delete(@s[tid]); delete(@id[tid]); }
"""


def syscall_names():
    names = {}
    try:
        for line in open("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"):
            m = re.match(r"#define __NR_(\w+) (\d+)", line)
            if m:
                names[int(m.group(2))] = m.group(1)
    except OSError:
        pass
    return names


def median_or_none(values):
    return statistics.median(values) if values else None


def whole_or_dash(v):
    return f"{v:.0f}" if v is not None else "-"


def tracing_ready():
    """bpftrace and a tracefs (run.sh mounts one in the bench's namespace)."""
    if not shutil.which("bpftrace"):
        return "bpftrace is not installed"
    if not os.path.exists("/sys/kernel/tracing/events/syscalls"):
        return "no tracefs with syscall events at /sys/kernel/tracing"
    return None


def stop(bt):
    """SIGINT makes bpftrace print its maps and exit. Once in a while it
    misses a SIGINT that comes while it is still attaching (seen once in
    a short pass: asleep in epoll_wait 30 s later), so it is sent again
    every second; after 30 s bpftrace is killed, never left running."""
    for _ in range(30):
        bt.send_signal(signal.SIGINT)
        try:
            bt.wait(timeout=1)
            return
        except subprocess.TimeoutExpired:
            pass
    bt.kill()
    bt.wait()
    raise RuntimeError("bpftrace did not stop on SIGINT within 30 s (killed)")


def traced(program, commands, n, b):
    """Runs bpftrace with program while each of commands runs n times,
    interleaved in a shuffled order; returns bpftrace's output."""
    out = os.path.join(b.work, "bpftrace.out")
    with open(out, "w") as f:
        bt = subprocess.Popen(["bpftrace", "-e", program], stdout=f, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 30
        while "Attaching" not in open(out).read():
            if bt.poll() is not None or time.monotonic() > end:
                raise RuntimeError("bpftrace did not start: " + open(out).read()[-300:])
            time.sleep(0.05)
        time.sleep(0.5)
        for _ in range(n):
            order = list(commands)
            random.shuffle(order)
            for make in order:
                _, ok, _, err = b.r.timed(make())
                if not ok:
                    raise RuntimeError(f"a traced command failed: {err}")
                time.sleep(0.01)
    finally:
        stop(bt)
    text = open(out).read()
    os.unlink(out)
    return text


def run(b, crt_rt, bundles, floor, rootfs, n=60):
    """Both passes; {"skipped": why} when tracing is unavailable."""
    why = tracing_ready()
    if why:
        return {"skipped": why}
    crt_comm = os.path.basename(crt_rt.binary)[:15]
    floor_comm = os.path.basename(floor)[:15]
    prog = SEGMENTS_BT.replace("@CRT@", crt_comm).replace("@FLOOR@", floor_comm)
    # (Without the probes the F lines only print zeros: left out.)
    count_faults = os.path.exists(FAULTS_EVENT)
    if count_faults:
        prog += FAULTS_BT
    commands = [lambda: crt_rt.cmd("run", "--bundle", bundles["net"], b.new_id("seg")),
                lambda: [floor, "-n", rootfs]]
    text = traced(prog, commands, n, b)
    seg = collections.defaultdict(list)
    total = collections.defaultdict(list)
    rest = collections.defaultdict(list)
    summed = collections.defaultdict(int)
    faults = collections.defaultdict(list)
    for line in text.splitlines():
        p = line.split()
        if len(p) == 4 and p[0] == "F" and count_faults:
            faults[(int(p[1]), int(p[2]))].append(int(p[3]))
        if len(p) == 4 and p[0] == "S":
            seg[(int(p[1]), int(p[2]))].append(int(p[3]))
            summed[int(p[1])] += int(p[3])
        elif len(p) == 3 and p[0] == "T":
            total[int(p[1])].append(int(p[2]))
            rest[int(p[1])].append(int(p[2]) - summed.pop(int(p[1]), 0))
    rows = []
    for num, label, crt_does, floor_does in SEGMENTS:
        rows.append((label, median_or_none(seg[(1, num)]), median_or_none(seg[(2, num)]),
                     crt_does, floor_does))
    totals = {rt: statistics.median(v) for rt, v in total.items()}
    # Between the child's start and the parent's return from clone3 (the
    # child may run first), and what medians of skewed parts leave out.
    rows.append(("(time in no segment: the run's total less its segments)",
                 median_or_none(rest[1]), median_or_none(rest[2]), "", ""))

    prog = SYSCALLS_BT.replace("@CRT@", crt_comm)
    text = traced(prog, commands[:1], n // 2, b)
    names = syscall_names()
    ns, cnt, runs = {}, {}, 0
    for line in text.splitlines():
        m = re.match(r"@(ns|n)\[(\d+), (\d+)\]: (\d+)", line)
        if m:
            (ns if m.group(1) == "ns" else cnt)[(int(m.group(2)), int(m.group(3)))] = int(m.group(4))
        m = re.match(r"@runs: (\d+)", line)
        if m:
            runs = int(m.group(1))
    calls = []
    calls_total = {"parent": 0.0, "init": 0.0}
    # waits, not work
    waits = {"recvmsg", "recvfrom", "poll", "ppoll", "wait4", "waitid", "read", "epoll_wait"}
    for (sc, role), v in ns.items():
        name = names.get(sc, str(sc))
        if name in waits or not runs:
            continue
        who = "parent" if role == 0 else "init"
        calls.append((name, who, cnt[(sc, role)] / runs, v / runs / 1000))
        calls_total[who] += v / runs / 1000
    calls.sort(key=lambda r: -r[3])
    cpuid = fault_ns = None
    probe = os.path.join(b.work, "cpuid")
    if os.access(probe, os.X_OK):
        rc, out, _ = b.r.output([probe])
        cpuid = float(out) if rc == 0 and out.strip() else None
        rc, out, _ = b.r.output([probe, "fault"])
        fault_ns = float(out) if rc == 0 and out.strip() else None
    fault_medians = {k: statistics.median(v) for k, v in faults.items()}
    return {"rows": rows, "totals": totals, "n": n, "cpuid_ns": cpuid, "calls": calls[:14],
            "faults": fault_medians, "fault_ns": fault_ns,
            "calls_runs": runs, "calls_total": calls_total}


# (label, program in the work dir) of bench/startup.c's builds
STARTUP_PROBES = [("empty program, no libc (exec, exit, reap)", "start-raw"),
                  ("empty program, static glibc", "start-static"),
                  ("empty program, dynamic glibc (what crt, crun and the floor are)",
                   "start-dynamic"),
                  ("empty program, static musl (not position independent)", "start-musl")]


def startup(b, rts, n=300):
    """Medians (µs) of starting an empty program three or four ways and of each
    runtime's least command (`list` of an empty root), interleaved:
    {"n": n, "rows": [(label, µs)]}. What every start of a glibc program costs here is in
    every runtime's time, once per exec (crun's twice: it re-executes)."""
    cmds = [(label, [os.path.join(b.work, prog)]) for label, prog in STARTUP_PROBES
            if os.access(os.path.join(b.work, prog), os.X_OK)]
    seen = set()
    for rt in rts:
        if rt.binary in seen:
            continue
        seen.add(rt.binary)
        empty = os.path.join(b.work, "empty-root-" + rt.key)
        os.makedirs(empty, exist_ok=True)
        cmds.append((f"`{rt.name} list` of an empty root", [rt.binary, "--root", empty, "list"]))
    times = collections.defaultdict(list)
    for _ in range(n):
        for i in random.sample(range(len(cmds)), len(cmds)):
            ms, ok, _, err = b.r.timed(cmds[i][1])
            if not ok:
                raise SystemExit(f"bench: {' '.join(cmds[i][1])} failed: {err}")
            times[i].append(ms * 1000)
    return {"n": n, "rows": [(label, statistics.median(times[i]))
                             for i, (label, _) in enumerate(cmds)]}


def render_startup(P, startup):
    n, rows = startup["n"], startup["rows"]
    P("### Starting a program at all (--segments)")
    P("")
    P(f"The same empty C program built three ways, and with musl where musl-gcc is installed "
      f"(bench/startup.c), and each runtime's least "
      f"command, interleaved, {n} runs each, posix_spawn to wait4; medians in µs. The step from "
      "no libc to static glibc is glibc's own start-up, mostly the CPUID instructions of its "
      "CPU-feature and cache-size probes (in a VM each traps to the hypervisor: see the CPUID "
      "time above); the next step is ld.so mapping and relocating libc.so. Every runtime and "
      "the floor pay both at each exec.")
    P("")
    P("| program | µs |")
    P("|---|---|")
    for label, us in rows:
        P(f"| {label} | {us:.0f} |")
    P("")


def render(P, segs):
    P("### Where `run` with a network namespace spends its time (--segments: bpftrace)")
    P("")
    if "skipped" in segs:
        P(f"Skipped: {segs['skipped']}.")
        P("")
        return
    t = segs["totals"]
    P(f"crt (cgroups off) and the floor, interleaved, {segs['n']} runs each, cut at the same kernel "
      "events (tracepoints: the runtime's exec, clone3, pivot_root, umount2, the init's execve, "
      "the program's exit_group, each SIGCHLD); medians in µs. The parent waits while the init "
      "works, so the segments and the last row add up to the total (from the runtime's exec to its own SIGCHLD; "
      f"crt {t.get(1, 0):.0f} µs, floor {t.get(2, 0):.0f} µs, both traced).")
    P("")
    if segs.get("cpuid_ns"):
        P(f"One CPUID instruction takes {segs['cpuid_ns'] / 1000:.1f} µs on this machine (it traps to "
          "the hypervisor): glibc runs a few dozen at every program's start (CPU features, cache "
          "sizes), a large part of the floor's own start-up and of `/bin/true`'s run, and the same "
          "for any runtime (crun pays it twice: it re-executes itself).")
        P("")
    pf = {k: whole_or_dash(v) for k, v in (segs.get("faults") or {}).items()}
    if pf:
        P(f"Page faults (medians): the runtime's process until its clone3, crt "
          f"{pf.get((1, 0), '-')}, floor {pf.get((2, 0), '-')}; its init until the execve, crt "
          f"{pf.get((1, 1), '-')}, floor {pf.get((2, 1), '-')} (the init is a fork: it faults in again every page of crt's and "
          "libc's code it runs, and copies every page it writes)."
          + (f" A first write to a fresh anonymous page takes {segs['fault_ns'] / 1000:.1f} µs "
             "here (a code page's fault, which maps up to 16 pages around it, more): "
             "kernel time inside what looks like the runtime's own time in the rows below."
             if segs.get("fault_ns") else ""))
        P("")
    P("| segment | crt µs | floor µs | crt − floor | what crt does there | what the floor does |")
    P("|---|---|---|---|---|---|")
    for label, c, f, crt_does, floor_does in segs["rows"]:
        d = f"{c - f:+.0f}" if c is not None and f is not None else ""
        cs, fs = whole_or_dash(c), whole_or_dash(f)
        P(f"| {label} | {cs} | {fs} | {d} "
          f"| {crt_does} | {floor_does} |")
    P("")
    ct = segs["calls_total"]
    P(f"Kernel time of crt's syscalls per `run` (every syscall traced, {segs['calls_runs']} runs: "
      "about 1 µs of tracing each, so small calls look dearer than they are; blocking waits left "
      f"out; means, so one slow run weighs in): parent {ct['parent']:.0f} µs, init until its execve "
      f"{ct['init']:.0f} µs. The largest:")
    P("")
    P("| syscall | process | calls per run | kernel µs per run (mean) |")
    P("|---|---|---|---|")
    for name, role, n, us in segs["calls"]:
        P(f"| {name} | {role} | {n:.1f} | {us:.0f} |")
    P("")
