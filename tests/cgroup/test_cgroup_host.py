"""cgroup v2 on the host (root). On these hybrid hosts the v2 tree
(/sys/fs/cgroup/unified) has only hugetlb, which is what these tests use
besides the core files (cgroup.procs, freeze, kill, events) and device
programs; memory, cpu and pids are proven in the VM (test_cgroup_vm.py).

Run: CRT_BINARY=/path/to/crt /usr/bin/python3 -m pytest -q tests/cgroup/test_cgroup_host.py
"""

import errno
import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cgutil  # noqa: E402
from cgutil import COUNTER, cgroup_dir, counter, procs, read, wait_for  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SLEEPER = ["sleep", "1000"]


@pytest.fixture
def crt(tmp_path):
    if not os.access(cgutil.CRT, os.X_OK):
        pytest.fail(f"no crt binary at {cgutil.CRT}: set CRT_BINARY")
    c = cgutil.Crt(str(tmp_path))
    yield c
    c.cleanup()


def has_controller(name):
    return name in read(cgutil.cgroup_mount() + "/cgroup.controllers").split()


def test_default_cgroup_path_and_removal(crt):
    cid = crt.run_detached(crt.bundle(SLEEPER))
    pid = crt.state(cid)["pid"]
    path = f"/crt/{cid}"
    assert os.path.isdir(cgroup_dir(path))
    assert procs(path) == [pid]
    assert f"0::{path}\n" in read(f"/proc/{pid}/cgroup")
    crt.cmd("delete", "--force", cid)
    assert not os.path.exists(cgroup_dir(path))


def test_init_sees_its_cgroup(crt):
    # Without a cgroup namespace the container sees its full path; with
    # one (the default config), it is the root of its view.
    cid = crt.new_id()
    r = crt.run_fg(crt.bundle(["cat", "/proc/self/cgroup"], cgroupns=False), cid)
    assert r.returncode == 0, r.stderr
    assert f"0::/crt/{cid}" in r.stdout.splitlines()
    r = crt.run_fg(crt.bundle(["cat", "/proc/self/cgroup"]))
    assert r.returncode == 0, r.stderr
    assert "0::/" in r.stdout.splitlines()


def test_absolute_and_relative_cgroups_path(crt):
    cid = crt.new_id()
    absolute = f"/crt-test-abs/{cid}"
    crt.cgroups += ["/crt-test-abs"]
    crt.run_detached(crt.bundle(SLEEPER, cgroups_path=absolute), cid)
    pid = crt.state(cid)["pid"]
    assert procs(absolute) == [pid]

    # Relative: under crt's own cgroup (the caller's, here the test's).
    own = [ln[3:] for ln in read("/proc/self/cgroup").splitlines() if ln.startswith("0::")][0]
    cid2 = crt.new_id()
    rel = f"crt-test-rel/{cid2}"
    full = (own.rstrip("/") + "/" + rel)
    crt.cgroups += [own.rstrip("/") + "/crt-test-rel"]
    crt.run_detached(crt.bundle(SLEEPER, cgroups_path=rel), cid2)
    assert procs(full) == [crt.state(cid2)["pid"]]

    crt.cmd("delete", "--force", cid)
    crt.cmd("delete", "--force", cid2)
    assert not os.path.exists(cgroup_dir(absolute))
    assert not os.path.exists(cgroup_dir(full))


def test_cgroups_path_with_dotdot_is_refused(crt):
    r = crt.run_fg(crt.bundle(["true"], cgroups_path="/a/../../b"))
    assert r.returncode != 0
    assert "must not contain .." in r.stderr


def test_pause_stops_counter_resume_continues(crt):
    cid = crt.run_detached(crt.bundle(COUNTER))
    pid = crt.state(cid)["pid"]
    assert wait_for(lambda: (counter(pid) or 0) > 3)
    crt.cmd("pause", cid)
    assert crt.state(cid)["status"] == "paused"
    assert "frozen 1" in read(cgroup_dir(f"/crt/{cid}") + "/cgroup.events")
    frozen_at = counter(pid)
    time.sleep(0.5)
    assert counter(pid) == frozen_at
    # Pausing twice or resuming a running container is an error, as in runc.
    r = crt.cmd("pause", cid, check=False)
    assert r.returncode == 1 and "not running" in r.stderr
    crt.cmd("resume", cid)
    assert crt.state(cid)["status"] == "running"
    assert wait_for(lambda: counter(pid) > frozen_at + 3)
    r = crt.cmd("resume", cid, check=False)
    assert r.returncode == 1 and "not paused" in r.stderr


