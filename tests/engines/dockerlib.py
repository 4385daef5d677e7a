"""A private dockerd (Debian's docker.io) driving crt, for the host engine
tests (tests/engines/test_docker.py, cgroupfs driver) and the systemd
ones in the VM (tests/engines/test_engines_systemd_vm.py).

Every dockerd started here has:

  * its own --data-root, --exec-root, --pidfile, API socket and
    daemon.json (--config-file; "deprecated-key-path" keeps its trust
    key out of /etc/docker); the docker CLI gets DOCKER_HOST and a
    DOCKER_CONFIG of its own, and the classic builder (DOCKER_BUILDKIT=0:
    BuildKit in 20.10 runs its steps with runc, not the default runtime);
  * `--add-runtime crt=<crt> --default-runtime crt`: every container,
    the build's RUN steps included, runs under crt;
  * vfs storage (no overlay mounts);
  * cgroups: the cgroupfs driver and a cgroup parent named after this
    session, removed at the end; or (systemd=True) the systemd driver in
    its default configuration: `--exec-opt native.cgroupdriver=systemd`,
    no cgroup parent, so every container is system.slice:docker:<id>
    and crt gets `--systemd-cgroup`;
  * its own network namespace (`unshare --net`): dockerd's bridge, veth
    pairs and docker-proxy live there, never on the host's interfaces,
    and iptables is off (--iptables=false: nothing is written to any
    table). Published ports (-p 127.0.0.1:P:80, docker-proxy) are
    reached from inside that namespace with nsenter. No registry is
    reachable from it either: images are imported (`docker import` of
    the busybox-static tarball) and `run --pull never` is used.

dockerd supervises a containerd of its own under --exec-root, unless a
containerd socket exists at /run/containerd/containerd.sock, which it
would use instead: the session is skipped then.

The shim keeps its sockets in /run/containerd/s; dockerd its plugin
directory in /run/docker: both are removed at the end when this session
created them.
"""

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from enginelib import CRT, HostPaths, cgroups_left, remove_base, require, wait_until

TIMEOUT = 60
IMAGE = "crt-busybox:latest"
DOCKER = "/usr/bin/docker"  # Debian's docker.io; /usr/local/bin/docker may be anything
DOCKERD = "/usr/sbin/dockerd"

# Where dockerd, its containerd and the shim write outside --data-root/--exec-root.
DOCKER_HOST_PATHS = ["/run/docker", "/run/containerd", "/var/lib/docker"]
HOST_CONTAINERD_SOCK = "/run/containerd/containerd.sock"


def cgroup2_mount():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup"
    return "/sys/fs/cgroup/unified"


def netns_inode(pid):
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def pids_in_netns(inode):
    """Processes whose network namespace is INODE."""
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit() and netns_inode(p) == inode:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            found.append((int(p), cmd))
    return found


