"""config-linux beyond the basics of test_rootfs.py and test_process.py:
network devices, user and time namespaces, idmapped mounts, namespaces
joined by path, personality, scheduling, sysctl refusals, and attacks on
the rootfs and on the crt binary. Container ids start with "lx-"."""

import os
import shutil
import subprocess

import pytest

from conftest import APP_GID, APP_UID, wait_for


def run_sh(crt, bundle, script, expect=0, cid="lx-c1", **process):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.config["process"].update(process)
    bundle.save()
    r = crt("run", "--bundle", bundle.path, cid)
    assert r.returncode == expect, r
    return r.stdout if expect == 0 else r.stderr


def refused(crt, bundle, cid="lx-bad"):
    """crt run fails with exit 1 and one line on stderr, which is returned;
    `crt list` shows that nothing is left of the container."""
    bundle.config["process"]["args"] = ["true"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, cid)
    assert r.returncode == 1, r
    assert cid not in crt("list", "-q").stdout
    return r.stderr


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def link_exists(name):
    return ip("link", "show", name, check=False).returncode == 0


def add_ns(bundle, ns_type, **extra):
    bundle.config["linux"]["namespaces"].append({"type": ns_type, **extra})


def set_ns(bundle, ns_type, **extra):
    bundle.drop_namespace(ns_type)
    add_ns(bundle, ns_type, **extra)


# --------------------------------------------------------------------------
# linux.netDevices
# --------------------------------------------------------------------------

@pytest.fixture
def named_netns():
    name = "lx-test"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    ip("netns", "add", name)
    yield f"/run/netns/{name}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def host_link():
    """A host interface made for the test: a dummy, else one end of a veth
    pair. Whatever is left of it is deleted at the end."""
    names = ["lx-dummy0"]
    if ip("link", "add", "lx-dummy0", "type", "dummy", check=False).returncode != 0:
        names = ["lx-veth0", "lx-veth1"]
        ip("link", "add", "lx-veth0", "type", "veth", "peer", "name", "lx-veth1")
    ip("addr", "add", "10.199.77.1/24", "dev", names[0])
    yield names[0]
    for n in names:
        if link_exists(n):
            ip("link", "del", n, check=False)


@pytest.mark.parametrize("who", ["parent", "init"])
def test_loopback_up_in_new_network_namespace(crt, bundle, who):
    # A server on 127.0.0.1 answers a client in the same container; both
    # fail with "network unreachable" while lo is down. crt's parent sets
    # lo up while the init mounts, unless a createContainer hook (run by
    # the init, in the container's namespaces) may need it first: then the
    # init does it, before the hook. The hook here checks that too.
    if who == "init":
        bundle.config["hooks"] = {"createContainer": [{
            "path": "/bin/sh", "args": ["sh", "-c", "ip link show lo | grep -q '[<,]UP[,>]'"]}]}
    out = run_sh(crt, bundle,
                 "ip link show lo; (echo pong | nc -l -p 4567 127.0.0.1 &); "
                 "for i in 1 2 3 4 5 6 7 8 9 10; do "
                 "  r=$(nc 127.0.0.1 4567 </dev/null) && [ -n \"$r\" ] && break; sleep 0.1; done; "
                 "echo \"got:$r\"")
    first = out.splitlines()[0]
    assert "lo:" in first and "UP" in first.split("<")[1].split(">")[0].split(","), out
    assert "got:pong" in out, out


def test_net_device_moved_and_renamed(crt, bundle, host_link):
    bundle.config["process"]["args"] = ["sh", "-c", "while :; do sleep 0.1; done"]
    bundle.config["linux"]["netDevices"] = {host_link: {"name": "lx-eth9"}}
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "lx-net").returncode == 0
    try:
        # Gone from the host while the container runs ...
        assert not link_exists(host_link)
        assert not link_exists("lx-eth9")
        # ... and inside under its new name, up, with its address kept.
        r = crt("exec", "lx-net", "sh", "-c", "ip -o link; echo ---; ip -o addr")
        assert r.returncode == 0, r
        links, addrs = r.stdout.split("---\n")
        names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
        assert sorted(names) == ["lo", "lx-eth9"], links
        eth = [line for line in links.splitlines() if "lx-eth9" in line][0]
        assert ",UP" in eth or "<UP" in eth, eth
        assert "10.199.77.1/24" in addrs and "lx-eth9" in addrs, addrs
    finally:
        assert crt("delete", "--force", "lx-net").returncode == 0


