"""Where runc and crun agree, crt does the same (issue #11), seen from
inside the container. Each case was run with runc 1.1.5 and crun 1.8.1
on the same bundle when written; the comments say what they do."""

import os
import stat
import subprocess

import pytest

from conftest import APP_GID, APP_UID, add_userns


def stat_fields(text):
    """pid, pgrp and session of a /proc/PID/stat line."""
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[2]), int(fields[3])  # pgrp, session (after state, ppid)


def test_stdio_files_are_chowned_to_the_process_user(crt, bundle_factory, test_dirs):
    """A non-root process must be able to open /dev/stdout when crt's
    stdout is a root-owned file or pipe (nginx logs there): runc and crun
    chown stdio to the user, keeping the group."""
    b = bundle_factory(("sh", "-c", "echo via-dev-stdout > /dev/stdout; "
                                    "echo via-dev-stderr > /dev/stderr"),
                       user={"uid": APP_UID, "gid": APP_GID})
    out_path = os.path.join(test_dirs.tmp, "out.log")
    with open(out_path, "w") as out:
        os.chmod(out_path, 0o600)
        p = subprocess.run(crt.argv(["run", "--bundle", b.path, "stdio"]),
                           stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                           timeout=20)
    assert p.returncode == 0, p.stderr
    with open(out_path) as f:
        assert f.read() == "via-dev-stdout\n"
    assert b"via-dev-stderr" in p.stderr
    st = os.stat(out_path)
    assert (st.st_uid, st.st_gid) == (APP_UID, 0)


def test_stdio_dev_null_is_left_alone(crt, bundle_factory):
    b = bundle_factory(("true",), user={"uid": APP_UID, "gid": APP_GID})
    before = os.stat("/dev/null")
    r = crt("run", "--bundle", b.path, "devnull")  # stdin is /dev/null
    assert r.returncode == 0, r
    after = os.stat("/dev/null")
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)


def test_readonly_root_with_missing_cwd(crt, bundle_factory):
    """runc and crun create the cwd before the root becomes read-only."""
    b = bundle_factory(("sh", "-c", "pwd; touch x 2>/dev/null || echo read-only"),
                       cwd="/doesnotexist/deeper")
    b.config["root"]["readonly"] = True
    b.save()
    r = crt("run", "--bundle", b.path, "rocwd")
    assert r.returncode == 0, r
    assert r.stdout == "/doesnotexist/deeper\nread-only\n"


@pytest.fixture
def running(crt, bundle_factory):
    b = bundle_factory(("sleep", "1000"))
    b.config["root"]["readonly"] = True
    b.save()
    crt("run", "--detach", "--bundle", b.path, "par", check=True)
    yield b
    crt("delete", "--force", "par")


def test_exec_cwd_must_exist(crt, running):
    """runc and crun fail with a chdir error naming the path, and create
    nothing (crt used to mkdir it)."""
    r = crt("exec", "--cwd", "/invalid", "par", "pwd")
    assert r.returncode == 1, r
    assert "/invalid" in r.stderr and "No such file or directory" in r.stderr
    assert not os.path.exists(running.in_rootfs("invalid"))


def test_exec_cwd_existing(crt, running):
    r = crt("exec", "--cwd", "/home/app", "par", "pwd")
    assert r.returncode == 0, r
    assert r.stdout == "/home/app\n"


def test_init_is_a_session_leader(crt, bundle_factory):
    """runc and crun both make the init (without a terminal) a session and
    process group leader: pgrp and session 1 in its pid namespace."""
    b = bundle_factory(("cat", "/proc/self/stat"))
    r = crt("run", "--bundle", b.path, "sess")
    assert r.returncode == 0, r
    assert stat_fields(r.stdout) == (1, 1)


def test_exec_process_has_its_own_session(crt, running):
    """runc puts the exec'd process in a session of its own (crun leaves
    it in the caller's, which shows as 0): crt follows runc, so a Ctrl-C
    at crt's terminal is not delivered twice."""
    r = crt("exec", "par", "sh", "-c", "echo $$; cat /proc/self/stat")
    assert r.returncode == 0, r
    shell_pid = int(r.stdout.split()[0])
    assert stat_fields(r.stdout.split("\n", 1)[1]) == (shell_pid, shell_pid)


def test_exec_no_new_privs(crt, bundle_factory):
    b = bundle_factory(("sleep", "1000"), noNewPrivileges=False)
    crt("run", "--detach", "--bundle", b.path, "nnp", check=True)
    try:
        plain = crt("exec", "nnp", "grep", "NoNewPrivs", "/proc/self/status")
        nnp = crt("exec", "--no-new-privs", "nnp", "grep", "NoNewPrivs", "/proc/self/status")
        assert plain.stdout.split() == ["NoNewPrivs:", "0"], plain
        assert nnp.stdout.split() == ["NoNewPrivs:", "1"], nnp
    finally:
        crt("delete", "--force", "nnp")


def test_oom_score_adj_in_a_user_namespace(crt, bundle_factory):
    """In a new user namespace the init's and exec children's /proc files
    belong to the host's root (they are non-dumpable), so crt writes the
    init's oomScoreAdj itself and an exec child sets its own before it
    joins; both failed with EACCES in crt 05a0bc6."""
    b = bundle_factory(("sleep", "1000"), oomScoreAdj=123)
    add_userns(b)
    b.save()
    r = crt("run", "--detach", "--bundle", b.path, "oomns")
    assert r.returncode == 0, r
    try:
        init = crt("exec", "oomns", "cat", "/proc/1/oom_score_adj")
        own = crt("exec", "oomns", "cat", "/proc/self/oom_score_adj")
        assert init.stdout == "123\n", init
        assert own.stdout == "123\n", own
    finally:
        crt("delete", "--force", "oomns")


def test_time_offsets_in_a_user_namespace(crt, bundle_factory):
    """linux.timeOffsets with a new user namespace: the init's /proc files
    belong to the host's root there, so crt writes the offsets itself
    between the init's unshare and its entry (crt 05a0bc6 failed with
    EACCES on /proc/self/timens_offsets)."""
    day = 86400
    b = bundle_factory(("sh", "-c", "cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets"))
    add_userns(b)
    b.config["linux"]["namespaces"].append({"type": "time"})
    b.config["linux"]["timeOffsets"] = {"boottime": {"secs": 10 * day}}
    b.save()
    r = crt("run", "--bundle", b.path, "timens")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert float(lines[0]) >= 10 * day, r.stdout
    assert ["boottime", "864000", "0"] in [line.split() for line in lines[1:]], r.stdout
