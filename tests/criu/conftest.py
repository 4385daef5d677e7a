"""Fixtures for the CRIU tests: the integration fixtures, reused (loaded
under their own module name, as tests/security/conftest.py does), so the
checkpoint/restore tests get the same bundles, `crt` runner and leak
checks after each test."""

import importlib.util
import os
import sys

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

pytest_configure = integration.pytest_configure
pytest_collection_modifyitems = integration.pytest_collection_modifyitems

crt_path = integration.crt_path
template_rootfs = integration.template_rootfs
test_dirs = integration.test_dirs
_leak_check = integration._leak_check
crt = integration.crt
bundle_factory = integration.bundle_factory
bundle = integration.bundle
