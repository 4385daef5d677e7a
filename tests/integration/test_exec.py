"""`crt exec`: a new process in a running container's namespaces and cgroup."""

import os
import subprocess
import time

import pytest

from conftest import APP_GID, APP_UID, pid_alive, wait_for


@pytest.fixture
def running(crt, bundle):
    """A detached container whose init sleeps, with FOO=bar in its env."""
    bundle.config["process"]["args"] = ["sh", "-c", "echo init > /tmp/who; exec sleep 300"]
    bundle.config["process"]["env"].append("FOO=bar")
    bundle.save()
    r = crt("run", "--detach", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    yield "c1"
    crt("delete", "--force", "c1")


def test_exec_joins_pid_and_mount_namespace(crt, running):
    r = crt("exec", running, "sh", "-c", "echo $$; cat /tmp/who; ps -o pid,comm")
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")
    assert lines[0] != "1"            # a new process, not the init...
    assert int(lines[0]) < 100        # ...numbered in the container's pid namespace
    assert lines[1] == "init"         # the init's /tmp: same mount namespace
    assert any(l.split()[:2] == ["1", "sleep"] for l in lines[2:] if l.strip()), r.stdout


def test_exec_other_namespaces_and_cgroup(crt, running):
    init_pid = crt.state(running)["pid"]
    r = crt("exec", running, "sh", "-c",
            "for n in ipc uts net mnt pid cgroup; do readlink /proc/self/ns/$n; done; "
            "cat /proc/self/cgroup | grep ^0::; hostname")
    assert r.returncode == 0, r
    got = r.stdout.split("\n")
    for i, ns in enumerate(("ipc", "uts", "net", "mnt", "pid")):
        assert got[i] == os.readlink(f"/proc/{init_pid}/ns/{ns}"), (ns, r.stdout)
    with open(f"/proc/{init_pid}/cgroup") as f:
        init_cgroup = [l for l in f.read().split("\n") if l.startswith("0::")][0]
    assert init_cgroup in r.stdout  # the container's cgroup, not crt's
    assert "crt-test" in r.stdout   # the container's hostname


def test_exec_env_cwd_user(crt, running):
    r = crt("exec", "--env", "FOO=baz", "-e", "NEW=1", "--cwd", "/tmp",
            "--user", f"{APP_UID}:{APP_GID}", "--additional-gids", "5,6", running,
            "sh", "-c", "echo FOO=$FOO NEW=$NEW; pwd; id -u; id -g; id -G")
    assert r.returncode == 0, r
    assert r.stdout.split("\n")[:5] == ["FOO=baz NEW=1", "/tmp", str(APP_UID), str(APP_GID),
                                         f"{APP_GID} 5 6"], r.stdout


def test_exec_inherits_container_env(crt, running):
    r = crt("exec", running, "sh", "-c", "echo $FOO")
    assert r.stdout == "bar\n", r


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exec_exit_code(crt, running, code):
    r = crt("exec", running, "sh", "-c", f"exit {code}")
    assert r.returncode == code, r


def test_exec_killed_by_signal(crt, running):
    r = crt("exec", running, "sh", "-c", "kill -9 $$")
    assert r.returncode == 137, r


def test_exec_missing_program(crt, running):
    r = crt("exec", running, "no-such-program")
    assert r.returncode != 0
    assert 'exec: "no-such-program": executable file not found in $PATH' in r.stderr, r


def test_exec_detached_pid_file(crt, running, test_dirs):
    pidfile = os.path.join(test_dirs.tmp, "exec.pid")
    r = crt("exec", "--detach", "--pid-file", pidfile, running, "sleep", "30")
    assert r.returncode == 0, r
    pid = int(open(pidfile).read())
    assert pid_alive(pid)
    init_pid = crt.state(running)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init_pid}/ns/pid")
    crt("delete", "--force", running)
    wait_for(lambda: not pid_alive(pid), what="the exec'd process to die with the container")


def test_exec_process_json(crt, running, test_dirs):
    path = os.path.join(test_dirs.tmp, "process.json")
    with open(path, "w") as f:
        f.write('{"args": ["sh", "-c", "echo from-json $X; id -u"], "env": ["X=1"],'
                ' "cwd": "/", "user": {"uid": 7, "gid": 7}}')
    r = crt("exec", "--process", path, running)
    assert r.returncode == 0, r
    assert r.stdout == "from-json 1\n7\n"


def test_exec_forwards_sigterm(crt, running):
    p = crt.popen("exec", running, "sh", "-c",
                  "trap 'echo got-term; exit 0' TERM; echo ready; while :; do sleep 0.1; done")
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(15)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert b"got-term" in out


def test_exec_in_stopped_container_fails(crt, bundle):
    bundle.config["process"]["args"] = ["true"]
    bundle.save()
    assert crt("run", "--detach", "--bundle", bundle.path, "c2").returncode == 0
    crt.wait_status("c2", "stopped")
    r = crt("exec", "c2", "true")
    assert r.returncode != 0
    assert "it is stopped" in r.stderr, r
    crt("delete", "c2")


def test_exec_unknown_container(crt):
    r = crt("exec", "nope", "true")
    assert r.returncode != 0
    assert "does not exist" in r.stderr


def test_exec_no_fd_leak_into_process(crt, running):
    r = crt("exec", running, "sh", "-c", "ls /proc/self/fd")
    assert r.returncode == 0, r
    # ls opens the directory itself as fd 3.
    assert sorted(int(x) for x in r.stdout.split()) in ([0, 1, 2], [0, 1, 2, 3]), r.stdout


@pytest.mark.slow
def test_exec_health_check_loop_leaks_nothing(crt, running):
    """A health check run by exec again and again: no zombies, no fds, no
    stray processes inside the container."""
    init_pid = crt.state(running)["pid"]
    for _ in range(60):
        r = crt("exec", running, "sh", "-c", "test -f /tmp/who")
        assert r.returncode == 0, r
    r = crt("exec", running, "ps", "-o", "pid,stat,comm")
    procs = [l for l in r.stdout.split("\n")[1:] if l.strip()]
    assert len(procs) == 2, r.stdout   # sleep (pid 1) and this ps
    assert not any(" Z" in l for l in procs), r.stdout
    with open(f"/proc/{init_pid}/status") as f:
        assert "State:\tS" in f.read()


def test_exec_gets_the_container_seccomp_filter(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "300"]
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
    }
    bundle.save()
    assert crt("run", "--detach", "--bundle", bundle.path, "c1").returncode == 0
    r = crt("exec", "c1", "mkdir", "/tmp/x")
    assert r.returncode != 0
    assert "Function not implemented" in r.stderr, r
    r = crt("exec", "c1", "sh", "-c", "grep Seccomp: /proc/self/status")
    assert "Seccomp:\t2" in r.stdout, r
    crt("delete", "--force", "c1")
