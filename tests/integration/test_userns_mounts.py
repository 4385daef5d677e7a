"""User namespaces without id mappings, mount options on directories and
files (also in a user namespace), special binds (symlinks, copy-symlink),
tmpfs modes, cgroup mounts, tmpcopyup, /dev nodes and masked paths: the
effects as seen from inside the container (mountinfo, writes that must
fail, ids)."""

import os

import pytest

from conftest import APP_GID, APP_UID, add_userns


def run_sh(crt, bundle, script, expect=0, **process):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.config["process"].update(process)
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "um1")
    assert r.returncode == expect, r
    return r.stdout if expect == 0 else r.stderr


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


# --------------------------------------------------------------------------
# 2. mount options, on directories and files, with and without userns
# --------------------------------------------------------------------------

@pytest.fixture
def host_tree(crt):
    base = os.path.join(crt.tmp, "host")
    os.makedirs(os.path.join(base, "dir", "sub"))
    with open(os.path.join(base, "file"), "w") as f:
        f.write("host-file\n")
    os.makedirs(os.path.join(base, "target"))
    with open(os.path.join(base, "target", "t"), "w") as f:
        f.write("t\n")
    os.symlink(os.path.join(base, "target"), os.path.join(base, "dirlink"))
    os.symlink("/etc/hostname", os.path.join(base, "filelink"))
    for root, dirs, files in os.walk(base):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755, follow_symlinks=False) \
                if not os.path.islink(os.path.join(root, n)) else None
    os.chmod(base, 0o755)
    return base


OPTION_SCRIPT = (
    "cat /proc/self/mountinfo; echo ===; "
    "touch /t1/x 2>/dev/null || echo t1-ro; touch /t2/x && echo t2-rw; "
    "stat -c '%a' /t1 /t2; df -k /t1 | tail -1; "
    "touch /b1/x 2>/dev/null || echo b1-ro; touch /b2/sub/x 2>/dev/null || echo b2-rro; "
    "echo w > /f1 2>/dev/null || echo f1-ro; echo w >> /f2 && echo f2-rw; "
    "/f1 2>/dev/null || echo f1-noexec")


@pytest.mark.parametrize("userns", [False, True], ids=["host-ids", "userns"])
def test_mount_options_on_dirs_and_files(crt, bundle, host_tree, userns):
    if userns:
        add_userns(bundle)
        os.system(f"chown -R 100000:100000 {host_tree}")
    os.chmod(os.path.join(host_tree, "file"), 0o777)
    m = bundle.config["mounts"]
    m.append({"destination": "/t1", "type": "tmpfs", "source": "tmpfs",
              "options": ["ro", "nosuid", "nodev", "noexec", "sync", "dirsync", "relatime",
                          "size=1m", "mode=1777"]})
    m.append({"destination": "/t2", "type": "tmpfs", "source": "tmpfs",
              "options": ["rw", "mode=1777", "size=2m"]})
    m.append({"destination": "/b1", "type": "bind", "source": host_tree + "/dir",
              "options": ["rbind", "ro", "nosuid", "nodev", "noexec", "relatime"]})
    m.append({"destination": "/b2", "type": "bind", "source": host_tree + "/dir",
              "options": ["rbind", "rro", "rslave"]})
    m.append({"destination": "/f1", "type": "bind", "source": host_tree + "/file",
              "options": ["bind", "ro", "noexec", "nosuid", "nodev"]})
    m.append({"destination": "/f2", "type": "bind", "source": host_tree + "/file",
              "options": ["bind", "rw"]})
    out = run_sh(crt, bundle, OPTION_SCRIPT)
    info, rest = out.split("===\n")
    mi = mountinfo(info)
    opts, fstype, sopts = mi["/t1"]
    assert {"ro", "nosuid", "nodev", "noexec", "relatime"} <= opts, info
    # As runc and crun: the tmpfs itself stays rw, its mount is ro.
    assert fstype == "tmpfs" and {"rw", "sync", "dirsync", "size=1024k"} <= sopts, info
    assert "rw" in mi["/t2"][0] and "size=2048k" in mi["/t2"][2], info
    assert {"ro", "nosuid", "nodev", "noexec", "relatime"} <= mi["/b1"][0], info
    assert "ro" in mi["/b2"][0], info
    assert {"ro", "nosuid", "nodev", "noexec"} <= mi["/f1"][0], info
    assert "rw" in mi["/f2"][0], info
    b2 = [line for line in info.splitlines() if line.split()[4] == "/b2"][0]
    assert "shared:" not in b2, b2
    lines = rest.split("\n")
    assert lines[:4] == ["t1-ro", "t2-rw", "1777", "1777"], rest
    assert lines[4].split()[1] == "1024", rest
    assert lines[5:10] == ["b1-ro", "b2-rro", "f1-ro", "f2-rw", "f1-noexec"], rest
    with open(os.path.join(host_tree, "file")) as f:
        assert f.read() == "host-file\nw\n"


