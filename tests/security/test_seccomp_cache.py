"""The compiled seccomp filter cache (<root>/.seccomp, see
libcrt/linux/seccomp_cache.h) attacked: a cached filter is trusted code
for every container with that profile, so an entry another user could
have written, swapped or linked, a corrupted one, one for another
profile, or one in a directory that is not crt's alone must never be
loaded. Each attack plants a *forged* entry: the real one with its BPF
replaced by "allow everything" and its checksum made right again, so the
only thing between it and the container is the check under attack. The
control test shows crt would load exactly that forgery from a sound
cache (root owning crt's root dir is the trust anchor, as for the binary
itself)."""

import os
import shutil
import struct
import subprocess

import pytest

from crt_integration_conftest import without_leak_check

CACHE = ".seccomp"
MAGIC = b"CRTSCMP1"
# One BPF instruction: return SECCOMP_RET_ALLOW.
ALLOW_ALL = struct.pack("=HBBI", 0x06, 0, 0, 0x7FFF0000)
NOBODY = 65534


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def deny_mkdir(bundle, names=("mkdir", "mkdirat")):
    bundle.config["process"]["args"] = ["sh", "-c", "mkdir /tmp/probe; echo rc=$?"]
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": list(names), "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
    bundle.save()


def run_probe(crt, bundle, cid="c1"):
    """'denied' when the profile's filter ran, 'allowed' when mkdir got through."""
    shutil.rmtree(bundle.in_rootfs("/tmp/probe"), ignore_errors=True)
    r = crt("run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r
    if "rc=1" in r.stdout and "Function not implemented" in r.stderr:
        return "denied"
    assert "rc=0" in r.stdout, r
    shutil.rmtree(bundle.in_rootfs("/tmp/probe"), ignore_errors=True)
    return "allowed"


def cache_dir(crt):
    return os.path.join(crt.root, CACHE)


def entries(crt):
    d = cache_dir(crt)
    return sorted(e for e in os.listdir(d) if not e.startswith("."))


def the_entry(crt):
    names = entries(crt)
    assert len(names) == 1, names
    return os.path.join(cache_dir(crt), names[0])


def parse(data):
    """The entry's fields up to its program: (offset of n_insns, key)."""
    assert data[:8] == MAGIC
    off = 8

    def u64():
        nonlocal off
        (v,) = struct.unpack_from("=Q", data, off)
        off += 8
        return v

    klen = u64()
    key = data[off:off + klen]
    off += klen
    skip = u64()        # (not `off += u64()`: u64 moves off itself)
    off += skip         # libseccomp's path
    off += 5 * 8        # its dev, ino, size, mtime
    off += 2 * 8        # flags, uses_notify
    for _ in range(u64()):
        skip = u64()
        off += skip     # skipped names
    (n,) = struct.unpack_from("=Q", data, off)
    assert len(data) == off + 8 + n * 8 + 8, "the entry's layout changed: update this test"
    return off, key


def forge(data):
    """The entry with an allow-all program and a right checksum."""
    off, _ = parse(data)
    body = data[:off] + struct.pack("=Q", 1) + ALLOW_ALL
    return body + struct.pack("=Q", fnv1a(body))


def write_file(path, data, mode=0o600, uid=0):
    if os.path.lexists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.chown(path, uid, 0)


@pytest.fixture
def cached(crt, bundle):
    """A bundle whose profile denies mkdir, run once: its entry exists."""
    deny_mkdir(bundle)
    assert run_probe(crt, bundle) == "denied"
    path = the_entry(crt)
    st = os.stat(path)
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o600)
    st = os.lstat(cache_dir(crt))
    assert (st.st_uid, st.st_mode & 0o7777) == (0, 0o700)
    with open(path, "rb") as f:
        return bundle, path, f.read()


def test_hit_needs_no_libseccomp(crt, cached, test_dirs):
    """A second run of the same profile takes the cached program: it
    neither loads libseccomp nor probes the kernel, and the filter still
    denies."""
    bundle, _, _ = cached
    trace = os.path.join(test_dirs.tmp, "trace")
    r = subprocess.run(["strace", "-f", "-o", trace, "-e", "trace=openat,seccomp",
                        *crt.argv(["run", "--bundle", bundle.path, "c2"])],
                       capture_output=True, text=True, timeout=60, env=without_leak_check())
    assert r.returncode == 0, r.stderr
    assert "rc=1" in r.stdout, r.stdout
    with open(trace) as f:
        text = f.read()
    assert "libseccomp" not in text, text
    assert text.count("seccomp(") == 1, text     # the init's load, nothing else


def test_control_forged_entry_in_sound_cache_is_loaded(crt, cached):
    """The control for the attacks below: the forgery is well formed and a
    root-written entry in a root-only cache is trusted."""
    bundle, path, data = cached
    write_file(path, forge(data))
    assert run_probe(crt, bundle) == "allowed"


def test_entry_owned_by_another_user(crt, cached):
    bundle, path, data = cached
    write_file(path, forge(data), uid=NOBODY)
    assert run_probe(crt, bundle) == "denied"


@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_entry_writable_by_others(crt, cached, mode):
    bundle, path, data = cached
    write_file(path, forge(data), mode=mode)
    assert run_probe(crt, bundle) == "denied"


def test_entry_is_a_symlink(crt, cached, test_dirs):
    bundle, path, data = cached
    elsewhere = os.path.join(test_dirs.tmp, "forged")
    write_file(elsewhere, forge(data))
    os.unlink(path)
    os.symlink(elsewhere, path)
    assert run_probe(crt, bundle) == "denied"


