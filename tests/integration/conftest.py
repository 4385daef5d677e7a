"""Fixtures for crt's integration tests.

Every test drives the real `crt` binary as root against a busybox-static
bundle and reads the effect where a user would see it: the container's
output, the host filesystem, /proc, `crt state`.

Environment:
  CRT_BINARY     the runtime under test (default: <repo>/build/src/crt)
  CRT_BUILD_DIR  its build tree, for `make check` (default: derived)
  CRT_SAN_LOGS   directory where ASan/UBSan write reports (set by
                 tests/run.sh for the sanitizer pass); any report fails
                 the test that produced it.

After every test a fixture checks that crt left nothing behind (mounts,
processes, state directories, fds) and force-removes what it finds, so one
failure does not cascade into the next test.
"""

import copy
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRT = os.path.abspath(os.environ.get("CRT_BINARY", os.path.join(REPO, "build", "src", "crt")))
BUSYBOX = shutil.which("busybox", path="/bin:/usr/bin:/sbin:/usr/sbin")
DEFAULT_TIMEOUT = 30

APP_UID = 1001
APP_GID = 1001

USERNS_MAPS = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def add_userns(bundle, maps=True):
    """A new user namespace in bundle's config; with maps, container ids
    0-65535 on host ids 100000 and up, and the rootfs chowned to match."""
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    if maps:
        bundle.config["linux"]["uidMappings"] = USERNS_MAPS
        bundle.config["linux"]["gidMappings"] = USERNS_MAPS
        # The rootfs must belong to the container's root to be usable.
        os.system(f"chown -R 100000:100000 {bundle.rootfs}")


# --------------------------------------------------------------------------
# session-wide preconditions
# --------------------------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.geteuid() != 0:
        reason = "integration tests need root (run: sudo ./tests/run.sh)"
    elif BUSYBOX is None:
        reason = "busybox not found (apt-get install busybox-static)"
    if reason:
        for item in items:
            if "crt" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def crt_path():
    if not (os.path.isfile(CRT) and os.access(CRT, os.X_OK)):
        pytest.fail(f"crt binary not found at {CRT}: build it (tests/run.sh) or set CRT_BINARY")
    return CRT


@pytest.fixture(scope="session")
def template_rootfs(tmp_path_factory):
    """A busybox-static root filesystem, built once and copied per test."""
    if BUSYBOX is None:
        pytest.skip("busybox not found (apt-get install busybox-static)")
    out = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True)
    root = tmp_path_factory.mktemp("template") / "rootfs"
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
              "tmp", "root", "home/app", "var/tmp"):
        os.makedirs(root / d, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in out.stdout.split():
        link = root / applet
        if applet == "bin/busybox" or os.path.lexists(link):
            continue
        os.makedirs(link.parent, exist_ok=True)
        os.symlink("/bin/busybox", link)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        f"app:x:{APP_UID}:{APP_GID}:app:/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text(
        "root:x:0:\n"
        f"app:x:{APP_GID}:\n")
    os.chown(root / "home" / "app", APP_UID, APP_GID)
    return root


# --------------------------------------------------------------------------
# bundles
# --------------------------------------------------------------------------

DEFAULT_CAPS = [
    "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN",
    "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETGID", "CAP_SETUID",
    "CAP_SETPCAP", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD",
]


def default_config(args):
    """A sensible runtime-spec 1.2 config: the usual namespaces and mounts,
    no terminal, no cgroup resources."""
    return {
        "ociVersion": "1.2.0",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in
                             ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "crt-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")],
        },
    }


class Bundle:
    """A bundle directory: rootfs/ (busybox) + config.json from self.config.

    Edit self.config (a dict) and call save(); the factory saves once."""

    def __init__(self, path, template, args):
        self.path = str(path)
        self.rootfs = os.path.join(self.path, "rootfs")
        os.makedirs(self.path)
        subprocess.run(["cp", "-a", str(template), self.rootfs], check=True)
        self.config = default_config(args)
        self.save()

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def save(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)

    def write_raw_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def in_rootfs(self, path):
        return os.path.join(self.rootfs, path.lstrip("/"))

    def namespaces(self):
        return [n["type"] for n in self.config["linux"]["namespaces"]]

    def drop_namespace(self, ns):
        self.config["linux"]["namespaces"] = [
            n for n in self.config["linux"]["namespaces"] if n["type"] != ns]


@pytest.fixture
def bundle_factory(template_rootfs, test_dirs):
    count = [0]

    def make(args=("sh", "-c", "true"), **process):
        count[0] += 1
        b = Bundle(os.path.join(test_dirs.tmp, f"bundle{count[0]}"), template_rootfs, args)
        b.config["process"].update(process)
        cg = f"/crt-test-{test_dirs.token}-{count[0]}"
        b.config["linux"]["cgroupsPath"] = cg
        test_dirs.cgroup_paths.add(cg)
        b.save()
        st = os.stat(b.rootfs)
        test_dirs.rootfs_ids.add((st.st_dev, st.st_ino))
        return b
    return make


@pytest.fixture
def bundle(bundle_factory):
    return bundle_factory()