def test_idmapped_mount_through_symlinked_source(crt, bundle, host_tree):
    owned = os.path.join(host_tree, "target", "owned")
    with open(owned, "w") as f:
        f.write("x\n")
    os.chown(owned, 1000, 1000)
    bundle.config["mounts"].append({
        "destination": "/idm", "type": "bind", "source": host_tree + "/dirlink",
        "options": ["bind", "idmap"],
        "uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 10}],
        "gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 10}]})
    out = run_sh(crt, bundle, "stat -c %u:%g /idm/owned; cat /idm/t; "
                              "grep ' /idm ' /proc/self/mountinfo")
    ids, content, line = out.splitlines()
    # The symlink is followed (a bind of its target), idmapped.
    assert ids == "2000:3000" and content == "t"
    assert "idmapped" in line.split()[5] and line.split()[3].endswith("/target"), line


def test_src_nofollow_binds_the_symlink_itself(crt, bundle, host_tree):
    bundle.config["mounts"].append({"destination": "/nofollow", "type": "bind",
                                    "source": host_tree + "/filelink",
                                    "options": ["bind", "src-nofollow"]})
    out = run_sh(crt, bundle, "readlink /nofollow; grep ' /nofollow ' /proc/self/mountinfo")
    target, line = out.splitlines()
    assert target == "/etc/hostname"
    assert line.split()[3].endswith("/filelink"), line
    # The rootfs got a plain file as the mount point, nothing else.
    assert os.path.isfile(bundle.in_rootfs("/nofollow"))
    assert not os.path.islink(bundle.in_rootfs("/nofollow"))


def test_copy_symlink_makes_a_symlink(crt, bundle, host_tree):
    bundle.config["mounts"].append({"destination": "/copied", "type": "bind",
                                    "source": host_tree + "/filelink",
                                    "options": ["bind", "copy-symlink"]})
    # A source that is no symlink is bound as usual.
    bundle.config["mounts"].append({"destination": "/plain", "type": "bind",
                                    "source": host_tree + "/file",
                                    "options": ["bind", "copy-symlink"]})
    out = run_sh(crt, bundle, "readlink /copied; cat /plain; "
                              "grep -c ' /copied ' /proc/self/mountinfo || true")
    assert out.splitlines() == ["/etc/hostname", "host-file", "0"]
    assert os.readlink(bundle.in_rootfs("/copied")) == "/etc/hostname"


def test_copy_symlink_onto_a_different_file_refused(crt, bundle, host_tree):
    with open(bundle.in_rootfs("/copied"), "w") as f:
        f.write("x")
    bundle.config["mounts"].append({"destination": "/copied", "type": "bind",
                                    "source": host_tree + "/filelink",
                                    "options": ["bind", "copy-symlink"]})
    err = run_sh(crt, bundle, "true", expect=1)
    assert "copy-symlink: a different file exists at the destination" in err


def test_copy_symlink_with_src_nofollow_refused(crt, bundle, host_tree):
    bundle.config["mounts"].append({"destination": "/c", "type": "bind",
                                    "source": host_tree + "/filelink",
                                    "options": ["bind", "copy-symlink", "src-nofollow"]})
    err = run_sh(crt, bundle, "true", expect=1)
    assert "mounts[5].options: copy-symlink and src-nofollow exclude each other" in err


def test_tmpcopyup_onto_directory_with_entries_and_onto_root(crt, bundle):
    os.makedirs(bundle.in_rootfs("/etc/sub"))
    with open(bundle.in_rootfs("/etc/sub/f"), "w") as f:
        f.write("sub\n")
    # Onto the root: crt used to copy the rootfs onto itself ("mkdir
    # `etc`: File exists"); the tmpfs now covers it, filled, and the
    # other mounts go on top of it (runc does the same).
    bundle.config["mounts"].insert(0, {"destination": "/", "type": "tmpfs", "source": "tmpfs",
                                       "options": ["tmpcopyup", "mode=755"]})
    bundle.config["mounts"].append({"destination": "/etc", "type": "tmpfs", "source": "tmpfs",
                                    "options": ["tmpcopyup", "ro"]})
    out = run_sh(crt, bundle, "cat /etc/sub/f; head -1 /etc/passwd; "
                              "touch /etc/x 2>/dev/null || echo etc-ro; echo hi > /new; "
                              "stat -f -c %T / /etc /proc")
    lines = out.splitlines()
    assert lines == ["sub", "root:x:0:0:root:/root:/bin/sh", "etc-ro", "tmpfs", "tmpfs",
                     "proc"], out
    assert not os.path.exists(bundle.in_rootfs("/new")), "/ must be the tmpfs"


@pytest.mark.parametrize("userns", [False, True], ids=["host-ids", "userns"])
def test_readonly_cgroup_mount_without_network_namespace(crt, bundle, userns):
    bundle.drop_namespace("network")
    if userns:
        add_userns(bundle)
    bundle.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup2",
                                    "source": "cgroup",
                                    "options": ["ro", "nosuid", "noexec", "nodev"]})
    out = run_sh(crt, bundle, "grep ' /sys/fs/cgroup ' /proc/self/mountinfo; "
                              "test -e /sys/fs/cgroup/cgroup.procs && echo has-procs; "
                              "mkdir /sys/fs/cgroup/x 2>/dev/null || echo cg-ro")
    lines = out.splitlines()
    opts = lines[-3].split()[5].split(",")
    assert "ro" in opts and lines[-2:] == ["has-procs", "cg-ro"], out


