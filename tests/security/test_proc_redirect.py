"""Mounts redirected into /proc or /sys through a symlink of the image
(CVE-2019-16884, CVE-2019-19921, CVE-2023-27561, CVE-2023-28642 class).

The image has `/data -> /proc/self/attr` and config.json mounts a tmpfs
(or binds a directory) on /data: resolved "inside the rootfs" that lands
on the procfs crt itself mounted, and a mount there hides the LSM
interface (AppArmor/SELinux profile writes then go nowhere) or covers
/proc/sys files. crt refuses any destination that resolves inside the
container's /proc (but /proc itself for a proc mount and runc's short
lxcfs list), on any other procfs, or, through a symlink, on sysfs; the
same for /dev entries and /dev/console.

crt 05a0bc6 mounted in all of the redirect cases below (proven by
running this file against that build).
"""

import os
import socket

import pytest

from crt_integration_conftest import wait_for


def mountinfo_of(crt, cid):
    state = crt.state(cid)
    with open(f"/proc/{state['pid']}/mountinfo") as f:
        return [line.split() for line in f]


def assert_refused(r, *words):
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r
    for w in words:
        assert w in lines[0], r


def create_with_console_socket(crt, b, test_dirs, cid):
    """`crt create` of a terminal container, with a socket to hand the
    pty master to (nobody takes it: the create is expected to fail)."""
    sock_path = os.path.join(test_dirs.tmp, cid + ".sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    try:
        return crt("create", "--console-socket", sock_path, "--bundle", b.path, cid)
    finally:
        srv.close()


REDIRECTS = {
    # name: (symlink in the rootfs, its target)
    "attr-absolute": ("data", "/proc/self/attr"),
    "attr-relative": ("data", "../proc/self/attr"),
    "attr-dotdot": ("data", "../../../../proc/1/attr"),
    "sys-kernel": ("data", "/proc/sys/kernel"),
    "chain": ("data", "/link2"),
}


@pytest.mark.parametrize("mount_type", ["tmpfs", "bind"])
@pytest.mark.parametrize("case", sorted(REDIRECTS))
def test_mount_through_symlink_into_proc_is_refused(crt, bundle_factory, test_dirs, case,
                                                    mount_type):
    b = bundle_factory(("true",))
    link, target = REDIRECTS[case]
    os.symlink(target, b.in_rootfs(link))
    if case == "chain":
        os.symlink("/proc/self/attr", b.in_rootfs("link2"))
    if mount_type == "tmpfs":
        m = {"destination": "/data", "type": "tmpfs", "source": "tmpfs"}
    else:
        src = os.path.join(test_dirs.tmp, "volume")
        os.makedirs(src, exist_ok=True)
        m = {"destination": "/data", "type": "bind", "source": src, "options": ["rbind"]}
    b.config["mounts"].append(m)
    b.save()
    r = crt("run", "--bundle", b.path, "redir")
    assert_refused(r, "mounts[5].destination `/data`", "inside /proc")


def test_devpts_through_symlink_into_proc_is_refused(crt, bundle_factory):
    """No /dev tmpfs: the image's own /dev/pts -> /proc/sys/kernel would
    get devpts mounted over /proc/sys/kernel."""
    b = bundle_factory(("true",))
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    b.save()
    os.makedirs(b.in_rootfs("dev"), exist_ok=True)
    os.symlink("/proc/sys/kernel", b.in_rootfs("dev/pts"))
    r = crt("run", "--bundle", b.path, "devpts")
    assert_refused(r, "`/dev/pts`", "inside /proc")


def test_dev_symlinked_into_proc_gets_no_devices(crt, bundle_factory):
    """No /dev mount and /dev -> /proc/sys/kernel: the default devices
    would be made (or bound) in procfs."""
    b = bundle_factory(("true",))
    b.config["mounts"] = [m for m in b.config["mounts"]
                          if not m["destination"].startswith("/dev")]
    b.save()
    os.rmdir(b.in_rootfs("dev"))
    os.symlink("/proc/sys/kernel", b.in_rootfs("dev"))
    r = crt("run", "--bundle", b.path, "devlink")
    assert_refused(r, "/dev", "inside /proc")


def test_device_node_through_symlink_into_proc_is_refused(crt, bundle_factory):
    b = bundle_factory(("true",))
    os.symlink("/proc/self/attr", b.in_rootfs("devdir"))
    b.config["linux"]["devices"] = [{"path": "/devdir/null2", "type": "c", "major": 1,
                                     "minor": 3}]
    b.save()
    r = crt("run", "--bundle", b.path, "devnode")
    assert_refused(r, "linux.devices[0].path `/devdir/null2`", "inside /proc")


def test_mount_through_symlink_into_sysfs_is_refused(crt, bundle_factory):
    b = bundle_factory(("true",))
    os.symlink("/sys/kernel", b.in_rootfs("data"))
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs"})
    b.save()
    r = crt("run", "--bundle", b.path, "sysredir")
    assert_refused(r, "mounts[5].destination `/data`", "inside /sys")


def test_console_through_symlink_into_proc_is_refused(crt, bundle_factory, test_dirs):
    """process.terminal with the image's /dev/console -> /proc/sys/kernel/...:
    the pty would be bound over a /proc/sys file. (/dev is a tmpfs in the
    default config, so here the image brings its own /dev.)"""
    b = bundle_factory(("true",), terminal=True)
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    b.save()
    os.makedirs(b.in_rootfs("dev/pts"), exist_ok=True)
    os.symlink("/proc/sys/kernel/core_pattern", b.in_rootfs("dev/console"))
    os.symlink("pts/ptmx", b.in_rootfs("dev/ptmx"))
    r = create_with_console_socket(crt, b, test_dirs, "console")
    assert_refused(r, "/dev/console", "inside /proc")
    with open("/proc/sys/kernel/core_pattern") as f:
        assert "pts" not in f.read()


def test_ptmx_symlinked_elsewhere_is_refused(crt, bundle_factory, test_dirs):
    """/dev is a bind of a prepared directory (so crt makes no default
    devices and leaves its /dev/ptmx alone) whose ptmx leads to
    /proc/sys/kernel/core_pattern: the terminal must not be opened
    through it."""
    b = bundle_factory(("true",), terminal=True)
    devdir = os.path.join(test_dirs.tmp, "devdir")
    os.makedirs(os.path.join(devdir, "pts"))
    os.symlink("/proc/sys/kernel/core_pattern", os.path.join(devdir, "ptmx"))
    for m in b.config["mounts"]:
        if m["destination"] == "/dev":
            m.update(type="bind", source=devdir, options=["rbind"])
    b.save()
    r = create_with_console_socket(crt, b, test_dirs, "ptmx")
    assert_refused(r, "/dev/ptmx", "not the pty multiplexer")


# ---- what must keep working ----

def test_lxcfs_style_proc_mounts_are_allowed(crt, bundle_factory, test_dirs):
    """runc's allow-list: a bind over /proc/cpuinfo or /proc/uptime is what
    lxcfs does."""
    src = os.path.join(test_dirs.tmp, "uptime")
    with open(src, "w") as f:
        f.write("12345.67 0.00\n")
    b = bundle_factory(("cat", "/proc/uptime"))
    b.config["mounts"].append({"destination": "/proc/uptime", "type": "bind", "source": src,
                               "options": ["bind", "ro"]})
    b.save()
    r = crt("run", "--bundle", b.path, "lxcfs")
    assert r.returncode == 0, r
    assert r.stdout == "12345.67 0.00\n"


def test_other_proc_destinations_are_refused(crt, bundle_factory):
    b = bundle_factory(("true",))
    b.config["mounts"].append({"destination": "/proc/self/attr", "type": "tmpfs",
                               "source": "tmpfs"})
    b.save()
    r = crt("run", "--bundle", b.path, "procattr")
    assert_refused(r, "mounts[5].destination `/proc/self/attr`", "inside /proc")


def test_only_proc_goes_onto_proc(crt, bundle_factory):
    b = bundle_factory(("true",))
    b.config["mounts"][0] = {"destination": "/proc", "type": "tmpfs", "source": "tmpfs"}
    b.save()
    r = crt("run", "--bundle", b.path, "tmpfsproc")
    assert_refused(r, "mounts[0].destination `/proc`", "only a proc mount")


def test_config_asked_sysfs_destination_is_allowed(crt, bundle_factory):
    """Engines mount cgroups at /sys/fs/cgroup, on the container's sysfs:
    asked for by the config, not redirected, so allowed."""
    b = bundle_factory(("sh", "-c", "grep ' /sys/fs/cgroup ' /proc/self/mountinfo"))
    b.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                               "source": "cgroup", "options": ["ro", "nosuid", "noexec"]})
    b.save()
    r = crt("run", "--bundle", b.path, "cgmount")
    assert r.returncode == 0, r
    assert "/sys/fs/cgroup" in r.stdout


