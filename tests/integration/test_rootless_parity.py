"""Rootless crt against crun and runc on the same bundle (issue #13): the
test user of test_rootless.py runs one `crt spec --rootless` bundle with
each runtime, and what the container sees must be the same.

crun 1.8.1 refuses to start on a hybrid cgroup host whose v2 tree has a
controller ("cgroups in hybrid mode not supported"): there its case
skips, and it runs in the VM's pure v2 tree (tests/run.sh, session
"vm"). runc 1.1.5 has no time namespace: only crun is compared there.
"""

import os

import pytest

from conftest import other_runtime
from test_rootless import rcrt, rootless_bundle, rootless_user  # noqa: F401

VOLUME = "/data"
CGROUP_PROBE = ("for d in /sys/fs/cgroup /sys/fs/cgroup/*; do [ -e $d/cgroup.procs ] || continue;"
                " mkdir $d/crt-parity 2>/dev/null && rmdir $d/crt-parity && echo writable $d;"
                " done; true")
SECTIONS = {
    "uid_map": "cat /proc/self/uid_map",
    "gid_map": "cat /proc/self/gid_map",
    "setgroups": "cat /proc/self/setgroups",
    "id": "id",
    "caps": "grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
    "hostname": "hostname",
    "mountinfo": "cat /proc/self/mountinfo",
    "volume": f"echo x > {VOLUME}/f-$RT && ls -ln {VOLUME}/f-$RT",
    "cgroup_writable": CGROUP_PROBE,
}


def probe_script(rt, sections):
    parts = [f"RT={rt}"]
    for name, cmd in sections.items():
        parts.append(f"echo '## {name}'; {cmd}")
    return "; ".join(parts)


def parse(out):
    got, cur = {}, None
    for line in out.splitlines():
        if line.startswith("## "):
            cur = line[3:]
            got[cur] = []
        elif cur is not None:
            got[cur].append(" ".join(line.split()))
    return got


def visible_mount(mountinfo, point):
    """(fstype, read-only) of the mount on top at POINT."""
    top = None
    for line in mountinfo:
        fields = line.split()
        sep = fields.index("-")
        if fields[4] == point:
            top = (fields[sep + 1], "ro" in fields[5].split(","))
    return top


@pytest.fixture
def parity_bundle(bundle_factory, rootless_user, test_dirs):
    u = rootless_user
    vol = os.path.join(test_dirs.tmp, "vol")
    os.mkdir(vol)
    os.chown(vol, u.uid, u.gid)
    b = rootless_bundle(bundle_factory, u, ["sh", "-c", "true"])
    os.mkdir(b.in_rootfs(VOLUME))
    b.config["mounts"].append({"destination": VOLUME, "type": "bind", "source": vol,
                               "options": ["rbind", "rw"]})
    # crun 1.8.1 knows runtime-spec 1.0 and 1.1 only ("unknown version
    # specified"); nothing here is newer.
    b.config["ociVersion"] = "1.0.2"
    # The host's cgroup tree is root's: no runtime may make one, and
    # none is asked for (crun and runc go on without it, as crt).
    del b.config["linux"]["cgroupsPath"]
    b.vol = vol
    return b


def run_both(rcrt, u, b, other, cid, sections=SECTIONS):
    """The same bundle with crt and OTHER (as the user); their views."""
    seen = {}
    for rt in ("crt", os.path.basename(other)):
        b.config["process"]["args"] = ["sh", "-c", probe_script(rt, sections)]
        b.save()
        if rt == "crt":
            r = rcrt("run", "--bundle", b.path, cid)
        else:
            root = os.path.join(u.runtime_dir, f"{rt}-parity")
            r = u.run([other, "--root", root, "run", "--bundle", b.path, cid])
        if r.returncode != 0 and "cgroups in hybrid mode not supported" in r.stderr:
            pytest.skip(f"{rt} does not run on a hybrid cgroup host: {r.stderr.strip()}")
        assert r.returncode == 0, (rt, r.stdout, r.stderr)
        seen[rt] = parse(r.stdout)
        st = os.stat(os.path.join(b.vol, f"f-{rt}"))
        seen[rt]["host_owner"] = [f"{st.st_uid}:{st.st_gid}"]
    return seen["crt"], seen[os.path.basename(other)]


@pytest.mark.parametrize("runtime", ["crun", "runc"])
def test_same_view_as(rcrt, rootless_user, parity_bundle, runtime):
    u = rootless_user
    crt_view, other = run_both(rcrt, u, parity_bundle, other_runtime(runtime), "p1")
    for key in ("uid_map", "gid_map", "setgroups", "id", "caps", "hostname", "host_owner"):
        assert crt_view[key] == other[key], (key, crt_view[key], other[key])
    assert crt_view["host_owner"] == [f"{u.uid}:{u.gid}"]
    # ls -ln inside: mode, links, owner, group (not the date).
    assert crt_view["volume"][0].split()[:4] == other["volume"][0].split()[:4]
    assert visible_mount(crt_view["mountinfo"], "/sys") == ("sysfs", True)
    assert visible_mount(other["mountinfo"], "/sys") == ("sysfs", True)
    # No cgroup directory the container may write, for either (the user
    # may write none on this tree).
    assert crt_view["cgroup_writable"] == [] and other["cgroup_writable"] == []
    cg_crt = visible_mount(crt_view["mountinfo"], "/sys/fs/cgroup")
    cg_other = visible_mount(other["mountinfo"], "/sys/fs/cgroup")
    # With no cgroup of the container's own (the user may write none
    # here), runc 1.1.5 on pure v2 (the VM) mounts an empty read-only
    # tmpfs on /sys/fs/cgroup, and so does crt (before: its cgroup2,
    # read-only, showing the tree of the cgroup it was started in, which
    # is not the container's). crun 1.8.1 does that: cgroup2, read-only
    # (a documented difference: crt follows runc). On a v1 or hybrid host
    # runc rebuilds the v1 layout (a rw tmpfs, each hierarchy bound
    # read-only below it); crt manages no v1 controller.
    assert cg_crt == ("tmpfs", True), cg_crt
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        assert cg_other == (cg_crt if runtime == "runc" else ("cgroup2", True)), cg_other


def test_time_offsets_as_crun(rcrt, rootless_user, parity_bundle):
    """linux.timeOffsets in the user's own user namespace (runc 1.1.5 has
    no time namespace). A difference, crun's bug: crun 1.8.1 rootless
    makes the time namespace but its offsets stay 0 (seen in the VM);
    crt applies them. Both must agree
    on everything else the probe sees, and crun must still run it."""
    crun = other_runtime("crun")
    b = parity_bundle
    b.config["linux"]["namespaces"].append({"type": "time"})
    b.config["linux"]["timeOffsets"] = {"boottime": {"secs": 864000},
                                        "monotonic": {"secs": 86400, "nanosecs": 7}}
    sections = {"offsets": "cat /proc/self/timens_offsets",
                "uptime_days": "awk '{print int($1 / 86400)}' /proc/uptime",
                "volume": SECTIONS["volume"]}
    crt_view, crun_view = run_both(rcrt, rootless_user, b, crun, "p2", sections)
    assert sorted(crt_view["offsets"]) == ["boottime 864000 0", "monotonic 86400 7"]
    assert int(crt_view["uptime_days"][0]) >= 10
    assert sorted(crun_view["offsets"]) in (sorted(crt_view["offsets"]),
                                            ["boottime 0 0", "monotonic 0 0"]), crun_view
    assert crt_view["host_owner"] == crun_view["host_owner"]
