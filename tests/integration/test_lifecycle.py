"""create / start / state / delete / list: the states a user observes."""

import datetime
import json
import os
import re
import shutil
import stat
import subprocess

from conftest import pid_alive, wait_for

# Signals "started" by creating /started in its rootfs, then waits for the
# test to create /stop (from the host, in the bundle's rootfs).
WAIT_FOR_STOP = ["sh", "-c", "touch /started; while [ ! -e /stop ]; do sleep 0.05; done"]


def parse_rfc3339(s):
    # 2024-01-02T03:04:05.123456789Z -> datetime (Python parses at most µs).
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", s)
    assert m, f"created is not RFC 3339: {s!r}"
    frac = (m.group(2) or ".0")[:7]
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(m.group(1) + frac + tz)


def test_states_in_order(crt, bundle):
    bundle.config["process"]["args"] = WAIT_FOR_STOP
    bundle.save()
    started = bundle.in_rootfs("/started")

    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    st = crt.state("c1")
    assert st["status"] == "created"
    assert st["pid"] > 0
    assert pid_alive(st["pid"]), "the init of a created container must exist"
    assert not os.path.exists(started), "user program ran before start"

    r = crt("start", "c1")
    assert r.returncode == 0, r
    wait_for(lambda: os.path.exists(started), what="the program to start")
    st = crt.state("c1")
    assert st["status"] == "running"
    pid = st["pid"]

    open(bundle.in_rootfs("/stop"), "w").close()
    wait_for(lambda: not pid_alive(pid), what="the program to exit")
    crt.wait_status("c1", "stopped")

    r = crt("delete", "c1")
    assert r.returncode == 0, r
    r = crt("state", "c1")
    assert r.returncode != 0
    assert "does not exist" in r.stderr, r
    assert not os.path.exists(os.path.join(crt.root, "c1"))


def test_default_cgroup_is_removed(crt, bundle, test_dirs):
    # Without linux.cgroupsPath the container gets crt's default cgroup;
    # delete removes it again (the fixture checks the registered path).
    del bundle.config["linux"]["cgroupsPath"]
    bundle.save()
    cid = f"cg-{test_dirs.token}"
    test_dirs.cgroup_paths.add(f"/crt/{cid}")
    assert crt("create", "--bundle", bundle.path, cid).returncode == 0
    pid = crt.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert any(line.endswith(f"/{cid}") for line in lines), lines
    assert crt("delete", cid).returncode == 0


def test_cgroups_path_is_used_and_removed(crt, bundle):
    cg = bundle.config["linux"]["cgroupsPath"]
    assert crt("create", "--bundle", bundle.path, "c1").returncode == 0
    pid = crt.state("c1")["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert any(line.endswith(":" + cg) for line in lines), lines
    assert crt("delete", "c1").returncode == 0


def test_created_init_is_pid1_of_new_pid_namespace(crt, bundle):
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    pid = crt.state("c1")["pid"]
    with open(f"/proc/{pid}/status") as f:
        nspid = [line.split()[1:] for line in f if line.startswith("NSpid:")][0]
    assert nspid[-1] == "1", f"NSpid of the init: {nspid}"
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    assert crt("delete", "c1").returncode == 0


def test_state_fields(crt, bundle):
    bundle.config["annotations"] = {"org.example.a": "1", "com.example/b": "two words"}
    bundle.save()
    before = datetime.datetime.now(datetime.timezone.utc)
    r = crt("create", "--bundle", bundle.path, "state-test")
    assert r.returncode == 0, r
    after = datetime.datetime.now(datetime.timezone.utc)
    st = crt.state("state-test")
    assert st["ociVersion"] == "1.2.0"
    assert st["id"] == "state-test"
    assert st["status"] == "created"
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert st["bundle"] == os.path.realpath(bundle.path)
    assert st["rootfs"] == os.path.realpath(bundle.rootfs)
    created = parse_rfc3339(st["created"])
    slack = datetime.timedelta(seconds=1)
    assert before - slack <= created <= after + slack, st["created"]
    assert st["owner"] in ("", "root")
    assert st["annotations"] == {"org.example.a": "1", "com.example/b": "two words"}
    assert crt("delete", "state-test").returncode == 0


def test_bundle_relative_path_is_recorded_absolute(crt, bundle):
    rel = os.path.relpath(bundle.path, os.getcwd())
    r = crt("create", "--bundle", rel, "c1")
    assert r.returncode == 0, r
    assert crt.state("c1")["bundle"] == os.path.realpath(bundle.path)
    assert crt("delete", "c1").returncode == 0


def test_create_defaults_to_cwd_bundle(crt, bundle):
    cwd = os.getcwd()
    os.chdir(bundle.path)
    try:
        r = crt("create", "c1")
    finally:
        os.chdir(cwd)
    assert r.returncode == 0, r
    assert crt.state("c1")["bundle"] == os.path.realpath(bundle.path)
    assert crt("delete", "c1").returncode == 0


def test_pid_file(crt, bundle):
    pidfile = os.path.join(crt.tmp, "init.pid")
    r = crt("create", "--bundle", bundle.path, "--pid-file", pidfile, "c1")
    assert r.returncode == 0, r
    with open(pidfile) as f:
        text = f.read()
    assert text.strip() == str(crt.state("c1")["pid"])
    assert crt("delete", "c1").returncode == 0


def test_delete_created_container_kills_its_init(crt, bundle):
    # --force: plain `delete` of a created container is where runc (deletes
    # it) and the runtime-spec (MUST fail: not stopped) disagree.
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    pid = crt.state("c1")["pid"]
    r = crt("delete", "--force", "c1")
    assert r.returncode == 0, r
    wait_for(lambda: not pid_alive(pid), what="the init of the deleted container to die")
    assert crt("state", "c1").returncode != 0


def test_delete_running_container_refused_without_force(crt, bundle):
    bundle.config["process"]["args"] = WAIT_FOR_STOP
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "c1").returncode == 0
    r = crt("delete", "c1")
    assert r.returncode != 0
    assert "running" in r.stderr, r
    assert crt.status("c1") == "running"
    assert crt("delete", "--force", "c1").returncode == 0


