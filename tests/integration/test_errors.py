"""Every error: a clear message, a non-zero exit, and nothing created
(no state directory, no mounts, no process; the fixture checks the last
two after each test, these tests check the state directory at once)."""

import json
import os
import re

import pytest

from conftest import pid_alive, wait_for


def assert_nothing_created(crt, cid="c1"):
    assert crt.state_entries() == [], f"state left: {crt.state_entries()}"
    r = crt("state", cid)
    assert r.returncode != 0


@pytest.fixture(params=["create", "run"])
def verb(request):
    return request.param


def fails(crt, verb, bundle, cid="c1"):
    r = crt(verb, "--bundle", bundle.path, cid)
    assert r.returncode != 0, r
    assert r.stderr.strip(), "an error must be explained on stderr"
    assert r.stdout == "", r
    assert "\n" not in r.stderr.strip() or len(r.stderr.splitlines()) <= 3, \
        f"one clear message, not a dump:\n{r.stderr}"
    assert_nothing_created(crt, cid)
    return r.stderr


def test_malformed_json(crt, bundle, verb):
    bundle.write_raw_config('{\n  "ociVersion": "1.2.0",\n  "process": {"args": ["sh",]}\n}\n')
    err = fails(crt, verb, bundle)
    assert "config.json" in err
    assert re.search(r"line\s*3\b|:3:\d+", err), f"no line number (3) in: {err}"
    assert re.search(r"col(umn)?\s*\d+|:3:\d+", err), f"no column in: {err}"


def test_empty_config(crt, bundle, verb):
    bundle.write_raw_config("")
    err = fails(crt, verb, bundle)
    assert "config.json" in err


def test_missing_config(crt, bundle, verb):
    os.unlink(bundle.config_path)
    err = fails(crt, verb, bundle)
    assert "config.json" in err
    assert "No such file" in err or "not found" in err or "does not exist" in err


def test_wrong_type(crt, bundle, verb):
    bundle.config["process"]["args"] = "sh -c true"
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "process.args" in err


def test_wrong_type_nested(crt, bundle, verb):
    bundle.config["process"]["user"]["uid"] = "zero"
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "process.user.uid" in err


def test_empty_args(crt, bundle, verb):
    bundle.config["process"]["args"] = []
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "process.args" in err


def test_unknown_namespace(crt, bundle, verb):
    bundle.config["linux"]["namespaces"].append({"type": "bogus"})
    bundle.save()
    n = len(bundle.config["linux"]["namespaces"]) - 1
    err = fails(crt, verb, bundle)
    assert f'linux.namespaces[{n}].type: unknown namespace "bogus"' in err


def test_duplicate_namespace(crt, bundle, verb):
    bundle.config["linux"]["namespaces"].append({"type": "pid"})
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "pid" in err and "linux.namespaces" in err


def test_missing_rootfs(crt, bundle, verb):
    bundle.config["root"]["path"] = "no-such-rootfs"
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "no-such-rootfs" in err


def test_rootfs_is_a_file(crt, bundle, verb):
    with open(os.path.join(bundle.path, "afile"), "w"):
        pass
    bundle.config["root"]["path"] = "afile"
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "afile" in err


def test_missing_bundle(crt, verb):
    r = crt(verb, "--bundle", os.path.join(crt.tmp, "nonexistent"), "c1")
    assert r.returncode != 0
    assert "nonexistent" in r.stderr
    assert_nothing_created(crt)


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "..", ".", "", "a b",
                                    pytest.param("x" * 1025, id="1025-chars"),
                                    "/abs", "semi;colon"])
def test_bad_id(crt, bundle, verb, bad_id):
    r = crt(verb, "--bundle", bundle.path, bad_id)
    assert r.returncode != 0, r
    assert "id" in r.stderr.lower(), r
    assert crt.state_entries() == []
    parent = os.path.dirname(crt.root)
    assert not os.path.exists(os.path.join(parent, "x")), "escaped the state root"


@pytest.mark.parametrize("cmd", ["state", "start", "kill", "delete"])
def test_bad_id_other_commands(crt, cmd):
    r = crt(cmd, "../x")
    assert r.returncode != 0
    assert r.stderr.strip()


def test_duplicate_id(crt, bundle_factory, verb):
    b1, b2 = bundle_factory(), bundle_factory()
    assert crt("create", "--bundle", b1.path, "dup").returncode == 0
    st = crt.state("dup")
    r = crt(verb, "--bundle", b2.path, "dup")
    assert r.returncode != 0
    assert "exists" in r.stderr, r
    st2 = crt.state("dup")
    assert st2["status"] == "created" and st2["pid"] == st["pid"]
    assert st2["bundle"] == os.path.realpath(b1.path), "the first container's state was replaced"
    assert crt("delete", "dup").returncode == 0


def test_start_nonexistent(crt):
    r = crt("start", "nosuch")
    assert r.returncode != 0
    assert "does not exist" in r.stderr, r


def test_start_running(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "while :; do sleep 0.1; done"]
    bundle.save()
    assert crt("create", "--bundle", bundle.path, "c1").returncode == 0
    assert crt("start", "c1").returncode == 0
    r = crt("start", "c1")
    assert r.returncode != 0
    assert "running" in r.stderr, r
    assert crt.status("c1") == "running"
    assert crt("delete", "--force", "c1").returncode == 0


