"""A symlink planted as a container's state dir (<root>/<id>).

Whoever can write the state root can make <root>/evil point at another
container's state dir (or at a copy of one whose state.json names any
pid). crt opens state dirs with O_NOFOLLOW: every command that acts on
`evil` must refuse, and the container behind the link must not be
touched. runc 1.1.5 refuses too ("container does not exist"); crun
1.8.1 follows the link and acts on the container behind it.

With O_NOFOLLOW dropped from open_state_dir in state.c (a deliberately weakened
build) `kill evil KILL` kills c1's init and `start evil` starts it: this
test fails.
"""

import json
import os

import pytest

from crt_integration_conftest import pid_alive

# (command, args after the id, status c1 is in)
COMMANDS = [
    ("state", [], "created"),
    ("start", [], "created"),
    ("kill", ["KILL"], "created"),
    ("delete", ["--force"], "created"),
    ("ps", [], "created"),
    ("exec", ["true"], "running"),
    ("pause", [], "running"),
    ("resume", [], "paused"),
    ("events", ["--stats"], "running"),
    ("kill", ["KILL"], "running"),
    ("delete", ["--force"], "running"),
]


@pytest.mark.parametrize("cmd,rest,status", COMMANDS,
                         ids=[f"{c}-{s}" for c, _, s in COMMANDS])
def test_symlinked_state_dir_is_refused(crt, bundle, cmd, rest, status):
    bundle.config["process"]["args"] = ["sleep", "60"]
    bundle.save()
    r = crt("create", "--bundle", bundle.path, "c1")
    assert r.returncode == 0, r
    if status in ("running", "paused"):
        assert crt("start", "c1").returncode == 0
    if status == "paused":
        assert crt("pause", "c1").returncode == 0
    pid = json.loads(crt("state", "c1").stdout)["pid"]
    link = os.path.join(crt.root, "evil")
    os.symlink(os.path.join(crt.root, "c1"), link)
    try:
        r = crt(cmd, "evil", *rest, timeout=20)
        assert r.returncode != 0, r
        assert "evil" in r.stderr, r.stderr
        # c1 is as it was.
        assert pid_alive(pid)
        assert json.loads(crt("state", "c1").stdout)["status"] == status
    finally:
        os.unlink(link)
        crt("delete", "--force", "c1")
