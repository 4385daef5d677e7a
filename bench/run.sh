#!/bin/bash
# crt benchmark: every lifecycle path of crt, crun and runc, interleaved.
#
# Usage: bench/run.sh [-n N] [-w FILE] [--scale] [--no-scale] [--no-strace]
#                     [--no-seccomp] [--no-runc] [--static FILE] [--musl FILE]
#                     [--segments] [--phases]
#                     [--footprint] [--systemd] [--seed S] [CRT_BINARY]   (as root)
#   -n N          iterations of the main loop (default 100)
#   -w FILE       also write the report as markdown (e.g. bench/RESULTS.md)
#   --scale       the big scale counts: list/state with 1, 100 and 1,000
#                 containers, 100 in parallel, 1,000 execs (default: 1, 10,
#                 100; 20; 100, so a default run stays under ~3 minutes)
#   --no-scale, --no-strace   skip those parts
#   --no-seccomp  bundle without the small seccomp filter
#   --no-runc     leave runc out (a quicker loop when comparing crt and crun)
#   --static FILE also the static build of crt (configure --enable-static-binary,
#                 e.g. build-static/src/crt) in the same loop: its own table
#                 and RSS columns
#   --musl FILE   also the musl build of crt (contrib/musl-build.sh DIR,
#                 e.g. build-musl/src/crt), the same way
#   --segments    also cut crt's and the floor's `run` (network namespace)
#                 at the same kernel events, count their page faults (and
#                 time one), and sum crt's kernel time per
#                 syscall (bpftrace on tracepoints; installed with apt-get
#                 when missing; a tracefs is mounted in the bench's
#                 namespace); and time the start of an empty program
#                 (bench/startup.c: no libc, static and dynamic glibc, static
#                 musl where musl-gcc is installed) next
#                 to each runtime's `list` of an empty root
#   --phases      also build a trace crt (configure --enable-trace, in
#                 build-trace/) and time `run`'s phases from its stamps,
#                 next to the default build in one loop (bench/tracephases.py)
#   --footprint   also bisect, in the VM of ../shared/vm (pure cgroup v2),
#                 the smallest memory.limit (pids.limit 4) at which a
#                 container's sleep and an exec into it run, with crt and
#                 without a runtime (tests/cgroup/test_cgroup_vm.py;
#                 about 5 minutes)
#   --systemd     also time `run` through the systemd cgroup driver (every
#                 runtime with --systemd-cgroup), in the VM booted with
#                 systemd as PID 1 (-s; bench/systemd.py; about 2 minutes)
#   CRT_BINARY    default: build/src/crt
#
# What it measures (the driver is bench/bench.py, its report bench/report.py; every command is started
# with posix_spawn and reaped with wait4, the same for all runtimes):
#  1. Wall time of `run` /bin/true (without and with a network namespace),
#     `create`, `start`, `delete`, `exec /bin/true` into a running
#     container and `state`, for crt, crun and runc, all interleaved in one
#     loop (order shuffled per iteration), the same busybox bundle, in one
#     private mount namespace: min / median / p90 and crt/crun, crt/runc
#     ratios of the medians.
#  2. Two cgroup modes in the same loop: "off" (crt and crun
#     --cgroup-manager=disabled; runc cannot, so its column is marked
#     "cgroups on") and "on" (crt, crun and runc cgroupfs).
#  3. The floor: bench/floor.c (built here with gcc -O2) does only clone3,
#     bind, pivot_root, mount /proc, exec, wait; crt/floor for `run`.
#  4. strace -f -ttt -T of crt create, cut into phases between landmark
#     syscalls; strace -f -c counts of one `run` per runtime.
#  5. Peak RSS (wait4 ru_maxrss, through bench/rss.c: see there why) for
#     run, exec, create; stripped binary size and ldd count.
#  6. Scale (crt): list and state with many containers present, containers
#     created and started in parallel, many execs into one container.
#  7. Machine, kernel, versions, load average (a loaded machine is noted).
#  8. With --footprint: the smallest memory limits, from the VM; with
#     --systemd: `run` through the systemd driver, from the VM with systemd.
#  9. With --segments: where crt's `run` time goes next to the floor's,
#     from kernel tracepoints (bench/segments.py).
# 10. With --phases: crt's and its init's phases of `run`, untraced (the
#     trace build's own stamps, bench/tracephases.py).
# Checks afterwards that no container, cgroup, mount or process is left.
#
# Hybrid-cgroup hosts (v1 controllers + a cgroup2 tree at
# /sys/fs/cgroup/unified listing only hugetlb): Debian 12's crun 1.8.1
# refuses to run there even with --cgroup-manager=disabled, so everything
# runs in a private mount namespace where /dev/null hides that controller
# list (the host's mounts are not touched; see
# ../shared/conformance/runtime-tools/crun-hybrid.sh). The state dirs and
# bundle live on a tmpfs mounted only in that namespace.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# The VM (--footprint, --systemd): ../shared beside the repo, or $CRT_SHARED.
shared=${CRT_SHARED:-$(dirname "$repo")/shared}
args=() crt= footprint= phases= systemd= musl=
while [ $# -gt 0 ]; do
	case $1 in
	-n | --seed) args+=("$1" "$2"); shift ;;
	-w) args+=(-w "$(realpath -m "$2")"); shift ;;
	--scale | --no-scale | --no-strace | --no-seccomp | --no-runc | --segments) args+=("$1") ;;
	--static) args+=("$1" "$(realpath -e "$2")"); shift ;;
	--musl) musl=$(realpath -e "$2"); args+=("$1" "$musl"); shift ;;
	--systemd) systemd=1 ;;
	--systemd-table) args+=(--systemd "$2"); shift ;; # (inside the namespace: the VM's table)
	--footprint) footprint=1 ;;
	--phases) phases=1 ;;
	--phases-binary) args+=(--phases "$2"); shift ;; # (inside the namespace)
	--footprint-table) args+=(--footprint "$2"); shift ;; # (inside the namespace: the VM's table)
	-h | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench: unknown option $1 (-h for help)" >&2; exit 2 ;;
	*) crt=$1 ;;
	esac
	shift
