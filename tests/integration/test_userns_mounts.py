"""User namespaces without id mappings, mount options on directories and
files (also in a user namespace), special binds (symlinks, copy-symlink),
tmpfs modes, cgroup mounts, tmpcopyup, /dev nodes and masked paths: the
effects as seen from inside the container (mountinfo, writes that must
fail, ids)."""

import os

import pytest

from conftest import APP_GID, APP_UID

MAPS = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def run_sh(crt, bundle, script, expect=0, **process):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.config["process"].update(process)
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "um1")
    assert r.returncode == expect, r
    return r.stdout if expect == 0 else r.stderr


def add_userns(bundle, maps=True):
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    if maps:
        bundle.config["linux"]["uidMappings"] = MAPS
        bundle.config["linux"]["gidMappings"] = MAPS
        # The rootfs must belong to the container's root to be usable.
        os.system(f"chown -R 100000:100000 {bundle.rootfs}")


def mountinfo(text):
    """{mountpoint: (per-mount options set, fstype, super options set)}."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10 or "-" not in f:
            continue
        i = f.index("-")
        out[f[4]] = (set(f[5].split(",")), f[i + 1], set(f[i + 3].split(",")))
    return out


# --------------------------------------------------------------------------
# 1. a user namespace without uidMappings/gidMappings
# --------------------------------------------------------------------------

def test_userns_without_mappings_maps_root_only(crt, bundle):
    add_userns(bundle, maps=False)
    owned = bundle.in_rootfs("/home/app/owned")
    with open(owned, "w") as f:
        f.write("x\n")
    os.chown(owned, APP_UID, APP_GID)
    out = run_sh(crt, bundle,
                 "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; "
                 "stat -c %u:%g /home/app/owned /bin/busybox; "
                 "echo hi > /written && echo write-ok; "
                 "grep -c ' /proc \\| /sys \\| /dev/pts ' /proc/self/mountinfo")
    lines = [line.split() for line in out.splitlines()]
    # As crun: container root is crt's own uid and gid (host root), alone.
    assert lines[0] == ["0", "0", "1"] and lines[1] == ["0", "0", "1"], out
    assert lines[2] == ["0"] and lines[3] == ["0"], out
    # Every other id is the overflow id.
    assert lines[4] == ["65534:65534"], out
    assert lines[5] == ["0:0"], out
    assert lines[6] == ["write-ok"], out
    assert lines[7] == ["3"], out
    st = os.stat(bundle.in_rootfs("/written"))
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_userns_without_mappings_non_root_user_refused(crt, bundle):
    add_userns(bundle, maps=False)
    err = run_sh(crt, bundle, "true", expect=1, user={"uid": APP_UID, "gid": 0})
    assert ("process.user.uid: 1001 is not mapped in the new user namespace "
            "(without linux.uidMappings only 0 is)") in err