def test_net_device_keeps_host_name_by_default(crt, bundle, host_link):
    bundle.config["linux"]["netDevices"] = {host_link: {}}
    out = run_sh(crt, bundle, "ls /sys/class/net")
    assert sorted(out.split()) == sorted(["lo", host_link])


@pytest.mark.parametrize("case", ["missing", "slash", "too-long", "space", "duplicate"])
def test_net_device_invalid_refused(crt, bundle, host_link, case):
    devs = {
        "missing": {"lx-nosuch0": {}},
        "slash": {host_link: {"name": "a/b"}},
        "too-long": {host_link: {"name": "x" * 16}},
        "space": {host_link: {"name": "a b"}},
        "duplicate": {host_link: {"name": "lx-same"}, "lo": {"name": "lx-same"}},
    }[case]
    bundle.config["linux"]["netDevices"] = devs
    err = refused(crt, bundle)
    assert 'linux.netDevices["' in err, err
    assert link_exists(host_link), "the host interface was lost"
    assert not link_exists("lx-same")


def test_net_device_name_taken_in_container_refused(crt, bundle, host_link):
    bundle.config["linux"]["netDevices"] = {host_link: {"name": "lo"}}
    err = refused(crt, bundle)
    assert f'linux.netDevices["{host_link}"]' in err and "lo" in err, err
    # Checked before the move: the interface is still on the host.
    assert link_exists(host_link)


def test_net_device_without_own_netns_refused(crt, bundle, host_link):
    bundle.drop_namespace("network")
    bundle.config["linux"]["netDevices"] = {host_link: {}}
    err = refused(crt, bundle)
    assert f'linux.netDevices["{host_link}"]' in err and "network namespace" in err, err
    assert link_exists(host_link)


def test_net_device_host_netns_path_refused(crt, bundle, host_link):
    set_ns(bundle, "network", path="/proc/self/ns/net")
    bundle.config["linux"]["netDevices"] = {host_link: {}}
    err = refused(crt, bundle)
    assert f'linux.netDevices["{host_link}"]' in err, err
    assert link_exists(host_link)


