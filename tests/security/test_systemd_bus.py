"""Attacks on the systemd driver's D-Bus client (libcrt/dbus,
libcrt/cgroup/systemd_bus.c) from another client of the bus.

Any client of a system bus may send a signal to any other: one that
forges systemd's JobRemoved for the job crt waits for would have crt
take a scope systemd never made (the container then runs outside the
cgroup and limits it asked for). crt takes JobRemoved only from the
unique name that answered as org.freedesktop.systemd1. Here systemd is
a stand-in on a private dbus-daemon (tests/integration/dbuslib.py) whose
job fails after 300 ms, and a second client forges "done" for that job
at once: crt must wait for the real answer and fail.

With the sender check of on_signal dropped (a deliberately weakened
build), crt takes the forgery and `run` exits 0: this test fails.
"""

import contextlib
import os
import subprocess
import uuid

from dbuslib import FakeSystemd, dbus_daemon


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                return fields[4]
    raise RuntimeError("no cgroup2 mount")


@contextlib.contextmanager
def scratch_cgroup():
    """A cgroup of the test's own for crt to run in: a crt that wrongly
    takes its init's cgroup for the container's (the weakened builds the
    tests are for) then limits and removes only this one, not the cgroup
    the test runs in (`/` here: a build without the check once left its
    device program on the root of the host's cgroup2 tree)."""
    name = "crt-test-" + uuid.uuid4().hex[:8]
    path = os.path.join(cgroup2_mount(), name)
    os.mkdir(path)
    try:
        yield "/" + name, path
    finally:
        os.rmdir(path)


def run_in(cgroup_dir, crt, bundle, env):
    """crt --systemd-cgroup run c1, started from inside cgroup_dir
    (stdout and stderr as r.stdout, r.stderr)."""
    argv = crt.argv(["run", "--bundle", bundle.path, "c1"], global_args=("--systemd-cgroup",))
    script = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
    return subprocess.run(["sh", "-c", script, cgroup_dir, *argv], env=env,
                          capture_output=True, text=True, timeout=60)


def test_forged_job_removed_is_ignored(crt, bundle, tmp_path):
    bundle.config["linux"]["cgroupsPath"] = ""
    bundle.save()
    with dbus_daemon(tmp_path, "bus") as address:
        with FakeSystemd(address, result="failed", forge=True) as fake, \
                scratch_cgroup() as (_, cgroup_dir):
            env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
            r = run_in(cgroup_dir, crt, bundle, env)
    assert fake.forged, "the forgery was not sent"
    assert r.returncode == 1, r
    assert r.stderr.strip() == ("crt: run c1: --systemd-cgroup: start `crt-c1.scope`: the job "
                                "ended with `failed`"), r
    assert "StartTransientUnit" in fake.calls and "ResetFailedUnit" in fake.calls, fake.calls
    assert crt.state_entries() == []


def test_scope_must_hold_the_init(crt, bundle, tmp_path):
    """The control, and the second check: the stand-in's own "done" is
    believed, but it made no scope, so the init is still in crt's own
    cgroup (the scratch one it was started in). crt must not take that
    cgroup for the container's (it would set limits on it, freeze, kill
    and remove it): it refuses, naming both. Without that check (a
    weakened build) crt went on, put its device program on that cgroup
    and tried to remove it."""
    bundle.config["linux"]["cgroupsPath"] = ""
    bundle.save()
    with dbus_daemon(tmp_path, "bus") as address:
        with FakeSystemd(address, result="done", delay_ms=50) as fake, \
                scratch_cgroup() as (own, cgroup_dir):
            env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
            r = run_in(cgroup_dir, crt, bundle, env)
    assert "StartTransientUnit" in fake.calls, fake.calls
    assert r.returncode == 1, r
    assert r.stderr.strip() == (
        "crt: run c1: --systemd-cgroup: systemd said `crt-c1.scope` started, but the "
        f"container's init is in the cgroup `{own}`, not in that unit's"), r
    assert "StopUnit" in fake.calls, fake.calls
    assert crt.state_entries() == []