done
crt=$(realpath -e "${crt:-$repo/build/src/crt}")
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }

if [ -z "${CRT_BENCH_WORK:-}" ] && [ -n "$phases" ]; then
	echo "bench: building the trace crt in build-trace/" >&2
	mkdir -p "$repo/build-trace"
	(cd "$repo/build-trace" && { [ -f Makefile ] || "$repo/configure" -q --enable-trace; } &&
		make -s -j2 src/crt_commit.h && make -s -j2 src/crt) >&2 ||
		{ echo "bench: the trace build failed" >&2; exit 1; }
	args+=(--phases-binary "$repo/build-trace/src/crt")
fi
if [ -z "${CRT_BENCH_WORK:-}" ] && [ -n "$footprint" ]; then
	# In the VM first (it shares the repo, so the table lands in build/).
	table=$repo/build/footprint.md
	rm -f "$table"
	echo "bench: footprint, in the VM (about 5 minutes)" >&2
	"$shared/vm/run-in-vm.sh" -t 1500 -e CRT_BINARY="$crt" -e CRT_FOOTPRINT_BISECT="$table" \
		"$repo" -- /usr/bin/python3 -m pytest -p no:cacheprovider -q \
		tests/cgroup/test_cgroup_vm.py -k smallest_limits >&2 || { echo "bench: the footprint run failed" >&2; exit 1; }
	args+=(--footprint-table "$table")
fi
if [ -z "${CRT_BENCH_WORK:-}" ] && [ -n "$systemd" ]; then
	table=$repo/build/systemd.md
	rm -f "$table"
	echo "bench: the systemd driver, in the VM with systemd (about 3 minutes)" >&2
	"$shared/vm/run-in-vm.sh" -s -t 1500 "$repo" -- /usr/bin/python3 \
		"$here/systemd.py" -n 30 -o "$table" crt="$crt" ${musl:+crt-musl="$musl"} \
		crun="$(command -v crun)" runc="$(command -v runc)" >&2 ||
		{ echo "bench: the systemd run failed" >&2; exit 1; }
	args+=(--systemd-table "$table")
fi
if [ -z "${CRT_BENCH_WORK:-}" ] && { [ -n "$footprint" ] || [ -n "$systemd" ]; }; then
	# The VM kept both CPUs busy: let the load average settle (up to 2
	# minutes) before timing anything.
	for _ in $(seq 120); do
		awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
		sleep 1
	done
fi
if [ -z "${CRT_BENCH_WORK:-}" ]; then
	work=$(mktemp -d /tmp/crt-bench.XXXXXX)
	rc=0
	CRT_BENCH_WORK=$work unshare --mount --propagation private "$0" "${args[@]}" "$crt" || rc=$?
	# The namespace is gone: nothing of it may remain on the host.
	if grep -q " $work" /proc/self/mountinfo; then
		echo "bench: LEFT BEHIND: a mount under $work" >&2
		rc=1
	fi
	rmdir "$work" || { echo "bench: LEFT BEHIND: files in $work" >&2; rc=1; }
	exit $rc
fi
work=$CRT_BENCH_WORK
mount -t tmpfs -o mode=0755,size=512m crt-bench "$work"
ctl=/sys/fs/cgroup/unified/cgroup.controllers
info=
# (cgroup files report size 0, so test the content, not -s)
if [ -f "$ctl" ] && [ -n "$(cat "$ctl")" ]; then
	info="hybrid cgroups (v1 controllers, cgroup2 at /sys/fs/cgroup/unified listing \"$(cat "$ctl")\"); its controller list is hidden from all runtimes by a /dev/null bind in the bench's mount namespace (crun 1.8.1 refuses to run otherwise)."
	mount --bind /dev/null "$ctl"
fi
# systemd hosts have a bpffs at /sys/fs/bpf, where crt pins its device
# programs (crt(8) FILES); crun and runc do not use one. Where the host
# has none, one lives in this namespace only.
if ! awk '$5 == "/sys/fs/bpf" && / - bpf / { found = 1 } END { exit !found }' /proc/self/mountinfo; then
	mount -t bpf crt-bench-bpf /sys/fs/bpf
	info="${info:+$info }A bpffs is mounted at /sys/fs/bpf in the bench's namespace, as on a systemd host (crt pins its device programs there; crun and runc use none)."
fi
case " ${args[*]} " in
*" --segments "*)
	command -v bpftrace >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q bpftrace >&2
	[ -e /sys/kernel/tracing/events ] || mount -t tracefs crt-bench-tracefs /sys/kernel/tracing
	gcc -O2 -Wall -o "$work/cpuid" "$here/cpuid.c"
	gcc -O2 -Wall -DRAW -nostdlib -static -o "$work/start-raw" "$here/startup.c"
	gcc -O2 -Wall -static -o "$work/start-static" "$here/startup.c"
	gcc -O2 -Wall -o "$work/start-dynamic" "$here/startup.c"
	if command -v musl-gcc >/dev/null; then
		musl-gcc -O2 -Wall -static -o "$work/start-musl" "$here/startup.c"
	fi
	;;
esac
gcc -O2 -Wall -o "$work/floor" "$here/floor.c"
gcc -O2 -Wall -o "$work/rss" "$here/rss.c"
exec /usr/bin/python3 "$here/bench.py" --work "$work" --floor "$work/floor" --rss "$work/rss" \
	--info "$info" "${args[@]}" "$crt"