def test_net_device_into_netns_joined_by_path(crt, bundle, host_link, named_netns):
    # The init joins the namespace late in its setup: the move must still
    # go to that namespace, not to wherever the init is at that moment.
    set_ns(bundle, "network", path=named_netns)
    bundle.config["linux"]["netDevices"] = {host_link: {"name": "lx-eth8"}}
    out = run_sh(crt, bundle, "ls /sys/class/net")
    assert sorted(out.split()) == ["lo", "lx-eth8"]
    assert not link_exists(host_link)
    # The namespace outlives the container, and the interface with it.
    name = os.path.basename(named_netns)
    r = subprocess.run(["ip", "netns", "exec", name, "ip", "-o", "addr", "show", "lx-eth8"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "10.199.77.1/24" in r.stdout, r


# --------------------------------------------------------------------------
# user namespaces
# --------------------------------------------------------------------------

UID_MAPS = [{"containerID": 0, "hostID": 100000, "size": 1000},
            {"containerID": 1000, "hostID": 200000, "size": 1000}]


def with_userns(bundle):
    add_ns(bundle, "user")
    bundle.config["linux"]["uidMappings"] = UID_MAPS
    bundle.config["linux"]["gidMappings"] = UID_MAPS
    # sysfs needs the net namespace owned by the user namespace: it is
    # (both are new); /sys stays as configured.


def parse_map(text):
    return [tuple(int(x) for x in line.split()) for line in text.strip().splitlines()]


def test_userns_two_ranges(crt, bundle):
    with_userns(bundle)
    out = run_sh(crt, bundle, "cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map")
    uid_map, gid_map = out.split("---\n")
    want = [(0, 100000, 1000), (1000, 200000, 1000)]
    assert parse_map(uid_map) == want
    assert parse_map(gid_map) == want


def test_userns_root_owns_proc(crt, bundle):
    with_userns(bundle)
    out = run_sh(crt, bundle, "stat -c %u:%g /proc/1 /proc/1/status; id -u")
    assert out.split() == ["0:0", "0:0", "0"]


def test_userns_volume_file_owner_on_host(crt, bundle):
    with_userns(bundle)
    vol = os.path.join(crt.tmp, "lx-vol")
    os.makedirs(vol)
    os.chmod(vol, 0o777)
    # The rootfs belongs to the host's root, unmapped in the container:
    # its root cannot make the mount point there.
    os.makedirs(bundle.in_rootfs("/vol"))
    bundle.config["mounts"].append({"destination": "/vol", "type": "bind", "source": vol,
                                    "options": ["rbind", "rw"]})
    run_sh(crt, bundle, "echo hi > /vol/by-root; echo hi > /vol/by-1005; "
                        "chown 1005:1007 /vol/by-1005")
    st = os.stat(os.path.join(vol, "by-root"))
    assert (st.st_uid, st.st_gid) == (100000, 100000)
    st = os.stat(os.path.join(vol, "by-1005"))
    assert (st.st_uid, st.st_gid) == (200005, 200007)


def test_userns_default_devices_are_bind_mounts(crt, bundle):
    with_userns(bundle)
    out = run_sh(crt, bundle,
                 "echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; "
                 "mknod /tmp/n c 1 3 2>/dev/null && echo mknod-ok; "
                 "awk '$5 == \"/dev/null\" || $5 == \"/dev/zero\" { print $5 }' "
                 "/proc/self/mountinfo")
    lines = out.split()
    assert "null-ok" in lines and "4" in lines
    assert "mknod-ok" not in lines  # mknod is not allowed: so not how they were made
    assert "/dev/null" in lines and "/dev/zero" in lines, out


# --------------------------------------------------------------------------
# idmapped mounts
# --------------------------------------------------------------------------

def test_idmapped_bind_mount(crt, bundle):
    src = os.path.join(crt.tmp, "lx-idm")
    os.makedirs(src)
    path = os.path.join(src, "owned-by-1000")
    with open(path, "w") as f:
        f.write("x\n")
    os.chown(path, 1000, 1000)
    bundle.config["mounts"].append({
        "destination": "/idm", "type": "bind", "source": src,
        "options": ["bind", "idmap"],
        # On-disk ids are containerIDs, shown as hostIDs (runc and crun).
        "uidMappings": [{"containerID": 1000, "hostID": 2000, "size": 10}],
        "gidMappings": [{"containerID": 1000, "hostID": 3000, "size": 10}],
    })
    out = run_sh(crt, bundle, "stat -c %u:%g /idm/owned-by-1000 /idm; "
                              "grep -c idmapped /proc/self/mountinfo")
    file_ids, dir_ids, n = out.split()
    assert file_ids == "2000:3000"
    assert dir_ids != "0:0"  # host root is not mapped in this mount
    assert int(n) >= 1
    # The host's view is unchanged.
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (1000, 1000)


# --------------------------------------------------------------------------
# time namespace
# --------------------------------------------------------------------------

DAY = 86400


def test_time_namespace_offsets(crt, bundle):
    add_ns(bundle, "time")
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 10 * DAY},
                                             "monotonic": {"secs": 2 * DAY, "nanosecs": 5}}
    out = run_sh(crt, bundle, "cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets")
    with open("/proc/uptime") as f:
        host_uptime = float(f.read().split()[0])
    lines = out.splitlines()
    inside = float(lines[0])
    assert inside >= 10 * DAY
    assert abs(inside - host_uptime - 10 * DAY) < 60
    offsets = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert offsets["monotonic"] == [str(2 * DAY), "5"]
    assert offsets["boottime"] == [str(10 * DAY), "0"]
    assert os.readlink("/proc/self/ns/time") != ""


def test_time_offsets_without_time_namespace_refused(crt, bundle):
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": DAY}}
    err = refused(crt, bundle)
    assert "linux.timeOffsets" in err, err


# --------------------------------------------------------------------------
# namespaces joined by path
# --------------------------------------------------------------------------

