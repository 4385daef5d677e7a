"""Fixtures for the security tests: those of tests/integration/conftest.py,
loaded under another module name (two modules named `conftest` would
clash) and re-exported, so both directories share one implementation."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("crt_integration_conftest", _path)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)

pytest_configure = _base.pytest_configure
pytest_collection_modifyitems = _base.pytest_collection_modifyitems

# fixtures
bundle_factory = _base.bundle_factory
bundle = _base.bundle
crt = _base.crt
test_dirs = _base.test_dirs
_leak_check = _base._leak_check
crt_path = _base.crt_path
template_rootfs = _base.template_rootfs

# helpers
Bundle = _base.Bundle
Crt = _base.Crt
default_config = _base.default_config
wait_for = _base.wait_for
read_line = _base.read_line
pid_alive = _base.pid_alive
APP_UID = _base.APP_UID
APP_GID = _base.APP_GID
CRT = _base.CRT
BUSYBOX = _base.BUSYBOX
DEFAULT_TIMEOUT = _base.DEFAULT_TIMEOUT
