"""Bad input (issue #9): a corpus of malformed bundles, configs, ids and
command lines, each run through the real crt binary.

Every case must fail the same way:
  * exit status 1, nothing on stdout;
  * exactly one line on stderr, starting "crt: ", that names what is wrong
    (the JSON path of the offending field, the flag, the id), asserted per
    case;
  * nothing left behind: no state directory under --root, no mount, no
    cgroup, no process (the integration fixtures check those after every
    test), and no new or changed file in the bundle (snapshotted here
    before and after each run).

The corpus is generated here, not stored: truncations of the default
config at many offsets, deep nesting, huge strings, NUL bytes, invalid
UTF-8, out-of-range numbers, a wrong JSON type at every key path of the
default config, conflicting settings, broken rootfs and config.json files,
bad container ids and bad command lines.

Speed: the config cases share one bundle (one copy of the busybox rootfs
per module) and only rewrite its config.json; each case still snapshots
the whole bundle tree around its run.
"""

import json
import os
import re
import stat
import subprocess

import pytest

from crt_integration_conftest import _mounts_under as mounts_under, default_config

MB10 = 10 * 1024 * 1024
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


# --------------------------------------------------------------------------
# the config corpus
# --------------------------------------------------------------------------

class Case:
    """make(env) -> the config.json bytes (or a dict); expect: see check()."""

    def __init__(self, name, make, expect, verb="create"):
        self.name, self.make, self.expect, self.verb = name, make, expect, verb


CASES = []


def case(name, make, expect, verb="create"):
    CASES.append(Case(name, make, expect, verb))


def edit(fn):
    """A case's config: the default config, changed by fn(config)."""
    def make(env):
        c = env.config()
        fn(c)
        return c
    return make


def put(path, value):
    """fn for edit(): set the value at a path like "process.args[0]"."""
    def fn(c):
        parent, last = _locate(c, path, create=True)
        parent[last] = value
    return fn


_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _steps(path):
    return [int(i) if i else k for k, i in _TOKEN.findall(path)]


def _locate(c, path, create=False):
    steps = _steps(path)
    for i, s in enumerate(steps[:-1]):
        if create and isinstance(s, str) and s not in c:
            c[s] = [] if isinstance(steps[i + 1], int) else {}
        if create and isinstance(s, int) and len(c) <= s:
            c.append([] if isinstance(steps[i + 1], int) else {})
        c = c[s]
    if create and isinstance(steps[-1], int) and len(c) <= steps[-1]:
        c.append(None)
    return c, steps[-1]


def _at(path):
    return f"config.json: {path}: " if path else "config.json: "


# ---- truncated and malformed JSON -----------------------------------------

def json_location(text):
    """Where a JSON reader stands at the end of text (a valid prefix of a
    document): the path of the value being read, as crt names it. A number
    at the very end is not complete yet (more digits could follow)."""
    frames = []             # [is_array, index or key]
    i, n = 0, len(text)

    def done():             # a value ended: next index, or no key
        if frames:
            f = frames[-1]
            f[1] = f[1] + 1 if f[0] else None

    while i < n:
        ch = text[i]
        if ch in " \t\r\n,:":
            i += 1
        elif ch in "{[":
            frames.append([ch == "[", 0 if ch == "[" else None])
            i += 1
        elif ch in "}]":
            frames.pop()
            done()
            i += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                break
            s = json.loads(text[i:j + 1])
            if frames and not frames[-1][0] and frames[-1][1] is None:
                frames[-1][1] = s
            else:
                done()
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in " \t\r\n,:]}":
                j += 1
            if j >= n and (text[i] in "-0123456789"):
                break
            if j >= n and text[i:j] not in ("true", "false", "null"):
                break
            done()
            i = j
    path = ""
    for is_array, k in frames:
        if is_array:
            path += f"[{k}]"
        elif k is not None:
            path += ("." if path else "") + k
    return path


def _line_col(text):
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1


def _truncated(n_offsets=48):
    full = json.dumps(default_config(["sh", "-c", "true"]), indent=2)
    offsets = sorted(set([1, 2, 3, 10, 17] + [int(len(full) * k / n_offsets)
                                              for k in range(1, n_offsets)]))
    for off in offsets:
        text = full[:off]
        line, col = _line_col(text)
        path = json_location(text)
        where = f"config.json: {path}: " if path else "config.json: "
        expect = where + f"line {line}, column {col}: parse error: premature EOF"
        case(f"truncated-at-{off}", lambda env, t=text: t, expect,
             verb="run" if off % 2 else "create")


