"""The integration fixtures and hooks, for the conftest.py of another test
directory (tests/security, tests/criu), so its tests get the same bundles,
the same `crt` runner and the same leak checks after each test (state
dirs, mounts, processes, cgroups, fds, sanitizer reports).

tests/integration/conftest.py is loaded under its own module name,
crt_integration_conftest: every directory's file is named conftest.py and
pytest keeps only one module called "conftest" at a time. Test modules
import helpers from that name:  from crt_integration_conftest import wait_for
"""

import importlib.util
import os
import sys

MODULE = "crt_integration_conftest"
_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py")

def load():
    if MODULE in sys.modules:
        return sys.modules[MODULE]
    spec = importlib.util.spec_from_file_location(MODULE, _PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[MODULE] = mod
    spec.loader.exec_module(mod)
    return mod


def export(namespace):
    """Put every name of the integration conftest (its hooks, fixtures and
    helpers) into a conftest's globals(). All of them, not only the
    fixtures: an integration test's `from conftest import wait_for` finds
    whichever conftest module pytest imported last."""
    integration = load()
    for name, value in vars(integration).items():
        if not name.startswith("__"):
            namespace.setdefault(name, value)