def test_symlink_inside_the_rootfs_still_works(crt, bundle_factory):
    """/data -> /srv/data stays a plain in-root redirect (runc and crun
    follow it too)."""
    b = bundle_factory(("sh", "-c", "grep ' /srv/data ' /proc/self/mountinfo"))
    os.makedirs(b.in_rootfs("srv/data"))
    os.symlink("/srv/data", b.in_rootfs("data"))
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs"})
    b.save()
    r = crt("run", "--bundle", b.path, "inroot")
    assert r.returncode == 0, r
    assert "tmpfs" in r.stdout


@pytest.mark.parametrize("link", ["/elsewhere", "elsewhere", "../../../elsewhere", "loop"])
@pytest.mark.parametrize("dest", ["proc", "sys"])
def test_proc_and_sys_destinations_may_not_be_symlinks(crt, bundle_factory, dest, link):
    """/proc or /sys itself a symlink (absolute, relative, climbing, a
    loop): proc and sysfs refuse it rather than mount where it leads."""
    b = bundle_factory(("true",))
    os.rmdir(b.in_rootfs(dest))
    os.makedirs(b.in_rootfs("elsewhere"), exist_ok=True)
    os.symlink(dest if link == "loop" else link, b.in_rootfs(dest))
    r = crt("run", "--bundle", b.path, "procsym")
    assert r.returncode == 1, r
    assert f"`/{dest}`" in r.stderr, r
    assert os.listdir(b.in_rootfs("elsewhere")) == []


@pytest.mark.parametrize("link", ["a", "/a/b/../a"])
def test_destination_parent_symlink_loop(crt, bundle_factory, link):
    b = bundle_factory(("true",))
    os.symlink(link, b.in_rootfs("a"))
    b.config["mounts"].append({"destination": "/a/data", "type": "tmpfs", "source": "tmpfs"})
    b.save()
    r = crt("run", "--bundle", b.path, "looped")
    assert r.returncode == 1, r
    assert "mounts[5].destination `/a/data`" in r.stderr, r