_truncated()
case("empty-file", lambda env: b"", "config.json: line 1, column 1: parse error: premature EOF")
case("only-whitespace", lambda env: b" \n\t\n",
     "config.json: line 3, column 1: parse error: premature EOF")
case("trailing-comma-in-args",
     lambda env: '{"ociVersion": "1.2.0", "process": {"args": ["sh",]}}',
     "config.json: process.args[1]: line 1, column 51: parse error: unallowed token")
case("missing-colon", lambda env: '{"ociVersion" "1.2.0"}',
     "config.json: ociVersion: line 1, column 21: parse error: object key and value must be")
case("single-quotes", lambda env: "{'ociVersion': '1.2.0'}", "config.json: line 1, column 2: ")
case("garbage-after-document",
     lambda env: json.dumps(env.config()) + " x",
     re.compile(r"^create bad-\w+: config\.json: line 1, column \d+: parse error: trailing garbage$"))
case("two-documents", lambda env: json.dumps(env.config()) * 2,
     re.compile(r"config\.json: line 1, column \d+: parse error: trailing garbage$"))
case("unterminated-comment", lambda env: '{"ociVersion": "1.2.0" /* ...',
     "config.json: line 1, column ")
case("bare-word", lambda env: "config", "config.json: line 1, column 1: ")
case("bad-escape", lambda env: '{"hostname": "a\\qb"}',
     "config.json: hostname: line 1, column ")
# yajl turns a lone high surrogate into "?"; a lone low one comes out as
# the UTF-8 form of a surrogate, which no valid text has.
case("lone-low-surrogate-escape",
     lambda env: json.dumps(env.config()).replace('"crt-test"', '"\\udc00"'),
     [_at("hostname") + "line 1, column ", "invalid UTF-8"])
case("unescaped-newline-in-string", lambda env: '{"hostname": "a\nb"}',
     "config.json: hostname: line ")
for top in ("[]", "1", '"config"', "true", "null"):
    case(f"top-level-{top.strip(chr(34))}", lambda env, t=top: t,
         re.compile(r": config\.json: expected an object$"))

# ---- deep nesting -----------------------------------------------------------

DEPTH = 10000


def _nested(depth, kind):
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def _deep(where, kind, depth=DEPTH):
    def make(env):
        c = env.config()
        parent, last = _locate(c, where, create=True)
        parent[last] = "@DEEP@"
        return json.dumps(c).replace('"@DEEP@"', _nested(depth, kind))
    return make


for where in ("process.args", "annotations.x", "x-unknown-extension", "linux.resources",
              "mounts[0].options"):
    for kind in ("array", "object"):
        case(f"nested-{DEPTH}-{kind}s-at-{where}", _deep(where, kind),
             [f"config.json: {where}" + ("[0][0][0]" if kind == "array" else ".a.a.a"),
              re.compile(r": line 1, column \d+: nesting deeper than 256 levels$")],
             verb="run" if kind == "array" else "create")
case("nested-10000-arrays-document", lambda env: _nested(DEPTH, "array"),
     "config.json: [0][0][0]")
case("nested-1000000-arrays", _deep("process.args", "array", 1000000),
     ["config.json: process.args[0][0]", "nesting deeper than 256 levels"])
case("nested-257-arrays", _deep("x-ext", "array", 257),
     ["config.json: x-ext" + "[0]" * 255 + ": line 1, column ", "nesting deeper than 256"])

# ---- a 10 MB string ---------------------------------------------------------

case("10MB-arg", edit(put("process.args[1]", "x" * MB10)),
     "config.json: process.args[1]: longer than 131071 bytes, the kernel's limit for one argument")
case("10MB-env", edit(put("process.env[1]", "A=" + "x" * MB10)),
     "config.json: process.env[1]: longer than 131071 bytes, the kernel's limit for one variable")
case("10MB-hostname", edit(put("hostname", "h" * MB10)),
     "config.json: hostname: longer than 64 bytes", verb="run")
case("10MB-annotation-value", edit(put("annotations.big", "v" * MB10)),
     "config.json: annotations.big: longer than 1048576 bytes")
case("10MB-annotation-key", edit(put("annotations", {"k" * MB10: "v"})),
     "config.json: annotations.kkkk")
case("128KiB-arg", edit(put("process.args[2]", "x" * (128 * 1024))),
     "config.json: process.args[2]: longer than 131071 bytes", verb="run")
case("65-byte-hostname", edit(put("hostname", "h" * 65)), "config.json: hostname: longer than 64")
case("65-byte-domainname", edit(put("domainname", "d" * 65)),
     "config.json: domainname: longer than 64")

# ---- NUL bytes ---------------------------------------------------------------

