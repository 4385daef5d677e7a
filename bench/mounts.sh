#!/bin/bash
# Mounts per container (issue #15: masked directories share one tmpfs).
#
# Usage: sudo bench/mounts.sh RUNTIME...   (e.g. build/src/crt runc)
#
# Runs the same busybox bundle (the config of `crt spec`: runc's default
# maskedPaths and readonlyPaths) with each runtime and prints, from the
# container's /proc/1/mountinfo, the number of mounts and the number of
# distinct tmpfs superblocks. The host's cgroup controller list is hidden
# as in bench/run.sh so that crun 1.8.1 runs; crt and crun get
# --cgroup-manager=disabled.
set -eu
[ "$(id -u)" = 0 ] || { echo "mounts.sh: run as root" >&2; exit 1; }
[ $# -gt 0 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
if [ -z "${CRT_MOUNTS_IN_NS:-}" ]; then
	exec env CRT_MOUNTS_IN_NS=1 unshare --mount --propagation private "$0" "$@"
fi
ctl=/sys/fs/cgroup/unified/cgroup.controllers
if [ -f "$ctl" ] && [ -n "$(cat "$ctl")" ]; then mount --bind /dev/null "$ctl"; fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
crt=${CRT:-$here/../build/src/crt}
work=$(mktemp -d /tmp/crt-mounts.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh cat sort uniq wc awk; do ln -s busybox "$work/rootfs/bin/$a"; done
"$crt" spec --bundle "$work"
python3 - "$work/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["ociVersion"] = "1.0.2"          # crun 1.8.1 takes 1.0.x only
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    "echo mounts=$(wc -l < /proc/1/mountinfo)"
    " tmpfs_superblocks=$(awk '$(NF-2)==\"tmpfs\"{print $3}' /proc/1/mountinfo | sort -u | wc -l)"]
c["linux"].pop("resources", None)
json.dump(c, open(p, "w"))
PY
printf '%-40s %s\n' runtime result
for rt in "$@"; do
	name=$(basename "$rt")
	flags=()
	case $name in crt* | crun*) flags=(--cgroup-manager=disabled) ;; esac
	out=$(cd "$work" && "$rt" "${flags[@]}" --root "$work/state-$name" run "m-$$" </dev/null 2>&1) || true
	printf '%-40s %s\n' "$rt" "$out"
done
