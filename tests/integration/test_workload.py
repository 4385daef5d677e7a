"""The typical workload end to end: a web API as PID 1, running as uid
1001 in its working directory with its environment, started through an
entrypoint script that ends in `exec "$@"`, a data volume, a health check
run with `crt exec`, logs on stdout, graceful shutdown on SIGTERM (the
engine) and SIGINT (Ctrl-C), and a missing variable's exit code passed
through `crt run`."""

import os
import shutil
import signal
import subprocess

import pytest

from conftest import APP_GID, APP_UID, read_line

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workload")
PYTHON = "/usr/bin/python3"


@pytest.fixture
def netns():
    if shutil.which("ip") is None:
        pytest.skip("ip (iproute2) not installed")
    name = f"crt-api-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield f"/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


@pytest.fixture
def api_bundle(bundle, test_dirs, netns):
    if not os.path.exists(PYTHON):
        pytest.skip("the host has no /usr/bin/python3 to bind into the container")
    root = bundle.rootfs
    # The host's /usr (read-only) gives the container a Python; /lib and
    # /lib64 are symlinks into it, as on the host (merged /usr).
    for d in ("usr", "app"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if not os.path.lexists(os.path.join(root, link)):
            os.symlink(target, os.path.join(root, link))
    shutil.copy(os.path.join(HERE, "app.py"), os.path.join(root, "app", "app.py"))
    shutil.copy(os.path.join(HERE, "entrypoint.sh"), os.path.join(root, "entrypoint.sh"))
    data = os.path.join(test_dirs.tmp, "data")
    os.makedirs(data)
    os.chown(data, APP_UID, APP_GID)

    c = bundle.config
    c["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                        "options": ["rbind", "ro", "nosuid", "nodev"]})
    c["mounts"].append({"destination": "/data", "type": "bind", "source": data,
                        "options": ["bind", "rw", "nosuid", "nodev"]})
    c["process"]["args"] = ["/entrypoint.sh", PYTHON, "-u", "app.py"]
    c["process"]["user"] = {"uid": APP_UID, "gid": APP_GID}
    c["process"]["cwd"] = "/app"
    c["process"]["env"] = ["PATH=/usr/local/bin:/usr/bin:/bin", "APP_GREETING=hello from crt",
                           "APP_DATA=/data"]
    # As with an engine: the network namespace is prepared beforehand (CNI
    # brings lo up) and the runtime joins it by path.
    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
    c["linux"]["namespaces"].append({"type": "network", "path": netns})
    bundle.save()
    bundle.data = data
    return bundle


def wait_listening(proc):
    lines = []
    while True:
        line = read_line(proc, timeout=20)
        lines.append(line)
        if "app: listening" in line or not line:
            return lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_api_runs_and_shuts_down_gracefully(crt, api_bundle, sig):
    p = crt.popen("run", "--bundle", api_bundle.path, "api")
    try:
        lines = wait_listening(p)
        assert f"entrypoint: starting {PYTHON} as {APP_UID}\n" in lines, lines
        assert any(f"listening as uid {APP_UID} pid 1 in /app" in l for l in lines), lines

        # The health check an engine runs with exec.
        r = crt("exec", "api", "wget", "-qO-", "http://127.0.0.1:8080/health")
        assert r.returncode == 0 and r.stdout == "ok\n", r
        r = crt("exec", "api", "wget", "-qO-", "http://127.0.0.1:8080/")
        assert r.stdout == "hello from crt\n", r
        # exec "$@" made the app PID 1 (no shell left in between).
        r = crt("exec", "api", "cat", "/proc/1/cmdline")
        assert r.stdout.split("\0")[:3] == [PYTHON, "-u", "app.py"], r

        p.send_signal(sig)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, (out, err)
    assert f"graceful shutdown on signal {int(sig)}" in out.decode(), out
    with open(os.path.join(api_bundle.data, "started")) as f:
        assert f.read() == f"pid=1 uid={APP_UID} cwd=/app\n"
    st = os.stat(os.path.join(api_bundle.data, "started"))
    assert (st.st_uid, st.st_gid) == (APP_UID, APP_GID)


def test_missing_variable_exit_code_passes_through(crt, api_bundle):
    api_bundle.config["process"]["env"] = ["PATH=/usr/bin:/bin"]
    api_bundle.save()
    r = crt("run", "--bundle", api_bundle.path, "api")
    assert r.returncode == 3, r
    assert "APP_GREETING is not set" in r.stderr, r
