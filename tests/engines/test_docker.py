"""Docker (dockerd -> containerd -> io.containerd.runc.v2 shim) driving crt:
`docker build` with crt as the default runtime, a detached service with
env, a volume, a health check and a published port, exec (-u, exit
codes), logs, stop, pause/unpause, top, `run --rm` exit codes and a
terminal (-t, -it) through the shim's console socket.

A private dockerd for the module (tests/engines/dockerlib.py says how it
is isolated), here with the cgroupfs driver and a cgroup parent of its
own; tests/engines/test_engines_systemd_vm.py runs Docker with the
systemd driver in the VM.

On a host whose memory/cpu/pids/blkio controllers are cgroup v1, crt
manages only the v2 tree and refuses limits for v1-only controllers:
Docker writes none unless asked (no --memory, --cpus, --pids-limit,
--blkio-weight here), and its zero-valued defaults (cpu.shares 0,
memory.disableOOMKiller false) are not limits.
"""

import json
import os
import re
import shlex
import subprocess
import time

import pytest

from dockerlib import DOCKER, IMAGE, TIMEOUT, docker_session
from enginelib import rootfs_tar  # noqa: F401

PORT = 18080


@pytest.fixture(scope="module")
def docker(rootfs_tar):  # noqa: F811
    with docker_session(rootfs_tar) as d:
        yield d


@pytest.fixture
def dk(docker):
    """docker for one test; afterwards no container may be left."""
    yield docker
    left = docker.container_ids()
    if left:
        docker("rm", "-f", "-v", *left)
        pytest.fail(f"test left docker containers: {left}")


SERVICE = ('trap "echo got-term; exit 0" TERM; '
           'echo "$GREETING from crt" > /data/index.html; '
           "httpd -p 8080 -h /data; echo ready; while :; do sleep 0.1; done")


def start_service(dk, name, *flags):
    """A detached busybox httpd serving the volume at /data; PID 1 traps TERM."""
    r = dk.run("-d", "--name", name, "-e", "GREETING=hello", *flags, IMAGE,
               "sh", "-c", SERVICE)
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    dk.wait_for(f"{name} ready", lambda: "ready" in dk("logs", name).stdout)
    return cid


def test_build_runs_steps_under_crt(dk):
    ctx = os.path.join(dk.base, "build")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"""\
FROM {IMAGE}
RUN echo built > /built && echo app:x:1001:1001::/home/app:/bin/sh >> /etc/passwd \\
    && echo app:x:1001: >> /etc/group && mkdir -p /home/app && chown 1001:1001 /home/app
USER 1001
WORKDIR /home/app
RUN id > whoami && echo $$ > pid
CMD ["sh", "-c", "cat /built whoami pid; id -u"]
""")
    r = dk("build", "--rm=false", "-t", "crt-built", ctx, timeout=120)
    try:
        assert r.returncode == 0, r
        # --rm=false keeps the RUN steps' containers: each ran under crt.
        steps = dk("ps", "-aq", "--no-trunc", "--filter", "status=exited").stdout.split()
        assert len(steps) == 2, (steps, r.stdout)
        for cid in steps:
            assert dk.inspect(cid, "{{.HostConfig.Runtime}} {{.State.ExitCode}}") == "crt 0"
        assert dk.inspect("crt-built", "{{.Config.User}}") == "1001"
        r = dk.run("--rm", "crt-built")
        assert r.returncode == 0, r
        assert r.stdout.splitlines() == [
            "built", "uid=1001(app) gid=1001(app) groups=1001(app)", "1", "1001"], r
    finally:
        steps = dk("ps", "-aq", "--no-trunc").stdout.split()
        if steps:
            dk("rm", "-f", *steps)
        dk("rmi", "-f", "crt-built")

    # A failing RUN step fails the build with its exit code.
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(f"FROM {IMAGE}\nRUN echo before; exit 3\n")
    r = dk("build", "--force-rm", "-t", "crt-broken", ctx, timeout=120)
    assert r.returncode != 0, r
    assert "returned a non-zero code: 3" in r.stdout + r.stderr, r
    assert dk("image", "inspect", "crt-broken").returncode != 0


