"""crt run by an unprivileged user (rootless), on this host.

A session fixture creates a real user (useradd, which also gives it
/etc/subuid and /etc/subgid ranges) and a runtime directory of its own;
crt runs as that user through setpriv, with its config from
`crt spec --rootless`. Everything (user, sub-id lines, dirs, cgroups) is
removed afterwards.
"""

import json
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import CRT, Crt, wait_for

SETPRIV = shutil.which("setpriv")
NEWUIDMAP = shutil.which("newuidmap")
UNIFIED = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"


def _sub_range(path, name):
    with open(path) as f:
        for line in f:
            fields = line.strip().split(":")
            if len(fields) == 3 and fields[0] == name:
                return int(fields[1]), int(fields[2])
    return None


class RootlessUser:
    def __init__(self, name):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, pw.pw_uid, pw.pw_gid
        self.subuid = _sub_range("/etc/subuid", name)
        self.subgid = _sub_range("/etc/subgid", name)
        self.home = tempfile.mkdtemp(prefix="crt-rootless-")
        os.chmod(self.home, 0o755)
        self.runtime_dir = os.path.join(self.home, "xdg")
        os.mkdir(self.runtime_dir, 0o700)
        os.chown(self.runtime_dir, self.uid, self.gid)

    def env(self, **extra):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": self.runtime_dir,
               "USER": self.name, "HOME": self.home}
        env.update(extra)
        return env

    def prefix(self):
        return [SETPRIV, f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups"]

    def run(self, argv, **kw):
        kw.setdefault("env", self.env())
        return subprocess.run(self.prefix() + list(argv), capture_output=True, text=True,
                              timeout=30, **kw)


@pytest.fixture(scope="session")
def rootless_user():
    if os.geteuid() != 0 or SETPRIV is None or shutil.which("useradd") is None:
        pytest.skip("needs root, setpriv and useradd to make a test user")
    name = "crtrl" + uuid.uuid4().hex[:8]
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    user = None
    try:
        user = RootlessUser(name)
        probe = user.run(["unshare", "--user", "true"])
        if probe.returncode != 0:
            pytest.skip(f"unprivileged user namespaces are not allowed here: {probe.stderr}")
        yield user
    finally:
        # userdel also drops the user's /etc/subuid and /etc/subgid lines.
        subprocess.run(["userdel", name], capture_output=True)
        if user is not None:
            shutil.rmtree(user.home, ignore_errors=True)
    with open("/etc/subuid") as f:
        assert name not in f.read()


class RootlessCrt(Crt):
    """crt as the test user, with its own --root (owned by the user)."""

    def __init__(self, binary, user, tmp, global_args=()):
        self.user = user
        self.extra = list(global_args)
        root = os.path.join(user.runtime_dir, "crt-" + uuid.uuid4().hex[:6])
        super().__init__(binary, root, tmp)

    def argv(self, args, global_args=()):
        env = [f"XDG_RUNTIME_DIR={self.user.runtime_dir}", f"USER={self.user.name}"]
        # ASan session: a rootless `exec` joins the container's user and pid
        # namespaces and exits from there; LeakSanitizer's exit-time tracer
        # cannot ptrace it from there and spins for ever (seen: a hang in
        # __lsan::LockStuffAndStopTheWorld). ASan and UBSan stay on for it;
        # only its leak check is off (the root exec's is on).
        if args and args[0] == "exec" and "ASAN_OPTIONS" in os.environ:
            env.append(f"ASAN_OPTIONS={os.environ['ASAN_OPTIONS']}:detect_leaks=0")
        return (self.user.prefix() + ["env", *env, self.binary, "--root", self.root]
                + self.extra + list(global_args) + list(args))


@pytest.fixture
def rcrt(crt_path, rootless_user, test_dirs, _leak_check):
    c = RootlessCrt(crt_path, rootless_user, test_dirs.tmp)
    # The leak check looks for state under test_dirs.root: make it that.
    test_dirs.root = c.root
    _leak_check.crt = c
    os.chmod(test_dirs.tmp, 0o777)
    return c


def rootless_bundle(bundle_factory, u, args, **process):
    """A bundle whose config is what `crt spec --rootless` writes as the
    user (its uid mapped to root), running args without a terminal."""
    b = bundle_factory(args)
    spec_dir = tempfile.mkdtemp(dir=os.path.dirname(b.path))
    os.chown(spec_dir, u.uid, u.gid)
    r = u.run([CRT, "spec", "--rootless", "--bundle", spec_dir])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(spec_dir, "config.json")) as f:
        config = json.load(f)
    shutil.rmtree(spec_dir)
    config["process"]["terminal"] = False
    config["process"]["args"] = list(args)
    config["process"].update(process)
    config["linux"]["cgroupsPath"] = b.config["linux"]["cgroupsPath"]
    b.config = config
    b.save()
    os.chmod(b.config_path, 0o644)
    return b


