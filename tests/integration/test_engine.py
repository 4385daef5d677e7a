"""Engine plumbing: NOTIFY_SOCKET relay, socket activation (LISTEN_FDS),
session keyrings."""

import os
import shutil
import socket
import subprocess
import time

import pytest

HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")


@pytest.fixture(scope="session")
def sdnotify_binary(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed: cannot build the sd_notify helper")
    out = tmp_path_factory.mktemp("helpers") / "sdnotify"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(out),
                    os.path.join(HELPERS, "sdnotify.c")], check=True)
    return str(out)


@pytest.fixture
def notify_listener(test_dirs):
    path = os.path.join(test_dirs.tmp, "host-notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    yield path, s
    s.close()


def test_notify_socket_start_waits_for_ready(crt, bundle, sdnotify_binary, notify_listener):
    path, listener = notify_listener
    shutil.copy(sdnotify_binary, bundle.in_rootfs("/bin/sdnotify"))
    bundle.config["process"]["user"] = {"uid": 1001, "gid": 1001}
    bundle.config["process"]["args"] = [
        "sh", "-c", "echo $NOTIFY_SOCKET > /tmp/ns; sleep 1; sdnotify STATUS=starting; "
                    "sdnotify READY=1; exec sleep 300"]
    bundle.save()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    assert crt("create", "--bundle", bundle.path, "c1", env=env).returncode == 0
    t0 = time.monotonic()
    r = crt("start", "c1", env=env)
    took = time.monotonic() - t0
    assert r.returncode == 0, r
    assert took >= 0.9, f"start returned after {took:.2f}s, before the program was ready"
    assert listener.recv(100) == b"READY=1"
    r = crt("exec", "c1", "cat", "/tmp/ns")
    assert r.stdout == "/run/notify/notify.sock\n", r
    crt("delete", "--force", "c1")


def test_notify_socket_foreground_run(crt, bundle, sdnotify_binary, notify_listener):
    path, listener = notify_listener
    shutil.copy(sdnotify_binary, bundle.in_rootfs("/bin/sdnotify"))
    bundle.config["process"]["args"] = ["sh", "-c", "sdnotify READY=1; echo done"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", env=dict(os.environ, NOTIFY_SOCKET=path))
    assert r.returncode == 0, r
    assert listener.recv(100) == b"READY=1"


def test_notify_ready_then_exit_before_crt_supervises(crt, bundle, sdnotify_binary,
                                                     notify_listener, test_dirs):
    """The program says READY=1 and exits while crt is still in the
    poststart hook (here: until the init is a zombie): crt must relay
    the queued READY=1 when it finds the process gone, not drop it.
    runc 1.1.5 relays READY=1 from a program that exits at once (its
    poststart hook here never sees the zombie: it fails); crun 1.8.1
    drops it with the hook and hangs without one. crt relays in both."""
    path, listener = notify_listener
    shutil.copy(sdnotify_binary, bundle.in_rootfs("/bin/sdnotify"))
    bundle.config["process"]["args"] = ["sh", "-c", "sdnotify READY=1; exit 0"]
    hook = os.path.join(test_dirs.tmp, "wait-zombie.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\n'
                'pid=$(sed -n \'s/.*"pid": *\\([0-9]*\\).*/\\1/p\')\n'
                'for i in $(seq 200); do\n'
                '  case "$(cut -d" " -f3 /proc/$pid/stat)" in Z) exit 0;; esac\n'
                '  sleep 0.05\n'
                'done\n'
                'exit 1\n')
    os.chmod(hook, 0o755)
    bundle.config.setdefault("hooks", {})["poststart"] = [{"path": hook}]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", env=dict(os.environ, NOTIFY_SOCKET=path))
    assert r.returncode == 0, r
    assert listener.recv(100) == b"READY=1"


def test_notify_start_fails_if_container_dies_unready(crt, bundle, notify_listener):
    path, _ = notify_listener
    bundle.config["process"]["args"] = ["sh", "-c", "exit 3"]
    bundle.save()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    assert crt("create", "--bundle", bundle.path, "c1", env=env).returncode == 0
    r = crt("start", "c1", env=env, timeout=10)
    assert r.returncode != 0
    assert "exited before it was ready" in r.stderr, r
    crt("delete", "--force", "c1")


def test_socket_activation_listen_fds(crt, bundle, test_dirs):
    """systemd passes fds 3.. with LISTEN_FDS/LISTEN_PID for crt's pid: the
    container gets them at 3.. with LISTEN_FDS=N and LISTEN_PID=1."""
    bundle.config["process"]["args"] = [
        "sh", "-c", "echo FDS=$LISTEN_FDS PID=$LISTEN_PID; cat <&3; cat <&4"]
    bundle.save()
    paths = []
    for i in (1, 2):
        p = os.path.join(test_dirs.tmp, f"f{i}")
        with open(p, "w") as f:
            f.write(f"content-{i}\n")
        paths.append(p)
    # A shell sets LISTEN_PID to its own pid and execs crt, as systemd does.
    script = (f'exec 3<"{paths[0]}" 4<"{paths[1]}"; LISTEN_FDS=2 LISTEN_PID=$$ '
              f'exec {" ".join(crt.argv(["run", "--bundle", bundle.path, "c1"]))}')
    p = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p
    assert p.stdout == "FDS=2 PID=1\ncontent-1\ncontent-2\n", p


def keyring_names(proc_keys):
    """Descriptions of the keyrings in a /proc/keys listing."""
    names = set()
    for line in proc_keys.splitlines():
        fields = line.split()
        if len(fields) >= 9 and fields[7] == "keyring":
            names.add(fields[8].rstrip(":"))
    return names


def test_new_session_keyring_named_after_container(crt, bundle):
    if not os.path.exists("/proc/keys"):
        pytest.skip("kernel without /proc/keys")
    bundle.config["process"]["args"] = ["cat", "/proc/keys"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "keyring-c1")
    assert r.returncode == 0, r
    assert "keyring-c1" in keyring_names(r.stdout), r.stdout
    r2 = crt("run", "--no-new-keyring", "--bundle", bundle.path, "keyring-c2")
    assert r2.returncode == 0, r2
    assert "keyring-c2" not in keyring_names(r2.stdout), r2.stdout
