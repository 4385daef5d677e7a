"""Faults: crt killed, or a syscall of crt failing, at every step.

strace (without -f: crt itself, not the container's init) runs one crt
command and, at the Nth call of one syscall, either kills it with
SIGKILL or makes the call fail with an errno. The syscalls and their
counts come from a dry run of the same command just before, counted
from the first thing crt's main does (glibc's loader and constructors,
or musl's start-up, are not crt's). Every syscall crt makes is used except memory
management and exit; each gets its first, second, middle and last call.

After a kill: `crt state` says something sensible (a status or "does
not exist"), `crt delete --force` succeeds and leaves nothing (state
dir, cgroup, processes, mounts: also checked by the fixtures).

After an injected error: one line `crt: <command> c1: ...` and exit 1,
or success when the failure is one crt may ignore; a failed `create`
leaves nothing at all, a failed `exec` leaves the container as it was,
a failed `delete` can be repeated. An EINTR from a read, a write, a
wait or a lock is retried: the command succeeds.
"""

import os
import re
import shutil
import subprocess
import time

import pytest

from crt_integration_conftest import _remove_cgroup, pid_alive

# Under the sanitizer build (tests/run.sh's asan session) these cannot
# work: LeakSanitizer refuses to run under ptrace (it aborts), and errors
# injected into mmap & co. would hit the sanitizer's own allocator. The
# default session runs them against the plain build.
ASAN_BUILD = bool(os.environ.get("CRT_SAN_LOGS"))

DEFAULT_TIMEOUT = 30

STRACE = shutil.which("strace")
CGROUP_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup")

pytestmark = [
    pytest.mark.skipif(STRACE is None, reason="strace not installed"),
    pytest.mark.skipif(ASAN_BUILD, reason="strace fault injection cannot run over an ASan "
                                          "build (LeakSanitizer aborts under ptrace)"),
]

# Memory management, signal masks and exit: faults there are not crt's
# logic (an allocation failure aborts by design).
IGNORED = {"brk", "mmap", "munmap", "mprotect", "mremap", "exit_group", "exit",
           "rt_sigprocmask", "rt_sigaction", "getrandom", "---", "+++"}
# Where an EINTR must be retried, not reported.
RETRIED = {"read", "write", "recvmsg", "recvfrom", "sendto", "sendmsg", "wait4", "poll",
           "flock", "accept4"}
ERRNOS = ("ENOMEM", "EIO", "EAGAIN")
# close(2) frees the fd whatever it returns; a "failed" close that left
# it open (what strace's injection does: the call is skipped) cannot
# happen.
NO_ERROR_INJECTION = {"close"}
# The call after which crt's main runs: glibc's first malloc (after the
# loader and glibc's start-up); musl's static start-up makes two calls
# (TLS, then set_tid_address) and no getrandom.
GLIBC_MAIN_MARKER = "getrandom("
MUSL_MAIN_MARKER = "set_tid_address("

LINE = re.compile(r"^(\w+)\(")


def phase_argv(phase, bundle):
    return {
        "create": ["create", "--bundle", bundle.path, "c1"],
        "start": ["start", "c1"],
        "exec": ["exec", "c1", "true"],
        "delete": ["delete", "--force", "c1"],
        "run": ["run", "--bundle", bundle.path, "c1"],
    }[phase]


def setup_phase(crt, bundle, phase):
    """The container each phase starts from."""
    if phase == "start":
        r = crt("create", "--bundle", bundle.path, "c1")
        assert r.returncode == 0, r
    elif phase in ("exec", "delete"):
        r = crt("run", "-d", "--bundle", bundle.path, "c1")
        assert r.returncode == 0, r


def run_traced(crt, test_dirs, args, strace_args, tag):
    """crt under strace, output to files (a created init keeps crt's
    stdio open). Returns (rc, stderr, trace text)."""
    trace = os.path.join(test_dirs.tmp, f"trace-{tag}.txt")
    out = os.path.join(test_dirs.tmp, f"out-{tag}.txt")
    err = os.path.join(test_dirs.tmp, f"err-{tag}.txt")
    argv = [STRACE, "-qq", "-o", trace, *strace_args, *crt.argv(args)]
    with open(out, "w") as o, open(err, "w+") as e:
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                               timeout=DEFAULT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"timed out: {argv}")
        e.seek(0)
        stderr = e.read()
    with open(trace) as f:
        text = f.read()
    return p.returncode, stderr, text


def syscall_calls(crt, test_dirs, bundle, phase):
    """{syscall: number of calls} of one run of the phase, from main on."""
    setup_phase(crt, bundle, phase)
    rc, stderr, text = run_traced(crt, test_dirs, phase_argv(phase, bundle), [], "dry")
    assert rc == 0, stderr
    before, counts = {}, {}
    in_main = False
    glibc = any(line.startswith(GLIBC_MAIN_MARKER) for line in text.splitlines())
    marker = GLIBC_MAIN_MARKER if glibc else MUSL_MAIN_MARKER
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        if not in_main:
            in_main = line.startswith(marker)
            before[m.group(1)] = before.get(m.group(1), 0) + 1
        elif m.group(1) not in IGNORED:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    assert in_main, text
    cleanup(crt, bundle, test_dirs)
    # strace's when=N counts from exec: the loader's calls come first.
    return {sc: (before.get(sc, 0), n) for sc, n in counts.items()}