def test_delete_force_running(crt, bundle):
    bundle.config["process"]["args"] = WAIT_FOR_STOP
    bundle.save()
    r = crt("run", "-d", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    wait_for(lambda: os.path.exists(bundle.in_rootfs("/started")), what="start")
    st = crt.state("c1")
    assert st["status"] == "running"
    r = crt("delete", "--force", "c1")
    assert r.returncode == 0, r
    assert not pid_alive(st["pid"])
    r = crt("state", "c1")
    assert r.returncode != 0 and "does not exist" in r.stderr


def test_delete_nonexistent(crt):
    r = crt("delete", "nosuch")
    assert r.returncode != 0
    assert "does not exist" in r.stderr, r


def test_delete_force_nonexistent_is_ok(crt):
    # runc: --force on a missing container is not an error.
    r = crt("delete", "--force", "nosuch")
    assert r.returncode == 0, r


def test_run_detached_then_stopped(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "exit 0"]
    bundle.save()
    r = crt("run", "--detach", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    crt.wait_status("c1", "stopped")
    assert crt.state("c1")["pid"] == 0
    assert crt("delete", "c1").returncode == 0


def test_run_foreground_removes_container(crt, bundle):
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert crt("state", "c1").returncode != 0
    assert crt.state_entries() == []


def test_list(crt, bundle_factory):
    b1, b2 = bundle_factory(WAIT_FOR_STOP), bundle_factory()
    assert crt("create", "--bundle", b1.path, "beta").returncode == 0
    assert crt("start", "beta").returncode == 0
    assert crt("create", "--bundle", b2.path, "alpha").returncode == 0

    r = crt("list", "-q")
    assert r.returncode == 0, r
    assert r.stdout.split() == ["alpha", "beta"]

    r = crt("list", "--format", "json")
    assert r.returncode == 0, r
    entries = {e["id"]: e for e in json.loads(r.stdout)}
    assert set(entries) == {"alpha", "beta"}
    assert entries["alpha"]["status"] == "created"
    assert entries["beta"]["status"] == "running"
    assert entries["beta"]["bundle"] == os.path.realpath(b1.path)
    assert entries["beta"]["pid"] == crt.state("beta")["pid"]

    r = crt("list")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "PID", "STATUS"], r
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["alpha"][2] == "created" and rows["beta"][2] == "running"

    assert crt("delete", "--force", "beta").returncode == 0
    assert crt("delete", "alpha").returncode == 0
    r = crt("list", "-q")
    assert r.returncode == 0 and r.stdout.strip() == ""


def test_list_owner_is_the_state_dirs_user(crt, bundle):
    """`list` names the owner of each state dir as runc does: the user
    name, or #UID when there is none (a static crt reads /etc/passwd
    itself, without NSS: the same answers for these)."""
    bundle.config["process"]["args"] = ["sleep", "60"]
    bundle.save()
    assert crt("create", "--bundle", bundle.path, "own").returncode == 0
    d = os.path.join(crt.root, "own")

    def owner():
        r = crt("list", "--format", "json")
        assert r.returncode == 0, r
        return [c["owner"] for c in json.loads(r.stdout) if c["id"] == "own"]

    try:
        assert owner() == ["root"]
        os.chown(d, 65534, -1)
        assert owner() == ["nobody"]
        os.chown(d, 54321, -1)
        assert owner() == ["#54321"]
    finally:
        os.chown(d, 0, -1)
        crt("delete", "--force", "own")


def test_list_empty_json(crt):
    r = crt("list", "--format", "json")
    assert r.returncode == 0, r
    assert json.loads(r.stdout or "null") in ([], None)


def test_list_missing_root_is_empty(crt):
    os.rmdir(crt.root)
    try:
        r = crt("list", "-q")
        assert r.returncode == 0, r
        assert r.stdout.strip() == ""
    finally:
        os.makedirs(crt.root, exist_ok=True)


def test_missing_state_root_is_made_with_its_parents(crt, bundle):
    """The state dir is made first (the root is nearly always there);
    when that says the root is missing, the root is made, each new level
    0700, and a root under a file is an error naming the path."""
    top = os.path.join(crt.tmp, "newroot")
    root = os.path.join(top, "a", "b")
    r = subprocess.run([crt.binary, "--root", root, "run", "--bundle", bundle.path, "c1"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    for d in (top, os.path.join(top, "a"), root):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700, d
    assert [e for e in os.listdir(root) if not e.startswith(".")] == []
    blocker = os.path.join(crt.tmp, "a-file")
    open(blocker, "w").close()
    r = subprocess.run([crt.binary, "--root", os.path.join(blocker, "x"), "run", "--bundle",
                        bundle.path, "c2"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "Not a directory" in r.stderr and blocker in r.stderr, r.stderr
    shutil.rmtree(top)


def test_state_nonexistent(crt):
    r = crt("state", "nosuch")
    assert r.returncode != 0
    assert "does not exist" in r.stderr, r
    assert r.stdout == ""
