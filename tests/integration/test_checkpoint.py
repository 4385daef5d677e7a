"""checkpoint/restore on the host: flags, help and every error path.

On this host's kernel CRIU itself cannot work (`criu check` fails in its
kernel feature detection), so the dump and restore that must succeed are
in tests/criu/test_criu_vm.py (a Debian 6.1 kernel). Here: crt refuses
what it must before criu runs, passes criu's own failure through, and
leaves nothing behind (the fixtures check state dirs, mounts, processes
and cgroups after each test)."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import add_userns

CRIU = shutil.which("criu") or shutil.which("criu", path="/usr/sbin:/sbin")
needs_criu = pytest.mark.skipif(CRIU is None, reason="criu not installed (apt-get install criu)")
# A PATH with everything the tests run but criu.
NO_CRIU_ENV = dict(os.environ, PATH="/nonexistent")

CHECKPOINT_FLAGS = ("--image-path", "--work-path", "--leave-running", "--tcp-established",
                    "--file-locks", "--pre-dump", "--parent-path", "--manage-cgroups-mode",
                    "--ext-unix-sk", "--shell-job", "--auto-dedup", "--link-remap",
                    "--tcp-skip-in-flight", "--empty-ns")
RESTORE_FLAGS = ("--image-path", "--work-path", "--bundle", "--detach", "--pid-file",
                 "--console-socket", "--tcp-established", "--file-locks",
                 "--manage-cgroups-mode", "--ext-unix-sk", "--shell-job", "--auto-dedup",
                 "--empty-ns", "--no-subreaper", "--no-pivot")


def criu_works():
    if CRIU is None:
        return False
    return subprocess.run([CRIU, "check"], capture_output=True).returncode == 0


def run_sleeper(crt, bundle_factory, cid="c1"):
    b = bundle_factory(("sleep", "1000"))
    r = crt("run", "-d", "-b", b.path, cid)
    assert r.returncode == 0, r
    return b


def test_help_lists_every_flag(crt):
    for cmd, flags in (("checkpoint", CHECKPOINT_FLAGS), ("restore", RESTORE_FLAGS)):
        r = crt(cmd, "--help")
        assert r.returncode == 0, r
        for f in flags:
            assert f in r.stdout, (cmd, f)
    top = crt("--help").stdout
    assert "checkpoint" in top and "restore" in top


@needs_criu
def test_version_and_features_say_criu(crt):
    assert crt("--version").stdout.split("\n")[3].endswith(" +CRIU")
    ann = crt("features").json()["annotations"]
    assert ann.get("io.github.crt.checkpoint.enabled") == "true"
    # Without a criu, neither claims it.
    r = crt("--version", env=NO_CRIU_ENV)
    assert r.stdout.split("\n")[3].endswith(" -CRIU"), r
    ann = crt("features", env=NO_CRIU_ENV).json()["annotations"]
    assert "io.github.crt.checkpoint.enabled" not in ann


def test_checkpoint_without_criu(crt, bundle_factory, tmp_path):
    run_sleeper(crt, bundle_factory)
    images = tmp_path / "img"
    r = crt("checkpoint", "--image-path", str(images), "c1", env=NO_CRIU_ENV)
    assert r.returncode == 1
    assert "crt: checkpoint c1: criu not found in PATH" in r.stderr, r
    assert not images.exists()          # nothing made before criu is found
    assert crt.status("c1") == "running"
    assert crt("delete", "-f", "c1").returncode == 0


@needs_criu
@pytest.mark.skipif(criu_works(), reason="criu works on this kernel: the VM test covers it")
def test_checkpoint_criu_failure_passed_through(crt, bundle_factory, tmp_path):
    run_sleeper(crt, bundle_factory)
    images = tmp_path / "img"
    r = crt("checkpoint", "--image-path", str(images), "c1")
    assert r.returncode == 1
    assert "crt: checkpoint c1: criu dump failed: " in r.stderr, r
    # criu's own words, from its log, and where the log is.
    log = (images / "dump.log").read_text()
    said = [line[line.index("Error ("):] for line in log.splitlines() if "Error (" in line]
    assert said and said[-1] in r.stderr, (said, r.stderr)
    assert f"(log: {images}/dump.log)" in r.stderr
    # The container is untouched: still running, still ours.
    assert crt.status("c1") == "running"
    assert crt("exec", "c1", "true").returncode == 0
    assert crt("delete", "-f", "c1").returncode == 0


@pytest.mark.parametrize("args, message", [
    (("--manage-cgroups-mode", "bogus"),
     "--manage-cgroups-mode: invalid value \"bogus\": want soft, full, strict or ignore"),
    (("--pre-dump", "--leave-running"), "--pre-dump: always leaves the container running"),
    (("--parent-path", "/abs"), "--parent-path `/abs`: must be relative to the image directory"),
    (("--empty-ns", "network", "--empty-ns", "ipc"), "--empty-ns: `ipc`: only network is supported"),
])
def test_checkpoint_bad_flags(crt, bundle_factory, tmp_path, args, message):
    run_sleeper(crt, bundle_factory)
    r = crt("checkpoint", "--image-path", str(tmp_path / "img"), *args, "c1")
    assert r.returncode == 1 and message in r.stderr, r
    assert not (tmp_path / "img").exists()
    assert crt.status("c1") == "running"
    assert crt("delete", "-f", "c1").returncode == 0


def test_checkpoint_usage_errors(crt):
    r = crt("checkpoint", "--bogus", "c1")
    assert r.returncode == 1 and "checkpoint: unknown flag '--bogus'" in r.stderr, r
    r = crt("checkpoint")
    assert r.returncode == 1 and "checkpoint: requires exactly 1 argument(s)" in r.stderr, r
    r = crt("restore", "--image-path")
    assert r.returncode == 1 and "restore: flag '--image-path' requires a value" in r.stderr, r


def test_checkpoint_not_running(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sleep", "1000"))
    r = crt("checkpoint", "--image-path", str(tmp_path / "img"), "nosuch")
    assert r.returncode == 1 and "checkpoint nosuch: " in r.stderr, r
    assert crt("create", "-b", b.path, "c1").returncode == 0
    r = crt("checkpoint", "--image-path", str(tmp_path / "img"), "c1")
    assert r.returncode == 1
    assert "cannot checkpoint container `c1`: it is created (want running or paused)" in r.stderr, r
    assert crt("start", "c1").returncode == 0
    assert crt("kill", "c1", "KILL").returncode == 0
    crt.wait_status("c1", "stopped")
    r = crt("checkpoint", "--image-path", str(tmp_path / "img"), "c1")
    assert r.returncode == 1 and "it is stopped (want running or paused)" in r.stderr, r
    assert not (tmp_path / "img").exists()
    assert crt("delete", "c1").returncode == 0


def with_userns(b):
    add_userns(b)
    b.save()


@needs_criu
def test_checkpoint_userns_image_dir_for_its_root(crt, bundle_factory, tmp_path):
    """The image directory crt makes for a user-namespace container is
    its root's group, mode 0710: criu's restored tasks open their images
    as that root (test_criu_vm.py restores one). Here criu may fail (this
    host's kernel); the directory is made before it runs."""
    b = bundle_factory(("sleep", "1000"))
    with_userns(b)
    assert crt("run", "-d", "-b", b.path, "c1").returncode == 0
    images = tmp_path / "img"
    crt("checkpoint", "--leave-running", "--image-path", str(images), "c1", timeout=120)
    st = os.stat(images)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 100000, 0o710)
    assert crt.status("c1") == "running"
    assert crt("delete", "-f", "c1").returncode == 0