# --------------------------------------------------------------------------
# detection and the state root
# --------------------------------------------------------------------------

def test_default_root_for_a_user(crt_path, rootless_user):
    u = rootless_user
    r = u.run([crt_path, "--debug", "list"])
    assert r.returncode == 0, r.stderr
    assert f"root {u.runtime_dir}/crt" in r.stderr
    env = u.env()
    del env["XDG_RUNTIME_DIR"]
    r = u.run([crt_path, "--debug", "list"], env=env)
    assert f"root /run/user/{u.uid}/crt" in r.stderr
    r = u.run([crt_path, "--rootless", "maybe", "list"])
    assert r.returncode != 0 and 'invalid --rootless "maybe"' in r.stderr


def test_lifecycle_single_map(rcrt, rootless_user, bundle_factory):
    u = rootless_user
    b = rootless_bundle(bundle_factory, u, ["sleep", "1000"])
    r = rcrt("create", "--bundle", b.path, "c1")
    assert r.returncode == 0, r
    st = os.stat(rcrt.root)
    assert (st.st_uid, st.st_mode & 0o777) == (u.uid, 0o700)
    st = os.stat(os.path.join(rcrt.root, "c1"))
    assert (st.st_uid, st.st_mode & 0o777) == (u.uid, 0o700)
    assert rcrt.status("c1") == "created"
    assert rcrt("start", "c1").returncode == 0
    assert rcrt.status("c1") == "running"
    pid = rcrt.state("c1")["pid"]
    assert os.stat(f"/proc/{pid}").st_uid == u.uid  # container root is the user
    r = rcrt("exec", "c1", "sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/setgroups")
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(u.uid), "1"]
    assert lines[2] == "deny"
    assert rcrt("kill", "c1", "KILL").returncode == 0
    rcrt.wait_status("c1", "stopped")
    assert rcrt("delete", "c1").returncode == 0
    assert not os.path.exists(os.path.join(rcrt.root, "c1"))


def test_run_without_cgroup_then_limit_refused(rcrt, rootless_user, bundle_factory):
    """The host's tree is root's: no limits asked, the cgroup is skipped
    (a debug message); a limit asked is an error naming it."""
    b = rootless_bundle(bundle_factory, rootless_user, ["true"])
    r = rcrt("run", "--bundle", b.path, "c2", global_args=["--debug"])
    assert r.returncode == 0, r
    assert "rootless: running without a cgroup" in r.stderr
    b.config["linux"]["resources"] = {"memory": {"limit": 64 << 20}}
    b.save()
    r = rcrt("run", "--bundle", b.path, "c3")
    assert r.returncode != 0
    assert "linux.resources.memory: a rootless container needs a cgroup" in r.stderr, r
    assert not os.path.exists(os.path.join(rcrt.root, "c3"))


