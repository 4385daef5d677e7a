"""Fixtures for crt's security tests: the integration fixtures, reused.

tests/integration/conftest.py is loaded under its own module name (both
files are named conftest.py, and pytest keeps only one module called
"conftest" at a time) and its fixtures and hooks are re-exported here, so
every test in this directory gets the same bundles, the same `crt` runner
and the same leak checks after each test (state dirs, mounts, processes,
cgroups, fds, sanitizer reports).

Test modules import the helpers from the module name, not from
"conftest":  from crt_integration_conftest import default_config
"""

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

_NAME = "crt_integration_conftest"
_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "integration", "conftest.py")


def _load():
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = mod
    spec.loader.exec_module(mod)
    return mod


integration = _load()

# Hooks: the marker, and the skip when not root or without busybox.
pytest_configure = integration.pytest_configure
pytest_collection_modifyitems = integration.pytest_collection_modifyitems

# Fixtures.
crt_path = integration.crt_path
template_rootfs = integration.template_rootfs
test_dirs = integration.test_dirs
_leak_check = integration._leak_check
crt = integration.crt
bundle_factory = integration.bundle_factory
bundle = integration.bundle

# Helpers.
CRT = integration.CRT
REPO = integration.REPO
DEFAULT_TIMEOUT = integration.DEFAULT_TIMEOUT
Bundle = integration.Bundle
Crt = integration.Crt
Result = integration.Result
TestDirs = integration.TestDirs
default_config = integration.default_config
wait_for = integration.wait_for
read_line = integration.read_line
pid_alive = integration.pid_alive
mounts_under = integration._mounts_under
APP_UID = integration.APP_UID
APP_GID = integration.APP_GID


# Static attackers of tests/security/helpers/*.c, built once per session
# (static: the busybox rootfs has no libc).
HELPERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers")


@pytest.fixture(scope="session")
def static_helper(tmp_path_factory):
    built = {}

    def build(name):
        if name not in built:
            if shutil.which("gcc") is None:
                pytest.skip("gcc not installed (apt-get install gcc libc6-dev)")
            out = str(tmp_path_factory.mktemp(name) / name)
            r = subprocess.run(["gcc", "-static", "-O2", "-o", out,
                                os.path.join(HELPERS, name + ".c")], capture_output=True, text=True)
            if r.returncode != 0:
                pytest.fail(f"cannot build helpers/{name}.c: {r.stderr}")
            built[name] = out
        return built[name]
    return build
