"""CVE-2024-21626 class: the container's working directory on the host.

runc up to 1.1.11 held a host directory fd open while the container's
process chdir'd to process.cwd, so `"cwd": "/proc/self/fd/N"` (N being
runc's own fd, or one its caller leaked) gave the process a cwd outside
its root: `../../..` then walks the host. crt must hold no fd that is not
the container's when the process resolves its cwd, must resolve the cwd
with no magic link, and must refuse a cwd the kernel places outside the
root.

Every case runs a probe that tries to read a marker file on the host
through its cwd, with `../` far enough up to reach the host's / from any
host directory. A runtime with the flaw prints ESCAPED for at least one
fd number (crt 05a0bc6 did for fds 5-7 in `run`; with an inherited host
directory fd, for every number tried). Proven once by running this file
with CRT_BINARY pointing at that build.
"""

import json
import os
import subprocess
import time

import pytest

from crt_integration_conftest import wait_for

FDS = range(3, 41)
MARKER = "crt-escape-marker"


@pytest.fixture
def host_dir(test_dirs):
    """A host directory with the marker in it; the marker's absolute path."""
    d = os.path.join(test_dirs.tmp, "hostdir")
    os.makedirs(d)
    with open(os.path.join(d, MARKER), "w") as f:
        f.write("HOST-SECRET\n")
    return d


def probe(host_dir):
    """Shell code: ESCAPED if the marker is readable from the cwd, then
    the cwd as the kernel sees it."""
    up = "../" * 20 + os.path.join(host_dir, MARKER).lstrip("/")
    return (f"if cat {MARKER} {up} 2>/dev/null | grep -q HOST-SECRET; then echo ESCAPED; fi; "
            "echo CWD=$(pwd -P)")


def judge(n, rc, out, err, problems):
    """One case: the marker must stay unreadable; a cwd that crt accepted
    must be inside the container's root."""
    if "ESCAPED" in out:
        problems.append(f"fd {n}: host marker read through the cwd (rc={rc})")
    elif rc == 0 and "CWD=/" not in out:
        problems.append(f"fd {n}: cwd outside the root: {out.strip()!r}")
    elif rc not in (0, None) and "cwd" not in err:
        problems.append(f"fd {n}: failed without naming the cwd: {err.strip()!r}")


def with_inherited_dir(argv, n, host_dir):
    """argv run by bash with fd n open on host_dir and not close-on-exec,
    as a careless engine or shell passes it on."""
    return ["bash", "-c", f'exec {n}<"$0"; exec "$@"', host_dir, *argv]


