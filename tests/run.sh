#!/bin/bash
# Build crt and run all its tests; what CI runs (.ci/run).
#
# Usage: sudo ./tests/run.sh [PYTEST_ARGS...]
#
#   1. installs the build and test dependencies with apt-get (Debian 12),
#      only when one is missing;
#   2. builds crt out of tree in build/ (./autogen.sh first in a fresh clone);
#   3. pytest session "default": the C unit tests (make check), the
#      integration tests (tests/integration), the attack and bad-input
#      tests (tests/security), the host cgroup tests
#      (tests/cgroup/test_cgroup_host.py), Docker, podman and containerd
#      driving crt (tests/engines) against build/src/crt, the
#      OCI conformance ratchet (tests/conformance/expected-pass.txt) and
#      15 s of each libFuzzer harness (tests/fuzz, built with clang;
#      CRT_FUZZ_SECONDS to change it);
#      then session "vm": tests/cgroup/test_cgroup_vm.py and
#      tests/criu/test_criu_vm.py in a VM with a pure cgroup v2 hierarchy
#      (../shared/vm/run-in-vm.sh), and session "vm-systemd": the systemd
#      cgroup driver (tests/cgroup/test_systemd_vm.py, the same scope as
#      runc's and crun's in test_systemd_parity_vm.py, rootless in
#      tests/cgroup/test_rootless_systemd_vm.py) and the engines in their
#      systemd configuration (tests/engines/test_engines_systemd_vm.py) in
#      the same VM booted with systemd as PID 1 (-s);
#   4. builds a static crt (configure --enable-static-binary) in
#      build-static/ and runs session "static": the tests of what links
#      differently there (libseccomp and its cache, `list`'s owner) and
#      the lifecycle, run and exec tests;
#      builds a static musl crt (contrib/musl-build.sh, its libraries
#      from Debian's source packages) in build-musl/ and runs session
#      "musl": its C unit tests, the integration and the security tests
#      (but for a few that a libc cannot change: musl_paths below);
#      builds an ASan+UBSan crt in build-asan/ and runs the unit and
#      integration tests again against it; any sanitizer report (a leak
#      included) fails the test that caused it;
#   5. prints the totals per session, then ONE closing line
#      "OK: N passed, N failed, N skipped" (or "FAILED: ..."), and exits
#      non-zero on any failure.
#
# PYTEST_ARGS go to the default, static and asan sessions (e.g. -k lifecycle, -x).
# Environment: JOBS (make -j, default 2), CRT_SKIP_ASAN=1 (skip step 4),
# CRT_SKIP_VM=1 (skip the VM sessions), CRT_CONFORMANCE=0 (skip the
# conformance suite), CRT_NO_APT=1 (skip step 1).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
repo=$(pwd)
jobs=${JOBS:-2}
start=$(date +%s)
python=/usr/bin/python3 # Debian's, which has pytest (not a pyenv shim)
results=$(mktemp -d /tmp/crt-tests.XXXXXX)
# What git sees in the checkout now: a test that leaves a file in the
# repo (not in an ignored build directory) fails the run (step 5).
repo_files() { git -C "$repo" status --porcelain --untracked-files=all 2>/dev/null | sort; }
repo_before=$(repo_files)

say() { printf '\n=== %s\n' "$*"; }
finish() { # finish STATUS: the closing line; CI reads it
	local rc=$1
	"$python" - "$results" "$(($(date +%s) - start))" "$rc" <<'PY'
import os, sys, xml.etree.ElementTree as ET
results, secs, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
tot = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
parts = []
for name in ("default", "vm", "vm-systemd", "static", "musl", "asan"):
    path = os.path.join(results, name + ".xml")
    if not os.path.exists(path):
        continue
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        parts.append(f"{name}: unreadable results")
        tot["errors"] += 1
        continue
    s = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for suite in (root.iter("testsuite")):
        n = int(suite.get("tests", 0))
        f, e, k = (int(suite.get(a, 0)) for a in ("failures", "errors", "skipped"))
        s["failed"] += f; s["errors"] += e; s["skipped"] += k
        s["passed"] += n - f - e - k
    for k in tot:
        tot[k] += s[k]
    parts.append(f"{name}: {s['passed']} passed, {s['failed']} failed")
for path in sorted(os.listdir(results)):
    if path.endswith(".broken"):
        parts.append(open(os.path.join(results, path)).read().strip())
        tot["errors"] += 1
bad = tot["failed"] + tot["errors"] > 0 or rc != 0
print(f"sessions: {'; '.join(parts) or 'nothing ran'}; {tot['errors']} errors; {secs}s")
# The closing line CI reads: "N passed, N failed, N skipped" after one
# word; errors (a session or build that could not run) count as failed.
print(("FAILED: " if bad else "OK: ")
      + f"{tot['passed']} passed, {tot['failed'] + tot['errors']} failed, {tot['skipped']} skipped")
sys.exit(1 if bad else 0)
PY
	exit $?
}
broken() { # broken STEP MESSAGE: a step that could not run counts as an error
	echo "$2" >"$results/$1.broken"
	echo "tests/run.sh: $2" >&2
}

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: must run as root (sudo ./tests/run.sh)" >&2
	broken root "not run as root"
	finish 1
