"""/dev entries and masked paths that the image pre-makes as symlinks, or
that a racing container swaps during setup (runc CVE-2025-31133,
CVE-2025-52565, CVE-2025-52881, crun and youki's /dev and maskedPaths
CVEs).

runc bound /dev/null over masked files by path: an image whose /dev/null
was a symlink to /proc/sys/kernel/core_pattern (or a racer that swapped
it in) got core_pattern bound writable, or the mask bound over the
symlink's target. crt opens /dev/null through the resolver, checks that
the fd is the null device and binds from that fd; /dev/console and
/dev/ptmx likewise (test_proc_redirect.py). Here: every default device
and the masked-path source, pre-made as symlinks and swapped by a racer,
with and without a terminal; no host file is written, bound or opened as
stdio, and masking still masks.
"""

import os
import shutil
import socket
import stat
import subprocess

import pytest

from crt_integration_conftest import wait_for

ROUNDS = 200
TARGETS = ["/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger", "../../host-marker"]


def core_pattern():
    with open("/proc/sys/kernel/core_pattern") as f:
        return f.read()


def no_dev_tmpfs(b):
    """The image's own /dev (no tmpfs over it): what the image pre-makes
    there is what crt finds."""
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    b.save()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", ["null", "zero", "full", "random", "urandom", "tty"])
def test_default_device_premade_as_symlink(crt, bundle_factory, test_dirs, name, target):
    before = core_pattern()
    marker = os.path.join(test_dirs.tmp, "host-marker")
    with open(marker, "w") as f:
        f.write("untouched\n")
    b = bundle_factory(("sh", "-c", f"echo written > /dev/{name}; true"))
    no_dev_tmpfs(b)
    os.symlink(target, b.in_rootfs(f"dev/{name}"))
    r = crt("run", "--bundle", b.path, "devlink")
    assert r.returncode == 1, r
    assert f"/dev/{name}" in r.stderr and "symlink" in r.stderr, r
    assert core_pattern() == before
    with open(marker) as f:
        assert f.read() == "untouched\n"


@pytest.mark.parametrize("target", TARGETS)
def test_masked_file_with_dev_null_symlinked(crt, bundle_factory, test_dirs, target):
    """/dev is a bind of a prepared directory (so no default devices are
    made) whose null leads elsewhere: masking a file needs the null
    device, so create fails instead of binding whatever null leads to."""
    before = core_pattern()
    devdir = os.path.join(test_dirs.tmp, "devdir")
    os.makedirs(os.path.join(devdir, "pts"))
    os.symlink(target, os.path.join(devdir, "null"))
    b = bundle_factory(("true",))
    for m in b.config["mounts"]:
        if m["destination"] == "/dev":
            m.update(type="bind", source=devdir, options=["rbind"])
    b.config["linux"]["maskedPaths"] = ["/etc/passwd"]
    b.save()
    r = crt("run", "--bundle", b.path, "masknull")
    assert r.returncode == 1, r
    assert "maskedPaths `/etc/passwd`" in r.stderr, r
    assert core_pattern() == before


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_masked_path_symlinked_masks_only_the_container(crt, bundle_factory, kind):
    """A masked path that the image made a symlink: the mask lands on what
    it leads to inside the root (runc and crun resolve it the same way),
    never outside, and what is masked reads empty."""
    b = bundle_factory(("sh", "-c", "cat /secret/* /secret 2>/dev/null; echo end"))
    if kind == "file":
        os.makedirs(b.in_rootfs("real"))
        with open(b.in_rootfs("real/data"), "w") as f:
            f.write("SECRET\n")
        os.symlink("/real/data", b.in_rootfs("secret"))
    else:
        os.makedirs(b.in_rootfs("real"))
        with open(b.in_rootfs("real/data"), "w") as f:
            f.write("SECRET\n")
        os.symlink("../../../real", b.in_rootfs("secret"))
    b.config["linux"]["maskedPaths"] = ["/secret"]
    b.save()
    r = crt("run", "--bundle", b.path, "masklink")
    assert r.returncode == 0, r
    assert "SECRET" not in r.stdout
    with open(b.in_rootfs("real/data")) as f:
        assert f.read() == "SECRET\n"


@pytest.fixture
def swap_race(static_helper):
    return static_helper("swap_race")


@pytest.mark.parametrize("terminal", [False, True], ids=["no-terminal", "terminal"])
def test_dev_null_and_console_swapped_during_setup(crt, bundle_factory, test_dirs, swap_race,
                                                   terminal):
    """A racer in another container swaps the victim's /dev/null (and
    /dev/console) with a symlink to core_pattern through a shared /dev
    directory, 200 creates long."""
    before = core_pattern()
    devdir = os.path.join(test_dirs.tmp, "devdir")
    os.makedirs(os.path.join(devdir, "pts"))
    os.mknod(os.path.join(devdir, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.symlink("/proc/sys/kernel/core_pattern", os.path.join(devdir, "evil"))
    with open(os.path.join(devdir, "console"), "w"):
        pass
    os.symlink("/proc/sys/kernel/core_pattern", os.path.join(devdir, "evilconsole"))
    os.symlink("pts/ptmx", os.path.join(devdir, "ptmx"))

    racer = bundle_factory(("sh", "-c", "/swap_race /shared/null /shared/evil /shared/stop & "
                                        "/swap_race /shared/console /shared/evilconsole "
                                        "/shared/stop & wait"))
    shutil.copy2(swap_race, racer.in_rootfs("swap_race"))
    racer.config["mounts"].append({"destination": "/shared", "type": "bind", "source": devdir,
                                   "options": ["rbind"]})
    racer.save()

    victim = bundle_factory(("true",), terminal=terminal)
    for m in victim.config["mounts"]:
        if m["destination"] == "/dev":
            m.update(type="bind", source=devdir, options=["rbind"])
    victim.config["linux"]["maskedPaths"] = ["/etc/passwd"]
    victim.save()

    sock_path = os.path.join(test_dirs.tmp, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(64)
    srv.settimeout(0.2)
    r = crt("run", "--detach", "--bundle", racer.path, "racer")
    assert r.returncode == 0, r
    created = 0
    try:
        for i in range(ROUNDS):
            args = ["create", "--bundle", victim.path]
            if terminal:
                args += ["--console-socket", sock_path]
            c = crt(*args, "victim")
            if terminal:
                try:
                    conn, _ = srv.accept()
                    conn.close()
                except socket.timeout:
                    pass
            if c.returncode == 0:
                created += 1
                # What got masked is the null device, whatever the racer did.
                pid = crt.state("victim")["pid"]
                st = os.stat(f"/proc/{pid}/root/etc/passwd")
                assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3), i
            else:
                assert len(c.stderr.strip().splitlines()) == 1, c
            crt("delete", "--force", "victim")
            assert core_pattern() == before, f"round {i}: core_pattern changed"
    finally:
        srv.close()
        with open(os.path.join(devdir, "stop"), "w"):
            pass
        wait_for(lambda: crt("state", "racer").json()["status"] == "stopped", timeout=10,
                 what="the racer to stop")
        crt("delete", "--force", "racer")
    # Both outcomes must have happened, or the race proved nothing.
    assert 0 < created < ROUNDS, created
