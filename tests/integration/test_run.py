"""`crt run` in the foreground: exit status, stdio, signal forwarding."""

import os
import signal
import subprocess
import time

import pytest

from conftest import read_line, wait_for


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_code(crt, bundle, code):
    bundle.config["process"]["args"] = ["sh", "-c", f"exit {code}"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == code, r


def test_killed_by_signal_is_128_plus_n(crt, bundle):
    # The init of a pid namespace cannot be killed by a signal sent from
    # inside it (the kernel drops it: no handler for SIGKILL), so this test
    # shares the host pid namespace: there `kill -9 $$` kills the init.
    bundle.drop_namespace("pid")
    bundle.config["process"]["args"] = ["sh", "-c", "kill -9 $$; echo survived"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 137, r
    assert "survived" not in r.stdout


def test_shell_reports_killed_child_as_137(crt, bundle):
    # With a pid namespace: a child killed by SIGKILL, its status passed on.
    bundle.config["process"]["args"] = ["sh", "-c", "sh -c 'kill -9 $$'; exit $?"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 137, r


def test_stdout_and_stderr_are_separate(crt, bundle):
    bundle.config["process"]["args"] = [
        "sh", "-c", "echo to-stdout; echo to-stderr >&2; echo more-stdout"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout == "to-stdout\nmore-stdout\n"
    assert "to-stderr\n" in r.stderr
    assert "to-stdout" not in r.stderr


def test_stdin_passthrough(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "read line; echo got:$line"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", input="hello\n")
    assert r.returncode == 0, r
    assert r.stdout == "got:hello\n"


def test_large_output(crt, bundle):
    # More than a pipe buffer: crt must not sit between the container and
    # its stdout in a way that truncates or deadlocks.
    bundle.config["process"]["args"] = ["sh", "-c", "seq 1 100000"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == 100000 and lines[-1] == "100000"


TRAP = 'trap "echo graceful; exit 0" {sig}; echo ready; while :; do sleep 0.1; done'


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1])
def test_run_forwards_signal(crt, bundle, sig):
    bundle.config["process"]["args"] = ["sh", "-c", TRAP.format(sig=sig.name[3:])]
    bundle.save()
    p = crt.popen("run", "--bundle", bundle.path, "c1")
    try:
        assert read_line(p) == "ready\n"
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert b"graceful" in out, (out, err)
    assert p.returncode == 0, (p.returncode, out, err)


def test_run_killed_from_outside(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "echo ready; while :; do sleep 0.1; done"]
    bundle.save()
    p = crt.popen("run", "--bundle", bundle.path, "c1")
    try:
        assert read_line(p) == "ready\n"
        assert crt.status("c1") == "running"
        r = crt("kill", "c1", "KILL")
        assert r.returncode == 0, r
        p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 128 + 9
    assert crt("state", "c1").returncode != 0, "run must delete the container"


def test_run_keep(crt, bundle):
    r = crt("run", "--keep", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert crt.status("c1") == "stopped"
    assert crt("delete", "c1").returncode == 0


def test_run_waits_for_init_only(crt, bundle):
    # A background child that outlives PID 1 is killed with the pid
    # namespace; crt run returns when the init exits.
    bundle.config["process"]["args"] = ["sh", "-c", "sleep 1000 & exit 3"]
    bundle.save()
    t = time.monotonic()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 3, r
    assert time.monotonic() - t < 10


def test_same_id_reusable_after_run(crt, bundle):
    for _ in range(2):
        r = crt("run", "--bundle", bundle.path, "again")
        assert r.returncode == 0, r


def test_kill_signal_names_and_numbers(crt, bundle):
    log = "/sig.log"
    script = ("for s in USR1 USR2 HUP; do trap \"echo $s >> %s\" $s; done; "
              "trap \"echo TERM >> %s; exit 0\" TERM; "
              "touch /started; while :; do sleep 0.05; done") % (log, log)
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.save()
    host_log = bundle.in_rootfs(log)
    assert crt("run", "-d", "--bundle", bundle.path, "c1").returncode == 0
    wait_for(lambda: os.path.exists(bundle.in_rootfs("/started")), what="start")

    def lines():
        try:
            with open(host_log) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    expected = []
    for arg, name in [("USR1", "USR1"), ("SIGUSR2", "USR2"), ("1", "HUP"),
                      ("sigusr1", "USR1"), (str(signal.SIGUSR2.value), "USR2")]:
        r = crt("kill", "c1", arg)
        assert r.returncode == 0, r
        expected.append(name)
        wait_for(lambda: lines() == expected, what=f"signal {arg} to arrive (log: {lines()})")

    # No signal argument: SIGTERM, like runc.
    r = crt("kill", "c1")
    assert r.returncode == 0, r
    crt.wait_status("c1", "stopped")
    assert lines() == expected + ["TERM"]
    assert crt("delete", "c1").returncode == 0


@pytest.mark.parametrize("bad", ["NOSUCHSIG", "0x", "999", "-1"])
def test_kill_bad_signal(crt, bundle, bad):
    assert crt("create", "--bundle", bundle.path, "c1").returncode == 0
    r = crt("kill", "c1", bad)
    assert r.returncode != 0
    assert bad in r.stderr or "signal" in r.stderr.lower(), r
    assert crt.status("c1") == "created"
    assert crt("delete", "c1").returncode == 0


def test_kill_stopped_container_fails(crt, bundle):
    assert crt("run", "-d", "--bundle", bundle.path, "c1").returncode == 0
    crt.wait_status("c1", "stopped")
    r = crt("kill", "c1", "KILL")
    assert r.returncode != 0
    assert crt("delete", "c1").returncode == 0


def test_kill_created_container(crt, bundle):
    assert crt("create", "--bundle", bundle.path, "c1").returncode == 0
    r = crt("kill", "c1", "KILL")
    assert r.returncode == 0, r
    crt.wait_status("c1", "stopped")
    assert crt("delete", "c1").returncode == 0


def test_run_pid_file(crt, bundle):
    pidfile = os.path.join(crt.tmp, "run.pid")
    bundle.config["process"]["args"] = ["sh", "-c", "echo ready; while :; do sleep 0.1; done"]
    bundle.save()
    p = crt.popen("run", "--pid-file", pidfile, "--bundle", bundle.path, "c1")
    try:
        assert read_line(p) == "ready\n"
        wait_for(lambda: os.path.exists(pidfile), what="the pid file")
        with open(pidfile) as f:
            assert int(f.read()) == crt.state("c1")["pid"]
        assert crt("kill", "c1", "KILL").returncode == 0
        p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()


@pytest.mark.parametrize("net", [True, False], ids=["netns", "no-netns"])
@pytest.mark.parametrize("when", ["first-mount", "last-step"])
def test_setup_failing_after_early_start(crt, bundle, net, when):
    """`run` sends START before the init is READY (after lo is up, with a
    network namespace), so the init goes on to exec without a round trip.
    When its setup fails after that, at once (/proc a symlink: the init
    may be gone before START is even sent, or leave it unread) or at its
    last step (a hard limit above fs.nr_open), the program still never
    runs, and crt reports the init's own error, not a lost connection."""
    data = os.path.join(crt.tmp, "data")
    os.makedirs(data)
    bundle.config["process"]["args"] = ["sh", "-c", "touch /data/ran"]
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": data, "options": ["bind"]})
    if when == "last-step":
        bundle.config["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "hard": 1 << 30, "soft": 1024}]
        expect = "setrlimit RLIMIT_NOFILE"
    else:
        os.rmdir(bundle.in_rootfs("proc"))
        os.symlink("/elsewhere", bundle.in_rootfs("proc"))
        expect = "`/proc`"
    if not net:
        bundle.drop_namespace("network")
    bundle.save()
    for i in range(5):
        r = crt("run", "--bundle", bundle.path, f"c{i}")
        assert r.returncode == 1, r
        assert expect in r.stderr, r
        assert os.listdir(data) == []
        assert crt("state", f"c{i}").returncode != 0


def test_crt_itself_not_left_in_container(crt, bundle):
    # Nothing of crt stays in the container: PID 1 is the user's program.
    bundle.config["process"]["args"] = ["sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    cmdline, nprocs = r.stdout.splitlines()
    assert cmdline.startswith("sh -c"), r
    # PID 1 (sh), cat/tr/ls/grep of the pipelines: nothing else.
    assert int(nprocs) <= 3, r


def test_no_host_env_leaks(crt, bundle):
    bundle.config["process"]["args"] = ["env"]
    bundle.save()
    env = dict(os.environ, CRT_TEST_SECRET="leaked")
    r = crt("run", "--bundle", bundle.path, "c1", env=env)
    assert r.returncode == 0, r
    assert "CRT_TEST_SECRET" not in r.stdout


def test_no_fds_leak_into_container(crt, bundle):
    # "; true": busybox sh would otherwise exec ls, whose own directory fd shows.
    bundle.config["process"]["args"] = ["sh", "-c", "ls /proc/$$/fd; true"]
    bundle.save()
    rfd, wfd = os.pipe()
    try:
        r = crt("run", "--bundle", bundle.path, "c1", pass_fds=(rfd, wfd))
    finally:
        os.close(rfd)
        os.close(wfd)
    assert r.returncode == 0, r
    assert sorted(r.stdout.split(), key=int) == ["0", "1", "2"], r


def test_preserve_fds(crt, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "echo via-fd3 >&3; ls /proc/$$/fd; true"]
    bundle.save()
    path = os.path.join(crt.tmp, "fd3")
    out = os.path.join(crt.tmp, "preserve.out")
    # A shell opens fd 3 for crt (pytest itself may be using fd 3).
    argv = crt.argv(["run", "--preserve-fds", "1", "--bundle", bundle.path, "c1"])
    with open(out, "w") as o:
        p = subprocess.run(["sh", "-c", 'exec "$@" 3>"$FD3"', "sh", *argv],
                           env=dict(os.environ, FD3=path), stdout=o,
                           stderr=subprocess.PIPE, timeout=30)
    with open(out) as o:
        stdout = o.read()
    assert p.returncode == 0, (stdout, p.stderr)
    assert sorted(stdout.split(), key=int) == ["0", "1", "2", "3"], stdout
    with open(path) as f:
        assert f.read() == "via-fd3\n"


def test_run_under_load_of_many(crt, bundle):
    # Ten sequential runs: no state, mount or process accumulates.
    for i in range(10):
        r = crt("run", "--bundle", bundle.path, f"seq{i}")
        assert r.returncode == 0, r
    assert crt.state_entries() == []


def test_spec_creates_valid_default(crt, bundle):
    d = os.path.join(crt.tmp, "specdir")
    os.makedirs(d)
    r = crt("spec", "--bundle", d)
    assert r.returncode == 0, r
    import json
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    assert {"pid", "mount"} <= {n["type"] for n in cfg["linux"]["namespaces"]}
    # Refuses to overwrite.
    r = crt("spec", "--bundle", d)
    assert r.returncode != 0
    assert "exists" in r.stderr, r


def test_spec_config_runs(crt, bundle):
    # The default spec, with only terminal and args changed, runs.
    os.unlink(bundle.config_path)
    r = crt("spec", "--bundle", bundle.path)
    assert r.returncode == 0, r
    import json
    with open(bundle.config_path) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sh", "-c", "echo hostname=$(hostname) pid=$$"]
    with open(bundle.config_path, "w") as f:
        json.dump(cfg, f)
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    assert r.stdout.strip().endswith("pid=1"), r


def test_version(crt):
    r = crt("--version")
    assert r.returncode == 0, r
    assert "crt" in r.stdout and "version" in r.stdout.lower(), r


def test_unknown_command(crt):
    r = crt("frobnicate")
    assert r.returncode != 0
    assert "frobnicate" in r.stderr, r


def test_sigchld_race_short_lived(crt, bundle):
    # A program that exits before crt could possibly wait for it.
    bundle.config["process"]["args"] = ["true"]
    bundle.save()
    for i in range(5):
        r = crt("run", "--bundle", bundle.path, f"short{i}")
        assert r.returncode == 0, r


@pytest.mark.slow
def test_run_zombie_reaping_not_required(crt, bundle):
    # PID 1 (sh) reaps its children itself; crt run still returns promptly.
    bundle.config["process"]["args"] = ["sh", "-c", "for i in 1 2 3; do true & done; wait; exit 5"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1")
    assert r.returncode == 5, r


def test_log_file(crt, bundle):
    # --log: errors go to the log file too (runc writes them there).
    log = os.path.join(crt.tmp, "crt.log")
    bundle.config["process"]["args"] = ["nope"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "c1", global_args=("--log", log))
    assert r.returncode != 0
    with open(log) as f:
        assert "nope" in f.read()


def test_state_requires_id(crt):
    r = crt("state")
    assert r.returncode != 0
    assert r.stderr.strip(), "a usage error must say what is wrong"


@pytest.mark.parametrize("how", ["run", "run-pid-file", "create-start"])
def test_program_starts_with_default_signals(crt, bundle, how):
    """A caller that ignores or blocks signals (make does, for glibc's 32
    and 33; `cmd &` in a script ignores SIGINT and SIGQUIT) does not pass
    that on to the container's program. The init resets only what its
    parent found ignored (crt_ignored_signals: bit s below 32, one bit for
    all from 32 on), handed over with START (`run`: early, or after READY
    with --pid-file) or DETACH (`create`, then `start` from a caller that
    ignores nothing)."""
    import signal as sig
    out = os.path.join(crt.tmp, "out")
    # grep itself is the program: a shell would ignore SIGQUIT of its own.
    bundle.config["process"]["args"] = ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]
    bundle.save()

    def ignore_and_block():
        for s in (sig.SIGHUP, sig.SIGINT, sig.SIGUSR2, sig.SIGSYS, sig.SIGRTMIN + 3, sig.SIGRTMAX):
            sig.signal(s, sig.SIG_IGN)
        sig.pthread_sigmask(sig.SIG_BLOCK, {sig.SIGUSR1})

    argv = ["create" if how == "create-start" else "run", "--bundle", bundle.path, "c1"]
    if how == "run-pid-file":
        argv[1:1] = ["--pid-file", os.path.join(crt.tmp, "pid")]
    # (Files, not pipes: the init of `create` holds its stdio open.)
    with open(out, "w") as o, open(out + ".err", "w+") as e:
        p = subprocess.run(crt.argv(argv), stdout=o, stderr=e, timeout=30,
                           preexec_fn=ignore_and_block)
        e.seek(0)
        assert p.returncode == 0, e.read()
    if how == "create-start":
        r = crt("start", "c1")
        assert r.returncode == 0, r
        crt.wait_status("c1", "stopped")
        assert crt("delete", "c1").returncode == 0
    with open(out) as f:
        text = f.read()
    assert "SigBlk:\t0000000000000000" in text, text
    assert "SigIgn:\t0000000000000000" in text, text


def test_kill_all(crt, bundle):
    # --all reaches every process of the container, not only its init.
    script = ('(trap "echo child >> /log; exit 0" USR1; touch /child-ready; '
              'while :; do sleep 0.05; done) & '
              'trap "echo init >> /log" USR1; touch /started; while :; do sleep 0.05; done')
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "c1").returncode == 0
    wait_for(lambda: os.path.exists(bundle.in_rootfs("/started"))
             and os.path.exists(bundle.in_rootfs("/child-ready")), what="start")

    def logged():
        try:
            with open(bundle.in_rootfs("/log")) as f:
                return sorted(f.read().split())
        except FileNotFoundError:
            return []

    r = crt("kill", "--all", "c1", "USR1")
    assert r.returncode == 0, r
    wait_for(lambda: logged() == ["child", "init"], what=f"both processes to log (log: {logged()})")
    assert crt("delete", "--force", "c1").returncode == 0
