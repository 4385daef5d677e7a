"""What bench.py prints: its progress lines (log) and the markdown
report of the results (report), with the names of the paths measured."""
import os
import platform
import statistics
import subprocess
import sys
import math

import segments
import tracephases

PATHS = ["run", "run-net", "create", "start", "delete", "exec", "state"]
PATH_DOC = {
    "run": "`run` /bin/true (pid, ipc, uts, mount namespaces)",
    "run-net": "`run` /bin/true, plus a network namespace",
    "create": "`create` (the init then waits for start)",
    "start": "`start` of a created container",
    "delete": "`delete` of the stopped container",
    "exec": "`exec /bin/true` into a running container",
    "state": "`state` of a running container",
}


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)



def pct(v, p):
    """nearest-rank percentile"""
    s = sorted(v)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def fmt(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "?"
    except OSError:
        return "?"



# The other builds of crt that bench --static and --musl put in the loop:
# (key prefix, name, heading, what it is).
BUILDS = [("crts", "crt-static", "The static build (`configure --enable-static-binary`, in the same loop)",
           "The static crt links glibc, libcap, yajl and libseccomp into one static-pie binary: "
           "no dynamic loader, no libc to map and relocate, no symbols to bind (README, Build)."),
          ("crtm", "crt-musl", "The musl build (`contrib/musl-build.sh`, in the same loop)",
           "The musl crt is one static-pie binary of musl, libcap, yajl and libseccomp, the three "
           "built from Debian's source packages with musl-gcc, for size (-Os, no unwind tables): "
           "no dynamic loader, and none of glibc's CPUID probes at start-up; every feature of the "
           "default build, the systemd cgroup driver included (README, Build).")]


def build_table(P, b, keys, key, name, heading, note):
    """Another build of crt (bench --static or --musl), from the same loop."""
    P(f"### {heading}")
    P("")
    P(f"| path | {name} off med | {name}/crun | {name}/crt | {name} on med "
      f"| {name}/crun | {name}/crt |")
    P("|---|---|---|---|---|---|---|")

    def ratio(a, o):
        return f"{a[1] / o[1]:.2f}" if a and o else "n/a"

    for path in PATHS:
        cells = []
        for mode in ("off", "on"):
            st = b.stats(f"{key}-{mode}", path)
            cells += [fmt(st and st[1]),
                      ratio(st, b.stats(f"crun-{mode}", path) if f"crun-{mode}" in keys else None),
                      ratio(st, b.stats(f"crt-{mode}", path))]
        P(f"| {path} | " + " | ".join(cells) + " |")
    P("")
    P(note)
    P("")


def report(b, args, rts, info, t_start, load, phases, counts, bins, sc, left, wall,
           footprint=None, segs=None, trace=None, systemd=None):
    L = []
    P = L.append
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
    P(f"- date: {t_start:%Y-%m-%d %H:%M} UTC; whole run took {wall:.0f} s")
    P(f"- machine: {cpu}, {os.cpu_count()} CPUs, {int(mem) // 1024} MiB, kernel {platform.release()}")
    P(f"- load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" +
      ("  **(loaded machine: other work was running, absolute times are inflated and noisy; "
       "compare the interleaved ratios)**" if load[0] > 0.5 else ""))
    vers = {}
    for rt in rts:
        vers.setdefault(rt.name, version(rt.binary))
    P("- versions: " + "; ".join(f"{k}: `{v}`" for k, v in vers.items()))
    P(f"- N = {args.n} per path per runtime, every path of every runtime interleaved in one "
      f"loop (order shuffled each iteration, seed {args.seed}), one private mount namespace, "
      f"state dirs on a private tmpfs")
    P(f"- bundle: busybox, read-only root, /proc /dev /dev/pts /dev/shm /sys, masked and "
      f"read-only paths, 3 capabilities, noNewPrivileges, rlimit"
      + (", a 12-rule seccomp filter" if args.seccomp else ", no seccomp")
      + "; namespaces pid, ipc, uts, mount (+ network for run-net); ociVersion 1.0.2 (crun 1.8.1 needs 1.0.x)")
    P("- times are wall ms from posix_spawn to wait4 of the runtime command")
    P("")
    if info:
        P("Host: " + info)
        P("")

    def table(title, cols, floor):
        P(f"### {title}")
        P("")
        head = "| path | " + " | ".join(f"{c[1]} min / med / p90" for c in cols)
        if floor:
            head += " | floor med"
        ratios = [(c[0], c[1]) for c in cols[1:]]
        head += "".join(f" | crt/{lab.split(' ')[0]}" for _, lab in ratios)
        if floor:
            head += " | crt/floor"
        P(head + " |")
        P("|" + "---|" * (head.count(" | ") + 1))
        crt_key = cols[0][0]
        for path in PATHS:
            s = [b.stats(k, path) for k, _ in cols]
            row = f"| {path} | " + " | ".join(
                "n/a" if x is None else f"{x[0]:.1f} / **{x[1]:.1f}** / {x[2]:.1f}" for x in s)
            fs = b.stats("floor", path) if floor else None
            if floor:
                row += " | " + (f"{fs[1]:.1f}" if fs else "")
            for k, _ in ratios:
                o = b.stats(k, path)
                row += " | " + (f"{s[0][1] / o[1]:.2f}" if s[0] and o else "n/a")
            if floor:
                row += " | " + (f"{s[0][1] / fs[1]:.2f}" if s[0] and fs else "")
            P(row + " |")
        fl = [f"{k} {p}: {n}" for (k, p), n in sorted(b.fails.items())
              if k in [c[0] for c in cols]]
        P("")
        if fl:
            P("Failed runs (not in the statistics): " + ", ".join(fl))
            P("")

    keys = {rt.key for rt in rts}
    off = [("crt-off", "crt")]
    if "crun-off" in keys:
        off.append(("crun-off", "crun"))
    if "runc" in keys:
        off.append(("runc", "runc (cgroups on)"))
    table("Mode: cgroups off (crt and crun `--cgroup-manager=disabled`; runc cannot turn "
          "cgroups off, so its column has them on)", off, True)
    if "crun-off" in keys:
        shown = []
        for path in PATHS:
            iv = b.ratio_interval("crt-off", "crun-off", path)
            if iv:
                ratio = b.stats("crt-off", path)[1] / b.stats("crun-off", path)[1]
                shown.append(f"{path} {ratio:.2f} [{iv[0]:.2f}, {iv[1]:.2f}]")
        P("crt/crun, cgroups off, with a 95% bootstrap interval (each runtime's runs "
          "resampled 2,000 times, the ratio of the medians each time): how far this run's "
          "ratio may be from run-to-run noise alone: " + "; ".join(shown) + ".")
        P("")
    on = [("crt-on", "crt")]
    if "crun-on" in keys:
        on.append(("crun-on", "crun"))
    if "runc" in keys:
        on.append(("runc", "runc"))
    table("Mode: cgroups on (crt, crun and runc cgroupfs)", on, False)
    P("Paths: " + "; ".join(f"{p}: {d}" for p, d in PATH_DOC.items()) +
      ". Ratios are of the medians (below 1: crt is faster). The floor is bench/floor.c "
      "(clone3 into the same namespaces, bind the rootfs, pivot_root, mount /proc, exec "
      "/bin/true, wait: no config, no state, no cgroups, no /dev, /sys or masks).")
    P("")
    P("cgroups on this hybrid host: crt uses the cgroup v2 tree (/sys/fs/cgroup/unified, "
      "hugetlb only: one mkdir + a BPF device filter); crun and runc use the v1 "
      "hierarchies (a mkdir in each of ~10). Not the same work, so the \"on\" ratios "
      "compare the runtimes as they run here, not like for like per cgroup write.")
    P("")
    for key, name, heading, note in BUILDS:
        if f"{key}-off" in keys:
            build_table(P, b, keys, key, name, heading, note)

    P("### Peak RSS (KiB, median of 5 wait4 ru_maxrss, through bench/rss.c)")
    P("")
    P("ru_maxrss of the runtime command as wait4 reports it: the largest of the process "
      "and the descendants it waited for (for `run` and `exec`: also the container's "
      "/bin/true, a busybox, and for crt its init before the exec; for runc its "
      "`runc init` child). `create` does not wait for the init.")
    P("")
    shown = [k for k in ("crt-off", "crts-off", "crtm-off", "crun-off", "runc",
                         "crt-on", "crts-on", "crtm-on", "crun-on")
             if k in keys]
    P("| path | " + " | ".join(shown) + " |")
    P("|---|" + "---|" * len(shown))
    for path in ("run", "exec", "create"):
        P(f"| {path} | " + " | ".join(
            str(int(statistics.median(b.rss[(k, path)]))) if b.rss.get((k, path)) else "n/a"
            for k in shown) + " |")
    P("")
    P("| binary | size | stripped | shared libraries (ldd, no vdso) |")
    P("|---|---|---|---|")
    for name, (size, stripped, nlib, static) in bins.items():
        P(f"| {name} | {size / 1024:.0f} KiB | {stripped / 1024:.0f} KiB | {nlib} {static} |")
    P("")

    if segs:
        segments.render(P, segs)
        if segs.get("startup"):
            segments.render_startup(P, segs["startup"])

    if trace:
        tracephases.render(P, trace)

    if phases:
        rows, total, waits, reps, late = phases
        P(f"### Where crt create's time goes (strace -f -ttt -T, cgroupfs; the median of {reps} traced creates)")
        P("")
        P(f"Traced create: {total:.1f} ms (untraced median: "
          f"{fmt(b.stats('crt-on', 'create') and b.stats('crt-on', 'create')[1])} ms; strace "
          f"adds a stop per syscall, so phases with many syscalls are inflated). Phases run "
          f"from one landmark syscall to the next, parent and init on one time line. The "
          f"parent spends {waits:.1f} ms blocked on the sync socket while the init works.")
        P("")
        P("| phase (from its landmark to the next) | starts at ms | ms | share | median ms of all traces | syscalls | most syscall time in |")
        P("|---|---|---|---|---|---|---|")
        for lab, st, d, md, nc, top in rows:
            P(f"| {lab} | {st:.2f} | {d:.2f} | {100 * d / total:.0f}% | {md:.2f} | {nc} | {top} |")
        P("")
        if late:
            P("Not in create (the init does these after `start`): " + "; ".join(late) + ".")
            P("")
    if counts:
        P("### Syscalls of one `run` (strace -f -c)")
        P("")
        P("Time is strace -c's total over all threads; for runc it is dominated by Go "
          "runtime threads blocked in futex/nanosleep/epoll, not work.")
        P("")
        ks = list(counts)
        P("| | " + " | ".join(ks) + " |")
        P("|---|" + "---|" * len(ks))
        P("| syscalls | " + " | ".join(str(counts[k][0]) for k in ks) + " |")
        P("| syscall time ms | " + " | ".join(f"{counts[k][1] * 1000:.1f}" for k in ks) + " |")
        P("| distinct syscalls | " + " | ".join(str(len(counts[k][2])) for k in ks) + " |")
        for i in range(8):
            P(f"| top {i + 1} | " + " | ".join(
                f"{counts[k][2][i][0]} {counts[k][2][i][1]}" if i < len(counts[k][2]) else ""
                for k in ks) + " |")
        P("")
    if sc:
        P(f"### Scale (crt, cgroups disabled{', --scale' if args.scale else ''})")
        P("")
        P("| containers present (created, not started) | crt list ms | per container µs | crt state ms | creating them: containers/s (4 at a time) |")
        P("|---|---|---|---|---|")
        base = sc["list"][sc["levels"][0]]
        for lvl in sc["levels"]:
            per = (sc["list"][lvl] - base) / (lvl - sc["levels"][0]) * 1000 if lvl > sc["levels"][0] else None
            times, secs, n = sc["make"][lvl]
            P(f"| {lvl} | {sc['list'][lvl]:.1f} | {fmt(per, 0)} | {sc['state'][lvl]:.1f} | "
              f"{n / secs:.0f} |")
        P("")
        lv = sc["levels"]
        lo, hi = lv[1], lv[-1]
        inc_lo, inc_hi = sc["list"][lo] - base, sc["list"][hi] - base
        if inc_lo > 0 and inc_hi > 0:
            expo = math.log(inc_hi / inc_lo) / math.log((hi - lv[0]) / (lo - lv[0]))
            verdict = ("grows worse than linearly" if expo > 1.25 else
                       "grows linearly (or better)")
            P(f"`crt list`: its cost above the 1-container time grows {inc_hi / inc_lo:.1f}x from "
              f"{lo} to {hi} containers (x{(hi - lv[0]) / (lo - lv[0]):.1f} containers): "
              f"exponent {expo:.2f}, {verdict}. `crt state` goes from {sc['state'][lv[0]]:.1f} "
              f"to {sc['state'][hi]:.1f} ms ({sc['state'][hi] / sc['state'][lv[0]]:.2f}x; it "
              f"should not depend on the count).")
        P("")
        n, wall, rate, slow, med, failed = sc["par"]
        P(f"{n} containers created and started at once (each: create, then start; /bin/true): "
          f"{wall:.2f} s wall, {rate:.0f} containers/s; per container create+start median "
          f"{fmt(med)} ms, slowest {fmt(slow)} ms; {failed} failed. (Sequential create+start "
          f"median, from the main loop: "
          f"{fmt((b.stats('crt-off', 'create') or (0, 0))[1] + (b.stats('crt-off', 'start') or (0, 0))[1])} ms.)")
        P("")
        n, wall, rate, first, last, bad = sc["exec"]
        P(f"{n} × `crt exec /bin/true` into one container, one after another: {rate:.0f} "
          f"execs/s; median of the first {max(1, n // 10)}: {first:.1f} ms, of the last "
          f"{max(1, n // 10)}: {last:.1f} ms ({last / first:.2f}x); {bad} failed.")
        P("")
        P(f"Tearing down the {lv[-1]} created containers (delete --force, 4 at a time): "
          f"{sc['teardown']:.1f} s.")
        P("")
    if footprint:
        P("### Footprint (--footprint: in the VM, pure cgroup v2, Debian's 6.1 kernel)")
        P("")
        P("The smallest memory.limit (pids.limit 4) at which a container's `sleep` starts and "
          "an exec into it prints the container's hostname with the init still running, 3 times "
          "in a row (bisected in pages by tests/cgroup/test_cgroup_vm.py), and how often it fits "
          "there in 5 more runs. \"no runtime\": the same busybox processes from the same rootfs, "
          "each started by a shell that moves itself into such a cgroup and execs busybox's "
          "chroot: no namespaces, no mounts. The minimal container has /proc and a /dev tmpfs "
          "only; `crt spec`'s config adds /dev/pts, /dev/shm, /dev/mqueue, /sys, a cgroup "
          "namespace and masked and read-only paths, all kernel memory charged to the "
          "container.")
        P("")
        P("| what runs | started by | smallest limit KiB | fits there again |")
        P("|---|---|---|---|")
        for line in footprint.splitlines():
            P(line)
        P("")
    if systemd:
        P("### `run` through the systemd cgroup driver (--systemd: in the VM, systemd 252 as PID 1)")
        P("")
        P("Every runtime with --systemd-cgroup: each asks systemd for a transient scope over "
          "D-Bus (crt with its own client, crun with libsystemd's sd-bus, runc with go-dbus) and "
          "waits for the job; the same bundle as above, a new unit per run. The VM emulates its "
          "CPU (TCG), so every time is several times this host's: compare the ratios. "
          "(bench/systemd.py)")
        P("")
        for line in systemd.splitlines():
            P(line)
        P("")
    P("### Leftovers check")
    P("")
    P("After the run: " + ("nothing left (no containers in any state dir, no cgroups named "
                            f"{b.prefix}-*, no mounts under the work dir, no child processes)"
                            if not left else "LEFT BEHIND: " + "; ".join(left)))
    return "\n".join(L)