def test_join_network_namespace_by_path(crt, bundle, named_netns):
    set_ns(bundle, "network", path=named_netns)
    out = run_sh(crt, bundle, "readlink /proc/self/ns/net")
    assert out.strip() == f"net:[{os.stat(named_netns).st_ino}]"


def test_join_namespace_path_of_wrong_type_refused(crt, bundle):
    set_ns(bundle, "network", path="/proc/self/ns/uts")
    index = [n["type"] for n in bundle.config["linux"]["namespaces"]].index("network")
    err = refused(crt, bundle)
    assert f"linux.namespaces[{index}].path" in err, err
    assert "network" in err


# --------------------------------------------------------------------------
# process attributes not covered by test_process.py
# --------------------------------------------------------------------------

def test_personality_linux32(crt, bundle):
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    out = run_sh(crt, bundle, "uname -m")
    assert out.strip() in ("i686", "i386")
    assert os.uname().machine == "x86_64" and out.strip() != os.uname().machine


def test_scheduler_batch_and_nice(crt, bundle):
    # /proc/<pid>/stat: field 19 is nice, field 41 the policy (3 = SCHED_BATCH)
    out = run_sh(crt, bundle, "awk '{ print $19, $41 }' /proc/1/stat",
                 scheduler={"policy": "SCHED_BATCH", "nice": 7})
    assert out.split() == ["7", "3"]


def test_scheduler_deadline(crt, bundle):
    # A SCHED_DEADLINE task cannot fork: the program reads its own stat.
    # Field 41 is the policy (6 = SCHED_DEADLINE).
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_DEADLINE", "runtime": 1000000,
                                             "deadline": 10000000, "period": 10000000}
    bundle.config["process"]["args"] = ["cat", "/proc/self/stat"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "lx-dl")
    assert r.returncode == 0, r
    assert r.stdout.rsplit(")", 1)[1].split()[38] == "6", r


@pytest.mark.parametrize("sched,msg", [
    ({"runtime": 20000, "deadline": 10000, "period": 30000},
     "process.scheduler.runtime: 20000 is greater than deadline 10000"),
    ({"runtime": 10000, "deadline": 30000, "period": 20000},
     "process.scheduler.deadline: 30000 is greater than period 20000"),
    ({"deadline": 30000}, "process.scheduler.runtime: SCHED_DEADLINE needs one greater than 0"),
    ({"runtime": 10000, "deadline": 10000000, "period": 10 ** 12},
     "process.scheduler.period: 1000000000000 ns is not within this host's"),
])
def test_scheduler_deadline_invalid_refused(crt, bundle, sched, msg):
    bundle.config["process"]["scheduler"] = {"policy": "SCHED_DEADLINE", **sched}
    err = refused(crt, bundle)
    assert msg in err, err


def test_io_priority(crt, bundle):
    out = run_sh(crt, bundle, "ionice -p 1",
                 ioPriority={"class": "IOPRIO_CLASS_BE", "priority": 6})
    assert out.strip() == "best-effort: prio 6"


def test_io_priority_idle_for_init_and_exec(crt, bundle):
    # The idle class has no levels: the priority is accepted and ignored.
    # Also for a non-root user (the idle class needs no capability) and
    # for a process that `crt exec` adds.
    bundle.config["process"].update(
        args=["sh", "-c", "ionice -p 1; sleep 30"], user={"uid": APP_UID, "gid": APP_GID},
        ioPriority={"class": "IOPRIO_CLASS_IDLE", "priority": 4})
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "lx-idle").returncode == 0
    r = crt("exec", "lx-idle", "sh", "-c", "ionice -p 1; ionice -p $$")
    assert r.returncode == 0, r
    assert r.stdout.split() == ["idle", "idle"], r
    assert crt("delete", "--force", "lx-idle").returncode == 0


