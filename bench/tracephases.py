"""Where `run` spends its time, phase by phase, without a tracer's cost:
a trace build of crt (configure --enable-trace, libcrt/util/trace.h)
stamps CLOCK_MONOTONIC at the end of each phase and prints the stamps on
stderr, the init just before it execs the program, the parent at its
end. No syscall per stamp (the vDSO); both builds are timed, interleaved,
to show what the stamps cost.

The init is a fork of crt: its stamps start with crt's own up to the
clone. Both dumps go on one time line from crt's main(); each phase's
own time is from the stamp before it in the same process."""

import collections
import os
import statistics


def _dumps(text):
    """{pid: [(ns, what)]} of one command's stderr."""
    by_pid = collections.OrderedDict()
    for line in text.splitlines():
        if not line.startswith("crt-trace "):
            continue
        _, pid, ns, what = line.split(" ", 3)
        by_pid.setdefault(pid, []).append((int(ns), what))
    return list(by_pid.values())


def run(b, trace_crt, default_crt, bundles, n):
    """n interleaved runs of `run` with and without a network namespace,
    of the trace build and of the default build: their walls, and the
    trace build's stamps as (init dump, crt dump) per run. The runner
    keeps each command's stderr in b.r.err_path: the stamps are there."""
    walls = collections.defaultdict(list)
    stamps = collections.defaultdict(list)
    for _ in range(n):
        order = [(kind, bd) for kind in ("trace", "default") for bd in ("true", "net")]
        b.rng.shuffle(order)
        for kind, bd in order:
            binary = trace_crt if kind == "trace" else default_crt
            argv = [binary, "--root", os.path.join(b.work, "state", "phases-" + kind),
                    "--cgroup-manager=disabled", "run", "--bundle", bundles[bd], b.new_id("ph")]
            ms, ok, _, _ = b.r.timed(argv)
            if not ok:
                continue
            walls[(kind, bd)].append(ms)
            if kind == "trace":
                with open(b.r.err_path) as err:
                    dumps = _dumps(err.read())
                if len(dumps) == 2:
                    init_first = any(w.startswith("init:") for _, w in dumps[0])
                    stamps[bd].append((dumps[0], dumps[1]) if init_first else (dumps[1], dumps[0]))
    return walls, stamps


def _timeline(runs):
    """Rows (process, phase, µs since main, µs of the phase in its
    process) over the runs whose stamps follow the most common sequence,
    and how many those are."""
    def names(r):
        return tuple(w for _, w in r[0]), tuple(w for _, w in r[1])
    common = collections.Counter(names(r) for r in runs).most_common(1)
    if not common:
        return [], 0
    same = [r for r in runs if names(r) == common[0][0]]
    init_names, crt_names = common[0][0]
    shared = 0  # crt's stamps before the clone, in both dumps
    while shared < min(len(init_names), len(crt_names)) \
            and init_names[shared] == crt_names[shared]:
        shared += 1

    def row(who, idx, j):
        at = statistics.median((r[idx][j][0] - r[idx][0][0]) / 1000 for r in same)
        own = statistics.median((r[idx][j][0] - r[idx][j - 1][0]) / 1000 for r in same) if j else 0
        return who, (init_names if idx == 0 else crt_names)[j], at, own

    rows = [row("crt", 1, j) for j in range(shared)]
    rows += [row("init", 0, j) for j in range(shared, len(init_names))]
    rows += [row("crt", 1, j) for j in range(shared, len(crt_names))]
    rows.sort(key=lambda x: x[2])
    return rows, len(same)


def render(P, data):
    walls, stamps = data
    n = min((len(v) for v in walls.values()), default=0)
    med = {k: statistics.median(v) for k, v in walls.items() if v}
    P("### Where `run` spends its time, phase by phase (a trace build: --phases)")
    P("")
    P("A build with `configure --enable-trace` stamps the end of each phase with CLOCK_MONOTONIC "
      "(no syscall) and prints the stamps; the init prints its own just before it execs "
      "/bin/true. Both builds in one interleaved loop (cgroups off), to show what the stamps "
      "cost: `run` "
      + ", ".join(f"{bd}: trace {med.get(('trace', bd), 0):.2f} ms, default "
                  f"{med.get(('default', bd), 0):.2f} ms"
                  for bd in ("true", "net") if ('trace', bd) in med)
      + f" (medians of {n}). µs are medians over the runs; \"at\" counts from crt's main(), "
        "\"own\" is the phase's time in its process (from the stamp before it there), so the "
        "init's rows and crt's rows after the clone overlap in time.")
    P("")
    for bd, title in (("net", "with a network namespace"), ("true", "without")):
        rows, used = _timeline(stamps.get(bd, []))
        if not rows:
            continue
        P(f"`run` {title} ({used} runs):")
        P("")
        P("| process | phase (ends with) | at µs | own µs |")
        P("|---|---|---|---|")
        for who, what, at, own in rows:
            P(f"| {who} | {what} | {at:.0f} | {own:.0f} |")
        P("")
