"""Terminals: the pty of process.terminal, handed to --console-socket or
proxied by a foreground crt to its own terminal."""

import array
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import wait_for


def recv_fd(conn):
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(256, socket.CMSG_SPACE(fds.itemsize))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:fds.itemsize])
    return msg, fds[0]


@pytest.fixture
def console_socket(test_dirs):
    path = os.path.join(test_dirs.tmp, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(10)
    yield path, srv
    srv.close()


def read_until(fd, needle, timeout=10):
    deadline = time.monotonic() + timeout
    buf = b""
    os.set_blocking(fd, False)
    while needle not in buf and time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        except BlockingIOError:
            time.sleep(0.02)
        except OSError:  # EIO: the slave side is gone
            break
    return buf


def test_console_socket_receives_pty_master(crt, bundle, console_socket):
    path, srv = console_socket
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["consoleSize"] = {"height": 33, "width": 111}
    bundle.config["process"]["args"] = ["sh", "-c", "tty; stty size; ls -l /dev/console; "
                                        "[ -t 0 ] && [ -t 1 ] && echo all-tty; sleep 1"]
    bundle.save()
    r = crt("create", "--console-socket", path, "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    conn, _ = srv.accept()
    name, master = recv_fd(conn)
    conn.close()
    try:
        assert name.startswith(b"/dev/pts/"), name
        assert crt("start", "c1").returncode == 0
        out = read_until(master, b"all-tty")
    finally:
        os.close(master)
    assert b"/dev/pts/0" in out, out
    assert b"33 111" in out, out
    assert b"136," in out, out            # /dev/console is the pty slave
    assert b"all-tty" in out, out
    crt.wait_status("c1", "stopped")
    assert crt("delete", "c1").returncode == 0


def test_terminal_without_console_socket_detached_is_refused(crt, bundle):
    bundle.config["process"]["terminal"] = True
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode != 0
    assert "process.terminal" in r.stderr and "--console-socket" in r.stderr, r
    assert not crt.state_entries()


@pytest.mark.skipif(shutil.which("script") is None, reason="script(1) not installed (bsdutils)")
def test_foreground_run_proxies_the_pty(crt, bundle):
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["args"] = ["sh", "-c", "tty; read x; echo got:$x; exit 5"]
    bundle.save()
    cmd = " ".join(crt.argv(["run", "--bundle", bundle.path, "c1"]))
    # script gives crt a terminal; what we type reaches the container's
    # shell through crt's proxy, and its output comes back.
    p = subprocess.Popen(["script", "-qefc", "stty cols 90 rows 20; " + cmd, "/dev/null"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.stdin.write(b"hello\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=20)
    assert b"/dev/pts/0" in out, (out, err)
    assert b"got:hello" in out, (out, err)
    assert p.returncode == 5, (out, err)


def test_exec_tty_with_console_socket(crt, bundle, console_socket):
    path, srv = console_socket
    bundle.config["process"]["args"] = ["sleep", "300"]
    bundle.save()
    assert crt("run", "--detach", "--bundle", bundle.path, "c1").returncode == 0
    r = crt("exec", "--tty", "--detach", "--console-socket", path, "c1",
            "sh", "-c", "tty; echo exec-tty-ok; sleep 1")
    assert r.returncode == 0, r
    conn, _ = srv.accept()
    _, master = recv_fd(conn)
    conn.close()
    try:
        out = read_until(master, b"exec-tty-ok")
    finally:
        os.close(master)
    assert b"/dev/pts/" in out and b"exec-tty-ok" in out, out
    crt("delete", "--force", "c1")
