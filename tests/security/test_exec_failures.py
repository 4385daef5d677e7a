"""A program that cannot be executed: one clear line, exit 1, nothing left.

Every way execve (or the lookup before it) can fail, in every command
that starts a program: `run`, `run -d`, `create` + `start` and `exec`.
Some failures are found by the lookup in the init, before READY (so
`create` reports them, as runc does); the others only by execve itself,
after `start` released the init, and `start` reports them.

Before the fix, `crt run` of a program that failed only at execve (an
environment over MAX_ARG_STRLEN, a file without a valid header...) hung
for ever: its clean-up re-opened the state dir and waited for the lock
it still held itself.
"""

import json
import os
import shutil

import pytest

BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin:/sbin:/usr/sbin")

BIG = 200_000  # over the kernel's MAX_ARG_STRLEN (32 pages: 128 KiB)
# Under MAX_ARG_STRLEN each, over ARG_MAX (a quarter of the 8 MiB stack
# limit) together: only execve itself can find that.
MANY = [f"MANY{i}=" + "x" * 100_000 for i in range(30)]

# name: (args, extra env, reason, found by the lookup before READY); the
# reasons are runc's lower-case texts (the docker CLI matches them).
CASES = {
    "e2big": (["/bin/sh", "-c", "true"], MANY, "argument list too long", False),
    "enoexec": (["/garbage"], [], "exec format error", False),
    "eacces_mode": (["/not-executable"], [], "permission denied", True),
    "eacces_noexec": (["/noexec/busybox", "true"], [], "permission denied", False),
    "enoent": (["/nonexistent"], [], "no such file or directory", True),
    "enoent_path": (["nonexistent"], [], "executable file not found in $PATH", True),
    "enoent_interpreter": (["/no-interpreter"], [], "no such file or directory", False),
    "eloop": (["/loop"], [], "too many levels of symbolic links", True),
    "enametoolong": (["/" + "a" * 5000], [], "file name too long", True),
}


def prepare(bundle, tmp, case):
    args, env, _, _ = CASES[case]
    root = bundle.rootfs
    with open(os.path.join(root, "garbage"), "w") as f:
        f.write("this is no ELF and has no #!\n")
    os.chmod(os.path.join(root, "garbage"), 0o755)
    with open(os.path.join(root, "not-executable"), "w") as f:
        f.write("#!/bin/sh\ntrue\n")
    os.chmod(os.path.join(root, "not-executable"), 0o644)
    with open(os.path.join(root, "no-interpreter"), "w") as f:
        f.write("#!/nonexistent/interpreter\n")
    os.chmod(os.path.join(root, "no-interpreter"), 0o755)
    os.symlink("/loop", os.path.join(root, "loop"))
    # An executable file on a noexec mount: the mode bits say yes.
    exdir = os.path.join(tmp, "exdir")
    os.makedirs(exdir, exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(exdir, "busybox"))
    bundle.config["mounts"].append({"destination": "/noexec", "type": "bind",
                                    "source": exdir, "options": ["bind", "ro", "noexec"]})
    return args, env


def check_message(r, verb, cid, case):
    args, _, reason, _ = CASES[case]
    assert r.returncode == 1, r
    assert r.stdout == "", r
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r
    line = lines[0]
    name = args[0] if len(args[0]) < 100 else None
    assert line.startswith(f"crt: {verb} {cid}: exec"), r
    assert line.endswith(": " + reason), r
    if name:
        assert f'"{name}"' in line, r
    # The sync message is bounded; a long one keeps its start and end.
    assert len(line) < 8192, len(line)


def container_pids(bundle, init_pid):
    """The pids in the init's pid namespace."""
    ns = os.stat(f"/proc/{init_pid}/ns/pid")
    pids = []
    for name in os.listdir("/proc"):
        try:
            st = os.stat(f"/proc/{name}/ns/pid")
        except (OSError, ValueError):
            continue
        if name.isdigit() and (st.st_ino, st.st_dev) == (ns.st_ino, ns.st_dev):
            pids.append(int(name))
    return sorted(pids)


def assert_gone(crt, cid):
    r = crt("state", cid)
    assert r.returncode == 1 and "does not exist" in r.stderr, r


def test_strings_over_the_kernel_limit_are_a_config_error(crt, bundle):
    """The issue's case, three 200,000-byte variables: no string may pass
    MAX_ARG_STRLEN, so config.json is refused up front, naming the field,
    one line, exit 1 (crt used to hang; runc reports E2BIG at exec)."""
    bundle.config["process"]["env"] += [f"BIG{i}=" + "x" * BIG for i in range(3)]
    n = len(bundle.config["process"]["env"]) - 3
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", timeout=20)
    assert r.returncode == 1, r
    assert r.stderr.splitlines() == [
        f"crt: run c1: config.json: process.env[{n}]: longer than 131071 bytes, "
        "the kernel's limit for one variable"], r
    assert_gone(crt, "c1")


@pytest.mark.parametrize("case", sorted(CASES))
def test_run(crt, bundle, test_dirs, case):
    args, env = prepare(bundle, test_dirs.tmp, case)
    bundle.config["process"]["args"] = args
    bundle.config["process"]["env"] += env
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", timeout=20)
    check_message(r, "run", "c1", case)
    assert_gone(crt, "c1")


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_detached(crt, bundle, test_dirs, case):
    args, env = prepare(bundle, test_dirs.tmp, case)
    bundle.config["process"]["args"] = args
    bundle.config["process"]["env"] += env
    bundle.save()
    r = crt("run", "-d", "--bundle", bundle.path, "c1", timeout=20)
    check_message(r, "run", "c1", case)
    assert_gone(crt, "c1")


@pytest.mark.parametrize("case", sorted(CASES))
def test_create_start(crt, bundle, test_dirs, case):
    args, env = prepare(bundle, test_dirs.tmp, case)
    early = CASES[case][3]
    bundle.config["process"]["args"] = args
    bundle.config["process"]["env"] += env
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "c1", timeout=20)
    if early:
        check_message(r, "create", "c1", case)
        assert_gone(crt, "c1")
        return
    assert r.returncode == 0, r
    assert crt.status("c1") == "created"
    r = crt("start", "c1", timeout=20)
    check_message(r, "start", "c1", case)
    # As with runc: the container is there, stopped, until deleted.
    assert crt.status("c1") == "stopped"
    r = crt("delete", "c1")
    assert r.returncode == 0, r
    assert_gone(crt, "c1")


@pytest.mark.parametrize("case", sorted(CASES))
def test_exec(crt, bundle, test_dirs, case):
    args, env = prepare(bundle, test_dirs.tmp, case)
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.save()
    r = crt("run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    proc = json.loads(json.dumps(bundle.config["process"]))
    proc["args"] = args
    proc["env"] += env
    proc_path = os.path.join(test_dirs.tmp, "process.json")
    with open(proc_path, "w") as f:
        json.dump(proc, f)
    r = crt("exec", "--process", proc_path, "c1", timeout=20)
    check_message(r, "exec", "c1", case)
    # The container is untouched and has no half-started process.
    assert crt.status("c1") == "running"
    pid = crt.state("c1")["pid"]
    assert container_pids(bundle, pid) == [pid]
    r = crt("delete", "--force", "c1")
    assert r.returncode == 0, r
    assert_gone(crt, "c1")