# --------------------------------------------------------------------------
# 3. /dev
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_dev_symlink_in_rootfs_stays_inside(crt, bundle, kind):
    outside = os.path.join(crt.tmp, "outside-dev")
    os.makedirs(outside)
    os.rmdir(bundle.in_rootfs("/dev"))
    target = outside if kind == "absolute" else "../" * 12 + outside.lstrip("/")
    os.symlink(target, bundle.in_rootfs("/dev"))
    # No /dev mount: the default devices go wherever /dev leads.
    bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                               if not m["destination"].startswith("/dev")]
    bundle.config["linux"]["devices"] = [{"path": "/dev/mine", "type": "c", "major": 1,
                                          "minor": 3, "fileMode": 0o600}]
    out = run_sh(crt, bundle, "ls /dev/ | sort | tr '\\n' ' '")
    assert "null" in out.split() and "mine" in out.split(), out
    assert os.listdir(outside) == [], "devices were made outside the rootfs"
    inside = bundle.in_rootfs(outside)
    assert {"mine", "null"} <= set(os.listdir(inside))


@pytest.mark.parametrize("userns", [False, True], ids=["host-ids", "userns"])
def test_linux_devices_owner_and_mode(crt, bundle, userns):
    if userns:
        add_userns(bundle)
    bundle.config["linux"]["devices"] = [
        # /dev/crt-null does not exist on the host: nothing to bind there.
        {"path": "/dev/crt-null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640,
         "uid": 7, "gid": 8},
        {"path": "/dev/sub/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600,
         "uid": 5, "gid": 6},
        {"path": "/dev/crt-fifo", "type": "p", "fileMode": 0o620, "uid": 3, "gid": 4},
    ]
    out = run_sh(crt, bundle, "stat -c '%F %a %u:%g %t:%T %n' /dev/crt-null /dev/sub/zero "
                              "/dev/crt-fifo; echo x > /dev/crt-null && echo null-ok; "
                              "head -c 3 /dev/sub/zero | wc -c")
    lines = out.splitlines()
    assert lines[0] == "character special file 640 7:8 1:3 /dev/crt-null", out
    assert lines[1] == "character special file 600 5:6 1:5 /dev/sub/zero", out
    assert lines[2].startswith("fifo 620 3:4 "), out
    assert lines[3:] == ["null-ok", "3"], out
    assert not os.path.exists("/dev/crt-null")


# --------------------------------------------------------------------------
# 4. no mount namespace: the container shares crt's (runtime-spec)
# --------------------------------------------------------------------------

def _mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path + "/")]