def test_kill_all_leaves_nothing(crt):
    script = "for i in 1 2 3 4 5; do sleep 1000 & done; wait"
    cid = crt.run_detached(crt.bundle(["sh", "-c", script]))
    path = f"/crt/{cid}"
    assert wait_for(lambda: len(procs(path)) == 6)
    crt.cmd("kill", "--all", cid, "KILL")
    assert wait_for(lambda: procs(path) == [])
    assert wait_for(lambda: crt.state(cid)["status"] == "stopped")


def test_kill_all_other_signal_reaches_every_process(crt):
    # TERM to all goes through freeze + signal each + thaw. The init
    # survives it (a pid namespace's init ignores signals it has no
    # handler for); its children do not.
    script = "for i in 1 2 3; do sleep 1000 & done; wait; sleep 1000"
    cid = crt.run_detached(crt.bundle(["sh", "-c", script]))
    path = f"/crt/{cid}"
    init = crt.state(cid)["pid"]
    assert wait_for(lambda: len(procs(path)) == 4)
    children = [p for p in procs(path) if p != init]
    crt.cmd("kill", "--all", cid, "TERM")
    assert wait_for(lambda: not any(p in procs(path) for p in children))
    assert "frozen 0" in read(cgroup_dir(path) + "/cgroup.events")


def test_delete_force_many_processes(crt):
    script = "for i in $(seq 1 60); do (while :; do sleep 1; done) & done; wait"
    cid = crt.run_detached(crt.bundle(["sh", "-c", script]))
    path = f"/crt/{cid}"
    assert wait_for(lambda: len(procs(path)) >= 61)
    pids = procs(path)
    crt.cmd("delete", "--force", cid)
    assert not os.path.exists(cgroup_dir(path))
    alive = [p for p in pids if os.path.exists(f"/proc/{p}")
             and read(f"/proc/{p}/stat").split(") ")[1][0] != "Z"]
    assert alive == []


@pytest.mark.skipif(not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"),
                    reason="no 2MB huge pages")
def test_hugetlb_limit(crt):
    if not has_controller("hugetlb"):
        pytest.skip("no hugetlb controller in the v2 tree")
    res = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 2 ** 20}]}
    cid = crt.run_detached(crt.bundle(SLEEPER, resources=res))
    d = cgroup_dir(f"/crt/{cid}")
    assert read(d + "/hugetlb.2MB.max").strip() == str(4 * 2 ** 20)
    # update changes it live.
    crt.cmd("update", "--resources", "-", cid,
            input=json.dumps({"hugepageLimits": [{"pageSize": "2MB", "limit": 8 * 2 ** 20}]}))
    assert read(d + "/hugetlb.2MB.max").strip() == str(8 * 2 ** 20)
    stats = json.loads(crt.cmd("events", "--stats", cid).stdout)
    assert stats["type"] == "stats" and stats["id"] == cid
    assert "2MB" in stats["data"]["hugetlb"]


