"""Fixtures for the CRIU tests: the integration fixtures and hooks,
re-exported by tests/integration/reuse.py, so the checkpoint/restore tests
get the same bundles, `crt` runner and leak checks after each test."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import reuse  # noqa: E402  (tests/integration/reuse.py)

reuse.export(globals())