# --------------------------------------------------------------------------
# running crt
# --------------------------------------------------------------------------

class Result:
    def __init__(self, argv, returncode, stdout, stderr):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr

    def __repr__(self):
        return (f"<crt {' '.join(self.argv[1:])}: exit {self.returncode}\n"
                f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}>")

    def json(self):
        return json.loads(self.stdout)


# Kept in --root across containers on purpose (libcrt/linux/seccomp_cache.h).
CRT_CACHE_DIRS = {".seccomp"}


def state_entries(root):
    if not os.path.isdir(root):
        return []
    return sorted(e for e in os.listdir(root) if e not in CRT_CACHE_DIRS)


class Crt:
    """Runs crt with the test's --root. Output goes through temporary files,
    not pipes: a detached container inherits crt's stdio and would hold a
    pipe open long after crt exited."""

    def __init__(self, binary, root, tmp):
        self.binary, self.root, self.tmp = binary, root, tmp
        self.ids = set()
        self._n = 0

    def argv(self, args, global_args=()):
        return [self.binary, "--root", self.root, *global_args, *args]

    def state_entries(self):
        """What is in --root besides crt's seccomp cache (.seccomp, which
        outlives containers by design): containers' state dirs."""
        return state_entries(self.root)

    def _remember_id(self, args):
        if args and args[0] in ("create", "run") and not args[-1].startswith("-"):
            self.ids.add(args[-1])

    def __call__(self, *args, timeout=DEFAULT_TIMEOUT, input=None, env=None,
                 global_args=(), check=False, pass_fds=()):
        self._remember_id(args)
        argv = self.argv(args, global_args)
        self._n += 1
        out_path = os.path.join(self.tmp, f"crt-{self._n}.out")
        err_path = os.path.join(self.tmp, f"crt-{self._n}.err")
        with open(out_path, "w+") as out, open(err_path, "w+") as err:
            try:
                stdin = {"input": input.encode()} if input is not None \
                    else {"stdin": subprocess.DEVNULL}
                p = subprocess.run(argv, stdout=out, stderr=err, timeout=timeout, env=env,
                                   pass_fds=pass_fds, **stdin)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                rc = None
            out.seek(0)
            err.seek(0)
            res = Result(argv, rc, out.read(), err.read())
        if rc is None:
            pytest.fail(f"timed out after {timeout}s: {res!r}")
        if check and rc != 0:
            pytest.fail(f"crt failed: {res!r}")
        return res

    def popen(self, *args, global_args=(), **kw):
        """Start crt in the background with stdout/stderr piped."""
        self._remember_id(args)
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.argv(args, global_args), **kw)

    def state(self, cid):
        r = self("state", cid)
        assert r.returncode == 0, r
        return r.json()

    def status(self, cid):
        return self.state(cid)["status"]

    def wait_status(self, cid, status, timeout=10):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            r = self("state", cid)
            if r.returncode == 0:
                last = r.json()["status"]
                if last == status:
                    return
            time.sleep(0.05)
        pytest.fail(f"container {cid} did not reach {status!r} in {timeout}s (last: {last!r})")


def without_leak_check(env=None):
    """env (default: ours) for a crt that LeakSanitizer cannot follow: one
    run under ptrace (strace: LSan aborts there), or one exiting inside a
    user namespace it cannot ptrace from. Only in the ASan session; ASan
    and UBSan stay on, only the leak check is off."""
    env = dict(os.environ if env is None else env)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


def other_runtime(name):
    """The path of runc or crun, to run a bundle with it next to crt;
    skips the test when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed")
    return path


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def read_line(proc, timeout=10):
    """One line from a Popen's stdout, with a deadline."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"no output within {timeout}s; stdout={out!r} stderr={err!r}")
        return proc.stdout.readline().decode()
    finally:
        sel.close()


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


# --------------------------------------------------------------------------
# leak checks around every test
# --------------------------------------------------------------------------

def _mountinfo():
    with open("/proc/self/mountinfo") as f:
        return [line.split() for line in f]


def _mounts_under(paths):
    """Mount points at or under any of paths (or whose source names one)."""
    found = []
    for fields in _mountinfo():
        mp = fields[4].replace("\\040", " ")
        for p in paths:
            if mp == p or mp.startswith(p.rstrip("/") + "/") or p in fields[3]:
                found.append(mp)
                break
    return sorted(set(found), key=len, reverse=True)


def _test_processes(rootfs_ids, crt_binary):
    """{pid: starttime} of processes that belong to this test: those whose
    root directory is one of the test's bundle rootfs directories (a
    container's processes, found by inode, so containers of other users of
    the machine are ignored) and crt processes themselves."""
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            root = os.stat(f"/proc/{name}/root")
            mine = (root.st_dev, root.st_ino) in rootfs_ids
            if not mine and crt_binary:
                mine = os.readlink(f"/proc/{name}/exe") == crt_binary
            if not mine:
                continue
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] == "Z":
                continue
            procs[int(name)] = fields[19]
        except OSError:
            continue
    return procs


def _open_fds():
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return fds