NUL = "nul\x00byte"
for path in ("process.args[0]", "process.args[2]", "process.env[0]", "process.cwd", "hostname",
             "mounts[1].destination", "mounts[0].source", "root.path", "annotations.a",
             "linux.cgroupsPath", "process.capabilities.bounding[0]", "ociVersion"):
    case(f"NUL-in-{path}", edit(put(path, "/" + NUL)),
         [_at(path) + "line 1, column ", "contains a NUL character (\\u0000)"],
         verb="run" if "args" in path else "create")
case("NUL-in-annotation-key", edit(put("annotations", {"a\x00b": "c"})),
     [_at("annotations") + "line 1, column ", "a key contains a NUL character"])
case("raw-NUL-byte-in-string",
     lambda env: json.dumps(env.config()).replace('"crt-test"', '"crt\x00test"').encode(),
     "config.json: hostname: line 1, column ")
case("raw-NUL-byte-between-tokens",
     lambda env: b"{\x00" + json.dumps(env.config()).encode()[1:],
     "config.json: line 1, column 2: ")

# ---- invalid UTF-8 -----------------------------------------------------------


def _raw(path, raw):
    """The default config with the string at path replaced by raw bytes."""
    def make(env):
        c = env.config()
        put(path, "@RAW@")(c)
        return json.dumps(c).encode().replace(b"@RAW@", raw)
    return make


# yajl finds the malformed sequences, crt the well-formed ones that
# RFC 3629 forbids (overlong forms, surrogates, beyond U+10FFFF).
UTF8 = re.compile(r"invalid bytes in UTF8 string|invalid UTF-8$")
for label, raw in (("byte-FF", b"a\xffb"), ("lone-continuation", b"a\x80b"),
                   ("truncated-2-byte", b"ab\xc3"), ("overlong-slash", b"\xc0\xaf"),
                   ("encoded-surrogate", b"\xed\xa0\x80"), ("beyond-U+10FFFF", b"\xf4\x90\x80\x80")):
    for path in ("hostname", "process.args[2]", "process.env[1]", "annotations.k"):
        case(f"bad-UTF-8-{label}-in-{path}", _raw(path, raw),
             [_at(path) + "line 1, column ", UTF8],
             verb="run" if path == "hostname" else "create")
case("bad-UTF-8-in-key", lambda env: json.dumps(env.config()).encode().replace(
    b'"hostname"', b'"host\xffname"'), [re.compile(r"config\.json: line 1, column \d+: "), UTF8])
case("bad-UTF-8-overlong-in-key", lambda env: json.dumps(env.config()).encode().replace(
    b'"hostname"', b'"host\xc1\x81name"'), [re.compile(r"config\.json: line 1, column \d+: "),
                                             "a key is not valid UTF-8"])
case("bad-UTF-8-outside-strings", lambda env: b"\xff" + json.dumps(env.config()).encode(),
     "config.json: line 1, column 1: ")

# ---- numbers -----------------------------------------------------------------

U32 = "expected an unsigned 32-bit integer"
U64 = "expected an unsigned 64-bit integer"
I64 = "expected a 64-bit integer"
NUMBERS = {
    # path: (what the message says, [bad literals])
    "process.user.uid": (U32, ["4294967296", "18446744073709551616", "-1", "1.5", "1e3", "0.0",
                               "-0"]),
    "process.user.gid": (U32, ["4294967296", "-1", "2.5", "1E2"]),
    "process.user.additionalGids[0]": (U32, ["4294967296", "-5", "0.5"]),
    "process.rlimits[0].hard": (U64, ["18446744073709551616", "-1", "1024.0", "1e4",
                                      "99999999999999999999999999999"]),
    "process.rlimits[0].soft": (U64, ["18446744073709551616", "-1024", "0.1", "2e3"]),
    "process.oomScoreAdj": ("expected an integer between -1000 and 1000",
                            ["1001", "-1001", "9223372036854775808", "0.5", "1e2"]),
    "linux.resources.memory.limit": (I64, ["9223372036854775808", "-9223372036854775809",
                                           "1.5", "1e9", "1E+9"]),
    "linux.resources.pids.limit": (I64, ["9223372036854775808", "1.5", "1e3", "-1e3"]),
    "process.user.umask": (U32, ["4294967296", "-1", "0.18", "1e1"]),
    "hooks.prestart[0].timeout": ("expected an integer between 1 and 2147483647",
                                  ["0", "-1", "2147483648", "1.5", "1e3"]),
    "process.consoleSize.height": (U32, ["-1", "4294967296", "24.5", "1e2"]),
    "process.consoleSize.width": (U32, ["-80", "4294967296", "80.0", "8e1"]),
}


