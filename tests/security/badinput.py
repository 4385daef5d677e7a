"""What the bad-input tests share (test_bad_input.py: the config corpus;
test_bad_cli_input.py: config.json files, bundles, ids and command
lines): one bundle per module, and the one way every case must fail:
exit status 1, nothing on stdout, exactly one line on stderr starting
"crt: " that names what is wrong, and nothing left behind (no state dir,
mount, cgroup or process: the integration fixtures check those; no new
or changed file in the bundle: snapshotted here around each run)."""

import json
import os
import re
import stat
import subprocess

import pytest

from crt_integration_conftest import _mounts_under as mounts_under, default_config

# What follows the one "crt: " line of a command line error.
HINT = re.compile(r"Try 'crt ([a-z]+ )?--help' for more information\.")


# --------------------------------------------------------------------------
# the shared bundle and the one way every case must fail
# --------------------------------------------------------------------------

class SharedBundle:
    """One bundle for the whole module: rootfs/ (busybox) plus the odd
    files the rootfs cases point root.path at."""

    def __init__(self, path, template):
        self.path = str(path)
        os.makedirs(self.path)
        subprocess.run(["cp", "-a", str(template), os.path.join(self.path, "rootfs")],
                       check=True)
        with open(os.path.join(self.path, "afile"), "w") as f:
            f.write("not a directory\n")
        os.symlink("afile", os.path.join(self.path, "link-to-file"))
        os.symlink("no-such-target", os.path.join(self.path, "dangling"))
        os.symlink("loop-b", os.path.join(self.path, "loop-a"))
        os.symlink("loop-a", os.path.join(self.path, "loop-b"))
        st = os.stat(os.path.join(self.path, "rootfs"))
        self.rootfs_id = (st.st_dev, st.st_ino)

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def write(self, data):
        with open(self.config_path, "wb") as f:
            f.write(data)


def snapshot(top):
    """Every path under top with what would show a change to it."""
    out = {}
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_uid,
                                            st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def shared(template_rootfs, tmp_path_factory):
    return SharedBundle(tmp_path_factory.mktemp("bad-input") / "bundle", template_rootfs)


class Env:
    """One test's view: its crt (own --root), its id and cgroup, the
    shared bundle."""

    def __init__(self, crt, test_dirs, shared):
        self.crt, self.dirs, self.shared = crt, test_dirs, shared
        # A unique id: a config without linux.cgroupsPath would make
        # /crt/<id>, which must not collide with anybody else's.
        self.cid = "bad-" + test_dirs.token
        self.cgroup = f"/crt-test-{test_dirs.token}"
        test_dirs.cgroup_paths.add(self.cgroup)
        test_dirs.cgroup_paths.add("/crt/" + self.cid)
        test_dirs.rootfs_ids.add(shared.rootfs_id)

    def config(self, args=("sh", "-c", "true")):
        c = default_config(args)
        c["linux"]["cgroupsPath"] = self.cgroup
        return c

    def run(self, *args, bundle=None, timeout=20, usage=False):
        """crt *args; assert the one-line failure and that nothing in the
        bundle changed. Returns the line, without "crt: ". With usage, the
        "Try 'crt X --help'" hint of a command line error may follow."""
        top = bundle or self.shared.path
        before = snapshot(top)
        r = self.crt(*args, timeout=timeout)
        after = snapshot(top)
        assert r.returncode == 1, r
        assert r.stdout == "", r
        lines = r.stderr.split("\n")
        if usage and len(lines) == 3 and HINT.fullmatch(lines[1]):
            del lines[1]
        assert lines[-1] == "" and len(lines) == 2, f"not exactly one line: {r!r}"
        assert lines[0].startswith("crt: "), r
        assert before == after, f"the bundle changed: {_diff(before, after)}"
        assert self.crt.state_entries() == [], f"state left: {self.crt.state_entries()}"
        assert not mounts_under([top]), mounts_under([top])
        return lines[0][len("crt: "):]

    def fails(self, data, verb="create", bundle=None):
        """Write data (bytes, str or a config dict) as the shared bundle's
        config.json and run `crt verb` on it."""
        if isinstance(data, dict):
            data = json.dumps(data).encode()
        elif isinstance(data, str):
            data = data.encode()
        self.shared.write(data)
        return self.run(verb, "--bundle", bundle or self.shared.path, self.cid)


def _diff(before, after):
    added = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"added {added[:10]}, removed {gone[:10]}, changed {changed[:10]}"


@pytest.fixture
def env(crt, test_dirs, shared):
    return Env(crt, test_dirs, shared)


def check(line, expect):
    """expect: a substring, or a compiled regex, or a list of them."""
    for e in expect if isinstance(expect, list) else [expect]:
        if isinstance(e, re.Pattern):
            assert e.search(line), f"{e.pattern!r} not in: {line}"
        else:
            assert e in line, f"{e!r} not in: {line}"
