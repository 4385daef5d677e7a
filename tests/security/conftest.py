"""The security tests use the integration tests' fixtures and helpers:
tests/integration/conftest.py, loaded under another module name (two
modules named `conftest` would clash) and re-exported from here."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("crt_integration_conftest", _path)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)

pytest_configure = _base.pytest_configure
pytest_collection_modifyitems = _base.pytest_collection_modifyitems

bundle_factory = _base.bundle_factory
bundle = _base.bundle
crt = _base.crt
test_dirs = _base.test_dirs
_leak_check = _base._leak_check
crt_path = _base.crt_path
template_rootfs = _base.template_rootfs

for _name in _base.__all__:
    globals()[_name] = getattr(_base, _name)