def test_memory_policy_bind_in_init_and_exec(crt, bundle):
    # /proc/self/numa_maps shows each mapping's policy: "bind=static:0".
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0",
                                              "flags": ["MPOL_F_STATIC_NODES"]}
    bundle.config["process"]["args"] = ["sh", "-c", "head -1 /proc/self/numa_maps; sleep 30"]
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "lx-numa").returncode == 0
    r = crt("exec", "lx-numa", "head", "-1", "/proc/self/numa_maps")
    assert r.returncode == 0 and " bind=static:0 " in r.stdout, r
    r = crt("exec", "lx-numa", "sh", "-c", "head -1 /proc/1/numa_maps")
    assert r.returncode == 0 and " bind=static:0 " in r.stdout, r
    assert crt("delete", "--force", "lx-numa").returncode == 0


def test_memory_policy_node_the_host_lacks_refused(crt, bundle):
    bundle.config["linux"]["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "1000"}
    err = refused(crt, bundle)
    assert 'linux.memoryPolicy.nodes: "1000" names nodes this host does not have' in err, err


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or 1 not in os.sched_getaffinity(0),
                    reason="needs CPUs 0 and 1")
def test_exec_cpu_affinity_final_for_exec_not_init(crt, bundle):
    # config.md: not applicable to the init; `final` is where an exec'd
    # process runs once in the container's cgroup.
    bundle.config["process"]["execCPUAffinity"] = {"initial": "0", "final": "1"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    bundle.save()
    assert crt("run", "-d", "--bundle", bundle.path, "lx-aff").returncode == 0
    r = crt("exec", "lx-aff", "sh", "-c",
            "grep Cpus_allowed_list /proc/self/status /proc/1/status")
    assert r.returncode == 0, r
    got = {line.split(":")[0]: line.split()[-1] for line in r.stdout.splitlines()}
    assert got["/proc/self/status"] == "1", r
    init = open("/proc/self/status").read().split("Cpus_allowed_list:")[1].split()[0]
    assert got["/proc/1/status"] == init, r
    assert crt("delete", "--force", "lx-aff").returncode == 0


def test_intel_rdt_refused(crt, bundle):
    bundle.config["linux"]["intelRdt"] = {"closID": "c1", "l3CacheSchema": "L3:0=f"}
    err = refused(crt, bundle)
    assert "linux.intelRdt: not supported by crt" in err, err


def host_has_cap(bit):
    with open("/proc/self/status") as f:
        eff = [line.split()[1] for line in f if line.startswith("CapEff:")][0]
    return bool(int(eff, 16) >> bit & 1)


@pytest.mark.skipif(not host_has_cap(24), reason="no CAP_SYS_RESOURCE here")
def test_oom_score_adj_negative_for_non_root_user(crt, bundle):
    # Lowering it needs CAP_SYS_RESOURCE: set before the user is changed.
    out = run_sh(crt, bundle, "cat /proc/self/oom_score_adj; id -u", oomScoreAdj=-321,
                 user={"uid": APP_UID, "gid": APP_GID})
    assert out.split() == ["-321", str(APP_UID)]


# --------------------------------------------------------------------------
# sysctl
# --------------------------------------------------------------------------

def read_proc_sys(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()


@pytest.mark.parametrize("key,drop", [("vm.swappiness", None),
                                      ("net.ipv4.ip_forward", "network"),
                                      ("kernel.shmmax", "ipc"),
                                      ("fs.mqueue.msg_max", "ipc"),
                                      ("kernel.domainname", "uts"),
                                      ("kernel.shm_next_id", None)])
def test_sysctl_refused(crt, bundle, key, drop):
    if drop:
        bundle.drop_namespace(drop)
    before = read_proc_sys(key)
    bundle.config["linux"]["sysctl"] = {key: "12"}
    err = refused(crt, bundle)
    assert "linux.sysctl" in err and key in err, err
    assert read_proc_sys(key) == before


def test_sysctl_set_inside_not_on_host(crt, bundle):
    host_fwd, host_shmmax = read_proc_sys("net.ipv4.ip_forward"), read_proc_sys("kernel.shmmax")
    want_fwd = "0" if host_fwd == "1" else "1"
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": want_fwd,
                                        "kernel.shmmax": "123456789"}
    out = run_sh(crt, bundle, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax")
    assert out.split() == [want_fwd, "123456789"]
    assert read_proc_sys("net.ipv4.ip_forward") == host_fwd
    assert read_proc_sys("kernel.shmmax") == host_shmmax


def test_sysctl_uts_and_mqueue_keys_set_inside(crt, bundle):
    # kernel.domainname with a uts namespace, fs.mqueue.* with an ipc
    # namespace, a key in sysctl(8)'s slash form (runc and crun take it).
    host = {k: read_proc_sys(k) for k in ("kernel.domainname", "fs.mqueue.msg_max")}
    bundle.config["linux"]["sysctl"] = {"kernel.domainname": "crt.test",
                                        "fs/mqueue/msg_max": "9"}
    out = run_sh(crt, bundle, "cat /proc/sys/kernel/domainname /proc/sys/fs/mqueue/msg_max")
    assert out.split() == ["crt.test", "9"]
    assert {k: read_proc_sys(k) for k in host} == host


@pytest.mark.parametrize("field,key", [("domainname", "kernel.domainname"),
                                       ("hostname", "kernel.hostname")])
def test_sysctl_disagreeing_with_its_field_refused(crt, bundle, field, key):
    bundle.config[field] = "one.test"
    bundle.config["linux"]["sysctl"] = {key: "two.test"}
    err = refused(crt, bundle)
    assert f'linux.sysctl: "{key}" is "two.test", which conflicts with {field} "one.test"' \
        in err, err


# --------------------------------------------------------------------------
# attacks
# --------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["/etc", "../../../../etc"])
def test_mount_destination_symlink_to_etc_stays_inside(crt, bundle, link):
    marker = "lx-escape-dir"
    assert not os.path.exists("/etc/" + marker)
    os.symlink(link, bundle.in_rootfs("/lx-evil"))
    bundle.config["mounts"].append({"destination": f"/lx-evil/{marker}", "type": "tmpfs",
                                    "source": "tmpfs"})
    try:
        out = run_sh(crt, bundle, "awk '{ print $5 }' /proc/self/mountinfo; ls /etc")
        assert f"/etc/{marker}" in out.split()
        assert "passwd" in out.split()  # the rootfs's own /etc
        assert os.path.isdir(bundle.in_rootfs(f"/etc/{marker}"))
    finally:
        escaped = os.path.exists("/etc/" + marker)
        if escaped:
            os.rmdir("/etc/" + marker)
    assert not escaped, "a directory was created in the host's /etc"


def test_proc_symlink_out_of_rootfs_refused(crt, bundle):
    evil = "/tmp/lx-xyz-evil"
    shutil.rmtree(evil, ignore_errors=True)
    os.makedirs(evil)
    try:
        os.rmdir(bundle.in_rootfs("/proc"))
        os.symlink(evil, bundle.in_rootfs("/proc"))
        err = refused(crt, bundle)
        assert "/proc" in err and "symlink" in err, err
        with open("/proc/self/mountinfo") as f:
            assert not [line for line in f if evil in line]
        assert os.listdir(evil) == []
    finally:
        shutil.rmtree(evil, ignore_errors=True)


def test_masked_path_symlink_to_etc_passwd(crt, bundle):
    with open("/etc/passwd") as f:
        host_passwd = f.read()
    os.symlink("/etc/passwd", bundle.in_rootfs("/lx-mask"))
    bundle.config["linux"]["maskedPaths"] = ["/lx-mask"]
    out = run_sh(crt, bundle, "cat /lx-mask | wc -c; grep -c ^app: /etc/passwd || true")
    # The link resolved inside the container: its own passwd is masked ...
    assert out.split() == ["0", "0"], out
    # ... and the host's file is intact, with nothing mounted on it.
    with open("/etc/passwd") as f:
        assert f.read() == host_passwd
    with open("/proc/self/mountinfo") as f:
        assert not [line for line in f if line.split()[4] == "/etc/passwd"]


def test_no_fd_above_2_in_container(crt, bundle):
    # Two commands, so sh (pid 1) forks ls instead of becoming it.
    out = run_sh(crt, bundle, "ls /proc/1/fd; true")
    assert sorted(out.split()) == ["0", "1", "2"]


def test_pid1_exe_is_the_container_program(crt, bundle):
    out = run_sh(crt, bundle, "readlink /proc/1/exe; readlink /proc/self/exe")
    assert out.split() == ["/bin/busybox", "/bin/busybox"]


def test_crt_binary_not_reachable_from_container(crt, bundle):
    # crt run in the foreground stays alive on the host; from inside, no
    # process's exe is crt (nor anything but the container's program), so
    # /proc/<pid>/exe cannot open the host's crt binary.
    bundle.config["process"]["args"] = [
        "sh", "-c", "for p in /proc/[0-9]*; do echo $p $(readlink $p/exe); done; "
                    "touch /tmp/listed; while [ ! -e /tmp/go ]; do sleep 0.05; done"]
    bundle.save()
    proc = crt.popen("run", "--bundle", bundle.path, "lx-fg")
    try:
        wait_for(lambda: os.path.exists(bundle.in_rootfs("/tmp/listed")),
                 what="the container to list /proc")
        # The foreground crt is alive on the host while the listing is made.
        assert proc.poll() is None
        assert os.readlink(f"/proc/{proc.pid}/exe") == crt.binary
        open(bundle.in_rootfs("/tmp/go"), "w").close()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    exes = [line.split()[1] if len(line.split()) > 1 else "" for line in
            out.decode().splitlines()]
    assert exes and all(e == "/bin/busybox" for e in exes), out
    assert not any("crt" in e for e in exes)


@pytest.mark.parametrize("where,key,value,module", [
    ("process", "apparmorProfile", "crt-test-profile", "AppArmor"),
    ("process", "selinuxLabel", "system_u:system_r:container_t:s0", "SELinux"),
    ("linux", "mountLabel", "system_u:object_r:container_file_t:s0", "SELinux"),
])
def test_lsm_label_refused_without_the_module(crt, bundle, where, key, value, module):
    enabled = {"AppArmor": os.path.exists("/sys/kernel/security/apparmor"),
               "SELinux": os.path.exists("/sys/fs/selinux/enforce")}[module]
    if enabled:
        pytest.skip(f"{module} is enabled on this host: the refusal cannot be tested")
    bundle.config[where][key] = value
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "lx-lsm")
    assert r.returncode == 1, r
    assert f"{where}.{key}: {module} is not enabled on this host" in r.stderr, r
    assert not os.path.exists(os.path.join(crt.root, "lx-lsm"))


def test_empty_lsm_labels_mean_nothing(crt, bundle):
    bundle.config["process"]["apparmorProfile"] = ""
    bundle.config["process"]["selinuxLabel"] = ""
    bundle.config["linux"]["mountLabel"] = ""
    bundle.config["process"]["args"] = ["true"]
    bundle.save()
    r = crt("run", "--bundle", bundle.path, "lx-lsm-empty")
    assert r.returncode == 0, r


def test_join_user_namespace_by_path_with_new_pid_namespace(crt, bundle):
    """The new namespaces are owned by the joined user namespace: the
    init is pid 1 of a pid namespace whose proc it can mount."""
    # A process holding a user namespace, its maps written from here (as
    # an engine would; no newuidmap needed).
    holder = subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import ctypes, sys, time\n"
         "assert ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0\n"
         "print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"ready\n"
        for f in ("uid_map", "gid_map"):
            with open(f"/proc/{holder.pid}/{f}", "w") as m:
                m.write("0 200000 65536\n")
        os.chown(bundle.rootfs, 200000, 200000)
        bundle.config["linux"]["namespaces"] = [
            {"type": "user", "path": f"/proc/{holder.pid}/ns/user"},
            {"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]
        bundle.config["mounts"] = [m for m in bundle.config["mounts"]
                                   if m["destination"] not in ("/sys",)]
        bundle.config["process"]["args"] = [
            "sh", "-c", "cat /proc/self/uid_map; echo pid=$$; readlink /proc/self/ns/user"]
        bundle.save()
        r = crt("run", "--bundle", bundle.path, "lx-userns-path")
        assert r.returncode == 0, r
        lines = r.stdout.split("\n")
        assert lines[0].split() == ["0", "200000", "65536"], r.stdout
        assert lines[1] == "pid=1", r.stdout
        assert lines[2] == os.readlink(f"/proc/{holder.pid}/ns/user"), r.stdout
    finally:
        holder.kill()
        holder.wait()
