"""Bad input (issue #9), the part outside config.json's fields: broken
config.json files and bundle directories, bad container ids and bad
command lines, each run through the real crt binary, each failing the one
way badinput.py asserts (one "crt: " line naming what is wrong, nothing
left behind)."""

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from badinput import HINT, check, env, shared  # noqa: E402,F401  (fixtures)


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

COMMANDS = ["checkpoint", "create", "delete", "events", "exec", "features", "kill", "list",
            "pause", "ps", "restore", "resume", "run", "spec", "start", "state", "update"]
NEEDS_ID = ["checkpoint", "create", "delete", "events", "exec", "kill", "pause", "ps", "restore",
            "resume", "run", "start", "state", "update"]


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
                                      ("checkpoint", "--image-path"), ("restore", "--bundle"),
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
