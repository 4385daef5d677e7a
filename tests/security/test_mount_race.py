"""A racing container swaps a directory of a shared volume for a symlink
while another container is created with a mount into it
(CVE-2021-30465, CVE-2024-45310).

Container A has the volume V at /vol and exchanges V/d (a directory) with
V/link (a symlink leading out: to /, to the host's test directory through
`..`, or into /proc) with renameat2(RENAME_EXCHANGE), as fast as it can.
Meanwhile container B, whose config mounts V at /vol and then a tmpfs at
/vol/d/sub (and binds a file at /vol/d/file), is created and deleted 200
times. runc before 1.0.0-rc95 resolved the destination and then mounted by
path, so a swap in between put the mount on the host. crt resolves
through fds and mounts onto the fd: whatever the swap gives, the mount
stays inside B's rootfs (or is refused on /proc), nothing appears in the
host directory the symlink points at, and nothing is left mounted.
"""

import os
import shutil
import subprocess

import pytest

from crt_integration_conftest import wait_for

ROUNDS = 200


@pytest.fixture
def swap_race(static_helper):
    return static_helper("swap_race")


def host_mounts(test_dirs):
    """Host mounts at / or under the test's directories (other users of
    the machine mount elsewhere meanwhile)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sorted(p for p in points
                  if p == "/" or p.startswith(test_dirs.tmp) or p.startswith(test_dirs.root))


@pytest.mark.parametrize("target", ["/", "outside", "/proc/self/attr"])
def test_swapped_destination_stays_inside(crt, bundle_factory, test_dirs, swap_race, target):
    outside = os.path.join(test_dirs.tmp, "outside")
    os.makedirs(outside)
    volume = os.path.join(test_dirs.tmp, "volume")
    os.makedirs(os.path.join(volume, "d"))
    with open(os.path.join(volume, "d", "file"), "w"):
        pass
    link = ("../" * 30 + outside.lstrip("/")) if target == "outside" else target
    os.symlink(link, os.path.join(volume, "link"))
    src_file = os.path.join(test_dirs.tmp, "payload")
    with open(src_file, "w") as f:
        f.write("payload\n")

    racer = bundle_factory(("/swap_race", "/vol/d", "/vol/link", "/vol/stop"))
    shutil.copy2(swap_race, racer.in_rootfs("swap_race"))
    racer.config["mounts"].append({"destination": "/vol", "type": "bind", "source": volume,
                                   "options": ["rbind"]})
    racer.save()

    victim = bundle_factory(("true",))
    victim.config["mounts"] += [
        {"destination": "/vol", "type": "bind", "source": volume, "options": ["rbind"]},
        {"destination": "/vol/d/sub", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/vol/d/file", "type": "bind", "source": src_file, "options": ["bind"]},
    ]
    victim.save()

    before = host_mounts(test_dirs)
    r = crt("run", "--detach", "--bundle", racer.path, "racer")
    assert r.returncode == 0, r
    outcomes = {"created": 0, "refused": 0}
    try:
        for i in range(ROUNDS):
            c = crt("create", "--bundle", victim.path, "victim")
            if c.returncode == 0:
                outcomes["created"] += 1
            else:
                outcomes["refused"] += 1
                lines = c.stderr.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("crt: create victim: "), c
            d = crt("delete", "--force", "victim")
            assert d.returncode == 0, d
            assert os.listdir(outside) == [], f"round {i}: created outside the rootfs"
            assert host_mounts(test_dirs) == before, f"round {i}: a mount appeared on the host"
    finally:
        with open(os.path.join(volume, "stop"), "w"):
            pass
        wait_for(lambda: crt("state", "racer").json()["status"] == "stopped", timeout=10,
                 what="the racer to stop")
        crt("delete", "--force", "racer")
    # What the swap can do inside B: land sub/ or file at its root, and
    # so make directories there; never outside, never on the host.
    for name in ("sub", "file"):
        assert not os.path.lexists(os.path.join(outside, name))
    assert outcomes["created"] + outcomes["refused"] == ROUNDS