@needs_criu
def test_restore_userns_image_dir_its_root_cannot_search(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sleep", "1000"))
    with_userns(b)
    images = fake_images(tmp_path)
    os.chmod(images, 0o700)
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(images), "c1")
    assert r.returncode == 1, r
    assert (f"--image-path `{images}`: criu's restored tasks open their images as the root of "
            "the container's user namespace (host uid 100000, gid 100000), which cannot "
            "search this directory") in r.stderr, r
    no_container_left(crt)
    # Given to its group: on to criu (which then refuses the fake images).
    os.chown(images, 0, 100000)
    os.chmod(images, 0o710)
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(images), "c1")
    assert r.returncode == 1 and "criu restore failed" in r.stderr, r
    no_container_left(crt)


def fake_images(tmp_path):
    """A directory criu would take for a checkpoint (an empty inventory)."""
    d = tmp_path / "img"
    d.mkdir()
    (d / "inventory.img").write_bytes(b"")
    return d


def no_container_left(crt, cid="c1"):
    assert crt("state", cid).returncode == 1
    assert crt("list", "-q").stdout.strip() == ""


def test_restore_bad_image_dir(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sleep", "1000"))
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "missing"), "c1")
    assert r.returncode == 1
    assert f"--image-path `{tmp_path}/missing`: No such file or directory" in r.stderr, r
    (tmp_path / "empty").mkdir()
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(tmp_path / "empty"), "c1")
    assert r.returncode == 1
    assert "not a checkpoint (no inventory.img)" in r.stderr, r
    no_container_left(crt)