def _number(path, literal):
    def make(env):
        c = env.config()
        c["process"]["user"]["additionalGids"] = [1]
        c["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": 5}]}
        c["process"]["consoleSize"] = {"height": 24, "width": 80}
        put(path, "@NUM@")(c)
        return json.dumps(c).replace('"@NUM@"', literal)
    return make


for path, (what, literals) in NUMBERS.items():
    for lit in literals:
        case(f"number-{path}={lit}", _number(path, lit), _at(path) + what)
# Values of the right type that no kernel takes.
case("umask-above-0777", _number("process.user.umask", "512"),
     "config.json: process.user.umask: must be at most 0777 (511), got 512")
case("memory-limit-below-minus-one", _number("linux.resources.memory.limit", "-2"),
     "config.json: linux.resources.memory.limit: must be -1 (unlimited) or at least 0")
case("memory-swap-below-minus-one", _number("linux.resources.memory.swap", "-100"),
     "config.json: linux.resources.memory.swap: must be -1 (unlimited) or at least 0")

# ---- a wrong type at every level ---------------------------------------------

WRONG = {"string": "wrong", "integer": 7, "boolean": True, "array": [], "object": {}}


def _json_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    return {str: "string", list: "array", dict: "object"}[type(v)]


def _key_paths(v, path=""):
    """Every key path of a config: all object members, and the first and
    last element of each array."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _key_paths(x, f"{path}.{k}" if path else k)
    elif isinstance(v, list):
        for i in sorted({0, len(v) - 1}) if v else ():
            yield from _key_paths(v[i], f"{path}[{i}]")


def _wrong_type_cases():
    base = default_config(["sh", "-c", "true"])
    base["linux"]["cgroupsPath"] = "/x"
    n = 0
    for path, value in _key_paths(base):
        if not path:
            continue
        for tname, wrong in WRONG.items():
            if tname == _json_type(value):
                continue
            n += 1
            case(f"type-{path}={tname}", edit(put(path, wrong)), [_at(path) + "expected ",
                                                                  re.compile(r"expected \w")],
                 verb="run" if n % 3 == 0 else "create")


_wrong_type_cases()
case("type-document-is-an-array", lambda env: "[" + json.dumps(env.config()) + "]",
     re.compile(r"create bad-\w+: config\.json: expected an object$"))

# ---- conflicting or missing settings -----------------------------------------


def _ns(*entries):
    return put("linux.namespaces", [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]
               + list(entries))


CONFLICTS = [
    ("duplicate-namespace-pid", edit(_ns({"type": "pid"})),
     'config.json: linux.namespaces[5]: duplicate namespace "pid"'),
    ("duplicate-namespace-network-by-path",
     edit(_ns({"type": "network", "path": "/proc/self/ns/net"})),
     'config.json: linux.namespaces[5]: duplicate namespace "network"'),
    ("unknown-namespace", edit(_ns({"type": "bogus"})),
     'config.json: linux.namespaces[5].type: unknown namespace "bogus"'),
    ("namespace-path-of-another-type",
     edit(put("linux.namespaces[4]", {"type": "network", "path": "/proc/self/ns/uts"})),
     "linux.namespaces[4].path: "),
    ("namespace-path-relative", edit(put("linux.namespaces[4]", {"type": "network",
                                                                  "path": "proc/self/ns/net"})),
     'config.json: linux.namespaces[4].path: must be an absolute path, got "proc/self/ns/net"'),
    ("namespace-path-missing", edit(put("linux.namespaces[4]", {"type": "network",
                                                                 "path": "/no/such/ns"})),
     "linux.namespaces[4].path: open `/no/such/ns`"),
    ("namespace-path-not-a-namespace", edit(put("linux.namespaces[4]",
                                                {"type": "network", "path": "/etc/hostname"})),
     "linux.namespaces[4].path: "),
]


def _drop_ns(ns):
    def fn(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != ns]
    return fn


def _both(*fns):
    def fn(c):
        for f in fns:
            f(c)
    return fn


CONFLICTS += [
    ("hostname-without-uts", edit(_drop_ns("uts")),
     "config.json: hostname: set without a uts namespace"),
    ("domainname-without-uts", edit(_both(_drop_ns("uts"), put("hostname", ""),
                                          put("domainname", "example.org"))),
     "config.json: domainname: set without a uts namespace"),
    ("masked-paths-without-mount-namespace",
     edit(_both(_drop_ns("mount"), put("linux.maskedPaths", ["/proc/kcore"]))),
     "config.json: linux.maskedPaths: needs a mount namespace of the container's own"),
    ("readonly-root-without-mount-namespace",
     edit(_both(_drop_ns("mount"), put("root.readonly", True))),
     "config.json: root.readonly: needs a mount namespace of the container's own"),
    ("uidMappings-without-user-namespace",
     edit(put("linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}])),
     "config.json: linux.uidMappings: set without a user namespace"),
    ("user-namespace-without-mappings-non-root-user",
     edit(_both(_ns({"type": "user"}), put("process.user", {"uid": 1001, "gid": 0}))),
     "config.json: process.user.uid: 1001 is not mapped in the new user namespace "
     "(without linux.uidMappings only 0 is)"),
    ("id-mapping-size-0", edit(_both(_ns({"type": "user"}), put(
        "linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 0}]))),
     "config.json: linux.uidMappings[0].size: must be greater than 0"),
    ("id-mapping-beyond-32-bits", edit(_both(_ns({"type": "user"}), put(
        "linux.gidMappings", [{"containerID": 4294967295, "hostID": 0, "size": 2}]),
        put("linux.uidMappings", [{"containerID": 0, "hostID": 0, "size": 1}]))),
     "config.json: linux.gidMappings[0]: range exceeds the 32-bit id space"),
    ("mount-uidMappings-without-gidMappings", edit(put(
        "mounts[0].uidMappings", [{"containerID": 0, "hostID": 0, "size": 1}])),
     "config.json: mounts[0]: uidMappings and gidMappings must be given together"),
    ("timeOffsets-without-time-namespace",
     edit(put("linux.timeOffsets", {"monotonic": {"secs": 1}})),
     "config.json: linux.timeOffsets: set without a new time namespace"),
    ("rlimit-soft-above-hard",
     edit(put("process.rlimits[0]", {"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024})),
     "config.json: process.rlimits[0]: soft limit 2048 is greater than hard limit 1024"),
    ("rlimit-duplicate", edit(put("process.rlimits[1]", {"type": "RLIMIT_NOFILE", "soft": 1,
                                                          "hard": 1})),
     'config.json: process.rlimits[1]: duplicate rlimit "RLIMIT_NOFILE"'),
    ("rlimit-unknown", edit(put("process.rlimits[0].type", "RLIMIT_BOGUS")),
     'config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_BOGUS"'),
    ("terminal-without-console-socket", edit(put("process.terminal", True)),
     "config.json: process.terminal: a detached container needs --console-socket"),
    ("args-empty", edit(put("process.args", [])),
     "config.json: process.args: must contain at least one entry"),
    ("args-missing", edit(lambda c: c["process"].pop("args")),
     "config.json: process.args: required field is missing"),
    ("cwd-missing", edit(lambda c: c["process"].pop("cwd")),
     "config.json: process.cwd: required field is missing"),
    ("cwd-relative", edit(put("process.cwd", "tmp")),
     'config.json: process.cwd: must be an absolute path, got "tmp"', "run"),
    ("process-missing", edit(lambda c: c.pop("process")),
     "config.json: process: required to create a container"),
    ("root-missing", edit(lambda c: c.pop("root")), "config.json: root.path: required"),
    ("root-path-missing", edit(lambda c: c["root"].pop("path")),
     "config.json: root.path: required field is missing"),
    ("ociVersion-missing", edit(lambda c: c.pop("ociVersion")),
     "config.json: ociVersion: required field is missing"),
    ("ociVersion-2", edit(put("ociVersion", "2.0.0")),
     'config.json: ociVersion: unsupported version "2.0.0"'),
    ("ociVersion-with-newline", edit(put("ociVersion", "1.2.0\nforged line")),
     'config.json: ociVersion: unsupported version "1.2.0\\nforged line"'),
    ("namespace-type-with-escape", edit(_ns({"type": "\x1b[31mred"})),
     'config.json: linux.namespaces[5].type: unknown namespace "\\x1b[31mred"'),
    ("hook-path-relative", edit(put("hooks", {"poststart": [{"path": "true"}]})),
     'config.json: hooks.poststart[0].path: must be an absolute path, got "true"'),
    ("hook-path-missing", edit(put("hooks", {"createRuntime": [{"args": ["x"]}]})),
     "config.json: hooks.createRuntime[0].path: required field is missing"),
    ("device-path-relative", edit(put("linux.devices", [{"path": "dev/x", "type": "c",
                                                          "major": 1, "minor": 3}])),
     'config.json: linux.devices[0].path: must be an absolute path, got "dev/x"'),
    ("device-type-unknown", edit(put("linux.devices", [{"path": "/dev/x", "type": "z",
                                                         "major": 1, "minor": 3}])),
     'config.json: linux.devices[0].type: unknown device type "z"'),
    ("device-major-missing", edit(put("linux.devices", [{"path": "/dev/x", "type": "c",
                                                          "minor": 3}])),
     "config.json: linux.devices[0].major: required field is missing"),
    ("maskedPaths-relative", edit(put("linux.maskedPaths", ["proc/kcore"])),
     'config.json: linux.maskedPaths[0]: must be an absolute path, got "proc/kcore"'),
    ("mount-destination-empty", edit(put("mounts[2].destination", "")),
     "config.json: mounts[2].destination: must not be empty"),
    ("seccomp-errnoRet-with-allow",
     edit(put("linux.seccomp", {"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})),
     "config.json: linux.seccomp.defaultErrnoRet: not allowed with action SCMP_ACT_ALLOW"),
    ("seccomp-listenerMetadata-without-path",
     edit(put("linux.seccomp", {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"})),
     "config.json: linux.seccomp.listenerMetadata: set without listenerPath"),
    ("rootfsPropagation-unknown", edit(put("linux.rootfsPropagation", "sideways")),
     'config.json: linux.rootfsPropagation: unknown rootfs propagation "sideways"'),
    ("ioPriority-out-of-range",
     edit(put("process.ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 8})),
     "config.json: process.ioPriority.priority: expected an integer between 0 and 7"),
    ("device-cgroup-access-bad",
     edit(put("linux.resources.devices", [{"allow": False, "access": "rwx"}])),
     "config.json: linux.resources.devices[0].access: expected a combination of"),
    ("weightDevice-without-weight",
     edit(put("linux.resources.blockIO.weightDevice", [{"major": 8, "minor": 0}])),
     "config.json: linux.resources.blockIO.weightDevice[0]: needs at least one of"),
]
for name, make, expect, *verb in CONFLICTS:
    case(name, make, expect, *verb)

# ---- root.path ---------------------------------------------------------------

for target, why in (("no-such-rootfs", "No such file or directory"),
                    ("afile", "Not a directory"),
                    ("link-to-file", "Not a directory"),
                    ("dangling", "No such file or directory"),
                    ("loop-a", "Too many levels of symbolic links"),
                    ("/no/such/absolute/rootfs", "No such file or directory"),
                    ("config.json", "Not a directory")):
    case(f"rootfs-{target.strip('/').replace('/', '-')}", edit(put("root.path", target)),
         f"config.json: root.path: `{target}`: {why}", verb="run" if "a" in target else "create")


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_bad_config(env, c):
    check(env.fails(c.make(env), c.verb), c.expect)


def test_corpus_size():
    assert len(CASES) >= 150, len(CASES)
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case ids must be unique"


# --------------------------------------------------------------------------
# config.json itself, and the bundle
# --------------------------------------------------------------------------

@pytest.fixture
def side_bundle(env, tmp_path):
    """A bundle of its own (no rootfs copy: these fail before the rootfs
    matters), for the cases that break config.json itself."""
    path = tmp_path / "side"
    os.makedirs(path)
    os.symlink(os.path.join(env.shared.path, "rootfs"), path / "rootfs")
    return str(path)


def _make_config_file(kind, path):
    cfg = os.path.join(path, "config.json")
    if kind == "missing":
        pass
    elif kind == "directory":
        os.mkdir(cfg)
    elif kind == "dangling-symlink":
        os.symlink("nowhere.json", cfg)
    elif kind == "symlink-loop":
        os.symlink("config.json", cfg)
    elif kind == "fifo":
        os.mkfifo(cfg)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", cfg)
    elif kind == "dev-null":
        os.symlink("/dev/null", cfg)
    elif kind == "symlink-to-directory":
        os.symlink("/proc/self", cfg)


CONFIG_FILES = {
    "missing": "config.json`: No such file or directory",
    "directory": "config.json`: Is a directory",
    "dangling-symlink": "config.json`: No such file or directory",
    "symlink-loop": "config.json`: Too many levels of symbolic links",
    # Neither may hang crt or make it read forever.
    "fifo": "config.json`: not a regular file",
    "dev-zero": "config.json`: not a regular file",
    "dev-null": "config.json`: not a regular file",
    "symlink-to-directory": "config.json`: Is a directory",
}


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("kind", list(CONFIG_FILES))
def test_bad_config_file(env, side_bundle, kind, verb):
    _make_config_file(kind, side_bundle)
    line = env.run(verb, "--bundle", side_bundle, env.cid, bundle=side_bundle, timeout=10)
    check(line, [f"{verb} {env.cid}: ", CONFIG_FILES[kind]])


@pytest.mark.parametrize("kind", ["missing", "a-file"])
def test_bad_bundle_dir(env, tmp_path, kind):
    path = str(tmp_path / "bundle")
    if kind == "a-file":
        with open(path, "w"):
            pass
    line = env.run("create", "--bundle", path, env.cid, bundle=str(tmp_path))
    check(line, f"bundle `{path}`: " + ("No such file or directory" if kind == "missing"
                                        else "Not a directory"))


# --------------------------------------------------------------------------
# container ids
# --------------------------------------------------------------------------

# runc (libcontainer/factory_linux.go, validateID) allows [A-Za-z0-9_+.-]
# and rejects what does not clean to itself as a path ("." and ".."), with
# no length limit. crun (src/libcrun/status.c, validate_id) allows the same
# letters but rejects every id starting with "." (runc takes ".x"). crt
# follows the stricter: no leading ".", which would also hide the
# container from `crt list`. Neither limits the length; the id is a
# directory name under --root, so crt refuses more than NAME_MAX (255)
# characters up front instead of failing in mkdir. A leading "-" is allowed
# by both (after "--"); given bare, it is a flag, and refused as one.
BAD_IDS = {
    "slash": ("/", "invalid container id `/`"),
    "dot-dot": ("..", "invalid container id `..`"),
    "dot": (".", "invalid container id `.`"),
    "dot-hidden": (".hidden", "invalid container id `.hidden`: must not start with \".\""),
    "a-slash-b": ("a/b", "invalid container id `a/b`"),
    "dot-dot-slash": ("../x", "invalid container id `../x`"),
    "1000-chars": ("x" * 1000, "invalid container id `xxxx"),
    "256-chars": ("y" * 256, "must be 1 to 255 characters"),
    "control-char": ("a\x01b", "invalid container id `a\\x01b`"),
    "newline": ("a\nforged", "invalid container id `a\\nforged`"),
    "tab": ("a\tb", "invalid container id `a\\tb`"),
    "escape-sequence": ("\x1b[31mred", "invalid container id `\\x1b[31mred`"),
    "DEL": ("a\x7f", "invalid container id `a\\x7f`"),
    "empty": ("", "invalid container id ``: must be 1 to 255 characters"),
    "space": ("a b", "invalid container id `a b`"),
    "semicolon": ("a;b", "invalid container id `a;b`"),
    "non-ASCII": ("caf\u00e9", "invalid container id `caf"),
    "backslash": ("a\\b", "invalid container id `a\\b`"),
    "star": ("*", "invalid container id `*`"),
}


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("name", list(BAD_IDS))
def test_bad_id(env, verb, name):
    cid, expect = BAD_IDS[name]
    env.shared.write(json.dumps(env.config()).encode())
    line = env.run(verb, "--bundle", env.shared.path, cid)
    check(line, expect)
    assert not os.path.exists(os.path.join(os.path.dirname(env.crt.root), "x"))


@pytest.mark.parametrize("cid", ["-x", "--x"])
def test_leading_dash_id_is_a_flag(env, cid):
    env.shared.write(json.dumps(env.config()).encode())
    check(env.run("create", "--bundle", env.shared.path, cid, usage=True),
          f"create: unknown flag '{cid}'")


def test_leading_dash_id_after_double_dash_is_an_id(env):
    # runc and crun take "-x" as an id: so does crt. The config is broken
    # on purpose, so the id check is passed and the config's error shows.
    c = env.config()
    c["process"]["args"] = []
    env.shared.write(json.dumps(c).encode())
    line = env.run("create", "--bundle", env.shared.path, "--", "-x")
    check(line, "create -x: config.json: process.args: must contain at least one entry")


@pytest.mark.parametrize("cmd", ["state", "start", "kill", "delete", "pause", "resume", "ps",
                                 "events", "update", "exec"])
@pytest.mark.parametrize("name", ["dot-dot-slash", "newline", "1000-chars", "empty"])
def test_bad_id_other_commands(env, cmd, name):
    cid, expect = BAD_IDS[name]
    args = [cmd, cid] + (["true"] if cmd == "exec" else [])
    check(env.run(*args), expect)


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------

COMMANDS = ["create", "delete", "events", "exec", "features", "kill", "list", "pause", "ps",
            "resume", "run", "spec", "start", "state", "update"]
NEEDS_ID = ["create", "delete", "events", "exec", "kill", "pause", "ps", "resume", "run",
            "start", "state", "update"]


@pytest.fixture
def cli(env, tmp_path, monkeypatch):
    """Run crt in an empty directory (`crt spec` writes there) and check
    it stays empty. The "Try 'crt X --help'" hint after a usage error is
    allowed as the one extra line."""
    cwd = tmp_path / "cwd"
    os.makedirs(cwd)
    monkeypatch.chdir(cwd)

    def run(*args):
        r = env.crt(*args)
        assert r.returncode == 1, r
        assert r.stdout == "", r
        lines = r.stderr.splitlines()
        assert [ln for ln in lines if ln.startswith("crt: ")] == lines[:1], r
        assert len(lines) == 1 or (len(lines) == 2 and HINT.fullmatch(lines[1])), r
        assert os.listdir(cwd) == [], os.listdir(cwd)
        assert env.crt.state_entries() == []
        return lines[0][len("crt: "):]
    return run


@pytest.mark.parametrize("cmd", COMMANDS)
def test_unknown_long_flag(cli, cmd):
    check(cli(cmd, "--no-such-flag", "c1"), f"{cmd}: unknown flag '--no-such-flag'")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_unknown_short_flag(cli, cmd):
    check(cli(cmd, "-Z", "c1"), f"{cmd}: unknown flag '-Z'")


@pytest.mark.parametrize("cmd", NEEDS_ID)
def test_missing_argument(cli, cmd):
    check(cli(cmd), re.compile(rf"^{cmd}: requires (exactly|a minimum of) \d argument"))


@pytest.mark.parametrize("cmd", ["features", "list", "spec"])
def test_extra_argument(cli, cmd):
    check(cli(cmd, "extra"), f"{cmd}: takes no arguments")


@pytest.mark.parametrize("cmd,flag", [("create", "--bundle"), ("run", "--pid-file"),
                                      ("create", "--console-socket"), ("exec", "--cwd"),
                                      ("update", "--memory"), ("delete", "--no-such=1")])
def test_flag_value(cli, cmd, flag):
    args = [cmd, flag] if "=" not in flag else [cmd, flag, "c1"]
    check(cli(*args), f"{cmd}: unknown flag '--no-such'" if "=" in flag
          else f"{cmd}: flag '{flag}' requires a value")


@pytest.mark.parametrize("args,expect", [
    (["no-such-command"], 'unknown command "no-such-command"'),
    ([], "no command given"),
    (["--no-such-global", "list"], "unknown flag '--no-such-global'"),
    (["--log-format", "xml", "list"], 'invalid --log-format "xml"'),
    (["--cgroup-manager", "magic", "list"], 'invalid --cgroup-manager "magic"'),
    (["--rootless", "maybe", "list"], 'invalid --rootless "maybe"'),
    (["--root"], "flag '--root' requires a value"),
    (["--debug=yes", "list"], "flag '--debug' does not take a value"),
], ids=["unknown-command", "no-command", "unknown-global-flag", "log-format", "cgroup-manager",
        "rootless", "root-without-value", "bool-flag-with-value"])
def test_global(cli, args, expect):
    # The fixture's crt puts --root first: these args come after it.
    check(cli(*args), expect)


@pytest.mark.parametrize("sig", ["SIGFOO", "FOO", "0x9", "65", "0", "9x", "SIG", "RTMIN+99",
                                 "RTMAX-99", "99999999999999999999", "-1", "+9", " 9", ""])
def test_kill_bad_signal(cli, sig):
    # After "--", or "-1" would be a flag; crt refuses it either way.
    check(cli("kill", "c1", "--", sig), f'kill c1: unknown signal "{sig}"')


def test_kill_dash_one_is_a_flag(cli):
    check(cli("kill", "c1", "-1"), "kill: unknown flag '-1'")


@pytest.mark.parametrize("flag,value,expect", [
    ("--memory", "abc", "--memory: invalid size `abc`"),
    ("--memory", "1.5x", "--memory: invalid size `1.5x`"),
    ("--memory", "99999999999999999999999", "--memory: invalid size"),
    ("--memory-swap", "-2", "--memory-swap: invalid size `-2`"),
    ("--memory-reservation", "", "--memory-reservation: invalid size ``"),
    ("--cpu-quota", "x", "--cpu-quota: invalid number `x`"),
    ("--cpu-period", "-5", "--cpu-period: invalid number `-5`"),
    ("--cpu-shares", "1e3", "--cpu-shares: invalid number `1e3`"),
    ("--pids-limit", "1.5", "--pids-limit: invalid number `1.5`"),
    ("--pids-limit", "ten", "--pids-limit: invalid number `ten`"),
    ("--blkio-weight", "heavy", "--blkio-weight: invalid number `heavy`"),
])
def test_update_bad_value(cli, flag, value, expect):
    # The values are checked before the container is looked up: c1 need
    # not exist for the value to be named.
    check(cli("update", flag, value, "c1"), f"update c1: {expect}")