fi

# --- 1. dependencies -------------------------------------------------------
pkgs=(autoconf automake pkg-config make gcc libc6-dev libseccomp-dev libcap-dev
	libyajl-dev busybox-static python3 python3-pytest crun runc criu
	libasan8 libubsan1 clang util-linux procps iproute2 bsdutils uidmap passwd
	qemu-system-x86 linux-image-amd64 systemd dbus podman conmon catatonit containerd docker.io
	apparmor musl-tools gperf dpkg-dev python3-gi)
if [ "${CRT_NO_APT:-0}" != 1 ]; then
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# No package may start its service here (docker.io would start a
		# dockerd on the host's network, with its iptables rules): a
		# policy-rc.d that says no, while installing, unless one exists.
		policy=/usr/sbin/policy-rc.d added_policy=0
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
		fi
		apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
		rc=$?
		[ "$added_policy" = 1 ] && rm -f "$policy"
		if [ $rc -ne 0 ]; then
			broken apt "apt-get install failed: ${missing[*]}"
			finish 1
		fi
	fi
fi

# --- 2. build ----------------------------------------------------------------
logged_build() { # logged_build DIR CMD...: CMD, its output in DIR's log; on failure its tail
	local dir=$1; shift
	"$@" >"$results/${dir##*/}.log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		tail -40 "$results/${dir##*/}.log"
		broken "build-${dir##*/}" "build in $dir failed (log: $results/${dir##*/}.log)"
	fi
	return $rc
}

configure_make() ( # configure_make DIR [CONFIGURE_ARGS...] (a subshell: it cds)
	dir=$1; shift
	mkdir -p "$dir" && cd "$dir" || exit 1
	if [ ! -f Makefile ]; then
		"$repo/configure" -q "$@" || exit 1
	fi
	make -j"$jobs" -s
)

build() { # build DIR [CONFIGURE_ARGS...]
	logged_build "$1" configure_make "$@"
}

build_musl() { # build_musl DIR: contrib/musl-build.sh (its own configure)
	logged_build "$1" "$repo/contrib/musl-build.sh" "$1"
}

say "building crt in build/"
if [ ! -x configure ]; then
	./autogen.sh >"$results/autogen.log" 2>&1 || {
		cat "$results/autogen.log"
		broken autogen "./autogen.sh failed"
		finish 1
	}
fi

# The test paths of each pytest session, and its time limit in seconds.
# The fuzz harnesses (a clang build, then 15 s each) test libcrt, not the
# crt binary: the asan session has nothing to add to them.
# (tests/engines/test_engines_systemd_vm.py runs in the vm-systemd session.)
default_paths=(tests/integration tests/security tests/cgroup/test_cgroup_host.py tests/engines tests/fuzz
	--ignore=tests/engines/test_engines_systemd_vm.py)
default_timeout=1800
asan_paths=(tests/integration tests/security tests/cgroup/test_cgroup_host.py tests/engines
	--ignore=tests/engines/test_engines_systemd_vm.py)
asan_timeout=1200
static_paths=(tests/integration/test_seccomp.py tests/security/test_seccomp_cache.py
	tests/integration/test_lifecycle.py tests/integration/test_run.py tests/integration/test_exec.py)
static_timeout=600
# The musl build: everything a libc can change, which is nearly all of
# it; left out are the conformance suite (91 s), the mount races and
# /dev symlink attacks (kernel work, no libc in the loop), the load
# tests and CRIU (about 2 minutes).
musl_paths=(tests/integration tests/security --ignore=tests/integration/test_conformance.py
	--ignore=tests/integration/test_checkpoint.py --ignore=tests/security/test_dev_symlinks.py
	--ignore=tests/security/test_mount_race.py --ignore=tests/security/test_load.py)
musl_timeout=900

session() { # session NAME BUILD_DIR [env assignments...] -- pytest args
	# runs the paths of the array NAME_paths, for at most NAME_timeout s
	local name=$1 dir=$2; shift 2
	local -n paths=${name}_paths limit=${name}_timeout
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	say "pytest session '$name' against $dir/src/crt"
	env CRT_BINARY="$repo/$dir/src/crt" CRT_BUILD_DIR="$repo/$dir" "${envs[@]}" \
		timeout -k 10 "$limit" "$python" -m pytest -p no:cacheprovider -q -rfEs \
		--junitxml="$results/$name.xml" -o junit_suite_name="$name" \
		"${paths[@]}" "$@"
	local rc=$?
	# 0 all passed, 1 some failed: the junit file has the details.
	if [ $rc -gt 1 ] && [ $rc -ne 5 ]; then
		broken "pytest-$name" "pytest session '$name' exited $rc"
	fi
}

# --- 3b. cgroup v2 in a VM ----------------------------------------------------
# memory, cpu, cpuset, pids and io are cgroup v1 on these hosts: those
# tests run in a small VM with a pure v2 hierarchy (../shared/vm, or
# $CRT_SHARED/vm), one
# boot per session. The VM shares the repo read-write.
#   vm:          pure cgroup v2, no systemd (cgroupfs limits, CRIU, rootless
#                parity with crun, which refuses a hybrid host);
#   vm-systemd:  systemd as PID 1 with D-Bus (-s): the systemd cgroup
#                driver, and podman, Docker and containerd in their
#                systemd configuration.
vm_paths=(tests/cgroup/test_cgroup_vm.py tests/criu/test_criu_vm.py tests/criu/test_criu_engines_vm.py
	tests/integration/test_rootless_parity.py)
vm_flags=(-t 900)
vm_systemd_paths=(tests/cgroup/test_systemd_vm.py tests/cgroup/test_systemd_parity_vm.py tests/cgroup/test_rootless_systemd_vm.py
	tests/engines/test_engines_systemd_vm.py tests/criu/test_criu_systemd_vm.py)
vm_systemd_flags=(-s -t 900)

vm_session() { # vm_session NAME: the files of NAME_paths in one VM boot
	local name=$1 vm=${CRT_SHARED:-$(dirname "$repo")/shared}/vm/run-in-vm.sh xml=$repo/build/$1.xml
	local -n files=${name//-/_}_paths flags=${name//-/_}_flags
	local present=()
	if [ "${CRT_SKIP_VM:-0}" = 1 ]; then
		return
	fi
	if [ ! -x "$vm" ]; then
		broken "$name" "no VM script at $vm (shared/ missing? set CRT_SHARED)"
		return
	fi
	for f in "${files[@]}"; do [ -f "$f" ] && present+=("$f"); done
	say "VM session '$name': ${present[*]}"
	rm -f "$xml"
	"$vm" "${flags[@]}" -e CRT_BINARY="$repo/build/src/crt" "$repo" -- \
		"$python" -m pytest -p no:cacheprovider -q -rfEs --junitxml="$xml" \
		-o junit_suite_name="$name" "${present[@]}"
	local rc=$?
	[ -f "$xml" ] && cp "$xml" "$results/$name.xml"
	if [ $rc -gt 1 ] || [ ! -f "$xml" ]; then
		broken "$name" "the VM session '$name' exited $rc"
	fi
}

if build "$repo/build"; then
	session default build CRT_FUZZ_SECONDS="${CRT_FUZZ_SECONDS:-15}" -- "$@"
	vm_session vm
	vm_session vm-systemd
fi

# --- 4. the static build, then sanitizers ---------------------------------------
say "building a static crt in build-static/"
if build "$repo/build-static" --enable-static-binary; then
	session static build-static -- "$@"
fi

say "building a musl crt in build-musl/"
if build_musl "$repo/build-musl"; then
	session musl build-musl -- "$@"
fi

# --- 4. sanitizers -------------------------------------------------------------
if [ "${CRT_SKIP_ASAN:-0}" != 1 ]; then
	say "building crt with ASan+UBSan in build-asan/"
	if build "$repo/build-asan" --enable-sanitizers; then
		san=$results/sanitizer-logs
		mkdir -p "$san"
		session asan build-asan \
			CRT_CONFORMANCE=0 CRT_SAN_LOGS="$san" \
			ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$san/asan" \
			UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan" \
			-- "$@"
	fi
fi

repo_left=$(comm -13 <(echo "$repo_before") <(repo_files))
if [ -n "$repo_left" ]; then
	broken leftovers "the tests left files in the repository: $(echo $repo_left)"
fi
finish 0