def picks(n):
    """The calls to fault among n: first, second, middle, last."""
    return sorted({1, min(2, n), (n + 1) // 2, n})


def cases(counts, only=None):
    """(syscall, k: its kth call from main on, N: strace's when=N)."""
    for sc in sorted(counts):
        if only is None or sc in only:
            offset, n = counts[sc]
            for k in picks(n):
                yield sc, k, offset + k


def cgroup_dirs(bundle):
    path = bundle.config["linux"]["cgroupsPath"]
    return [r + path for r in CGROUP_ROOTS if os.path.isdir(r + path)]


def container_procs(bundle):
    """Live processes whose root is the bundle's rootfs."""
    want = os.stat(bundle.rootfs)
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{name}/root")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino) and pid_alive(int(name)):
            pids.append(int(name))
    return pids


def leftovers(crt, bundle):
    """What is left of c1 on the host, waiting a little for processes
    that are on their way out."""
    deadline = time.monotonic() + 5
    while True:
        left = []
        if os.path.exists(os.path.join(crt.root, "c1")):
            left.append(f"state dir: {os.listdir(os.path.join(crt.root, 'c1'))}")
        left += [f"cgroup {d}" for d in cgroup_dirs(bundle)]
        left += [f"process {p}" for p in container_procs(bundle)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def cleanup(crt, bundle, test_dirs):
    """delete --force must succeed and remove everything."""
    r = crt("delete", "--force", "c1")
    problems = []
    if r.returncode != 0:
        problems.append(f"delete --force failed: {r.stderr.strip()}")
    problems += leftovers(crt, bundle)
    # Clear what was left, so that one problem is reported once.
    for d in cgroup_dirs(bundle):
        _remove_cgroup(d)
    shutil.rmtree(os.path.join(crt.root, "c1"), ignore_errors=True)
    return problems


def check_state(crt):
    """`crt state c1`: a status, or "does not exist"; one line of error."""
    r = crt("state", "c1")
    if r.returncode == 0:
        status = r.json()["status"]
        return [] if status in ("created", "running", "stopped", "paused") else \
            [f"state: odd status {status!r}"]
    lines = r.stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith("crt: state c1: "):
        return [f"state: {r.stderr!r}"]
    return []


def one_line_error(stderr, verb):
    lines = stderr.splitlines()
    if len(lines) != 1 or not lines[0].startswith(f"crt: {verb} c1: "):
        return [f"not one `crt: {verb} c1: ...` line: {stderr!r}"]
    return []


PHASES = ["create", "start", "exec", "delete", "run"]


def make_bundle(bundle_factory, phase):
    args = ["sleep", "1000"] if phase in ("exec", "delete", "start") else ["true"]
    if phase == "create":
        args = ["sleep", "1000"]
    return bundle_factory(args)


@pytest.mark.parametrize("phase", PHASES)
def test_sigkill_at_every_step(crt, bundle_factory, test_dirs, phase):
    bundle = make_bundle(bundle_factory, phase)
    counts = syscall_calls(crt, test_dirs, bundle, phase)
    problems, fired, total = [], 0, 0
    for sc, k, n in cases(counts):
        total += 1
        setup_phase(crt, bundle, phase)
        rc, stderr, trace = run_traced(
            crt, test_dirs, phase_argv(phase, bundle),
            ["-e", f"trace={sc}", f"--inject={sc}:signal=SIGKILL:when={n}"], f"{sc}-{n}")
        if "killed by SIGKILL" in trace:
            fired += 1
        found = check_state(crt) + cleanup(crt, bundle, test_dirs)
        problems += [f"{phase}: SIGKILL at {sc} #{k}: {p}" for p in found]
    print(f"sigkill {phase}: {total} cases, {fired} fired")
    assert not problems, "\n".join(problems)
    # The counts may drift a little (a /proc file read in chunks).
    assert fired >= total * 0.8, (fired, total)


@pytest.mark.parametrize("phase", PHASES)
def test_error_at_every_step(crt, bundle_factory, test_dirs, phase):
    bundle = make_bundle(bundle_factory, phase)
    counts = syscall_calls(crt, test_dirs, bundle, phase)
    problems, fired, total = [], 0, 0
    for i, (sc, k, n) in enumerate(cases(counts, set(counts) - NO_ERROR_INJECTION)):
        total += 1
        errno_name = ERRNOS[i % len(ERRNOS)]
        setup_phase(crt, bundle, phase)
        rc, stderr, trace = run_traced(
            crt, test_dirs, phase_argv(phase, bundle),
            ["-e", f"trace={sc}", f"--inject={sc}:error={errno_name}:when={n}"],
            f"{sc}-{n}")
        if "(INJECTED)" in trace:
            fired += 1
        what = f"{phase}: {errno_name} at {sc} #{k}"
        found = []
        if rc != 0:
            if phase != "run" and rc != 1:
                found.append(f"exit {rc}")
            found += one_line_error(stderr, phase)
            if phase == "create":
                # A failed create undoes everything itself.
                found += [f"after a failed create: {x}" for x in leftovers(crt, bundle)]
            if phase == "exec":
                r = crt("state", "c1")
                if r.returncode != 0 or r.json()["status"] != "running":
                    found.append(f"the container did not survive a failed exec: {r!r}")
        found += check_state(crt) + cleanup(crt, bundle, test_dirs)
        problems += [f"{what}: {p}" for p in found]
    print(f"errors {phase}: {total} cases, {fired} fired")
    assert not problems, "\n".join(problems)
    assert fired >= total * 0.8, (fired, total)


@pytest.mark.parametrize("phase", PHASES)
def test_eintr_is_retried(crt, bundle_factory, test_dirs, phase):
    bundle = make_bundle(bundle_factory, phase)
    counts = syscall_calls(crt, test_dirs, bundle, phase)
    problems, total = [], 0
    for sc, k, n in cases(counts, RETRIED):
        total += 1
        setup_phase(crt, bundle, phase)
        rc, stderr, trace = run_traced(
            crt, test_dirs, phase_argv(phase, bundle),
            ["-e", f"trace={sc}", f"--inject={sc}:error=EINTR:when={n}"], f"{sc}-{n}")
        if rc != 0:
            problems.append(f"{phase}: EINTR at {sc} #{k}: exit {rc}: {stderr.strip()}")
        problems += [f"{phase}: EINTR at {sc} #{k}: {p}"
                     for p in check_state(crt) + cleanup(crt, bundle, test_dirs)]
    print(f"eintr {phase}: {total} cases")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# the container's init: crt's code too, in the new namespaces
# --------------------------------------------------------------------------

PID_LINE = re.compile(r"^(\d+)\s+(\w+)\(")


def init_syscall_calls(crt, test_dirs, bundle):
    """{syscall: (0, calls)} of the syscalls only the init makes (strace
    -f counts the calls of each process on its own) in one `run`."""
    rc, stderr, text = run_traced(crt, test_dirs, phase_argv("run", bundle), ["-f"], "dry-f")
    assert rc == 0, stderr
    per = {}
    for line in text.splitlines():
        m = PID_LINE.match(line)
        if m:
            calls = per.setdefault(int(m.group(1)), {})
            calls[m.group(2)] = calls.get(m.group(2), 0) + 1
    parent = min(per)   # pids do not wrap within one run of a test
    ours = set(per[parent])
    init = {}
    for pid, calls in per.items():
        if pid != parent:
            for sc, n in calls.items():
                if sc not in ours and sc not in IGNORED:
                    init[sc] = (0, max(n, init.get(sc, (0, 0))[1]))
    cleanup(crt, bundle, test_dirs)
    return init


@pytest.mark.parametrize("fault", ["SIGKILL", "error"])
def test_init_faults(crt, bundle_factory, test_dirs, fault):
    """The init killed, or one of its syscalls failing, at every step of
    its setup: `run` fails with one line (or, killed once `start` let it
    go, ends as a program killed by SIGKILL would: 137), and nothing is
    left."""
    bundle = bundle_factory(["true"])
    counts = init_syscall_calls(crt, test_dirs, bundle)
    # (`run` releases its init over the sync channel: no start socket, no
    # accept4; `create` + `start` are the phases' tests.)
    assert {"mount", "pivot_root"} <= set(counts), counts
    problems, fired, total = [], 0, 0
    for i, (sc, k, n) in enumerate(cases(counts)):
        total += 1
        errno_name = ERRNOS[i % len(ERRNOS)]
        action = "signal=SIGKILL" if fault == "SIGKILL" else f"error={errno_name}"
        rc, stderr, trace = run_traced(
            crt, test_dirs, phase_argv("run", bundle),
            ["-f", "-e", f"trace={sc}", f"--inject={sc}:{action}:when={n}"], f"f-{sc}-{k}")
        if "INJECTED" in trace or "killed by SIGKILL" in trace:
            fired += 1
        what = f"init: {action} at {sc} #{k}"
        found = []
        if rc == 137 and fault == "SIGKILL":
            if stderr:
                found.append(f"exit 137 with a message: {stderr!r}")
        elif rc != 0:
            if rc != 1:
                found.append(f"exit {rc}")
            found += one_line_error(stderr, "run")
        found += [f"after run: {x}" for x in leftovers(crt, bundle)]
        found += cleanup(crt, bundle, test_dirs)
        problems += [f"{what}: {p}" for p in found]
    print(f"init {fault}: {total} cases, {fired} fired")
    assert not problems, "\n".join(problems)
    assert fired >= total * 0.8, (fired, total)