def test_service_healthy_port_volume_logs(dk):
    cid = start_service(dk, "web", "-v", "crtvol:/data", "-p", f"127.0.0.1:{PORT}:8080",
                        "--health-cmd", "wget -qO- http://127.0.0.1:8080/ | grep -q hello",
                        "--health-interval", "1s", "--health-retries", "30")
    try:
        assert dk.inspect("web", "{{.HostConfig.Runtime}}") == "crt"
        st = json.loads(dk.crt("state", cid).stdout)
        assert st["status"] == "running"
        assert st["pid"] == int(dk.inspect("web", "{{.State.Pid}}"))
        # The health check runs through `crt exec` every second.
        dk.wait_for("web healthy",
                    lambda: dk.inspect("web", "{{.State.Health.Status}}") == "healthy")
        log = json.loads(dk.inspect("web", "{{json .State.Health.Log}}"))
        assert log and log[-1]["ExitCode"] == 0, log

        # The published port: docker-proxy in dockerd's network namespace.
        assert dk("port", "web", "8080").stdout.strip() == f"127.0.0.1:{PORT}"
        r = dk.in_netns("busybox", "wget", "-qO-", f"http://127.0.0.1:{PORT}/")
        assert r.returncode == 0 and r.stdout == "hello from crt\n", r
        # And the container's own address on the bridge.
        ip = dk.inspect("web", "{{.NetworkSettings.IPAddress}}")
        r = dk.in_netns("busybox", "wget", "-qO-", f"http://{ip}:8080/")
        assert r.stdout == "hello from crt\n", r

        r = dk("logs", "web")
        assert r.stdout == "ready\n", r
    finally:
        dk("rm", "-f", "web")
    assert dk.crt("state", cid).returncode != 0
    assert not os.path.exists(dk.cgroup_dir(cid))
    # The volume outlives the container.
    r = dk.run("--rm", "-v", "crtvol:/data", IMAGE, "cat", "/data/index.html")
    assert r.returncode == 0 and r.stdout == "hello from crt\n", r
    assert dk("volume", "rm", "crtvol").returncode == 0


def test_exec_user_and_exit_codes(dk):
    start_service(dk, "ex", "--tmpfs", "/data")
    try:
        r = dk("exec", "ex", "sh", "-c", "id; cat /proc/1/cmdline | tr '\\0' ' '")
        assert r.returncode == 0, r
        assert r.stdout.startswith("uid=0(root) gid=0(root) groups=0(root)\nsh -c trap"), r
        r = dk("exec", "-u", "1001:1002", "ex", "id")
        assert r.returncode == 0 and r.stdout == "uid=1001 gid=1002 groups=1002\n", r
        # A name not in the image's /etc/passwd: dockerd refuses it.
        r = dk("exec", "-u", "nobody", "ex", "id")
        assert r.returncode == 126 and "unable to find user nobody" in r.stdout, r
        r = dk("exec", "-e", "X=from-exec", "-w", "/data", "ex", "sh", "-c", 'echo $X; pwd')
        assert r.stdout == "from-exec\n/data\n", r
        r = dk("exec", "ex", "sh", "-c", "exit 3")
        assert r.returncode == 3, r
        r = dk("exec", "ex", "/no/such/program")
        assert r.returncode in (126, 127), r
        assert "/no/such/program" in r.stdout + r.stderr, r
        # A detached exec leaves its process in the container.
        assert dk("exec", "-d", "ex", "sleep", "321").returncode == 0
        dk.wait_for("sleep 321 running",
                    lambda: "sleep 321" in dk("exec", "ex", "ps", "-o", "args").stdout)
        assert dk.inspect("ex", "{{.State.Status}}") == "running"
    finally:
        dk("rm", "-f", "ex")


