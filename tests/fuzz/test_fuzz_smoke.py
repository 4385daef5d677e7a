"""Smoke run of the libFuzzer harnesses of tests/fuzz.

The harnesses are built once per session (tests/fuzz/build.sh, into a
temporary directory, or into $CRT_FUZZ_BUILD_DIR to keep the build
between runs), then each runs for 30 seconds (CRT_FUZZ_SECONDS) from a
copy of its seed corpus, so the repository's corpus/ is never written to.
Any crash, leak, timeout or UBSan report fails the test; the fuzzer's
last lines are in the failure message, and the input that triggered it in
the artifact directory it names.

Skipped, with the reason, when clang or its libFuzzer runtime is missing
(apt-get install clang). Needs neither root nor CRT_BINARY.
"""

import os
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
SECONDS = int(os.environ.get("CRT_FUZZ_SECONDS", "30"))

# harness -> its dictionary (tests/fuzz/*.dict)
HARNESSES = {
    "spec": "json.dict",
    "process": "json.dict",
    "resources": "json.dict",
    "state": "json.dict",
    "seccomp": "json.dict",
    "mount_opts": "mount_opts.dict",
    "parse": "parse.dict",
    "criu_resp": "criu_resp.dict",
    "dbus": "dbus.dict",
}

# What ASan, LSan, UBSan and libFuzzer print when they find something.
REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:"
                    r"|SUMMARY: (Address|Leak|Undefined)|==\d+== ?ERROR")


@pytest.fixture(scope="session")
def fuzz_bin(tmp_path_factory):
    """The directory of the built harnesses (built once per session)."""
    if shutil.which(os.environ.get("CC", "clang")) is None:
        pytest.skip("clang not found: the fuzz harnesses need clang and libFuzzer "
                    "(apt-get install clang)")
    out = os.environ.get("CRT_FUZZ_BUILD_DIR") or str(tmp_path_factory.mktemp("fuzz-build"))
    env = dict(os.environ, JOBS=os.environ.get("JOBS", "1"))
    r = subprocess.run([os.path.join(HERE, "build.sh"), out], env=env,
                       capture_output=True, text=True, timeout=1800)
    if r.returncode == 77:
        pytest.skip("cannot build libFuzzer harnesses: " + r.stderr.strip().splitlines()[0])
    if r.returncode != 0:
        pytest.fail(f"tests/fuzz/build.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr[-4000:]}")
    return out


@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_fuzz_smoke(fuzz_bin, harness, tmp_path):
    binary = os.path.join(fuzz_bin, "fuzz_" + harness)
    assert os.access(binary, os.X_OK), f"{binary} was not built"
    seeds = os.path.join(CORPUS, harness)
    work = tmp_path / "corpus"
    shutil.copytree(seeds, work)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")}
    # Reports on stderr (not in a log_path of the asan session), and the
    # first one ends the run.
    env["ASAN_OPTIONS"] = "detect_leaks=1:allocator_may_return_null=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    cmd = [binary, f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=2048",
           "-print_final_stats=1", "-dict=" + os.path.join(HERE, HARNESSES[harness]),
           f"-artifact_prefix={artifacts}/", str(work)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, errors="replace",
                       timeout=SECONDS + 120)
    log = r.stdout + r.stderr
    tail = "\n".join(log.splitlines()[-40:])
    found = REPORT.search(log)
    assert r.returncode == 0 and not found, (
        f"fuzz_{harness} found a bug (exit {r.returncode}); inputs in {artifacts}: "
        f"{sorted(os.listdir(artifacts))}\n{tail}")
    done = re.search(r"stat::number_of_executed_units: (\d+)", log)
    assert done and int(done.group(1)) > 0, f"fuzz_{harness} ran nothing:\n{tail}"
