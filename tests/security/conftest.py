"""Fixtures for the attack tests: the integration fixtures (real crt as
root against busybox bundles, leak checks after every test), loaded from
tests/integration/conftest.py under another module name so both
directories can run in one pytest session."""

import importlib.util
import os
import sys

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("crt_integration_conftest", _path)
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)
# Test modules here import helpers with `from crt_integration_conftest import ...`.
sys.modules["crt_integration_conftest"] = _integration

# Fixtures (pytest finds them by name in this module) and helpers.
crt_path = _integration.crt_path
template_rootfs = _integration.template_rootfs
bundle_factory = _integration.bundle_factory
bundle = _integration.bundle
test_dirs = _integration.test_dirs
crt = _integration.crt
_leak_check = _integration._leak_check
pytest_collection_modifyitems = _integration.pytest_collection_modifyitems

Bundle = _integration.Bundle
Crt = _integration.Crt
default_config = _integration.default_config
wait_for = _integration.wait_for
read_line = _integration.read_line
pid_alive = _integration.pid_alive
APP_UID = _integration.APP_UID
APP_GID = _integration.APP_GID
CRT = _integration.CRT
REPO = _integration.REPO