def test_volume_keeps_user_ownership(rcrt, rootless_user, bundle_factory, test_dirs):
    u = rootless_user
    vol = os.path.join(test_dirs.tmp, "vol")
    os.mkdir(vol)
    os.chown(vol, u.uid, u.gid)
    b = rootless_bundle(bundle_factory, u, ["sh", "-c", "echo hi > /data/f && ls -ln /data/f"])
    os.mkdir(b.in_rootfs("/data"))  # the rootfs is root's: crt cannot make it
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": vol,
                               "options": ["rbind", "rw"]})
    b.save()
    r = rcrt("run", "--bundle", b.path, "c4")
    assert r.returncode == 0, r
    assert r.stdout.split()[2:4] == ["0", "0"]  # root inside
    st = os.stat(os.path.join(vol, "f"))
    assert (st.st_uid, st.st_gid) == (u.uid, u.gid)  # the user's on the host


@pytest.mark.skipif(NEWUIDMAP is None, reason="newuidmap missing (apt-get install uidmap)")
def test_several_ranges_through_newuidmap(rcrt, rootless_user, bundle_factory):
    u = rootless_user
    if u.subuid is None or u.subgid is None:
        pytest.skip("useradd gave the user no /etc/subuid range")
    b = rootless_bundle(bundle_factory, u, ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map"
                                            " /proc/self/setgroups; id -u"],
                        user={"uid": 1000, "gid": 1000})
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": u.uid, "size": 1},
                                        {"containerID": 1, "hostID": u.subuid[0], "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": u.gid, "size": 1},
                                        {"containerID": 1, "hostID": u.subgid[0], "size": 65536}]
    b.save()
    r = rcrt("run", "--bundle", b.path, "c5")
    assert r.returncode == 0, r
    lines = [l.split() for l in r.stdout.strip().split("\n")]
    assert lines[1] == ["1", str(u.subuid[0]), "65536"]
    assert lines[3] == ["1", str(u.subgid[0]), "65536"]
    assert lines[4] == ["allow"]  # newgidmap: setgroups not denied
    assert lines[5] == ["1000"]
    # A range outside the user's /etc/subuid: newuidmap's refusal, named.
    b.config["linux"]["uidMappings"][1]["hostID"] = u.subuid[0] + u.subuid[1]
    b.save()
    r = rcrt("run", "--bundle", b.path, "c6")
    assert r.returncode != 0
    assert "linux.uidMappings: newuidmap refused the map (/etc/subuid): newuidmap:" in r.stderr
    assert "not allowed" in r.stderr
    assert not os.path.exists(os.path.join(rcrt.root, "c6"))


@pytest.fixture
def delegated_cgroup(rootless_user, test_dirs):
    """A cgroup owned by the user, as systemd delegation makes one, with a
    `launcher` child that crt is started from (moving a process needs the
    common ancestor's cgroup.procs writable)."""
    if not os.path.exists(os.path.join(UNIFIED, "cgroup.procs")):
        pytest.skip("no cgroup2 tree")
    rel = f"/crt-rootless-{test_dirs.token}"
    top = UNIFIED + rel
    os.makedirs(top + "/launcher")
    test_dirs.cgroup_paths.add(rel)
    for d in (top, top + "/launcher"):
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(d, f) if f else d, rootless_user.uid, rootless_user.gid)
    yield top
    # Ours to remove (the leak check still fails a test that left more).
    for d in (top + "/launcher", top):
        try:
            os.rmdir(d)
        except OSError:
            pass


def in_launcher(rcrt, delegated, *args):
    """crt as the user, started from the delegated cgroup's launcher."""
    procs = os.path.join(delegated, "launcher", "cgroup.procs")
    argv = rcrt.argv(args)
    # Not pipes: a detached container would hold them open.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        r = subprocess.run(["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh"] + argv,
                           stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=30)
        out.seek(0)
        err.seek(0)
        r.stdout, r.stderr = out.read(), err.read()
    return r


