#!/bin/bash
# Build crt and run one container with it, on a fresh Debian 12, as root:
#
#     sudo ./contrib/demo.sh
#
# Installs the build dependencies with apt-get, builds crt (in build/),
# makes a bundle with a busybox-static root filesystem in a temporary
# directory, runs it with `crt run`, and removes the bundle again.
set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root: sudo $0" >&2
	exit 1
fi

echo "== installing build dependencies"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends autoconf automake pkg-config make gcc \
	libc6-dev libseccomp-dev libcap-dev libyajl-dev busybox-static python3

echo "== building crt"
[ -x configure ] || ./autogen.sh
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure -q; } && make -j"$(nproc)" -s)
crt=$repo/build/src/crt

echo "== making a busybox bundle"
bundle=$(mktemp -d /tmp/crt-demo.XXXXXX)
chmod 0755 "$bundle"
root=$(mktemp -d /run/crt-demo-root.XXXXXX)
id=crt-demo-$$
cleanup() {
	"$crt" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$bundle" "$root"
}
trap cleanup EXIT

mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$bundle/rootfs/proc" \
	"$bundle/rootfs/sys" "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$bundle/rootfs/bin/$applet" ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$bundle/rootfs/etc/passwd"
echo 'root:x:0:' >"$bundle/rootfs/etc/group"

"$crt" spec --bundle "$bundle"
python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["process"]["terminal"] = False
config["process"]["args"] = [
    "sh", "-c",
    "echo hostname=$(hostname) pid=$$ uid=$(id -u); cat /proc/self/status | grep NSpid",
]
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY

echo "== crt run (bundle $bundle)"
set +e
"$crt" --root "$root" run --bundle "$bundle" "$id"
rc=$?
set -e
echo "== container exited with status $rc"
exit $rc
