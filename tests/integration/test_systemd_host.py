"""The systemd cgroup driver where systemd cannot be reached (this host
has no systemd as PID 1 and no system bus): a clear message naming what
is missing, and nothing created. What the driver does with a real
systemd is tests/cgroup/test_systemd_vm.py (in a VM with systemd)."""

import os
import subprocess

import pytest

from dbuslib import dbus_daemon
from test_errors import assert_nothing_created

NO_BUS = "/nonexistent/system_bus_socket"
ENV = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={NO_BUS}"}


def systemd_path(bundle, path=""):
    """The fixture's cgroupfs path is no systemd one: the default."""
    bundle.config["linux"]["cgroupsPath"] = path
    bundle.save()


@pytest.fixture(params=[("--systemd-cgroup",), ("--cgroup-manager=systemd",)],
                ids=["systemd-cgroup", "cgroup-manager"])
def flag(request):
    return request.param


@pytest.mark.parametrize("verb", ["create", "run"])
def test_no_bus_is_a_clear_error(crt, bundle, flag, verb):
    systemd_path(bundle)
    r = crt(verb, "--bundle", bundle.path, "c1", global_args=flag, env=ENV)
    assert r.returncode == 1, r
    assert r.stderr.strip() == (
        f"crt: {verb} c1: --systemd-cgroup: cannot reach systemd on the system bus "
        f"({NO_BUS}): No such file or directory"), r
    assert_nothing_created(crt)


@pytest.mark.skipif(os.path.exists("/run/dbus/system_bus_socket"),
                    reason="this host has a system bus")
def test_default_socket_named(crt, bundle):
    systemd_path(bundle)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SYSTEM_BUS_ADDRESS"}
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=env)
    assert r.returncode == 1, r
    assert "cannot reach systemd on the system bus (/run/dbus/system_bus_socket)" \
        in r.stderr, r
    assert_nothing_created(crt)


@pytest.mark.parametrize("path,error", [
    ("/crt/c1", "wants \"slice:prefix:name\""),
    ("system.slice:crt", "wants \"slice:prefix:name\""),
    ("system:crt:c1", "invalid slice name `system`"),
    ("system.slice:crt:x.slice", "a slice as the container's unit is not supported"),
])
def test_bad_cgroups_path_refused_first(crt, bundle, path, error):
    """The unit's name is checked before systemd is asked (no bus needed)."""
    systemd_path(bundle, path)
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=ENV)
    assert r.returncode == 1, r
    assert f"config.json: linux.cgroupsPath: `{path}`" in r.stderr, r
    assert error in r.stderr, r
    assert_nothing_created(crt)


def test_bad_property_annotation_refused(crt, bundle):
    systemd_path(bundle)
    bundle.config["annotations"] = {"org.systemd.property.TimeoutStopSec": "'soon'"}
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=ENV)
    assert r.returncode == 1, r
    assert "annotations: org.systemd.property.TimeoutStopSec: `'soon'` is not a number " \
        "of seconds" in r.stderr, r
    assert_nothing_created(crt)


# A bus with no systemd on it: a private dbus-daemon (tests/integration/
# dbuslib.py). crt authenticates, says Hello and asks for systemd's
# Version over the real daemon; the daemon's answer is the error crt
# reports.
@pytest.mark.parametrize("verb", ["create", "run"])
def test_bus_without_systemd(crt, bundle, tmp_path, verb):
    systemd_path(bundle)
    with dbus_daemon(tmp_path, "bus") as address:
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
        r = crt(verb, "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=env)
    assert r.returncode == 1, r
    assert r.stderr.startswith(
        f"crt: {verb} c1: --systemd-cgroup: systemd (org.freedesktop.systemd1) is not on the "
        f"system bus ({tmp_path}/bus): "), r
    assert "org.freedesktop.systemd1" in r.stderr.split("): ", 1)[1], r
    assert_nothing_created(crt)


def test_bus_refusing_external(crt, bundle, tmp_path):
    """A bus that takes no EXTERNAL authentication (ANONYMOUS only):
    the daemon's REJECTED is in the message."""
    systemd_path(bundle)
    with dbus_daemon(tmp_path, "strict", "<auth>ANONYMOUS</auth><allow_anonymous/>") as address:
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
        r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",),
                env=env)
    assert r.returncode == 1, r
    assert r.stderr.strip() == (
        f"crt: run c1: --systemd-cgroup: cannot reach systemd on the system bus "
        f"({tmp_path}/strict): the bus refused to authenticate crt (it said `REJECTED "
        f"ANONYMOUS`): Permission denied"), r
    assert_nothing_created(crt)
