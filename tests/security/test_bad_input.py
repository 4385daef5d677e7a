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
bad container ids and bad command lines (those in
test_bad_cli_input.py; what both share in badinput.py).

Speed: the config cases share one bundle (one copy of the busybox rootfs
per module) and only rewrite its config.json; each case still snapshots
the whole bundle tree around its run.
"""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from badinput import check, env, shared  # noqa: E402,F401  (fixtures)
from crt_integration_conftest import default_config  # noqa: E402

MB10 = 10 * 1024 * 1024


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
