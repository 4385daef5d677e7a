"""The C unit tests (`make check`), run as part of the pytest session so
that one summary line covers everything."""

import os
import subprocess

import pytest

from conftest import CRT


def build_dir():
    d = os.environ.get("CRT_BUILD_DIR")
    if d:
        return d
    # <build>/src/crt -> <build>
    return os.path.dirname(os.path.dirname(CRT))


def test_make_check():
    d = build_dir()
    if not os.path.isfile(os.path.join(d, "Makefile")):
        pytest.skip(f"no configured build tree at {d} (set CRT_BUILD_DIR)")
    p = subprocess.run(["make", "-C", d, "-j2", "check"], capture_output=True, text=True,
                       timeout=900)
    if p.returncode != 0:
        log = ""
        path = os.path.join(d, "test-suite.log")
        if os.path.exists(path):
            with open(path) as f:
                log = f.read()
        pytest.fail(f"make check failed (exit {p.returncode})\n{p.stdout[-4000:]}\n"
                    f"{p.stderr[-4000:]}\n{log[-8000:]}", pytrace=False)