def test_entry_is_hard_linked(crt, cached, test_dirs):
    """A second name for the entry (made by whoever could write there) is
    a second way to change it."""
    bundle, path, data = cached
    elsewhere = os.path.join(crt.root, "forged-link")
    write_file(path, forge(data))
    os.link(path, elsewhere)
    try:
        assert run_probe(crt, bundle) == "denied"
    finally:
        os.unlink(elsewhere)


def test_entry_is_a_fifo(crt, cached):
    """Not a regular file: crt neither blocks on it nor uses it."""
    bundle, path, _ = cached
    os.unlink(path)
    os.mkfifo(path, 0o600)
    assert run_probe(crt, bundle) == "denied"


@pytest.mark.parametrize("damage", ["bit", "truncated", "empty", "grown"])
def test_corrupted_entry(crt, cached, damage):
    """A torn or damaged entry is a miss, and the next run rewrites it."""
    bundle, path, data = cached
    forged = bytearray(forge(data))
    if damage == "bit":
        forged[len(forged) - 12] ^= 0x01      # inside the program, checksum now wrong
    elif damage == "truncated":
        forged = forged[:len(forged) // 2]
    elif damage == "empty":
        forged = b""
    else:
        # More program than n_insns says, with a right checksum.
        body = bytes(forged[:-8]) + ALLOW_ALL
        forged = body + struct.pack("=Q", fnv1a(body))
    write_file(path, bytes(forged))
    assert run_probe(crt, bundle) == "denied"
    with open(path, "rb") as f:
        assert f.read() == data


def test_entry_of_another_profile(crt, bundle_factory):
    """An entry holds its whole key: another profile's program, under this
    profile's file name, is not this profile's."""
    weak = bundle_factory()
    deny_mkdir(weak, names=("acct",))
    assert run_probe(crt, weak) == "allowed"
    weak_entry = the_entry(crt)
    with open(weak_entry, "rb") as f:
        weak_data = f.read()
    strong = bundle_factory()
    deny_mkdir(strong)
    assert run_probe(crt, strong) == "denied"
    strong_entry = [os.path.join(cache_dir(crt), e) for e in entries(crt)
                    if os.path.join(cache_dir(crt), e) != weak_entry]
    assert len(strong_entry) == 1
    write_file(strong_entry[0], weak_data)
    assert run_probe(crt, strong) == "denied"


def test_cache_dir_open_to_others(crt, cached):
    bundle, path, data = cached
    write_file(path, forge(data))
    os.chmod(cache_dir(crt), 0o755)
    assert run_probe(crt, bundle) == "denied"


def test_cache_dir_owned_by_another_user(crt, cached):
    bundle, path, data = cached
    write_file(path, forge(data))
    os.chown(cache_dir(crt), NOBODY, NOBODY)
    assert run_probe(crt, bundle) == "denied"


def test_cache_dir_is_a_symlink(crt, cached, test_dirs):
    """.seccomp pointing at a directory elsewhere (root-owned, 0700, with
    the forged entry in it) is not crt's cache."""
    bundle, path, data = cached
    elsewhere = os.path.join(test_dirs.tmp, "cache")
    os.mkdir(elsewhere, 0o700)
    write_file(os.path.join(elsewhere, os.path.basename(path)), forge(data))
    shutil.rmtree(cache_dir(crt))
    os.symlink(elsewhere, cache_dir(crt))
    assert run_probe(crt, bundle) == "denied"


def test_exec_uses_the_cache_checks_too(crt, cached):
    """crt exec compiles the container's profile through the same cache."""
    bundle, path, data = cached
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.save()
    r = crt("run", "-d", "--bundle", bundle.path, "long")
    assert r.returncode == 0, r
    try:
        write_file(path, forge(data), uid=NOBODY)
        r = crt("exec", "long", "sh", "-c", "mkdir /tmp/probe; echo rc=$?")
        assert r.returncode == 0, r
        assert "rc=1" in r.stdout, r
    finally:
        crt("delete", "--force", "long")


KEEP = 64  # CRT_CACHE_DIR_KEEP, libcrt/util/cache_dir.h


def test_cache_keeps_the_entries_used_last(crt, bundle):
    """A host that keeps making new profiles must not fill /run: past
    KEEP entries, adding one removes the least recently used. A profile
    used now and then (here: the first, run again every 10 new ones)
    stays; the new ones made before its last use go first. Fails on a
    build that never trims (too many entries) or that does not mark an
    entry used on a hit (the first profile, the oldest, goes)."""
    bundle.config["process"]["args"] = ["true"]

    def run_profile(errno_ret, cid):
        bundle.config["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": errno_ret}]}
        bundle.save()
        r = crt("run", "--bundle", bundle.path, cid)
        assert r.returncode == 0, r

    run_profile(1, "hot")
    hot = the_entry(crt)
    hot_ino = os.stat(hot).st_ino  # a miss would write a new file
    made = []
    for i in range(KEEP + 6):
        before = set(entries(crt))
        run_profile(100 + i, f"c{i}")
        made += sorted(set(entries(crt)) - before)
        if i % 10 == 9:
            run_profile(1, f"hot{i}")
    names = entries(crt)
    assert len(names) == KEEP, len(names)
    assert os.path.basename(hot) in names and os.stat(hot).st_ino == hot_ino
    assert made[0] not in names and made[-1] in names
    assert not [e for e in os.listdir(cache_dir(crt)) if e.startswith(".")]