def test_start_stopped(crt, bundle):
    assert crt("run", "-d", "--bundle", bundle.path, "c1").returncode == 0
    crt.wait_status("c1", "stopped")
    r = crt("start", "c1")
    assert r.returncode != 0
    assert "stopped" in r.stderr, r
    assert crt("delete", "c1").returncode == 0


def test_missing_executable(crt, bundle):
    bundle.config["process"]["args"] = ["nope"]
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode != 0, "must fail at create time, not at start"
    assert 'exec: "nope": executable file not found in $PATH' in r.stderr, r
    assert_nothing_created(crt)


def test_missing_executable_run(crt, bundle):
    bundle.config["process"]["args"] = ["nope"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode != 0
    assert 'exec: "nope": executable file not found in $PATH' in r.stderr, r
    assert_nothing_created(crt)


def test_missing_executable_absolute(crt, bundle, verb):
    bundle.config["process"]["args"] = ["/bin/nope"]
    bundle.save()
    err = fails(crt, verb, bundle)
    # runc's text, errno spelled as Go does: the docker CLI maps a start
    # error holding "no such file or directory" (case-sensitive) to 127.
    assert 'exec: "/bin/nope": stat /bin/nope: no such file or directory' in err, err


def test_not_executable(crt, bundle, verb):
    with open(bundle.in_rootfs("/bin/notexec"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(bundle.in_rootfs("/bin/notexec"), 0o644)
    bundle.config["process"]["args"] = ["/bin/notexec"]
    bundle.save()
    err = fails(crt, verb, bundle)
    # runc's text; "permission denied" in lower case is docker's exit 126.
    assert 'exec: "/bin/notexec": permission denied' in err, err


def test_terminal_without_console_socket_refused(crt, bundle):
    # A detached container has nobody to hand its pty to: refused up
    # front, with a message that says why.
    bundle.config["process"]["terminal"] = True
    bundle.save()
    err = fails(crt, "create", bundle)
    assert "terminal" in err or "console" in err


@pytest.mark.parametrize("version", ["2.0.0", "0.9.0", "banana"])
def test_unsupported_oci_version(crt, bundle, verb, version):
    bundle.config["ociVersion"] = version
    bundle.save()
    err = fails(crt, verb, bundle)
    assert version in err
    assert "ociVersion" in err


def test_missing_oci_version(crt, bundle, verb):
    del bundle.config["ociVersion"]
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "ociVersion" in err


def test_mount_failure_cleans_up(crt, bundle, verb):
    # A bind mount of a source that does not exist fails inside the
    # container setup: the error comes back to the user, nothing remains.
    bundle.config["mounts"].append({"destination": "/data", "type": "bind",
                                    "source": "/nonexistent-source-dir", "options": ["rbind"]})
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "/nonexistent-source-dir" in err


def test_unknown_mount_type(crt, bundle, verb):
    bundle.config["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "none"})
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "/x" in err or "nosuchfs" in err


def test_bad_uid_user_unknown_in_container(crt, bundle):
    # A numeric uid without a passwd entry is fine (runc does the same).
    bundle.config["process"]["user"] = {"uid": 4242, "gid": 4242}
    bundle.config["process"]["args"] = ["id", "-u"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "4242\n"


def test_cwd_relative_refused(crt, bundle, verb):
    bundle.config["process"]["cwd"] = "relative"
    bundle.save()
    err = fails(crt, verb, bundle)
    assert "cwd" in err.lower()


def test_error_after_clone_kills_init(crt, bundle):
    # Failures in the container's setup must not leave its init behind:
    # the fixture checks for processes; here we also check create's pid file.
    pidfile = os.path.join(crt.tmp, "pid")
    bundle.config["process"]["args"] = ["nope"]
    bundle.save()
    r = crt("create", "--pid-file", pidfile, "--bundle", bundle.path, "c1")
    assert r.returncode != 0
    if os.path.exists(pidfile):
        with open(pidfile) as f:
            text = f.read().strip()
        if text:
            wait_for(lambda: not pid_alive(int(text)), what="the failed init to go")
    assert_nothing_created(crt)


def test_log_format_json(crt, bundle):
    log = os.path.join(crt.tmp, "log.json")
    bundle.config["process"]["args"] = ["nope"]
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "c1",
            global_args=("--log", log, "--log-format", "json"))
    assert r.returncode != 0
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    assert any(e.get("level") == "error" and "nope" in e.get("msg", "") for e in entries), entries
    # As runc: the file gets JSON, stderr the text a person reads.
    assert r.stderr.startswith("crt: create c1: ") and "nope" in r.stderr, r
    assert not r.stderr.lstrip().startswith("{"), r


def test_log_format_json_without_log_file_goes_to_stderr(crt):
    r = crt("start", "no-such-ctr", global_args=("--log-format", "json"))
    assert r.returncode == 1, r
    entry = json.loads(r.stderr.splitlines()[0])
    assert entry["level"] == "error" and "no-such-ctr" in entry["msg"], r


def test_warnings_go_to_the_log_file_only(crt, bundle):
    # A failing poststop hook is a warning: in --log FILE, not on stderr.
    log = os.path.join(crt.tmp, "log.json")
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    bundle.save()
    assert crt("create", "--bundle", bundle.path, "c-warn").returncode == 0
    r = crt("delete", "c-warn", global_args=("--log", log, "--log-format", "json"))
    assert r.returncode == 0 and r.stderr == "", r
    with open(log) as f:
        entries = [json.loads(line) for line in f if line.strip()]
    assert any(e["level"] == "warning" and "hooks.poststop[0]" in e["msg"] for e in entries), \
        entries


# --------------------------------------------------------------------------
# runc's words for the lifecycle errors engines see (issue #15)
# --------------------------------------------------------------------------

def test_start_running_or_stopped_and_create_existing_id(crt, bundle):
    bundle.config["process"]["args"] = ["sleep", "30"]
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "e1").returncode == 0
    r = crt("start", "e1")
    assert r.returncode == 1 and r.stderr == \
        "crt: start e1: cannot start an already running container\n", r
    r = crt("create", "--bundle", bundle.path, "e1")
    assert r.returncode == 1 and r.stderr == \
        "crt: create e1: container with given ID already exists\n", r
    r = crt("run", "--bundle", bundle.path, "e1")
    assert r.returncode == 1 and "container with given ID already exists" in r.stderr, r
    # The container that has the id is untouched.
    assert crt.status("e1") == "running"
    r = crt("delete", "e1")
    assert r.returncode == 1 and r.stderr == \
        "crt: delete e1: cannot delete container e1 that is not stopped: running\n", r
    assert crt("kill", "e1", "KILL").returncode == 0
    crt.wait_status("e1", "stopped")
    r = crt("start", "e1")
    assert r.returncode == 1 and r.stderr == \
        "crt: start e1: cannot start a container that has stopped\n", r
    assert crt("delete", "e1").returncode == 0


def test_delete_several_ids(crt, bundle_factory):
    # One bundle each: a bundle names its own cgroup.
    for cid in ("d1", "d2"):
        assert crt("create", "--bundle", bundle_factory().path, cid).returncode == 0
    r = crt("delete", "d1", "nope", "d2", "nope2")
    assert r.returncode == 1, r
    # Each failure once, in order; the others are deleted.
    assert r.stderr.splitlines() == ["crt: delete nope: container `nope` does not exist",
                                     "crt: delete nope2: container `nope2` does not exist"], r
    assert crt("list", "-q").stdout.split() == []
    for cid in ("d3", "d4"):
        assert crt("create", "--bundle", bundle_factory().path, cid).returncode == 0
    r = crt("delete", "--force", "d3", "d4")
    assert r.returncode == 0 and r.stderr == "", r
    assert crt("list", "-q").stdout.split() == []


COMMANDS = ["create", "delete", "events", "exec", "features", "kill", "list", "pause", "ps",
            "resume", "run", "spec", "start", "state", "update"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_every_flag_it_accepts(crt, command):
    """Every flag in `crt COMMAND --help` is accepted by the command (the
    parser and the help come from one table, so nothing accepted is
    missing from it); runc's flags of the command are all there."""
    r = crt(command, "--help")
    assert r.returncode == 0 and r.stderr == "", r
    flags = re.findall(r"^\s+(?:-(\w), )?--([\w-]+)(?: (\S+))?", r.stdout.split("Flags:", 1)[1],
                       re.M)
    assert ("h", "help", "") in flags, flags
    for short, name, value in flags:
        arg = f"--{name}=1" if value else f"--{name}"
        r = crt(command, arg, "--help")
        assert r.returncode == 0, (arg, r)
        if short:
            r = crt(command, f"-{short}", *(["1"] if value else []), "--help")
            assert r.returncode == 0, (short, r)
    listed = {name for _, name, _ in flags}
    assert set(RUNC_FLAGS.get(command, ())) <= listed, set(RUNC_FLAGS[command]) - listed


# The flags of runc 1.1.5 crt takes as runc does (`runc COMMAND --help`).
RUNC_FLAGS = {
    "create": ["bundle", "console-socket", "pid-file", "no-pivot", "no-new-keyring",
               "preserve-fds"],
    "run": ["bundle", "console-socket", "detach", "keep", "pid-file", "no-pivot",
            "no-new-keyring", "preserve-fds"],
    "delete": ["force"],
    "kill": ["all"],
    "list": ["format", "quiet"],
    "ps": ["format"],
    "events": ["interval", "stats"],
    "exec": ["console-socket", "cwd", "env", "tty", "user", "additional-gids", "process",
             "detach", "pid-file", "process-label", "apparmor", "no-new-privs", "cap",
             "preserve-fds", "cgroup", "ignore-paused"],
    "spec": ["bundle", "rootless"],
    "update": ["resources", "blkio-weight", "cpu-period", "cpu-quota", "cpu-shares",
               "cpuset-cpus", "cpuset-mems", "memory", "memory-reservation", "memory-swap",
               "pids-limit"],
}
