"""linux.seccomp through the real `crt run`/`crt create`: a denied syscall
returns the configured errno, an ERRNO default with an allow list runs
busybox, argument conditions, KILL_PROCESS, unknown names, config errors
with their JSON path, and SCMP_ACT_NOTIFY delivering the listener fd and
the container process state to an agent this test runs."""

import fcntl
import json
import os
import select
import socket
import struct
import threading

from conftest import DEFAULT_TIMEOUT


def set_seccomp(bundle, profile, args):
    bundle.config["process"]["args"] = list(args)
    bundle.config["linux"]["seccomp"] = profile
    bundle.save()


def deny(names, errno_ret=None, action="SCMP_ACT_ERRNO", args=None):
    rule = {"names": list(names), "action": action}
    if errno_ret is not None:
        rule["errnoRet"] = errno_ret
    if args:
        rule["args"] = args
    return rule


# What busybox `sh -c`, echo, ls and friends need, plus what a runtime may
# still do between loading the filter and execve. mkdir is deliberately
# missing.
ALLOW_LIST = [
    "access", "arch_prctl", "brk", "capget", "capset", "chdir", "clock_gettime",
    "clock_nanosleep", "clone", "clone3", "close", "close_range", "dup", "dup2", "dup3",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fchdir",
    "fcntl", "fstat", "fstatfs", "futex", "getcwd", "getdents64", "getegid", "geteuid",
    "getgid", "getgroups", "getpgrp", "getpid", "getppid", "getrandom", "getrlimit",
    "gettid", "getuid", "ioctl", "kill", "lseek", "lstat", "madvise", "mmap", "mprotect",
    "munmap", "nanosleep", "newfstatat", "open", "openat", "pipe", "pipe2", "poll",
    "ppoll", "prctl", "pread64", "prlimit64", "read", "readlink", "readlinkat",
    "recvmsg", "rseq", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sendmsg",
    "sendto", "set_robust_list", "set_tid_address", "setgid", "setgroups", "setpgid",
    "setresgid", "setresuid", "setsid", "setuid", "sigaltstack", "stat", "statx",
    "tgkill", "umask", "uname", "vfork", "wait4", "write", "writev",
]


def test_denied_syscall_returns_configured_errno(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["mkdir", "mkdirat"], errno_ret=38)]},
                ["sh", "-c", "mkdir /tmp/denied; echo rc=$?; mkdir /tmp/denied"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 1, r
    assert "rc=1" in r.stdout, r
    assert "Function not implemented" in r.stderr, r
    assert not os.path.exists(bundle.in_rootfs("/tmp/denied"))


def test_errno_ret_defaults_to_eperm(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["mkdir", "mkdirat"])]},
                ["mkdir", "/tmp/denied"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 1, r
    assert "Operation not permitted" in r.stderr, r


def test_errno_default_with_allow_list(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                         "syscalls": [{"names": ALLOW_LIST, "action": "SCMP_ACT_ALLOW"}]},
                ["sh", "-c", "echo ok; ls /bin/busybox; mkdir /tmp/no || echo denied"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "ok\n/bin/busybox\ndenied\n", r
    assert "Function not implemented" in r.stderr, r


def test_argument_conditions(crt, bundle):
    # chmod to 0700 is refused, any other mode passes.
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            deny(["chmod"], errno_ret=18,
                 args=[{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"}]),
            deny(["fchmodat"], errno_ret=18,
                 args=[{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"}]),
        ]}
    bundle.config["process"]["args"] = [
        "sh", "-c", "touch /tmp/f; chmod 700 /tmp/f; echo rc=$?; chmod 750 /tmp/f; "
                    "echo rc=$?; stat -c %a /tmp/f"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "rc=1\nrc=0\n750\n", r
    assert "Invalid cross-device link" in r.stderr, r


def test_same_argument_twice_is_an_or(crt, bundle):
    # Two conditions on the same argument: each is a rule of its own (runc).
    cond = [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 0o600, "op": "SCMP_CMP_EQ"}]
    cond_at = [dict(c, index=2) for c in cond]
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        deny(["chmod"], errno_ret=18, args=cond),
        deny(["fchmodat"], errno_ret=18, args=cond_at)]},
        ["sh", "-c", "touch /tmp/f; chmod 700 /tmp/f; echo rc=$?; chmod 600 /tmp/f; "
                     "echo rc=$?; chmod 644 /tmp/f; echo rc=$?"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "rc=1\nrc=1\nrc=0\n", r


def test_kill_process(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["mkdir", "mkdirat"], action="SCMP_ACT_KILL_PROCESS")]},
                ["mkdir", "/tmp/killed"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 128 + 31, r   # SIGSYS
    assert not os.path.exists(bundle.in_rootfs("/tmp/killed"))


def test_unknown_syscall_name_still_loads(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                         "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"],
                         "syscalls": [deny(["crt_syscall_from_the_future", "mkdir", "mkdirat"],
                                           errno_ret=38)]},
                ["sh", "-c", "echo started; mkdir /tmp/x"])
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 1, r
    assert r.stdout == "started\n", r
    assert "Function not implemented" in r.stderr, r


def create_fails(crt, bundle):
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode != 0, r
    assert crt.state_entries() == [], f"state left: {crt.state_entries()}"
    return r.stderr


def test_unknown_action_fails_create_with_path(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["getcwd"]), deny(["mkdir"], action="SCMP_ACT_FOO")]},
                ["true"])
    err = create_fails(crt, bundle)
    assert "linux.seccomp.syscalls[1].action" in err, err
    assert "SCMP_ACT_FOO" in err, err


