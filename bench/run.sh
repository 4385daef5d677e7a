#!/bin/bash
# Container start-up benchmark: `RUNTIME run` of /bin/true in a busybox
# bundle, for crt, crun and runc interleaved in one loop (so load changes
# on the machine hit all three alike).
#
# Usage: sudo bench/run.sh [-n N] [-w FILE] [CRT_BINARY]
#   -n N        runs per runtime (default 50)
#   -w FILE     also write the results as markdown to FILE
#               (e.g. bench/RESULTS.md)
#   CRT_BINARY  default: build/src/crt
#
# Prints the median and minimum wall time per run (ms) for each runtime
# and crt's peak RSS (max RSS of `crt run`, from /usr/bin/time, which
# includes the container's init: it is crt's child).
#
# Hybrid-cgroup hosts (v1 controllers + a cgroup2 tree at
# /sys/fs/cgroup/unified listing only hugetlb): Debian 12's crun 1.8.1
# refuses to run there, so the whole loop runs in a private mount namespace
# where /dev/null hides that controller list (the host's mounts are not
# touched), and crun gets --cgroup-manager=disabled. runc uses its default
# (cgroupfs). See ../shared/conformance/runtime-tools/crun-hybrid.sh.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
n=50 write=

while getopts "n:w:h" opt; do
	case $opt in
	n) n=$OPTARG ;;
	w) write=$(realpath -m "$OPTARG") ;;
	*) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
crt=$(realpath -e "${1:-$repo/build/src/crt}")
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

# Re-exec in a private mount namespace (see above).
if [ -z "${CRT_BENCH_IN_NS:-}" ]; then
	exec env CRT_BENCH_IN_NS=1 unshare --mount --propagation private "$0" -n "$n" \
		${write:+-w "$write"} "$crt"
fi
ctl=/sys/fs/cgroup/unified/cgroup.controllers
# (cgroup files report size 0, so test the content, not -s)
if [ -f "$ctl" ] && [ -n "$(cat "$ctl")" ]; then
	mount --bind /dev/null "$ctl"
fi

work=$(mktemp -d /tmp/crt-bench.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" \
	"$work/rootfs/tmp" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/true"
ln -s busybox "$work/rootfs/bin/sh"

# One bundle per runtime over the same read-only rootfs: crun 1.8.1 only
# accepts ociVersion 1.0.x.
make_bundle() { # make_bundle DIR OCIVERSION
	mkdir -p "$1"
	python3 - "$1/config.json" "$2" "$work/rootfs" <<'PY'
import json, sys
path, version, rootfs = sys.argv[1:]
config = {
    "ociVersion": version,
    "process": {
        "terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
        "env": ["PATH=/bin"], "cwd": "/",
        "capabilities": {k: ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
                         for k in ("bounding", "effective", "permitted")},
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
    "linux": {"namespaces": [{"type": t} for t in
                             ("pid", "ipc", "uts", "mount", "network")]},
}
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY
}

runtimes=(crt)
declare -A cmd
cmd[crt]="$crt --root $work/state-crt run --bundle $work/b-crt"
make_bundle "$work/b-crt" 1.2.0
if command -v crun >/dev/null; then
	runtimes+=(crun)
	cmd[crun]="crun --root $work/state-crun --cgroup-manager=disabled run --bundle $work/b-crun"
	make_bundle "$work/b-crun" 1.0.2
fi
if command -v runc >/dev/null; then
	runtimes+=(runc)
	cmd[runc]="runc --root $work/state-runc run --bundle $work/b-runc"
	make_bundle "$work/b-runc" 1.0.2
fi

# Warm up (page cache, first-run effects) and check each runtime works.
working=()
for rt in "${runtimes[@]}"; do
	if out=$(${cmd[$rt]} "warm-$rt" </dev/null 2>&1); then
		working+=("$rt")
	else
		echo "bench: $rt does not work here, left out: $out" >&2
	fi
done
runtimes=("${working[@]}")

times=$work/times.tsv
: >"$times"
for ((i = 0; i < n; i++)); do
	for rt in "${runtimes[@]}"; do
		t0=$EPOCHREALTIME
		if ${cmd[$rt]} "b$i" </dev/null >/dev/null 2>"$work/err"; then
			t1=$EPOCHREALTIME
			echo "$rt $t0 $t1" >>"$times"
		else
			echo "$rt fail" >>"$times"
			echo "bench: $rt run $i failed: $(cat "$work/err")" >&2
		fi
	done
done

# Peak RSS of `crt run` (KiB), over 5 runs.
rss=0
for ((i = 0; i < 5; i++)); do
	r=$(/usr/bin/time -f %M ${cmd[crt]} "rss$i" </dev/null 2>&1 >/dev/null | tail -1)
	[[ $r =~ ^[0-9]+$ ]] && [ "$r" -gt "$rss" ] && rss=$r
done

python3 - "$times" "$n" "$rss" "$crt" "$write" <<'PY'
import datetime, os, platform, statistics, subprocess, sys
times, n, rss, crt, write = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ms, fails, order = {}, {}, []
for line in open(times):
    f = line.split()
    if f[0] not in order:
        order.append(f[0])
    if f[1] == "fail":
        fails[f[0]] = fails.get(f[0], 0) + 1
    else:
        ms.setdefault(f[0], []).append((float(f[2]) - float(f[1])) * 1000)

def version(rt):
    exe = crt if rt == "crt" else rt
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "?"
    except OSError:
        return "?"

cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
lines = [
    f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC",
    f"- machine: {cpu}, {os.cpu_count()} CPUs, kernel {platform.release()}",
    f"- N = {n} runs per runtime, interleaved; `RUNTIME run` of /bin/true "
    "(busybox bundle, read-only root, pid/ipc/uts/mount/network namespaces)",
    "",
    "| runtime | version | median ms | min ms | max ms | failed runs |",
    "|---|---|---|---|---|---|",
]
for rt in order:
    v = ms.get(rt, [])
    if v:
        lines.append(f"| {rt} | {version(rt)} | {statistics.median(v):.1f} | {min(v):.1f} | "
                     f"{max(v):.1f} | {fails.get(rt, 0)} |")
    else:
        lines.append(f"| {rt} | {version(rt)} | - | - | - | {fails.get(rt, 0)} |")
lines += ["", f"crt peak RSS (`crt run`, max of 5, /usr/bin/time %M): {rss} KiB"]
text = "\n".join(lines)
print(text)
if write:
    with open(write, "w") as f:
        f.write("# Benchmark results\n\n"
                "Produced by `sudo bench/run.sh -n %d -w bench/RESULTS.md`.\n"
                "crun runs with `--cgroup-manager=disabled` (it cannot use this hybrid-cgroup\n"
                "host otherwise), runc with its default cgroupfs manager; the loop runs in a\n"
                "private mount namespace where the cgroup2 controller list is hidden\n"
                "(see bench/run.sh).\n\n" % n + text + "\n")
PY