class TestDirs:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="crt-test-", dir="/run")
        # Bundles live under /tmp: /run may be small, and the bundle path
        # must be traversable by the container's non-root users.
        self.tmp = tempfile.mkdtemp(prefix="crt-test-")
        os.chmod(self.tmp, 0o755)
        self.rootfs_ids = set()  # (st_dev, st_ino) of every bundle's rootfs
        # Every bundle gets its own cgroup (linux.cgroupsPath): the default
        # /crt/<id> would collide between tests run at the same time on one
        # machine with the same ids under different --root dirs.
        self.token = os.path.basename(self.tmp)[len("crt-test-"):]
        self.cgroup_paths = set()
        # What this made, to remove: a fixture may point root elsewhere
        # (the rootless tests use the user's runtime dir).
        self.made = (self.root, self.tmp)


@pytest.fixture
def test_dirs():
    d = TestDirs()
    yield d
    for p in d.made:
        for m in _mounts_under([p]):
            subprocess.run(["umount", "-l", m], capture_output=True)
        if not _mounts_under([p]):
            shutil.rmtree(p, ignore_errors=True)
    left = [p for p in d.made if os.path.exists(p)]
    if left:
        pytest.fail(f"test dirs left behind: {left}")


@pytest.fixture
def crt(crt_path, test_dirs, _leak_check):
    c = Crt(crt_path, test_dirs.root, test_dirs.tmp)
    _leak_check.crt = c
    return c


class _LeakCheck:
    crt = None


@pytest.fixture
def _leak_check(test_dirs, crt_path):
    procs_before = _test_processes(set(), crt_path)
    fds_before = _open_fds()
    san_before = _san_reports()
    check = _LeakCheck()
    yield check
    problems = []

    # Containers still known to crt: delete them (this also kills them).
    c = check.crt
    if c is not None and os.path.isdir(test_dirs.root):
        left = state_entries(test_dirs.root)
        if left:
            problems.append(f"state left in --root {test_dirs.root}: {left}")
            for cid in left:
                subprocess.run(c.argv(["delete", "--force", cid]), capture_output=True,
                               timeout=DEFAULT_TIMEOUT)
                shutil.rmtree(os.path.join(test_dirs.root, cid), ignore_errors=True)

    # Container processes the test did not clean up.
    def new_procs():
        now = _test_processes(test_dirs.rootfs_ids, crt_path)
        return {p: st for p, st in now.items() if procs_before.get(p) != st}
    deadline = time.monotonic() + 3
    left = new_procs()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = new_procs()
    if left:
        desc = []
        for pid in left:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                desc.append(f"{pid}:{cmd}")
            except OSError:
                desc.append(str(pid))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        problems.append(f"processes left running: {', '.join(desc)}")

    # Mounts on the host under the test's directories.
    mounts = _mounts_under([test_dirs.tmp, test_dirs.root])
    if mounts:
        problems.append(f"mounts left on the host: {mounts}")
        for m in mounts:
            subprocess.run(["umount", "-l", m], capture_output=True)

    # Cgroups: every bundle's cgroupsPath must be gone from every hierarchy.
    left = []
    for path in sorted(test_dirs.cgroup_paths):
        for m in _cgroup_mounts():
            d = m + path
            if os.path.isdir(d):
                left.append(d)
                _remove_cgroup(d)
    if left:
        problems.append(f"cgroups left: {left}")

    # File descriptors of the test process itself.
    fds_after = _open_fds()
    leaked = {fd: t for fd, t in fds_after.items()
              if fd not in fds_before and "/proc/" not in t}
    if leaked:
        problems.append(f"fds leaked in the test process: {leaked}")
        for fd in leaked:
            try:
                os.close(fd)
            except OSError:
                pass

    reports = _san_reports() - san_before
    if reports:
        text = []
        for r in sorted(reports):
            try:
                with open(r) as f:
                    text.append(f"{r}:\n{f.read()}")
            except OSError:
                text.append(r)
        problems.append("sanitizer reports:\n" + "\n".join(text))

    if problems:
        pytest.fail("crt left things behind:\n  " + "\n  ".join(problems), pytrace=False)


def _cgroup_mounts():
    out = []
    for fields in _mountinfo():
        fstype = fields[fields.index("-") + 1]
        if fstype in ("cgroup", "cgroup2"):
            out.append(fields[4])
    return out


def _remove_cgroup(d):
    """Kill what runs in cgroup d and remove it (children first)."""
    for sub in sorted((os.path.join(r, n) for r, dirs, _ in os.walk(d) for n in dirs),
                      key=len, reverse=True):
        _remove_cgroup(sub)
    try:
        with open(os.path.join(d, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError:
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        except OSError:
            pass
    for _ in range(50):
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _san_reports():
    d = os.environ.get("CRT_SAN_LOGS")
    if not d or not os.path.isdir(d):
        return set()
    return {os.path.join(d, f) for f in os.listdir(d)}


# Commonly used bits re-exported for the test modules.
__all__ = ["Bundle", "Crt", "default_config", "wait_for", "read_line", "pid_alive",
           "APP_UID", "APP_GID", "copy"]