def test_stop_trapping_pid1_exits_0(dk):
    cid = start_service(dk, "trap", "--tmpfs", "/data")
    try:
        t0 = time.monotonic()
        r = dk("stop", "-t", "20", "trap")
        took = time.monotonic() - t0
        assert r.returncode == 0, r
        # SIGTERM reached the trapping PID 1: it exited 0, no SIGKILL after 20s.
        assert took < 15, f"docker stop took {took:.1f}s"
        assert dk.inspect("trap", "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
        assert dk("logs", "trap").stdout == "ready\ngot-term\n"
        # Stopped: crt deleted it, its cgroup is gone.
        assert dk.crt("state", cid).returncode != 0
        assert not os.path.exists(dk.cgroup_dir(cid))
        # And it starts again (a new crt container with the same id).
        assert dk("start", "trap").returncode == 0
        dk.wait_for("trap ready again",
                    lambda: dk("logs", "trap").stdout.count("ready") == 2)
        assert json.loads(dk.crt("state", cid).stdout)["status"] == "running"
        r = dk("kill", "trap")
        assert r.returncode == 0, r
        assert dk("wait", "trap").stdout.strip() == "137"
    finally:
        dk("rm", "-f", "trap")


def test_pause_unpause_top(dk):
    cid = start_service(dk, "pz", "--tmpfs", "/data")
    events = os.path.join(dk.cgroup_dir(cid), "cgroup.events")
    try:
        r = dk("top", "pz")
        assert r.returncode == 0, r
        cmds = [line.split(None, 7)[-1] for line in r.stdout.splitlines()[1:]]
        assert cmds[0].startswith("sh -c trap"), r
        assert "httpd -p 8080 -h /data" in cmds, r
        pid1 = int(dk.inspect("pz", "{{.State.Pid}}"))
        assert int(r.stdout.splitlines()[1].split()[1]) == pid1, r

        assert dk("pause", "pz").returncode == 0
        assert dk.inspect("pz", "{{.State.Status}}") == "paused"
        assert json.loads(dk.crt("state", cid).stdout)["status"] == "paused"
        with open(events) as f:
            assert "frozen 1" in f.read()
        assert dk("unpause", "pz").returncode == 0
        assert dk.inspect("pz", "{{.State.Status}}") == "running"
        with open(events) as f:
            assert "frozen 0" in f.read()
        r = dk("exec", "pz", "echo", "thawed")
        assert r.stdout == "thawed\n", r
    finally:
        dk("rm", "-f", "pz")


@pytest.mark.parametrize("code", [0, 7, 130])
def test_run_rm_exit_code(dk, code):
    r = dk.run("--rm", IMAGE, "sh", "-c", f"echo out; echo err >&2; exit {code}")
    assert r.returncode == code, r
    assert r.stdout == "out\n" and r.stderr.endswith("err\n"), r


@pytest.mark.parametrize("program, code", [("/no/such/program", 127), ("/etc/passwd", 126)])
def test_run_rm_unrunnable_program(dk, program, code):
    # The docker CLI picks 127/126 from crt's error text (runc's, with
    # "no such file or directory" / "permission denied" in lower case).
    r = dk.run("--rm", IMAGE, program)
    assert r.returncode == code, r
    assert f'exec: "{program}"' in r.stderr, r


def test_restart_policy(dk):
    # dockerd restarts the container in place: crt deletes and creates the
    # same id again, each run's exit code reported.
    r = dk.run("-d", "--name", "rs", "--restart", "on-failure:2", IMAGE,
               "sh", "-c", "echo run; sleep 0.2; exit 3")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    try:
        dk.wait_for("rs restarted twice and exited", lambda: dk.inspect(
            "rs", "{{.RestartCount}} {{.State.Status}}") == "2 exited")
        assert dk.inspect("rs", "{{.State.ExitCode}}") == "3"
        assert dk("logs", "rs").stdout == "run\nrun\nrun\n"
        assert dk.crt("state", cid).returncode != 0
    finally:
        dk("rm", "-f", "rs")


def test_host_ptmx_device(dk):
    # --device /dev/ptmx (and --privileged, which lists every host device)
    # puts the host's 5:2 in linux.devices: /dev/ptmx stays the link to the
    # container's own devpts, and a terminal still works.
    r = dk.run("--rm", "--device", "/dev/ptmx", IMAGE, "readlink", "/dev/ptmx")
    assert r.returncode == 0 and r.stdout == "pts/ptmx\n", r
    r = in_pty(dk, [DOCKER, "run", "--pull", "never", "--rm", "-t", "--device", "/dev/ptmx",
                    IMAGE, "tty"])
    assert r.returncode == 0 and b"/dev/pts/0" in r.stdout, r


def test_privileged(dk):
    with open("/proc/sys/kernel/cap_last_cap") as f:
        every = (1 << (int(f.read()) + 1)) - 1
    with open("/proc/self/status") as f:
        bnd = int(next(line for line in f if line.startswith("CapBnd:")).split()[1], 16)
    if bnd != every:
        # --privileged asks for every capability; runc fails the same way.
        pytest.skip(f"this host's bounding set lacks capabilities (mask {every & ~bnd:#x}): "
                    "docker --privileged cannot work here with any runtime")
    r = dk.run("--rm", "--privileged", IMAGE, "sh", "-c",
               "readlink /dev/ptmx; grep CapEff /proc/self/status")
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[0] == "pts/ptmx", r
    assert int(r.stdout.split()[-1], 16) == every, r


def in_pty(dk, argv, stdin_text=b""):
    """ARGV under script(1), in a 24x80 terminal: docker -t wants one of
    its own, and passes its size on to the container's."""
    return subprocess.run(["script", "-qec", "stty rows 24 cols 80; " + shlex.join(argv), "/dev/null"], env=dk.env,
                          input=stdin_text, capture_output=True, timeout=TIMEOUT)


# docker 20.10 sets the terminal's size after the start (ResizePty on the
# master the shim got from crt): wait for it before printing it.
STTY_SIZE = ('for i in $(seq 100); do s=$(stty size 2>/dev/null); '
             'case "$s" in *[1-9]*) break;; esac; sleep 0.1; done; echo "$s"')


def test_run_terminal(dk):
    # -t: the shim passes --console-socket and receives the pty master.
    r = in_pty(dk, [DOCKER, "run", "--pull", "never", "--rm", "-t", IMAGE,
                    "sh", "-c", f"tty; {STTY_SIZE}; exit 5"])
    assert r.returncode == 5, r
    out = r.stdout.replace(b"\r", b"")
    # The shim resized the pty crt handed it through --console-socket.
    assert b"\n/dev/pts/0\n24 80\n" in out, r


def test_run_interactive_terminal(dk):
    r = in_pty(dk, [DOCKER, "run", "--pull", "never", "--rm", "-it", IMAGE,
                    "sh", "-c", "read line; echo got=$line; exit 6"], b"typed\n")
    assert r.returncode == 6, r
    assert b"got=typed" in r.stdout, r


def test_exec_terminal(dk):
    start_service(dk, "tt", "--tmpfs", "/data")
    try:
        r = in_pty(dk, [DOCKER, "exec", "-t", "tt", "sh", "-c", f"tty; {STTY_SIZE}; exit 4"])
        assert r.returncode == 4, r
        assert re.search(rb"/dev/pts/\d+\r*\n24 80\r*\n", r.stdout), r
    finally:
        dk("rm", "-f", "tt")
