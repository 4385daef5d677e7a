"""The OCI runtime-tools suite as a ratchet: every program listed in
tests/conformance/expected-pass.txt must PASS. The suite runs once per
session (tests/conformance/run.sh); set CRT_CONFORMANCE=0 to skip it."""

import os
import subprocess
import tempfile

import pytest

from conftest import CRT, REPO

HERE = os.path.join(REPO, "tests", "conformance")
SHARED = os.environ.get("CRT_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
SUITE = os.path.join(SHARED, "conformance", "runtime-tools", "run.sh")


def expected_programs():
    names = []
    with open(os.path.join(HERE, "expected-pass.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


@pytest.fixture(scope="module")
def suite_results(request):
    if os.environ.get("CRT_CONFORMANCE", "1") == "0":
        pytest.skip("conformance disabled for this session (CRT_CONFORMANCE=0)")
    if os.geteuid() != 0:
        pytest.skip("the conformance suite needs root")
    if not os.access(SUITE, os.X_OK):
        pytest.skip(f"runtime-tools suite not found at {SUITE} (set CRT_SHARED)")
    if not os.access(CRT, os.X_OK):
        pytest.fail(f"crt binary not found at {CRT}")
    out = tempfile.mkdtemp(prefix="crt-conformance-")
    p = subprocess.run([os.path.join(HERE, "run.sh"), "-o", out, CRT],
                       capture_output=True, text=True, timeout=1500)
    # The suite's closing lines (counts, newly passing programs) go to the
    # terminal even when the tests pass.
    tr = request.config.pluginmanager.getplugin("terminalreporter")
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if tr is not None and capman is not None:
        with capman.global_and_fixture_disabled():
            tr.write_line("")
            for line in p.stdout.splitlines():
                if line.startswith(("programs:", "# newly", "# not passing", "conformance:")) \
                        or " passed, " in line:
                    tr.write_line(f"[conformance] {line}")
    results = {}
    path = os.path.join(out, "results.tsv")
    if not os.path.exists(path):
        pytest.fail(f"suite produced no results (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t")))
            results[row["test"]] = row
    return {"dir": out, "results": results, "stdout": p.stdout}


def test_suite_ran_every_program(suite_results):
    bindir = os.path.dirname(SUITE) + "/bin"
    programs = {f[:-2] for f in os.listdir(bindir) if f.endswith(".t")}
    assert programs == set(suite_results["results"]), \
        f"programs that did not run: {programs - set(suite_results['results'])}"
    print(suite_results["stdout"].splitlines()[-2:])


@pytest.mark.parametrize("program", expected_programs())
def test_expected_pass(suite_results, program):
    row = suite_results["results"].get(program)
    assert row is not None, f"{program} did not run"
    assert row["verdict"] == "PASS", (
        f"{program}: {row['verdict']} ({row['reason']}); "
        f"see {suite_results['dir']}/{program}.tap and .err")