def test_bad_hugepage_size(crt):
    if not has_controller("hugetlb"):
        pytest.skip("no hugetlb controller in the v2 tree")
    res = {"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}
    r = crt.run_fg(crt.bundle(["true"], resources=res))
    assert r.returncode != 0 and "3MB" in r.stderr


def test_missing_controller_fails_clearly_and_leaves_nothing(crt):
    if has_controller("memory"):
        pytest.skip("the v2 tree has the memory controller here")
    cid = crt.new_id()
    before = set(os.listdir(cgroup_dir("/crt"))) if os.path.isdir(cgroup_dir("/crt")) else set()
    r = crt.run_fg(crt.bundle(["true"], resources={"memory": {"limit": 64 * 2 ** 20}}), cid)
    assert r.returncode == 1
    assert (f'cgroup controller "memory" is not available in the cgroup v2 hierarchy at '
            f'{cgutil.cgroup_mount()}') in r.stderr
    assert "cgroup v1" in r.stderr
    assert not os.path.exists(cgroup_dir(f"/crt/{cid}"))
    assert not os.path.exists(os.path.join(crt.root, cid))
    after = set(os.listdir(cgroup_dir("/crt"))) if os.path.isdir(cgroup_dir("/crt")) else set()
    assert after <= before


def test_update_needing_missing_controller_fails(crt):
    if has_controller("memory"):
        pytest.skip("the v2 tree has the memory controller here")
    cid = crt.run_detached(crt.bundle(SLEEPER))
    r = crt.cmd("update", "--memory", "64m", cid, check=False)
    assert r.returncode == 1 and '"memory" is not available' in r.stderr


def test_unrepresentable_resources_are_refused(crt):
    for res, word in (({"network": {"classID": 7}}, "net_cls"),
                      ({"cpu": {"realtimeRuntime": 1000}}, "real-time"),
                      ({"blockIO": {"leafWeight": 100}}, "leafWeight"),
                      ({"unified": {"../x": "1"}}, "bad key"),
                      ({"unified": {"memory.max": "1"}}, '"memory"')):
        if word == '"memory"' and has_controller("memory"):
            continue
        r = crt.run_fg(crt.bundle(["true"], resources=res))
        assert r.returncode == 1 and word in r.stderr, (res, r.stderr)


def test_unified_writes_core_file(crt):
    cid = crt.run_detached(crt.bundle(SLEEPER, resources={"unified": {
        "cgroup.max.descendants": "3"}}))
    assert read(cgroup_dir(f"/crt/{cid}") + "/cgroup.max.descendants").strip() == "3"


DEVICES = [
    {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666},
    {"path": "/dev/mem2", "type": "c", "major": 1, "minor": 1, "fileMode": 0o600},
]
PROBE = ("echo x > /dev/null && echo null=ok; "
         "true < /dev/fuse 2>/dev/null; echo fuse_r=$?; "
         "true > /dev/fuse 2>/dev/null; echo fuse_w=$?; "
         "true <> /dev/fuse 2>/dev/null; echo fuse_rw=$?; "
         "head -c1 /dev/mem2 >/dev/null 2>&1; echo mem=$?; "
         "mknod /tmp/n c 1 3 && echo mknod=ok")


def add_mknod(config):
    for kind in ("bounding", "effective", "permitted"):
        config["process"]["capabilities"][kind].append("CAP_MKNOD")


def probe(crt, rules):
    r = crt.run_fg(crt.bundle(["sh", "-c", PROBE], devices=DEVICES,
                              resources={"devices": rules}, mutate=add_mknod))
    assert r.returncode == 0, r.stderr
    return dict(ln.split("=", 1) for ln in r.stdout.split())


def test_device_program_denies_and_allows(crt):
    deny_all = {"allow": False, "access": "rwm"}
    # Deny all: the default devices still work, others fail.
    out = probe(crt, [deny_all])
    assert out == {"null": "ok", "fuse_r": "1", "fuse_w": "1", "fuse_rw": "1", "mem": "1",
                   "mknod": "ok"}
    # Allow fuse rw, then take w away again: the last rule wins per access.
    out = probe(crt, [deny_all,
                      {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"},
                      {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "w"}])
    assert (out["fuse_r"], out["fuse_w"], out["fuse_rw"], out["mem"]) == ("0", "1", "1", "1")
    # Wildcard minor for major 10.
    out = probe(crt, [deny_all, {"allow": True, "type": "c", "major": 10, "access": "rw"}])
    assert (out["fuse_r"], out["fuse_w"], out["fuse_rw"]) == ("0", "0", "0")


def test_device_denial_is_eperm(crt):
    rules = [{"allow": False, "access": "rwm"}]
    script = "cat /dev/mem2 2>&1; true"
    r = crt.run_fg(crt.bundle(["sh", "-c", script], devices=DEVICES,
                              resources={"devices": rules}))
    assert os.strerror(errno.EPERM) in r.stdout, r.stdout


def test_update_replaces_device_program(crt):
    allow_fuse = [{"allow": False, "access": "rwm"},
                  {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"}]
    cid = crt.run_detached(crt.bundle(SLEEPER, devices=DEVICES,
                                      resources={"devices": allow_fuse}))
    pid = crt.state(cid)["pid"]

    # A helper that joins the container's cgroup (where the program
    # applies) and its mount namespace (where /dev/fuse is).
    def in_cgroup_write():
        script = (f"echo $$ > {cgroup_dir('/crt/' + cid)}/cgroup.procs && "
                  f"exec nsenter -t {pid} -m sh -c 'true > /dev/fuse'")
        return subprocess.run(["sh", "-c", script], capture_output=True).returncode

    assert in_cgroup_write() == 0
    crt.cmd("update", "-r", "-", cid, input=json.dumps({"devices": [{"allow": False,
                                                                       "access": "rwm"}]}))
    assert in_cgroup_write() != 0
    deny_all = [{"allow": False, "access": "rwm"}]
    assert stored_resources(crt, cid)["devices"] == deny_all
    # An update without device rules keeps the program.
    crt.cmd("update", "-r", "-", cid, input="{}")
    assert in_cgroup_write() != 0
    assert stored_resources(crt, cid)["devices"] == deny_all


def test_ps(crt):
    cid = crt.run_detached(crt.bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"]))
    path = f"/crt/{cid}"
    assert wait_for(lambda: len(procs(path)) == 3)
    pids = json.loads(crt.cmd("ps", "--format", "json", cid).stdout)
    assert sorted(pids) == sorted(procs(path))
    table = crt.cmd("ps", cid).stdout.splitlines()
    assert table[0].split()[1] == "PID"
    assert sorted(int(ln.split()[1]) for ln in table[1:]) == sorted(pids)
    table = crt.cmd("ps", cid, "--", "-o", "pid,comm").stdout.splitlines()
    assert table[0].split() == ["PID", "COMMAND"]
    assert sorted(ln.split()[1] for ln in table[1:]) == ["sh", "sleep", "sleep"]


def test_events_stream_and_stop(crt):
    cid = crt.run_detached(crt.bundle(["sleep", "1.5"]))
    r = crt.cmd("events", "--interval", "300ms", cid, timeout=20)
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(lines) >= 2
    assert all(e["type"] == "stats" and e["id"] == cid for e in lines)
    assert "usage" in lines[0]["data"]["cpu"]


def test_commands_need_a_container(crt):
    for args in (["pause", "nope"], ["resume", "nope"], ["ps", "nope"], ["update", "nope"],
                 ["events", "--stats", "nope"]):
        r = crt.cmd(*args, check=False)
        assert r.returncode == 1 and "does not exist" in r.stderr, (args, r.stderr)


def test_update_flag_validation(crt):
    cid = crt.run_detached(crt.bundle(SLEEPER))
    r = crt.cmd("update", "--memory", "12q", cid, check=False)
    assert r.returncode == 1 and "invalid size" in r.stderr
    r = crt.cmd("update", "--blkio-weight", "70000", cid, check=False)
    assert r.returncode == 1 and "invalid number" in r.stderr


def own_cgroup_lines(text):
    return [ln for ln in text.splitlines() if ln.startswith("0::")]


def test_exec_joins_container_cgroup_or_sub_cgroup(crt):
    cid = crt.run_detached(crt.bundle(SLEEPER, cgroupns=False), crt.new_id("cg2"))
    path = f"/crt/{cid}"
    r = crt.cmd("exec", cid, "cat", "/proc/self/cgroup")
    assert own_cgroup_lines(r.stdout) == [f"0::{path}"]

    os.mkdir(cgroup_dir(path + "/sub"))
    r = crt.cmd("exec", "--cgroup", "sub", cid, "sh", "-c", "cat /proc/self/cgroup")
    assert own_cgroup_lines(r.stdout) == [f"0::{path}/sub"]

    # While it runs, the exec'd process is in ps (it lists the whole subtree).
    p = subprocess.Popen([cgutil.CRT, "--root", crt.root, "exec", "--cgroup", "sub", cid,
                          "sleep", "1000"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        # The child is born in the cgroup and is crt until it execs:
        # wait for the exec, not only for the pid.
        def execd_sleep():
            pids = procs(path + "/sub") if os.path.exists(cgroup_dir(path + "/sub")) else []
            try:
                return len(pids) == 1 and read(f"/proc/{pids[0]}/comm").strip() == "sleep"
            except OSError:
                return False
        assert wait_for(execd_sleep)
        execd = procs(path + "/sub")[0]
        listed = json.loads(crt.cmd("ps", "--format", "json", cid).stdout)
        assert sorted(listed) == sorted([crt.state(cid)["pid"], execd])
    finally:
        p.kill()
        p.wait()

    for bad in ("../x", "/crt", "sub/../../x"):
        r = crt.cmd("exec", "--cgroup", bad, cid, "true", check=False)
        assert r.returncode != 0 and "must be a relative path without .." in r.stderr, (bad,
                                                                                        r.stderr)
    r = crt.cmd("exec", "--cgroup", "missing", cid, "true", check=False)
    assert r.returncode != 0
    assert f"open cgroup `{path}/missing`: No such file or directory" in r.stderr, r.stderr

    # delete removes the container's cgroup with the sub-cgroup in it.
    crt.cmd("delete", "--force", cid)
    assert not os.path.exists(cgroup_dir(path))


def stored_resources(crt, cid):
    with open(os.path.join(crt.root, cid, "config.json")) as f:
        return json.load(f)["linux"]["resources"]


def test_update_is_recorded_in_stored_config(crt):
    if not has_controller("hugetlb"):
        pytest.skip("no hugetlb controller in the v2 tree")
    res = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 2 ** 20}]}
    cid = crt.run_detached(crt.bundle(SLEEPER, resources=res), crt.new_id("cg2"))
    d = cgroup_dir(f"/crt/{cid}")
    page_sizes = sorted(f.split(".")[1] for f in os.listdir(d)
                        if f.startswith("hugetlb.") and f.endswith(".max")
                        and not f.endswith(".rsvd.max"))
    assert "2MB" in page_sizes

    def update(resources, check=True):
        return crt.cmd("update", "-r", "-", cid, input=json.dumps(resources), check=check)

    # One page size: the entry is replaced, not duplicated.
    update({"hugepageLimits": [{"pageSize": "2MB", "limit": 8 * 2 ** 20}]})
    assert read(d + "/hugetlb.2MB.max").strip() == str(8 * 2 ** 20)
    assert stored_resources(crt, cid)["hugepageLimits"] == [{"pageSize": "2MB",
                                                              "limit": 8 * 2 ** 20}]
    # Another resource: the first one stays in the record.
    # (An empty device list keeps the rules: it is not recorded either.)
    update({"unified": {"cgroup.max.descendants": "7"}, "devices": []})
    assert read(d + "/cgroup.max.descendants").strip() == "7"
    stored = stored_resources(crt, cid)
    assert stored == {"hugepageLimits": [{"pageSize": "2MB", "limit": 8 * 2 ** 20}],
                      "unified": {"cgroup.max.descendants": "7"}}

    # A second page size where the kernel has one: both are recorded.
    other = [s for s in page_sizes if s != "2MB"]
    if other:
        update({"hugepageLimits": [{"pageSize": other[0], "limit": 0}]})
        assert read(d + f"/hugetlb.{other[0]}.max").strip() == "0"
        assert stored_resources(crt, cid)["hugepageLimits"] == [
            {"pageSize": "2MB", "limit": 8 * 2 ** 20}, {"pageSize": other[0], "limit": 0}]
    # A refused update is not recorded (the bad entry comes first, so
    # nothing was written: updates apply in order and are not undone).
    before = stored_resources(crt, cid)
    r = update({"hugepageLimits": [{"pageSize": "3MB", "limit": 1},
                                   {"pageSize": "2MB", "limit": 2 * 2 ** 20}]}, check=False)
    assert r.returncode == 1 and "3MB" in r.stderr
    assert stored_resources(crt, cid) == before
    assert read(d + "/hugetlb.2MB.max").strip() == str(8 * 2 ** 20)
    # The record stays a config later commands read: exec still works.
    assert crt.cmd("exec", cid, "true").returncode == 0
    assert not [f for f in os.listdir(os.path.join(crt.root, cid)) if "update" in f]


def test_no_pids_limit_needs_no_pids_controller(crt):
    """pids.limit -1 ("no limit", runtime-spec 1.3): on this host, where
    pids is a v1 controller, that must not fail. 0 is a limit like 10
    (1.3: "0 is a valid limit value"), so it needs the controller."""
    if has_controller("pids"):
        pytest.skip("the pids controller is in the v2 tree here: nothing to prove")
    r = crt.run_fg(crt.bundle(["true"], resources={"pids": {"limit": -1}}), crt.new_id())
    assert r.returncode == 0, r
    for limit in (0, 10):
        r = crt.run_fg(crt.bundle(["true"], resources={"pids": {"limit": limit}}), crt.new_id())
        assert r.returncode == 1 and 'cgroup controller "pids"' in r.stderr, r
