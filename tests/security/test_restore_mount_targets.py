"""restore makes the mount destinations a rootfs lacks (as runc's
prepareCriuRestoreMounts) before criu runs: through the fd resolver, so
a symlink the image (or the container, in its first life) left on the
way cannot make crt create a directory or file on the host.

criu itself is given fake images here, so it fails after crt made the
targets (on any kernel): what crt made is checked, and the fixtures
check that nothing else is left."""

import os
import shutil

import pytest

CRIU = shutil.which("criu") or shutil.which("criu", path="/usr/sbin:/sbin")
pytestmark = pytest.mark.skipif(CRIU is None, reason="criu not installed (apt-get install criu)")


def fake_images(tmp_path):
    d = tmp_path / "img"
    d.mkdir()
    (d / "inventory.img").write_bytes(b"")
    return d


def restore_fails_in_criu(crt, b, tmp_path):
    r = crt("restore", "-d", "-b", b.path, "--image-path", str(fake_images(tmp_path)), "c1",
            timeout=60)
    assert r.returncode == 1 and "criu restore failed" in r.stderr, r
    assert crt("state", "c1").returncode == 1


def test_missing_mount_targets_are_made(crt, bundle_factory, test_dirs, tmp_path):
    src_dir = os.path.join(test_dirs.tmp, "src-dir")
    os.mkdir(src_dir)
    src_file = os.path.join(test_dirs.tmp, "src-file")
    open(src_file, "w").close()
    b = bundle_factory(("sleep", "1000"))
    b.config["mounts"] += [
        {"destination": "/data/a/b", "type": "bind", "source": src_dir, "options": ["rbind"]},
        {"destination": "/etc/crt-file", "type": "bind", "source": src_file,
         "options": ["bind"]},
        {"destination": "/mnt/crt-tmpfs", "type": "tmpfs", "source": "tmpfs"},
        # Below the tmpfs at /dev: criu restores the tmpfs with its mount
        # points; crt leaves it alone (the rootfs's /dev stays as it is).
        {"destination": "/dev/crt-below-tmpfs", "type": "bind", "source": src_dir,
         "options": ["rbind"]},
    ]
    b.save()
    restore_fails_in_criu(crt, b, tmp_path)
    assert os.path.isdir(b.in_rootfs("/data/a/b"))
    assert os.path.isfile(b.in_rootfs("/etc/crt-file"))
    assert os.path.isdir(b.in_rootfs("/mnt/crt-tmpfs"))
    assert not os.path.lexists(b.in_rootfs("/dev/crt-below-tmpfs"))


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_bind_target_through_symlink_stays_in_rootfs(crt, bundle_factory, test_dirs,
                                                     tmp_path, how):
    """rootfs/mnt/evil -> the host's OUTSIDE (absolute, or by ../ far
    enough to climb out): the destination /mnt/evil/sub is made inside
    the rootfs, where the link resolves with the rootfs as "/"."""
    outside = os.path.join(test_dirs.tmp, "outside")
    os.mkdir(outside)
    src = os.path.join(test_dirs.tmp, "src")
    os.mkdir(src)
    b = bundle_factory(("sleep", "1000"))
    os.makedirs(b.in_rootfs("/mnt"), exist_ok=True)
    target = outside if how == "absolute" else "../" * 12 + outside.lstrip("/")
    os.symlink(target, b.in_rootfs("/mnt/evil"))
    b.config["mounts"].append({"destination": "/mnt/evil/sub", "type": "bind", "source": src,
                               "options": ["rbind"]})
    b.save()
    restore_fails_in_criu(crt, b, tmp_path)
    assert os.listdir(outside) == [], "crt made a directory on the host"
    assert os.path.isdir(b.in_rootfs(outside + "/sub"))
