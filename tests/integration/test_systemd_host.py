"""The systemd cgroup driver where systemd cannot be reached (this host
has no systemd as PID 1 and no system bus): a clear message naming what
is missing, and nothing created. What the driver does with a real
systemd is tests/cgroup/test_systemd_vm.py (in a VM with systemd)."""

import os
import subprocess

import pytest

from conftest import has_systemd_driver
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
    if has_systemd_driver(crt):
        assert r.stderr.strip() == (
            f"crt: {verb} c1: --systemd-cgroup: cannot reach systemd on the system bus "
            f"({NO_BUS}): No such file or directory"), r
    else:
        assert "built without libsystemd" in r.stderr, r
    assert_nothing_created(crt)


@pytest.mark.skipif(os.path.exists("/run/dbus/system_bus_socket"),
                    reason="this host has a system bus")
def test_default_socket_named(crt, bundle):
    systemd_path(bundle)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SYSTEM_BUS_ADDRESS"}
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=env)
    assert r.returncode == 1, r
    if has_systemd_driver(crt):
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
    if has_systemd_driver(crt):
        assert f"config.json: linux.cgroupsPath: `{path}`" in r.stderr, r
        assert error in r.stderr, r
    assert_nothing_created(crt)


def test_bad_property_annotation_refused(crt, bundle):
    systemd_path(bundle)
    bundle.config["annotations"] = {"org.systemd.property.TimeoutStopSec": "'soon'"}
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--systemd-cgroup",), env=ENV)
    assert r.returncode == 1, r
    if has_systemd_driver(crt):
        assert "annotations: org.systemd.property.TimeoutStopSec: `'soon'` is not a number " \
            "of seconds" in r.stderr, r
    assert_nothing_created(crt)


def test_cgroupfs_unaffected(crt, bundle):
    """Without the flag nothing asks for systemd."""
    r = crt("run", "--bundle", bundle.path, "c1", env=ENV)
    assert r.returncode == 0, r
