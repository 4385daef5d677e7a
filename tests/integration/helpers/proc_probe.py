"""proc_probe.py PID: what this process (an attacker of the same user)
can get of process PID through /proc and ptrace, as JSON on stdout.

Every probe says "ok" (with what it read) or the errno name of its
refusal. Used by test_rootless.py's dumpable-window tests, run as the
rootless user.
"""

import ctypes
import errno
import fcntl
import json
import os
import sys

PTRACE_ATTACH, PTRACE_DETACH = 16, 17
NS_GET_OWNER_UID = 0xB704  # _IO(0xb7, 0x4)


def attempt(fn):
    try:
        return {"ok": fn()}
    except OSError as e:
        return {"err": errno.errorcode.get(e.errno, str(e.errno))}


def read(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read() if not binary else len(f.read(64))


def fds(pid):
    base = f"/proc/{pid}/fd"
    return {n: os.readlink(f"{base}/{n}") for n in os.listdir(base)}


def mem(pid):
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    os.close(fd)
    return True


def exe_for_writing(pid):
    fd = os.open(f"/proc/{pid}/exe", os.O_WRONLY)
    os.close(fd)
    return True


def userns_owner(pid):
    fd = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, NS_GET_OWNER_UID, buf)
        return int.from_bytes(buf, sys.byteorder)
    finally:
        os.close(fd)


def ptrace_attach(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    # Attached (a weakened runtime): let it go again as it was.
    os.waitpid(pid, os.__dict__.get("__WALL", 0x40000000))
    libc.ptrace(PTRACE_DETACH, pid, None, None)
    return True


def main():
    pid = int(sys.argv[1])
    status = attempt(lambda: read(f"/proc/{pid}/status"))
    if "ok" in status:
        status["ok"] = {k: v.strip() for k, v in
                        (line.split(":", 1) for line in status["ok"].splitlines())
                        if k in ("Uid", "Gid", "Groups", "CapEff")}
    out = {
        "owner": attempt(lambda: os.stat(f"/proc/{pid}").st_uid),
        "uid_map": attempt(lambda: read(f"/proc/{pid}/uid_map")),
        "status": status,
        "userns_owner": attempt(lambda: userns_owner(pid)),
        "fds": attempt(lambda: fds(pid)),
        "environ": attempt(lambda: read(f"/proc/{pid}/environ", binary=True)),
        "mem": attempt(lambda: mem(pid)),
        "exe_for_writing": attempt(lambda: exe_for_writing(pid)),
    }
    if "--ptrace" in sys.argv:
        out["ptrace"] = attempt(lambda: ptrace_attach(pid))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
