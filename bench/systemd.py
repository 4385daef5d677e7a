#!/usr/bin/python3
"""`run /bin/true` through the systemd cgroup driver, crt against crun and
runc, interleaved: what engines on a systemd host pay per container
(each runtime asks systemd for a transient scope over D-Bus and waits
for the job). Runs where systemd is PID 1: bench/run.sh --systemd starts
it in the VM of ../shared/vm with -s.

  bench/systemd.py [-n N] [-o TABLE.md] NAME=BINARY...

The bundle is bench.py's (the same namespaces, mounts, masks and
seccomp filter as the main loop); each run gets a new unit
(cgroupsPath system.slice:crtbench:<runtime>-<i>), so no runtime finds
the unit of an earlier one. Every runtime runs with --systemd-cgroup.
The table has the median and p90 wall ms and the ratio to crun.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Runner, make_bundles  # noqa: E402


def leftover_units():
    out = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend",
                          "crtbench-*.scope"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("-o", default="")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("runtimes", nargs="+", help="NAME=BINARY")
    args = ap.parse_args()
    rts = [tuple(r.split("=", 1)) for r in args.runtimes]
    random.seed(args.seed)

    work = tempfile.mkdtemp(prefix="crt-bench-systemd.")
    os.chmod(work, 0o755)
    _, bundles = make_bundles(work, True)
    bundle = bundles["true"]
    config_path = os.path.join(bundle, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    runner = Runner(work)
    times = {name: [] for name, _ in rts}
    failures = []
    # (Not `systemctl is-system-running --wait`: in the VM this script is
    # the boot's own oneshot service, so the boot ends only after it.)
    for i in range(-2, args.n):            # two rounds of warm-up
        order = list(rts)
        random.shuffle(order)
        for name, binary in order:
            cid = f"{name}-{i + 2}"
            config["linux"]["cgroupsPath"] = f"system.slice:crtbench:{cid}"
            with open(config_path, "w") as f:
                json.dump(config, f)
            root = os.path.join(work, "state-" + name)
            ms, ok, _, err = runner.timed([binary, "--root", root, "--systemd-cgroup", "run",
                                           "--bundle", bundle, cid])
            if not ok:
                failures.append(f"{name}: {err}")
                subprocess.run([binary, "--root", root, "--systemd-cgroup", "delete",
                                "--force", cid], capture_output=True)
            elif i >= 0:
                times[name].append(ms)
    left = leftover_units()
    crun = statistics.median(times["crun"]) if times.get("crun") else None
    lines = ["| runtime | median ms | p90 ms | /crun |", "|---|---|---|---|"]
    for name, _ in rts:
        t = sorted(times[name])
        if not t:
            lines.append(f"| {name} | failed | | |")
            continue
        med = statistics.median(t)
        p90 = t[min(len(t) - 1, int(len(t) * 0.9))]
        ratio = f"{med / crun:.2f}" if crun else ""
        lines.append(f"| {name} | {med:.1f} | {p90:.1f} | {ratio} |")
    lines.append("")
    lines.append(f"N = {args.n} per runtime, interleaved (order shuffled each round, "
                 f"seed {args.seed}), after 2 warm-up rounds.")
    if failures:
        lines.append(f"Failed runs: {len(failures)} (first: {failures[0][:300]})")
    if left:
        lines.append(f"LEFT BEHIND: units {left}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.o:
        with open(args.o, "w") as f:
            f.write(text)
    return 1 if failures or left else 0


if __name__ == "__main__":
    sys.exit(main())