def test_unknown_architecture_fails_create_with_path(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]},
                ["true"])
    err = create_fails(crt, bundle)
    assert "linux.seccomp.architectures[1]" in err, err
    assert "SCMP_ARCH_VAX" in err, err


def test_errno_ret_with_kill_fails_create(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["mkdir"], errno_ret=5, action="SCMP_ACT_KILL")]},
                ["true"])
    err = create_fails(crt, bundle)
    assert "linux.seccomp.syscalls[0].errnoRet" in err, err


def test_notify_without_listener_path_fails_create(crt, bundle):
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [deny(["mkdir"], action="SCMP_ACT_NOTIFY")]},
                ["true"])
    err = create_fails(crt, bundle)
    assert "linux.seccomp.listenerPath" in err, err


# ---- SCMP_ACT_NOTIFY: the test is the seccomp agent ----

# <linux/seccomp.h>: _IOWR('!', 0, struct seccomp_notif) (80 bytes) and
# _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes).
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
EXDEV = 18


class Agent(threading.Thread):
    """Accepts one connection on path, takes the seccomp fd and the state
    JSON, then answers every notification with -EXDEV until the filter
    has no user left."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.srv.settimeout(0.2)
        self.stop = threading.Event()
        self.message = None
        self.n_fds = 0
        self.answered = 0
        self.error = None

    def run(self):
        try:
            self._serve()
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.srv.close()

    def _serve(self):
        conn = None
        while conn is None and not self.stop.is_set():
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
        if conn is None:
            return
        with conn:
            conn.settimeout(DEFAULT_TIMEOUT)
            data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            try:
                # The state may come in several sends: read until it is
                # whole JSON (or the runtime closes the connection).
                while True:
                    try:
                        self.message = json.loads(data)
                        break
                    except ValueError:
                        more = conn.recv(65536)
                        if not more:
                            raise
                        data += more
            except BaseException:
                for fd in fds:
                    os.close(fd)
                raise
        self.n_fds = len(fds)
        try:
            if fds:
                self._answer(fds[0])
        finally:
            for fd in fds:
                os.close(fd)

    def _answer(self, nfd):
        poller = select.poll()
        poller.register(nfd, select.POLLIN)
        while not self.stop.is_set():
            events = poller.poll(200)
            if not events:
                continue
            if events[0][1] & select.POLLIN:
                req = bytearray(80)
                fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req, True)
                notif_id = struct.unpack_from("Q", req, 0)[0]
                resp = bytearray(struct.pack("QqiI", notif_id, 0, -EXDEV, 0))
                try:
                    fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
                    self.answered += 1
                except OSError:
                    pass    # the caller died meanwhile
            elif events[0][1] & (select.POLLHUP | select.POLLERR):
                return      # no process uses the filter any more


def test_notify_delivers_fd_and_state_to_agent(crt, bundle, test_dirs):
    listener = os.path.join(test_dirs.tmp, "agent.sock")
    agent = Agent(listener)
    agent.start()
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                         "listenerPath": listener, "listenerMetadata": "meta-42",
                         "syscalls": [deny(["mkdir", "mkdirat"], action="SCMP_ACT_NOTIFY")]},
                ["sh", "-c", "mkdir /tmp/notified; echo rc=$?"])
    try:
        r = crt("run", "--bundle", bundle.path, "c1")
    finally:
        agent.stop.set()
        agent.join(DEFAULT_TIMEOUT)
    assert agent.error is None, agent.error
    m = agent.message
    assert m is not None, f"the agent got no connection: {r!r}"
    assert agent.n_fds == 1, m
    assert m["ociVersion"]
    assert m["fds"] == ["seccompFd"], m
    assert m["metadata"] == "meta-42", m
    assert m["state"]["id"] == "c1", m
    assert m["state"]["status"] in ("creating", "created"), m
    assert os.path.realpath(m["state"]["bundle"]) == os.path.realpath(bundle.path), m
    assert isinstance(m["pid"], int) and m["pid"] > 0, m
    assert m["pid"] == m["state"]["pid"], m
    # The agent answered the container's mkdir with EXDEV.
    assert agent.answered >= 1, r
    assert r.returncode == 0, r
    assert r.stdout == "rc=1\n", r
    assert "Invalid cross-device link" in r.stderr, r
    assert not os.path.exists(bundle.in_rootfs("/tmp/notified"))


def test_notify_fd_sent_at_create(crt, bundle, test_dirs):
    # `create` alone hands the fd over: the agent has it before `start`.
    listener = os.path.join(test_dirs.tmp, "agent.sock")
    agent = Agent(listener)
    agent.start()
    set_seccomp(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": listener,
                         "syscalls": [deny(["mkdir", "mkdirat"], action="SCMP_ACT_NOTIFY")]},
                ["sleep", "60"])
    try:
        r = crt("create", "--bundle", bundle.path, "c1")
        assert r.returncode == 0, r
        deadline = DEFAULT_TIMEOUT
        agent.join(0.5)
        while agent.message is None and agent.error is None and deadline > 0:
            agent.join(0.1)
            deadline -= 0.1
        assert agent.error is None, agent.error
        assert agent.message is not None, "no state received after create"
        assert agent.n_fds == 1
        assert "metadata" not in agent.message or agent.message["metadata"] == ""
        assert agent.message["state"]["id"] == "c1"
        assert agent.message["pid"] == crt.state("c1")["pid"]
    finally:
        crt("delete", "--force", "c1")
        agent.stop.set()
        agent.join(DEFAULT_TIMEOUT)