def run_to_files(argv, tmp, tag, timeout=20):
    out_path, err_path = os.path.join(tmp, tag + ".out"), os.path.join(tmp, tag + ".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                           timeout=timeout)
    return p.returncode, out_path, err_path


def read(path):
    with open(path) as f:
        return f.read()


@pytest.mark.parametrize("inherited", [False, True], ids=["crt-fds", "inherited-dir-fd"])
def test_run_cwd_proc_self_fd(crt, bundle_factory, host_dir, test_dirs, inherited):
    problems = []
    b = bundle_factory(("sh", "-c", probe(host_dir)))
    for n in FDS:
        b.config["process"]["cwd"] = f"/proc/self/fd/{n}"
        b.save()
        cid = f"cwd-run-{n}"
        argv = crt.argv(["run", "--bundle", b.path, cid])
        if inherited:
            argv = with_inherited_dir(argv, n, host_dir)
        rc, out, err = run_to_files(argv, test_dirs.tmp, cid)
        judge(n, rc, read(out), read(err), problems)
        crt("delete", "--force", cid)
    assert not problems, problems


@pytest.mark.parametrize("inherited", [False, True], ids=["crt-fds", "inherited-dir-fd"])
def test_create_start_cwd_proc_self_fd(crt, bundle_factory, host_dir, test_dirs, inherited):
    problems = []
    b = bundle_factory(("sh", "-c", probe(host_dir)))
    for n in FDS:
        b.config["process"]["cwd"] = f"/proc/self/fd/{n}"
        b.save()
        cid = f"cwd-create-{n}"
        argv = crt.argv(["create", "--bundle", b.path, cid])
        if inherited:
            argv = with_inherited_dir(argv, n, host_dir)
        # The container's stdio are these files: its output lands there.
        rc, out, err = run_to_files(argv, test_dirs.tmp, cid)
        if rc == 0:
            start = crt("start", cid)
            rc = start.returncode
            if rc == 0:
                wait_for(lambda: crt("state", cid).json()["status"] == "stopped", timeout=10,
                         what=f"{cid} to stop")
            else:
                with open(err, "a") as f:
                    f.write(start.stderr)
        judge(n, rc, read(out), read(err), problems)
        crt("delete", "--force", cid)
    assert not problems, problems


@pytest.fixture
def running(crt, bundle_factory):
    b = bundle_factory(("sleep", "1000"))
    crt("run", "--detach", "--bundle", b.path, "target", check=True)
    yield b
    crt("delete", "--force", "target")


@pytest.mark.parametrize("how", ["cwd-flag", "process-json"])
@pytest.mark.parametrize("inherited", [False, True], ids=["crt-fds", "inherited-dir-fd"])
def test_exec_cwd_proc_self_fd(crt, running, host_dir, test_dirs, how, inherited):
    problems = []
    for n in FDS:
        cwd = f"/proc/self/fd/{n}"
        if how == "cwd-flag":
            args = ["exec", "--cwd", cwd, "target", "sh", "-c", probe(host_dir)]
        else:
            proc = dict(running.config["process"], cwd=cwd, args=["sh", "-c", probe(host_dir)])
            path = os.path.join(test_dirs.tmp, f"process-{n}.json")
            with open(path, "w") as f:
                json.dump(proc, f)
            args = ["exec", "--process", path, "target"]
        argv = crt.argv(args)
        if inherited:
            argv = with_inherited_dir(argv, n, host_dir)
        rc, out, err = run_to_files(argv, test_dirs.tmp, f"exec-{how}-{n}")
        judge(n, rc, read(out), read(err), problems)
    assert not problems, problems


def test_preserved_host_dir_is_not_a_cwd(crt, bundle_factory, host_dir, test_dirs):
    """An fd handed over on purpose (--preserve-fds) is the container's to
    use, but it still may not become the cwd by a magic link: runc 1.1.12
    refuses the same."""
    b = bundle_factory(("sh", "-c", probe(host_dir)), cwd="/proc/self/fd/3")
    argv = with_inherited_dir(crt.argv(["run", "--preserve-fds", "1", "--bundle", b.path,
                                        "preserved"]), 3, host_dir)
    rc, out, err = run_to_files(argv, test_dirs.tmp, "preserved")
    assert "ESCAPED" not in read(out)
    assert rc == 1, (rc, read(out), read(err))
    assert "process.cwd" in read(err)
    crt("delete", "--force", "preserved")


def test_cwd_symlinked_out_of_the_root_stays_inside(crt, bundle_factory, host_dir):
    """An ordinary symlink as the cwd resolves inside the root (like runc):
    `/work -> /../../..` is the container's /."""
    b = bundle_factory(("sh", "-c", probe(host_dir)), cwd="/work")
    os.symlink("/../../../../..", b.in_rootfs("work"))
    r = crt("run", "--bundle", b.path, "symcwd")
    assert r.returncode == 0, r
    assert "ESCAPED" not in r.stdout
    assert "CWD=/\n" in r.stdout, r


def test_held_fds_at_exec_are_only_stdio(crt, bundle_factory):
    """What the container's process holds at exec: 0, 1, 2 and nothing
    else, even when crt's caller leaked directory fds."""
    b = bundle_factory(("sh", "-c", "ls /proc/self/fd"))
    r = crt("run", "--bundle", b.path, "fds")
    assert r.returncode == 0, r
    # ls itself opens one fd to read the directory.
    assert sorted(int(x) for x in r.stdout.split()) in ([0, 1, 2], [0, 1, 2, 3]), r


@pytest.mark.parametrize("cwd,ok", [("/home/app", True), ("/proc/self/fd/3", False)])
def test_cwd_resolved_safely_when_seccomp_blocks_openat2(crt, bundle_factory, host_dir, cwd, ok):
    """Profiles that predate openat2 answer it with EPERM (Docker's did),
    and the container's filter is loaded before its cwd is entered when
    noNewPrivileges is off: the resolver must fall back to its own walk,
    which is just as confined, instead of failing or using chdir(2)."""
    b = bundle_factory(("sh", "-c", probe(host_dir)), cwd=cwd, noNewPrivileges=False)
    b.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["openat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    b.save()
    argv = with_inherited_dir(crt.argv(["run", "--bundle", b.path, "seccwd"]), 3, host_dir)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert "ESCAPED" not in p.stdout
    if ok:
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert f"CWD={cwd}\n" in p.stdout
    else:
        assert p.returncode == 1, (p.stdout, p.stderr)
        assert "process.cwd" in p.stderr
    crt("delete", "--force", "seccwd")