def test_restore_existing_id(crt, bundle_factory, tmp_path):
    b = run_sleeper(crt, bundle_factory)
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(fake_images(tmp_path)), "c1")
    assert r.returncode == 1 and "restore c1: container with given ID already exists" in r.stderr, r
    assert crt.status("c1") == "running"
    assert crt("delete", "-f", "c1").returncode == 0


def test_restore_without_criu(crt, bundle_factory, tmp_path):
    b = bundle_factory(("sleep", "1000"))
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(fake_images(tmp_path)), "c1",
            env=NO_CRIU_ENV)
    assert r.returncode == 1 and "restore c1: criu not found in PATH" in r.stderr, r
    no_container_left(crt)


@needs_criu
def test_restore_takes_containerds_flags(crt, bundle_factory, tmp_path):
    """containerd's shim restores with go-runc's `-no-subreaper` (one
    dash, which runc's flag library takes) and maybe --no-pivot: accepted,
    on to criu (which refuses the fake images)."""
    b = bundle_factory(("sleep", "1000"))
    r = crt("restore", "--detach", "--pid-file", str(tmp_path / "pid"), "--no-pivot",
            "-no-subreaper", "--empty-ns", "network", "--ext-unix-sk", "--image-path",
            str(fake_images(tmp_path)), "--bundle", b.path, "c1")
    assert r.returncode == 1 and "crt: restore c1: criu restore failed: " in r.stderr, r
    no_container_left(crt)


@needs_criu
def test_restore_criu_failure_undone(crt, bundle_factory, tmp_path):
    """criu refuses the images: its message comes through, and the state,
    cgroup and criu's root mount crt made are gone (the fixtures check)."""
    b = bundle_factory(("sleep", "1000"))
    images = fake_images(tmp_path)
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(images), "c1")
    assert r.returncode == 1
    assert "crt: restore c1: criu restore failed: " in r.stderr, r
    assert f"(log: {images}/restore.log)" in r.stderr
    log = (images / "restore.log").read_text()
    said = [line[line.index("Error ("):] for line in log.splitlines() if "Error (" in line]
    assert said and said[-1] in r.stderr, (said, r.stderr)
    no_container_left(crt)


@pytest.mark.parametrize("change, args, message", [
    ("terminal", (), "config.json: process.terminal: a detached restore needs "
                     "--console-socket to hand the new terminal to"),
    (None, ("--console-socket", "/nonexistent.sock"),
     "--console-socket: the container has no terminal"),
    ("userns-devices", (), "config.json: linux.devices: restore of a container with a user "
                           "namespace and devices is not supported by crt"),
    ("no-mntns", (), "config.json: linux.namespaces: restore needs a mount namespace"),
    (None, ("--manage-cgroups-mode", "x"), "--manage-cgroups-mode: invalid value \"x\""),
    (None, ("--empty-ns", "pid"), "--empty-ns: `pid`: only network is supported"),
])
def test_restore_refusals(crt, bundle_factory, tmp_path, change, args, message):
    b = bundle_factory(("sleep", "1000"))
    if change == "terminal":
        b.config["process"]["terminal"] = True
    elif change == "userns-devices":
        with_userns(b)
        b.config["linux"]["devices"] = [{"path": "/dev/crt-null", "type": "c", "major": 1,
                                         "minor": 3}]
    elif change == "no-mntns":
        b.drop_namespace("mount")
    b.save()
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(fake_images(tmp_path)), *args,
            "c1")
    assert r.returncode == 1 and message in r.stderr, r
    no_container_left(crt)


def test_host_dev_null_stdio_becomes_the_containers(crt, bundle_factory):
    """An engine's /dev/null stdin (conmon's) is reopened from the
    container's /dev, as runc does: a file of a mount outside the
    container is what criu cannot dump ("Can't lookup mount")."""
    script = ("for fd in 0 1; do m=$(grep mnt_id /proc/self/fdinfo/$fd | tr -dc 0-9); "
              "grep \"^$m \" /proc/self/mountinfo | cut -d' ' -f5; done")
    b = bundle_factory(("sh", "-c", script))
    r = crt("run", "-b", b.path, "c1")         # stdin: the host's /dev/null
    assert r.returncode == 0, r
    lines = r.stdout.split("\n")
    assert lines[0] == "/dev", r
    # Other streams are left as they are (stdout: a file of the test's).
    assert lines[1] != "/dev", r