def test_delegated_cgroup_ps_pause_kill(rcrt, rootless_user, bundle_factory, delegated_cgroup):
    if not os.path.exists(os.path.join(delegated_cgroup, "cgroup.freeze")):
        pytest.skip("the cgroup2 tree has no cgroup.freeze")
    b = rootless_bundle(bundle_factory, rootless_user, ["sleep", "1000"])
    del b.config["linux"]["cgroupsPath"]  # rootless default: below crt's own cgroup
    b.save()
    r = in_launcher(rcrt, delegated_cgroup, "run", "-d", "--bundle", b.path, "c7")
    assert r.returncode == 0, r.stderr
    cg = os.path.join(delegated_cgroup, "launcher", "crt-c7")
    pid = rcrt.state("c7")["pid"]
    with open(os.path.join(cg, "cgroup.procs")) as f:
        assert f.read().split() == [str(pid)]
    r = rcrt("ps", "c7")
    assert r.returncode == 0 and str(pid) in r.stdout, r
    assert rcrt("pause", "c7").returncode == 0
    assert rcrt.status("c7") == "paused"
    with open(os.path.join(cg, "cgroup.events")) as f:
        assert "frozen 1" in f.read()
    assert rcrt("resume", "c7").returncode == 0
    assert rcrt("kill", "--all", "c7", "KILL").returncode == 0
    rcrt.wait_status("c7", "stopped")
    assert rcrt("delete", "c7").returncode == 0
    assert not os.path.exists(cg)


def test_no_writable_host_cgroupfs(rcrt, rootless_user, bundle_factory, delegated_cgroup):
    """CVE-2023-25809: a rootless container must not get a writable host
    /sys/fs/cgroup (with or without a cgroup namespace), not even the
    user's delegated subtree crt runs in (the user may write that one)."""
    rel = delegated_cgroup[len("/sys/fs/cgroup"):]
    script = ("for d in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup" + rel
              + " /sys/fs/cgroup" + rel + "/launcher; do "
              "[ -d $d ] || continue; mkdir $d/crt-escape 2>/dev/null && echo WRITABLE $d; "
              "echo 0 2>/dev/null > $d/cgroup.procs && echo WRITABLE $d/cgroup.procs; "
              "done; echo done")
    for with_cgroupns in (True, False):
        b = rootless_bundle(bundle_factory, rootless_user, ["sh", "-c", script])
        if not with_cgroupns:
            b.drop_namespace("cgroup")
        if os.environ.get("CRT_TEST_WEAKEN_CGROUPFS"):  # proves the test can fail
            b.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "bind",
                                       "source": "/sys/fs/cgroup", "options": ["rbind", "rw"]})
        b.save()
        r = in_launcher(rcrt, delegated_cgroup, "run", "--bundle", b.path,
                        f"c8{int(with_cgroupns)}")
        assert r.returncode == 0, r.stderr
        assert "WRITABLE" not in r.stdout and "done" in r.stdout, r.stdout
        assert not os.path.exists(os.path.join(delegated_cgroup, "launcher", "crt-escape"))