class Docker:
    def __init__(self, base, systemd=False, experimental=False):
        self.base = base
        self.systemd = systemd
        self.sock = os.path.join(base, "docker.sock")
        self.data_root = os.path.join(base, "data")
        self.exec_root = os.path.join(base, "exec")
        self.pidfile = os.path.join(base, "docker.pid")
        self.cgroup_parent = None if systemd else f"/crt-engines-docker-{os.getpid()}"
        self.config = os.path.join(base, "daemon.json")
        with open(self.config, "w") as f:
            # experimental: `docker checkpoint` (tests/criu/test_criu_engines_vm.py).
            json.dump({"deprecated-key-path": os.path.join(base, "key.json"),
                       "experimental": experimental}, f)
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}",
                        DOCKER_CONFIG=os.path.join(base, "cli"), DOCKER_BUILDKIT="0")
        self.env.pop("DOCKER_CONTEXT", None)
        self.logpath = os.path.join(base, "dockerd.log")
        self.log = open(self.logpath, "w")
        if systemd:
            cgroups = ["--exec-opt", "native.cgroupdriver=systemd"]
        else:
            cgroups = ["--exec-opt", "native.cgroupdriver=cgroupfs",
                       "--cgroup-parent", self.cgroup_parent]
        dockerd = [
            DOCKERD, "--config-file", self.config,
            "--data-root", self.data_root, "--exec-root", self.exec_root,
            "--pidfile", self.pidfile, "-H", f"unix://{self.sock}",
            "--add-runtime", f"crt={CRT}", "--default-runtime", "crt",
            "--storage-driver", "vfs", *cgroups,
            "--iptables=false", "--ip6tables=false", "--ip-forward=false",
            "--ip-masq=false", "--bip", "10.213.0.1/24",
        ]
        # unshare execs sh, sh execs dockerd: self.proc.pid is dockerd's pid,
        # in a network namespace of its own.
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
             *dockerd], stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.netns = None
        self.netns_fd = -1
        deadline = time.monotonic() + 90
        while self("version", "--format", "{{.Server.Version}}").returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dockerd did not start:\n{self.log_tail()}")
            time.sleep(0.3)
        # Held open to the end: the namespace (and its inode number, which
        # the leak check goes by) cannot be freed and reused meanwhile.
        self.netns_fd = os.open(f"/proc/{self.proc.pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.netns = os.fstat(self.netns_fd).st_ino
        # dockerd is not on the host's network, and the leak check below
        # sees it where it is.
        assert self.netns != netns_inode(os.getpid()), "dockerd runs in the host's netns"
        assert self.proc.pid in [p for p, _ in pids_in_netns(self.netns)]

    def log_tail(self, n=15):
        with open(self.logpath) as f:
            return "".join(f.readlines()[-n:])

    def __call__(self, *args, check=False, timeout=TIMEOUT, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        r = subprocess.run([DOCKER, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: exit {r.returncode}\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def run(self, *args, **kw):
        return self("run", "--pull", "never", *args, **kw)

    def inspect(self, name, fmt):
        return self("inspect", name, "--format", fmt, check=True).stdout.strip()

    def container_ids(self):
        return self("ps", "-aq", "--no-trunc", check=True).stdout.split()

    def in_netns(self, *cmd):
        """Run CMD on the host in dockerd's network namespace."""
        return subprocess.run(["nsenter", f"--net=/proc/{self.proc.pid}/ns/net", *cmd],
                              capture_output=True, text=True, timeout=TIMEOUT)

    def crt(self, *args):
        """crt on the state directory the shim gives it (Options.Root/moby)."""
        roots = [os.path.join(self.exec_root, d, "moby") for d in os.listdir(self.exec_root)
                 if d.startswith("runtime-")] if os.path.isdir(self.exec_root) else []
        root = next((r for r in roots if os.path.isdir(r)),
                    os.path.join(self.exec_root, "runtime-runc", "moby"))
        extra = ["--systemd-cgroup"] if self.systemd else []
        return subprocess.run([CRT, "--root", root, *extra, *args], capture_output=True,
                              text=True, timeout=TIMEOUT)

    def cgroup_dir(self, cid):
        if self.systemd:
            return os.path.join(cgroup2_mount(), "system.slice", f"docker-{cid}.scope")
        return os.path.join(cgroup2_mount(), self.cgroup_parent.lstrip("/"), cid)

    def wait_for(self, what, probe, timeout=30):
        return wait_until(what, probe, timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@contextlib.contextmanager
def docker_session(rootfs_tar, systemd=False, experimental=False):
    """A started dockerd with the busybox image imported; on exit every
    container, image, volume, process, cgroup (or scope) and host path it
    made is checked for and removed, and a leftover fails the session."""
    require("unshare", "nsenter", "ip", "script")
    for prog in (DOCKER, DOCKERD):
        if not os.access(prog, os.X_OK):
            pytest.skip(f"{prog} not installed (apt-get install docker.io)")
    if os.path.lexists(HOST_CONTAINERD_SOCK):
        pytest.skip(f"{HOST_CONTAINERD_SOCK} exists: dockerd would use that containerd "
                    "instead of a private one")
    host_paths = HostPaths(DOCKER_HOST_PATHS)
    key_existed = os.path.lexists("/etc/docker/key.json")
    base = tempfile.mkdtemp(prefix="crt-eng-docker-", dir="/tmp")
    problems = []
    d = None
    try:
        try:
            d = Docker(base, systemd=systemd, experimental=experimental)
        except RuntimeError as e:
            pytest.skip(str(e))
        d("import", "-c", 'CMD ["sh"]', "-c", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin",
          rootfs_tar, IMAGE, check=True)
        yield d
    finally:
        if d is not None:
            if d.proc.poll() is None:
                leftover = d.container_ids()
                if leftover:
                    problems.append(f"docker containers left: {leftover}")
                    d("rm", "-f", "-v", *leftover)
                d("image", "prune", "-af")
                d("rmi", "-f", IMAGE)
                d("volume", "prune", "-f")
                r = d.crt("list", "--format", "json")
                if r.returncode == 0 and r.stdout.strip():
                    for st in json.loads(r.stdout) or []:
                        problems.append(f"crt still has container {st['id']}")
                        d.crt("delete", "--force", st["id"])
            d.stop()
            if d.netns is not None:
                # dockerd's containerd, the shims and the containers all ran
                # in its network namespace: nothing may be left there.
                left, deadline = pids_in_netns(d.netns), time.monotonic() + 10
                while left and time.monotonic() < deadline:
                    time.sleep(0.2)
                    left = pids_in_netns(d.netns)
                if left:
                    problems.append(f"processes left in dockerd's netns: {left}")
                    for pid, _ in left:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                os.close(d.netns_fd)
            problems += cgroups_left(systemd, "docker-*.scope", d.cgroup_parent)
        problems += remove_base(base)
        host_paths.cleanup()
        if not key_existed and os.path.lexists("/etc/docker/key.json"):
            problems.append("dockerd wrote /etc/docker/key.json")
            os.unlink("/etc/docker/key.json")
    assert not problems, "docker session left things behind:\n" + "\n".join(problems)
