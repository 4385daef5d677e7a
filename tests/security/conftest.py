"""Fixtures for crt's security tests: the integration fixtures, reused.

The fixtures and hooks of tests/integration/conftest.py are re-exported
here by tests/integration/reuse.py (which says how); test modules import
its helpers as:  from crt_integration_conftest import default_config
"""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import reuse  # noqa: E402  (tests/integration/reuse.py)

reuse.export(globals())


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