def test_devices_bound_from_the_host(rcrt, rootless_user, bundle_factory):
    """No mknod in a user namespace: a linux.devices node is the host's,
    bound (as runc); one the host lacks is an error naming it."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse on the host")
    b = rootless_bundle(bundle_factory, rootless_user, ["sh", "-c", "ls -l /dev/fuse"])
    b.config["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10,
                                     "minor": 229, "fileMode": 0o666}]
    b.save()
    r = rcrt("run", "--bundle", b.path, "c9")
    assert r.returncode == 0, r
    assert r.stdout.startswith("c") and "10, 229" in r.stdout, r.stdout
    b.config["linux"]["devices"] = [{"path": "/dev/crt-no-such-node", "type": "c",
                                     "major": 10, "minor": 229}]
    b.save()
    r = rcrt("run", "--bundle", b.path, "c10")
    assert r.returncode != 0 and "/dev/crt-no-such-node" in r.stderr, r


def test_join_namespace_not_owned(rcrt, rootless_user, bundle_factory, test_dirs):
    """A network namespace of the host's root, readable by the user: the
    rootless container may not join it, and the error says which field."""
    ns = os.path.join(test_dirs.tmp, "netns")
    open(ns, "w").close()
    os.chmod(ns, 0o444)
    subprocess.run(["unshare", f"--net={ns}", "true"], check=True)
    try:
        b = rootless_bundle(bundle_factory, rootless_user, ["true"])
        b.config["linux"]["namespaces"].append({"type": "network", "path": ns})
        b.save()
        r = rcrt("run", "--bundle", b.path, "c11")
        assert r.returncode != 0
        assert "linux.namespaces: join network namespace: not owned" in r.stderr, r
    finally:
        subprocess.run(["umount", ns], check=True)


def test_systemd_driver_asks_the_user_bus(crt, rcrt, rootless_user, bundle_factory):
    """Rootless --systemd-cgroup asks the user's manager on the user bus
    (tests/cgroup/test_rootless_systemd_vm.py runs it for real); here the
    user has none: an error naming that bus, nothing made."""
    b = rootless_bundle(bundle_factory, rootless_user, ["true"])
    b.config["linux"]["cgroupsPath"] = "user.slice:crt:c12"
    b.save()
    r = rcrt("run", "--bundle", b.path, "c12", global_args=["--systemd-cgroup"])
    assert r.returncode != 0
    assert (f"--systemd-cgroup: cannot reach systemd on the user bus "
            f"({rootless_user.runtime_dir}/bus)") in r.stderr, r
    assert not os.path.exists(os.path.join(rcrt.root, "c12"))


# --------------------------------------------------------------------------
# the dumpable window (CRT_SYNC_DUMPABLE): attacker tests
# --------------------------------------------------------------------------

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers", "proc_probe.py")


def probe_as(u, pid, *flags):
    r = u.run(["/usr/bin/python3", PROBE, str(pid), *flags])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ranges_bundle(bundle_factory, u, args):
    """Several ranges: crt (unprivileged) needs newuidmap, so the init is
    dumpable while newuidmap runs."""
    b = rootless_bundle(bundle_factory, u, args)
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": u.uid, "size": 1},
                                        {"containerID": 1, "hostID": u.subuid[0], "size": 1000}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": u.gid, "size": 1},
                                        {"containerID": 1, "hostID": u.subgid[0], "size": 1000}]
    b.save()
    return b


@pytest.mark.skipif(NEWUIDMAP is None, reason="newuidmap missing (apt-get install uidmap)")
def test_dumpable_window_gives_nothing_more(rcrt, rootless_user, bundle_factory, test_dirs):
    """The attacker: a process of the same user, here the newuidmap crt
    runs (a wrapper first in crt's PATH, which probes the init and then
    execs the real one), so it looks exactly inside the window.

    Dumpable, the init's /proc files are the user's: they must show
    nothing the user could not get anyway. Its ids are the user's (no map
    yet, so no other host id), its capabilities count only in a user
    namespace the user owns (as after `unshare -U`), it holds no fd but
    crt's stdio, /dev/null and its sync sockets, and its exe (crt's
    binary) cannot be opened for writing."""
    u = rootless_user
    if u.subuid is None or u.subgid is None:
        pytest.skip("useradd gave the user no /etc/subuid range")
    wrap = os.path.join(test_dirs.tmp, "wrap")
    os.mkdir(wrap)
    seen = os.path.join(test_dirs.tmp, "window.json")
    with open(os.path.join(wrap, "newuidmap"), "w") as f:
        f.write(f'#!/bin/sh\n/usr/bin/python3 {PROBE} "$1" > {seen}\nexec {NEWUIDMAP} "$@"\n')
    os.chmod(os.path.join(wrap, "newuidmap"), 0o755)
    b = ranges_bundle(bundle_factory, u, ["true"])
    env = dict(os.environ, PATH=f"{wrap}:/usr/sbin:/usr/bin:/sbin:/bin")
    r = rcrt("run", "--bundle", b.path, "w1", env=env)
    assert r.returncode == 0, r
    with open(seen) as f:
        w = json.load(f)
    # The probe saw the window: the init was dumpable, not yet mapped.
    assert w["owner"] == {"ok": u.uid}, w
    assert w["uid_map"] == {"ok": ""}, w
    assert "ok" in w["mem"], w  # what the window is: ptrace access
    ids = w["status"]["ok"]
    assert ids["Uid"].split() == [str(u.uid)] * 4 and ids["Gid"].split() == [str(u.gid)] * 4
    assert ids["Groups"].split() == [str(g) for g in os.getgrouplist(u.name, u.gid)]
    assert w["userns_owner"] == {"ok": u.uid}, w
    assert "err" in w["exe_for_writing"], w
    stdio = {os.path.join(rcrt.tmp, f"crt-{rcrt._n}.{s}") for s in ("out", "err")}
    for n, target in w["fds"]["ok"].items():
        assert (target in stdio or target == "/dev/null"
                or target.split(":", 1)[0] in ("socket", "pipe", "anon_inode")), (n, target)


@pytest.mark.skipif(NEWUIDMAP is None, reason="newuidmap missing (apt-get install uidmap)")
def test_init_not_dumpable_after_the_maps(rcrt, rootless_user, bundle_factory):
    """Once its maps exist the init is root in its user namespace and
    still crt's code (it waits for `start` with the config, the rootfs
    and the start socket): the window must be closed, so a process of the
    same user gets none of its /proc files and cannot ptrace it. (Fails
    on a build that leaves the init dumpable.) After `start` the user's
    program is dumpable again, as any program of the user's."""
    u = rootless_user
    if u.subuid is None or u.subgid is None:
        pytest.skip("useradd gave the user no /etc/subuid range")
    b = ranges_bundle(bundle_factory, u, ["sleep", "1000"])
    r = rcrt("create", "--bundle", b.path, "w2")
    assert r.returncode == 0, r
    try:
        assert_window_closed(rcrt, u, "w2")
    finally:
        assert rcrt("delete", "--force", "w2").returncode == 0


