"""Who the container's process is: ids and capabilities.

- uid/gid 4294967295 is (uid_t) -1, which setresuid/setresgid read as
  "unchanged": crt 05a0bc6 left such a process root (all four Uid fields
  0). Refused with the field named, in config.json, `exec -u` and
  `exec --process` (crun CVE-2026-30892 was the same kind of bug).
- `exec --user 1`, `-u 1001:1001`, `--additional-gids` give exactly those
  ids, never 0.
- Inheritable and ambient sets stay empty unless the config asks
  (CVE-2022-27650, CVE-2022-29162: runc's `exec --cap` added to
  inheritable); crt 05a0bc6 set CapInh for `exec --cap`.
"""

import json
import os

import pytest

from crt_integration_conftest import APP_GID, APP_UID

CAP_SYS_PTRACE = 19


def status_fields(text):
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.split()
    return out


def caps_of(text):
    f = status_fields(text)
    return {k: int(f[k][0], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


@pytest.fixture
def running(crt, bundle_factory):
    b = bundle_factory(("sleep", "1000"))
    crt("run", "--detach", "--bundle", b.path, "ids", check=True)
    yield b
    crt("delete", "--force", "ids")


@pytest.mark.parametrize("field", ["uid", "gid"])
def test_config_minus_one_id_is_refused(crt, bundle_factory, field):
    b = bundle_factory(("cat", "/proc/self/status"))
    b.config["process"]["user"][field] = 4294967295
    b.save()
    r = crt("run", "--bundle", b.path, "minus1")
    assert r.returncode == 1, r
    assert f"process.user.{field}: 4294967295 is not a valid id" in r.stderr
    assert "Uid:" not in r.stdout


def test_config_minus_one_additional_gid_is_refused(crt, bundle_factory):
    b = bundle_factory(("true",))
    b.config["process"]["user"]["additionalGids"] = [10, 4294967295]
    b.save()
    r = crt("run", "--bundle", b.path, "minus1g")
    assert r.returncode == 1, r
    assert "process.user.additionalGids[1]: 4294967295 is not a valid id" in r.stderr


@pytest.mark.parametrize("user", ["4294967295", "0:4294967295", "4294967295:0"])
def test_exec_user_minus_one_is_refused(crt, running, user):
    r = crt("exec", "-u", user, "ids", "cat", "/proc/self/status")
    assert r.returncode != 0, r
    assert "--user" in r.stderr
    assert "Uid:" not in r.stdout


def test_exec_additional_gid_minus_one_is_refused(crt, running):
    r = crt("exec", "--additional-gids", "4294967295", "ids", "true")
    assert r.returncode != 0, r
    assert "--additional-gids" in r.stderr


@pytest.mark.parametrize("field", ["uid", "gid"])
def test_exec_process_json_minus_one_is_refused(crt, running, test_dirs, field):
    proc = dict(running.config["process"], args=["cat", "/proc/self/status"])
    proc["user"] = dict(proc["user"], **{field: 4294967295})
    path = os.path.join(test_dirs.tmp, "process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    r = crt("exec", "--process", path, "ids")
    assert r.returncode == 1, r
    assert f"user.{field}: 4294967295 is not a valid id" in r.stderr
    assert "Uid:" not in r.stdout


@pytest.mark.parametrize("user,uid,gid", [("1", 1, 0), (f"{APP_UID}:{APP_GID}", APP_UID, APP_GID),
                                          ("65534:65534", 65534, 65534)])
def test_exec_user_gets_exactly_those_ids(crt, running, user, uid, gid):
    r = crt("exec", "-u", user, "--additional-gids", "20,30", "ids", "cat", "/proc/self/status")
    assert r.returncode == 0, r
    f = status_fields(r.stdout)
    assert f["Uid"] == [str(uid)] * 4, r.stdout
    assert f["Gid"] == [str(gid)] * 4, r.stdout
    assert sorted(int(g) for g in f["Groups"]) == [20, 30]


def test_init_user_gets_exactly_those_ids(crt, bundle_factory):
    b = bundle_factory(("cat", "/proc/self/status"))
    b.config["process"]["user"] = {"uid": APP_UID, "gid": APP_GID, "additionalGids": [5]}
    b.save()
    r = crt("run", "--bundle", b.path, "initids")
    assert r.returncode == 0, r
    f = status_fields(r.stdout)
    assert f["Uid"] == [str(APP_UID)] * 4
    assert f["Gid"] == [str(APP_GID)] * 4
    assert f["Groups"] == ["5"]


@pytest.mark.parametrize("user", [None, f"{APP_UID}:{APP_GID}"], ids=["root", "app"])
def test_exec_cap_does_not_touch_inheritable(crt, running, user):
    args = ["exec", "--cap", "CAP_SYS_PTRACE"]
    if user:
        args += ["-u", user]
    r = crt(*args, "ids", "cat", "/proc/self/status")
    assert r.returncode == 0, r
    c = caps_of(r.stdout)
    assert c["CapInh"] == 0, r.stdout
    assert c["CapAmb"] == 0, r.stdout
    bit = 1 << CAP_SYS_PTRACE
    assert c["CapBnd"] & bit
    if user is None:
        assert c["CapPrm"] & bit and c["CapEff"] & bit
    else:
        # A non-root user keeps nothing across exec without ambient or
        # file capabilities: what runc's exec --cap gives too.
        assert c["CapEff"] == 0


def test_exec_cap_goes_ambient_only_with_inheritable(crt, bundle_factory):
    """When the config has the capability inheritable, --cap raises it in
    ambient too, so a non-root process keeps it (runc's rule)."""
    b = bundle_factory(("sleep", "1000"))
    b.config["process"]["capabilities"]["inheritable"] = ["CAP_SYS_PTRACE"]
    b.config["process"]["capabilities"]["bounding"].append("CAP_SYS_PTRACE")
    b.save()
    crt("run", "--detach", "--bundle", b.path, "amb", check=True)
    try:
        r = crt("exec", "--cap", "CAP_SYS_PTRACE", "-u", f"{APP_UID}:{APP_GID}", "amb",
                "cat", "/proc/self/status")
        assert r.returncode == 0, r
        c = caps_of(r.stdout)
        bit = 1 << CAP_SYS_PTRACE
        assert c["CapInh"] == bit and c["CapAmb"] == bit and c["CapEff"] & bit, r.stdout
    finally:
        crt("delete", "--force", "amb")


@pytest.mark.parametrize("user", [0, APP_UID])
def test_init_inheritable_and_ambient_empty_by_default(crt, bundle_factory, user):
    b = bundle_factory(("cat", "/proc/self/status"))
    b.config["process"]["user"] = {"uid": user, "gid": user}
    b.save()
    r = crt("run", "--bundle", b.path, "initcaps")
    assert r.returncode == 0, r
    c = caps_of(r.stdout)
    assert c["CapInh"] == 0 and c["CapAmb"] == 0, r.stdout
    if user:
        assert c["CapEff"] == 0 and c["CapPrm"] == 0, r.stdout