def test_without_mount_namespace_shares_crt_s_and_chroots(crt, bundle):
    bundle.drop_namespace("mount")
    bundle.config["process"]["args"] = ["sleep", "30"]
    bundle.save()
    r = crt("run", "--detach", "--bundle", bundle.path, "um-nomnt")
    assert r.returncode == 0, r
    try:
        pid = crt.state("um-nomnt")["pid"]
        assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
        # Not a pivot_root of the host: a chroot into the rootfs.
        assert os.path.samefile(f"/proc/{pid}/root", bundle.rootfs)
        # The config's mounts are made in the shared namespace, on the rootfs.
        under = _mounts_under(os.path.realpath(bundle.rootfs))
        assert os.path.realpath(bundle.in_rootfs("/proc")) in under, under
        r = crt("exec", "um-nomnt", "sh", "-c", "ls /bin/busybox; readlink /proc/self/ns/mnt; "
                                             "test -c /dev/null && echo dev-ok")
        assert r.returncode == 0, r
        lines = r.stdout.splitlines()
        assert lines == ["/bin/busybox", os.readlink("/proc/self/ns/mnt"), "dev-ok"], r
    finally:
        crt("kill", "um-nomnt", "KILL")
        crt("delete", "--force", "um-nomnt")
    # delete takes them away (runc leaves them on the host).
    assert _mounts_under(os.path.realpath(bundle.rootfs)) == []


# --------------------------------------------------------------------------
# 5. masked directories share one empty read-only tmpfs (issue #15)
# --------------------------------------------------------------------------

def test_masked_directories_share_one_empty_readonly_tmpfs(crt, bundle):
    for d in ("m1", "m2", "m3/sub"):
        os.makedirs(bundle.in_rootfs(d))
        with open(bundle.in_rootfs(d + "/secret"), "w") as f:
            f.write("secret\n")
    bundle.config["linux"]["maskedPaths"] = ["/m1", "/m2", "/m3/sub", "/m1/missing"]
    out = run_sh(crt, bundle,
                 "awk '$5 ~ /^\\/m/ { print $3, $5, $6 }' /proc/self/mountinfo; echo ===; "
                 "ls -A /m1 /m2 /m3/sub; for d in /m1 /m2 /m3/sub; do "
                 "touch $d/x 2>/dev/null && echo $d-writable; done; echo done")
    info, rest = out.split("===\n")
    rows = [line.split() for line in info.splitlines()]
    assert sorted(r[1] for r in rows) == ["/m1", "/m2", "/m3/sub"], info
    # One superblock (device) for all three, each mount read-only.
    assert len({r[0] for r in rows}) == 1, info
    assert all({"ro", "nosuid", "nodev", "noexec"} <= set(r[2].split(",")) for r in rows), info
    assert "secret" not in rest and "writable" not in rest and rest.endswith("done\n"), rest


# --------------------------------------------------------------------------
# 6. CPU affinity: reset to what the cgroup's cpuset allows (issue #15)
# --------------------------------------------------------------------------

def _cpus_allowed(text):
    for line in text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split()[1]
    return None


# Pinned: crt's mask is the init's until the reset. Not pinned: crt moves
# the init off its own CPU right after the clone (to overlap their work),
# and the reset must widen that again.
@pytest.mark.parametrize("pinned", [["taskset", "-c", "0"], []], ids=["pinned", "not-pinned"])
def test_affinity_reset_from_a_pinned_crt(crt, bundle, pinned):
    import subprocess
    with open("/sys/devices/system/cpu/online") as f:
        online = f.read().strip()
    if online == "0":
        pytest.skip("one CPU online: nothing to reset to")
    bundle.config["process"]["args"] = ["sh", "-c", "grep Cpus_allowed_list /proc/self/status; "
                                        "cat /proc/self/cgroup; sleep 30"]
    bundle.save()
    r = subprocess.run(pinned + crt.argv(["create", "--bundle", bundle.path, "um-aff"]),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0, r
    crt.ids.add("um-aff")
    try:
        pid = crt.state("um-aff")["pid"]
        with open(f"/proc/{pid}/status") as f:
            init_cpus = _cpus_allowed(f.read())
        # The cgroup's effective cpus when cgroup2 has the cpuset
        # controller; this host's has not: all online CPUs (the v1 root
        # cpuset allows them all), which is what the kernel leaves of
        # runc's full mask as well.
        expected = online
        with open(f"/proc/{pid}/cgroup") as f:
            rel = [line.split(":", 2)[2].strip() for line in f if line.startswith("0::")]
        for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            eff = os.path.join(base + (rel[0] if rel else ""), "cpuset.cpus.effective")
            if rel and os.path.exists(eff):
                with open(eff) as f:
                    expected = f.read().strip() or online
        assert init_cpus == expected
        r = subprocess.run(pinned + crt.argv(["exec", "um-aff", "grep", "Cpus_allowed_list",
                                              "/proc/self/status"]),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        assert _cpus_allowed(r.stdout) == expected, r
    finally:
        crt("delete", "--force", "um-aff")
