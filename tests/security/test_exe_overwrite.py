"""CVE-2019-5736: the host's runtime binary overwritten from inside.

crt never re-execs and the container's program is the user's, but from
the clone to the execve every `exec` child (and the init until `start`)
is a copy of the crt process, visible in the container's pid namespace
with the container's credentials. crt 05a0bc6 left it dumpable: a static
program in the container spinning on /proc/<next pid>/exe opened the host
binary during `crt exec`, kept the fd, and after the exec reopened it for
writing through /proc/self/fd/N and appended to it.

Here the attacker (helpers/exe_race.c) runs as the container's PID 1
while the host runs 300 `crt exec` (as root and as uid 1001) and, in
a second container that shares its pid namespace, several create→start
cycles whose init it can watch waiting for `start`. The crt used is a
private copy whose hash must not change; the attacker must not get a
single fd of it, nor /proc/PID/environ, mem or fd of a crt process.

On crt 05a0bc6 (no PR_SET_DUMPABLE) this test fails: the attacker gets
the binary within the 300 execs and appends to the copy.
"""

import hashlib
import os
import shutil
import subprocess
import time

import pytest

from crt_integration_conftest import CRT, Crt, wait_for

EXECS = 300
CREATE_START_ROUNDS = 5


@pytest.fixture
def exe_race(static_helper):
    return static_helper("exe_race")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def parse_result(text):
    return {k: int(v) for k, v in (kv.split("=") for kv in text.split())}


def test_container_cannot_reach_the_host_binary(crt, bundle_factory, test_dirs, exe_race):
    # A private copy named crt (its comm), so damage stays in the test.
    bindir = os.path.join(test_dirs.tmp, "hostbin")
    os.makedirs(bindir)
    private = os.path.join(bindir, "crt")
    shutil.copy2(crt.binary, private)
    before = sha256(private)
    st = os.stat(private)
    mine = Crt(private, crt.root, crt.tmp)

    b = bundle_factory(("/exe_race", str(st.st_dev), str(st.st_ino), "/stop", "/result"))
    shutil.copy2(exe_race, b.in_rootfs("exe_race"))
    # The attacker has what a default container has: root, no CAP_SYS_PTRACE.
    r = mine("run", "--detach", "--bundle", b.path, "attacker")
    assert r.returncode == 0, r
    state = mine.state("attacker")
    try:
        for i in range(EXECS):
            user = ["-u", "1001:1001"] if i % 3 == 2 else []
            e = mine("exec", *user, "attacker", "true")
            assert e.returncode == 0, e

        # create -> start of a second container in the attacker's pid
        # namespace: its init waits for `start` where the attacker sees it.
        b2 = bundle_factory(("true",))
        for ns in b2.config["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = f"/proc/{state['pid']}/ns/pid"
        b2.save()
        for i in range(CREATE_START_ROUNDS):
            cid = f"victim{i}"
            c = mine("create", "--bundle", b2.path, cid)
            assert c.returncode == 0, c
            time.sleep(0.3)
            s = mine("start", cid)
            assert s.returncode == 0, s
            wait_for(lambda: mine("state", cid).json()["status"] == "stopped", timeout=10,
                     what=f"{cid} to stop")
            mine("delete", cid)

        with open(b.in_rootfs("stop"), "w"):
            pass
        wait_for(lambda: os.path.exists(b.in_rootfs("result")), timeout=20,
                 what="the attacker's result")
        time.sleep(0.1)
        with open(b.in_rootfs("result")) as f:
            res = parse_result(f.read())
    finally:
        mine("delete", "--force", "attacker")

    # The attacker did watch crt processes, so the test could have failed.
    assert res["crt_seen"] > 0, res
    assert res["exe_hits"] == 0, res
    assert res["environ"] == 0 and res["mem"] == 0 and res["fd"] == 0, res
    assert res["appended"] == 0, res
    assert sha256(private) == before