def assert_window_closed(rcrt, u, cid):
    pid = rcrt.state(cid)["pid"]
    got = probe_as(u, pid, "--ptrace")
    # (/proc/PID itself may still show the user as owner: the kernel takes
    # the owner of a non-dumpable task from its mm's user namespace; what
    # counts is the ptrace check behind each file.)
    for what in ("fds", "environ", "mem", "exe_for_writing", "ptrace", "userns_owner"):
        assert got[what].get("err") in ("EACCES", "EPERM"), (what, got)
    assert rcrt("start", cid).returncode == 0
    wait_for(lambda: "ok" in probe_as(u, pid)["mem"], what="sleep, dumpable")


# --------------------------------------------------------------------------
# linux.timeOffsets
# --------------------------------------------------------------------------

@pytest.mark.parametrize("ranges", [False, True], ids=["own-id", "newuidmap"])
def test_time_offsets(rcrt, rootless_user, bundle_factory, ranges):
    """A time namespace owned by the user's new user namespace: the init
    makes it inside the dumpable window, where crt (the user) may still
    write its timens_offsets; later they are root's (crt before this:
    `linux.timeOffsets: open /proc/PID/timens_offsets: Permission
    denied`). Both maps: crt's own write and newuidmap's."""
    u = rootless_user
    if ranges and (NEWUIDMAP is None or u.subuid is None):
        pytest.skip("needs newuidmap and a /etc/subuid range")
    day = 86400
    args = ["sh", "-c", "cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets"]
    b = ranges_bundle(bundle_factory, u, args) if ranges else rootless_bundle(bundle_factory, u,
                                                                              args)
    b.config["linux"]["namespaces"].append({"type": "time"})
    b.config["linux"]["timeOffsets"] = {"boottime": {"secs": 10 * day},
                                        "monotonic": {"secs": day, "nanosecs": 5}}
    b.save()
    r = rcrt("run", "--bundle", b.path, "t1")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert float(lines[0]) >= 10 * day, r.stdout
    offsets = [line.split() for line in lines[1:]]
    assert ["boottime", str(10 * day), "0"] in offsets, r.stdout
    assert ["monotonic", str(day), "5"] in offsets, r.stdout


# --------------------------------------------------------------------------
# crt as root in the user's user namespace (how rootless podman runs it)
# --------------------------------------------------------------------------

def _sharing_the_user_namespace(bundle_factory, u):
    """A bundle of `sleep` without a user namespace of its own: the
    container shares crt's (rootless podman's setup)."""
    b = rootless_bundle(bundle_factory, u, ["sleep", "1000"])
    b.drop_namespace("user")
    del b.config["linux"]["uidMappings"]
    del b.config["linux"]["gidMappings"]
    b.save()
    return b


def test_root_in_a_user_namespace_run_exec(rcrt, rootless_user, bundle_factory):
    """Rootless podman runs crt as uid 0 of its own user namespace and
    shares that namespace with the container (no new one in config.json).
    exec then joins only the container's pid namespace, which crt cannot
    leave again (its own pid namespace belongs to the host's user
    namespace): crt before this aborted after retrying that setns."""
    u = rootless_user
    b = _sharing_the_user_namespace(bundle_factory, u)
    def crt(*args):  # env ... crt --root R ARGS (rootless exec: no leak check under ASan)
        return shlex.join(rcrt.argv(list(args))[len(u.prefix()):])
    script = (crt("run", "-d", "--bundle", b.path, "n1")
              + " </dev/null >/dev/null 2>&1; echo run=$?; "
              + crt("exec", "n1", "sh", "-c", "cat /proc/self/uid_map; echo $$") + "; echo exec=$?; "
              + crt("delete", "--force", "n1") + "; echo delete=$?")
    rcrt.ids.add("n1")
    r = u.run(["unshare", "--user", "--map-root-user", "sh", "-c", script])
    lines = [" ".join(line.split()) for line in r.stdout.splitlines()]
    assert lines == ["run=0", f"0 {u.uid} 1", lines[2], "exec=0", "delete=0"], (r.stdout,
                                                                                r.stderr)
    assert int(lines[2]) > 1  # in the container's pid namespace, not its init


def test_root_in_a_user_namespace_pid_path_refused(rcrt, rootless_user, bundle_factory):
    """The same crt, creating a container that joins a pid namespace by
    path: it could not return to its own for the hooks (runc and crun
    join in a child; crt does not yet). A clear error naming the field,
    not an abort (crt before this retried the setns 1000 times, then
    aborted)."""
    u = rootless_user
    b = _sharing_the_user_namespace(bundle_factory, u)
    joiner = rootless_bundle(bundle_factory, u, ["true"])
    joiner.config = json.loads(json.dumps(b.config))
    for ns in joiner.config["linux"]["namespaces"]:
        if ns["type"] == "pid":
            ns["path"] = "/proc/PID/ns/pid"
    joiner.save()

    def crt(*args):
        return shlex.join(rcrt.argv(list(args))[len(u.prefix()):])
    script = (crt("run", "-d", "--bundle", b.path, "n2") + " </dev/null >/dev/null 2>&1; "
              + "pid=$(" + crt("state", "n2") + " | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); "
              # (the bundle dir is root's: rewrite the file in place)
              + f"c=$(sed \"s|/proc/PID/|/proc/$pid/|\" {joiner.config_path}); "
              + f"printf '%s' \"$c\" > {joiner.config_path}; "
              + crt("run", "--bundle", joiner.path, "n3") + "; echo run=$?; "
              + crt("delete", "--force", "n2"))
    rcrt.ids.update(("n2", "n3"))
    os.chmod(joiner.config_path, 0o666)
    r = u.run(["unshare", "--user", "--map-root-user", "sh", "-c", script])
    assert "run=1" in r.stdout, (r.stdout, r.stderr)
    assert ("linux.namespaces: join a pid namespace by path: crt runs in a user namespace "
            "that does not own its own pid namespace") in r.stderr, r.stderr
    assert "Aborted" not in r.stderr
